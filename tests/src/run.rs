//! Running programs: drivers in local mode, commands that must succeed, signals and exits.

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output};
use std::time::Duration;

use crate::wait::wait_for;

/// Bytes a program wrote, as text (invalid UTF-8 replaced).
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Panics with `what`, the exit status, stdout and stderr unless `out` is a success; returns stdout.
pub fn assert_success(what: &str, out: &Output) -> String {
    let stdout = text(&out.stdout);
    assert!(
        out.status.success(),
        "{what} failed ({}):\n--- stdout ---\n{stdout}\n--- stderr ---\n{}",
        out.status,
        text(&out.stderr)
    );
    stdout
}

/// Runs `cmd` to its end (stdin empty) and returns its stdout; panics, naming `what`, unless it
/// exits 0.
pub fn run_ok(what: &str, cmd: &mut Command) -> String {
    let out = cmd
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    assert_success(what, &out)
}

/// The `spindle` CLI with `conf_dir` as its Hadoop configuration and no role or master inherited
/// from the test's environment.
pub fn spindle_command(conf_dir: &Path) -> Command {
    let mut c = Command::new(crate::binary("spindle"));
    c.env("HADOOP_CONF_DIR", conf_dir)
        .env_remove("YARN_CONF_DIR")
        .env_remove("SPINDLE_ROLE")
        .env_remove("SPINDLE_MASTER");
    c
}

/// A driver program (`bin`) set up to run in local mode with two executors: `SPINDLE_MASTER` is
/// `local[2]`, and no role is inherited from the test's environment.
pub fn local_command(bin: impl AsRef<OsStr>) -> Command {
    let mut cmd = Command::new(bin);
    cmd.env("SPINDLE_MASTER", "local[2]")
        .env_remove("SPINDLE_ROLE");
    cmd
}

/// Runs a driver program in local mode ([`local_command`]) with `args`, to its end.
pub fn run_local(bin: impl AsRef<OsStr>, args: &[&str]) -> Output {
    let bin = bin.as_ref();
    local_command(bin)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.to_string_lossy()))
}

/// [`run_local`] that must succeed (panics with its output otherwise); returns its stdout.
pub fn run_local_ok(bin: impl AsRef<OsStr>, args: &[&str]) -> String {
    let bin = bin.as_ref();
    assert_success(&bin.to_string_lossy(), &run_local(bin, args))
}

/// The lines of every part file of a job's output directory, in part order; panics unless the
/// directory has its `_SUCCESS` marker.
pub fn read_parts(dir: &Path) -> Vec<String> {
    assert!(
        dir.join("_SUCCESS").exists(),
        "{} has no _SUCCESS",
        dir.display()
    );
    let mut parts: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("part-")
        })
        .collect();
    parts.sort();
    parts
        .iter()
        .flat_map(|p| {
            std::fs::read_to_string(p)
                .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
                .lines()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Sends signal `sig` (`INT`, `TERM`, `KILL`, `9`, …) to `pid` with `kill`; panics if it fails.
pub fn signal(pid: u32, sig: &str) {
    let status = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status()
        .unwrap_or_else(|e| panic!("cannot run kill: {e}"));
    assert!(status.success(), "kill -{sig} {pid}: {status}");
}

/// Waits for `child` to exit, at most `within` (panics naming `what` after that); its status.
pub fn wait_exit(child: &mut Child, what: &str, within: Duration) -> ExitStatus {
    wait_for(&format!("{what} to exit"), within, || {
        child.try_wait().expect("waiting for a child process")
    })
}
