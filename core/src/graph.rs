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
