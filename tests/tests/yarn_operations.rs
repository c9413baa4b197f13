//! Operating applications on the real mini-Hadoop: `spindle submit --detach` returns once the
//! application is ACCEPTED and leaves its staging directory to the AM, which removes it when the
//! application ends; `spindle list` (Spindle's applications by default, `--all`, `--state`,
//! `--tags`) and `--json` on `list` and `status` follow that application to its end, with ISO
//! 8601 times checked against `date`; binaries that are not Linux Spindle drivers (`/bin/true`,
//! a text file) are refused in one line before anything is submitted, and the summary
//! `spindle submit` prints of a real driver (glibc version, shared libraries) agrees with
//! binutils' `readelf`; `spindle new` scaffolds a crate that builds against this checkout and
//! runs in local mode and (the detached application above) on YARN.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use spindle_hadoop::yarn::{Resource, SubmissionContext};
use spindle_tests::{
    app_json, block_on, hadoop, hdfs_client, hdfs_put, java_peer_ok, parse_counts, random_words,
    repo_root, rest_client, spindle_command, text, wait_until,
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
        assert_eq!(out.status.code(), Some(1), "{err}");
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
    let mut child = spindle_command(conf)
        .args(["logs", "--follow", &app])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    // Each line with the time it arrived.
    let reader = std::thread::spawn(move || {
        use std::io::BufRead;
        std::io::BufReader::new(stdout)
            .lines()
            .map(|l| (l.unwrap(), std::time::SystemTime::now()))
            .collect::<Vec<_>>()
    });
    let status = child.wait().unwrap();
    let lines = reader.join().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(
        status.success(),
        "spindle logs --follow: {status:?}\n{stderr}"
    );
    let all = lines
        .iter()
        .map(|(l, _)| l.as_str())
        .collect::<Vec<_>>()
        .join("\n");

    // [container file] text, grouped by container and file in arrival order.
    let mut by_file: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for (line, _) in &lines {
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
    let numbered = |prefix: &str| -> Vec<(String, String)> {
        by_file
            .iter()
            .filter(|(_, v)| v.iter().any(|l| l.starts_with(prefix)))
            .map(|(k, _)| k.clone())
            .collect()
    };
    let check = |prefix: &str, file: &str, am: bool| {
        let holders = numbered(prefix);
        assert_eq!(
            holders.len(),
            1,
            "{prefix:?} in {holders:?}\n{all}\n{stderr}"
        );
        let (c, f) = &holders[0];
        assert_eq!(f, file, "{prefix:?}");
        assert_eq!(c.ends_with("_000001"), am, "{prefix:?} in {c}");
        let got: Vec<&String> = by_file[&holders[0]]
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
    };
    let am = check("driver ", "stdout", true);
    let mut executors = BTreeSet::new();
    for p in 0..2 {
        executors.insert(check(&format!("part {p} out "), "stdout", false).0);
        executors.insert(check(&format!("part {p} err "), "stderr", false).0);
    }
    assert!(!executors.is_empty() && !executors.contains(&am.0));

    // Live: the tasks' first lines arrived well before the application ended.
    let finished_ms = app_json(h, &app)["finishedTime"].as_i64().unwrap();
    let arrived = |want: &str| {
        lines
            .iter()
            .find(|(l, _)| l.ends_with(want))
            .map(|(_, t)| t.duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64)
            .unwrap()
    };
    for first in ["] driver 0", "] part 0 out 0", "] part 1 err 0"] {
        let ahead = finished_ms - arrived(first);
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
