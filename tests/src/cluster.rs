//! The test cluster: the mini-Hadoop shared by a test process ([`hadoop`]), one of a test's own
//! ([`OwnCluster`]), or an external cluster named by `SPINDLE_HADOOP_CONF_DIR`; and the secure
//! (Kerberos) mini-Hadoop ([`secure_hadoop`], or `SPINDLE_SECURE_HADOOP_CONF_DIR`).

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use crate::kerberos::KerberosUser;

/// How long a cluster may take to print READY, including a first build that downloads Hadoop.
const START_TIMEOUT: Duration = Duration::from_secs(900);

/// A running mini-Hadoop (or an external cluster named by `SPINDLE_HADOOP_CONF_DIR`).
pub struct MiniHadoop {
    conf_dir: PathBuf,
    rm_url: String,
    fs_uri: String,
    log_dir: Option<PathBuf>,
    work_dir: Option<PathBuf>,
    /// The user's Kerberos identity on a secure cluster.
    kerberos: Option<KerberosUser>,
    /// The CA of the web endpoints' certificates (PEM) on an HTTPS cluster (`--https`).
    https_ca: Option<PathBuf>,
    /// The launcher and the write end of its stdin; `None` for an external cluster.
    process: Mutex<Option<(Child, ChildStdin)>>,
}

/// Options for a cluster of one's own ([`MiniHadoop::start`]); the defaults match
/// `deploy/mini-hadoop`'s.
#[derive(Clone, Debug)]
pub struct StartOptions {
    /// Data, container directories, logs and (under `conf`) the client configuration.
    pub work_dir: PathBuf,
    pub nodemanagers: u32,
    pub datanodes: u32,
    /// Extra flags for `deploy/mini-hadoop` (e.g. `--nm-memory 2048`).
    pub extra_args: Vec<String>,
}

impl StartOptions {
    /// Two NodeManagers and two DataNodes on free ports, in `work_dir`.
    pub fn new(work_dir: impl Into<PathBuf>) -> Self {
        StartOptions {
            work_dir: work_dir.into(),
            nodemanagers: 2,
            datanodes: 2,
            extra_args: Vec::new(),
        }
    }
}

/// The Hadoop releases the tests run against (`deploy/mini-hadoop --hadoop-version`).
pub const HADOOP_VERSIONS: [&str; 3] = ["3.5.0", "3.4.2", "3.3.6"];

/// The Hadoop release under test: `SPINDLE_HADOOP_VERSION` (one of [`HADOOP_VERSIONS`]; default
/// 3.5.0). It picks the Java peers' client jars and the version of a cluster started here; an
/// external cluster (`SPINDLE_HADOOP_CONF_DIR`) must be of that version. Panics on another value.
pub fn hadoop_version() -> &'static str {
    static VERSION: OnceLock<&'static str> = OnceLock::new();
    VERSION.get_or_init(|| match std::env::var("SPINDLE_HADOOP_VERSION") {
        Err(_) => HADOOP_VERSIONS[0],
        Ok(v) => HADOOP_VERSIONS
            .into_iter()
            .find(|known| *known == v.trim())
            .unwrap_or_else(|| {
                panic!("SPINDLE_HADOOP_VERSION={v}: not one of {HADOOP_VERSIONS:?}")
            }),
    })
}

/// The cluster shared by all tests of this process: `SPINDLE_HADOOP_CONF_DIR`'s, or one started on
/// first use under `target/test-hadoop/<pid>`. Panics (with the daemon log's tail) if it cannot start.
pub fn hadoop() -> &'static MiniHadoop {
    static CLUSTER: OnceLock<MiniHadoop> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        if let Some(dir) = std::env::var_os("SPINDLE_HADOOP_CONF_DIR") {
            let log_dir = std::env::var_os("SPINDLE_HADOOP_LOG_DIR").map(PathBuf::from);
            return MiniHadoop::external(Path::new(&dir), log_dir)
                .unwrap_or_else(|e| panic!("SPINDLE_HADOOP_CONF_DIR: {e}"));
        }
        let base = repo_root().join("target").join("test-hadoop");
        remove_stale_work_dirs(&base);
        let work_dir = base.join(std::process::id().to_string());
        MiniHadoop::start(&StartOptions::new(work_dir)).unwrap_or_else(|e| panic!("{e}"))
    })
}

/// The secure mini-Hadoop shared by all tests of this process (`deploy/mini-hadoop --secure`:
/// Kerberos, SASL, SPNEGO): `SPINDLE_SECURE_HADOOP_CONF_DIR`'s (its conf dir holds `krb5.conf`
/// and the user's keytab; `SPINDLE_SECURE_HADOOP_LOG_DIR` is its daemon log directory), or one
/// started on first use under `target/test-hadoop-secure/<pid>`. Its [`MiniHadoop::kerberos`] is
/// always set.
pub fn secure_hadoop() -> &'static MiniHadoop {
    static CLUSTER: OnceLock<MiniHadoop> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        let cluster = if let Some(dir) = std::env::var_os("SPINDLE_SECURE_HADOOP_CONF_DIR") {
            let log_dir = std::env::var_os("SPINDLE_SECURE_HADOOP_LOG_DIR").map(PathBuf::from);
            MiniHadoop::external(Path::new(&dir), log_dir)
                .unwrap_or_else(|e| panic!("SPINDLE_SECURE_HADOOP_CONF_DIR: {e}"))
        } else {
            let base = repo_root().join("target").join("test-hadoop-secure");
            remove_stale_work_dirs(&base);
            let mut opts = StartOptions::new(base.join(std::process::id().to_string()));
            opts.extra_args = vec!["--secure".into()];
            MiniHadoop::start(&opts).unwrap_or_else(|e| panic!("{e}"))
        };
        assert!(
            cluster.kerberos().is_some(),
            "{}: not a secure cluster (no krb5.conf)",
            cluster.conf_dir().display()
        );
        cluster
    })
}

impl MiniHadoop {
    /// Starts a cluster of one's own with `deploy/mini-hadoop` and waits for READY. It stops when
    /// this value is dropped, or when the test process exits.
    pub fn start(opts: &StartOptions) -> Result<MiniHadoop, String> {
        fs::create_dir_all(&opts.work_dir)
            .map_err(|e| format!("cannot create {}: {e}", opts.work_dir.display()))?;
        let conf_dir = opts.work_dir.join("conf");
        let log_dir = opts.work_dir.join("logs");
        let launcher_log = opts.work_dir.join("launcher.log");
        let stderr = fs::File::create(&launcher_log)
            .map_err(|e| format!("cannot create {}: {e}", launcher_log.display()))?;
        let script = repo_root().join("deploy").join("mini-hadoop");
        let mut child = Command::new("bash")
            .arg(&script)
            .arg("--stop-on-stdin-eof")
            .arg("--work-dir")
            .arg(&opts.work_dir)
            .arg("--conf-dir")
            .arg(&conf_dir)
            .args(["--nodemanagers", &opts.nodemanagers.to_string()])
            .args(["--datanodes", &opts.datanodes.to_string()])
            .args(&opts.extra_args)
            .args(
                (!opts.extra_args.iter().any(|a| a == "--hadoop-version"))
                    .then_some(["--hadoop-version", hadoop_version()])
                    .into_iter()
                    .flatten(),
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
        let stdin = child.stdin.take().expect("stdin is piped");
        let stdout = child.stdout.take().expect("stdout is piped");

        // Read stdout on a thread (it keeps draining it afterwards) and wait for READY here.
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if line.starts_with("READY ") {
                    let _ = tx.send(line);
                }
            }
        });
        let failure = |why: String, child: &mut Child| {
            let _ = child.kill();
            let _ = child.wait();
            format!(
                "mini-hadoop did not start: {why}\n--- {} ---\n{}\n--- {} (tail) ---\n{}",
                launcher_log.display(),
                tail(&launcher_log, 30),
                log_dir.join("mini-hadoop.log").display(),
                tail(&log_dir.join("mini-hadoop.log"), 40)
            )
        };
        let line = match rx.recv_timeout(START_TIMEOUT) {
            Ok(line) => line,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                return Err(failure(
                    format!("no READY line within {START_TIMEOUT:?}"),
                    &mut child,
                ));
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(failure("it exited before READY".into(), &mut child));
            }
        };
        let field = |name: &str| {
            line.split_whitespace()
                .find_map(|w| w.strip_prefix(name))
                .map(str::to_string)
        };
        let (Some(rm_url), Some(fs_uri)) = (field("rm="), field("fs=")) else {
            return Err(failure(format!("malformed READY line: {line}"), &mut child));
        };
        // A secure cluster (--secure) names the user's Kerberos identity too.
        let kerberos = match (field("principal="), field("keytab="), field("krb5=")) {
            (Some(principal), Some(keytab), Some(krb5)) => Some(KerberosUser {
                principal,
                keytab: keytab.into(),
                krb5_conf: krb5.into(),
            }),
            (None, None, None) => None,
            _ => return Err(failure(format!("malformed READY line: {line}"), &mut child)),
        };
        Ok(MiniHadoop {
            conf_dir,
            rm_url,
            fs_uri,
            log_dir: Some(log_dir),
            work_dir: Some(opts.work_dir.clone()),
            kerberos,
            https_ca: field("ca=").map(PathBuf::from),
            process: Mutex::new(Some((child, stdin))),
        })
    }

    /// An already-running cluster, described by the client configuration in `conf_dir`, read as
    /// `spindle submit` reads it: a cluster's own configuration (only
    /// `yarn.resourcemanager.hostname` set, say) works as well as a written-out client one. A
    /// secure cluster's conf dir also holds `krb5.conf` and the user's keytab.
    pub fn external(conf_dir: &Path, log_dir: Option<PathBuf>) -> Result<MiniHadoop, String> {
        let conf =
            spindle_hadoop::config::Configuration::load_dir(conf_dir).map_err(|e| e.to_string())?;
        let fs_uri = conf.default_fs().map_err(|e| e.to_string())?;
        let rm_url = conf
            .rm_web_urls()
            .map_err(|e| e.to_string())?
            .into_iter()
            .next()
            .ok_or_else(|| format!("{}: no ResourceManager", conf_dir.display()))?;
        Ok(MiniHadoop {
            conf_dir: conf_dir.to_path_buf(),
            rm_url,
            fs_uri,
            log_dir,
            work_dir: None,
            kerberos: KerberosUser::from_conf_dir(conf_dir)?,
            https_ca: Some(conf_dir.join("ca.pem")).filter(|p| p.is_file()),
            process: Mutex::new(None),
        })
    }

    /// The client configuration directory (`HADOOP_CONF_DIR` for clients of this cluster).
    pub fn conf_dir(&self) -> &Path {
        &self.conf_dir
    }

    /// The ResourceManager's web and REST base URL, e.g. `http://localhost:8088` (no trailing `/`).
    pub fn rm_url(&self) -> &str {
        &self.rm_url
    }

    /// The NameNode's URI, e.g. `hdfs://localhost:8020`.
    pub fn fs_uri(&self) -> &str {
        &self.fs_uri
    }

    /// Where the daemons log (`mini-hadoop.log`), when known.
    pub fn log_dir(&self) -> Option<&Path> {
        self.log_dir.as_deref()
    }

    /// The user's Kerberos identity (principal, keytab, `krb5.conf`) on a secure cluster; `None` on
    /// an open one.
    pub fn kerberos(&self) -> Option<&KerberosUser> {
        self.kerberos.as_ref()
    }

    /// The CA certificate (PEM) of an HTTPS cluster's web endpoints (`--https`; `ca.pem` in the
    /// conf dir of an external one).
    pub fn https_ca(&self) -> Option<&Path> {
        self.https_ca.as_deref()
    }

    /// The work directory of a cluster started here (data, container dirs, logs).
    pub fn work_dir(&self) -> Option<&Path> {
        self.work_dir.as_deref()
    }

    /// Restarts the ResourceManager of a cluster started here with `--rm-recovery`, in place (the
    /// launcher's control file), and waits until the NodeManagers have registered with the new one.
    pub fn restart_resource_manager(&self) {
        let control = self
            .work_dir()
            .expect("a cluster of our own")
            .join("control");
        let done = control.join("rm-restarts");
        let before = fs::read_to_string(&done).unwrap_or_default();
        fs::write(control.join("restart-rm"), b"").unwrap();
        crate::wait_until(
            "the ResourceManager to restart",
            Duration::from_secs(120),
            || fs::read_to_string(&done).unwrap_or_default() != before,
        );
    }

    /// The process id of `deploy/mini-hadoop` for a cluster started here.
    pub fn launcher_pid(&self) -> Option<u32> {
        let guard = self.process.lock().unwrap_or_else(|e| e.into_inner());
        guard.as_ref().map(|(child, _)| child.id())
    }

    /// The last `lines` lines of the daemon log, or a note saying why there are none.
    pub fn log_tail(&self, lines: usize) -> String {
        match &self.log_dir {
            Some(dir) => tail(&dir.join("mini-hadoop.log"), lines),
            None => "(no daemon log directory known: set SPINDLE_HADOOP_LOG_DIR)".into(),
        }
    }

    /// A guard that, if the test panics while it is alive, prints the daemon log's location and
    /// last lines (captured with the test's output).
    pub fn log_guard(&self) -> LogGuard<'_> {
        LogGuard { cluster: self }
    }

    /// Fails over the ResourceManager ([`Failover::ResourceManager`]: its active JVM is killed) or
    /// the NameNode (the active one stopped) of a `--ha` cluster started here, and waits until the
    /// other one is active (for the RM: once the NodeManagers count again). Returns the cluster's
    /// report, e.g. `1 active=rm2 ms=1164 killed-at=<epoch ms>` (ms: from the kill to the other
    /// being active); the
    /// stopped daemon then comes back as standby in the background.
    pub fn failover(&self, which: Failover) -> Result<String, String> {
        use std::io::Write;
        let (command, done) = match which {
            Failover::ResourceManager => ("failover-rm", "rm-failovers"),
            Failover::NameNode => ("failover-nn", "nn-failovers"),
        };
        let work_dir = self
            .work_dir
            .as_ref()
            .ok_or("failover needs a cluster started here (deploy/mini-hadoop --ha)")?;
        let done = work_dir.join("control").join(done);
        let count = |text: &str| {
            text.split_whitespace()
                .next()
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(0)
        };
        let before = fs::read_to_string(&done).map(|t| count(&t)).unwrap_or(0);
        {
            let mut guard = self.process.lock().unwrap_or_else(|e| e.into_inner());
            let (_, stdin) = guard.as_mut().ok_or("the cluster is stopped")?;
            writeln!(stdin, "{command}")
                .and_then(|()| stdin.flush())
                .map_err(|e| format!("cannot send {command} to mini-hadoop: {e}"))?;
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(300);
        loop {
            if let Ok(text) = fs::read_to_string(&done)
                && count(&text) > before
            {
                return Ok(text.trim().to_string());
            }
            if std::time::Instant::now() > deadline {
                return Err(format!(
                    "{command}: no new report in {} within 300 s; daemon log tail:\n{}",
                    done.display(),
                    self.log_tail(40)
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Gracefully decommissions the NodeManagers of `host` on a cluster started here, as an
    /// operator's `yarn rmadmin -refreshNodes -g TIMEOUT` does (the launcher's `decommission-nm`:
    /// exclude file, then the RM's refreshNodes, GRACEFUL); returns the launcher's report, e.g.
    /// `1 host=127.0.0.2 timeout=300 127.0.0.2:41234=DECOMMISSIONING`.
    pub fn decommission_node_manager(
        &self,
        host: &str,
        timeout_secs: u32,
    ) -> Result<String, String> {
        use std::io::Write;
        let work_dir = self
            .work_dir
            .as_ref()
            .ok_or("decommissioning needs a cluster started here")?;
        let done = work_dir.join("control").join("nm-decommissions");
        let before = fs::read_to_string(&done).unwrap_or_default();
        {
            let mut guard = self.process.lock().unwrap_or_else(|e| e.into_inner());
            let (_, stdin) = guard.as_mut().ok_or("the cluster is stopped")?;
            writeln!(stdin, "decommission-nm {host} {timeout_secs}")
                .and_then(|()| stdin.flush())
                .map_err(|e| format!("cannot send decommission-nm to mini-hadoop: {e}"))?;
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let now = fs::read_to_string(&done).unwrap_or_default();
            if now != before && !now.is_empty() {
                let report = now.trim().to_string();
                return match report.contains(" error=") {
                    true => Err(report),
                    false => Ok(report),
                };
            }
            if std::time::Instant::now() > deadline {
                return Err(format!(
                    "decommission-nm {host}: no report in {} within 60 s; daemon log tail:\n{}",
                    done.display(),
                    self.log_tail(40)
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stops a cluster started here: SIGTERM to `deploy/mini-hadoop`, which stops every daemon
    /// and container, then waits for it. Returns its exit status. No-op for external clusters.
    pub fn stop(&self) -> Option<std::process::ExitStatus> {
        let mut guard = self.process.lock().unwrap_or_else(|e| e.into_inner());
        let (mut child, stdin) = guard.take()?;
        // Our child has not been reaped yet (we hold its Child), so its pid is still its own.
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let status = child.wait().ok();
        drop(stdin);
        status
    }
}

impl Drop for MiniHadoop {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Which daemon [`MiniHadoop::failover`] fails over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failover {
    ResourceManager,
    NameNode,
}

/// Prints the daemon log tail when dropped during a panic; see [`MiniHadoop::log_guard`].
pub struct LogGuard<'a> {
    cluster: &'a MiniHadoop,
}

impl Drop for LogGuard<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let where_ = self
                .cluster
                .log_dir
                .as_ref()
                .map(|d| d.join("mini-hadoop.log").display().to_string())
                .unwrap_or_else(|| "(unknown)".into());
            eprintln!(
                "--- test failed; mini-Hadoop daemon log: {where_} (last 60 lines) ---\n{}",
                self.cluster.log_tail(60)
            );
        }
    }
}

/// The repository root.
pub use spindle_test_support::repo_root;

/// A mini-Hadoop of one test's own, under `target/test-hadoop/<tag>-<pid>` (one DataNode): stopped
/// when dropped, and its directory removed too unless the test failed (kept for the post-mortem).
pub struct OwnCluster {
    cluster: Option<MiniHadoop>,
    dir: PathBuf,
}

impl OwnCluster {
    /// Starts it with `nodemanagers` NodeManagers and extra `deploy/mini-hadoop` flags; panics
    /// (with the daemon log's tail) if it cannot start.
    pub fn start(tag: &str, nodemanagers: u32, flags: &[&str]) -> OwnCluster {
        let dir = repo_root()
            .join("target")
            .join("test-hadoop")
            .join(format!("{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let mut opts = StartOptions::new(&dir);
        opts.nodemanagers = nodemanagers;
        opts.datanodes = 1;
        opts.extra_args = flags.iter().map(|f| f.to_string()).collect();
        let cluster = MiniHadoop::start(&opts).unwrap_or_else(|e| panic!("{e}"));
        OwnCluster {
            cluster: Some(cluster),
            dir,
        }
    }

    /// The running cluster.
    pub fn get(&self) -> &MiniHadoop {
        self.cluster.as_ref().expect("running")
    }

    /// Its work directory (data, container directories, logs).
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        drop(self.cluster.take());
        if !std::thread::panicking() {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// A fresh, empty directory `spindle-test-<pid>-<name>` under the system's temporary directory
/// (whatever a previous run left there is removed first).
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("spindle-test-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir
}

/// The last `lines` lines of a file, or a note saying it cannot be read.
pub fn tail(path: &Path, lines: usize) -> String {
    match fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let all: Vec<&str> = text.lines().collect();
            all[all.len().saturating_sub(lines)..].join("\n")
        }
        Err(e) => format!("({}: {e})", path.display()),
    }
}

/// Removes work directories under `base` left by test processes that no longer run.
fn remove_stale_work_dirs(base: &Path) {
    let Ok(entries) = fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        if !Path::new("/proc").join(pid.to_string()).exists() {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}
