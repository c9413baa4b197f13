//! hdfs-native (an independent Rust HDFS client) and Hadoop's Java FileSystem exchange a 300 MB
//! file with 64 MB blocks in both directions, byte-identical (SHA-256).

use bytes::Bytes;
use hdfs_native::{Client, ClientBuilder, WriteOptions};
use sha2::{Digest, Sha256};
use spindle_tests::{hadoop, java_peer_ok};

const LEN: usize = 300 * 1024 * 1024;
const BLOCK: u64 = 64 * 1024 * 1024;
const CHUNK: usize = 1024 * 1024;

fn client() -> Client {
    let h = hadoop();
    ClientBuilder::new()
        .with_url(h.fs_uri())
        .with_config_dir(h.conf_dir().to_string_lossy())
        .build()
        .expect("hdfs-native client")
}

/// Deterministic pseudo-random bytes (xorshift64*), so a failure can be reproduced.
fn fill(state: &mut u64, buf: &mut [u8]) {
    for word in buf.chunks_mut(8) {
        *state ^= *state >> 12;
        *state ^= *state << 25;
        *state ^= *state >> 27;
        let v = state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes();
        word.copy_from_slice(&v[..word.len()]);
    }
}

/// Parses the `key=value` words of a Java peer's output line.
fn field<'a>(out: &'a str, key: &str) -> &'a str {
    out.split_whitespace()
        .find_map(|w| w.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
        .unwrap_or_else(|| panic!("no {key}= in Java output: {out}"))
}

#[tokio::test(flavor = "current_thread")]
async fn hdfs_native_writes_300mb_and_java_reads_it_back_identical() {
    let h = hadoop();
    let _logs = h.log_guard();
    let fs = client();
    let path = format!("/smoke/hdfs-native-{}.bin", std::process::id());
    let opts = WriteOptions::default()
        .block_size(BLOCK)
        .overwrite(true)
        .create_parent(true);
    let mut writer = fs.create(&path, opts).await.expect("create");
    let mut sha = Sha256::new();
    let mut state = 0x5EED_0001_u64;
    let mut buf = vec![0u8; CHUNK];
    for _ in 0..LEN / CHUNK {
        fill(&mut state, &mut buf);
        sha.update(&buf);
        writer
            .write_bytes(Bytes::copy_from_slice(&buf))
            .await
            .expect("write");
    }
    writer.close().await.expect("close");
    let ours = hex(&sha.finalize());

    let out = java_peer_ok("dev.spindle.peers.FsDigest", &[&path]);
    assert_eq!(
        field(&out, "sha256"),
        ours,
        "Java read different bytes: {out}"
    );
    assert_eq!(field(&out, "length"), LEN.to_string(), "{out}");
    assert_eq!(field(&out, "blocksize"), BLOCK.to_string(), "{out}");
    assert_eq!(field(&out, "blocks"), "5", "300 MB in 64 MB blocks: {out}");
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
    let theirs = field(&out, "sha256").to_string();

    let fs = client();
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

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
