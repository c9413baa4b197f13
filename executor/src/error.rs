//! The executor's error type.

/// Why an executor could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Core(#[from] spindle_core::Error),
    #[error("starting: {0}")]
    Start(String),
    #[error("the driver refused this executor: {0}")]
    Refused(String),
}
