//! Waiting for an application: its YARN state from the RM, then, while it
//! runs, jobs, stages and tasks from the AM's JSON API (`/api/v1`, the types
//! of `spindle_contract::api`) through the RM's web proxy. Ctrl-C kills the application.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use serde::Deserialize;
use std::collections::HashMap;

use spindle_contract::api::{Application, Elastic, Executor, Job, Stage, Waiting};
use spindle_contract::outcome::Reason;
use spindle_hadoop::ids::ApplicationId;
use spindle_hadoop::yarn::{AppReport, AppState, FinalStatus};

use super::Cluster;
use crate::Error;
use spindle_contract::staging::Staging;

/// How often the RM is asked: about once a second, however many clients wait.
const POLL: Duration = Duration::from_secs(1);
/// RM answers may fail this long in a row (an RM restart, a failover) before
/// the client gives up waiting (the application keeps running).
const RM_OUTAGE: Duration = Duration::from_secs(60);
/// The exit code after Ctrl-C (128 + SIGINT).
pub(crate) const INTERRUPTED: i32 = 130;
/// An application still waiting for its AM after this is explained ([`super::waiting`]).
const EXPLAIN_WAIT_AFTER: Duration = Duration::from_secs(3);
/// How often the explanation (and the scheduler's queue) is looked at again.
const EXPLAIN_EVERY: Duration = Duration::from_secs(5);

/// One line about the jobs and the stages that are running.
pub(crate) fn summarize(jobs: &[Job], stages: &[Stage]) -> String {
    let done = jobs
        .iter()
        .filter(|j| j.status.eq_ignore_ascii_case("SUCCEEDED"))
        .count();
    let failed = jobs
        .iter()
        .filter(|j| j.status.eq_ignore_ascii_case("FAILED"))
        .count();
    let mut s = format!("jobs: {done} done");
    if failed > 0 {
        s.push_str(&format!(", {failed} failed"));
    }
    let running: Vec<&Job> = jobs
        .iter()
        .filter(|j| j.status.eq_ignore_ascii_case("RUNNING"))
        .collect();
    for j in &running {
        s.push_str(&format!("; job {} running", j.job_id));
    }
    let mut active: Vec<&Stage> = stages
        .iter()
        .filter(|st| {
            st.status.eq_ignore_ascii_case("ACTIVE") || st.status.eq_ignore_ascii_case("RUNNING")
        })
        .collect();
    active.sort_by_key(|st| st.stage_id);
    for st in active {
        s.push_str(&format!(
            " | stage {} {} {}/{} tasks",
            st.stage_id,
            bar(st.num_complete_tasks, st.num_tasks),
            st.num_complete_tasks,
            st.num_tasks
        ));
        if st.num_active_tasks > 0 {
            s.push_str(&format!(" ({} running)", st.num_active_tasks));
        }
        if st.num_failed_tasks > 0 {
            s.push_str(&format!(" ({} failed)", st.num_failed_tasks));
        }
    }
    s
}

fn bar(done: u32, total: u32) -> String {
    const W: u64 = 20;
    let filled = (u64::from(done.min(total)) * W)
        .checked_div(u64::from(total))
        .unwrap_or(0);
    format!(
        "[{}{}]",
        "=".repeat(filled as usize),
        " ".repeat((W - filled) as usize)
    )
}

/// What the client saw of the executors: each one's arrival (for waiting
/// tasks, or to replace one) and departure (idle, preempted, lost) is
/// printed once, and the AM's elastic counters make the closing summary.
#[derive(Default)]
pub(crate) struct ExecutorWatch {
    states: HashMap<String, String>,
    elastic: Option<Elastic>,
}

impl ExecutorWatch {
    /// Lines for the executors that arrived or left since the last list.
    pub(crate) fn changes(&mut self, list: &[Executor]) -> Vec<String> {
        let mut lines = Vec::new();
        for e in list {
            let before = self.states.insert(e.id.clone(), e.state.clone());
            if before.as_deref() == Some(e.state.as_str()) {
                continue;
            }
            let added = before.is_none() && !e.add_reason.is_empty() && e.add_reason != "initial";
            if added {
                lines.push(format!("executor {} added ({})", e.id, e.add_reason));
            }
            match e.state.as_str() {
                "removed" => lines.push(format!(
                    "executor {} removed ({}): {} shuffle blocks{} moved to executors that stay",
                    e.id,
                    e.remove_reason,
                    e.blocks_migrated,
                    match e.cached_blocks_migrated {
                        0 => String::new(),
                        n => format!(" and {n} cached partitions"),
                    }
                )),
                "lost" => lines.push(format!("executor {} lost: {}", e.id, e.remove_reason)),
                _ => {}
            }
        }
        lines
    }

    /// One line on what dynamic allocation and preemption did, once the
    /// application has ended; None when they did nothing.
    pub(crate) fn summary(&self) -> Option<String> {
        let e = self.elastic.as_ref()?;
        let moved = e.removed_idle
            + e.removed_preempted
            + e.removed_decommissioning
            + e.containers_preempted
            + e.removed_lost;
        if !e.dynamic_allocation && moved == 0 {
            return None;
        }
        let decommissioning = match e.removed_decommissioning {
            0 => String::new(),
            n => format!(", {n} from decommissioning nodes"),
        };
        let cached = if e.cached_blocks_migrated + e.cached_blocks_lost + e.cached_recomputed > 0 {
            format!(
                "; {} cached partitions moved ({} bytes), {} lost, {} computed again",
                e.cached_blocks_migrated,
                e.cached_bytes_migrated,
                e.cached_blocks_lost,
                e.cached_recomputed
            )
        } else {
            String::new()
        };
        Some(format!(
            "executors: {} added ({} asked for waiting tasks); removed {} idle, {} preempted{decommissioning}, {} lost; \
             {} shuffle blocks moved ({} bytes), {} map outputs lost, {} map tasks run again{cached}",
            e.executors_added,
            e.requested_for_backlog,
            e.removed_idle,
            e.removed_preempted + e.containers_preempted,
            e.removed_lost,
            e.blocks_migrated,
            e.bytes_migrated,
            e.outputs_lost,
            e.maps_recomputed
        ))
    }
}

/// Asks the AM (through the proxy tracking URL) how its jobs are doing;
/// executors that came or went since the last call go to `watch`'s lines.
async fn am_progress(
    http: &reqwest::Client,
    tracking: &str,
    app: ApplicationId,
    watch: &mut ExecutorWatch,
) -> Option<(String, Vec<String>)> {
    let base = format!("{}/api/v1/applications", tracking.trim_end_matches('/'));
    let id = match get_json::<Vec<Application>>(http, &base).await {
        Some(list) => list
            .into_iter()
            .next()
            .map(|a| a.id)
            .filter(|i| !i.is_empty()),
        None => None,
    }
    .unwrap_or_else(|| app.to_string());
    let jobs: Vec<Job> = get_json(http, &format!("{base}/{id}/jobs")).await?;
    let stages: Vec<Stage> = get_json(http, &format!("{base}/{id}/stages"))
        .await
        .unwrap_or_default();
    let executors: Vec<Executor> = get_json(http, &format!("{base}/{id}/allexecutors"))
        .await
        .unwrap_or_default();
    if let Some(e) = get_json::<Elastic>(http, &format!("{base}/{id}/elastic")).await {
        watch.elastic = Some(e);
    }
    let mut line = summarize(&jobs, &stages);
    // Executors the AM asked for and YARN has not granted: the AM says why.
    if let Some(w) = get_json::<Waiting>(http, &format!("{base}/{id}/waiting"))
        .await
        .filter(|w| w.waiting)
    {
        line.push_str(&format!(" | waiting: {}", w.explanation));
    }
    Some((line, watch.changes(&executors)))
}

async fn get_json<T: for<'de> Deserialize<'de>>(http: &reqwest::Client, url: &str) -> Option<T> {
    let resp = http
        .get(url)
        .header("Accept", "application/json")
        .send()
        .await
        .ok()?;
    if !resp.status().is_success() {
        return None;
    }
    resp.json().await.ok()
}

/// Redraws one status line on a terminal, cut to its width (a line that
/// wrapped could not be redrawn); elsewhere prints a line only when it changed.
struct Display {
    tty: bool,
    last: String,
    drawn: bool,
}

/// The width of the terminal on stderr, if it is one.
fn terminal_width() -> Option<usize> {
    // SAFETY: TIOCGWINSZ fills the winsize it is given and nothing else.
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    let ok = unsafe { libc::ioctl(libc::STDERR_FILENO, libc::TIOCGWINSZ, &mut ws) } == 0;
    (ok && ws.ws_col > 0).then_some(ws.ws_col as usize)
}

/// `s` cut to `width` characters, with an ellipsis when cut.
fn fit(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_string();
    }
    let mut out: String = s.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

impl Display {
    fn line(&mut self, s: &str) {
        if s == self.last {
            return;
        }
        self.last = s.to_string();
        if self.tty {
            // One column spare: a line filling the last column wraps on some terminals.
            let width = terminal_width().unwrap_or(80).saturating_sub(1).max(20);
            eprint!("\r\x1b[K{}", fit(s, width));
            self.drawn = true;
        } else {
            eprintln!("{s}");
        }
    }

    /// Prints a permanent line (above the status line on a terminal).
    fn say(&mut self, s: &str) {
        if self.tty && self.drawn {
            eprint!("\r\x1b[K");
            self.drawn = false;
            self.last.clear();
        }
        eprintln!("{s}");
    }
}

/// Waits for `app` to end, showing progress; returns the exit code: 0 only
/// for final status SUCCEEDED, [`INTERRUPTED`] after Ctrl-C (the application
/// is killed). Removes the staging directory once the application has ended.
pub(crate) async fn wait(
    cluster: &Cluster,
    staging: Option<&Staging>,
    app: ApplicationId,
) -> Result<i32, Error> {
    let http = cluster
        .trust
        .client_builder()
        .timeout(Duration::from_secs(3))
        .build()
        .map_err(|e| Error::Http {
            url: "(client)".into(),
            reason: e.to_string(),
        })?;
    let mut display = Display {
        tty: std::io::stderr().is_terminal(),
        last: String::new(),
        drawn: false,
    };
    let started = Instant::now();
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let mut last_state = None;
    let mut failing_since: Option<Instant> = None;
    let mut watch = ExecutorWatch::default();
    let mut explained: Option<(Instant, String)> = None;
    loop {
        let report = tokio::select! {
            _ = &mut ctrl_c => return interrupted(cluster, staging, app, &mut display).await,
            r = cluster.rest.app(app) => r,
        };
        let report = match report {
            Ok(r) => {
                failing_since = None;
                r
            }
            Err(e) => {
                let since = *failing_since.get_or_insert_with(Instant::now);
                if since.elapsed() > RM_OUTAGE {
                    display.say("");
                    return Err(e.into());
                }
                display.line(&format!("spindle: {app}: RM not answering ({e}); retrying"));
                tokio::select! {
                    _ = &mut ctrl_c => return interrupted(cluster, staging, app, &mut display).await,
                    _ = tokio::time::sleep(POLL * 2) => continue,
                }
            }
        };
        if last_state != Some(report.state) {
            last_state = Some(report.state);
            display.say(&format!(
                "spindle: {app} {} ({:.1} s)",
                report.state.as_str(),
                started.elapsed().as_secs_f64()
            ));
            if report.state == AppState::Running
                && let Some(url) = tracking(&report)
            {
                let url = usable_tracking_url(url, cluster.rest.active_base());
                display.say(&format!("spindle: tracking URL: {url}"));
            }
        }
        if report.state.is_final() {
            if let Some(line) = watch.summary() {
                display.say(&format!("spindle: {line}"));
            }
            return Ok(finished(cluster, staging, &report, started, &mut display).await);
        }
        if started.elapsed() >= EXPLAIN_WAIT_AFTER
            && explained
                .as_ref()
                .is_none_or(|(at, _)| at.elapsed() >= EXPLAIN_EVERY)
            && super::waiting::explain(&report, None).is_some()
        {
            let queue = cluster
                .rest
                .scheduler_queue(&report.queue)
                .await
                .ok()
                .flatten();
            let line = super::waiting::explain(&report, queue.as_ref()).unwrap_or_default();
            if explained.as_ref().is_none_or(|(_, last)| *last != line) {
                display.say(&format!("spindle: {app} waiting: {line}"));
            }
            explained = Some((Instant::now(), line));
        }
        if report.state == AppState::Running
            && let Some(url) = tracking(&report)
            && let Some((line, changes)) = am_progress(
                &http,
                &usable_tracking_url(url, cluster.rest.active_base()),
                app,
                &mut watch,
            )
            .await
        {
            for change in changes {
                display.say(&format!("spindle: {change}"));
            }
            display.line(&format!("spindle: {line}"));
        }
        tokio::select! {
            _ = &mut ctrl_c => return interrupted(cluster, staging, app, &mut display).await,
            _ = tokio::time::sleep(POLL) => {}
        }
    }
}

/// `spindle submit --detach`: waits until YARN has ACCEPTED `app` (or it runs already), prints
/// `<appId> <tracking URL>` on standard output and returns 0 without touching the staging
/// directory, which the AM removes when the application ends. An application that ends before
/// it was accepted (a queue that refuses it) is reported, its staging directory removed, 1.
pub(crate) async fn wait_accepted(
    cluster: &Cluster,
    staging: &Staging,
    app: ApplicationId,
) -> Result<i32, Error> {
    let started = Instant::now();
    let mut failing_since: Option<Instant> = None;
    loop {
        match cluster.rest.app(app).await {
            Ok(report) if report.state.is_final() => {
                let mut display = Display {
                    tty: false,
                    last: String::new(),
                    drawn: false,
                };
                return Ok(finished(cluster, Some(staging), &report, started, &mut display).await);
            }
            Ok(report) if matches!(report.state, AppState::Accepted | AppState::Running) => {
                let url = tracking(&report)
                    .map(|u| usable_tracking_url(u, cluster.rest.active_base()))
                    .unwrap_or_else(|| cluster.app_page(app));
                eprintln!(
                    "spindle: {app} {} ({:.1} s); detached: follow it with `spindle status {app}`, \
                     stop it with `spindle kill {app}`",
                    report.state.as_str(),
                    started.elapsed().as_secs_f64()
                );
                println!("{app} {url}");
                return Ok(0);
            }
            Ok(_) => failing_since = None,
            Err(e) => {
                let since = *failing_since.get_or_insert_with(Instant::now);
                if since.elapsed() > RM_OUTAGE {
                    return Err(e.into());
                }
            }
        }
        tokio::time::sleep(POLL).await;
    }
}

fn tracking(r: &AppReport) -> Option<&str> {
    r.tracking_url.as_deref().filter(|u| u.starts_with("http"))
}

/// The tracking URL to use: an RM whose web port was chosen at start-up
/// (configured as port 0, as in test clusters) still advertises its proxy
/// at port 0; the proxy is the RM's, so use the RM address that answered.
pub(crate) fn usable_tracking_url(url: &str, rm_base: &str) -> String {
    let Some((_, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    if authority.ends_with(":0") || authority.starts_with("0.0.0.0") {
        return format!("{}{path}", rm_base.trim_end_matches('/'));
    }
    url.to_string()
}

async fn finished(
    cluster: &Cluster,
    staging: Option<&Staging>,
    report: &AppReport,
    started: Instant,
    display: &mut Display,
) -> i32 {
    let app = report.id;
    display.say(&format!(
        "spindle: {app} ended: {}, final status {:?} after {:.1} s",
        report.state.as_str(),
        report.final_status,
        started.elapsed().as_secs_f64()
    ));
    if !report.diagnostics.trim().is_empty() {
        display.say(&format!(
            "spindle: diagnostics: {}",
            one_line(&report.diagnostics)
        ));
    }
    if let Some(url) = tracking(report) {
        let url = usable_tracking_url(url, cluster.rest.active_base());
        display.say(&format!("spindle: tracking URL: {url}"));
    }
    cleanup(cluster, staging, &report.user, app).await;
    let reason = super::outcome::reason(report).unwrap_or(Reason::Failed);
    if report.final_status == FinalStatus::Succeeded {
        return reason.code();
    }
    let mut detail = super::outcome::detail(reason, &report.diagnostics);
    if matches!(
        reason,
        Reason::BinaryNotRunnable | Reason::Localization | Reason::AmAttemptsExhausted
    ) {
        // The AM container's node: where the binary did not run or the files did not arrive.
        if let Some(a) = cluster
            .rest
            .attempts(app)
            .await
            .ok()
            .and_then(|a| a.into_iter().last())
            && !a.node_id.is_empty()
        {
            detail = format!("on {}: {detail}", a.node_id);
        }
    }
    display.say(&format!(
        "spindle: {app} reason: {} (exit code {}): {detail}",
        reason.name(),
        reason.code()
    ));
    display.say(&format!("spindle: container logs: spindle logs {app}"));
    reason.code()
}

async fn interrupted(
    cluster: &Cluster,
    staging: Option<&Staging>,
    app: ApplicationId,
    display: &mut Display,
) -> Result<i32, Error> {
    display.say(&format!("spindle: interrupted: killing {app}"));
    let state = cluster.rest.kill(app).await?;
    display.say(&format!("spindle: {app} killed ({})", state.as_str()));
    cleanup(cluster, staging, "", app).await;
    Ok(INTERRUPTED)
}

async fn cleanup(cluster: &Cluster, staging: Option<&Staging>, user: &str, app: ApplicationId) {
    match staging {
        Some(s) => {
            if let Err(e) = s.remove_app_dir(app).await {
                tracing::warn!("could not remove the staging directory of {app}: {e}");
            }
        }
        None => super::remove_staging(cluster, user, app).await,
    }
}

/// Diagnostics can span lines (stack traces): keep the first few, joined.
fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(6)
        .collect::<Vec<_>>()
        .join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn executors_coming_and_going_are_printed_once_with_their_reason() {
        let list = |json: &str| -> Vec<Executor> { serde_json::from_str(json).unwrap() };
        let mut w = ExecutorWatch::default();
        let first = list(
            r#"[{"id":"1","state":"running","addReason":"initial"},
                {"id":"2","state":"starting","addReason":"backlog"}]"#,
        );
        assert_eq!(w.changes(&first), ["executor 2 added (backlog)"]);
        assert!(w.changes(&first).is_empty(), "nothing new");
        let later = list(
            r#"[{"id":"1","state":"running","addReason":"initial"},
                {"id":"2","state":"removed","addReason":"backlog","removeReason":"idle","blocksMigrated":12},
                {"id":"3","state":"lost","addReason":"replacement","removeReason":"killed by YARN"},
                {"id":"4","state":"removed","addReason":"backlog","removeReason":"preempted","blocksMigrated":2,"cachedBlocksMigrated":5}]"#,
        );
        assert_eq!(
            w.changes(&later),
            [
                "executor 2 removed (idle): 12 shuffle blocks moved to executors that stay",
                "executor 3 added (replacement)",
                "executor 3 lost: killed by YARN",
                "executor 4 added (backlog)",
                "executor 4 removed (preempted): 2 shuffle blocks and 5 cached partitions moved to executors that stay",
            ]
        );
        assert_eq!(w.summary(), None, "no elastic counters seen");
        w.elastic = Some(serde_json::from_str(
            r#"{"dynamicAllocation":true,"executorsAdded":3,"requestedForBacklog":1,"removedIdle":1,"removedLost":1,"blocksMigrated":12,"bytesMigrated":300}"#,
        ).unwrap());
        assert_eq!(
            w.summary().unwrap(),
            "executors: 3 added (1 asked for waiting tasks); removed 1 idle, 0 preempted, 1 lost; \
             12 shuffle blocks moved (300 bytes), 0 map outputs lost, 0 map tasks run again"
        );
        w.elastic = Some(serde_json::from_str(
            r#"{"dynamicAllocation":true,"executorsAdded":3,"removedIdle":2,"cachedBlocksMigrated":8,"cachedBytesMigrated":900,"cachedBlocksLost":1}"#,
        ).unwrap());
        assert_eq!(
            w.summary().unwrap(),
            "executors: 3 added (0 asked for waiting tasks); removed 2 idle, 0 preempted, 0 lost; \
             0 shuffle blocks moved (0 bytes), 0 map outputs lost, 0 map tasks run again; \
             8 cached partitions moved (900 bytes), 1 lost, 0 computed again"
        );
    }

    #[test]
    fn summary_shows_running_stages_with_bars() {
        let jobs: Vec<Job> = serde_json::from_str(
            r#"[{"jobId":0,"status":"SUCCEEDED","numTasks":4},{"jobId":1,"status":"RUNNING","stageIds":[2,3],"extra":1}]"#,
        )
        .unwrap();
        let stages: Vec<Stage> = serde_json::from_str(
            r#"[{"stageId":3,"status":"ACTIVE","numTasks":10,"numCompleteTasks":5,"numActiveTasks":2},
                {"stageId":2,"status":"COMPLETE","numTasks":4,"numCompleteTasks":4}]"#,
        )
        .unwrap();
        let s = summarize(&jobs, &stages);
        assert_eq!(
            s,
            "jobs: 1 done; job 1 running | stage 3 [==========          ] 5/10 tasks (2 running)"
        );
        assert_eq!(summarize(&[], &[]), "jobs: 0 done");
    }

    #[test]
    fn port_zero_tracking_urls_point_at_the_rm_that_answered() {
        let rm = "http://localhost:39689";
        assert_eq!(
            usable_tracking_url("http://localhost:0/proxy/application_1_0002/", rm),
            "http://localhost:39689/proxy/application_1_0002/"
        );
        let ok = "http://rm.example:8088/proxy/application_1_0002/";
        assert_eq!(usable_tracking_url(ok, rm), ok);
        assert_eq!(usable_tracking_url("N/A", rm), "N/A");
    }

    #[test]
    fn status_lines_are_cut_to_the_terminal() {
        assert_eq!(fit("spindle: jobs", 40), "spindle: jobs");
        assert_eq!(fit("spindle: jobs: 1 done", 10), "spindle: …");
        assert_eq!(fit("ééééé", 3).chars().count(), 3);
    }

    #[test]
    fn ctrl_c_exits_with_the_interrupted_reasons_code() {
        assert_eq!(INTERRUPTED, Reason::Interrupted.code());
    }

    #[test]
    fn diagnostics_fit_on_one_line() {
        assert_eq!(one_line("a\n\n  b\nc"), "a | b | c");
    }
}
