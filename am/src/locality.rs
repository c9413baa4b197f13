//! Where to ask for executor containers: the outstanding requests are spread
//! over the hosts that pending tasks prefer (their HDFS blocks), in
//! proportion to those tasks and net of executors already running there, as
//! Spark's YARN allocator does. Every hint relaxes to any node: a busy
//! preferred host delays an executor, it never withholds one.

use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The rack YARN puts every host in when no topology script is configured.
pub(crate) const DEFAULT_RACK: &str = "/default-rack";

/// How the `pending` container requests are spread: containers per
/// preferred host, and those asked for anywhere.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Plan {
    pub on_host: BTreeMap<String, u32>,
    pub anywhere: u32,
}

/// Spreads `pending` requests over the hosts of `prefs` (host → pending
/// tasks preferring it). Each host's share of all executors (running plus
/// pending) follows its share of the tasks; executors already running on a
/// host (`running_on`) count towards it. Every request gets a hint when
/// tasks prefer hosts at all (the hints relax, so nothing waits on them).
pub(crate) fn plan(
    pending: u32,
    prefs: &HashMap<String, u32>,
    running_on: &HashMap<String, u32>,
) -> Plan {
    let tasks: u64 = prefs.values().map(|&n| n as u64).sum();
    if pending == 0 || tasks == 0 {
        return Plan {
            on_host: BTreeMap::new(),
            anywhere: pending,
        };
    }
    let running: u32 = running_on.values().sum();
    let total = (running + pending) as f64;
    // What each host still lacks, in executors (fractional).
    let mut lack: Vec<(String, f64)> = prefs
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(h, &n)| {
            let want = total * n as f64 / tasks as f64;
            let have = running_on.get(h).copied().unwrap_or(0) as f64;
            (h.clone(), (want - have).max(0.0))
        })
        .filter(|(_, l)| *l > 0.0)
        .collect();
    // Largest share first; ties by name, so the plan is deterministic.
    lack.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let wanted: f64 = lack.iter().map(|(_, l)| l).sum();
    let hinted = (wanted.round() as u32).min(pending);
    if hinted == 0 {
        return Plan {
            on_host: BTreeMap::new(),
            anywhere: pending,
        };
    }
    // Largest remainder: floors first, then the biggest fractions.
    let scale = hinted as f64 / wanted;
    let mut on_host: BTreeMap<String, u32> = BTreeMap::new();
    let mut given = 0u32;
    let mut fractions: Vec<(f64, &str)> = Vec::new();
    for (h, l) in &lack {
        let share = l * scale;
        let whole = share.floor() as u32;
        if whole > 0 {
            on_host.insert(h.clone(), whole);
        }
        given += whole;
        fractions.push((share - whole as f64, h));
    }
    fractions.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    for (_, h) in fractions.into_iter().take((hinted - given) as usize) {
        *on_host.entry(h.to_string()).or_insert(0) += 1;
    }
    Plan {
        on_host,
        anywhere: pending - hinted,
    }
}

/// Names (hosts and racks) that an earlier ask sent with a count and `plan`
/// no longer uses: the RM keeps such a line until it is sent with 0.
pub(crate) fn dropped(sent: &BTreeSet<String>, plan: &Plan) -> Vec<String> {
    let rack_used = !plan.on_host.is_empty();
    sent.iter()
        .filter(|n| {
            let used = if n.as_str() == DEFAULT_RACK {
                rack_used
            } else {
                plan.on_host.contains_key(*n)
            };
            !used
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, u32)]) -> HashMap<String, u32> {
        pairs.iter().map(|(h, n)| (h.to_string(), *n)).collect()
    }

    fn hosts(p: &Plan) -> Vec<(&str, u32)> {
        p.on_host.iter().map(|(h, n)| (h.as_str(), *n)).collect()
    }

    #[test]
    fn no_preferences_means_anywhere() {
        let p = plan(3, &HashMap::new(), &HashMap::new());
        assert_eq!(
            p,
            Plan {
                on_host: BTreeMap::new(),
                anywhere: 3
            }
        );
        assert_eq!(plan(0, &map(&[("a", 4)]), &HashMap::new()).anywhere, 0);
    }

    #[test]
    fn requests_follow_the_tasks_share_of_each_host() {
        // 6 tasks on a, 3 on b, 3 on c; 4 executors to ask for.
        let p = plan(4, &map(&[("a", 6), ("b", 3), ("c", 3)]), &HashMap::new());
        assert_eq!(hosts(&p), [("a", 2), ("b", 1), ("c", 1)]);
        assert_eq!(p.anywhere, 0);
        // Two executors over two equally wanted hosts: one each.
        let p = plan(2, &map(&[("a", 5), ("b", 5)]), &HashMap::new());
        assert_eq!(hosts(&p), [("a", 1), ("b", 1)]);
    }

    #[test]
    fn executors_already_on_a_host_count_towards_its_share() {
        // 4 executors in all, half the tasks on a, which already has 2 executors: the 2 pending
        // ones go to b.
        let p = plan(2, &map(&[("a", 5), ("b", 5)]), &map(&[("a", 2)]));
        assert_eq!(hosts(&p), [("b", 2)]);
        // A host with more than its share gets nothing more.
        let p = plan(2, &map(&[("a", 1), ("b", 1)]), &map(&[("a", 4)]));
        assert_eq!(hosts(&p), [("b", 2)]);
    }

    #[test]
    fn never_more_hints_than_requests_and_the_rest_anywhere() {
        let p = plan(1, &map(&[("a", 1), ("b", 1), ("c", 1)]), &HashMap::new());
        assert_eq!(p.on_host.values().sum::<u32>(), 1);
        assert_eq!(p.anywhere, 0);
        let p = plan(3, &map(&[("a", 2), ("b", 7)]), &map(&[("a", 4), ("x", 1)]));
        assert_eq!(hosts(&p), [("b", 3)]);
        assert_eq!(p.anywhere, 0);
    }

    #[test]
    fn lines_no_longer_used_are_cleared() {
        let sent: BTreeSet<String> = ["a", "b", DEFAULT_RACK]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let p = plan(2, &map(&[("b", 1), ("c", 1)]), &HashMap::new());
        assert_eq!(dropped(&sent, &p), ["a"]);
        let none = plan(2, &HashMap::new(), &HashMap::new());
        assert_eq!(dropped(&sent, &none), [DEFAULT_RACK, "a", "b"]);
    }
}
