//! The DAG scheduler: an action's lineage split into stages at shuffles,
//! parent stages run first for map outputs that are missing (never computed,
//! or lost with their executor), and a stage resubmitted when its shuffle
//! input could not be fetched.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use super::stage::Finished;
use super::{Ends, JobState, Running, Scheduler};
use crate::entry::SinkRef;
use crate::graph::{Dep, NodeDef, ShuffleDef};
use crate::plan::{BlockSource, NodeSpec, Parent, ShuffleInput, StagePlan, TaskInputs, TaskValue};
use crate::{Error, Result};

/// Resubmissions of a stage after fetch failures before its job fails.
const MAX_STAGE_ATTEMPTS: u32 = 4;

/// `ensure_shuffle` calls itself for parent shuffles, so its future is boxed.
type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where one map task's output is.
#[derive(Clone)]
pub(super) struct MapStatus {
    executor_id: String,
    address: String,
}

/// Forgets the outputs in one shuffle's statuses that `executor_id` held.
pub(super) fn forget_outputs(statuses: &mut [Option<MapStatus>], executor_id: &str) {
    for s in statuses.iter_mut() {
        if s.as_ref().is_some_and(|m| m.executor_id == executor_id) {
            *s = None;
        }
    }
}

impl Scheduler {
    /// Forgets the outputs of one shuffle held by `executor_id` (none when
    /// the id is empty: the output vanished with an executor already lost).
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
            forget_outputs(statuses, executor_id);
        }
    }

    /// After a fetch failure: forgets the unreachable executor's outputs of
    /// that shuffle (so they are recomputed) and counts one more attempt of
    /// the stage; the job fails once there were too many.
    fn resubmit_after_fetch_failure(
        &self,
        plan: &StagePlan,
        shuffle_id: u32,
        executor_id: &str,
        attempts: &mut u32,
    ) -> Result<()> {
        self.forget_outputs_of(shuffle_id, executor_id);
        *attempts += 1;
        if *attempts >= MAX_STAGE_ATTEMPTS {
            return Err(Error::JobFailed {
                job: plan.job_id,
                stage: plan.stage_id,
                partition: 0,
                message: format!(
                    "shuffle {shuffle_id} could not be fetched after {attempts} stage attempts"
                ),
            });
        }
        Ok(())
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
        let mut seen = HashSet::new();
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
            // An unpersisted cached node passes its parent's records through.
            let params = if n.name == "cached" && self.is_unpersisted(n.id) {
                crate::codec::encode(&None::<crate::cache::StorageLevel>)
            } else {
                n.params.clone()
            };
            nodes.push(NodeSpec {
                id: n.id,
                name: n.name.to_string(),
                compute: n.compute,
                params,
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
    pub(super) fn task_inputs(
        &self,
        shuffles: &[Arc<ShuffleDef>],
    ) -> std::result::Result<TaskInputs, u32> {
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

    /// Counts the map tasks about to run again for output computed before.
    fn count_recomputed(&self, s: &ShuffleDef, missing: &[u32]) {
        let counted = self.counted_maps.lock().expect("counted maps");
        let again = missing
            .iter()
            .filter(|m| counted.contains(&(s.id, **m)))
            .count() as u64;
        drop(counted);
        if again > 0 {
            self.elastic.lock().expect("elastic").maps_recomputed += again;
        }
    }

    /// Where `executor_id` is named, from now on `to` (at `address`) holds
    /// the map outputs `map_ids` of shuffle `shuffle_id`; returns how many moved.
    pub(super) fn move_outputs(
        &self,
        shuffle_id: u32,
        map_ids: &[u32],
        executor_id: &str,
        to: &str,
        address: &str,
    ) -> u64 {
        let mut outputs = self.map_outputs.lock().expect("map outputs");
        let Some(statuses) = outputs.get_mut(&shuffle_id) else {
            return 0;
        };
        let mut moved = 0;
        for m in map_ids {
            if let Some(Some(st)) = statuses.get_mut(*m as usize)
                && st.executor_id == executor_id
            {
                *st = MapStatus {
                    executor_id: to.to_string(),
                    address: address.to_string(),
                };
                moved += 1;
            }
        }
        moved
    }

    /// The map outputs `executor_id` holds: (shuffle, reducers, map ids).
    pub(super) fn outputs_on(&self, executor_id: &str) -> Vec<(u32, u32, Vec<u32>)> {
        let outputs = self.map_outputs.lock().expect("map outputs");
        let reducers = self.reducers.lock().expect("reducers");
        let mut held = Vec::new();
        for (shuffle, statuses) in outputs.iter() {
            let maps: Vec<u32> = statuses
                .iter()
                .enumerate()
                .filter(|(_, st)| st.as_ref().is_some_and(|m| m.executor_id == executor_id))
                .map(|(i, _)| i as u32)
                .collect();
            if !maps.is_empty() {
                held.push((*shuffle, reducers.get(shuffle).copied().unwrap_or(0), maps));
            }
        }
        held.sort_unstable_by_key(|h| h.0);
        held
    }

    pub(super) fn record_map_outputs(&self, s: &ShuffleDef, done: Vec<Finished>) {
        self.reducers
            .lock()
            .expect("reducers")
            .insert(s.id, s.reducers);
        let mut outputs = self.map_outputs.lock().expect("map outputs");
        let statuses = outputs
            .entry(s.id)
            .or_insert_with(|| vec![None; s.parent.num_partitions as usize]);
        let mut counted = self.counted_maps.lock().expect("counted maps");
        for f in done {
            // Output of an executor lost in the meantime is not usable.
            if self.registry.alive(&f.executor_id) {
                // A map partition's accumulator updates count once, however
                // often its output is recomputed.
                if counted.insert((s.id, f.partition))
                    && let Err(e) = crate::accumulator::apply(&f.accumulators)
                {
                    tracing::warn!("{e}");
                }
                statuses[f.partition as usize] = Some(MapStatus {
                    executor_id: f.executor_id,
                    address: f.address,
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
                self.count_recomputed(s, &missing);
                // Map outputs are recorded as each task ends, so an executor
                // removed mid-stage has its finished outputs moved with it.
                let end = self
                    .run_stage(&plan, &parents, missing, Some(s.as_ref()))
                    .await?;
                self.record_map_outputs(s, end.done);
                if let Some((shuffle_id, executor_id)) = end.fetch_failed {
                    self.resubmit_after_fetch_failure(
                        &plan,
                        shuffle_id,
                        &executor_id,
                        &mut attempts,
                    )?;
                }
            }
        })
    }

    /// Runs an action: the result stage over `partitions`, after its parents.
    pub(crate) async fn run_job(
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
            let end = self.run_stage(&plan, &parents, missing, None).await?;
            for f in end.done {
                if let TaskValue::Result(b) = f.value
                    && !results.contains_key(&f.partition)
                {
                    // Counted with the result it came with: once per partition.
                    crate::accumulator::apply(&f.accumulators)?;
                    results.insert(f.partition, b);
                }
            }
            if let Some((shuffle_id, executor_id)) = end.fetch_failed {
                self.resubmit_after_fetch_failure(&plan, shuffle_id, &executor_id, &mut attempts)?;
            }
        }
        if self.verbose {
            tracing::info!("job {job_id} ({name}) finished in {:?}", started.elapsed());
        }
        ends.ok = true;
        Ok(partitions
            .iter()
            .map(|p| results.remove(p).unwrap_or_default())
            .collect())
    }
}
