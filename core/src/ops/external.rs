//! External sorting for the reduce side: sorted runs spilled to the
//! executor's local dir (lz4 frames) and a k-way merge of them, so a reducer
//! larger than its memory limit still finishes with memory bounded.
//!
//! `sort_by_key` sorts by key; aggregations (`reduce_by_key`,
//! `group_by_key`, `aggregate_by_key`) and `cogroup` keep a hash map of
//! combiners that is spilled sorted by the key's hash, and merged combining
//! equal keys (Spark's ExternalAppendOnlyMap, in outline).

use std::cmp::Ordering;
use std::fs::File;
use std::hash::Hash;
use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};

use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::codec::{self, FrameStream, FrameWriter};
use crate::memory::{MIN_SPILL, Pressure};
use crate::task::Batches;
use crate::{Data, Error, Result};

use super::shuffle::hash_key;
use super::{BATCH, log_line, verbose};

/// Runs merged at once; more are first merged in groups into longer runs.
pub(crate) const MAX_FAN_IN: usize = 32;
/// Bytes of read buffer per run being merged.
const READ_BUFFER: usize = 64 * 1024;

/// A spill file on local disk, removed when dropped (also when the task
/// fails), so a finished or failed task leaves nothing behind.
struct Run {
    path: PathBuf,
}

impl Drop for Run {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Averages the encoded size of records, sampling one in 64 (the encoding
/// approximates the heap bytes a record holds).
pub(crate) struct RecordSizer {
    buf: Vec<u8>,
    seen: u64,
    total: usize,
    samples: usize,
    avg: usize,
}

impl Default for RecordSizer {
    fn default() -> Self {
        Self::new()
    }
}

impl RecordSizer {
    pub(crate) fn new() -> Self {
        RecordSizer {
            buf: Vec::new(),
            seen: 0,
            total: 0,
            samples: 0,
            avg: 0,
        }
    }

    /// Counts one record and returns the average encoded size so far.
    pub(crate) fn observe<T: Serialize>(&mut self, record: &T) -> usize {
        if self.seen.is_multiple_of(64) {
            self.buf.clear();
            codec::encode_into(record, &mut self.buf);
            self.total += self.buf.len();
            self.samples += 1;
            self.avg = self.total / self.samples;
        }
        self.seen += 1;
        self.avg
    }
}

/// Sorted runs of one task, written to a local directory.
pub(crate) struct Spills<T> {
    dir: PathBuf,
    tag: String,
    runs: Vec<Run>,
    next: u32,
    /// Bytes written to spill files so far.
    pub bytes: u64,
    /// Records written to spill files so far (counting merge passes).
    pub records: u64,
    _t: std::marker::PhantomData<fn() -> T>,
}

impl<T: Data> Spills<T> {
    /// Runs named `{tag}_{n}.lz4` in `dir`; the tag must be unique to the task attempt.
    pub(crate) fn new(dir: &Path, tag: String) -> Self {
        Spills {
            dir: dir.to_path_buf(),
            tag,
            runs: Vec::new(),
            next: 0,
            bytes: 0,
            records: 0,
            _t: std::marker::PhantomData,
        }
    }

    /// How many runs are on disk.
    pub(crate) fn runs(&self) -> usize {
        self.runs.len()
    }

    fn new_run(&mut self) -> Result<(Run, FrameWriter<BufWriter<File>>)> {
        let path = self.dir.join(format!("{}_{}.lz4", self.tag, self.next));
        self.next += 1;
        let f = crate::scratch::create_file(&path)
            .map_err(|e| Error::io(format!("creating spill file {}", path.display()), e))?;
        let w = FrameWriter::new(BufWriter::with_capacity(256 * 1024, f));
        Ok((Run { path }, w))
    }

    fn write_run(&mut self, records: impl Iterator<Item = Result<T>>) -> Result<Run> {
        let (run, mut w) = self.new_run()?;
        let io = |e| Error::io(format!("writing spill file {}", run.path.display()), e);
        let mut n = 0u64;
        for r in records {
            w.push(&r?).map_err(io)?;
            n += 1;
        }
        let (_, bytes) = w.finish().map_err(io)?;
        self.bytes += bytes;
        self.records += n;
        if verbose() {
            log_line(format!(
                "spindle: spilled sorted run {} ({n} records, {bytes} bytes)",
                run.path.display()
            ));
        }
        Ok(run)
    }

    /// Writes records, already sorted, as one more run.
    pub(crate) fn spill(&mut self, sorted: impl IntoIterator<Item = T>) -> Result<()> {
        let run = self.write_run(sorted.into_iter().map(Ok))?;
        self.runs.push(run);
        Ok(())
    }

    /// What was spilled so far.
    pub(crate) fn stats(&self) -> SpillStats {
        SpillStats {
            runs: self.next as usize,
            bytes: self.bytes,
            records: self.records,
        }
    }

    /// Merges every run and `last` (sorted, still in memory) in the order
    /// `cmp`; runs are deleted as soon as they are read to the end.
    pub(crate) fn merge(
        mut self,
        last: Vec<T>,
        cmp: fn(&T, &T) -> Ordering,
    ) -> Result<(Merge<T>, SpillStats)> {
        // Too many runs to open at once: merge the oldest ones into longer runs.
        while self.runs.len() + 1 > MAX_FAN_IN {
            let group: Vec<Run> = self.runs.drain(..MAX_FAN_IN).collect();
            let merged = Merge::new(group.into_iter().map(Source::open).collect(), cmp)?;
            let run = self.write_run(merged)?;
            self.runs.push(run);
        }
        let stats = self.stats();
        let mut sources: Vec<Source<T>> = self.runs.drain(..).map(Source::open).collect();
        sources.push(Source::Memory(last.into_iter()));
        Ok((Merge::new(sources, cmp)?, stats))
    }
}

/// What a task spilled: runs written (merge passes included), bytes, records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SpillStats {
    pub runs: usize,
    pub bytes: u64,
    pub records: u64,
}

/// One sorted input of a merge.
enum Source<T> {
    Run {
        stream: FrameStream<BufReader<File>>,
        batch: std::vec::IntoIter<T>,
        run: Option<Run>,
    },
    Memory(std::vec::IntoIter<T>),
    Failed(Option<Error>),
}

impl<T: Data> Source<T> {
    fn open(run: Run) -> Self {
        match File::open(&run.path) {
            Ok(f) => Source::Run {
                stream: FrameStream::new(BufReader::with_capacity(READ_BUFFER, f)),
                batch: Vec::new().into_iter(),
                run: Some(run),
            },
            Err(e) => Source::Failed(Some(Error::io(
                format!("opening spill file {}", run.path.display()),
                e,
            ))),
        }
    }

    fn next(&mut self) -> Option<Result<T>> {
        match self {
            Source::Memory(it) => it.next().map(Ok),
            Source::Failed(e) => e.take().map(Err),
            Source::Run { stream, batch, run } => {
                loop {
                    if let Some(x) = batch.next() {
                        return Some(Ok(x));
                    }
                    match stream.next_batch::<T>() {
                        Ok(Some(b)) => *batch = b.into_iter(),
                        Ok(None) => {
                            // Read to the end: the file is not needed any more.
                            run.take();
                            return None;
                        }
                        Err(e) => return Some(Err(e)),
                    }
                }
            }
        }
    }
}

/// The k-way merge of sorted sources: a binary heap of their heads.
pub(crate) struct Merge<T> {
    sources: Vec<Source<T>>,
    /// (head record, source index), a min-heap by `cmp`.
    heap: Vec<(T, usize)>,
    cmp: fn(&T, &T) -> Ordering,
}

impl<T: Data> Merge<T> {
    fn new(mut sources: Vec<Source<T>>, cmp: fn(&T, &T) -> Ordering) -> Result<Self> {
        let mut heap = Vec::with_capacity(sources.len());
        for (i, s) in sources.iter_mut().enumerate() {
            if let Some(x) = s.next() {
                heap.push((x?, i));
            }
        }
        let mut m = Merge { sources, heap, cmp };
        for i in (0..m.heap.len() / 2).rev() {
            m.sift_down(i);
        }
        Ok(m)
    }

    fn less(&self, a: usize, b: usize) -> bool {
        (self.cmp)(&self.heap[a].0, &self.heap[b].0) == Ordering::Less
    }

    fn sift_down(&mut self, mut i: usize) {
        let n = self.heap.len();
        loop {
            let l = 2 * i + 1;
            if l >= n {
                return;
            }
            let r = l + 1;
            let c = if r < n && self.less(r, l) { r } else { l };
            if self.less(c, i) {
                self.heap.swap(c, i);
                i = c;
            } else {
                return;
            }
        }
    }
}

impl<T: Data> Iterator for Merge<T> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Result<T>> {
        if self.heap.is_empty() {
            return None;
        }
        let src = self.heap[0].1;
        let out = match self.sources[src].next() {
            Some(Ok(x)) => std::mem::replace(&mut self.heap[0].0, x),
            Some(Err(e)) => return Some(Err(e)),
            None => self.heap.swap_remove(0).0,
        };
        self.sift_down(0);
        Some(Ok(out))
    }
}

/// Batches of a record iterator that may fail.
pub(crate) fn batches<T: Send + 'static>(
    mut it: impl Iterator<Item = Result<T>> + Send + 'static,
) -> Batches<T> {
    let mut failed = false;
    Box::new(std::iter::from_fn(move || {
        if failed {
            return None;
        }
        let mut b = Vec::with_capacity(BATCH);
        for r in it.by_ref() {
            match r {
                Ok(x) => b.push(x),
                Err(e) => {
                    failed = true;
                    return Some(Err(e));
                }
            }
            if b.len() == BATCH {
                break;
            }
        }
        if b.is_empty() { None } else { Some(Ok(b)) }
    }))
}

/// Batches of records already in memory.
pub(crate) fn batched<T: Send + 'static>(v: Vec<T>) -> Batches<T> {
    let mut it = v.into_iter();
    Box::new(std::iter::from_fn(move || {
        let b: Vec<T> = it.by_ref().take(BATCH).collect();
        if b.is_empty() { None } else { Some(Ok(b)) }
    }))
}

/// Sorts a stream of pairs by key within `limit` bytes of memory: sorted
/// runs are spilled whenever the buffer would pass the limit, then merged.
pub(crate) fn sort_pairs<K: Data + Ord, V: Data>(
    input: Batches<(K, V)>,
    ascending: bool,
    limit: usize,
    spills: Spills<(K, V)>,
) -> Result<(Batches<(K, V)>, SpillStats)> {
    fn asc<K: Ord, V>(a: &(K, V), b: &(K, V)) -> Ordering {
        a.0.cmp(&b.0)
    }
    fn desc<K: Ord, V>(a: &(K, V), b: &(K, V)) -> Ordering {
        b.0.cmp(&a.0)
    }
    let cmp: fn(&(K, V), &(K, V)) -> Ordering = if ascending { asc::<K, V> } else { desc::<K, V> };
    // The sorts get closures (inlined comparisons); the merge, a fn pointer.
    let sort = |buf: &mut Vec<(K, V)>| {
        if ascending {
            buf.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        } else {
            buf.sort_unstable_by(|a, b| b.0.cmp(&a.0));
        }
    };
    let mut spills = spills;
    let width = std::mem::size_of::<(K, V)>().max(1);
    let mut buf: Vec<(K, V)> = Vec::new();
    let mut heap = 0usize;
    let mut sizer = RecordSizer::new();
    let mut pressure = Pressure::new();
    for b in input {
        let b = b?;
        let Some(first) = b.first() else { continue };
        if pressure.raised() && buf.capacity() * width + heap > MIN_SPILL && buf.len() > 1 {
            sort(&mut buf);
            spills.spill(buf.drain(..))?;
            buf.shrink_to_fit();
            heap = 0;
        }
        // The encoded size stands for what a record holds beyond its own width.
        let per = sizer.observe(first);
        let more = b.len() * per;
        let needed = buf.len() + b.len();
        if needed > buf.capacity() && !buf.is_empty() {
            let grown = needed.max(buf.capacity() * 2);
            if grown * width + heap + more > limit {
                sort(&mut buf);
                spills.spill(buf.drain(..))?;
                heap = 0;
            }
        }
        buf.extend(b);
        heap += more;
        if buf.capacity() * width + heap > limit && buf.len() > 1 {
            sort(&mut buf);
            spills.spill(buf.drain(..))?;
            heap = 0;
        }
    }
    sort(&mut buf);
    if spills.runs() == 0 {
        return Ok((batched(buf), SpillStats::default()));
    }
    let (merged, stats) = spills.merge(buf, cmp)?;
    Ok((batches(merged), stats))
}

/// A hash map of combiners by key that keeps an estimate of its memory.
pub(crate) struct CombineMap<K, C> {
    map: FxHashMap<K, Option<C>>,
    /// Estimated bytes held by keys and combiners beyond the table itself.
    heap: usize,
    /// Whether merging a value into a combiner makes it larger (group_by_key,
    /// cogroup), so every record counts, not only new keys.
    grows: bool,
    /// The executor's memory watch: spill early when the process nears its
    /// container's limit, whatever the estimate says.
    pressure: Pressure,
}

impl<K: Data + Hash + Eq, C: Data> CombineMap<K, C> {
    pub(crate) fn new(grows: bool) -> Self {
        CombineMap {
            map: FxHashMap::default(),
            heap: 0,
            grows,
            pressure: Pressure::new(),
        }
    }

    fn table_bytes(capacity: usize) -> usize {
        // hashbrown: one control byte per bucket, buckets at 7/8 load.
        capacity * (std::mem::size_of::<(K, Option<C>)>() + 1) * 8 / 7
    }

    /// Estimated bytes held.
    pub(crate) fn bytes(&self) -> usize {
        Self::table_bytes(self.map.capacity()) + self.heap
    }

    /// Keys held.
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether adding `k` would grow the table past `limit` (checked before
    /// an update, so the table never doubles beyond the limit).
    fn would_outgrow(&self, k: &K, limit: usize) -> bool {
        let cap = self.map.capacity();
        self.map.len() == cap
            && !self.map.is_empty()
            && Self::table_bytes((cap * 2).max(4)) + self.heap > limit
            && !self.map.contains_key(k)
    }

    /// Folds one record into the combiner of `k` (`f` gets None for a new
    /// key); `size` is the record's estimated size beyond the table slot.
    pub(crate) fn update(&mut self, k: K, size: usize, f: impl FnOnce(Option<C>) -> C) {
        let slot = self.map.entry(k).or_insert(None);
        let new = slot.is_none();
        *slot = Some(f(slot.take()));
        if new || self.grows {
            self.heap += size;
        }
    }

    /// [`Self::update`] within `limit` bytes: `spill` empties the map first
    /// when the new key would grow its table past the limit or the executor
    /// is short of memory, and again when the map holds more than the limit
    /// afterwards.
    pub(crate) fn update_within(
        &mut self,
        k: K,
        size: usize,
        limit: usize,
        f: impl FnOnce(Option<C>) -> C,
        mut spill: impl FnMut(&mut Self) -> Result<()>,
    ) -> Result<()> {
        let pressed = self.pressure.raised() && self.bytes() > MIN_SPILL;
        if pressed || self.would_outgrow(&k, limit) {
            spill(self)?;
        }
        self.update(k, size, f);
        if self.bytes() > limit {
            spill(self)?;
        }
        Ok(())
    }

    /// Takes every (key, combiner), leaving the map empty (its table freed).
    pub(crate) fn take_all(&mut self) -> impl Iterator<Item = (K, C)> + use<K, C> {
        self.heap = 0;
        std::mem::take(&mut self.map)
            .into_iter()
            .map(|(k, c)| (k, c.expect("combiner present")))
    }

    /// Takes every (key hash, key, combiner), sorted by the hash.
    fn take_sorted(&mut self) -> Vec<(u64, K, C)> {
        let mut v: Vec<(u64, K, C)> = self.take_all().map(|(k, c)| (hash_key(&k), k, c)).collect();
        v.sort_unstable_by_key(|e| e.0);
        v
    }

    /// Writes the map as one run sorted by the keys' hash.
    pub(crate) fn spill_sorted(&mut self, spills: &mut Spills<(u64, K, C)>) -> Result<()> {
        spills.spill(self.take_sorted())
    }

    /// The combined records: straight from the map when nothing was
    /// spilled, else the merge of every run and the map, combining equal keys.
    pub(crate) fn finish(
        mut self,
        spills: Spills<(u64, K, C)>,
        merge: impl FnMut(C, C) -> C + Send + 'static,
    ) -> Result<(Batches<(K, C)>, SpillStats)> {
        if spills.runs() == 0 {
            let all: Vec<(K, C)> = self.take_all().collect();
            return Ok((batched(all), SpillStats::default()));
        }
        fn by_hash<K, C>(a: &(u64, K, C), b: &(u64, K, C)) -> Ordering {
            a.0.cmp(&b.0)
        }
        let (merged, stats) = spills.merge(self.take_sorted(), by_hash::<K, C>)?;
        let combined = Combined {
            merged,
            pending: None,
            group: Vec::new().into_iter(),
            merge,
        };
        Ok((batches(combined), stats))
    }
}

/// Records merged by hash, with equal keys combined: each run of equal
/// hashes is gathered and its keys compared (collisions are rare).
struct Combined<K, C, M> {
    merged: Merge<(u64, K, C)>,
    pending: Option<(u64, K, C)>,
    group: std::vec::IntoIter<(K, C)>,
    merge: M,
}

impl<K: Data + Eq, C: Data, M: FnMut(C, C) -> C> Iterator for Combined<K, C, M> {
    type Item = Result<(K, C)>;

    fn next(&mut self) -> Option<Result<(K, C)>> {
        if let Some(x) = self.group.next() {
            return Some(Ok(x));
        }
        let (h, k, c) = match self.pending.take() {
            Some(x) => x,
            None => match self.merged.next()? {
                Ok(x) => x,
                Err(e) => return Some(Err(e)),
            },
        };
        let mut group: Vec<(K, Option<C>)> = vec![(k, Some(c))];
        loop {
            match self.merged.next() {
                None => break,
                Some(Err(e)) => return Some(Err(e)),
                Some(Ok((h2, k2, c2))) if h2 != h => {
                    self.pending = Some((h2, k2, c2));
                    break;
                }
                Some(Ok((_, k2, c2))) => match group.iter_mut().find(|(k, _)| *k == k2) {
                    Some((_, slot)) => {
                        let old = slot.take().expect("combiner present");
                        *slot = Some((self.merge)(old, c2));
                    }
                    None => group.push((k2, Some(c2))),
                },
            }
        }
        self.group = group
            .into_iter()
            .map(|(k, c)| (k, c.expect("combiner present")))
            .collect::<Vec<_>>()
            .into_iter();
        self.group.next().map(Ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    fn leftovers(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    }

    fn input<T: Data>(v: Vec<T>, batch: usize) -> Batches<T> {
        let chunks: Vec<Vec<T>> = v.chunks(batch).map(|c| c.to_vec()).collect();
        Box::new(chunks.into_iter().map(Ok))
    }

    fn collect<T: Send + 'static>(b: Batches<T>) -> Vec<T> {
        let mut out = Vec::new();
        for x in b {
            out.extend(x.unwrap());
        }
        out
    }

    #[test]
    fn a_tiny_limit_gives_many_runs_and_the_same_order_as_a_sort_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        let mut rng = Rng(7);
        let data: Vec<(u64, String)> = (0..60_000)
            .map(|i| (rng.below(5_000), format!("v{i}")))
            .collect();
        for ascending in [true, false] {
            // 20 KB of memory: hundreds of runs, so merge passes happen too.
            let spills = Spills::new(dir.path(), format!("spill_t_{ascending}"));
            let (out, stats) =
                sort_pairs(input(data.clone(), 1000), ascending, 20_000, spills).unwrap();
            let got = collect(out);
            assert!(
                stats.records > data.len() as u64,
                "spilled and merged in passes: {} records written",
                stats.records
            );
            let mut want = data.clone();
            want.sort_by(|a, b| if ascending { a.cmp(b) } else { b.cmp(a) });
            let keys = |v: &[(u64, String)]| v.iter().map(|p| p.0).collect::<Vec<_>>();
            assert_eq!(keys(&got), keys(&want), "ascending={ascending}");
            let mut got_sorted = got.clone();
            got_sorted.sort();
            let mut want_sorted = want.clone();
            want_sorted.sort();
            assert_eq!(got_sorted, want_sorted, "the same records");
            assert!(
                leftovers(dir.path()).is_empty(),
                "runs removed after the merge"
            );
        }
    }

    #[test]
    fn without_pressure_nothing_is_spilled() {
        let dir = tempfile::tempdir().unwrap();
        let data: Vec<(u32, u32)> = (0..10_000).rev().map(|i| (i, i)).collect();
        let spills = Spills::new(dir.path(), "spill_none".into());
        let (out, stats) = sort_pairs(input(data, 999), true, 64 << 20, spills).unwrap();
        assert_eq!(stats.records, 0);
        let got = collect(out);
        assert_eq!(got, (0..10_000).map(|i| (i, i)).collect::<Vec<_>>());
    }

    fn group(data: &[(String, u64)], limit: usize, dir: &Path) -> (Vec<(String, Vec<u64>)>, u64) {
        let mut spills: Spills<(u64, String, Vec<u64>)> = Spills::new(dir, "spill_g".into());
        let mut map: CombineMap<String, Vec<u64>> = CombineMap::new(true);
        let mut sizer = RecordSizer::new();
        for (k, v) in data.iter().cloned() {
            let size = sizer.observe(&(&k, v));
            map.update_within(
                k,
                size,
                limit,
                |c| {
                    let mut c = c.unwrap_or_default();
                    c.push(v);
                    c
                },
                |map| map.spill_sorted(&mut spills),
            )
            .unwrap();
        }
        let runs = spills.runs() as u64;
        let (out, _) = map
            .finish(spills, |mut a, mut b| {
                a.append(&mut b);
                a
            })
            .unwrap();
        let mut got = collect(out);
        for (_, vs) in got.iter_mut() {
            vs.sort();
        }
        got.sort();
        (got, runs)
    }

    #[test]
    fn grouping_with_a_tiny_limit_merges_runs_into_the_in_memory_answer() {
        let dir = tempfile::tempdir().unwrap();
        let mut rng = Rng(11);
        let data: Vec<(String, u64)> = (0..40_000)
            .map(|i| (format!("k{}", rng.below(3_000)), i))
            .collect();
        let mut want: std::collections::BTreeMap<String, Vec<u64>> = Default::default();
        for (k, v) in &data {
            want.entry(k.clone()).or_default().push(*v);
        }
        let want: Vec<(String, Vec<u64>)> = want.into_iter().collect();
        let (got, runs) = group(&data, 16_000, dir.path());
        assert!(runs > MAX_FAN_IN as u64, "{runs} runs");
        assert_eq!(got, want);
        assert!(leftovers(dir.path()).is_empty(), "runs removed");
        let (got, runs) = group(&data, 1 << 30, dir.path());
        assert_eq!(runs, 0);
        assert_eq!(got, want);
    }

    #[test]
    fn equal_hashes_of_different_keys_stay_apart() {
        // Keys whose hashes collide cannot be built on purpose with a good
        // hash; the grouping step is tested directly with a forged hash.
        let dir = tempfile::tempdir().unwrap();
        let mut spills: Spills<(u64, String, u64)> = Spills::new(dir.path(), "spill_c".into());
        spills
            .spill(vec![(1, "a".to_string(), 1), (1, "b".to_string(), 10)])
            .unwrap();
        fn by_hash(a: &(u64, String, u64), b: &(u64, String, u64)) -> Ordering {
            a.0.cmp(&b.0)
        }
        let (merged, _) = spills
            .merge(
                vec![(1, "b".to_string(), 100), (2, "a".to_string(), 1000)],
                by_hash,
            )
            .unwrap();
        let c = Combined {
            merged,
            pending: None,
            group: Vec::new().into_iter(),
            merge: |a: u64, b: u64| a + b,
        };
        let mut got: Vec<(String, u64)> = c.map(|r| r.unwrap()).collect();
        got.sort();
        assert_eq!(
            got,
            vec![
                ("a".to_string(), 1),
                ("a".to_string(), 1000),
                ("b".to_string(), 110)
            ]
        );
    }

    #[test]
    fn a_damaged_run_is_an_error_and_still_removed() {
        let dir = tempfile::tempdir().unwrap();
        let mut spills: Spills<(u64, u64)> = Spills::new(dir.path(), "spill_d".into());
        spills.spill((0..100_000u64).map(|i| (i, i))).unwrap();
        let path = dir.path().join("spill_d_0.lz4");
        let len = std::fs::metadata(&path).unwrap().len();
        let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        f.set_len(len / 2).unwrap();
        fn asc(a: &(u64, u64), b: &(u64, u64)) -> Ordering {
            a.0.cmp(&b.0)
        }
        match spills.merge(Vec::new(), asc) {
            Err(_) => {}
            Ok((mut merged, _)) => assert!(merged.any(|r| r.is_err())),
        }
        assert!(leftovers(dir.path()).is_empty());
    }
}
