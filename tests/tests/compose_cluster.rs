//! The compose cluster (docker-compose.yml, started by deploy/compose-up): every daemon is a host
//! of its own. These tests need that cluster and are `#[ignore]`d in the loopback run;
//! scripts/test runs them in its compose stage with `SPINDLE_COMPOSE_CONF_DIR` set to the client
//! configuration compose-up wrote (`cargo test -p spindle-tests --test compose_cluster --
//! --ignored --test-threads=1`: the node-loss test stops a NodeManager for a while).

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdfs_native::{ClientBuilder, WriteOptions};
use sha2::{Digest, Sha256};
use spindle_tests::{MiniHadoop, java_peer_on, repo_root, rest_get};

fn cluster() -> MiniHadoop {
    let dir = std::env::var_os("SPINDLE_COMPOSE_CONF_DIR")
        .map(PathBuf::from)
        .expect("SPINDLE_COMPOSE_CONF_DIR: the --conf-dir of a running deploy/compose-up");
    MiniHadoop::external(&dir, None).unwrap_or_else(|e| panic!("compose cluster: {e}"))
}

/// `docker` when a Docker engine answers, else podman with the repository's containers.conf
/// (the same choice deploy/compose-up makes).
fn engine() -> Command {
    let docker = Command::new("docker")
        .arg("info")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if docker {
        Command::new("docker")
    } else {
        let mut c = Command::new("podman");
        if std::env::var_os("CONTAINERS_CONF").is_none() {
            c.env(
                "CONTAINERS_CONF",
                repo_root().join("deploy/image/containers.conf"),
            );
        }
        c
    }
}

fn project() -> String {
    std::env::var("SPINDLE_COMPOSE_PROJECT").unwrap_or_else(|_| "spindle".into())
}

/// The container id of a compose service.
fn container(service: &str) -> String {
    let out = engine()
        .args(["ps", "-a", "-q", "--filter"])
        .arg(format!("label=com.docker.compose.project={}", project()))
        .arg("--filter")
        .arg(format!("label=com.docker.compose.service={service}"))
        .output()
        .expect("container engine");
    let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(!id.is_empty(), "no container for service {service}");
    id
}

fn engine_ok(args: &[&str]) {
    let out = engine().args(args).output().expect("container engine");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// NodeManager host name -> state, from the RM's REST API.
fn node_states(h: &MiniHadoop) -> Vec<(String, String)> {
    let reply = rest_get(&format!("{}/ws/v1/cluster/nodes?states=NEW,RUNNING,UNHEALTHY,DECOMMISSIONED,LOST,REBOOTED,DECOMMISSIONING,SHUTDOWN", h.rm_url()))
        .expect("RM nodes");
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json["nodes"]["node"]
        .as_array()
        .map(|nodes| {
            nodes
                .iter()
                .map(|n| {
                    (
                        n["nodeHostName"].as_str().unwrap_or("").to_string(),
                        n["state"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn wait_for<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            start.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
#[ignore = "needs the compose cluster (deploy/compose-up); scripts/test runs it"]
fn yarn_client_sees_three_nodemanagers_with_distinct_hosts() {
    let h = cluster();
    let out = java_peer_on(&h, "dev.spindle.peers.YarnNodes", &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "YarnNodes failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("running=3"), "{stdout}");
    let mut hosts: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("node "))
        .map(|l| l.split(':').next().unwrap_or(""))
        .collect();
    hosts.sort();
    assert_eq!(
        hosts,
        ["nodemanager1", "nodemanager2", "nodemanager3"],
        "{stdout}"
    );
}

/// Deterministic bytes (xorshift64*), so a failure can be reproduced.
fn payload(len: usize) -> Vec<u8> {
    let mut state = 0x5EED_C0DE_u64;
    let mut v = Vec::with_capacity(len + 8);
    while v.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        v.extend_from_slice(&state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    v.truncate(len);
    v
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The DataNode hosts of every block of `path`, from the NameNode (WebHDFS GET_BLOCK_LOCATIONS).
fn block_hosts(nn_http: &str, path: &str) -> Vec<Vec<String>> {
    let reply = rest_get(&format!(
        "{nn_http}/webhdfs/v1{path}?op=GET_BLOCK_LOCATIONS&user.name=spindle"
    ))
    .expect("WebHDFS");
    assert_eq!(reply.status, 200, "{}", reply.body);
    let blocks = reply.json["LocatedBlocks"]["locatedBlocks"]
        .as_array()
        .unwrap_or_else(|| panic!("no locatedBlocks: {}", reply.body))
        .clone();
    blocks
        .iter()
        .map(|b| {
            let mut hosts: Vec<String> = b["locations"]
                .as_array()
                .map(|ls| {
                    ls.iter()
                        .map(|l| l["hostName"].as_str().unwrap_or("").to_string())
                        .collect()
                })
                .unwrap_or_default();
            hosts.sort();
            hosts
        })
        .collect()
}

#[tokio::test(flavor = "current_thread")]
#[ignore = "needs the compose cluster (deploy/compose-up); scripts/test runs it"]
async fn host_clients_write_and_read_across_both_datanodes() {
    let h = cluster();
    let nn_http = format!(
        "http://localhost:{}",
        std::env::var("SPINDLE_NN_HTTP_PORT").unwrap_or_else(|_| "9870".into())
    );
    let fs = ClientBuilder::new()
        .with_url(h.fs_uri())
        .with_config_dir(h.conf_dir().to_string_lossy())
        .build()
        .expect("hdfs-native client");

    // hdfs-native writes 3 blocks of 1 MiB and a bit: the DataNodes are reached from the host.
    let data = payload(3 * 1024 * 1024 + 4321);
    let path = format!("/compose/hdfs-native-{}.bin", std::process::id());
    let opts = WriteOptions::default()
        .block_size(1024 * 1024)
        .replication(2)
        .overwrite(true)
        .create_parent(true);
    let mut w = fs.create(&path, opts).await.expect("hdfs-native create");
    w.write_bytes(Bytes::from(data.clone()))
        .await
        .expect("hdfs-native write");
    w.close().await.expect("hdfs-native close");

    // Every block lives on both DataNode hosts (replication 2).
    let hosts = block_hosts(&nn_http, &path);
    assert_eq!(hosts.len(), 4, "{hosts:?}");
    for b in &hosts {
        assert_eq!(b, &["datanode1", "datanode2"], "{hosts:?}");
    }

    // Hadoop's Java FileSystem, on the host, reads the same bytes.
    let want = hex(&Sha256::digest(&data));
    let out = java_peer_on(&h, "dev.spindle.peers.FsDigest", &[&path]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "FsDigest: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&want),
        "want sha256 {want}, Java says: {stdout}"
    );

    // And the other way: Java writes, hdfs-native reads.
    let jpath = format!("/compose/java-{}.bin", std::process::id());
    let out = java_peer_on(
        &h,
        "dev.spindle.peers.FsWriteRandom",
        &[&jpath, "2500000", "1048576", "7"],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "FsWriteRandom: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut r = fs.read(&jpath).await.expect("hdfs-native open");
    let mut got = Vec::new();
    while r.remaining() > 0 {
        let chunk = r.read_bytes(1024 * 1024).await.expect("hdfs-native read");
        assert!(!chunk.is_empty(), "empty read at {}", got.len());
        got.extend_from_slice(&chunk);
    }
    assert_eq!(got.len(), 2_500_000);
    let got_sha = hex(&Sha256::digest(&got));
    assert!(
        stdout.contains(&got_sha),
        "hdfs-native read sha256 {got_sha}, Java wrote: {stdout}"
    );
    for b in block_hosts(&nn_http, &jpath) {
        assert_eq!(b, ["datanode1", "datanode2"]);
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
    for host in ["nodemanager1", "nodemanager2"] {
        assert_eq!(state_of(host).as_deref(), Some("RUNNING"), "{host}");
    }

    engine_ok(&["start", &id]);
    wait_for(
        "nodemanager3 RUNNING at the end",
        Duration::from_secs(120),
        || (state_of("nodemanager3").as_deref() == Some("RUNNING")).then_some(()),
    );
}

/// Runs a command in a compose service's container (`exec -i`, `stdin` fed when given).
fn exec_in(service: &str, stdin: Option<&[u8]>, args: &[&str]) -> std::process::Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = engine()
        .args(["exec", "-i", &container(service)])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("container engine exec");
    let mut pipe = child.stdin.take().expect("stdin");
    if let Some(bytes) = stdin {
        pipe.write_all(bytes).expect("write stdin");
    }
    drop(pipe);
    child.wait_with_output().expect("exec output")
}

fn exec_ok(service: &str, stdin: Option<&[u8]>, args: &[&str]) -> String {
    let out = exec_in(service, stdin, args);
    assert!(
        out.status.success(),
        "{service}: {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The README's "Docker users" walkthrough, step by step: input into HDFS with the image's `hdfs`
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
    let mut counts: Vec<(String, u64)> = cat
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(w, c)| (w.to_string(), c.trim().parse().expect("count")))
        .collect();
    counts.sort();
    assert_eq!(
        counts,
        [
            ("apple".to_string(), 1500),
            ("banana".to_string(), 1000),
            ("cherry".to_string(), 500)
        ],
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
    assert!(logs.contains(" on nodemanager"), "{logs}");

    exec_ok("namenode", None, &["hdfs", "dfs", "-rm", "-r", "-f", &dir]);
}
