//! The compose cluster (`docker-compose.yml`, started by `deploy/compose-up`): every daemon a host
//! of its own. Its client configuration comes from `SPINDLE_COMPOSE_CONF_DIR`; its containers are
//! reached through the container engine (`docker`, or podman with the repository's
//! `containers.conf`, as `deploy/compose-up` chooses), its NameNode's web port on this machine.

use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use crate::cluster::{MiniHadoop, repo_root};
use crate::http::rest_get;
use crate::run::text;
use crate::wait::wait_for;

/// The NodeManager hosts (sorted): two workers that also run a DataNode, one without data.
pub const NM_HOSTS: [&str; 3] = ["nodemanager3", "worker1", "worker2"];
/// The DataNode hosts (sorted).
pub const DN_HOSTS: [&str; 2] = ["worker1", "worker2"];
/// The older NodeManager host of `deploy/compose-up --bullseye` (Debian 11, glibc 2.31), alone in
/// the exclusive node label partition of the same name.
pub const BULLSEYE: &str = "bullseye";

/// Whether the running cluster has the [`BULLSEYE`] host (compose-up lists every service it
/// started in `<conf-dir>/hosts`).
pub fn has_bullseye(h: &MiniHadoop) -> bool {
    std::fs::read_to_string(h.conf_dir().join("hosts"))
        .map(|hosts| {
            hosts
                .lines()
                .any(|l| l.split_whitespace().nth(1) == Some(BULLSEYE))
        })
        .unwrap_or(false)
}

/// The running compose cluster, described by the client configuration in
/// `SPINDLE_COMPOSE_CONF_DIR` (the `--conf-dir` of `deploy/compose-up`).
pub fn cluster() -> MiniHadoop {
    let dir = std::env::var_os("SPINDLE_COMPOSE_CONF_DIR")
        .map(PathBuf::from)
        .expect("SPINDLE_COMPOSE_CONF_DIR: the --conf-dir of a running deploy/compose-up");
    MiniHadoop::external(&dir, None).unwrap_or_else(|e| panic!("compose cluster: {e}"))
}

/// `docker` when a Docker engine answers, else podman with the repository's containers.conf
/// (the same choice deploy/compose-up makes).
pub fn engine() -> Command {
    let docker = Command::new("docker")
        .arg("info")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if docker {
        Command::new("docker")
    } else {
        let mut c = Command::new("podman");
        if std::env::var_os("CONTAINERS_CONF").is_none() {
            c.env(
                "CONTAINERS_CONF",
                repo_root().join("deploy/image/containers.conf"),
            );
        }
        c
    }
}

/// The compose project name (`SPINDLE_COMPOSE_PROJECT`, by default `spindle`).
pub fn project() -> String {
    std::env::var("SPINDLE_COMPOSE_PROJECT").unwrap_or_else(|_| "spindle".into())
}

/// The container id of a compose service.
pub fn container(service: &str) -> String {
    let out = engine()
        .args(["ps", "-a", "-q", "--filter"])
        .arg(format!("label=com.docker.compose.project={}", project()))
        .arg("--filter")
        .arg(format!("label=com.docker.compose.service={service}"))
        .output()
        .expect("container engine");
    let id = text(&out.stdout).trim().to_string();
    assert!(!id.is_empty(), "no container for service {service}");
    id
}

/// Runs the container engine with `args`; panics with its stderr unless it succeeds.
pub fn engine_ok(args: &[&str]) {
    let out = engine().args(args).output().expect("container engine");
    assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
}

/// Runs a command in a compose service's container (`exec -i`, `stdin` fed when given).
pub fn exec_in(service: &str, stdin: Option<&[u8]>, args: &[&str]) -> Output {
    use std::io::Write;
    let mut child = engine()
        .args(["exec", "-i", &container(service)])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("container engine exec");
    let mut pipe = child.stdin.take().expect("stdin");
    if let Some(bytes) = stdin {
        pipe.write_all(bytes).expect("write stdin");
    }
    drop(pipe);
    child.wait_with_output().expect("exec output")
}

/// [`exec_in`] that must succeed; returns its stdout followed by its stderr.
pub fn exec_ok(service: &str, stdin: Option<&[u8]>, args: &[&str]) -> String {
    let out = exec_in(service, stdin, args);
    let both = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{service}: {args:?} failed: {both}");
    both
}

/// Runs the given engine commands when dropped: puts a hurt cluster back even when an
/// assertion fails half-way.
pub struct Restore(pub Vec<Vec<String>>);

impl Drop for Restore {
    fn drop(&mut self) {
        for args in self.0.drain(..) {
            let _ = engine().args(&args).output();
        }
    }
}

/// The NameNode's web address as published on this machine (`SPINDLE_NN_HTTP_PORT`, by
/// default 9870).
pub fn nn_http() -> String {
    format!(
        "http://localhost:{}",
        std::env::var("SPINDLE_NN_HTTP_PORT").unwrap_or_else(|_| "9870".into())
    )
}

/// The DataNode hosts of every block of `path` (each sorted), from the NameNode (WebHDFS
/// GET_BLOCK_LOCATIONS).
pub fn block_hosts(path: &str) -> Vec<Vec<String>> {
    let reply = rest_get(&format!(
        "{}/webhdfs/v1{path}?op=GET_BLOCK_LOCATIONS&user.name=spindle",
        nn_http()
    ))
    .expect("WebHDFS");
    assert_eq!(reply.status, 200, "{}", reply.body);
    let blocks = reply.json["LocatedBlocks"]["locatedBlocks"]
        .as_array()
        .unwrap_or_else(|| panic!("no locatedBlocks: {}", reply.body))
        .clone();
    blocks
        .iter()
        .map(|b| {
            let mut hosts: Vec<String> = b["locations"]
                .as_array()
                .map(|ls| {
                    ls.iter()
                        .map(|l| l["hostName"].as_str().unwrap_or("").to_string())
                        .collect()
                })
                .unwrap_or_default();
            hosts.sort();
            hosts
        })
        .collect()
}

/// The number of DataNodes the NameNode counts as live (its JMX).
pub fn live_datanodes() -> u64 {
    rest_get(&format!(
        "{}/jmx?qry=Hadoop:service=NameNode,name=FSNamesystemState",
        nn_http()
    ))
    .ok()
    .and_then(|r| r.json["beans"][0]["NumLiveDataNodes"].as_u64())
    .unwrap_or(0)
}

/// NodeManager host name -> state, for nodes in every state, from the RM's REST API.
pub fn node_states(h: &MiniHadoop) -> Vec<(String, String)> {
    let reply = rest_get(&format!(
        "{}/ws/v1/cluster/nodes?states=NEW,RUNNING,UNHEALTHY,DECOMMISSIONED,LOST,REBOOTED,DECOMMISSIONING,SHUTDOWN",
        h.rm_url()
    ))
    .expect("RM nodes");
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json["nodes"]["node"]
        .as_array()
        .map(|nodes| {
            nodes
                .iter()
                .map(|n| {
                    (
                        n["nodeHostName"].as_str().unwrap_or("").to_string(),
                        n["state"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Waits until every NodeManager is RUNNING and both DataNodes are live (a test that hurt the
/// cluster leaves it like this for the next).
pub fn wait_healthy(h: &MiniHadoop, timeout: Duration) {
    wait_for(
        "3 RUNNING NodeManagers and 2 live DataNodes",
        timeout,
        || {
            let states = node_states(h);
            let running = NM_HOSTS
                .iter()
                .all(|host| states.iter().any(|(n, s)| n == host && s == "RUNNING"));
            (running && live_datanodes() == 2).then_some(())
        },
    );
}

/// The ids of the applications the RM knows.
pub fn app_ids(h: &MiniHadoop) -> Vec<String> {
    rest_get(&format!("{}/ws/v1/cluster/apps", h.rm_url()))
        .ok()
        .and_then(|r| {
            r.json["apps"]["app"].as_array().map(|apps| {
                apps.iter()
                    .filter_map(|a| a["id"].as_str().map(str::to_string))
                    .collect()
            })
        })
        .unwrap_or_default()
}

/// The application's attempts as the RM's REST API reports them (none if it cannot be read).
fn attempts(h: &MiniHadoop, app: &str) -> Vec<serde_json::Value> {
    rest_get(&format!(
        "{}/ws/v1/cluster/apps/{app}/appattempts",
        h.rm_url()
    ))
    .ok()
    .and_then(|r| r.json["appAttempts"]["appAttempt"].as_array().cloned())
    .unwrap_or_default()
}

/// How many attempts the application has had.
pub fn am_attempts(h: &MiniHadoop, app: &str) -> usize {
    attempts(h, app).len()
}

/// The host name of the application's current AM container, once it runs.
pub fn am_host(h: &MiniHadoop, app: &str) -> Option<String> {
    let last = attempts(h, app).pop()?;
    let host = last["nodeId"].as_str()?.split(':').next()?.to_string();
    (!host.is_empty()).then_some(host)
}

/// A `spindle submit` of the wordcount example from the gateway, running in the background.
pub struct Submission {
    pub child: Child,
    log: PathBuf,
    /// The applications the RM knew before this submission.
    known: Vec<String>,
}

/// Submits the wordcount example from the gateway (`--master yarn`, `executors` executors of
/// 256 MB) over `hdfs://<input>` into `hdfs://<out>`, in the background.
pub fn submit_wordcount(h: &MiniHadoop, input: &str, out: &str, executors: u32) -> Submission {
    submit_driver(
        h,
        "/opt/spindle/examples/wordcount",
        &[],
        input,
        out,
        executors,
    )
}

/// [`submit_wordcount`] of the wordcount `driver` (a path in the gateway), with `flags` before
/// the driver (`--conf k=v`, `--max-app-attempts 1`).
pub fn submit_driver(
    h: &MiniHadoop,
    driver: &str,
    flags: &[&str],
    input: &str,
    out: &str,
    executors: u32,
) -> Submission {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let log = std::env::temp_dir().join(format!(
        "spindle-compose-submit-{}-{now_ms}.log",
        std::process::id()
    ));
    let file = std::fs::File::create(&log).expect("submit log");
    let known = app_ids(h);
    let child = engine()
        .args(["exec", &container("spindle")])
        .args([
            "spindle",
            "submit",
            "--master",
            "yarn",
            "--num-executors",
            &executors.to_string(),
            "--executor-memory",
            "256m",
            "--driver-memory",
            "256m",
        ])
        .args(flags)
        .arg(driver)
        .arg(format!("hdfs://{input}"))
        .arg(format!("hdfs://{out}"))
        .stdin(Stdio::null())
        .stdout(file.try_clone().expect("submit log"))
        .stderr(file)
        .spawn()
        .expect("container engine exec");
    Submission { child, log, known }
}

impl Submission {
    /// Waits for `spindle submit` to end; returns (exit success, its output).
    pub fn finish(self, timeout: Duration) -> (bool, String) {
        let (status, out) = self.finish_status(timeout);
        (status.success(), out)
    }

    /// Waits for `spindle submit` to end; returns its exit status and its output.
    pub fn finish_status(mut self, timeout: Duration) -> (std::process::ExitStatus, String) {
        let status = wait_for("spindle submit to end", timeout, || {
            self.child.try_wait().expect("wait")
        });
        let out = std::fs::read_to_string(&self.log).unwrap_or_default();
        let _ = std::fs::remove_file(&self.log);
        (status, out)
    }

    /// What `spindle submit` wrote so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The application this submission created (the one the RM did not know before).
    pub fn app_id(&mut self, h: &MiniHadoop) -> String {
        wait_for(
            "the application in the RM",
            Duration::from_secs(120),
            || {
                if let Ok(Some(status)) = self.child.try_wait() {
                    panic!("spindle submit ended ({status}) early: {}", self.log());
                }
                app_ids(h).into_iter().find(|id| !self.known.contains(id))
            },
        )
    }
}
