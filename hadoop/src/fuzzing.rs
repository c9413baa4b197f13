//! Entry points for the fuzz targets in `fuzz/` and for the tests that replay
//! their corpora (feature `fuzzing`; not an API). Each feeds arbitrary bytes
//! to one decoder of bytes that come from outside the process, as the crate's
//! callers do, and returns normally whatever the bytes: a panic, a hang or an
//! unbounded allocation is the bug a fuzzer reports.

use crate::Token;
use crate::config::Configuration;
use crate::credentials::Credentials;
use crate::sasl::{self, DigestMd5, Mechanism};

/// A token storage file (`HADOOP_TOKEN_FILE_LOCATION`), either format.
pub fn credentials(data: &[u8]) {
    if let Ok(c) = Credentials::from_file_bytes("fuzz", data) {
        // What decodes must encode and decode to the same credentials.
        let format = match data.get(4) {
            Some(1) => crate::credentials::CredentialsFormat::Protobuf,
            _ => crate::credentials::CredentialsFormat::Writable,
        };
        let again = Credentials::from_file_bytes("fuzz", &c.to_file_bytes(format))
            .expect("re-encoded credentials decode");
        assert!(again == c, "credentials changed on a round trip");
    }
}

/// A server's side of the SASL exchange: `data` is everything the server
/// sends, then it hangs up. The client holds a token (DIGEST-MD5) and does
/// not accept a fallback to SIMPLE.
pub fn sasl_negotiation(data: &[u8]) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a tokio runtime");
    rt.block_on(async {
        use tokio::io::AsyncWriteExt;
        // Room for all the client writes too: the server's half stays open
        // (a dropped half would fail the client's first write, before it
        // reads anything) but stops sending after `data`.
        let (mut client, mut server) = tokio::io::duplex(data.len() + (1 << 20));
        let _ = server.write_all(data).await;
        let _ = server.shutdown().await;
        let token = Token {
            identifier: b"fuzz-identifier".to_vec(),
            password: b"fuzz-password".to_vec(),
            kind: "YARN_AM_RM_TOKEN".into(),
            service: String::new(),
        };
        let mech: Box<dyn Mechanism> = Box::new(DigestMd5::new(&token));
        let r = sasl::negotiate(&mut client, Some(mech), "fuzz:1", 1 << 20, false).await;
        drop(server);
        if let Ok(sasl::Outcome::Simple) = r {
            panic!("a token holder agreed to SIMPLE authentication");
        }
    });
}

/// One `*-site.xml` resource, then every key read back as a caller would.
pub fn xml_configuration(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut conf = Configuration::new();
    if conf.add_xml("fuzz-site.xml", text).is_ok() {
        let keys: Vec<String> = conf.keys().map(str::to_string).collect();
        for key in keys {
            let _ = conf.get(&key);
            let _ = conf.get_i64(&key, 0);
            let _ = conf.get_size_bytes(&key, 0);
            let _ = conf.get_duration(
                &key,
                std::time::Duration::ZERO,
                crate::config::TimeUnit::Millis,
            );
        }
        let _ = conf.rm_addresses();
        let _ = conf.default_fs();
    }
}

/// A ResourceManager's answer to `GET /ws/v1/cluster/apps/{id}`.
pub fn rest_app_report(data: &[u8]) {
    crate::yarn::fuzz_app_answer(data);
}

#[cfg(test)]
mod tests {
    /// CI's share of the fuzzing: every committed input of the targets.
    #[test]
    fn committed_fuzz_corpora_replay() {
        spindle_test_support::replay_corpora(&[
            ("credentials", super::credentials),
            ("sasl_negotiation", super::sasl_negotiation),
            ("xml_configuration", super::xml_configuration),
            ("rest_app_report", super::rest_app_report),
        ]);
    }
}
