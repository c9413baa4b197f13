//! Delegation tokens in a driver or executor process on a Kerberized
//! cluster: new ones from the AM swapped into this process's token file (the
//! HDFS client reads it at each new connection), and HDFS failures that come
//! from expired tokens named as such instead of as a bare I/O error.

use spindle_hadoop::credentials::Credentials;
use spindle_hadoop::delegation;

use crate::{Error, Result};

/// Installs the HDFS delegation tokens of `file` (a Hadoop token storage
/// file) for this process's later HDFS connections.
pub fn install(file: &[u8]) -> Result<usize> {
    let fresh = Credentials::from_file_bytes("the tokens from the driver", file)
        .map_err(|e| Error::Hdfs(e.to_string()))?;
    delegation::install(&fresh).map_err(|e| Error::Hdfs(e.to_string()))?;
    Ok(fresh.tokens().count())
}

/// `message` of a failed HDFS call, led by the token-expiry reason when this
/// process's HDFS delegation tokens are past their usable life.
pub(crate) fn explain_hdfs_failure(message: String) -> String {
    match delegation::expiry_reason() {
        Some(reason) => format!("{reason} ({message})"),
        None => message,
    }
}
