//! The executor's block manager: cached partitions kept in memory within a
//! budget (least recently used evicted first) or on local disk.
//!
//! A partition on disk is written as the checked frames of shuffle and spill
//! files ([`crate::codec`]: CRC-32C, record counts, an end frame), so a
//! corrupt or truncated file is found when read; it is then removed and the
//! partition recomputed from lineage, like a miss.
//!
//! Partitions also move between executors in that encoding: before an
//! executor is released, a peer that stays copies them ([`BlockCache::block_bytes`]
//! on one side, [`BlockCache::put_moved`] on the other), and a task there
//! finds them on disk whatever the storage level.

use std::any::Any;
use std::collections::HashMap;
use std::io::BufReader;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::Result;
use crate::codec::{FrameStream, FrameWriter};

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

/// Encodes a partition kept in memory as on disk (it knows the record type).
pub type EncodeFn = fn(&(dyn Any + Send + Sync)) -> Vec<u8>;

struct Entry {
    value: Arc<dyn Any + Send + Sync>,
    size: usize,
    last_used: u64,
    encode: EncodeFn,
    /// Written to disk when evicted or shed (`MemoryAndDisk`), else dropped.
    spill: bool,
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

    /// The records of a partition kept on disk, None when there is none. A
    /// file that is damaged or cannot be read is an error and is removed, so
    /// that the partition, recomputed, is written again.
    pub fn get_disk<T: DeserializeOwned>(&self, key: BlockKey) -> Option<Result<Vec<T>>> {
        let path = self.disk_path(key);
        let file = std::fs::File::open(&path).ok()?;
        let mut frames = FrameStream::named(BufReader::new(file), "cached partition");
        let mut records = Vec::new();
        loop {
            match frames.next_batch() {
                Ok(Some(batch)) => records.extend(batch),
                Ok(None) => return Some(Ok(records)),
                Err(e) => {
                    let _ = std::fs::remove_file(&path);
                    return Some(Err(e));
                }
            }
        }
    }

    /// Keeps a partition in memory, evicting older ones to make room (to
    /// disk when they `spill`); returns false when it is larger than the
    /// whole budget and does not spill (and so is not kept).
    pub fn put_memory(
        &self,
        key: BlockKey,
        value: Arc<dyn Any + Send + Sync>,
        size: usize,
        encode: EncodeFn,
        spill: bool,
    ) -> bool {
        if size > self.budget {
            if spill {
                self.put_disk(key, &encode(value.as_ref()));
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
                    encode,
                    spill,
                },
            ) {
                inner.used -= old.size;
            }
            inner.used += size;
        }
        for (k, e) in evicted {
            if e.spill {
                self.put_disk(k, &(e.encode)(e.value.as_ref()));
            }
        }
        true
    }

    /// Writes a partition's bytes to local disk.
    pub fn put_disk(&self, key: BlockKey, bytes: &[u8]) {
        // A cache that cannot be written is only a missed optimisation: the
        // partition is recomputed from lineage when next needed.
        let _ = self.write_disk(key, bytes);
    }

    /// Keeps a partition moved here from a peer (its bytes as on disk),
    /// written aside and renamed into place so no task reads half of it.
    pub fn put_moved(&self, key: BlockKey, bytes: &[u8]) -> Result<()> {
        self.write_disk(key, bytes)
            .map_err(|e| crate::Error::io(format!("writing {}", self.disk_path(key).display()), e))
    }

    fn write_disk(&self, key: BlockKey, bytes: &[u8]) -> std::io::Result<()> {
        let path = self.disk_path(key);
        let tmp = path.with_extension("tmp");
        let mut f = crate::scratch::create_file(&tmp)?;
        std::io::Write::write_all(&mut f, bytes)?;
        drop(f);
        std::fs::rename(&tmp, &path)
    }

    /// Removes a partition's file from disk (it was taken into memory).
    pub fn remove_disk(&self, key: BlockKey) {
        let _ = std::fs::remove_file(self.disk_path(key));
    }

    /// A partition's bytes as kept on disk (checked frames), from memory or
    /// disk, to move it to a peer; None when it is not kept here.
    pub fn block_bytes(&self, key: BlockKey) -> Option<Vec<u8>> {
        let held = {
            let inner = self.inner.lock().expect("cache lock");
            inner.memory.get(&key).map(|e| (e.value.clone(), e.encode))
        };
        match held {
            Some((value, encode)) => Some(encode(value.as_ref())),
            None => std::fs::read(self.disk_path(key)).ok(),
        }
    }

    /// Drops every partition of a node, in memory and on disk (unpersist).
    pub fn remove_node(&self, node: u32) {
        {
            let mut inner = self.inner.lock().expect("cache lock");
            let keys: Vec<BlockKey> = inner
                .memory
                .keys()
                .filter(|k| k.0 == node)
                .copied()
                .collect();
            for k in keys {
                if let Some(e) = inner.memory.remove(&k) {
                    inner.used -= e.size;
                }
            }
        }
        let prefix = format!("cache_{node}_");
        for e in std::fs::read_dir(&self.dir).into_iter().flatten().flatten() {
            if e.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }

    /// Empties memory (the executor is short of it): partitions persisted
    /// with disk go to disk, the others are dropped and recomputed from
    /// lineage when next needed. Returns the bytes let go.
    pub fn shed(&self) -> usize {
        let entries: Vec<(BlockKey, Entry)> = {
            let mut inner = self.inner.lock().expect("cache lock");
            inner.used = 0;
            inner.memory.drain().collect()
        };
        let mut freed = 0;
        for (k, e) in entries {
            freed += e.size;
            if e.spill {
                self.put_disk(k, &(e.encode)(e.value.as_ref()));
            }
        }
        freed
    }

    /// Bytes held in memory now.
    pub fn memory_used(&self) -> usize {
        self.inner.lock().expect("cache lock").used
    }
}

/// A partition's bytes on disk: its records in checked frames.
pub(crate) fn encode_partition<T: Serialize>(records: &[T]) -> Vec<u8> {
    let mut w = FrameWriter::new(Vec::new());
    for r in records {
        w.push(r).expect("writing to memory");
    }
    w.finish().expect("writing to memory").0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spill_u64s(v: &(dyn Any + Send + Sync)) -> Vec<u8> {
        encode_partition(v.downcast_ref::<Vec<u64>>().unwrap())
    }

    #[test]
    fn shedding_empties_memory_and_keeps_disk_levels_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let c = BlockCache::new(1 << 20, dir.path().to_path_buf());
        c.put_memory((1, 0), Arc::new(vec![1u64, 2]), 16, spill_u64s, false);
        c.put_memory((2, 0), Arc::new(vec![3u64, 4]), 16, spill_u64s, true);
        assert_eq!(c.shed(), 32);
        assert_eq!(c.memory_used(), 0);
        assert!(c.get_memory((1, 0)).is_none() && c.get_memory((2, 0)).is_none());
        assert!(c.get_disk::<u64>((1, 0)).is_none(), "memory-only: dropped");
        assert_eq!(c.get_disk::<u64>((2, 0)).unwrap().unwrap(), vec![3, 4]);
    }

    #[test]
    fn evicts_least_recently_used_within_budget() {
        let dir = tempfile::tempdir().unwrap();
        let c = BlockCache::new(100, dir.path().to_path_buf());
        assert!(c.put_memory((1, 0), Arc::new(vec![1u64]), 40, spill_u64s, false));
        assert!(c.put_memory((1, 1), Arc::new(vec![2u64]), 40, spill_u64s, false));
        assert!(c.get_memory((1, 0)).is_some()); // (1,1) is now the oldest
        assert!(c.put_memory((1, 2), Arc::new(vec![3u64]), 40, spill_u64s, false));
        assert!(c.get_memory((1, 1)).is_none());
        assert!(c.get_memory((1, 0)).is_some());
        assert_eq!(c.memory_used(), 80);
        assert!(!c.put_memory((1, 3), Arc::new(vec![4u64]), 1000, spill_u64s, false));
    }

    #[test]
    fn removing_a_node_drops_its_partitions_in_memory_and_on_disk_only() {
        let dir = tempfile::tempdir().unwrap();
        let c = BlockCache::new(100, dir.path().to_path_buf());
        c.put_memory((4, 0), Arc::new(vec![1u64]), 30, spill_u64s, false);
        c.put_memory((14, 0), Arc::new(vec![2u64]), 30, spill_u64s, false);
        c.put_disk((4, 1), &encode_partition(&[3u64]));
        c.put_disk((14, 1), &encode_partition(&[4u64]));
        c.remove_node(4);
        assert!(c.get_memory((4, 0)).is_none());
        assert!(c.get_disk::<u64>((4, 1)).is_none());
        assert_eq!(c.memory_used(), 30);
        assert!(c.get_memory((14, 0)).is_some());
        assert_eq!(c.get_disk::<u64>((14, 1)).unwrap().unwrap(), vec![4]);
    }

    #[test]
    fn partitions_move_between_executors_in_their_disk_encoding() {
        let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (a, b) = (
            BlockCache::new(1 << 20, da.path().to_path_buf()),
            BlockCache::new(1 << 20, db.path().to_path_buf()),
        );
        // Memory-only (encoded on the way out) and on disk (sent as is).
        a.put_memory((5, 0), Arc::new(vec![1u64, 2, 3]), 24, spill_u64s, false);
        a.put_disk((5, 1), &encode_partition(&[4u64]));
        assert!(a.block_bytes((5, 2)).is_none(), "not kept here");
        for p in [0, 1] {
            let bytes = a.block_bytes((5, p)).unwrap();
            b.put_moved((5, p), &bytes).unwrap();
        }
        assert_eq!(b.get_disk::<u64>((5, 0)).unwrap().unwrap(), vec![1, 2, 3]);
        assert_eq!(b.get_disk::<u64>((5, 1)).unwrap().unwrap(), vec![4]);
        assert_eq!(b.memory_used(), 0, "moved partitions land on disk");
        // Taken into memory by a task, the file goes; unpersist drops moved ones too.
        b.remove_disk((5, 0));
        assert!(b.get_disk::<u64>((5, 0)).is_none());
        b.remove_node(5);
        assert!(b.get_disk::<u64>((5, 1)).is_none());
        // A cache dir that cannot be written says so (the driver then forgets the partition).
        let gone = BlockCache::new(0, da.path().join("missing"));
        let e = gone.put_moved((5, 0), &[1]).unwrap_err().to_string();
        assert!(e.contains("missing/cache_5_0.lz4"), "{e}");
    }

    #[test]
    fn memory_and_disk_spills_evicted_partitions() {
        let dir = tempfile::tempdir().unwrap();
        let c = BlockCache::new(50, dir.path().to_path_buf());
        c.put_memory((2, 0), Arc::new(vec![7u64, 8]), 40, spill_u64s, true);
        c.put_memory((2, 1), Arc::new(vec![9u64]), 40, spill_u64s, true);
        assert!(c.get_memory((2, 0)).is_none());
        let back: Vec<u64> = c.get_disk((2, 0)).expect("spilled to disk").unwrap();
        assert_eq!(back, vec![7, 8]);
    }

    #[test]
    fn a_damaged_file_on_disk_is_an_error_and_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        let c = BlockCache::new(0, dir.path().to_path_buf());
        let records: Vec<(u64, String)> = (0..5000).map(|i| (i, format!("v{i}"))).collect();
        let bytes = encode_partition(&records);
        c.put_disk((3, 0), &bytes);
        let back: Vec<(u64, String)> = c.get_disk((3, 0)).unwrap().unwrap();
        assert_eq!(back, records);
        let path = c.disk_path((3, 0));
        // One flipped byte in the middle, or the file cut short.
        let mut flipped = bytes.clone();
        flipped[bytes.len() / 2] ^= 0x20;
        for (bad, says) in [
            (flipped, "corrupt cached partition: checksum mismatch"),
            (
                bytes[..bytes.len() - 1].to_vec(),
                "corrupt cached partition: truncated",
            ),
        ] {
            std::fs::write(&path, bad).unwrap();
            let e = c.get_disk::<(u64, String)>((3, 0)).unwrap().unwrap_err();
            assert!(e.to_string().starts_with(says), "{e}");
            assert!(!path.exists(), "a damaged file is removed");
            assert!(c.get_disk::<(u64, String)>((3, 0)).is_none());
        }
    }

    #[test]
    fn a_file_claiming_more_than_it_holds_costs_only_the_file() {
        // The frame header claims 200 MiB of compressed and raw bytes, 3
        // bytes follow; the old size-prefixed format allocated what the
        // prefix claimed before reading anything.
        let dir = tempfile::tempdir().unwrap();
        let c = BlockCache::new(0, dir.path().to_path_buf());
        let mut bytes = (200u32 << 20).to_le_bytes().repeat(2);
        bytes.extend_from_slice(&1u32.to_le_bytes());
        bytes.extend_from_slice(&[0; 4]);
        bytes.extend_from_slice(&[1, 2, 3]);
        c.put_disk((4, 0), &bytes);
        let (r, largest) =
            spindle_test_support::largest_allocation(|| c.get_disk::<u64>((4, 0)).unwrap());
        let e = r.unwrap_err().to_string();
        assert!(e.contains("truncated frame body: 3 of"), "{e}");
        assert!(largest < 1 << 20, "allocated {largest} bytes");
    }
}
