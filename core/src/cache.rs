//! The executor's block manager: cached partitions kept in memory within a
//! budget (least recently used evicted first) or on local disk.

use std::any::Any;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

/// Where `persist` keeps a dataset's partitions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StorageLevel {
    /// Deserialized in executor memory; evicted partitions are recomputed.
    MemoryOnly,
    /// In memory; evicted partitions are written to local disk.
    MemoryAndDisk,
    /// Serialized and compressed on local disk.
    DiskOnly,
}

/// (node id, partition)
pub type BlockKey = (u32, u32);

type SpillFn = fn(&(dyn Any + Send + Sync)) -> Vec<u8>;

struct Entry {
    value: Arc<dyn Any + Send + Sync>,
    size: usize,
    last_used: u64,
    spill: Option<SpillFn>,
}

#[derive(Default)]
struct Inner {
    memory: HashMap<BlockKey, Entry>,
    used: usize,
    clock: u64,
}

/// Cached partitions of one executor.
pub struct BlockCache {
    inner: Mutex<Inner>,
    budget: usize,
    dir: PathBuf,
}

impl BlockCache {
    /// A cache holding at most `budget` bytes in memory, spilling under `dir`.
    pub fn new(budget: usize, dir: PathBuf) -> Self {
        BlockCache {
            inner: Mutex::new(Inner::default()),
            budget,
            dir,
        }
    }

    fn disk_path(&self, key: BlockKey) -> PathBuf {
        self.dir.join(format!("cache_{}_{}.lz4", key.0, key.1))
    }

    /// A partition kept in memory.
    pub fn get_memory(&self, key: BlockKey) -> Option<Arc<dyn Any + Send + Sync>> {
        let mut inner = self.inner.lock().expect("cache lock");
        inner.clock += 1;
        let now = inner.clock;
        let e = inner.memory.get_mut(&key)?;
        e.last_used = now;
        Some(e.value.clone())
    }

    /// The bytes of a partition kept on disk.
    pub fn get_disk(&self, key: BlockKey) -> Option<Vec<u8>> {
        std::fs::read(self.disk_path(key)).ok()
    }

    /// Keeps a partition in memory, evicting older ones to make room; returns
    /// false when it is larger than the whole budget (and so not kept).
    pub fn put_memory(
        &self,
        key: BlockKey,
        value: Arc<dyn Any + Send + Sync>,
        size: usize,
        spill: Option<SpillFn>,
    ) -> bool {
        if size > self.budget {
            if let Some(spill) = spill {
                self.put_disk(key, &spill(value.as_ref()));
                return true;
            }
            return false;
        }
        let mut evicted = Vec::new();
        {
            let mut inner = self.inner.lock().expect("cache lock");
            while inner.used + size > self.budget {
                let Some(victim) = inner
                    .memory
                    .iter()
                    .min_by_key(|(_, e)| e.last_used)
                    .map(|(k, _)| *k)
                else {
                    break;
                };
                let e = inner.memory.remove(&victim).expect("victim present");
                inner.used -= e.size;
                evicted.push((victim, e));
            }
            inner.clock += 1;
            let last_used = inner.clock;
            if let Some(old) = inner.memory.insert(
                key,
                Entry {
                    value,
                    size,
                    last_used,
                    spill,
                },
            ) {
                inner.used -= old.size;
            }
            inner.used += size;
        }
        for (k, e) in evicted {
            if let Some(spill) = e.spill {
                self.put_disk(k, &spill(e.value.as_ref()));
            }
        }
        true
    }

    /// Writes a partition's bytes to local disk.
    pub fn put_disk(&self, key: BlockKey, bytes: &[u8]) {
        let path = self.disk_path(key);
        let tmp = path.with_extension("tmp");
        // A cache that cannot be written is only a missed optimisation: the
        // partition is recomputed from lineage when next needed.
        let written = crate::scratch::create_file(&tmp).and_then(|mut f| {
            use std::io::Write;
            f.write_all(bytes)
        });
        if written.is_ok() {
            let _ = std::fs::rename(&tmp, &path);
        }
    }

    /// Bytes held in memory now.
    pub fn memory_used(&self) -> usize {
        self.inner.lock().expect("cache lock").used
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spill_u64s(v: &(dyn Any + Send + Sync)) -> Vec<u8> {
        crate::codec::encode(v.downcast_ref::<Vec<u64>>().unwrap())
    }

    #[test]
    fn evicts_least_recently_used_within_budget() {
        let dir = tempfile::tempdir().unwrap();
        let c = BlockCache::new(100, dir.path().to_path_buf());
        assert!(c.put_memory((1, 0), Arc::new(vec![1u64]), 40, None));
        assert!(c.put_memory((1, 1), Arc::new(vec![2u64]), 40, None));
        assert!(c.get_memory((1, 0)).is_some()); // (1,1) is now the oldest
        assert!(c.put_memory((1, 2), Arc::new(vec![3u64]), 40, None));
        assert!(c.get_memory((1, 1)).is_none());
        assert!(c.get_memory((1, 0)).is_some());
        assert_eq!(c.memory_used(), 80);
        assert!(!c.put_memory((1, 3), Arc::new(vec![4u64]), 1000, None));
    }

    #[test]
    fn memory_and_disk_spills_evicted_partitions() {
        let dir = tempfile::tempdir().unwrap();
        let c = BlockCache::new(50, dir.path().to_path_buf());
        c.put_memory((2, 0), Arc::new(vec![7u64, 8]), 40, Some(spill_u64s));
        c.put_memory((2, 1), Arc::new(vec![9u64]), 40, Some(spill_u64s));
        assert!(c.get_memory((2, 0)).is_none());
        let bytes = c.get_disk((2, 0)).expect("spilled to disk");
        assert_eq!(
            crate::codec::decode::<Vec<u64>>(&bytes, "t").unwrap(),
            vec![7, 8]
        );
    }
}
