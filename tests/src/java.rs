//! Hadoop's own Java clients: the peers of `tests/java` (a Maven project on Hadoop 3.5's client
//! classes), run as `java` processes, against a cluster or on their own.

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use crate::cluster::{HADOOP_VERSIONS, MiniHadoop, hadoop, hadoop_version, repo_root};
use crate::run::{assert_success, run_ok};

/// The `java` command that runs `class` from the Java peers' classpath, on no cluster: small heap,
/// quick start. Add arguments and environment, then run or spawn it.
pub fn java_command(class: &str) -> Command {
    java_with_classpath(java_peers_classpath().to_string(), class)
}

fn java_with_classpath(classpath: String, class: &str) -> Command {
    java_with_options(classpath, &[], class)
}

fn java_with_options(classpath: String, jvm_options: &[String], class: &str) -> Command {
    let mut cmd = Command::new("java");
    cmd.args(["-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"])
        .args(jvm_options)
        .arg("-cp")
        .arg(classpath)
        .arg(class)
        .stdin(Stdio::null());
    cmd
}

/// Runs `class args…` on no cluster ([`java_command`]); panics with its stdout and stderr unless
/// it exits 0, and returns its stdout.
pub fn java_ok(class: &str, args: &[&str]) -> String {
    run_ok(
        &format!("java {class} {args:?}"),
        java_command(class).args(args),
    )
}

/// Runs `class`'s main from the Java peers project (`tests/java`) against the shared cluster
/// ([`hadoop`]): its conf dir first on the classpath and as `HADOOP_CONF_DIR`. Builds the project
/// first if its sources changed (a Maven run; cached otherwise).
pub fn java_peer(class: &str, args: &[&str]) -> Output {
    java_peer_on(hadoop(), class, args)
}

/// [`java_peer`] against a given cluster.
pub fn java_peer_on(cluster: &MiniHadoop, class: &str, args: &[&str]) -> Output {
    java_peer_command(cluster, class, args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run java for {class}: {e}"))
}

/// The `java` command that runs a Java peer against `cluster`, to spawn in the background. On a
/// secure cluster it finds the KDC (`-Djava.security.krb5.conf`) but holds no credentials: its
/// ticket cache (`KRB5CCNAME`) names a file that does not exist, unless the caller sets another
/// ([`java_peer_with_keytab_command`] logs in from the user's keytab).
pub fn java_peer_command(cluster: &MiniHadoop, class: &str, args: &[&str]) -> Command {
    let classpath = format!(
        "{}:{}",
        cluster.conf_dir().display(),
        java_peers_classpath()
    );
    let mut options = Vec::new();
    if let Some(k) = cluster.kerberos() {
        options.push(format!(
            "-Djava.security.krb5.conf={}",
            k.krb5_conf.display()
        ));
    }
    let mut cmd = java_with_options(classpath, &options, class);
    cmd.args(args).env("HADOOP_CONF_DIR", cluster.conf_dir());
    if let Some(k) = cluster.kerberos() {
        let no_cache = std::env::temp_dir().join(format!(
            "spindle-test-{}-no-ticket-cache",
            std::process::id()
        ));
        cmd.env("KRB5CCNAME", format!("FILE:{}", no_cache.display()))
            .env("KRB5_CONFIG", &k.krb5_conf);
    }
    cmd
}

/// The `java` command that runs a Java peer against the secure `cluster` as its user, logged in
/// from the user's keytab first (the peer `KeytabLogin`, as a Hadoop client with
/// `loginUserFromKeytab`). Panics on an open cluster.
pub fn java_peer_with_keytab_command(cluster: &MiniHadoop, class: &str, args: &[&str]) -> Command {
    let k = cluster
        .kerberos()
        .unwrap_or_else(|| panic!("{}: not a secure cluster", cluster.conf_dir().display()));
    let keytab = k.keytab.display().to_string();
    let mut login = vec![k.principal.as_str(), keytab.as_str(), class];
    login.extend(args);
    java_peer_command(cluster, "dev.spindle.peers.KeytabLogin", &login)
}

/// Runs [`java_peer_with_keytab_command`]; panics with its output unless it exits 0, and returns
/// stdout (whose first line is `login <principal> <short name>`).
pub fn java_peer_with_keytab_ok(cluster: &MiniHadoop, class: &str, args: &[&str]) -> String {
    let out = java_peer_with_keytab_command(cluster, class, args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run java for {class}: {e}"));
    assert_success(&format!("java peer {class} {args:?} (keytab login)"), &out)
}

/// Runs [`java_peer`], panics with its stdout and stderr unless it exits 0, and returns stdout.
pub fn java_peer_ok(class: &str, args: &[&str]) -> String {
    java_peer_on_ok(hadoop(), class, args)
}

/// [`java_peer_ok`] against a given cluster.
pub fn java_peer_on_ok(cluster: &MiniHadoop, class: &str, args: &[&str]) -> String {
    let out = java_peer_on(cluster, class, args);
    assert_success(&format!("java peer {class} {args:?}"), &out)
}

/// The Java peers' classpath: compiled classes, then the Maven-resolved jars, of the Hadoop
/// release under test ([`hadoop_version`]). Built once per process (`tests/java/build VERSION`, a
/// no-op when nothing changed).
pub fn java_peers_classpath() -> &'static str {
    static CP: OnceLock<String> = OnceLock::new();
    CP.get_or_init(|| {
        let version = hadoop_version();
        let dir = repo_root().join("tests").join("java");
        let status = Command::new("bash")
            .arg(dir.join("build"))
            .arg(version)
            .status()
            .unwrap_or_else(|e| panic!("cannot run tests/java/build: {e}"));
        assert!(
            status.success(),
            "tests/java/build {version} failed ({status})"
        );
        // The default release builds into target/, the others into target/hadoop-VERSION/.
        let (classes, jars) = if version == HADOOP_VERSIONS[0] {
            (dir.join("target/classes"), dir.join("target/classpath.txt"))
        } else {
            (
                dir.join(format!("target/hadoop-{version}/classes")),
                dir.join(format!("target/classpath-{version}.txt")),
            )
        };
        let jars = fs::read_to_string(&jars).unwrap_or_else(|e| panic!("{}: {e}", jars.display()));
        format!("{}:{}", classes.display(), jars.trim())
    })
}

/// The path of the jar on the Java peers' classpath whose file name starts with `prefix`
/// (e.g. `hadoop-yarn-applications-distributedshell`).
pub fn java_peer_jar(prefix: &str) -> PathBuf {
    java_peers_classpath()
        .split(':')
        .map(PathBuf::from)
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix) && n.ends_with(".jar"))
        })
        .unwrap_or_else(|| panic!("no jar named {prefix}* on the Java peers' classpath"))
}
