//! HDFS block locality end to end on the mini-Hadoop: `text_file` over a
//! multi-block file written by Hadoop's Java client gives one split per
//! block whose hosts are the DataNodes that Java's
//! `FileSystem.getFileBlockLocations` reports (names and IPs), and a job over
//! it runs every task NODE_LOCAL on local executors (which share the
//! DataNodes' loopback host). This test binary is its own driver and executors.

use std::collections::BTreeSet;

use spindle_tests::{hadoop, java_peer, java_peer_ok, kv_words};

const DIR: &str = "/spindle-locality/in";

fn main() {
    if spindle::Role::from_env() == spindle::Role::Executor {
        // Serves tasks and never returns.
        let _ = spindle::context();
        unreachable!("an executor never returns");
    }
    let h = hadoop();
    let _logs = h.log_guard();
    let file = format!("{DIR}/data.bin");
    // 4 MiB and a bit in 1 MiB blocks: five blocks.
    let len: u64 = 4 * 1024 * 1024 + 12_345;
    java_peer_ok(
        "dev.spindle.peers.FsWriteRandom",
        &[&file, &len.to_string(), "1048576", "11"],
    );
    let java = java_peer_ok("dev.spindle.peers.WireHdfs", &["blocks", &file]);
    // (offset, length, every host name and IP Java names for the block)
    let java_blocks: Vec<(u64, u64, BTreeSet<String>)> = java
        .lines()
        .filter(|l| l.starts_with("block "))
        .map(|l| {
            let f = kv_words(l);
            let mut hosts: BTreeSet<String> = f["hosts"].split(',').map(str::to_string).collect();
            for n in f["names"].split(',') {
                hosts.insert(n.rsplit_once(':').expect("ip:port").0.to_string());
            }
            (
                f["offset"].parse().unwrap(),
                f["length"].parse().unwrap(),
                hosts,
            )
        })
        .collect();
    assert_eq!(java_blocks.len(), 5, "java said:\n{java}");

    let url = format!("{}{DIR}", h.fs_uri().trim_end_matches('/'));
    let splits = spindle_core::io::plan_splits(&url, 2).unwrap();
    // One split per block, the 12 KB tail joining the last (Hadoop's 10 % rule).
    assert_eq!(splits.len(), 4, "{splits:?}");
    assert_eq!(splits.iter().map(|s| s.len).sum::<u64>(), len);
    for s in &splits {
        assert!(!s.hosts.is_empty(), "split without hosts: {s:?}");
        let java: BTreeSet<String> = java_blocks
            .iter()
            .filter(|(o, l, _)| *o < s.start + s.len && s.start < o + l)
            .flat_map(|(_, _, h)| h.iter().cloned())
            .collect();
        let ours: BTreeSet<String> = s.hosts.iter().cloned().collect();
        assert_eq!(
            ours, java,
            "split at {}: ours {ours:?}, java {java:?}",
            s.start
        );
    }
    println!("test splits_carry_the_datanodes_java_reports ... ok");

    // `hdfs:///path` names fs.defaultFS of HADOOP_CONF_DIR: the same splits and hosts.
    // SAFETY: no other thread of this test reads the environment at this point.
    unsafe { std::env::set_var("HADOOP_CONF_DIR", h.conf_dir()) };
    let default_fs = spindle_core::io::plan_splits(&format!("hdfs://{DIR}"), 2).unwrap();
    let hosts =
        |v: &[spindle_core::io::Split]| v.iter().map(|s| s.hosts.clone()).collect::<Vec<_>>();
    assert_eq!(
        hosts(&default_fs),
        hosts(&splits),
        "hdfs://{DIR}: {default_fs:?}"
    );
    println!("test splits_of_the_default_file_system_carry_hosts_too ... ok");

    // The lines, as Hadoop's own client reads the bytes.
    let cat = java_peer("dev.spindle.peers.FsCat", &[DIR]);
    let bytes = cat.stdout;
    assert_eq!(
        bytes.len() as u64,
        len,
        "FsCat: {}",
        String::from_utf8_lossy(&cat.stderr)
    );
    let newlines = bytes.iter().filter(|&&b| b == b'\n').count() as u64;
    let lines = newlines + u64::from(bytes.last() != Some(&b'\n'));

    let ctx = spindle::context().unwrap();
    assert_eq!(ctx.text_file(&url, None).unwrap().count().unwrap(), lines);
    let progress = ctx.progress();
    let stage = progress.stages.last().expect("a stage ran");
    assert_eq!(stage.num_tasks, 4);
    assert_eq!(
        stage.locality.get("NODE_LOCAL"),
        Some(&4),
        "locality {:?}, tasks {:?}",
        stage.locality,
        stage.tasks
    );
    assert!(
        stage
            .tasks
            .iter()
            .all(|t| t.locality == "NODE_LOCAL" && !t.host.is_empty())
    );
    ctx.stop();
    println!("test a_job_over_hdfs_runs_node_local ... ok");
}
