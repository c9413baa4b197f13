//! The YARN cluster backend: executors are containers. This is the asking
//! side, after Spark's `YarnAllocator`: one task on the AM's runtime
//! heartbeats the ResourceManager (fast while containers are asked for,
//! slowly when idle), hands granted containers to the [`Launcher`] (the
//! NodeManager side), classifies completed ones and replaces lost executors
//! while [`Health`] (failure counting, node exclusion) lets it. It rides out a
//! ResourceManager restart: it keeps trying while the RM is away, and when a
//! restarted RM does not know it as registered it registers again and asks
//! again for everything outstanding (its running containers carry on).

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use spindle_core::backend::{BlocksMoved, ClusterBackend, DynamicAllocation, ExecutorLaunch};
use spindle_hadoop::ids::{ContainerId, NodeId};
use spindle_hadoop::ipc::IpcConfig;
use spindle_hadoop::yarn::{
    AllocateRequest, AmCommand, AmRmClient, Container, ContainerRequest, Resource,
    is_not_registered,
};

use crate::exit;
use crate::health::Health;
use crate::launcher::Launcher;
use crate::locality;
use spindle_contract::api;
use spindle_contract::launch::AmLaunch;
use spindle_contract::outcome::Reason;

/// Heartbeat while containers are asked for, and when nothing is pending.
const FAST: Duration = Duration::from_millis(150);
const SLOW: Duration = Duration::from_secs(2);
/// Heartbeat interval while the RM does not answer.
const RETRY: Duration = Duration::from_secs(1);
/// Containers asked for and not granted for this long are explained (UI, `/waiting`).
const WAIT_EXPLAINED_AFTER: Duration = Duration::from_secs(5);
/// Consecutive refusals of the AMRM token before the AM gives up on the RM.
const MAX_AUTH_REFUSALS: u32 = 10;

/// An executor the UI and `/api/v1/.../executors` show.
#[derive(Clone, Debug)]
pub(crate) struct ExecutorInfo {
    pub id: String,
    pub container_id: String,
    pub node: String,
    /// `starting`, `running`, `removed`, `lost`, `stopped`.
    pub state: String,
    /// Why it ended (see `api::Executor::remove_reason`).
    pub reason: String,
    /// Why it was asked for: `initial`, `backlog` or `replacement`.
    pub add_reason: &'static str,
    /// When its container was granted and when it ended, ms since the epoch.
    pub added_ms: u64,
    pub removed_ms: Option<u64>,
    /// Shuffle blocks and cached partitions moved off it before it was given back.
    pub moved: BlocksMoved,
    /// NodeManager web links to the container's stdout and stderr.
    pub stdout: String,
    pub stderr: String,
}

/// What the AM does when the application cannot go on (failure limit
/// exceeded, RM gone): finish FAILED with this reason and one-line diagnostics.
pub(crate) type FatalHook = Arc<dyn Fn(Reason, String) + Send + Sync>;
/// Tells the engine an executor is gone.
pub(crate) type LostHook = Arc<dyn Fn(&str, &str) + Send + Sync>;
/// Tells the engine the cluster wants an executor back (preemption; `true`:
/// its node is decommissioning).
pub(crate) type PreemptHook = Arc<dyn Fn(&str, bool) + Send + Sync>;

struct Running {
    executor_id: String,
    container: Container,
    /// Stopped on purpose (the engine gave up on it, or the app ends).
    stopping: bool,
    /// Given back on purpose by the driver (idle, preempted): not replaced.
    removed: Option<String>,
    /// Named by a preemption message already (the driver was told once).
    preempting: bool,
}

#[derive(Default)]
struct State {
    /// Containers asked for and not yet granted.
    pending: u32,
    /// Dynamic allocation: the executors the driver wants (running, starting
    /// and asked for); `pending` follows it. None: a fixed count, each lost
    /// executor replaced.
    target: Option<u32>,
    /// Containers preempted by YARN (exit -102), never counted as failures.
    preempted: u32,
    /// Lost or preempted executors asked for again and not yet granted: the
    /// next grants are their replacements.
    owed_replacements: u32,
    /// Containers granted after the need had gone, given back unused.
    released_unneeded: u32,
    /// The ask changed since the last heartbeat.
    ask_dirty: bool,
    running: HashMap<ContainerId, Running>,
    next_id: u32,
    /// Failures and excluded nodes.
    health: Health,
    release: Vec<ContainerId>,
    to_stop: Vec<ContainerId>,
    stopped: bool,
    fatal: bool,
    executors: Vec<ExecutorInfo>,
    /// NodeManagers in the cluster, as the last allocate answer counted them.
    cluster_nodes: u32,
    /// What the scheduler can still give this application (the last allocate answer's
    /// headroom).
    headroom: Resource,
    /// Since when containers are asked for and none was granted.
    waiting_since: Option<Instant>,
    /// Host -> pending tasks preferring it (the engine's latest hint).
    host_prefs: HashMap<String, u32>,
    /// Hosts and racks asked for with a count since they were last cleared.
    sent_names: BTreeSet<String>,
}

impl State {
    /// Puts back what an allocate call that the RM did not act on carried.
    fn restore(&mut self, request: AllocateRequest) {
        if !request.asks.is_empty() {
            self.ask_dirty = true;
        }
        let mut release = request.release;
        release.append(&mut self.release);
        self.release = release;
        self.health.restore(request.blacklist_additions);
    }

    /// The asks for the outstanding containers: spread over preferred hosts
    /// (see [`locality`]), plus zero lines clearing hosts no longer wanted.
    /// Returns the asks and the names they clear.
    fn asks(&mut self, resource: Resource) -> (Vec<ContainerRequest>, Vec<String>) {
        let mut running_on: HashMap<String, u32> = HashMap::new();
        for r in self.running.values().filter(|r| !r.stopping) {
            *running_on
                .entry(r.container.node_id.host.clone())
                .or_insert(0) += 1;
        }
        let plan = locality::plan(self.pending, &self.host_prefs, &running_on);
        let cleared = locality::dropped(&self.sent_names, &plan);
        let mut asks = Vec::new();
        for (host, &count) in &plan.on_host {
            let mut ask = ContainerRequest::anywhere(resource, 1, count as i32);
            ask.nodes = vec![host.clone()];
            ask.racks = vec![locality::DEFAULT_RACK.to_string()];
            asks.push(ask);
            self.sent_names.insert(host.clone());
            self.sent_names.insert(locality::DEFAULT_RACK.to_string());
        }
        if plan.anywhere > 0 || plan.on_host.is_empty() {
            asks.push(ContainerRequest::anywhere(
                resource,
                1,
                plan.anywhere as i32,
            ));
        }
        if !cleared.is_empty() {
            let (racks, nodes): (Vec<String>, Vec<String>) =
                cleared.iter().cloned().partition(|n| n.starts_with('/'));
            let mut zero = ContainerRequest::anywhere(resource, 1, 0);
            zero.nodes = nodes;
            zero.racks = racks;
            asks.push(zero);
        }
        (asks, cleared)
    }

    /// The executors on nodes these reports show DECOMMISSIONING, each
    /// named once (marked as on its way out like a preempted one).
    fn on_decommissioning_nodes(
        &mut self,
        nodes: &[spindle_hadoop::yarn::NodeReport],
    ) -> Vec<String> {
        let leaving: Vec<&NodeId> = nodes
            .iter()
            .filter(|n| n.state == spindle_hadoop::yarn::NodeState::Decommissioning)
            .map(|n| &n.node_id)
            .collect();
        let mut named = Vec::new();
        for r in self.running.values_mut() {
            if leaving.contains(&&r.container.node_id) && !r.preempting && !r.stopping {
                r.preempting = true;
                named.push(r.executor_id.clone());
            }
        }
        named.sort();
        named
    }

    /// Executors running or starting that are not on their way out.
    fn live(&self) -> u32 {
        self.running.values().filter(|r| !r.stopping).count() as u32
    }

    /// Dynamic allocation: asks follow the target (withdrawn above it).
    fn follow_target(&mut self) {
        if let Some(target) = self.target
            && !self.stopped
        {
            let pending = target.saturating_sub(self.live());
            if pending != self.pending {
                self.pending = pending;
                self.ask_dirty = true;
            }
        }
    }

    /// After registering again with a restarted RM, which knows none of our
    /// asks or excluded nodes: send them all with the next heartbeat.
    /// Returns the number of containers asked for.
    fn resend_all(&mut self) -> u32 {
        self.ask_dirty = self.pending > 0 || self.ask_dirty;
        self.health.resend_all();
        self.pending
    }
}

/// The state shared by the backend (engine side) and the heartbeat task.
pub(crate) struct Shared {
    state: Mutex<State>,
    wake: tokio::sync::Notify,
    rm: Arc<AmRmClient>,
    launcher: Launcher,
    /// The user the executors run as (their log links name it).
    user: String,
    node_web_scheme: &'static str,
    num_executors: u32,
    executor_cores: u32,
    resource: Resource,
    /// Exclude by `host:port` when the scheduler names nodes so.
    port_in_node_name: bool,
    rm_max_wait: Duration,
    lost: OnceLock<LostHook>,
    preempt: OnceLock<PreemptHook>,
    dynamic: Option<DynamicAllocation>,
    /// The application's staging directory: executors being removed put
    /// their shuffle blocks in `shuffle/` and their cached partitions in
    /// `cached/` there when none stays, removed with it.
    staging_dir: String,
    fatal: FatalHook,
    progress: Mutex<f32>,
    /// The largest container YARN grants (from the registration).
    max_resource: Resource,
    /// The executor's memory settings, named in memory-kill reasons.
    memory_setting: String,
    /// The partition executors are asked for in (`spindle.yarn.executor.nodeLabelExpression`).
    node_label: Option<String>,
}

/// The engine's view: a [`ClusterBackend`] backed by YARN containers.
pub(crate) struct YarnBackend {
    shared: Arc<Shared>,
    rt: tokio::runtime::Handle,
}

/// Settings of the allocator that do not come from the launch contract.
pub(crate) struct AllocatorConfig {
    pub port_in_node_name: bool,
    pub ipc: IpcConfig,
    /// How long the RM may stay unreachable before the AM gives up
    /// (`yarn.resourcemanager.connect.max-wait.ms`, as Hadoop's own AMs).
    pub rm_max_wait: Duration,
    /// Tokens every executor gets (HDFS delegation tokens on a Kerberized
    /// cluster), replaced when the AM fetches new ones.
    pub tokens: crate::renewer::SharedTokens,
    /// `http` or `https` (`yarn.http.policy`): the NodeManagers' log links.
    pub node_web_scheme: &'static str,
    /// Dynamic allocation, when on.
    pub dynamic: Option<DynamicAllocation>,
    /// The largest container YARN grants (the registration's answer).
    pub max_resource: Resource,
}

impl YarnBackend {
    /// Starts the heartbeat task on `rt`; no container is asked for yet.
    pub(crate) fn start(
        rt: tokio::runtime::Handle,
        rm: Arc<AmRmClient>,
        launch: AmLaunch,
        exec: ExecutorLaunch,
        config: AllocatorConfig,
        fatal: FatalHook,
    ) -> YarnBackend {
        let health = Health::new(Health::max_failures(&launch));
        let resource = Resource {
            memory_mb: launch.executor_container_mb() as i64,
            vcores: launch.executor_cores as i32,
        };
        let memory_setting = format!(
            "each executor's container is --executor-memory {}m + spindle.executor.memoryOverhead {}m",
            launch.executor_memory_mb, launch.executor_memory_overhead_mb
        );
        let node_label = launch
            .conf
            .get(spindle_contract::settings::YARN_EXECUTOR_NODE_LABEL.name())
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty());
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                next_id: 1,
                health,
                ..Default::default()
            }),
            wake: tokio::sync::Notify::new(),
            rm,
            user: launch.user.clone(),
            staging_dir: launch.staging_dir.trim_end_matches('/').to_string(),
            node_web_scheme: config.node_web_scheme,
            num_executors: launch.num_executors,
            executor_cores: launch.executor_cores,
            launcher: Launcher::new(launch, exec, config.ipc, config.tokens),
            resource,
            port_in_node_name: config.port_in_node_name,
            rm_max_wait: config.rm_max_wait,
            lost: OnceLock::new(),
            preempt: OnceLock::new(),
            dynamic: config.dynamic,
            fatal,
            progress: Mutex::new(0.1),
            max_resource: config.max_resource,
            memory_setting,
            node_label,
        });
        rt.spawn(heartbeat_loop(shared.clone()));
        YarnBackend { shared, rt }
    }

    /// Where the engine hears about executors whose containers ended.
    pub(crate) fn set_lost_hook(&self, hook: LostHook) {
        let _ = self.shared.lost.set(hook);
    }

    /// Where the engine hears about executors YARN is about to preempt.
    pub(crate) fn set_preempt_hook(&self, hook: PreemptHook) {
        let _ = self.shared.preempt.set(hook);
    }

    /// A handle on the shared state (the web UI reads executors from it).
    pub(crate) fn shared(&self) -> Arc<Shared> {
        self.shared.clone()
    }

    /// Failures counted against the limit, and the limit.
    pub(crate) fn failures(&self) -> (u32, u32) {
        self.shared.lock().health.failures()
    }

    /// Why the last counted executor failure happened ("" if none).
    pub(crate) fn last_failure(&self) -> String {
        self.shared.lock().health.last_failure().to_string()
    }

    /// The typed reason of the last counted executor failure, if any.
    pub(crate) fn last_failure_kind(&self) -> Option<Reason> {
        self.shared.lock().health.last_kind()
    }
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn executors(&self) -> Vec<ExecutorInfo> {
        self.lock().executors.clone()
    }

    /// The executors asked for at the start.
    fn initial_executors(&self) -> u32 {
        self.dynamic
            .as_ref()
            .map_or(self.num_executors, |d| d.initial_executors)
    }

    /// Whether dynamic allocation is on.
    pub(crate) fn dynamic(&self) -> bool {
        self.dynamic.is_some()
    }

    /// Containers YARN preempted (exit -102) so far.
    pub(crate) fn preempted(&self) -> u32 {
        self.lock().preempted
    }

    /// Containers granted after the need had gone, given back unused.
    pub(crate) fn released_unneeded(&self) -> u32 {
        self.lock().released_unneeded
    }

    /// Counted executor failures so far.
    pub(crate) fn failures(&self) -> u32 {
        self.lock().health.failures().0
    }

    /// Why containers asked for are not granted, once they have waited
    /// [`WAIT_EXPLAINED_AFTER`], from the RM's last allocate answer.
    pub(crate) fn waiting(&self) -> api::Waiting {
        let st = self.lock();
        let since = st
            .waiting_since
            .filter(|t| st.pending > 0 && t.elapsed() >= WAIT_EXPLAINED_AFTER);
        let Some(since) = since else {
            return api::Waiting::default();
        };
        let (need, room, max) = (self.resource, st.headroom, self.max_resource);
        let res = |r: Resource| format!("<memory:{} MB, vCores:{}>", r.memory_mb, r.vcores);
        let explanation = if (max.memory_mb > 0 && need.memory_mb > max.memory_mb)
            || (max.vcores > 0 && need.vcores > max.vcores)
        {
            format!(
                "no node can hold an executor of {}: the largest container YARN grants is {} \
                 (yarn.scheduler.maximum-allocation-mb/-vcores)",
                res(need),
                res(max)
            )
        } else if room.memory_mb < need.memory_mb || room.vcores < need.vcores {
            format!(
                "the queue is full for this application: its headroom is {} and each executor \
                 needs {}; they start when the queue's other containers end (or its capacity or \
                 user limit grows)",
                res(room),
                res(need)
            )
        } else {
            format!(
                "the queue's headroom {} would hold an executor of {}, but no node of the {} \
                 has room for one now (or none matches the request's node label)",
                res(room),
                res(need),
                match st.cluster_nodes {
                    1 => "1 node".to_string(),
                    n => format!("{n} nodes"),
                }
            )
        };
        api::Waiting {
            waiting: true,
            executors_pending: st.pending,
            seconds: since.elapsed().as_secs(),
            executor_memory_mb: need.memory_mb,
            executor_vcores: need.vcores,
            headroom_memory_mb: room.memory_mb,
            headroom_vcores: room.vcores,
            max_container_memory_mb: max.memory_mb,
            cluster_nodes: st.cluster_nodes,
            explanation: format!(
                "{} executor container(s) not granted: {explanation}",
                st.pending
            ),
        }
    }

    /// Reported to the RM with each heartbeat (0.0 to 1.0).
    pub(crate) fn set_progress(&self, p: f32) {
        *self.progress.lock().unwrap_or_else(|e| e.into_inner()) = p.clamp(0.0, 1.0);
    }

    fn node_key(&self, node: &NodeId) -> String {
        if self.port_in_node_name {
            node.to_string()
        } else {
            node.host.clone()
        }
    }

    fn set_executor_state(st: &mut State, id: &str, state: &str, reason: &str) {
        if let Some(e) = st.executors.iter_mut().find(|e| e.id == id) {
            e.state = state.into();
            e.reason = reason.into();
            if !matches!(state, "starting" | "running") && e.removed_ms.is_none() {
                e.removed_ms = Some(spindle_contract::event_store::now_ms());
            }
        }
    }
}

impl ClusterBackend for YarnBackend {
    fn request_executors(&self, count: u32) -> spindle_core::Result<()> {
        let mut st = self.shared.lock();
        if !st.stopped {
            st.pending += count;
            st.ask_dirty = true;
        }
        drop(st);
        self.shared.wake.notify_one();
        Ok(())
    }

    fn executor_lost(&self, executor_id: &str) {
        // The engine gave up on it (no heartbeat): make sure the container is
        // gone; its completion brings the replacement.
        let mut st = self.shared.lock();
        let found = st
            .running
            .iter_mut()
            .find(|(_, r)| r.executor_id == executor_id && !r.stopping)
            .map(|(id, r)| {
                r.stopping = true;
                *id
            });
        if let Some(id) = found {
            st.to_stop.push(id);
            drop(st);
            self.shared.wake.notify_one();
        }
    }

    fn stop(&self) {
        let containers: Vec<Container> = {
            let mut st = self.shared.lock();
            if st.stopped {
                return;
            }
            st.stopped = true;
            st.pending = 0;
            st.ask_dirty = true;
            st.running
                .values_mut()
                .map(|r| {
                    r.stopping = true;
                    r.container.clone()
                })
                .collect()
        };
        // Stop the executors now rather than when the RM notices the app ended.
        let shared = self.shared.clone();
        let stop = async move { shared.launcher.stop_all(containers).await };
        let _ = std::thread::scope(|s| s.spawn(|| self.rt.block_on(stop)).join());
    }

    fn default_parallelism(&self) -> u32 {
        (self.shared.num_executors * self.shared.executor_cores).max(2)
    }

    fn dynamic_allocation(&self) -> Option<DynamicAllocation> {
        self.shared.dynamic.clone()
    }

    fn shuffle_fallback_dir(&self) -> Option<String> {
        Some(format!("{}/shuffle", self.shared.staging_dir))
    }

    fn cached_fallback_dir(&self) -> Option<String> {
        Some(format!("{}/cached", self.shared.staging_dir))
    }

    fn request_total_executors(&self, total: u32) {
        let mut st = self.shared.lock();
        if st.target != Some(total) && verbose() {
            tracing::info!(
                "the driver wants {total} executors ({} running or starting)",
                st.live()
            );
        }
        st.target = Some(total);
        st.follow_target();
        let dirty = st.ask_dirty;
        drop(st);
        if dirty {
            self.shared.wake.notify_one();
        }
    }

    fn release_executor(&self, executor_id: &str, reason: &str, moved: BlocksMoved) {
        // Given back through the allocate call's release list: the RM stops
        // the container, and its completion is not counted or replaced.
        let mut st = self.shared.lock();
        let found = st
            .running
            .iter_mut()
            .find(|(_, r)| r.executor_id == executor_id && r.removed.is_none())
            .map(|(id, r)| {
                r.stopping = true;
                r.removed = Some(reason.to_string());
                *id
            });
        if let Some(id) = found {
            st.release.push(id);
            Shared::set_executor_state(&mut st, executor_id, "removed", reason);
            if let Some(e) = st.executors.iter_mut().find(|e| e.id == executor_id) {
                e.moved = moved;
            }
            st.follow_target();
            drop(st);
            self.shared.wake.notify_one();
        }
    }

    fn prefer_hosts(&self, pending: &HashMap<String, u32>) {
        // Outstanding requests are asked for again near the data; granted
        // containers stay where they are.
        let mut st = self.shared.lock();
        st.host_prefs = pending.clone();
        if st.pending > 0 && !st.stopped {
            st.ask_dirty = true;
            drop(st);
            self.shared.wake.notify_one();
        }
    }
}

async fn heartbeat_loop(shared: Arc<Shared>) {
    // Since when the RM has not answered, and how many times.
    let mut failing: Option<(Instant, u32)> = None;
    // Consecutive heartbeats whose AMRM token the RM refused.
    let mut auth_refusals = 0u32;
    loop {
        // Hosts this heartbeat sends with 0, forgotten once the RM has them.
        let mut clearing = Vec::new();
        let request = {
            let mut st = shared.lock();
            let mut req = AllocateRequest {
                progress: *shared.progress.lock().unwrap_or_else(|e| e.into_inner()),
                ..Default::default()
            };
            if st.ask_dirty {
                let (mut asks, cleared) = st.asks(shared.resource);
                for ask in &mut asks {
                    ask.node_label.clone_from(&shared.node_label);
                }
                if verbose() && asks.iter().any(|a| !a.nodes.is_empty()) {
                    let hosts: Vec<String> = asks
                        .iter()
                        .filter(|a| a.count > 0 && !a.nodes.is_empty())
                        .map(|a| format!("{}x{}", a.nodes.join("+"), a.count))
                        .collect();
                    tracing::info!(
                        "asking for {} containers near their data: {}",
                        st.pending,
                        hosts.join(", ")
                    );
                }
                req.asks = asks;
                clearing = cleared;
                st.ask_dirty = false;
            }
            req.release = std::mem::take(&mut st.release);
            req.blacklist_additions = st.health.take_new_exclusions();
            req
        };
        let to_stop = std::mem::take(&mut shared.lock().to_stop);
        if !to_stop.is_empty() {
            stop_containers(&shared, to_stop).await;
        }
        let result = shared.rm.allocate(&request).await;
        let resync = match &result {
            Ok(a) => a.command == Some(AmCommand::Resync),
            Err(e) => is_not_registered(e),
        };
        match result {
            Ok(a) if !resync => {
                auth_refusals = 0;
                if let Some((since, n)) = failing.take() {
                    tracing::warn!(
                        "the ResourceManager answers again (after {n} failed heartbeats in {:.1} s)",
                        since.elapsed().as_secs_f64()
                    );
                }
                shared.launcher.add_tokens(a.nm_tokens);
                {
                    let mut st = shared.lock();
                    for name in &clearing {
                        st.sent_names.remove(name);
                    }
                    st.cluster_nodes = a.num_cluster_nodes.max(0) as u32;
                    st.headroom = a.available;
                    st.waiting_since = if st.pending == 0 && a.allocated.is_empty() {
                        None
                    } else if !a.allocated.is_empty() {
                        Some(Instant::now())
                    } else {
                        Some(st.waiting_since.unwrap_or_else(Instant::now))
                    };
                }
                for c in a.allocated {
                    granted(&shared, c);
                }
                for s in a.completed {
                    completed(&shared, s.id, s.exit_status, &s.diagnostics);
                }
                if let Some(p) = a.preemption {
                    preemption_asked(&shared, &p);
                }
                nodes_updated(&shared, &a.updated_nodes);
                if a.command == Some(AmCommand::Shutdown) {
                    (shared.fatal)(
                        Reason::Failed,
                        "the ResourceManager told the application master to shut down".into(),
                    );
                    return;
                }
            }
            other => {
                // The request was not acted on: what it carried goes out again.
                shared.lock().restore(request);
                let mut refused = other
                    .as_ref()
                    .is_err_and(|e| matches!(e, spindle_hadoop::Error::Auth { .. }));
                let mut error = other.err().map(|e| e.to_string());
                if resync {
                    tracing::warn!(
                        "the ResourceManager does not know this attempt as registered (it restarted?): registering again"
                    );
                    match shared.rm.reregister().await {
                        Ok(()) => {
                            let n = shared.lock().resend_all();
                            tracing::info!(
                                "registered again; asking again for {n} containers (running executors carry on)"
                            );
                            failing = None;
                            auth_refusals = 0;
                            continue;
                        }
                        Err(e) => {
                            refused = matches!(e, spindle_hadoop::Error::Auth { .. });
                            error = Some(format!("registering again: {e}"));
                        }
                    }
                }
                let e = error.unwrap_or_else(|| "asked to resync".into());
                auth_refusals = if refused { auth_refusals + 1 } else { 0 };
                if auth_refusals >= MAX_AUTH_REFUSALS {
                    // An RM restarted without recovery has new keys and no trace of this
                    // attempt: waiting for it is pointless.
                    (shared.fatal)(
                        Reason::Failed,
                        format!(
                            "the ResourceManager no longer accepts this attempt's AMRM token (restarted without recovery?): {e}"
                        ),
                    );
                    return;
                }
                let (since, n) = failing.get_or_insert((Instant::now(), 0));
                *n += 1;
                if *n == 1 || n.is_power_of_two() {
                    tracing::warn!("heartbeat to the ResourceManager failed ({n}): {e}");
                }
                if since.elapsed() > shared.rm_max_wait {
                    (shared.fatal)(
                        Reason::Failed,
                        format!(
                            "lost the ResourceManager: no answer for {:.0} s (yarn.resourcemanager.connect.max-wait.ms): {e}",
                            since.elapsed().as_secs_f64()
                        ),
                    );
                    return;
                }
            }
        }
        let (interval, fatal) = {
            let st = shared.lock();
            let busy = st.pending > 0 || !st.to_stop.is_empty() || st.ask_dirty;
            let interval = if failing.is_some() {
                RETRY
            } else if busy {
                FAST
            } else {
                SLOW
            };
            (interval, st.fatal)
        };
        if fatal {
            return;
        }
        if failing.is_some() {
            // Nothing to hurry for until the RM is back.
            tokio::time::sleep(interval).await;
            continue;
        }
        let _ = tokio::time::timeout(interval, shared.wake.notified()).await;
        // Coalesce bursts of requests into one heartbeat.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn verbose() -> bool {
    spindle_contract::settings::verbose()
}

/// Stops the containers the engine gave up on (those still running).
async fn stop_containers(shared: &Arc<Shared>, ids: Vec<ContainerId>) {
    for id in ids {
        let node = shared
            .lock()
            .running
            .get(&id)
            .map(|r| r.container.node_id.clone());
        if let Some(node) = node {
            shared.launcher.stop(&node, id).await;
        }
    }
}

/// A container arrived: start an executor in it, or give it back.
fn granted(shared: &Arc<Shared>, c: Container) {
    let key = shared.node_key(&c.node_id);
    let executor_id = {
        let mut st = shared.lock();
        let excluded = st.health.is_excluded(&key);
        if st.stopped || st.pending == 0 || excluded {
            st.release.push(c.id);
            if !st.stopped && !excluded {
                st.released_unneeded += 1;
            }
            if !st.stopped && excluded && st.pending > 0 {
                st.ask_dirty = true;
            }
            return;
        }
        st.pending -= 1;
        let add_reason = if st.owed_replacements > 0 {
            st.owed_replacements -= 1;
            "replacement"
        } else if (st.executors.len() as u32) < shared.initial_executors() {
            "initial"
        } else {
            "backlog"
        };
        let id = st.next_id.to_string();
        st.next_id += 1;
        let user = &shared.user;
        let logs = |f: &str| {
            format!(
                "{}://{}/node/containerlogs/{}/{user}/{f}?start=-4096",
                shared.node_web_scheme, c.node_http_address, c.id
            )
        };
        st.executors.push(ExecutorInfo {
            id: id.clone(),
            container_id: c.id.to_string(),
            node: c.node_id.to_string(),
            state: "starting".into(),
            reason: String::new(),
            add_reason,
            added_ms: spindle_contract::event_store::now_ms(),
            removed_ms: None,
            moved: BlocksMoved::default(),
            stdout: logs("stdout"),
            stderr: logs("stderr"),
        });
        st.running.insert(
            c.id,
            Running {
                executor_id: id.clone(),
                container: c.clone(),
                stopping: false,
                removed: None,
                preempting: false,
            },
        );
        id
    };
    let shared = shared.clone();
    tokio::spawn(async move {
        let started = Instant::now();
        match shared.launcher.start(&c, &executor_id).await {
            Ok(()) => {
                let mut st = shared.lock();
                Shared::set_executor_state(&mut st, &executor_id, "running", "");
                if verbose() {
                    tracing::info!(
                        "executor {executor_id} started in {} on {} ({:?})",
                        c.id,
                        c.node_id,
                        started.elapsed()
                    );
                }
            }
            Err(why) => {
                tracing::warn!("could not start executor {executor_id} in {}: {why}", c.id);
                // Counted as a failure; the container is given back.
                shared.lock().release.push(c.id);
                completed(&shared, c.id, -1, &format!("startContainers failed: {why}"));
            }
        }
    });
}

/// The RM named containers it is about to preempt: the driver moves their
/// executors' shuffle output and gives them back (each executor once).
fn preemption_asked(shared: &Arc<Shared>, p: &spindle_hadoop::yarn::Preemption) {
    let named: Vec<String> = {
        let mut st = shared.lock();
        let mut named = Vec::new();
        for c in p.containers() {
            if let Some(r) = st.running.get_mut(&c)
                && !r.preempting
                && !r.stopping
            {
                r.preempting = true;
                named.push(r.executor_id.clone());
            }
        }
        named
    };
    if named.is_empty() {
        return;
    }
    tracing::info!(
        "the ResourceManager will preempt executors {} ({} strict, {} negotiable containers named)",
        named.join(", "),
        p.strict.len(),
        p.negotiable.len()
    );
    match shared.preempt.get() {
        Some(hook) => named.iter().for_each(|id| hook(id, false)),
        None => {
            // No driver to move the output (client mode): let YARN take them.
        }
    }
}

/// Nodes whose state changed (the allocate answer's `updated_nodes`): the
/// executors on a DECOMMISSIONING node are drained, their shuffle output
/// moved, and given back, as for preemption.
fn nodes_updated(shared: &Arc<Shared>, nodes: &[spindle_hadoop::yarn::NodeReport]) {
    let named = shared.lock().on_decommissioning_nodes(nodes);
    if named.is_empty() {
        return;
    }
    tracing::info!(
        "giving back executors {} on decommissioning nodes",
        named.join(", ")
    );
    if let Some(hook) = shared.preempt.get() {
        named.iter().for_each(|id| hook(id, true));
    }
}

/// A container ended: tell the engine, count it, replace it.
fn completed(shared: &Arc<Shared>, id: ContainerId, status: i32, diagnostics: &str) {
    let fatal_msg;
    let (executor_id, reason) = {
        let mut st = shared.lock();
        let Some(r) = st.running.remove(&id) else {
            return;
        };
        if status == exit::PREEMPTED {
            st.preempted += 1;
        }
        if let Some(why) = &r.removed {
            // Given back on purpose: neither a failure nor replaced.
            let why = why.clone();
            Shared::set_executor_state(&mut st, &r.executor_id, "removed", &why);
            if verbose() {
                tracing::warn!(
                    "executor {} ({id}) given back ({why}; exit status {status}: {})",
                    r.executor_id,
                    diagnostics.trim()
                );
            }
            if st.target.is_some() {
                st.follow_target();
            } else if (why == "preempted" || why == "decommissioning") && !st.stopped {
                // A fixed count: asked for again, granted when the cluster has room.
                st.pending += 1;
                st.owed_replacements += 1;
                st.ask_dirty = true;
            }
            drop(st);
            shared.wake.notify_one();
            return;
        }
        let class = exit::classify(status, diagnostics);
        let on_purpose = r.stopping || st.stopped;
        let reason = if on_purpose && !class.counts {
            "stopped".to_string()
        } else if class.kind == Reason::BinaryNotRunnable {
            exit::not_runnable_reason(
                &format!("on {}", r.container.node_id.host),
                status,
                diagnostics,
            )
        } else if class.kind == Reason::MemoryLimit {
            format!("{} ({})", class.reason, shared.memory_setting)
        } else {
            class.reason.clone()
        };
        Shared::set_executor_state(
            &mut st,
            &r.executor_id,
            if on_purpose { "stopped" } else { "lost" },
            &reason,
        );
        if st.stopped {
            return;
        }
        tracing::info!(
            "executor {} ({id} on {}) ended: {reason}",
            r.executor_id,
            r.container.node_id
        );
        let counts = class.counts && !(r.stopping && status == exit::KILLED_BY_APPMASTER);
        if counts {
            let key = shared.node_key(&r.container.node_id);
            if let Some(n) = st.health.record_failure(&key, &reason, class.kind) {
                tracing::warn!("not using node {key} any more ({n} executor failures)");
            }
        }
        fatal_msg = st.health.verdict(st.cluster_nodes);
        if fatal_msg.is_some() {
            st.fatal = true;
        } else if st.target.is_some() {
            st.owed_replacements += 1;
            st.follow_target();
        } else {
            st.owed_replacements += 1;
            st.pending += 1;
            st.ask_dirty = true;
        }
        (r.executor_id, reason)
    };
    if let Some(hook) = shared.lost.get() {
        hook(&executor_id, &reason);
    }
    match fatal_msg {
        Some((kind, msg)) => (shared.fatal)(kind, msg),
        None => shared.wake.notify_one(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cid(n: u64) -> ContainerId {
        format!("container_1_0001_01_{n:06}").parse().unwrap()
    }

    #[test]
    fn executors_on_a_decommissioning_node_are_named_once() {
        use spindle_hadoop::yarn::{NodeReport, NodeState};
        let node = |n: &str| -> NodeId { n.parse().unwrap() };
        let mut st = State::default();
        for (i, n) in [(1, "a:1"), (2, "b:1"), (3, "a:1")] {
            st.running.insert(
                cid(i),
                Running {
                    executor_id: i.to_string(),
                    container: Container {
                        id: cid(i),
                        node_id: node(n),
                        node_http_address: String::new(),
                        resource: Resource::default(),
                        priority: 1,
                        token: None,
                    },
                    stopping: false,
                    removed: None,
                    preempting: false,
                },
            );
        }
        let report = |n: &str, state| NodeReport {
            node_id: node(n),
            http_address: String::new(),
            rack: String::new(),
            state,
            health_report: String::new(),
            last_health_report_time: 0,
            num_containers: 0,
            used: Resource::default(),
            capability: Resource::default(),
        };
        let reports = [
            report("a:1", NodeState::Decommissioning),
            report("b:1", NodeState::Running),
        ];
        assert_eq!(st.on_decommissioning_nodes(&reports), ["1", "3"]);
        assert!(st.on_decommissioning_nodes(&reports).is_empty(), "once");
        assert!(
            st.on_decommissioning_nodes(&[report("b:1", NodeState::Unhealthy)])
                .is_empty()
        );
    }

    #[test]
    fn an_undelivered_heartbeat_is_sent_again_ahead_of_newer_items() {
        let mut st = State {
            pending: 2,
            release: vec![cid(3)],
            ..Default::default()
        };
        for _ in 0..2 {
            st.health
                .record_failure("b:1", "lost", Reason::ExecutorsLost);
        }
        let req = AllocateRequest {
            asks: vec![ContainerRequest::anywhere(Resource::default(), 1, 2)],
            release: vec![cid(2)],
            blacklist_additions: vec!["a:1".into()],
            ..Default::default()
        };
        st.restore(req);
        assert!(st.ask_dirty);
        assert_eq!(st.release, vec![cid(2), cid(3)]);
        assert_eq!(
            st.health.take_new_exclusions(),
            vec!["a:1".to_string(), "b:1".to_string()]
        );
    }

    #[test]
    fn after_registering_again_every_ask_and_excluded_node_goes_out_again() {
        let mut st = State {
            pending: 3,
            ..Default::default()
        };
        for node in ["n1:1", "n2:1", "n1:1", "n2:1"] {
            st.health
                .record_failure(node, "lost", Reason::ExecutorsLost);
        }
        st.health.take_new_exclusions();
        assert_eq!(st.resend_all(), 3);
        assert!(st.ask_dirty);
        assert_eq!(
            st.health.take_new_exclusions(),
            vec!["n1:1".to_string(), "n2:1".to_string()]
        );

        // Nothing outstanding: no ask to repeat.
        let mut idle = State::default();
        assert_eq!(idle.resend_all(), 0);
        assert!(!idle.ask_dirty);
    }
}
