//! Locality and delay scheduling: where a task would like to run, how local
//! a launch was, and how long a stage holds out for a better place.
//!
//! A task prefers the executor caching its partition (`PROCESS_LOCAL`), else
//! an executor on a host holding its input block (`NODE_LOCAL`); a task with
//! no preference is `NO_PREF`, one run elsewhere `ANY`. A stage waits up to
//! the locality wait (`spindle.locality.wait`, default 500 ms; Spark's is 3 s)
//! at each level without a launch before it lets tasks run less locally.

use std::collections::HashSet;
use std::time::{Duration, Instant};

/// How local a task ran, best first (Spark's names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) enum Locality {
    /// On the executor caching its partition.
    ProcessLocal,
    /// On a host holding its input (an HDFS block, or the caching executor's host).
    NodeLocal,
    /// The task preferred nothing.
    NoPref,
    /// It had a preference and ran elsewhere.
    Any,
}

impl Locality {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Locality::ProcessLocal => "PROCESS_LOCAL",
            Locality::NodeLocal => "NODE_LOCAL",
            Locality::NoPref => "NO_PREF",
            Locality::Any => "ANY",
        }
    }
}

/// Where a task would like to run. Host names are lower case.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct Prefs {
    /// The executor caching the partition.
    pub executor: Option<String>,
    /// Hosts holding the input (names and addresses).
    pub hosts: Vec<String>,
}

impl Prefs {
    /// No preference at all: the task may run anywhere at once.
    pub(super) fn is_empty(&self) -> bool {
        self.executor.is_none() && self.hosts.is_empty()
    }

    /// The most local level these preferences can reach.
    pub(super) fn best(&self) -> Locality {
        if self.executor.is_some() {
            Locality::ProcessLocal
        } else if !self.hosts.is_empty() {
            Locality::NodeLocal
        } else {
            Locality::NoPref
        }
    }

    /// The level a task with these preferences has on executor `id` on `hosts`.
    pub(super) fn level_on(&self, id: &str, hosts: &[String]) -> Locality {
        if self.executor.as_deref() == Some(id) {
            Locality::ProcessLocal
        } else if hosts
            .iter()
            .any(|h| self.hosts.iter().any(|x| x.eq_ignore_ascii_case(h)))
        {
            Locality::NodeLocal
        } else if self.is_empty() {
            Locality::NoPref
        } else {
            Locality::Any
        }
    }

    /// Only what some live executor can satisfy now.
    pub(super) fn effective(
        &self,
        alive: impl Fn(&str) -> bool,
        live_hosts: &HashSet<String>,
    ) -> Prefs {
        Prefs {
            executor: self.executor.clone().filter(|e| alive(e)),
            hosts: self
                .hosts
                .iter()
                .filter(|h| live_hosts.contains(h.as_str()))
                .cloned()
                .collect(),
        }
    }
}

/// An executor with free slots, as placement sees it.
#[derive(Clone, Debug)]
pub(crate) struct FreeExecutor {
    pub id: String,
    pub hosts: Vec<String>,
    pub free: u32,
}

/// Delay scheduling (as in Spark): a stage starts at its most local level
/// and moves one level down after each locality wait without a launch at
/// the current level; a launch at a level brings it back there.
#[derive(Debug)]
pub(super) struct Delay {
    wait: Duration,
    level: Locality,
    since: Instant,
}

impl Delay {
    pub(super) fn new(wait: Duration, now: Instant) -> Self {
        Delay {
            wait,
            level: Locality::ProcessLocal,
            since: now,
        }
    }

    /// The least local level tasks with preferences may run at now.
    /// `present` says which levels pending tasks still have (best levels).
    pub(super) fn allowed(&mut self, now: Instant, present: impl Fn(Locality) -> bool) -> Locality {
        loop {
            match self.level {
                Locality::ProcessLocal | Locality::NodeLocal => {
                    let next = if self.level == Locality::ProcessLocal {
                        Locality::NodeLocal
                    } else {
                        Locality::Any
                    };
                    if !present(self.level) {
                        self.level = next;
                        self.since = now;
                    } else if now.duration_since(self.since) >= self.wait {
                        self.level = next;
                        self.since += self.wait;
                    } else {
                        return self.level;
                    }
                }
                _ => return Locality::Any,
            }
        }
    }

    /// When the allowed level moves next (None: it is already ANY).
    pub(super) fn next_step(&self) -> Option<Instant> {
        (self.level < Locality::NoPref).then(|| self.since + self.wait)
    }

    /// A task of a stage launched at `level`.
    pub(super) fn launched(&mut self, level: Locality, now: Instant) {
        if level < Locality::NoPref {
            self.level = level;
            self.since = now;
        }
    }
}

/// Chooses executors for pending tasks: `tasks` are the (effective)
/// preferences of the tasks that have some, `plain` the number of tasks
/// without, both in queue order. Fills free slots with process-local, then
/// node-local tasks, then tasks without preference, then, when `allowed`
/// is ANY, the rest. Returns (task index or None for the next plain task,
/// executor id, level) in launch order.
pub(super) fn place(
    tasks: &[Prefs],
    plain: usize,
    execs: &mut [FreeExecutor],
    allowed: Locality,
) -> Vec<(Option<usize>, String, Locality)> {
    let mut out = Vec::new();
    let mut taken = vec![false; tasks.len()];
    let mut free: u32 = execs.iter().map(|e| e.free).sum();
    // The executor with the most free slots spreads work evenly.
    fn roomiest(execs: &mut [FreeExecutor]) -> Option<&mut FreeExecutor> {
        let mut best: Option<&mut FreeExecutor> = None;
        for e in execs.iter_mut().filter(|e| e.free > 0) {
            if best.as_ref().is_none_or(|b| e.free > b.free) {
                best = Some(e);
            }
        }
        best
    }
    for level in [Locality::ProcessLocal, Locality::NodeLocal] {
        for (i, t) in tasks.iter().enumerate() {
            if free == 0 {
                return out;
            }
            // A task runs less locally than its best only when allowed.
            if taken[i] || t.best() > level || (level > t.best() && level > allowed) {
                continue;
            }
            if let Some(e) = execs
                .iter_mut()
                .filter(|e| e.free > 0 && t.level_on(&e.id, &e.hosts) == level)
                .max_by_key(|e| e.free)
            {
                e.free -= 1;
                free -= 1;
                taken[i] = true;
                out.push((Some(i), e.id.clone(), level));
            }
        }
    }
    for _ in 0..plain {
        match roomiest(execs) {
            Some(e) => {
                e.free -= 1;
                out.push((None, e.id.clone(), Locality::NoPref));
            }
            None => return out,
        }
    }
    if allowed == Locality::Any {
        for (i, t) in tasks.iter().enumerate() {
            if taken[i] {
                continue;
            }
            let Some(e) = roomiest(execs) else { break };
            e.free -= 1;
            let level = t.level_on(&e.id, &e.hosts);
            out.push((Some(i), e.id.clone(), level));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exec(id: &str, host: &str, free: u32) -> FreeExecutor {
        FreeExecutor {
            id: id.into(),
            hosts: vec![host.into(), format!("10.0.0.{id}")],
            free,
        }
    }

    fn on_hosts(hosts: &[&str]) -> Prefs {
        Prefs {
            executor: None,
            hosts: hosts.iter().map(|h| h.to_string()).collect(),
        }
    }

    #[test]
    fn tasks_go_to_executors_on_their_block_hosts() {
        let mut execs = [
            exec("1", "dn-a", 1),
            exec("2", "dn-b", 1),
            exec("3", "nm-c", 1),
        ];
        let tasks = [on_hosts(&["dn-b"]), on_hosts(&["dn-a", "dn-x"])];
        let placed = place(&tasks, 0, &mut execs, Locality::NodeLocal);
        assert_eq!(
            placed,
            [
                (Some(0), "2".to_string(), Locality::NodeLocal),
                (Some(1), "1".to_string(), Locality::NodeLocal)
            ]
        );
        // An address matches as well as a name.
        let mut execs = [exec("4", "nm-d", 1)];
        let placed = place(
            &[on_hosts(&["10.0.0.4"])],
            0,
            &mut execs,
            Locality::NodeLocal,
        );
        assert_eq!(placed, [(Some(0), "4".to_string(), Locality::NodeLocal)]);
    }

    #[test]
    fn a_task_waits_for_its_host_until_the_stage_allows_any() {
        // Only the executor on a host without blocks is free.
        let tasks = [on_hosts(&["dn-a"])];
        let mut execs = [exec("3", "nm-c", 2)];
        assert!(place(&tasks, 0, &mut execs, Locality::NodeLocal).is_empty());
        // Tasks without preference still use the free slots meanwhile.
        let placed = place(&tasks, 1, &mut execs, Locality::NodeLocal);
        assert_eq!(placed, [(None, "3".to_string(), Locality::NoPref)]);
        let placed = place(&tasks, 0, &mut execs, Locality::Any);
        assert_eq!(placed, [(Some(0), "3".to_string(), Locality::Any)]);
    }

    #[test]
    fn cached_partitions_prefer_their_executor_then_its_host() {
        let cached = Prefs {
            executor: Some("2".into()),
            hosts: vec!["dn-a".into()],
        };
        let mut execs = [exec("1", "dn-a", 1), exec("2", "dn-a", 1)];
        let placed = place(
            std::slice::from_ref(&cached),
            0,
            &mut execs,
            Locality::ProcessLocal,
        );
        assert_eq!(placed, [(Some(0), "2".to_string(), Locality::ProcessLocal)]);
        // Its executor busy: same host only once node level is allowed.
        let mut execs = [exec("1", "dn-a", 1)];
        assert!(
            place(
                std::slice::from_ref(&cached),
                0,
                &mut execs,
                Locality::ProcessLocal
            )
            .is_empty()
        );
        let placed = place(&[cached], 0, &mut execs, Locality::NodeLocal);
        assert_eq!(placed, [(Some(0), "1".to_string(), Locality::NodeLocal)]);
    }

    #[test]
    fn delay_moves_down_one_level_per_wait_and_back_on_a_local_launch() {
        let t0 = Instant::now();
        let wait = Duration::from_millis(500);
        let mut d = Delay::new(wait, t0);
        let all = |_: Locality| true;
        assert_eq!(d.allowed(t0, all), Locality::ProcessLocal);
        assert_eq!(d.allowed(t0 + wait, all), Locality::NodeLocal);
        assert_eq!(d.next_step(), Some(t0 + 2 * wait));
        assert_eq!(d.allowed(t0 + 2 * wait, all), Locality::Any);
        assert_eq!(d.next_step(), None);
        d.launched(Locality::NodeLocal, t0 + 3 * wait);
        assert_eq!(d.allowed(t0 + 3 * wait, all), Locality::NodeLocal);
        // A launch at ANY keeps ANY; no task left at a level skips it at once.
        d.launched(Locality::Any, t0 + 4 * wait);
        let mut d = Delay::new(wait, t0);
        assert_eq!(
            d.allowed(t0, |l| l == Locality::NodeLocal),
            Locality::NodeLocal
        );
        assert_eq!(d.allowed(t0, |_| false), Locality::Any);
    }

    #[test]
    fn level_on_names_what_happened() {
        let p = on_hosts(&["dn-a"]);
        assert_eq!(p.level_on("9", &["DN-A".into()]), Locality::NodeLocal);
        assert_eq!(p.level_on("9", &["nm-c".into()]), Locality::Any);
        assert_eq!(Prefs::default().level_on("9", &[]), Locality::NoPref);
        let live: HashSet<String> = ["dn-a".to_string()].into();
        let e = on_hosts(&["dn-a", "gone"]).effective(|_| false, &live);
        assert_eq!(e.hosts, ["dn-a"]);
        assert!(on_hosts(&["gone"]).effective(|_| true, &live).is_empty());
    }
}
