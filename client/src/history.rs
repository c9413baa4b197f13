//! `spindle history`: serves finished and running applications from their
//! event logs (`spindle.eventLog.dir`, read as the caller): the AM's
//! `/api/v1` JSON (`spindle_contract::api`, the same types) and a few HTML
//! pages for people, at `/history/<appId>/` (where the AM's final tracking
//! URL points, so the YARN UI's History link lands here). A cleaner removes
//! logs unchanged for longer than `spindle.history.maxAge`.

mod pages;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use spindle_contract::event_store::{AttemptDir, EventStore, default_dir, now_ms, split_hdfs_uri};
use spindle_contract::events::{Replay, parse_part, replay};
use spindle_contract::{api, settings};

use crate::yarn::Cluster;
use crate::{Error, cli};

/// How often the cleaner looks for expired logs.
const CLEAN_EVERY: Duration = Duration::from_secs(3600);

/// An attempt's part files by name and length: a replay is redone when they change.
type Parts = Vec<(String, u64)>;

/// What the server reads, and what it has replayed.
pub(crate) struct History {
    store: EventStore,
    /// Replays by attempt directory, with the parts they were made from.
    cache: Mutex<HashMap<String, (Parts, Arc<Replay>)>>,
}

/// One application: its attempts' replays, oldest attempt first, and when each last changed.
struct App {
    attempts: Vec<(Arc<Replay>, u64)>,
}

impl App {
    fn latest(&self) -> &Replay {
        &self.attempts.last().expect("an app has an attempt").0
    }

    fn api(&self) -> api::Application {
        let r = self.latest();
        api::Application {
            id: r.app_id.clone(),
            name: r.name.clone(),
            attempts: self
                .attempts
                .iter()
                .rev()
                .map(|(r, changed)| r.attempt_info(*changed))
                .collect(),
        }
    }
}

impl History {
    pub(crate) fn new(store: EventStore) -> Self {
        History {
            store,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// An attempt's replay, read again only when its parts changed.
    async fn replay(&self, dir: &AttemptDir) -> Result<Arc<Replay>, Error> {
        let parts = self.store.parts(&dir.name).await?;
        let signature: Parts = parts.iter().map(|(n, l, _)| (n.clone(), *l)).collect();
        if let Some((sig, r)) = self.cache.lock().expect("cache").get(&dir.name)
            && *sig == signature
        {
            return Ok(r.clone());
        }
        let mut texts = Vec::new();
        for (name, _, _) in &parts {
            let Some((_, codec)) = parse_part(name) else {
                continue;
            };
            let bytes = self.store.read(&format!("{}/{name}", dir.name)).await?;
            texts.push(codec.decompress_prefix(&bytes));
        }
        let mut r = replay(&texts);
        if r.app_id.is_empty() {
            // The start record is lost: name it by its directory.
            (r.app_id, r.attempt) = (dir.app_id.clone(), dir.attempt);
        }
        let r = Arc::new(r);
        self.cache
            .lock()
            .expect("cache")
            .insert(dir.name.clone(), (signature, r.clone()));
        Ok(r)
    }

    /// Every application, most recently started first.
    async fn apps(&self) -> Result<Vec<App>, Error> {
        let mut by_app: HashMap<String, Vec<(u32, Arc<Replay>, u64)>> = HashMap::new();
        for (dir, changed) in self.store.attempts().await? {
            let r = self.replay(&dir).await?;
            by_app
                .entry(dir.app_id.clone())
                .or_default()
                .push((dir.attempt, r, changed));
        }
        let mut apps: Vec<App> = by_app
            .into_values()
            .map(|mut v| {
                v.sort_by_key(|(n, _, _)| *n);
                App {
                    attempts: v.into_iter().map(|(_, r, c)| (r, c)).collect(),
                }
            })
            .collect();
        apps.sort_by_key(|a| std::cmp::Reverse(a.latest().start_time));
        Ok(apps)
    }

    async fn app(&self, id: &str) -> Result<Option<App>, Error> {
        Ok(self
            .apps()
            .await?
            .into_iter()
            .find(|a| a.latest().app_id == id))
    }

    /// Removes attempts whose logs are unchanged for longer than `max_age`;
    /// returns the directories removed.
    pub(crate) async fn clean(&self, max_age: Duration) -> Result<Vec<String>, Error> {
        let cutoff = now_ms().saturating_sub(max_age.as_millis() as u64);
        let mut removed = Vec::new();
        for (dir, changed) in self.store.attempts().await? {
            if changed < cutoff {
                self.store.remove_attempt(&dir.name).await?;
                self.cache.lock().expect("cache").remove(&dir.name);
                removed.push(dir.name);
            }
        }
        Ok(removed)
    }
}

/// The event log directory `spindle history` reads: `--dir`, else
/// `spindle.eventLog.dir` of `--conf`, else the default for this user.
async fn open_store(dir: Option<String>) -> Result<EventStore, Error> {
    let has_conf = ["HADOOP_CONF_DIR", "YARN_CONF_DIR"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|d| !d.is_empty()));
    let cluster = if has_conf {
        Some(Cluster::from_env()?)
    } else {
        None
    };
    let is_hdfs = match &cluster {
        Some(c) => c.conf.default_fs()?.starts_with("hdfs://"),
        None => false,
    };
    let user = match &cluster {
        Some(c) => c.user.clone(),
        None => spindle_hadoop::user::current_user(),
    };
    let dir = dir.unwrap_or_else(|| default_dir(&user, is_hdfs));
    if let Some(local) = dir.strip_prefix("file://") {
        return Ok(EventStore::Local(local.into()));
    }
    let (fs, path) = if let Some(split) = split_hdfs_uri(&dir) {
        split
    } else if dir.starts_with('/') && is_hdfs {
        let fs = cluster
            .as_ref()
            .expect("hdfs has a cluster")
            .conf
            .default_fs()?;
        let (fs, _) = split_hdfs_uri(&fs).unwrap_or((fs, String::new()));
        (fs, dir.clone())
    } else if !dir.contains("://") {
        return Ok(EventStore::Local(
            std::path::absolute(&dir).unwrap_or_else(|_| dir.clone().into()),
        ));
    } else {
        return Err(Error::Usage(format!(
            "event log directory {dir}: expected hdfs://, file:// or a path"
        )));
    };
    let Some(cluster) = cluster else {
        return Err(Error::HadoopConf(format!(
            "event log directory {dir} is in HDFS: set HADOOP_CONF_DIR"
        )));
    };
    let client = spindle_contract::staging::Staging::connect(
        cluster.conf_dir.as_deref(),
        &fs,
        &cluster.user,
        &cluster.user,
        cluster.kerberos.as_ref().map(|k| k.hdfs_login()),
    )?
    .client()
    .clone();
    Ok(EventStore::Hdfs {
        client,
        fs,
        dir: path,
    })
}

/// `spindle history [--port N]`: serves until killed.
pub(crate) fn run(h: &cli::History) -> Result<i32, Error> {
    let conf = crate::parse_conf(&h.conf)?;
    let max_age = conf
        .duration(&settings::HISTORY_MAX_AGE)?
        .unwrap_or(Duration::from_secs(7 * 86400));
    let dir = h
        .dir
        .clone()
        .or_else(|| conf.text(&settings::EVENT_LOG_DIR));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the runtime", e))?;
    rt.block_on(async {
        let store = open_store(dir).await?;
        let history = Arc::new(History::new(store));
        let listener = tokio::net::TcpListener::bind((h.host.as_str(), h.port))
            .await
            .map_err(|e| Error::io(format!("listening on {}:{}", h.host, h.port), e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::io("the listening address", e))?;
        eprintln!(
            "spindle history: serving {} at http://{addr}/ (logs unchanged for {} s are removed)",
            history.store.uri(),
            max_age.as_secs()
        );
        {
            let history = history.clone();
            tokio::spawn(async move {
                loop {
                    match history.clean(max_age).await {
                        Ok(removed) => {
                            for d in removed {
                                tracing::info!("removed expired event log {d}");
                            }
                        }
                        Err(e) => tracing::warn!("cleaning: {e}"),
                    }
                    tokio::time::sleep(CLEAN_EVERY).await;
                }
            });
        }
        axum::serve(listener, router(history))
            .await
            .map_err(|e| Error::io("serving", e))?;
        Ok(0)
    })
}

pub(crate) fn router(history: Arc<History>) -> Router {
    Router::new()
        .route("/", get(pages::apps_page))
        .route("/history/{app}", get(to_jobs))
        .route("/history/{app}/", get(pages::jobs_page))
        .route("/history/{app}/jobs", get(pages::jobs_page))
        .route("/history/{app}/stages", get(pages::stages_page))
        .route("/history/{app}/executors", get(pages::executors_page))
        .route("/api/v1/applications", get(api_applications))
        .route("/api/v1/applications/{app}", get(api_application))
        .route("/api/v1/applications/{app}/jobs", get(api_jobs))
        .route("/api/v1/applications/{app}/stages", get(api_stages))
        .route("/api/v1/applications/{app}/executors", get(api_executors))
        .route(
            "/api/v1/applications/{app}/allexecutors",
            get(api_executors),
        )
        .route(
            "/api/v1/applications/{app}/environment",
            get(api_environment),
        )
        .with_state(history)
}

async fn to_jobs(Path(app): Path<String>) -> Response {
    (
        StatusCode::FOUND,
        [(header::LOCATION, format!("/history/{app}/jobs"))],
    )
        .into_response()
}

fn failure(e: Error) -> Response {
    let message = e.to_string();
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(api::ErrorMessage { message }),
    )
        .into_response()
}

fn not_found(app: &str) -> Response {
    let message = format!("unknown application {app}");
    (StatusCode::NOT_FOUND, Json(api::ErrorMessage { message })).into_response()
}

/// The application's latest attempt, or the error answer.
pub(crate) async fn latest(h: &History, app: &str) -> Result<Arc<Replay>, Response> {
    match h.app(app).await {
        Ok(Some(a)) => Ok(a.attempts.last().expect("an attempt").0.clone()),
        Ok(None) => Err(not_found(app)),
        Err(e) => Err(failure(e)),
    }
}

async fn api_applications(State(h): State<Arc<History>>) -> Response {
    match h.apps().await {
        Ok(apps) => Json(apps.iter().map(App::api).collect::<Vec<_>>()).into_response(),
        Err(e) => failure(e),
    }
}

async fn api_application(State(h): State<Arc<History>>, Path(app): Path<String>) -> Response {
    match h.app(&app).await {
        Ok(Some(a)) => Json(a.api()).into_response(),
        Ok(None) => not_found(&app),
        Err(e) => failure(e),
    }
}

async fn api_jobs(State(h): State<Arc<History>>, Path(app): Path<String>) -> Response {
    match latest(&h, &app).await {
        Ok(r) => Json(r.jobs()).into_response(),
        Err(resp) => resp,
    }
}

async fn api_stages(State(h): State<Arc<History>>, Path(app): Path<String>) -> Response {
    match latest(&h, &app).await {
        Ok(r) => Json(r.stages()).into_response(),
        Err(resp) => resp,
    }
}

async fn api_executors(State(h): State<Arc<History>>, Path(app): Path<String>) -> Response {
    match latest(&h, &app).await {
        Ok(r) => Json(r.executors()).into_response(),
        Err(resp) => resp,
    }
}

async fn api_environment(State(h): State<Arc<History>>, Path(app): Path<String>) -> Response {
    match latest(&h, &app).await {
        Ok(r) => Json(r.environment()).into_response(),
        Err(resp) => resp,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spindle_contract::events::{Codec, Event, Record, attempt_dir_name, part_name};

    fn line(time: u64, event: Event) -> Vec<u8> {
        let mut v = serde_json::to_vec(&Record { time, event }).unwrap();
        v.push(b'\n');
        v
    }

    async fn write_app(store: &EventStore, app: &str, jobs: u64, ended: bool) {
        let mut text = line(
            1,
            Event::ApplicationStart {
                app_id: app.into(),
                attempt: 1,
                name: format!("name of {app}"),
                user: "u".into(),
                properties: vec![],
            },
        );
        for j in 0..jobs {
            text.extend(line(
                2,
                Event::JobStart {
                    job_id: j,
                    name: "count".into(),
                },
            ));
            text.extend(line(
                3,
                Event::JobEnd {
                    job_id: j,
                    status: "SUCCEEDED".into(),
                },
            ));
        }
        if ended {
            text.extend(line(
                4,
                Event::ApplicationEnd {
                    status: "SUCCEEDED".into(),
                    reason: Some(spindle_contract::outcome::Reason::Succeeded),
                    exit_code: Some(0),
                    diagnostics: String::new(),
                },
            ));
        }
        let rel = format!("{}/{}", attempt_dir_name(app, 1), part_name(1, Codec::Gzip));
        store
            .append(&rel, &Codec::Gzip.compress(&text), true)
            .await
            .unwrap();
    }

    async fn serve(h: Arc<History>) -> String {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(l, router(h)).await.unwrap() });
        format!("http://{addr}")
    }

    #[tokio::test]
    async fn serves_apps_from_logs_and_cleans_expired_ones() {
        let tmp = tempfile::tempdir().unwrap();
        let store = EventStore::Local(tmp.path().to_path_buf());
        write_app(&store, "application_9_0001", 2, true).await;
        write_app(&store, "application_9_0002", 1, false).await;
        let h = Arc::new(History::new(store.clone()));
        let base = serve(h.clone()).await;
        let get = |p: &str| reqwest::get(format!("{base}{p}"));
        let apps: Vec<api::Application> = get("/api/v1/applications")
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(apps.len(), 2);
        let done = apps.iter().find(|a| a.id == "application_9_0001").unwrap();
        assert!(done.attempts[0].completed);
        assert_eq!(done.name, "name of application_9_0001");
        let running = apps.iter().find(|a| a.id == "application_9_0002").unwrap();
        assert!(!running.attempts[0].completed);
        let jobs: Vec<api::Job> = get("/api/v1/applications/application_9_0001/jobs")
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(jobs.len(), 2);
        assert_eq!(
            get("/api/v1/applications/application_9_0003/jobs")
                .await
                .unwrap()
                .status(),
            404
        );
        let page = get("/history/application_9_0001/jobs")
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("name of application_9_0001") && page.contains("SUCCEEDED"),
            "{page}"
        );
        let list = get("/").await.unwrap().text().await.unwrap();
        assert!(list.contains("/history/application_9_0002/"), "{list}");
        // Everything is older than a zero max age; a foreign directory stays.
        std::fs::create_dir(tmp.path().join("keep-me")).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        let removed = h.clean(Duration::ZERO).await.unwrap();
        assert_eq!(removed.len(), 2);
        assert!(tmp.path().join("keep-me").is_dir());
        let apps: Vec<api::Application> = get("/api/v1/applications")
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(apps.is_empty());
        // A long max age removes nothing.
        write_app(&store, "application_9_0004", 1, true).await;
        assert!(h.clean(Duration::from_secs(3600)).await.unwrap().is_empty());
    }
}
