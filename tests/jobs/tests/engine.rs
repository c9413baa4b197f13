//! The engine end to end in local mode: every operation, failures, a killed
//! executor, caching and spilling (driver programs in src/main.rs).

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::time::{Duration, Instant};

use spindle_tests::{
    assert_success, children_of, local_command, run_local, run_local_ok, signal, text,
};

const JOBS: &str = env!("CARGO_BIN_EXE_spindle-testjobs");

#[test]
fn every_operation_matches_a_local_computation() {
    let out = run_local_ok(JOBS, &["ops"]);
    assert!(out.contains("all 33 checks passed"), "{out}");
}

#[test]
fn rdd_operations_match_a_local_computation() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("rdd");
    let out = run_local_ok(JOBS, &["rdd", work.to_str().unwrap()]);
    assert!(out.contains("rdd: all 48 checks passed"), "{out}");
    // The executors dropped the partitions they had persisted on disk.
    assert!(
        out.contains("unpersist: 5 cached files before, 0 after"),
        "{out}"
    );
    // The checkpoint is files on disk: one part per partition, and _SUCCESS.
    let cps: Vec<_> = std::fs::read_dir(work.join("checkpoints"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(cps.len(), 1, "one directory per context");
    let nodes: Vec<_> = std::fs::read_dir(cps[0].path())
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(nodes.len(), 1, "{nodes:?}");
    assert!(nodes[0].path().join("_SUCCESS").exists());
    assert!(nodes[0].path().join("part-00000").exists());
}

#[test]
fn a_panicking_closure_fails_the_job_with_stage_and_partition_and_leaves_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let out = run_local(JOBS, &["panic", out_dir.to_str().unwrap()]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    let last = stderr.lines().last().unwrap_or("");
    // Record 777 of range(0, 1000, 4) is in partition 3.
    assert!(
        last.starts_with("spindle: job 0 failed: stage 0 partition 3: failed 4 times;"),
        "{stderr}"
    );
    assert!(
        last.contains("user code panicked at tests/jobs/src/main.rs:"),
        "{stderr}"
    );
    assert!(last.contains("boom at record 777"), "{stderr}");
    assert!(!out_dir.exists(), "partial output left behind");
}

#[test]
fn an_executor_killed_mid_shuffle_still_gives_the_right_answer() {
    let mut driver = local_command(JOBS)
        .arg("kill-shuffle")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(driver.stdout.take().unwrap()).lines();
    let ready = lines.next().unwrap().unwrap();
    assert!(ready.starts_with("READY "), "{ready}");
    let executors = children_of(driver.id());
    assert_eq!(executors.len(), 2, "two executor processes");
    // Map outputs exist on both executors; start the slow reduce, then kill one mid-way.
    driver.stdin.as_mut().unwrap().write_all(b"go\n").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    signal(executors[0], "KILL");
    let start = Instant::now();
    let result = lines.next().unwrap().unwrap();
    let status = driver.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut driver.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(status.success(), "{stderr}");
    assert_eq!(result, "RESULT OK 1000", "{stderr}");
    assert!(
        stderr.contains("lost"),
        "the driver noticed the loss: {stderr}"
    );
    assert!(start.elapsed() < Duration::from_secs(60));
}

/// Every file under `dir` named `prefix*.lz4` that holds something.
fn block_files(dir: &std::path::Path, prefix: &str, found: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if p.is_dir() {
            block_files(&p, prefix, found);
        } else if name.starts_with(prefix)
            && name.ends_with(".lz4")
            && e.metadata().unwrap().len() > 0
        {
            found.push(p);
        }
    }
}

#[test]
fn shuffle_blocks_damaged_on_disk_are_detected_and_recomputed() {
    // The local backend keeps its executors' scratch dirs under TMPDIR.
    let tmp = tempfile::tempdir().unwrap();
    let mut driver = local_command(JOBS)
        .arg("corrupt-shuffle")
        .env("TMPDIR", tmp.path())
        .env("SPINDLE_VERBOSE", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(driver.stdout.take().unwrap()).lines();
    let ready = lines.next().unwrap().unwrap();
    assert_eq!(ready, "READY 1000");
    // One bit flipped in the middle of every map output block, on both executors.
    let mut blocks = Vec::new();
    block_files(tmp.path(), "shuffle_", &mut blocks);
    assert_eq!(blocks.len(), 16, "4 maps x 4 reducers: {blocks:?}");
    for b in &blocks {
        let mut bytes = std::fs::read(b).unwrap();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x04;
        std::fs::write(b, bytes).unwrap();
    }
    driver.stdin.as_mut().unwrap().write_all(b"go\n").unwrap();
    let result = lines.next().unwrap().unwrap();
    let status = driver.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut driver.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(status.success(), "{stderr}");
    assert_eq!(result, "RESULT OK 1000", "{stderr}");
    // The reducers failed their fetches on the damaged blocks, which were
    // recomputed (rewritten whole), not used.
    assert!(
        stderr.contains("fetch failed")
            && stderr.contains("corrupt shuffle block: checksum mismatch"),
        "{stderr}"
    );
}

#[test]
fn cached_partitions_damaged_on_disk_are_recomputed_not_used() {
    // The local backend keeps its executors' scratch dirs under TMPDIR.
    let tmp = tempfile::tempdir().unwrap();
    let mut driver = local_command(JOBS)
        .arg("corrupt-cache")
        .env("TMPDIR", tmp.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(driver.stdout.take().unwrap()).lines();
    let ready = lines.next().unwrap().unwrap();
    assert_eq!(ready, "READY 100000");
    // Every cached partition damaged: one bit flipped in half of them, the
    // others cut short by a byte.
    let mut files = Vec::new();
    block_files(tmp.path(), "cache_", &mut files);
    files.sort();
    assert_eq!(files.len(), 4, "4 partitions on disk: {files:?}");
    for (i, f) in files.iter().enumerate() {
        let mut bytes = std::fs::read(f).unwrap();
        if i % 2 == 0 {
            let mid = bytes.len() / 2;
            bytes[mid] ^= 0x04;
        } else {
            bytes.pop();
        }
        std::fs::write(f, bytes).unwrap();
    }
    driver.stdin.as_mut().unwrap().write_all(b"go\n").unwrap();
    let result = lines.next().unwrap().unwrap();
    let status = driver.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut driver.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(status.success(), "{stderr}");
    assert_eq!(result, "RESULT OK 100000", "{stderr}");
    // The damage was found and the partitions recomputed, without a task failure.
    assert!(
        stderr.contains("corrupt cached partition: checksum mismatch")
            && stderr.contains("corrupt cached partition: truncated")
            && stderr.contains("is unusable and is recomputed"),
        "{stderr}"
    );
    assert!(!stderr.contains("failed"), "{stderr}");
}

fn computations(dir: &std::path::Path) -> usize {
    std::fs::read_to_string(dir.join("log"))
        .map(|s| s.lines().count())
        .unwrap_or(0)
}

#[test]
fn cached_partitions_are_reused_and_recomputed_when_they_do_not_fit() {
    let dir = tempfile::tempdir().unwrap();
    run_local_ok(JOBS, &["cache", dir.path().to_str().unwrap()]);
    // Four logged records, each computed once across three actions.
    assert_eq!(computations(dir.path()), 4);

    let dir = tempfile::tempdir().unwrap();
    let out = local_command(JOBS)
        .args(["cache", dir.path().to_str().unwrap()])
        .env("SPINDLE_CACHE_MEMORY_MB", "0")
        .output()
        .unwrap();
    assert_success("cache", &out);
    // No cache memory: every action recomputes from the lineage.
    assert_eq!(computations(dir.path()), 12);
}

#[test]
fn aggregations_larger_than_memory_spill_and_stay_correct() {
    let out = local_command(JOBS)
        .arg("spill")
        .env("SPINDLE_SHUFFLE_MEMORY_MB", "1")
        .env("SPINDLE_VERBOSE", "1")
        .output()
        .unwrap();
    let stdout = assert_success("spill", &out);
    assert!(
        stdout.contains("spill job 150000 keys, correct"),
        "{stdout}"
    );
    let stderr = text(&out.stderr);
    assert!(stderr.contains("spilled map-side"), "{stderr}");
    assert!(stderr.contains("spilled reduce-side"), "{stderr}");
}

#[test]
fn sort_group_and_join_larger_than_memory_spill_sorted_runs_and_merge_them() {
    // Executors keep their local dirs under TMPDIR: a directory of our own,
    // so the spill files named in the log can be looked for afterwards.
    let tmp = tempfile::tempdir().unwrap();
    let out = local_command(JOBS)
        .arg("external-sort")
        .env("SPINDLE_SHUFFLE_MEMORY_MB", "1")
        .env("SPINDLE_VERBOSE", "1")
        .env("TMPDIR", tmp.path())
        .output()
        .unwrap();
    let stdout = assert_success("external-sort", &out);
    assert!(
        stdout.contains(
            "external sort: sort correct, group correct, join correct, spill files left 0"
        ),
        "{stdout}"
    );
    let stderr = text(&out.stderr);
    // The join's build side did not fit: it fell back to co-grouping, which spilled.
    assert!(
        stderr.contains("join's build side exceeds the memory limit; co-grouping instead"),
        "{stderr}"
    );
    for op in ["sort_by_key", "group_by_key", "cogroup"] {
        assert!(
            stderr.contains(&format!("{op} spilled")),
            "{op} spilled no runs:\n{stderr}"
        );
    }
    // Every run the executors wrote is named in the log, was not empty, and is gone.
    let runs: Vec<&str> = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("spindle: spilled sorted run "))
        .collect();
    assert!(runs.len() >= 6, "{stderr}");
    for r in runs {
        let (path, rest) = r.split_once(" (").unwrap();
        assert!(path.starts_with(tmp.path().to_str().unwrap()), "{path}");
        assert!(!rest.starts_with("0 records"), "{r}");
        assert!(!std::path::Path::new(path).exists(), "{path} left behind");
    }
}
