//! text_file and save_as_text_file against a real HDFS: the mini-Hadoop of
//! the spindle-tests harness (the one scripts/test starts, or one of this
//! test's own); the input is written and the output read back with
//! hdfs-native, an independent client.

use std::collections::BTreeMap;

use spindle_tests::{
    Rng, assert_success, count_words, hadoop, hdfs_client, hdfs_write, local_command, parse_counts,
    run_local, runtime,
};

const WORDCOUNT: &str = env!("CARGO_BIN_EXE_wordcount");

#[test]
fn wordcount_reads_hdfs_split_by_block_and_commits_its_output_there() {
    let hadoop = hadoop();
    let _logs = hadoop.log_guard();
    let fs = hadoop.fs_uri().trim_end_matches('/').to_string();
    let rt = runtime();
    let client = hdfs_client(hadoop);
    let base = format!("/spindle-e2e-wordcount-{}", std::process::id());

    // About 3 MiB in 1 MiB blocks, so lines cross block (and split) boundaries.
    let mut rng = Rng(3);
    let mut text = String::new();
    while text.len() < 3 << 20 {
        let n = 1 + rng.below(12);
        let words: Vec<String> = (0..n).map(|_| format!("h{}", rng.below(5000))).collect();
        text.push_str(&words.join(" "));
        text.push('\n');
    }
    let expected = count_words(&text);
    let opts = hdfs_native::WriteOptions {
        block_size: Some(1 << 20),
        ..Default::default()
    };
    rt.block_on(hdfs_write(
        &client,
        &format!("{base}/in/words.txt"),
        text.as_bytes(),
        opts,
    ));

    let input = format!("{fs}{base}/in");
    let output = format!("{fs}{base}/out");
    let run = run_local(WORDCOUNT, &[&input, &output]);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        assert_success("wordcount", &run);
        let (names, lines) = rt.block_on(async {
            let mut names: Vec<String> = client
                .list_status(&format!("{base}/out"), false)
                .await
                .unwrap()
                .into_iter()
                .map(|s| s.path.rsplit('/').next().unwrap().to_string())
                .collect();
            names.sort();
            let mut lines = Vec::new();
            for n in names.iter().filter(|n| n.starts_with("part-")) {
                let r = client.read(&format!("{base}/out/{n}")).await.unwrap();
                let bytes = r.read_range(0, r.file_length()).await.unwrap();
                let text = String::from_utf8(bytes.to_vec()).unwrap();
                lines.extend(text.lines().map(str::to_string));
            }
            (names, lines)
        });
        assert!(names.contains(&"_SUCCESS".to_string()), "{names:?}");
        assert!(!names.contains(&"_temporary".to_string()), "{names:?}");
        assert_eq!(parse_counts(lines.iter().map(String::as_str)), expected);

        // Writing again to the same place is refused and changes nothing.
        let again = run_local(WORDCOUNT, &[&input, &output]);
        assert!(!again.status.success());
        let stderr = String::from_utf8_lossy(&again.stderr);
        assert_eq!(
            stderr.trim_end(),
            format!("spindle: output path already exists: {output}")
        );
    }));
    rt.block_on(async {
        let _ = client.delete(&base, true).await;
    });
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}

/// Output directories and files follow `fs.permissions.umask-mode`, as Hadoop's client applies it.
#[test]
fn output_permissions_follow_the_configured_umask() {
    let hadoop = hadoop();
    let fs = hadoop.fs_uri().trim_end_matches('/').to_string();
    let conf = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(hadoop.conf_dir()).unwrap().flatten() {
        let name = e.file_name();
        let text = std::fs::read_to_string(e.path()).unwrap_or_default();
        let text = if name == "core-site.xml" {
            text.replace(
                "</configuration>",
                "<property><name>fs.permissions.umask-mode</name><value>027</value></property>\
                 </configuration>",
            )
        } else {
            text
        };
        std::fs::write(conf.path().join(name), text).unwrap();
    }
    let base = format!("/spindle-e2e-umask-{}", std::process::id());
    let rt = runtime();
    let client = hdfs_client(hadoop);
    rt.block_on(hdfs_write(
        &client,
        &format!("{base}/in/a.txt"),
        b"a b\nb c\n",
        hdfs_native::WriteOptions::default(),
    ));
    let run = local_command(WORDCOUNT)
        .args([format!("{fs}{base}/in"), format!("{fs}{base}/out")])
        .env("HADOOP_CONF_DIR", conf.path())
        .output()
        .unwrap();
    let modes = rt.block_on(async {
        let mut modes = BTreeMap::new();
        modes.insert(
            "out".to_string(),
            client
                .get_file_info(&format!("{base}/out"))
                .await
                .map(|s| s.permission),
        );
        for s in client
            .list_status(&format!("{base}/out"), false)
            .await
            .unwrap_or_default()
        {
            let name = s.path.rsplit('/').next().unwrap().to_string();
            modes.insert(name, Ok(s.permission));
        }
        let _ = client.delete(&base, true).await;
        modes
    });
    assert_success("wordcount", &run);
    let modes: BTreeMap<String, u16> = modes.into_iter().map(|(k, v)| (k, v.unwrap())).collect();
    assert_eq!(modes["out"], 0o750, "{modes:?}");
    assert_eq!(modes["_SUCCESS"], 0o640, "{modes:?}");
    assert!(modes.keys().any(|k| k.starts_with("part-")), "{modes:?}");
    for (name, mode) in &modes {
        if name.starts_with("part-") {
            assert_eq!(*mode, 0o640, "{name}: {modes:?}");
        }
    }
}
