//! Hadoop's own Java clients against the mini-Hadoop: YarnClient sees the NodeManagers, and
//! FileSystem writes and reads a file.

use spindle_tests::{hadoop, java_peer_ok};

#[test]
fn yarn_client_sees_two_running_nodemanagers() {
    let h = hadoop();
    let _logs = h.log_guard();
    let out = java_peer_ok("dev.spindle.peers.YarnNodes", &[]);
    let nodes: Vec<&str> = out.lines().filter(|l| l.starts_with("node ")).collect();
    assert_eq!(nodes.len(), 2, "YarnClient output:\n{out}");
    assert!(out.contains("running=2"), "YarnClient output:\n{out}");
    // Two distinct NodeManagers (same host, different ports).
    assert_ne!(
        nodes[0].split(' ').nth(1),
        nodes[1].split(' ').nth(1),
        "{out}"
    );
}

#[test]
fn filesystem_writes_and_reads_a_file() {
    let h = hadoop();
    let _logs = h.log_guard();
    let path = format!("/smoke/java-roundtrip-{}.txt", std::process::id());
    let out = java_peer_ok("dev.spindle.peers.FsRoundTrip", &[&path]);
    assert!(out.contains("roundtrip ok bytes="), "{out}");
    assert!(out.contains(&format!("fs={}", h.fs_uri())), "{out}");
}
