//! HDFS through hdfs-native, an independent Rust client: the cluster's input and output are
//! written and read with code Spindle does not share.

use bytes::Bytes;
use hdfs_native::{Client, ClientBuilder, WriteOptions};

use crate::cluster::MiniHadoop;

/// An hdfs-native client of `cluster`'s NameNode, configured from its client configuration.
pub fn hdfs_client(cluster: &MiniHadoop) -> Client {
    ClientBuilder::new()
        .with_url(cluster.fs_uri())
        .with_config_dir(cluster.conf_dir().to_string_lossy())
        .build()
        .expect("hdfs-native client")
}

/// Writes `data` to `path`, replacing what is there and creating parent directories.
pub async fn hdfs_put(fs: &Client, path: &str, data: &[u8]) {
    let opts = WriteOptions::default().overwrite(true).create_parent(true);
    hdfs_write(fs, path, data, opts).await
}

/// Writes `data` to `path` with `opts` (block size, replication, …), in chunks of 8 MiB.
pub async fn hdfs_write(fs: &Client, path: &str, data: &[u8], opts: WriteOptions) {
    let mut w = fs
        .create(path, opts)
        .await
        .unwrap_or_else(|e| panic!("hdfs-native create {path}: {e}"));
    for chunk in data.chunks(8 << 20) {
        w.write_bytes(Bytes::copy_from_slice(chunk))
            .await
            .unwrap_or_else(|e| panic!("hdfs-native write {path}: {e}"));
    }
    w.close()
        .await
        .unwrap_or_else(|e| panic!("hdfs-native close {path}: {e}"));
}

/// The whole of file `path`, read in chunks of 1 MiB (an empty read before the end panics).
pub async fn hdfs_read(fs: &Client, path: &str) -> Vec<u8> {
    let mut r = fs
        .read(path)
        .await
        .unwrap_or_else(|e| panic!("hdfs-native open {path}: {e}"));
    let mut got = Vec::new();
    while r.remaining() > 0 {
        let chunk = r
            .read_bytes(1024 * 1024)
            .await
            .unwrap_or_else(|e| panic!("hdfs-native read {path}: {e}"));
        assert!(!chunk.is_empty(), "{path}: empty read at {}", got.len());
        got.extend_from_slice(&chunk);
    }
    got
}
