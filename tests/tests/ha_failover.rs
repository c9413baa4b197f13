//! ResourceManager and NameNode HA (`deploy/mini-hadoop --ha`: two RMs with manual failover, a
//! nameservice `ns1` of two NameNodes). First Hadoop's own Java clients show the cluster is a
//! real HA cluster that works across each failover; then Spindle's RM clients (RPC and REST)
//! follow the standby's exception or redirect to the active RM, and hdfs-native and Spindle's
//! NameNode client follow a NameNode failover. How long a client holding the old active takes to
//! reach the new one is printed (`cargo test -- --nocapture`). Last, a wordcount submitted with
//! `spindle submit` goes on across an RM failover mid-job, and another across NameNode failovers
//! during its reads and inside its output commit.
//!
//! One HA cluster of this binary's own (about a minute to start on a loaded 2-core machine).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use spindle_hadoop::config::Configuration;
use spindle_hadoop::ids::ApplicationId;
use spindle_hadoop::ipc::{Auth, IpcConfig};
use spindle_hadoop::namenode::NameNodeClient;
use spindle_hadoop::yarn::{ApplicationClient, RmRestClient};
use spindle_tests::{
    Failover, MiniHadoop, OwnCluster, StarRng, binary, block_on, hdfs_client, hdfs_put, hdfs_read,
    hex, java_peer_on_ok, kv_words, parse_counts, random_words, spindle_command, text, wait_for,
};

/// Retries `f` until it succeeds (at most 120 s); returns its value and how long it took.
async fn until_ok<T, E: std::fmt::Display, F: AsyncFnMut() -> Result<T, E>>(
    what: &str,
    mut f: F,
) -> (T, Duration) {
    let t0 = Instant::now();
    loop {
        match f().await {
            Ok(v) => return (v, t0.elapsed()),
            Err(e) if t0.elapsed() > Duration::from_secs(120) => {
                panic!("{what}: still failing after 120 s: {e}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

fn java_running_nodes(h: &MiniHadoop) -> String {
    let out = java_peer_on_ok(h, "dev.spindle.peers.YarnNodes", &[]);
    kv_words(&out)["running"].clone()
}

#[test]
fn clients_follow_resourcemanager_and_namenode_failover() {
    let t_start = Instant::now();
    let own = OwnCluster::start("ha", 1, &["--ha"]);
    let h = own.get();
    let _logs = h.log_guard();
    eprintln!("ha: cluster up in {:.1} s", t_start.elapsed().as_secs_f64());
    let conf = Configuration::load_dir(h.conf_dir()).unwrap();

    // The client configuration is an HA one, as users' clusters publish it.
    assert_eq!(h.fs_uri(), "hdfs://ns1");
    let rms = conf.rm_addresses().unwrap();
    assert_eq!(
        rms.iter().map(|r| r.id.as_deref()).collect::<Vec<_>>(),
        [Some("rm1"), Some("rm2")]
    );
    assert_eq!(h.rm_url(), rms[0].web, "READY names the active RM (rm1)");
    assert_eq!(
        conf.get_trimmed("dfs.ha.namenodes.ns1").unwrap().as_deref(),
        Some("nn1,nn2")
    );
    let (active, standby) = (&rms[0], &rms[1]);

    // Hadoop's own clients (ConfiguredRMFailoverProxyProvider, ConfiguredFailoverProxyProvider).
    assert_eq!(java_running_nodes(h), "1");
    let out = java_peer_on_ok(h, "dev.spindle.peers.FsRoundTrip", &["/ha/java-before"]);
    assert!(out.contains("roundtrip ok"), "{out}");
    assert!(out.contains("fs=hdfs://ns1"), "{out}");

    let ipc = IpcConfig::from_conf(&conf).unwrap();
    let fs = hdfs_client(h);
    let nn = NameNodeClient::from_config(&conf, Auth::simple()).unwrap();
    let mut data = vec![0u8; 3 << 20];
    StarRng(0x4A_0001).fill(&mut data);
    block_on(async {
        // A standby RM does not even listen on its client RPC port (ClientRMService is one of
        // its "active services"), and redirects REST calls to the active one: a client that only
        // knows the standby says so, one that tries the standby first goes on to the active RM.
        let once = IpcConfig {
            connect_retries: 0,
            ..ipc.clone()
        };
        let only_standby =
            ApplicationClient::new(vec![standby.rpc.clone()], Auth::simple(), once.clone());
        let e = only_standby
            .cluster_metrics()
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("refused"), "{e}");
        let standby_first = ApplicationClient::new(
            vec![standby.rpc.clone(), active.rpc.clone()],
            Auth::simple(),
            ipc.clone(),
        );
        let m = standby_first
            .cluster_metrics()
            .await
            .expect("RPC past the standby");
        assert_eq!(m.node_managers, 1, "{m:?}");
        let e = RmRestClient::new(vec![standby.web.clone()], None)
            .unwrap()
            .cluster_metrics()
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("307"), "the standby redirects: {e}");
        let rest_standby_first =
            RmRestClient::new(vec![standby.web.clone(), active.web.clone()], None).unwrap();
        let m = rest_standby_first
            .cluster_metrics()
            .await
            .expect("REST past the standby");
        assert_eq!(m.active_nodes, 1, "{m:?}");
        hdfs_put(&fs, "/ha/before.bin", &data).await;

        // A standby NameNode answers with StandbyException; Spindle's client moves on.
        let nn_rpc = |id: &str| {
            conf.get_trimmed(&format!("dfs.namenode.rpc-address.ns1.{id}"))
                .unwrap()
                .unwrap()
        };
        let e = NameNodeClient::new(vec![nn_rpc("nn2")], Auth::simple(), once.clone())
            .file_info("/ha/before.bin")
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("StandbyException"), "{e}");
        let st = NameNodeClient::new(vec![nn_rpc("nn2"), nn_rpc("nn1")], Auth::simple(), once)
            .file_info("/ha/before.bin")
            .await
            .expect("NameNode RPC past the standby");
        assert_eq!(st.map(|s| s.length), Some(data.len() as u64));
    });

    // --- ResourceManager failover: rm1's JVM is killed, rm2 made active ---
    let rpc = ApplicationClient::from_config(&conf, Auth::simple()).unwrap();
    let rest = RmRestClient::from_config(&conf, None).unwrap();
    block_on(async {
        rpc.cluster_metrics().await.unwrap();
        rest.cluster_metrics().await.unwrap();
    });
    let report = h.failover(Failover::ResourceManager).unwrap();
    assert!(report.contains("active=rm2"), "{report}");
    let (rpc_took, rest_took) = block_on(async {
        let (m, rpc_took) = until_ok("RPC after RM failover", async || {
            rpc.cluster_metrics().await
        })
        .await;
        assert_eq!(m.node_managers, 1, "{m:?}");
        let (m, rest_took) = until_ok("REST after RM failover", async || {
            rest.cluster_metrics().await
        })
        .await;
        assert_eq!(m.active_nodes, 1, "{m:?}");
        (rpc_took, rest_took)
    });
    let info = block_on(rest.cluster_info()).unwrap();
    eprintln!(
        "ha: RM failover ({report}); Spindle's RPC client reached the new active in {} ms, \
         its REST client in {} ms (ha state {:?})",
        rpc_took.as_millis(),
        rest_took.as_millis(),
        info.ha_state
    );
    let t0 = Instant::now();
    assert_eq!(
        java_running_nodes(h),
        "1",
        "Java's YarnClient after RM failover"
    );
    eprintln!(
        "ha: Java's YarnClient listed the nodes via rm2 in {} ms (JVM start included)",
        t0.elapsed().as_millis()
    );

    // --- NameNode failover: nn1 stopped, nn2 made active ---
    let report = h.failover(Failover::NameNode).unwrap();
    assert!(report.contains("active=nn2"), "{report}");
    let (back, read_took) = block_on(until_ok("hdfs-native read after NN failover", async || {
        let r = fs.read("/ha/before.bin").await?;
        r.read_range(0, r.file_length()).await
    }));
    assert!(
        back == data,
        "hdfs-native read other bytes after the NameNode failover"
    );
    let mut after = vec![0u8; 2 << 20];
    StarRng(0x4A_0002).fill(&mut after);
    let (st, nn_took) = block_on(async {
        hdfs_put(&fs, "/ha/after.bin", &after).await;
        assert!(hdfs_read(&fs, "/ha/after.bin").await == after);
        until_ok("Spindle's NameNode client after NN failover", async || {
            nn.file_info("/ha/after.bin").await
        })
        .await
    });
    assert_eq!(st.map(|s| s.length), Some(after.len() as u64));
    eprintln!(
        "ha: NameNode failover ({report}); hdfs-native read through ns1 again in {} ms, \
         Spindle's NameNode client in {} ms",
        read_took.as_millis(),
        nn_took.as_millis()
    );
    // Hadoop's FileSystem reads what hdfs-native wrote after the failover, and writes anew.
    let out = java_peer_on_ok(h, "dev.spindle.peers.FsDigest", &["/ha/after.bin"]);
    assert_eq!(
        kv_words(&out)["sha256"],
        hex(&Sha256::digest(&after)),
        "{out}"
    );
    let out = java_peer_on_ok(h, "dev.spindle.peers.FsRoundTrip", &["/ha/java-after"]);
    assert!(out.contains("roundtrip ok"), "{out}");

    // --- A wordcount while the RM fails over again (rm2 killed, rm1 active) ---
    let app_of_rm_wordcount = wordcount_across_rm_failover(h, &conf);
    // --- spindle status / logs / kill through either RM first ---
    cli_against_either_rm(h, &conf, &app_of_rm_wordcount);
    // --- A wordcount while the NameNode fails over twice: during reads, during the commit ---
    wordcount_across_namenode_failovers(h, &conf);
    eprintln!("ha: whole test {:.1} s", t_start.elapsed().as_secs_f64());
}

/// `spindle submit` of a wordcount; once it runs, the RM fails over. The AM registers again with
/// the new active RM (the same attempt goes on), the CLI follows it to the end, and the output is
/// right.
fn wordcount_across_rm_failover(h: &MiniHadoop, conf: &Configuration) -> ApplicationId {
    // rm1, killed by the first failover, must be back as standby before the job starts (the
    // standby serves /ws/v1/cluster/info itself).
    let rm1 = RmRestClient::new(vec![conf.rm_addresses().unwrap()[0].web.clone()], None).unwrap();
    let (_, standby_took) = block_on(until_ok("rm1 back as standby", async || {
        match rm1.cluster_info().await {
            Ok(i) if i.ha_state == "STANDBY" => Ok(()),
            Ok(i) => Err(format!("ha state {}", i.ha_state)),
            Err(e) => Err(e.to_string()),
        }
    }));
    eprintln!(
        "ha: rm1 standby again (waited {:.1} s)",
        standby_took.as_secs_f64()
    );
    let t_wc = Instant::now();
    let (input, expected) = random_words(400_000, 0x4A_0003);
    let fs = hdfs_client(h);
    block_on(hdfs_put(&fs, "/ha/wc/in/input.txt", input.as_bytes()));
    let mut job = Wordcount::start(h, "wc-ha", "/ha/wc", &[]);
    let app = job.app;
    eprintln!(
        "ha: wordcount running {:.1} s after rm1 was standby again",
        t_wc.elapsed().as_secs_f64()
    );
    let report = h.failover(Failover::ResourceManager).unwrap();
    assert!(report.contains("active=rm1"), "{report}");
    let killed_at: i64 = kv_words(&report)["killed-at"].parse().unwrap();
    let rest = RmRestClient::from_config(conf, None).unwrap();
    job.succeeded("across the RM failover");
    // It was running when rm2 was killed, and the same attempt went on: the AM registered with
    // the new active RM and unregistered there.
    let r = block_on(rest.app(app)).unwrap();
    assert!(
        r.finish_time > killed_at,
        "{app} ended before the RM was killed (at {killed_at}); grow the input: {r:?}"
    );
    eprintln!(
        "ha: {app} ran on across the RM failover ({report}) and ended {} ms after the kill",
        r.finish_time - killed_at
    );
    let attempts = block_on(rest.attempts(app)).unwrap();
    assert_eq!(attempts.len(), 1, "{attempts:?}");
    let cat = java_peer_on_ok(h, "dev.spindle.peers.FsCat", &["hdfs://ns1/ha/wc/out"]);
    assert_eq!(parse_counts(cat.lines()), expected);
    app
}

/// `spindle status`, `logs` and `kill` with the client configuration as published (rm1 first,
/// the active one) and with the RM ids in the other order (the standby rm2 first, which refuses
/// RPC and redirects REST): each reaches the active RM. `finished` is an application that ended.
fn cli_against_either_rm(h: &MiniHadoop, conf: &Configuration, finished: &ApplicationId) {
    let rms = conf.rm_addresses().unwrap();
    let rm2 = RmRestClient::new(vec![rms[1].web.clone()], None).unwrap();
    block_on(until_ok("rm2 back as standby", async || {
        match rm2.cluster_info().await {
            Ok(i) if i.ha_state == "STANDBY" => Ok(()),
            Ok(i) => Err(format!("ha state {}", i.ha_state)),
            Err(e) => Err(e.to_string()),
        }
    }));
    let standby_first = tempfile::tempdir().unwrap();
    for f in std::fs::read_dir(h.conf_dir()).unwrap() {
        let f = f.unwrap().path();
        let text = std::fs::read_to_string(&f).unwrap();
        let text = text.replace(
            "<name>yarn.resourcemanager.ha.rm-ids</name><value>rm1,rm2</value>",
            "<name>yarn.resourcemanager.ha.rm-ids</name><value>rm2,rm1</value>",
        );
        std::fs::write(standby_first.path().join(f.file_name().unwrap()), text).unwrap();
    }
    let swapped = Configuration::load_dir(standby_first.path()).unwrap();
    assert_eq!(
        swapped.rm_addresses().unwrap()[0].id.as_deref(),
        Some("rm2")
    );
    let app = finished.to_string();
    for dir in [h.conf_dir(), standby_first.path()] {
        let t0 = Instant::now();
        let st = spindle_command(dir)
            .args(["status", &app])
            .output()
            .unwrap();
        let out = text(&st.stdout);
        assert!(
            st.status.success() && out.contains("state FINISHED") && out.contains("Succeeded"),
            "spindle status via {}: {out}{}",
            dir.display(),
            text(&st.stderr)
        );
        let status_took = t0.elapsed();
        // Aggregated logs (the RM names the user, HDFS holds the files).
        let logs = wait_for("spindle logs", Duration::from_secs(90), || {
            let l = spindle_command(dir).args(["logs", &app]).output().unwrap();
            let out = text(&l.stdout);
            (l.status.success() && out.contains("==> container_")).then_some(out)
        });
        assert!(logs.contains("(stderr, aggregated)"), "{logs}");
        eprintln!(
            "ha: spindle status via {} in {} ms; logs too",
            dir.display(),
            status_took.as_millis()
        );
    }
    // A running application killed through the standby-first configuration: the kill (a REST
    // PUT) reaches the active RM.
    let pi = binary("pi").display().to_string();
    let mut child = spindle_command(standby_first.path())
        .args(["submit", "--master", "yarn", "--name", "pi-ha-kill"])
        .args(["--driver-memory", "128m", "--executor-memory", "128m"])
        .args(["--num-executors", "1"])
        .args(["--conf", "spindle.executor.memoryOverhead=64m"])
        .args(["--conf", "spindle.driver.memoryOverhead=64m"])
        .args([&pi, "100000000000000", "2"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    let id = loop {
        line.clear();
        assert!(err.read_line(&mut line).unwrap() > 0, "submit ended early");
        if let Some(w) = line
            .split_whitespace()
            .find(|w| w.starts_with("application_"))
        {
            break w.trim_end_matches([',', ':', ')']).to_string();
        }
    };
    std::thread::spawn(move || std::io::copy(&mut err, &mut std::io::sink()));
    let kill = spindle_command(standby_first.path())
        .args(["kill", &id])
        .output()
        .unwrap();
    assert!(
        kill.status.success() && text(&kill.stderr).contains(&format!("killed {id}: KILLED")),
        "spindle kill via rm2 first: {}",
        text(&kill.stderr)
    );
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(11), "the killed job's submit: KILLED");
}

/// A wordcount across two NameNode failovers: the first as soon as its application runs (the
/// driver lists the input, tasks fetch block locations and read), the second inside the job's
/// output commit. For that one the driver pauses after the commit's first rename
/// (`spindle.test.commitPause`), the test sees the half-committed output, fails the NameNode over
/// and lets the commit go on, so the commit began on one NameNode and ends on the other however
/// fast it is. The job succeeds with the right counts and exactly one complete output: its parts
/// and `_SUCCESS`, nothing left over.
fn wordcount_across_namenode_failovers(h: &MiniHadoop, conf: &Configuration) {
    let (input, expected) = random_words(2_000_000, 0x4A_0004);
    let fs = hdfs_client(h);
    // Four files, so four tasks read the input.
    let lines: Vec<&str> = input.lines().collect();
    for (i, chunk) in lines.chunks(500_000).enumerate() {
        let text = chunk.join("\n") + "\n";
        block_on(hdfs_put(
            &fs,
            &format!("/ha/wc2/in/input-{i}.txt"),
            text.as_bytes(),
        ));
    }
    // The AM container runs on this machine (loopback cluster): it sees this directory.
    let pause = tempfile::tempdir().unwrap();
    let pause_conf = format!("spindle.test.commitPause={}", pause.path().display());
    let mut job = Wordcount::start(h, "wc-ha-nn", "/ha/wc2", &["--conf", &pause_conf]);
    let app = job.app.to_string();
    let during_read = h.failover(Failover::NameNode).unwrap();
    let read_killed_at: i64 = kv_words(&during_read)["killed-at"].parse().unwrap();
    let paused = pause.path().join("paused");
    wait_for("the commit's pause", Duration::from_secs(300), || {
        if let Some(status) = job.child.try_wait().unwrap() {
            panic!(
                "the job ended ({status}) before its commit paused:\n{}",
                job.seen.lock().unwrap()
            );
        }
        paused.exists().then_some(())
    });
    assert_eq!(
        std::fs::read_to_string(&paused).unwrap(),
        "hdfs://ns1/ha/wc2/out"
    );
    // Half committed: the first part in place, the rest still under _temporary, no _SUCCESS.
    // hdfs-native does not retry a NameNode that is still starting (RetriableException), as
    // the one just failed over is after its restart; Java's clients and Spindle's do.
    let names = |dir: &str| -> Vec<String> {
        let listing = wait_for(
            &format!("a listing of {dir}"),
            Duration::from_secs(60),
            || match block_on(fs.list_status(dir, false)) {
                Err(e) if e.to_string().contains("RetriableException") => None,
                other => Some(other.unwrap()),
            },
        );
        let mut n: Vec<String> = listing
            .into_iter()
            .map(|f| f.path.rsplit('/').next().unwrap().to_string())
            .collect();
        n.sort();
        n
    };
    let mid = names("/ha/wc2/out");
    assert!(
        mid.contains(&"part-00000".to_string()) && mid.contains(&"_temporary".to_string()),
        "{mid:?}"
    );
    assert!(!mid.contains(&"_SUCCESS".to_string()), "{mid:?}");
    let waiting: Vec<String> = names("/ha/wc2/out/_temporary")
        .into_iter()
        .filter(|n| n.starts_with("part-"))
        .collect();
    let during_commit = h.failover(Failover::NameNode).unwrap();
    let commit_killed_at: i64 = kv_words(&during_commit)["killed-at"].parse().unwrap();
    std::fs::write(pause.path().join("resume"), b"").unwrap();
    job.succeeded("across two NameNode failovers");
    let r = block_on(RmRestClient::from_config(conf, None).unwrap().app(job.app)).unwrap();
    assert!(
        r.finish_time > read_killed_at,
        "{app} ended before the first NameNode stop; grow the input: {r:?}"
    );
    assert!(r.finish_time > commit_killed_at, "{r:?}");
    eprintln!(
        "ha: {app} ran on across a NameNode failover during its reads ({during_read}), ended {} ms \
         after that stop; a second failover inside its commit ({during_commit}; {} parts still \
         to move then: {waiting:?}), ended {} ms after that stop",
        r.finish_time - read_killed_at,
        waiting.len(),
        r.finish_time - commit_killed_at,
    );
    // Exactly one complete output: the parts and _SUCCESS; no _temporary, no owner marker, no
    // half-made output beside it; and the counts once each.
    let done = names("/ha/wc2/out");
    assert!(done.contains(&"_SUCCESS".to_string()), "{done:?}");
    let parts: Vec<&String> = done.iter().filter(|n| n.starts_with("part-")).collect();
    assert_eq!(
        parts.len() + 1,
        done.len(),
        "only parts and _SUCCESS: {done:?}"
    );
    for (i, p) in parts.iter().enumerate() {
        assert_eq!(**p, format!("part-{i:05}"), "{done:?}");
    }
    assert_eq!(
        parts.len(),
        waiting.len() + 1,
        "the parts waiting at the pause and the first: {done:?} {waiting:?}"
    );
    let beside = names("/ha/wc2");
    assert_eq!(beside, ["in", "out"], "only in/ and out/ in /ha/wc2");
    let cat = java_peer_on_ok(h, "dev.spindle.peers.FsCat", &["hdfs://ns1/ha/wc2/out"]);
    assert_eq!(parse_counts(cat.lines()), expected);
}

/// A wordcount submitted with `spindle submit` (cluster mode, one executor) from `DIR/in` to
/// `DIR/out` in `hdfs://ns1`, once its application runs.
struct Wordcount {
    child: std::process::Child,
    /// What `spindle submit` printed so far.
    seen: Arc<Mutex<String>>,
    /// The thread that reads it (ends with the pipe).
    reader: Option<std::thread::JoinHandle<()>>,
    app: ApplicationId,
}

impl Wordcount {
    fn start(h: &MiniHadoop, name: &str, dir: &str, extra: &[&str]) -> Wordcount {
        let wc = binary("wordcount").display().to_string();
        let mut child = Command::new(binary("spindle"))
            .env("HADOOP_CONF_DIR", h.conf_dir())
            .env_remove("YARN_CONF_DIR")
            .env_remove("SPINDLE_ROLE")
            .env_remove("SPINDLE_MASTER")
            .args(["submit", "--master", "yarn", "--name", name])
            .args(["--driver-memory", "128m", "--executor-memory", "128m"])
            .args(["--num-executors", "1"])
            .args(["--conf", "spindle.executor.memoryOverhead=64m"])
            .args(["--conf", "spindle.driver.memoryOverhead=64m"])
            .args(extra)
            .args([
                &wc,
                &format!("hdfs://ns1{dir}/in"),
                &format!("hdfs://ns1{dir}/out"),
            ])
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let seen = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        let reader = {
            let seen = seen.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    let running = line.contains("RUNNING");
                    {
                        let mut s = seen.lock().unwrap();
                        s.push_str(&line);
                        s.push('\n');
                    }
                    if running {
                        let _ = tx.send(());
                    }
                }
            })
        };
        if rx.recv_timeout(Duration::from_secs(300)).is_err() {
            let status = child.try_wait();
            panic!("the job never ran ({status:?}):\n{}", seen.lock().unwrap());
        }
        let app: ApplicationId = seen
            .lock()
            .unwrap()
            .split_whitespace()
            .find(|w| w.starts_with("application_"))
            .map(|w| w.trim_end_matches([',', ':', ')']).to_string())
            .expect("an application id")
            .parse()
            .unwrap();
        Wordcount {
            child,
            seen,
            reader: Some(reader),
            app,
        }
    }

    /// Waits for `spindle submit` to end; panics unless the job succeeded.
    fn succeeded(&mut self, what: &str) {
        let status = self.child.wait().unwrap();
        if let Some(r) = self.reader.take() {
            r.join().unwrap();
        }
        let err = self.seen.lock().unwrap().clone();
        assert!(status.success(), "spindle submit {what}:\n{err}");
        assert!(err.contains("FINISHED, final status Succeeded"), "{err}");
    }
}
