//! The ApplicationMaster process in cluster mode: reads its container's
//! environment and credentials, registers with the ResourceManager (tracking
//! URL = its web UI), runs the driver's job with executors in YARN
//! containers, and unregisters with the final status. The staging directory
//! is removed however the application ends (success, failure, SIGTERM).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use spindle_contract::settings;
use spindle_core::{Context, ExecutorSettings};
use spindle_hadoop::config::Configuration;
use spindle_hadoop::credentials::Credentials;
use spindle_hadoop::ids::{ApplicationId, ContainerId};
use spindle_hadoop::ipc::IpcConfig;
use spindle_hadoop::yarn::{AmRmClient, FinalStatus, is_not_registered};

use crate::allocator::{AllocatorConfig, YarnBackend};
use crate::renewer::{Renewer, SharedTokens};
use crate::ui::{self, UiState};
use crate::{Error, Result};
use spindle_contract::launch::{AmLaunch, DeployMode};
use spindle_contract::outcome::Reason;
use spindle_contract::staging::Staging;

/// The AMRMToken's kind in the container's credentials.
const AMRM_TOKEN_KIND: &str = "YARN_AM_RM_TOKEN";

/// What YARN tells a container about itself through its environment.
#[derive(Clone, Debug)]
pub struct ContainerEnv {
    pub container_id: ContainerId,
    pub nm_host: String,
    pub nm_http_port: Option<u16>,
    pub log_dirs: Vec<String>,
    /// `/proxy/<appId>` (AM containers only).
    pub web_proxy_base: Option<String>,
}

impl ContainerEnv {
    pub fn from_env() -> Result<Self> {
        let need = |k: &str| {
            std::env::var(k)
                .map_err(|_| Error::Config(format!("{k} is not set (is this a YARN container?)")))
        };
        let cid = need("CONTAINER_ID")?;
        Ok(ContainerEnv {
            container_id: cid
                .parse()
                .map_err(|e| Error::Config(format!("CONTAINER_ID={cid}: {e}")))?,
            nm_host: need("NM_HOST")?,
            nm_http_port: std::env::var("NM_HTTP_PORT")
                .ok()
                .and_then(|p| p.parse().ok()),
            log_dirs: std::env::var("LOG_DIRS")
                .map(|d| d.split(',').map(str::to_string).collect())
                .unwrap_or_default(),
            web_proxy_base: std::env::var("APPLICATION_WEB_PROXY_BASE").ok(),
        })
    }
}

/// How the application ended, as the RM is told: the final status, and for a failure the
/// typed reason that tags the diagnostics (the client maps it to its exit code).
struct Outcome {
    status: FinalStatus,
    reason: Reason,
    diagnostics: String,
}

impl Outcome {
    /// The diagnostics as the RM and the event log get them: tagged with the reason when the
    /// application did not succeed.
    fn tagged_diagnostics(&self) -> String {
        if self.status == FinalStatus::Succeeded {
            self.diagnostics.clone()
        } else {
            self.reason.tag(&self.diagnostics)
        }
    }
}

/// Everything needed to finish the application from any thread.
struct Finisher {
    rt: tokio::runtime::Handle,
    rm: Arc<AmRmClient>,
    staging: Arc<Staging>,
    app: ApplicationId,
    /// How long to keep trying to unregister while the RM does not answer.
    rm_max_wait: Duration,
    /// Left with the RM: the history server's page of the application, or none.
    final_tracking_url: String,
    /// The driver's event log (cluster mode), ended with the application.
    event_log: OnceLock<Arc<spindle_core::eventlog::EventLog>>,
    done: Mutex<bool>,
}

impl Finisher {
    /// Unregisters (retrying while the RM asks to), removes the staging
    /// directory, and exits the process.
    fn finish(&self, outcome: Outcome) -> ! {
        {
            let mut done = self.done.lock().unwrap_or_else(|e| e.into_inner());
            if *done {
                // Another thread is finishing; wait for it to exit the process.
                drop(done);
                loop {
                    std::thread::sleep(Duration::from_secs(60));
                }
            }
            *done = true;
        }
        let code = if outcome.status == FinalStatus::Succeeded {
            0
        } else {
            1
        };
        let diagnostics = outcome.tagged_diagnostics();
        if let Some(log) = self.event_log.get() {
            let status = match outcome.status {
                FinalStatus::Succeeded => "SUCCEEDED",
                FinalStatus::Killed => "KILLED",
                _ => "FAILED",
            };
            log.end(status, outcome.reason, &diagnostics);
        }
        if code != 0 {
            tracing::warn!("application failed: {diagnostics}");
        }
        let rm = self.rm.clone();
        let staging = self.staging.clone();
        let app = self.app;
        let max_wait = self.rm_max_wait;
        let url = self.final_tracking_url.clone();
        let work = async move {
            if !unregister(&rm, outcome.status, &diagnostics, &url, max_wait).await {
                // YARN will count the attempt as failed and may start another.
                tracing::warn!(
                    "the ResourceManager did not confirm the unregistration within {} s",
                    max_wait.as_secs()
                );
            }
            remove_staging(&staging, app).await;
        };
        let rt = self.rt.clone();
        let _ = std::thread::spawn(move || rt.block_on(work)).join();
        std::process::exit(code)
    }
}

/// Removes the application's staging directory (a missing one is fine), saying so.
async fn remove_staging(staging: &Staging, app: ApplicationId) {
    let uri = staging.uri(&staging.app_dir(app));
    match staging.remove_app_dir(app).await {
        Ok(_) => tracing::info!("removed staging directory {uri}"),
        Err(e) => tracing::warn!("could not remove staging directory {uri}: {e}"),
    }
}

/// The tracking URL left with the RM when the application ends: with
/// `spindle.yarn.historyServer.address`, `http://<address>/history/<appId>` (the RM's
/// proxy then leads there); else none: the AM's UI ends with the AM, and without one the
/// RM's proxy sends users to the RM's own page of the application (as for Spark without a
/// history server) instead of to a dead address.
pub fn final_tracking_url(conf: &BTreeMap<String, String>, app: ApplicationId) -> String {
    let Some(address) = conf
        .get(settings::YARN_HISTORY_SERVER_ADDRESS.name())
        .map(|a| a.trim().trim_end_matches('/'))
        .filter(|a| !a.is_empty())
    else {
        return String::new();
    };
    if address.contains("://") {
        format!("{address}/history/{app}")
    } else {
        format!("http://{address}/history/{app}")
    }
}

/// `finishApplicationMaster` until the RM confirms it (true) or `max_wait`
/// passes. A restarted RM that answers "not registered" gets a new
/// registration first, so the final status survives an RM restart: a lost
/// unregistration would make YARN start another attempt of a finished job.
pub async fn unregister(
    rm: &AmRmClient,
    status: FinalStatus,
    diagnostics: &str,
    final_tracking_url: &str,
    max_wait: Duration,
) -> bool {
    let deadline = Instant::now() + max_wait;
    let mut pause = Duration::from_millis(200);
    let mut errors = 0u32;
    let mut refusals = 0u32;
    loop {
        match rm.finish(status, diagnostics, final_tracking_url).await {
            Ok(true) => return true,
            // The RM is still storing the final state: ask again shortly.
            Ok(false) => tokio::time::sleep(Duration::from_millis(100)).await,
            Err(e) if is_not_registered(&e) => {
                tracing::warn!(
                    "unregistering: the ResourceManager does not know this attempt as registered (it restarted?): registering again"
                );
                if let Err(e) = rm.reregister().await {
                    tracing::warn!("registering again: {e}");
                    tokio::time::sleep(pause).await;
                }
            }
            Err(e) => {
                errors += 1;
                refusals = match e {
                    spindle_hadoop::Error::Auth { .. } => refusals + 1,
                    _ => 0,
                };
                if errors == 1 || errors.is_power_of_two() {
                    tracing::warn!("unregistering ({errors}): {e}");
                }
                if refusals >= 10 {
                    // A ResourceManager restarted without recovery knows nothing of us.
                    tracing::warn!("the ResourceManager keeps refusing this attempt's token");
                    return false;
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(3));
            }
        }
        if Instant::now() > deadline {
            return false;
        }
    }
}

/// Runs the application master with `job` as the driver program; never returns.
pub fn run(job: impl FnOnce(&Context) -> spindle_core::Result<()>) -> ! {
    match start() {
        Ok((am, finisher)) => {
            let outcome = if am.launch.deploy_mode == DeployMode::Client {
                run_client_mode(am, &finisher)
            } else {
                run_job(am, &finisher, job)
            };
            finisher.finish(outcome)
        }
        Err(e) => {
            // Not registered: the RM counts this attempt as failed (and may retry).
            tracing::error!("{e}");
            std::process::exit(1)
        }
    }
}

struct Am {
    launch: AmLaunch,
    container: ContainerEnv,
    rt: tokio::runtime::Runtime,
    rm: Arc<AmRmClient>,
    ui: Arc<UiState>,
    config: AllocatorConfig,
    /// Cluster mode with a keytab: the token renewer and its first wait.
    renewer: Option<(Renewer, Duration)>,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn start() -> Result<(Am, Arc<Finisher>)> {
    let launch = AmLaunch::from_env()?;
    let container = ContainerEnv::from_env()?;
    spindle_core::container_logs::keep_own_output(container.container_id.to_string());
    let creds = Credentials::from_env()?.ok_or_else(|| {
        Error::Config("HADOOP_TOKEN_FILE_LOCATION is not set: no AMRMToken".into())
    })?;
    let token = creds
        .token_of_kind(AMRM_TOKEN_KIND)
        .cloned()
        .ok_or_else(|| Error::Config("the container's credentials hold no AMRMToken".into()))?;
    let conf = Configuration::from_env()?;
    let ipc = IpcConfig::from_conf(&conf)?;
    let rms = conf.rm_addresses()?;
    let scheduler: Vec<String> = rms.iter().map(|r| r.scheduler.clone()).collect();
    // Hadoop's -1 means "forever"; a day stands for it.
    const RM_MAX_WAIT: &str = "yarn.resourcemanager.connect.max-wait.ms";
    let rm_max_wait = match conf.get_trimmed(RM_MAX_WAIT)? {
        Some(v) if v == "-1" => Duration::from_secs(24 * 3600),
        _ => conf.get_duration(
            RM_MAX_WAIT,
            Duration::from_secs(900),
            spindle_hadoop::config::TimeUnit::Millis,
        )?,
    };
    let port_in_node_name = conf.get_bool("yarn.scheduler.include-port-in-node-name", false)?;
    let dynamic = match launch.deploy_mode {
        DeployMode::Cluster => {
            crate::elastic::dynamic_allocation(&launch.conf, launch.num_executors)?
        }
        // The driver runs elsewhere; its scheduler would have to drive the AM.
        DeployMode::Client => None,
    };
    // The proxy: a separate web proxy if configured, else the RM's web app.
    let proxy_hosts: Vec<String> = match conf.get_trimmed("yarn.web-proxy.address")? {
        Some(a) => vec![a],
        None => conf.rm_web_urls()?,
    };
    let app_id = container.container_id.application_id();
    let attempt = container.container_id.attempt_id.attempt_id;

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("spindle-am")
        .enable_all()
        .build()
        .map_err(|e| Error::Config(format!("starting the AM runtime: {e}")))?;
    let staging = Arc::new(Staging::of_app_dir(
        &launch.staging_dir,
        app_id,
        &launch.user,
    )?);
    // Opens the NameNode connection now: removal on SIGTERM is then one call.
    let dir = staging.app_dir(app_id);
    match rt.block_on(staging.exists(&dir)) {
        Ok(true) => {}
        Ok(false) => tracing::warn!("staging directory {} is not there", launch.staging_dir),
        Err(e) => tracing::warn!("staging directory {}: {e}", launch.staging_dir),
    }

    // With a staged keytab, every attempt starts from new tokens of its own
    // (an attempt 2 too, whose submitted tokens may be near their end).
    let shared_tokens: SharedTokens = Arc::new(Mutex::new(executor_tokens(&creds)));
    let renewer = match launch.deploy_mode {
        DeployMode::Cluster => rt.block_on(async {
            let Some(mut r) = Renewer::from_launch(&launch, &staging, &conf).await? else {
                return Ok::<_, Error>(None);
            };
            let next = r.renew(&shared_tokens, None).await?;
            Ok(Some((r, next)))
        })?,
        DeployMode::Client => None,
    };

    let ui = Arc::new(UiState {
        app_id: app_id.to_string(),
        app_name: launch.app_name.clone(),
        user: launch.user.clone(),
        attempt,
        started_ms: now_ms(),
        proxy_hosts: ui::ProxyHosts::new(proxy_hosts.clone()),
        proxy_uri_base: container.web_proxy_base.as_ref().and_then(|base| {
            proxy_hosts.first().map(|h| {
                let h = h.trim_end_matches('/');
                let h = if h.contains("://") {
                    h.to_string()
                } else {
                    format!("http://{h}")
                };
                format!("{h}{base}")
            })
        }),
        properties: properties(&launch, &container),
        progress: OnceLock::new(),
        executors: OnceLock::new(),
        elastic: OnceLock::new(),
    });
    let listener = rt
        .block_on(tokio::net::TcpListener::bind((
            container.nm_host.as_str(),
            0,
        )))
        .map_err(|e| Error::Config(format!("binding the web UI on {}: {e}", container.nm_host)))?;
    let ui_port = listener
        .local_addr()
        .map_err(|e| Error::Config(format!("web UI address: {e}")))?
        .port();
    rt.spawn(ui::serve(listener, ui.clone()));
    let tracking_url = format!("http://{}:{ui_port}/", container.nm_host);

    let rm = Arc::new(AmRmClient::new(scheduler, token, ipc.clone()));
    let reg = rt.block_on(rm.register(&container.nm_host, ui_port as i32, &tracking_url))?;
    tracing::info!(
        "{app_id} attempt {attempt} registered (queue {}, tracking URL {tracking_url})",
        reg.queue
    );
    let finisher = Arc::new(Finisher {
        rt: rt.handle().clone(),
        rm: rm.clone(),
        staging: staging.clone(),
        app: app_id,
        rm_max_wait,
        final_tracking_url: final_tracking_url(&launch.conf, app_id),
        event_log: OnceLock::new(),
        done: Mutex::new(false),
    });
    {
        // The NodeManager stops a killed application's AM with SIGTERM (then
        // SIGKILL a moment later): remove the staging directory at once.
        let staging = staging.clone();
        rt.spawn(async move {
            let Ok(mut term) =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            else {
                return;
            };
            term.recv().await;
            tracing::warn!("SIGTERM: the application is being stopped");
            remove_staging(&staging, app_id).await;
            std::process::exit(143);
        });
    }
    Ok((
        Am {
            launch,
            container,
            rt,
            rm,
            ui,
            renewer,
            config: AllocatorConfig {
                port_in_node_name,
                ipc,
                rm_max_wait,
                // Executors get the file system tokens, never the AMRMToken.
                tokens: shared_tokens.clone(),
                node_web_scheme: conf.yarn_web_scheme()?,
                dynamic: dynamic.clone(),
                max_resource: reg.max_resource,
            },
        },
        finisher,
    ))
}

/// The tokens of the AM's credentials that executors need: every one but
/// the AMRMToken (which would let an executor act as the AM), no secrets.
fn executor_tokens(creds: &Credentials) -> Credentials {
    let mut out = Credentials::new();
    for (alias, token) in creds.tokens().filter(|(_, t)| t.kind != AMRM_TOKEN_KIND) {
        out.add_token(alias, token.clone());
    }
    out
}

/// What the environment page shows: the launch settings and `--conf` pairs.
fn properties(launch: &AmLaunch, container: &ContainerEnv) -> Vec<(String, String)> {
    let mut p: BTreeMap<String, String> = launch
        .conf
        .iter()
        .map(|(k, v)| (k.clone(), settings::redacted(k, v).to_string()))
        .collect();
    p.insert("spindle.app.name".into(), launch.app_name.clone());
    p.insert(
        "spindle.submit.deployMode".into(),
        launch.deploy_mode.as_str().into(),
    );
    p.insert(
        "spindle.executor.instances".into(),
        launch.num_executors.to_string(),
    );
    p.insert(
        "spindle.executor.cores".into(),
        launch.executor_cores.to_string(),
    );
    p.insert(
        "spindle.executor.memory".into(),
        format!("{}m", launch.executor_memory_mb),
    );
    p.entry("spindle.executor.memoryOverhead".into())
        .or_insert_with(|| format!("{}m", launch.executor_memory_overhead_mb));
    p.insert("spindle.yarn.stagingDir".into(), launch.staging_dir.clone());
    p.insert(
        "spindle.yarn.am.containerId".into(),
        container.container_id.to_string(),
    );
    p.insert("spindle.yarn.am.host".into(), container.nm_host.clone());
    p.insert("spindle.user".into(), launch.user.clone());
    p.into_iter().collect()
}

fn run_job(
    am: Am,
    finisher: &Arc<Finisher>,
    job: impl FnOnce(&Context) -> spindle_core::Result<()>,
) -> Outcome {
    let Am {
        launch,
        container,
        rt,
        rm,
        ui,
        config,
        renewer,
    } = am;
    // The executors' memory budget: half for cached partitions, a quarter
    // for aggregation before spilling.
    let settings = ExecutorSettings {
        cores: launch.executor_cores,
        cache_mb: (launch.executor_memory_mb / 2).max(16),
        shuffle_mb: (launch.executor_memory_mb / 4).max(16),
    };
    // Outputs are the application's: a later attempt may replace what a
    // crashed earlier one began, and nothing else.
    spindle_core::io::set_output_owner(
        &container.container_id.attempt_id.application_id.to_string(),
    );
    let handle = rt.handle().clone();
    let backend_slot: Arc<OnceLock<Arc<YarnBackend>>> = Arc::new(OnceLock::new());
    let fatal = {
        let finisher = finisher.clone();
        Arc::new(move |reason: Reason, why: String| {
            let finisher = finisher.clone();
            // Off the heartbeat task: finishing blocks on the AM runtime.
            std::thread::spawn(move || {
                finisher.finish(Outcome {
                    status: FinalStatus::Failed,
                    reason,
                    diagnostics: why,
                })
            });
        })
    };
    let shared_tokens = config.tokens.clone();
    let n = config
        .dynamic
        .as_ref()
        .map_or(launch.num_executors, |d| d.initial_executors);
    let slot = backend_slot.clone();
    let ctx = Context::with_backend(&container.nm_host, settings, move |exec| {
        let b = Arc::new(YarnBackend::start(handle, rm, launch, exec, config, fatal));
        let _ = slot.set(b.clone());
        spindle_core::backend::ClusterBackend::request_executors(&*b, n)?;
        Ok(b as Arc<dyn spindle_core::backend::ClusterBackend>)
    });
    let ctx = match ctx {
        Ok(c) => c,
        Err(e) => {
            return failed_outcome(format!("starting the driver: {e}"));
        }
    };
    {
        // The driver's event log, for `spindle history`; ended by the finisher.
        let info = spindle_core::eventlog::AppInfo {
            app_id: ui.app_id.clone(),
            attempt: ui.attempt.max(1) as u32,
            name: ui.app_name.clone(),
            user: ui.user.clone(),
            properties: ui
                .properties
                .iter()
                .map(|(k, v)| [k.clone(), v.clone()])
                .collect(),
        };
        match ctx.start_event_log(info) {
            Ok(Some(log)) => {
                tracing::info!("event log {}", log.uri);
                let _ = finisher.event_log.set(log);
            }
            Ok(None) => {}
            Err(e) => tracing::warn!("no event log: {e}"),
        }
    }
    if let Some((r, first)) = renewer {
        rt.spawn(r.run(first, shared_tokens, ctx.clone()));
    }
    if let Some(b) = backend_slot.get() {
        b.set_lost_hook(ctx.executor_lost_reporter());
        b.set_preempt_hook(ctx.executor_preemption_reporter());
        let _ = ui.executors.set(b.shared());
    }
    {
        let c = ctx.clone();
        let _ = ui.progress.set(Arc::new(move || c.progress()));
        let c = ctx.clone();
        let _ = ui.elastic.set(Arc::new(move || c.elastic_stats()));
    }
    if let Some(b) = backend_slot.get() {
        // Report job progress with the heartbeats (the RM shows it).
        let shared = b.shared();
        let c = ctx.clone();
        rt.spawn(async move {
            loop {
                let s = c.progress();
                let (done, total) = s.stages.iter().fold((0u32, 0u32), |(d, t), st| {
                    (d + st.completed_tasks, t + st.num_tasks)
                });
                if total > 0 {
                    shared.set_progress(0.1 + 0.85 * done as f32 / total as f32);
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
    }
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&ctx)));
    // What dynamic allocation and preemption did, for the log (the JSON API
    // ends with the AM).
    if let Ok(line) = serde_json::to_string(&ui::elastic(&ui)) {
        tracing::info!("elastic summary: {line}");
    }
    ctx.stop();
    // Keep the runtime (UI, heartbeats) alive until the finisher exits.
    std::mem::forget(rt);
    match result {
        Ok(Ok(())) => Outcome {
            status: FinalStatus::Succeeded,
            reason: Reason::Succeeded,
            diagnostics: String::new(),
        },
        Ok(Err(e)) => {
            // Name the executors' trouble too: it is often the cause (memory limits), and then
            // it is the reason rather than the driver's code.
            let mut diagnostics = one_line(&e.to_string());
            let mut reason = Reason::DriverError;
            if let Some(b) = backend_slot.get() {
                let (n, max) = b.failures();
                let last = b.last_failure();
                if n > 0 && !last.is_empty() {
                    diagnostics.push_str(&format!(
                        "; executor failures: {n} of {max} allowed, last: {last}"
                    ));
                    if let Some(
                        k
                        @ (Reason::MemoryLimit | Reason::BinaryNotRunnable | Reason::Localization),
                    ) = b.last_failure_kind()
                    {
                        reason = k;
                    }
                }
            }
            Outcome {
                status: FinalStatus::Failed,
                reason,
                diagnostics,
            }
        }
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "the driver panicked".into());
            Outcome {
                status: FinalStatus::Failed,
                reason: Reason::DriverError,
                diagnostics: format!("the driver panicked: {}", one_line(&msg)),
            }
        }
    }
}

/// Client mode: the driver runs elsewhere; the AM keeps its executors
/// running until the driver says it is done (or is gone).
fn run_client_mode(am: Am, finisher: &Arc<Finisher>) -> Outcome {
    let Am {
        launch,
        container: _,
        rt,
        rm,
        ui,
        config,
        renewer: _,
    } = am;
    let secret = match Credentials::from_env()
        .map_err(Error::from)
        .and_then(|c| c.ok_or_else(|| Error::Config("no credentials file".into())))
        .and_then(|c| crate::secret::from_credentials(&c))
    {
        Ok(s) => s,
        Err(e) => return failed_outcome(format!("client mode: {e}")),
    };
    let Some(driver_url) = launch.driver_url.clone() else {
        return failed_outcome("client mode without a driver URL".into());
    };
    let exec = spindle_core::backend::ExecutorLaunch {
        driver_url: driver_url.clone(),
        secret: secret.clone(),
        cores: launch.executor_cores,
        cache_mb: (launch.executor_memory_mb / 2).max(16),
        shuffle_mb: (launch.executor_memory_mb / 4).max(16),
        end: Default::default(),
    };
    let (tx, rx) = std::sync::mpsc::channel::<Outcome>();
    let fatal = {
        let finisher = finisher.clone();
        Arc::new(move |reason: Reason, why: String| {
            let finisher = finisher.clone();
            std::thread::spawn(move || {
                finisher.finish(Outcome {
                    reason,
                    ..failed_outcome(why)
                })
            });
        })
    };
    let n = launch.num_executors;
    let backend = YarnBackend::start(rt.handle().clone(), rm, launch, exec, config, fatal);
    let _ = ui.executors.set(backend.shared());
    let _ = spindle_core::backend::ClusterBackend::request_executors(&backend, n);
    // The executors send their output to the driver; the AM copies it, to serve
    // `spindle logs --follow` as in cluster mode.
    rt.spawn(spindle_core::backend::copy_driver_logs(
        driver_url.clone(),
        secret.clone(),
    ));
    {
        // The driver tells how the application ended when the AM asks, over
        // the application's authenticated channel (the AM listens for nothing
        // but its web UI). A driver that cannot be asked five times in a row
        // went away without finishing: the application FAILED.
        rt.spawn(async move {
            let mut misses = 0;
            loop {
                match spindle_core::backend::await_end(&driver_url, &secret).await {
                    Ok(end) => {
                        let _ = tx.send(match end {
                            Ok(()) => Outcome {
                                status: FinalStatus::Succeeded,
                                reason: Reason::Succeeded,
                                diagnostics: String::new(),
                            },
                            Err(d) => Outcome {
                                status: FinalStatus::Failed,
                                reason: Reason::DriverError,
                                diagnostics: one_line(&d),
                            },
                        });
                        return;
                    }
                    Err(e) => {
                        misses += 1;
                        if misses >= 5 {
                            // Not the user's program failing: its process (`spindle submit`)
                            // is gone, so nothing says how the job went.
                            let _ = tx.send(failed_outcome(format!(
                                "the driver at {driver_url} went away without finishing the application ({e})"
                            )));
                            return;
                        }
                    }
                }
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        });
    }
    let outcome = rx
        .recv()
        .unwrap_or_else(|_| failed_outcome("the control channel closed".into()));
    spindle_core::backend::ClusterBackend::stop(&backend);
    std::mem::forget(rt);
    outcome
}

/// A failure of the AM's own (its launch, the control channel): typed [`Reason::Failed`].
fn failed_outcome(diagnostics: String) -> Outcome {
    Outcome {
        status: FinalStatus::Failed,
        reason: Reason::Failed,
        diagnostics,
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use spindle_hadoop::Token;

    #[test]
    fn executors_get_file_system_tokens_but_never_the_amrm_token_or_secrets() {
        let token = |kind: &str, service: &str| Token {
            identifier: vec![1, 2],
            password: vec![3],
            kind: kind.into(),
            service: service.into(),
        };
        let mut am = Credentials::new();
        am.add_token("", token(AMRM_TOKEN_KIND, "127.0.0.1:8030"));
        am.add_token(
            "127.0.0.1:9000",
            token("HDFS_DELEGATION_TOKEN", "127.0.0.1:9000"),
        );
        am.add_token("ha-hdfs:ns2", token("HDFS_DELEGATION_TOKEN", "ha-hdfs:ns2"));
        am.add_secret("spindle.secret", vec![9; 32]);
        let exec = executor_tokens(&am);
        let kinds: Vec<&str> = exec.tokens().map(|(_, t)| t.kind.as_str()).collect();
        assert_eq!(kinds, ["HDFS_DELEGATION_TOKEN", "HDFS_DELEGATION_TOKEN"]);
        assert!(exec.secrets().next().is_none());
        assert_eq!(
            exec.token_for_service("HDFS_DELEGATION_TOKEN", &["ha-hdfs:ns2".into()])
                .map(|t| t.service.as_str()),
            Some("ha-hdfs:ns2")
        );
    }
}
