//! The YARN ApplicationMaster: RM and NM protocols, container requests, executor lifecycle, web UI.

pub mod error;
pub mod launch;

pub use error::{Error, Result};
