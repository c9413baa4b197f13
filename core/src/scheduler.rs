//! The DAG scheduler (stages split at shuffles, missing map outputs
//! recomputed, stages resubmitted after fetch failures, jobs cancelled) and
//! the task scheduler (slots on executors, locality with delay scheduling,
//! retries, lost executors).
//!
//! Locality: a task prefers the executor caching its partition
//! (`PROCESS_LOCAL`), else an executor on a host holding its input block
//! (`NODE_LOCAL`); a task with no preference is `NO_PREF`, one run elsewhere
//! `ANY`. A stage waits up to the locality wait (default 500 ms, Spark's is
//! 3 s; `SPINDLE_LOCALITY_WAIT`) at each level without a launch before it
//! lets tasks run less locally.

use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use spindle_proto::spindle::TaskRequest;

use crate::backend::ClusterBackend;
use crate::codec;
use crate::driver_rpc::{Registry, Slot};
use crate::entry::SinkRef;
use crate::graph::{Dep, NodeDef, ShuffleDef};
use crate::plan::{
    BlockSource, NodeSpec, Parent, ShuffleInput, StagePlan, TaskInputs, TaskOutcome, TaskValue,
};
use crate::{Error, Result};

/// Attempts of a task before its job fails (Spark's default).
pub const MAX_TASK_ATTEMPTS: u32 = 4;
/// Resubmissions of a stage after fetch failures before its job fails.
const MAX_STAGE_ATTEMPTS: u32 = 4;
/// How long a stage waits at a locality level without launching before it
/// accepts the next level, unless `SPINDLE_LOCALITY_WAIT` says otherwise.
pub const DEFAULT_LOCALITY_WAIT: Duration = Duration::from_millis(500);
/// The variable overriding the locality wait: `500ms`, `2s` or a number of
/// milliseconds; `0` turns delay scheduling off.
pub const LOCALITY_WAIT_VAR: &str = "SPINDLE_LOCALITY_WAIT";
/// How long a job waits for its first executor.
const NO_EXECUTOR_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a cancelled stage waits for its running tasks to stop before it
/// abandons them.
const CANCEL_GRACE: Duration = Duration::from_secs(5);

/// Parses a locality wait: `500ms`, `2s`, `1.5s` or plain milliseconds.
pub fn parse_duration(s: &str) -> Result<Duration> {
    let t = s.trim();
    let bad = || {
        Error::Config(format!(
            "{LOCALITY_WAIT_VAR}={s} is not a duration (e.g. 500ms, 2s)"
        ))
    };
    let (num, scale) = if let Some(n) = t.strip_suffix("ms") {
        (n, 1e-3)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1.0)
    } else {
        (t, 1e-3)
    };
    let v: f64 = num.trim().parse().map_err(|_| bad())?;
    if !v.is_finite() || v < 0.0 {
        return Err(bad());
    }
    Ok(Duration::from_secs_f64(v * scale))
}

/// How local a task ran, best first (Spark's names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Locality {
    /// On the executor caching its partition.
    ProcessLocal,
    /// On a host holding its input (an HDFS block, or the caching executor's host).
    NodeLocal,
    /// The task preferred nothing.
    NoPref,
    /// It had a preference and ran elsewhere.
    Any,
}

impl Locality {
    pub fn as_str(self) -> &'static str {
        match self {
            Locality::ProcessLocal => "PROCESS_LOCAL",
            Locality::NodeLocal => "NODE_LOCAL",
            Locality::NoPref => "NO_PREF",
            Locality::Any => "ANY",
        }
    }
}

/// Where a task would like to run. Host names are lower case.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Prefs {
    /// The executor caching the partition.
    pub executor: Option<String>,
    /// Hosts holding the input (names and addresses).
    pub hosts: Vec<String>,
}

impl Prefs {
    fn is_empty(&self) -> bool {
        self.executor.is_none() && self.hosts.is_empty()
    }

    fn best(&self) -> Locality {
        if self.executor.is_some() {
            Locality::ProcessLocal
        } else if !self.hosts.is_empty() {
            Locality::NodeLocal
        } else {
            Locality::NoPref
        }
    }

    /// The level a task with these preferences has on executor `id` on `hosts`.
    pub fn level_on(&self, id: &str, hosts: &[String]) -> Locality {
        if self.executor.as_deref() == Some(id) {
            Locality::ProcessLocal
        } else if hosts
            .iter()
            .any(|h| self.hosts.iter().any(|x| x.eq_ignore_ascii_case(h)))
        {
            Locality::NodeLocal
        } else if self.is_empty() {
            Locality::NoPref
        } else {
            Locality::Any
        }
    }

    /// Only what some live executor can satisfy now.
    fn effective(&self, alive: impl Fn(&str) -> bool, live_hosts: &HashSet<String>) -> Prefs {
        Prefs {
            executor: self.executor.clone().filter(|e| alive(e)),
            hosts: self
                .hosts
                .iter()
                .filter(|h| live_hosts.contains(h.as_str()))
                .cloned()
                .collect(),
        }
    }
}

/// An executor with free slots, as placement sees it.
#[derive(Clone, Debug)]
pub struct FreeExecutor {
    pub id: String,
    pub hosts: Vec<String>,
    pub free: u32,
}

/// Delay scheduling (as in Spark): a stage starts at its most local level
/// and moves one level down after each locality wait without a launch at
/// the current level; a launch at a level brings it back there.
#[derive(Debug)]
pub struct Delay {
    wait: Duration,
    level: Locality,
    since: Instant,
}

impl Delay {
    pub fn new(wait: Duration, now: Instant) -> Self {
        Delay {
            wait,
            level: Locality::ProcessLocal,
            since: now,
        }
    }

    /// The least local level tasks with preferences may run at now.
    /// `present` says which levels pending tasks still have (best levels).
    pub fn allowed(&mut self, now: Instant, present: impl Fn(Locality) -> bool) -> Locality {
        loop {
            match self.level {
                Locality::ProcessLocal | Locality::NodeLocal => {
                    let next = if self.level == Locality::ProcessLocal {
                        Locality::NodeLocal
                    } else {
                        Locality::Any
                    };
                    if !present(self.level) {
                        self.level = next;
                        self.since = now;
                    } else if now.duration_since(self.since) >= self.wait {
                        self.level = next;
                        self.since += self.wait;
                    } else {
                        return self.level;
                    }
                }
                _ => return Locality::Any,
            }
        }
    }

    /// When the allowed level moves next (None: it is already ANY).
    pub fn next_step(&self) -> Option<Instant> {
        (self.level < Locality::NoPref).then(|| self.since + self.wait)
    }

    /// A task of a stage launched at `level`.
    pub fn launched(&mut self, level: Locality, now: Instant) {
        if level < Locality::NoPref {
            self.level = level;
            self.since = now;
        }
    }
}

/// Chooses executors for pending tasks: `tasks` are the (effective)
/// preferences of the tasks that have some, `plain` the number of tasks
/// without, both in queue order. Fills free slots with process-local, then
/// node-local tasks, then tasks without preference, then, when `allowed`
/// is ANY, the rest. Returns (task index or None for the next plain task,
/// executor id, level) in launch order.
pub fn place(
    tasks: &[Prefs],
    plain: usize,
    execs: &mut [FreeExecutor],
    allowed: Locality,
) -> Vec<(Option<usize>, String, Locality)> {
    let mut out = Vec::new();
    let mut taken = vec![false; tasks.len()];
    let mut free: u32 = execs.iter().map(|e| e.free).sum();
    // The executor with the most free slots spreads work evenly.
    fn roomiest(execs: &mut [FreeExecutor]) -> Option<&mut FreeExecutor> {
        let mut best: Option<&mut FreeExecutor> = None;
        for e in execs.iter_mut().filter(|e| e.free > 0) {
            if best.as_ref().is_none_or(|b| e.free > b.free) {
                best = Some(e);
            }
        }
        best
    }
    for level in [Locality::ProcessLocal, Locality::NodeLocal] {
        for (i, t) in tasks.iter().enumerate() {
            if free == 0 {
                return out;
            }
            // A task runs less locally than its best only when allowed.
            if taken[i] || t.best() > level || (level > t.best() && level > allowed) {
                continue;
            }
            if let Some(e) = execs
                .iter_mut()
                .filter(|e| e.free > 0 && t.level_on(&e.id, &e.hosts) == level)
                .max_by_key(|e| e.free)
            {
                e.free -= 1;
                free -= 1;
                taken[i] = true;
                out.push((Some(i), e.id.clone(), level));
            }
        }
    }
    for _ in 0..plain {
        match roomiest(execs) {
            Some(e) => {
                e.free -= 1;
                out.push((None, e.id.clone(), Locality::NoPref));
            }
            None => return out,
        }
    }
    if allowed == Locality::Any {
        for (i, t) in tasks.iter().enumerate() {
            if taken[i] {
                continue;
            }
            let Some(e) = roomiest(execs) else { break };
            e.free -= 1;
            let level = t.level_on(&e.id, &e.hosts);
            out.push((Some(i), e.id.clone(), level));
        }
    }
    out
}

/// One task waiting for a slot.
struct Pending {
    partition: u32,
    attempt: u32,
    prefs: Prefs,
}

/// Where one map task's output is.
#[derive(Clone)]
struct MapStatus {
    executor_id: String,
    address: String,
}

/// Tuning the scheduler reads at start.
pub(crate) struct Scheduler {
    pub registry: Arc<Registry>,
    backend: Mutex<Option<Arc<dyn ClusterBackend>>>,
    map_outputs: Mutex<HashMap<u32, Vec<Option<MapStatus>>>>,
    cache_locations: Mutex<HashMap<(u32, u32), String>>,
    /// Hosts holding each partition's input, for source nodes that know them.
    node_hosts: Mutex<HashMap<u32, Arc<Vec<Vec<String>>>>>,
    locality_wait: Mutex<Duration>,
    /// Running jobs: their group and, once cancelled, why.
    jobs: Mutex<HashMap<u64, JobState>>,
    /// Bumped whenever a job is cancelled.
    cancels: tokio::sync::watch::Sender<u64>,
    next_job: AtomicU64,
    next_stage: AtomicU32,
    verbose: bool,
    pub progress: Arc<crate::progress::Progress>,
}

struct JobState {
    group: Option<String>,
    cancelled: Option<String>,
}

/// Removes a job from the running jobs however it ends.
struct Running<'a> {
    sched: &'a Scheduler,
    job: u64,
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.sched.jobs.lock().expect("jobs").remove(&self.job);
    }
}

/// Marks a job or stage ended in the progress snapshot however it ends.
struct Ends<'a> {
    progress: &'a crate::progress::Progress,
    job: Option<u64>,
    stage: Option<u32>,
    ok: bool,
}

impl Drop for Ends<'_> {
    fn drop(&mut self) {
        match (self.job, self.stage) {
            (_, Some(stage)) => self.progress.stage_ended(stage, self.ok),
            (Some(job), None) => self.progress.job_ended(job, self.ok),
            _ => {}
        }
    }
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

enum StageEnd {
    Done(Vec<(u32, String, String, TaskValue)>),
    FetchFailed {
        done: Vec<(u32, String, String, TaskValue)>,
        shuffle_id: u32,
        executor_id: String,
    },
}

impl Scheduler {
    pub fn new(registry: Arc<Registry>) -> Self {
        Scheduler {
            registry,
            backend: Mutex::new(None),
            map_outputs: Mutex::new(HashMap::new()),
            cache_locations: Mutex::new(HashMap::new()),
            node_hosts: Mutex::new(HashMap::new()),
            locality_wait: Mutex::new(DEFAULT_LOCALITY_WAIT),
            jobs: Mutex::new(HashMap::new()),
            cancels: tokio::sync::watch::Sender::new(0),
            next_job: AtomicU64::new(0),
            next_stage: AtomicU32::new(0),
            verbose: std::env::var("SPINDLE_VERBOSE").is_ok_and(|v| v == "1"),
            progress: Default::default(),
        }
    }

    pub fn set_backend(&self, b: Arc<dyn ClusterBackend>) {
        *self.backend.lock().expect("backend") = Some(b);
    }

    pub fn set_locality_wait(&self, wait: Duration) {
        *self.locality_wait.lock().expect("locality wait") = wait;
    }

    pub fn locality_wait(&self) -> Duration {
        *self.locality_wait.lock().expect("locality wait")
    }

    /// Records the hosts holding each partition's input of a source node.
    pub fn set_node_hosts(&self, node_id: u32, hosts: Vec<Vec<String>>) {
        if hosts.iter().any(|h| !h.is_empty()) {
            let hosts = hosts
                .into_iter()
                .map(|hs| hs.into_iter().map(|h| h.to_ascii_lowercase()).collect())
                .collect();
            self.node_hosts
                .lock()
                .expect("node hosts")
                .insert(node_id, Arc::new(hosts));
        }
    }

    /// Cancels the running jobs `select` picks; returns how many.
    fn cancel_where(&self, reason: &str, select: impl Fn(&JobState) -> bool) -> usize {
        let ids: Vec<u64> = {
            let mut jobs = self.jobs.lock().expect("jobs");
            jobs.iter_mut()
                .filter(|(_, j)| j.cancelled.is_none() && select(j))
                .map(|(id, j)| {
                    j.cancelled = Some(reason.to_string());
                    *id
                })
                .collect()
        };
        if !ids.is_empty() {
            self.cancels.send_modify(|v| *v += 1);
        }
        ids.len()
    }

    /// Jobs running now.
    pub fn running_jobs(&self) -> usize {
        self.jobs.lock().expect("jobs").len()
    }

    /// Cancels every running job.
    pub fn cancel_all(&self, reason: &str) -> usize {
        self.cancel_where(reason, |_| true)
    }

    /// Cancels the running jobs of a group.
    pub fn cancel_group(&self, group: &str, reason: &str) -> usize {
        self.cancel_where(reason, |j| j.group.as_deref() == Some(group))
    }

    /// Fails with `Error::Cancelled` once `job` was cancelled.
    fn check_cancelled(&self, job: u64) -> Result<()> {
        match self
            .jobs
            .lock()
            .expect("jobs")
            .get(&job)
            .and_then(|j| j.cancelled.clone())
        {
            Some(reason) => Err(Error::Cancelled { job, reason }),
            None => Ok(()),
        }
    }

    /// Tells every executor to stop the tasks of `job` (best effort).
    fn tell_executors_cancelled(&self, job: u64) {
        for (id, mut client) in self.registry.clients() {
            tokio::spawn(async move {
                let r = tokio::time::timeout(
                    Duration::from_secs(5),
                    client.cancel_job(spindle_proto::spindle::CancelRequest { job_id: job }),
                )
                .await;
                if let Ok(Err(s)) = r {
                    eprintln!(
                        "spindle: telling executor {id} job {job} is cancelled: {}",
                        s.message()
                    );
                }
            });
        }
    }

    /// Forgets an executor and everything it held, and tells the backend.
    pub fn executor_lost(&self, id: &str, why: &str) {
        if !self.registry.remove(id) {
            return;
        }
        eprintln!(
            "spindle: executor {id} lost ({why}); its shuffle output and cached partitions will be recomputed"
        );
        for statuses in self.map_outputs.lock().expect("map outputs").values_mut() {
            for s in statuses.iter_mut() {
                if s.as_ref().is_some_and(|m| m.executor_id == id) {
                    *s = None;
                }
            }
        }
        self.cache_locations
            .lock()
            .expect("cache locations")
            .retain(|_, e| e != id);
        let backend = self.backend.lock().expect("backend").clone();
        if let Some(b) = backend {
            b.executor_lost(id);
        }
    }

    fn forget_outputs_of(&self, shuffle_id: u32, executor_id: &str) {
        if executor_id.is_empty() {
            return;
        }
        if let Some(statuses) = self
            .map_outputs
            .lock()
            .expect("map outputs")
            .get_mut(&shuffle_id)
        {
            for s in statuses.iter_mut() {
                if s.as_ref().is_some_and(|m| m.executor_id == executor_id) {
                    *s = None;
                }
            }
        }
    }

    /// The stage computing `root`: its plan and the shuffles it reads.
    fn build_stage(
        &self,
        job_id: u64,
        root: &Arc<NodeDef>,
        sink: SinkRef,
        sink_params: Vec<u8>,
    ) -> (StagePlan, Vec<Arc<ShuffleDef>>) {
        let mut nodes = Vec::new();
        let mut shuffles: Vec<Arc<ShuffleDef>> = Vec::new();
        let mut stack = vec![root.clone()];
        let mut seen = std::collections::HashSet::new();
        while let Some(n) = stack.pop() {
            if !seen.insert(n.id) {
                continue;
            }
            let mut parents = Vec::new();
            for d in &n.deps {
                match d {
                    Dep::Narrow(p) => {
                        parents.push(Parent::Node(p.id));
                        stack.push(p.clone());
                    }
                    Dep::Shuffle(s) => {
                        parents.push(Parent::Shuffle { shuffle_id: s.id });
                        if !shuffles.iter().any(|x| x.id == s.id) {
                            shuffles.push(s.clone());
                        }
                    }
                }
            }
            nodes.push(NodeSpec {
                id: n.id,
                name: n.name.to_string(),
                compute: n.compute,
                params: n.params.clone(),
                parents,
                num_partitions: n.num_partitions,
            });
        }
        let plan = StagePlan {
            job_id,
            stage_id: self.next_stage.fetch_add(1, Ordering::Relaxed),
            probe: crate::entry::probe(),
            nodes,
            root: root.id,
            sink,
            sink_params,
        };
        (plan, shuffles)
    }

    /// Where partition `p`'s inputs are, or the id of a shuffle with missing output.
    fn task_inputs(&self, shuffles: &[Arc<ShuffleDef>]) -> std::result::Result<TaskInputs, u32> {
        let outputs = self.map_outputs.lock().expect("map outputs");
        let mut inputs = TaskInputs::default();
        for s in shuffles {
            let statuses = outputs.get(&s.id).ok_or(s.id)?;
            let mut by_exec: Vec<BlockSource> = Vec::new();
            for (map_id, st) in statuses.iter().enumerate() {
                let st = st.as_ref().ok_or(s.id)?;
                match by_exec.iter_mut().find(|b| b.executor_id == st.executor_id) {
                    Some(b) => b.map_ids.push(map_id as u32),
                    None => by_exec.push(BlockSource {
                        executor_id: st.executor_id.clone(),
                        address: st.address.clone(),
                        map_ids: vec![map_id as u32],
                    }),
                }
            }
            inputs.shuffles.push(ShuffleInput {
                shuffle_id: s.id,
                sources: by_exec,
            });
        }
        Ok(inputs)
    }

    fn missing_maps(&self, s: &ShuffleDef) -> Vec<u32> {
        let outputs = self.map_outputs.lock().expect("map outputs");
        match outputs.get(&s.id) {
            None => (0..s.parent.num_partitions).collect(),
            Some(v) => v
                .iter()
                .enumerate()
                .filter(|(_, st)| st.is_none())
                .map(|(i, _)| i as u32)
                .collect(),
        }
    }

    fn record_map_outputs(&self, s: &ShuffleDef, done: Vec<(u32, String, String, TaskValue)>) {
        let mut outputs = self.map_outputs.lock().expect("map outputs");
        let statuses = outputs
            .entry(s.id)
            .or_insert_with(|| vec![None; s.parent.num_partitions as usize]);
        for (p, executor_id, address, _) in done {
            // Output of an executor lost in the meantime is not usable.
            if self.registry.alive(&executor_id) {
                statuses[p as usize] = Some(MapStatus {
                    executor_id,
                    address,
                });
            }
        }
    }

    /// Makes sure every map output of `s` exists, running what is missing.
    fn ensure_shuffle<'a>(
        self: &'a Arc<Self>,
        job_id: u64,
        s: &'a Arc<ShuffleDef>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let mut attempts = 0;
            loop {
                self.check_cancelled(job_id)?;
                let (plan, parents) =
                    self.build_stage(job_id, &s.parent, s.sink, s.sink_params.clone());
                for p in &parents {
                    self.ensure_shuffle(job_id, p).await?;
                }
                let missing = self.missing_maps(s);
                if missing.is_empty() {
                    return Ok(());
                }
                match self.run_stage(&plan, &parents, missing).await? {
                    StageEnd::Done(done) => self.record_map_outputs(s, done),
                    StageEnd::FetchFailed {
                        done,
                        shuffle_id,
                        executor_id,
                    } => {
                        self.record_map_outputs(s, done);
                        self.forget_outputs_of(shuffle_id, &executor_id);
                        attempts += 1;
                        if attempts >= MAX_STAGE_ATTEMPTS {
                            return Err(Error::JobFailed {
                                job: job_id,
                                stage: plan.stage_id,
                                partition: 0,
                                message: format!(
                                    "shuffle {shuffle_id} could not be fetched after {attempts} stage attempts"
                                ),
                            });
                        }
                    }
                }
            }
        })
    }

    /// Runs an action: the result stage over `partitions`, after its parents.
    pub async fn run_job(
        self: &Arc<Self>,
        name: &str,
        group: Option<String>,
        root: &Arc<NodeDef>,
        sink: SinkRef,
        sink_params: Vec<u8>,
        partitions: Vec<u32>,
    ) -> Result<Vec<Vec<u8>>> {
        let job_id = self.next_job.fetch_add(1, Ordering::Relaxed);
        self.jobs.lock().expect("jobs").insert(
            job_id,
            JobState {
                group,
                cancelled: None,
            },
        );
        let _running = Running {
            sched: self,
            job: job_id,
        };
        let started = Instant::now();
        self.progress.job_started(job_id, name);
        let mut ends = Ends {
            progress: &self.progress,
            job: Some(job_id),
            stage: None,
            ok: false,
        };
        let mut results: HashMap<u32, Vec<u8>> = HashMap::new();
        let mut attempts = 0;
        loop {
            self.check_cancelled(job_id)?;
            let (plan, parents) = self.build_stage(job_id, root, sink, sink_params.clone());
            for p in &parents {
                self.ensure_shuffle(job_id, p).await?;
            }
            let missing: Vec<u32> = partitions
                .iter()
                .copied()
                .filter(|p| !results.contains_key(p))
                .collect();
            if missing.is_empty() {
                break;
            }
            let keep = |results: &mut HashMap<u32, Vec<u8>>,
                        done: Vec<(u32, String, String, TaskValue)>| {
                for (p, _, _, v) in done {
                    if let TaskValue::Result(b) = v {
                        results.insert(p, b);
                    }
                }
            };
            match self.run_stage(&plan, &parents, missing).await? {
                StageEnd::Done(done) => keep(&mut results, done),
                StageEnd::FetchFailed {
                    done,
                    shuffle_id,
                    executor_id,
                } => {
                    keep(&mut results, done);
                    self.forget_outputs_of(shuffle_id, &executor_id);
                    attempts += 1;
                    if attempts >= MAX_STAGE_ATTEMPTS {
                        return Err(Error::JobFailed {
                            job: job_id,
                            stage: plan.stage_id,
                            partition: 0,
                            message: format!(
                                "shuffle {shuffle_id} could not be fetched after {attempts} stage attempts"
                            ),
                        });
                    }
                }
            }
        }
        if self.verbose {
            eprintln!(
                "spindle: job {job_id} ({name}) finished in {:?}",
                started.elapsed()
            );
        }
        ends.ok = true;
        Ok(partitions
            .iter()
            .map(|p| results.remove(p).unwrap_or_default())
            .collect())
    }

    /// What partition `p` of a stage prefers: the executor caching it (and
    /// that executor's host), and the hosts holding its input.
    fn preferences(&self, plan: &StagePlan, p: u32) -> Prefs {
        let mut prefs = Prefs::default();
        {
            let locs = self.cache_locations.lock().expect("cache locations");
            prefs.executor = plan
                .nodes
                .iter()
                .find_map(|n| locs.get(&(n.id, p)).cloned())
                .filter(|e| self.registry.alive(e));
        }
        if let Some(e) = &prefs.executor {
            prefs.hosts = self
                .registry
                .hosts_of(e)
                .iter()
                .map(|h| h.to_ascii_lowercase())
                .collect();
        }
        // A source's partition p feeds the stage's partition p only when the
        // counts agree (map, filter…); other narrow shapes get no host hint.
        let root_parts = plan.node(plan.root).map(|n| n.num_partitions).ok();
        let hosts = self.node_hosts.lock().expect("node hosts");
        for n in &plan.nodes {
            if Some(n.num_partitions) != root_parts {
                continue;
            }
            if let Some(h) = hosts.get(&n.id).and_then(|h| h.get(p as usize)) {
                for host in h {
                    if !prefs.hosts.contains(host) {
                        prefs.hosts.push(host.clone());
                    }
                }
            }
        }
        prefs
    }

    /// Runs one task per partition on the executors, with retries.
    async fn run_stage(
        self: &Arc<Self>,
        plan: &StagePlan,
        shuffles: &[Arc<ShuffleDef>],
        partitions: Vec<u32>,
    ) -> Result<StageEnd> {
        let encoded = Arc::new(codec::encode(plan));
        let mut cancels = self.cancels.subscribe();
        self.check_cancelled(plan.job_id)?;
        self.progress
            .stage_started(plan.job_id, plan.stage_id, partitions.len() as u32);
        let mut ends = Ends {
            progress: &self.progress,
            job: None,
            stage: Some(plan.stage_id),
            ok: false,
        };
        // Tasks with preferences wait in `local`, the others in `plain`.
        let mut local: Vec<Pending> = Vec::new();
        let mut plain: VecDeque<Pending> = VecDeque::new();
        let queue = |t: Pending, local: &mut Vec<Pending>, plain: &mut VecDeque<Pending>| {
            if t.prefs.is_empty() {
                plain.push_back(t)
            } else {
                local.push(t)
            }
        };
        for &p in &partitions {
            let prefs = self.preferences(plan, p);
            queue(
                Pending {
                    partition: p,
                    attempt: 0,
                    prefs,
                },
                &mut local,
                &mut plain,
            );
        }
        if !local.is_empty() {
            let mut wanted: HashMap<String, u32> = HashMap::new();
            for t in &local {
                for h in &t.prefs.hosts {
                    *wanted.entry(h.clone()).or_insert(0) += 1;
                }
            }
            let backend = self.backend.lock().expect("backend").clone();
            if let (Some(b), false) = (backend, wanted.is_empty()) {
                b.prefer_hosts(&wanted);
            }
        }
        let mut delay = Delay::new(self.locality_wait(), Instant::now());
        let mut failures: HashMap<u32, u32> = HashMap::new();
        let mut lost_retries = 0u32;
        let mut done = Vec::new();
        let mut fetch_failed: Option<(u32, String)> = None;
        let mut running = FuturesUnordered::new();
        let mut changes = self.registry.subscribe();
        let mut idle_since = Instant::now();
        loop {
            // Launch what can run now.
            let mut locality_step: Option<Instant> = None;
            if fetch_failed.is_none() && !(local.is_empty() && plain.is_empty()) {
                let mut execs = self.registry.free_executors();
                if !execs.is_empty() {
                    let now = Instant::now();
                    let live = self.registry.live_hosts();
                    let effective: Vec<Prefs> = local
                        .iter()
                        .map(|t| t.prefs.effective(|e| self.registry.alive(e), &live))
                        .collect();
                    // Tasks whose preferences no live executor can meet run as plain ones.
                    let (with, without): (Vec<usize>, Vec<usize>) =
                        (0..local.len()).partition(|&i| !effective[i].is_empty());
                    let prefs: Vec<Prefs> = with.iter().map(|&i| effective[i].clone()).collect();
                    let allowed = delay.allowed(now, |l| prefs.iter().any(|t| t.best() == l));
                    let placed = place(&prefs, without.len() + plain.len(), &mut execs, allowed);
                    let mut launched_local: Vec<usize> = Vec::new();
                    let mut plain_taken = 0usize;
                    for (which, executor_id, _) in placed {
                        let Some(slot) = self.registry.take_slot(Some(&executor_id)) else {
                            continue;
                        };
                        let inputs = match self.task_inputs(shuffles) {
                            Ok(inputs) => inputs,
                            Err(shuffle_id) => {
                                // A map output vanished (its executor was lost):
                                // end the stage so the caller recomputes it.
                                fetch_failed = Some((shuffle_id, String::new()));
                                break;
                            }
                        };
                        let task = match which {
                            Some(i) => {
                                launched_local.push(with[i]);
                                &local[with[i]]
                            }
                            None => {
                                let k = plain_taken;
                                plain_taken += 1;
                                if k < without.len() {
                                    launched_local.push(without[k]);
                                    &local[without[k]]
                                } else {
                                    &plain[k - without.len()]
                                }
                            }
                        };
                        let hosts = self.registry.hosts_of(&executor_id);
                        let level = task.prefs.level_on(&executor_id, &hosts);
                        delay.launched(level, now);
                        let (p, attempt) = (task.partition, task.attempt);
                        let req = TaskRequest {
                            job_id: plan.job_id,
                            stage_id: plan.stage_id,
                            partition: p,
                            attempt,
                            plan: encoded.as_ref().clone(),
                            inputs: codec::encode(&inputs),
                        };
                        self.progress.task_started(
                            plan.stage_id,
                            crate::progress::TaskStart {
                                partition: p,
                                attempt,
                                executor_id: executor_id.clone(),
                                host: hosts.first().cloned().unwrap_or_default(),
                                locality: level.as_str(),
                            },
                        );
                        running.push(launch(slot, req, p, attempt));
                    }
                    launched_local.sort_unstable();
                    for i in launched_local.into_iter().rev() {
                        local.remove(i);
                    }
                    let from_plain = plain_taken.saturating_sub(without.len());
                    plain.drain(..from_plain.min(plain.len()));
                    if !local.is_empty()
                        && self.registry.free_executors().iter().any(|e| e.free > 0)
                    {
                        // Slots are free but the waiting tasks want other places.
                        locality_step = delay.next_step();
                    }
                }
            }
            let pending_empty = local.is_empty() && plain.is_empty();
            if running.is_empty() && (pending_empty || fetch_failed.is_some()) {
                break;
            }
            if running.is_empty()
                && self.registry.is_empty()
                && idle_since.elapsed() > NO_EXECUTOR_TIMEOUT
            {
                return Err(Error::JobFailed {
                    job: plan.job_id,
                    stage: plan.stage_id,
                    partition: plain
                        .front()
                        .or(local.first())
                        .map(|t| t.partition)
                        .unwrap_or(0),
                    message: format!(
                        "no executor registered within {} s",
                        NO_EXECUTOR_TIMEOUT.as_secs()
                    ),
                });
            }
            let retry =
                |p: u32, attempt: u32, local: &mut Vec<Pending>, plain: &mut VecDeque<Pending>| {
                    let prefs = self.preferences(plan, p);
                    queue(
                        Pending {
                            partition: p,
                            attempt: attempt + 1,
                            prefs,
                        },
                        local,
                        plain,
                    );
                };
            tokio::select! {
                Some((p, attempt, executor_id, address, outcome)) = running.next() => {
                    idle_since = Instant::now();
                    self.progress.task_ended(
                        plan.stage_id,
                        p,
                        attempt,
                        matches!(outcome, Ok(TaskOutcome::Success { .. })),
                    );
                    match outcome {
                        Ok(TaskOutcome::Success { value, cached, .. }) => {
                            if !cached.is_empty() {
                                let mut locs = self.cache_locations.lock().expect("cache locations");
                                for key in cached {
                                    locs.insert(key, executor_id.clone());
                                }
                            }
                            done.push((p, executor_id, address, value));
                        }
                        Ok(TaskOutcome::Cancelled) => {
                            // The job was cancelled (the check below ends the
                            // stage); otherwise the task runs again.
                            if self.check_cancelled(plan.job_id).is_ok() {
                                retry(p, attempt, &mut local, &mut plain);
                            }
                        }
                        Ok(TaskOutcome::Failed { message }) => {
                            let n = failures.entry(p).or_insert(0);
                            *n += 1;
                            if *n >= MAX_TASK_ATTEMPTS {
                                // Let the others finish so no task outlives its job.
                                while running.next().await.is_some() {}
                                return Err(Error::JobFailed {
                                    job: plan.job_id,
                                    stage: plan.stage_id,
                                    partition: p,
                                    message: format!("failed {n} times; last failure on executor {executor_id}: {message}"),
                                });
                            }
                            if self.verbose {
                                eprintln!("spindle: stage {} partition {p} attempt {attempt} failed: {message}", plan.stage_id);
                            }
                            retry(p, attempt, &mut local, &mut plain);
                        }
                        Ok(TaskOutcome::FetchFailed { shuffle_id, executor_id: from, message }) => {
                            if self.verbose {
                                eprintln!("spindle: stage {} partition {p}: fetch failed: {message}", plan.stage_id);
                            }
                            retry(p, attempt, &mut local, &mut plain);
                            fetch_failed.get_or_insert((shuffle_id, from));
                        }
                        Err(status) => {
                            self.executor_lost(&executor_id, status.message());
                            lost_retries += 1;
                            if lost_retries > 4 * (partitions.len() as u32).max(4) {
                                while running.next().await.is_some() {}
                                return Err(Error::JobFailed {
                                    job: plan.job_id,
                                    stage: plan.stage_id,
                                    partition: p,
                                    message: format!("executors keep failing; last: {}", status.message()),
                                });
                            }
                            retry(p, attempt, &mut local, &mut plain);
                        }
                    }
                }
                _ = changes.changed() => {}
                _ = cancels.changed() => {}
                _ = sleep_until_opt(locality_step) => {}
                _ = tokio::time::sleep(Duration::from_secs(1)), if running.is_empty() => {}
            }
            if let Err(e) = self.check_cancelled(plan.job_id) {
                // Tell the executors, give running tasks a moment to stop
                // (their output must not appear after the job is aborted),
                // then abandon them: dropping them frees their slots.
                self.tell_executors_cancelled(plan.job_id);
                let _ = tokio::time::timeout(CANCEL_GRACE, async {
                    while let Some((p, attempt, ..)) = running.next().await {
                        self.progress.task_ended(plan.stage_id, p, attempt, false);
                    }
                })
                .await;
                return Err(e);
            }
        }
        ends.ok = fetch_failed.is_none();
        Ok(match fetch_failed {
            None => StageEnd::Done(done),
            Some((shuffle_id, executor_id)) => StageEnd::FetchFailed {
                done,
                shuffle_id,
                executor_id,
            },
        })
    }
}

/// Sleeps until `at`, or forever when there is nothing to wait for.
async fn sleep_until_opt(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

type Launched = (
    u32,
    u32,
    String,
    String,
    std::result::Result<TaskOutcome, tonic::Status>,
);

async fn launch(slot: Slot, req: TaskRequest, p: u32, attempt: u32) -> Launched {
    let mut client = slot.client.clone();
    let outcome = match client.run_task(req).await {
        Ok(reply) => codec::decode::<TaskOutcome>(&reply.into_inner().outcome, "task outcome")
            .map_err(|e| tonic::Status::data_loss(e.to_string())),
        Err(status) => Err(status),
    };
    (
        p,
        attempt,
        slot.executor_id.clone(),
        slot.address.clone(),
        outcome,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exec(id: &str, host: &str, free: u32) -> FreeExecutor {
        FreeExecutor {
            id: id.into(),
            hosts: vec![host.into(), format!("10.0.0.{id}")],
            free,
        }
    }

    fn on_hosts(hosts: &[&str]) -> Prefs {
        Prefs {
            executor: None,
            hosts: hosts.iter().map(|h| h.to_string()).collect(),
        }
    }

    #[test]
    fn tasks_go_to_executors_on_their_block_hosts() {
        let mut execs = [
            exec("1", "dn-a", 1),
            exec("2", "dn-b", 1),
            exec("3", "nm-c", 1),
        ];
        let tasks = [on_hosts(&["dn-b"]), on_hosts(&["dn-a", "dn-x"])];
        let placed = place(&tasks, 0, &mut execs, Locality::NodeLocal);
        assert_eq!(
            placed,
            [
                (Some(0), "2".to_string(), Locality::NodeLocal),
                (Some(1), "1".to_string(), Locality::NodeLocal)
            ]
        );
        // An address matches as well as a name.
        let mut execs = [exec("4", "nm-d", 1)];
        let placed = place(
            &[on_hosts(&["10.0.0.4"])],
            0,
            &mut execs,
            Locality::NodeLocal,
        );
        assert_eq!(placed, [(Some(0), "4".to_string(), Locality::NodeLocal)]);
    }

    #[test]
    fn a_task_waits_for_its_host_until_the_stage_allows_any() {
        // Only the executor on a host without blocks is free.
        let tasks = [on_hosts(&["dn-a"])];
        let mut execs = [exec("3", "nm-c", 2)];
        assert!(place(&tasks, 0, &mut execs, Locality::NodeLocal).is_empty());
        // Tasks without preference still use the free slots meanwhile.
        let placed = place(&tasks, 1, &mut execs, Locality::NodeLocal);
        assert_eq!(placed, [(None, "3".to_string(), Locality::NoPref)]);
        let placed = place(&tasks, 0, &mut execs, Locality::Any);
        assert_eq!(placed, [(Some(0), "3".to_string(), Locality::Any)]);
    }

    #[test]
    fn cached_partitions_prefer_their_executor_then_its_host() {
        let cached = Prefs {
            executor: Some("2".into()),
            hosts: vec!["dn-a".into()],
        };
        let mut execs = [exec("1", "dn-a", 1), exec("2", "dn-a", 1)];
        let placed = place(
            std::slice::from_ref(&cached),
            0,
            &mut execs,
            Locality::ProcessLocal,
        );
        assert_eq!(placed, [(Some(0), "2".to_string(), Locality::ProcessLocal)]);
        // Its executor busy: same host only once node level is allowed.
        let mut execs = [exec("1", "dn-a", 1)];
        assert!(
            place(
                std::slice::from_ref(&cached),
                0,
                &mut execs,
                Locality::ProcessLocal
            )
            .is_empty()
        );
        let placed = place(&[cached], 0, &mut execs, Locality::NodeLocal);
        assert_eq!(placed, [(Some(0), "1".to_string(), Locality::NodeLocal)]);
    }

    #[test]
    fn delay_moves_down_one_level_per_wait_and_back_on_a_local_launch() {
        let t0 = Instant::now();
        let wait = Duration::from_millis(500);
        let mut d = Delay::new(wait, t0);
        let all = |_: Locality| true;
        assert_eq!(d.allowed(t0, all), Locality::ProcessLocal);
        assert_eq!(d.allowed(t0 + wait, all), Locality::NodeLocal);
        assert_eq!(d.next_step(), Some(t0 + 2 * wait));
        assert_eq!(d.allowed(t0 + 2 * wait, all), Locality::Any);
        assert_eq!(d.next_step(), None);
        d.launched(Locality::NodeLocal, t0 + 3 * wait);
        assert_eq!(d.allowed(t0 + 3 * wait, all), Locality::NodeLocal);
        // A launch at ANY keeps ANY; no task left at a level skips it at once.
        d.launched(Locality::Any, t0 + 4 * wait);
        let mut d = Delay::new(wait, t0);
        assert_eq!(
            d.allowed(t0, |l| l == Locality::NodeLocal),
            Locality::NodeLocal
        );
        assert_eq!(d.allowed(t0, |_| false), Locality::Any);
    }

    #[test]
    fn level_on_names_what_happened() {
        let p = on_hosts(&["dn-a"]);
        assert_eq!(p.level_on("9", &["DN-A".into()]), Locality::NodeLocal);
        assert_eq!(p.level_on("9", &["nm-c".into()]), Locality::Any);
        assert_eq!(Prefs::default().level_on("9", &[]), Locality::NoPref);
        let live: HashSet<String> = ["dn-a".to_string()].into();
        let e = on_hosts(&["dn-a", "gone"]).effective(|_| false, &live);
        assert_eq!(e.hosts, ["dn-a"]);
        assert!(on_hosts(&["gone"]).effective(|_| true, &live).is_empty());
    }

    #[test]
    fn locality_wait_parses() {
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("2s").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        let e = parse_duration("soon").unwrap_err().to_string();
        assert!(e.contains("SPINDLE_LOCALITY_WAIT=soon"), "{e}");
        assert!(parse_duration("-1s").is_err());
    }
}
