//! The one error type of the ApplicationMaster crate.

/// What went wrong in the AM, as one line naming what and where.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A launch variable is missing or malformed.
    #[error("{0}")]
    Config(String),
    /// Talking to YARN or HDFS failed.
    #[error("{0}")]
    Hadoop(#[from] spindle_hadoop::Error),
    /// The launch contract or a setting is malformed.
    #[error("{0}")]
    Contract(#[from] spindle_contract::Error),
    /// The engine failed.
    #[error("{0}")]
    Engine(#[from] spindle_core::Error),
    /// A local I/O operation failed.
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

pub type Result<T> = std::result::Result<T, Error>;
