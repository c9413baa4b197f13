//! What a completed container's exit status means for the application:
//! whether it counts against the executor failure limit, a one-line
//! reason a user can act on, and the typed reason the application fails with
//! when such failures end it.

use spindle_contract::outcome::Reason;

/// YARN's own exit statuses (`ContainerExitStatus`).
pub(crate) const ABORTED: i32 = -100;
pub(crate) const DISKS_FAILED: i32 = -101;
pub(crate) const PREEMPTED: i32 = -102;
pub(crate) const KILLED_EXCEEDED_VMEM: i32 = -103;
pub(crate) const KILLED_EXCEEDED_PMEM: i32 = -104;
pub(crate) const KILLED_BY_APPMASTER: i32 = -105;
pub(crate) const KILLED_BY_RESOURCEMANAGER: i32 = -106;
pub(crate) const KILLED_AFTER_APP_COMPLETION: i32 = -107;
pub(crate) const KILLED_BY_CONTAINER_SCHEDULER: i32 = -108;
/// `ContainerExitStatus.INVALID`: what a container that never started (its localization
/// failed) ends with.
pub(crate) const INVALID: i32 = -1000;

/// A completed executor container, classified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Exit {
    /// Counts against `spindle.executor.maxFailures` and the node's failures.
    pub counts: bool,
    /// One line: what happened and, where there is one, what to change.
    pub reason: String,
    /// What the application fails with if failures like this one end it:
    /// [`Reason::MemoryLimit`], [`Reason::BinaryNotRunnable`], [`Reason::Localization`] or
    /// [`Reason::ExecutorsLost`].
    pub kind: Reason,
}

/// Whether a container's exit says the binary could not be executed on its node: the shell's
/// 126/127 or the dynamic loader's complaint (a glibc version or library the node lacks).
pub(crate) fn not_runnable(status: i32, diagnostics: &str) -> bool {
    status == 126
        || status == 127
        || [
            "Exec format error",
            "cannot execute binary file",
            "error while loading shared libraries",
            "version `GLIBC_",
        ]
        .iter()
        .any(|n| diagnostics.contains(n))
}

/// The line of a container's diagnostics that says why the binary did not run (the loader's
/// or the shell's message in the stderr tail the NodeManager quotes), else the first line.
pub(crate) fn not_runnable_detail(diagnostics: &str) -> &str {
    diagnostics
        .lines()
        .map(str::trim)
        .find(|l| {
            [
                "Exec format error",
                "cannot execute",
                "GLIBC_",
                "shared libraries",
            ]
            .iter()
            .any(|n| l.contains(n))
        })
        .unwrap_or_else(|| first_line(diagnostics))
}

/// The highest glibc symbol version the dynamic loader says the node lacks ("version
/// `GLIBC_2.34' not found", one line per missing version), as `GLIBC_2.34`.
pub(crate) fn missing_glibc(diagnostics: &str) -> Option<&str> {
    let key = |v: &str| -> Vec<u32> {
        v.trim_start_matches("GLIBC_")
            .split('.')
            .map(|p| p.parse().unwrap_or(0))
            .collect()
    };
    diagnostics
        .split("version `")
        .skip(1)
        .filter_map(|rest| rest.split_once("' not found").map(|(v, _)| v))
        .filter(|v| v.starts_with("GLIBC_") && !v.contains(char::is_whitespace))
        .max_by_key(|v| key(v))
}

/// Why a binary did not run `on` a node, in one line: the glibc version it needs that the
/// node lacks, when that is why, then the loader's or the shell's own line.
pub(crate) fn not_runnable_reason(on: &str, status: i32, diagnostics: &str) -> String {
    let needs = missing_glibc(diagnostics)
        .map(|v| format!(": needs {v}"))
        .unwrap_or_default();
    format!(
        "the driver binary is not runnable {on}{needs} (exit status {status}): {}",
        not_runnable_detail(diagnostics)
    )
}

/// Classifies `status` with the NodeManager's diagnostics (first line kept).
pub(crate) fn classify(status: i32, diagnostics: &str) -> Exit {
    let diag = first_line(diagnostics);
    let with = |s: String| {
        if diag.is_empty() {
            s
        } else {
            format!("{s}: {diag}")
        }
    };
    if status != 0 && not_runnable(status, diagnostics) {
        return Exit {
            counts: true,
            reason: not_runnable_reason("there", status, diagnostics),
            kind: Reason::BinaryNotRunnable,
        };
    }
    if status == INVALID {
        return Exit {
            counts: true,
            reason: with("the NodeManager could not localize the executor's files".into()),
            kind: Reason::Localization,
        };
    }
    let memory = status == KILLED_EXCEEDED_PMEM || status == KILLED_EXCEEDED_VMEM;
    let (counts, reason) = match status {
        0 => (
            true,
            "executor exited (status 0) while the application ran".to_string(),
        ),
        PREEMPTED => (false, with("container preempted by YARN".into())),
        ABORTED => (
            false,
            with("container aborted (its node was lost or it was released)".into()),
        ),
        DISKS_FAILED => (false, with("the node's local disks failed".into())),
        KILLED_EXCEEDED_PMEM => (
            true,
            format!(
                "container killed by YARN for exceeding its physical memory limit ({}); \
                 raise --executor-memory or spindle.executor.memoryOverhead",
                memory_detail(diagnostics, "physical")
            ),
        ),
        KILLED_EXCEEDED_VMEM => (
            true,
            format!(
                "container killed by YARN for exceeding its virtual memory limit ({}); \
                 raise spindle.executor.memoryOverhead or turn off yarn.nodemanager.vmem-check-enabled",
                memory_detail(diagnostics, "virtual")
            ),
        ),
        KILLED_BY_APPMASTER => (false, "container stopped by the application master".into()),
        KILLED_BY_RESOURCEMANAGER | KILLED_AFTER_APP_COMPLETION | KILLED_BY_CONTAINER_SCHEDULER => {
            (
                false,
                with(format!("container killed by YARN (exit status {status})")),
            )
        }
        s => (true, with(format!("executor failed with exit status {s}"))),
    };
    let kind = if memory {
        Reason::MemoryLimit
    } else {
        Reason::ExecutorsLost
    };
    Exit {
        counts,
        reason,
        kind,
    }
}

/// `"300.5 MB of 256 MB physical memory used"` out of the NM's message, if present.
fn memory_detail(diagnostics: &str, kind: &str) -> String {
    let needle = format!("{kind} memory used");
    let Some(i) = diagnostics.find(&needle) else {
        return format!("{kind} memory limit");
    };
    let before = &diagnostics[..i];
    let start = [
        before.rfind("usage:").map(|p| p + "usage:".len()),
        before.rfind([';', '(', '[', '\n']).map(|p| p + 1),
    ]
    .into_iter()
    .flatten()
    .max()
    .unwrap_or(0);
    format!("{}{needle}", &diagnostics[start..i])
        .trim()
        .to_string()
}

fn first_line(s: &str) -> &str {
    s.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_kills_name_the_setting_and_count() {
        let diag = "[2026-11-26 18:00:00.000]Container [pid=4242,containerID=container_1_0001_01_000002] \
            is running 312456192B beyond the 'PHYSICAL' memory limit. Current usage: 330.2 MB of 128 MB \
            physical memory used; 2.1 GB of 268.8 MB virtual memory used. Killing container.";
        let e = classify(KILLED_EXCEEDED_PMEM, diag);
        assert!(e.counts);
        assert_eq!(e.kind, Reason::MemoryLimit);
        assert!(
            e.reason.contains("spindle.executor.memoryOverhead"),
            "{}",
            e.reason
        );
        assert!(e.reason.contains("--executor-memory"), "{}", e.reason);
        assert!(
            e.reason.contains("330.2 MB of 128 MB physical memory used"),
            "{}",
            e.reason
        );
        let v = classify(KILLED_EXCEEDED_VMEM, diag);
        assert!(
            v.reason.contains("2.1 GB of 268.8 MB virtual memory used"),
            "{}",
            v.reason
        );
        assert!(
            classify(KILLED_EXCEEDED_PMEM, "")
                .reason
                .contains("physical memory limit")
        );
    }

    #[test]
    fn yarn_side_losses_do_not_count() {
        for s in [
            PREEMPTED,
            ABORTED,
            DISKS_FAILED,
            KILLED_BY_APPMASTER,
            KILLED_BY_RESOURCEMANAGER,
        ] {
            assert!(!classify(s, "x").counts, "{s}");
        }
        let e = classify(PREEMPTED, "Container preempted by scheduler\nmore");
        assert_eq!(
            e.reason,
            "container preempted by YARN: Container preempted by scheduler"
        );
    }

    #[test]
    fn application_errors_count() {
        let e = classify(1, "Exception from container-launch.\nExit code: 1");
        assert!(e.counts);
        assert_eq!(
            e.reason,
            "executor failed with exit status 1: Exception from container-launch."
        );
        assert!(classify(137, "").counts);
        assert!(classify(0, "").counts);
        assert_eq!(classify(137, "").kind, Reason::ExecutorsLost);
        let e = classify(
            INVALID,
            "File does not exist: hdfs://nn/x/spindle-app\nmore",
        );
        assert_eq!(e.kind, Reason::Localization);
        assert!(e.counts);
        assert!(
            e.reason
                .ends_with("File does not exist: hdfs://nn/x/spindle-app"),
            "{}",
            e.reason
        );
    }

    #[test]
    fn a_binary_the_node_cannot_run_is_named_with_the_loaders_line() {
        let diag = "Exception from container-launch.\nExit code: 1\nLast 4096 bytes of stderr :\n\
            ./spindle-app: /lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.34' not found (required by ./spindle-app)\n";
        let e = classify(1, diag);
        assert_eq!(e.kind, Reason::BinaryNotRunnable);
        assert!(e.counts);
        assert!(
            e.reason
                .ends_with("version `GLIBC_2.34' not found (required by ./spindle-app)"),
            "{}",
            e.reason
        );
        let e = classify(
            126,
            "x\n/bin/bash: line 1: ./spindle-app: cannot execute binary file: Exec format error",
        );
        assert_eq!(e.kind, Reason::BinaryNotRunnable);
        assert!(e.reason.contains("Exec format error"), "{}", e.reason);
        assert!(!e.reason.contains("needs"), "{}", e.reason);
    }

    #[test]
    fn the_highest_missing_glibc_version_is_named() {
        let diag = "Last 4096 bytes of stderr :\n\
            ./w: /lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.33' not found (required by ./w)\n\
            ./w: /lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.34' not found (required by ./w)\n\
            ./w: /lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.4' not found (required by ./w)\n";
        assert_eq!(missing_glibc(diag), Some("GLIBC_2.34"));
        assert_eq!(missing_glibc("version `GCC_7.0' not found"), None);
        assert!(
            not_runnable_reason("on old1", 1, diag).starts_with(
                "the driver binary is not runnable on old1: needs GLIBC_2.34 (exit status 1): ./w: "
            ),
            "{}",
            not_runnable_reason("on old1", 1, diag)
        );
    }
}
