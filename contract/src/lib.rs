//! What two sides of Spindle share without one depending on the other: the
//! settings registry (every `spindle.*` key and `SPINDLE_*` variable, read by
//! the engine, the ApplicationMaster and the CLI), the role a process of the
//! one binary plays, the launch contract between `spindle submit` and the
//! ApplicationMaster, and the staging layout both sides respect.
//!
//! It sits just above `spindle-hadoop` (whose size and duration parsers it
//! uses) and below everything else, so the `spindle` CLI can check `--conf`
//! without depending on the engine.

#![warn(missing_docs)]

pub mod env_value;
pub mod launch;
pub mod role;
pub mod settings;
pub mod staging;

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
}

/// The crate's result.
pub type Result<T> = std::result::Result<T, Error>;
