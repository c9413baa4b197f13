//! The engine's one error type.

/// Everything that can go wrong in the engine, each with a one-line message
/// that says what and where.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad configuration or environment (SPINDLE_MASTER and friends).
    #[error("configuration: {0}")]
    Config(String),
    /// A text_file input that is not there.
    #[error("input path does not exist: {0}")]
    InputMissing(String),
    /// save_as_text_file refuses to overwrite.
    #[error("output path already exists: {0}")]
    OutputExists(String),
    /// A file-system operation failed.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// HDFS through hdfs-native.
    #[error("hdfs: {0}")]
    Hdfs(String),
    /// Bytes that do not decode (records, plans, outcomes).
    #[error("decoding {what}: {message}")]
    Decode { what: &'static str, message: String },
    /// A job that could not finish: names the stage and the partition.
    #[error("job {job} failed: stage {stage} partition {partition}: {message}")]
    JobFailed {
        job: u64,
        stage: u32,
        partition: u32,
        message: String,
    },
    /// The job was cancelled (`Context::cancel_all_jobs`, a job group, or
    /// the driver being interrupted); the context stays usable.
    #[error("job {job} cancelled: {reason}")]
    Cancelled { job: u64, reason: String },
    /// Talking to the driver or an executor failed.
    #[error("rpc: {0}")]
    Rpc(String),
    /// An executor runs a different binary than the driver.
    #[error(
        "executor {executor} refused: its executable has SHA-256 {theirs}, the driver's has {ours}; every executor must run the driver's own binary"
    )]
    ExecutableMismatch {
        executor: String,
        theirs: String,
        ours: String,
    },
    /// A reducer could not read a map output; the driver recomputes it.
    #[error("fetch of shuffle {shuffle_id} from executor {executor_id} failed: {message}")]
    FetchFailed {
        shuffle_id: u32,
        executor_id: String,
        message: String,
    },
    /// Any other failure inside a task (user code errors, panics).
    #[error("{0}")]
    Task(String),
}

/// Result with the engine's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An I/O error with what was being done and to which path.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}
