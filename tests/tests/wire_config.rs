//! Spindle's configuration reader against Hadoop's own `Configuration`: the same XML files give
//! the same values (expansion, `${env.X}`, final, unknown and self references, the depth limit),
//! and the mini-Hadoop's written conf dir yields addresses that reach its daemons.

use std::collections::BTreeMap;
use std::path::PathBuf;

use spindle_hadoop::config::Configuration;
use spindle_hadoop::yarn::RmRestClient;
use spindle_tests::{block_on, hadoop, java_command, kv_lines, rm_conf, run_ok, scratch_dir};

/// Hadoop's `Configuration.get` for `keys` after loading `files` in order (Java peer `ConfPeer`).
/// Values Hadoop refuses come back as `<error: ...>`, unset keys as `<null>`.
fn hadoop_values(
    files: &[PathBuf],
    keys: &[&str],
    env: &[(&str, &str)],
) -> BTreeMap<String, String> {
    let mut cmd = java_command("dev.spindle.peers.ConfPeer");
    cmd.args(files)
        .arg("--")
        .args(keys)
        .envs(env.iter().copied());
    kv_lines(&run_ok("ConfPeer", &mut cmd))
}

/// Spindle's answer in the same notation as [`hadoop_values`].
fn spindle_value(conf: &Configuration, key: &str) -> String {
    match conf.get(key) {
        Ok(Some(v)) => v,
        Ok(None) => "<null>".into(),
        Err(e) => format!("<error: {e}>"),
    }
}

fn property(name: &str, value: &str) -> String {
    format!("  <property><name>{name}</name><value>{value}</value></property>\n")
}

#[test]
fn same_values_as_hadoops_configuration_for_tricky_files() {
    let dir = scratch_dir("wire-config-tricky");
    let mut first = String::from("<?xml version=\"1.0\"?>\n<configuration>\n");
    for (k, v) in [
        ("a", "${b}-${c}"),
        ("b", "B"),
        ("c", "${b}${b}"),
        ("B2", "resolved-nested"),
        ("nested", "${${b}}"),
        ("unknown", "x${nope}y${b}"),
        ("self", "x${self}"),
        ("env1", "${env.SPINDLE_WIRE_X}:1"),
        ("env2", "${env.SPINDLE_WIRE_UNSET:-dflt}"),
        ("env3", "${env.SPINDLE_WIRE_EMPTY-dflt}"),
        ("env4", "${env.SPINDLE_WIRE_EMPTY:-dflt}"),
        ("env5", "${env.SPINDLE_WIRE_UNSET-dflt}"),
        ("spaces", "  v w  "),
        ("empty", ""),
        ("dollar", "${}x$y{"),
        ("unclosed", "a${b"),
        ("addr", "${host}:8032"),
        ("host", "rm.example"),
        ("fs.default.name", "hdfs://old-style:8020"),
    ] {
        first.push_str(&property(k, v));
    }
    first.push_str("  <property><name>fin</name><value>1</value><final>true</final></property>\n");
    first.push_str("  <property name=\"attr\" value=\"A\"/>\n");
    first.push_str("  <property><name>novalue</name></property>\n");
    // A chain of references: k0 needs 21 substitutions (over Hadoop's 20), k2 needs 19.
    for i in 0..21 {
        first.push_str(&property(&format!("k{i}"), &format!("${{k{}}}", i + 1)));
    }
    first.push_str(&property("k21", "end"));
    first.push_str("</configuration>\n");
    let second = format!(
        "<configuration>\n{}{}{}</configuration>\n",
        property("fin", "2"),
        property("b", "B2"),
        property("empty", "")
    );
    let files = [dir.join("first.xml"), dir.join("second.xml")];
    std::fs::write(&files[0], first).unwrap();
    std::fs::write(&files[1], second).unwrap();

    let env = [("SPINDLE_WIRE_X", "envx"), ("SPINDLE_WIRE_EMPTY", "")];
    // SAFETY: this is the only test of this binary that reads or writes these variables, and
    // Configuration reads them only during `get` below, on this thread.
    unsafe {
        for (k, v) in env {
            std::env::set_var(k, v);
        }
        std::env::remove_var("SPINDLE_WIRE_UNSET");
    }
    let mut conf = Configuration::new();
    for f in &files {
        conf.add_file(f).unwrap();
    }
    let keys: Vec<String> = [
        "a",
        "b",
        "c",
        "nested",
        "unknown",
        "self",
        "env1",
        "env2",
        "env3",
        "env4",
        "env5",
        "spaces",
        "empty",
        "dollar",
        "unclosed",
        "addr",
        "fs.defaultFS",
        "fs.default.name",
        "fin",
        "attr",
        "novalue",
        "missing",
        "k0",
        "k1",
        "k2",
        "k20",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let key_refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    let java = hadoop_values(&files, &key_refs, &env);
    for key in &keys {
        let theirs = java
            .get(key)
            .unwrap_or_else(|| panic!("ConfPeer printed nothing for {key}: {java:?}"));
        let ours = spindle_value(&conf, key);
        if theirs.starts_with("<error:") {
            // Both refuse; ours names the file and key, Hadoop's the expression.
            assert!(
                ours.starts_with("<error:"),
                "{key}: Hadoop {theirs}, Spindle {ours}"
            );
            assert!(
                ours.contains("depth") && ours.contains(key.as_str()),
                "{key}: {ours}"
            );
            assert!(ours.contains("first.xml"), "{key}: {ours}");
        } else {
            assert_eq!(&ours, theirs, "value of {key}");
        }
    }
    // The two answers that matter most, stated outright.
    assert_eq!(java["fin"], "1", "final wins over a later file");
    assert!(java["k0"].starts_with("<error:"), "{java:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn mini_hadoop_conf_dir_reads_as_hadoop_reads_it() {
    let h = hadoop();
    let _logs = h.log_guard();
    let conf = rm_conf(h);
    let files: Vec<PathBuf> = conf.files().to_vec();
    assert!(
        files.iter().any(|f| f.ends_with("yarn-site.xml"))
            && files.iter().any(|f| f.ends_with("core-site.xml")),
        "{files:?}"
    );
    let keys: Vec<&str> = conf.keys().collect();
    assert!(keys.len() > 20, "only {} keys in {files:?}", keys.len());
    let java = hadoop_values(&files, &keys, &[]);
    for key in &keys {
        assert_eq!(
            &spindle_value(&conf, key),
            java.get(*key)
                .unwrap_or_else(|| panic!("no Java value for {key}")),
            "value of {key} (from {})",
            conf.source(key)
        );
    }
}

#[test]
fn addresses_from_the_conf_dir_reach_the_resourcemanager() {
    let h = hadoop();
    let _logs = h.log_guard();
    let conf = rm_conf(h);
    assert_eq!(conf.default_fs().unwrap(), h.fs_uri());
    let rms = conf.rm_addresses().unwrap();
    assert_eq!(rms.len(), 1, "{rms:?}");
    let host_port = |url: &str| {
        url.trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string()
    };
    let web = host_port(&rms[0].web);
    let expected = host_port(h.rm_url());
    // The harness prints "localhost:PORT"; the conf may name the host differently.
    assert_eq!(
        web.rsplit(':').next(),
        expected.rsplit(':').next(),
        "{rms:?} vs {}",
        h.rm_url()
    );

    // The RPC and scheduler addresses accept connections.
    for addr in [&rms[0].rpc, &rms[0].scheduler] {
        std::net::TcpStream::connect(addr.as_str())
            .unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    }
    // The REST client built from this configuration reaches the RM.
    let client = RmRestClient::from_config(&conf, None).unwrap();
    let info = block_on(client.cluster_info()).unwrap();
    assert_eq!(info.state, "STARTED");
    // The release under test (SPINDLE_HADOOP_VERSION; the version matrix runs this on each).
    assert_eq!(
        info.hadoop_version,
        spindle_tests::hadoop_version(),
        "{info:?}"
    );
}

#[test]
fn a_broken_site_file_fails_with_file_and_reason() {
    let dir = scratch_dir("wire-config-broken");
    std::fs::write(
        dir.join("core-site.xml"),
        "<configuration><property><name>x</name>",
    )
    .unwrap();
    let e = Configuration::load_dir(&dir).unwrap_err().to_string();
    assert!(
        e.contains(&dir.join("core-site.xml").display().to_string()),
        "{e}"
    );
    assert!(e.contains("malformed XML"), "{e}");
    assert!(!e.contains('\n'), "{e}");
    std::fs::write(
        dir.join("core-site.xml"),
        "<configuration><property><name>yarn.resourcemanager.ha.enabled</name><value>maybe</value></property></configuration>",
    )
    .unwrap();
    let conf = Configuration::load_dir(&dir).unwrap();
    let e = conf.rm_addresses().unwrap_err().to_string();
    assert!(
        e.contains("core-site.xml:1") && e.contains("yarn.resourcemanager.ha.enabled"),
        "{e}"
    );
    assert!(e.contains("not a boolean"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}
