//! SIGTERM to `deploy/mini-hadoop` stops every daemon and every container: no process that
//! belongs to the cluster survives, even with a container running at the time.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use spindle_tests::{MiniHadoop, StartOptions, java_peer_command, java_peer_jar, repo_root};

/// Processes that belong to the cluster in `work_dir`: the JVM (its command line names the work
/// dir) and container processes (the NodeManager puts LOG_DIRS under it in their environment).
fn cluster_processes(work_dir: &Path) -> Vec<(u32, String)> {
    let dir = work_dir.to_string_lossy().into_owned();
    let me = std::process::id();
    let mut found = Vec::new();
    for entry in fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == me {
            continue;
        }
        let cmdline = fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let environ = fs::read(entry.path().join("environ")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        let in_env = String::from_utf8_lossy(&environ)
            .split('\0')
            .any(|kv| kv.starts_with("LOG_DIRS=") && kv.contains(&dir));
        if cmdline.contains(&dir) || in_env {
            found.push((pid, cmdline));
        }
    }
    found
}

#[test]
fn sigterm_stops_every_daemon_and_container() {
    let work_dir = repo_root()
        .join("target")
        .join("test-hadoop")
        .join(std::process::id().to_string())
        .join("sigterm");
    let _ = fs::remove_dir_all(&work_dir);
    let mut opts = StartOptions::new(&work_dir);
    opts.nodemanagers = 1;
    opts.datanodes = 1;
    opts.extra_args = vec!["--nm-memory".into(), "1024".into()];
    let cluster = MiniHadoop::start(&opts).unwrap_or_else(|e| panic!("{e}"));
    let _logs = cluster.log_guard();

    // A long-running container: distributed shell's `sleep`.
    let am_jar = java_peer_jar("hadoop-yarn-applications-distributedshell");
    let mut client = java_peer_command(
        &cluster,
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
    .expect("start the distributed-shell client");

    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let procs = cluster_processes(&work_dir);
        if procs.iter().any(|(_, cmd)| cmd.starts_with("sleep 3600")) {
            break;
        }
        if Instant::now() > deadline {
            let _ = client.kill();
            panic!("the container never started; cluster processes: {procs:?}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let before = cluster_processes(&work_dir);
    assert!(
        before.len() >= 3,
        "launcher JVM, AM and container expected: {before:?}"
    );

    let started = Instant::now();
    let status = cluster
        .stop()
        .expect("a cluster started here has a launcher");
    let took = started.elapsed();
    let _ = client.kill();
    let _ = client.wait();
    assert_eq!(
        status.code(),
        Some(143),
        "mini-hadoop's exit status after SIGTERM"
    );
    assert!(took < Duration::from_secs(60), "stopping took {took:?}");

    let after = cluster_processes(&work_dir);
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
