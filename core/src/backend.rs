//! Cluster backends: how the driver gets executors. Local mode spawns
//! processes of this same binary; the YARN application master will launch
//! containers. The scheduler only knows this trait.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};

use spindle_proto::spindle::driver_client::DriverClient;
use spindle_proto::spindle::{AwaitEndRequest, LogChunk, ReadLogsRequest};
use tokio::sync::watch;

use crate::auth::Secret;
use crate::env;
use crate::{Error, Result};

/// What every executor must be told (see [`crate::env`] for the variables).
#[derive(Clone, Debug)]
pub struct ExecutorLaunch {
    /// The driver's task service, as executors dial it (`https://` when encrypted).
    pub driver_url: String,
    /// The application secret both sides prove knowledge of.
    pub secret: Secret,
    /// Task slots per executor.
    pub cores: u32,
    /// Memory for cached partitions, in MiB.
    pub cache_mb: u64,
    /// Memory for shuffle buffers before spilling, in MiB.
    pub shuffle_mb: u64,
    /// Where a client-mode backend announces how the application ended: the
    /// driver's service answers the AM's `AwaitEnd` with it.
    pub end: EndNotice,
}

/// How the application ended (`Ok`, or the diagnostics of a failure), once
/// the driver announces it. Cheap to clone; every clone is the same notice.
#[derive(Clone)]
pub struct EndNotice(Arc<watch::Sender<Option<std::result::Result<(), String>>>>);

impl Default for EndNotice {
    fn default() -> Self {
        EndNotice(Arc::new(watch::Sender::new(None)))
    }
}

impl std::fmt::Debug for EndNotice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EndNotice({:?})", *self.0.borrow())
    }
}

impl EndNotice {
    /// Announces the end (the first announcement stands).
    pub fn announce(&self, result: std::result::Result<(), String>) {
        self.0.send_if_modified(|v| {
            if v.is_none() {
                *v = Some(result);
                true
            } else {
                false
            }
        });
    }

    /// Waits for the announcement.
    pub async fn wait(&self) -> std::result::Result<(), String> {
        let mut rx = self.0.subscribe();
        let v = rx
            .wait_for(Option::is_some)
            .await
            .expect("the sender lives in self");
        v.clone().expect("waited for Some")
    }
}

/// Client deploy mode, in the AM: asks the driver at `driver_url`, over the
/// application's authenticated channel, how the application ended. An error
/// means the driver could not be reached or stopped answering.
pub async fn await_end(
    driver_url: &str,
    secret: &Secret,
) -> Result<std::result::Result<(), String>> {
    let (encrypted, _) = crate::net::parse_url(driver_url)?;
    let security = crate::net::Security::new(secret, encrypted)?;
    let mut driver = DriverClient::new(crate::net::channel(driver_url, &security)?);
    let end = driver
        .await_end(AwaitEndRequest {})
        .await
        .map_err(|s| Error::Rpc(format!("{driver_url}: {}", s.message())))?
        .into_inner();
    Ok(if end.succeeded {
        Ok(())
    } else {
        Err(end.diagnostics)
    })
}

/// Client deploy mode, in the AM: copies the executors' log bytes the driver at `driver_url`
/// holds into this process's [`crate::container_logs::store`] about once a second, for
/// `spindle logs --follow` (the AM serves the store through the RM's proxy). Runs until the
/// process ends; a driver that does not answer is asked again a second later.
pub async fn copy_driver_logs(driver_url: String, secret: Secret) {
    let store = crate::container_logs::store();
    let mut driver = None;
    loop {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        if driver.is_none() {
            let channel = crate::net::parse_url(&driver_url)
                .and_then(|(encrypted, _)| crate::net::Security::new(&secret, encrypted))
                .and_then(|security| crate::net::channel(&driver_url, &security));
            match channel {
                Ok(c) => driver = Some(DriverClient::new(c)),
                Err(e) => {
                    tracing::debug!("driver logs: {e}");
                    continue;
                }
            }
        }
        let Some(client) = driver.as_mut() else {
            continue;
        };
        let have = store
            .index()
            .into_iter()
            .map(|s| LogChunk {
                container_id: s.container,
                file: s.file,
                offset: s.end,
                data: Vec::new(),
            })
            .collect();
        match client.read_logs(ReadLogsRequest { have }).await {
            Ok(reply) => {
                for c in reply.into_inner().chunks {
                    store.append(&c.container_id, &c.file, c.offset, &c.data);
                }
            }
            Err(s) => {
                tracing::debug!("driver logs from {driver_url}: {}", s.message());
                driver = None;
            }
        }
    }
}

impl ExecutorLaunch {
    /// The environment of an executor process, except its local dirs and the
    /// secret's delivery, which depend on the backend.
    pub fn common_env(&self, executor_id: &str) -> Vec<(String, String)> {
        vec![
            (env::ROLE.into(), spindle_contract::Role::EXECUTOR.into()),
            (env::DRIVER_URL.into(), self.driver_url.clone()),
            (env::EXECUTOR_ID.into(), executor_id.into()),
            (env::CORES.into(), self.cores.to_string()),
            (env::CACHE_MB.into(), self.cache_mb.to_string()),
            (env::SHUFFLE_MB.into(), self.shuffle_mb.to_string()),
        ]
    }
}

/// Called by a backend with an executor id and why it is gone.
pub type LostReporter = std::sync::Arc<dyn Fn(&str, &str) + Send + Sync>;

/// Called by a backend with an executor the cluster wants back, and whether
/// that is because its node is decommissioning (else preemption).
pub type PreemptionReporter = std::sync::Arc<dyn Fn(&str, bool) + Send + Sync>;

/// A source of executors.
pub trait ClusterBackend: Send + Sync {
    /// Starts `count` more executors; each registers with the driver when ready.
    fn request_executors(&self, count: u32) -> Result<()>;
    /// The driver gave up on this executor (its process died or stopped
    /// answering): release what it held; the backend may start a replacement.
    fn executor_lost(&self, executor_id: &str);
    /// The application ends: stop every executor and clean up.
    fn stop(&self);
    /// Partitions for shuffles when the user names none (total cores).
    fn default_parallelism(&self) -> u32;
    /// Locality hints: the hosts that the pending tasks of a newly submitted
    /// stage prefer (host → number of tasks preferring it; a task preferring
    /// several hosts counts for each). A DataNode appears both by host name
    /// and by IP address, in lower case; match what the cluster knows. Called
    /// by the scheduler for stages with preferences, so a backend that can
    /// choose where executors run (YARN container requests) may ask for them
    /// there. Default: ignored.
    fn prefer_hosts(&self, pending: &HashMap<String, u32>) {
        let _ = pending;
    }
    /// Dynamic allocation, when the backend can grow and shrink (YARN with
    /// `spindle.dynamicAllocation.enabled`): its bounds and timeouts. Default: none.
    fn dynamic_allocation(&self) -> Option<DynamicAllocation> {
        None
    }
    /// Dynamic allocation: how many executors the application wants now
    /// (running, starting and asked for together); a backend asks for more, or
    /// withdraws asks above it. Default: ignored.
    fn request_total_executors(&self, total: u32) {
        let _ = total;
    }
    /// The driver removed this executor on purpose (`reason`: idle,
    /// preempted) after moving its shuffle output and cached partitions
    /// (`moved`): give its resources back, without counting a failure or
    /// starting a replacement. Default: as lost.
    fn release_executor(&self, executor_id: &str, reason: &str, moved: BlocksMoved) {
        let _ = (reason, moved);
        self.executor_lost(executor_id);
    }
    /// Where the blocks of an executor being removed go when no executor
    /// stays to take them (a directory of the cluster's file system that
    /// lives as long as the application: under YARN, in its staging
    /// directory). Default: none, and the last executor is kept instead.
    fn shuffle_fallback_dir(&self) -> Option<String> {
        None
    }
    /// Where the cached partitions of an executor being removed go when no
    /// executor stays to take them (as [`Self::shuffle_fallback_dir`]).
    /// Default: none, and they are recomputed when needed.
    fn cached_fallback_dir(&self) -> Option<String> {
        None
    }
}

/// Dynamic allocation's settings (after Spark's `spark.dynamicAllocation.*`),
/// as the backend read them.
#[derive(Clone, Debug, PartialEq)]
pub struct DynamicAllocation {
    /// Executors kept however idle.
    pub min_executors: u32,
    /// Executors never exceeded.
    pub max_executors: u32,
    /// Executors asked for at the start (kept until the first job or an idle timeout).
    pub initial_executors: u32,
    /// An executor idle this long is removed (its shuffle output moved first).
    pub idle_timeout: std::time::Duration,
    /// The same for executors caching partitions; None: never removed.
    pub cached_idle_timeout: Option<std::time::Duration>,
    /// Tasks waiting this long make the driver ask for more executors.
    pub backlog_timeout: std::time::Duration,
    /// While the backlog lasts, more are asked for after each such interval
    /// (1, 2, 4, ... at a time).
    pub sustained_backlog_timeout: std::time::Duration,
}

/// What was moved off one executor before it was released.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlocksMoved {
    /// Shuffle blocks (map x reducer).
    pub shuffle: u64,
    /// Cached partitions.
    pub cached: u64,
}

/// What dynamic allocation and preemption did so far (the AM's `/api/v1` shows it).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ElasticStats {
    /// Executors the driver wants now (dynamic allocation's target).
    pub target: u32,
    /// Executors that ever registered.
    pub registered: u32,
    /// Executors asked for because tasks waited.
    pub requested_for_backlog: u32,
    /// Executors removed because they were idle.
    pub removed_idle: u32,
    /// Executors removed because the cluster asked for their resources back.
    pub removed_preempted: u32,
    /// Executors removed because their node was being decommissioned.
    pub removed_decommissioning: u32,
    /// Shuffle blocks (map x reducer) moved off executors being removed.
    pub blocks_migrated: u64,
    /// Their bytes.
    pub bytes_migrated: u64,
    /// Map outputs that had to be moved but could not (recomputed if needed).
    pub outputs_lost: u64,
    /// Map tasks run again for output computed before (any cause).
    pub maps_recomputed: u64,
    /// Cached partitions moved off executors being removed.
    pub cached_blocks_migrated: u64,
    /// Their bytes.
    pub cached_bytes_migrated: u64,
    /// Cached partitions that had to be moved but could not (recomputed if needed).
    pub cached_blocks_lost: u64,
    /// Cached partitions computed again after they had been cached (any
    /// cause: a lost or released executor, eviction, memory pressure).
    pub cached_recomputed: u64,
}

/// `local[N]`: N executor processes of this binary on this machine.
pub struct LocalBackend {
    launch: ExecutorLaunch,
    executors: u32,
    dir: PathBuf,
    state: Mutex<LocalState>,
}

struct LocalState {
    children: HashMap<String, Child>,
    next_id: u32,
    replacements: u32,
    stopped: bool,
}

impl LocalBackend {
    /// A backend for `executors` processes, with scratch space under the
    /// system temporary directory.
    pub fn new(executors: u32, launch: ExecutorLaunch) -> Result<Self> {
        let dir = std::env::temp_dir().join(format!(
            "spindle-{}-{:08x}",
            std::process::id(),
            rand::random::<u32>()
        ));
        crate::scratch::create_dir(&dir)
            .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        Ok(LocalBackend {
            launch,
            executors,
            dir,
            state: Mutex::new(LocalState {
                children: HashMap::new(),
                next_id: 1,
                replacements: 0,
                stopped: false,
            }),
        })
    }

    fn spawn(&self, state: &mut LocalState) -> Result<()> {
        let id = state.next_id.to_string();
        state.next_id += 1;
        let local = self.dir.join(format!("executor-{id}"));
        crate::scratch::create_dir(&local)
            .map_err(|e| Error::io(format!("creating {}", local.display()), e))?;
        let exe = std::env::current_exe().map_err(|e| Error::io("locating the executable", e))?;
        let mut cmd = Command::new(&exe);
        cmd.envs(self.launch.common_env(&id))
            .env(env::LOCAL_DIRS, &local)
            // The secret travels in the child's environment only, never argv.
            .env(env::SECRET, self.launch.secret.expose())
            .stdin(std::process::Stdio::null());
        // A group of its own: Ctrl-C in a terminal reaches only the driver,
        // which cancels the jobs and then stops its executors itself.
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let child = cmd
            .spawn()
            .map_err(|e| Error::io(format!("starting executor {id} ({})", exe.display()), e))?;
        state.children.insert(id, child);
        Ok(())
    }

    /// Process ids of the running executors, by executor id (for tests and tools).
    pub fn pids(&self) -> Vec<(String, u32)> {
        let state = self.state.lock().expect("local backend");
        let mut v: Vec<(String, u32)> = state
            .children
            .iter()
            .map(|(k, c)| (k.clone(), c.id()))
            .collect();
        v.sort();
        v
    }
}

impl ClusterBackend for LocalBackend {
    fn request_executors(&self, count: u32) -> Result<()> {
        let mut state = self.state.lock().expect("local backend");
        for _ in 0..count {
            self.spawn(&mut state)?;
        }
        Ok(())
    }

    fn executor_lost(&self, executor_id: &str) {
        let mut state = self.state.lock().expect("local backend");
        if let Some(mut child) = state.children.remove(executor_id) {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(self.dir.join(format!("executor-{executor_id}")));
        // Replace it, within reason: a binary that keeps crashing must not loop forever.
        if !state.stopped && state.replacements < 4 * self.executors {
            state.replacements += 1;
            if let Err(e) = self.spawn(&mut state) {
                tracing::warn!("could not replace executor {executor_id}: {e}");
            }
        }
    }

    fn stop(&self) {
        let mut state = self.state.lock().expect("local backend");
        state.stopped = true;
        for (_, mut child) in state.children.drain() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }

    fn default_parallelism(&self) -> u32 {
        (self.executors * self.launch.cores).max(2)
    }
}

impl Drop for LocalBackend {
    fn drop(&mut self) {
        self.stop();
    }
}
