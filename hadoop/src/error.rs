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
}

pub type Result<T> = std::result::Result<T, Error>;
