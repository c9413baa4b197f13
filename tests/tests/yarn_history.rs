//! History on the real mini-Hadoop: a wordcount in cluster mode writes its event log to HDFS
//! (gzip that Debian's `gzip` decodes, JSON lines, the `--conf` secret redacted); `spindle
//! history` serves it with the AM's `/api/v1` shapes (the app, its jobs, stages and executor,
//! counts that agree with each other and with the job); the AM's final tracking URL makes the
//! RM's proxy (and headless Chromium through it) lead to the history server's page of the
//! application after it ended; a failed application's end carries its typed reason and exit code
//! as fields (the log, the API, the pages); a killed application's log (no end record) is still
//! served with the jobs it finished.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use spindle_tests::{
    app_json, block_on, hadoop, hdfs_client, hdfs_put, java_peer_ok, parse_counts, proxy_url,
    random_words, rest_get, spindle_command, text, wait_for, wait_until,
};

/// Small containers: the tests share 2 NodeManagers of 4 GB with other tests.
const SMALL: [&str; 10] = [
    "--driver-memory",
    "128m",
    "--executor-memory",
    "128m",
    "--num-executors",
    "1",
    "--conf",
    "spindle.executor.memoryOverhead=64m",
    "--conf",
    "spindle.driver.memoryOverhead=64m",
];

/// A `spindle history` process on a free port; killed when dropped.
struct HistoryServer {
    child: Child,
    base: String,
}

impl Drop for HistoryServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_history() -> HistoryServer {
    let mut child = spindle_command(hadoop().conf_dir())
        .args(["history", "--host", "127.0.0.1", "--port", "0"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("spindle history");
    let mut first = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    // "spindle history: serving <dir> at http://127.0.0.1:PORT/ (…)"
    let base = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .trim_end_matches('/')
        .to_string();
    assert!(
        first.contains("/.spindle/events"),
        "the default directory: {first}"
    );
    HistoryServer { child, base }
}

fn api(h: &HistoryServer, path: &str) -> serde_json::Value {
    let url = format!("{}/api/v1/{path}", h.base);
    let r = rest_get(&url).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status, 200, "{url}: {}", r.body);
    r.json
}

fn submit(args: &[&str]) -> (String, std::process::Output) {
    let out = spindle_command(hadoop().conf_dir())
        .args(["submit", "--master", "yarn"])
        .args(SMALL)
        .args(args)
        .output()
        .unwrap();
    let err = text(&out.stderr);
    let app = err
        .split_whitespace()
        .find(|w| w.starts_with("application_"))
        .map(|w| {
            w.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                .to_string()
        })
        .unwrap_or_else(|| panic!("no application id in:\n{err}"));
    (app, out)
}

#[test]
fn history_serves_finished_and_killed_applications_and_the_rm_links_to_it() {
    let h = hadoop();
    let _logs = h.log_guard();
    let server = start_history();
    let address = server.base.trim_start_matches("http://").to_string();

    // A wordcount whose counts are checked: the history must describe this job.
    let base = format!("/history-tests/{}", std::process::id());
    let (input, expected) = random_words(3000, 0x4157_0121);
    block_on(hdfs_put(
        &hdfs_client(h),
        &format!("{base}/in/input.txt"),
        input.as_bytes(),
    ));
    let fs = h.fs_uri().trim_end_matches('/').to_string();
    let (app, out) = submit(&[
        "--conf",
        &format!("spindle.yarn.historyServer.address={address}"),
        "--conf",
        "spindle.test.password=hunter2-secret",
        &spindle_tests::binary("wordcount").to_string_lossy(),
        &format!("{fs}{base}/in"),
        &format!("{fs}{base}/out"),
    ]);
    assert!(
        out.status.success(),
        "wordcount failed:\n{}",
        text(&out.stderr)
    );
    // The job's own answer, read by Hadoop's FileSystem.
    let cat = java_peer_ok("dev.spindle.peers.FsCat", &[&format!("{fs}{base}/out")]);
    assert_eq!(parse_counts(cat.lines()), expected, "the job's output");

    // The log in HDFS: Debian's gzip reads it; JSON lines; the secret is not there.
    let user = spindle_hadoop::user::current_user();
    let part = format!("/user/{user}/.spindle/events/{app}_1/events_00001.jsonl.gz");
    let bytes = block_on(spindle_tests::hdfs_read(&hdfs_client(h), &part));
    let mut gz = Command::new("gzip")
        .args(["-dc"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("gzip");
    gz.stdin.take().unwrap().write_all(&bytes).unwrap();
    let plain = gz.wait_with_output().unwrap();
    assert!(plain.status.success(), "gzip -dc {part}");
    let plain = text(&plain.stdout);
    let lines: Vec<serde_json::Value> = plain
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(lines[0]["event"], "ApplicationStart");
    assert_eq!(lines.last().unwrap()["event"], "ApplicationEnd");
    assert!(!plain.contains("hunter2"), "a secret in the event log");
    assert!(plain.contains("*********(redacted)"));

    // The history server: the application, its jobs, stages and executor.
    let apps = api(&server, "applications");
    let entry = apps
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == app.as_str())
        .unwrap_or_else(|| panic!("{app} not listed: {apps}"));
    let attempt = &entry["attempts"][0];
    assert_eq!(attempt["completed"], true);
    assert_eq!(attempt["status"], "SUCCEEDED");
    assert_eq!(attempt["sparkUser"], user.as_str());
    assert!(attempt["endTime"].as_u64().unwrap() >= attempt["startTime"].as_u64().unwrap());

    let jobs = api(&server, &format!("applications/{app}/jobs"));
    let stages = api(&server, &format!("applications/{app}/stages"));
    let executors = api(&server, &format!("applications/{app}/executors"));
    let jobs = jobs.as_array().unwrap();
    let stages = stages.as_array().unwrap();
    let executors = executors.as_array().unwrap();
    assert!(!jobs.is_empty());
    assert_eq!(executors.len(), 1, "--num-executors 1: {executors:?}");
    let exec_id = executors[0]["id"].as_str().unwrap();
    for j in jobs {
        assert_eq!(j["status"], "SUCCEEDED", "{j}");
        let mine: Vec<&serde_json::Value> =
            stages.iter().filter(|s| s["jobId"] == j["jobId"]).collect();
        let ids: Vec<u64> = j["stageIds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect();
        assert_eq!(ids.len(), mine.len(), "{j}");
        let tasks: u64 = mine.iter().map(|s| s["numTasks"].as_u64().unwrap()).sum();
        assert_eq!(j["numTasks"].as_u64().unwrap(), tasks);
        assert_eq!(j["numCompletedTasks"], j["numTasks"]);
    }
    // wordcount: a map stage over the input and a reduce stage after the shuffle.
    assert!(stages.len() >= 2, "{stages:?}");
    for s in stages {
        assert_eq!(s["status"], "COMPLETE", "{s}");
        assert_eq!(s["numCompleteTasks"], s["numTasks"], "{s}");
        let listed = s["tasks"].as_array().unwrap();
        assert_eq!(listed.len() as u64, s["numTasks"].as_u64().unwrap(), "{s}");
        let launches: u64 = s["locality"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum();
        assert_eq!(launches, listed.len() as u64);
        for t in listed {
            assert_eq!(t["executorId"], exec_id);
            assert_eq!(t["status"], "SUCCESS");
        }
    }

    // The YARN UI's History link: the RM's app page says History, and its proxy leads to the
    // history server's page of this application.
    let report = app_json(h, &app);
    assert_eq!(report["finalStatus"], "SUCCEEDED");
    assert_eq!(report["trackingUI"], "History", "{report}");
    let page = rest_get(&proxy_url(h, &app)).unwrap();
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("Spindle history") && page.body.contains(&app),
        "{}",
        page.body
    );
    let rm_page = rest_get(&format!("{}/cluster/app/{app}", h.rm_url())).unwrap();
    assert!(
        rm_page.body.contains(&format!("/proxy/{app}/")),
        "the RM's page links the proxy"
    );
    // A real browser follows the same link.
    let shots = spindle_tests::repo_root().join("target").join("yarn-ui");
    std::fs::create_dir_all(&shots).unwrap();
    let dom = spindle_tests::chromium(&proxy_url(h, &app), &shots.join("history.png"));
    assert!(
        dom.contains("Spindle history") && dom.contains(&app) && dom.contains("SUCCEEDED"),
        "{dom}"
    );
    let stages_page = rest_get(&format!("{}stages", proxy_url(h, &app))).unwrap();
    assert!(
        stages_page.body.contains("COMPLETE"),
        "{}",
        stages_page.body
    );

    // A failed application: the end record, the API and the page carry its typed reason and
    // exit code as fields, the same as `spindle submit` exits with.
    let (failed, out) = submit(&[
        &spindle_tests::binary("wordcount").to_string_lossy(),
        &format!("{fs}{base}/no-such-input"),
        &format!("{fs}{base}/failed-out"),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let part = format!("/user/{user}/.spindle/events/{failed}_1/events_00001.jsonl.gz");
    let bytes = block_on(spindle_tests::hdfs_read(&hdfs_client(h), &part));
    let mut gz = Command::new("gzip")
        .args(["-dc"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("gzip");
    gz.stdin.take().unwrap().write_all(&bytes).unwrap();
    let plain = text(&gz.wait_with_output().unwrap().stdout);
    let end: serde_json::Value = serde_json::from_str(plain.lines().last().unwrap()).unwrap();
    assert_eq!(
        (
            &end["event"],
            &end["status"],
            &end["reason"],
            &end["exitCode"]
        ),
        (
            &"ApplicationEnd".into(),
            &"FAILED".into(),
            &"DRIVER_ERROR".into(),
            &1.into()
        ),
        "{end}"
    );
    let apps = api(&server, "applications");
    let entry = apps
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == failed.as_str())
        .unwrap_or_else(|| panic!("{failed} not listed: {apps}"));
    let attempt = &entry["attempts"][0];
    assert_eq!(
        (&attempt["status"], &attempt["reason"], &attempt["exitCode"]),
        (&"FAILED".into(), &"DRIVER_ERROR".into(), &1.into()),
        "{entry}"
    );
    assert!(
        attempt["diagnostics"]
            .as_str()
            .is_some_and(|d| d.contains("no-such-input")),
        "{entry}"
    );
    let page = rest_get(&format!("{}/history/{failed}/", server.base)).unwrap();
    assert!(
        page.body.contains("FAILED: DRIVER_ERROR, exit code 1")
            && page.body.contains("no-such-input"),
        "{}",
        page.body
    );
    let list = rest_get(&format!("{}/", server.base)).unwrap();
    assert!(
        list.body.contains("FAILED: DRIVER_ERROR, exit code 1"),
        "{}",
        list.body
    );
    // The successful one's reason too.
    let ok = api(&server, "applications");
    let ok = ok
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == app.as_str())
        .unwrap();
    assert_eq!(
        (&ok["attempts"][0]["reason"], &ok["attempts"][0]["exitCode"]),
        (&"SUCCEEDED".into(), &0.into()),
        "{ok}"
    );

    // A killed application: its log has no end, and is still read up to where it stopped.
    let (killed, out) = submit(&[
        "--detach",
        &spindle_tests::binary("spindle-testjobs").to_string_lossy(),
        "idle",
        "300",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    wait_until(
        "the idle job's count in the history",
        Duration::from_secs(120),
        || {
            let r = rest_get(&format!(
                "{}/api/v1/applications/{killed}/jobs",
                server.base
            ));
            r.is_ok_and(|r| r.status == 200 && r.json[0]["status"] == "SUCCEEDED")
        },
    );
    let kill = spindle_command(h.conf_dir())
        .args(["kill", &killed])
        .output()
        .unwrap();
    assert!(kill.status.success(), "{}", text(&kill.stderr));
    wait_for("KILLED", Duration::from_secs(60), || {
        (app_json(h, &killed)["state"] == "KILLED").then_some(())
    });
    let apps = api(&server, "applications");
    let entry = apps
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == killed.as_str())
        .unwrap_or_else(|| panic!("{killed} not listed: {apps}"));
    assert_eq!(entry["attempts"][0]["completed"], false, "{entry}");
    let jobs = api(&server, &format!("applications/{killed}/jobs"));
    assert_eq!(jobs.as_array().unwrap().len(), 1, "{jobs}");
    assert_eq!(jobs[0]["numCompletedTasks"], jobs[0]["numTasks"]);
    assert!(
        !api(&server, &format!("applications/{killed}/executors"))
            .as_array()
            .unwrap()
            .is_empty()
    );
}
