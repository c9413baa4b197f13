//! The workspace's binaries (the `spindle` CLI, the example drivers, the test jobs), for tests of
//! other packages, which Cargo gives no `CARGO_BIN_EXE_*`.
//!
//! One build serves them all: the first call runs `cargo build --workspace --bins --examples` in
//! the test's own target directory and profile. Building an example makes Cargo resolve features
//! with the dev-dependencies, as `cargo test --workspace` does, so this build shares every
//! artifact with the test run: after `cargo test --workspace --no-run` it only links the binaries
//! that no test target needed (the CLI). A build of a few packages (`-p spindle-examples`) would
//! resolve other features and compile the engine a second time.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::cluster::repo_root;

/// The path of the workspace binary `name` (`spindle`, `wordcount`, `pi`, …), built with the
/// profile of this test (a no-op when it is up to date). Panics with Cargo's output if the
/// build fails.
pub fn binary(name: &str) -> PathBuf {
    let path = profile_dir().join(name);
    assert!(
        path.is_file(),
        "{} is not a binary of this workspace",
        path.display()
    );
    path
}

/// `target/<profile>`, built once per test process.
fn profile_dir() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        // target/<profile>/deps/<test> -> target/<profile>
        let exe = std::env::current_exe().expect("test executable");
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("target/<profile>")
            .to_path_buf();
        let target_dir = profile_dir.parent().expect("target dir");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
        let mut cmd = Command::new(cargo);
        cmd.current_dir(repo_root())
            .env("CARGO_TARGET_DIR", target_dir)
            .args(["build", "--quiet", "--workspace", "--bins", "--examples"]);
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            cmd.arg("--release");
        }
        let out = cmd.output().expect("running cargo build");
        assert!(
            out.status.success(),
            "cargo build of the workspace's binaries failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        profile_dir
    })
}
