//! Credentials files against Hadoop's own `Credentials` (Java peer `CredentialsPeer`): Java writes
//! both formats and Spindle reads every field; Spindle writes both and
//! `Credentials.readTokenStorageFile` reads every field; one-token files are identical byte for
//! byte. Then the real NodeManager: tokens and secrets submitted through the REST API come back in
//! the container's `HADOOP_TOKEN_FILE_LOCATION`, with the RM's AMRMToken for the right attempt.

use std::time::Duration;

use spindle_hadoop::Token;
use spindle_hadoop::credentials::{Credentials, CredentialsFormat};
use spindle_hadoop::ids::ApplicationAttemptId;
use spindle_hadoop::token::AmRmTokenIdentifier;
use spindle_hadoop::yarn::{AppState, Resource, RmRestClient, SubmissionContext};
use spindle_tests::{hadoop, hex, java_ok, rm_conf, runtime, scratch_dir, wait_until};

const FORMATS: [(CredentialsFormat, &str); 2] = [
    (CredentialsFormat::Writable, "writable"),
    (CredentialsFormat::Protobuf, "protobuf"),
];

/// `CredentialsPeer args…`: Hadoop's own `Credentials` writing, reading or dumping a file.
fn java(args: &[&str]) -> String {
    java_ok("dev.spindle.peers.CredentialsPeer", args)
}

fn token(id: &[u8], pw: &[u8], kind: &str, service: &str) -> Token {
    Token {
        identifier: id.to_vec(),
        password: pw.to_vec(),
        kind: kind.into(),
        service: service.into(),
    }
}

/// The same sets `CredentialsPeer.small()` and `full()` build in Java.
fn small() -> Credentials {
    let mut c = Credentials::new();
    c.add_token(
        "alias1",
        token(b"abc", b"pw", "TEST_KIND", "127.0.0.1:1234"),
    );
    c.add_secret("sparkCookie", b"s3cr3t".to_vec());
    c
}

fn full() -> Credentials {
    let mut c = small();
    let id: Vec<u8> = (0..300).map(|i| (i * 7) as u8).collect();
    let pw: Vec<u8> = (0..=255).collect();
    c.add_token("", token(&id, &pw, "YARN_AM_RM_TOKEN", ""));
    c.add_token(
        "hdfs://localhost:9000",
        token(b"dt-ident", b"", "HDFS_DELEGATION_TOKEN", "ha-hdfs:nn"),
    );
    c.add_secret("empty", Vec::new());
    c.add_secret("binary", vec![0, 0xff, 0x80, 1]);
    c.add_secret("ünïcode", b"v".to_vec());
    c
}

/// `CredentialsPeer dump`'s output for `c`, computed from Spindle's view of it.
fn dump(c: &Credentials) -> String {
    let mut lines: Vec<String> =
        c.tokens()
            .map(|(alias, t)| {
                format!(
                    "token alias={} id={} password={} kind={} service={}",
                    hex(alias.as_bytes()),
                    hex(&t.identifier),
                    hex(&t.password),
                    t.kind,
                    t.service
                )
            })
            .chain(c.secrets().map(|(alias, s)| {
                format!("secret alias={} value={}", hex(alias.as_bytes()), hex(s))
            }))
            .collect();
    lines.sort();
    let n_tokens = c.tokens().count();
    let n_secrets = c.secrets().count();
    lines.push(format!("tokens={n_tokens} secrets={n_secrets}"));
    lines.join("\n") + "\n"
}

#[test]
fn spindle_reads_what_hadoop_writes_in_both_formats() {
    let dir = scratch_dir("wire-creds-java-writes");
    for (format, name) in FORMATS {
        for (set, expected) in [("small", small()), ("full", full())] {
            let path = dir.join(format!("{set}.{name}"));
            java(&["write", path.to_str().unwrap(), name, set]);
            let bytes = std::fs::read(&path).unwrap();
            assert_eq!(bytes[4], format as u8, "{name} version byte");
            let ours =
                Credentials::read_file(&path).unwrap_or_else(|e| panic!("{set}.{name}: {e}"));
            assert_eq!(ours, expected, "{set}.{name}: every token field and secret");
            if set == "small" {
                // One token and one secret: no map order to differ, so the bytes must be identical.
                assert_eq!(
                    expected.to_file_bytes(format),
                    bytes,
                    "{name}: Spindle's bytes vs Hadoop's"
                );
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn hadoop_reads_what_spindle_writes_in_both_formats() {
    let dir = scratch_dir("wire-creds-rust-writes");
    for (format, name) in FORMATS {
        for (set, creds) in [("small", small()), ("full", full())] {
            let path = dir.join(format!("{set}.{name}"));
            creds.write_file(&path, format).unwrap();
            let theirs = java(&["dump", path.to_str().unwrap()]);
            assert_eq!(theirs, dump(&creds), "{set}.{name} as Hadoop reads it");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn nodemanager_writes_submitted_credentials_into_the_container() {
    let h = hadoop();
    let _logs = h.log_guard();
    let rt = runtime();
    let client = RmRestClient::from_config(&rm_conf(h), Some("spindle-wire".into())).unwrap();
    let dir = scratch_dir("wire-creds-container");
    let copy = dir.join("container_tokens");
    let new = rt.block_on(client.new_application()).unwrap();
    let id = new.application_id;

    let mut ctx = SubmissionContext::new(
        id,
        "wire-credentials",
        Resource {
            memory_mb: 64,
            vcores: 1,
        },
    );
    ctx.max_app_attempts = Some(1);
    // The container runs on this machine: it copies its credentials file where the test reads it.
    ctx.am_container.commands = vec![format!(
        "cp $HADOOP_TOKEN_FILE_LOCATION {tmp} && mv {tmp} {copy} && sleep 300",
        tmp = dir.join("tokens.tmp").display(),
        copy = copy.display()
    )];
    // The RM puts its AMRMToken under the empty alias: leave that alias to it.
    let mut sent = full();
    sent.remove_token("");
    // Hadoop 3.5's RM fails (NullPointerException, HTTP 503) on an empty secret: the client
    // refuses it up front, before anything is sent.
    ctx.am_container.credentials = sent.clone();
    let e = rt.block_on(client.submit(&ctx)).unwrap_err().to_string();
    assert!(e.contains("secret \"empty\" is empty"), "{e}");
    sent.remove_secret("empty");
    ctx.am_container.credentials = sent.clone();
    rt.block_on(client.submit(&ctx)).unwrap();
    wait_until(
        &format!("{} to appear", copy.display()),
        Duration::from_secs(90),
        || copy.exists(),
    );
    let got = Credentials::read_file(&copy).unwrap();
    assert_eq!(rt.block_on(client.kill(id)).unwrap(), AppState::Killed);

    // Everything we sent arrives unchanged, next to the RM's AMRMToken.
    for (alias, t) in sent.tokens() {
        assert_eq!(got.token(alias), Some(t), "token {alias:?}");
    }
    for (alias, s) in sent.secrets() {
        assert_eq!(got.secret(alias), Some(s), "secret {alias:?}");
    }
    let amrm = got
        .token_of_kind("YARN_AM_RM_TOKEN")
        .expect("the RM's AMRMToken");
    assert!(!amrm.password.is_empty());
    let ident = AmRmTokenIdentifier::decode(&amrm.identifier).unwrap();
    assert_eq!(ident.attempt_id, ApplicationAttemptId::new(id, 1));

    // And Hadoop's own reader agrees with ours on that NodeManager-written file.
    assert_eq!(java(&["dump", copy.to_str().unwrap()]), dump(&got));
    let _ = std::fs::remove_dir_all(&dir);
}
