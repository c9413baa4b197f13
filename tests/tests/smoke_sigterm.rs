//! SIGTERM to `deploy/mini-hadoop` stops every daemon and every container: no process that
//! belongs to the cluster survives, even with a container running at the time.

use std::path::Path;
use std::time::{Duration, Instant};

use spindle_tests::{OwnCluster, argv, environ, java_peer_command, java_peer_jar, pids, wait_for};

/// Processes that belong to the cluster in `work_dir`: the JVM (its command line names the work
/// dir) and container processes (the NodeManager puts LOG_DIRS under it in their environment).
fn cluster_processes(work_dir: &Path) -> Vec<(u32, String)> {
    let dir = work_dir.to_string_lossy().into_owned();
    let me = std::process::id();
    pids()
        .into_iter()
        .filter(|&pid| pid != me)
        .filter_map(|pid| {
            let cmdline = argv(pid).join(" ");
            let in_env = environ(pid)
                .iter()
                .any(|kv| kv.starts_with("LOG_DIRS=") && kv.contains(&dir));
            (cmdline.contains(&dir) || in_env).then_some((pid, cmdline))
        })
        .collect()
}

/// A child process killed (and reaped) when dropped.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn sigterm_stops_every_daemon_and_container() {
    let own = OwnCluster::start("sigterm", 1, &["--nm-memory", "1024"]);
    let cluster = own.get();
    let work_dir = own.dir();
    let _logs = cluster.log_guard();

    // A long-running container: distributed shell's `sleep` (its client killed when the test
    // ends, however it ends).
    let am_jar = java_peer_jar("hadoop-yarn-applications-distributedshell");
    let client = KillOnDrop(
        java_peer_command(
            cluster,
            "org.apache.hadoop.yarn.applications.distributedshell.Client",
            &[
                "-jar",
                am_jar.to_str().unwrap(),
                "-appname",
                "spindle-smoke-sigterm",
                "-shell_command",
                "sleep 3600",
                "-num_containers",
                "1",
                "-container_memory",
                "64",
                "-master_memory",
                "256",
            ],
        )
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start the distributed-shell client"),
    );
    wait_for("the container", Duration::from_secs(120), || {
        cluster_processes(work_dir)
            .iter()
            .any(|(_, cmd)| cmd.starts_with("sleep 3600"))
            .then_some(())
    });
    let before = cluster_processes(work_dir);
    assert!(
        before.len() >= 3,
        "launcher JVM, AM and container expected: {before:?}"
    );

    let started = Instant::now();
    let status = cluster
        .stop()
        .expect("a cluster started here has a launcher");
    let took = started.elapsed();
    drop(client);
    assert_eq!(
        status.code(),
        Some(143),
        "mini-hadoop's exit status after SIGTERM"
    );
    assert!(took < Duration::from_secs(60), "stopping took {took:?}");

    let after = cluster_processes(work_dir);
    assert!(
        after.is_empty(),
        "processes left behind after SIGTERM: {after:?}"
    );
    for (pid, cmd) in before {
        assert!(
            !Path::new("/proc").join(pid.to_string()).exists(),
            "pid {pid} ({cmd}) still exists"
        );
    }
}
