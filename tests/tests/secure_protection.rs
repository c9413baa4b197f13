//! A secure cluster of this file's own, started with `--rpc-protection integrity,authentication`
//! (the server accepts either, preferring integrity), `--rm-recovery` and `--https`: Kerberos IPC
//! at each of the levels below privacy (`secure_spindle.rs` covers the secure mini-Hadoop's
//! default, privacy), where SASL wraps frames with integrity only or not at all; a client that
//! insists on privacy refused in one line; a job at integrity that outlives a ResourceManager
//! restart; and every web endpoint (RM, proxy, NodeManagers) on HTTPS only, with the cluster's
//! CA given to Spindle as `spindle.ssl.ca` (or `SPINDLE_SSL_CA`), and refused without it.
//!
//! `#[ignore]`d like the other secure tests; it starts its own cluster (about a minute) and is
//! its own test binary because this process's Kerberos library must point at that cluster's KDC.

use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use spindle_contract::launch;
use spindle_hadoop::config::Configuration;
use spindle_hadoop::ipc::{Auth, KerberosAuth};
use spindle_hadoop::namenode::NameNodeClient;
use spindle_hadoop::yarn::{ApplicationClient, FinalStatus};
use spindle_tests::secure::{
    bind_kerberos, counts_read_by_java, keytab_login, kinit, put_words, secure_conf, spindle_cli,
    spnego_rest, submit_until_tasks_run, submit_with_keytab,
};
use spindle_tests::{
    MiniHadoop, OwnCluster, binary, block_on, container_processes, scratch_dir, signal, wait_for,
};

/// The cluster, with this process's Kerberos library pointed at its KDC.
fn cluster() -> &'static MiniHadoop {
    static OWN: OnceLock<OwnCluster> = OnceLock::new();
    let own = OWN.get_or_init(|| {
        let own = OwnCluster::start(
            "secure-qop",
            1,
            &[
                "--secure",
                "--rpc-protection",
                "integrity,authentication",
                "--rm-recovery",
                "--https",
            ],
        );
        bind_kerberos(own.get());
        own
    });
    own.get()
}

/// The tests of this file one at a time: an RM restart would break the other's calls.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

#[test]
#[ignore = "needs a secure mini-Hadoop of its own; scripts/test's secure stage runs it"]
fn kerberos_ipc_at_integrity_and_without_a_security_layer() {
    let _one = serial();
    let h = cluster();
    let conf = secure_conf(h);
    assert_eq!(
        conf.get_trimmed("hadoop.rpc.protection")
            .unwrap()
            .as_deref(),
        Some("integrity,authentication")
    );
    let login = keytab_login(h);
    let auth = |conf: &Configuration, key: &str| {
        Auth::Kerberos(KerberosAuth::from_conf(conf, login.clone(), key, None).unwrap())
    };
    block_on(async {
        // A client that allows one level only either gets it or fails: success at each level
        // shows that level negotiated (GSSAPI wraps with integrity only, or not at all).
        for level in ["integrity", "authentication"] {
            let mut only = conf.clone();
            only.set("hadoop.rpc.protection", level);
            let rm = ApplicationClient::from_config(
                &only,
                auth(&only, "yarn.resourcemanager.principal"),
            )
            .unwrap();
            let metrics = rm
                .cluster_metrics()
                .await
                .unwrap_or_else(|e| panic!("metrics at {level}: {e}"));
            assert!(metrics.active_nodes >= 1, "{metrics:?}");
            let nn =
                NameNodeClient::from_config(&only, auth(&only, "dfs.namenode.kerberos.principal"))
                    .unwrap();
            let token = nn.get_delegation_token(&login.principal).await.unwrap();
            // DIGEST-MD5 with the token takes the strongest level the server offers: integrity.
            let with_token =
                NameNodeClient::from_config(&only, Auth::Token(token.clone())).unwrap();
            assert!(
                with_token
                    .file_info("/")
                    .await
                    .unwrap_or_else(|e| panic!("DIGEST-MD5 beside {level}: {e}"))
                    .is_some()
            );
            nn.cancel_delegation_token(&token).await.unwrap();
        }
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
            err.contains("authentication") && err.contains("integrity") && err.contains("privacy"),
            "{err}"
        );
    });
}

/// The ResourceManager restarted in place while a job from the keytab runs (RM recovery on a
/// secure cluster: the new RM recovers the application's tokens): the AM registers again with
/// its AMRM token, an executor lost afterwards is replaced by a container of the new RM (whose
/// NodeManager localizes with the recovered HDFS token), the job succeeds in one attempt, and
/// Hadoop's Java client reads the right counts.
#[test]
#[ignore = "needs a secure mini-Hadoop of its own; scripts/test's secure stage runs it"]
fn a_job_at_integrity_outlives_an_rm_restart() {
    let _one = serial();
    let h = cluster();
    let _logs = h.log_guard();
    let dir = scratch_dir("secure-rm-restart");
    let (root, base, expected) = put_words(h, "secure-rm-restart", WORDS, 0x5EC_0004);
    let mut submit = submit_with_keytab(h, &dir, 1);
    submit
        .args(["--max-app-attempts", "2"])
        .arg(binary("wordcount"))
        .args([format!("{root}{base}/in"), format!("{root}{base}/out")]);
    let log = dir.join("submit.log");
    let (mut child, app) = submit_until_tasks_run(h, submit, &log);
    let executors = || -> Vec<(u32, String)> {
        container_processes(&app)
            .into_iter()
            .filter(|p| {
                p.program.ends_with(launch::APP_BINARY) && p.var("SPINDLE_ROLE") == Some("executor")
            })
            .map(|p| (p.pid, p.container))
            .collect()
    };
    let before = executors();
    assert_eq!(before.len(), 1, "one executor: {before:?}");
    let started = Instant::now();
    h.restart_resource_manager();
    eprintln!("ResourceManager restarted in {:?}", started.elapsed());
    assert!(
        child.try_wait().unwrap().is_none(),
        "the job ended during the restart; grow WORDS:\n{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    // Work-preserving: the executor kept running; lost now, it is replaced by the new RM.
    assert_eq!(
        executors(),
        before,
        "the executor did not survive the restart"
    );
    signal(before[0].0, "9");
    let mut replacement = None;
    let status = wait_for("the job to end", Duration::from_secs(240), || {
        if replacement.is_none() {
            // Containers of a restarted RM carry its epoch: container_e01_...
            replacement = executors()
                .into_iter()
                .find(|(_, c)| c.starts_with("container_e"));
        }
        child.try_wait().unwrap()
    });
    let err = std::fs::read_to_string(&log).unwrap();
    assert!(
        status.success(),
        "the job failed across the restart:\n{err}"
    );
    assert!(
        replacement.is_some(),
        "no executor in a container of the restarted RM (container_e..)\n{err}"
    );
    let rest = spnego_rest(h);
    let id = app.parse().unwrap();
    let report = block_on(rest.app(id)).unwrap();
    assert_eq!(report.final_status, FinalStatus::Succeeded, "{report:?}");
    let attempts = block_on(rest.attempts(id)).unwrap();
    assert_eq!(attempts.len(), 1, "{attempts:?}\n{err}");
    assert_eq!(
        counts_read_by_java(h, &format!("{root}{base}/out")),
        expected
    );
}

#[test]
#[ignore = "needs a secure mini-Hadoop of its own; scripts/test's secure stage runs it"]
fn https_endpoints_with_the_clusters_ca_and_a_clear_refusal_without_it() {
    let _one = serial();
    let h = cluster();
    let ca = h.https_ca().expect("--https names its CA").to_path_buf();
    assert!(h.rm_url().starts_with("https://"), "{}", h.rm_url());
    let conf = secure_conf(h);
    assert_eq!(conf.yarn_web_scheme().unwrap(), "https");
    let dir = scratch_dir("secure-https");
    let (root, base, expected) = put_words(h, "secure-https", 2_000, 0x5EC_0005);
    let cache = kinit(h.kerberos().unwrap(), &dir.join("kinit-cache"));
    // Client mode: the CA by --conf only; the driver, on this machine, submits the AM over HTTPS
    // with it and shows progress from the AM through the RM's HTTPS proxy.
    let out = spindle_cli(h, &cache)
        .env_remove("SPINDLE_SSL_CA")
        .args(["submit", "--master", "yarn", "--deploy-mode", "client"])
        .args(["--executor-memory", "256m", "--num-executors", "1"])
        .args(["--conf", "spindle.executor.memoryOverhead=128m"])
        .arg("--conf")
        .arg(format!("spindle.ssl.ca={}", ca.display()))
        .arg(binary("wordcount"))
        .args([format!("{root}{base}/in"), format!("{root}{base}/out")])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        out.status.success(),
        "client mode over HTTPS failed:\n{err}"
    );
    assert_eq!(
        counts_read_by_java(h, &format!("{root}{base}/out")),
        expected
    );
    let app = spindle_tests::secure::app_id_in(&err).expect("an application id");
    // status and list over HTTPS with the CA from SPINDLE_SSL_CA (spindle_cli sets it).
    let status = spindle_cli(h, &cache)
        .args(["status", &app])
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&status.stdout).to_string();
    assert!(
        status.status.success() && shown.contains("FINISHED"),
        "spindle status over HTTPS: {shown}{}",
        String::from_utf8_lossy(&status.stderr)
    );
    // Without the CA (none in ssl-client.xml as PEM, none in the system's bundle): one line
    // that says the certificate is not trusted and how to fix it.
    let refused = spindle_cli(h, &cache)
        .env_remove("SPINDLE_SSL_CA")
        .args(["status", &app])
        .output()
        .unwrap();
    let why = String::from_utf8_lossy(&refused.stderr).to_string();
    assert!(!refused.status.success(), "status without the CA succeeded");
    assert!(
        why.contains("not trusted") && why.contains("spindle.ssl.ca"),
        "{why}"
    );
    assert_eq!(why.trim_end().lines().count(), 1, "{why}");
}

/// Words of input for the restart test: enough for its one executor to outlast the restart.
const WORDS: usize = 3_000_000;
