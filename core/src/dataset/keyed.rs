//! Key-value operations built on the shuffle aggregators and `cogroup`:
//! combining and folding by key, the outer joins, and lookups.

use std::collections::HashMap;
use std::hash::Hash;

use crate::codec;
use crate::entry::{assert_captures_nothing, conjure};
use crate::ops::shuffle;
use crate::{Data, Dataset, Result};

impl<K: Data + Hash + Eq, V: Data> Dataset<(K, V)> {
    /// Combines the values of each key into a `C`: `create` makes one from a
    /// key's first value in a partition, `merge_value` adds a value to it,
    /// `merge_combiners` merges two (map-side combine, then the reducers).
    pub fn combine_by_key<C: Data, Cr, Mv, Mc>(
        &self,
        _create: Cr,
        _merge_value: Mv,
        _merge_combiners: Mc,
    ) -> Dataset<(K, C)>
    where
        Cr: Fn(V) -> C + Copy + Send + Sync + 'static,
        Mv: Fn(C, V) -> C + Copy + Send + Sync + 'static,
        Mc: Fn(C, C) -> C + Copy + Send + Sync + 'static,
    {
        const { assert_captures_nothing::<Cr>() };
        const { assert_captures_nothing::<Mv>() };
        const { assert_captures_nothing::<Mc>() };
        self.combine::<shuffle::CombineAgg<V, C, Cr, Mv, Mc>>(
            "combine_by_key",
            codec::encode(&()),
            self.ctx.default_parallelism(),
        )
    }

    /// Folds the values of each key with `f`, starting from `zero` in each
    /// partition (so `zero` must be neutral for `f`): `aggregate_by_key`
    /// with one function.
    pub fn fold_by_key<F: Fn(V, V) -> V + Copy + Send + Sync + 'static>(
        &self,
        zero: V,
        f: F,
    ) -> Dataset<(K, V)> {
        self.aggregate_by_key(zero, f, f)
    }

    /// Replaces each value by the values `f` returns, keeping its key.
    pub fn flat_map_values<
        U: Data,
        I: IntoIterator<Item = U>,
        F: Fn(V) -> I + Copy + Send + Sync + 'static,
    >(
        &self,
        _f: F,
    ) -> Dataset<(K, U)> {
        const { assert_captures_nothing::<F>() };
        self.flat_map(|(k, v)| {
            conjure::<F>()(v)
                .into_iter()
                .map(|u| (k.clone(), u))
                .collect::<Vec<_>>()
        })
    }

    /// Right outer join: every pair of `other`, with None where `self` has no match.
    pub fn right_outer_join<W: Data>(
        &self,
        other: &Dataset<(K, W)>,
    ) -> Dataset<(K, (Option<V>, W))> {
        self.full_outer_join(other)
            .flat_map(|(k, (v, w))| w.map(|w| (k, (v, w))))
    }

    /// Full outer join: every match, and every pair of either side without
    /// one, with None for the missing side.
    #[allow(clippy::type_complexity)]
    pub fn full_outer_join<W: Data>(
        &self,
        other: &Dataset<(K, W)>,
    ) -> Dataset<(K, (Option<V>, Option<W>))> {
        self.cogroup(other).flat_map(|(k, (vs, ws))| {
            let mut out = Vec::with_capacity(vs.len().max(1) * ws.len().max(1));
            match (vs.is_empty(), ws.is_empty()) {
                (true, _) => out.extend(ws.into_iter().map(|w| (k.clone(), (None, Some(w))))),
                (false, true) => out.extend(vs.into_iter().map(|v| (k.clone(), (Some(v), None)))),
                (false, false) => {
                    for v in &vs {
                        for w in &ws {
                            out.push((k.clone(), (Some(v.clone()), Some(w.clone()))));
                        }
                    }
                }
            }
            out
        })
    }

    /// All pairs as a map on the driver (for a key seen twice, one of its values).
    pub fn collect_as_map(&self) -> Result<HashMap<K, V>> {
        Ok(self.collect()?.into_iter().collect())
    }

    /// The values of `key`, on the driver (scans every partition).
    pub fn lookup(&self, key: K) -> Result<Vec<V>> {
        self.flat_map_with(key, |key, (k, v)| (k == *key).then_some(v))
            .collect()
    }
}
