//! Narrow transformations: one input partition gives one output partition.

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::cache::{StorageLevel, encode_partition};
use crate::codec;
use crate::entry::conjure;
use crate::plan::NodeSpec;
use crate::task::{Erased, Push, Stream, TaskContext, erase, erase_push};
use crate::{Data, Error, Result};

use super::{BATCH, log_line};

pub(crate) fn compute_map<T: Data, U: Data, F: Fn(T) -> U + Copy + Send + Sync + 'static>(
    ctx: &TaskContext,
    spec: &NodeSpec,
    p: u32,
) -> Result<Erased> {
    let f: F = conjure();
    let mut input = ctx.parent_push::<T>(spec, 0, p)?;
    Ok(erase_push(Push::new(move |sink| {
        input.next_chunk(&mut |x| sink(f(x)))
    })))
}

pub(crate) fn compute_filter<T: Data, F: Fn(&T) -> bool + Copy + Send + Sync + 'static>(
    ctx: &TaskContext,
    spec: &NodeSpec,
    p: u32,
) -> Result<Erased> {
    let f: F = conjure();
    let mut input = ctx.parent_push::<T>(spec, 0, p)?;
    Ok(erase_push(Push::new(move |sink| {
        input.next_chunk(&mut |x| {
            if f(&x) {
                sink(x)
            }
        })
    })))
}

pub(crate) fn compute_flat_map<
    T: Data,
    U: Data,
    I: IntoIterator<Item = U>,
    F: Fn(T) -> I + Copy + Send + Sync + 'static,
>(
    ctx: &TaskContext,
    spec: &NodeSpec,
    p: u32,
) -> Result<Erased> {
    let f: F = conjure();
    let mut input = ctx.parent_push::<T>(spec, 0, p)?;
    Ok(erase_push(Push::new(move |sink| {
        input.next_chunk(&mut |x| {
            for y in f(x) {
                sink(y)
            }
        })
    })))
}

pub(crate) fn compute_map_with<
    P: Data,
    T: Data,
    U: Data,
    F: Fn(&P, T) -> U + Copy + Send + Sync + 'static,
>(
    ctx: &TaskContext,
    spec: &NodeSpec,
    p: u32,
) -> Result<Erased> {
    let f: F = conjure();
    let params: P = codec::decode(&spec.params, "map_with parameters")?;
    let mut input = ctx.parent_push::<T>(spec, 0, p)?;
    Ok(erase_push(Push::new(move |sink| {
        input.next_chunk(&mut |x| sink(f(&params, x)))
    })))
}

pub(crate) fn compute_flat_map_with<
    P: Data,
    T: Data,
    U: Data,
    I: IntoIterator<Item = U>,
    F: Fn(&P, T) -> I + Copy + Send + Sync + 'static,
>(
    ctx: &TaskContext,
    spec: &NodeSpec,
    p: u32,
) -> Result<Erased> {
    let f: F = conjure();
    let params: P = codec::decode(&spec.params, "flat_map_with parameters")?;
    let mut input = ctx.parent_push::<T>(spec, 0, p)?;
    Ok(erase_push(Push::new(move |sink| {
        input.next_chunk(&mut |x| {
            for y in f(&params, x) {
                sink(y)
            }
        })
    })))
}

/// The records of a partition one by one, for `map_partitions`; a failure
/// upstream ends the iteration and is reported after the user's function.
pub struct Records<T> {
    batches: Box<dyn Iterator<Item = Result<Vec<T>>> + Send>,
    current: std::vec::IntoIter<T>,
    error: Arc<Mutex<Option<Error>>>,
}

impl<T> Iterator for Records<T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        loop {
            if let Some(x) = self.current.next() {
                return Some(x);
            }
            match self.batches.next()? {
                Ok(b) => self.current = b.into_iter(),
                Err(e) => {
                    *self.error.lock().expect("error slot") = Some(e);
                    return None;
                }
            }
        }
    }
}

/// Parameters of a union: how many partitions each parent has.
#[derive(Serialize, Deserialize)]
pub(crate) struct UnionParams {
    pub parent_partitions: Vec<u32>,
}

pub(crate) fn compute_union<T: Data>(ctx: &TaskContext, spec: &NodeSpec, p: u32) -> Result<Erased> {
    let params: UnionParams = codec::decode(&spec.params, "union parameters")?;
    let mut local = p;
    for (i, n) in params.parent_partitions.iter().enumerate() {
        if local < *n {
            return Ok(erase(ctx.parent::<T>(spec, i, local)?));
        }
        local -= n;
    }
    Err(Error::Task(format!("union has no partition {p}")))
}

/// Estimated bytes of a partition held in memory: its sampled encoded size
/// plus the records' own size.
fn estimate_size<T: Data>(v: &[T]) -> usize {
    let sample = v.len().min(32);
    if sample == 0 {
        return 64;
    }
    let mut buf = Vec::new();
    for x in &v[..sample] {
        codec::encode_into(x, &mut buf);
    }
    64 + v.len() * (std::mem::size_of::<T>() + buf.len() / sample)
}

fn encode_vec<T: Data>(v: &(dyn std::any::Any + Send + Sync)) -> Vec<u8> {
    let v = v
        .downcast_ref::<Vec<T>>()
        .expect("cache entry of its own type");
    encode_partition(v)
}

fn stream_of<T: Data>(v: Arc<Vec<T>>) -> Stream<T> {
    let mut at = 0;
    Stream(Box::new(std::iter::from_fn(move || {
        if at >= v.len() {
            return None;
        }
        let end = (at + BATCH).min(v.len());
        let b = v[at..end].to_vec();
        at = end;
        Some(Ok(b))
    })))
}

/// A cached dataset: the partition from the block manager, or computed from
/// the parent and kept (so a lost or evicted partition is recomputed).
pub(crate) fn compute_cached<T: Data>(
    ctx: &TaskContext,
    spec: &NodeSpec,
    p: u32,
) -> Result<Erased> {
    // None once the dataset was unpersisted: computed, never kept.
    let Some(level) = codec::decode::<Option<StorageLevel>>(&spec.params, "storage level")? else {
        return Ok(erase(ctx.parent::<T>(spec, 0, p)?));
    };
    let key = (spec.id, p);
    let cache = ctx.services.cache();
    if level != StorageLevel::DiskOnly
        && let Some(v) = cache.get_memory(key)
        && let Ok(v) = v.downcast::<Vec<T>>()
    {
        return Ok(erase(stream_of(v)));
    }
    // Left in the cluster's file system by an executor that was released
    // when none stayed: copied here first, then read as one moved here.
    let read_back = ctx
        .cached_file(spec.id, p)
        .is_some_and(|file| take_from_file_system(cache, key, file, &spec.name));
    // Every level looks on disk: a partition moved here from an executor
    // that was released arrives encoded, and a memory-only one is then taken
    // into memory.
    if let Some(read) = cache.get_disk::<T>(key) {
        match read {
            Ok(v) => {
                let v = Arc::new(v);
                if level == StorageLevel::MemoryOnly
                    && cache.put_memory(key, v.clone(), estimate_size(&v), encode_vec::<T>, false)
                {
                    cache.remove_disk(key);
                }
                if read_back {
                    ctx.note_read_back(spec.id, p);
                }
                return Ok(erase(stream_of(v)));
            }
            // A damaged partition is a miss (as Spark treats a corrupt
            // block): recomputed below, never used, never a task failure.
            Err(e) => log_line(format!(
                "spindle: cached partition {p} of {} is unusable and is recomputed: {e}",
                spec.name
            )),
        }
    }
    let data = Arc::new(ctx.parent::<T>(spec, 0, p)?.collect_vec()?);
    match level {
        StorageLevel::DiskOnly => cache.put_disk(key, &encode_partition(&data)),
        StorageLevel::MemoryOnly | StorageLevel::MemoryAndDisk => {
            let spill = level == StorageLevel::MemoryAndDisk;
            if !cache.put_memory(
                key,
                data.clone(),
                estimate_size(&data),
                encode_vec::<T>,
                spill,
            ) {
                return Ok(erase(stream_of(data)));
            }
        }
    }
    ctx.note_cached(spec.id, p);
    Ok(erase(stream_of(data)))
}

/// Copies a cached partition's `file` from the cluster's file system into
/// the local block cache; false (logged: it is then recomputed) when it
/// cannot be read or kept. Its frames are checked when the task reads it.
fn take_from_file_system(
    cache: &crate::cache::BlockCache,
    key: (u32, u32),
    file: &str,
    name: &str,
) -> bool {
    match crate::io::read_whole(file).and_then(|bytes| cache.put_moved(key, &bytes)) {
        Ok(()) => true,
        Err(e) => {
            log_line(format!(
                "spindle: cached partition {} of {name} could not be read back and is recomputed: {e}",
                key.1
            ));
            false
        }
    }
}

/// Wraps a partition's input as [`Records`]; the slot receives an upstream failure.
fn records_of<T: Send + 'static>(input: Stream<T>) -> (Records<T>, Arc<Mutex<Option<Error>>>) {
    let error = Arc::new(Mutex::new(None));
    let records = Records {
        batches: input.0,
        current: Vec::new().into_iter(),
        error: error.clone(),
    };
    (records, error)
}

/// Batches what a user's partition function returned, ending with the
/// upstream failure if the records stopped because of one.
fn batched<U: Send + 'static>(
    mut out: impl Iterator<Item = U> + Send + 'static,
    error: Arc<Mutex<Option<Error>>>,
) -> Stream<U> {
    let mut done = false;
    Stream(Box::new(std::iter::from_fn(move || {
        if done {
            return None;
        }
        let batch: Vec<U> = out.by_ref().take(BATCH).collect();
        if let Some(e) = error.lock().expect("error slot").take() {
            done = true;
            return Some(Err(e));
        }
        if batch.is_empty() {
            done = true;
            return None;
        }
        Some(Ok(batch))
    })))
}

pub(crate) fn compute_map_partitions_with<
    P: Data,
    T: Data,
    U: Data,
    I: IntoIterator<Item = U>,
    F: Fn(&P, u32, Records<T>) -> I + Copy + Send + Sync + 'static,
>(
    ctx: &TaskContext,
    spec: &NodeSpec,
    p: u32,
) -> Result<Erased>
where
    I::IntoIter: Send + 'static,
{
    let f: F = conjure();
    let params: P = codec::decode(&spec.params, "map_partitions_with parameters")?;
    let (records, error) = records_of(ctx.parent::<T>(spec, 0, p)?);
    let out = f(&params, p, records).into_iter();
    Ok(erase(batched(out, error)))
}

/// Parameters of a coalesce: the parent's partition count.
#[derive(Serialize, Deserialize)]
pub(crate) struct CoalesceParams {
    pub parent_partitions: u32,
    pub partitions: u32,
}

impl CoalesceParams {
    /// The parent partitions that output partition `p` reads: a contiguous,
    /// even share, so order is kept.
    pub(crate) fn parents_of(&self, p: u32) -> std::ops::Range<u32> {
        let n = self.parent_partitions as u64;
        let m = self.partitions.max(1) as u64;
        let at = |i: u64| (n * i / m) as u32;
        at(p as u64)..at(p as u64 + 1)
    }
}

pub(crate) fn compute_coalesce<T: Data>(
    ctx: &TaskContext,
    spec: &NodeSpec,
    p: u32,
) -> Result<Erased> {
    let params: CoalesceParams = codec::decode(&spec.params, "coalesce parameters")?;
    let mut streams = Vec::new();
    for q in params.parents_of(p) {
        streams.push(ctx.parent::<T>(spec, 0, q)?.0);
    }
    Ok(erase(Stream::<T>(Box::new(streams.into_iter().flatten()))))
}

/// Parameters of a cartesian product: the second parent's partition count.
#[derive(Serialize, Deserialize)]
pub(crate) struct CartesianParams {
    pub right_partitions: u32,
}

/// Partition p pairs every record of left partition p / n with every
/// record of right partition p % n (the right one is held in memory).
pub(crate) fn compute_cartesian<T: Data, U: Data>(
    ctx: &TaskContext,
    spec: &NodeSpec,
    p: u32,
) -> Result<Erased> {
    let params: CartesianParams = codec::decode(&spec.params, "cartesian parameters")?;
    let n = params.right_partitions.max(1);
    let right = Arc::new(ctx.parent::<U>(spec, 1, p % n)?.collect_vec()?);
    let mut left = ctx.parent::<T>(spec, 0, p / n)?.0.fuse();
    let mut current: std::vec::IntoIter<T> = Vec::new().into_iter();
    let mut x: Option<T> = None;
    let mut at = 0usize;
    let iter = std::iter::from_fn(move || {
        if right.is_empty() {
            return None;
        }
        let mut out = Vec::with_capacity(BATCH);
        while out.len() < BATCH {
            if x.is_none() || at == right.len() {
                let next = loop {
                    if let Some(v) = current.next() {
                        break Some(v);
                    }
                    match left.next() {
                        None => break None,
                        Some(Err(e)) => return Some(Err(e)),
                        Some(Ok(b)) => current = b.into_iter(),
                    }
                };
                match next {
                    None => break,
                    Some(v) => {
                        x = Some(v);
                        at = 0;
                    }
                }
            }
            let l = x.as_ref().expect("a left record");
            let take = (BATCH - out.len()).min(right.len() - at);
            for y in &right[at..at + take] {
                out.push((l.clone(), y.clone()));
            }
            at += take;
        }
        (!out.is_empty()).then_some(Ok(out))
    });
    Ok(erase(Stream::<(T, U)>(Box::new(iter))))
}

/// A reproducible random stream (SplitMix64) for sampling.
pub(crate) struct SplitMix(u64);

impl SplitMix {
    /// The stream of partition `p` under `seed`.
    pub(crate) fn for_partition(seed: u64, p: u32) -> Self {
        let mut s = SplitMix(seed ^ (p as u64).wrapping_mul(0xD1B5_4A32_D192_ED03));
        s.next_u64();
        s
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub(crate) fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Poisson with mean `lambda` (Knuth's method; sampling fractions are small).
    pub(crate) fn poisson(&mut self, lambda: f64) -> usize {
        let limit = (-lambda).exp();
        let mut k = 0;
        let mut p = self.next_f64();
        while p > limit {
            k += 1;
            p *= self.next_f64();
        }
        k
    }
}

/// Parameters of `sample`.
#[derive(Clone, Copy, Serialize, Deserialize)]
pub(crate) struct SampleParams {
    pub with_replacement: bool,
    pub fraction: f64,
    pub seed: u64,
}

/// One partition's sample: each record kept with probability `fraction`
/// (Bernoulli), or a Poisson(`fraction`) number of times with replacement.
pub(crate) fn sample_partition<T: Clone + Send + 'static>(
    params: &SampleParams,
    p: u32,
    records: Records<T>,
) -> impl Iterator<Item = T> + Send + use<T> {
    let SampleParams {
        with_replacement,
        fraction,
        seed,
    } = *params;
    let mut rng = SplitMix::for_partition(seed, p);
    records.flat_map(move |x| {
        let copies = if with_replacement {
            rng.poisson(fraction)
        } else {
            usize::from(rng.next_f64() < fraction)
        };
        std::iter::repeat_n(x, copies)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Executor services for nodes that use none (sources computed in place),
    /// or only a block cache.
    struct NoServices(Option<crate::cache::BlockCache>);

    impl crate::task::ExecutorServices for NoServices {
        fn executor_id(&self) -> &str {
            "test"
        }
        fn scratch_dir(&self) -> &std::path::Path {
            std::path::Path::new("/nonexistent")
        }
        fn shuffle_path(&self, _: u32, _: u32, _: u32) -> std::path::PathBuf {
            unreachable!("no shuffle in these plans")
        }
        fn fetch_blocks(
            &self,
            _: &str,
            _: u32,
            _: Vec<u32>,
            _: u32,
        ) -> Result<crate::task::BlockIter> {
            unreachable!("no shuffle in these plans")
        }
        fn blob(&self, _: u64, _: u32) -> Result<Vec<u8>> {
            unreachable!("no blobs in these plans")
        }
        fn cache(&self) -> &crate::cache::BlockCache {
            self.0.as_ref().expect("no cache in these plans")
        }
        fn shuffle_memory(&self) -> usize {
            1 << 20
        }
    }

    fn node(id: u32, compute: crate::entry::ComputeFn, params: Vec<u8>) -> NodeSpec {
        NodeSpec {
            id,
            name: format!("node {id}"),
            compute: crate::entry::ComputeRef::new(compute),
            params,
            parents: if id == 0 {
                Vec::new()
            } else {
                vec![crate::plan::Parent::Node(id - 1)]
            },
            num_partitions: 1,
        }
    }

    fn flat_map_fn<T: Data, U: Data, I: IntoIterator<Item = U>, F>(_: F) -> crate::entry::ComputeFn
    where
        F: Fn(T) -> I + Copy + Send + Sync + 'static,
    {
        compute_flat_map::<T, U, I, F>
    }

    fn filter_fn<T: Data, F: Fn(&T) -> bool + Copy + Send + Sync + 'static>(
        _: F,
    ) -> crate::entry::ComputeFn {
        compute_filter::<T, F>
    }

    fn map_fn<T: Data, U: Data, F: Fn(T) -> U + Copy + Send + Sync + 'static>(
        _: F,
    ) -> crate::entry::ComputeFn {
        compute_map::<T, U, F>
    }

    fn map_with_fn<P: Data, T: Data, U: Data, F: Fn(&P, T) -> U + Copy + Send + Sync + 'static>(
        _: F,
    ) -> crate::entry::ComputeFn {
        compute_map_with::<P, T, U, F>
    }

    fn map_partitions_fn<T: Data, U: Data, F>(_: F) -> crate::entry::ComputeFn
    where
        F: Fn(&(), u32, Records<T>) -> Vec<U> + Copy + Send + Sync + 'static,
    {
        compute_map_partitions_with::<(), T, U, Vec<U>, F>
    }

    /// range → flat_map → filter → map_partitions (batches) → map → map_with:
    /// fused operations on both sides of one that takes batches.
    fn pipeline() -> (TaskContext, u32) {
        let range = super::super::source::RangeParams {
            start: 0,
            end: 20_000,
            partitions: 1,
        };
        let nodes = vec![
            node(
                0,
                super::super::source::compute_range,
                codec::encode(&range),
            ),
            node(
                1,
                flat_map_fn(|x: u64| (0..x % 4).map(move |i| x * 10 + i)),
                Vec::new(),
            ),
            node(2, filter_fn(|x: &u64| !x.is_multiple_of(3)), Vec::new()),
            node(
                3,
                map_partitions_fn(|_: &(), _, r: Records<u64>| r.map(|x| x + 1).collect()),
                codec::encode(&()),
            ),
            node(4, map_fn(|x: u64| (x % 7, x)), Vec::new()),
            node(
                5,
                map_with_fn(|p: &u64, (k, x): (u64, u64)| (k, x * p)),
                codec::encode(&5u64),
            ),
        ];
        let sink = crate::entry::SinkRef::new(super::super::actions::sink_collect::<(u64, u64)>);
        let ctx = task_context(nodes, 5, sink, Default::default(), NoServices(None));
        (ctx, 5)
    }

    /// range 0..100 (node 0) cached `MemoryOnly` (node 1), on an executor
    /// whose block cache is in `dir`; the task is told of `cached_files`.
    fn cached_range(dir: &std::path::Path, cached_files: Vec<(u32, u32, String)>) -> TaskContext {
        let range = super::super::source::RangeParams {
            start: 0,
            end: 100,
            partitions: 1,
        };
        let level = Some(StorageLevel::MemoryOnly);
        let nodes = vec![
            node(
                0,
                super::super::source::compute_range,
                codec::encode(&range),
            ),
            node(1, compute_cached::<u64>, codec::encode(&level)),
        ];
        let sink = crate::entry::SinkRef::new(super::super::actions::sink_collect::<u64>);
        let inputs = crate::plan::TaskInputs {
            shuffles: Vec::new(),
            cached_files,
        };
        let cache = crate::cache::BlockCache::new(1 << 20, dir.to_path_buf());
        task_context(nodes, 1, sink, inputs, NoServices(Some(cache)))
    }

    /// Partition 0's first attempt of a stage of `nodes` whose root is `root`.
    fn task_context(
        nodes: Vec<NodeSpec>,
        root: u32,
        sink: crate::entry::SinkRef,
        inputs: crate::plan::TaskInputs,
        services: NoServices,
    ) -> TaskContext {
        let plan = crate::plan::StagePlan {
            job_id: 1,
            stage_id: 0,
            probe: crate::entry::probe(),
            nodes,
            root,
            sink,
            sink_params: Vec::new(),
        };
        let cancel = Default::default();
        TaskContext::new(Arc::new(plan), inputs, Arc::new(services), 0, 0, cancel)
    }

    #[test]
    fn a_cached_partition_left_in_the_file_system_is_read_back_and_kept_not_recomputed() {
        let fs = tempfile::tempdir().unwrap();
        let file = |name: &str| fs.path().join(name).to_string_lossy().to_string();
        // Records the lineage would not give: what the task returns shows where it came from.
        std::fs::write(file("cached_1_0.lz4"), encode_partition(&[7u64, 8, 9])).unwrap();
        let computed: Vec<u64> = (0..100).collect();
        let run = |ctx: &TaskContext| ctx.compute::<u64>(1, 0).unwrap().collect_vec().unwrap();
        let taken = |m: &Mutex<Vec<(u32, u32)>>| std::mem::take(&mut *m.lock().unwrap());

        let local = tempfile::tempdir().unwrap();
        let ctx = cached_range(local.path(), vec![(1, 0, file("cached_1_0.lz4"))]);
        assert_eq!(run(&ctx), vec![7, 8, 9]);
        assert_eq!(taken(&ctx.read_back), vec![(1, 0)], "reported as read back");
        assert!(taken(&ctx.cached).is_empty(), "not computed again");
        // Kept as the level says (memory only), so the next task reads it here.
        assert!(ctx.services.cache().get_memory((1, 0)).is_some());
        assert!(ctx.services.cache().get_disk::<u64>((1, 0)).is_none());
        assert_eq!(run(&ctx), vec![7, 8, 9]);
        assert!(taken(&ctx.read_back).is_empty() && taken(&ctx.cached).is_empty());

        // A damaged or missing file: recomputed from lineage, never a failure.
        std::fs::write(file("cached_1_1.lz4"), b"not a partition").unwrap();
        for name in ["cached_1_1.lz4", "cached_1_2.lz4"] {
            let local = tempfile::tempdir().unwrap();
            let ctx = cached_range(local.path(), vec![(1, 0, file(name))]);
            assert_eq!(run(&ctx), computed, "{name}");
            assert!(taken(&ctx.read_back).is_empty(), "{name}");
            assert_eq!(taken(&ctx.cached), vec![(1, 0)], "{name}");
        }
    }

    #[test]
    fn fused_narrow_operations_give_what_batches_and_plain_iterators_give() {
        let want: Vec<(u64, u64)> = (0..20_000u64)
            .flat_map(|x| (0..x % 4).map(move |i| x * 10 + i))
            .filter(|x| !x.is_multiple_of(3))
            .map(|x| x + 1)
            .map(|x| (x % 7, x))
            .map(|(k, x)| (k, x * 5))
            .collect();
        assert!(want.len() > 10_000);
        let (ctx, root) = pipeline();
        // As batches (what a sink that takes batches gets)...
        let batches = ctx.compute::<(u64, u64)>(root, 0).unwrap();
        assert_eq!(batches.collect_vec().unwrap(), want);
        // ...and pushed record by record through every operation.
        let mut pushed = Vec::new();
        ctx.compute_push::<(u64, u64)>(root, 0)
            .unwrap()
            .try_for_each(|r| {
                pushed.push(r);
                Ok(())
            })
            .unwrap();
        assert_eq!(pushed, want);
        // A failing consumer ends the pass with its error.
        let mut seen = 0;
        let e = ctx
            .compute_push::<(u64, u64)>(root, 0)
            .unwrap()
            .try_for_each(|_| {
                seen += 1;
                if seen == 100 {
                    Err(Error::Task("enough".into()))
                } else {
                    Ok(())
                }
            })
            .unwrap_err();
        assert_eq!(e.to_string(), Error::Task("enough".into()).to_string());
        // A cancelled job stops between chunks.
        let mut push = ctx.compute_push::<(u64, u64)>(root, 0).unwrap();
        assert!(push.next_chunk(&mut |_| {}).unwrap());
        ctx.cancel.store(true, std::sync::atomic::Ordering::Relaxed);
        let e = push.next_chunk(&mut |_| {}).unwrap_err();
        assert!(matches!(e, Error::Cancelled { .. }), "{e}");
    }

    #[test]
    fn coalesce_reads_every_parent_once_in_order() {
        for (parents, n) in [(5, 2), (7, 3), (4, 4), (3, 1), (10, 7)] {
            let c = CoalesceParams {
                parent_partitions: parents,
                partitions: n,
            };
            let all: Vec<u32> = (0..n).flat_map(|p| c.parents_of(p)).collect();
            assert_eq!(all, (0..parents).collect::<Vec<_>>(), "{parents} into {n}");
            assert!((0..n).all(|p| !c.parents_of(p).is_empty()));
        }
    }

    #[test]
    fn sampling_streams_are_reproducible_and_have_the_right_means() {
        let draw = |seed, p| {
            let mut r = SplitMix::for_partition(seed, p);
            (0..4).map(|_| r.next_u64()).collect::<Vec<_>>()
        };
        assert_eq!(draw(1, 0), draw(1, 0));
        assert_ne!(draw(1, 0), draw(1, 1));
        assert_ne!(draw(1, 0), draw(2, 0));
        let mut r = SplitMix::for_partition(9, 3);
        let n = 200_000;
        let mean_u = (0..n).map(|_| r.next_f64()).sum::<f64>() / n as f64;
        assert!((mean_u - 0.5).abs() < 0.01, "{mean_u}");
        for lambda in [0.1, 0.5, 2.0] {
            let mean = (0..n).map(|_| r.poisson(lambda) as f64).sum::<f64>() / n as f64;
            assert!(
                (mean - lambda).abs() < 0.02 * lambda.max(1.0),
                "{lambda}: {mean}"
            );
        }
    }
}
