//! The typed reason of an application that ended, read from the RM's final report: the tag the
//! ApplicationMaster put in front of its diagnostics when it unregistered, else what the RM
//! itself says (the AM never ran, or died on every attempt). `spindle submit` exits with the
//! reason's code; `status --json` and `list --json` show it.

use spindle_contract::outcome::Reason;
use spindle_hadoop::yarn::{AppReport, AppState, FinalStatus};

/// Why `r` ended; `None` while it has not.
pub(crate) fn reason(r: &AppReport) -> Option<Reason> {
    if !r.state.is_final() {
        return None;
    }
    if r.final_status == FinalStatus::Succeeded {
        return Some(Reason::Succeeded);
    }
    if let Some(tagged) = Reason::from_tagged(&r.diagnostics) {
        return Some(tagged);
    }
    if r.state == AppState::Killed || r.final_status == FinalStatus::Killed {
        return Some(Reason::Killed);
    }
    Some(from_rm_diagnostics(&r.diagnostics, r.launch_time > 0))
}

/// The RM's own diagnostics of a failed application. `launched`: an AM container was started
/// (the RM's launch time is set).
fn from_rm_diagnostics(d: &str, launched: bool) -> Reason {
    let has = |needles: &[&str]| needles.iter().any(|n| d.contains(n));
    if d.contains("AM Container for appattempt") {
        // "Application … failed N times … due to AM Container for appattempt_… exited with
        // exitCode: X", then the NodeManager's diagnostics of that container.
        let code = exit_code(d);
        if has(&[
            "Exec format error",
            "cannot execute binary file",
            "error while loading shared libraries",
            "version `GLIBC_",
        ]) || matches!(code, Some(126 | 127))
        {
            Reason::BinaryNotRunnable
        } else if code == Some(-1000) || has(&["changed on src filesystem", "localiz"]) {
            Reason::Localization
        } else if matches!(code, Some(-103 | -104)) || has(&["beyond the 'PHYSICAL' memory"]) {
            Reason::MemoryLimit
        } else if code == Some(-102) {
            Reason::Preempted
        } else {
            Reason::AmAttemptsExhausted
        }
    } else if has(&[
        "unknown queue",
        "cannot accept submission",
        "is STOPPED",
        "cannot submit applications",
        "not permitted to submit",
        "is not a leaf queue",
        "rejected",
    ]) || !launched
    {
        Reason::NotAdmitted
    } else {
        Reason::Failed
    }
}

/// The AM container's exit code in the RM's "exited with  exitCode: X".
fn exit_code(d: &str) -> Option<i32> {
    let at = d.find("exitCode:")? + "exitCode:".len();
    let rest = d[at..].trim_start();
    let end = rest
        .char_indices()
        .find(|(i, c)| !(c.is_ascii_digit() || (*i == 0 && *c == '-')))
        .map_or(rest.len(), |(i, _)| i);
    rest[..end].parse().ok()
}

/// One line that says why, for the end of `spindle submit`: what the NodeManager quoted from
/// the AM's stderr when its container failed (the loader's or the shell's message), else the
/// first line of the diagnostics.
pub(crate) fn detail(reason: Reason, diagnostics: &str) -> String {
    let lines = || diagnostics.lines().map(str::trim).filter(|l| !l.is_empty());
    let quoted = match reason {
        Reason::BinaryNotRunnable => lines().find(|l| {
            [
                "Exec format error",
                "cannot execute",
                "GLIBC_",
                "shared libraries",
            ]
            .iter()
            .any(|n| l.contains(n))
        }),
        Reason::Localization => lines().find(|l| {
            ["does not exist", "changed on src filesystem", "localiz"]
                .iter()
                .any(|n| l.contains(n))
        }),
        _ => None,
    };
    let line = quoted.or_else(|| lines().next()).unwrap_or("");
    let line = match Reason::from_tagged(line) {
        Some(r) => line.replacen(&format!("[{}] ", r.name()), "", 1),
        None => line.to_string(),
    };
    line.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Diagnostics as Hadoop 3.5.0's RM wrote them on the mini-Hadoop.
    const EXEC_FORMAT: &str = "Application application_1796463245613_0004 failed 1 times (global limit =2; local limit is =1) due to AM Container for appattempt_1796463245613_0004_000001 exited with  exitCode: 126\nFailing this attempt.Diagnostics: [2026-12-05 09:35:13.274]Exception from container-launch.\nContainer id: container_1796463245613_0004_01_000001\nExit code: 126\n\n[2026-12-05 09:35:13.303]Container exited with a non-zero exit code 126. Error file: prelaunch.err.\nLast 4096 bytes of prelaunch.err :\nLast 4096 bytes of stderr :\n/bin/bash: line 1: ./spindle-app: cannot execute binary file: Exec format error\n\n\nFor more detailed output, check the application tracking page: http://localhost:18729/cluster/app/application_1796463245613_0004 Then click on links to logs of each attempt.\n. Failing the application.";
    const UNKNOWN_QUEUE: &str = "Application application_1796463245613_0003 submitted by user rootApplication application_1796463245613_0003 submitted by user root to unknown queue: nosuch";

    #[test]
    fn rm_diagnostics_give_the_reason() {
        assert_eq!(
            from_rm_diagnostics(EXEC_FORMAT, true),
            Reason::BinaryNotRunnable
        );
        assert_eq!(exit_code(EXEC_FORMAT), Some(126));
        assert_eq!(
            detail(Reason::BinaryNotRunnable, EXEC_FORMAT),
            "/bin/bash: line 1: ./spindle-app: cannot execute binary file: Exec format error"
        );
        assert_eq!(
            from_rm_diagnostics(UNKNOWN_QUEUE, false),
            Reason::NotAdmitted
        );
        let crashed = "Application application_1_0002 failed 2 times due to AM Container for appattempt_1_0002_000002 exited with  exitCode: 137\nFailing this attempt.Diagnostics: Killed";
        assert_eq!(
            from_rm_diagnostics(crashed, true),
            Reason::AmAttemptsExhausted
        );
        let localize = "Application application_1_0003 failed 1 times due to AM Container for appattempt_1_0003_000001 exited with  exitCode: -1000\nFailing this attempt.Diagnostics: File does not exist: hdfs://nn/user/u/.spindleStaging/x/spindle-app";
        assert_eq!(from_rm_diagnostics(localize, true), Reason::Localization);
        assert_eq!(
            detail(Reason::Localization, localize),
            "Failing this attempt.Diagnostics: File does not exist: hdfs://nn/user/u/.spindleStaging/x/spindle-app"
        );
        let pmem =
            "… due to AM Container for appattempt_1_0004_000001 exited with  exitCode: -104\n…";
        assert_eq!(from_rm_diagnostics(pmem, true), Reason::MemoryLimit);
        assert_eq!(from_rm_diagnostics("something else", true), Reason::Failed);
    }

    #[test]
    fn the_ams_tag_wins_and_its_tag_is_not_repeated() {
        let d = "[MEMORY_LIMIT] executor failures exceeded (3 > 2); last: container killed";
        assert_eq!(Reason::from_tagged(d), Some(Reason::MemoryLimit));
        assert_eq!(
            detail(Reason::MemoryLimit, d),
            "executor failures exceeded (3 > 2); last: container killed"
        );
    }
}
