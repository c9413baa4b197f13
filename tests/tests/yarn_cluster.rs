//! Spindle's ApplicationMaster in cluster mode on the real mini-Hadoop: the wordcount example is
//! staged in HDFS and submitted through the RM's REST API with the launch contract of
//! `spindle_contract::launch` (as `spindle submit` does); the real NodeManagers start the AM, which
//! registers, gets executor containers and runs the job. Output is read back by Hadoop's own
//! Java FileSystem. Also: an executor killed mid-job, the AM process killed (second attempt),
//! an executor over its memory limit, a killed application (staging directory removed), and the
//! ResourceManager restarted in place mid-job (work-preserving recovery: the AM registers again),
//! every RDD operation of `spindle-testjobs rdd` in one application, dynamic allocation (scale up
//! for a backlog, down when idle, shuffle output moved first; down to none, shuffle output left in
//! HDFS), YARN preemption (two queues on a cluster of its own) and a NodeManager's graceful
//! decommissioning (a cluster of its own).

use std::collections::BTreeMap;
use std::io::Read;
use std::net::ToSocketAddrs;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use spindle_contract::launch::{self, AmLaunch, DeployMode};
use spindle_contract::submit::{Scheduling, Submission};
use spindle_hadoop::credentials::Credentials;
use spindle_hadoop::ids::ApplicationId;
use spindle_hadoop::yarn::{self, AppReport, FinalStatus, LocalResource, Resource, RmRestClient};
use spindle_tests::{
    MiniHadoop, OwnCluster, am_api, app_json, binary, container_processes, count_words, environ,
    find_files, hadoop, hdfs_client, hdfs_put, hdfs_read, hex, java_peer_ok, java_peer_on_ok,
    listening_ports, parse_counts, poll, proxy_url, registered_am, rest_client, rss_kb, signal,
    spindle_command,
};

fn user() -> String {
    spindle_hadoop::user::current_user()
}

fn random_secret() -> Vec<u8> {
    let mut b = vec![0u8; 32];
    std::fs::File::open("/dev/urandom")
        .unwrap()
        .read_exact(&mut b)
        .unwrap();
    b
}

/// Options of one test submission.
struct Submit<'a> {
    name: &'a str,
    /// The driver: a binary of this workspace.
    binary: &'a str,
    args: Vec<String>,
    executors: u32,
    cores: u32,
    executor_memory_mb: u64,
    overhead_mb: u64,
    conf: BTreeMap<String, String>,
    env: Vec<(String, String)>,
    max_attempts: Option<i32>,
    queue: Option<String>,
}

impl<'a> Submit<'a> {
    fn new(name: &'a str, args: Vec<String>) -> Self {
        Submit {
            name,
            binary: "wordcount",
            args,
            executors: 2,
            cores: 1,
            executor_memory_mb: 128,
            overhead_mb: 64,
            conf: BTreeMap::new(),
            env: vec![("SPINDLE_VERBOSE".into(), "1".into())],
            max_attempts: Some(1),
            queue: None,
        }
    }
}

struct App {
    id: ApplicationId,
    rest: RmRestClient,
    staging: String,
}

/// Stages the wordcount binary and submits its AM through REST; returns once accepted.
async fn submit(h: &MiniHadoop, s: Submit<'_>) -> App {
    let rest = rest_client(h);
    let new = rest.new_application().await.unwrap();
    let app = new.application_id;
    let fs = hdfs_client(h);
    let staging_path = format!("/user/{}/.spindleStaging/{app}", user());
    let bin = std::fs::read(binary(s.binary)).unwrap();
    let bin_path = format!("{staging_path}/{}", launch::APP_BINARY);
    hdfs_put(&fs, &bin_path, &bin).await;
    let st = fs.get_file_info(&bin_path).await.unwrap();
    let base = h.fs_uri().trim_end_matches('/').to_string();
    let staging = format!("{base}{staging_path}");
    let am = AmLaunch {
        deploy_mode: DeployMode::Cluster,
        app_name: s.name.to_string(),
        staging_dir: staging.clone(),
        local_resources: BTreeMap::from([(
            launch::APP_BINARY.to_string(),
            LocalResource::file(
                format!("{base}{bin_path}"),
                st.length as i64,
                st.modification_time as i64,
            ),
        )]),
        num_executors: s.executors,
        executor_cores: s.cores,
        executor_memory_mb: s.executor_memory_mb,
        executor_memory_overhead_mb: s.overhead_mb,
        conf: s.conf,
        driver_url: None,
        user: user(),
        keytab: None,
    };
    let submission = Submission {
        launch: am,
        scheduling: Scheduling {
            max_app_attempts: s.max_attempts,
            queue: s.queue,
            ..Default::default()
        },
        am_resource: Resource {
            memory_mb: 256,
            vcores: 1,
        },
        args: s.args,
    };
    let mut ctx = submission.context(app, random_secret());
    ctx.am_container.environment.extend(s.env);
    rest.submit(&ctx).await.unwrap();
    App {
        id: app,
        rest,
        staging,
    }
}

/// Waits for the final state.
async fn wait_final(app: &App, within: Duration) -> AppReport {
    poll(&format!("{} final", app.id), within, async || {
        let r = app.rest.app(app.id).await.unwrap();
        if r.state.is_final() { Ok(r) } else { Err(r) }
    })
    .await
}

/// The AM container's `launch_container.sh` while it runs, from the NodeManagers' directories
/// (under the cluster's work dir, the parent of its log dir); `None` for a cluster whose disks
/// the test cannot see.
/// Waits for `app`'s end (30 s at most) and asserts that it succeeded and, while its driver's
/// stdout is still on the NodeManager, that the driver printed `checks`; returns the AM's log.
async fn assert_passed(h: &MiniHadoop, app: &App, checks: &str) -> String {
    let r = wait_final(app, Duration::from_secs(30)).await;
    let log = am_log(h, app.id);
    assert_eq!(
        (r.state.as_str(), status(&r).as_str()),
        ("FINISHED", "SUCCEEDED"),
        "{r:?}\n{log}"
    );
    let out = container_files(h, app.id, "stdout");
    if !out.is_empty() {
        assert!(out.contains(checks), "{out}\n{log}");
    }
    log
}

fn am_launch_script(h: &MiniHadoop, app: ApplicationId) -> Option<String> {
    let root = h
        .work_dir()
        .or_else(|| h.log_dir().and_then(std::path::Path::parent))?;
    let needle = format!(
        "{}_01_000001",
        app.to_string().trim_start_matches("application_")
    );
    let mut app_dir_seen = false;
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                app_dir_seen |= p.file_name().is_some_and(|f| *f == *app.to_string());
                stack.push(p);
            } else if p.file_name().is_some_and(|f| f == "launch_container.sh")
                && p.to_string_lossy().contains(&needle)
            {
                return std::fs::read_to_string(&p).ok();
            }
        }
    }
    // The application's container directories are not on this machine (another cluster).
    app_dir_seen.then(String::new)
}

/// The AM's stderr, wherever the NodeManagers keep container logs.
fn am_log(h: &MiniHadoop, app: ApplicationId) -> String {
    container_files(h, app, "stderr")
}

/// The application's containers' `file` (`stdout`, `stderr`), each after a `==` line naming it;
/// empty when the cluster's work dir is not known.
fn container_files(h: &MiniHadoop, app: ApplicationId, file: &str) -> String {
    let Some(root) = h.work_dir() else {
        return String::new();
    };
    let needle = app.to_string();
    let mut out = String::new();
    for p in find_files(root, file) {
        if p.to_string_lossy().contains(&needle) {
            out.push_str(&format!("== {}\n", p.display()));
            out.push_str(&std::fs::read_to_string(&p).unwrap_or_default());
        }
    }
    out
}

fn status(r: &AppReport) -> String {
    format!("{:?}", r.final_status).to_uppercase()
}

async fn staging_exists(h: &MiniHadoop, app: &App) -> bool {
    let path = app
        .staging
        .trim_start_matches(h.fs_uri().trim_end_matches('/'));
    hdfs_client(h).get_file_info(path).await.is_ok()
}

/// The AM removes the staging directory right after it unregisters, so a
/// client may see the final status a moment before: wait up to 10 s.
async fn staging_removed(h: &MiniHadoop, app: &App) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while staging_exists(h, app).await {
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    true
}

const TEXT: &str = "the quick brown fox jumps over the lazy dog\nthe dog sleeps\n";

/// Where [`wordcount_input`] writes for `tag`.
fn input_dir(tag: &str) -> String {
    format!("/tmp/yarn-am-{tag}-{}", std::process::id())
}

/// Removes a passed test's input and output (a shared or external cluster keeps them otherwise).
async fn remove_input(h: &MiniHadoop, tag: &str) {
    let _ = hdfs_client(h).delete(&input_dir(tag), true).await;
}

/// Writes `copies` of TEXT as the input; returns (input uri, output uri).
async fn wordcount_input(h: &MiniHadoop, tag: &str, copies: usize) -> (String, String) {
    let fs = hdfs_client(h);
    let dir = input_dir(tag);
    let _ = fs.delete(&dir, true).await;
    let text = TEXT.repeat(copies);
    hdfs_put(&fs, &format!("{dir}/in/a.txt"), text.as_bytes()).await;
    hdfs_put(&fs, &format!("{dir}/in/b.txt"), text.as_bytes()).await;
    let base = h.fs_uri().trim_end_matches('/');
    (format!("{base}{dir}/in"), format!("{base}{dir}/out"))
}

/// Checks the output with Hadoop's Java FileSystem: `_SUCCESS`, and the counts of TEXT.
fn check_wordcount_output(out: &str, copies: u64) {
    check_wordcount_output_on(hadoop(), out, copies)
}

/// [`check_wordcount_output`] on a cluster of a test's own.
fn check_wordcount_output_on(h: &MiniHadoop, out: &str, copies: u64) {
    let listing = java_peer_on_ok(h, "dev.spindle.peers.FsCatDir", &[out]);
    assert!(listing.contains("file _SUCCESS"), "{listing}");
    assert!(!listing.contains("file _temporary"), "{listing}");
    let counts = parse_counts(listing.lines().filter_map(|l| l.strip_prefix("line ")));
    let expected: BTreeMap<String, u64> = count_words(TEXT)
        .into_iter()
        .map(|(w, n)| (w, n * 2 * copies))
        .collect();
    assert_eq!(counts, expected);
}

#[tokio::test(flavor = "multi_thread")]
async fn wordcount_in_cluster_mode_output_read_by_java() {
    let h = hadoop();
    let _logs = h.log_guard();
    let (input, out) = wordcount_input(h, "wc", 50).await;
    let app = submit(
        h,
        Submit::new("yarn-am-wordcount", vec![input, out.clone()]),
    )
    .await;
    let r = wait_final(&app, Duration::from_secs(180)).await;
    assert_eq!(
        (r.state.as_str(), status(&r).as_str()),
        ("FINISHED", "SUCCEEDED"),
        "{r:?}\n{}",
        am_log(h, app.id)
    );
    check_wordcount_output(&out, 50);
    assert!(
        staging_removed(h, &app).await,
        "staging directory left behind"
    );
    let log = am_log(h, app.id);
    if !log.is_empty() {
        assert!(log.contains("registered"), "{log}");
    }
    remove_input(h, "wc").await;
}

/// Every RDD operation of `spindle-testjobs rdd` in one application, each checked in the driver
/// against a plain computation (the driver exits non-zero on the first mismatch): accumulators
/// from executor containers, whole files and checkpoints in HDFS.
#[tokio::test(flavor = "multi_thread")]
async fn rdd_operations_on_yarn_match_local_computations() {
    let h = hadoop();
    let _logs = h.log_guard();
    let dir = input_dir("rdd");
    let _ = hdfs_client(h).delete(&dir, true).await;
    let base = h.fs_uri().trim_end_matches('/').to_string();
    let mut s = Submit::new("yarn-rdd-ops", vec!["rdd".into(), format!("{base}{dir}")]);
    s.binary = "spindle-testjobs";
    let app = submit(h, s).await;
    let r = wait_final(&app, Duration::from_secs(300)).await;
    let log = am_log(h, app.id);
    assert_eq!(
        (r.state.as_str(), status(&r).as_str()),
        ("FINISHED", "SUCCEEDED"),
        "{r:?}\n{log}"
    );
    if !log.is_empty() {
        assert!(log.contains("rdd: all 48 checks passed"), "{log}");
        // The accumulators were checked across a retried task (verbose logs name the failure).
        assert!(
            log.contains("failing the first attempt of partition 3 on purpose"),
            "{log}"
        );
    }
    // What the job wrote to HDFS: the saved text files and one checkpoint directory.
    let text = listing(h, &format!("{base}{dir}/text")).await;
    assert!(text.contains(&"_SUCCESS".to_string()), "{text:?}");
    assert_eq!(
        listing(h, &format!("{base}{dir}/checkpoints")).await.len(),
        1
    );
    remove_input(h, "rdd").await;
}

/// Processes of this application's containers in `role` (`am` or `executor`), by the
/// environment YARN and the AM gave them: (pid, CONTAINER_ID).
fn spindle_processes(app: ApplicationId, role: &str) -> Vec<(u32, String)> {
    container_processes(&app.to_string())
        .into_iter()
        .filter(|p| p.program.ends_with(launch::APP_BINARY) && p.var("SPINDLE_ROLE") == Some(role))
        .map(|p| (p.pid, p.container))
        .collect()
}

/// Waits until the AM reports a stage with running tasks; returns the proxy tracking URL.
async fn wait_for_running_tasks(h: &MiniHadoop, app: &App, within: Duration) -> String {
    poll("a running task", within, async || {
        let r = app.rest.app(app.id).await.unwrap();
        assert!(!r.state.is_final(), "finished too early: {r:?}");
        if !r
            .tracking_url
            .as_deref()
            .is_some_and(|t| t.contains("/proxy/"))
        {
            return Err(r.state);
        }
        let stages = am_api(h, &app.id.to_string(), "stages").ok_or(r.state)?;
        let active = stages
            .as_array()
            .into_iter()
            .flatten()
            .any(|s| s["status"] == "ACTIVE" && s["numActiveTasks"].as_u64().unwrap_or(0) > 0);
        if active {
            Ok(proxy_url(h, &app.id.to_string()))
        } else {
            Err(r.state)
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn executor_killed_mid_job_is_replaced_and_the_job_succeeds() {
    let h = hadoop();
    let _logs = h.log_guard();
    let copies = 1_000_000;
    let (input, out) = wordcount_input(h, "exec-kill", copies).await;
    let app = submit(
        h,
        Submit::new("yarn-am-executor-kill", vec![input, out.clone()]),
    )
    .await;
    wait_for_running_tasks(h, &app, Duration::from_secs(120)).await;
    let execs = spindle_processes(app.id, "executor");
    assert!(!execs.is_empty(), "no executor process found");
    let (pid, container) = &execs[0];
    eprintln!("killing executor pid {pid} in {container}");
    signal(*pid, "9");
    // The AM sees the container end, tells the engine and starts a replacement.
    let mut seen_lost = None;
    let mut seen_replacement = false;
    let r = poll("the end", Duration::from_secs(120), async || {
        if let Some(list) = am_api(h, &app.id.to_string(), "executors") {
            let list = list.as_array().cloned().unwrap_or_default();
            if let Some(lost) = list
                .iter()
                .find(|e| e["containerId"] == container.as_str() && e["state"] == "lost")
            {
                seen_lost = Some(lost.clone());
            }
            seen_replacement |= list.len() >= 3;
        }
        let r = app.rest.app(app.id).await.unwrap();
        if r.state.is_final() { Ok(r) } else { Err(r) }
    })
    .await;
    assert_eq!(status(&r), "SUCCEEDED", "{r:?}\n{}", am_log(h, app.id));
    if let Some(lost) = &seen_lost {
        let reason = lost["removeReason"].as_str().unwrap_or_default();
        assert!(reason.contains("exit status 137"), "{lost}");
    }
    assert!(
        seen_lost.is_some() || seen_replacement,
        "the AM never reported the killed executor\n{}",
        am_log(h, app.id)
    );
    check_wordcount_output(&out, copies as u64);
    assert!(staging_removed(h, &app).await);
    remove_input(h, "exec-kill").await;
}

/// The output directory's names in HDFS, sorted.
async fn listing(h: &MiniHadoop, dir: &str) -> Vec<String> {
    let path = dir.trim_start_matches(h.fs_uri().trim_end_matches('/'));
    let mut names: Vec<String> = hdfs_client(h)
        .list_status(path, false)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|s| s.path.rsplit('/').next().unwrap_or_default().to_string())
        .collect();
    names.sort();
    names
}

/// The AM of attempt 1 is killed after its save began (the output directory is there, marked as
/// this application's): attempt 2 replaces that partial output with a complete one.
#[tokio::test(flavor = "multi_thread")]
async fn am_killed_second_attempt_succeeds() {
    let h = hadoop();
    let _logs = h.log_guard();
    let copies = 1_000_000;
    let (input, out) = wordcount_input(h, "am-kill", copies).await;
    let mut s = Submit::new("yarn-am-am-kill", vec![input, out.clone()]);
    s.max_attempts = Some(2);
    let app = submit(h, s).await;
    wait_for_running_tasks(h, &app, Duration::from_secs(120)).await;
    // wordcount's only job is its save: the output is there, with its owner marker.
    let begun = listing(h, &out).await;
    assert!(begun.iter().any(|n| n == "_spindle_owner"), "{begun:?}");
    let ams = spindle_processes(app.id, "am");
    assert_eq!(ams.len(), 1, "{ams:?}");
    let (pid, container) = &ams[0];
    assert!(container.ends_with("_01_000001"), "{container}");
    eprintln!("killing AM pid {pid} in {container}");
    signal(*pid, "9");
    let r = wait_final(&app, Duration::from_secs(240)).await;
    assert_eq!(status(&r), "SUCCEEDED", "{r:?}\n{}", am_log(h, app.id));
    let attempts = app.rest.attempts(app.id).await.unwrap();
    assert_eq!(attempts.len(), 2, "{attempts:?}");
    check_wordcount_output(&out, copies as u64);
    let done = listing(h, &out).await;
    assert!(!done.iter().any(|n| n == "_spindle_owner"), "{done:?}");
    assert!(staging_removed(h, &app).await);
    remove_input(h, "am-kill").await;
}

/// A directory the application did not make survives every attempt: attempt 1 is killed during
/// a job before its save, attempt 2 reaches the save, finds a user's directory there and fails
/// the application naming the path; the user's file is kept byte for byte.
#[tokio::test(flavor = "multi_thread")]
async fn am_killed_before_its_save_never_removes_a_users_directory() {
    let h = hadoop();
    let _logs = h.log_guard();
    let (input, out) = wordcount_input(h, "am-kill-user-dir", 1_000_000).await;
    let out_path = out.trim_start_matches(h.fs_uri().trim_end_matches('/'));
    let precious: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    hdfs_put(
        &hdfs_client(h),
        &format!("{out_path}/precious.bin"),
        &precious,
    )
    .await;
    let args = vec!["count-then-save".to_string(), input, out.clone()];
    let mut s = Submit::new("yarn-am-user-dir", args);
    s.binary = "spindle-testjobs";
    s.max_attempts = Some(2);
    let app = submit(h, s).await;
    wait_for_running_tasks(h, &app, Duration::from_secs(120)).await;
    let ams = spindle_processes(app.id, "am");
    assert_eq!(ams.len(), 1, "{ams:?}");
    signal(ams[0].0, "9");
    let r = wait_final(&app, Duration::from_secs(240)).await;
    let log = am_log(h, app.id);
    assert_eq!(status(&r), "FAILED", "{r:?}\n{log}");
    assert_eq!(app.rest.attempts(app.id).await.unwrap().len(), 2);
    let why = format!("output path already exists: {out}");
    assert!(r.diagnostics.contains(&why), "{r:?}\n{log}");
    assert_eq!(listing(h, &out).await, vec!["precious.bin".to_string()]);
    let parent = out.rsplit_once('/').unwrap().0;
    let beside = listing(h, parent).await;
    assert!(!beside.iter().any(|n| n.contains("spindle")), "{beside:?}");
    let kept = hdfs_read(&hdfs_client(h), &format!("{out_path}/precious.bin")).await;
    assert_eq!(kept, precious);
    remove_input(h, "am-kill-user-dir").await;
}

/// The AM removes only `<home>/.spindleStaging/<its application id>`: a staging directory named
/// by the environment that is anything else is refused, and what is there survives.
#[tokio::test(flavor = "multi_thread")]
async fn am_refuses_a_staging_directory_that_is_not_its_own() {
    let h = hadoop();
    let _logs = h.log_guard();
    let (input, out) = wordcount_input(h, "staging-refused", 1).await;
    let dir = format!("{}/keep", input_dir("staging-refused"));
    hdfs_put(&hdfs_client(h), &format!("{dir}/file.txt"), b"keep me").await;
    let base = h.fs_uri().trim_end_matches('/');
    let mut s = Submit::new("yarn-am-staging-refused", vec![input, out]);
    s.env
        .push((launch::STAGING_DIR.into(), format!("{base}{dir}")));
    let app = submit(h, s).await;
    let r = wait_final(&app, Duration::from_secs(120)).await;
    let log = am_log(h, app.id);
    assert_eq!(status(&r), "FAILED", "{r:?}\n{log}");
    // The NodeManager puts the tail of the AM's stderr into the diagnostics.
    let why = &r.diagnostics;
    assert!(
        why.contains("refusing") && why.contains(&dir),
        "{r:?}\n{log}"
    );
    assert_eq!(listing(h, &dir).await, vec!["file.txt".to_string()]);
    // The real staging directory was never named to the AM: the test removes it.
    let staging = app.staging.trim_start_matches(base);
    hdfs_client(h).delete(staging, true).await.unwrap();
    remove_input(h, "staging-refused").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_application_leaves_no_containers_and_no_staging() {
    let h = hadoop();
    let _logs = h.log_guard();
    let copies = 1_000_000;
    let (input, out) = wordcount_input(h, "kill", copies).await;
    let app = submit(h, Submit::new("yarn-am-kill", vec![input, out.clone()])).await;
    wait_for_running_tasks(h, &app, Duration::from_secs(120)).await;
    assert!(!spindle_processes(app.id, "executor").is_empty());
    assert!(staging_exists(h, &app).await);
    let state = app.rest.kill(app.id).await.unwrap();
    eprintln!("kill answered {state:?}");
    let r = wait_final(&app, Duration::from_secs(60)).await;
    assert_eq!(r.state.as_str(), "KILLED", "{r:?}");
    // Every container process ends, and the AM removed the staging directory on SIGTERM.
    poll(
        "no container process",
        Duration::from_secs(30),
        async || {
            let left: Vec<_> = ["am", "executor"]
                .iter()
                .flat_map(|role| spindle_processes(app.id, role))
                .collect();
            if left.is_empty() { Ok(()) } else { Err(left) }
        },
    )
    .await;
    assert!(
        staging_removed(h, &app).await,
        "staging directory left behind\n{}",
        am_log(h, app.id)
    );
    // No job output was committed.
    let listing = java_peer_ok("dev.spindle.peers.FsCatDir", &[&out]);
    assert!(!listing.contains("file _SUCCESS"), "{listing}");
    remove_input(h, "kill").await;
}

/// A GET that does not follow redirects, from a chosen local address (or the route's).
async fn get_from(local: Option<&str>, url: &str) -> (u16, Option<String>, String) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .local_address(local.map(|l| l.parse::<std::net::IpAddr>().unwrap()))
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let r = client.get(url).send().await.unwrap();
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string());
    (status, location, r.text().await.unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread")]
async fn web_ui_through_the_rm_proxy_and_direct_requests_redirected() {
    let h = hadoop();
    let _logs = h.log_guard();
    // Long enough to outlast a browser's start on a loaded machine and the checks below.
    let copies = 2_000_000;
    let (input, out) = wordcount_input(h, "ui", copies).await;
    let mut s = Submit::new("yarn-am-web-ui", vec![input, out.clone()]);
    s.conf
        .insert("spindle.test.password".into(), "hunter2-not-shown".into());
    let app = submit(h, s).await;
    let proxy = wait_for_running_tasks(h, &app, Duration::from_secs(120)).await;

    // A real browser through the proxy: the stages page renders with its table. First,
    // while the job surely runs (a browser starts slowly on a loaded machine).
    let shots = spindle_tests::repo_root().join("target").join("yarn-ui");
    std::fs::create_dir_all(&shots).unwrap();
    let shot = shots.join("stages.png");
    let dom = spindle_tests::chromium(&format!("{proxy}stages"), &shot);
    let state = app.rest.app(app.id).await.unwrap().state;
    assert!(
        dom.contains("<table>") && dom.contains("Stages"),
        "application {state:?} after the browser ran; page: {dom}"
    );
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 5000,
        "screenshot {}",
        shot.display()
    );
    println!(
        "screenshot of the AM's stages page through the RM proxy: {}",
        shot.display()
    );

    // Pages through the real RM proxy, with relative links only.
    let (status, _, jobs) = get_from(None, &proxy).await;
    assert_eq!(status, 200, "{jobs}");
    assert!(jobs.contains("save_as_text_file"), "{jobs}");
    for link in [
        "href=\"jobs\"",
        "href=\"stages\"",
        "href=\"executors\"",
        "href=\"environment\"",
    ] {
        assert!(jobs.contains(link), "{link} missing: {jobs}");
    }
    assert!(!jobs.contains("href=\"/"), "absolute link: {jobs}");
    let (status, _, env_page) = get_from(None, &format!("{proxy}environment")).await;
    assert_eq!(status, 200);
    assert!(env_page.contains("spindle.executor.memory"), "{env_page}");
    assert!(!env_page.contains(launch::SECRET_ALIAS), "{env_page}");
    // A --conf secret reached the AM (through its credentials) and is shown redacted.
    assert!(env_page.contains("spindle.test.password"), "{env_page}");
    assert!(env_page.contains("*********(redacted)"), "{env_page}");
    assert!(!env_page.contains("hunter2"), "{env_page}");
    if let Some(script) = am_launch_script(h, app.id) {
        assert!(
            script.contains("SPINDLE_CONF"),
            "no AM launch script: {script}"
        );
        assert!(
            !script.contains("hunter2") && !script.contains(&hex(b"hunter2")),
            "{script}"
        );
    }

    // Executors with links to their container logs on the NodeManagers.
    let execs = am_api(h, &app.id.to_string(), "executors").expect("executors API");
    let execs = execs.as_array().unwrap().clone();
    assert_eq!(execs.len(), 2, "{execs:?}");
    for e in &execs {
        let stderr = e["executorLogs"]["stderr"].as_str().unwrap();
        assert!(stderr.contains("/node/containerlogs/container_"), "{e}");
        let (status, _, body) = get_from(None, stderr).await;
        assert_eq!(status, 200, "{stderr}: {body}");
    }
    let env = am_api(h, &app.id.to_string(), "environment").unwrap();
    assert!(
        env["spindleProperties"].as_array().unwrap().len() > 5,
        "{env}"
    );

    // Direct requests: from the proxy host's address they are served; from any other
    // address they get AmIpFilter's 302 to <proxy>/proxy/redirect/<appId>/<path>. When the
    // RM runs on this machine (loopback), 127.0.0.1 is the proxy host and 127.0.0.2 another;
    // on a cluster elsewhere, this machine is another host.
    let report = app.rest.app(app.id).await.unwrap();
    let am_addr = report.am_rpc_address.clone().expect("AM address");
    let direct = format!("http://{am_addr}/stages?x=1");
    let rm_is_local = h
        .rm_url()
        .trim_start_matches("http://")
        .to_socket_addrs()
        .unwrap()
        .all(|a| a.ip().is_loopback());
    let mut other = None;
    if rm_is_local {
        let (status, _, _) = get_from(Some("127.0.0.1"), &direct).await;
        assert_eq!(status, 200);
        other = Some("127.0.0.2");
    }
    let (status, location, _) = get_from(other, &direct).await;
    assert_eq!(status, 302);
    let location = location.expect("Location");
    assert!(
        location.ends_with(&format!("/proxy/redirect/{}/stages?x=1", app.id)),
        "{location}"
    );
    let rm_port = h.rm_url().rsplit(':').next().unwrap().trim_end_matches('/');
    assert!(location.contains(&format!(":{rm_port}/")), "{location}");

    // The AM stays small.
    let ams = spindle_processes(app.id, "am");
    if let Some((pid, _)) = ams.first() {
        println!("AM RSS: {} kB", rss_kb(*pid));
    }
    let r = wait_final(&app, Duration::from_secs(180)).await;
    assert_eq!(self::status(&r), "SUCCEEDED", "{r:?}");
    // Once the AM is gone, the tracking URL leads to the RM's page of the application, not
    // to the AM's dead address.
    let (status, location, _) = get_from(None, &proxy).await;
    let location = location.unwrap_or_default();
    assert!(
        status == 302 && location.ends_with(&format!("/cluster/app/{}", app.id)),
        "{status} {location}"
    );
    remove_input(h, "ui").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn peers_without_the_application_secret_are_refused() {
    use spindle_proto::spindle::driver_client::DriverClient;
    use spindle_proto::spindle::executor_client::ExecutorClient;
    use spindle_proto::spindle::{CancelRequest, FetchRequest, HeartbeatRequest, TaskRequest};
    let h = hadoop();
    let _logs = h.log_guard();
    let copies = 1_000_000;
    let (input, out) = wordcount_input(h, "secret", copies).await;
    let app = submit(h, Submit::new("yarn-am-secret", vec![input, out.clone()])).await;
    wait_for_running_tasks(h, &app, Duration::from_secs(120)).await;
    let (pid, _) = spindle_processes(app.id, "executor")
        .into_iter()
        .next()
        .expect("an executor");
    // The secret reaches the executor in its credentials file only: not in its environment.
    let env = environ(pid);
    assert!(
        !env.iter().any(|v| v.starts_with("SPINDLE_APP_SECRET")),
        "{env:?}"
    );
    let var = |k: &str| {
        env.iter()
            .find_map(|v| v.strip_prefix(&format!("{k}=")))
            .unwrap_or_else(|| panic!("{k} not in the executor's environment"))
            .to_string()
    };
    let driver_url = var("SPINDLE_DRIVER_URL");
    // Read through the process's own root: on a containerized cluster it has its own.
    let token_file = var("HADOOP_TOKEN_FILE_LOCATION");
    let tokens = match token_file.strip_prefix('/') {
        Some(abs) => PathBuf::from(format!("/proc/{pid}/root")).join(abs),
        None => PathBuf::from(format!("/proc/{pid}/cwd")).join(&token_file),
    };
    let creds = Credentials::read_file(&tokens).unwrap();
    let secret = spindle_am::secret::from_credentials(&creds).unwrap();
    assert!(
        creds.token_of_kind("YARN_AM_RM_TOKEN").is_none(),
        "AMRMToken given to an executor"
    );
    assert!(
        !env.iter().any(|v| v.contains(secret.expose())),
        "secret in the environment"
    );
    // Encrypted by default, and every connection must prove it holds the secret
    // before its first call: a plain gRPC client (what any peer could do before),
    // a wrong secret, and the right secret without encryption are all refused,
    // while the same call with the application's keys is answered.
    use spindle_core::net::{Security, channel, parse_url};
    let (encrypted, driver_addr) = parse_url(&driver_url).unwrap();
    assert!(encrypted, "not encrypted by default: {driver_url}");
    let wrong = spindle_core::auth::Secret::parse(&"0".repeat(64)).unwrap();
    let ours = Security::new(&secret, true).unwrap();
    let others = [
        ("a wrong secret", Security::new(&wrong, true).unwrap()),
        ("no encryption", Security::new(&secret, false).unwrap()),
    ];
    let plain = |addr: &str| {
        tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect_lazy()
    };
    let hb = HeartbeatRequest {
        executor_id: "intruder".into(),
    };

    // The driver (in the AM).
    let r = DriverClient::new(plain(driver_addr))
        .heartbeat(hb.clone())
        .await;
    assert!(r.is_err(), "a plain gRPC client was answered: {r:?}");
    for (what, s) in &others {
        let r = DriverClient::new(channel(driver_addr, s).unwrap())
            .heartbeat(hb.clone())
            .await;
        assert!(r.is_err(), "{what}: answered: {r:?}");
    }
    let known = DriverClient::new(channel(driver_addr, &ours).unwrap())
        .heartbeat(hb)
        .await
        .unwrap();
    assert!(!known.get_ref().known);

    // The executor, which listens on its NodeManager's host: the same rule.
    let host = var("NM_HOST");
    let ports = listening_ports(pid);
    assert!(!ports.is_empty(), "the executor listens on no port");
    let cancel = CancelRequest { job_id: u64::MAX };
    let mut tried = 0;
    for port in ports {
        let addr = format!("{host}:{port}");
        let Ok(mut exec) = channel(&addr, &ours).map(ExecutorClient::new) else {
            continue;
        };
        if exec.cancel_job(cancel).await.is_err() {
            continue; // not the executor service
        }
        let r = ExecutorClient::new(plain(&addr)).cancel_job(cancel).await;
        assert!(
            r.is_err(),
            "{addr}: a plain gRPC client was answered: {r:?}"
        );
        let r = ExecutorClient::new(plain(&addr))
            .run_task(TaskRequest::default())
            .await;
        assert!(r.is_err(), "{addr}: a task ran without the secret");
        for (what, s) in &others {
            let mut exec = ExecutorClient::new(channel(&addr, s).unwrap());
            let r = exec.cancel_job(cancel).await;
            assert!(r.is_err(), "{addr}: {what}: answered: {r:?}");
            let fetch = FetchRequest {
                shuffle_id: 0,
                map_ids: vec![0],
                reduce_id: 0,
            };
            assert!(exec.fetch_shuffle(fetch).await.is_err(), "{addr}: {what}");
        }
        tried += 1;
    }
    assert!(
        tried >= 1,
        "no executor service found on the executor's ports"
    );

    // The application is unharmed.
    let r = wait_final(&app, Duration::from_secs(180)).await;
    assert_eq!(status(&r), "SUCCEEDED", "{r:?}");
    check_wordcount_output(&out, copies as u64);
    remove_input(h, "secret").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wordcount_in_client_mode_driver_here_executors_in_yarn() {
    let h = hadoop();
    let _logs = h.log_guard();
    let copies = 2_000;
    let (input, out) = wordcount_input(h, "client", copies).await;
    let bin = binary("wordcount");
    // Started by hand, the driver stages itself through the binary cache `spindle submit` uses:
    // the cached copy is removed first, so finding it afterwards shows this run put it there.
    let (sha, len) = spindle_contract::staging::sha256_of(&bin).await.unwrap();
    let cached = format!("/user/{}/.spindleStaging/cache/{sha}", user());
    let _ = hdfs_client(h).delete(&cached, false).await;
    let started = Instant::now();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(bin)
            .args([&input, &out])
            .env("SPINDLE_MASTER", "yarn")
            .env("HADOOP_CONF_DIR", hadoop().conf_dir())
            .env(launch::APP_NAME, "yarn-am-client-mode")
            .env(launch::NUM_EXECUTORS, "2")
            .env(launch::EXECUTOR_MEMORY_MB, "128")
            .env(launch::EXECUTOR_MEMORY_OVERHEAD_MB, "64")
            .env_remove("SPINDLE_ROLE")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "driver failed: {stderr}");
    // Encrypted by default (the AM asks this driver how the application ended
    // over the same channel).
    assert!(stderr.contains("executors connect to https://"), "{stderr}");
    eprintln!("client mode took {:?}", started.elapsed());
    let app_id: ApplicationId = stderr
        .split_whitespace()
        .find(|w| w.starts_with("application_"))
        .unwrap_or_else(|| panic!("no application id in: {stderr}"))
        .parse()
        .unwrap();
    let r = rest_client(h).app(app_id).await.unwrap();
    assert_eq!(
        (r.state.as_str(), status(&r).as_str()),
        ("FINISHED", "SUCCEEDED"),
        "{r:?}\n{}",
        am_log(h, app_id)
    );
    check_wordcount_output(
        &format!(
            "{}{}/out",
            h.fs_uri().trim_end_matches('/'),
            input_dir("client")
        ),
        copies as u64,
    );
    let staging = format!("/user/{}/.spindleStaging/{app_id}", user());
    assert!(
        hdfs_client(h).get_file_info(&staging).await.is_err(),
        "staging left"
    );
    let st = hdfs_client(h)
        .get_file_info(&cached)
        .await
        .unwrap_or_else(|e| panic!("the driver did not stage itself into {cached}: {e}"));
    assert_eq!(st.length as u64, len, "{cached}");
    remove_input(h, "client").await;
}

/// Memory on a mini-Hadoop whose NodeManager kills containers over their physical memory
/// (`deploy/mini-hadoop --pmem-check`; the shared cluster keeps monitoring off), two applications
/// on one cluster:
///
/// 1. Item 4 of issue 20: a spill-heavy soak (`spindle-testjobs memory-soak`: group-by over skewed
///    keys of a cached input larger than the executors' memory, three rounds) in containers of
///    128 + 32 MB with two task slots each, whose budgets by estimate (half the memory for cached
///    blocks, a quarter per task for aggregation) overshoot the container. The executors watch
///    their resident memory, spill and drop cached blocks before the limit: no -104 kill, no
///    executor failure, the right groups every round, and the watch did act.
/// 2. An executor over its container's memory through one 150 MB line (nothing to spill): the
///    NodeManager kills it (-104, "... of ... physical memory used") and the AM's diagnostics name
///    the settings to raise. One NodeManager, so after two kills every node is excluded and the
///    application fails at once.
#[tokio::test(flavor = "multi_thread")]
async fn executor_over_its_memory_fails_naming_the_setting_and_a_spill_soak_stays_below_it() {
    let m = OwnCluster::start("pmem", 1, &["--pmem-check"]);
    let h = m.get();
    let _logs = h.log_guard();

    let started = Instant::now();
    let mut s = Submit::new(
        "yarn-memory-soak",
        vec!["memory-soak".into(), "1000000".into(), "3".into()],
    );
    s.binary = "spindle-testjobs";
    s.executors = 2;
    s.cores = 2;
    s.executor_memory_mb = 128;
    s.overhead_mb = 32;
    let app = submit(h, s).await;
    let r = wait_final(&app, Duration::from_secs(240)).await;
    let log = am_log(h, app.id);
    let out = container_files(h, app.id, "stdout");
    eprintln!("memory soak: {:?}", started.elapsed());
    assert_eq!(
        (r.state.as_str(), status(&r).as_str()),
        ("FINISHED", "SUCCEEDED"),
        "{r:?}\n{log}"
    );
    assert!(
        out.contains("memory-soak: all 3 checks passed"),
        "{out}\n{log}"
    );
    assert!(
        !log.contains("physical memory") && !log.contains("-104"),
        "an executor was killed for its memory:\n{log}"
    );
    assert!(
        !log.contains(") ended: "),
        "an executor ended early:\n{log}"
    );
    // The soak is sized so that the budgets alone would pass the container: the watch acted.
    assert!(log.contains("memory pressure: resident"), "{log}");
    for line in log.lines().filter(|l| l.contains("peak resident memory")) {
        eprintln!("{line}");
        let mib: Vec<u64> = line
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        assert!(mib.len() >= 2 && mib[0] < mib[1], "{line}");
    }

    // One 150 MB line: the executor that reads it holds far more than its 96 MB container.
    let fs = hdfs_client(h);
    let line = vec![b'a'; 150 << 20];
    hdfs_put(&fs, "/tmp/pmem/in/line.txt", &line).await;
    drop(line);
    let base = h.fs_uri().trim_end_matches('/');
    let mut s = Submit::new(
        "yarn-am-pmem",
        vec![
            format!("{base}/tmp/pmem/in"),
            format!("{base}/tmp/pmem/out"),
        ],
    );
    s.executors = 1;
    s.executor_memory_mb = 64;
    s.overhead_mb = 32;
    s.conf
        .insert("spindle.executor.maxFailures".into(), "2".into());
    let app = submit(h, s).await;
    let r = wait_final(&app, Duration::from_secs(240)).await;
    eprintln!("diagnostics: {}", r.diagnostics);
    assert_eq!(status(&r), "FAILED", "{r:?}");
    assert!(
        r.diagnostics.contains("physical memory")
            && r.diagnostics.contains("spindle.executor.memoryOverhead")
            && r.diagnostics.contains("--executor-memory"),
        "{}",
        r.diagnostics
    );
    // Typed: MEMORY_LIMIT (exit code 8) in the RM's diagnostics and `status --json`, with the
    // NodeManager's figures and the container's settings.
    assert!(
        r.diagnostics.starts_with("[MEMORY_LIMIT] ")
            && r.diagnostics.contains("MB physical memory used")
            && r.diagnostics
                .contains("--executor-memory 64m + spindle.executor.memoryOverhead 32m"),
        "{}",
        r.diagnostics
    );
    let st = spindle_command(h.conf_dir())
        .args(["status", "--json", &app.id.to_string()])
        .output()
        .unwrap();
    let st: serde_json::Value = serde_json::from_slice(&st.stdout).unwrap();
    assert_eq!(
        (&st["reason"], &st["exitCode"]),
        (&"MEMORY_LIMIT".into(), &8.into()),
        "{st}"
    );
    assert!(staging_removed(h, &app).await, "staging left behind");
}

/// The ResourceManager restarted in place while a job runs (work-preserving recovery, state in a
/// FileSystemRMStateStore): the real RM answers the AM's next heartbeat with "not registered",
/// the AM registers again and asks again; its executors keep running; an executor killed after
/// the restart is replaced by a container from the new RM; the unregistration reaches the new RM,
/// so there is no second attempt, and the answer is right.
#[tokio::test(flavor = "multi_thread")]
async fn rm_restarted_mid_job_am_registers_again_and_the_job_succeeds() {
    let own = OwnCluster::start("rm-restart", 2, &["--rm-recovery"]);
    let h = own.get();
    let _logs = h.log_guard();
    let copies = 1_000_000;
    let (input, out) = wordcount_input(h, "rm-restart", copies).await;
    let mut s = Submit::new("yarn-am-rm-restart", vec![input, out.clone()]);
    // A lost unregistration would show as a second attempt.
    s.max_attempts = Some(2);
    let app = submit(h, s).await;
    wait_for_running_tasks(h, &app, Duration::from_secs(120)).await;
    let executors_before = spindle_processes(app.id, "executor");
    assert!(!executors_before.is_empty());
    let started = Instant::now();
    h.restart_resource_manager();
    eprintln!("ResourceManager restarted in {:?}", started.elapsed());

    // Work-preserving: the executors did not stop.
    let executors_after = spindle_processes(app.id, "executor");
    for e in &executors_before {
        assert!(
            executors_after.contains(e),
            "executor {e:?} did not survive the RM restart: {executors_after:?}"
        );
    }
    let r = app.rest.app(app.id).await.unwrap();
    assert!(
        !r.state.is_final(),
        "finished before the restart was over; grow the input: {r:?}"
    );
    // An executor lost now is replaced with a container of the restarted RM: the AM's asks
    // reached it after registering again.
    let (pid, container) = executors_after[0].clone();
    eprintln!("killing executor pid {pid} in {container}");
    signal(pid, "9");
    let mut replacement = None;
    let r = poll("the end", Duration::from_secs(120), async || {
        let r = app.rest.app(app.id).await.unwrap();
        if replacement.is_none() {
            // Containers of a restarted RM carry its epoch: container_e01_...
            replacement = spindle_processes(app.id, "executor")
                .into_iter()
                .find(|(_, c)| c.starts_with("container_e"));
        }
        if r.state.is_final() { Ok(r) } else { Err(r) }
    })
    .await;
    let log = am_log(h, app.id);
    assert_eq!(
        (r.state.as_str(), status(&r).as_str()),
        ("FINISHED", "SUCCEEDED"),
        "{r:?}\n{log}"
    );
    assert!(log.contains("registered again"), "{log}");
    let attempts = app.rest.attempts(app.id).await.unwrap();
    assert_eq!(attempts.len(), 1, "{attempts:?}\n{log}");
    assert!(
        replacement.is_some(),
        "no executor in a container of the restarted RM (container_e..)\n{log}"
    );
    eprintln!("replacement executor: {replacement:?}");
    check_wordcount_output_on(h, &out, copies as u64);
    assert!(staging_removed(h, &app).await, "staging left behind");

    // The unregistration across a restart: an (unmanaged) AM registers, the RM restarts, the
    // real RM refuses finishApplicationMaster as "not registered", and the AM's unregister
    // routine registers again and gets the final status recorded.
    let (id, _token, am) = registered_am(h, "yarn-am-unmanaged-rm-restart").await;
    h.restart_resource_manager();
    let err = am
        .finish(FinalStatus::Succeeded, "", "")
        .await
        .expect_err("the restarted RM does not know the AM as registered");
    assert!(yarn::is_not_registered(&err), "{err}");
    assert!(
        spindle_am::runtime::unregister(
            &am,
            FinalStatus::Succeeded,
            "done after an RM restart",
            "",
            Duration::from_secs(60)
        )
        .await
    );
    // The RM confirmed once the final state was stored; the app reaches it a moment later.
    let r = wait_final(
        &App {
            id,
            rest: app.rest,
            staging: String::new(),
        },
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(
        (r.state.as_str(), status(&r).as_str()),
        ("FINISHED", "SUCCEEDED"),
        "{r:?}"
    );
}

/// The resource-request table as the real RM keeps it: asks of one priority sent together share
/// one line per node, rack and `*` with summed counts, and a name sent again with 0 clears its
/// line. The ask can never be granted (a node and a rack that do not exist, no fallback to `*`),
/// so the RM's REST report shows it as sent.
#[tokio::test(flavor = "multi_thread")]
async fn locality_asks_reach_the_rm_as_one_table_and_zero_clears_a_line() {
    let h = hadoop();
    let _logs = h.log_guard();
    let (id, _token, am) = registered_am(h, "yarn-am-unmanaged-locality").await;
    let res = Resource {
        memory_mb: 64,
        vcores: 1,
    };
    let nowhere = |node: &str, count| {
        let mut r = yarn::ContainerRequest::anywhere(res, 7, count);
        r.nodes = vec![node.to_string()];
        r.racks = vec!["/nowhere-rack".into()];
        r.relax_locality = false;
        r
    };
    let lines = |app: &serde_json::Value| -> BTreeMap<String, i64> {
        app["resourceRequests"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| {
                (
                    r["resourceName"].as_str().unwrap_or_default().to_string(),
                    r["numContainers"].as_i64().unwrap_or(-1),
                )
            })
            .collect()
    };
    let app_json = || app_json(h, &id.to_string());
    let ask = yarn::AllocateRequest {
        asks: vec![
            nowhere("nowhere-a.invalid", 2),
            nowhere("nowhere-b.invalid", 1),
        ],
        ..Default::default()
    };
    am.allocate(&ask).await.unwrap();
    let seen = lines(&app_json());
    assert_eq!(seen.get("nowhere-a.invalid"), Some(&2), "{seen:?}");
    assert_eq!(seen.get("nowhere-b.invalid"), Some(&1), "{seen:?}");
    assert_eq!(seen.get("/nowhere-rack"), Some(&3), "{seen:?}");
    assert_eq!(seen.get("*"), Some(&3), "{seen:?}");
    // Host b is no longer wanted: sent with 0, its line goes; a's stays as sent again.
    let ask = yarn::AllocateRequest {
        asks: vec![
            nowhere("nowhere-a.invalid", 2),
            nowhere("nowhere-b.invalid", 0),
        ],
        ..Default::default()
    };
    am.allocate(&ask).await.unwrap();
    let seen = lines(&app_json());
    assert!(
        seen.get("nowhere-b.invalid").is_none_or(|n| *n == 0),
        "{seen:?}"
    );
    assert_eq!(seen.get("nowhere-a.invalid"), Some(&2), "{seen:?}");
    assert_eq!(seen.get("*"), Some(&2), "{seen:?}");
    assert!(am.finish(FinalStatus::Succeeded, "", "").await.is_ok());
}

/// Dynamic allocation (items 1, 2 and 5 of issue 20): one executor at the start, a slow map stage
/// backs tasks up (more executors asked for, 1, 2, 4 at a time up to the maximum), then the
/// executors idle and all but the minimum are given back through the allocate call's release
/// list; their shuffle output and the partitions the map stage cached move to the executor that
/// stays first, so the second action reads every map output where it now is and no map task
/// runs again, and the third reads every cached partition there, none computed again (counted
/// by the driver each time a partition cached before is cached again). The job checks its own
/// counters (`spindle-testjobs elastic`); here the AM's `/api/v1/.../elastic` JSON and the
/// executors list say the same from outside (each executor added for the backlog or initially,
/// each removed one idle with the blocks moved off it), and so does `spindle submit`, which
/// prints each executor added or removed with the reason and a closing summary.
#[tokio::test(flavor = "multi_thread")]
async fn dynamic_allocation_scales_up_and_down_without_recomputing_shuffle_output_or_cached_partitions()
 {
    let h = hadoop();
    let _logs = h.log_guard();
    let dir = tempfile::tempdir().unwrap();
    let client_log = dir.path().join("submit.stderr");
    let testjobs = binary("spindle-testjobs");
    let mut args: Vec<String> = [
        "submit",
        "--master",
        "yarn",
        "--name",
        "yarn-elastic",
        "--num-executors",
        "1",
        "--executor-memory",
        "128m",
        "--driver-memory",
        "192m",
    ]
    .map(String::from)
    .to_vec();
    for kv in [
        "spindle.executor.memoryOverhead=64m",
        "spindle.driver.memoryOverhead=64m",
        "spindle.dynamicAllocation.enabled=true",
        "spindle.dynamicAllocation.minExecutors=1",
        "spindle.dynamicAllocation.maxExecutors=4",
        "spindle.dynamicAllocation.executorIdleTimeout=2s",
        "spindle.dynamicAllocation.cachedExecutorIdleTimeout=2s",
        "spindle.dynamicAllocation.schedulerBacklogTimeout=300ms",
    ] {
        args.extend(["--conf".to_string(), kv.to_string()]);
    }
    args.extend([testjobs.to_string_lossy().to_string(), "elastic".into()]);
    let mut client = spindle_tests::spindle_command(h.conf_dir())
        .args(&args)
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&client_log).unwrap())
        .spawn()
        .unwrap();
    let id: ApplicationId = poll("the application id", Duration::from_secs(120), async || {
        let err = std::fs::read_to_string(&client_log).unwrap_or_default();
        match err
            .split_whitespace()
            .find(|w| w.starts_with("application_"))
            .and_then(|w| w.trim_end_matches([',', ':', ')']).parse().ok())
        {
            Some(id) => Ok(id),
            None => Err(err),
        }
    })
    .await;
    let app = App {
        id,
        rest: rest_client(h),
        staging: String::new(),
    };
    // The AM's view while it runs: the last elastic JSON and executor list it served.
    let (mut elastic, mut executors) = (None, Vec::new());
    let deadline = Instant::now() + Duration::from_secs(240);
    while !ended(&app).await {
        if let Some((e, list)) = elastic_now(h, &app) {
            elastic = Some(e);
            executors = list;
        }
        assert!(
            Instant::now() < deadline,
            "{} did not finish in time",
            app.id
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_passed(h, &app, "elastic: all 12 checks passed").await;
    let code = spindle_tests::wait_exit(&mut client, "spindle submit", Duration::from_secs(60));
    let said = std::fs::read_to_string(&client_log).unwrap();
    assert!(code.success(), "{said}");
    let e = elastic.expect("the AM's elastic JSON answered");
    assert!(e.dynamic_allocation, "{e:?}");
    assert!(
        e.requested_for_backlog >= 1 && e.executors_added >= 2,
        "{e:?}"
    );
    assert!(e.removed_idle >= 1 && e.blocks_migrated > 0, "{e:?}");
    assert_eq!(
        (e.maps_recomputed, e.outputs_lost, e.executor_failures),
        (0, 0, 0),
        "{e:?}"
    );
    // The map stage's cached partitions on the executors given back moved too, and the third
    // action computed none of them again.
    assert!(
        e.cached_blocks_migrated > 0 && e.cached_bytes_migrated > 0,
        "{e:?}"
    );
    assert_eq!((e.cached_blocks_lost, e.cached_recomputed), (0, 0), "{e:?}");
    // The executors given back are shown as removed for being idle, not lost, with the blocks
    // moved off each; the first was asked for at the start, the others for the backlog.
    let list = executors;
    let removed: Vec<_> = list.iter().filter(|x| x.state == "removed").collect();
    assert!(
        !removed.is_empty() && removed.iter().all(|x| x.remove_reason == "idle"),
        "{list:?}"
    );
    assert!(list.iter().all(|x| x.state != "lost"), "{list:?}");
    assert_eq!(
        removed.iter().map(|x| x.blocks_migrated).sum::<u64>(),
        e.blocks_migrated,
        "{list:?}\n{e:?}"
    );
    assert_eq!(
        removed
            .iter()
            .map(|x| x.cached_blocks_migrated)
            .sum::<u64>(),
        e.cached_blocks_migrated,
        "{list:?}\n{e:?}"
    );
    assert!(
        removed
            .iter()
            .all(|x| x.remove_time.is_some_and(|t| t >= x.add_time) && x.add_time > 0),
        "{list:?}"
    );
    assert_eq!(list[0].add_reason, "initial", "{list:?}");
    assert!(
        list[1..].iter().all(|x| x.add_reason == "backlog") && list.len() >= 2,
        "{list:?}"
    );
    assert_eq!((e.removed_lost, e.containers_preempted), (0, 0), "{e:?}");
    // The client said the same as it happened, and summed it up at the end.
    for x in &list[1..] {
        assert!(
            said.contains(&format!("spindle: executor {} added (backlog)", x.id)),
            "{said}"
        );
    }
    for x in &removed {
        let cached = match x.cached_blocks_migrated {
            0 => String::new(),
            n => format!(" and {n} cached partitions"),
        };
        assert!(
            said.contains(&format!(
                "spindle: executor {} removed (idle): {} shuffle blocks{cached} moved",
                x.id, x.blocks_migrated
            )),
            "{said}"
        );
    }
    assert!(
        said.contains(&format!(
            "blocks moved ({} bytes), 0 map outputs lost, 0 map tasks run again; \
             {} cached partitions moved ({} bytes), 0 lost, 0 computed again",
            e.bytes_migrated, e.cached_blocks_migrated, e.cached_bytes_migrated
        )),
        "{said}"
    );
}

/// The AM's elastic JSON and executor list now, if it answers.
fn elastic_now(
    h: &MiniHadoop,
    app: &App,
) -> Option<(
    spindle_contract::api::Elastic,
    Vec<spindle_contract::api::Executor>,
)> {
    let id = app.id.to_string();
    let e = serde_json::from_value(am_api(h, &id, "elastic")?).ok()?;
    let list = serde_json::from_value(am_api(h, &id, "allexecutors")?).ok()?;
    Some((e, list))
}

/// Whether the application reached a final state.
async fn ended(app: &App) -> bool {
    let r = app.rest.app(app.id).await.unwrap();
    matches!(r.state.as_str(), "FINISHED" | "FAILED" | "KILLED")
}

/// Preemption (item 3 of issue 20), on a cluster of its own with two queues and the capacity
/// scheduler's preemption monitor (`--capacity-scheduler deploy/conf/capacity-preemption.xml`): a
/// Spindle job fills the one NodeManager from queue `a`; a second one in queue `b` makes the RM
/// take half the cluster back. The first job's AM reads the PreemptionMessage, moves the named
/// executors' shuffle output and gives them back (or YARN kills them, exit -102); either way no
/// executor failure is counted, and both jobs finish with the right answers.
#[tokio::test(flavor = "multi_thread")]
async fn preempted_executors_are_given_back_without_failures_and_the_job_finishes() {
    let file = spindle_tests::repo_root().join("deploy/conf/capacity-preemption.xml");
    let file = file.to_string_lossy().to_string();
    let own = OwnCluster::start(
        "preempt",
        1,
        &["--capacity-scheduler", &file, "--nm-memory", "2048"],
    );
    let h = own.get();
    let _logs = h.log_guard();
    // Queue a: the AM (256 MB) and 9 executors of 192 MB fill the 2048 MB NodeManager.
    let mut s = Submit::new("yarn-preempted", vec!["preemptible".into()]);
    s.binary = "spindle-testjobs";
    s.executors = 9;
    s.queue = Some("a".into());
    let first = submit(h, s).await;
    let mut second = None;
    let (mut elastic, mut executors) = (None, Vec::new());
    let deadline = Instant::now() + Duration::from_secs(300);
    while !ended(&first).await {
        if let Some((e, list)) = elastic_now(h, &first) {
            let running = list.iter().filter(|x| x.state == "running").count();
            if running >= 9 && second.is_none() {
                // The cluster is full: queue b's application needs what queue a holds beyond
                // its half.
                let mut b = Submit::new("yarn-preempting", vec!["idle".into(), "2".into()]);
                b.binary = "spindle-testjobs";
                b.executors = 2;
                b.queue = Some("b".into());
                second = Some(submit(h, b).await);
            }
            elastic = Some(e);
            executors = list;
        }
        assert!(
            Instant::now() < deadline,
            "{} did not finish in time",
            first.id
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let log = assert_passed(h, &first, "preemptible: all 1 checks passed").await;
    let second = second.expect("the cluster filled up: queue b's application was submitted");
    let r2 = wait_final(&second, Duration::from_secs(240)).await;
    assert_eq!(status(&r2), "SUCCEEDED", "{r2:?}");
    let e = elastic.expect("the AM's elastic JSON answered");
    eprintln!("elastic: {e:?}");
    assert!(
        e.removed_preempted + e.containers_preempted >= 1,
        "nothing was preempted: {e:?}\n{executors:?}"
    );
    assert_eq!(e.executor_failures, 0, "{e:?}\n{log}");
    assert!(
        executors
            .iter()
            .all(|x| x.state != "lost" || x.remove_reason.contains("preempted")),
        "{executors:?}"
    );
}

/// Graceful decommissioning (item 3 of issue 20), on a cluster of its own whose second
/// NodeManager registers as host 127.0.0.2 (`--nm-own-hosts`: the RM decommissions by host name,
/// and the NodeManagers would otherwise all be `localhost`), each NodeManager big enough for the
/// AM and two executors, so four executors spread over both. Once a map task has finished on
/// 127.0.0.2, that host is decommissioned the way an operator does it (exclude file, then the
/// RM's refreshNodes with DecommissionType.GRACEFUL, `decommission-nm`): the RM reports the node
/// DECOMMISSIONING in the allocate answer's `updated_nodes`; the AM drains the executors there,
/// moves their shuffle output to the executors that stay, and gives them back. The job finishes
/// with the right sums, no map task runs again, and no task or executor failure is counted.
#[tokio::test(flavor = "multi_thread")]
async fn executors_on_a_decommissioning_node_are_drained_and_the_job_finishes() {
    let own = OwnCluster::start("decommission", 2, &["--nm-own-hosts", "--nm-memory", "640"]);
    let h = own.get();
    let _logs = h.log_guard();
    // The second NodeManager's host as the RM knows it: 127.0.0.2, or its name if it has one.
    let hosts = spindle_tests::compose::node_states(h);
    let leaving = hosts
        .iter()
        .map(|(host, _)| host.clone())
        .find(|host| host != "localhost")
        .unwrap_or_else(|| panic!("no NodeManager of its own host: {hosts:?}"));
    let leaving = leaving.as_str();
    let mut s = Submit::new("yarn-decommissioned", vec!["preemptible".into()]);
    s.binary = "spindle-testjobs";
    s.executors = 4;
    let app = submit(h, s).await;
    let id = app.id.to_string();
    let (mut elastic, mut executors) = (None, Vec::new());
    let (mut report, mut stages) = (None, Vec::<spindle_contract::api::Stage>::new());
    let deadline = Instant::now() + Duration::from_secs(300);
    while !ended(&app).await {
        if let Some((e, list)) = elastic_now(h, &app) {
            elastic = Some(e);
            executors = list;
        }
        if let Some(now) = am_api(h, &id, "stages").and_then(|v| serde_json::from_value(v).ok()) {
            stages = now;
        }
        if report.is_none() {
            // A map output exists on the leaving host: decommission it.
            let done_there = stages
                .iter()
                .flat_map(|s| &s.tasks)
                .any(|t| t.status == "SUCCESS" && t.host.split(':').next() == Some(leaving));
            if done_there {
                let r = h.decommission_node_manager(leaving, 300).unwrap();
                assert!(
                    r.contains(&format!("{leaving}:")) && r.contains("=DECOMMISSION"),
                    "{r}"
                );
                report = Some(r);
            }
        }
        assert!(
            Instant::now() < deadline,
            "{} did not finish in time",
            app.id
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let log = assert_passed(h, &app, "preemptible: all 1 checks passed").await;
    let report = report.expect("a map task finished on the leaving host before the job ended");
    let e = elastic.expect("the AM's elastic JSON answered");
    let on_leaving: Vec<_> = executors
        .iter()
        .filter(|x| x.host_port.split(':').next() == Some(leaving))
        .collect();
    assert!(!on_leaving.is_empty(), "{executors:?}");
    assert!(
        on_leaving
            .iter()
            .all(|x| x.state == "removed" && x.remove_reason == "decommissioning"),
        "{report}\n{executors:?}\n{log}"
    );
    assert_eq!(
        e.removed_decommissioning as usize,
        on_leaving.len(),
        "{e:?}\n{executors:?}"
    );
    assert!(
        e.blocks_migrated > 0
            && on_leaving.iter().map(|x| x.blocks_migrated).sum::<u64>() == e.blocks_migrated,
        "{e:?}\n{executors:?}"
    );
    assert_eq!(
        (
            e.maps_recomputed,
            e.outputs_lost,
            e.executor_failures,
            e.removed_lost
        ),
        (0, 0, 0, 0),
        "{e:?}\n{log}"
    );
    // No task failed either, in any stage (as the AM last showed them).
    assert!(
        stages.len() >= 2 && stages.iter().all(|s| s.num_failed_tasks == 0),
        "{stages:?}"
    );
    // The RM shows the node decommissioning (it waits for its applications) or decommissioned.
    let states = spindle_tests::compose::node_states(h);
    assert!(
        states
            .iter()
            .any(|(host, st)| host == leaving && st.starts_with("DECOMMISSION")),
        "{states:?}"
    );
}

/// Dynamic allocation down to no executor (item 2 of issue 20's fallback): with
/// `minExecutors=0` every executor idles away between the job's two actions, the last one with
/// the only copy of the shuffle output. Before it is given back its blocks go to the
/// application's staging directory in HDFS (`<staging>/shuffle`, seen there from outside while
/// no executor runs), and so do the partitions of a cached dataset (`<staging>/cached`); the
/// second action runs on a new executor that reads them from there, so no map task runs again and
/// no cached partition is computed again (the AM's elastic JSON and the job's own counters); the
/// copies go with the staging directory at the end.
#[tokio::test(flavor = "multi_thread")]
async fn executors_scaled_to_zero_leave_their_shuffle_output_in_hdfs_and_nothing_is_recomputed() {
    let h = hadoop();
    let _logs = h.log_guard();
    let mut s = Submit::new("yarn-elastic-zero", vec!["elastic-to-zero".into()]);
    s.binary = "spindle-testjobs";
    s.executors = 1;
    for (k, v) in [
        ("spindle.dynamicAllocation.enabled", "true"),
        ("spindle.dynamicAllocation.minExecutors", "0"),
        ("spindle.dynamicAllocation.executorIdleTimeout", "2s"),
        ("spindle.dynamicAllocation.cachedExecutorIdleTimeout", "2s"),
        ("spindle.dynamicAllocation.schedulerBacklogTimeout", "300ms"),
    ] {
        s.conf.insert(k.into(), v.into());
    }
    let app = submit(h, s).await;
    let shuffle_dir = format!("{}/shuffle", app.staging);
    let cached_dir = format!("{}/cached", app.staging);
    let (mut elastic, mut executors, mut seen_in_hdfs) = (None, Vec::new(), Vec::new());
    let mut cached_in_hdfs = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(240);
    while !ended(&app).await {
        if let Some((e, list)) = elastic_now(h, &app) {
            elastic = Some(e);
            executors = list;
        }
        // The listing with the most complete files (one still being written has a temporary
        // name that a later listing shows complete).
        let complete = |names: &[String]| names.iter().filter(|f| f.ends_with(".lz4")).count();
        let files = listing(h, &shuffle_dir).await;
        if complete(&files) > complete(&seen_in_hdfs) {
            seen_in_hdfs = files;
        }
        let files = listing(h, &cached_dir).await;
        if complete(&files) > complete(&cached_in_hdfs) {
            cached_in_hdfs = files;
        }
        assert!(
            Instant::now() < deadline,
            "{} did not finish in time",
            app.id
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let log = assert_passed(h, &app, "elastic-to-zero: all 12 checks passed").await;
    // 6 maps x 3 reducers, each block one file, all copied off the last executor.
    let blocks: Vec<_> = seen_in_hdfs
        .iter()
        .filter(|f| f.ends_with(".lz4"))
        .collect();
    assert_eq!(blocks.len(), 18, "{seen_in_hdfs:?}\n{log}");
    // The cached dataset's 4 partitions, one file each, likewise.
    let cached: Vec<_> = cached_in_hdfs
        .iter()
        .filter(|f| f.starts_with("cached_") && f.ends_with(".lz4"))
        .collect();
    assert_eq!(cached.len(), 4, "{cached_in_hdfs:?}\n{log}");
    let e = elastic.expect("the AM's elastic JSON answered");
    assert!(
        e.removed_idle >= 2 && e.blocks_migrated >= 18 && e.cached_blocks_migrated >= 4,
        "{e:?}\n{executors:?}"
    );
    assert_eq!(
        (e.maps_recomputed, e.outputs_lost, e.executor_failures),
        (0, 0, 0),
        "{e:?}\n{log}"
    );
    // Read back from HDFS, not computed again.
    assert_eq!(
        (e.cached_recomputed, e.cached_blocks_lost),
        (0, 0),
        "{e:?}\n{log}"
    );
    assert!(
        executors
            .iter()
            .filter(|x| x.state == "removed")
            .all(|x| x.remove_reason == "idle"),
        "{executors:?}"
    );
    assert!(
        staging_removed(h, &app).await,
        "the staging directory (and {shuffle_dir}) outlived the application"
    );
}
