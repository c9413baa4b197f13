//! `Dataset<T>`: a distributed collection described by its lineage, with
//! transformations (lazy) and actions (which run a job).

use std::fmt::Display;
use std::hash::Hash;
use std::marker::PhantomData;
use std::sync::Arc;

use crate::cache::StorageLevel;
use crate::codec;
use crate::context::Context;
use crate::entry::{ComputeFn, ComputeRef, SinkFn, SinkRef, assert_captures_nothing};
use crate::graph::{Dep, NodeDef, ShuffleDef};
use crate::io::Codec;
use crate::ops::{actions, narrow, shuffle, source};
use crate::{Data, Result};

#[cfg(feature = "columnar")]
mod columnar;
mod keyed;
mod reshape;
mod storage;
mod summaries;

/// A distributed collection of records of type `T`.
///
/// Closures given to its methods must capture nothing (see the crate docs).
pub struct Dataset<T> {
    pub(crate) ctx: Context,
    pub(crate) node: Arc<NodeDef>,
    _t: PhantomData<fn() -> T>,
}

impl<T> Clone for Dataset<T> {
    fn clone(&self) -> Self {
        Dataset {
            ctx: self.ctx.clone(),
            node: self.node.clone(),
            _t: PhantomData,
        }
    }
}

impl<T: Data> Dataset<T> {
    /// A new lineage node (with a fresh id) and the dataset it computes.
    pub(crate) fn new_node(
        ctx: &Context,
        name: &'static str,
        compute: ComputeFn,
        params: Vec<u8>,
        deps: Vec<Dep>,
        num_partitions: u32,
    ) -> Self {
        let node = NodeDef {
            id: ctx.next_node_id(),
            name,
            compute: ComputeRef::new(compute),
            params,
            deps,
            num_partitions,
        };
        Dataset {
            ctx: ctx.clone(),
            node: Arc::new(node),
            _t: PhantomData,
        }
    }

    fn derive<U: Data>(
        &self,
        name: &'static str,
        compute: ComputeFn,
        params: Vec<u8>,
    ) -> Dataset<U> {
        Dataset::new_node(
            &self.ctx,
            name,
            compute,
            params,
            vec![Dep::Narrow(self.node.clone())],
            self.node.num_partitions,
        )
    }

    /// The context this dataset belongs to.
    pub fn context(&self) -> &Context {
        &self.ctx
    }

    /// Number of partitions.
    pub fn num_partitions(&self) -> u32 {
        self.node.num_partitions
    }

    /// Applies `f` to every record.
    pub fn map<U: Data, F: Fn(T) -> U + Copy + Send + Sync + 'static>(&self, _f: F) -> Dataset<U> {
        const { assert_captures_nothing::<F>() };
        self.derive("map", narrow::compute_map::<T, U, F>, Vec::new())
    }

    /// Keeps the records for which `f` is true.
    pub fn filter<F: Fn(&T) -> bool + Copy + Send + Sync + 'static>(&self, _f: F) -> Dataset<T> {
        const { assert_captures_nothing::<F>() };
        self.derive("filter", narrow::compute_filter::<T, F>, Vec::new())
    }

    /// Replaces every record by the records `f` returns.
    pub fn flat_map<
        U: Data,
        I: IntoIterator<Item = U>,
        F: Fn(T) -> I + Copy + Send + Sync + 'static,
    >(
        &self,
        _f: F,
    ) -> Dataset<U> {
        const { assert_captures_nothing::<F>() };
        self.derive(
            "flat_map",
            narrow::compute_flat_map::<T, U, I, F>,
            Vec::new(),
        )
    }

    /// Like `map`, with parameters that are serialized with the task and
    /// given to `f` by reference: the way to use driver-side values.
    pub fn map_with<P: Data, U: Data, F: Fn(&P, T) -> U + Copy + Send + Sync + 'static>(
        &self,
        params: P,
        _f: F,
    ) -> Dataset<U> {
        const { assert_captures_nothing::<F>() };
        self.derive(
            "map_with",
            narrow::compute_map_with::<P, T, U, F>,
            codec::encode(&params),
        )
    }

    /// Like `flat_map`, with serialized parameters.
    pub fn flat_map_with<
        P: Data,
        U: Data,
        I: IntoIterator<Item = U>,
        F: Fn(&P, T) -> I + Copy + Send + Sync + 'static,
    >(
        &self,
        params: P,
        _f: F,
    ) -> Dataset<U> {
        const { assert_captures_nothing::<F>() };
        self.derive(
            "flat_map_with",
            narrow::compute_flat_map_with::<P, T, U, I, F>,
            codec::encode(&params),
        )
    }

    /// Applies `f` to each whole partition: `f(partition index, records)`.
    pub fn map_partitions<U: Data, I, F>(&self, _f: F) -> Dataset<U>
    where
        I: IntoIterator<Item = U>,
        I::IntoIter: Send + 'static,
        F: Fn(u32, narrow::Records<T>) -> I + Copy + Send + Sync + 'static,
    {
        const { assert_captures_nothing::<F>() };
        self.map_partitions_with((), |_, p, records| crate::entry::conjure::<F>()(p, records))
    }

    /// Keeps computed partitions in executor memory for later jobs.
    pub fn cache(&self) -> Dataset<T> {
        self.persist(StorageLevel::MemoryOnly)
    }

    /// Keeps computed partitions at `level` for later jobs; partitions that are
    /// evicted or lost with their executor are recomputed from the lineage.
    pub fn persist(&self, level: StorageLevel) -> Dataset<T> {
        self.derive(
            "cached",
            narrow::compute_cached::<T>,
            codec::encode(&Some(level)),
        )
    }

    /// The records of both datasets (partitions of `self`, then of `other`).
    pub fn union(&self, other: &Dataset<T>) -> Dataset<T> {
        let params = narrow::UnionParams {
            parent_partitions: vec![self.node.num_partitions, other.node.num_partitions],
        };
        Dataset::new_node(
            &self.ctx,
            "union",
            narrow::compute_union::<T>,
            codec::encode(&params),
            vec![
                Dep::Narrow(self.node.clone()),
                Dep::Narrow(other.node.clone()),
            ],
            self.node.num_partitions + other.node.num_partitions,
        )
    }

    /// Spreads the records evenly over `partitions` partitions (a shuffle).
    pub fn repartition(&self, partitions: u32) -> Dataset<T> {
        let partitions = partitions.max(1);
        let sid = self.ctx.next_shuffle_id();
        let write = shuffle::WriteParams {
            shuffle_id: sid,
            reducers: partitions,
            partitioner: codec::encode(&sid),
            agg: Vec::new(),
        };
        let dep = ShuffleDef {
            id: sid,
            parent: self.node.clone(),
            sink: SinkRef::new(shuffle::sink_shuffle_plain::<T, shuffle::RoundRobin<T>>),
            sink_params: codec::encode(&write),
            reducers: partitions,
        };
        self.shuffled(
            "repartition",
            dep,
            shuffle::compute_shuffle_plain::<T>,
            Vec::new(),
        )
    }

    fn shuffled<U: Data>(
        &self,
        name: &'static str,
        dep: ShuffleDef,
        read: ComputeFn,
        params: Vec<u8>,
    ) -> Dataset<U> {
        let reducers = dep.reducers;
        Dataset::new_node(
            &self.ctx,
            name,
            read,
            params,
            vec![Dep::Shuffle(Arc::new(dep))],
            reducers,
        )
    }

    /// Each distinct record once.
    pub fn distinct(&self) -> Dataset<T>
    where
        T: Hash + Eq,
    {
        self.map(|x| (x, ()))
            .reduce_by_key(|_, _| ())
            .map(|(x, _)| x)
    }

    fn run(
        &self,
        name: &'static str,
        sink: SinkFn,
        params: Vec<u8>,
        partitions: Vec<u32>,
    ) -> Result<Vec<Vec<u8>>> {
        self.ctx
            .run_job(name, &self.node, SinkRef::new(sink), params, partitions)
    }

    fn all_partitions(&self) -> Vec<u32> {
        (0..self.node.num_partitions).collect()
    }

    /// All records, in partition order.
    pub fn collect(&self) -> Result<Vec<T>> {
        let parts = self.run(
            "collect",
            actions::sink_collect::<T>,
            Vec::new(),
            self.all_partitions(),
        )?;
        let mut out = Vec::new();
        for p in parts {
            out.extend(codec::decode::<Vec<T>>(&p, "collected partition")?);
        }
        Ok(out)
    }

    /// The number of records.
    pub fn count(&self) -> Result<u64> {
        let parts = self.run(
            "count",
            actions::sink_count::<T>,
            Vec::new(),
            self.all_partitions(),
        )?;
        parts
            .iter()
            .try_fold(0u64, |acc, p| Ok(acc + codec::decode::<u64>(p, "count")?))
    }

    /// Combines all records with `f` (None for an empty dataset).
    pub fn reduce<F: Fn(T, T) -> T + Copy + Send + Sync + 'static>(
        &self,
        f: F,
    ) -> Result<Option<T>> {
        const { assert_captures_nothing::<F>() };
        let parts = self.run(
            "reduce",
            actions::sink_reduce::<T, F>,
            Vec::new(),
            self.all_partitions(),
        )?;
        let mut acc: Option<T> = None;
        for p in parts {
            if let Some(x) = codec::decode::<Option<T>>(&p, "reduced partition")? {
                acc = Some(match acc {
                    None => x,
                    Some(a) => f(a, x),
                });
            }
        }
        Ok(acc)
    }

    /// The first `n` records, scanning as few partitions as it can.
    pub fn take(&self, n: usize) -> Result<Vec<T>> {
        let mut out = Vec::new();
        let total = self.node.num_partitions;
        let mut next = 0u32;
        let mut batch = 1u32;
        while out.len() < n && next < total {
            let parts: Vec<u32> = (next..(next + batch).min(total)).collect();
            next += parts.len() as u32;
            let want = (n - out.len()) as u64;
            for p in self.run("take", actions::sink_take::<T>, codec::encode(&want), parts)? {
                let recs: Vec<T> = codec::decode(&p, "taken records")?;
                out.extend(recs.into_iter().take(n - out.len()));
            }
            batch *= 4;
        }
        Ok(out)
    }

    /// The first record.
    pub fn first(&self) -> Result<Option<T>> {
        Ok(self.take(1)?.into_iter().next())
    }

    /// Runs `f` on every record, in the executors.
    pub fn foreach<F: Fn(T) + Copy + Send + Sync + 'static>(&self, _f: F) -> Result<()> {
        const { assert_captures_nothing::<F>() };
        self.foreach_with((), |_, x| crate::entry::conjure::<F>()(x))
    }

    /// Writes one line per record into `path` (a directory that must not
    /// exist: `hdfs://`, `file://`, or a path in `fs.defaultFS`): part files
    /// appear only when the whole job succeeded; a failed job leaves nothing
    /// behind.
    pub fn save_as_text_file(&self, path: &str) -> Result<()>
    where
        T: Display,
    {
        self.save_with(
            path,
            actions::sink_save_text::<T>,
            "save_as_text_file",
            "",
            None,
        )
    }

    /// [`save_as_text_file`](Self::save_as_text_file), each part file
    /// compressed with `codec` and named with its extension
    /// (`part-00000.gz`), as Spark's `saveAsTextFile(path, codec)`; Hadoop's
    /// `TextInputFormat`, and [`Context::text_file`](crate::Context::text_file),
    /// read it back.
    ///
    /// ```no_run
    /// # fn f(words: spindle_core::Dataset<String>) -> spindle_core::Result<()> {
    /// use spindle_core::io::Codec;
    /// words.save_as_text_file_with_codec("hdfs:///out/words", Codec::Gzip)?;
    /// # Ok(()) }
    /// ```
    pub fn save_as_text_file_with_codec(&self, path: &str, codec: Codec) -> Result<()>
    where
        T: Display,
    {
        self.save_with(
            path,
            actions::sink_save_text::<T>,
            "save_as_text_file",
            "",
            Some(codec),
        )
    }
}

/// Operations on key-value datasets.
impl<K: Data + Hash + Eq, V: Data> Dataset<(K, V)> {
    fn combine<A: shuffle::Aggregator<V>>(
        &self,
        name: &'static str,
        agg_params: Vec<u8>,
        partitions: u32,
    ) -> Dataset<(K, A::C)> {
        let partitions = partitions.max(1);
        let sid = self.ctx.next_shuffle_id();
        let write = shuffle::WriteParams {
            shuffle_id: sid,
            reducers: partitions,
            partitioner: Vec::new(),
            agg: agg_params.clone(),
        };
        let dep = ShuffleDef {
            id: sid,
            parent: self.node.clone(),
            sink: SinkRef::new(shuffle::sink_shuffle_combine::<K, V, A>),
            sink_params: codec::encode(&write),
            reducers: partitions,
        };
        self.shuffled(
            name,
            dep,
            shuffle::compute_shuffle_combine::<K, V, A>,
            agg_params,
        )
    }

    fn plain_shuffle(&self, partitions: u32) -> ShuffleDef {
        let partitions = partitions.max(1);
        let sid = self.ctx.next_shuffle_id();
        let write = shuffle::WriteParams {
            shuffle_id: sid,
            reducers: partitions,
            partitioner: Vec::new(),
            agg: Vec::new(),
        };
        ShuffleDef {
            id: sid,
            parent: self.node.clone(),
            sink: SinkRef::new(shuffle::sink_shuffle_plain::<(K, V), shuffle::HashByKey<K, V>>),
            sink_params: codec::encode(&write),
            reducers: partitions,
        }
    }

    /// Merges the values of each key with `f` (combined on the map side first).
    pub fn reduce_by_key<F: Fn(V, V) -> V + Copy + Send + Sync + 'static>(
        &self,
        _f: F,
    ) -> Dataset<(K, V)> {
        self.reduce_by_key_into(_f, self.ctx.default_parallelism())
    }

    /// `reduce_by_key` into `partitions` partitions.
    pub fn reduce_by_key_into<F: Fn(V, V) -> V + Copy + Send + Sync + 'static>(
        &self,
        _f: F,
        partitions: u32,
    ) -> Dataset<(K, V)> {
        const { assert_captures_nothing::<F>() };
        self.combine::<shuffle::ReduceAgg<V, F>>("reduce_by_key", codec::encode(&()), partitions)
    }

    /// All values of each key.
    pub fn group_by_key(&self) -> Dataset<(K, Vec<V>)> {
        self.combine::<shuffle::GroupAgg<V>>(
            "group_by_key",
            codec::encode(&()),
            self.ctx.default_parallelism(),
        )
    }

    /// Folds the values of each key into `zero` with `seq`, merging partial
    /// results with `comb` (map-side combine).
    pub fn aggregate_by_key<C: Data, S, M>(&self, zero: C, _seq: S, _comb: M) -> Dataset<(K, C)>
    where
        S: Fn(C, V) -> C + Copy + Send + Sync + 'static,
        M: Fn(C, C) -> C + Copy + Send + Sync + 'static,
    {
        const { assert_captures_nothing::<S>() };
        const { assert_captures_nothing::<M>() };
        self.combine::<shuffle::AggregateAgg<V, C, S, M>>(
            "aggregate_by_key",
            codec::encode(&zero),
            self.ctx.default_parallelism(),
        )
    }

    /// Moves pairs to partitions by the hash of their key.
    pub fn partition_by_key(&self, partitions: u32) -> Dataset<(K, V)> {
        let dep = self.plain_shuffle(partitions);
        self.shuffled(
            "partition_by_key",
            dep,
            shuffle::compute_shuffle_plain::<(K, V)>,
            Vec::new(),
        )
    }

    /// For each key, its values in `self` and in `other`.
    #[allow(clippy::type_complexity)]
    pub fn cogroup<W: Data>(&self, other: &Dataset<(K, W)>) -> Dataset<(K, (Vec<V>, Vec<W>))> {
        let n = self.ctx.default_parallelism();
        let left = self.plain_shuffle(n);
        let right = other.plain_shuffle(n);
        Dataset::new_node(
            &self.ctx,
            "cogroup",
            shuffle::compute_cogroup::<K, V, W>,
            Vec::new(),
            vec![Dep::Shuffle(Arc::new(left)), Dep::Shuffle(Arc::new(right))],
            n,
        )
    }

    /// Inner join: a pair for every matching (v, w).
    ///
    /// Each reducer holds its share of `other` in a hash table and streams
    /// its share of `self` past it, so put the smaller dataset on the right;
    /// a share of `other` beyond the shuffle memory limit is co-grouped
    /// (and spilled) instead.
    pub fn join<W: Data>(&self, other: &Dataset<(K, W)>) -> Dataset<(K, (V, W))> {
        let n = self.ctx.default_parallelism();
        let left = self.plain_shuffle(n);
        let right = other.plain_shuffle(n);
        Dataset::new_node(
            &self.ctx,
            "join",
            shuffle::compute_hash_join::<K, V, W>,
            Vec::new(),
            vec![Dep::Shuffle(Arc::new(left)), Dep::Shuffle(Arc::new(right))],
            n,
        )
    }

    /// Left outer join: every pair of `self`, with None where `other` has no match.
    pub fn left_outer_join<W: Data>(
        &self,
        other: &Dataset<(K, W)>,
    ) -> Dataset<(K, (V, Option<W>))> {
        self.cogroup(other).flat_map(|(k, (vs, ws))| {
            let mut out = Vec::with_capacity(vs.len() * ws.len().max(1));
            for v in &vs {
                if ws.is_empty() {
                    out.push((k.clone(), (v.clone(), None)));
                }
                for w in &ws {
                    out.push((k.clone(), (v.clone(), Some(w.clone()))));
                }
            }
            out
        })
    }

    /// The keys.
    pub fn keys(&self) -> Dataset<K> {
        self.map(|(k, _)| k)
    }

    /// The values.
    pub fn values(&self) -> Dataset<V> {
        self.map(|(_, v)| v)
    }

    /// Applies `f` to every value.
    pub fn map_values<U: Data, F: Fn(V) -> U + Copy + Send + Sync + 'static>(
        &self,
        _f: F,
    ) -> Dataset<(K, U)> {
        const { assert_captures_nothing::<F>() };
        self.map(|(k, v)| (k, crate::entry::conjure::<F>()(v)))
    }

    /// Counts the pairs of each key, on the driver.
    pub fn count_by_key(&self) -> Result<std::collections::HashMap<K, u64>> {
        Ok(self
            .map(|(k, _)| (k, 1u64))
            .reduce_by_key(|a, b| a + b)
            .collect()?
            .into_iter()
            .collect())
    }
}

/// Sorting of key-value datasets.
impl<K: Data + Hash + Eq + Ord, V: Data> Dataset<(K, V)> {
    /// Sorts by key into `partitions` range partitions: partition i holds
    /// smaller keys than partition i+1, so collecting gives a total order.
    /// Samples the keys first (a small job) to choose the ranges.
    pub fn sort_by_key(&self, ascending: bool, partitions: u32) -> Result<Dataset<(K, V)>> {
        let partitions = partitions.max(1);
        let per_partition = (20 * partitions as u64)
            .div_ceil(self.node.num_partitions.max(1) as u64)
            .max(20)
            * 3;
        let (sampled, shares) = self.sample_lineage();
        let samples = self.ctx.run_job(
            "sort_by_key sample",
            &sampled,
            SinkRef::new(actions::sink_sample_keys::<K, V>),
            codec::encode(&per_partition),
            self.all_partitions(),
        )?;
        // Weigh each partition's sample by how many records it stands for.
        let mut weighted: Vec<(K, f64)> = Vec::new();
        for (s, share) in samples.iter().zip(shares) {
            let (seen, keys): (u64, Vec<K>) = codec::decode(s, "key sample")?;
            if keys.is_empty() {
                continue;
            }
            let w = seen as f64 / share / keys.len() as f64;
            weighted.extend(keys.into_iter().map(|k| (k, w)));
        }
        weighted.sort_by(|a, b| a.0.cmp(&b.0));
        let total: f64 = weighted.iter().map(|(_, w)| w).sum();
        let step = total / partitions as f64;
        let mut bounds: Vec<K> = Vec::new();
        let mut acc = 0.0;
        let mut target = step;
        for (k, w) in weighted {
            acc += w;
            if acc >= target && bounds.len() + 1 < partitions as usize {
                if bounds.last() != Some(&k) {
                    bounds.push(k);
                }
                target += step;
            }
        }
        let reducers = bounds.len() as u32 + 1;
        let sid = self.ctx.next_shuffle_id();
        let write = shuffle::WriteParams {
            shuffle_id: sid,
            reducers,
            partitioner: codec::encode(&(bounds, ascending)),
            agg: Vec::new(),
        };
        let dep = ShuffleDef {
            id: sid,
            parent: self.node.clone(),
            sink: SinkRef::new(shuffle::sink_shuffle_plain::<(K, V), shuffle::RangeByKey<K, V>>),
            sink_params: codec::encode(&write),
            reducers,
        };
        Ok(self.shuffled(
            "sort_by_key",
            dep,
            shuffle::compute_shuffle_sorted::<K, V>,
            codec::encode(&shuffle::SortParams { ascending }),
        ))
    }

    /// The lineage sort_by_key draws its sample of keys from, with the share
    /// of each partition's records it computes. Over a text file (through
    /// narrow operations) that is the same operations on a few windows of
    /// each split ([`Split::sample_windows`](crate::io::Split::sample_windows)),
    /// not a whole second pass over the input; otherwise the dataset itself.
    fn sample_lineage(&self) -> (Arc<NodeDef>, Vec<f64>) {
        let mut shares = Vec::new();
        let ctx = &self.ctx;
        let mut swap = |source: &NodeDef| {
            if source.name != "text_file" {
                return None;
            }
            let params: source::TextParams = codec::decode(&source.params, "text_file").ok()?;
            let (windows, s): (Vec<_>, Vec<_>) =
                params.splits.iter().map(|s| s.sample_windows()).unzip();
            shares = s;
            let node = NodeDef {
                id: ctx.next_node_id(),
                name: "text_file sample",
                compute: ComputeRef::new(source::compute_text_sample),
                params: codec::encode(&source::TextSampleParams { windows }),
                deps: Vec::new(),
                num_partitions: source.num_partitions,
            };
            let hosts = params.splits.into_iter().map(|s| s.hosts).collect();
            ctx.set_node_hosts(node.id, hosts);
            Some(node)
        };
        match self.node.over_new_source(&|| ctx.next_node_id(), &mut swap) {
            Some(node) => {
                if spindle_contract::settings::verbose() {
                    eprintln!(
                        "spindle: sort_by_key samples its keys from windows of each text split ({:.0}% of the input)",
                        100.0 * shares.iter().sum::<f64>() / shares.len().max(1) as f64
                    );
                }
                (node, shares)
            }
            None => (
                self.node.clone(),
                vec![1.0; self.node.num_partitions as usize],
            ),
        }
    }
}
