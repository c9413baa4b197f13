//! Shuffles: map-side writers (plain or combining, with spills) and the
//! reduce-side readers (plain, aggregating with spills, sorting, co-grouping).
//!
//! Each map task writes one lz4 frame file per non-empty reducer into its
//! executor's local dir; reducers read their own files directly and fetch the
//! others' from the executor that wrote them.

use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io::BufWriter;
use std::marker::PhantomData;
use std::path::PathBuf;

use rustc_hash::FxHasher;
use serde::{Deserialize, Serialize};

use crate::codec::{self, FrameReader, FrameWriter};
use crate::plan::NodeSpec;
use crate::task::{Erased, SinkOutput, Stream, TaskContext, erase};
use crate::{Data, Error, Result};

use super::external::{self, CombineMap, RecordSizer, SpillStats, Spills};
use super::map_combine::{BATCH, EncodedCombine};
use super::{log_line, verbose};

/// Parameters every shuffle writer gets.
#[derive(Serialize, Deserialize)]
pub(crate) struct WriteParams {
    pub shuffle_id: u32,
    pub reducers: u32,
    /// Partitioner parameters (range bounds).
    pub partitioner: Vec<u8>,
    /// Aggregator parameters (the zero value of aggregate_by_key).
    pub agg: Vec<u8>,
}

/// The hash of a key used to choose its reducer: the same in every process of
/// one binary (FxHash with fixed keys), then mixed so the reducer does not
/// correlate with the low bits hash tables use.
pub(crate) fn hash_key<K: Hash + ?Sized>(k: &K) -> u64 {
    let mut h = FxHasher::default();
    k.hash(&mut h);
    let mut x = h.finish();
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

/// Chooses the reducer of each record.
pub(crate) trait RecordPartitioner<R>: Sized + 'static {
    fn new(params: &[u8], reducers: u32) -> Result<Self>;
    fn partition(&mut self, record: &R) -> u32;
}

/// Pairs by the hash of their key.
pub(crate) struct HashByKey<K, V>(u64, PhantomData<fn() -> (K, V)>);

impl<K: Hash + 'static, V: 'static> RecordPartitioner<(K, V)> for HashByKey<K, V> {
    fn new(_: &[u8], reducers: u32) -> Result<Self> {
        Ok(HashByKey(reducers.max(1) as u64, PhantomData))
    }
    fn partition(&mut self, r: &(K, V)) -> u32 {
        (hash_key(&r.0) % self.0) as u32
    }
}

/// Pairs by ranges of their key: ascending, reducer i gets keys in
/// (bounds[i-1], bounds[i]]; descending, the order of reducers is reversed.
pub(crate) struct RangeByKey<K, V>(Vec<K>, bool, PhantomData<fn() -> V>);

impl<K: Data + Ord, V: 'static> RecordPartitioner<(K, V)> for RangeByKey<K, V> {
    fn new(params: &[u8], _: u32) -> Result<Self> {
        let (bounds, ascending): (Vec<K>, bool) = codec::decode(params, "range bounds")?;
        Ok(RangeByKey(bounds, ascending, PhantomData))
    }
    fn partition(&mut self, r: &(K, V)) -> u32 {
        let i = self.0.partition_point(|b| *b < r.0);
        if self.1 {
            i as u32
        } else {
            (self.0.len() - i) as u32
        }
    }
}

/// Any records, spread evenly (repartition).
pub(crate) struct RoundRobin<R>(u32, u32, PhantomData<fn() -> R>);

impl<R: 'static> RecordPartitioner<R> for RoundRobin<R> {
    fn new(params: &[u8], reducers: u32) -> Result<Self> {
        let seed: u32 = codec::decode(params, "round robin seed")?;
        Ok(RoundRobin(
            reducers.max(1),
            seed % reducers.max(1),
            PhantomData,
        ))
    }
    fn partition(&mut self, _: &R) -> u32 {
        self.1 = (self.1 + 1) % self.0;
        self.1
    }
}

/// How values of one key combine.
pub(crate) trait Aggregator<V>: 'static {
    type C: Data;
    type P: Data;
    /// Whether merging makes a combiner larger (values are kept, not folded),
    /// so the memory estimate counts every record, not only new keys.
    const GROWS: bool = false;
    /// Bytes a combiner holds in memory beyond its encoding (the slots of
    /// a Vec of values, with room to grow), for the memory estimate.
    fn extra_bytes(_c: &Self::C) -> usize {
        0
    }
    fn create(p: &Self::P, v: V) -> Self::C;
    fn merge_value(p: &Self::P, c: Self::C, v: V) -> Self::C;
    fn merge(p: &Self::P, c: Self::C, other: Self::C) -> Self::C;
}

/// reduce_by_key: C = V.
pub(crate) struct ReduceAgg<V, F>(PhantomData<fn() -> (V, F)>);

impl<V: Data, F: Fn(V, V) -> V + Copy + Send + Sync + 'static> Aggregator<V> for ReduceAgg<V, F> {
    type C = V;
    type P = ();
    fn create(_: &(), v: V) -> V {
        v
    }
    fn merge_value(_: &(), c: V, v: V) -> V {
        crate::entry::conjure::<F>()(c, v)
    }
    fn merge(_: &(), c: V, o: V) -> V {
        crate::entry::conjure::<F>()(c, o)
    }
}

/// aggregate_by_key: a zero value, a function adding a value, one merging two.
#[allow(clippy::type_complexity)]
pub(crate) struct AggregateAgg<V, C, S, M>(PhantomData<fn() -> (V, C, S, M)>);

impl<
    V: Data,
    C: Data,
    S: Fn(C, V) -> C + Copy + Send + Sync + 'static,
    M: Fn(C, C) -> C + Copy + Send + Sync + 'static,
> Aggregator<V> for AggregateAgg<V, C, S, M>
{
    type C = C;
    type P = C;
    fn create(zero: &C, v: V) -> C {
        crate::entry::conjure::<S>()(zero.clone(), v)
    }
    fn merge_value(_: &C, c: C, v: V) -> C {
        crate::entry::conjure::<S>()(c, v)
    }
    fn merge(_: &C, c: C, o: C) -> C {
        crate::entry::conjure::<M>()(c, o)
    }
}

/// group_by_key: all values in a Vec.
pub(crate) struct GroupAgg<V>(PhantomData<fn() -> V>);

impl<V: Data> Aggregator<V> for GroupAgg<V> {
    type C = Vec<V>;
    type P = ();
    const GROWS: bool = true;
    fn extra_bytes(c: &Vec<V>) -> usize {
        2 * c.len() * std::mem::size_of::<V>()
    }
    fn create(_: &(), v: V) -> Vec<V> {
        vec![v]
    }
    fn merge_value(_: &(), mut c: Vec<V>, v: V) -> Vec<V> {
        c.push(v);
        c
    }
    fn merge(_: &(), mut c: Vec<V>, mut o: Vec<V>) -> Vec<V> {
        c.append(&mut o);
        c
    }
}

/// One frame file per reducer, created on first use and renamed into place
/// when complete so a reader never sees half a block.
struct BlockWriters {
    paths: Vec<(PathBuf, PathBuf)>,
    writers: Vec<Option<FrameWriter<BufWriter<File>>>>,
}

impl BlockWriters {
    fn new(paths: Vec<PathBuf>) -> Self {
        let n = paths.len();
        BlockWriters {
            paths: paths
                .into_iter()
                .map(|p| {
                    let tmp = p.with_extension("tmp");
                    (p, tmp)
                })
                .collect(),
            writers: (0..n).map(|_| None).collect(),
        }
    }

    fn push<T: serde::Serialize>(&mut self, r: usize, record: &T) -> Result<()> {
        if self.writers[r].is_none() {
            let tmp = &self.paths[r].1;
            let f = crate::scratch::create_file(tmp)
                .map_err(|e| Error::io(format!("creating {}", tmp.display()), e))?;
            self.writers[r] = Some(FrameWriter::new(BufWriter::with_capacity(64 * 1024, f)));
        }
        self.writers[r]
            .as_mut()
            .expect("writer created above")
            .push(record)
            .map_err(|e| Error::io("writing shuffle block", e))
    }

    fn finish(self) -> Result<(Vec<u64>, u64)> {
        let mut sizes = Vec::with_capacity(self.writers.len());
        let mut total = 0;
        for (w, (path, tmp)) in self.writers.into_iter().zip(self.paths) {
            match w {
                None => {
                    // An empty file: a reader can tell "nothing for you" from "lost".
                    crate::scratch::create_file(&path)
                        .map_err(|e| Error::io(format!("creating {}", path.display()), e))?;
                    sizes.push(0);
                }
                Some(w) => {
                    let (_, n) = w
                        .finish()
                        .map_err(|e| Error::io("writing shuffle block", e))?;
                    std::fs::rename(&tmp, &path)
                        .map_err(|e| Error::io(format!("renaming {}", path.display()), e))?;
                    sizes.push(n.max(1));
                    total += n;
                }
            }
        }
        Ok((sizes, total))
    }
}

fn writers_for(ctx: &TaskContext, params: &WriteParams) -> BlockWriters {
    BlockWriters::new(
        (0..params.reducers)
            .map(|r| {
                ctx.services
                    .shuffle_path(params.shuffle_id, ctx.partition, r)
            })
            .collect(),
    )
}

/// Writes records as they are, each to the reducer its partitioner chooses.
pub(crate) fn sink_shuffle_plain<R: Data, P: RecordPartitioner<R>>(
    ctx: &TaskContext,
    input: Erased,
    params: &[u8],
) -> Result<SinkOutput> {
    let params: WriteParams = codec::decode(params, "shuffle parameters")?;
    let mut part = P::new(&params.partitioner, params.reducers)?;
    let input = downcast_push::<R>(input)?;
    let mut out = writers_for(ctx, &params);
    input.try_for_each(|r| {
        let to = part.partition(&r) as usize;
        out.push(to, &r)
    })?;
    let (sizes, bytes) = out.finish()?;
    Ok(SinkOutput::MapOutput { sizes, bytes })
}

/// Combines values by key before writing (map-side combine), flushing the
/// partial aggregates to the blocks whenever the memory limit is reached.
pub(crate) fn sink_shuffle_combine<K: Data + Hash + Eq, V: Data, A: Aggregator<V>>(
    ctx: &TaskContext,
    input: Erased,
    params: &[u8],
) -> Result<SinkOutput> {
    let params: WriteParams = codec::decode(params, "shuffle parameters")?;
    let aggp: A::P = codec::decode(&params.agg, "aggregator parameters")?;
    let input = downcast_push::<(K, V)>(input)?;
    let limit = ctx.services.shuffle_memory();
    let n = params.reducers.max(1) as u64;
    let mut out = writers_for(ctx, &params);
    let mut map: EncodedCombine<K, A::C> = EncodedCombine::new(A::GROWS);
    let mut sizer = RecordSizer::new();
    // A value kept in a growing combiner takes a Vec slot (room to grow included).
    let value_slot = if A::GROWS {
        2 * std::mem::size_of::<V>()
    } else {
        0
    };
    let flush =
        |map: &mut EncodedCombine<K, A::C>, out: &mut BlockWriters, full: bool| -> Result<()> {
            if verbose() && full {
                log_line(format!(
                    "spindle: task {}: spilled map-side aggregation of {} keys",
                    ctx.partition,
                    map.len()
                ));
            }
            for (k, c) in map.take_all()? {
                let r = (hash_key(&k) % n) as usize;
                out.push(r, &(k, c))?;
            }
            Ok(())
        };
    // Fused with the narrow operations before it: each record goes
    // straight from them into the map.
    let mut fold = |c, v| match c {
        None => A::create(&aggp, v),
        Some(c) => A::merge_value(&aggp, c, v),
    };
    let mut batch = Vec::with_capacity(BATCH);
    input.try_for_each(|(k, v)| {
        let size = sizer.observe(&(&k, &v)) + value_slot;
        batch.push((k, v, size));
        if batch.len() < BATCH {
            return Ok(());
        }
        map.update_batch(&mut batch, limit, &mut fold, |map| {
            flush(map, &mut out, true)
        })
    })?;
    map.update_batch(&mut batch, limit, &mut fold, |map| {
        flush(map, &mut out, true)
    })?;
    flush(&mut map, &mut out, false)?;
    let (sizes, bytes) = out.finish()?;
    Ok(SinkOutput::MapOutput { sizes, bytes })
}

fn downcast<T: Send + 'static>(e: Erased) -> Result<Stream<T>> {
    crate::task::unerase_stream::<T>(e)
        .ok_or_else(|| Error::Task("shuffle input of an unexpected type".into()))
}

fn downcast_push<T: Send + 'static>(e: Erased) -> Result<crate::task::Push<T>> {
    crate::task::unerase_push::<T>(e)
        .ok_or_else(|| Error::Task("shuffle input of an unexpected type".into()))
}

/// The blocks of one shuffle for this task's reducer, as batches of records.
pub(crate) fn read_shuffle<R: Data>(
    ctx: &TaskContext,
    shuffle_id: u32,
    reduce_id: u32,
) -> Result<Stream<R>> {
    let input = ctx.shuffle_input(shuffle_id)?.clone();
    let services = ctx.services.clone();
    let me = services.executor_id().to_string();
    // Each block with the executor that wrote it: a corrupt block fails the
    // fetch from that executor, so its map outputs are recomputed.
    let mut blocks: Vec<(String, crate::task::BlockIter)> = Vec::new();
    for src in input.sources {
        if src.executor_id == crate::blocks::FILE_SYSTEM_HOLDER {
            // Moved to the cluster's file system when their executor left.
            let (dir, exec) = (src.address.clone(), src.executor_id.clone());
            blocks.push((
                src.executor_id,
                Box::new(src.map_ids.into_iter().map(move |m| {
                    let path = format!(
                        "{dir}/{}",
                        crate::blocks::block_file(shuffle_id, m, reduce_id)
                    );
                    crate::io::read_whole(&path)
                        .map(|b| (m, b))
                        .map_err(|e| fetch_failed(shuffle_id, &exec, e))
                })),
            ));
        } else if src.executor_id == me {
            let paths: Vec<(u32, PathBuf)> = src
                .map_ids
                .iter()
                .map(|m| (*m, services.shuffle_path(shuffle_id, *m, reduce_id)))
                .collect();
            let exec = src.executor_id.clone();
            blocks.push((
                src.executor_id,
                Box::new(paths.into_iter().map(move |(m, p)| {
                    std::fs::read(&p)
                        .map(|b| (m, b))
                        .map_err(|e| Error::FetchFailed {
                            shuffle_id,
                            executor_id: exec.clone(),
                            message: format!("reading {}: {e}", p.display()),
                        })
                })),
            ));
        } else {
            let exec = src.executor_id.clone();
            let it = services
                .fetch_blocks(&src.address, shuffle_id, src.map_ids.clone(), reduce_id)
                .map_err(|e| fetch_failed(shuffle_id, &exec, e))?;
            blocks.push((
                src.executor_id,
                Box::new(it.map(move |r| r.map_err(|e| fetch_failed(shuffle_id, &exec, e)))),
            ));
        }
    }
    let mut blocks = blocks
        .into_iter()
        .flat_map(|(exec, it)| it.map(move |r| r.map(|(m, b)| (exec.clone(), m, b))));
    let mut current: Option<(String, u32, FrameReader)> = None;
    let iter = std::iter::from_fn(move || {
        loop {
            if let Some((exec, map_id, r)) = current.as_mut() {
                match r.next_batch::<R>() {
                    Ok(Some(b)) => return Some(Ok(b)),
                    Ok(None) => current = None,
                    Err(e @ Error::Corrupt { .. }) => {
                        return Some(Err(Error::FetchFailed {
                            shuffle_id,
                            executor_id: exec.clone(),
                            message: format!("map {map_id}: {e}"),
                        }));
                    }
                    Err(e) => return Some(Err(e)),
                }
            }
            match blocks.next()? {
                Ok((exec, m, bytes)) => current = Some((exec, m, FrameReader::new(bytes))),
                Err(e) => return Some(Err(e)),
            }
        }
    });
    Ok(Stream(Box::new(iter)))
}

fn fetch_failed(shuffle_id: u32, executor_id: &str, e: Error) -> Error {
    match e {
        Error::FetchFailed { .. } | Error::Cancelled { .. } => e,
        other => Error::FetchFailed {
            shuffle_id,
            executor_id: executor_id.to_string(),
            message: other.to_string(),
        },
    }
}

/// Reduce side of a plain shuffle: the records as they come.
pub(crate) fn compute_shuffle_plain<R: Data>(
    ctx: &TaskContext,
    spec: &NodeSpec,
    p: u32,
) -> Result<Erased> {
    let sid = ctx.shuffle_parent(spec, 0)?;
    Ok(erase(read_shuffle::<R>(ctx, sid, p)?))
}

/// Parameters of a sorted shuffle read.
#[derive(Serialize, Deserialize)]
pub(crate) struct SortParams {
    pub ascending: bool,
}

/// Spill files of one task attempt's reduce side: unique names in the
/// executor's scratch dir.
fn spills_for<T: Data>(ctx: &TaskContext, spec: &NodeSpec, p: u32) -> Spills<T> {
    let tag = format!(
        "spill_{}_{}_{}_{}",
        ctx.plan.stage_id, spec.id, p, ctx.attempt
    );
    Spills::new(ctx.services.scratch_dir(), tag)
}

fn report(p: u32, what: &str, stats: SpillStats) {
    if verbose() && stats.runs > 0 {
        log_line(format!(
            "spindle: task {p}: {what} spilled {} sorted runs ({} records, {} bytes) to disk and merged them",
            stats.runs, stats.records, stats.bytes
        ));
    }
}

/// Reduce side of sort_by_key: the partition's pairs sorted by key; past
/// the memory limit, sorted runs go to local disk and are merged.
pub(crate) fn compute_shuffle_sorted<K: Data + Ord, V: Data>(
    ctx: &TaskContext,
    spec: &NodeSpec,
    p: u32,
) -> Result<Erased> {
    let params: SortParams = codec::decode(&spec.params, "sort parameters")?;
    let sid = ctx.shuffle_parent(spec, 0)?;
    let input = read_shuffle::<(K, V)>(ctx, sid, p)?;
    let (out, stats) = external::sort_pairs(
        input.0,
        params.ascending,
        ctx.services.shuffle_memory(),
        spills_for(ctx, spec, p),
    )?;
    report(p, "sort_by_key", stats);
    Ok(erase(Stream(out)))
}

/// Reduce side of an aggregation: merges combiners by key; past the memory
/// limit the map is spilled sorted by key hash and the runs merged at the
/// end, so a reducer larger than memory finishes.
pub(crate) fn compute_shuffle_combine<K: Data + Hash + Eq, V: Data, A: Aggregator<V>>(
    ctx: &TaskContext,
    spec: &NodeSpec,
    p: u32,
) -> Result<Erased> {
    let aggp: A::P = codec::decode(&spec.params, "aggregator parameters")?;
    let sid = ctx.shuffle_parent(spec, 0)?;
    let input = read_shuffle::<(K, A::C)>(ctx, sid, p)?;
    let limit = ctx.services.shuffle_memory();
    let mut map: CombineMap<K, A::C> = CombineMap::new(A::GROWS);
    let mut spills = spills_for(ctx, spec, p);
    let mut sizer = RecordSizer::new();
    let spill = |map: &mut CombineMap<K, A::C>, spills: &mut Spills<_>| {
        if verbose() {
            log_line(format!(
                "spindle: task {p}: spilled reduce-side aggregation of {} keys to disk",
                map.len()
            ));
        }
        map.spill_sorted(spills)
    };
    for batch in input.0 {
        for (k, c) in batch? {
            let size = sizer.observe(&(&k, &c)) + A::extra_bytes(&c);
            map.update_within(
                k,
                size,
                limit,
                |old| match old {
                    None => c,
                    Some(o) => A::merge(&aggp, o, c),
                },
                |map| spill(map, &mut spills),
            )?;
        }
    }
    let (out, stats) = map.finish(spills, move |a, b| A::merge(&aggp, a, b))?;
    report(p, spec.name.as_str(), stats);
    Ok(erase(Stream::<(K, A::C)>(out)))
}

/// Adds one side of a cogroup to `map` (`push` puts a value in its side's list), spilling
/// past `limit` as an aggregation does.
#[allow(clippy::type_complexity)]
fn add_side<K: Data + Hash + Eq, V: Data, W: Data, X: Data>(
    map: &mut CombineMap<K, (Vec<V>, Vec<W>)>,
    spills: &mut Spills<(u64, K, (Vec<V>, Vec<W>))>,
    limit: usize,
    batches: impl Iterator<Item = Result<Vec<(K, X)>>>,
    push: impl Fn(&mut (Vec<V>, Vec<W>), X),
) -> Result<()> {
    let mut sizer = RecordSizer::new();
    for b in batches {
        for (k, x) in b? {
            let size = sizer.observe(&(&k, &x)) + 2 * std::mem::size_of::<X>();
            map.update_within(
                k,
                size,
                limit,
                |c| {
                    let mut c = c.unwrap_or_default();
                    push(&mut c, x);
                    c
                },
                |map| map.spill_sorted(spills),
            )?;
        }
    }
    Ok(())
}

/// Reduce side of cogroup: both shuffles' values grouped by key, spilled
/// and merged like an aggregation past the memory limit (the values of one
/// key are held in memory together).
#[allow(clippy::type_complexity)]
pub(crate) fn compute_cogroup<K: Data + Hash + Eq, V: Data, W: Data>(
    ctx: &TaskContext,
    spec: &NodeSpec,
    p: u32,
) -> Result<Erased> {
    let left = read_shuffle::<(K, V)>(ctx, ctx.shuffle_parent(spec, 0)?, p)?;
    let right = read_shuffle::<(K, W)>(ctx, ctx.shuffle_parent(spec, 1)?, p)?;
    let limit = ctx.services.shuffle_memory();
    let mut map: CombineMap<K, (Vec<V>, Vec<W>)> = CombineMap::new(true);
    let mut spills = spills_for(ctx, spec, p);
    add_side(&mut map, &mut spills, limit, left.0, |c, v| c.0.push(v))?;
    add_side(&mut map, &mut spills, limit, right.0, |c, w| c.1.push(w))?;
    let (out, stats) = map.finish(spills, |mut a, mut b| {
        a.0.append(&mut b.0);
        a.1.append(&mut b.1);
        a
    })?;
    report(p, "cogroup", stats);
    Ok(erase(Stream::<(K, (Vec<V>, Vec<W>))>(out)))
}

/// The values of one key on a join's build side: one without a Vec of its
/// own (the common case of unique keys), more in a Vec.
enum BuildValues<W> {
    One(W),
    Many(Vec<W>),
}

impl<W> BuildValues<W> {
    fn push(&mut self, w: W) {
        match self {
            BuildValues::Many(ws) => ws.push(w),
            BuildValues::One(_) => {
                let BuildValues::One(first) =
                    std::mem::replace(self, BuildValues::Many(Vec::with_capacity(2)))
                else {
                    unreachable!("matched One above")
                };
                if let BuildValues::Many(ws) = self {
                    ws.push(first);
                    ws.push(w);
                }
            }
        }
    }

    fn as_slice(&self) -> &[W] {
        match self {
            BuildValues::One(w) => std::slice::from_ref(w),
            BuildValues::Many(ws) => ws,
        }
    }
}

/// Reads a join's build side (the right one) into a hash table by key, or
/// None when it would hold more than `limit` bytes or the executor runs
/// short of memory while it grows.
#[allow(clippy::type_complexity)]
fn build_side<K: Data + Hash + Eq, W: Data>(
    input: Stream<(K, W)>,
    limit: usize,
) -> Result<Option<rustc_hash::FxHashMap<K, BuildValues<W>>>> {
    let mut table: rustc_hash::FxHashMap<K, BuildValues<W>> = Default::default();
    let mut sizer = RecordSizer::new();
    let mut heap = 0usize;
    let slot = std::mem::size_of::<(K, BuildValues<W>)>() + 1;
    let mut pressure = crate::memory::Pressure::new();
    for b in input.0 {
        if pressure.raised() && heap > crate::memory::MIN_SPILL {
            return Ok(None);
        }
        for (k, w) in b? {
            heap += sizer.observe(&(&k, &w)) + std::mem::size_of::<W>();
            match table.entry(k) {
                std::collections::hash_map::Entry::Occupied(mut e) => e.get_mut().push(w),
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(BuildValues::One(w));
                }
            }
            if heap + table.capacity() * slot * 8 / 7 > limit {
                return Ok(None);
            }
        }
    }
    Ok(Some(table))
}

/// Reduce side of an inner join: the right side's records of this
/// partition in a hash table, the left side's streamed past it (a shuffled
/// hash join: only the build side is held). When the build side does not
/// fit in the memory limit, both sides are co-grouped instead, spilling as
/// `cogroup` does.
pub(crate) fn compute_hash_join<K: Data + Hash + Eq, V: Data, W: Data>(
    ctx: &TaskContext,
    spec: &NodeSpec,
    p: u32,
) -> Result<Erased> {
    let limit = ctx.services.shuffle_memory();
    let right = read_shuffle::<(K, W)>(ctx, ctx.shuffle_parent(spec, 1)?, p)?;
    let Some(table) = build_side::<K, W>(right, limit)? else {
        if verbose() {
            log_line(format!(
                "spindle: task {p}: join's build side exceeds the memory limit; co-grouping instead"
            ));
        }
        let grouped = compute_cogroup::<K, V, W>(ctx, spec, p)?;
        let grouped = downcast::<(K, (Vec<V>, Vec<W>))>(grouped)?;
        return Ok(erase(grouped.map_batches(|b| {
            let mut out = Vec::with_capacity(b.len());
            for (k, (vs, ws)) in b {
                for v in &vs {
                    for w in &ws {
                        out.push((k.clone(), (v.clone(), w.clone())));
                    }
                }
            }
            out
        })));
    };
    let left = read_shuffle::<(K, V)>(ctx, ctx.shuffle_parent(spec, 0)?, p)?;
    Ok(erase(left.map_batches(move |b| {
        let mut out = Vec::with_capacity(b.len());
        for (k, v) in b {
            if let Some(ws) = table.get(&k) {
                let ws = ws.as_slice();
                for w in &ws[..ws.len() - 1] {
                    out.push((k.clone(), (v.clone(), w.clone())));
                }
                out.push((k, (v, ws[ws.len() - 1].clone())));
            }
        }
        out
    })))
}

/// combine_by_key: a combiner made from a key's first value, values added
/// to it, combiners merged.
#[allow(clippy::type_complexity)]
pub(crate) struct CombineAgg<V, C, Cr, Mv, Mc>(PhantomData<fn() -> (V, C, Cr, Mv, Mc)>);

impl<
    V: Data,
    C: Data,
    Cr: Fn(V) -> C + Copy + Send + Sync + 'static,
    Mv: Fn(C, V) -> C + Copy + Send + Sync + 'static,
    Mc: Fn(C, C) -> C + Copy + Send + Sync + 'static,
> Aggregator<V> for CombineAgg<V, C, Cr, Mv, Mc>
{
    type C = C;
    type P = ();
    fn create(_: &(), v: V) -> C {
        crate::entry::conjure::<Cr>()(v)
    }
    fn merge_value(_: &(), c: C, v: V) -> C {
        crate::entry::conjure::<Mv>()(c, v)
    }
    fn merge(_: &(), c: C, o: C) -> C {
        crate::entry::conjure::<Mc>()(c, o)
    }
}
