//! What two sides of Spindle share without one depending on the other: the
//! settings registry (every `spindle.*` key and `SPINDLE_*` variable, read by
//! the engine, the ApplicationMaster and the CLI) and the role a process of
//! the one binary plays.
//!
//! It sits just above `spindle-hadoop` (whose size and duration parsers it
//! uses) and below everything else, so the `spindle` CLI can check `--conf`
//! without depending on the engine.

#![warn(missing_docs)]

pub mod env_value;
pub mod role;
pub mod settings;

pub use role::Role;
pub use settings::{Conf, Setting};

/// A setting with a value that does not parse, named with its source.
#[derive(Debug, thiserror::Error)]
#[error("{name}={value:?}: {reason}")]
pub struct Error {
    /// The `spindle.*` key or `SPINDLE_*` variable.
    pub name: String,
    /// The value as given.
    pub value: String,
    /// Why it does not parse.
    pub reason: String,
}
