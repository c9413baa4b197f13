//! Kerberos IPC at `hadoop.rpc.protection=authentication` (`secure_spindle.rs` covers the secure
//! mini-Hadoop's default, privacy): a secure cluster of this test's own, started with
//! `--rpc-protection authentication`, where SASL GSSAPI and DIGEST-MD5 agree on no security
//! layer and frames go unwrapped; and a client that insists on privacy is refused in one line.
//!
//! `#[ignore]`d like the other secure tests; it starts its own cluster (about a minute) and is
//! its own test binary because this process's Kerberos library must point at that cluster's KDC.

use spindle_hadoop::config::Configuration;
use spindle_hadoop::ipc::{Auth, KerberosAuth};
use spindle_hadoop::kerberos::Login;
use spindle_hadoop::namenode::NameNodeClient;
use spindle_hadoop::yarn::ApplicationClient;
use spindle_tests::{OwnCluster, block_on};

#[test]
#[ignore = "needs a secure mini-Hadoop of its own; scripts/test's secure stage runs it"]
fn kerberos_ipc_without_a_security_layer() {
    let own = OwnCluster::start(
        "secure-auth",
        1,
        &["--secure", "--rpc-protection", "authentication"],
    );
    let h = own.get();
    let k = h.kerberos().expect("secure");
    // SAFETY: the only test of this binary; set before its first Kerberos call.
    unsafe { std::env::set_var("KRB5_CONFIG", &k.krb5_conf) };
    let conf = Configuration::load_dir(h.conf_dir()).unwrap();
    assert_eq!(
        conf.get_trimmed("hadoop.rpc.protection")
            .unwrap()
            .as_deref(),
        Some("authentication")
    );
    let login = Login::from_keytab(&conf, &k.principal, &k.keytab).expect("keytab login");
    let auth = |conf: &Configuration, key: &str| {
        Auth::Kerberos(KerberosAuth::from_conf(conf, login.clone(), key, None).unwrap())
    };
    block_on(async {
        let rm =
            ApplicationClient::from_config(&conf, auth(&conf, "yarn.resourcemanager.principal"))
                .unwrap();
        let metrics = rm
            .cluster_metrics()
            .await
            .expect("metrics at authentication");
        assert!(metrics.active_nodes >= 1, "{metrics:?}");
        let nn = NameNodeClient::from_config(&conf, auth(&conf, "dfs.namenode.kerberos.principal"))
            .unwrap();
        let token = nn.get_delegation_token(&login.principal).await.unwrap();
        let with_token = NameNodeClient::from_config(&conf, Auth::Token(token)).unwrap();
        assert!(
            with_token
                .file_info("/")
                .await
                .expect("DIGEST-MD5 at auth")
                .is_some()
        );
        // A client that allows only privacy finds no common protection.
        let mut strict = conf.clone();
        strict.set("hadoop.rpc.protection", "privacy");
        let rm = ApplicationClient::from_config(
            &strict,
            auth(&strict, "yarn.resourcemanager.principal"),
        )
        .unwrap();
        let err = rm.cluster_metrics().await.unwrap_err().to_string();
        assert!(err.contains("no common RPC protection"), "{err}");
        assert!(
            err.contains("authentication") && err.contains("privacy"),
            "{err}"
        );
    });
}

/// Every driver binary is also its AM and its executors, which start on NodeManagers that may
/// have no Kerberos libraries: the system GSSAPI is opened at run time, never linked.
#[test]
fn driver_binaries_do_not_link_the_kerberos_libraries() {
    for name in ["wordcount", "spindle"] {
        let bin = spindle_tests::binary(name);
        let out = std::process::Command::new("ldd")
            .arg(&bin)
            .output()
            .unwrap();
        let linked = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success() && linked.contains("libc.so"),
            "{linked}"
        );
        for lib in ["libgssapi", "libkrb5", "libk5crypto"] {
            assert!(!linked.contains(lib), "{name} links {lib}:\n{linked}");
        }
    }
}
