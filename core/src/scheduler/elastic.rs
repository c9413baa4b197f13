//! Elastic executors, driver side (after Spark's `ExecutorAllocationManager`,
//! without its external shuffle service): the number of executors follows
//! the tasks waiting ([`Ramp`]: 1, 2, 4, ... more per backlog interval, up to
//! what the tasks need; asks withdrawn when the need drops), idle executors
//! are removed, and an executor being removed, idle or preempted, first has
//! its shuffle output copied to an executor that stays, whose address then
//! replaces it in the map output locations, and its cached partitions too
//! ([`super::cached`]); when none stays, both go to the cluster's file
//! system: no stage runs again because of a scale-down, and no
//! NodeManager plugin is needed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use spindle_proto::spindle::{PullShuffleRequest, PushShuffleRequest};

use super::Scheduler;
use crate::backend::{BlocksMoved, DynamicAllocation};
use crate::blocks::FILE_SYSTEM_HOLDER;

/// How often the allocation is reconsidered (Spark's interval).
const TICK: Duration = Duration::from_millis(100);
/// How long a preempted executor's running tasks may go on before it is
/// migrated anyway: the capacity scheduler kills its containers
/// `max_wait_before_kill` (15 s by default) after asking, and the move
/// must be done by then.
const PREEMPTION_DRAIN: Duration = Duration::from_secs(3);
/// How long copying one shuffle's blocks (or one share of a dataset's
/// cached partitions) off an executor may take.
pub(super) const MIGRATION_TIMEOUT: Duration = Duration::from_secs(120);

/// Why an executor is removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Removal {
    /// Dynamic allocation: no task ran there for the idle timeout.
    Idle,
    /// The cluster asked for its resources back.
    Preempted,
    /// Its node is being decommissioned (the RM's `updated_nodes`).
    Decommissioning,
}

impl Removal {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Removal::Idle => "idle",
            Removal::Preempted => "preempted",
            Removal::Decommissioning => "decommissioning",
        }
    }
}

/// The target number of executors over time: raised exponentially while
/// tasks wait, lowered at once to what the tasks need.
#[derive(Debug)]
pub(crate) struct Ramp {
    conf: DynamicAllocation,
    pub target: u32,
    /// When more executors are asked for next, while tasks wait.
    add_at: Option<Instant>,
    to_add: u32,
    /// Until the first task or idle timeout the initial count stands.
    initializing: bool,
}

impl Ramp {
    pub(crate) fn new(conf: DynamicAllocation) -> Ramp {
        let target = conf
            .initial_executors
            .clamp(conf.min_executors, conf.max_executors);
        Ramp {
            conf,
            target,
            add_at: None,
            to_add: 1,
            initializing: true,
        }
    }

    /// The new target given `waiting` and `running` tasks, `cores` task slots
    /// per executor; returns how many executors were added for the backlog.
    pub(crate) fn update(&mut self, now: Instant, waiting: u32, running: u32, cores: u32) -> u32 {
        if waiting + running > 0 {
            self.initializing = false;
        }
        let needed = (waiting + running).div_ceil(cores.max(1));
        if needed < self.target && !self.initializing {
            // Asks above the need are withdrawn.
            self.target = needed.clamp(self.conf.min_executors, self.conf.max_executors);
        }
        if waiting == 0 {
            self.add_at = None;
            self.to_add = 1;
            return 0;
        }
        let at = *self.add_at.get_or_insert(now + self.conf.backlog_timeout);
        if now < at {
            return 0;
        }
        let before = self.target;
        let ceiling = needed.min(self.conf.max_executors);
        self.target = (self.target + self.to_add).min(ceiling).max(self.target);
        let added = self.target - before;
        // Doubling while the need is not met; start over once it is.
        self.to_add = if added == self.to_add && added > 0 {
            self.to_add * 2
        } else {
            1
        };
        self.add_at = Some(now + self.conf.sustained_backlog_timeout);
        added
    }

    /// An idle timeout passed: the initial count no longer stands.
    pub(crate) fn idle_timed_out(&mut self) {
        self.initializing = false;
    }
}

impl Scheduler {
    /// Waiting and running tasks over every running stage.
    fn tasks(&self) -> (u32, u32) {
        self.backlog
            .lock()
            .expect("backlog")
            .values()
            .fold((0, 0), |(w, r), (pw, pr)| (w + pw, r + pr))
    }

    /// What dynamic allocation and preemption did so far.
    pub(crate) fn elastic_stats(&self) -> crate::backend::ElasticStats {
        let mut s = self.elastic.lock().expect("elastic").clone();
        s.registered = self.registry.registered_total();
        s
    }

    /// The executors that take tasks, but `id`, in order.
    pub(super) fn staying(&self, id: &str) -> Vec<String> {
        let mut staying: Vec<String> = self
            .registry
            .active()
            .into_iter()
            .map(|(e, _)| e)
            .filter(|e| e != id)
            .collect();
        staying.sort();
        staying
    }

    /// Dynamic allocation: every [`TICK`], the target follows the backlog,
    /// and executors idle past their timeout are removed. Runs as long as
    /// the driver.
    pub(crate) async fn run_allocation(self: Arc<Self>, conf: DynamicAllocation, cores: u32) {
        let mut ramp = Ramp::new(conf.clone());
        let mut told = None;
        let started = Instant::now();
        loop {
            let Some(backend) = self.backend.lock().expect("backend").clone() else {
                return;
            };
            let (waiting, running) = self.tasks();
            let now = Instant::now();
            let added = ramp.update(now, waiting, running, cores);
            if now.duration_since(started) > conf.idle_timeout {
                ramp.idle_timed_out();
            }
            let active = self.registry.active();
            // Idle executors past their timeout, longest idle first, while
            // more than the target remain.
            let mut idle: Vec<(String, Duration)> = active
                .iter()
                .filter_map(|(id, since)| since.map(|s| (id.clone(), now.duration_since(s))))
                .filter(|(id, idle)| {
                    let limit = if self.caches(id) {
                        conf.cached_idle_timeout
                    } else {
                        Some(conf.idle_timeout)
                    };
                    limit.is_some_and(|l| *idle >= l)
                })
                .collect();
            idle.sort_by_key(|e| std::cmp::Reverse(e.1));
            // Blocks can go to the cluster's file system when none stays.
            let fallback = backend.shuffle_fallback_dir().is_some();
            let floor = ramp.target.max(conf.min_executors);
            let mut remaining = active.len() as u32;
            let mut removing = Vec::new();
            for (id, _) in idle {
                if remaining <= floor {
                    break;
                }
                // Without a file system to move them to, the last executor
                // keeps the shuffle output it holds.
                if remaining == 1 && !fallback && !self.outputs_on(&id).is_empty() {
                    break;
                }
                remaining -= 1;
                removing.push(id);
            }
            if added > 0 {
                self.elastic.lock().expect("elastic").requested_for_backlog += added;
                if self.verbose {
                    tracing::info!(
                        "{waiting} tasks waiting: asking for {added} more executors (target {})",
                        ramp.target
                    );
                }
            }
            self.elastic.lock().expect("elastic").target = ramp.target;
            if told != Some(ramp.target) {
                backend.request_total_executors(ramp.target);
                told = Some(ramp.target);
            }
            for id in removing {
                if self.registry.start_draining(&id) {
                    let sched = self.clone();
                    tokio::spawn(async move { sched.remove_executor(&id, Removal::Idle).await });
                }
            }
            drop(backend);
            tokio::time::sleep(TICK).await;
        }
    }

    /// The cluster wants `id`'s resources back (YARN preemption, a node
    /// decommissioning): no new tasks there, its shuffle output moved, then
    /// given back.
    pub(crate) async fn preempt_executor(self: Arc<Self>, id: String, why: Removal) {
        if self.registry.start_draining(&id) {
            tracing::info!(
                "executor {id} is to be given back ({}): moving its shuffle output and cached partitions",
                why.as_str()
            );
            self.remove_executor(&id, why).await;
        }
    }

    /// Removes a draining executor: waits for its tasks (a preempted one
    /// only so long), moves its map outputs and cached partitions to
    /// executors that stay, forgets it, and has the backend give it back.
    async fn remove_executor(&self, id: &str, why: Removal) {
        let deadline = Instant::now() + PREEMPTION_DRAIN;
        // A decommissioning node waits for running work (graceful
        // decommissioning's timeout is the operator's, minutes by default).
        while self.registry.busy(id) && (why != Removal::Preempted || Instant::now() < deadline) {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // A task that just ended has its output recorded a moment later.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let (blocks, bytes, lost) = self.migrate_outputs(id).await;
        let cached = self.migrate_cached(id).await;
        if !self.registry.remove(id) {
            return; // lost meanwhile: the loss path dealt with it
        }
        self.cache_locations
            .lock()
            .expect("cache locations")
            .retain(|_, e| e != id);
        {
            let mut st = self.elastic.lock().expect("elastic");
            match why {
                Removal::Idle => st.removed_idle += 1,
                Removal::Preempted => st.removed_preempted += 1,
                Removal::Decommissioning => st.removed_decommissioning += 1,
            }
            st.blocks_migrated += blocks;
            st.bytes_migrated += bytes;
            st.outputs_lost += lost;
            st.cached_blocks_migrated += cached.blocks;
            st.cached_bytes_migrated += cached.bytes;
            st.cached_blocks_lost += cached.lost;
        }
        if lost > 0 {
            // Forget what could not move, so it is recomputed when needed.
            for statuses in self.map_outputs.lock().expect("map outputs").values_mut() {
                super::dag::forget_outputs(statuses, id);
            }
        }
        tracing::info!(
            "executor {id} removed ({}): {blocks} shuffle blocks ({bytes} bytes) and {} cached partitions ({} bytes) moved to executors that stay or the cluster's file system ({} cached partitions there){}{}",
            why.as_str(),
            cached.blocks,
            cached.bytes,
            cached.to_file_system,
            if lost > 0 {
                format!(", {lost} map outputs could not move")
            } else {
                String::new()
            },
            if cached.lost > 0 {
                format!(", {} cached partitions could not move", cached.lost)
            } else {
                String::new()
            }
        );
        let backend = self.backend.lock().expect("backend").clone();
        if let Some(b) = backend {
            let moved = BlocksMoved {
                shuffle: blocks,
                cached: cached.blocks,
            };
            b.release_executor(id, why.as_str(), moved);
        }
    }

    /// Copies every map output `id` holds to executors that stay (spread
    /// over them by shuffle) and points the locations at the copies. Returns
    /// (blocks, bytes, map outputs that could not move).
    async fn migrate_outputs(&self, id: &str) -> (u64, u64, u64) {
        let held = self.outputs_on(id);
        let (mut blocks, mut bytes, mut lost) = (0, 0, 0);
        if held.is_empty() {
            return (0, 0, 0);
        }
        let Some((from, _)) = self.registry.endpoint(id) else {
            return (0, 0, held.iter().map(|h| h.2.len() as u64).sum());
        };
        let fallback = self
            .backend
            .lock()
            .expect("backend")
            .as_ref()
            .and_then(|b| b.shuffle_fallback_dir());
        let staying = self.staying(id);
        for (i, (shuffle_id, reducers, maps)) in held.into_iter().enumerate() {
            let mut moved = false;
            // Try each staying executor once, starting with this shuffle's turn.
            for k in 0..staying.len() {
                let to = &staying[(i + k) % staying.len()];
                let Some((address, mut client)) = self.registry.endpoint(to) else {
                    continue;
                };
                let req = PullShuffleRequest {
                    from_address: from.clone(),
                    shuffle_id,
                    map_ids: maps.clone(),
                    reducers,
                };
                match tokio::time::timeout(MIGRATION_TIMEOUT, client.pull_shuffle(req)).await {
                    Ok(Ok(reply)) => {
                        let r = reply.into_inner();
                        blocks += r.blocks;
                        bytes += r.bytes;
                        self.move_outputs(shuffle_id, &maps, id, to, &address);
                        moved = true;
                        break;
                    }
                    Ok(Err(s)) => tracing::info!(
                        "moving shuffle {shuffle_id} from executor {id} to {to}: {}",
                        s.message()
                    ),
                    Err(_) => tracing::warn!(
                        "moving shuffle {shuffle_id} from executor {id} to {to}: timed out"
                    ),
                }
            }
            if !moved && let Some(dir) = fallback.as_deref() {
                // No executor stays (or none took them): the cluster's file system.
                if let Some((b, n)) = self
                    .push_outputs(id, shuffle_id, &maps, reducers, dir)
                    .await
                {
                    blocks += b;
                    bytes += n;
                    self.move_outputs(shuffle_id, &maps, id, FILE_SYSTEM_HOLDER, dir);
                    moved = true;
                }
            }
            if !moved {
                lost += maps.len() as u64;
            }
        }
        (blocks, bytes, lost)
    }

    /// Has `id` copy its blocks of `maps` into `dir`; (blocks, bytes) once done.
    async fn push_outputs(
        &self,
        id: &str,
        shuffle_id: u32,
        maps: &[u32],
        reducers: u32,
        dir: &str,
    ) -> Option<(u64, u64)> {
        let (_, mut client) = self.registry.endpoint(id)?;
        let req = PushShuffleRequest {
            shuffle_id,
            map_ids: maps.to_vec(),
            reducers,
            dir: dir.to_string(),
        };
        match tokio::time::timeout(MIGRATION_TIMEOUT, client.push_shuffle(req)).await {
            Ok(Ok(reply)) => {
                let r = reply.into_inner();
                tracing::info!(
                    "shuffle {shuffle_id}: {} blocks of executor {id} copied to {dir}",
                    r.blocks
                );
                Some((r.blocks, r.bytes))
            }
            Ok(Err(s)) => {
                tracing::warn!(
                    "copying shuffle {shuffle_id} from executor {id} to {dir}: {}",
                    s.message()
                );
                None
            }
            Err(_) => {
                tracing::warn!(
                    "copying shuffle {shuffle_id} from executor {id} to {dir}: timed out"
                );
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conf(min: u32, max: u32, initial: u32) -> DynamicAllocation {
        DynamicAllocation {
            min_executors: min,
            max_executors: max,
            initial_executors: initial,
            idle_timeout: Duration::from_secs(60),
            cached_idle_timeout: None,
            backlog_timeout: Duration::from_secs(1),
            sustained_backlog_timeout: Duration::from_secs(1),
        }
    }

    #[test]
    fn the_target_ramps_up_exponentially_while_tasks_wait_up_to_their_need() {
        let t0 = Instant::now();
        let s = Duration::from_secs(1);
        let mut r = Ramp::new(conf(0, 100, 1));
        assert_eq!(r.target, 1);
        // 40 tasks waiting on 1-core executors: nothing before the backlog timeout.
        assert_eq!(r.update(t0, 40, 0, 1), 0);
        assert_eq!(r.update(t0 + s / 2, 40, 0, 1), 0);
        let mut targets = Vec::new();
        for k in 1..=7 {
            r.update(t0 + s * k, 40, 0, 1);
            targets.push(r.target);
        }
        assert_eq!(targets, [2, 4, 8, 16, 32, 40, 40]);
        // The need drops: asks above it are withdrawn at once.
        r.update(t0 + s * 8, 0, 6, 2);
        assert_eq!(r.target, 3);
        r.update(t0 + s * 9, 0, 0, 2);
        assert_eq!(r.target, 0);
    }

    #[test]
    fn bounds_and_the_initial_count_hold() {
        let t0 = Instant::now();
        let s = Duration::from_secs(1);
        let mut r = Ramp::new(conf(2, 5, 3));
        // The initial count stands while nothing ran yet.
        r.update(t0, 0, 0, 1);
        assert_eq!(r.target, 3);
        for k in 1..10 {
            r.update(t0 + s * k, 100, 0, 1);
        }
        assert_eq!(r.target, 5, "never above maxExecutors");
        r.update(t0 + s * 11, 0, 0, 1);
        assert_eq!(r.target, 2, "never below minExecutors");
        let mut idle = Ramp::new(conf(0, 5, 4));
        idle.idle_timed_out();
        idle.update(t0, 0, 0, 1);
        assert_eq!(idle.target, 0, "an idle timeout ends the initial count");
    }

    #[test]
    fn a_cleared_backlog_starts_the_ramp_over() {
        let t0 = Instant::now();
        let s = Duration::from_secs(1);
        let mut r = Ramp::new(conf(0, 100, 0));
        r.update(t0, 50, 0, 1);
        r.update(t0 + s, 50, 0, 1);
        r.update(t0 + s * 2, 50, 0, 1);
        assert_eq!(r.target, 3);
        r.update(t0 + s * 3, 0, 3, 1);
        r.update(t0 + s * 4, 50, 3, 1);
        assert_eq!(r.target, 3, "a new backlog waits its timeout again");
        assert_eq!(r.update(t0 + s * 5, 50, 3, 1), 1);
        assert_eq!(r.target, 4);
    }
}
