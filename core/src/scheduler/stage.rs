//! The task scheduler: runs one stage's tasks on free executor slots, as
//! local as delay scheduling allows, retries failed tasks, and ends the stage
//! early when a shuffle input could not be fetched or the job was cancelled.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use spindle_proto::spindle::TaskRequest;

use super::locality::{Delay, Prefs, place};
use super::{Ends, Scheduler};
use crate::codec;
use crate::driver_rpc::Slot;
use crate::graph::ShuffleDef;
use crate::plan::{StagePlan, TaskOutcome, TaskValue};
use crate::{Error, Result};

/// Attempts of a task before its job fails (Spark's default).
pub(super) const MAX_TASK_ATTEMPTS: u32 = 4;
/// How long a job waits for its first executor.
const NO_EXECUTOR_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a cancelled stage waits for its running tasks to stop before it
/// abandons them.
const CANCEL_GRACE: Duration = Duration::from_secs(5);

/// A task that succeeded.
pub(super) struct Finished {
    pub partition: u32,
    pub executor_id: String,
    /// Where the executor serves its shuffle output.
    pub address: String,
    pub value: TaskValue,
    /// Accumulator updates, merged by the caller if this partition counts.
    pub accumulators: Vec<(u64, Vec<u8>)>,
}

/// How a stage ended: the tasks that finished and, when it was cut short
/// because a shuffle input could not be fetched, (shuffle id, executor id):
/// the caller then reruns that shuffle's missing map tasks and this stage.
pub(super) struct StageEnd {
    pub done: Vec<Finished>,
    pub fetch_failed: Option<(u32, String)>,
}

/// One task waiting for a slot.
struct Pending {
    partition: u32,
    attempt: u32,
    prefs: Prefs,
}

impl Scheduler {
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

    /// Runs one task per partition on the executors, with retries. The map
    /// outputs of a shuffle's stage (`map_of`) are recorded as tasks end.
    pub(super) async fn run_stage(
        self: &Arc<Self>,
        plan: &StagePlan,
        shuffles: &[Arc<ShuffleDef>],
        partitions: Vec<u32>,
        map_of: Option<&ShuffleDef>,
    ) -> Result<StageEnd> {
        let encoded = Arc::new(codec::encode(plan));
        // Task inputs add a few bytes per map output; the plan must leave room for them.
        if encoded.len() > crate::net::MAX_MESSAGE / 2 {
            return Err(Error::JobFailed {
                job: plan.job_id,
                stage: plan.stage_id,
                partition: 0,
                message: format!(
                    "the stage's plan takes {} bytes, over half the limit of {} for one message (pass large parameters as a broadcast value or a dataset)",
                    encoded.len(),
                    crate::net::MAX_MESSAGE
                ),
            });
        }
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
        let _backlog = Backlog {
            sched: self,
            stage: plan.stage_id,
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
                        let mut inputs = match self.task_inputs(shuffles) {
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
                        inputs.cached_files = self.cached_files(plan, p);
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
            self.backlog.lock().expect("backlog").insert(
                plan.stage_id,
                ((local.len() + plain.len()) as u32, running.len() as u32),
            );
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
                        Ok(TaskOutcome::Success { value, cached, read_back, accumulators, .. }) => {
                            if !cached.is_empty() {
                                self.note_cached(cached, &executor_id);
                            }
                            if !read_back.is_empty() {
                                self.note_read_back(read_back, &executor_id);
                            }
                            let f = Finished {
                                partition: p,
                                executor_id,
                                address,
                                value,
                                accumulators,
                            };
                            match map_of {
                                Some(s) => self.record_map_outputs(s, vec![f]),
                                None => done.push(f),
                            }
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
                                tracing::warn!("stage {} partition {p} attempt {attempt} failed: {message}", plan.stage_id);
                            }
                            retry(p, attempt, &mut local, &mut plain);
                        }
                        Ok(TaskOutcome::FetchFailed { shuffle_id, executor_id: from, message }) => {
                            if self.verbose {
                                tracing::warn!("stage {} partition {p}: fetch failed: {message}", plan.stage_id);
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
        Ok(StageEnd { done, fetch_failed })
    }
}

/// Takes a stage's tasks out of the backlog however the stage ends.
struct Backlog<'a> {
    sched: &'a Scheduler,
    stage: u32,
}

impl Drop for Backlog<'_> {
    fn drop(&mut self) {
        self.sched
            .backlog
            .lock()
            .expect("backlog")
            .remove(&self.stage);
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
    let outcome = tokio::select! {
        r = client.run_task(req) => match r {
            Ok(reply) => codec::decode::<TaskOutcome>(&reply.into_inner().outcome, "task outcome")
                .map_err(|e| tonic::Status::data_loss(e.to_string())),
            Err(status) => Err(status),
        },
        () = slot.lost() => Err(tonic::Status::unavailable(format!(
            "executor {} was lost while running the task",
            slot.executor_id
        ))),
    };
    (
        p,
        attempt,
        slot.executor_id.clone(),
        slot.address.clone(),
        outcome,
    )
}
