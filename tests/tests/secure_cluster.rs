//! The secure mini-Hadoop (`deploy/mini-hadoop --secure`) as Hadoop's own Java clients and MIT
//! Kerberos see it: logged in from the user's keytab, the Java clients list the NodeManagers,
//! write and read HDFS and run Hadoop's distributed shell (delegation tokens, containers under the
//! DefaultContainerExecutor, log aggregation); without a ticket, or with simple authentication, they are refused; the RM's
//! and the NodeManagers' web endpoints want SPNEGO; `kinit` gets tickets from its KDC that Java and
//! curl accept.
//!
//! These need the secure cluster, so they are `#[ignore]`d in the open-cluster run; scripts/test's
//! secure stage runs them (`cargo test -p spindle-tests --test secure_cluster -- --ignored`) with
//! `SPINDLE_SECURE_HADOOP_CONF_DIR` set. Without it they start a secure mini-Hadoop of their own.

use std::fs;
use std::process::Command;

use spindle_hadoop::config::Configuration;
use spindle_tests::{
    MiniHadoop, java_peer_command, java_peer_jar, java_peer_with_keytab_ok, rest_get, run_ok,
    scratch_dir, secure_hadoop, text,
};

/// The operating system's name for the user running the tests.
fn os_user() -> String {
    run_ok("id -un", Command::new("id").arg("-un"))
        .trim()
        .to_string()
}

/// The cluster's client configuration, as Spindle reads it.
fn conf(h: &MiniHadoop) -> Configuration {
    Configuration::load_dir(h.conf_dir()).expect("the secure cluster's conf dir")
}

/// `name` from the client configuration; panics when it is unset.
fn setting(h: &MiniHadoop, name: &str) -> String {
    conf(h)
        .get(name)
        .expect("readable")
        .unwrap_or_else(|| panic!("{name} is not set in {}", h.conf_dir().display()))
}

#[test]
#[ignore = "needs the secure mini-Hadoop; scripts/test's secure stage runs it"]
fn the_client_configuration_is_secure() {
    let h = secure_hadoop();
    let k = h.kerberos().expect("secure");
    assert_eq!(setting(h, "hadoop.security.authentication"), "kerberos");
    assert_eq!(setting(h, "hadoop.security.authorization"), "true");
    assert_eq!(setting(h, "dfs.block.access.token.enable"), "true");
    let qop = setting(h, "hadoop.rpc.protection");
    assert!(
        ["authentication", "integrity", "privacy"].contains(&qop.as_str()),
        "{qop}"
    );
    assert_eq!(setting(h, "dfs.data.transfer.protection"), qop);
    let realm = k.principal.split('@').nth(1).expect("a realm");
    for key in [
        "dfs.namenode.kerberos.principal",
        "yarn.resourcemanager.principal",
    ] {
        assert!(setting(h, key).ends_with(&format!("@{realm}")), "{key}");
    }
    // The user's short name is the OS user: HDFS home and YARN's user are the same as on the
    // open cluster.
    assert_eq!(k.short_name(), os_user(), "{k:?}");
    assert!(k.keytab.starts_with(h.conf_dir()) && k.krb5_conf.starts_with(h.conf_dir()));
    // Clients get no service keytabs.
    let c = conf(h);
    assert_eq!(c.keys().filter(|key| key.contains("keytab")).count(), 0);
}

#[test]
#[ignore = "needs the secure mini-Hadoop; scripts/test's secure stage runs it"]
fn java_client_logged_in_from_the_keytab_lists_the_nodemanagers() {
    let h = secure_hadoop();
    let _logs = h.log_guard();
    let k = h.kerberos().expect("secure");
    let out = java_peer_with_keytab_ok(h, "dev.spindle.peers.YarnNodes", &[]);
    assert!(
        out.starts_with(&format!("login {} {}\n", k.principal, os_user())),
        "{out}"
    );
    let nodes: Vec<&str> = out.lines().filter(|l| l.starts_with("node ")).collect();
    assert_eq!(nodes.len(), 2, "YarnClient output:\n{out}");
    assert!(out.contains("running=2"), "{out}");
}

#[test]
#[ignore = "needs the secure mini-Hadoop; scripts/test's secure stage runs it"]
fn java_client_logged_in_from_the_keytab_writes_and_reads_hdfs() {
    let h = secure_hadoop();
    let _logs = h.log_guard();
    let k = h.kerberos().expect("secure");
    // In the user's home directory: a real user's place, whatever the HDFS permissions.
    let path = format!(
        "/user/{}/secure-roundtrip-{}.txt",
        k.short_name(),
        std::process::id()
    );
    let out = java_peer_with_keytab_ok(h, "dev.spindle.peers.FsRoundTrip", &[&path]);
    assert!(out.contains("roundtrip ok bytes=55000"), "{out}");
    assert!(out.contains(&format!("fs={}", h.fs_uri())), "{out}");
}

#[test]
#[ignore = "needs the secure mini-Hadoop; scripts/test's secure stage runs it"]
fn distributed_shell_runs_on_the_secure_cluster() {
    let h = secure_hadoop();
    let _logs = h.log_guard();
    let name = format!("spindle-secure-ds-{}", std::process::id());
    let am_jar = java_peer_jar("hadoop-yarn-applications-distributedshell");
    // Hadoop's own client fetches HDFS delegation tokens for the RM to renew; the Client exits 0
    // only when the application finishes SUCCEEDED.
    let out = java_peer_with_keytab_ok(
        h,
        "org.apache.hadoop.yarn.applications.distributedshell.Client",
        &[
            "-jar",
            am_jar.to_str().expect("UTF-8 path"),
            "-appname",
            &name,
            "-shell_command",
            "echo hello-from-a-secure-container",
            "-num_containers",
            "2",
            "-container_memory",
            "64",
            "-master_memory",
            "256",
            "-timeout",
            "300000",
        ],
    );
    assert!(out.starts_with("login "), "{out}");
}

#[test]
#[ignore = "needs the secure mini-Hadoop; scripts/test's secure stage runs it"]
fn java_client_without_a_ticket_is_refused() {
    let h = secure_hadoop();
    let _logs = h.log_guard();
    let path = format!("/tmp/secure-refused-{}.txt", std::process::id());
    // No login and an empty ticket cache: the NameNode offers only TOKEN and KERBEROS.
    let out = java_peer_command(h, "dev.spindle.peers.FsRoundTrip", &[&path])
        .output()
        .expect("java runs");
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{}", text(&out.stdout));
    assert!(
        stderr.contains("Client cannot authenticate via:[TOKEN, KERBEROS]"),
        "{stderr}"
    );
}

#[test]
#[ignore = "needs the secure mini-Hadoop; scripts/test's secure stage runs it"]
fn java_client_with_simple_authentication_is_refused() {
    let h = secure_hadoop();
    let _logs = h.log_guard();
    // The same client configuration, but saying simple: the NameNode must not accept a bare name.
    let dir = scratch_dir("simple-conf");
    for entry in fs::read_dir(h.conf_dir()).expect("conf dir") {
        let entry = entry.expect("entry");
        fs::copy(entry.path(), dir.join(entry.file_name())).expect("copy");
    }
    let core = dir.join("core-site.xml");
    let xml = fs::read_to_string(&core).expect("core-site.xml");
    let secure = "<name>hadoop.security.authentication</name><value>kerberos</value>";
    assert!(xml.contains(secure), "{xml}");
    fs::write(
        &core,
        xml.replace(
            secure,
            "<name>hadoop.security.authentication</name><value>simple</value>",
        ),
    )
    .expect("write");
    let simple = MiniHadoop::external(&dir, None).expect("the copied conf dir");
    let path = format!("/tmp/secure-simple-{}.txt", std::process::id());
    let out = java_peer_command(&simple, "dev.spindle.peers.FsRoundTrip", &[&path])
        .output()
        .expect("java runs");
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{}", text(&out.stdout));
    assert!(
        stderr.contains("SIMPLE authentication is not enabled"),
        "{stderr}"
    );
    let _ = fs::remove_dir_all(&dir);
}

#[test]
#[ignore = "needs the secure mini-Hadoop; scripts/test's secure stage runs it"]
fn rm_and_nodemanager_web_endpoints_want_spnego() {
    let h = secure_hadoop();
    let _logs = h.log_guard();
    let mut urls = vec![format!("{}/ws/v1/cluster/info", h.rm_url())];
    // The NodeManagers' web addresses, as the RM reports them to an authenticated client.
    let out = java_peer_with_keytab_ok(h, "dev.spindle.peers.YarnNodes", &[]);
    for line in out.lines().filter(|l| l.starts_with("node ")) {
        let http = line.split(' ').nth(2).expect("node <id> <http address>");
        urls.push(format!("http://{http}/ws/v1/node/info"));
    }
    assert_eq!(urls.len(), 3, "{out}");
    for url in urls {
        let reply = rest_get(&url).expect("an answer");
        assert_eq!(reply.status, 401, "{url}: {}", reply.body);
        assert_eq!(
            reply.www_authenticate.as_deref(),
            Some("Negotiate"),
            "{url}"
        );
    }
}

#[test]
#[ignore = "needs the secure mini-Hadoop; scripts/test's secure stage runs it"]
fn mit_kinit_gets_tickets_that_java_and_curl_accept() {
    let h = secure_hadoop();
    let _logs = h.log_guard();
    let k = h.kerberos().expect("secure");
    let cache = scratch_dir("kinit").join("ccache");
    let keytab = k.keytab.display().to_string();
    run_ok(
        "kinit -kt",
        k.mit_command("kinit", &cache)
            .args(["-kt", &keytab, &k.principal]),
    );
    let realm = k.principal.split('@').nth(1).expect("a realm");
    let klist = run_ok("klist", &mut k.mit_command("klist", &cache));
    assert!(
        klist.contains(&format!("Default principal: {}", k.principal)),
        "{klist}"
    );
    assert!(
        klist.contains(&format!("krbtgt/{realm}@{realm}")),
        "{klist}"
    );
    // Service tickets for the NameNode and the RM, by the principals clients are told to expect.
    let nn = setting(h, "dfs.namenode.kerberos.principal");
    let rm = setting(h, "yarn.resourcemanager.principal");
    run_ok("kvno", k.mit_command("kvno", &cache).args([&nn, &rm]));

    // Hadoop's Java client takes the ticket from MIT's cache (no keytab login).
    let path = format!(
        "/user/{}/secure-ccache-{}.txt",
        k.short_name(),
        std::process::id()
    );
    let out = java_peer_command(h, "dev.spindle.peers.FsRoundTrip", &[&path])
        .env("KRB5CCNAME", format!("FILE:{}", cache.display()))
        .output()
        .expect("java runs");
    let stdout = text(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("roundtrip ok"),
        "{stdout}\n{}",
        text(&out.stderr)
    );

    // curl's SPNEGO (GSS-API through MIT Kerberos) with the same cache gets the RM's REST API.
    let url = format!("{}/ws/v1/cluster/info", h.rm_url());
    let body = run_ok(
        "curl --negotiate",
        k.mit_command("curl", &cache)
            .args(["-sS", "--fail", "--negotiate", "-u", ":", &url]),
    );
    let info: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(info["clusterInfo"]["state"], "STARTED", "{body}");
}
