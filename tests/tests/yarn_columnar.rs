//! Parquet, CSV and JSON lines against code nobody here wrote (tests/python/columnar.py):
//! files written by pyarrow (Parquet in four row groups with a column the job's record type
//! lacks, CSV), by Python's json module (JSON lines) and by Spark (a Parquet directory) are read
//! by a Spindle job record by record, and the Parquet, CSV and JSON-lines directories Spindle
//! writes are read back by pyarrow and, for Parquet, by Spark. In local mode on local files, and
//! on YARN with the inputs in HDFS (the Parquet file in 1 MiB blocks: one split per row group, each
//! placed on the DataNodes holding it). Damaged inputs fail in one line naming the file (and the
//! line's offset). pyarrow and pyspark live in the ignored `.venv` that scripts/setup fills.

use std::path::Path;
use std::process::Command;

use spindle_tests::{
    binary, block_on, hadoop, hdfs_client, hdfs_read, hdfs_write, local_command, repo_root, run_ok,
    spindle_command, text,
};

/// The record type of the job's inputs (its fields are the columns a Parquet split reads).
#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct Event {
    #[allow(dead_code)]
    id: i64,
    #[allow(dead_code)]
    name: String,
    #[allow(dead_code)]
    score: Option<f64>,
}

/// tests/python/columnar.py run by the venv's Python.
fn peer(args: &[&str]) -> String {
    let root = repo_root();
    let python = root.join(".venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/setup (it installs pyarrow and pyspark there)",
        python.display()
    );
    run_ok(
        &format!("columnar.py {}", args.join(" ")),
        Command::new(python)
            .arg(root.join("tests/python/columnar.py"))
            .args(args),
    )
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Runs `columnar-count FORMAT PATH` on a bad input; the one line naming the problem.
fn failure(format: &str, input: &Path) -> String {
    let out = local_command(binary("spindle-testjobs"))
        .args(["columnar-count", format, path(input)])
        .env_remove("HADOOP_CONF_DIR")
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert!(!out.status.success(), "{format} {input:?} was read: {err}");
    let name = input.file_name().unwrap().to_str().unwrap();
    let lines: Vec<&str> = err.lines().filter(|l| l.contains(name)).collect();
    assert!(!lines.is_empty(), "no line names {name}: {err}");
    lines[0].to_string()
}

#[test]
fn pyarrow_and_spark_files_both_ways_in_local_mode() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    let n = 600;
    let wrote = peer(&["write", path(&input), &n.to_string()]);
    assert!(wrote.contains("row_groups=4"), "{wrote}");
    let spark_in = tmp.path().join("spark");
    peer(&["spark-write", path(&spark_in), &n.to_string()]);

    let out = tmp.path().join("out");
    let job = local_command(binary("spindle-testjobs"))
        .args(["columnar", path(&input), path(&out), path(&spark_in)])
        .env_remove("HADOOP_CONF_DIR")
        .output()
        .unwrap();
    let err = text(&job.stderr);
    assert!(job.status.success(), "columnar in local mode: {err}");
    // A partition per row group (min_partitions 64); every record of pyarrow's Parquet, CSV,
    // Python's JSON lines and Spark's Parquet checked against the same rule.
    assert!(err.contains("columnar: parquet partitions 4"), "{err}");
    assert!(err.contains("columnar: 5 checks passed, 600 rows"), "{err}");
    let read = peer(&["read", path(&out), &n.to_string()]);
    for want in ["ok parquet 600", "ok csv 600", "ok json 600"] {
        assert!(read.contains(want), "{read}");
    }
    // Plain Arrow types: what pyarrow and Spark write themselves.
    assert!(
        read.contains("parquet schema: id:int64, name:string, score:double"),
        "{read}"
    );
    let spark = peer(&["spark-read", path(&out), &n.to_string()]);
    assert!(spark.contains("ok spark parquet 600"), "{spark}");

    // Damaged inputs: one line naming the file, and where the bad record is.
    let bad = tmp.path().join("bad");
    std::fs::create_dir_all(&bad).unwrap();
    let whole = std::fs::read(input.join("parquet/events.parquet")).unwrap();
    let truncated = bad.join("truncated.parquet");
    std::fs::write(&truncated, &whole[..whole.len() - 100]).unwrap();
    let line = failure("parquet", &truncated);
    assert!(line.contains("truncated.parquet (Parquet): "), "{line}");

    let csv = bad.join("columns.csv");
    // The bad row is in the first split (split at byte 16 of 32): its line number is known.
    std::fs::write(&csv, "id,name,score\n2,b,1.0,9\n1,a,0.5\n").unwrap();
    let line = failure("csv", &csv);
    assert!(
        line.contains("columns.csv (CSV): the line at byte 14 (line 2): ")
            && line.contains("incorrect number of fields, expected 3 got more than 3"),
        "{line}"
    );

    let json = bad.join("array.json");
    std::fs::write(&json, "{\"id\":1,\"name\":\"a\"}\n[1,2,3]\n").unwrap();
    let line = failure("json", &json);
    // In the second split (from byte 14): the offset, no line number.
    assert!(
        line.contains("array.json (JSON lines): the line at byte 20: "),
        "{line}"
    );
}

#[test]
fn parquet_from_hdfs_on_yarn() {
    let h = hadoop();
    let _logs = h.log_guard();
    let pid = std::process::id();
    let base = format!("/columnar-tests/{pid}");
    let fs = h.fs_uri().trim_end_matches('/');
    let tmp = tempfile::tempdir().unwrap();
    let local_in = tmp.path().join("in");
    // 4 row groups of about 1 MiB: a 96-character payload per row (hex: snappy halves it).
    let n = 40_000;
    let wrote = peer(&["write", path(&local_in), &n.to_string(), "96"]);
    assert!(wrote.contains("row_groups=4"), "{wrote}");

    let client = hdfs_client(h);
    for (dir, file) in [
        ("parquet", "events.parquet"),
        ("csv", "events.csv"),
        ("json", "events.jsonl"),
    ] {
        let bytes = std::fs::read(local_in.join(dir).join(file)).unwrap();
        let opts = hdfs_native::WriteOptions::default().block_size(1 << 20);
        block_on(hdfs_write(
            &client,
            &format!("{base}/in/{dir}/{file}"),
            &bytes,
            opts,
        ));
    }

    // One split per row group (the split size is far below a row group), each on the
    // DataNodes holding its bytes.
    let url = format!("{fs}{base}/in/parquet");
    let splits = spindle_core::io::plan_parquet_splits::<Event>(&url, 64).unwrap();
    assert_eq!(splits.len(), 4, "{splits:?}");
    for s in &splits {
        assert!(!s.hosts.is_empty(), "a split without hosts: {s:?}");
        assert!(s.len > 500_000, "{s:?}");
    }

    let run = spindle_command(h.conf_dir())
        .args(["submit", "--master", "yarn", "--num-executors", "2"])
        .args(["--driver-memory", "128m", "--executor-memory", "128m"])
        .args(["--conf", "spindle.executor.memoryOverhead=64m"])
        .args(["--conf", "spindle.driver.memoryOverhead=64m"])
        .arg(binary("spindle-testjobs"))
        .args([
            "columnar",
            &format!("{fs}{base}/in"),
            &format!("{fs}{base}/out"),
        ])
        .output()
        .unwrap();
    let err = text(&run.stderr);
    assert!(run.status.success(), "spindle submit columnar: {err}");
    assert!(err.contains("FINISHED, final status Succeeded"), "{err}");

    // Spindle's output, copied out of HDFS, read by pyarrow.
    let local_out = tmp.path().join("out");
    for dir in ["parquet", "csv", "json"] {
        std::fs::create_dir_all(local_out.join(dir)).unwrap();
        let list = block_on(client.list_status(&format!("{base}/out/{dir}"), false)).unwrap();
        assert!(!list.is_empty(), "{dir}");
        for st in list {
            let name = st.path.rsplit('/').next().unwrap().to_string();
            let bytes = block_on(hdfs_read(&client, &format!("{base}/out/{dir}/{name}")));
            std::fs::write(local_out.join(dir).join(&name), bytes).unwrap();
        }
    }
    let read = peer(&["read", path(&local_out), &n.to_string()]);
    for want in ["ok parquet 40000", "ok csv 40000", "ok json 40000"] {
        assert!(read.contains(want), "{read}");
    }
    let _ = block_on(client.delete(&base, true));
}
