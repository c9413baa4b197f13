//! Wire messages, generated from the `.proto` files in this crate.
//!
//! `hadoop/` holds the subset of Hadoop 3.x messages Spindle uses, written here
//! with Hadoop's field numbers and types (checked against Hadoop's own
//! descriptors by a test). `spindle/` holds Spindle's own driver/executor
//! services. Each protobuf package becomes one module below.

/// Hadoop's `hadoop.common` package: RPC headers, SASL, tokens.
pub mod common {
    include!(concat!(env!("OUT_DIR"), "/hadoop.common.rs"));
}

/// Hadoop's `hadoop.yarn` package: YARN records, the RM/NM protocol messages
/// and the YARN token identifiers.
pub mod yarn {
    include!(concat!(env!("OUT_DIR"), "/hadoop.yarn.rs"));
}

/// Hadoop's `hadoop.hdfs` package: the ClientNamenodeProtocol messages Spindle
/// calls directly.
pub mod hdfs {
    include!(concat!(env!("OUT_DIR"), "/hadoop.hdfs.rs"));
}

/// Spindle's own services between driver, application master and executors.
pub mod spindle {
    include!(concat!(env!("OUT_DIR"), "/spindle.rs"));
}
