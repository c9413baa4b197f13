//! The CLI's error type: each variant prints as one line.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("unsupported master {0:?} (expected local, local[N] or local[*])")]
    Master(String),
    #[error("driver program {path}: {message}")]
    Driver { path: String, message: String },
}
