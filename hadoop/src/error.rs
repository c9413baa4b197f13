//! The one error type of this crate.

/// Everything that can go wrong while talking to Hadoop. Each message names
/// what failed and where (a file and key, an address, a method).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bytes that do not decode as what they claim to be.
    #[error("malformed {what}: {reason}")]
    Malformed { what: String, reason: String },
    /// An I/O error, with what was being done.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// A configuration file that is not valid XML, or a value that does not
    /// parse as what its key needs. `file` is where the value came from.
    #[error("configuration {file}: {key}: {reason}")]
    Config {
        file: String,
        key: String,
        reason: String,
    },
    /// The RM REST API could not be reached or answered something unreadable.
    #[error("RM REST {url}: {reason}")]
    Rest { url: String, reason: String },
    /// The RM REST API answered with Hadoop's `RemoteException`.
    #[error("RM REST {url}: HTTP {status} {exception}: {message} ({java_class_name})")]
    RestRemote {
        url: String,
        status: u16,
        exception: String,
        message: String,
        java_class_name: String,
    },
}

pub type Result<T> = std::result::Result<T, Error>;
