//! `spindle status` and `spindle list`: an application report as text, as a table row, and as
//! JSON with stable field names and ISO 8601 times (the RM's own answers carry milliseconds
//! since the epoch and change shape between Hadoop versions; scripts read this instead).

use serde::Serialize;
use spindle_contract::outcome::Reason;
use spindle_hadoop::yarn::{AppReport, AppState, FinalStatus};

use super::progress::usable_tracking_url;
use crate::Error;

/// One application for machines: what `spindle status --json` prints and `spindle list --json`
/// prints an array of. The field names are part of the CLI's interface.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AppJson {
    pub id: String,
    pub name: String,
    pub user: String,
    pub queue: String,
    pub application_type: String,
    pub application_tags: Vec<String>,
    pub state: AppState,
    pub final_status: FinalStatus,
    /// From 0 to 100.
    pub progress_percent: f64,
    pub tracking_url: Option<String>,
    pub diagnostics: String,
    /// ISO 8601 UTC (`2026-12-05T03:22:12.345Z`); `null` until it happened.
    pub started_time: Option<String>,
    pub launched_time: Option<String>,
    pub finished_time: Option<String>,
    pub elapsed_seconds: f64,
    pub running_containers: i32,
    /// YARN's own names for what it holds now.
    #[serde(rename = "allocatedMB")]
    pub allocated_mb: i64,
    #[serde(rename = "allocatedVCores")]
    pub allocated_vcores: i32,
    pub priority: i32,
    /// Why it ended (`MEMORY_LIMIT`, …; docs/operations.md); `null` until it has.
    pub reason: Option<Reason>,
    /// The exit code `spindle submit` gives for that reason; `null` until it has ended.
    pub exit_code: Option<i32>,
    /// Why it waits for its ApplicationMaster, with the numbers; `null` when it does not.
    pub waiting: Option<String>,
}

impl AppJson {
    /// `waiting`: [`super::waiting::explain`]'s line.
    pub(crate) fn new(r: &AppReport, rm_base: &str, waiting: Option<String>) -> AppJson {
        let reason = super::outcome::reason(r);
        AppJson {
            id: r.id.to_string(),
            name: r.name.clone(),
            user: r.user.clone(),
            queue: r.queue.clone(),
            application_type: r.application_type.clone(),
            application_tags: r.application_tags.clone(),
            state: r.state,
            final_status: r.final_status,
            progress_percent: (f64::from(r.progress) * 1000.0).round() / 10.0,
            tracking_url: tracking_url(r, rm_base),
            diagnostics: r.diagnostics.trim().to_string(),
            started_time: iso8601(r.start_time),
            launched_time: iso8601(r.launch_time),
            finished_time: iso8601(r.finish_time),
            elapsed_seconds: r.elapsed_time.max(0) as f64 / 1000.0,
            running_containers: r.running_containers.max(0),
            allocated_mb: r.allocated.memory_mb.max(0),
            allocated_vcores: r.allocated.vcores.max(0),
            priority: r.priority,
            reason,
            exit_code: reason.map(Reason::code),
            waiting,
        }
    }
}

fn tracking_url(r: &AppReport, rm_base: &str) -> Option<String> {
    r.tracking_url
        .as_deref()
        .filter(|u| !u.is_empty() && *u != "N/A")
        .map(|u| usable_tracking_url(u, rm_base))
}

/// Milliseconds since the epoch as ISO 8601 UTC with milliseconds; `None` for 0 or less (the
/// RM's "not yet").
pub(crate) fn iso8601(ms: i64) -> Option<String> {
    if ms <= 0 {
        return None;
    }
    let (secs, millis) = (ms.div_euclid(1000), ms.rem_euclid(1000));
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    Some(format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    ))
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// The report as `spindle status` prints it, with why it waits for its AM, if it does.
pub(crate) fn describe(r: &AppReport, rm_base: &str, waiting: Option<&str>) -> String {
    let mut s = format!(
        "{} {:?} (user {}, queue {}, type {})\nstate {}, final status {:?}, progress {:.0}%\n",
        r.id,
        r.name,
        r.user,
        r.queue,
        r.application_type,
        r.state.as_str(),
        r.final_status,
        r.progress * 100.0
    );
    if let Some(url) = tracking_url(r, rm_base) {
        s.push_str(&format!("tracking URL: {url}\n"));
    }
    s.push_str(&format!(
        "started {}, elapsed {:.1} s, running containers {}\n",
        iso8601(r.start_time).as_deref().unwrap_or("-"),
        r.elapsed_time as f64 / 1000.0,
        r.running_containers.max(0)
    ));
    if let Some(t) = iso8601(r.finish_time) {
        s.push_str(&format!("finished {t}\n"));
    }
    if !r.diagnostics.trim().is_empty() {
        s.push_str(&format!("diagnostics: {}\n", r.diagnostics.trim()));
    }
    if let Some(w) = waiting {
        s.push_str(&format!("waiting: {w}\n"));
    }
    if let Some(reason) = super::outcome::reason(r) {
        s.push_str(&format!(
            "reason: {} (exit code {})\n",
            reason.name(),
            reason.code()
        ));
    }
    s
}

/// YARN's name of a final status (`SUCCEEDED`).
pub(crate) fn final_status_str(f: FinalStatus) -> &'static str {
    match f {
        FinalStatus::Undefined => "UNDEFINED",
        FinalStatus::Succeeded => "SUCCEEDED",
        FinalStatus::Failed => "FAILED",
        FinalStatus::Killed => "KILLED",
        FinalStatus::Ended => "ENDED",
        FinalStatus::Unknown => "UNKNOWN",
    }
}

/// `--state` values: YARN's state names, in any case.
pub(crate) fn parse_states(values: &[String]) -> Result<Vec<AppState>, Error> {
    values
        .iter()
        .filter(|v| !v.trim().is_empty())
        .map(|v| {
            let name = v.trim().to_ascii_uppercase();
            match serde_json::from_value::<AppState>(serde_json::Value::String(name)) {
                Ok(AppState::Unknown) | Err(_) => Err(Error::Usage(format!(
                    "--state {v:?}: expected NEW, NEW_SAVING, SUBMITTED, ACCEPTED, RUNNING, \
                     FINISHED, FAILED or KILLED"
                ))),
                Ok(s) => Ok(s),
            }
        })
        .collect()
}

/// The table of `spindle list`: a header and one line per application, columns padded.
pub(crate) fn table(apps: &[AppReport]) -> String {
    let mut rows = vec![[
        "APPLICATION ID".to_string(),
        "STATE".into(),
        "FINAL STATUS".into(),
        "PROGRESS".into(),
        "USER".into(),
        "QUEUE".into(),
        "TYPE".into(),
        "STARTED".into(),
        "NAME".into(),
    ]];
    for r in apps {
        rows.push([
            r.id.to_string(),
            r.state.as_str().into(),
            final_status_str(r.final_status).into(),
            format!("{:.0}%", r.progress * 100.0),
            r.user.clone(),
            r.queue.clone(),
            r.application_type.clone(),
            iso8601(r.start_time).unwrap_or_else(|| "-".into()),
            // Names are user text: no control characters on the terminal.
            r.name
                .chars()
                .map(|c| if c.is_control() { '?' } else { c })
                .collect(),
        ]);
    }
    let widths: Vec<usize> = (0..9)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut s = String::new();
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (c, w))| {
                if i == 8 {
                    c.clone()
                } else {
                    format!("{c:<w$}")
                }
            })
            .collect();
        s.push_str(cells.join("  ").trim_end());
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_iso8601_utc() {
        assert_eq!(iso8601(0), None);
        assert_eq!(iso8601(-5), None);
        assert_eq!(iso8601(1).as_deref(), Some("1970-01-01T00:00:00.001Z"));
        // `date -u -d @1764905532` = Fri Dec  5 03:32:12 UTC 2025
        assert_eq!(
            iso8601(1_764_905_532_345).as_deref(),
            Some("2025-12-05T03:32:12.345Z")
        );
        // A leap day.
        assert_eq!(
            iso8601(951_782_400_000).as_deref(),
            Some("2000-02-29T00:00:00.000Z")
        );
    }

    #[test]
    fn iso8601_agrees_with_date() {
        for ms in [1_000i64, 86_399_999, 1_700_000_000_000, 4_102_444_800_000] {
            let out = std::process::Command::new("date")
                .args(["-u", "-d", &format!("@{}", ms / 1000), "+%Y-%m-%dT%H:%M:%S"])
                .output()
                .expect("date");
            let expected = String::from_utf8_lossy(&out.stdout).trim().to_string();
            let ours = iso8601(ms).unwrap();
            assert_eq!(&ours[..19], expected, "{ms}");
        }
    }

    fn report() -> AppReport {
        AppReport {
            id: "application_1700000000000_0042".parse().unwrap(),
            current_attempt: None,
            user: "alice".into(),
            queue: "root.default".into(),
            name: "wc".into(),
            application_type: "SPINDLE".into(),
            application_tags: vec!["nightly".into()],
            priority: 0,
            state: AppState::Running,
            final_status: FinalStatus::Undefined,
            progress: 0.5,
            diagnostics: " \n".into(),
            am_rpc_address: None,
            tracking_url: Some("http://rm:0/proxy/application_1700000000000_0042/".into()),
            original_tracking_url: None,
            start_time: 1_700_000_000_123,
            launch_time: 1_700_000_001_000,
            finish_time: 0,
            elapsed_time: 4_500,
            running_containers: 3,
            allocated: spindle_hadoop::yarn::Resource {
                memory_mb: 1536,
                vcores: 3,
            },
            memory_seconds: 0,
            vcore_seconds: 0,
            unmanaged: false,
            am_rm_token: None,
        }
    }

    /// The JSON field names are an interface: this is the whole list.
    #[test]
    fn json_has_the_documented_fields() {
        let v = serde_json::to_value(AppJson::new(&report(), "http://rm:8088", None)).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        let mut expected = vec![
            "id",
            "name",
            "user",
            "queue",
            "applicationType",
            "applicationTags",
            "state",
            "finalStatus",
            "progressPercent",
            "trackingUrl",
            "diagnostics",
            "startedTime",
            "launchedTime",
            "finishedTime",
            "elapsedSeconds",
            "runningContainers",
            "allocatedMB",
            "allocatedVCores",
            "priority",
            "reason",
            "exitCode",
            "waiting",
        ];
        expected.sort();
        let mut keys = keys;
        keys.sort();
        assert_eq!(keys, expected);
        assert_eq!(v["state"], "RUNNING");
        assert_eq!(v["finalStatus"], "UNDEFINED");
        assert_eq!(v["progressPercent"], 50.0);
        assert_eq!(v["startedTime"], "2023-11-14T22:13:20.123Z");
        assert_eq!(v["finishedTime"], serde_json::Value::Null);
        assert_eq!(v["diagnostics"], "");
        assert_eq!(v["reason"], serde_json::Value::Null);
        assert_eq!(v["exitCode"], serde_json::Value::Null);
        let mut ended = report();
        ended.state = AppState::Finished;
        ended.final_status = FinalStatus::Failed;
        ended.diagnostics = "[MEMORY_LIMIT] executor failures exceeded".into();
        let e = serde_json::to_value(AppJson::new(&ended, "http://rm:8088", None)).unwrap();
        assert_eq!(
            (&e["reason"], &e["exitCode"]),
            (&"MEMORY_LIMIT".into(), &8.into())
        );
        assert_eq!(
            v["trackingUrl"],
            "http://rm:8088/proxy/application_1700000000000_0042/"
        );
        let text = describe(&report(), "http://rm:8088", None);
        assert!(
            text.contains("started 2023-11-14T22:13:20.123Z, elapsed 4.5 s"),
            "{text}"
        );
        assert!(!text.contains("finished"), "{text}");
        let t = table(&[report()]);
        assert_eq!(t.lines().count(), 2, "{t}");
        assert!(
            t.lines()
                .nth(1)
                .unwrap()
                .contains("RUNNING  UNDEFINED     50%"),
            "{t}"
        );
    }

    #[test]
    fn states_parse_in_any_case_and_bad_ones_are_named() {
        let s = parse_states(&["running".into(), "ACCEPTED".into()]).unwrap();
        assert_eq!(s, vec![AppState::Running, AppState::Accepted]);
        let e = parse_states(&["DONE".into()]).unwrap_err().to_string();
        assert!(e.contains("--state \"DONE\""), "{e}");
    }
}
