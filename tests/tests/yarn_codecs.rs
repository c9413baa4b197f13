//! Compressed text and Hadoop's paths against code nobody here wrote, on the real cluster:
//! files written by Hadoop's own Java codecs (pure Java: gzip, two concatenated gzip members,
//! bzip2, snappy and lz4 in Hadoop's block framing, deflate) are read by a Spindle job, on YARN
//! through a comma-separated list of globs without a scheme (fs.defaultFS in the containers), and
//! in local mode through a directory without a scheme (fs.defaultFS of HADOOP_CONF_DIR; its
//! `_SUCCESS` and `.hidden.gz` skipped) into a relative output (the user's HDFS home); every file
//! Spindle writes with each codec is read back by Hadoop's TextInputFormat and LineRecordReader
//! (gzip, bzip2, snappy, lz4, deflate) or by Debian's `zstd` CLI (zstd). One YARN application.
//! SequenceFiles written by Hadoop's `SequenceFile.Writer` (Text and BytesWritable; uncompressed,
//! record- and block-compressed with each pure-Java codec) are read by a job in local mode.

use std::io::Write;
use std::process::{Command, Stdio};

use spindle_tests::{
    binary, block_on, hadoop, hdfs_client, hdfs_read, java_peer, java_peer_ok, local_command,
    random_words, run_ok, spindle_command, text,
};

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort_unstable();
    v
}

/// `lines` repeated `times` times, sorted.
fn times(lines: &[String], times: usize) -> Vec<String> {
    sorted((0..times).flat_map(|_| lines.iter().cloned()).collect())
}

/// The names in an HDFS directory.
fn names(dir: &str) -> Vec<String> {
    let client = hdfs_client(hadoop());
    let list = block_on(client.list_status(dir, false)).unwrap_or_else(|e| panic!("{dir}: {e}"));
    sorted(
        list.iter()
            .map(|s| s.path.rsplit('/').next().unwrap().to_string())
            .collect(),
    )
}

/// Checks what the `codecs` job wrote under `out` (an HDFS path): its plain copy of the input,
/// the five codecs Hadoop has in pure Java through TextInputFormat, zstd through the CLI.
fn check_outputs(out: &str, want: &[String]) {
    let fs = hadoop().fs_uri().trim_end_matches('/');
    let plain = java_peer_ok(
        "dev.spindle.peers.CodecRead",
        &[&format!("{fs}{out}/plain")],
    );
    assert_eq!(
        sorted(plain.lines().map(String::from).collect()),
        want,
        "{out}/plain"
    );

    let hadoop_codecs = ["gzip", "bzip2", "snappy", "lz4", "deflate"];
    let list: Vec<String> = hadoop_codecs
        .iter()
        .map(|c| format!("{fs}{out}/{c}"))
        .collect();
    let read = java_peer("dev.spindle.peers.CodecRead", &[&list.join(",")]);
    let err = text(&read.stderr);
    assert!(read.status.success(), "CodecRead: {err}");
    let got = sorted(text(&read.stdout).lines().map(String::from).collect());
    assert_eq!(got.len(), want.len() * 5, "{err}");
    assert_eq!(got, times(want, 5), "what Hadoop read of {out}");
    for (codec, class, ext) in [
        ("gzip", "GzipCodec", ".gz"),
        ("bzip2", "BZip2Codec", ".bz2"),
        ("snappy", "SnappyCodec", ".snappy"),
        ("lz4", "Lz4Codec", ".lz4"),
        // `.deflate` maps to DeflateCodec, DefaultCodec's subclass of the same format.
        ("deflate", "DeflateCodec", ".deflate"),
    ] {
        // Hadoop picked the codec by the part files' extension.
        let split = err
            .lines()
            .find(|l| l.contains(&format!("{out}/{codec}/part-")))
            .unwrap_or_else(|| panic!("no split of {codec}: {err}"));
        assert!(
            split.contains(ext)
                && split.ends_with(&format!("codec=org.apache.hadoop.io.compress.{class}")),
            "{split}"
        );
        let parts = names(&format!("{out}/{codec}"));
        assert!(parts.contains(&"_SUCCESS".to_string()), "{parts:?}");
        assert!(
            parts
                .iter()
                .filter(|n| n.starts_with("part-"))
                .all(|n| n.ends_with(ext)),
            "{parts:?}"
        );
    }

    // zstd: every part through Debian's reference CLI.
    let client = hdfs_client(hadoop());
    let mut lines = Vec::new();
    for name in names(&format!("{out}/zstd")) {
        if !name.starts_with("part-") {
            continue;
        }
        assert!(name.ends_with(".zst"), "{name}");
        let bytes = block_on(hdfs_read(&client, &format!("{out}/zstd/{name}")));
        let mut z = Command::new("zstd")
            .args(["-d", "-c", "-q"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("zstd (scripts/setup installs it)");
        let mut stdin = z.stdin.take().unwrap();
        let feeder = std::thread::spawn(move || stdin.write_all(&bytes));
        let o = z.wait_with_output().unwrap();
        feeder.join().unwrap().unwrap();
        assert!(o.status.success(), "zstd -d {name}: {}", text(&o.stderr));
        lines.extend(text(&o.stdout).lines().map(String::from));
    }
    assert_eq!(sorted(lines), want, "what zstd read of {out}/zstd");
}

#[test]
fn hadoops_codecs_and_paths_both_ways() {
    let h = hadoop();
    let _logs = h.log_guard();
    let pid = std::process::id();
    let base = format!("/codec-tests/{pid}");
    // About 1 MB of text: half of it goes in one write, over a snappy/lz4 block.
    let (input, _) = random_words(20_000, 22);
    let lines: Vec<String> = input.lines().map(String::from).collect();
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("lines.txt");
    std::fs::write(&src, &input).unwrap();
    let wrote = java_peer_ok(
        "dev.spindle.peers.CodecWrite",
        &[src.to_str().unwrap(), &format!("{base}/java")],
    );
    // Hadoop's codecs in pure Java (the Maven jars have no libhadoop).
    assert!(wrote.contains("native=false"), "{wrote}");
    assert_eq!(wrote.matches("file=").count(), 6, "{wrote}");
    // lines.{gz,bz2,snappy,lz4,deflate} and concat.gz: every line six times.
    let want = times(&lines, 6);

    // Local mode against HDFS: paths without a scheme are in fs.defaultFS; a relative output
    // is under the user's home.
    let user = spindle_hadoop::user::current_user();
    let rel = format!("codec-tests-{pid}/local");
    run_ok(
        "spindle-testjobs codecs in local mode",
        local_command(binary("spindle-testjobs"))
            .args(["codecs", &format!("{base}/java"), &rel])
            .env("HADOOP_CONF_DIR", h.conf_dir())
            .env_remove("YARN_CONF_DIR"),
    );
    check_outputs(&format!("/user/{user}/{rel}"), &want);

    // On YARN: a comma-separated list of globs, resolved in the containers' fs.defaultFS.
    let j = format!("{base}/java");
    let input = format!(
        "{j}/lines.{{gz,bz2,snappy}},{j}/*.lz4,{j}/l?nes.deflate,{j}/conc[a-z]t.{{gz,zst}}"
    );
    let out = format!("{base}/yarn");
    let run = spindle_command(hadoop().conf_dir())
        .args(["submit", "--master", "yarn", "--num-executors", "2"])
        .args(["--driver-memory", "128m", "--executor-memory", "128m"])
        .args(["--conf", "spindle.executor.memoryOverhead=64m"])
        .args(["--conf", "spindle.driver.memoryOverhead=64m"])
        .arg(binary("spindle-testjobs"))
        .args([
            "codecs",
            &input,
            &format!("{}{out}", h.fs_uri().trim_end_matches('/')),
        ])
        .output()
        .unwrap();
    let err = text(&run.stderr);
    assert!(run.status.success(), "spindle submit codecs: {err}");
    assert!(err.contains("FINISHED, final status Succeeded"), "{err}");
    check_outputs(&out, &want);

    let client = hdfs_client(h);
    for dir in [base, format!("/user/{user}/codec-tests-{pid}")] {
        let _ = block_on(client.delete(&dir, true));
    }
}

#[test]
fn hadoops_sequence_files_are_read() {
    let h = hadoop();
    let _logs = h.log_guard();
    let pid = std::process::id();
    let base = format!("/seqfile-tests/{pid}");
    let n = 3000;
    let wrote = java_peer_ok(
        "dev.spindle.peers.SeqWrite",
        &[&format!("{base}/in"), &n.to_string()],
    );
    // Per kind: uncompressed, and record and block with 5 codecs each.
    assert_eq!(wrote.matches("file=").count(), 22, "{wrote}");
    let records: Vec<String> = (0..n)
        .map(|i| format!("key-{i}\tvalue {i} {}", "x".repeat(i % 50)))
        .collect();
    let want = times(&records, 11);
    let fs = h.fs_uri().trim_end_matches('/');
    run_ok(
        "spindle-testjobs seqfiles",
        local_command(binary("spindle-testjobs"))
            .args([
                "seqfiles",
                &format!("{fs}{base}/in"),
                &format!("{fs}{base}/out"),
            ])
            .env_remove("HADOOP_CONF_DIR")
            .env_remove("YARN_CONF_DIR"),
    );
    for kind in ["text", "bytes"] {
        let got = java_peer_ok(
            "dev.spindle.peers.FsCat",
            &[&format!("{fs}{base}/out/{kind}")],
        );
        assert_eq!(
            sorted(got.lines().map(String::from).collect()),
            want,
            "{kind}"
        );
    }
    let _ = block_on(hdfs_client(h).delete(&base, true));
}
