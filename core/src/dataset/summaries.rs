//! Actions that summarise a dataset on the driver: folds, ordered takes,
//! value counts, and running code per partition.

use std::collections::HashMap;
use std::hash::Hash;

use crate::codec;
use crate::entry::{assert_captures_nothing, conjure};
use crate::ops::actions;
use crate::{Data, Dataset, Records, Result};

impl<T: Data> Dataset<T> {
    /// Folds every partition into a copy of `zero` with `seq`, then merges
    /// the partitions' results, in partition order, into `zero` with `comb`.
    pub fn aggregate<C: Data, S, M>(&self, zero: C, _seq: S, _comb: M) -> Result<C>
    where
        S: Fn(C, T) -> C + Copy + Send + Sync + 'static,
        M: Fn(C, C) -> C + Copy + Send + Sync + 'static,
    {
        const { assert_captures_nothing::<S>() };
        const { assert_captures_nothing::<M>() };
        let parts = self.run(
            "aggregate",
            actions::sink_aggregate::<T, C, S>,
            codec::encode(&zero),
            self.all_partitions(),
        )?;
        let comb: M = conjure();
        let mut acc = zero;
        for p in parts {
            acc = comb(acc, codec::decode::<C>(&p, "aggregated partition")?);
        }
        Ok(acc)
    }

    /// Folds all records with `f`, starting from `zero` in every partition
    /// and on the driver (so `zero` must be neutral for `f`).
    pub fn fold<F: Fn(T, T) -> T + Copy + Send + Sync + 'static>(
        &self,
        zero: T,
        f: F,
    ) -> Result<T> {
        self.aggregate(zero, f, f)
    }

    /// The `n` smallest records, in ascending order.
    pub fn take_ordered(&self, n: usize) -> Result<Vec<T>>
    where
        T: Ord,
    {
        self.ordered(n, false)
    }

    /// The `n` largest records, in descending order.
    pub fn top(&self, n: usize) -> Result<Vec<T>>
    where
        T: Ord,
    {
        self.ordered(n, true)
    }

    fn ordered(&self, n: usize, descending: bool) -> Result<Vec<T>>
    where
        T: Ord,
    {
        let params = actions::OrderedParams {
            n: n as u64,
            descending,
        };
        let parts = self.run(
            if descending { "top" } else { "take_ordered" },
            actions::sink_take_ordered::<T>,
            codec::encode(&params),
            self.all_partitions(),
        )?;
        let mut all = Vec::new();
        for p in parts {
            all.extend(codec::decode::<Vec<T>>(&p, "ordered records")?);
        }
        actions::keep_first(&mut all, n, descending);
        Ok(all)
    }

    /// How many times each distinct record occurs, on the driver.
    pub fn count_by_value(&self) -> Result<HashMap<T, u64>>
    where
        T: Hash + Eq,
    {
        self.map(|x| (x, ())).count_by_key()
    }

    /// Runs `f` on each partition's records, in the executors (to open one
    /// connection per partition, say).
    pub fn foreach_partition<F: Fn(Records<T>) + Copy + Send + Sync + 'static>(
        &self,
        _f: F,
    ) -> Result<()> {
        const { assert_captures_nothing::<F>() };
        self.foreach_partition_with((), |_, records| conjure::<F>()(records))
    }
}

impl<T: Data> Dataset<T> {
    /// Like `foreach`, with parameters serialized with the task (an
    /// accumulator, say): `f(params, record)`.
    pub fn foreach_with<P: Data, F: Fn(&P, T) + Copy + Send + Sync + 'static>(
        &self,
        params: P,
        _f: F,
    ) -> Result<()> {
        const { assert_captures_nothing::<F>() };
        self.foreach_partition_with(params, |p, records| {
            let f = conjure::<F>();
            for x in records {
                f(p, x);
            }
        })
    }

    /// Like `foreach_partition`, with parameters: `f(params, records)`.
    pub fn foreach_partition_with<P: Data, F>(&self, params: P, _f: F) -> Result<()>
    where
        F: Fn(&P, Records<T>) + Copy + Send + Sync + 'static,
    {
        const { assert_captures_nothing::<F>() };
        self.map_partitions_with(params, |p, _, records| {
            conjure::<F>()(p, records);
            std::iter::empty::<()>()
        })
        .count()?;
        Ok(())
    }
}
