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
    /// uncached operations, and each operation above it is copied with a
    /// fresh id from `new_id`. None if the lineage is no such chain or
    /// `swap` declines its source.
    pub(crate) fn over_new_source(
        &self,
        new_id: &dyn Fn() -> u32,
        swap: &mut dyn FnMut(&NodeDef) -> Option<NodeDef>,
    ) -> Option<Arc<NodeDef>> {
        match self.deps.as_slice() {
            [] => swap(self).map(Arc::new),
            [Dep::Narrow(parent)] if self.name != "cached" => {
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
