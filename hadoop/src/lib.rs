//! Talking to Hadoop as a client: configuration, IPC (RPC v9), SASL, tokens
//! and credentials, YARN ids, YARN's records and its RPC and REST clients
//! (`yarn`), NameNode calls that hdfs-native does not offer. Spindle never
//! implements a Hadoop server.

pub mod config;
pub mod credentials;
pub mod delegation;
mod error;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
pub mod gss;
pub mod ids;
pub mod ipc;
pub mod kerberos;
pub mod namenode;
pub mod sasl;
pub mod spnego;
pub mod tls;
pub mod token;
pub mod user;
pub mod yarn;

pub use error::{Error, Result};
pub use token::Token;

/// The unit tests' allocator: decoders' tests measure their largest allocation.
#[cfg(test)]
#[global_allocator]
static ALLOC_PROBE: spindle_test_support::AllocProbe = spindle_test_support::AllocProbe;
