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
        /// What was being done, and on which path.
        context: String,
        #[source]
        /// The underlying failure.
        source: std::io::Error,
    },
    /// HDFS through hdfs-native.
    #[error("hdfs: {0}")]
    Hdfs(String),
    /// Bytes that do not decode (records, plans, outcomes).
    #[error("decoding {what}: {message}")]
    Decode {
        /// What was being decoded.
        what: &'static str,
        /// Why it does not decode.
        message: String,
    },
    /// Bytes that fail their checksum or framing (a shuffle block, a spill
    /// file): damaged on disk or on the way, never to be used.
    #[error("corrupt {what}: {message}")]
    Corrupt {
        /// What is damaged.
        what: &'static str,
        /// How it was found damaged.
        message: String,
    },
    /// A job that could not finish: names the stage and the partition.
    #[error("job {job} failed: stage {stage} partition {partition}: {message}")]
    JobFailed {
        /// The job's number in this context.
        job: u64,
        /// The stage that failed.
        stage: u32,
        /// The partition whose task failed last.
        partition: u32,
        /// The last attempt's error.
        message: String,
    },
    /// The job was cancelled (`Context::cancel_all_jobs`, a job group, or
    /// the driver being interrupted); the context stays usable.
    #[error("job {job} cancelled: {reason}")]
    Cancelled {
        /// The job's number in this context.
        job: u64,
        /// Why it was cancelled.
        reason: String,
    },
    /// Talking to the driver or an executor failed.
    #[error("rpc: {0}")]
    Rpc(String),
    /// An executor runs a different binary than the driver.
    #[error(
        "executor {executor} refused: its executable has SHA-256 {theirs}, the driver's has {ours}; every executor must run the driver's own binary"
    )]
    ExecutableMismatch {
        /// The executor's id.
        executor: String,
        /// The executor's binary's SHA-256.
        theirs: String,
        /// The driver's binary's SHA-256.
        ours: String,
    },
    /// A reducer could not read a map output; the driver recomputes it.
    #[error("fetch of shuffle {shuffle_id} from executor {executor_id} failed: {message}")]
    FetchFailed {
        /// The shuffle whose output could not be read.
        shuffle_id: u32,
        /// The executor that held it.
        executor_id: String,
        /// Why the fetch failed.
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
