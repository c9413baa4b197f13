//! The map-side combine's table: combiners keyed by the key's encoding.
//!
//! A map task folds every record into this table before the shuffle. In a
//! wordcount most lookups land on a different place of a table larger than
//! the core's cache, so the table is built around that cache miss: a key of
//! up to [`INLINE`] encoded bytes is held in its slot beside its combiner (a
//! hit touches one cache line; longer keys' bytes sit back to back in one
//! buffer), and records come in batches whose keys are encoded and whose
//! slots are prefetched before any is looked up, so that a batch's misses
//! overlap instead of following one another. Grouping by encoding is safe on
//! the map side only: the shuffle carries nothing but the encoding, and the
//! reducer decodes the keys and merges those `K`'s `Eq` calls equal
//! ([`super::external::CombineMap`]), whatever the map side combined.

use std::hash::BuildHasher;
use std::marker::PhantomData;

use rustc_hash::FxBuildHasher;

use crate::memory::{MIN_SPILL, Pressure};
use crate::{Data, Result, codec};

/// Keys of at most this many encoded bytes are held in their slot.
const INLINE: usize = 8;

/// How many records [`EncodedCombine::update_batch`] is best given at once:
/// enough misses in flight to hide most of their wait, few enough that the
/// prefetched slots are still in cache when their turn comes.
pub(crate) const BATCH: usize = 32;

/// One key's combiner. Aligned so that a slot of a small combiner never
/// straddles two cache lines.
#[repr(align(32))]
struct Slot<C> {
    /// The key hash's upper half: most other keys' slots differ here.
    tag: u32,
    /// The encoded key's length.
    len: u32,
    /// The key's bytes, zero-padded, when it has at most [`INLINE`]; else
    /// where its bytes start in [`EncodedCombine::keys`].
    key: u64,
    /// None: the slot is free (or its record is being folded in).
    combiner: Option<C>,
}

/// A key of the batch being folded: where its encoding is in the scratch
/// buffer, its hash, and its bytes as one word when it is short.
#[derive(Clone, Copy)]
struct Key {
    start: usize,
    end: usize,
    hash: u64,
    word: Option<u64>,
}

/// Combiners by encoded key, with an estimate of the memory they hold.
pub(crate) struct EncodedCombine<K, C> {
    /// Open addressing with linear probing; a power of two long, or empty.
    slots: Vec<Slot<C>>,
    /// Slots in use.
    len: usize,
    /// The bytes of keys longer than [`INLINE`], back to back.
    keys: Vec<u8>,
    /// The encodings of the batch being folded, back to back.
    scratch: Vec<u8>,
    /// The batch's keys.
    pending: Vec<Key>,
    /// Estimated bytes held by combiners beyond their slots.
    heap: usize,
    /// Whether merging a value makes a combiner larger (every record counts).
    grows: bool,
    /// The executor's memory watch: flush early when the process nears its
    /// container's limit, whatever the estimate says.
    pressure: Pressure,
    _key: PhantomData<fn() -> K>,
}

/// The hash of the first `len` bytes of `bytes`, and those bytes as one word
/// (zero-padded) when `len` is at most [`INLINE`]. `bytes` holds at least
/// [`INLINE`] bytes: a short key's word is read whole, then masked.
fn hashed(bytes: &[u8], len: usize) -> (u64, Option<u64>) {
    if len > INLINE {
        return (hash_long(&bytes[..len]), None);
    }
    let first: [u8; INLINE] = bytes[..INLINE].try_into().expect("a word's bytes");
    let mask = u64::MAX.checked_shr(64 - 8 * len as u32).unwrap_or(0);
    let word = u64::from_le_bytes(first) & mask;
    (hash_word(word, len), Some(word))
}

/// The hash of a key of at most [`INLINE`] bytes, given as its word.
fn hash_word(word: u64, len: usize) -> u64 {
    mix(word ^ (len as u64) << 60)
}

/// The hash of a key longer than [`INLINE`] bytes.
fn hash_long(bytes: &[u8]) -> u64 {
    mix(FxBuildHasher.hash_one(bytes))
}

impl<C> Slot<C> {
    /// The hash of the slot's key (`keys`: where longer keys are held).
    fn hash(&self, keys: &[u8]) -> u64 {
        let len = self.len as usize;
        if len <= INLINE {
            hash_word(self.key, len)
        } else {
            hash_long(&keys[self.key as usize..][..len])
        }
    }
}

/// Spreads every bit of `x` over the whole word (a folded multiply): the
/// table's place comes from the low bits, its tag from the high ones, and
/// linear probing needs both well mixed to keep runs of used slots short.
fn mix(x: u64) -> u64 {
    let m = u128::from(x ^ 0x243f_6a88_85a3_08d3) * 0x9e37_79b9_7f4a_7c15;
    (m as u64) ^ (m >> 64) as u64
}

impl<K: Data, C> EncodedCombine<K, C> {
    pub(crate) fn new(grows: bool) -> Self {
        EncodedCombine {
            slots: Vec::new(),
            len: 0,
            keys: Vec::new(),
            scratch: Vec::new(),
            pending: Vec::new(),
            heap: 0,
            grows,
            pressure: Pressure::new(),
            _key: PhantomData,
        }
    }

    fn table_bytes(slots: usize) -> usize {
        slots * std::mem::size_of::<Slot<C>>()
    }

    /// Estimated bytes held.
    pub(crate) fn bytes(&self) -> usize {
        Self::table_bytes(self.slots.capacity()) + self.keys.capacity() + self.heap
    }

    /// Keys held.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Adds `k` to the batch being gathered: encodes it and drops it at once
    /// (the memory it frees is the next record's, still in cache).
    pub(crate) fn stage(&mut self, k: K) {
        let start = self.scratch.len();
        codec::encode_key_into(&k, &mut self.scratch);
        drop(k);
        self.pending.push(Key {
            start,
            end: self.scratch.len(),
            hash: 0,
            word: None,
        });
    }

    /// Folds the batch gathered by [`Self::stage`] into the combiners of its
    /// keys, with `values` (each with the record's estimated size beyond its
    /// slot and key bytes) in the same order (`f` gets None for a new key),
    /// emptying both. `flush` empties the table first when the executor is
    /// short of memory or a new key would grow the table past `limit`, and
    /// again when the table holds more than `limit` afterwards.
    pub(crate) fn update_batch<V>(
        &mut self,
        values: &mut Vec<(V, usize)>,
        limit: usize,
        mut f: impl FnMut(Option<C>, V) -> C,
        mut flush: impl FnMut(&mut Self) -> Result<()>,
    ) -> Result<()> {
        assert_eq!(values.len(), self.pending.len(), "a value per staged key");
        if self.pressure.raised() && self.bytes() > MIN_SPILL {
            flush(self)?;
        }
        let mut scratch = std::mem::take(&mut self.scratch);
        let mut pending = std::mem::take(&mut self.pending);
        // Room to read the last key's first word whole.
        scratch.extend_from_slice(&[0; INLINE]);
        for key in &mut pending {
            (key.hash, key.word) = hashed(&scratch[key.start..], key.end - key.start);
            self.prefetch(key.hash);
        }
        for (key, (v, size)) in pending.iter().zip(values.drain(..)) {
            let bytes = &scratch[key.start..key.end];
            self.fold(*key, bytes, size, limit, |c| f(c, v), &mut flush)?;
        }
        scratch.clear();
        pending.clear();
        (self.scratch, self.pending) = (scratch, pending);
        Ok(())
    }

    /// Asks the CPU to start loading the slot where `hash`'s search begins,
    /// and the cache line after it, where a search often goes on.
    fn prefetch(&self, hash: u64) {
        let i = hash as usize & self.slots.len().wrapping_sub(1);
        if let Some(slots) = self.slots.get(i..) {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: a prefetch reads nothing the program sees and never faults.
            unsafe {
                use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
                let at: *const i8 = slots.as_ptr().cast();
                _mm_prefetch::<_MM_HINT_T0>(at);
                _mm_prefetch::<_MM_HINT_T0>(at.wrapping_add(64));
            }
            #[cfg(not(target_arch = "x86_64"))]
            let _ = slots;
        }
    }

    /// Folds one record whose encoded key is `bytes` into its combiner.
    fn fold(
        &mut self,
        key: Key,
        bytes: &[u8],
        size: usize,
        limit: usize,
        f: impl FnOnce(Option<C>) -> C,
        flush: &mut impl FnMut(&mut Self) -> Result<()>,
    ) -> Result<()> {
        if let Ok(i) = self.find(key, bytes) {
            let slot = &mut self.slots[i];
            slot.combiner = Some(f(slot.combiner.take()));
            if self.grows {
                self.heap += size;
                if self.bytes() > limit {
                    flush(self)?;
                }
            }
            return Ok(());
        }
        // A new key: at most 3/4 of the slots in use, so that searches stay short.
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            let grown = |slots: usize| (slots * 2).max(16);
            let bytes_grown = Self::table_bytes(grown(self.slots.len()));
            if self.len > 0 && bytes_grown + self.keys.capacity() + self.heap > limit {
                flush(self)?;
            }
            // After a flush the table starts small again.
            if (self.len + 1) * 4 > self.slots.len() * 3 {
                self.resize(grown(self.slots.len()));
            }
        }
        let free = match self.find(key, bytes) {
            Err(free) => free,
            Ok(_) => unreachable!("a key found after it was missed"),
        };
        let word = key.word.unwrap_or_else(|| {
            self.keys.extend_from_slice(bytes);
            (self.keys.len() - bytes.len()) as u64
        });
        self.slots[free] = Slot {
            tag: (key.hash >> 32) as u32,
            len: bytes.len() as u32,
            key: word,
            combiner: Some(f(None)),
        };
        self.len += 1;
        self.heap += size;
        if self.bytes() > limit {
            flush(self)?;
        }
        Ok(())
    }

    /// The slot holding the key (Ok), or the free slot where it belongs (Err).
    fn find(&self, key: Key, bytes: &[u8]) -> std::result::Result<usize, usize> {
        if self.slots.is_empty() {
            return Err(0);
        }
        let mask = self.slots.len() - 1;
        let tag = (key.hash >> 32) as u32;
        let mut i = key.hash as usize & mask;
        loop {
            let s = &self.slots[i];
            if s.combiner.is_none() {
                return Err(i);
            }
            if s.tag == tag && s.len as usize == bytes.len() {
                let same = match key.word {
                    Some(w) => s.key == w,
                    None => &self.keys[s.key as usize..s.key as usize + bytes.len()] == bytes,
                };
                if same {
                    return Ok(i);
                }
            }
            i = (i + 1) & mask;
        }
    }

    /// Moves every key into a table of `n` slots.
    fn resize(&mut self, n: usize) {
        let old = std::mem::replace(&mut self.slots, Self::free_slots(n));
        let mask = n - 1;
        for s in old.into_iter().filter(|s| s.combiner.is_some()) {
            let mut i = s.hash(&self.keys) as usize & mask;
            while self.slots[i].combiner.is_some() {
                i = (i + 1) & mask;
            }
            self.slots[i] = s;
        }
    }

    fn free_slots(n: usize) -> Vec<Slot<C>> {
        (0..n)
            .map(|_| Slot {
                tag: 0,
                len: 0,
                key: 0,
                combiner: None,
            })
            .collect()
    }

    /// Takes every (key, combiner) with its key decoded, leaving the table
    /// empty (its memory freed).
    pub(crate) fn take_all(&mut self) -> Result<Vec<(K, C)>> {
        let keys = std::mem::take(&mut self.keys);
        self.heap = 0;
        self.len = 0;
        std::mem::take(&mut self.slots)
            .into_iter()
            .filter(|s| s.combiner.is_some())
            .map(|s| {
                let (len, word) = (s.len as usize, s.key.to_le_bytes());
                let key = if len <= INLINE {
                    &word[..len]
                } else {
                    &keys[s.key as usize..][..len]
                };
                let k = codec::decode(key, "a map-side combine key")?;
                Ok((k, s.combiner.expect("a slot in use")))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// Counts words within `limit` bytes, in batches of [`BATCH`] and a
    /// shorter last one; returns every flush's records.
    fn count(words: &[String], limit: usize) -> Vec<Vec<(String, u64)>> {
        let mut map: EncodedCombine<String, u64> = EncodedCombine::new(false);
        let mut flushed = Vec::new();
        for chunk in words.chunks(BATCH) {
            let mut values = Vec::new();
            for w in chunk {
                map.stage(w.clone());
                values.push((1, w.len() + 8));
            }
            let add = |c: Option<u64>, v| c.map_or(v, |c| c + v);
            map.update_batch(&mut values, limit, add, |m| {
                flushed.push(m.take_all()?);
                Ok(())
            })
            .unwrap();
            assert!(values.is_empty(), "the batch is taken");
        }
        flushed.push(map.take_all().unwrap());
        assert_eq!(map.len(), 0, "taken");
        flushed
    }

    fn words() -> Vec<String> {
        // Short keys held in their slots and long ones held apart.
        (0..50_000u64)
            .map(|i| match i % 3 {
                0 => format!("a longer word {}", (i * i) % 7_919),
                _ => format!("w{}", (i * i) % 7_919),
            })
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
        // A flush leaves a small table, not one grown past the limit (which would flush again
        // at the next key).
        let sizes: Vec<usize> = flushes.iter().map(Vec::len).collect();
        let last = sizes.len() - 1;
        assert!(sizes[..last].iter().all(|n| *n > 100), "{sizes:?}");
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
    fn keys_on_both_sides_of_the_inline_length_stay_apart() {
        // Encoded lengths 1 to 21 (a length byte, then the bytes): inline up to 8, then held apart;
        // "a" and "a\0" share their first word's bytes and differ only in length.
        let words: Vec<String> = (0..20)
            .flat_map(|n| ["a".repeat(n), format!("a{}", "\0".repeat(n))])
            .cycle()
            .take(4_000)
            .collect();
        let mut want: BTreeMap<String, u64> = BTreeMap::new();
        for w in &words {
            *want.entry(w.clone()).or_default() += 1;
        }
        let got: BTreeMap<String, u64> = count(&words, 64 << 20).into_iter().flatten().collect();
        assert_eq!(got, want);
        let mut units: EncodedCombine<(), u64> = EncodedCombine::new(false);
        for _ in 0..3 {
            units.stage(());
        }
        let mut values = vec![(1, 0), (2, 0), (3, 0)];
        let add = |c: Option<u64>, v| c.map_or(v, |c| c + v);
        units
            .update_batch(&mut values, 1 << 20, add, |_| Ok(()))
            .unwrap();
        assert_eq!(units.take_all().unwrap(), vec![((), 6)]);
    }

    #[test]
    fn keys_of_several_fields_and_a_growing_combiner() {
        let mut map: EncodedCombine<(u32, String), Vec<u32>> = EncodedCombine::new(true);
        let push = |c: Option<Vec<u32>>, i| {
            let mut c = c.unwrap_or_default();
            c.push(i);
            c
        };
        let mut values = Vec::new();
        for i in 0..1_000u32 {
            map.stage((i % 3, format!("{}", i % 2)));
            values.push((i, 8));
        }
        map.update_batch(&mut values, 1 << 30, push, |_| Ok(()))
            .unwrap();
        let mut got = map.take_all().unwrap();
        got.sort();
        assert_eq!(got.len(), 6);
        assert_eq!(got[0].0, (0, "0".to_string()));
        assert_eq!(got[0].1.len(), 167);
        assert_eq!(got.iter().map(|g| g.1.len()).sum::<usize>(), 1_000);
    }
}
