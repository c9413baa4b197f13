//! Client deploy mode: the driver runs where it was started (`spindle submit
//! --deploy-mode client`, or the binary itself with `SPINDLE_MASTER=yarn`);
//! YARN runs only the AM, which negotiates executor containers that connect
//! back to the driver. The driver side stages its own binary, submits the AM
//! with its URL and secret, and answers the AM's question of how the
//! application ended over the application's authenticated channel (the AM
//! asks the driver: it has no control endpoint of its own).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use spindle_core::backend::{ClusterBackend, ExecutorLaunch};
use spindle_core::{Context, ExecutorSettings};
use spindle_hadoop::config::Configuration;
use spindle_hadoop::ids::ApplicationId;
use spindle_hadoop::yarn::{LocalResource, Resource, RmRestClient, SubmissionContext};

use crate::{Error, Result, secret};
use spindle_contract::launch::{self, AmLaunch, DeployMode};

use spindle_contract::launch::{
    AM_MEMORY_MB, APP_ID, DRIVER_HOST, MAX_APP_ATTEMPTS, PRIORITY, QUEUE, TAGS,
};

/// What was staged for the application before the driver started.
struct Prestaged {
    app: ApplicationId,
    staging_dir: String,
    local_resources: BTreeMap<String, LocalResource>,
}

impl Prestaged {
    fn from_env() -> Result<Option<Prestaged>> {
        let Ok(id) = std::env::var(APP_ID) else {
            return Ok(None);
        };
        let need = |k: &str| {
            std::env::var(k).map_err(|_| Error::Config(format!("{APP_ID} is set but {k} is not")))
        };
        Ok(Some(Prestaged {
            app: id
                .trim()
                .parse()
                .map_err(|e| Error::Config(format!("{APP_ID}={id:?}: {e}")))?,
            staging_dir: need(launch::STAGING_DIR)?,
            local_resources: launch::resources_from_env(&need(launch::LOCAL_RESOURCES)?)?,
        }))
    }
}

/// `--tags`, `--priority` and `--max-app-attempts` from the environment.
fn submission_settings() -> Result<(Vec<String>, Option<i32>, Option<i32>)> {
    let tags = std::env::var(TAGS)
        .map(|t| {
            t.split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let int = |k: &str| -> Result<Option<i32>> {
        match std::env::var(k) {
            Err(_) => Ok(None),
            Ok(v) => v
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| Error::Config(format!("{k}={v:?} is not an integer"))),
        }
    };
    Ok((tags, int(PRIORITY)?, int(MAX_APP_ATTEMPTS)?))
}

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
    Ok(ctx)
}

/// Tells the AM how the driver's job ended (call before `Context::stop`);
/// the AM unregisters with that status.
pub fn finish(result: std::result::Result<(), String>) {
    if let Some(b) = CURRENT.get() {
        b.finish_with(result);
    }
}

impl ClientBackend {
    fn submit(exec: ExecutorLaunch) -> Result<ClientBackend> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Config(format!("runtime: {e}")))?;
        let conf = Configuration::from_env()?;
        let user = spindle_hadoop::user::current_user();
        let rest = RmRestClient::from_config(&conf, Some(user.clone()))?;
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
        let fs = conf.default_fs()?.trim_end_matches('/').to_string();
        let am_memory = env_num(AM_MEMORY_MB, 256)?;
        let queue = std::env::var(QUEUE).ok();
        let prestaged = Prestaged::from_env()?;
        let (tags, priority, max_app_attempts) = submission_settings()?;
        let app = rt.block_on(async {
            let (app, staging_dir, local_resources) = match prestaged {
                Some(p) => (p.app, p.staging_dir, p.local_resources),
                None => {
                    let app = rest.new_application().await?.application_id;
                    let (dir, resources) = upload_self(&fs, &user, app).await?;
                    (app, dir, resources)
                }
            };
            let am = AmLaunch {
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
            };
            let mut ctx = SubmissionContext::new(
                app,
                &name,
                Resource {
                    memory_mb: am_memory as i64,
                    vcores: 1,
                },
            );
            ctx.queue = queue;
            ctx.application_type = launch::APPLICATION_TYPE.into();
            ctx.application_tags = tags;
            ctx.priority = priority;
            ctx.max_app_attempts = max_app_attempts;
            ctx.am_container.local_resources = am.local_resources.clone();
            ctx.am_container.environment = am.to_env().into_iter().collect();
            ctx.am_container.commands = vec![launch::container_command(&[])];
            ctx.am_container.credentials = am.credentials(secret::to_bytes(&exec.secret));
            rest.submit(&ctx).await?;
            Ok::<_, Error>(app)
        })?;
        spindle_core::io::set_output_owner(&app.to_string());
        eprintln!(
            "spindle: submitted {app} (client deploy mode); executors connect to {}",
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
            eprintln!("spindle: finishing {}: {e}", self.app);
        }
    }
}

/// Uploads this very binary to the application's staging directory (a
/// driver started by hand with `SPINDLE_MASTER=yarn`; `spindle submit` stages
/// through its SHA-256 cache instead): the directory and the resources.
async fn upload_self(
    fs: &str,
    user: &str,
    app: ApplicationId,
) -> Result<(String, BTreeMap<String, LocalResource>)> {
    let exe = std::env::current_exe()
        .map_err(|e| Error::Config(format!("locating the driver binary: {e}")))?;
    let binary = std::fs::read(&exe)
        .map_err(|e| Error::Config(format!("reading {}: {e}", exe.display())))?;
    let staging_path = format!(
        "/user/{user}/{}/{app}",
        spindle_contract::staging::STAGING_ROOT
    );
    let bin_path = format!("{staging_path}/{}", launch::APP_BINARY);
    let client = hdfs_native::ClientBuilder::new()
        .with_url(fs)
        .build()
        .map_err(|e| Error::Config(format!("HDFS client for {fs}: {e}")))?;
    let hdfs = |what: &str, e: hdfs_native::HdfsError| {
        Error::Config(format!("{what} {fs}{bin_path}: {e}"))
    };
    let opts = hdfs_native::WriteOptions::default()
        .overwrite(true)
        .create_parent(true)
        .permission(0o700);
    let mut w = client
        .create(&bin_path, opts)
        .await
        .map_err(|e| hdfs("creating", e))?;
    for chunk in binary.chunks(8 << 20) {
        w.write_bytes(bytes::Bytes::copy_from_slice(chunk))
            .await
            .map_err(|e| hdfs("writing", e))?;
    }
    w.close().await.map_err(|e| hdfs("closing", e))?;
    let st = client
        .get_file_info(&bin_path)
        .await
        .map_err(|e| hdfs("reading the status of", e))?;
    let resources = BTreeMap::from([(
        launch::APP_BINARY.to_string(),
        LocalResource::file(
            format!("{fs}{bin_path}"),
            st.length as i64,
            st.modification_time as i64,
        ),
    )]);
    Ok((format!("{fs}{staging_path}"), resources))
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
