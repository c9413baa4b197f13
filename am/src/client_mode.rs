//! Client deploy mode: the driver runs where it was started (`spindle submit
//! --deploy-mode client`, or the binary itself with `SPINDLE_MASTER=yarn`);
//! YARN runs only the AM, which negotiates executor containers that connect
//! back to the driver. The driver side submits the AM with its URL and secret
//! through `spindle_contract::submit` (what `spindle submit` staged, or its own
//! binary staged now through the same cache), and answers the AM's question of how the
//! application ended over the application's authenticated channel (the AM
//! asks the driver: it has no control endpoint of its own).

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use spindle_contract::launch::{self, AM_MEMORY_MB, APP_ID, AmLaunch, DRIVER_HOST, DeployMode};
use spindle_contract::outcome::Reason;
use spindle_contract::staging::Staging;
use spindle_contract::submit::{self as submission, Scheduling, Submission};
use spindle_core::backend::{ClusterBackend, ExecutorLaunch};
use spindle_core::{Context, ExecutorSettings};
use spindle_hadoop::config::Configuration;
use spindle_hadoop::ids::ApplicationId;
use spindle_hadoop::yarn::{LocalResource, Resource, RmRestClient};

use crate::{Error, Result, secret};

/// The application `spindle submit` made and staged before it started the
/// driver (its id, staging directory and local resources), if it did.
fn prestaged() -> Result<Option<(ApplicationId, String, LocalResources)>> {
    let Ok(id) = std::env::var(APP_ID) else {
        return Ok(None);
    };
    let need = |k: &str| {
        std::env::var(k).map_err(|_| Error::Config(format!("{APP_ID} is set but {k} is not")))
    };
    let app = id
        .trim()
        .parse()
        .map_err(|e| Error::Config(format!("{APP_ID}={id:?}: {e}")))?;
    let resources = launch::resources_from_env(&need(launch::LOCAL_RESOURCES)?)?;
    Ok(Some((app, need(launch::STAGING_DIR)?, resources)))
}

type LocalResources = std::collections::BTreeMap<String, LocalResource>;

/// The driver side: the application's id and how to reach its AM.
pub struct ClientBackend {
    rt: tokio::runtime::Runtime,
    rest: RmRestClient,
    app: ApplicationId,
    end: spindle_core::backend::EndNotice,
    parallelism: u32,
    finished: Mutex<bool>,
}

static CURRENT: OnceLock<Arc<ClientBackend>> = OnceLock::new();
/// This driver's event log, ended by [`finish`].
static EVENT_LOG: OnceLock<Arc<spindle_core::eventlog::EventLog>> = OnceLock::new();

fn env_num(k: &str, default: u64) -> Result<u64> {
    match std::env::var(k) {
        Err(_) => Ok(default),
        Ok(v) => v
            .trim()
            .parse()
            .map_err(|_| Error::Config(format!("{k}={v:?} is not a number"))),
    }
}

/// The address executors reach the driver by: `SPINDLE_DRIVER_HOST` when set, else this
/// machine's address on its route to the ResourceManager (the cluster's side of the machine, as
/// Spark avoids a host name that resolves to loopback), else the host name.
fn driver_host() -> String {
    if let Ok(host) = std::env::var(DRIVER_HOST) {
        return host;
    }
    address_facing_the_rm().unwrap_or_else(|| {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "127.0.0.1".into())
    })
}

/// The local address the kernel routes the RM's RPC address through (a UDP "connect" sends
/// nothing: it only picks the route).
fn address_facing_the_rm() -> Option<String> {
    use std::net::{ToSocketAddrs, UdpSocket};
    let conf = Configuration::from_env().ok()?;
    let rm = conf.rm_addresses().ok()?.into_iter().next()?.rpc;
    let target = rm.to_socket_addrs().ok()?.next()?;
    let socket = UdpSocket::bind(if target.is_ipv4() {
        "0.0.0.0:0"
    } else {
        "[::]:0"
    })
    .ok()?;
    socket.connect(target).ok()?;
    Some(socket.local_addr().ok()?.ip().to_string())
}

/// A driver `Context` whose executors are YARN containers of a client-mode
/// application submitted now.
pub fn context_from_env() -> Result<Context> {
    let memory = env_num(launch::EXECUTOR_MEMORY_MB, 512)?;
    let settings = ExecutorSettings {
        cores: env_num(launch::EXECUTOR_CORES, 1)?.max(1) as u32,
        cache_mb: (memory / 2).max(16),
        shuffle_mb: (memory / 4).max(16),
    };
    let host = driver_host();
    let ctx = Context::with_backend(&host, settings, |exec| {
        // The context's runtime is entered here: submit from a thread of our own.
        let b = std::thread::spawn(move || ClientBackend::submit(exec))
            .join()
            .map_err(|_| spindle_core::Error::Config("submitting the AM panicked".into()))?
            .map_err(|e| spindle_core::Error::Config(e.to_string()))?;
        let b = Arc::new(b);
        let _ = CURRENT.set(b.clone());
        Ok(b as Arc<dyn ClusterBackend>)
    })?;
    if let Some(b) = CURRENT.get() {
        let conf = spindle_contract::Conf::from_env().map_err(|e| Error::Config(e.to_string()))?;
        let mut properties = spindle_contract::events::redacted_properties(conf.pairs());
        properties.push(["spindle.submit.deployMode".into(), "client".into()]);
        let info = spindle_core::eventlog::AppInfo {
            app_id: b.application_id().to_string(),
            attempt: 1,
            name: std::env::var(launch::APP_NAME).unwrap_or_else(|_| "spindle".into()),
            user: spindle_hadoop::user::current_user(),
            properties,
        };
        match ctx.start_event_log(info) {
            Ok(Some(log)) => {
                let _ = EVENT_LOG.set(log);
            }
            Ok(None) => {}
            Err(e) => tracing::warn!("no event log: {e}"),
        }
    }
    Ok(ctx)
}

/// Tells the AM how the driver's job ended (call before `Context::stop`);
/// the AM unregisters with that status.
pub fn finish(result: std::result::Result<(), String>) {
    if let Some(log) = EVENT_LOG.get() {
        match &result {
            Ok(()) => log.end("SUCCEEDED", Reason::Succeeded, ""),
            Err(e) => log.end(
                "FAILED",
                Reason::DriverError,
                e.lines().next().unwrap_or_default(),
            ),
        }
    }
    if let Some(b) = CURRENT.get() {
        b.finish_with(result);
    }
}

impl ClientBackend {
    /// Submits the AM of this driver's application, staged by `spindle
    /// submit` or, for a driver started by hand, staged now (this binary,
    /// through the cache cluster mode uses).
    fn submit(exec: ExecutorLaunch) -> Result<ClientBackend> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Config(format!("runtime: {e}")))?;
        let conf = Configuration::from_env()?;
        let user = spindle_hadoop::user::current_user();
        let mut rest = RmRestClient::from_config(&conf, Some(user.clone()))?;
        // The CA `spindle submit` was given for an HTTPS RM (`spindle.ssl.ca`).
        let ca = spindle_contract::Conf::from_env()
            .map_err(|e| Error::Config(e.to_string()))?
            .text(&spindle_contract::settings::SSL_CA);
        if let Some(ca) = ca {
            let trust = spindle_hadoop::tls::HttpsTrust::load(&conf, Some(ca.as_ref()))?;
            rest = rest.with_trust(trust)?;
        }
        // Kerberos: SPNEGO to the RM as `spindle submit` logged in; the HDFS delegation tokens
        // it fetched (our HADOOP_TOKEN_FILE_LOCATION) go to the AM and on to the executors.
        let mut tokens = spindle_hadoop::credentials::Credentials::new();
        let mut login = None;
        if spindle_hadoop::kerberos::is_kerberos(&conf)? {
            let l = match (
                std::env::var(launch::KERBEROS_PRINCIPAL),
                std::env::var_os(launch::KERBEROS_KEYTAB),
            ) {
                (Ok(p), Some(k)) => {
                    spindle_hadoop::kerberos::Login::from_keytab(&conf, &p, k.as_ref())?
                }
                _ => spindle_hadoop::kerberos::Login::from_ticket_cache(&conf)?,
            };
            rest = rest.with_kerberos(&l);
            if let Some(c) = spindle_hadoop::credentials::Credentials::from_env()? {
                tokens = c;
            }
            login = Some(l);
        }
        let executors = env_num(launch::NUM_EXECUTORS, 2)? as u32;
        let cores = env_num(launch::EXECUTOR_CORES, 1)?.max(1) as u32;
        let memory = env_num(launch::EXECUTOR_MEMORY_MB, 512)?;
        let overhead = env_num(
            launch::EXECUTOR_MEMORY_OVERHEAD_MB,
            launch::default_overhead_mb(memory),
        )?;
        let name = std::env::var(launch::APP_NAME).unwrap_or_else(|_| "spindle".into());
        let conf_pairs = spindle_contract::Conf::from_env()
            .map_err(|e| Error::Config(e.to_string()))?
            .pairs()
            .clone();
        if conf_pairs
            .get(spindle_contract::settings::DYN_ENABLED.name())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
        {
            tracing::warn!(
                "{} is ignored in client deploy mode (the driver's scheduler \
                 does not drive the AM's asks yet): running with --num-executors {executors} \
                 executors throughout; use --deploy-mode cluster for dynamic allocation",
                spindle_contract::settings::DYN_ENABLED.name()
            );
        }
        let hdfs_login = login
            .as_ref()
            .map(|l| spindle_contract::staging::HdfsLogin {
                principal: &l.principal,
                keytab: l.keytab.as_deref(),
                proxy_user: None,
            });
        let staging = Staging::connect(None, &conf.default_fs()?, &user, &user, hdfs_login)?;
        let am_memory = env_num(AM_MEMORY_MB, 256)?;
        let scheduling = Scheduling::from_vars(|k| std::env::var(k).ok())?;
        let prestaged = prestaged()?;
        let app = rt.block_on(async {
            let (app, staging_dir, local_resources) = match prestaged {
                Some(p) => p,
                None => {
                    let app = rest.new_application().await?.application_id;
                    let exe = std::env::current_exe()
                        .map_err(|e| Error::Config(format!("locating the driver binary: {e}")))?;
                    let staged = staging.stage_app(app, &exe, &[]).await?;
                    (app, staged.dir, staged.local_resources)
                }
            };
            let submission = Submission {
                launch: AmLaunch {
                    deploy_mode: DeployMode::Client,
                    app_name: name.clone(),
                    staging_dir,
                    local_resources,
                    num_executors: executors,
                    executor_cores: cores,
                    executor_memory_mb: memory,
                    executor_memory_overhead_mb: overhead,
                    conf: conf_pairs,
                    driver_url: Some(exec.driver_url.clone()),
                    user: user.clone(),
                    keytab: None,
                },
                scheduling,
                am_resource: Resource {
                    memory_mb: am_memory as i64,
                    vcores: 1,
                },
                args: Vec::new(),
            };
            let mut ctx = submission.context(app, secret::to_bytes(&exec.secret));
            ctx.am_container.credentials.merge(&tokens);
            submission::submit(&rest, &staging, &ctx).await?;
            Ok::<_, Error>(app)
        })?;
        spindle_core::io::set_output_owner(&app.to_string());
        tracing::info!(
            "submitted {app} (client deploy mode); executors connect to {}",
            exec.driver_url
        );
        Ok(ClientBackend {
            rt,
            rest,
            app,
            end: exec.end,
            parallelism: (executors * cores).max(2),
            finished: Mutex::new(false),
        })
    }

    /// The YARN application id.
    pub fn application_id(&self) -> ApplicationId {
        self.app
    }

    fn finish_with(&self, result: std::result::Result<(), String>) {
        let mut done = self.finished.lock().unwrap_or_else(|e| e.into_inner());
        if *done {
            return;
        }
        *done = true;
        // The AM's pending AwaitEnd call (or its next one) gets the answer
        // from the driver's service, which runs until this returns.
        self.end.announce(result);
        let r = self.rt.block_on(async {
            // Wait until YARN has the final status, so the caller exits after
            // it (an AM that has yet to start gets the answer when it asks).
            let deadline = Instant::now() + Duration::from_secs(120);
            loop {
                if self.rest.app(self.app).await?.state.is_final() {
                    return Ok::<_, Error>(());
                }
                if Instant::now() > deadline {
                    return Err(Error::Config(format!(
                        "{}: the AM did not end the application within 120 s",
                        self.app
                    )));
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        });
        if let Err(e) = r {
            tracing::warn!("finishing {}: {e}", self.app);
        }
    }
}

impl ClusterBackend for ClientBackend {
    fn request_executors(&self, _count: u32) -> spindle_core::Result<()> {
        // The AM was told how many at submission and replaces lost ones itself.
        Ok(())
    }

    fn executor_lost(&self, _executor_id: &str) {}

    fn stop(&self) {
        self.finish_with(Ok(()));
    }

    fn default_parallelism(&self) -> u32 {
        self.parallelism
    }
}
