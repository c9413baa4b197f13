//! Spindle's NameNode client against the real NameNode, judged by Hadoop's own Java
//! `FileSystem`: block locations of a multi-block file, file status and server defaults agree, and
//! a delegation token fetched by Spindle is accepted by Java (it reads a private file with it as
//! another user), renews, and stops working once Spindle cancels it.

use std::collections::BTreeSet;

use spindle_hadoop::ipc::Auth;
use spindle_hadoop::namenode::{FileKind, NameNodeClient};
use spindle_tests::{
    MiniHadoop, hadoop, java_peer, java_peer_ok, kv_lines, kv_words, rm_conf, runtime,
};

const PEER: &str = "dev.spindle.peers.WireHdfs";

fn client(h: &MiniHadoop) -> NameNodeClient {
    NameNodeClient::from_config(&rm_conf(h), Auth::simple()).unwrap()
}

/// A file of `len` random bytes in 1 MiB blocks, written by Hadoop's Java client.
fn java_file(path: &str, len: u64) {
    java_peer_ok(
        "dev.spindle.peers.FsWriteRandom",
        &[path, &len.to_string(), "1048576", "7"],
    );
}

#[test]
fn block_locations_equal_javas_file_block_locations() {
    let h = hadoop();
    let _logs = h.log_guard();
    let path = "/wire-rpc/blocks.bin";
    let len = 3 * 1024 * 1024 + 123_456;
    java_file(path, len);
    let nn = client(h);
    let rt = runtime();
    let ours = rt.block_on(nn.block_locations(path, 0, len)).unwrap();
    assert_eq!(ours.file_length, len);
    assert!(!ours.under_construction);
    assert_eq!(ours.blocks.len(), 4, "{ours:?}");

    let java = java_peer_ok(PEER, &["blocks", path]);
    let java_blocks: Vec<(u64, u64, BTreeSet<String>, BTreeSet<String>)> = java
        .lines()
        .filter(|l| l.starts_with("block "))
        .map(|l| {
            let f = kv_words(l);
            let set = |k: &str| f[k].split(',').map(str::to_string).collect::<BTreeSet<_>>();
            (
                f["offset"].parse().unwrap(),
                f["length"].parse().unwrap(),
                set("hosts"),
                set("names"),
            )
        })
        .collect();
    // The NameNode orders replicas per reader (ties shuffled), so compare them as sets.
    let our_blocks: Vec<(u64, u64, BTreeSet<String>, BTreeSet<String>)> = ours
        .blocks
        .iter()
        .map(|b| {
            (
                b.offset,
                b.length,
                b.hosts.iter().cloned().collect(),
                b.names.iter().cloned().collect(),
            )
        })
        .collect();
    assert_eq!(our_blocks, java_blocks, "java said:\n{java}");
    assert!(
        ours.blocks
            .iter()
            .all(|b| !b.hosts.is_empty() && !b.corrupt)
    );

    // A range in the middle returns only the blocks it overlaps.
    let mid = rt
        .block_on(nn.block_locations(path, 1024 * 1024 + 10, 100))
        .unwrap();
    assert_eq!(mid.blocks.len(), 1);
    assert_eq!(mid.blocks[0].offset, 1024 * 1024);

    // A missing file is Hadoop's FileNotFoundException, in one line naming the path.
    let err = rt
        .block_on(nn.block_locations("/wire-rpc/missing", 0, 1))
        .unwrap_err();
    assert_eq!(
        err.remote_class(),
        Some("java.io.FileNotFoundException"),
        "{err}"
    );
    assert!(err.to_string().contains("/wire-rpc/missing"), "{err}");
}

#[test]
fn file_info_and_server_defaults_equal_javas() {
    let h = hadoop();
    let _logs = h.log_guard();
    let path = "/wire-rpc/stat.bin";
    java_file(path, 1_500_000);
    let nn = client(h);
    let rt = runtime();
    let st = rt
        .block_on(nn.file_info(path))
        .unwrap()
        .expect("file exists");
    let java = kv_lines(&java_peer_ok(PEER, &["stat", path]));
    assert_eq!(st.kind, FileKind::File);
    assert_eq!(st.length.to_string(), java["length"]);
    assert_eq!(st.owner, java["owner"]);
    assert_eq!(st.group, java["group"]);
    assert_eq!(format!("{:o}", st.permission), java["permission"]);
    assert_eq!(st.replication.to_string(), java["replication"]);
    assert_eq!(st.block_size.to_string(), java["blockSize"]);
    assert_eq!(st.modification_time.to_string(), java["modificationTime"]);
    assert_eq!(
        rt.block_on(nn.file_info("/wire-rpc/nothing-here")).unwrap(),
        None
    );
    let dir = rt.block_on(nn.file_info("/wire-rpc")).unwrap().unwrap();
    assert_eq!(dir.kind, FileKind::Directory);

    let d = rt.block_on(nn.server_defaults()).unwrap();
    let java = kv_lines(&java_peer_ok(PEER, &["defaults"]));
    assert_eq!(d.block_size.to_string(), java["blockSize"]);
    assert_eq!(d.bytes_per_checksum.to_string(), java["bytesPerChecksum"]);
    assert_eq!(d.write_packet_size.to_string(), java["writePacketSize"]);
    assert_eq!(d.replication.to_string(), java["replication"]);
    assert_eq!(d.file_buffer_size.to_string(), java["fileBufferSize"]);
    assert_eq!(
        d.encrypt_data_transfer.to_string(),
        java["encryptDataTransfer"]
    );
    assert_eq!(d.trash_interval.to_string(), java["trashInterval"]);
}

#[test]
fn delegation_token_is_accepted_by_java_renewed_and_cancelled() {
    let h = hadoop();
    let _logs = h.log_guard();
    let path = "/wire-rpc/private.bin";
    java_file(path, 200_000);
    java_peer_ok(PEER, &["chmod", path, "600"]);
    let nn = client(h);
    let rt = runtime();
    let me = spindle_hadoop::user::current_user();

    // Without a token, another user may not read the file.
    let denied = java_peer(PEER, &["read-as", "wire-intruder", "-", path]);
    let out = String::from_utf8_lossy(&denied.stdout);
    assert_eq!(denied.status.code(), Some(3), "{out}");
    assert!(out.contains("AccessControlException"), "{out}");

    let token = rt.block_on(nn.get_delegation_token(&me)).unwrap();
    assert_eq!(token.kind, "HDFS_DELEGATION_TOKEN");
    assert!(token.service.starts_with("127.0.0.1:"), "{token:?}");
    let ident =
        spindle_hadoop::token::DelegationTokenIdentifier::decode(&token.identifier).unwrap();
    assert_eq!(ident.owner, me);
    assert_eq!(ident.renewer, me);

    // With it, Java authenticates as the token's owner (TOKEN over DIGEST-MD5) and reads.
    let url = token.encode_url_string();
    let read = kv_lines(&java_peer_ok(
        PEER,
        &["read-as", "wire-intruder", &url, path],
    ));
    assert_eq!(read["bytes"], "200000");

    // Renewal moves the expiry forward (never past the token's max date).
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let expiry = rt.block_on(nn.renew_delegation_token(&token)).unwrap();
    assert!(expiry > now_ms, "expiry {expiry} vs now {now_ms}");
    assert!(
        expiry <= ident.max_date as u64,
        "expiry {expiry} max {}",
        ident.max_date
    );

    // Once cancelled, the NameNode refuses it: for Java and for renewal.
    rt.block_on(nn.cancel_delegation_token(&token)).unwrap();
    let refused = java_peer(PEER, &["read-as", "wire-intruder", &url, path]);
    let out = String::from_utf8_lossy(&refused.stdout);
    assert_eq!(refused.status.code(), Some(3), "{out}");
    let err = rt.block_on(nn.renew_delegation_token(&token)).unwrap_err();
    assert_eq!(
        err.remote_class(),
        Some("org.apache.hadoop.security.token.SecretManager$InvalidToken"),
        "{err}"
    );
}
