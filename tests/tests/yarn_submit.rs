//! `spindle submit --master yarn` and `spindle status|kill|logs` against the real mini-Hadoop:
//! wordcount in cluster mode with its output read back by Hadoop's Java FileSystem and checked
//! against counts computed here; the driver binary staged once and reused by SHA-256; kill and
//! Ctrl-C end the application, its processes and its staging directory; a wrong
//! HADOOP_CONF_DIR or an unreachable RM fail in one line within seconds.
//!
//! The `spindle` CLI and the example drivers are built by `cargo build` into this test's own
//! target directory the first time they are needed.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use hdfs_native::{Client, ClientBuilder, WriteOptions};
use spindle_tests::{hadoop, java_peer_ok, rest_get};

struct Bins {
    spindle: PathBuf,
    wordcount: PathBuf,
    pi: PathBuf,
}

/// Builds the CLI and the examples (a no-op when they are up to date).
fn bins() -> &'static Bins {
    static BINS: OnceLock<Bins> = OnceLock::new();
    BINS.get_or_init(|| {
        let exe = std::env::current_exe().expect("test executable");
        // target/<profile>/deps/<test> -> target/<profile>
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("profile dir")
            .to_path_buf();
        let target_dir = profile_dir.parent().expect("target dir");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.current_dir(spindle_tests::repo_root())
            .env("CARGO_TARGET_DIR", target_dir)
            .args([
                "build",
                "--quiet",
                "-p",
                "spindle-client",
                "--bin",
                "spindle",
            ])
            .args([
                "-p",
                "spindle-examples",
                "--bin",
                "wordcount",
                "--bin",
                "pi",
            ]);
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            cmd.arg("--release");
        }
        let out = cmd.output().expect("running cargo build");
        assert!(
            out.status.success(),
            "cargo build of spindle and the examples failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Bins {
            spindle: profile_dir.join("spindle"),
            wordcount: profile_dir.join("wordcount"),
            pi: profile_dir.join("pi"),
        }
    })
}

fn spindle(conf_dir: &Path) -> Command {
    let mut c = Command::new(&bins().spindle);
    c.env("HADOOP_CONF_DIR", conf_dir)
        .env_remove("YARN_CONF_DIR")
        .env_remove("SPINDLE_ROLE")
        .env_remove("SPINDLE_MASTER");
    c
}

/// Small containers: the tests share 2 NodeManagers of 4 GB with other tests.
const SMALL: [&str; 6] = [
    "--driver-memory",
    "128m",
    "--executor-memory",
    "128m",
    "--conf",
    "spindle.executor.memoryOverhead=64m",
];

fn submit_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["submit", "--master", "yarn"];
    v.extend_from_slice(&SMALL);
    v.push("--conf");
    v.push("spindle.driver.memoryOverhead=64m");
    v.extend_from_slice(extra);
    v
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn app_id_in(stderr: &str) -> String {
    stderr
        .split_whitespace()
        .find(|w| w.starts_with("application_"))
        .map(|w| w.trim_end_matches([',', ':', ')']).to_string())
        .unwrap_or_else(|| panic!("no application id in:\n{stderr}"))
}

fn hdfs() -> Client {
    let h = hadoop();
    ClientBuilder::new()
        .with_url(h.fs_uri())
        .with_config_dir(h.conf_dir().to_string_lossy())
        .build()
        .expect("hdfs-native client")
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

fn user() -> String {
    spindle_hadoop::user::current_user()
}

fn staging_dir(app: &str) -> String {
    format!("/user/{}/.spindleStaging/{app}", user())
}

fn exists(path: &str) -> bool {
    block_on(async { hdfs().get_file_info(path).await.is_ok() })
}

/// Deterministic text and its word counts, computed independently of Spindle.
fn make_input(lines: usize, seed: u64) -> (String, BTreeMap<String, u64>) {
    const WORDS: [&str; 12] = [
        "yarn", "spindle", "hadoop", "rust", "node", "block", "shuffle", "stage", "task", "a",
        "the", "of",
    ];
    let mut state = seed;
    let mut text = String::new();
    let mut counts = BTreeMap::new();
    for _ in 0..lines {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let n = 1 + (state % 9) as usize;
        let mut words = Vec::new();
        for k in 0..n {
            let w = WORDS[((state >> (k * 4)) % WORDS.len() as u64) as usize];
            words.push(w);
            *counts.entry(w.to_string()).or_insert(0) += 1;
        }
        text.push_str(&words.join(if state.is_multiple_of(2) { " " } else { "  \t" }));
        text.push('\n');
    }
    (text, counts)
}

fn put(path: &str, data: &str) {
    block_on(async {
        let fs = hdfs();
        let mut w = fs
            .create(
                path,
                WriteOptions::default().overwrite(true).create_parent(true),
            )
            .await
            .expect("create input");
        w.write_bytes(bytes::Bytes::copy_from_slice(data.as_bytes()))
            .await
            .expect("write input");
        w.close().await.expect("close input");
    })
}

fn app_json(app: &str) -> serde_json::Value {
    let url = format!("{}/ws/v1/cluster/apps/{app}", hadoop().rm_url());
    rest_get(&url).unwrap_or_else(|e| panic!("{url}: {e}")).json["app"].clone()
}

fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn wordcount_in_cluster_mode_is_read_back_by_java_and_logs_and_status_work() {
    let h = hadoop();
    let _logs = h.log_guard();
    let base = format!("/yarn-tests/{}/wc", std::process::id());
    let (input, expected) = make_input(3000, 0x5EED_1234);
    put(&format!("{base}/in/input.txt"), &input);
    let fs = h.fs_uri().trim_end_matches('/');
    let (in_uri, out_uri) = (format!("{fs}{base}/in"), format!("{fs}{base}/out"));
    let wc = bins().wordcount.display().to_string();
    // A --files entry lands in the containers' working directory (seen in directory.info).
    let extra = tempfile::tempdir().unwrap();
    let lookup = extra.path().join("lookup.csv");
    std::fs::write(&lookup, "k,v\n").unwrap();
    let files = lookup.display().to_string();
    let started = Instant::now();
    let out = spindle(h.conf_dir())
        .args(submit_args(&[
            "--name",
            "wc-test",
            "--num-executors",
            "2",
            "--tags",
            "yarn-submit-test",
            "--files",
            &files,
        ]))
        .args([wc.as_str(), &in_uri, &out_uri])
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert!(
        out.status.success(),
        "spindle submit failed ({:?}):\n{err}",
        out.status
    );
    let app = app_id_in(&err);
    eprintln!("{app} in {:?}:\n{err}", started.elapsed());
    // The display shows each state it sees (a fast cluster may go past ACCEPTED unseen).
    for needle in [
        "RUNNING",
        "tracking URL: http",
        "FINISHED, final status Succeeded",
    ] {
        assert!(err.contains(needle), "no {needle:?} in:\n{err}");
    }
    // Hadoop's own FileSystem reads the committed output; compare with the counts made here.
    let cat = java_peer_ok("dev.spindle.peers.FsCat", &[&out_uri]);
    let mut got = BTreeMap::new();
    for line in cat.lines() {
        let (w, c) = line
            .split_once('\t')
            .unwrap_or_else(|| panic!("bad output line {line:?}"));
        assert!(
            got.insert(w.to_string(), c.parse::<u64>().unwrap())
                .is_none(),
            "{w} twice"
        );
    }
    assert_eq!(got, expected);
    // The RM saw what was asked for.
    let a = app_json(&app);
    assert_eq!(a["name"], "wc-test");
    assert_eq!(a["applicationType"], "SPINDLE");
    assert_eq!(a["finalStatus"], "SUCCEEDED");
    assert!(
        a["applicationTags"]
            .as_str()
            .unwrap_or("")
            .contains("yarn-submit-test"),
        "{a}"
    );
    // The staging directory is gone, the cached binary stays.
    assert!(
        !exists(&staging_dir(&app)),
        "staging dir of {app} left behind"
    );
    // spindle status
    let st = spindle(h.conf_dir())
        .args(["status", &app])
        .output()
        .unwrap();
    let st_out = text(&st.stdout);
    assert!(
        st.status.success() && st_out.contains("state FINISHED") && st_out.contains("Succeeded"),
        "{st_out}"
    );
    // spindle logs, once YARN has aggregated them into HDFS (read as TFile by the CLI).
    wait_until("log aggregation", Duration::from_secs(90), || {
        let s = app_json(&app)["logAggregationStatus"]
            .as_str()
            .unwrap_or("")
            .to_string();
        assert!(s != "FAILED" && s != "TIME_OUT", "log aggregation {s}");
        s == "SUCCEEDED"
    });
    let logs = spindle(h.conf_dir()).args(["logs", &app]).output().unwrap();
    let logs_out = text(&logs.stdout);
    // The AM's container: container_[e<epoch>_]<app>_01_000001 (an RM that recovered its
    // state after restarts adds the epoch).
    let am_container = format!("{}_01_000001 on ", app.trim_start_matches("application_"));
    assert!(
        logs.status.success(),
        "spindle logs: {}",
        text(&logs.stderr)
    );
    assert!(
        logs_out
            .lines()
            .any(|l| l.starts_with("==> container_") && l.contains(&am_container)),
        "{logs_out}"
    );
    assert!(
        logs_out.contains("(stderr, aggregated)")
            && logs_out.contains("(launch_container.sh, aggregated)"),
        "{logs_out}"
    );
    assert!(
        logs_out.contains("exec /bin/bash -c"),
        "the launch script is not in the logs:\n{logs_out}"
    );
    assert!(
        logs_out.contains("lookup.csv"),
        "--files lookup.csv not in the container's directory:\n{logs_out}"
    );
    // Another user reads the aggregated logs as themselves, as Hadoop's CLI does: the owner's
    // log directory (mode 770) is closed to them, so nothing is printed. (Only where HDFS checks
    // permissions: the compose cluster turns that off.)
    let conf = spindle_hadoop::config::Configuration::load_dir(h.conf_dir()).unwrap();
    if !conf.get_bool("dfs.permissions.enabled", true).unwrap() {
        return;
    }
    let other = spindle(h.conf_dir())
        .args(["logs", &app])
        .env("HADOOP_USER_NAME", "spindle-other-user")
        .output()
        .unwrap();
    let other_out = text(&other.stdout);
    assert!(!other.status.success(), "{other_out}");
    assert!(!other_out.contains("==> container_"), "{other_out}");
    let other_err = text(&other.stderr);
    assert!(
        other_err.contains("Permission denied: user=spindle-other-user")
            && other_err.trim_end().lines().count() == 1,
        "{other_err}"
    );
}

#[test]
fn a_second_submission_reuses_the_staged_binary_by_sha256() {
    let h = hadoop();
    let _logs = h.log_guard();
    let base = format!("/yarn-tests/{}/reuse", std::process::id());
    put(&format!("{base}/in.txt"), "one two two\n");
    let fs = h.fs_uri().trim_end_matches('/');
    let wc = bins().wordcount.display().to_string();
    let run = |n: u32| -> String {
        let out = spindle(h.conf_dir())
            .args(submit_args(&["--num-executors", "1"]))
            .args([
                wc.as_str(),
                &format!("{fs}{base}/in.txt"),
                &format!("{fs}{base}/out{n}"),
            ])
            .output()
            .unwrap();
        let err = text(&out.stderr);
        assert!(out.status.success(), "submit {n} failed:\n{err}");
        err
    };
    let first = run(1);
    let cached = first
        .split_whitespace()
        .find(|w| w.contains("/.spindleStaging/cache/"))
        .unwrap_or_else(|| panic!("no cache path in:\n{first}"))
        .to_string();
    let path = cached
        .split_once("://")
        .map(|(_, r)| &r[r.find('/').unwrap()..])
        .unwrap()
        .to_string();
    let mtime = || {
        block_on(async {
            hdfs()
                .get_file_info(&path)
                .await
                .expect("cached binary")
                .modification_time
        })
    };
    let before = mtime();
    let second = run(2);
    assert!(
        second.contains("nothing uploaded") && !second.contains("spindle: uploaded"),
        "{second}"
    );
    assert_eq!(mtime(), before, "the cached binary was written again");
    let cat = java_peer_ok("dev.spindle.peers.FsCat", &[&format!("{fs}{base}/out2")]);
    let mut lines: Vec<&str> = cat.lines().collect();
    lines.sort();
    assert_eq!(lines, vec!["one\t1", "two\t2"]);
}

/// A `--conf` value that does not parse stops `spindle submit` in one line naming the key, before
/// any application is created (the settings registry checks it).
#[test]
fn an_engine_conf_with_a_bad_value_is_refused_before_submitting() {
    let h = hadoop();
    let wc = bins().wordcount.display().to_string();
    let out = spindle(h.conf_dir())
        .args(submit_args(&["--conf", "spindle.locality.wait=soon"]))
        .args([wc.as_str(), "/in", "/out"])
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert!(
        !out.status.success(),
        "a bad locality wait was accepted:\n{err}"
    );
    assert!(err.contains("spindle.locality.wait=\"soon\""), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(!err.contains("application_"), "{err}");
}

/// Starts a long job (pi over many samples) and waits until the RM says RUNNING.
fn start_long_job(tag: &str) -> (Child, PathBuf, String) {
    let h = hadoop();
    let log = std::env::temp_dir().join(format!("spindle-{tag}-{}.log", std::process::id()));
    let child = spindle(h.conf_dir())
        .args(submit_args(&["--num-executors", "1", "--tags", tag]))
        .args([
            bins().pi.display().to_string().as_str(),
            "100000000000000",
            "2",
        ])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut app = String::new();
    wait_until("the application to run", Duration::from_secs(90), || {
        let err = std::fs::read_to_string(&log).unwrap_or_default();
        assert!(!err.contains("ended:"), "the long job ended early:\n{err}");
        if app.is_empty() && err.contains("submitted application_") {
            app = app_id_in(&err);
        }
        !app.is_empty() && app_json(&app)["state"] == "RUNNING"
    });
    (child, log, app)
}

fn wait_child(child: &mut Child, timeout: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        assert!(
            start.elapsed() < timeout,
            "spindle submit still running after {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Processes started by YARN for `app` (their environment names the container:
/// `container_[e<epoch>_]<cluster timestamp>_<app>_<attempt>_<n>`).
fn container_processes(app: &str) -> Vec<u32> {
    let app_part = format!("_{}_", app.trim_start_matches("application_"));
    let is_ours = |v: &[u8]| {
        let v = String::from_utf8_lossy(v);
        v.strip_prefix("CONTAINER_ID=container")
            .is_some_and(|id| id.contains(&app_part))
    };
    let mut pids = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let mut env = Vec::new();
        if std::fs::File::open(e.path().join("environ"))
            .and_then(|mut f| f.read_to_end(&mut env))
            .is_ok()
            && env.split(|b| *b == 0).any(is_ours)
        {
            pids.push(pid);
        }
    }
    pids
}

#[test]
fn spindle_kill_ends_the_app_its_containers_and_its_staging_dir() {
    let h = hadoop();
    let _logs = h.log_guard();
    let (mut child, log, app) = start_long_job("kill-test");
    assert!(exists(&staging_dir(&app)), "no staging dir while running");
    wait_until("containers of the app", Duration::from_secs(30), || {
        !container_processes(&app).is_empty()
    });
    // Logs of running containers come from the NodeManagers.
    let logs = spindle(h.conf_dir())
        .args(["logs", &app, "--log-files", "stderr"])
        .output()
        .unwrap();
    assert!(
        logs.status.success(),
        "spindle logs: {}",
        text(&logs.stderr)
    );
    assert!(
        text(&logs.stdout).contains("(stderr, running)"),
        "{}",
        text(&logs.stdout)
    );
    let started = Instant::now();
    let kill = spindle(h.conf_dir()).args(["kill", &app]).output().unwrap();
    assert!(
        kill.status.success(),
        "spindle kill: {}",
        text(&kill.stderr)
    );
    assert!(
        text(&kill.stderr).contains(&format!("killed {app}: KILLED")),
        "{}",
        text(&kill.stderr)
    );
    assert_eq!(app_json(&app)["state"], "KILLED");
    assert!(
        !exists(&staging_dir(&app)),
        "staging dir of {app} left behind"
    );
    wait_until("the app's processes to go", Duration::from_secs(30), || {
        container_processes(&app).is_empty()
    });
    eprintln!("killed and cleaned up in {:?}", started.elapsed());
    // The waiting `spindle submit` sees KILLED and exits non-zero.
    let status = wait_child(&mut child, Duration::from_secs(30));
    let err = std::fs::read_to_string(&log).unwrap();
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.contains("ended: KILLED"), "{err}");
}

/// The application's name and arguments reach the driver verbatim: nothing in them is expanded
/// by the NodeManager's launch script (`$(...)`, backquotes, quotes) or by YARN (`{{...}}`,
/// `<LOG_DIR>`). The input named by the argument does not exist, so the driver's one-line error
/// quotes the argument as it arrived.
#[test]
fn names_and_arguments_arrive_verbatim_and_run_nothing() {
    let h = hadoop();
    let _logs = h.log_guard();
    let marker =
        |what: &str| std::env::temp_dir().join(format!("spindle-{what}-{}", std::process::id()));
    let (name_file, arg_file) = (marker("name"), marker("arg"));
    let name = format!(
        "n$(touch {})\"q'{{{{HOME}}}}<LOG_DIR>`id`",
        name_file.display()
    );
    let fs = h.fs_uri().trim_end_matches('/');
    let input = format!(
        "{fs}/yarn-tests/{}/missing$(touch {})`id`\"'{{{{HOME}}}}<LOG_DIR><CPS>",
        std::process::id(),
        arg_file.display()
    );
    let wc = bins().wordcount.display().to_string();
    let out = spindle(h.conf_dir())
        .args(submit_args(&["--num-executors", "1", "--name", &name]))
        .args([
            wc.as_str(),
            &input,
            &format!("{fs}/yarn-tests/out-verbatim"),
        ])
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert!(!out.status.success(), "{err}");
    let app = app_id_in(&err);
    let report = app_json(&app);
    assert_eq!(report["name"], name.as_str(), "{report}");
    let diagnostics = report["diagnostics"].as_str().unwrap_or_default();
    assert!(
        diagnostics.contains(&format!("input path does not exist: {input}")),
        "{diagnostics}"
    );
    assert!(
        !name_file.exists() && !arg_file.exists(),
        "the launch script ran user text"
    );
}

/// A client-mode driver's stderr reaches the terminal byte for byte, non-UTF-8 included, and a
/// driver that writes much after such bytes is not stalled (its pipe keeps draining).
#[test]
fn a_client_mode_drivers_stderr_passes_as_bytes() {
    let h = hadoop();
    let dir = tempfile::tempdir().unwrap();
    let driver = dir.path().join("driver.sh");
    std::fs::write(
        &driver,
        "#!/bin/sh\nprintf 'before \\377\\376 after\\n' >&2\n\
         head -c 300000 /dev/zero | tr '\\0' x >&2\nprintf '\\ndone\\n' >&2\n",
    )
    .unwrap();
    std::fs::set_permissions(&driver, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut child = spindle(h.conf_dir())
        .args(submit_args(&["--deploy-mode", "client"]))
        .arg(&driver)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = Vec::new();
    let mut pipe = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        std::io::Read::read_to_end(&mut pipe, &mut err).unwrap();
        err
    });
    let status = wait_child(&mut child, Duration::from_secs(120));
    let err = reader.join().unwrap();
    // The script never submits an application: a failure, with everything it wrote relayed.
    assert!(!status.success());
    let needle: &[u8] = b"before \xff\xfe after\n";
    let head = text(&err[..err.len().min(2000)]);
    assert!(err.windows(needle.len()).any(|w| w == needle), "{head}");
    assert!(text(&err).contains("\ndone\n"), "{head}");
    assert!(err.iter().filter(|b| **b == b'x').count() >= 300_000);
}

#[test]
fn ctrl_c_kills_the_application_and_says_so() {
    let h = hadoop();
    let _logs = h.log_guard();
    let (mut child, log, app) = start_long_job("ctrl-c-test");
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let status = wait_child(&mut child, Duration::from_secs(60));
    let err = std::fs::read_to_string(&log).unwrap();
    assert_eq!(status.code(), Some(130), "{err}");
    assert!(
        err.contains(&format!("interrupted: killing {app}"))
            && err.contains(&format!("{app} killed (KILLED)")),
        "{err}"
    );
    assert_eq!(app_json(&app)["state"], "KILLED");
    assert!(
        !exists(&staging_dir(&app)),
        "staging dir of {app} left behind"
    );
    wait_until("the app's processes to go", Duration::from_secs(30), || {
        container_processes(&app).is_empty()
    });
}

fn one_line_error_within(out: &Output, took: Duration, limit: Duration, needles: &[&str]) {
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(took < limit, "took {took:?}: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "not one line:\n{err}");
    for n in needles {
        assert!(err.contains(n), "no {n:?} in {err}");
    }
}

#[test]
fn a_wrong_hadoop_conf_dir_or_an_unreachable_rm_fails_in_one_line_within_seconds() {
    let wc = bins().wordcount.display().to_string();
    let args = ["submit", "--master", "yarn", wc.as_str(), "in"];
    // A directory that is not there.
    let t = Instant::now();
    let out = spindle(Path::new("/nonexistent/hadoop-conf"))
        .args(args)
        .output()
        .unwrap();
    one_line_error_within(
        &out,
        t.elapsed(),
        Duration::from_secs(5),
        &["HADOOP_CONF_DIR=/nonexistent/hadoop-conf is not a directory"],
    );
    // No configuration at all.
    let t = Instant::now();
    let out = Command::new(&bins().spindle)
        .env_remove("HADOOP_CONF_DIR")
        .env_remove("YARN_CONF_DIR")
        .args(args)
        .output()
        .unwrap();
    one_line_error_within(
        &out,
        t.elapsed(),
        Duration::from_secs(5),
        &["HADOOP_CONF_DIR"],
    );
    // A configuration whose RM is not listening.
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let site = |props: &[(&str, String)]| {
        let mut s = String::from("<?xml version=\"1.0\"?>\n<configuration>\n");
        for (k, v) in props {
            s.push_str(&format!(
                "<property><name>{k}</name><value>{v}</value></property>\n"
            ));
        }
        s + "</configuration>\n"
    };
    std::fs::write(
        dir.path().join("core-site.xml"),
        site(&[("fs.defaultFS", format!("hdfs://127.0.0.1:{port}"))]),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("yarn-site.xml"),
        site(&[
            ("yarn.resourcemanager.address", format!("127.0.0.1:{port}")),
            (
                "yarn.resourcemanager.webapp.address",
                format!("127.0.0.1:{port}"),
            ),
        ]),
    )
    .unwrap();
    for cmd in [
        &args[..],
        &["status", "application_1_0001"],
        &["kill", "application_1_0001"],
    ] {
        let t = Instant::now();
        let out = spindle(dir.path()).args(cmd).output().unwrap();
        one_line_error_within(
            &out,
            t.elapsed(),
            Duration::from_secs(10),
            &[&format!("127.0.0.1:{port}"), "no ResourceManager reachable"],
        );
    }
}

#[test]
fn wordcount_in_client_mode_through_spindle_submit_is_read_back_by_java() {
    let h = hadoop();
    let _logs = h.log_guard();
    let base = format!("/yarn-tests/{}/client", std::process::id());
    let (input, expected) = make_input(500, 0xC11E_0001);
    put(&format!("{base}/in/input.txt"), &input);
    let fs = h.fs_uri().trim_end_matches('/');
    let (in_uri, out_uri) = (format!("{fs}{base}/in"), format!("{fs}{base}/out"));
    let wc = bins().wordcount.display().to_string();
    let extra = tempfile::tempdir().unwrap();
    let lookup = extra.path().join("client-lookup.csv");
    std::fs::write(&lookup, "k,v\n").unwrap();
    let files = lookup.display().to_string();
    let out = spindle(h.conf_dir())
        .args(submit_args(&[
            "--deploy-mode",
            "client",
            "--num-executors",
            "2",
            "--name",
            "wc-client",
            "--tags",
            "client-mode-test,second-tag",
            "--priority",
            "3",
            "--max-app-attempts",
            "1",
            "--files",
            &files,
            // Authenticated but unencrypted channels (the driver here, the AM and the
            // executors in containers): the default, encrypted, is the other tests'.
            "--conf",
            "spindle.network.crypto.enabled=false",
        ]))
        .args([wc.as_str(), &in_uri, &out_uri])
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert!(
        out.status.success(),
        "client mode failed ({:?}):\n{err}",
        out.status
    );
    let app = app_id_in(&err);
    assert!(
        err.contains("client deploy mode") && err.contains("final status Succeeded"),
        "{err}"
    );
    assert!(err.contains("executors connect to http://"), "{err}");
    // Staged like cluster mode: the binary through the SHA-256 cache.
    assert!(
        err.contains("sha256") && err.contains(".spindleStaging/cache/"),
        "{err}"
    );
    // The flags reached the RM.
    let a = app_json(&app);
    assert_eq!(a["name"], "wc-client");
    assert_eq!(a["finalStatus"], "SUCCEEDED");
    assert_eq!(a["applicationType"], "SPINDLE");
    assert_eq!(a["priority"], 3, "{a}");
    let tags = a["applicationTags"].as_str().unwrap_or_default();
    assert!(
        tags.contains("client-mode-test") && tags.contains("second-tag"),
        "{a}"
    );
    assert!(!exists(&staging_dir(&app)), "staging dir of {app} left");
    // The --files entry was localized into the application's containers (the NodeManager lists
    // each container's directory in directory.info).
    if let Some(work) = h.work_dir() {
        let listed = find_files(work, "directory.info")
            .into_iter()
            .filter(|p| p.to_string_lossy().contains(&app))
            .filter(|p| {
                std::fs::read_to_string(p)
                    .unwrap_or_default()
                    .contains("client-lookup.csv")
            })
            .count();
        assert!(listed >= 1, "client-lookup.csv in no container of {app}");
    }
    let cat = java_peer_ok("dev.spindle.peers.FsCat", &[&out_uri]);
    let got: BTreeMap<String, u64> = cat
        .lines()
        .map(|l| {
            let (w, c) = l
                .split_once('\t')
                .unwrap_or_else(|| panic!("bad line {l:?}"));
            (w.to_string(), c.parse().unwrap())
        })
        .collect();
    assert_eq!(got, expected);
}

/// Files named `name` under `dir`, recursively.
fn find_files(dir: &Path, name: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|f| f == name) {
                out.push(p);
            }
        }
    }
    out
}
