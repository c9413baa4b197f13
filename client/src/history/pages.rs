//! The history server's HTML pages: the applications, and one
//! application's jobs, stages and executors (relative links, so they work
//! under `/history/<appId>/` and behind the RM's proxy).

use spindle_contract::api::html_escape as esc;
use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Response};
use spindle_contract::events::Replay;
use spindle_contract::outcome::Reason;

use super::{History, latest};

fn page(title: &str, head: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{title} - Spindle history</title>\
         <style>body{{font-family:sans-serif;margin:1em 2em}}nav a{{margin-right:1.2em}}\
         table{{border-collapse:collapse;margin-top:.6em}}td,th{{border:1px solid #bbb;padding:3px 8px;text-align:left}}</style>\
         </head><body><h2>Spindle history</h2>{head}<h3>{title}</h3>{body}</body></html>",
        title = esc(title)
    ))
}

/// An attempt's status with its typed reason and exit code once it failed
/// (`FAILED: MEMORY_LIMIT, exit code 8`).
fn status_text(r: &Replay) -> String {
    let a = r.attempt_info(0);
    match (a.reason, a.exit_code) {
        (Some(reason), Some(code)) if reason != Reason::Succeeded => {
            format!("{}: {}, exit code {code}", a.status, reason.name())
        }
        _ => a.status,
    }
}

fn app_head(r: &Replay) -> String {
    let a = r.attempt_info(0);
    let diagnostics = if a.diagnostics.is_empty() {
        String::new()
    } else {
        format!("<p>diagnostics: {}</p>", esc(&a.diagnostics))
    };
    format!(
        "<p>{name} &middot; {id} &middot; attempt {attempt} &middot; user {user} &middot; {status}</p>\
         {diagnostics}<nav><a href=\"/\">Applications</a><a href=\"jobs\">Jobs</a><a href=\"stages\">Stages</a>\
         <a href=\"executors\">Executors</a></nav>",
        name = esc(&r.name),
        id = esc(&r.app_id),
        attempt = r.attempt,
        user = esc(&r.user),
        status = esc(&status_text(r)),
    )
}

pub(super) async fn apps_page(State(h): State<Arc<History>>) -> Response {
    let apps = match h.apps().await {
        Ok(a) => a,
        Err(e) => return super::failure(e),
    };
    let mut b = String::from(
        "<table><tr><th>Application</th><th>Name</th><th>User</th><th>Attempts</th><th>Status</th><th>Jobs</th></tr>",
    );
    for a in &apps {
        let r = a.latest();
        let _ = write!(
            b,
            "<tr><td><a href=\"/history/{id}/\">{id}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&r.name),
            esc(&r.user),
            a.attempts.len(),
            esc(&status_text(r)),
            r.jobs().len(),
            id = esc(&r.app_id),
        );
    }
    b.push_str("</table>");
    if apps.is_empty() {
        let _ = write!(b, "<p>No event logs in {}.</p>", esc(&h.store.uri()));
    }
    page("Applications", "", &b).into_response()
}

pub(super) async fn jobs_page(State(h): State<Arc<History>>, Path(app): Path<String>) -> Response {
    let r = match latest(&h, &app).await {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let mut b = String::from(
        "<table><tr><th>Job</th><th>Action</th><th>Status</th><th>Stages</th><th>Tasks: succeeded/total</th><th>Failed tasks</th></tr>",
    );
    for j in r.jobs() {
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:?}</td><td>{}/{}</td><td>{}</td></tr>",
            j.job_id,
            esc(&j.name),
            esc(&j.status),
            j.stage_ids,
            j.num_completed_tasks,
            j.num_tasks,
            j.num_failed_tasks
        );
    }
    b.push_str("</table>");
    page("Jobs", &app_head(&r), &b).into_response()
}

pub(super) async fn stages_page(
    State(h): State<Arc<History>>,
    Path(app): Path<String>,
) -> Response {
    let r = match latest(&h, &app).await {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let mut b = String::from(
        "<table><tr><th>Stage</th><th>Attempt</th><th>Job</th><th>Status</th><th>Tasks: succeeded/total</th><th>Failed</th><th>Locality</th></tr>",
    );
    for s in r.stages() {
        let locality: Vec<String> = s
            .locality
            .iter()
            .map(|(k, n)| format!("{k}: {n}"))
            .collect();
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}/{}</td><td>{}</td><td>{}</td></tr>",
            s.stage_id,
            s.attempt_id,
            s.job_id,
            esc(&s.status),
            s.num_complete_tasks,
            s.num_tasks,
            s.num_failed_tasks,
            esc(&locality.join(", "))
        );
    }
    b.push_str("</table>");
    page("Stages", &app_head(&r), &b).into_response()
}

pub(super) async fn executors_page(
    State(h): State<Arc<History>>,
    Path(app): Path<String>,
) -> Response {
    let r = match latest(&h, &app).await {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let mut b = String::from(
        "<table><tr><th>Executor</th><th>Address</th><th>State</th><th>Reason</th></tr>",
    );
    for e in r.executors() {
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&e.id),
            esc(&e.host_port),
            esc(&e.state),
            esc(&e.remove_reason)
        );
    }
    b.push_str("</table>");
    page("Executors", &app_head(&r), &b).into_response()
}
