//! The driver program as a child of `spindle submit` (local mode and YARN
//! client mode).

use std::os::unix::process::CommandExt;

/// Has the driver get SIGTERM when `spindle submit` goes, however it goes:
/// killed with SIGKILL, `spindle submit` runs none of its own clean-up, and a
/// driver left behind would hold its application's containers with nobody
/// reading its output (a driver inside spark-submit's JVM goes with it).
/// Linux sends the signal when the *thread* that spawned the child ends, so
/// spawn from a thread that lives as long as the process (the main thread or
/// an async runtime's worker, not a blocking-pool thread).
pub(crate) fn dies_with_parent(cmd: &mut std::process::Command) {
    let parent = std::process::id();
    // SAFETY: the closure runs in the forked child before exec and calls only
    // async-signal-safe functions (prctl, getppid), allocating nothing.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // Gone between the fork and the prctl: nobody would signal.
            if libc::getppid() as u32 != parent {
                return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        });
    }
}

#[cfg(test)]
mod tests {
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    /// A process that started `sleep` with [`super::dies_with_parent`] is
    /// killed with SIGKILL: the sleep goes too. The process in the middle is
    /// this test binary again, running the helper test below.
    #[test]
    fn the_child_goes_when_its_parent_is_killed() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("pid");
        let mut parent = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "child::tests::spawn_sleep_and_wait", "--ignored"])
            .env("SPINDLE_TEST_PID_FILE", &pid_file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let pid: i32 = wait(Duration::from_secs(30), || {
            std::fs::read_to_string(&pid_file)
                .ok()
                .and_then(|s| s.trim().parse().ok())
        });
        assert!(alive(pid), "sleep {pid} running");
        parent.kill().unwrap();
        parent.wait().unwrap();
        wait(Duration::from_secs(10), || (!alive(pid)).then_some(()));
    }

    /// Run by the test above, in a process of its own: spawns a long sleep that
    /// dies with this process, writes its pid and waits.
    #[test]
    #[ignore = "a helper process of the_child_goes_when_its_parent_is_killed"]
    fn spawn_sleep_and_wait() {
        let Some(pid_file) = std::env::var_os("SPINDLE_TEST_PID_FILE") else {
            return;
        };
        let mut cmd = Command::new("sleep");
        cmd.arg("300");
        super::dies_with_parent(&mut cmd);
        let mut child = cmd.spawn().unwrap();
        std::fs::write(pid_file, child.id().to_string()).unwrap();
        child.wait().unwrap();
    }

    fn alive(pid: i32) -> bool {
        // A zombie (dead, not yet reaped) counts as gone.
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
            !s.rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        })
    }

    fn wait<T>(within: Duration, mut f: impl FnMut() -> Option<T>) -> T {
        let end = Instant::now() + within;
        loop {
            if let Some(v) = f() {
                return v;
            }
            assert!(Instant::now() < end, "not within {within:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
