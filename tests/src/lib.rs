//! End-to-end test support: the shared mini-Hadoop harness used by every test that needs a cluster.
