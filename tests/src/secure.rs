//! Spindle on a secure cluster (`deploy/mini-hadoop --secure`): the `spindle` CLI with a ticket
//! cache of its own or the user's keytab, test input owned by the Kerberos user, and what Hadoop's
//! Java client and the AM (through the RM's proxy, with SPNEGO) say about a job. Shared by the
//! secure test files, each of which points its process's Kerberos library at its cluster first
//! ([`bind_kerberos`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use spindle_hadoop::config::Configuration;
use spindle_hadoop::kerberos::Login;
use spindle_hadoop::spnego::Spnego;
use spindle_hadoop::tls::HttpsTrust;
use spindle_hadoop::yarn::RmRestClient;

use crate::{
    KerberosUser, MiniHadoop, block_on, java_peer_with_keytab_ok, parse_counts, random_words, text,
};

/// Points this process's Kerberos library at `h`'s KDC, unless `KRB5_CONFIG` is set already.
/// Call it once, before the process's first Kerberos call (a test file's `cluster()` does).
pub fn bind_kerberos(h: &MiniHadoop) {
    let k = h.kerberos().expect("a secure cluster");
    if std::env::var_os("KRB5_CONFIG").is_none() {
        // SAFETY: called before this process's first Kerberos call reads the variable, from
        // a OnceLock in the test file, so no other thread reads the environment meanwhile.
        unsafe { std::env::set_var("KRB5_CONFIG", &k.krb5_conf) };
    }
}

/// The cluster's client configuration.
pub fn secure_conf(h: &MiniHadoop) -> Configuration {
    Configuration::load_dir(h.conf_dir()).expect("the secure cluster's conf dir")
}

/// The cluster's user, logged in from its keytab (in this process).
pub fn keytab_login(h: &MiniHadoop) -> Login {
    let k = h.kerberos().expect("secure");
    Login::from_keytab(&secure_conf(h), &k.principal, &k.keytab).expect("keytab login")
}

/// Spindle's RM REST client on the secure cluster, logged in from the keytab (SPNEGO).
pub fn spnego_rest(h: &MiniHadoop) -> RmRestClient {
    RmRestClient::from_config(&secure_conf(h), None)
        .unwrap()
        .with_trust(trust(h))
        .unwrap()
        .with_kerberos(&keytab_login(h))
}

/// The CAs Spindle's HTTPS clients trust on this cluster: its CA on an HTTPS one.
pub fn trust(h: &MiniHadoop) -> HttpsTrust {
    HttpsTrust::load(&secure_conf(h), h.https_ca()).expect("the cluster's CA")
}

/// The `spindle` CLI on the secure cluster, with the ticket cache `cache` (empty unless filled
/// by [`kinit`]).
pub fn spindle_cli(h: &MiniHadoop, cache: &Path) -> Command {
    let k = h.kerberos().expect("secure");
    let mut c = crate::spindle_command(h.conf_dir());
    c.env("KRB5_CONFIG", &k.krb5_conf)
        .env("KRB5CCNAME", format!("FILE:{}", cache.display()));
    if let Some(ca) = h.https_ca() {
        c.env("SPINDLE_SSL_CA", ca);
    }
    c
}

/// `spindle submit --master yarn` (cluster mode) logged in from the user's keytab, with the small
/// memory settings of every secure test; the caller adds the driver and its arguments.
pub fn submit_with_keytab(h: &MiniHadoop, dir: &Path, executors: u32) -> Command {
    let k = h.kerberos().unwrap();
    let mut c = spindle_cli(h, &dir.join("no-cache"));
    c.args([
        "submit",
        "--master",
        "yarn",
        "--principal",
        &k.principal,
        "--keytab",
    ])
    .arg(&k.keytab)
    .args(["--driver-memory", "256m", "--executor-memory", "256m"])
    .args(["--num-executors", &executors.to_string()])
    .args(["--conf", "spindle.executor.memoryOverhead=128m"])
    .args(["--conf", "spindle.driver.memoryOverhead=128m"]);
    c
}

/// A ticket cache at `cache`, filled by MIT's `kinit` from the user's keytab.
pub fn kinit(k: &KerberosUser, cache: &Path) -> PathBuf {
    let out = k
        .mit_command("kinit", cache)
        .arg("-kt")
        .arg(&k.keytab)
        .arg(&k.principal)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    cache.to_path_buf()
}

/// An hdfs-native client logged in from the user's keytab.
pub fn keytab_hdfs(h: &MiniHadoop) -> hdfs_native::Client {
    let k = h.kerberos().unwrap();
    hdfs_native::ClientBuilder::new()
        .with_url(h.fs_uri())
        .with_config_dir(h.conf_dir().to_string_lossy())
        .with_kerberos_principal(&k.principal)
        .with_kerberos_keytab(k.keytab.to_string_lossy())
        .build()
        .expect("hdfs-native client")
}

/// `words` random words in `/user/<short name>/<name>/<pid>/in/input.txt`: the file system's URI
/// (no trailing slash), that base directory, and the counts a wordcount must find.
pub fn put_words(
    h: &MiniHadoop,
    name: &str,
    words: usize,
    seed: u64,
) -> (String, String, BTreeMap<String, u64>) {
    let k = h.kerberos().unwrap();
    let (input, expected) = random_words(words, seed);
    let base = format!("/user/{}/{name}/{}", k.short_name(), std::process::id());
    block_on(crate::hdfs_put(
        &keytab_hdfs(h),
        &format!("{base}/in/input.txt"),
        input.as_bytes(),
    ));
    let root = h.fs_uri().trim_end_matches('/').to_string();
    (root, base, expected)
}

/// A wordcount's output as Hadoop's own Java client, logged in from the keytab, reads it
/// (and finds it committed).
pub fn counts_read_by_java(h: &MiniHadoop, out: &str) -> BTreeMap<String, u64> {
    let listing = java_peer_with_keytab_ok(h, "dev.spindle.peers.FsCatDir", &[out]);
    assert!(listing.contains("file _SUCCESS"), "{listing}");
    parse_counts(listing.lines().filter_map(|l| l.strip_prefix("line ")))
}

/// The application id `spindle submit` printed.
pub fn app_id_in(stderr: &str) -> Option<String> {
    stderr
        .split_whitespace()
        .find(|w| w.starts_with("application_"))
        .map(|w| w.trim_end_matches([',', ':', ')']).to_string())
}

/// A JSON answer of `url` (on the RM, such as its proxy to the AM) fetched with Spindle's SPNEGO
/// client; `None` unless it answers 200 with JSON.
pub fn spnego_json(h: &MiniHadoop, spnego: &Spnego, url: &str) -> Option<serde_json::Value> {
    let http = trust(h).client_builder().build().expect("an HTTP client");
    block_on(async {
        let resp = http
            .get(url)
            .header("Accept", "application/json")
            .header("Authorization", spnego.authorization(url).ok()?)
            .send()
            .await
            .ok()?;
        if resp.status() != 200 {
            eprintln!("{url}: {}", resp.status());
            return None;
        }
        resp.json().await.ok()
    })
}

/// Whether the AM of `app` (through the RM's proxy) reports a stage with running tasks.
pub fn am_runs_tasks(h: &MiniHadoop, spnego: &Spnego, app: &str) -> bool {
    let url = format!(
        "{}/proxy/{app}/api/v1/applications/{app}/stages",
        h.rm_url().trim_end_matches('/')
    );
    spnego_json(h, spnego, &url).is_some_and(|stages| {
        stages
            .as_array()
            .into_iter()
            .flatten()
            .any(|s| s["status"] == "ACTIVE" && s["numActiveTasks"].as_u64().unwrap_or(0) > 0)
    })
}

/// Starts `submit` (a `spindle submit` command) with its stderr in `log` and waits until the
/// application's AM runs tasks: the submitting process and the application id. Panics if the
/// job ends first (its input must be larger, then).
pub fn submit_until_tasks_run(
    h: &MiniHadoop,
    mut submit: Command,
    log: &Path,
) -> (std::process::Child, String) {
    let mut child = submit
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    let spnego = Spnego::new(keytab_login(h).credential);
    let app = crate::wait_for("the application id", Duration::from_secs(180), || {
        app_id_in(&std::fs::read_to_string(log).unwrap_or_default())
    });
    crate::wait_until("a running task", Duration::from_secs(120), || {
        if let Ok(Some(status)) = child.try_wait() {
            let err = std::fs::read_to_string(log).unwrap_or_default();
            panic!("the job ended before its tasks were seen running ({status}):\n{err}");
        }
        am_runs_tasks(h, &spnego, &app)
    });
    (child, app)
}
