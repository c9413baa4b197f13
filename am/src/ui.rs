//! The AM's web UI behind the YARN tracking URL (`/proxy/<appId>/` on the
//! ResourceManager): HTML pages for jobs, stages, executors and the
//! configuration, and a Spark-like JSON API under `/api/v1` (the shapes of
//! `spindle_contract::api`, which `spindle submit` reads). Every link is
//! relative, so pages work at any proxy prefix. Requests that do not come
//! from a proxy host get the redirect Hadoop's `AmIpFilter` gives: 302 to
//! `<proxy>/proxy/redirect/<appId>/<path>`.

use spindle_contract::api::html_escape as esc;
use std::collections::HashSet;
use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Json, Response};
use axum::routing::get;
use spindle_contract::api;
use spindle_core::progress::{JobProgress, Snapshot, StageProgress};

use crate::allocator::{ExecutorInfo, Shared};

/// Produces the engine's job/stage snapshot.
pub(crate) type ProgressFn = Arc<dyn Fn() -> Snapshot + Send + Sync>;

/// What the pages show; parts arrive once the engine runs.
pub(crate) struct UiState {
    pub app_id: String,
    pub app_name: String,
    pub user: String,
    pub attempt: i32,
    pub started_ms: u64,
    /// The proxy hosts; other clients are redirected, and everyone is
    /// refused while none of them resolves.
    pub proxy_hosts: ProxyHosts,
    /// `http://<proxy host:port>/proxy/<appId>`, the redirect target.
    pub proxy_uri_base: Option<String>,
    /// Shown on the environment page (no secrets in it).
    pub properties: Vec<(String, String)>,
    pub progress: OnceLock<ProgressFn>,
    pub executors: OnceLock<Arc<Shared>>,
    /// What dynamic allocation and preemption did (the driver's side).
    pub elastic: OnceLock<ElasticFn>,
}

/// Reads the driver's elastic counters.
pub(crate) type ElasticFn = Arc<dyn Fn() -> spindle_core::backend::ElasticStats + Send + Sync>;

impl UiState {
    fn snapshot(&self) -> Snapshot {
        self.progress.get().map(|f| f()).unwrap_or_default()
    }

    fn executor_list(&self) -> Vec<ExecutorInfo> {
        self.executors
            .get()
            .map(|s| s.executors())
            .unwrap_or_default()
    }
}

/// The routes, with the proxy check in front of all of them.
pub(crate) fn router(state: Arc<UiState>) -> Router {
    Router::new()
        .route("/", get(jobs_page))
        .route("/jobs", get(jobs_page))
        .route("/stages", get(stages_page))
        .route("/executors", get(executors_page))
        .route("/environment", get(environment_page))
        .route("/api/v1/applications", get(api_applications))
        .route("/api/v1/applications/{app}/jobs", get(api_jobs))
        .route("/api/v1/applications/{app}/stages", get(api_stages))
        .route("/api/v1/applications/{app}/executors", get(api_executors))
        .route("/api/v1/applications/{app}/elastic", get(api_elastic))
        .route("/api/v1/applications/{app}/logs", get(api_logs))
        .route(
            "/api/v1/applications/{app}/logs/{container}/{file}",
            get(api_log_bytes),
        )
        .route("/api/v1/applications/{app}/waiting", get(api_waiting))
        .route(
            "/api/v1/applications/{app}/allexecutors",
            get(api_executors),
        )
        .route(
            "/api/v1/applications/{app}/environment",
            get(api_environment),
        )
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            proxy_filter,
        ))
        .with_state(state)
}

/// Serves `router` on `listener` until the process ends.
pub(crate) async fn serve(listener: tokio::net::TcpListener, state: Arc<UiState>) {
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    if let Err(e) = axum::serve(listener, app).await {
        tracing::warn!("web UI stopped: {e}");
    }
}

/// Hadoop's AmIpFilter rule: only the proxy may talk to the AM directly.
/// It fails closed: while no proxy host resolves, nobody is served.
async fn proxy_filter(
    State(state): State<Arc<UiState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
    next: Next,
) -> Response {
    let from = canonical(peer.ip());
    let proxies = state.proxy_hosts.addresses().await;
    if proxies.contains(&from) {
        return next.run(req).await;
    }
    if proxies.is_empty() {
        let why = format!(
            "the AM cannot resolve any proxy host ({}): direct requests are refused",
            state.proxy_hosts.names.join(", ")
        );
        return (StatusCode::SERVICE_UNAVAILABLE, why).into_response();
    }
    let Some(base) = &state.proxy_uri_base else {
        let why = "direct requests are refused: open the application through the RM's proxy";
        return (StatusCode::FORBIDDEN, why).into_response();
    };
    let mut target = format!("{base}{}", req.uri().path());
    if let Some(i) = target.find("/proxy/") {
        target.insert_str(i + "/proxy".len(), "/redirect");
    }
    if let Some(q) = req.uri().query().filter(|q| !q.is_empty()) {
        target.push('?');
        target.push_str(q);
    }
    (StatusCode::FOUND, [(header::LOCATION, target)]).into_response()
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// The proxy hosts, by the `host:port` web addresses the RM configuration
/// gives, and their addresses: resolved again every 5 minutes (Hadoop's
/// AmIpFilter does too), and every 10 s while none resolves.
pub(crate) struct ProxyHosts {
    names: Vec<String>,
    resolved: tokio::sync::Mutex<(Option<std::time::Instant>, HashSet<IpAddr>)>,
}

impl ProxyHosts {
    pub(crate) fn new(names: Vec<String>) -> Self {
        ProxyHosts {
            names,
            resolved: tokio::sync::Mutex::new((None, HashSet::new())),
        }
    }

    async fn addresses(&self) -> HashSet<IpAddr> {
        use std::time::{Duration, Instant};
        let mut r = self.resolved.lock().await;
        let every = if r.1.is_empty() { 10 } else { 300 };
        if r.0
            .is_none_or(|at| at.elapsed() > Duration::from_secs(every))
        {
            *r = (Some(Instant::now()), resolve_proxy_hosts(&self.names).await);
        }
        r.1.clone()
    }
}

/// Each name resolved to all its addresses (a missing port is 80).
async fn resolve_proxy_hosts(addresses: &[String]) -> HashSet<IpAddr> {
    let mut out = HashSet::new();
    for a in addresses {
        let hostport = a
            .trim_start_matches("http://")
            .trim_start_matches("https://")
            .trim_end_matches('/');
        let with_port = if hostport.contains(':') {
            hostport.to_string()
        } else {
            format!("{hostport}:80")
        };
        if let Ok(addrs) = tokio::net::lookup_host(with_port).await {
            out.extend(addrs.map(|s| canonical(s.ip())));
        }
    }
    out
}

// ---------------------------------------------------------------- JSON API

/// A job as the API shows it: its stages' task counts summed.
fn job(s: &Snapshot, j: &JobProgress) -> api::Job {
    let stages: Vec<api::Stage> = s
        .stages
        .iter()
        .filter(|st| st.job_id == j.job_id)
        .map(|st| stage(st, 0))
        .collect();
    let mut job = api::Job {
        job_id: j.job_id,
        name: j.name.clone(),
        status: j.status.clone(),
        submission_time: j.submitted_ms,
        completion_time: j.completed_ms,
        stage_ids: j.stage_ids.clone(),
        ..Default::default()
    };
    job.count_from(&stages);
    job
}

fn stage(st: &StageProgress, attempt: u32) -> api::Stage {
    api::Stage {
        stage_id: st.stage_id,
        attempt_id: attempt,
        job_id: st.job_id,
        name: api::stage_name(st.stage_id, st.job_id),
        status: st.status.clone(),
        num_tasks: st.num_tasks,
        num_active_tasks: st.active_tasks,
        num_complete_tasks: st.completed_tasks,
        num_failed_tasks: st.failed_tasks,
        submission_time: st.submitted_ms,
        completion_time: st.completed_ms,
        locality: st.locality.clone(),
        tasks: st
            .tasks
            .iter()
            .map(|t| api::Task {
                index: t.partition,
                attempt: t.attempt,
                executor_id: t.executor_id.clone(),
                host: t.host.clone(),
                status: t.status.clone(),
                task_locality: t.locality.clone(),
            })
            .collect(),
    }
}

/// Stages newest first, each with its attempt number (a retried stage appears again).
fn stages_with_attempts(s: &Snapshot) -> Vec<api::Stage> {
    let mut seen: std::collections::HashMap<u32, u32> = Default::default();
    let mut out: Vec<api::Stage> = s
        .stages
        .iter()
        .map(|st| {
            let n = seen.entry(st.stage_id).or_insert(0);
            let v = stage(st, *n);
            *n += 1;
            v
        })
        .collect();
    out.reverse();
    out
}

fn executor(e: &ExecutorInfo) -> api::Executor {
    api::Executor {
        id: e.id.clone(),
        host_port: e.node.clone(),
        is_active: e.state == "running" || e.state == "starting",
        state: e.state.clone(),
        remove_reason: e.reason.clone(),
        add_reason: e.add_reason.into(),
        add_time: e.added_ms,
        remove_time: e.removed_ms,
        blocks_migrated: e.moved.shuffle,
        cached_blocks_migrated: e.moved.cached,
        container_id: e.container_id.clone(),
        executor_logs: api::ExecutorLogs {
            stdout: e.stdout.clone(),
            stderr: e.stderr.clone(),
        },
    }
}

fn now_ms() -> u64 {
    spindle_contract::event_store::now_ms()
}

fn check_app(state: &UiState, app: &str) -> Result<(), Box<Response>> {
    if app == state.app_id {
        Ok(())
    } else {
        let message = format!("unknown application {app}");
        Err(Box::new(
            (StatusCode::NOT_FOUND, Json(api::ErrorMessage { message })).into_response(),
        ))
    }
}

async fn api_applications(State(state): State<Arc<UiState>>) -> Json<Vec<api::Application>> {
    Json(vec![api::Application {
        id: state.app_id.clone(),
        name: state.app_name.clone(),
        attempts: vec![api::ApplicationAttempt {
            attempt_id: state.attempt.to_string(),
            start_time: state.started_ms,
            spark_user: state.user.clone(),
            last_updated: now_ms(),
            status: "RUNNING".into(),
            ..Default::default()
        }],
    }])
}

async fn api_jobs(State(state): State<Arc<UiState>>, Path(app): Path<String>) -> Response {
    if let Err(r) = check_app(&state, &app) {
        return *r;
    }
    let s = state.snapshot();
    let jobs: Vec<api::Job> = s.jobs.iter().rev().map(|j| job(&s, j)).collect();
    Json(jobs).into_response()
}

async fn api_stages(State(state): State<Arc<UiState>>, Path(app): Path<String>) -> Response {
    if let Err(r) = check_app(&state, &app) {
        return *r;
    }
    Json(stages_with_attempts(&state.snapshot())).into_response()
}

async fn api_executors(State(state): State<Arc<UiState>>, Path(app): Path<String>) -> Response {
    if let Err(r) = check_app(&state, &app) {
        return *r;
    }
    let list: Vec<api::Executor> = state.executor_list().iter().map(executor).collect();
    Json(list).into_response()
}

async fn api_elastic(State(state): State<Arc<UiState>>, Path(app): Path<String>) -> Response {
    if let Err(r) = check_app(&state, &app) {
        return *r;
    }
    Json(elastic(&state)).into_response()
}

/// The container log files the AM keeps (its own output and its executors'):
/// `spindle logs --follow` reads them here through the RM's proxy.
async fn api_logs(Path(app): Path<String>, State(state): State<Arc<UiState>>) -> Response {
    if let Err(r) = check_app(&state, &app) {
        return *r;
    }
    Json(spindle_core::container_logs::store().index()).into_response()
}

/// The most bytes of a log file one answer carries.
const LOG_READ: usize = 1 << 20;

/// Raw bytes of one kept log file from `?offset=N` (416 when N is outside
/// the kept range: the index says where it is).
async fn api_log_bytes(
    Path((app, container, file)): Path<(String, String, String)>,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
    State(state): State<Arc<UiState>>,
) -> Response {
    if let Err(r) = check_app(&state, &app) {
        return *r;
    }
    let Some(offset) = q.get("offset").map_or(Some(0), |o| o.parse::<u64>().ok()) else {
        let message = format!("offset {:?} is not a number", q.get("offset"));
        return (StatusCode::BAD_REQUEST, Json(api::ErrorMessage { message })).into_response();
    };
    match spindle_core::container_logs::store().read(&container, &file, offset, LOG_READ) {
        Some(bytes) => {
            ([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response()
        }
        None => {
            let message = format!("{container}/{file}: offset {offset} is not kept");
            (
                StatusCode::RANGE_NOT_SATISFIABLE,
                Json(api::ErrorMessage { message }),
            )
                .into_response()
        }
    }
}

async fn api_waiting(State(state): State<Arc<UiState>>, Path(app): Path<String>) -> Response {
    if let Err(r) = check_app(&state, &app) {
        return *r;
    }
    let w = state
        .executors
        .get()
        .map(|e| e.waiting())
        .unwrap_or_default();
    Json(w).into_response()
}

/// The elastic counters of the driver and the allocator together.
pub(crate) fn elastic(state: &UiState) -> api::Elastic {
    let s = state.elastic.get().map(|f| f()).unwrap_or_default();
    let (preempted, failures, released) = state
        .executors
        .get()
        .map(|e| (e.preempted(), e.failures(), e.released_unneeded()))
        .unwrap_or_default();
    let removed_lost = state
        .executor_list()
        .iter()
        .filter(|e| e.state == "lost")
        .count() as u32;
    api::Elastic {
        dynamic_allocation: state.executors.get().is_some_and(|e| e.dynamic()),
        target_executors: s.target,
        executors_added: s.registered,
        requested_for_backlog: s.requested_for_backlog,
        removed_idle: s.removed_idle,
        removed_preempted: s.removed_preempted,
        removed_decommissioning: s.removed_decommissioning,
        containers_preempted: preempted,
        removed_lost,
        containers_released: released,
        blocks_migrated: s.blocks_migrated,
        bytes_migrated: s.bytes_migrated,
        outputs_lost: s.outputs_lost,
        maps_recomputed: s.maps_recomputed,
        cached_blocks_migrated: s.cached_blocks_migrated,
        cached_bytes_migrated: s.cached_bytes_migrated,
        cached_blocks_lost: s.cached_blocks_lost,
        cached_recomputed: s.cached_recomputed,
        executor_failures: failures,
    }
}

async fn api_environment(State(state): State<Arc<UiState>>, Path(app): Path<String>) -> Response {
    if let Err(r) = check_app(&state, &app) {
        return *r;
    }
    let spindle_properties = state
        .properties
        .iter()
        .map(|(k, v)| [k.clone(), v.clone()])
        .collect();
    Json(api::Environment { spindle_properties }).into_response()
}

// ------------------------------------------------------------------ pages

fn page(state: &UiState, title: &str, body: &str) -> Html<String> {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{title} - {name}</title>\
         <meta http-equiv=\"refresh\" content=\"5\">\
         <style>body{{font-family:sans-serif;margin:1em 2em}}nav a{{margin-right:1.2em}}\
         table{{border-collapse:collapse;margin-top:.6em}}td,th{{border:1px solid #bbb;padding:3px 8px;text-align:left}}\
         .bar{{background:#eee;width:220px;height:14px;position:relative}}.bar div{{background:#5b9;height:14px}}</style>\
         </head><body><h2>Spindle: {name}</h2><p>{app} &middot; attempt {attempt} &middot; user {user}</p>\
         <nav><a href=\"jobs\">Jobs</a><a href=\"stages\">Stages</a><a href=\"executors\">Executors</a>\
         <a href=\"environment\">Environment</a></nav><h3>{title}</h3>{body}</body></html>",
        name = esc(&state.app_name),
        app = esc(&state.app_id),
        attempt = state.attempt,
        user = esc(&state.user),
    );
    Html(h)
}

fn bar(done: u32, total: u32) -> String {
    let pct = (done * 100).checked_div(total).unwrap_or(0);
    format!("<div class=\"bar\"><div style=\"width:{pct}%\"></div></div> {done}/{total}")
}

async fn jobs_page(State(state): State<Arc<UiState>>) -> Html<String> {
    let s = state.snapshot();
    let mut b = String::from(
        "<table><tr><th>Job</th><th>Action</th><th>Status</th><th>Stages</th><th>Tasks</th></tr>",
    );
    for j in s.jobs.iter().rev() {
        let v = job(&s, j);
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:?}</td><td>{}</td></tr>",
            j.job_id,
            esc(&j.name),
            j.status,
            j.stage_ids,
            bar(v.num_completed_tasks, v.num_tasks)
        );
    }
    b.push_str("</table>");
    if s.jobs.is_empty() {
        b.push_str("<p>No job has started yet.</p>");
    }
    page(&state, "Jobs", &b)
}

async fn stages_page(State(state): State<Arc<UiState>>) -> Html<String> {
    let s = state.snapshot();
    let mut b = String::from(
        "<table><tr><th>Stage</th><th>Attempt</th><th>Job</th><th>Status</th><th>Tasks: succeeded/total</th><th>Running</th><th>Failed</th></tr>",
    );
    for v in stages_with_attempts(&s) {
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            v.stage_id,
            v.attempt_id,
            v.job_id,
            esc(&v.status),
            bar(v.num_complete_tasks, v.num_tasks),
            v.num_active_tasks,
            v.num_failed_tasks
        );
    }
    b.push_str("</table>");
    page(&state, "Stages", &b)
}

async fn executors_page(State(state): State<Arc<UiState>>) -> Html<String> {
    let mut b = String::new();
    if let Some(w) = state
        .executors
        .get()
        .map(|e| e.waiting())
        .filter(|w| w.waiting)
    {
        let _ = write!(
            b,
            "<p class=\"waiting\">Waiting: {}</p>",
            esc(&w.explanation)
        );
    }
    if state.elastic.get().is_some() {
        let e = elastic(&state);
        let _ = write!(
            b,
            "<p>Executors added: {} ({} asked for waiting tasks); removed: {} idle, {} preempted \
             ({} more preempted by YARN), {} from decommissioning nodes, {} lost; shuffle blocks \
             moved before removal: {} \
             ({} bytes); map outputs lost: {}; cached partitions moved: {} ({} bytes), lost: {}, \
             computed again: {}; containers given back unused: {}.</p>",
            e.executors_added,
            e.requested_for_backlog,
            e.removed_idle,
            e.removed_preempted,
            e.containers_preempted,
            e.removed_decommissioning,
            e.removed_lost,
            e.blocks_migrated,
            e.bytes_migrated,
            e.outputs_lost,
            e.cached_blocks_migrated,
            e.cached_bytes_migrated,
            e.cached_blocks_lost,
            e.cached_recomputed,
            e.containers_released
        );
    }
    b.push_str(
        "<table><tr><th>Executor</th><th>Container</th><th>Node</th><th>Added for</th>\
         <th>State</th><th>Reason</th><th>Blocks moved</th><th>Cached moved</th><th>Logs</th></tr>",
    );
    for e in state.executor_list() {
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td><a href=\"{}\">stdout</a> <a href=\"{}\">stderr</a></td></tr>",
            esc(&e.id),
            esc(&e.container_id),
            esc(&e.node),
            e.add_reason,
            esc(&e.state),
            esc(&e.reason),
            e.moved.shuffle,
            e.moved.cached,
            esc(&e.stdout),
            esc(&e.stderr)
        );
    }
    b.push_str("</table>");
    page(&state, "Executors", &b)
}

async fn environment_page(State(state): State<Arc<UiState>>) -> Html<String> {
    let mut b = String::from("<table><tr><th>Name</th><th>Value</th></tr>");
    for (k, v) in &state.properties {
        let _ = write!(b, "<tr><td>{}</td><td>{}</td></tr>", esc(k), esc(v));
    }
    b.push_str("</table>");
    page(&state, "Environment", &b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn proxy_hosts_resolve_and_map_v6() {
        let a = resolve_proxy_hosts(&["127.0.0.1:8088".into(), "http://localhost:1/".into()]).await;
        assert!(a.contains(&"127.0.0.1".parse::<IpAddr>().unwrap()), "{a:?}");
        assert_eq!(
            canonical("::ffff:10.0.0.1".parse().unwrap()),
            "10.0.0.1".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(esc("<a href=\"x\">&"), "&lt;a href=&quot;x&quot;&gt;&amp;");
    }
}

#[cfg(test)]
mod server_tests {
    use super::*;

    fn state(proxy: &str) -> Arc<UiState> {
        Arc::new(UiState {
            app_id: "application_1_0001".into(),
            app_name: "t".into(),
            user: "u".into(),
            attempt: 1,
            started_ms: 0,
            proxy_hosts: ProxyHosts::new(vec![format!("{proxy}:8088")]),
            proxy_uri_base: Some("http://rm:8088/proxy/application_1_0001".into()),
            properties: vec![],
            progress: OnceLock::new(),
            executors: OnceLock::new(),
            elastic: OnceLock::new(),
        })
    }

    async fn start(state: Arc<UiState>) -> String {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(serve(l, state));
        format!("http://{addr}")
    }

    fn client() -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    #[tokio::test]
    async fn non_proxy_clients_are_redirected_like_am_ip_filter() {
        let base = start(state("127.0.0.9")).await;
        let r = client()
            .get(format!("{base}/stages?a=b"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 302);
        assert_eq!(
            r.headers()["location"],
            "http://rm:8088/proxy/redirect/application_1_0001/stages?a=b"
        );
        let base = start(state("127.0.0.1")).await;
        let r = client().get(format!("{base}/stages")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let r = client()
            .get(format!("{base}/api/v1/applications/other/jobs"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
    }

    #[tokio::test]
    async fn no_resolvable_proxy_host_refuses_everyone() {
        let base = start(state("no-such-proxy.invalid")).await;
        let r = client().get(format!("{base}/stages")).send().await.unwrap();
        assert_eq!(r.status(), 503);
        let text = r.text().await.unwrap();
        assert!(text.contains("no-such-proxy.invalid:8088"), "{text}");
    }

    #[tokio::test]
    async fn the_web_ui_cannot_end_the_application() {
        // Every path of the UI listener is behind the proxy check, as the pages
        // are: there is no control endpoint that a direct request reaches (a
        // client-mode application ends over the driver's authenticated channel:
        // the AM asks the driver).
        let base = start(state("127.0.0.9")).await;
        for path in ["/control/finish", "/control", "/api/v1/applications"] {
            let r = client()
                .post(format!("{base}{path}"))
                .header("x-spindle-secret", "0".repeat(64))
                .body(r#"{"status":"SUCCEEDED","diagnostics":""}"#)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 302, "POST {path}");
        }
    }
}
