//! Where cached partitions are: recorded as tasks cache them, counted when
//! one is computed again, and moved off an executor before it is released
//! (dynamic allocation, preemption, decommissioning) to executors that stay,
//! so tasks reading them run there instead of recomputing them. When none
//! stays, or a copy fails, the partitions are forgotten and recomputed from
//! lineage when needed.

use std::collections::BTreeMap;

use spindle_proto::spindle::PullCachedRequest;

use super::Scheduler;
use super::elastic::MIGRATION_TIMEOUT;

/// What moving one executor's cached partitions did.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct CachedMoved {
    pub blocks: u64,
    pub bytes: u64,
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
    /// (each dataset's partitions spread over them), and points the cache
    /// locations at the copies. What could not move keeps naming `id` and
    /// goes when `id` is forgotten.
    pub(super) async fn migrate_cached(&self, id: &str) -> CachedMoved {
        let held = self.cached_on(id);
        let total: u64 = held.values().map(|p| p.len() as u64).sum();
        if total == 0 {
            return CachedMoved::default();
        }
        let staying = self.staying(id);
        let from = self.registry.endpoint(id).map(|e| e.0);
        let (Some(from), false) = (from, staying.is_empty()) else {
            tracing::info!(
                "no executor stays to take the {total} cached partitions of executor {id}: they are recomputed when needed"
            );
            return CachedMoved {
                lost: total,
                ..Default::default()
            };
        };
        let mut pulls = Vec::new();
        let mut turn = 0;
        for (node, parts) in held {
            for share in shares(&parts, staying.len()) {
                pulls.push(self.pull_cached(id, &from, node, share, &staying, turn));
                turn += 1;
            }
        }
        let mut moved = CachedMoved::default();
        for (blocks, bytes) in futures::future::join_all(pulls).await {
            moved.blocks += blocks;
            moved.bytes += bytes;
        }
        moved.lost = total - moved.blocks;
        moved
    }

    /// Has a staying executor (`staying[turn]` first, then the next) copy
    /// `partitions` of `node` from `id` at `from`; (blocks, bytes) moved.
    async fn pull_cached(
        &self,
        id: &str,
        from: &str,
        node: u32,
        partitions: Vec<u32>,
        staying: &[String],
        turn: usize,
    ) -> (u64, u64) {
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
                    let r = reply.into_inner();
                    self.move_cached(node, &r.partitions, id, to);
                    return (r.partitions.len() as u64, r.bytes);
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
        (0, 0)
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
