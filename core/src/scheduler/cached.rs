//! Where cached partitions are: recorded as tasks cache them, counted when
//! one is computed again, and moved off an executor before it is released
//! (dynamic allocation, preemption, decommissioning) to executors that stay,
//! so tasks reading them run there instead of recomputing them. When none
//! stays (or none took them), they go to the cluster's file system (under
//! YARN, the application's staging directory), and the task that next reads
//! one there keeps it. Only when that fails too are they forgotten and
//! recomputed from lineage when needed.

use std::collections::BTreeMap;

use spindle_proto::spindle::{PullCachedRequest, PushCachedRequest};

use super::Scheduler;
use super::elastic::MIGRATION_TIMEOUT;
use crate::blocks::FILE_SYSTEM_HOLDER;
use crate::plan::StagePlan;

/// What moving one executor's cached partitions did.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct CachedMoved {
    pub blocks: u64,
    pub bytes: u64,
    /// Of `blocks`, those that went to the cluster's file system.
    pub to_file_system: u64,
    /// Partitions that could not move (forgotten: recomputed when needed).
    pub lost: u64,
}

impl Scheduler {
    /// A task on `executor_id` cached `keys` (node, partition); one cached
    /// before counts as computed again.
    pub(super) fn note_cached(&self, keys: Vec<(u32, u32)>, executor_id: &str) {
        let mut again = 0;
        {
            let mut locs = self.cache_locations.lock().expect("cache locations");
            let mut before = self.cached_before.lock().expect("cached before");
            for key in keys {
                if !before.insert(key) {
                    again += 1;
                }
                locs.insert(key, executor_id.to_string());
            }
        }
        if again > 0 {
            self.elastic.lock().expect("elastic").cached_recomputed += again;
        }
    }

    /// Whether `id` caches partitions.
    pub(super) fn caches(&self, id: &str) -> bool {
        self.cache_locations
            .lock()
            .expect("cache locations")
            .values()
            .any(|e| e == id)
    }

    /// A task on `executor_id` read `keys` back from the cluster's file
    /// system and keeps them: the executor holds them from now on (tasks
    /// reading them prefer it), and they were not computed again.
    pub(super) fn note_read_back(&self, keys: Vec<(u32, u32)>, executor_id: &str) {
        for (node, p) in keys {
            self.move_cached(node, &[p], FILE_SYSTEM_HOLDER, executor_id);
        }
    }

    /// The cached partitions partition `p` of `plan` may read that are kept
    /// in the cluster's file system: (node, partition, file).
    pub(super) fn cached_files(&self, plan: &StagePlan, p: u32) -> Vec<(u32, u32, String)> {
        let in_files: Vec<u32> = {
            let locs = self.cache_locations.lock().expect("cache locations");
            plan.nodes
                .iter()
                .filter(|n| {
                    locs.get(&(n.id, p))
                        .is_some_and(|e| e == FILE_SYSTEM_HOLDER)
                })
                .map(|n| n.id)
                .collect()
        };
        if in_files.is_empty() {
            return Vec::new();
        }
        let Some(dir) = self.cached_fallback_dir() else {
            return Vec::new();
        };
        in_files
            .into_iter()
            .map(|n| (n, p, format!("{dir}/{}", crate::blocks::cached_file(n, p))))
            .collect()
    }

    fn cached_fallback_dir(&self) -> Option<String> {
        self.backend
            .lock()
            .expect("backend")
            .as_ref()
            .and_then(|b| b.cached_fallback_dir())
    }

    /// The partitions `id` caches, by node.
    fn cached_on(&self, id: &str) -> BTreeMap<u32, Vec<u32>> {
        let mut held: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
        for ((node, p), e) in self.cache_locations.lock().expect("cache locations").iter() {
            if e == id {
                held.entry(*node).or_default().push(*p);
            }
        }
        for parts in held.values_mut() {
            parts.sort_unstable();
        }
        held
    }

    /// From now on `to` caches `partitions` of `node` where `from` did.
    fn move_cached(&self, node: u32, partitions: &[u32], from: &str, to: &str) {
        let mut locs = self.cache_locations.lock().expect("cache locations");
        for p in partitions {
            if let Some(e) = locs.get_mut(&(node, *p))
                && e == from
            {
                *e = to.to_string();
            }
        }
    }

    /// Copies the cached partitions `id` keeps to the executors that stay
    /// (each dataset's partitions spread over them), or when none stays (or
    /// none took them) to the cluster's file system, and points the cache
    /// locations at the copies. What could not move keeps naming `id` and
    /// goes when `id` is forgotten.
    pub(super) async fn migrate_cached(&self, id: &str) -> CachedMoved {
        let held = self.cached_on(id);
        let total: u64 = held.values().map(|p| p.len() as u64).sum();
        if total == 0 {
            return CachedMoved::default();
        }
        let mut moved = CachedMoved {
            lost: total,
            ..Default::default()
        };
        let Some(from) = self.registry.endpoint(id).map(|e| e.0) else {
            return moved;
        };
        let staying = self.staying(id);
        let mut left: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
        if staying.is_empty() {
            left = held;
        } else {
            let mut pulls = Vec::new();
            let mut turn = 0;
            for (node, parts) in held {
                for share in shares(&parts, staying.len()) {
                    pulls.push(self.pull_cached(id, &from, node, share, &staying, turn));
                    turn += 1;
                }
            }
            for (node, share, pulled) in futures::future::join_all(pulls).await {
                match pulled {
                    Some((blocks, bytes)) => {
                        moved.blocks += blocks;
                        moved.bytes += bytes;
                    }
                    // No staying executor took them.
                    None => left.entry(node).or_default().extend(share),
                }
            }
        }
        if !left.is_empty() {
            match self.cached_fallback_dir() {
                Some(dir) => {
                    let pushes = left
                        .into_iter()
                        .map(|(node, parts)| self.push_cached(id, node, parts, &dir));
                    for (blocks, bytes) in futures::future::join_all(pushes).await {
                        moved.blocks += blocks;
                        moved.bytes += bytes;
                        moved.to_file_system += blocks;
                    }
                }
                None => tracing::info!(
                    "no executor took the cached partitions of executor {id}: they are recomputed when needed"
                ),
            }
        }
        moved.lost = total - moved.blocks;
        moved
    }

    /// Has `id` copy its `partitions` of `node` into `dir` of the cluster's
    /// file system, and points their locations there; (blocks, bytes) moved.
    async fn push_cached(
        &self,
        id: &str,
        node: u32,
        partitions: Vec<u32>,
        dir: &str,
    ) -> (u64, u64) {
        let Some((_, mut client)) = self.registry.endpoint(id) else {
            return (0, 0);
        };
        let req = PushCachedRequest {
            node_id: node,
            partitions,
            dir: dir.to_string(),
        };
        match tokio::time::timeout(MIGRATION_TIMEOUT, client.push_cached(req)).await {
            Ok(Ok(reply)) => {
                let r = reply.into_inner();
                tracing::info!(
                    "dataset {node}: {} cached partitions of executor {id} copied to {dir}",
                    r.partitions.len()
                );
                self.move_cached(node, &r.partitions, id, FILE_SYSTEM_HOLDER);
                (r.partitions.len() as u64, r.bytes)
            }
            Ok(Err(s)) => {
                tracing::warn!(
                    "copying cached partitions of dataset {node} from executor {id} to {dir}: {}",
                    s.message()
                );
                (0, 0)
            }
            Err(_) => {
                tracing::warn!(
                    "copying cached partitions of dataset {node} from executor {id} to {dir}: timed out"
                );
                (0, 0)
            }
        }
    }

    /// Has a staying executor (`staying[turn]` first, then the next) copy
    /// `partitions` of `node` from `id` at `from`: (node, partitions, and
    /// the (blocks, bytes) moved, None when no executor took them).
    async fn pull_cached(
        &self,
        id: &str,
        from: &str,
        node: u32,
        partitions: Vec<u32>,
        staying: &[String],
        turn: usize,
    ) -> (u32, Vec<u32>, Option<(u64, u64)>) {
        for k in 0..staying.len() {
            let to = &staying[(turn + k) % staying.len()];
            let Some((_, mut client)) = self.registry.endpoint(to) else {
                continue;
            };
            let req = PullCachedRequest {
                from_address: from.to_string(),
                node_id: node,
                partitions: partitions.clone(),
            };
            match tokio::time::timeout(MIGRATION_TIMEOUT, client.pull_cached(req)).await {
                Ok(Ok(reply)) => {
                    // Those it did not copy are no longer kept at `from` (evicted).
                    let r = reply.into_inner();
                    self.move_cached(node, &r.partitions, id, to);
                    let moved = (r.partitions.len() as u64, r.bytes);
                    return (node, partitions, Some(moved));
                }
                Ok(Err(s)) => tracing::info!(
                    "moving cached partitions of dataset {node} from executor {id} to {to}: {}",
                    s.message()
                ),
                Err(_) => tracing::warn!(
                    "moving cached partitions of dataset {node} from executor {id} to {to}: timed out"
                ),
            }
        }
        (node, partitions, None)
    }
}

/// `parts` dealt out into at most `n` shares, one per executor.
fn shares(parts: &[u32], n: usize) -> Vec<Vec<u32>> {
    let n = n.min(parts.len());
    (0..n)
        .map(|k| parts.iter().skip(k).step_by(n).copied().collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver_rpc::Registry;

    /// A backend whose cached partitions go to a staging directory.
    struct Staging;

    impl crate::backend::ClusterBackend for Staging {
        fn request_executors(&self, _: u32) -> crate::Result<()> {
            Ok(())
        }
        fn executor_lost(&self, _: &str) {}
        fn stop(&self) {}
        fn default_parallelism(&self) -> u32 {
            1
        }
        fn cached_fallback_dir(&self) -> Option<String> {
            Some("hdfs://nn:8020/user/u/.spindle/app_1/cached".into())
        }
    }

    fn plan_of(nodes: &[u32]) -> StagePlan {
        StagePlan {
            job_id: 1,
            stage_id: 0,
            probe: crate::entry::probe(),
            nodes: nodes
                .iter()
                .map(|&id| crate::plan::NodeSpec {
                    id,
                    name: format!("node {id}"),
                    compute: crate::entry::ComputeRef::new(
                        crate::ops::narrow::compute_cached::<u64>,
                    ),
                    params: Vec::new(),
                    parents: Vec::new(),
                    num_partitions: 4,
                })
                .collect(),
            root: nodes[0],
            sink: crate::entry::SinkRef::new(crate::ops::actions::sink_collect::<u64>),
            sink_params: Vec::new(),
        }
    }

    #[test]
    fn partitions_in_the_file_system_are_named_to_tasks_and_follow_their_reader() {
        let s = Scheduler::new(Registry::new());
        s.note_cached(vec![(3, 0), (3, 1), (5, 1)], "1");
        s.move_cached(3, &[0, 1], "1", FILE_SYSTEM_HOLDER);
        s.move_cached(5, &[1], "1", FILE_SYSTEM_HOLDER);
        let plan = plan_of(&[3, 4]);
        // Without a backend that keeps them there is no file to name.
        assert!(s.cached_files(&plan, 0).is_empty());
        s.set_backend(std::sync::Arc::new(Staging));
        let dir = "hdfs://nn:8020/user/u/.spindle/app_1/cached";
        assert_eq!(
            s.cached_files(&plan, 1),
            vec![(3, 1, format!("{dir}/cached_3_1.lz4"))]
        );
        assert!(s.cached_files(&plan, 2).is_empty(), "never cached");
        // Read back by a task on executor 2: held there, not counted as computed again.
        s.note_read_back(vec![(3, 1)], "2");
        assert!(s.cached_files(&plan, 1).is_empty());
        assert_eq!(s.cached_on("2"), BTreeMap::from([(3, vec![1])]));
        assert_eq!(s.elastic_stats().cached_recomputed, 0);
        // A read back that lost a race with another reader does not take it over.
        s.note_read_back(vec![(3, 1)], "3");
        assert!(!s.caches("3"));
        assert_eq!(
            s.cached_files(&plan_of(&[5]), 1),
            vec![(5, 1, format!("{dir}/cached_5_1.lz4"))]
        );
    }

    #[test]
    fn partitions_are_dealt_out_over_the_executors_that_stay() {
        assert_eq!(shares(&[0, 1, 2, 3, 4], 2), vec![vec![0, 2, 4], vec![1, 3]]);
        assert_eq!(shares(&[7], 3), vec![vec![7]]);
        assert!(shares(&[1, 2], 0).is_empty());
    }

    #[test]
    fn a_partition_cached_again_counts_as_recomputed_and_moves_follow_the_holder() {
        let s = Scheduler::new(Registry::new());
        s.note_cached(vec![(3, 0), (3, 1), (5, 0)], "1");
        s.note_cached(vec![(3, 2)], "2");
        assert_eq!(s.elastic_stats().cached_recomputed, 0);
        assert!(s.caches("1") && s.caches("2") && !s.caches("3"));
        assert_eq!(
            s.cached_on("1"),
            BTreeMap::from([(3, vec![0, 1]), (5, vec![0])])
        );
        // Moved: only where "1" still held it.
        s.move_cached(3, &[1, 2], "1", "3");
        assert_eq!(
            s.cached_on("1"),
            BTreeMap::from([(3, vec![0]), (5, vec![0])])
        );
        assert_eq!(s.cached_on("3"), BTreeMap::from([(3, vec![1])]));
        assert_eq!(s.cached_on("2"), BTreeMap::from([(3, vec![2])]));
        // Computed again elsewhere (lost, evicted): counted, and the new holder named.
        s.note_cached(vec![(3, 0), (9, 9)], "2");
        assert_eq!(s.elastic_stats().cached_recomputed, 1);
        assert_eq!(
            s.cached_on("2"),
            BTreeMap::from([(3, vec![0, 2]), (9, vec![9])])
        );
    }
}
