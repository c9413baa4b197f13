//! The driver's scheduler, in three parts:
//! - [`dag`]: the DAG scheduler (stages split at shuffles, missing map
//!   outputs recomputed, stages resubmitted after fetch failures);
//! - [`stage`]: the task scheduler (one stage's tasks on executor slots,
//!   retries, lost executors);
//! - [`locality`]: where tasks would like to run, and delay scheduling.
//!
//! This file holds the shared state: settings, the running jobs and their
//! cancellation, and what is forgotten when an executor is lost.

mod cached;
mod dag;
mod elastic;
mod locality;
mod stage;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU32, AtomicU64};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::backend::ClusterBackend;
use crate::driver_rpc::Registry;
use crate::{Error, Result};

use dag::MapStatus;
pub(crate) use elastic::Removal;
pub(crate) use locality::FreeExecutor;

/// The scheduler of one driver: jobs, stages and tasks, and what it knows of
/// map outputs, cached partitions and input hosts.
pub(crate) struct Scheduler {
    pub registry: Arc<Registry>,
    backend: Mutex<Option<Arc<dyn ClusterBackend>>>,
    /// Each shuffle's map outputs by map partition (None: missing).
    map_outputs: Mutex<HashMap<u32, Vec<Option<MapStatus>>>>,
    /// Each shuffle's number of reducers (blocks per map output).
    reducers: Mutex<HashMap<u32, u32>>,
    /// Running stages' tasks: stage id -> (waiting, running).
    backlog: Mutex<HashMap<u32, (u32, u32)>>,
    /// What dynamic allocation and preemption did.
    elastic: Mutex<crate::backend::ElasticStats>,
    /// (shuffle, map partition) whose accumulator updates were counted.
    counted_maps: Mutex<HashSet<(u32, u32)>>,
    /// The executor caching each (node, partition).
    cache_locations: Mutex<HashMap<(u32, u32), String>>,
    /// Every (node, partition) ever cached, to count recomputations.
    cached_before: Mutex<HashSet<(u32, u32)>>,
    /// Cached nodes that were unpersisted: computed, never kept again.
    unpersisted: Mutex<HashSet<u32>>,
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

/// A running job: its group and, once cancelled, why.
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

impl Scheduler {
    pub(crate) fn new(registry: Arc<Registry>) -> Self {
        Scheduler {
            registry,
            backend: Mutex::new(None),
            map_outputs: Mutex::new(HashMap::new()),
            reducers: Mutex::new(HashMap::new()),
            backlog: Mutex::new(HashMap::new()),
            elastic: Mutex::new(Default::default()),
            counted_maps: Mutex::new(HashSet::new()),
            cache_locations: Mutex::new(HashMap::new()),
            cached_before: Mutex::new(HashSet::new()),
            node_hosts: Mutex::new(HashMap::new()),
            unpersisted: Mutex::new(HashSet::new()),
            locality_wait: Mutex::new(Duration::ZERO),
            jobs: Mutex::new(HashMap::new()),
            cancels: tokio::sync::watch::Sender::new(0),
            next_job: AtomicU64::new(0),
            next_stage: AtomicU32::new(0),
            verbose: spindle_contract::settings::verbose(),
            progress: Default::default(),
        }
    }

    pub(crate) fn set_backend(&self, b: Arc<dyn ClusterBackend>) {
        *self.backend.lock().expect("backend") = Some(b);
    }

    pub(crate) fn set_locality_wait(&self, wait: Duration) {
        *self.locality_wait.lock().expect("locality wait") = wait;
    }

    pub(crate) fn locality_wait(&self) -> Duration {
        *self.locality_wait.lock().expect("locality wait")
    }

    /// Records the hosts holding each partition's input of a source node.
    pub(crate) fn set_node_hosts(&self, node_id: u32, hosts: Vec<Vec<String>>) {
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
    pub(crate) fn running_jobs(&self) -> usize {
        self.jobs.lock().expect("jobs").len()
    }

    /// Cancels every running job.
    pub(crate) fn cancel_all(&self, reason: &str) -> usize {
        self.cancel_where(reason, |_| true)
    }

    /// Cancels the running jobs of a group.
    pub(crate) fn cancel_group(&self, group: &str, reason: &str) -> usize {
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
                    tracing::info!(
                        "telling executor {id} job {job} is cancelled: {}",
                        s.message()
                    );
                }
            });
        }
    }

    /// Stops keeping a cached node's partitions: later stages compute it
    /// without caching, and every executor drops what it holds of it (waits
    /// up to 5 s for each).
    pub(crate) async fn unpersist(&self, node_id: u32) {
        self.unpersisted
            .lock()
            .expect("unpersisted")
            .insert(node_id);
        self.cache_locations
            .lock()
            .expect("cache locations")
            .retain(|(n, _), _| *n != node_id);
        let calls = self
            .registry
            .clients()
            .into_iter()
            .map(|(id, mut client)| async move {
                let r = tokio::time::timeout(
                    Duration::from_secs(5),
                    client.remove_cached(spindle_proto::spindle::RemoveCachedRequest { node_id }),
                )
                .await;
                if let Ok(Err(s)) = r {
                    tracing::info!(
                        "telling executor {id} to drop cached node {node_id}: {}",
                        s.message()
                    );
                }
            });
        futures::future::join_all(calls).await;
    }

    /// Whether a cached node was unpersisted.
    pub(crate) fn is_unpersisted(&self, node_id: u32) -> bool {
        self.unpersisted
            .lock()
            .expect("unpersisted")
            .contains(&node_id)
    }

    /// Forgets an executor and everything it held, and tells the backend.
    pub(crate) fn executor_lost(&self, id: &str, why: &str) {
        if !self.registry.remove(id) {
            return;
        }
        self.progress.executor_removed(id, why);
        tracing::warn!(
            "executor {id} lost ({why}); its shuffle output and cached partitions will be recomputed"
        );
        for statuses in self.map_outputs.lock().expect("map outputs").values_mut() {
            dag::forget_outputs(statuses, id);
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
}
