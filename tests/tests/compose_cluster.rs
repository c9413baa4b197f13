//! The compose cluster (docker-compose.yml, started by deploy/compose-up): every daemon is a host
//! of its own. These tests need that cluster and are `#[ignore]`d in the loopback run;
//! scripts/test runs them in its compose stage with `SPINDLE_COMPOSE_CONF_DIR` set to the client
//! configuration compose-up wrote (`cargo test -p spindle-tests --test compose_cluster --
//! --ignored --test-threads=1`: the node-loss test stops a NodeManager for a while).

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use hdfs_native::WriteOptions;
use sha2::{Digest, Sha256};
use spindle_tests::compose::{
    BULLSEYE, DN_HOSTS, NM_HOSTS, Restore, Submission, am_attempts, am_host, block_hosts, cluster,
    container, engine, engine_ok, exec_ok, has_bullseye, live_datanodes, node_states, project,
    submit_driver, submit_wordcount, wait_healthy,
};
use spindle_tests::{
    MiniHadoop, StarRng, am_api, app_json, hdfs_client, hdfs_read, hdfs_write, hex,
    java_peer_on_ok, parse_counts, repo_root, rest_get, wait_for,
};

#[test]
#[ignore = "needs the compose cluster (deploy/compose-up); scripts/test runs it"]
fn yarn_client_sees_three_nodemanagers_with_distinct_hosts() {
    let h = cluster();
    let stdout = java_peer_on_ok(&h, "dev.spindle.peers.YarnNodes", &[]);
    // Plus the bullseye host when compose-up started it (--bullseye; its own partition).
    let mut expected: Vec<&str> = NM_HOSTS.to_vec();
    if has_bullseye(&h) {
        expected.push(BULLSEYE);
        expected.sort();
    }
    assert!(
        stdout.contains(&format!("running={}", expected.len())),
        "{stdout}"
    );
    let mut hosts: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("node "))
        .map(|l| l.split(':').next().unwrap_or(""))
        .collect();
    hosts.sort();
    assert_eq!(hosts, expected, "{stdout}");
}

/// The host configuration reaches the cluster through published ports (hdfs://localhost:8020),
/// which is enough for REST and HDFS but not to submit: the NodeManagers would fetch the driver
/// from localhost. `spindle submit` says so before submitting, naming the NodeManager hosts (and
/// the application then fails as predicted).
#[test]
#[ignore = "needs the compose cluster (deploy/compose-up); scripts/test runs it"]
fn submitting_through_published_ports_is_warned_about() {
    let h = cluster();
    let bins = repo_root().join("target").join("gateway");
    let out = Command::new(bins.join("spindle"))
        .args(["submit", "--master", "yarn", "--max-app-attempts", "1"])
        .arg(bins.join("wordcount"))
        .args(["hdfs:///no/input", "hdfs:///no/output"])
        .env("HADOOP_CONF_DIR", h.conf_dir())
        .output()
        .expect("target/gateway/spindle (deploy/compose-up stages it)");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("fs.defaultFS {} is on this machine", h.fs_uri()))
            && NM_HOSTS.iter().all(|n| err.contains(n)),
        "{err}"
    );
    assert!(!out.status.success(), "{err}");
}

#[tokio::test(flavor = "current_thread")]
#[ignore = "needs the compose cluster (deploy/compose-up); scripts/test runs it"]
async fn host_clients_write_and_read_across_both_datanodes() {
    let h = cluster();
    let fs = hdfs_client(&h);

    // hdfs-native writes 3 blocks of 1 MiB and a bit: the DataNodes are reached from the host.
    let data = StarRng::bytes(0x5EED_C0DE, 3 * 1024 * 1024 + 4321);
    let path = format!("/compose/hdfs-native-{}.bin", std::process::id());
    let opts = WriteOptions::default()
        .block_size(1024 * 1024)
        .replication(2)
        .overwrite(true)
        .create_parent(true);
    hdfs_write(&fs, &path, &data, opts).await;

    // Every block lives on both DataNode hosts (replication 2).
    let hosts = block_hosts(&path);
    assert_eq!(hosts.len(), 4, "{hosts:?}");
    for b in &hosts {
        assert_eq!(b, &DN_HOSTS, "{hosts:?}");
    }

    // Hadoop's Java FileSystem, on the host, reads the same bytes.
    let want = hex(&Sha256::digest(&data));
    let stdout = java_peer_on_ok(&h, "dev.spindle.peers.FsDigest", &[&path]);
    assert!(
        stdout.contains(&want),
        "want sha256 {want}, Java says: {stdout}"
    );

    // And the other way: Java writes, hdfs-native reads.
    let jpath = format!("/compose/java-{}.bin", std::process::id());
    let stdout = java_peer_on_ok(
        &h,
        "dev.spindle.peers.FsWriteRandom",
        &[&jpath, "2500000", "1048576", "7"],
    );
    let got = hdfs_read(&fs, &jpath).await;
    assert_eq!(got.len(), 2_500_000);
    let got_sha = hex(&Sha256::digest(&got));
    assert!(
        stdout.contains(&got_sha),
        "hdfs-native read sha256 {got_sha}, Java wrote: {stdout}"
    );
    for b in block_hosts(&jpath) {
        assert_eq!(b, DN_HOSTS);
    }
    fs.delete(&path, false).await.expect("delete");
    fs.delete(&jpath, false).await.expect("delete");
}

#[test]
#[ignore = "needs the compose cluster (deploy/compose-up); scripts/test runs it"]
fn stopped_nodemanager_leaves_the_cluster_and_comes_back() {
    let h = cluster();
    let state_of = |host: &str| {
        node_states(&h)
            .into_iter()
            .find(|(n, _)| n == host)
            .map(|(_, s)| s)
    };
    wait_for("nodemanager3 RUNNING", Duration::from_secs(60), || {
        (state_of("nodemanager3").as_deref() == Some("RUNNING")).then_some(())
    });
    let id = container("nodemanager3");

    // SIGKILL: the NodeManager cannot say goodbye, so only its missing heartbeats tell the RM
    // (yarn.nm.liveness-monitor.expiry-interval-ms = 20 s in deploy/hadoop-conf).
    engine_ok(&["kill", &id]);
    let lost = wait_for("nodemanager3 LOST", Duration::from_secs(90), || {
        state_of("nodemanager3").filter(|s| s == "LOST")
    });
    assert_eq!(lost, "LOST");

    // `stop` (SIGTERM) after a restart: the NodeManager unregisters and the RM says SHUTDOWN.
    engine_ok(&["start", &id]);
    wait_for(
        "nodemanager3 RUNNING again",
        Duration::from_secs(120),
        || (state_of("nodemanager3").as_deref() == Some("RUNNING")).then_some(()),
    );
    engine_ok(&["stop", "-t", "30", &id]);
    let stopped = wait_for(
        "nodemanager3 SHUTDOWN or LOST",
        Duration::from_secs(90),
        || state_of("nodemanager3").filter(|s| s == "SHUTDOWN" || s == "LOST"),
    );
    assert!(stopped == "SHUTDOWN" || stopped == "LOST", "{stopped}");
    // The other two never left.
    for host in ["worker1", "worker2"] {
        assert_eq!(state_of(host).as_deref(), Some("RUNNING"), "{host}");
    }

    engine_ok(&["start", &id]);
    wait_for(
        "nodemanager3 RUNNING at the end",
        Duration::from_secs(120),
        || (state_of("nodemanager3").as_deref() == Some("RUNNING")).then_some(()),
    );
}

/// The walkthrough of docs/compose.md, step by step: input into HDFS with the image's `hdfs`
/// command, wordcount submitted with `--master yarn` from the gateway, the answer read back, the
/// application in the RM's REST API and UI, its logs through `spindle logs`.
#[test]
#[ignore = "needs the compose cluster (deploy/compose-up); scripts/test runs it"]
fn readme_walkthrough_wordcount_from_the_gateway() {
    let h = cluster();
    let dir = format!("/walkthrough-{}", std::process::id());
    let text = "apple banana apple\ncherry banana apple\n".repeat(500);

    // 1. Input into HDFS.
    exec_ok(
        "namenode",
        None,
        &["hdfs", "dfs", "-mkdir", "-p", &format!("{dir}/in")],
    );
    exec_ok(
        "namenode",
        Some(text.as_bytes()),
        &[
            "hdfs",
            "dfs",
            "-put",
            "-f",
            "-",
            &format!("{dir}/in/words.txt"),
        ],
    );

    // 2. Submit from the gateway.
    let out = exec_ok(
        "spindle",
        None,
        &[
            "spindle",
            "submit",
            "--master",
            "yarn",
            "--num-executors",
            "3",
            "--executor-memory",
            "256m",
            "--driver-memory",
            "256m",
            "/opt/spindle/examples/wordcount",
            &format!("hdfs://{dir}/in"),
            &format!("hdfs://{dir}/out"),
        ],
    );
    assert!(out.contains("final status Succeeded"), "{out}");
    let app_id = out
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .find(|w| w.starts_with("application_"))
        .unwrap_or_else(|| panic!("no application id in: {out}"))
        .to_string();

    // The answer, read back with the image's `hdfs dfs -cat`.
    let cat = exec_ok(
        "namenode",
        None,
        &["bash", "-c", &format!("hdfs dfs -cat '{dir}/out/part-*'")],
    );
    let counts = parse_counts(cat.lines().filter(|l| l.contains('\t')));
    assert_eq!(
        counts,
        BTreeMap::from([
            ("apple".to_string(), 1500),
            ("banana".to_string(), 1000),
            ("cherry".to_string(), 500)
        ]),
        "{cat}"
    );

    // 3. The YARN UI and REST API (published on the host) know the application.
    let app = rest_get(&format!("{}/ws/v1/cluster/apps/{app_id}", h.rm_url())).expect("RM app");
    assert_eq!(app.json["app"]["finalStatus"], "SUCCEEDED", "{}", app.body);
    assert!(
        app.json["app"]["trackingUrl"]
            .as_str()
            .unwrap_or("")
            .contains(&format!("/proxy/{app_id}")),
        "{}",
        app.body
    );
    let ui = rest_get(&format!("{}/cluster/app/{app_id}", h.rm_url())).expect("RM UI");
    assert_eq!(ui.status, 200);
    assert!(
        ui.body.contains(&app_id),
        "RM UI page does not name {app_id}"
    );

    // 4. The logs, from the gateway: the AM's container ran on a NodeManager host.
    let logs = exec_ok("spindle", None, &["spindle", "logs", &app_id]);
    assert!(logs.contains("container_"), "{logs}");
    assert!(
        NM_HOSTS.iter().any(|h| logs.contains(&format!(" on {h}"))),
        "{logs}"
    );

    exec_ok("namenode", None, &["hdfs", "dfs", "-rm", "-r", "-f", &dir]);
}

// ------------------------------------------------------------ wordcount under failures

/// The input of the failure and locality jobs: this many bytes, in blocks of `JOB_BLOCK` bytes,
/// so the job has many blocks (and tasks) and runs long enough to be hurt mid-way.
const JOB_INPUT_BYTES: usize = 64 << 20;
const JOB_BLOCK: usize = 1 << 20;

/// The jobs' input in HDFS and its word counts, computed here (independently of Spindle).
struct JobInput {
    path: String,
    counts: BTreeMap<String, u64>,
}

/// Written once per test run with the image's `hdfs dfs -put` (Hadoop's Java client) in
/// 1 MiB blocks, replication 2: every block lives on both worker hosts.
fn job_input() -> &'static JobInput {
    static INPUT: OnceLock<JobInput> = OnceLock::new();
    INPUT.get_or_init(|| {
        let mut rng = StarRng(0x00DD_BA11);
        let mut text = String::with_capacity(JOB_INPUT_BYTES + 200);
        let mut counts = BTreeMap::new();
        while text.len() < JOB_INPUT_BYTES {
            for i in 0..12 {
                // A skewed vocabulary of 3000 words: a few frequent, many rare.
                let r = rng.next_u64() % 3000;
                let word = format!("w{}", r * r / 3000);
                if i > 0 {
                    text.push(' ');
                }
                text.push_str(&word);
                *counts.entry(word).or_insert(0) += 1;
            }
            text.push('\n');
        }
        let path = format!("/jobs-{}/words.txt", std::process::id());
        // Earlier runs' inputs (the volumes outlive the cluster) would fill the small disks.
        exec_ok(
            "namenode",
            None,
            &["bash", "-c", "hdfs dfs -rm -r -f -skipTrash '/jobs-*'"],
        );
        exec_ok(
            "namenode",
            Some(text.as_bytes()),
            &[
                "hdfs",
                "dfs",
                "-D",
                &format!("dfs.blocksize={JOB_BLOCK}"),
                "-D",
                "dfs.replication=2",
                "-put",
                "-f",
                "-",
                &path,
            ],
        );
        JobInput { path, counts }
    })
}

/// The counts a wordcount wrote under `out`, read back with the image's `hdfs dfs -cat`.
fn read_counts(out: &str) -> BTreeMap<String, u64> {
    let cat = exec_ok(
        "namenode",
        None,
        &["bash", "-c", &format!("hdfs dfs -cat '{out}/part-*'")],
    );
    parse_counts(cat.lines().filter(|l| l.contains('\t')))
}

fn assert_right_answer(input: &JobInput, out: &str) {
    let got = read_counts(out);
    assert_eq!(got.len(), input.counts.len(), "distinct words in {out}");
    for (w, n) in &input.counts {
        assert_eq!(got.get(w), Some(n), "count of {w} in {out}");
    }
}

/// An executor as the AM's JSON API reports it.
#[derive(Debug)]
struct Executor {
    host: String,
    /// `starting` (container asked for), `running` (registered with the driver), or gone.
    state: String,
    active: bool,
    remove_reason: String,
}

/// Every executor the AM knows, from its JSON API.
fn executors(h: &MiniHadoop, app: &str) -> Option<Vec<Executor>> {
    let list = am_api(h, app, "allexecutors")?;
    Some(
        list.as_array()?
            .iter()
            .map(|e| Executor {
                host: e["hostPort"]
                    .as_str()
                    .unwrap_or("")
                    .split(':')
                    .next()
                    .unwrap_or("")
                    .to_string(),
                state: e["state"].as_str().unwrap_or("").to_string(),
                active: e["isActive"].as_bool().unwrap_or(false),
                remove_reason: e["removeReason"].as_str().unwrap_or("").to_string(),
            })
            .collect(),
    )
}

/// True while the application's driver has a job running (its stages are reading input).
fn job_running(h: &MiniHadoop, app: &str) -> bool {
    am_api(h, app, "jobs")
        .and_then(|j| {
            j.as_array()
                .map(|js| js.iter().any(|j| j["status"] == "RUNNING"))
        })
        .unwrap_or(false)
}

fn app_final_status(h: &MiniHadoop, app: &str) -> String {
    app_json(h, app)["finalStatus"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

/// Submits the wordcount until its AM runs on none of `avoid` (the test is going to hurt those
/// hosts; killing the AM is another test). Returns the submission and its application id.
fn submit_avoiding_am_on(
    h: &MiniHadoop,
    input: &str,
    out: &str,
    avoid: &[&str],
) -> (Submission, String, String) {
    for attempt in 1..=4 {
        let mut sub = submit_wordcount(h, input, out, 3);
        let app = sub.app_id(h);
        let host = wait_for("the AM's host", Duration::from_secs(120), || {
            am_host(h, &app)
        });
        if !avoid.contains(&host.as_str()) {
            return (sub, app, host);
        }
        eprintln!("attempt {attempt}: the AM of {app} runs on {host}; killing it and resubmitting");
        exec_ok("spindle", None, &["spindle", "kill", &app]);
        let _ = sub.finish(Duration::from_secs(120));
        exec_ok("namenode", None, &["hdfs", "dfs", "-rm", "-r", "-f", out]);
    }
    panic!("the AM ran on {avoid:?} four times in a row");
}

/// A NodeManager host stopped (`stop`) while a wordcount with 3 executors runs: the RM reports
/// the node gone, the AM replaces the executors it lost on the other hosts, and the job ends
/// with the right answer.
#[test]
#[ignore = "needs the compose cluster (deploy/compose-up); scripts/test runs it"]
fn f1_nodemanager_stopped_mid_job_executors_replaced() {
    let h = cluster();
    wait_healthy(&h, Duration::from_secs(180));
    let input = job_input();
    let out = format!("/jobs-{}/out-nm-stop", std::process::id());
    let victim = "nodemanager3";
    // The AM must run elsewhere (losing it is another test) and an executor must run on the
    // victim: the RM places containers, so resubmit until both hold (the AM's locality hints
    // may draw executors to the workers, where the data is).
    let mut placed = None;
    for attempt in 1..=4 {
        let (mut sub, app, am) = submit_avoiding_am_on(&h, &input.path, &out, &[victim]);
        // Hurt the node once an executor registered from it and the job runs.
        let ready = wait_for("3 executors running", Duration::from_secs(180), || {
            if let Ok(Some(_)) = sub.child.try_wait() {
                return Some(false); // over before an executor ran there
            }
            let ex = executors(&h, &app)?;
            let running = ex.iter().filter(|e| e.state == "running").count();
            let on_victim = ex.iter().any(|e| e.host == victim && e.state == "running");
            if on_victim && job_running(&h, &app) {
                Some(true)
            } else if running >= 3 && !on_victim {
                Some(false)
            } else {
                None
            }
        });
        if ready {
            placed = Some((sub, app, am));
            break;
        }
        eprintln!(
            "attempt {attempt}: no executor of {app} on {victim}; killing it and resubmitting"
        );
        exec_ok("spindle", None, &["spindle", "kill", &app]);
        let _ = sub.finish(Duration::from_secs(120));
        exec_ok("namenode", None, &["hdfs", "dfs", "-rm", "-r", "-f", &out]);
    }
    let (sub, app, am) = placed.expect("an executor on nodemanager3 in 4 submissions");
    let id = container(victim);
    let _restore = Restore(vec![vec!["start".into(), id.clone()]]);
    engine_ok(&["stop", "-t", "10", &id]);
    eprintln!("stopped {victim} (AM on {am})");

    let state = wait_for(
        "nodemanager3 gone in the RM",
        Duration::from_secs(90),
        || {
            node_states(&h)
                .into_iter()
                .find(|(n, s)| n == victim && (s == "SHUTDOWN" || s == "LOST"))
                .map(|(_, s)| s)
        },
    );
    // The AM noticed: the executor on the stopped host is no longer active, and it has
    // active executors elsewhere, more than it started with there (replacements).
    let after = wait_for(
        "the AM to replace the lost executors",
        Duration::from_secs(180),
        || {
            let ex = executors(&h, &app)?;
            let victim_gone = ex
                .iter()
                .filter(|e| e.host == victim)
                .all(|e| !e.active && !e.remove_reason.is_empty());
            let active_elsewhere = ex.iter().filter(|e| e.host != victim && e.active).count();
            (victim_gone && active_elsewhere >= 3).then_some(ex)
        },
    );
    let (ok, log) = sub.finish(Duration::from_secs(600));
    assert!(ok && log.contains("final status Succeeded"), "{log}");
    assert_eq!(app_final_status(&h, &app), "SUCCEEDED");
    assert_eq!(am_attempts(&h, &app), 1, "the AM itself never failed");
    assert_right_answer(input, &out);
    eprintln!("nodemanager3 was {state}; executors after: {after:?}");

    engine_ok(&["start", &id]);
    wait_healthy(&h, Duration::from_secs(180));
    exec_ok("namenode", None, &["hdfs", "dfs", "-rm", "-r", "-f", &out]);
}

/// A worker host (DataNode + NodeManager) cut off the network (`network disconnect`) while a
/// wordcount reads its input: every input block has a replica there, so readers handed that
/// replica fail over to the other one; the executor it ran is replaced; the output is written
/// once the NameNode has declared the DataNode dead (see deploy/hadoop-conf/hdfs-site.xml: the
/// hdfs-native writer does not exclude an unreachable DataNode itself); the job ends with the
/// right answer.
#[test]
#[ignore = "needs the compose cluster (deploy/compose-up); scripts/test runs it"]
fn f2_datanode_partitioned_mid_read_reads_fail_over() {
    let h = cluster();
    wait_healthy(&h, Duration::from_secs(180));
    let input = job_input();
    let out = format!("/jobs-{}/out-dn-partition", std::process::id());
    // Any worker that does not run the AM: the AM must keep talking to the RM.
    let (sub, app, am) = submit_avoiding_am_on(&h, &input.path, &out, &[]);
    let victim = if am == "worker1" {
        "worker2"
    } else {
        "worker1"
    };
    wait_for("the job to run", Duration::from_secs(180), || {
        job_running(&h, &app).then_some(())
    });

    let id = container(victim);
    let network = format!("{}_default", project());
    let ip = {
        let out = engine()
            .args(["inspect", "-f"])
            .arg(format!(
                "{{{{(index .NetworkSettings.Networks \"{network}\").IPAddress}}}}"
            ))
            .arg(&id)
            .output()
            .expect("inspect");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    assert!(
        ip.contains('.'),
        "no address of {victim} on {network}: '{ip}'"
    );
    let _restore = Restore(vec![vec![
        "network".into(),
        "connect".into(),
        "--ip".into(),
        ip.clone(),
        "--alias".into(),
        victim.into(),
        network.clone(),
        id.clone(),
    ]]);
    // Every input block has a replica on the victim (and one on the other worker).
    let blocks = block_hosts(&input.path);
    assert!(blocks.len() >= 10, "{blocks:?}");
    for b in &blocks {
        assert_eq!(b, &DN_HOSTS, "{blocks:?}");
    }
    // A NodeManager restarted by an earlier test can fail an AM launch once (the RM's launcher
    // gets "Client cannot authenticate via:[TOKEN]" from it): count attempts from the cut on.
    let attempts_at_cut = am_attempts(&h, &app);
    engine_ok(&["network", "disconnect", &network, &id]);
    eprintln!("disconnected {victim} ({ip}) from {network} (AM on {am})");
    // The cut came while the application ran: its output cannot have been complete before.
    assert_eq!(
        app_final_status(&h, &app),
        "UNDEFINED",
        "job ended before the cut"
    );

    let (ok, log) = sub.finish(Duration::from_secs(900));
    assert!(ok && log.contains("final status Succeeded"), "{log}");
    assert_eq!(app_final_status(&h, &app), "SUCCEEDED");
    assert_eq!(
        am_attempts(&h, &app),
        attempts_at_cut,
        "the AM carried on through the cut"
    );
    assert_right_answer(input, &out);
    // The cut was real: the NameNode declares the silent DataNode dead (20 s, deploy/hadoop-conf).
    wait_for(
        "the NameNode to count 1 live DataNode",
        Duration::from_secs(90),
        || (live_datanodes() == 1).then_some(()),
    );

    engine_ok(&[
        "network", "connect", "--ip", &ip, "--alias", victim, &network, &id,
    ]);
    wait_healthy(&h, Duration::from_secs(240));
    exec_ok("namenode", None, &["hdfs", "dfs", "-rm", "-r", "-f", &out]);
}

/// The ResourceManager restarted while a wordcount runs, with work-preserving recovery on in
/// deploy/hadoop-conf (state store on the RM's volume): the AM re-syncs with the new RM and
/// the application ends SUCCEEDED with one attempt and the right answer.
#[test]
#[ignore = "needs the compose cluster (deploy/compose-up); scripts/test runs it"]
fn f3_resourcemanager_restarted_mid_job_work_preserved() {
    let h = cluster();
    wait_healthy(&h, Duration::from_secs(180));
    let input = job_input();
    let out = format!("/jobs-{}/out-rm-restart", std::process::id());
    let started_on = |h: &MiniHadoop| {
        rest_get(&format!("{}/ws/v1/cluster/info", h.rm_url()))
            .ok()
            .and_then(|r| r.json["clusterInfo"]["startedOn"].as_u64())
    };
    let before = started_on(&h).expect("RM info");
    let mut sub = submit_wordcount(&h, &input.path, &out, 3);
    let app = sub.app_id(&h);
    wait_for("the job to run", Duration::from_secs(180), || {
        job_running(&h, &app).then_some(())
    });

    let id = container("resourcemanager");
    let _restore = Restore(vec![vec!["start".into(), id.clone()]]);
    let attempts_at_stop = am_attempts(&h, &app);
    engine_ok(&["stop", "-t", "10", &id]);
    eprintln!("stopped the ResourceManager while {app} runs");
    std::thread::sleep(Duration::from_secs(5));
    engine_ok(&["start", &id]);
    let after = wait_for("the RM back", Duration::from_secs(180), || {
        started_on(&h).filter(|&t| t != before)
    });
    assert!(after > before);

    let (ok, log) = sub.finish(Duration::from_secs(600));
    let attempts = am_attempts(&h, &app);
    assert!(ok && log.contains("final status Succeeded"), "{log}");
    assert_eq!(app_final_status(&h, &app), "SUCCEEDED");
    assert_eq!(
        attempts, attempts_at_stop,
        "work-preserving: the attempt running at the restart carried on"
    );
    assert_right_answer(input, &out);

    wait_healthy(&h, Duration::from_secs(180));
    exec_ok("namenode", None, &["hdfs", "dfs", "-rm", "-r", "-f", &out]);
}

/// Locality: a wordcount with 3 executors over the 64-block input whose blocks all live on the
/// two worker hosts. The AM's JSON API reports each input task's locality, and with executors
/// on the workers most input tasks run NODE_LOCAL (on a host holding their block); a task on
/// `nodemanager3`, which holds no data, never does. Runs first (`f0`), on a healthy cluster.
#[test]
#[ignore = "needs the compose cluster (deploy/compose-up); scripts/test runs it"]
fn f0_input_tasks_run_node_local_on_the_worker_hosts() {
    let h = cluster();
    wait_healthy(&h, Duration::from_secs(180));
    let input = job_input();
    let out = format!("/jobs-{}/out-locality", std::process::id());
    // The input with its NameNode named (hdfs://namenode:8020/...): with `hdfs:///...` the
    // driver finds no block locations (core io: "fs.defaultFS: \"hdfs://\": no NameNode host")
    // and every task is NO_PREF.
    let named = format!("namenode:8020{}", input.path);
    let mut sub = submit_wordcount(&h, &named, &out, 3);
    let app = sub.app_id(&h);

    // The input stage (the one with a task per block) as the AM last reported it: the job takes
    // seconds and the AM's API goes with it, so poll often and keep the latest view.
    let mut stage = serde_json::Value::Null;
    let started = Instant::now();
    while sub.child.try_wait().expect("wait").is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "{}",
            sub.log()
        );
        if let Some(stages) = am_api(&h, &app, "stages")
            && let Some(s) = stages
                .as_array()
                .and_then(|ss| ss.iter().find(|s| s["numTasks"].as_u64() >= Some(10)))
        {
            stage = s.clone();
        }
        std::thread::sleep(Duration::from_millis(150));
    }
    let (ok, log) = sub.finish(Duration::from_secs(10));
    assert!(ok && log.contains("final status Succeeded"), "{log}");
    assert_right_answer(input, &out);

    let tasks: Vec<(String, String)> = stage["tasks"]
        .as_array()
        .unwrap_or_else(|| panic!("no tasks in {stage}"))
        .iter()
        .filter(|t| t["status"] == "SUCCESS")
        .map(|t| {
            (
                t["host"].as_str().unwrap_or("").to_string(),
                t["taskLocality"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let blocks = JOB_INPUT_BYTES.div_ceil(JOB_BLOCK);
    assert_eq!(stage["numTasks"].as_u64(), Some(blocks as u64), "{stage}");
    assert!(
        tasks.len() * 2 >= blocks,
        "saw only {} finished input tasks: {stage}",
        tasks.len()
    );
    let executor_hosts: std::collections::BTreeSet<&str> =
        tasks.iter().map(|(host, _)| host.as_str()).collect();
    let node_local: Vec<&(String, String)> =
        tasks.iter().filter(|(_, l)| l == "NODE_LOCAL").collect();
    eprintln!(
        "executors on {executor_hosts:?}; input tasks {}, NODE_LOCAL {}; per level {}",
        tasks.len(),
        node_local.len(),
        stage["locality"]
    );
    // A task is NODE_LOCAL only on a host that holds its block: a worker.
    for (host, _) in &node_local {
        assert!(DN_HOSTS.contains(&host.as_str()), "NODE_LOCAL on {host}");
    }
    for (host, locality) in &tasks {
        if host == "nodemanager3" {
            assert_ne!(locality, "NODE_LOCAL", "nodemanager3 holds no block");
        }
    }
    // With an executor on a worker, node-local slots exist: most tasks take them.
    assert!(
        executor_hosts.iter().any(|h| DN_HOSTS.contains(h)),
        "no task ran on a worker host: {executor_hosts:?}"
    );
    assert!(
        node_local.len() * 2 > tasks.len(),
        "NODE_LOCAL {} of {} input tasks (executors on {executor_hosts:?})",
        node_local.len(),
        tasks.len()
    );
    exec_ok("namenode", None, &["hdfs", "dfs", "-rm", "-r", "-f", &out]);
}

// --- the bullseye host (deploy/compose-up --bullseye): drivers and the nodes' glibc -----------

/// The executors' placement in the bullseye host's partition (exclusive: nothing else runs there).
const ON_BULLSEYE: &str = "spindle.yarn.executor.nodeLabelExpression=bullseye";

/// The cluster, which must have the bullseye host (scripts/test starts compose-up with
/// `--bullseye`), in the RM's `bullseye` partition, with its glibc older than 2.34.
fn bullseye_cluster() -> MiniHadoop {
    let h = cluster();
    assert!(
        has_bullseye(&h),
        "no {BULLSEYE} host in {}/hosts: start the cluster with deploy/compose-up --bullseye",
        h.conf_dir().display()
    );
    wait_healthy(&h, Duration::from_secs(180));
    let nodes = rest_get(&format!("{}/ws/v1/cluster/nodes", h.rm_url())).expect("RM nodes");
    let node = nodes.json["nodes"]["node"]
        .as_array()
        .and_then(|ns| ns.iter().find(|n| n["nodeHostName"] == BULLSEYE).cloned())
        .unwrap_or_else(|| panic!("no {BULLSEYE} NodeManager in the RM: {}", nodes.body));
    assert_eq!(node["state"], "RUNNING", "{node}");
    assert_eq!(node["nodeLabels"], serde_json::json!([BULLSEYE]), "{node}");
    let ldd = exec_ok(BULLSEYE, None, &["ldd", "--version"]);
    assert!(ldd.lines().next().unwrap_or("").ends_with(" 2.31"), "{ldd}");
    h
}

/// The highest glibc symbol version `binary` needs (binutils' readelf), as (major, minor).
fn glibc_needed(binary: &std::path::Path) -> (u32, u32) {
    let out = Command::new("readelf")
        .args(["-V", "-W"])
        .arg(binary)
        .output()
        .expect("readelf (binutils: scripts/setup)");
    assert!(out.status.success(), "readelf {}", binary.display());
    String::from_utf8_lossy(&out.stdout)
        .split("GLIBC_")
        .skip(1)
        .filter_map(|rest| {
            let v: String = rest
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            let mut parts = v.split('.').map(|p| p.parse::<u32>().ok());
            Some((parts.next()??, parts.next().flatten().unwrap_or(0)))
        })
        .max()
        .unwrap_or_else(|| panic!("{} needs no glibc symbol", binary.display()))
}

/// A small input of its own (4 blocks of 1 MiB) and its word counts, computed here.
fn bullseye_input() -> JobInput {
    let mut rng = StarRng(0xB011_5E7E);
    let mut text = String::new();
    let mut counts = BTreeMap::new();
    while text.len() < 4 * JOB_BLOCK - 100 {
        for i in 0..10 {
            let word = format!("b{}", rng.next_u64() % 500);
            if i > 0 {
                text.push(' ');
            }
            text.push_str(&word);
            *counts.entry(word).or_insert(0) += 1;
        }
        text.push('\n');
    }
    let path = format!("/bullseye-{}/words.txt", std::process::id());
    exec_ok(
        "namenode",
        Some(text.as_bytes()),
        &[
            "hdfs",
            "dfs",
            "-D",
            &format!("dfs.blocksize={JOB_BLOCK}"),
            "-put",
            "-f",
            "-",
            &path,
        ],
    );
    JobInput { path, counts }
}

/// The portable wordcount (scripts/build-portable: glibc 2.17 symbols; scripts/test's portable
/// stage builds it and names it in `SPINDLE_PORTABLE_WORDCOUNT`), copied into the gateway and
/// submitted with its executors in the bullseye partition: they run on the bullseye host and
/// the counts are right.
#[test]
#[ignore = "needs the compose cluster (deploy/compose-up --bullseye); scripts/test runs it"]
fn bullseye_host_runs_the_portable_wordcount() {
    let h = bullseye_cluster();
    let portable = std::path::PathBuf::from(std::env::var_os("SPINDLE_PORTABLE_WORDCOUNT").expect(
        "SPINDLE_PORTABLE_WORDCOUNT: the wordcount of scripts/build-portable (scripts/test sets it)",
    ));
    let needs = glibc_needed(&portable);
    assert!(
        needs <= (2, 31),
        "the portable wordcount needs GLIBC_{needs:?}"
    );
    let in_gateway = format!("/tmp/wordcount-portable-{}", std::process::id());
    engine_ok(&[
        "cp",
        &portable.display().to_string(),
        &format!("{}:{in_gateway}", container("spindle")),
    ]);
    let input = bullseye_input();
    let out = format!("/bullseye-{}/out-portable", std::process::id());
    let mut sub = submit_driver(
        &h,
        &in_gateway,
        &["--conf", ON_BULLSEYE, "--max-app-attempts", "1"],
        &input.path,
        &out,
        2,
    );
    let app = sub.app_id(&h);
    // Where the executors run, from the AM's API while the application runs.
    let mut hosts = std::collections::BTreeSet::new();
    let started = Instant::now();
    while sub.child.try_wait().expect("wait").is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "{}",
            sub.log()
        );
        for e in executors(&h, &app).unwrap_or_default() {
            if !e.host.is_empty() {
                hosts.insert(e.host);
            }
        }
        std::thread::sleep(Duration::from_millis(150));
    }
    let am = am_host(&h, &app);
    let (ok, log) = sub.finish(Duration::from_secs(10));
    assert!(ok && log.contains("final status Succeeded"), "{log}");
    // The client's own ELF report names the portable floor.
    assert!(log.contains("needs GLIBC_2.17"), "{log}");
    assert_right_answer(&input, &out);
    assert_eq!(
        hosts.iter().map(String::as_str).collect::<Vec<_>>(),
        [BULLSEYE],
        "executors of {app} (AM on {am:?}): {log}"
    );
    // The AM, which asks for no label, stays in the default partition.
    assert!(
        am.as_deref().is_some_and(|a| NM_HOSTS.contains(&a)),
        "AM on {am:?}"
    );
    exec_ok("spindle", None, &["rm", "-f", &in_gateway]);
    exec_ok(
        "namenode",
        None,
        &["hdfs", "dfs", "-rm", "-r", "-f", "-skipTrash", &out],
    );
}

/// The gateway's wordcount, built on this machine (a glibc newer than bullseye's 2.31), with its
/// executors placed on the bullseye host: the dynamic loader there refuses it, and `spindle
/// submit` ends with BINARY_NOT_RUNNABLE, exit code 6, and the line naming the node and the
/// glibc version it needs (the highest the binary's symbols name, read here by readelf).
#[test]
#[ignore = "needs the compose cluster (deploy/compose-up --bullseye); scripts/test runs it"]
fn bullseye_host_refuses_a_driver_needing_a_newer_glibc_with_exit_code_6() {
    let h = bullseye_cluster();
    let (major, minor) = glibc_needed(&repo_root().join("target/gateway/wordcount"));
    assert!(
        (major, minor) > (2, 31),
        "target/gateway/wordcount needs only GLIBC_{major}.{minor}: it runs on bullseye"
    );
    let input = bullseye_input();
    let out = format!("/bullseye-{}/out-newer", std::process::id());
    let sub = submit_driver(
        &h,
        "/opt/spindle/examples/wordcount",
        &[
            "--conf",
            ON_BULLSEYE,
            "--conf",
            "spindle.executor.maxFailures=1",
            "--max-app-attempts",
            "1",
        ],
        &input.path,
        &out,
        1,
    );
    let (status, log) = sub.finish_status(Duration::from_secs(300));
    assert_eq!(status.code(), Some(6), "{log}");
    let line =
        format!("the driver binary is not runnable on {BULLSEYE}: needs GLIBC_{major}.{minor}");
    assert!(
        log.contains("reason: BINARY_NOT_RUNNABLE (exit code 6)") && log.contains(&line),
        "expected the reason and `{line}` in: {log}"
    );
    exec_ok(
        "namenode",
        None,
        &["bash", "-c", "hdfs dfs -rm -r -f -skipTrash '/bullseye-*'"],
    );
}
