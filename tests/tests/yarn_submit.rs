//! `spindle submit --master yarn` and `spindle status|kill|logs` against the real mini-Hadoop:
//! wordcount in cluster mode with its output read back by Hadoop's Java FileSystem and checked
//! against counts computed here; the driver binary staged once and reused by SHA-256; kill and
//! Ctrl-C end the application, its processes and its staging directory; a wrong
//! HADOOP_CONF_DIR or an unreachable RM fail in one line within seconds.
//!
//! The `spindle` CLI and the example drivers are the workspace's own build
//! ([`spindle_tests::binary`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use spindle_tests::{
    app_json, binary, block_on, container_processes, find_files, hadoop, hdfs_client, hdfs_put,
    java_peer_ok, parse_counts, proxy_url, random_words, rest_get, rm_conf, signal, site_xml,
    spindle_command, text, unused_port, wait_exit, wait_for, wait_until,
};

/// Small containers: the tests share 2 NodeManagers of 4 GB with other tests.
const SMALL: [&str; 8] = [
    "--driver-memory",
    "128m",
    "--executor-memory",
    "128m",
    "--conf",
    "spindle.executor.memoryOverhead=64m",
    "--conf",
    "spindle.driver.memoryOverhead=64m",
];

/// `spindle submit --master yarn` with small containers and `extra`.
fn submit_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["submit", "--master", "yarn"];
    v.extend_from_slice(&SMALL);
    v.extend_from_slice(extra);
    v
}

/// `spindle submit` ([`submit_args`] with `extra`) of `program`; panics naming `what` unless it
/// succeeds. Returns the application id and what it printed (stderr).
fn submit_ok(what: &str, extra: &[&str], program: &[&str]) -> (String, String) {
    let out = spindle_command(hadoop().conf_dir())
        .args(submit_args(extra))
        .args(program)
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert!(
        out.status.success(),
        "{what} failed ({:?}):\n{err}",
        out.status
    );
    (app_id_in(&err), err)
}

/// The application id `spindle submit` printed.
/// A wordcount's input in HDFS: `lines` random lines in `/yarn-tests/<pid>/<tag>/in`; returns the
/// input and output URIs and the counts the job must give.
fn wordcount_input(tag: &str, lines: usize, seed: u64) -> (String, String, BTreeMap<String, u64>) {
    let base = format!("/yarn-tests/{}/{tag}", std::process::id());
    let (input, expected) = random_words(lines, seed);
    put(&format!("{base}/in/input.txt"), &input);
    let fs = hadoop().fs_uri().trim_end_matches('/').to_string();
    (
        format!("{fs}{base}/in"),
        format!("{fs}{base}/out"),
        expected,
    )
}

/// A small file `name` to pass with `--files`, in a temporary directory that lives as long as
/// the returned guard; and its path.
fn files_entry(name: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, "k,v\n").unwrap();
    (dir, path.display().to_string())
}

fn app_id_in(stderr: &str) -> String {
    stderr
        .split_whitespace()
        .find(|w| w.starts_with("application_"))
        .map(|w| w.trim_end_matches([',', ':', ')']).to_string())
        .unwrap_or_else(|| panic!("no application id in:\n{stderr}"))
}

fn staging_dir(app: &str) -> String {
    format!(
        "/user/{}/.spindleStaging/{app}",
        spindle_hadoop::user::current_user()
    )
}

fn exists(path: &str) -> bool {
    block_on(async { hdfs_client(hadoop()).get_file_info(path).await.is_ok() })
}

fn put(path: &str, data: &str) {
    block_on(hdfs_put(&hdfs_client(hadoop()), path, data.as_bytes()))
}

#[test]
fn wordcount_in_cluster_mode_is_read_back_by_java_and_logs_and_status_work() {
    let h = hadoop();
    let _logs = h.log_guard();
    let (in_uri, out_uri, expected) = wordcount_input("wc", 3000, 0x5EED_1234);
    let wc = binary("wordcount").display().to_string();
    // A --files entry lands in the containers' working directory (seen in directory.info).
    let (_extra, files) = files_entry("lookup.csv");
    let started = Instant::now();
    let (app, err) = submit_ok(
        "spindle submit",
        &[
            "--name",
            "wc-test",
            "--num-executors",
            "2",
            "--tags",
            "yarn-submit-test",
            "--files",
            &files,
        ],
        &[&wc, &in_uri, &out_uri],
    );
    eprintln!("{app} in {:?}:\n{err}", started.elapsed());
    // The display shows each state it sees; a fast cluster may run the whole job between two
    // polls, so only one waiting state is sure to be seen.
    assert!(
        err.contains(&format!("{app} ACCEPTED (")) || err.contains(&format!("{app} RUNNING (")),
        "no waiting state in:\n{err}"
    );
    for needle in ["tracking URL: http", "FINISHED, final status Succeeded"] {
        assert!(err.contains(needle), "no {needle:?} in:\n{err}");
    }
    // Hadoop's own FileSystem reads the committed output; compare with the counts made here.
    let cat = java_peer_ok("dev.spindle.peers.FsCat", &[&out_uri]);
    assert_eq!(parse_counts(cat.lines()), expected);
    // The RM saw what was asked for.
    let a = app_json(hadoop(), &app);
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
    let st = spindle_command(h.conf_dir())
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
        let s = app_json(hadoop(), &app)["logAggregationStatus"]
            .as_str()
            .unwrap_or("")
            .to_string();
        assert!(s != "FAILED" && s != "TIME_OUT", "log aggregation {s}");
        s == "SUCCEEDED"
    });
    let logs = spindle_command(h.conf_dir())
        .args(["logs", &app])
        .output()
        .unwrap();
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
    if !rm_conf(h)
        .get_bool("dfs.permissions.enabled", true)
        .unwrap()
    {
        return;
    }
    let other = spindle_command(h.conf_dir())
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
    let wc = binary("wordcount").display().to_string();
    let run = |n: u32| -> String {
        let input = format!("{fs}{base}/in.txt");
        let output = format!("{fs}{base}/out{n}");
        let what = format!("submit {n}");
        submit_ok(&what, &["--num-executors", "1"], &[&wc, &input, &output]).1
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
            hdfs_client(hadoop())
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
    let wc = binary("wordcount").display().to_string();
    let out = spindle_command(h.conf_dir())
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
    let child = spindle_command(h.conf_dir())
        .args(submit_args(&["--num-executors", "1", "--tags", tag]))
        .args([
            binary("pi").display().to_string().as_str(),
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
        !app.is_empty() && app_json(hadoop(), &app)["state"] == "RUNNING"
    });
    (child, log, app)
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
    let logs = spindle_command(h.conf_dir())
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
    // The running AM's web UI through the RM's web proxy (the version matrix runs this test on
    // each Hadoop release: the proxy is Jersey 1 before 3.5); its jobs page links relatively.
    let jobs = wait_for(
        "the AM's UI through the RM proxy",
        Duration::from_secs(30),
        || {
            let url = proxy_url(h, &app);
            rest_get(&url)
                .ok()
                .filter(|r| r.status == 200 && r.body.contains("href=\"stages\""))
        },
    );
    assert!(
        !jobs.body.contains("href=\"/"),
        "absolute link: {}",
        jobs.body
    );
    let started = Instant::now();
    let kill = spindle_command(h.conf_dir())
        .args(["kill", &app])
        .output()
        .unwrap();
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
    assert_eq!(app_json(hadoop(), &app)["state"], "KILLED");
    assert!(
        !exists(&staging_dir(&app)),
        "staging dir of {app} left behind"
    );
    wait_until("the app's processes to go", Duration::from_secs(30), || {
        container_processes(&app).is_empty()
    });
    eprintln!("killed and cleaned up in {:?}", started.elapsed());
    // The waiting `spindle submit` sees KILLED and exits with its code (11).
    let status = wait_exit(&mut child, "spindle submit", Duration::from_secs(30));
    let err = std::fs::read_to_string(&log).unwrap();
    assert_eq!(status.code(), Some(11), "{err}");
    assert!(err.contains("ended: KILLED"), "{err}");
    assert!(
        err.contains(&format!("{app} reason: KILLED (exit code 11)")),
        "{err}"
    );
    let st = status_json(&app);
    assert_eq!(
        (&st["reason"], &st["exitCode"]),
        (&"KILLED".into(), &11.into()),
        "{st}"
    );
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
    let wc = binary("wordcount").display().to_string();
    let out = spindle_command(h.conf_dir())
        .args(submit_args(&["--num-executors", "1", "--name", &name]))
        .args([
            wc.as_str(),
            &input,
            &format!("{fs}/yarn-tests/out-verbatim"),
        ])
        .output()
        .unwrap();
    let err = text(&out.stderr);
    // The driver's own error: DRIVER_ERROR, exit code 1, the tag in the RM's diagnostics.
    assert_eq!(out.status.code(), Some(1), "{err}");
    let app = app_id_in(&err);
    let prefix = format!("spindle: {app} reason: DRIVER_ERROR (exit code 1): ");
    assert!(
        err.lines()
            .any(|l| l.starts_with(&prefix) && l.contains("input path does not exist")),
        "{err}"
    );
    let report = app_json(hadoop(), &app);
    assert_eq!(report["name"], name.as_str(), "{report}");
    let diagnostics = report["diagnostics"].as_str().unwrap_or_default();
    assert!(diagnostics.starts_with("[DRIVER_ERROR] "), "{diagnostics}");
    let st = status_json(&app);
    assert_eq!(
        (&st["reason"], &st["exitCode"]),
        (&"DRIVER_ERROR".into(), &1.into()),
        "{st}"
    );
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
    let mut child = spindle_command(h.conf_dir())
        .args(submit_args(&["--deploy-mode", "client"]))
        .arg(binary("spindle-testjobs"))
        .arg("stderr-bytes")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = Vec::new();
    let mut pipe = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        std::io::Read::read_to_end(&mut pipe, &mut err).unwrap();
        err
    });
    let status = wait_exit(&mut child, "spindle submit", Duration::from_secs(120));
    let err = reader.join().unwrap();
    // The driver exits before it submits an application: a failure, with everything it wrote
    // relayed.
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
    signal(child.id(), "INT");
    let status = wait_exit(&mut child, "spindle submit", Duration::from_secs(60));
    let err = std::fs::read_to_string(&log).unwrap();
    assert_eq!(status.code(), Some(130), "{err}");
    assert!(
        err.contains(&format!("interrupted: killing {app}"))
            && err.contains(&format!("{app} killed (KILLED)")),
        "{err}"
    );
    assert_eq!(app_json(hadoop(), &app)["state"], "KILLED");
    assert!(
        !exists(&staging_dir(&app)),
        "staging dir of {app} left behind"
    );
    wait_until("the app's processes to go", Duration::from_secs(30), || {
        container_processes(&app).is_empty()
    });
}

/// `spindle status --json <app>` on the shared cluster, parsed.
fn status_json(app: &str) -> serde_json::Value {
    let out = spindle_command(hadoop().conf_dir())
        .args(["status", "--json", app])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// One line on stderr within `limit`, exit code `code` (2 USAGE, 3 CLIENT), every needle in it.
fn one_line_error_within(
    out: &Output,
    code: i32,
    took: Duration,
    limit: Duration,
    needles: &[&str],
) {
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{err}");
    assert!(took < limit, "took {took:?}: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "not one line:\n{err}");
    for n in needles {
        assert!(err.contains(n), "no {n:?} in {err}");
    }
}

#[test]
fn a_wrong_hadoop_conf_dir_or_an_unreachable_rm_fails_in_one_line_within_seconds() {
    let wc = binary("wordcount").display().to_string();
    let args = ["submit", "--master", "yarn", wc.as_str(), "in"];
    // A directory that is not there.
    let t = Instant::now();
    let out = spindle_command(Path::new("/nonexistent/hadoop-conf"))
        .args(args)
        .output()
        .unwrap();
    one_line_error_within(
        &out,
        2,
        t.elapsed(),
        Duration::from_secs(5),
        &["HADOOP_CONF_DIR=/nonexistent/hadoop-conf is not a directory"],
    );
    // No configuration at all.
    let t = Instant::now();
    let out = Command::new(binary("spindle"))
        .env_remove("HADOOP_CONF_DIR")
        .env_remove("YARN_CONF_DIR")
        .args(args)
        .output()
        .unwrap();
    one_line_error_within(
        &out,
        2,
        t.elapsed(),
        Duration::from_secs(5),
        &["HADOOP_CONF_DIR"],
    );
    // A configuration whose RM is not listening.
    let dir = tempfile::tempdir().unwrap();
    let address = format!("127.0.0.1:{}", unused_port());
    std::fs::write(
        dir.path().join("core-site.xml"),
        site_xml(&[("fs.defaultFS", &format!("hdfs://{address}"))]),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("yarn-site.xml"),
        site_xml(&[
            ("yarn.resourcemanager.address", &address),
            ("yarn.resourcemanager.webapp.address", &address),
        ]),
    )
    .unwrap();
    for cmd in [
        &args[..],
        &["status", "application_1_0001"],
        &["kill", "application_1_0001"],
    ] {
        let t = Instant::now();
        let out = spindle_command(dir.path()).args(cmd).output().unwrap();
        one_line_error_within(
            &out,
            3,
            t.elapsed(),
            Duration::from_secs(10),
            &[&address, "no ResourceManager reachable"],
        );
    }
}

#[test]
fn wordcount_in_client_mode_through_spindle_submit_is_read_back_by_java() {
    let h = hadoop();
    let _logs = h.log_guard();
    let (in_uri, out_uri, expected) = wordcount_input("client", 500, 0xC11E_0001);
    let wc = binary("wordcount").display().to_string();
    let (_extra, files) = files_entry("client-lookup.csv");
    let (app, err) = submit_ok(
        "client mode",
        &[
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
        ],
        &[&wc, &in_uri, &out_uri],
    );
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
    let a = app_json(hadoop(), &app);
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
    assert_eq!(parse_counts(cat.lines()), expected);
}
