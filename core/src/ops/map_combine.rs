//! The map-side combine's table: combiners keyed by the key's encoding.
//!
//! A map task folds every record into this table before the shuffle. Keys
//! are held as their codec bytes, one after another in one buffer, with the
//! hash of those bytes beside each combiner: a lookup compares hashes, then
//! bytes that sit together in memory, instead of following each key's own
//! allocation (in a wordcount, a cache miss per word), and a key already
//! present is dropped instead of kept. Grouping by encoding is safe on the
//! map side only: the shuffle carries nothing but the encoding, and the
//! reducer decodes the keys and merges those `K`'s `Eq` calls equal
//! ([`super::external::CombineMap`]), whatever the map side combined.

use std::hash::BuildHasher;
use std::marker::PhantomData;

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

use crate::memory::{MIN_SPILL, Pressure};
use crate::{Data, Result, codec};

/// One key's combiner, and where its encoded key is in [`EncodedCombine::keys`].
struct Slot<C> {
    hash: u64,
    start: usize,
    len: usize,
    /// None only while a record is being folded in.
    combiner: Option<C>,
}

/// Combiners by encoded key, with an estimate of the memory they hold.
pub(crate) struct EncodedCombine<K, C> {
    table: HashTable<Slot<C>>,
    /// Every key's encoding, back to back.
    keys: Vec<u8>,
    /// The encoding of the record being folded.
    scratch: Vec<u8>,
    /// Estimated bytes held by combiners beyond their slots.
    heap: usize,
    /// Whether merging a value makes a combiner larger (every record counts).
    grows: bool,
    /// The executor's memory watch: flush early when the process nears its
    /// container's limit, whatever the estimate says.
    pressure: Pressure,
    _key: PhantomData<fn() -> K>,
}

impl<K: Data, C> EncodedCombine<K, C> {
    pub(crate) fn new(grows: bool) -> Self {
        EncodedCombine {
            table: HashTable::new(),
            keys: Vec::new(),
            scratch: Vec::new(),
            heap: 0,
            grows,
            pressure: Pressure::new(),
            _key: PhantomData,
        }
    }

    fn table_bytes(capacity: usize) -> usize {
        // hashbrown: one control byte per bucket, buckets at 7/8 load.
        capacity * (std::mem::size_of::<Slot<C>>() + 1) * 8 / 7
    }

    /// Estimated bytes held.
    pub(crate) fn bytes(&self) -> usize {
        Self::table_bytes(self.table.capacity()) + self.keys.capacity() + self.heap
    }

    /// Keys held.
    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }

    /// Folds one record into the combiner of `k` (`f` gets None for a new
    /// key); `size` is the record's estimated size beyond its slot
    /// and key bytes. `flush` empties the table first when the executor is
    /// short of memory or a new key would grow the table past `limit`, and
    /// again when the table holds more than `limit` afterwards.
    pub(crate) fn update_within(
        &mut self,
        k: K,
        size: usize,
        limit: usize,
        f: impl FnOnce(Option<C>) -> C,
        mut flush: impl FnMut(&mut Self) -> Result<()>,
    ) -> Result<()> {
        if self.pressure.raised() && self.bytes() > MIN_SPILL {
            flush(self)?;
        }
        self.scratch.clear();
        codec::encode_into(&k, &mut self.scratch);
        drop(k);
        let hash = FxBuildHasher.hash_one(self.scratch.as_slice());
        let (keys, key) = (&self.keys, self.scratch.as_slice());
        let same = |s: &Slot<C>| s.hash == hash && &keys[s.start..s.start + s.len] == key;
        if let Some(slot) = self.table.find_mut(hash, same) {
            slot.combiner = Some(f(slot.combiner.take()));
            if self.grows {
                self.heap += size;
                if self.bytes() > limit {
                    flush(self)?;
                }
            }
            return Ok(());
        }
        let full = self.table.len() == self.table.capacity();
        if full
            && !self.table.is_empty()
            && Self::table_bytes((self.table.capacity() * 2).max(4))
                + self.keys.capacity()
                + self.heap
                > limit
        {
            flush(self)?;
        }
        let start = self.keys.len();
        self.keys.extend_from_slice(&self.scratch);
        let slot = Slot {
            hash,
            start,
            len: self.scratch.len(),
            combiner: Some(f(None)),
        };
        self.table.insert_unique(hash, slot, |s| s.hash);
        self.heap += size;
        if self.bytes() > limit {
            flush(self)?;
        }
        Ok(())
    }

    /// Takes every (key, combiner) with its key decoded, leaving the table
    /// empty (its memory freed).
    pub(crate) fn take_all(&mut self) -> Result<Vec<(K, C)>> {
        let keys = std::mem::take(&mut self.keys);
        self.heap = 0;
        std::mem::take(&mut self.table)
            .into_iter()
            .map(|s| {
                let k = codec::decode(&keys[s.start..s.start + s.len], "a map-side combine key")?;
                Ok((k, s.combiner.expect("combiner present")))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// Counts words within `limit` bytes; returns every flush's records.
    fn count(words: &[String], limit: usize) -> Vec<Vec<(String, u64)>> {
        let mut map: EncodedCombine<String, u64> = EncodedCombine::new(false);
        let mut flushed = Vec::new();
        for w in words {
            map.update_within(
                w.clone(),
                w.len() + 8,
                limit,
                |c| c.map_or(1, |c| c + 1),
                |m| {
                    flushed.push(m.take_all()?);
                    Ok(())
                },
            )
            .unwrap();
        }
        flushed.push(map.take_all().unwrap());
        assert_eq!(map.len(), 0, "taken");
        flushed
    }

    fn words() -> Vec<String> {
        (0..50_000u64)
            .map(|i| format!("w{}", (i * i) % 7_919))
            .collect()
    }

    #[test]
    fn keys_are_combined_and_decoded_back() {
        let words = words();
        let mut want: BTreeMap<String, u64> = BTreeMap::new();
        for w in &words {
            *want.entry(w.clone()).or_default() += 1;
        }
        let flushes = count(&words, 64 << 20);
        assert_eq!(flushes.len(), 1, "nothing flushed early");
        let got: BTreeMap<String, u64> = flushes.into_iter().flatten().collect();
        assert_eq!(got, want);
    }

    #[test]
    fn a_small_limit_flushes_partial_counts_that_add_up() {
        let words = words();
        let flushes = count(&words, 32 << 10);
        assert!(flushes.len() > 3, "{} flushes", flushes.len());
        let mut got: BTreeMap<String, u64> = BTreeMap::new();
        for (w, c) in flushes.into_iter().flatten() {
            *got.entry(w).or_default() += c;
        }
        let mut want: BTreeMap<String, u64> = BTreeMap::new();
        for w in &words {
            *want.entry(w.clone()).or_default() += 1;
        }
        assert_eq!(got, want);
    }

    #[test]
    fn keys_of_several_fields_and_a_growing_combiner() {
        let mut map: EncodedCombine<(u32, String), Vec<u32>> = EncodedCombine::new(true);
        for i in 0..1_000u32 {
            let k = (i % 3, format!("{}", i % 2));
            let push = |c: Option<Vec<u32>>| {
                let mut c = c.unwrap_or_default();
                c.push(i);
                c
            };
            map.update_within(k, 8, 1 << 30, push, |_| Ok(())).unwrap();
        }
        let mut got = map.take_all().unwrap();
        got.sort();
        assert_eq!(got.len(), 6);
        assert_eq!(got[0].0, (0, "0".to_string()));
        assert_eq!(got[0].1.len(), 167);
        assert_eq!(got.iter().map(|g| g.1.len()).sum::<usize>(), 1_000);
    }
}
