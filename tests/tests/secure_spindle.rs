//! Spindle on the secure mini-Hadoop (`deploy/mini-hadoop --secure`): Kerberos logins from the
//! keytab and the ticket cache through the system GSSAPI; SASL GSSAPI on IPC to the RM and the
//! NameNode at the cluster's protection (privacy by default), with the server's principal checked;
//! SPNEGO on the RM REST API; HDFS delegation tokens (DIGEST-MD5 at the same protection);
//! `spindle submit --master yarn` of the wordcount in cluster and client mode; `spindle kill` and
//! `spindle logs` from a ticket cache; the AM's web UI through the RM's proxy (SPNEGO); an
//! executor lost mid-job and replaced; and the one-line errors of a login gone wrong.
//!
//! `#[ignore]`d in the open-cluster run, like `secure_cluster.rs`: scripts/test's secure stage
//! runs them with `SPINDLE_SECURE_HADOOP_CONF_DIR` set; without it they start a secure cluster.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use spindle_contract::launch;
use spindle_hadoop::config::Configuration;
use spindle_hadoop::ipc::{Auth, KerberosAuth};
use spindle_hadoop::namenode::NameNodeClient;
use spindle_hadoop::spnego::Spnego;
use spindle_hadoop::yarn::{AppState, ApplicationClient, RmRestClient};
use spindle_tests::secure::{
    app_id_in, bind_kerberos, counts_read_by_java, keytab_hdfs, keytab_login, kinit, put_words,
    secure_conf, spindle_cli, spnego_json, spnego_rest, submit_until_tasks_run, submit_with_keytab,
};
use spindle_tests::{
    MiniHadoop, binary, block_on, container_processes, java_peer_with_keytab_ok, kv_lines,
    scratch_dir, secure_hadoop, signal, text, wait_exit, wait_for, wait_until,
};

/// The secure cluster, with this process's Kerberos library pointed at its KDC.
fn cluster() -> &'static MiniHadoop {
    static READY: OnceLock<()> = OnceLock::new();
    let h = secure_hadoop();
    READY.get_or_init(|| bind_kerberos(h));
    h
}

fn kerberos(h: &MiniHadoop, conf: &Configuration, key: &str) -> Auth {
    Auth::Kerberos(KerberosAuth::from_conf(conf, keytab_login(h), key, None).expect("auth"))
}

#[test]
#[ignore = "needs the secure mini-Hadoop; scripts/test's secure stage runs it"]
fn kerberos_ipc_to_the_rm_and_the_namenode_at_the_clusters_protection() {
    let h = cluster();
    let conf = secure_conf(h);
    let login = keytab_login(h);
    assert_eq!(login.principal, h.kerberos().unwrap().principal);
    assert_eq!(login.short_name, h.kerberos().unwrap().short_name());
    block_on(async {
        let rm = ApplicationClient::from_config(
            &conf,
            kerberos(h, &conf, "yarn.resourcemanager.principal"),
        )
        .unwrap();
        let metrics = rm
            .cluster_metrics()
            .await
            .expect("getClusterMetrics over KERBEROS");
        assert!(metrics.active_nodes >= 1, "{metrics:?}");
        let nn = NameNodeClient::from_config(
            &conf,
            kerberos(h, &conf, "dfs.namenode.kerberos.principal"),
        )
        .unwrap();
        let defaults = nn
            .server_defaults()
            .await
            .expect("getServerDefaults over KERBEROS");
        assert!(defaults.replication >= 1, "{defaults:?}");
        assert!(nn.file_info("/").await.unwrap().is_some());
        // A delegation token we may renew ourselves, then used as a container would (DIGEST-MD5
        // at the same protection), then cancelled: the NameNode refuses it from then on.
        let token = nn
            .get_delegation_token(&login.principal)
            .await
            .expect("token");
        assert_eq!(token.kind, "HDFS_DELEGATION_TOKEN");
        assert!(nn.renew_delegation_token(&token).await.unwrap() > 0);
        let with_token = NameNodeClient::from_config(&conf, Auth::Token(token.clone())).unwrap();
        assert!(
            with_token
                .file_info("/")
                .await
                .expect("DIGEST-MD5 with the token")
                .is_some()
        );
        nn.cancel_delegation_token(&token).await.unwrap();
        let again = NameNodeClient::from_config(&conf, Auth::Token(token)).unwrap();
        let err = again.file_info("/").await.unwrap_err().to_string();
        assert!(err.contains("refused") || err.contains("token"), "{err}");
    });
}

#[test]
#[ignore = "needs the secure mini-Hadoop; scripts/test's secure stage runs it"]
fn protection_and_server_principal_are_checked() {
    let h = cluster();
    let conf = secure_conf(h);
    let cluster_qop = conf
        .get_trimmed("hadoop.rpc.protection")
        .unwrap()
        .unwrap_or_default();
    block_on(async {
        // A server principal other than the configured one is refused before any ticket is used.
        let mut wrong = conf.clone();
        wrong.set(
            "dfs.namenode.kerberos.principal",
            "nn/elsewhere.example.com@EXAMPLE.COM",
        );
        let nn = NameNodeClient::from_config(
            &wrong,
            kerberos(h, &wrong, "dfs.namenode.kerberos.principal"),
        )
        .unwrap();
        let err = nn.file_info("/").await.unwrap_err().to_string();
        assert!(err.contains("dfs.namenode.kerberos.principal"), "{err}");
        assert!(err.contains("nn/elsewhere.example.com"), "{err}");
        // _HOST stands for the server's canonical host name, as in Hadoop.
        let mut pattern = conf.clone();
        pattern.set("dfs.namenode.kerberos.principal", "nn/_HOST@EXAMPLE.COM");
        let nn = NameNodeClient::from_config(
            &pattern,
            kerberos(h, &pattern, "dfs.namenode.kerberos.principal"),
        )
        .unwrap();
        assert!(nn.file_info("/").await.expect("_HOST resolved").is_some());
        // A client that allows less protection than the cluster demands gets one clear line.
        if cluster_qop != "authentication" {
            let mut weak = conf.clone();
            weak.set("hadoop.rpc.protection", "authentication");
            let rm = ApplicationClient::from_config(
                &weak,
                kerberos(h, &weak, "yarn.resourcemanager.principal"),
            )
            .unwrap();
            let err = rm.cluster_metrics().await.unwrap_err().to_string();
            assert!(err.contains("no common RPC protection"), "{err}");
            assert!(err.contains("hadoop.rpc.protection"), "{err}");
        }
    });
}

#[test]
#[ignore = "needs the secure mini-Hadoop; scripts/test's secure stage runs it"]
fn rm_rest_speaks_spnego_and_an_unkerberized_client_is_told_why_it_is_refused() {
    let h = cluster();
    let conf = secure_conf(h);
    block_on(async {
        let rest = RmRestClient::from_config(&conf, None)
            .unwrap()
            .with_kerberos(&keytab_login(h));
        let info = rest.cluster_info().await.expect("cluster info over SPNEGO");
        assert!(!info.resource_manager_version.is_empty(), "{info:?}");
        assert!(rest.holds_auth_cookie(), "the hadoop.auth cookie is kept");
        // The second call goes with the cookie alone.
        let nodes = rest.nodes().await.expect("nodes with the cookie");
        assert!(!nodes.is_empty());
        let simple = RmRestClient::from_config(&conf, Some("root".into())).unwrap();
        let err = simple.cluster_info().await.unwrap_err().to_string();
        assert!(err.contains("requires Kerberos"), "{err}");
        assert!(err.contains("hadoop.security.authentication"), "{err}");
    });
}

/// `spindle submit --proxy-user` in cluster mode: the keytab's user (allowed by the cluster's
/// `hadoop.proxyuser.*`) submits for another; the RM runs the application as that user, whose
/// delegation tokens the executors write with, and Hadoop's Java client reads the counts.
#[test]
#[ignore = "needs the secure mini-Hadoop; scripts/test's secure stage runs it"]
fn wordcount_in_cluster_mode_for_a_proxy_user_on_the_secure_cluster() {
    let h = cluster();
    let k = h.kerberos().unwrap();
    let dir = scratch_dir("secure-wc");
    let (root, base, expected) = put_words(h, "secure-tests", 2000, 0x5EC_0001);
    // The other user's home, made by the HDFS superuser (the cluster's user) as an admin would.
    let home = "/user/proxied";
    block_on(async {
        let fs = keytab_hdfs(h);
        fs.mkdirs(home, 0o755, true).await.unwrap();
        fs.set_owner(home, Some("proxied"), None).await.unwrap();
    });
    let output = format!("{home}/wc-{}", std::process::id());
    let out = submit_with_keytab(h, &dir, 2)
        .args(["--proxy-user", "proxied"])
        .arg(binary("wordcount"))
        .args([format!("{root}{base}/in"), format!("{root}{output}")])
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert!(out.status.success(), "secure wordcount failed:\n{err}");
    assert!(err.contains("as proxied"), "{err}");
    let app = app_id_in(&err).expect("an application id");
    // Hadoop's own YarnClient, logged in from the keytab, sees it run as the proxied user.
    let report = kv_lines(&java_peer_with_keytab_ok(
        h,
        "dev.spindle.peers.YarnReport",
        &["app", &app],
    ));
    assert_eq!(report["user"], "proxied", "{report:?}");
    assert_eq!(report["finalStatus"], "SUCCEEDED", "{report:?}");
    let owner = block_on(keytab_hdfs(h).get_file_info(&output))
        .unwrap()
        .owner;
    assert_eq!(owner, "proxied", "the executors wrote as the proxied user");
    // Hadoop's own Java client, logged in from the keytab, reads what the executors wrote.
    assert_eq!(counts_read_by_java(h, &format!("{root}{output}")), expected);
    // `spindle status` from a ticket cache (kinit) sees the finished application.
    let cache = kinit(k, &dir.join("kinit-cache"));
    let status = spindle_cli(h, &cache)
        .args(["status", &app])
        .output()
        .unwrap();
    let shown = text(&status.stdout);
    assert!(status.status.success(), "{}", text(&status.stderr));
    assert!(
        shown.contains("state FINISHED, final status Succeeded"),
        "{shown}"
    );
}

/// Runs `spindle status` of a made-up application with `cmd`'s setup; its stderr, which must be
/// one line, within seconds.
fn one_line_failure(mut cmd: Command) -> String {
    let started = Instant::now();
    let out = cmd.output().unwrap();
    assert!(!out.status.success());
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let err = text(&out.stderr).trim().to_string();
    assert_eq!(err.lines().count(), 1, "{err}");
    err
}

#[test]
#[ignore = "needs the secure mini-Hadoop; scripts/test's secure stage runs it"]
fn login_failures_are_one_line_with_the_fix() {
    let h = cluster();
    let k = h.kerberos().unwrap();
    let dir = scratch_dir("secure-errors");
    let app = "application_1_0001";
    // No ticket at all.
    let mut c = spindle_cli(h, &dir.join("empty-cache"));
    c.args(["status", app]);
    let err = one_line_failure(c);
    assert!(
        err.contains("no Kerberos ticket") && err.contains("kinit"),
        "{err}"
    );
    // A missing keytab, and a keytab without the principal.
    let submit = |principal: &str, keytab: &Path| {
        let mut c = spindle_cli(h, &dir.join("empty-cache"));
        c.args([
            "submit",
            "--master",
            "yarn",
            "--principal",
            principal,
            "--keytab",
        ])
        .arg(keytab)
        .arg(binary("wordcount"))
        .args(["/in", "/out"]);
        c
    };
    let err = one_line_failure(submit(&k.principal, &dir.join("missing.keytab")));
    assert!(
        err.contains("missing.keytab") && err.contains("--keytab"),
        "{err}"
    );
    let err = one_line_failure(submit("nobody@EXAMPLE.COM", &k.keytab));
    assert!(
        err.contains("keytab") && err.contains("--principal"),
        "{err}"
    );
    // A principal of a realm this client's krb5.conf does not know (a keytab for it made with
    // MIT's ktutil): one line naming the realm and krb5.conf.
    let other = dir.join("other-realm.keytab");
    let mut ktutil = k
        .mit_command("ktutil", &dir.join("empty-cache"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    write!(
        ktutil.stdin.take().unwrap(),
        "addent -password -p root@OTHER.REALM -k 1 -e aes256-cts-hmac-sha1-96\nsecret\nwkt {}\nquit\n",
        other.display()
    )
    .unwrap();
    assert!(ktutil.wait().unwrap().success() && other.exists(), "ktutil");
    let err = one_line_failure(submit("root@OTHER.REALM", &other));
    assert!(
        err.contains("OTHER.REALM") && err.contains("krb5.conf"),
        "{err}"
    );
    // A clock two hours ahead of the KDC's (libfaketime), with MIT's correction for a skewed
    // clock off (kdc_timesync = 0; with it on, MIT Kerberos adjusts and the login works).
    let skewed = dir.join("krb5-no-timesync.conf");
    let krb5 = std::fs::read_to_string(&k.krb5_conf).unwrap();
    std::fs::write(
        &skewed,
        krb5.replacen("[libdefaults]", "[libdefaults]\n  kdc_timesync = 0", 1),
    )
    .unwrap();
    let plain = submit(&k.principal, &k.keytab);
    let mut c = Command::new("faketime");
    c.args(["-f", "+2h"])
        .arg(plain.get_program())
        .args(plain.get_args());
    for (key, value) in plain.get_envs() {
        match value {
            Some(v) => c.env(key, v),
            None => c.env_remove(key),
        };
    }
    c.env("KRB5_CONFIG", &skewed)
        .env("FAKETIME_DONT_FAKE_MONOTONIC", "1");
    let err = one_line_failure(c);
    assert!(err.contains("clock") && err.contains("NTP"), "{err}");
    // An expired ticket.
    let cache = dir.join("short-cache");
    let kinit = k
        .mit_command("kinit", &cache)
        .args(["-l", "5s", "-kt"])
        .arg(&k.keytab)
        .arg(&k.principal)
        .output()
        .unwrap();
    assert!(kinit.status.success(), "{}", text(&kinit.stderr));
    std::thread::sleep(Duration::from_secs(7));
    let mut c = spindle_cli(h, &cache);
    c.args(["status", app]);
    let err = one_line_failure(c);
    assert!(err.contains("expired") && err.contains("kinit"), "{err}");
    // The client's configuration says simple, the cluster wants Kerberos; and the reverse.
    let simple_conf = dir.join("simple-conf");
    std::fs::create_dir_all(&simple_conf).unwrap();
    for f in ["hdfs-site.xml", "yarn-site.xml"] {
        std::fs::copy(h.conf_dir().join(f), simple_conf.join(f)).unwrap();
    }
    let core = std::fs::read_to_string(h.conf_dir().join("core-site.xml")).unwrap();
    std::fs::write(
        simple_conf.join("core-site.xml"),
        core.replace(">kerberos<", ">simple<"),
    )
    .unwrap();
    let mut c = spindle_cli(h, &cache);
    c.env("HADOOP_CONF_DIR", &simple_conf).args(["status", app]);
    let err = one_line_failure(c);
    assert!(err.contains("requires Kerberos"), "{err}");
    let mut c = spindle_cli(h, &cache);
    c.env("HADOOP_CONF_DIR", &simple_conf)
        .args([
            "submit",
            "--master",
            "yarn",
            "--principal",
            &k.principal,
            "--keytab",
        ])
        .arg(&k.keytab)
        .arg(binary("wordcount"))
        .args(["/in", "/out"]);
    let err = one_line_failure(c);
    assert!(err.contains("does not use Kerberos"), "{err}");
}

#[test]
#[ignore = "needs the secure mini-Hadoop; scripts/test's secure stage runs it"]
fn nodemanager_web_endpoints_take_our_spnego_tickets() {
    let h = cluster();
    let conf = secure_conf(h);
    let login = keytab_login(h);
    block_on(async {
        let rest = RmRestClient::from_config(&conf, None)
            .unwrap()
            .with_kerberos(&login);
        let nodes = rest.nodes().await.expect("nodes over SPNEGO");
        let http = reqwest::Client::new();
        for node in nodes.iter().filter(|n| !n.http_address.is_empty()) {
            let url = format!("http://{}/ws/v1/node/info", node.http_address);
            let bare = http.get(&url).send().await.unwrap();
            assert_eq!(bare.status(), 401, "{url} without a ticket");
            let spnego = spindle_hadoop::spnego::Spnego::new(login.credential.clone());
            let resp = http
                .get(&url)
                .header("Accept", "application/json")
                .header("Authorization", spnego.authorization(&url).unwrap())
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200, "{url} with a ticket");
            let body = resp.text().await.unwrap();
            assert!(body.contains("nodeManagerVersion"), "{body}");
        }
    });
}

#[test]
#[ignore = "needs the secure mini-Hadoop; scripts/test's secure stage runs it"]
fn a_kerberos_user_acts_for_another_where_proxyuser_allows_it() {
    let h = cluster();
    let conf = secure_conf(h);
    let login = keytab_login(h);
    // The secure mini-Hadoop lets its user impersonate anyone (hadoop.proxyuser.<user>.*=*).
    let auth = Auth::Kerberos(
        KerberosAuth::from_conf(
            &conf,
            login.clone(),
            "dfs.namenode.kerberos.principal",
            Some("proxied".into()),
        )
        .unwrap(),
    );
    block_on(async {
        let nn = NameNodeClient::from_config(&conf, auth).unwrap();
        let token = nn
            .get_delegation_token(&login.principal)
            .await
            .expect("token as proxied");
        let id =
            spindle_hadoop::token::DelegationTokenIdentifier::decode(&token.identifier).unwrap();
        assert_eq!(id.owner, "proxied");
        assert_eq!(id.real_user, login.principal);
        nn.cancel_delegation_token(&token).await.unwrap();
        let rest = RmRestClient::from_config(&conf, None)
            .unwrap()
            .with_kerberos(&login)
            .with_do_as("proxied");
        rest.cluster_info().await.expect("doAs over SPNEGO");
    });
}

#[test]
#[ignore = "needs the secure mini-Hadoop; scripts/test's secure stage runs it"]
fn wordcount_in_client_mode_on_the_secure_cluster() {
    let h = cluster();
    let k = h.kerberos().unwrap();
    let dir = scratch_dir("secure-wc-client");
    let (root, base, expected) = put_words(h, "secure-client", 500, 0x5EC_0002);
    // From the ticket cache this time: the driver runs here and logs in the same way.
    let cache = kinit(k, &dir.join("kinit-cache"));
    let out = spindle_cli(h, &cache)
        .args([
            "submit",
            "--master",
            "yarn",
            "--deploy-mode",
            "client",
            "--executor-memory",
            "256m",
            "--num-executors",
            "1",
            "--conf",
            "spindle.executor.memoryOverhead=128m",
        ])
        .arg(binary("wordcount"))
        .args([
            format!("{root}{base}/in/input.txt"),
            format!("{root}{base}/out"),
        ])
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert!(
        out.status.success(),
        "secure client-mode wordcount failed:\n{err}"
    );
    assert_eq!(
        counts_read_by_java(h, &format!("{root}{base}/out")),
        expected
    );
}

fn app_state(h: &MiniHadoop, app: &str) -> AppState {
    block_on(spnego_rest(h).app_state(app.parse().unwrap())).expect("app state over SPNEGO")
}

/// Submits a job that runs until killed (pi over very many samples) in cluster mode from the
/// keytab, with `executors` executors and its stderr in `dir`, and waits until the RM says RUNNING: the submitting
/// process, the file its stderr goes to, and the application id.
fn start_long_job(
    h: &MiniHadoop,
    dir: &Path,
    tag: &str,
    executors: u32,
) -> (Child, PathBuf, String) {
    let log = dir.join("submit.log");
    let child = submit_with_keytab(h, dir, executors)
        .args(["--tags", tag])
        .arg(binary("pi"))
        .args(["100000000000000", "2"])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut app = String::new();
    wait_until("the application to run", Duration::from_secs(120), || {
        let err = std::fs::read_to_string(&log).unwrap_or_default();
        assert!(!err.contains("ended:"), "the long job ended early:\n{err}");
        if app.is_empty() && err.contains("submitted application_") {
            app = app_id_in(&err).unwrap();
        }
        !app.is_empty() && app_state(h, &app) == AppState::Running
    });
    (child, log, app)
}

#[test]
#[ignore = "needs the secure mini-Hadoop; scripts/test's secure stage runs it"]
fn kill_logs_and_the_am_ui_through_the_proxy_on_the_secure_cluster() {
    let h = cluster();
    let k = h.kerberos().unwrap();
    let dir = scratch_dir("secure-kill");
    let (mut child, log, app) = start_long_job(h, &dir, "secure-kill", 1);
    let cache = kinit(k, &dir.join("kinit-cache"));
    wait_until("containers of the app", Duration::from_secs(60), || {
        container_processes(&app).len() >= 2
    });
    // Logs of running containers come from the NodeManagers' web services (SPNEGO).
    let running = spindle_cli(h, &cache)
        .args(["logs", &app, "--log-files", "stderr"])
        .output()
        .unwrap();
    assert!(
        running.status.success(),
        "spindle logs: {}",
        text(&running.stderr)
    );
    assert!(
        text(&running.stdout).contains("(stderr, running)"),
        "{}",
        text(&running.stdout)
    );
    // The AM's web UI through the RM's proxy, which wants SPNEGO like the rest of the RM.
    let proxied = format!(
        "{}/proxy/{app}/api/v1/applications",
        h.rm_url().trim_end_matches('/')
    );
    let bare = block_on(reqwest::Client::new().get(&proxied).send()).unwrap();
    assert_eq!(bare.status(), 401, "{proxied} without a ticket");
    let spnego = Spnego::new(keytab_login(h).credential);
    let apps = wait_for(
        "the AM's API through the proxy",
        Duration::from_secs(60),
        || spnego_json(h, &spnego, &proxied),
    );
    assert!(
        apps.as_array()
            .is_some_and(|a| a.iter().any(|x| x["id"] == app.as_str())),
        "{apps}"
    );
    let kill = spindle_cli(h, &cache)
        .args(["kill", &app])
        .output()
        .unwrap();
    assert!(
        kill.status.success(),
        "spindle kill: {}",
        text(&kill.stderr)
    );
    assert!(
        text(&kill.stderr).contains(&format!("killed {app}: KILLED")),
        "{}",
        text(&kill.stderr)
    );
    assert_eq!(app_state(h, &app), AppState::Killed);
    wait_until("the app's processes to go", Duration::from_secs(30), || {
        container_processes(&app).is_empty()
    });
    let status = wait_exit(&mut child, "spindle submit", Duration::from_secs(30));
    let err = std::fs::read_to_string(&log).unwrap();
    assert_eq!(status.code(), Some(11), "{err}");
    assert!(err.contains("ended: KILLED"), "{err}");
    // Once YARN has aggregated them into HDFS (read over Kerberos IPC), the AM's logs.
    let am_container = format!("{}_01_000001 on ", app.trim_start_matches("application_"));
    let mut last = String::new();
    wait_until("aggregated logs", Duration::from_secs(90), || {
        let logs = spindle_cli(h, &cache)
            .args(["logs", &app])
            .output()
            .unwrap();
        last = format!("{}\n{}", text(&logs.stdout), text(&logs.stderr));
        logs.status.success()
            && last.contains("(stderr, aggregated)")
            && last
                .lines()
                .any(|l| l.starts_with("==> container_") && l.contains(&am_container))
    });
    assert!(last.contains("exec /bin/bash -c"), "{last}");
}

#[test]
#[ignore = "needs the secure mini-Hadoop; scripts/test's secure stage runs it"]
fn a_lost_executor_is_replaced_and_the_job_succeeds_on_the_secure_cluster() {
    let h = cluster();
    let dir = scratch_dir("secure-exec-loss");
    let (root, base, expected) = put_words(h, "secure-exec-loss", LOSS_LINES, 0x5EC_0003);
    let log = dir.join("submit.log");
    // One executor: its replacement must do the rest of the work, reading HDFS with the
    // delegation tokens the AM hands it.
    let mut submit = submit_with_keytab(h, &dir, 1);
    submit
        .arg(binary("wordcount"))
        .args([format!("{root}{base}/in"), format!("{root}{base}/out")]);
    let (mut child, app) = submit_until_tasks_run(h, submit, &log);
    let spnego = Spnego::new(keytab_login(h).credential);
    let api = |what: &str| {
        let url = format!(
            "{}/proxy/{app}/api/v1/applications/{app}/{what}",
            h.rm_url().trim_end_matches('/')
        );
        spnego_json(h, &spnego, &url)
    };
    let executors: Vec<_> = container_processes(&app)
        .into_iter()
        .filter(|p| {
            p.program.ends_with(launch::APP_BINARY) && p.var("SPINDLE_ROLE") == Some("executor")
        })
        .collect();
    assert_eq!(executors.len(), 1, "one executor process");
    let lost = executors[0].container.clone();
    eprintln!("killing executor pid {} in {lost}", executors[0].pid);
    signal(executors[0].pid, "9");
    // The AM reports the loss and a replacement; the job finishes with every word counted.
    let mut seen = Vec::new();
    let status = wait_for("the job to end", Duration::from_secs(180), || {
        if let Some(list) = api("executors") {
            for e in list.as_array().into_iter().flatten() {
                let id = e["containerId"].as_str().unwrap_or_default().to_string();
                if !id.is_empty() && !seen.contains(&id) {
                    seen.push(id);
                }
            }
        }
        child.try_wait().unwrap()
    });
    let err = std::fs::read_to_string(&log).unwrap();
    assert!(
        status.success(),
        "the job failed after losing an executor:\n{err}"
    );
    assert!(
        seen.iter().any(|c| *c != lost),
        "no replacement executor seen (lost {lost}, seen {seen:?})"
    );
    assert_eq!(
        counts_read_by_java(h, &format!("{root}{base}/out")),
        expected
    );
}

/// Lines of input for the executor-loss test: enough for its tasks to run a few seconds.
const LOSS_LINES: usize = 500_000;
