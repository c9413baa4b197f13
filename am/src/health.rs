//! Executor failures and node exclusion, after Spark's
//! `YarnAllocatorNodeHealthTracker`: every executor failure that counts (see
//! [`crate::exit`]) is counted against `spindle.executor.maxFailures`, and per
//! node; a node with [`NODE_FAILURES_TO_EXCLUDE`] of them is excluded (the
//! ResourceManager is told not to offer it again). The application cannot go
//! on once the failures exceed the limit or every node is excluded.

use std::collections::{BTreeSet, HashMap};

use spindle_contract::launch::AmLaunch;
use spindle_contract::outcome::Reason;
use spindle_contract::settings;

/// Failures on one node before the AM stops asking for it.
pub(crate) const NODE_FAILURES_TO_EXCLUDE: u32 = 2;

/// Failure counts and excluded nodes (by the name the scheduler uses for them).
#[derive(Debug, Default)]
pub(crate) struct Health {
    failures: u32,
    max_failures: u32,
    last_failure: String,
    /// What the last counted failure makes the application fail with.
    last_kind: Option<Reason>,
    node_failures: HashMap<String, u32>,
    excluded: BTreeSet<String>,
    /// Excluded since the ResourceManager was last told.
    excluded_new: Vec<String>,
}

impl Health {
    /// Counting against `max_failures`.
    pub(crate) fn new(max_failures: u32) -> Self {
        Health {
            max_failures,
            ..Default::default()
        }
    }

    /// `spindle.executor.maxFailures`, by default max(3, 2 × the executors asked for).
    pub(crate) fn max_failures(launch: &AmLaunch) -> u32 {
        let default_max = (2 * launch.num_executors).max(3);
        // Checked when the launch was read from the environment.
        spindle_contract::Conf::new(launch.conf.clone())
            .ok()
            .and_then(|c| c.count(&settings::EXECUTOR_MAX_FAILURES).ok().flatten())
            .unwrap_or(default_max)
    }

    /// Failures counted against the limit, and the limit.
    pub(crate) fn failures(&self) -> (u32, u32) {
        (self.failures, self.max_failures)
    }

    /// Why the last counted failure happened ("" if none).
    pub(crate) fn last_failure(&self) -> &str {
        &self.last_failure
    }

    /// The typed reason of the last counted failure, if there was one.
    pub(crate) fn last_kind(&self) -> Option<Reason> {
        self.last_kind
    }

    /// Whether `node` is excluded.
    pub(crate) fn is_excluded(&self, node: &str) -> bool {
        self.excluded.contains(node)
    }

    /// Counts a failure of an executor on `node`; returns the node's failure
    /// count when this one excluded it.
    pub(crate) fn record_failure(&mut self, node: &str, reason: &str, kind: Reason) -> Option<u32> {
        self.failures += 1;
        self.last_failure = reason.to_string();
        self.last_kind = Some(kind);
        let n = self.node_failures.entry(node.to_string()).or_insert(0);
        *n += 1;
        let n = *n;
        if n >= NODE_FAILURES_TO_EXCLUDE && self.excluded.insert(node.to_string()) {
            self.excluded_new.push(node.to_string());
            return Some(n);
        }
        None
    }

    /// Why the application cannot go on, typed and as one line, if it cannot: more
    /// failures than the limit, or every one of the cluster's `cluster_nodes`
    /// (0: unknown) excluded. The reason is the last failure's kind.
    pub(crate) fn verdict(&self, cluster_nodes: u32) -> Option<(Reason, String)> {
        let kind = self.last_kind.unwrap_or(Reason::ExecutorsLost);
        self.verdict_line(cluster_nodes).map(|line| (kind, line))
    }

    fn verdict_line(&self, cluster_nodes: u32) -> Option<String> {
        if self.failures > self.max_failures {
            Some(format!(
                "executor failures exceeded ({} > {}={}); last: {}",
                self.failures,
                settings::EXECUTOR_MAX_FAILURES.name(),
                self.max_failures,
                self.last_failure
            ))
        } else if cluster_nodes > 0 && self.excluded.len() as u32 >= cluster_nodes {
            // Nowhere left to run an executor (the RM would keep granting containers on
            // excluded nodes, only to have them given back).
            Some(format!(
                "every node of the cluster ({cluster_nodes}) is excluded after repeated executor failures; last: {}",
                self.last_failure
            ))
        } else {
            None
        }
    }

    /// The exclusions the next heartbeat tells the ResourceManager.
    pub(crate) fn take_new_exclusions(&mut self) -> Vec<String> {
        std::mem::take(&mut self.excluded_new)
    }

    /// Exclusions a heartbeat the RM did not act on carried go out again,
    /// ahead of newer ones.
    pub(crate) fn restore(&mut self, mut sent: Vec<String>) {
        sent.append(&mut self.excluded_new);
        self.excluded_new = sent;
    }

    /// After registering again with a restarted RM, which knows none of them:
    /// every excluded node goes out again.
    pub(crate) fn resend_all(&mut self) {
        self.excluded_new = self.excluded.iter().cloned().collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_is_excluded_at_its_second_failure_once() {
        let mut h = Health::new(10);
        assert_eq!(
            h.record_failure("n1:1", "exit 1", Reason::ExecutorsLost),
            None
        );
        assert!(!h.is_excluded("n1:1"));
        assert_eq!(
            h.record_failure("n2:1", "exit 1", Reason::ExecutorsLost),
            None
        );
        assert_eq!(
            h.record_failure("n1:1", "exit 2", Reason::ExecutorsLost),
            Some(2)
        );
        assert!(h.is_excluded("n1:1") && !h.is_excluded("n2:1"));
        assert_eq!(
            h.record_failure("n1:1", "exit 3", Reason::ExecutorsLost),
            None
        );
        assert_eq!(h.take_new_exclusions(), vec!["n1:1".to_string()]);
        assert!(h.take_new_exclusions().is_empty());
        assert_eq!(h.failures(), (4, 10));
        assert_eq!(h.last_failure(), "exit 3");
    }

    #[test]
    fn the_application_ends_past_the_limit_or_with_every_node_excluded() {
        let mut h = Health::new(2);
        h.record_failure("a", "x", Reason::ExecutorsLost);
        h.record_failure("b", "y", Reason::ExecutorsLost);
        assert_eq!(h.verdict(0), None);
        h.record_failure("c", "z", Reason::MemoryLimit);
        let (kind, v) = h.verdict(0).unwrap();
        assert_eq!(kind, Reason::MemoryLimit);
        assert!(
            v.contains("executor failures exceeded (3 > ")
                && v.contains(settings::EXECUTOR_MAX_FAILURES.name())
                && v.ends_with("last: z"),
            "{v}"
        );
        let mut h = Health::new(100);
        for node in ["a", "a", "b", "b"] {
            h.record_failure(node, "lost", Reason::ExecutorsLost);
        }
        assert_eq!(h.verdict(3), None);
        let (kind, v) = h.verdict(2).unwrap();
        assert_eq!(kind, Reason::ExecutorsLost);
        assert!(
            v.contains("every node of the cluster (2) is excluded"),
            "{v}"
        );
        assert_eq!(
            h.verdict(0),
            None,
            "an unknown cluster size excludes nothing"
        );
    }

    #[test]
    fn undelivered_and_forgotten_exclusions_go_out_again() {
        let mut h = Health::new(10);
        for node in ["b:1", "b:1"] {
            h.record_failure(node, "x", Reason::ExecutorsLost);
        }
        h.restore(vec!["a:1".into()]);
        assert_eq!(
            h.take_new_exclusions(),
            vec!["a:1".to_string(), "b:1".to_string()]
        );
        for node in ["c:1", "c:1"] {
            h.record_failure(node, "x", Reason::ExecutorsLost);
        }
        h.take_new_exclusions();
        h.resend_all();
        assert_eq!(
            h.take_new_exclusions(),
            vec!["b:1".to_string(), "c:1".to_string()]
        );
    }
}
