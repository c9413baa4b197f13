//! Operating applications on the real mini-Hadoop: `spindle submit --detach` returns once the
//! application is ACCEPTED and leaves its staging directory to the AM, which removes it when the
//! application ends; `spindle list` (Spindle's applications by default, `--all`, `--state`,
//! `--tags`) and `--json` on `list` and `status` follow that application to its end, with ISO
//! 8601 times checked against `date`; binaries that are not Linux Spindle drivers (`/bin/true`,
//! a text file) are refused in one line before anything is submitted, and the summary
//! `spindle submit` prints of a real driver (glibc version, shared libraries) agrees with
//! binutils' `readelf`; `spindle new` scaffolds a crate that builds against this checkout and
//! runs in local mode and (the detached application above) on YARN.

use std::collections::BTreeMap;
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
