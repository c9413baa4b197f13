//! End-to-end test support: the set-up every test shares, so that test files hold tests.
//!
//! ```no_run
//! let h = spindle_tests::hadoop(); // started once per test process, shared by its tests
//! let _logs = h.log_guard(); // on panic, prints where the daemon log is and its last lines
//! println!("{} {} {}", h.rm_url(), h.fs_uri(), h.conf_dir().display());
//! let out = spindle_tests::java_peer_ok("dev.spindle.peers.YarnNodes", &[]);
//! assert!(out.contains("running=2"));
//! let wordcount = spindle_tests::binary("wordcount"); // the workspace's build of the example
//! spindle_tests::wait_until("nothing", std::time::Duration::from_secs(1), || true);
//! ```
//!
//! What lives where:
//!
//! - the cluster ([`hadoop`], [`MiniHadoop`], [`OwnCluster`]), the secure one ([`secure_hadoop`],
//!   its user's Kerberos identity [`KerberosUser`]; in [`secure`], the CLI, test data and the AM
//!   on it) and, in [`compose`], the multi-host compose cluster of `docker-compose.yml`;
//! - Hadoop's own Java clients ([`java_peer_ok`] and friends; the peers are `tests/java`);
//! - clients of the cluster: HTTP ([`rest_get`]), the ResourceManager and the AM's JSON API
//!   ([`app_json`], [`am_api`], [`rest_client`], [`unmanaged_app`]), HDFS through hdfs-native
//!   ([`hdfs_client`], [`hdfs_put`]);
//! - programs: the workspace's binaries ([`binary`]), drivers in local mode ([`run_local`]),
//!   commands that must succeed ([`run_ok`]), processes and signals ([`container_processes`],
//!   [`signal`]);
//! - waiting ([`wait_for`], [`poll`]) and runtimes ([`runtime`], [`block_on`]);
//! - test data and parsing ([`Rng`], [`StarRng`], [`count_words`], [`parse_counts`],
//!   [`kv_lines`], [`hex`]).
//!
//! With `SPINDLE_HADOOP_CONF_DIR` set, [`hadoop`] uses that already-running cluster (its
//! `core-site.xml` and `yarn-site.xml` give the NameNode and the ResourceManager;
//! `SPINDLE_HADOOP_LOG_DIR`, when set, is its daemon log directory). Otherwise the first call
//! starts `deploy/mini-hadoop` with `--stop-on-stdin-eof`: the cluster ends with the test
//! process, however that process ends. [`secure_hadoop`] does the same with
//! `SPINDLE_SECURE_HADOOP_CONF_DIR` and `deploy/mini-hadoop --secure`.
//!
//! Java peers live in `tests/java` (a Maven project on Hadoop 3.5's client classes); see
//! `tests/java/README.md` for adding one.

mod binaries;
mod browser;
mod cluster;
pub mod compose;
mod data;
mod hdfs;
mod http;
mod java;
mod kerberos;
mod procs;
mod run;
pub mod secure;
mod wait;
mod yarn;

pub use binaries::binary;
pub use browser::chromium;
pub use cluster::{
    Failover, HADOOP_VERSIONS, LogGuard, MiniHadoop, OwnCluster, StartOptions, hadoop,
    hadoop_version, repo_root, scratch_dir, secure_hadoop, tail,
};
pub use data::{
    Rng, StarRng, count_words, hex, kv_lines, kv_words, parse_counts, random_words, site_xml,
};
pub use hdfs::{hdfs_client, hdfs_put, hdfs_read, hdfs_write};
pub use http::{JsonReply, http_get_no_redirect, rest_get, unused_port};
pub use java::{
    java_command, java_ok, java_peer, java_peer_command, java_peer_jar, java_peer_ok, java_peer_on,
    java_peer_on_ok, java_peer_with_keytab_command, java_peer_with_keytab_ok, java_peers_classpath,
};
pub use kerberos::{KerberosUser, keytab_principal};
pub use procs::{
    ContainerProcess, alive, argv, children_of, container_processes, environ, find_files,
    listening_ports, pids, rss_kb,
};
pub use run::{
    assert_success, local_command, read_parts, run_local, run_local_ok, run_ok, signal,
    spindle_command, text, wait_exit,
};
pub use wait::{block_on, poll, runtime, wait_for, wait_until};
pub use yarn::{
    allocate, am_api, app_json, finish_am, proxy_url, registered_am, rest_client, rm_conf,
    rpc_client, unmanaged_app,
};
