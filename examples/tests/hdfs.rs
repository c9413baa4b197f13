//! text_file and save_as_text_file against a real HDFS: the mini-Hadoop of
//! the spindle-tests harness (the one scripts/test starts, or one of this
//! test's own); the input is written and the output read back with
//! hdfs-native, an independent client.

mod common;

use std::collections::BTreeMap;

#[test]
fn wordcount_reads_hdfs_split_by_block_and_commits_its_output_there() {
    let hadoop = spindle_tests::hadoop();
    let _logs = hadoop.log_guard();
    let fs = hadoop.fs_uri().trim_end_matches('/').to_string();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = hdfs_native::ClientBuilder::new()
        .with_url(&fs)
        .build()
        .unwrap();
    let base = format!("/spindle-e2e-wordcount-{}", std::process::id());

    // About 3 MiB in 1 MiB blocks, so lines cross block (and split) boundaries.
    let mut rng = common::Rng(3);
    let mut text = String::new();
    while text.len() < 3 << 20 {
        let n = 1 + rng.below(12);
        let words: Vec<String> = (0..n).map(|_| format!("h{}", rng.below(5000))).collect();
        text.push_str(&words.join(" "));
        text.push('\n');
    }
    let mut expected: BTreeMap<String, u64> = BTreeMap::new();
    for w in text.split_whitespace() {
        *expected.entry(w.to_string()).or_default() += 1;
    }
    rt.block_on(async {
        let opts = hdfs_native::WriteOptions {
            block_size: Some(1 << 20),
            ..Default::default()
        };
        let mut w = client
            .create(&format!("{base}/in/words.txt"), opts)
            .await
            .unwrap();
        w.write_bytes(bytes::Bytes::from(text.clone()))
            .await
            .unwrap();
        w.close().await.unwrap();
    });

    let input = format!("{fs}{base}/in");
    let output = format!("{fs}{base}/out");
    let run = common::run(env!("CARGO_BIN_EXE_wordcount"), &[&input, &output]);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        common::check(&run);
        let (names, got) = rt.block_on(async {
            let mut names: Vec<String> = client
                .list_status(&format!("{base}/out"), false)
                .await
                .unwrap()
                .into_iter()
                .map(|s| s.path.rsplit('/').next().unwrap().to_string())
                .collect();
            names.sort();
            let mut got: BTreeMap<String, u64> = BTreeMap::new();
            for n in names.iter().filter(|n| n.starts_with("part-")) {
                let r = client.read(&format!("{base}/out/{n}")).await.unwrap();
                let bytes = r.read_range(0, r.file_length()).await.unwrap();
                for line in String::from_utf8(bytes.to_vec()).unwrap().lines() {
                    let (w, c) = line.split_once('\t').unwrap();
                    assert!(got.insert(w.to_string(), c.parse().unwrap()).is_none());
                }
            }
            (names, got)
        });
        assert!(names.contains(&"_SUCCESS".to_string()), "{names:?}");
        assert!(!names.contains(&"_temporary".to_string()), "{names:?}");
        assert_eq!(got, expected);

        // Writing again to the same place is refused and changes nothing.
        let again = common::run(env!("CARGO_BIN_EXE_wordcount"), &[&input, &output]);
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
    let hadoop = spindle_tests::hadoop();
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
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = hdfs_native::ClientBuilder::new()
        .with_url(&fs)
        .build()
        .unwrap();
    rt.block_on(async {
        let mut w = client
            .create(
                &format!("{base}/in/a.txt"),
                hdfs_native::WriteOptions::default(),
            )
            .await
            .unwrap();
        w.write_bytes(bytes::Bytes::from_static(b"a b\nb c\n"))
            .await
            .unwrap();
        w.close().await.unwrap();
    });
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_wordcount"))
        .args([format!("{fs}{base}/in"), format!("{fs}{base}/out")])
        .env("SPINDLE_MASTER", "local[2]")
        .env("HADOOP_CONF_DIR", conf.path())
        .env_remove("SPINDLE_ROLE")
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
    common::check(&run);
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
