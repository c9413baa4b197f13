//! Token identifiers handed out by the real daemons, decoded by Spindle and by Hadoop's own
//! classes (`Token.decodeIdentifier` in the Java peer `CredentialsPeer idents`), field by field:
//! the AMRMToken of an unmanaged AM, the NMToken and ContainerToken of an allocated container.
//! HDFS delegation token identifiers go both ways through Hadoop's own
//! `DelegationTokenIdentifier` (the NameNode's own tokens are decoded in `wire_namenode`).

use spindle_hadoop::Token;
use spindle_hadoop::credentials::{Credentials, CredentialsFormat};
use spindle_hadoop::token::{
    AmRmTokenIdentifier, ContainerTokenIdentifier, DelegationTokenIdentifier, NmTokenIdentifier,
    kinds,
};
use spindle_hadoop::yarn::{ContainerRequest, FinalStatus, Resource};
use spindle_tests::{allocate, finish_am, hadoop, java_ok, registered_am, runtime, scratch_dir};

/// `CredentialsPeer args…`: Hadoop's own classes decoding or writing tokens.
fn java_idents(args: &[&str]) -> String {
    java_ok("dev.spindle.peers.CredentialsPeer", args)
}

/// Spindle's decoding of `token`, in the notation of `CredentialsPeer idents`.
fn describe(token: &Token) -> String {
    match token.kind.as_str() {
        kinds::AM_RM => {
            let i = AmRmTokenIdentifier::decode(&token.identifier).unwrap();
            format!("amrm attempt={} keyId={}", i.attempt_id, i.key_id)
        }
        kinds::NM => {
            let i = NmTokenIdentifier::decode(&token.identifier).unwrap();
            format!(
                "nm attempt={} node={} submitter={} keyId={}",
                i.attempt_id, i.node_id, i.app_submitter, i.key_id
            )
        }
        kinds::CONTAINER => {
            let i = ContainerTokenIdentifier::decode(&token.identifier).unwrap();
            format!(
                "container id={} nmHost={} submitter={} memory={} vcores={} expiry={} masterKeyId={} \
                 rmIdentifier={} priority={} creationTime={}",
                i.container_id,
                i.nm_host_addr,
                i.app_submitter,
                i.memory_mb,
                i.vcores,
                i.expiry_time_stamp,
                i.master_key_id,
                i.rm_identifier,
                i.priority,
                i.creation_time
            )
        }
        kinds::HDFS_DELEGATION => {
            let i = DelegationTokenIdentifier::decode(&token.identifier).unwrap();
            format!(
                "dt owner={} renewer={} realUser={} issueDate={} maxDate={} sequenceNumber={} masterKeyId={}",
                i.owner,
                i.renewer,
                i.real_user,
                i.issue_date,
                i.max_date,
                i.sequence_number,
                i.master_key_id
            )
        }
        other => panic!("unexpected token kind {other}"),
    }
}

#[test]
fn identifiers_of_real_tokens_decode_as_hadoop_decodes_them() {
    let h = hadoop();
    let _logs = h.log_guard();
    let user = spindle_hadoop::user::current_user();
    let mut creds = Credentials::new();
    let app = runtime().block_on(async {
        // An unmanaged AM: the RM hands its AMRMToken to the submitter.
        let (app, amrm, am) = registered_am(h, "wire-token-identifiers").await;
        creds.add_token("amrm", amrm);

        // One container: its ContainerToken and the NMToken of its node.
        let ask = ContainerRequest::anywhere(
            Resource {
                memory_mb: 64,
                vcores: 1,
            },
            1,
            1,
        );
        let (containers, mut nm_tokens) = allocate(&am, vec![ask], 1).await;
        let container = containers.into_iter().next().unwrap();
        let ct = container.token.clone().expect("container token");
        // Spindle's decoding agrees with the allocation it came with.
        let ident = ContainerTokenIdentifier::decode(&ct.identifier).unwrap();
        assert_eq!(ident.container_id, container.id);
        assert_eq!(ident.nm_host_addr, container.node_id.to_string());
        assert_eq!(ident.app_submitter, user);
        assert_eq!(ident.memory_mb, container.resource.memory_mb);
        creds.add_token("container", ct);
        let nm = nm_tokens
            .remove(&container.node_id.to_string())
            .expect("the NMToken of the container's node")
            .token;
        assert_eq!(
            NmTokenIdentifier::decode(&nm.identifier).unwrap().node_id,
            container.node_id
        );
        creds.add_token("nm", nm);
        finish_am(&am, FinalStatus::Succeeded, "wire-token-identifiers").await;
        app
    });

    // Hadoop decodes the same tokens from a credentials file Spindle wrote.
    let path = std::env::temp_dir().join(format!("spindle-wire-idents-{}", std::process::id()));
    creds
        .write_file(&path, CredentialsFormat::Writable)
        .unwrap();
    let java = java_idents(&["idents", path.to_str().unwrap()]);
    let _ = std::fs::remove_file(&path);

    let mut ours: Vec<String> = creds
        .tokens()
        .map(|(alias, t)| format!("alias={alias} {}", describe(t)))
        .collect();
    ours.sort();
    let theirs: Vec<&str> = java.lines().collect();
    assert_eq!(theirs.len(), 3, "{java}");
    for (o, t) in ours.iter().zip(&theirs) {
        assert_eq!(o, t);
    }
    let amrm_line = ours.iter().find(|l| l.starts_with("alias=amrm")).unwrap();
    assert!(
        amrm_line.contains(&format!("attempt=appattempt_{}_", app.cluster_timestamp)),
        "{amrm_line}"
    );
}

#[test]
fn delegation_token_identifiers_match_hadoops_encoding_both_ways() {
    let dir = scratch_dir("wire-dt");
    // Hadoop encodes, Spindle decodes (large dates and ids take multi-byte vlongs/vints).
    let from_java = dir.join("java.dt");
    java_idents(&[
        "write-dt",
        from_java.to_str().unwrap(),
        "alice",
        "yarn",
        "oozie",
        "1795716172282",
        "1796320972282",
        "123456",
        "-7",
    ]);
    let creds = Credentials::read_file(&from_java).unwrap();
    let token = creds.token("dt").unwrap();
    assert_eq!(token.kind, kinds::HDFS_DELEGATION);
    let ident = DelegationTokenIdentifier::decode(&token.identifier).unwrap();
    assert_eq!(
        ident,
        DelegationTokenIdentifier {
            owner: "alice".into(),
            renewer: "yarn".into(),
            real_user: "oozie".into(),
            issue_date: 1795716172282,
            max_date: 1796320972282,
            sequence_number: 123456,
            master_key_id: -7,
        }
    );
    assert_eq!(
        ident.encode(),
        token.identifier,
        "Spindle's encoding is Hadoop's, byte for byte"
    );

    // Spindle encodes, Hadoop decodes.
    let ours = DelegationTokenIdentifier {
        owner: "bob".into(),
        renewer: "".into(),
        real_user: "".into(),
        issue_date: 1,
        max_date: i64::MAX,
        sequence_number: i32::MAX,
        master_key_id: 0,
    };
    let mut creds = Credentials::new();
    creds.add_token(
        "dt",
        Token {
            identifier: ours.encode(),
            password: b"pw".to_vec(),
            kind: kinds::HDFS_DELEGATION.into(),
            service: "nn:8020".into(),
        },
    );
    let from_rust = dir.join("rust.dt");
    creds
        .write_file(&from_rust, CredentialsFormat::Writable)
        .unwrap();
    let java = java_idents(&["idents", from_rust.to_str().unwrap()]);
    assert_eq!(
        java.trim_end(),
        format!("alias=dt {}", describe(creds.token("dt").unwrap()))
    );
    let _ = std::fs::remove_dir_all(&dir);
}
