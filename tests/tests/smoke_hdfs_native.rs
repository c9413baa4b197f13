//! hdfs-native (an independent Rust HDFS client) and Hadoop's Java FileSystem exchange a 300 MB
//! file with 64 MB blocks in both directions, byte-identical (SHA-256).

use bytes::Bytes;
use hdfs_native::WriteOptions;
use sha2::{Digest, Sha256};
use spindle_tests::{StarRng, hadoop, hdfs_client, hex, java_peer_ok, kv_words};

const LEN: usize = 300 * 1024 * 1024;
const BLOCK: u64 = 64 * 1024 * 1024;
const CHUNK: usize = 1024 * 1024;

#[tokio::test(flavor = "current_thread")]
async fn hdfs_native_writes_300mb_and_java_reads_it_back_identical() {
    let h = hadoop();
    let _logs = h.log_guard();
    let fs = hdfs_client(h);
    let path = format!("/smoke/hdfs-native-{}.bin", std::process::id());
    let opts = WriteOptions::default()
        .block_size(BLOCK)
        .overwrite(true)
        .create_parent(true);
    let mut writer = fs.create(&path, opts).await.expect("create");
    let mut sha = Sha256::new();
    let mut rng = StarRng(0x5EED_0001);
    let mut buf = vec![0u8; CHUNK];
    for _ in 0..LEN / CHUNK {
        rng.fill(&mut buf);
        sha.update(&buf);
        writer
            .write_bytes(Bytes::copy_from_slice(&buf))
            .await
            .expect("write");
    }
    writer.close().await.expect("close");
    let ours = hex(&sha.finalize());

    let out = java_peer_ok("dev.spindle.peers.FsDigest", &[&path]);
    let java = kv_words(&out);
    assert_eq!(java["sha256"], ours, "Java read different bytes: {out}");
    assert_eq!(java["length"], LEN.to_string(), "{out}");
    assert_eq!(java["blocksize"], BLOCK.to_string(), "{out}");
    assert_eq!(java["blocks"], "5", "300 MB in 64 MB blocks: {out}");
    fs.delete(&path, false).await.expect("delete");
}

#[tokio::test(flavor = "current_thread")]
async fn java_writes_300mb_and_hdfs_native_reads_it_back_identical() {
    let h = hadoop();
    let _logs = h.log_guard();
    let path = format!("/smoke/java-{}.bin", std::process::id());
    let out = java_peer_ok(
        "dev.spindle.peers.FsWriteRandom",
        &[&path, &LEN.to_string(), &BLOCK.to_string(), "42"],
    );
    let theirs = kv_words(&out)["sha256"].clone();

    let fs = hdfs_client(h);
    let status = fs.get_file_info(&path).await.expect("file info");
    assert_eq!(status.length, LEN, "length seen by hdfs-native");
    assert_eq!(
        status.blocksize,
        Some(BLOCK),
        "block size seen by hdfs-native"
    );
    let mut reader = fs.read(&path).await.expect("open");
    let mut sha = Sha256::new();
    let mut total = 0;
    while reader.remaining() > 0 {
        let chunk = reader.read_bytes(4 * CHUNK).await.expect("read");
        assert!(!chunk.is_empty(), "empty read at {total}");
        total += chunk.len();
        sha.update(&chunk);
    }
    assert_eq!(total, LEN);
    assert_eq!(
        hex(&sha.finalize()),
        theirs,
        "hdfs-native read different bytes"
    );
    fs.delete(&path, false).await.expect("delete");
}
