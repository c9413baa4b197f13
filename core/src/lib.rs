//! The engine: `Context`, `Dataset` transformations and actions, lineage,
//! DAG and task scheduling, shuffle, and the cluster-backend trait.
//!
//! The driver builds a lineage graph of typed [`Dataset`]s. Each node names
//! the monomorphized function that computes it (the `entry` module); an action splits
//! the graph into stages at shuffles and ships one task per partition to the
//! executors, which run the same binary ([`task`]).

#![warn(missing_docs)]

pub mod accumulator;
pub mod alloc;
pub mod auth;
pub mod backend;
pub mod blocks;
pub mod broadcast;
pub mod cache;
pub mod codec;
pub mod container_logs;
mod context;
mod crc32c;
mod dataset;
mod driver_rpc;
mod entry;
pub mod env;
mod error;
pub mod eventlog;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
mod graph;
pub mod io;
pub mod memory;
pub mod net;
mod ops;
pub mod plan;
pub mod progress;
mod scheduler;
pub mod scratch;
pub mod task;
pub mod tokens;

pub use accumulator::{Accumulable, Accumulator};
pub use broadcast::Broadcast;
pub use cache::StorageLevel;
pub use context::{Context, ExecutorSettings};
pub use dataset::Dataset;
pub use driver_rpc::executable_sha256;
pub use error::{Error, Result};
pub use ops::narrow::Records;

/// What a record must be: serializable, cloneable, and shareable across threads.
pub trait Data:
    serde::Serialize + serde::de::DeserializeOwned + Clone + Send + Sync + 'static
{
}
impl<T: serde::Serialize + serde::de::DeserializeOwned + Clone + Send + Sync + 'static> Data for T {}

/// The unit tests' allocator: decoders' tests measure their largest allocation.
#[cfg(test)]
#[global_allocator]
static ALLOC_PROBE: spindle_test_support::AllocProbe = spindle_test_support::AllocProbe;
