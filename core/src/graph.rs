//! The lineage graph as the driver holds it.

use std::sync::Arc;

use crate::entry::{ComputeRef, SinkRef};

/// One node: how to compute its partitions and what it depends on.
pub(crate) struct NodeDef {
    pub id: u32,
    pub name: &'static str,
    pub compute: ComputeRef,
    pub params: Vec<u8>,
    pub deps: Vec<Dep>,
    pub num_partitions: u32,
}

/// A dependency of a node.
pub(crate) enum Dep {
    /// Partition i needs (some) partitions of the parent in the same task.
    Narrow(Arc<NodeDef>),
    /// The parent's records are redistributed by a shuffle first.
    Shuffle(Arc<ShuffleDef>),
}

/// A shuffle: its map side runs `sink` over every partition of `parent`.
pub(crate) struct ShuffleDef {
    pub id: u32,
    pub parent: Arc<NodeDef>,
    pub sink: SinkRef,
    pub sink_params: Vec<u8>,
    pub reducers: u32,
}

impl NodeDef {
    /// This node's lineage rebuilt over another source: `swap` gives the new
    /// source for the one at the bottom of a chain of narrow, single-parent,
    /// uncached operations that keep their parent's partitions (partition i
    /// from partition i), and each operation above it is copied with a fresh
    /// id from `new_id`. None if the lineage is no such chain or `swap`
    /// declines its source.
    pub(crate) fn over_new_source(
        &self,
        new_id: &dyn Fn() -> u32,
        swap: &mut dyn FnMut(&NodeDef) -> Option<NodeDef>,
    ) -> Option<Arc<NodeDef>> {
        match self.deps.as_slice() {
            [] => swap(self).map(Arc::new),
            [Dep::Narrow(parent)]
                if self.name != "cached" && parent.num_partitions == self.num_partitions =>
            {
                let parent = parent.over_new_source(new_id, swap)?;
                Some(Arc::new(NodeDef {
                    id: new_id(),
                    name: self.name,
                    compute: self.compute,
                    params: self.params.clone(),
                    deps: vec![Dep::Narrow(parent)],
                    num_partitions: self.num_partitions,
                }))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: u32, name: &'static str, deps: Vec<Dep>, num_partitions: u32) -> Arc<NodeDef> {
        Arc::new(NodeDef {
            id,
            name,
            compute: ComputeRef::new(crate::ops::source::compute_range),
            params: vec![id as u8],
            deps,
            num_partitions,
        })
    }

    #[test]
    fn a_narrow_chain_is_rebuilt_over_the_new_source_and_anything_else_is_declined() {
        let next = std::sync::atomic::AtomicU32::new(100);
        let new_id = || next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut swap = |s: &NodeDef| {
            (s.name == "text_file").then(|| NodeDef {
                id: 99,
                name: "sample",
                compute: s.compute,
                params: Vec::new(),
                deps: Vec::new(),
                num_partitions: s.num_partitions,
            })
        };
        let src = node(1, "text_file", vec![], 4);
        let map = node(2, "map", vec![Dep::Narrow(src.clone())], 4);
        let filter = node(3, "filter", vec![Dep::Narrow(map.clone())], 4);
        let got = filter
            .over_new_source(&new_id, &mut swap)
            .expect("a narrow chain");
        // The same operations with fresh ids, over the new source.
        assert_eq!(
            (got.name, got.params.as_slice(), got.id >= 100),
            ("filter", &[3u8][..], true)
        );
        let Dep::Narrow(m) = &got.deps[0] else {
            panic!()
        };
        assert_eq!(
            (m.name, m.params.as_slice(), m.id >= 100),
            ("map", &[2u8][..], true)
        );
        let Dep::Narrow(s) = &m.deps[0] else { panic!() };
        assert_eq!((s.name, s.deps.len()), ("sample", 0));
        // Declined: a cached node, fewer partitions than the parent, a shuffle, another source.
        let cached = node(4, "cached", vec![Dep::Narrow(map.clone())], 4);
        let coalesced = node(5, "coalesce", vec![Dep::Narrow(map.clone())], 2);
        let shuffled = node(
            6,
            "sort_by_key",
            vec![Dep::Shuffle(Arc::new(ShuffleDef {
                id: 0,
                parent: map.clone(),
                sink: SinkRef::new(crate::ops::actions::sink_collect::<u64>),
                sink_params: vec![],
                reducers: 4,
            }))],
            4,
        );
        let range = node(7, "range", vec![], 4);
        for n in [cached, coalesced, shuffled, range] {
            assert!(
                n.over_new_source(&new_id, &mut swap).is_none(),
                "{}",
                n.name
            );
        }
    }
}
