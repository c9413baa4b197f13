//! Local mode: runs the driver binary on this machine with the master and the
//! `--conf` pairs in its environment; the driver starts its own executor processes.

use std::path::Path;
use std::process::Command;

use spindle_contract::settings;

use crate::Error;

/// Runs `driver args…` with `local[executors]`; returns its exit code.
pub(crate) fn submit(
    executors: u32,
    driver: &str,
    args: &[String],
    conf: &spindle_contract::Conf,
) -> Result<i32, Error> {
    let err = |message: String| Error::Driver {
        path: driver.to_string(),
        message,
    };
    let path = Path::new(driver);
    if !path.is_file() {
        return Err(err("not found (give the path of a driver binary)".into()));
    }
    // A bare name would be looked up in PATH; the user named a file here.
    let program = if path.components().count() == 1 {
        Path::new(".").join(path)
    } else {
        path.to_path_buf()
    };
    let mut driver = Command::new(&program);
    driver
        .args(args)
        .env(settings::MASTER.var_name(), format!("local[{executors}]"))
        .env(settings::CONF.var_name(), conf.encode())
        .env_remove(settings::ROLE.var_name());
    crate::child::dies_with_parent(&mut driver);
    let status = driver.status().map_err(|e| err(e.to_string()))?;
    Ok(status.code().unwrap_or(1))
}
