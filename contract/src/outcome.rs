//! Why an application ended, as one typed reason: the exit code of `spindle submit`, the name
//! `status --json` and `list --json` show, and the tag the ApplicationMaster puts in front of its
//! final diagnostics (`[MEMORY_LIMIT] …`), so that the RM's report, the event log and the client
//! all carry the same reason. docs/operations.md holds the table (a test keeps it in step).

use serde::{Deserialize, Serialize};

/// How an application (or `spindle submit` itself) ended. The codes are part of the CLI's
/// interface: scripts branch on them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Reason {
    /// Final status SUCCEEDED.
    Succeeded,
    /// The driver program returned an error or panicked (user code, its input or output).
    DriverError,
    /// Bad flags or configuration, or a driver binary refused before anything was submitted.
    Usage,
    /// `spindle submit` could not reach or talk to the cluster (RM, HDFS, Kerberos).
    Client,
    /// The scheduler refused the application (unknown or stopped queue, ACLs, application limits).
    NotAdmitted,
    /// The ApplicationMaster failed on every attempt YARN allows (crashed, killed, lost node).
    AmAttemptsExhausted,
    /// The driver binary could not be executed on a node (wrong architecture, missing glibc
    /// version or shared library).
    BinaryNotRunnable,
    /// A NodeManager could not localize the application's files (the staged binary or `--files`).
    Localization,
    /// YARN killed a container (an executor, or the driver in the AM) for exceeding its memory.
    MemoryLimit,
    /// Executors kept failing or their nodes were lost until the failure limit was passed or
    /// every node was excluded.
    ExecutorsLost,
    /// YARN preempted the application's ApplicationMaster.
    Preempted,
    /// Killed by a user or an administrator (`spindle kill`, `yarn application -kill`).
    Killed,
    /// Failed for another reason the RM or the AM reported (see the diagnostics).
    Failed,
    /// Ctrl-C: `spindle submit` killed the application it was waiting for.
    Interrupted,
}

impl Reason {
    /// Every reason, in the order of the documented table.
    pub const ALL: [Reason; 14] = [
        Reason::Succeeded,
        Reason::DriverError,
        Reason::Usage,
        Reason::Client,
        Reason::NotAdmitted,
        Reason::AmAttemptsExhausted,
        Reason::BinaryNotRunnable,
        Reason::Localization,
        Reason::MemoryLimit,
        Reason::ExecutorsLost,
        Reason::Preempted,
        Reason::Killed,
        Reason::Failed,
        Reason::Interrupted,
    ];

    /// The exit code of `spindle submit`.
    pub fn code(self) -> i32 {
        match self {
            Reason::Succeeded => 0,
            Reason::DriverError => 1,
            Reason::Usage => 2,
            Reason::Client => 3,
            Reason::NotAdmitted => 4,
            Reason::AmAttemptsExhausted => 5,
            Reason::BinaryNotRunnable => 6,
            Reason::Localization => 7,
            Reason::MemoryLimit => 8,
            Reason::ExecutorsLost => 9,
            Reason::Preempted => 10,
            Reason::Killed => 11,
            Reason::Failed => 12,
            Reason::Interrupted => 130,
        }
    }

    /// The stable name (`MEMORY_LIMIT`), as JSON and the diagnostics tag spell it.
    pub fn name(self) -> &'static str {
        match self {
            Reason::Succeeded => "SUCCEEDED",
            Reason::DriverError => "DRIVER_ERROR",
            Reason::Usage => "USAGE",
            Reason::Client => "CLIENT",
            Reason::NotAdmitted => "NOT_ADMITTED",
            Reason::AmAttemptsExhausted => "AM_ATTEMPTS_EXHAUSTED",
            Reason::BinaryNotRunnable => "BINARY_NOT_RUNNABLE",
            Reason::Localization => "LOCALIZATION",
            Reason::MemoryLimit => "MEMORY_LIMIT",
            Reason::ExecutorsLost => "EXECUTORS_LOST",
            Reason::Preempted => "PREEMPTED",
            Reason::Killed => "KILLED",
            Reason::Failed => "FAILED",
            Reason::Interrupted => "INTERRUPTED",
        }
    }

    /// The reason named `name` (as [`Reason::name`] spells it).
    pub fn from_name(name: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.name() == name)
    }

    /// `diagnostics` with this reason's tag in front, as the AM reports it to the RM.
    pub fn tag(self, diagnostics: &str) -> String {
        format!("[{}] {}", self.name(), diagnostics.trim())
    }

    /// The reason an AM tagged `diagnostics` with ([`Reason::tag`]), wherever the RM put it.
    pub fn from_tagged(diagnostics: &str) -> Option<Reason> {
        let mut rest = diagnostics;
        while let Some(i) = rest.find('[') {
            rest = &rest[i + 1..];
            if let Some(end) = rest.find(']')
                && let Some(r) = Reason::from_name(&rest[..end])
            {
                return Some(r);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_codes_are_unique_and_tags_read_back() {
        let mut codes: Vec<i32> = Reason::ALL.iter().map(|r| r.code()).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), Reason::ALL.len());
        for r in Reason::ALL {
            assert_eq!(Reason::from_name(r.name()), Some(r));
            assert_eq!(
                serde_json::to_value(r).unwrap(),
                serde_json::Value::String(r.name().into())
            );
            let tagged = r.tag(" executor 1 ended\n");
            assert_eq!(Reason::from_tagged(&tagged), Some(r), "{tagged}");
            // The RM may put its own bracketed date in front.
            let framed = format!("[Sat Dec 05 09:34:59 +0000 2026] {tagged}");
            assert_eq!(Reason::from_tagged(&framed), Some(r));
        }
        assert_eq!(Reason::from_tagged("[x] no tag [NOPE]"), None);
        assert_eq!(Reason::MemoryLimit.tag("x"), "[MEMORY_LIMIT] x");
    }

    /// docs/operations.md's exit-code table lists every reason with its code, in order.
    #[test]
    fn the_operations_page_documents_every_code() {
        let page = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/operations.md");
        let text = std::fs::read_to_string(&page).unwrap();
        let rows: Vec<(i32, String)> = text
            .lines()
            .filter_map(|l| {
                let cells: Vec<&str> = l.split('|').map(str::trim).collect();
                let code = cells.get(1)?.parse().ok()?;
                let name = cells.get(2)?.trim_matches('`');
                Reason::from_name(name).map(|_| (code, name.to_string()))
            })
            .collect();
        let expected: Vec<(i32, String)> = Reason::ALL
            .iter()
            .map(|r| (r.code(), r.name().to_string()))
            .collect();
        assert_eq!(rows, expected, "{}", page.display());
    }
}
