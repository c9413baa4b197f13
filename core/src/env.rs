//! The environment contract between a launcher (local mode, or the YARN
//! application master) and the processes it starts. An executor takes
//! everything it needs from here, so the same binary works in a container.

use std::path::PathBuf;

use crate::auth::Secret;
use crate::{Error, Result};

use spindle_contract::settings;

/// `executor` makes the process an executor (set only by launchers).
pub const ROLE: &str = settings::ROLE.var_name();
/// Where the executors run: `local[N]`, or `yarn` (client deploy mode).
pub const MASTER: &str = settings::MASTER.var_name();
/// `https://host:port` of the driver's gRPC service (`http://` when the
/// application's connections are not encrypted: see [`crate::net`]).
pub const DRIVER_URL: &str = settings::DRIVER_URL.var_name();
/// The executor's id, unique in the application.
pub const EXECUTOR_ID: &str = settings::EXECUTOR_ID.var_name();
/// The application secret itself (local mode: set in the child's environment only).
pub const SECRET: &str = settings::APP_SECRET.var_name();
/// A file holding the application secret (for launchers that ship it as a file).
pub const SECRET_FILE: &str = settings::APP_SECRET_FILE.var_name();
/// Local directories for shuffle, spill and cache files, comma-separated;
/// YARN's `LOCAL_DIRS` is used when this is unset.
pub const LOCAL_DIRS: &str = settings::LOCAL_DIRS.var_name();
/// Tasks an executor runs at once.
pub const CORES: &str = settings::EXECUTOR_CORES.var_name();
/// Memory for cached partitions, MiB.
pub const CACHE_MB: &str = settings::CACHE_MEMORY_MB.var_name();
/// Memory an aggregation holds before spilling, MiB.
pub const SHUFFLE_MB: &str = settings::SHUFFLE_MEMORY_MB.var_name();
/// The executor's container memory, MiB (YARN's grant; unset in local mode).
pub const CONTAINER_MB: &str = settings::CONTAINER_MEMORY_MB.var_name();
/// The host name other executors reach this one by; `NM_HOST` under YARN,
/// 127.0.0.1 otherwise.
pub const HOST: &str = settings::EXECUTOR_HOST.var_name();

/// Everything an executor needs to start.
#[derive(Debug, Clone)]
pub struct ExecutorEnv {
    /// The driver's task service to dial.
    pub driver_url: String,
    /// Whether connections are encrypted: the driver URL's scheme says.
    pub encryption: bool,
    /// This executor's id, as the driver and the UI name it.
    pub executor_id: String,
    /// The application secret.
    pub secret: Secret,
    /// Scratch directories for spills and shuffle files.
    pub local_dirs: Vec<PathBuf>,
    /// Task slots.
    pub cores: u32,
    /// Memory for cached partitions, in bytes.
    pub cache_bytes: usize,
    /// Memory for shuffle buffers before spilling, in bytes.
    pub shuffle_bytes: usize,
    /// The host name peers reach this executor at.
    pub host: String,
    /// The container's memory in bytes, which YARN may enforce: the
    /// executor watches its resident memory against it ([`crate::memory`]).
    pub container_bytes: Option<u64>,
}

fn var(name: &str) -> Result<String> {
    std::env::var(name).map_err(|_| Error::Config(format!("{name} is not set")))
}

/// A count from the environment (or its default), via the settings registry.
pub(crate) fn count(s: &settings::Setting) -> Result<u64> {
    let conf = spindle_contract::Conf::default();
    let n = conf.count(s).map_err(|e| Error::Config(e.to_string()))?;
    Ok(n.map_or(0, u64::from))
}

impl ExecutorEnv {
    /// Reads the executor's environment.
    pub fn from_env() -> Result<Self> {
        let secret = match (std::env::var(SECRET), std::env::var(SECRET_FILE)) {
            (Ok(s), _) => Secret::parse(&s)?,
            (Err(_), Ok(path)) => {
                let s = std::fs::read_to_string(&path)
                    .map_err(|e| Error::io(format!("reading {SECRET_FILE} {path}"), e))?;
                Secret::parse(s.trim())?
            }
            _ => {
                return Err(Error::Config(format!(
                    "neither {SECRET} nor {SECRET_FILE} is set"
                )));
            }
        };
        Self::from_env_with_secret(secret)
    }

    /// Reads the executor's environment, with the secret delivered another
    /// way (under YARN: the container's credentials file).
    pub fn from_env_with_secret(secret: Secret) -> Result<Self> {
        let dirs = std::env::var(LOCAL_DIRS)
            .or_else(|_| std::env::var("LOCAL_DIRS"))
            .map_err(|_| Error::Config(format!("neither {LOCAL_DIRS} nor LOCAL_DIRS is set")))?;
        let local_dirs: Vec<PathBuf> = dirs
            .split(',')
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
            .collect();
        if local_dirs.is_empty() {
            return Err(Error::Config(format!("{LOCAL_DIRS} names no directory")));
        }
        let driver_url = var(DRIVER_URL)?;
        let (encryption, _) = crate::net::parse_url(&driver_url)?;
        Ok(ExecutorEnv {
            driver_url,
            encryption,
            executor_id: var(EXECUTOR_ID)?,
            secret,
            local_dirs,
            cores: count(&settings::EXECUTOR_CORES)?.max(1) as u32,
            cache_bytes: (count(&settings::CACHE_MEMORY_MB)? << 20) as usize,
            shuffle_bytes: (count(&settings::SHUFFLE_MEMORY_MB)? << 20) as usize,
            container_bytes: match std::env::var(CONTAINER_MB) {
                Ok(v) => Some(v.trim().parse::<u64>().map(|mb| mb << 20).map_err(|_| {
                    Error::Config(format!("{CONTAINER_MB}={v:?} is not a number of MiB"))
                })?),
                Err(_) => None,
            },
            host: std::env::var(HOST)
                .or_else(|_| std::env::var("NM_HOST"))
                .unwrap_or_else(|_| "127.0.0.1".into()),
        })
    }
}

/// Parses `local`, `local[N]` or `local[*]` into a number of executors.
pub fn parse_local_master(master: &str) -> Result<u32> {
    let bad = || Error::Config(format!("unsupported master {master:?} (expected local[N])"));
    if master == "local" {
        return Ok(1);
    }
    let n = master
        .strip_prefix("local[")
        .and_then(|r| r.strip_suffix(']'))
        .ok_or_else(bad)?;
    if n == "*" {
        return Ok(std::thread::available_parallelism()
            .map(|n| n.get() as u32)
            .unwrap_or(2));
    }
    match n.parse::<u32>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_masters_parse() {
        assert_eq!(parse_local_master("local[3]").unwrap(), 3);
        assert_eq!(parse_local_master("local").unwrap(), 1);
        assert!(parse_local_master("local[*]").unwrap() >= 1);
        for bad in ["local[0]", "local[x]", "yarn", "local[2"] {
            assert!(parse_local_master(bad).is_err(), "{bad}");
        }
    }
}
