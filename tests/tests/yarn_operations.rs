//! Operating applications on the real mini-Hadoop: `spindle submit --detach` returns once the
//! application is ACCEPTED and leaves its staging directory to the AM, which removes it when the
//! application ends; `spindle list` (Spindle's applications by default, `--all`, `--state`,
//! `--tags`) and `--json` on `list` and `status` follow that application to its end, with ISO
//! 8601 times checked against `date`; binaries that are not Linux Spindle drivers (`/bin/true`,
//! a text file) are refused in one line before anything is submitted, and the summary
//! `spindle submit` prints of a real driver (glibc version, shared libraries) agrees with
//! binutils' `readelf`; `spindle new` scaffolds a crate that builds against this checkout and
//! runs in local mode and (the detached application above) on YARN; on a cluster aggregating
//! logs as IFile with gz, `spindle logs` and Hadoop's own reader agree on every container's files.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use spindle_hadoop::yarn::{Resource, SubmissionContext};
use spindle_tests::{
    OwnCluster, alive, am_api, app_json, binary, block_on, children_of, container_processes,
    hadoop, hdfs_client, hdfs_put, java_peer_ok, parse_counts, random_words, repo_root,
    rest_client, signal, spindle_command, text, wait_exit, wait_for, wait_until,
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

fn run(what: &str, cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({:?}):\n{}{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    out
}

/// `spindle ARGS --json`'s standard output, parsed.
fn json(args: &[&str]) -> serde_json::Value {
    let out = run(
        &format!("spindle {args:?}"),
        spindle_command(hadoop().conf_dir()).args(args),
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("spindle {args:?}: not JSON ({e}):\n{}", text(&out.stdout)))
}

/// The application id `spindle submit` printed into its standard error file `log` (waited for).
fn app_in_log(log: &Path) -> String {
    wait_for("the application id", Duration::from_secs(60), || {
        let err = std::fs::read_to_string(log).unwrap_or_default();
        let at = err.find("submitted application_")? + "submitted ".len();
        err[at..].split_whitespace().next().map(str::to_string)
    })
}

/// The ids in a `spindle list --json` answer.
fn ids(list: &serde_json::Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not an array: {list}"))
        .iter()
        .map(|a| a["id"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn exists(path: &str) -> bool {
    block_on(async { hdfs_client(hadoop()).get_file_info(path).await.is_ok() })
}

fn staging_dir(app: &str) -> String {
    format!(
        "/user/{}/.spindleStaging/{app}",
        spindle_hadoop::user::current_user()
    )
}

/// A wordcount input of `lines` random lines in HDFS; its URI, an output URI and the counts.
fn wordcount_input(tag: &str, lines: usize, seed: u64) -> (String, String, BTreeMap<String, u64>) {
    let base = format!("/yarn-tests/{}/{tag}", std::process::id());
    let (input, expected) = random_words(lines, seed);
    block_on(hdfs_put(
        &hdfs_client(hadoop()),
        &format!("{base}/in/input.txt"),
        input.as_bytes(),
    ));
    let fs = hadoop().fs_uri().trim_end_matches('/').to_string();
    (
        format!("{fs}{base}/in"),
        format!("{fs}{base}/out"),
        expected,
    )
}

/// `date -u -d @SECS`: ISO 8601 to the second, computed by coreutils, not by us.
fn date_iso(ms: i64) -> String {
    let out = Command::new("date")
        .args(["-u", "-d", &format!("@{}", ms / 1000), "+%Y-%m-%dT%H:%M:%S"])
        .output()
        .unwrap();
    format!("{}.{:03}Z", text(&out.stdout).trim(), ms % 1000)
}

/// A `readelf` (binutils) reading of `bin`: its DT_NEEDED libraries and its highest GLIBC_
/// version need.
fn readelf(bin: &Path) -> (Vec<String>, String) {
    let out = Command::new("readelf")
        .args(["-d", "-V", "-W"])
        .arg(bin)
        .output()
        .expect("readelf (binutils)");
    let t = text(&out.stdout);
    let needed = t
        .lines()
        .filter(|l| l.contains("(NEEDED)"))
        .filter_map(|l| l.split('[').nth(1)?.split(']').next().map(str::to_string))
        .collect();
    let key = |v: &str| -> Vec<u32> { v.split('.').filter_map(|p| p.parse().ok()).collect() };
    let glibc = t
        .split_whitespace()
        .filter_map(|w| w.strip_prefix("GLIBC_"))
        .filter(|v| v.starts_with(|c: char| c.is_ascii_digit()))
        .max_by_key(|v| key(v))
        .map(|v| format!("GLIBC_{v}"))
        .expect("a GLIBC_ version need");
    (needed, glibc)
}

/// `spindle new` of a crate in `dir`, built against this checkout with the workspace's target
/// directory and Cargo.lock (the registry crates are shared; the checkout's own crates compile
/// once more for a crate outside the workspace, whose package ids Cargo hashes by absolute
/// path); returns the driver binary.
fn scaffolded_driver(dir: &Path) -> PathBuf {
    let name = "scaffoldjob";
    let krate = dir.join(name);
    run(
        "spindle new",
        spindle_command(hadoop().conf_dir())
            .args(["new", name, "--dir"])
            .arg(&krate),
    );
    for f in [
        "Cargo.toml",
        "src/main.rs",
        "scripts/build-portable",
        ".gitignore",
    ] {
        assert!(krate.join(f).is_file(), "{f} missing");
    }
    // A second time into the same directory is refused.
    let again = spindle_command(hadoop().conf_dir())
        .args(["new", name, "--dir"])
        .arg(&krate)
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(text(&again.stderr).contains("not empty"));

    std::fs::copy(repo_root().join("Cargo.lock"), krate.join("Cargo.lock")).unwrap();
    // target/<profile>/deps/<this test> -> target
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    let target_dir = profile_dir.parent().unwrap();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let build = Instant::now();
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&krate)
        .env("CARGO_TARGET_DIR", target_dir)
        .args(["build", "--quiet", "--offline"]);
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        cmd.arg("--release");
    }
    run("cargo build of the scaffolded crate", &mut cmd);
    eprintln!("the scaffolded crate built in {:?}", build.elapsed());
    profile_dir.join(name)
}

/// A crate made by `spindle new` runs in local mode; submitted detached to YARN (one
/// application serves every check), it is followed by `list` and `status` to its end; an
/// application of another type with the same tag shows only with `--all`.
#[test]
fn a_scaffolded_driver_runs_locally_and_detached_on_yarn_followed_by_list_and_status() {
    let h = hadoop();
    let _logs = h.log_guard();
    let dir = tempfile::tempdir().unwrap();
    let bin = scaffolded_driver(dir.path());

    // Local mode: the top words of a local file.
    let (input, expected) = random_words(500, 0x5CAF_F01D);
    let local_in = dir.path().join("input.txt");
    std::fs::write(&local_in, &input).unwrap();
    let out = run(
        "the scaffolded driver in local mode",
        spindle_command(hadoop().conf_dir())
            .args(["submit", "--master", "local[2]"])
            .arg(&bin)
            // file://: with HADOOP_CONF_DIR naming a cluster, a path without a scheme is in HDFS.
            .arg(format!("file://{}", local_in.display())),
    );
    let top = parse_counts(text(&out.stdout).lines());
    let mut best: Vec<(&String, &u64)> = expected.iter().collect();
    best.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let best: BTreeMap<String, u64> = best
        .into_iter()
        .take(10)
        .map(|(w, c)| (w.clone(), *c))
        .collect();
    assert_eq!(top, best, "{}", text(&out.stdout));

    let tag = format!("ops-{}", std::process::id());
    // Another type of application with the same tag: an unmanaged AM (no container), killed
    // at the end.
    let rest = rest_client(h);
    let other = block_on(async {
        let new = rest.new_application().await.unwrap();
        let mut ctx = SubmissionContext::new(
            new.application_id,
            "not-spindle",
            Resource {
                memory_mb: 128,
                vcores: 1,
            },
        );
        ctx.application_type = "OPS-OTHER".into();
        ctx.unmanaged_am = true;
        ctx.application_tags = vec![tag.clone()];
        rest.submit(&ctx).await.unwrap();
        new.application_id
    })
    .to_string();
    let (input, output, expected) = wordcount_input("detach", 2000, 0x0DE7_AC11);
    let wc = bin;
    let started = Instant::now();
    let out = run(
        "spindle submit --detach",
        spindle_command(hadoop().conf_dir())
            .args(["submit", "--master", "yarn", "--detach", "--tags", &tag])
            .args(SMALL)
            .arg(&wc)
            .args([&input, &output]),
    );
    let returned_after = started.elapsed();
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    // stdout: `<appId> <tracking URL>`, one line.
    let fields: Vec<&str> = stdout.split_whitespace().collect();
    assert_eq!(fields.len(), 2, "{stdout}");
    let app = fields[0].to_string();
    assert!(app.starts_with("application_"), "{stdout}");
    assert!(
        fields[1].starts_with("http") && fields[1].contains(&app),
        "{stdout}"
    );
    // It returned while the application was still on its way (not FINISHED), and left the
    // staging directory to the AM.
    let state = app_json(h, &app)["state"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(
        ["ACCEPTED", "RUNNING"].contains(&state.as_str()),
        "{app} is {state} after a detached submission returned in {returned_after:?}:\n{stderr}"
    );
    assert!(
        exists(&staging_dir(&app)),
        "the detached client removed the staging directory"
    );
    // What spindle submit said about the driver agrees with readelf.
    let (needed, glibc) = readelf(&wc);
    let summary = stderr
        .lines()
        .find(|l| l.starts_with("spindle: driver program "))
        .unwrap_or_else(|| panic!("no driver summary in:\n{stderr}"));
    assert!(
        summary.contains(&format!("needs {glibc};"))
            && summary.ends_with(&format!("shared libraries: {}", needed.join(" "))),
        "{summary} (readelf: {glibc}, {needed:?})"
    );

    // While it runs: Spindle's applications by default, every type with --all.
    let listed = ids(&json(&["list", "--json", "--tags", &tag]));
    assert_eq!(listed, vec![app.clone()], "spindle list --tags {tag}");
    let all = json(&["list", "--json", "--all", "--tags", &tag]);
    let mut all_ids = ids(&all);
    all_ids.sort();
    let mut both = vec![app.clone(), other.clone()];
    both.sort();
    assert_eq!(all_ids, both, "{all}");
    let table = run(
        "spindle list",
        spindle_command(hadoop().conf_dir()).args([
            "list",
            "--state",
            "accepted,running",
            "--tags",
            &tag,
        ]),
    );
    let table = text(&table.stdout);
    assert!(
        table.starts_with("APPLICATION ID") && table.lines().any(|l| l.starts_with(&app)),
        "{table}"
    );

    // The application ends by itself, and its AM removes the staging directory.
    wait_until(
        "the detached application ends",
        Duration::from_secs(240),
        || {
            app_json(h, &app)["state"]
                .as_str()
                .is_some_and(|s| ["FINISHED", "FAILED", "KILLED"].contains(&s))
        },
    );
    let cat = java_peer_ok("dev.spindle.peers.FsCat", &[&output]);
    assert_eq!(parse_counts(cat.lines()), expected);
    wait_until(
        "the AM removes the staging directory",
        Duration::from_secs(30),
        || !exists(&staging_dir(&app)),
    );

    // status --json: stable names, ISO 8601 times equal to the RM's milliseconds.
    let rm = app_json(h, &app);
    let st = json(&["status", "--json", &app]);
    assert_eq!(st["id"], app.as_str());
    assert_eq!(st["state"], "FINISHED");
    assert_eq!(st["finalStatus"], "SUCCEEDED");
    assert_eq!(st["applicationType"], "SPINDLE");
    assert_eq!(st["user"], rm["user"]);
    assert_eq!(st["queue"], rm["queue"]);
    assert_eq!(st["progressPercent"], 100.0);
    assert!(
        st["applicationTags"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t == tag.as_str())),
        "{st}"
    );
    for (ours, theirs) in [
        ("startedTime", "startedTime"),
        ("launchedTime", "launchTime"),
        ("finishedTime", "finishedTime"),
    ] {
        let ms = rm[theirs]
            .as_i64()
            .unwrap_or_else(|| panic!("{theirs}: {rm}"));
        assert_eq!(st[ours], date_iso(ms).as_str(), "{ours}: {st}");
    }
    assert!(
        st["elapsedSeconds"].as_f64().is_some_and(|s| s > 0.0),
        "{st}"
    );
    // The text form names the same start time, not milliseconds.
    let text_status = text(
        &run(
            "spindle status",
            spindle_command(hadoop().conf_dir()).args(["status", &app]),
        )
        .stdout,
    );
    let start_iso = st["startedTime"].as_str().unwrap().to_string();
    assert!(
        text_status.contains(&format!("started {start_iso}")),
        "{text_status}"
    );

    // Filters by state, after the end.
    let finished = json(&["list", "--json", "--state", "FINISHED", "--tags", &tag]);
    assert_eq!(ids(&finished), vec![app.clone()]);
    assert_eq!(finished[0]["finishedTime"], st["finishedTime"]);
    let killed = json(&["list", "--json", "--state", "KILLED", "--tags", &tag]);
    assert_eq!(ids(&killed), Vec::<String>::new());
    block_on(rest.kill(other.parse().unwrap())).unwrap();
}

/// `/bin/true` and a text file are refused in one line, before anything is submitted.
#[test]
fn binaries_that_are_not_spindle_drivers_are_refused_before_submitting() {
    let h = hadoop();
    let _logs = h.log_guard();
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "not a program\n").unwrap();
    for (driver, needle) in [
        (PathBuf::from("/bin/true"), "not a Spindle driver"),
        (notes, "not an ELF binary"),
    ] {
        let out = spindle_command(hadoop().conf_dir())
            .args(["submit", "--master", "yarn"])
            .args(SMALL)
            .arg(&driver)
            .output()
            .unwrap();
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "USAGE: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(
            err.starts_with(&format!(
                "spindle: driver program {}: {needle}",
                driver.display()
            )),
            "{err}"
        );
    }
}

/// `spindle logs --follow <app>` to its end while `meanwhile` runs: each line with the time it
/// arrived, and its stderr; panics when it fails.
fn follow(app: &str, meanwhile: impl FnOnce()) -> (Vec<(String, std::time::SystemTime)>, String) {
    let mut child = spindle_command(hadoop().conf_dir())
        .args(["logs", "--follow", app])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        use std::io::BufRead;
        std::io::BufReader::new(stdout)
            .lines()
            .map(|l| (l.unwrap(), std::time::SystemTime::now()))
            .collect::<Vec<_>>()
    });
    meanwhile();
    let status = child.wait().unwrap();
    let lines = reader.join().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(
        status.success(),
        "spindle logs --follow: {status:?}\n{stderr}"
    );
    (lines, stderr)
}

/// `[container file] text` lines grouped by container and file, in arrival order.
fn by_file(
    lines: &[(String, std::time::SystemTime)],
    stderr: &str,
) -> BTreeMap<(String, String), Vec<String>> {
    let mut by_file: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for (line, _) in lines {
        let (head, rest) = line
            .strip_prefix('[')
            .and_then(|l| l.split_once("] "))
            .unwrap_or_else(|| panic!("not a [container file] line: {line:?}\n{stderr}"));
        let (c, f) = head.split_once(' ').expect("container and file");
        by_file
            .entry((c.to_string(), f.to_string()))
            .or_default()
            .push(rest.to_string());
    }
    by_file
}

/// The one (container, file) holding lines `<prefix>0` … `<prefix>79`, each once and in order.
fn numbered_once(
    by_file: &BTreeMap<(String, String), Vec<String>>,
    prefix: &str,
    all: &str,
) -> (String, String) {
    let holders: Vec<&(String, String)> = by_file
        .iter()
        .filter(|(_, v)| v.iter().any(|l| l.starts_with(prefix)))
        .map(|(k, _)| k)
        .collect();
    assert_eq!(holders.len(), 1, "{prefix:?} in {holders:?}\n{all}");
    let got: Vec<&String> = by_file[holders[0]]
        .iter()
        .filter(|l| l.starts_with(prefix))
        .collect();
    let want: Vec<String> = (0..80).map(|i| format!("{prefix}{i}")).collect();
    assert_eq!(
        got,
        want.iter().collect::<Vec<_>>(),
        "{prefix:?}: every line once, in order\n{all}"
    );
    holders[0].clone()
}

/// How many milliseconds before the application's end the line ending in `want` arrived.
fn ahead_of_end(lines: &[(String, std::time::SystemTime)], app: &str, want: &str) -> i64 {
    let finished_ms = app_json(hadoop(), app)["finishedTime"].as_i64().unwrap();
    let arrived = lines
        .iter()
        .find(|(l, _)| l.ends_with(want))
        .map(|(_, t)| t.duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64)
        .unwrap_or_else(|| panic!("no line ending in {want:?}"));
    finished_ms - arrived
}

/// `spindle logs --follow` on a job printing numbered lines for 8 s (the driver in the AM's
/// container, a task on each of two executors, stdout and stderr): every line exactly once and
/// in order per container and file, the first ones seen while the application still ran (read
/// from the AM through the RM's proxy), the rest from the aggregated logs; then `--am --tail`.
#[test]
fn logs_follow_shows_each_line_of_a_running_application_once_in_order() {
    let h = hadoop();
    let _logs = h.log_guard();
    let conf = h.conf_dir();
    let out = run(
        "spindle submit --detach chatty",
        spindle_command(conf)
            .args(["submit", "--master", "yarn", "--detach"])
            .args(&SMALL[..4])
            .args(["--num-executors", "2", "--executor-cores", "1"])
            .args(&SMALL[6..])
            .arg(spindle_tests::binary("spindle-testjobs"))
            .args(["chatty", "8"]),
    );
    let app = text(&out.stdout)
        .split_whitespace()
        .next()
        .expect("an application id")
        .to_string();
    let (lines, stderr) = follow(&app, || {});
    let all = lines
        .iter()
        .map(|(l, _)| l.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let by_file = by_file(&lines, &stderr);
    let check = |prefix: &str, file: &str, am: bool| {
        let (c, f) = numbered_once(&by_file, prefix, &all);
        assert_eq!(f, file, "{prefix:?}");
        assert_eq!(c.ends_with("_000001"), am, "{prefix:?} in {c}");
        (c, f)
    };
    let am = check("driver ", "stdout", true);
    let mut executors = BTreeSet::new();
    for p in 0..2 {
        executors.insert(check(&format!("part {p} out "), "stdout", false).0);
        executors.insert(check(&format!("part {p} err "), "stderr", false).0);
    }
    assert!(!executors.is_empty() && !executors.contains(&am.0));

    // Live: the tasks' first lines arrived well before the application ended.
    for first in ["] driver 0", "] part 0 out 0", "] part 1 err 0"] {
        let ahead = ahead_of_end(&lines, &app, first);
        assert!(
            ahead > 3000,
            "{first} arrived {ahead} ms before the end: not followed live\n{stderr}"
        );
    }

    // After the end: only the AM's container, its last 2 stdout lines; hdfs-native's debug
    // records through Spindle's log subscriber.
    let out = run(
        "spindle logs --am --tail 2",
        spindle_command(conf)
            .env("SPINDLE_LOG", "warn,hdfs_native=debug")
            .args(["logs", "--am", "--tail", "2", "--log-files", "stdout", &app]),
    );
    let err = text(&out.stderr);
    assert!(
        err.lines()
            .any(|l| l.contains("DEBUG") && l.contains("hdfs_native")),
        "no hdfs-native record with SPINDLE_LOG=hdfs_native=debug:\n{err}"
    );
    let shown = text(&out.stdout);
    let body: Vec<&str> = shown.lines().filter(|l| !l.starts_with("==> ")).collect();
    let am_lines = &by_file[&am];
    assert_eq!(
        body,
        am_lines[am_lines.len() - 2..]
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
    );
    let headers: Vec<&str> = shown.lines().filter(|l| l.starts_with("==> ")).collect();
    assert_eq!(headers.len(), 1, "{shown}");
    assert!(headers[0].contains(&am.0), "{shown}");

    // A node's file written by Hadoop's own LogWriter with gz compression, beside YARN's.
    let container = format!(
        "{}_01_000099",
        app.replacen("application_", "container_", 1)
    );
    let peer = spindle_tests::java_peer_ok(
        "dev.spindle.peers.AggLogWrite",
        &[&app, &container, "500", "gz"],
    );
    let length: usize = peer
        .lines()
        .find_map(|l| l.strip_prefix("length="))
        .and_then(|l| l.parse().ok())
        .unwrap_or_else(|| panic!("AggLogWrite: {peer}"));
    assert!(
        length < 3000,
        "500 lines of about 13 bytes compressed to {length} bytes?"
    );
    let out = run(
        "spindle logs --container (gz)",
        spindle_command(conf).args([
            "logs",
            "--container",
            &container,
            "--log-files",
            "stdout",
            &app,
        ]),
    );
    let shown = text(&out.stdout);
    let body: Vec<&str> = shown.lines().filter(|l| !l.starts_with("==> ")).collect();
    let want: Vec<String> = (0..500).map(|i| format!("agg line {i}")).collect();
    assert_eq!(
        body,
        want.iter().map(String::as_str).collect::<Vec<_>>(),
        "{shown}"
    );
}

/// Client deploy mode: the executors send their output to the driver (in `spindle submit`, on
/// this machine) and the AM copies it from the driver over the application's channel, so
/// `spindle logs --follow`, through the RM's proxy as in cluster mode, shows the executors'
/// lines live, each once and in order (the rest from the aggregated logs after the end).
#[test]
fn logs_follow_shows_the_executors_of_a_client_mode_application_live() {
    let h = hadoop();
    let _logs = h.log_guard();
    let jobs = binary("spindle-testjobs");
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("submit.log");
    let mut driver = spindle_command(h.conf_dir())
        .args(["submit", "--master", "yarn", "--deploy-mode", "client"])
        .args(&SMALL[..4])
        .args(["--num-executors", "2", "--executor-cores", "1"])
        .args(&SMALL[6..])
        .arg(jobs)
        .args(["chatty", "8"])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let read = || std::fs::read_to_string(&log).unwrap_or_default();
    let app = wait_for("the application id", Duration::from_secs(60), || {
        let err = read();
        let at = err.find("application_")?;
        err[at..]
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .next()
            .map(str::to_string)
    });
    let started = Instant::now();
    let (lines, stderr) = follow(&app, || {
        let code = wait_exit(
            &mut driver,
            "spindle submit --deploy-mode client",
            Duration::from_secs(180),
        );
        assert_eq!(code.code(), Some(0), "{}", read());
    });
    eprintln!("client-mode follow: {:?}", started.elapsed());
    let all = lines
        .iter()
        .map(|(l, _)| l.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let by_file = by_file(&lines, &stderr);
    let mut executors = BTreeSet::new();
    for p in 0..2 {
        for (stream, file) in [("out", "stdout"), ("err", "stderr")] {
            let (c, f) = numbered_once(&by_file, &format!("part {p} {stream} "), &all);
            assert_eq!(f, file);
            assert!(
                !c.ends_with("_000001"),
                "an executor's line in the AM's {c}"
            );
            executors.insert(c);
        }
    }
    assert!(!executors.is_empty());
    // The driver's own lines went to `spindle submit`, not to YARN.
    assert!(!all.contains("] driver 0"), "{all}");
    for first in ["] part 0 out 0", "] part 1 err 0"] {
        let ahead = ahead_of_end(&lines, &app, first);
        assert!(
            ahead > 3000,
            "{first} arrived {ahead} ms before the end: not followed live\n{stderr}"
        );
    }
}

/// A queue whose ApplicationMasters may hold 10 % of it (`deploy/conf/capacity-am-limit.xml` on
/// one NodeManager of 2048 MB) admits one small application at a time. The first asks for more
/// executors than fit: its AM says why at `/api/v1/.../waiting` (headroom, container size) and
/// its `spindle submit` repeats it. The second waits in ACCEPTED and says why, in its `spindle
/// submit` output and in `status --json`'s `waiting`, with the RM's numbers. The first's AM is
/// killed (one attempt allowed): `AM_ATTEMPTS_EXHAUSTED`, exit code 5; the second then runs to
/// SUCCEEDED. A third, queued behind them, has its `--files` file rewritten in HDFS while it
/// waits: the NodeManager refuses to localize its AM (`LOCALIZATION`, 7). On the same cluster, the reasons that end an application before its driver runs:
/// an unknown queue (`NOT_ADMITTED`, 4) and a driver for another architecture
/// (`BINARY_NOT_RUNNABLE`, 6, naming the node and the shell's line).
#[test]
fn a_queue_at_its_am_limit_explains_the_wait_and_early_failures_have_their_exit_codes() {
    let file = repo_root().join("deploy/conf/capacity-am-limit.xml");
    let file = file.to_string_lossy().to_string();
    let own = OwnCluster::start(
        "amlimit",
        1,
        &["--capacity-scheduler", &file, "--nm-memory", "2048"],
    );
    let h = own.get();
    let _logs = h.log_guard();
    let dir = tempfile::tempdir().unwrap();
    let submit = |tag: &str, executors: &str, program: &[String]| {
        let log = dir.path().join(format!("{tag}.log"));
        let child = spindle_command(h.conf_dir())
            .args(["submit", "--master", "yarn", "--max-app-attempts", "1"])
            .args(["--num-executors", executors, "--tags", tag])
            .args(
                SMALL
                    .iter()
                    .filter(|a| **a != "--num-executors" && **a != "1"),
            )
            .args(program)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        (child, log)
    };
    let read = |log: &Path| std::fs::read_to_string(log).unwrap_or_default();
    let status = |app: &str| -> serde_json::Value {
        let out = spindle_command(h.conf_dir())
            .args(["status", "--json", app])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let jobs = binary("spindle-testjobs").display().to_string();

    // The first: its AM (192 MB) and 9 executors of 192 MB fill the node; 3 more cannot come.
    let (mut first, first_log) = submit(
        "amlimit-first",
        "12",
        &[jobs.clone(), "idle".into(), "600".into()],
    );
    let a = app_in_log(&first_log);
    let waiting = wait_for(
        "the first AM's waiting explanation",
        Duration::from_secs(120),
        || am_api(h, &a, "waiting").filter(|w| w["waiting"] == true),
    );
    eprintln!("AM waiting: {waiting}");
    assert_eq!(waiting["executorsPending"], 3, "{waiting}");
    assert_eq!(waiting["executorMemoryMB"], 192, "{waiting}");
    assert!(
        waiting["headroomMemoryMB"].as_i64().unwrap() < 192,
        "{waiting}"
    );
    let explanation = waiting["explanation"].as_str().unwrap();
    assert!(
        explanation.starts_with("3 executor container(s) not granted: the queue is full")
            && explanation.contains("each executor needs <memory:192 MB, vCores:1>"),
        "{explanation}"
    );
    wait_until(
        "the first client to show it",
        Duration::from_secs(30),
        || read(&first_log).contains("| waiting: 3 executor container(s) not granted"),
    );

    // The second waits for its AM: the queue's AM limit is reached.
    let (mut second, second_log) = submit(
        "amlimit-second",
        "1",
        &[jobs.clone(), "idle".into(), "3".into()],
    );
    let b = app_in_log(&second_log);
    wait_until(
        "the second client to say why it waits",
        Duration::from_secs(60),
        || {
            read(&second_log).contains(&format!(
                "{b} waiting: queue root.default is at its AM-resource limit"
            ))
        },
    );
    let st = status(&b);
    assert_eq!(st["state"], "ACCEPTED", "{st}");
    let why = st["waiting"].as_str().unwrap_or_default();
    eprintln!("second waiting: {why}");
    assert!(
        why.starts_with("queue root.default is at its AM-resource limit: its ApplicationMasters hold <memory:192, vCores:1> of <memory:")
            && why.contains("(10% of the queue)")
            && why.contains("this application's AM needs <memory:192, vCores:1>")
            && why.contains("1 application(s) of the queue running, 1 waiting"),
        "{why}"
    );
    assert_eq!(st["reason"], serde_json::Value::Null, "{st}");

    // A third waits behind it. Its `--files` file is rewritten in HDFS meanwhile, so when its
    // AM's turn comes the NodeManager refuses to localize it ("changed on src filesystem",
    // container exit status -1000): LOCALIZATION, exit code 7.
    let lookup = dir.path().join("lookup.txt");
    std::fs::write(&lookup, "as submitted\n").unwrap();
    let (mut changed, changed_log) = submit(
        "amlimit-changed",
        "1",
        &[
            "--files".into(),
            lookup.display().to_string(),
            jobs.clone(),
            "idle".into(),
            "1".into(),
        ],
    );
    let c = app_in_log(&changed_log);
    assert_eq!(status(&c)["state"], "ACCEPTED");
    block_on(hdfs_put(
        &hdfs_client(h),
        &format!("{}/lookup.txt", staging_dir(&c)),
        b"changed after submitting\n",
    ));

    // The first's AM dies and may not try again: AM_ATTEMPTS_EXHAUSTED.
    let am = container_processes(&a)
        .into_iter()
        .find(|p| p.container.ends_with("_01_000001"))
        .expect("the first AM's process");
    signal(am.pid, "KILL");
    let code = wait_exit(
        &mut first,
        "the first spindle submit",
        Duration::from_secs(60),
    );
    let err = read(&first_log);
    assert_eq!(code.code(), Some(5), "{err}");
    assert!(
        err.contains(&format!(
            "{a} reason: AM_ATTEMPTS_EXHAUSTED (exit code 5): on "
        )),
        "{err}"
    );
    let st = status(&a);
    assert_eq!(
        (&st["reason"], &st["exitCode"]),
        (&"AM_ATTEMPTS_EXHAUSTED".into(), &5.into()),
        "{st}"
    );

    // Then the second runs.
    let code = wait_exit(
        &mut second,
        "the second spindle submit",
        Duration::from_secs(180),
    );
    let err = read(&second_log);
    assert_eq!(code.code(), Some(0), "{err}");
    assert!(err.contains(&format!("{b} RUNNING")), "{err}");
    assert_eq!(status(&b)["reason"], "SUCCEEDED");

    // The third's AM could not be localized.
    let code = wait_exit(
        &mut changed,
        "the spindle submit whose file changed",
        Duration::from_secs(120),
    );
    let err = read(&changed_log);
    assert_eq!(code.code(), Some(7), "{err}");
    let line = err
        .lines()
        .find(|l| l.contains(&format!("{c} reason: LOCALIZATION (exit code 7): ")))
        .unwrap_or_else(|| panic!("no reason line:\n{err}"));
    assert!(
        line.contains("lookup.txt") && line.contains("changed on src filesystem"),
        "{line}"
    );
    let st = status(&c);
    assert_eq!(
        (&st["reason"], &st["exitCode"]),
        (&"LOCALIZATION".into(), &7.into()),
        "{st}"
    );
    let diagnostics = app_json(h, &c)["diagnostics"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        diagnostics.contains("exitCode: -1000")
            && diagnostics.contains("changed on src filesystem"),
        "{diagnostics}"
    );

    // Refused by the scheduler.
    let (mut refused, refused_log) = submit(
        "amlimit-queue",
        "1",
        &[
            "--queue".into(),
            "nosuch".into(),
            jobs.clone(),
            "idle".into(),
            "1".into(),
        ],
    );
    let code = wait_exit(
        &mut refused,
        "spindle submit --queue nosuch",
        Duration::from_secs(60),
    );
    let err = read(&refused_log);
    assert_eq!(code.code(), Some(4), "{err}");
    assert!(
        err.contains("reason: NOT_ADMITTED (exit code 4)") && err.contains("unknown queue: nosuch"),
        "{err}"
    );

    // A driver for another architecture (the ELF header's machine set to aarch64): the
    // NodeManager's shell cannot execute it.
    let foreign = dir.path().join("pi-aarch64");
    let mut bytes = std::fs::read(binary("pi")).unwrap();
    bytes[18..20].copy_from_slice(&183u16.to_le_bytes());
    std::fs::write(&foreign, bytes).unwrap();
    std::fs::set_permissions(
        &foreign,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let (mut foreign_run, foreign_log) = submit(
        "amlimit-arch",
        "1",
        &[foreign.display().to_string(), "10".into()],
    );
    let code = wait_exit(
        &mut foreign_run,
        "spindle submit of an aarch64 driver",
        Duration::from_secs(120),
    );
    let err = read(&foreign_log);
    assert_eq!(code.code(), Some(6), "{err}");
    assert!(
        err.contains("reason: BINARY_NOT_RUNNABLE (exit code 6): on ")
            && err.contains("cannot execute binary file: Exec format error"),
        "{err}"
    );
    let c = app_in_log(&foreign_log);
    let st = status(&c);
    assert_eq!(
        (&st["reason"], &st["exitCode"]),
        (&"BINARY_NOT_RUNNABLE".into(), &6.into()),
        "{st}"
    );
}

/// Executors that keep dying past `spindle.executor.maxFailures=1` (the test kills each one's
/// process; the NodeManager reports exit status 137, a failure that counts): the AM ends the
/// application as `EXECUTORS_LOST`, exit code 9, with the tag in the RM's diagnostics, the reason
/// line of `spindle submit` and `status --json`.
#[test]
fn executors_dying_past_the_failure_limit_end_the_application_as_executors_lost() {
    let h = hadoop();
    let _logs = h.log_guard();
    let jobs = binary("spindle-testjobs");
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("submit.log");
    let mut child = spindle_command(h.conf_dir())
        .args(["submit", "--master", "yarn", "--max-app-attempts", "1"])
        .args(["--tags", "executors-lost"])
        .args(SMALL)
        .args(["--conf", "spindle.executor.maxFailures=1"])
        .arg(jobs)
        .args(["idle", "300"])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let read = || std::fs::read_to_string(&log).unwrap_or_default();
    let app = app_in_log(&log);
    // Two executors die, one after the other (the second is the first's replacement).
    let mut killed = BTreeSet::new();
    for _ in 0..2 {
        let victim = wait_for("a live executor", Duration::from_secs(120), || {
            container_processes(&app)
                .into_iter()
                .map(|p| p.container)
                .find(|c| !c.ends_with("_000001") && !killed.contains(c))
        });
        for p in container_processes(&app)
            .into_iter()
            .filter(|p| p.container == victim)
        {
            // The container's shell may already be gone with its child.
            let _ = Command::new("kill")
                .args(["-KILL", &p.pid.to_string()])
                .status();
        }
        killed.insert(victim);
    }
    let code = wait_exit(&mut child, "spindle submit", Duration::from_secs(120));
    let err = read();
    eprintln!("executors lost after {:?}", started.elapsed());
    assert_eq!(code.code(), Some(9), "{err}");
    let line = err
        .lines()
        .find(|l| l.contains(&format!("{app} reason: EXECUTORS_LOST (exit code 9): ")))
        .unwrap_or_else(|| panic!("no reason line:\n{err}"));
    assert!(
        line.contains("executor failures exceeded (2 > spindle.executor.maxFailures=1)")
            && line.contains("exit status 137"),
        "{line}"
    );
    let st = json(&["status", "--json", &app]);
    assert_eq!(
        (&st["reason"], &st["exitCode"], &st["finalStatus"]),
        (&"EXECUTORS_LOST".into(), &9.into(), &"FAILED".into()),
        "{st}"
    );
    let diagnostics = app_json(h, &app)["diagnostics"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        diagnostics.starts_with("[EXECUTORS_LOST] executor failures exceeded"),
        "{diagnostics}"
    );
}

/// Client deploy mode, the `spindle submit` that runs the driver killed with SIGKILL while the
/// job runs: the driver, its child, goes with it (nothing is left running on the client's
/// machine), and the AM, which can no longer ask the driver how the job went, ends the
/// application as `FAILED` (exit code 12 in `status --json`, the tag in the RM's diagnostics):
/// not a driver error, since nothing reported one.
#[test]
fn a_client_mode_driver_that_vanishes_ends_the_application_as_failed() {
    let h = hadoop();
    let _logs = h.log_guard();
    let jobs = binary("spindle-testjobs");
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("submit.log");
    let mut driver = spindle_command(h.conf_dir())
        .args(["submit", "--master", "yarn", "--deploy-mode", "client"])
        .args(["--max-app-attempts", "1", "--tags", "driver-vanishes"])
        .args(SMALL)
        .arg(jobs)
        .args(["idle", "300"])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let read = || std::fs::read_to_string(&log).unwrap_or_default();
    let app = app_in_log(&log);
    // Once an executor runs, the job is under way: the driver goes.
    wait_for("a live executor", Duration::from_secs(120), || {
        container_processes(&app)
            .into_iter()
            .find(|p| !p.container.ends_with("_000001"))
    });
    // `spindle submit` runs the driver program as its child; only `spindle submit` is killed.
    let children = children_of(driver.id());
    assert_eq!(children.len(), 1, "one driver process: {children:?}");
    driver.kill().unwrap();
    let _ = driver.wait();
    let killed = Instant::now();
    wait_until(
        "the driver to go with spindle submit",
        Duration::from_secs(30),
        || !alive(children[0]),
    );
    let a = wait_for("the application's end", Duration::from_secs(120), || {
        let a = app_json(h, &app);
        ["FINISHED", "FAILED", "KILLED"]
            .contains(&a["state"].as_str().unwrap_or_default())
            .then_some(a)
    });
    eprintln!("ended {:?} after the driver's kill", killed.elapsed());
    assert_eq!(a["finalStatus"], "FAILED", "{a}");
    let diagnostics = a["diagnostics"].as_str().unwrap_or_default();
    assert!(
        diagnostics.starts_with("[FAILED] the driver at ")
            && diagnostics.contains("went away without finishing the application"),
        "{diagnostics}\n{}",
        read()
    );
    let st = json(&["status", "--json", &app]);
    assert_eq!(
        (&st["reason"], &st["exitCode"], &st["finalStatus"]),
        (&"FAILED".into(), &12.into(), &"FAILED".into()),
        "{st}"
    );
}

/// `spindle logs` body per (container, file) from its `==> C on NODE (FILE, …) <==` headers.
fn logs_by_file(shown: &str) -> BTreeMap<(String, String), String> {
    let mut out: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut current = None;
    for line in shown.split_inclusive('\n') {
        if let Some(head) = line.strip_prefix("==> ") {
            let (container, rest) = head.split_once(" on ").expect("container on node");
            let file = rest
                .split_once(" (")
                .and_then(|(_, r)| r.split_once(','))
                .map(|(f, _)| f.to_string())
                .unwrap_or_else(|| panic!("no file in {head:?}"));
            let key = (container.to_string(), file);
            assert!(!out.contains_key(&key), "{key:?} twice:\n{shown}");
            out.insert(key.clone(), String::new());
            current = Some(key);
        } else {
            let key = current
                .as_ref()
                .unwrap_or_else(|| panic!("text before a header: {line:?}"));
            out.get_mut(key).unwrap().push_str(line);
        }
    }
    out
}

/// IFile aggregation (`deploy/mini-hadoop --log-format ifile --log-compression gz`, a cluster of
/// its own with one NodeManager): the NodeManager writes each node's logs as one IFile of zlib
/// streams under `bucket-logs-ifile/`; `spindle logs` reads what the AM and both executors
/// wrote (every numbered line once, in order), `--am`, `--container` and `--tail` select from
/// it, and Hadoop's own reader (LogAggregationFileControllerFactory, which picks the IFile
/// controller) returns the same files with the same bytes.
#[test]
fn ifile_aggregated_logs_read_by_spindle_match_the_containers_and_hadoops_reader() {
    let own = OwnCluster::start(
        "ifile",
        1,
        &["--log-format", "ifile", "--log-compression", "gz"],
    );
    let h = own.get();
    let _logs = h.log_guard();
    let conf = h.conf_dir();
    let out = run(
        "spindle submit chatty (IFile cluster)",
        spindle_command(conf)
            .args(["submit", "--master", "yarn"])
            .args(&SMALL[..4])
            .args(["--num-executors", "2", "--executor-cores", "1"])
            .args(&SMALL[6..])
            .arg(spindle_tests::binary("spindle-testjobs"))
            .args(["chatty", "2"]),
    );
    let err = text(&out.stderr);
    let app = err
        .split_whitespace()
        .find(|w| w.starts_with("application_"))
        .unwrap_or_else(|| panic!("no application id in:\n{err}"))
        .trim_end_matches([':', ','])
        .to_string();
    wait_for("the logs aggregated", Duration::from_secs(90), || {
        let status = app_json(h, &app)["logAggregationStatus"].clone();
        (status == "SUCCEEDED").then_some(())
    });

    // The node's file: an IFile (the SHA-256 of the application id first), logs gz-compressed.
    let user = spindle_hadoop::user::current_user();
    let files = block_on(async {
        hdfs_client(h)
            .list_status(&format!("/tmp/logs/{user}"), true)
            .await
            .unwrap()
    });
    let node_files: Vec<_> = files
        .iter()
        .filter(|s| !s.isdir && s.path.contains(&format!("/{app}/")))
        .collect();
    assert_eq!(node_files.len(), 1, "{files:?}");
    assert!(
        node_files[0].path.contains("/bucket-logs-ifile/"),
        "{}",
        node_files[0].path
    );
    let head = block_on(async {
        let r = hdfs_client(h).read(&node_files[0].path).await.unwrap();
        r.read_range(0, 34).await.unwrap()
    });
    use sha2::Digest;
    assert_eq!(&head[..32], &sha2::Sha256::digest(app.as_bytes())[..]);
    assert_eq!(
        &head[32..34],
        &[0x78, 0x9c],
        "a zlib stream (gz) after the UUID"
    );

    // Everything: the driver's and both tasks' numbered lines, once each and in order.
    let all = run(
        "spindle logs (IFile)",
        spindle_command(conf).args(["logs", &app]),
    );
    let shown = text(&all.stdout);
    let by_file = logs_by_file(&shown);
    let lines_of = |c: &str, f: &str| -> Vec<String> {
        by_file[&(c.to_string(), f.to_string())]
            .lines()
            .map(str::to_string)
            .collect()
    };
    let am = format!(
        "{}_01_000001",
        app.replacen("application_", "container_", 1)
    );
    let driver: Vec<String> = lines_of(&am, "stdout")
        .into_iter()
        .filter(|l| l.starts_with("driver "))
        .collect();
    assert_eq!(
        driver,
        (0..20).map(|i| format!("driver {i}")).collect::<Vec<_>>(),
        "{shown}"
    );
    let executors: BTreeSet<&String> = by_file
        .keys()
        .map(|(c, _)| c)
        .filter(|c| **c != am)
        .collect();
    assert_eq!(executors.len(), 2, "{shown}");
    let mut parts = BTreeSet::new();
    for c in &executors {
        let out = lines_of(c, "stdout");
        let p = out
            .first()
            .and_then(|l| l.strip_prefix("part "))
            .and_then(|l| l.split(' ').next())
            .unwrap_or_else(|| panic!("{c} stdout: {out:?}"))
            .to_string();
        let want = |stream: &str| -> Vec<String> {
            (0..20).map(|i| format!("part {p} {stream} {i}")).collect()
        };
        assert_eq!(out, want("out"), "{c} stdout");
        assert_eq!(lines_of(c, "stderr"), want("err"), "{c} stderr");
        parts.insert(p);
    }
    assert_eq!(parts.len(), 2, "one task on each executor: {parts:?}");

    // Hadoop's reader: the IFile controller, the same files, the same bytes.
    let peer = spindle_tests::java_peer_on_ok(h, "dev.spindle.peers.AggLogRead", &[&app, &user]);
    assert!(
        peer.contains(
            "controller=org.apache.hadoop.yarn.logaggregation.filecontroller.ifile.\
             LogAggregationIndexedFileController"
        ),
        "{peer}"
    );
    let mut java_files = BTreeSet::new();
    for line in peer.lines().filter_map(|l| l.strip_prefix("log=")) {
        let mut w = line.split(' ');
        let (c, f) = (w.next().unwrap(), w.next().unwrap());
        let bytes: usize = w
            .next()
            .unwrap()
            .trim_start_matches("bytes=")
            .parse()
            .unwrap();
        let sha = w.next().unwrap().trim_start_matches("sha256=");
        let ours = &by_file
            .get(&(c.to_string(), f.to_string()))
            .unwrap_or_else(|| panic!("{c} {f}: Hadoop reads it, spindle logs does not"));
        // spindle logs ends every non-empty file with a newline.
        let ours = match ours.strip_suffix('\n') {
            Some(b) if b.len() == bytes && !b.ends_with('\n') => b,
            _ => ours.as_str(),
        };
        assert_eq!(
            (ours.len(), hex(&sha2::Sha256::digest(ours.as_bytes()))),
            (bytes, sha.to_string()),
            "{c} {f}"
        );
        java_files.insert((c.to_string(), f.to_string()));
    }
    assert_eq!(
        java_files,
        by_file.keys().cloned().collect::<BTreeSet<_>>(),
        "the same container files"
    );

    // --am, --container, --tail.
    let am_only = text(&run("--am", spindle_command(conf).args(["logs", "--am", &app])).stdout);
    let am_files: BTreeSet<_> = logs_by_file(&am_only).into_keys().collect();
    assert_eq!(
        am_files,
        by_file
            .keys()
            .filter(|(c, _)| *c == am)
            .cloned()
            .collect::<BTreeSet<_>>()
    );
    let exec = executors.first().unwrap().to_string();
    let tail = text(
        &run(
            "--container --tail",
            spindle_command(conf).args([
                "logs",
                "--container",
                &exec,
                "--tail",
                "3",
                "--log-files",
                "stderr",
                &app,
            ]),
        )
        .stdout,
    );
    let tail = logs_by_file(&tail);
    assert_eq!(
        tail.keys().collect::<Vec<_>>(),
        vec![&(exec.clone(), "stderr".to_string())]
    );
    let want: Vec<String> = lines_of(&exec, "stderr")[17..].to_vec();
    assert_eq!(
        tail[&(exec, "stderr".to_string())]
            .lines()
            .collect::<Vec<_>>(),
        want
    );
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
