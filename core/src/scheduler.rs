//! The DAG scheduler (stages split at shuffles, missing map outputs
//! recomputed, stages resubmitted after fetch failures) and the task
//! scheduler (slots on executors, cache locality, retries, lost executors).

use std::collections::{HashMap, VecDeque};
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
/// How long a task waits for a free slot on the executor caching its input.
const LOCALITY_WAIT: Duration = Duration::from_millis(100);
/// How long a job waits for its first executor.
const NO_EXECUTOR_TIMEOUT: Duration = Duration::from_secs(60);

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
    next_job: AtomicU64,
    next_stage: AtomicU32,
    verbose: bool,
    pub progress: Arc<crate::progress::Progress>,
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
            next_job: AtomicU64::new(0),
            next_stage: AtomicU32::new(0),
            verbose: std::env::var("SPINDLE_VERBOSE").is_ok_and(|v| v == "1"),
            progress: Default::default(),
        }
    }

    pub fn set_backend(&self, b: Arc<dyn ClusterBackend>) {
        *self.backend.lock().expect("backend") = Some(b);
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
        root: &Arc<NodeDef>,
        sink: SinkRef,
        sink_params: Vec<u8>,
        partitions: Vec<u32>,
    ) -> Result<Vec<Vec<u8>>> {
        let job_id = self.next_job.fetch_add(1, Ordering::Relaxed);
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

    fn preferred(&self, plan: &StagePlan, p: u32) -> Option<String> {
        let locs = self.cache_locations.lock().expect("cache locations");
        plan.nodes
            .iter()
            .find_map(|n| locs.get(&(n.id, p)).cloned())
            .filter(|e| self.registry.alive(e))
    }

    /// Runs one task per partition on the executors, with retries.
    async fn run_stage(
        self: &Arc<Self>,
        plan: &StagePlan,
        shuffles: &[Arc<ShuffleDef>],
        partitions: Vec<u32>,
    ) -> Result<StageEnd> {
        let encoded = Arc::new(codec::encode(plan));
        let started = Instant::now();
        self.progress
            .stage_started(plan.job_id, plan.stage_id, partitions.len() as u32);
        let mut ends = Ends {
            progress: &self.progress,
            job: None,
            stage: Some(plan.stage_id),
            ok: false,
        };
        let mut pending: VecDeque<(u32, u32, Option<String>)> = partitions
            .iter()
            .map(|&p| (p, 0, self.preferred(plan, p)))
            .collect();
        let mut failures: HashMap<u32, u32> = HashMap::new();
        let mut lost_retries = 0u32;
        let mut done = Vec::new();
        let mut fetch_failed: Option<(u32, String)> = None;
        let mut running = FuturesUnordered::new();
        let mut changes = self.registry.subscribe();
        let mut idle_since = Instant::now();
        loop {
            // Launch what can run now.
            let mut waiting_for_locality = false;
            if fetch_failed.is_none() {
                let mut i = 0;
                while i < pending.len() {
                    let (p, attempt, pref) = pending[i].clone();
                    let slot = match &pref {
                        Some(e) if self.registry.alive(e) => match self.registry.take_slot(Some(e))
                        {
                            Some(s) => Some(s),
                            None if started.elapsed() < LOCALITY_WAIT => {
                                waiting_for_locality = true;
                                i += 1;
                                continue;
                            }
                            None => self.registry.take_slot(None),
                        },
                        _ => self.registry.take_slot(None),
                    };
                    let Some(slot) = slot else { break };
                    let inputs = match self.task_inputs(shuffles) {
                        Ok(inputs) => inputs,
                        Err(shuffle_id) => {
                            // A map output vanished (its executor was lost):
                            // end the stage so the caller recomputes it.
                            fetch_failed = Some((shuffle_id, String::new()));
                            break;
                        }
                    };
                    pending.remove(i);
                    let req = TaskRequest {
                        job_id: plan.job_id,
                        stage_id: plan.stage_id,
                        partition: p,
                        attempt,
                        plan: encoded.as_ref().clone(),
                        inputs: codec::encode(&inputs),
                    };
                    self.progress.task_started(plan.stage_id);
                    running.push(launch(slot, req, p, attempt));
                }
            }
            if running.is_empty() && (pending.is_empty() || fetch_failed.is_some()) {
                break;
            }
            if running.is_empty()
                && self.registry.is_empty()
                && idle_since.elapsed() > NO_EXECUTOR_TIMEOUT
            {
                return Err(Error::JobFailed {
                    job: plan.job_id,
                    stage: plan.stage_id,
                    partition: pending.front().map(|t| t.0).unwrap_or(0),
                    message: format!(
                        "no executor registered within {} s",
                        NO_EXECUTOR_TIMEOUT.as_secs()
                    ),
                });
            }
            tokio::select! {
                Some((p, attempt, executor_id, address, outcome)) = running.next() => {
                    idle_since = Instant::now();
                    self.progress.task_ended(
                        plan.stage_id,
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
                            pending.push_back((p, attempt + 1, None));
                        }
                        Ok(TaskOutcome::FetchFailed { shuffle_id, executor_id: from, message }) => {
                            if self.verbose {
                                eprintln!("spindle: stage {} partition {p}: fetch failed: {message}", plan.stage_id);
                            }
                            pending.push_back((p, attempt + 1, None));
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
                            pending.push_back((p, attempt + 1, None));
                        }
                    }
                }
                _ = changes.changed() => {}
                _ = tokio::time::sleep(LOCALITY_WAIT), if waiting_for_locality => {}
                _ = tokio::time::sleep(Duration::from_secs(1)), if running.is_empty() => {}
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
