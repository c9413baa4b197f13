//! The monomorphized functions tasks run, named by offset in plans: sources,
//! narrow transformations, shuffle writers/readers and action sinks.

pub mod actions;
pub mod external;
pub mod narrow;
pub mod shuffle;
pub mod source;

/// Records per batch produced by sources and re-batching operations.
pub const BATCH: usize = 4096;
