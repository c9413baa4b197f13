//! The CLI's error type: each variant prints as one line.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("unsupported master {0:?} (expected local, local[N], local[*] or yarn)")]
    Master(String),
    #[error("driver program {path}: {message}")]
    Driver { path: String, message: String },
    /// A flag or argument that cannot be used as given.
    #[error("{0}")]
    Usage(String),
    /// Where the Hadoop configuration should be and is not.
    #[error("Hadoop configuration: {0}")]
    HadoopConf(String),
    /// The RM REST API, configuration files, credentials.
    #[error("{0}")]
    Hadoop(#[from] spindle_hadoop::Error),
    /// The launch contract with the ApplicationMaster, staging and submission, HDFS.
    #[error("{0}")]
    Launch(#[from] spindle_contract::Error),
    /// An HTTP endpoint of a NodeManager or the ApplicationMaster.
    #[error("HTTP {url}: {reason}")]
    Http { url: String, reason: String },
    /// A local I/O operation.
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// The typed reason `spindle` exits with for this error (see docs/operations.md): bad
    /// flags, configuration or driver binary are [`Reason::Usage`]; the rest happened while
    /// talking to the cluster.
    pub fn reason(&self) -> spindle_contract::outcome::Reason {
        use spindle_contract::outcome::Reason;
        match self {
            Error::Master(_)
            | Error::Driver { .. }
            | Error::Usage(_)
            | Error::HadoopConf(_)
            | Error::Hadoop(spindle_hadoop::Error::Config { .. }) => Reason::Usage,
            Error::Hadoop(_) | Error::Launch(_) | Error::Http { .. } | Error::Io { .. } => {
                Reason::Client
            }
        }
    }

    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            what: what.into(),
            source,
        }
    }
}
