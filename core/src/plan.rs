//! What the driver sends an executor: a stage's plan, a task's inputs, and
//! what comes back. Encoded with [`crate::codec`] inside the gRPC envelope.

use serde::{Deserialize, Serialize};

use crate::entry::{ComputeRef, SinkRef};
use crate::{Error, Result};

/// The narrow part of the lineage a stage runs, plus what consumes its output.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StagePlan {
    /// The job this stage belongs to.
    pub job_id: u64,
    /// The stage's number in the job's DAG.
    pub stage_id: u32,
    /// [`crate::entry::probe`] in the driver.
    pub probe: i64,
    /// Every node the stage's tasks compute, ancestors first.
    pub nodes: Vec<NodeSpec>,
    /// The node whose partitions the tasks compute.
    pub root: u32,
    /// What consumes the root's records (an action's result, or a shuffle's map side).
    pub sink: SinkRef,
    /// The sink's parameters, encoded by the driver.
    pub sink_params: Vec<u8>,
}

impl StagePlan {
    /// The node with this id.
    pub fn node(&self, id: u32) -> Result<&NodeSpec> {
        self.nodes
            .iter()
            .find(|n| n.id == id)
            .ok_or_else(|| Error::Task(format!("plan has no node {id}")))
    }
}

/// One node of the lineage graph.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NodeSpec {
    /// The node's id in the lineage graph.
    pub id: u32,
    /// The operation's name, for the UI and errors.
    pub name: String,
    /// The monomorphized function that computes a partition of this node.
    pub compute: ComputeRef,
    /// Operation parameters (map_with values, splits, partition counts…).
    pub params: Vec<u8>,
    /// Where the node's input comes from.
    pub parents: Vec<Parent>,
    /// How many partitions the node has.
    pub num_partitions: u32,
}

/// Where a node's input comes from.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Parent {
    /// Another node of the same stage (narrow dependency).
    Node(u32),
    /// The output of a shuffle (its map side ran in an earlier stage).
    Shuffle {
        /// The shuffle's id in the context.
        shuffle_id: u32,
    },
}

/// Where one task finds the shuffle blocks it reads, and the cached
/// partitions no executor keeps any more but the cluster's file system does.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct TaskInputs {
    /// One entry per shuffle the task reads.
    pub shuffles: Vec<ShuffleInput>,
    /// Cached partitions of the task's datasets copied to the cluster's file
    /// system when their executor left: (node id, partition, file).
    pub cached_files: Vec<(u32, u32, String)>,
}

/// The non-empty map outputs of one shuffle for one reducer, by executor.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ShuffleInput {
    /// The shuffle's id in the context.
    pub shuffle_id: u32,
    /// The executors holding this reducer's blocks.
    pub sources: Vec<BlockSource>,
}

/// Map outputs held by one executor.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BlockSource {
    /// The executor's id.
    pub executor_id: String,
    /// Where its block service listens (`host:port`).
    pub address: String,
    /// The map tasks whose output it holds.
    pub map_ids: Vec<u32>,
}

/// How a task ended.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum TaskOutcome {
    /// The task ran to its end.
    Success {
        /// The task's product.
        value: TaskValue,
        /// Cached partitions this task added: (node id, partition).
        cached: Vec<(u32, u32)>,
        /// Cached partitions this task read back from the cluster's file
        /// system and now keeps (not computed again).
        read_back: Vec<(u32, u32)>,
        /// The task's accumulator updates: (accumulator id, encoded value).
        accumulators: Vec<(u64, Vec<u8>)>,
        /// Per-task measurements.
        metrics: TaskMetrics,
    },
    /// The task's own failure (error or panic): retried, then fails the job.
    Failed {
        /// The error or panic message.
        message: String,
    },
    /// The task stopped because its job was cancelled.
    Cancelled,
    /// A shuffle input could not be read: the driver recomputes it.
    FetchFailed {
        /// The shuffle whose output could not be read.
        shuffle_id: u32,
        /// The executor that held it.
        executor_id: String,
        /// Why the fetch failed.
        message: String,
    },
}

/// What a successful task produced.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum TaskValue {
    /// A result for the action (encoded by the action's sink).
    Result(Vec<u8>),
    /// Bytes written for each reducer (0 = nothing to fetch).
    MapOutput(Vec<u64>),
}

/// Measurements of one task.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct TaskMetrics {
    /// Time spent running the task, in microseconds.
    pub run_micros: u64,
    /// Bytes the task wrote to shuffle files.
    pub shuffle_bytes_written: u64,
    /// Bytes the task read from shuffles.
    pub shuffle_bytes_read: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec;
    use spindle_test_support::largest_allocation;

    /// job 1, stage 2, probe 0, then `rest`.
    fn plan_bytes(rest: &[u8]) -> Vec<u8> {
        let mut b = vec![1, 2, 0];
        b.extend_from_slice(rest);
        b
    }

    fn varint_u64(n: u64) -> Vec<u8> {
        let mut b = vec![0xfd];
        b.extend_from_slice(&n.to_le_bytes());
        b
    }

    #[test]
    fn a_plan_claiming_huge_lengths_is_refused_before_allocating_them() {
        // A node count of 2^40.
        let many_nodes = plan_bytes(&varint_u64(1 << 40));
        // One node (id 0) whose name claims 2 GiB.
        let mut long_name = vec![1, 0];
        long_name.extend(varint_u64(2 << 30));
        long_name.extend_from_slice(b"stage");
        let long_name = plan_bytes(&long_name);
        for bytes in [many_nodes, long_name] {
            let (r, largest) =
                largest_allocation(|| codec::decode::<StagePlan>(&bytes, "stage plan"));
            let e = r.unwrap_err().to_string();
            assert!(e.contains("stage plan"), "{e}");
            assert!(largest < 2 << 20, "allocated {largest} bytes");
        }
        // Task inputs: a source list of 2^50 entries.
        let mut inputs = vec![1, 7];
        inputs.extend(varint_u64(1 << 50));
        let (r, largest) =
            largest_allocation(|| codec::decode::<TaskInputs>(&inputs, "task inputs"));
        assert!(r.is_err());
        assert!(largest < 2 << 20, "allocated {largest} bytes");
    }
}
