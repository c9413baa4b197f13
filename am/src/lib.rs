//! The YARN ApplicationMaster: RM and NM protocols, container requests,
//! executor lifecycle and failure accounting, web UI.
//!
//! A Spindle application is one binary in three roles. `spindle::main` calls
//! [`run`] when YARN starts it as the AM (`SPINDLE_ROLE=am`), and
//! [`executor_env`] when it starts as an executor in a container.

mod allocator;
pub mod client_mode;
mod elastic;
mod error;
mod exit;
mod health;
mod launcher;
mod locality;
mod renewer;
pub mod runtime;
pub mod secret;
mod ui;

pub use error::{Error, Result};
pub use runtime::run;

/// An executor's environment under YARN: the engine's variables, with the
/// application secret read from the container's credentials file
/// (`HADOOP_TOKEN_FILE_LOCATION`) where the AM put it. `None` when this is not
/// a YARN container or the secret came another way.
pub fn executor_env() -> Option<Result<spindle_core::env::ExecutorEnv>> {
    use spindle_core::env;
    if std::env::var_os(env::SECRET).is_some()
        || std::env::var_os(env::SECRET_FILE).is_some()
        || std::env::var_os("HADOOP_TOKEN_FILE_LOCATION").is_none()
    {
        return None;
    }
    Some((|| {
        let creds = spindle_hadoop::credentials::Credentials::from_env()?
            .ok_or_else(|| Error::Config("HADOOP_TOKEN_FILE_LOCATION is not set".into()))?;
        let secret = secret::from_credentials(&creds)?;
        Ok(env::ExecutorEnv::from_env_with_secret(secret)?)
    })())
}
