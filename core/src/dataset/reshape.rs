//! Transformations that change how records are laid out or which are kept:
//! coalescing, sampling, numbering, ordering by a function, and the
//! products and set operations of two datasets.

use std::hash::Hash;

use crate::codec;
use crate::entry::{assert_captures_nothing, conjure};
use crate::graph::Dep;
use crate::ops::{actions, narrow};
use crate::{Data, Dataset, Error, Records, Result};

impl<T: Data> Dataset<T> {
    /// Like `map_partitions`, with parameters serialized with the task:
    /// `f(params, partition index, records)`.
    pub fn map_partitions_with<P: Data, U: Data, I, F>(&self, params: P, _f: F) -> Dataset<U>
    where
        I: IntoIterator<Item = U>,
        I::IntoIter: Send + 'static,
        F: Fn(&P, u32, Records<T>) -> I + Copy + Send + Sync + 'static,
    {
        const { assert_captures_nothing::<F>() };
        self.derive(
            "map_partitions_with",
            narrow::compute_map_partitions_with::<P, T, U, I, F>,
            codec::encode(&params),
        )
    }

    /// At most `partitions` partitions without a shuffle: each new partition
    /// reads a run of neighbouring ones, so order is kept. To have more
    /// partitions, use `repartition` (a shuffle).
    pub fn coalesce(&self, partitions: u32) -> Dataset<T> {
        let partitions = partitions.clamp(1, self.node.num_partitions.max(1));
        let params = narrow::CoalesceParams {
            parent_partitions: self.node.num_partitions,
            partitions,
        };
        Dataset::new_node(
            &self.ctx,
            "coalesce",
            narrow::compute_coalesce::<T>,
            codec::encode(&params),
            vec![Dep::Narrow(self.node.clone())],
            partitions,
        )
    }

    /// A random sample: each record kept with probability `fraction`, or,
    /// `with_replacement`, a Poisson(`fraction`) number of times. The same
    /// `seed` gives the same sample.
    pub fn sample(&self, with_replacement: bool, fraction: f64, seed: u64) -> Result<Dataset<T>> {
        let ok = fraction.is_finite()
            && fraction >= 0.0
            && (with_replacement && fraction <= 100.0 || fraction <= 1.0);
        if !ok {
            return Err(Error::Config(format!(
                "sample: fraction {fraction} is out of range ({})",
                if with_replacement {
                    "0 to 100 with replacement"
                } else {
                    "0 to 1 without replacement"
                }
            )));
        }
        let params = narrow::SampleParams {
            with_replacement,
            fraction,
            seed,
        };
        Ok(self.map_partitions_with(params, narrow::sample_partition::<T>))
    }

    /// Each record with its index: its position in partition order, from 0.
    /// Counts the partitions first (a small job), as Spark does.
    pub fn zip_with_index(&self) -> Result<Dataset<(T, u64)>> {
        let counts = self.run(
            "zip_with_index count",
            actions::sink_count::<T>,
            Vec::new(),
            self.all_partitions(),
        )?;
        let mut starts = Vec::with_capacity(counts.len());
        let mut at = 0u64;
        for c in counts {
            starts.push(at);
            at += codec::decode::<u64>(&c, "count")?;
        }
        Ok(self.map_partitions_with(starts, |starts, p, records| {
            records.zip(starts[p as usize]..)
        }))
    }

    /// Sorts by the key `f` gives each record (see `sort_by_key`).
    pub fn sort_by<K, F>(&self, _f: F, ascending: bool, partitions: u32) -> Result<Dataset<T>>
    where
        K: Data + Hash + Eq + Ord,
        F: Fn(&T) -> K + Copy + Send + Sync + 'static,
    {
        const { assert_captures_nothing::<F>() };
        Ok(self
            .map(|x| (conjure::<F>()(&x), x))
            .sort_by_key(ascending, partitions)?
            .values())
    }

    /// Every pair (x, y) of a record of `self` and one of `other`: partition
    /// (i, j) pairs partition i of `self` with partition j of `other`, the
    /// latter held in memory.
    pub fn cartesian<U: Data>(&self, other: &Dataset<U>) -> Dataset<(T, U)> {
        let params = narrow::CartesianParams {
            right_partitions: other.node.num_partitions,
        };
        Dataset::new_node(
            &self.ctx,
            "cartesian",
            narrow::compute_cartesian::<T, U>,
            codec::encode(&params),
            vec![
                Dep::Narrow(self.node.clone()),
                Dep::Narrow(other.node.clone()),
            ],
            self.node.num_partitions * other.node.num_partitions,
        )
    }

    /// The distinct records found in both datasets.
    pub fn intersection(&self, other: &Dataset<T>) -> Dataset<T>
    where
        T: Hash + Eq,
    {
        self.map(|x| (x, ()))
            .cogroup(&other.map(|x| (x, ())))
            .flat_map(|(x, (a, b))| (!a.is_empty() && !b.is_empty()).then_some(x))
    }

    /// The records of `self` not found in `other` (duplicates in `self` kept).
    pub fn subtract(&self, other: &Dataset<T>) -> Dataset<T>
    where
        T: Hash + Eq,
    {
        self.map(|x| (x, ()))
            .cogroup(&other.map(|x| (x, ())))
            .flat_map(|(x, (a, b))| {
                let n = if b.is_empty() { a.len() } else { 0 };
                std::iter::repeat_n(x, n)
            })
    }
}
