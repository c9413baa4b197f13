//! What two sides of Spindle share without one depending on the other: the
//! settings registry (every `spindle.*` key and `SPINDLE_*` variable, read by
//! the engine, the ApplicationMaster and the CLI), the role a process of the
//! one binary plays, the launch contract between `spindle submit` and the
//! ApplicationMaster, the staging area and the submission path both deploy
//! modes use (`spindle submit` in cluster mode, the driver in client mode),
//! the `/api/v1` types the AM serves and the CLI reads, and the note that marks a driver
//! binary (written by the `spindle` crate, checked by `spindle submit`), the
//! HDFS file write made again through new DataNodes when its own fail (staging
//! and the engine's output both write through it), and the one log subscriber
//! every Spindle process installs.
//!
//! It sits just above `spindle-hadoop` (whose size and duration parsers,
//! records and REST client it uses) and below everything else, so the
//! `spindle` CLI can check `--conf` and submit without depending on the engine.

#![warn(missing_docs)]

pub mod api;
pub mod driver_note;
mod env_value;
pub mod event_store;
pub mod events;
pub mod hdfs_write;
pub mod launch;
pub mod logging;
pub mod outcome;
mod role;
pub mod settings;
pub mod staging;
pub mod submit;

pub use role::Role;
pub use settings::{Conf, Setting};

/// What can go wrong with what two sides share, as one line.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A setting with a value that does not parse, named with its source.
    #[error("{name}={value:?}: {reason}")]
    Setting {
        /// The `spindle.*` key or `SPINDLE_*` variable.
        name: String,
        /// The value as given.
        value: String,
        /// Why it does not parse.
        reason: String,
    },
    /// A launch variable or staging path that is missing or malformed.
    #[error("{0}")]
    Launch(String),
    /// Reading the container's credentials, or a record, failed.
    #[error("{0}")]
    Hadoop(#[from] spindle_hadoop::Error),
    /// HDFS (staging) through hdfs-native, as one line.
    #[error("HDFS: {what}: {reason}")]
    Hdfs {
        /// The operation and its path.
        what: String,
        /// The first line of what HDFS said.
        reason: String,
    },
    /// A local I/O operation.
    #[error("{what}: {source}")]
    Io {
        /// The operation and its path.
        what: String,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            what: what.into(),
            source,
        }
    }
}

/// The crate's result.
pub type Result<T> = std::result::Result<T, Error>;
