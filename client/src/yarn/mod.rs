//! YARN mode: `spindle submit --master yarn` and `spindle status|kill|logs`.
//!
//! Submission follows DESIGN.md: a new application id from the RM REST API,
//! the driver binary staged in HDFS (reused by SHA-256;
//! `spindle_contract::staging`), then the AM container (the same binary, role
//! `am`) submitted through REST with the launch contract of
//! `spindle_contract::launch` in its environment and the per-application
//! secret in its credentials (`spindle_contract::submit`, the path a
//! client-mode driver takes too). The client then waits, showing the
//! application's state and the AM's job progress.

pub(crate) mod agglog;
pub(crate) mod client_mode;
pub(crate) mod follow;
pub(crate) mod ifile;
pub(crate) mod javaser;
pub(crate) mod logs;
pub(crate) mod memory;
pub(crate) mod outcome;
pub(crate) mod progress;
pub(crate) mod report;
pub(crate) mod security;
pub(crate) mod tfile;
pub(crate) mod waiting;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use spindle_contract::launch::{self, AmLaunch, DeployMode};
use spindle_contract::settings::{Conf, SSL_CA};
use spindle_contract::staging::{StagedApp, Staging};
use spindle_contract::submit::{self as submission, Scheduling, Submission};
use spindle_hadoop::config::Configuration;
use spindle_hadoop::ids::ApplicationId;
use spindle_hadoop::tls::HttpsTrust;
use spindle_hadoop::yarn::{AppsFilter, NodeState, Resource, RmRestClient, SubmissionContext};

use crate::Error;
use crate::cli;

/// Connecting to the RM gives up after this; a wrong address fails fast.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The cluster named by HADOOP_CONF_DIR, as seen by one user.
pub(crate) struct Cluster {
    pub conf: Configuration,
    pub conf_dir: Option<PathBuf>,
    /// The user applications run as: the Kerberos short name (or the
    /// proxied user), else the simple-auth user.
    pub user: String,
    pub rest: RmRestClient,
    /// The CAs trusted on the cluster's HTTPS endpoints (RM, proxy, NodeManagers).
    pub trust: HttpsTrust,
    /// The Kerberos login, on a Kerberized cluster.
    pub kerberos: Option<security::KerberosUser>,
}

impl Cluster {
    /// [`Cluster::connect`] with the ticket cache, as `status`, `kill` and `logs` use.
    /// The CA comes from `SPINDLE_SSL_CA` (these commands take no `--conf`).
    pub(crate) fn from_env() -> Result<Cluster, Error> {
        let ca = Conf::default().text(&SSL_CA).map(PathBuf::from);
        Self::connect(&security::LoginRequest::default(), ca.as_deref())
    }

    /// Reads HADOOP_CONF_DIR (or YARN_CONF_DIR); fails in one line when it
    /// is unset, not a directory, or holds no yarn-site.xml. On a Kerberized
    /// cluster, logs in as `login` asks (keytab, else the ticket cache). HTTPS endpoints are
    /// checked against the CAs of `ca` (a PEM file; see [`HttpsTrust::load`]).
    pub(crate) fn connect(
        login: &security::LoginRequest,
        ca: Option<&Path>,
    ) -> Result<Cluster, Error> {
        let var = ["HADOOP_CONF_DIR", "YARN_CONF_DIR"]
            .into_iter()
            .find_map(|v| {
                std::env::var_os(v)
                    .filter(|d| !d.is_empty())
                    .map(|d| (v, PathBuf::from(d)))
            });
        let Some((name, dir)) = var else {
            return Err(Error::HadoopConf(
                "neither HADOOP_CONF_DIR nor YARN_CONF_DIR is set; --master yarn needs the cluster's client configuration (core-site.xml, yarn-site.xml)".into(),
            ));
        };
        if !dir.is_dir() {
            return Err(Error::HadoopConf(format!(
                "{name}={} is not a directory",
                dir.display()
            )));
        }
        if !dir.join("yarn-site.xml").is_file() {
            return Err(Error::HadoopConf(format!(
                "{name}={} has no yarn-site.xml (where is the ResourceManager?)",
                dir.display()
            )));
        }
        let conf = Configuration::load_dir(&dir)?;
        let trust = HttpsTrust::load(&conf, ca)?;
        let kerberos = security::login(&conf, &dir, login)?;
        let user = match &kerberos {
            Some(k) => k.user().to_string(),
            None => login
                .proxy_user
                .clone()
                .unwrap_or_else(spindle_hadoop::user::current_user),
        };
        let mut rest = RmRestClient::with_timeouts(
            conf.rm_web_urls()?,
            Some(user.clone()),
            CONNECT_TIMEOUT,
            REQUEST_TIMEOUT,
        )?
        .with_trust(trust.clone())?;
        if let Some(k) = &kerberos {
            rest = rest.with_kerberos(&k.login);
            if let Some(p) = &k.proxy_user {
                rest = rest.with_do_as(p);
            }
        }
        Ok(Cluster {
            conf,
            conf_dir: Some(dir),
            user,
            rest,
            trust,
            kerberos,
        })
    }

    /// The staging area of `owner` (this user's unless given), always
    /// reached as this user: `logs` and `kill` act as the caller, as Hadoop's
    /// CLI does, never as the application's owner.
    pub(crate) fn staging(&self, owner: Option<&str>) -> Result<Staging, Error> {
        Ok(Staging::connect(
            self.conf_dir.as_deref(),
            &self.conf.default_fs()?,
            &self.user,
            owner.unwrap_or(&self.user),
            self.kerberos.as_ref().map(|k| k.hdfs_login()),
        )?)
    }

    /// The RM's page of an application.
    pub(crate) fn app_page(&self, app: ApplicationId) -> String {
        format!("{}/cluster/app/{app}", self.rest.active_base())
    }

    /// Warns when `fs.defaultFS` names this machine while NodeManagers run on other hosts:
    /// they localize the driver from a URL on that file system and would fail ("Connection
    /// refused"), the usual result of a configuration that reaches a cluster through forwarded
    /// ports. Only asks the RM for its nodes when the file system is on loopback.
    pub(crate) async fn warn_if_file_system_is_only_local(&self) {
        let Ok(fs) = self.conf.default_fs() else {
            return;
        };
        if !host_of_uri(&fs).is_some_and(is_loopback) {
            return;
        }
        let Ok(nodes) = self.rest.nodes().await else {
            return;
        };
        let remote: Vec<&str> = nodes
            .iter()
            .filter(|n| n.state == NodeState::Running && !is_loopback(&n.node_id.host))
            .map(|n| n.node_id.host.as_str())
            .collect();
        if !remote.is_empty() {
            tracing::warn!(
                "fs.defaultFS {fs} is on this machine, but NodeManagers run on \
                 other hosts ({}): they cannot fetch the driver from it. Use the cluster's own \
                 configuration, with its host names resolvable here.",
                remote.join(", ")
            );
        }
    }
}

/// The host of `scheme://host[:port]/...`.
fn host_of_uri(uri: &str) -> Option<&str> {
    let rest = uri.split_once("://")?.1;
    let authority = rest.split('/').next()?;
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next()?,
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    (!host.is_empty()).then_some(host)
}

/// Whether `host` resolves to loopback addresses only (a name that does not resolve is not).
fn is_loopback(host: &str) -> bool {
    use std::net::ToSocketAddrs;
    match (host, 0).to_socket_addrs() {
        Ok(addrs) => {
            let addrs: Vec<_> = addrs.collect();
            !addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback())
        }
        Err(_) => false,
    }
}

/// The flags of `spindle submit --master yarn`, checked.
#[derive(Debug, Clone)]
pub(crate) struct YarnSubmit {
    pub deploy_mode: DeployMode,
    pub name: String,
    pub queue: Option<String>,
    pub num_executors: u32,
    pub executor_cores: u32,
    pub executor_memory_mb: u64,
    pub executor_overhead_mb: u64,
    pub driver_memory_mb: u64,
    pub driver_overhead_mb: u64,
    pub driver_cores: u32,
    pub files: Vec<PathBuf>,
    pub conf: BTreeMap<String, String>,
    pub max_app_attempts: Option<i32>,
    pub tags: Vec<String>,
    pub priority: Option<i32>,
    pub verbose: bool,
    /// Return once ACCEPTED (cluster mode only).
    pub detach: bool,
    /// What the driver binary needs ([`check_driver`]), said when it is staged.
    pub driver_summary: String,
    pub driver: PathBuf,
    pub args: Vec<String>,
}

impl YarnSubmit {
    /// Checks the flags: sizes parse, files exist, `--conf` is KEY=VALUE.
    pub(crate) fn from_cli(s: &cli::Submit) -> Result<YarnSubmit, Error> {
        let deploy_mode = match s.deploy_mode.as_str() {
            "cluster" => DeployMode::Cluster,
            "client" => DeployMode::Client,
            other => {
                return Err(Error::Usage(format!(
                    "--deploy-mode {other:?}: expected cluster or client"
                )));
            }
        };
        if s.detach && deploy_mode == DeployMode::Client {
            return Err(Error::Usage(
                "--detach works in cluster mode only: in client mode the driver runs inside \
                 spindle submit, which must stay until it ends (use --deploy-mode cluster)"
                    .into(),
            ));
        }
        let driver = PathBuf::from(&s.driver);
        if !driver.is_file() {
            return Err(Error::Driver {
                path: s.driver.clone(),
                message: "not found (give the path of a driver binary)".into(),
            });
        }
        let settings = crate::parse_conf(&s.conf)?;
        let mut files = Vec::new();
        for f in s.files.iter().filter(|f| !f.is_empty()) {
            let p = PathBuf::from(f.strip_prefix("file://").unwrap_or(f));
            if !p.is_file() {
                return Err(Error::Usage(format!("--files {f}: no such file")));
            }
            if p.file_name().is_some_and(|n| n == launch::APP_BINARY) {
                return Err(Error::Usage(format!(
                    "--files {f}: the name {} is taken by the driver binary",
                    launch::APP_BINARY
                )));
            }
            files.push(p);
        }
        let positive = |flag: &str, n: u32| {
            if n == 0 {
                Err(Error::Usage(format!("{flag} must be at least 1")))
            } else {
                Ok(n)
            }
        };
        let executor_memory_mb = memory::parse_mb("--executor-memory", &s.executor_memory)?;
        let driver_memory_mb = memory::parse_mb("--driver-memory", &s.driver_memory)?;
        let overhead = |setting| {
            settings
                .size_mb(setting)
                .map_err(|e| Error::Usage(e.to_string()))
        };
        let name = s.name.clone().unwrap_or_else(|| {
            driver
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "spindle".into())
        });
        Ok(YarnSubmit {
            deploy_mode,
            name,
            queue: s.queue.clone(),
            num_executors: s.num_executors,
            executor_cores: positive("--executor-cores", s.executor_cores)?,
            executor_memory_mb,
            executor_overhead_mb: memory::overhead_mb(
                executor_memory_mb,
                overhead(&spindle_contract::settings::EXECUTOR_MEMORY_OVERHEAD)?,
            ),
            driver_memory_mb,
            driver_overhead_mb: memory::overhead_mb(
                driver_memory_mb,
                overhead(&spindle_contract::settings::DRIVER_MEMORY_OVERHEAD)?,
            ),
            driver_cores: positive("--driver-cores", s.driver_cores)?,
            files,
            conf: settings.pairs().clone(),
            max_app_attempts: s.max_app_attempts,
            tags: s.tags.iter().filter(|t| !t.is_empty()).cloned().collect(),
            priority: s.priority,
            verbose: s.verbose,
            detach: s.detach,
            driver_summary: String::new(),
            driver,
            args: s.args.clone(),
        })
    }

    /// The AM container: driver memory + overhead (cluster mode runs the driver there).
    pub(crate) fn am_resource(&self) -> Resource {
        Resource {
            memory_mb: (self.driver_memory_mb + self.driver_overhead_mb) as i64,
            vcores: self.driver_cores as i32,
        }
    }

    /// Refuses containers larger than the cluster grants, naming the flag.
    fn check_fits(&self, max: Resource) -> Result<(), Error> {
        let exec_mb = (self.executor_memory_mb + self.executor_overhead_mb) as i64;
        let am = self.am_resource();
        let too_big = |flag: &str, what: &str, want: i64, max: i64, key: &str| {
            Error::Usage(format!(
                "{flag}: {what} needs {want} but the cluster grants at most {max} per container ({key})"
            ))
        };
        if max.memory_mb > 0 {
            if am.memory_mb > max.memory_mb {
                return Err(too_big(
                    "--driver-memory",
                    "the driver's container (memory + overhead)",
                    am.memory_mb,
                    max.memory_mb,
                    "yarn.scheduler.maximum-allocation-mb, MB",
                ));
            }
            if exec_mb > max.memory_mb {
                return Err(too_big(
                    "--executor-memory",
                    "an executor's container (memory + overhead)",
                    exec_mb,
                    max.memory_mb,
                    "yarn.scheduler.maximum-allocation-mb, MB",
                ));
            }
        }
        if max.vcores > 0 {
            if am.vcores > max.vcores {
                return Err(too_big(
                    "--driver-cores",
                    "the driver's container",
                    am.vcores as i64,
                    max.vcores as i64,
                    "yarn.scheduler.maximum-allocation-vcores",
                ));
            }
            if self.executor_cores as i32 > max.vcores {
                return Err(too_big(
                    "--executor-cores",
                    "an executor",
                    self.executor_cores as i64,
                    max.vcores as i64,
                    "yarn.scheduler.maximum-allocation-vcores",
                ));
            }
        }
        Ok(())
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the async runtime", e))
}

/// `spindle submit --master yarn …`: returns the exit code (0 only for SUCCEEDED).
pub(crate) fn submit(s: &cli::Submit) -> Result<i32, Error> {
    let mut opts = YarnSubmit::from_cli(s)?;
    opts.driver_summary = check_driver(&opts.driver)?;
    let ca = Conf::new(opts.conf.clone())?
        .text(&SSL_CA)
        .map(PathBuf::from);
    let cluster = Cluster::connect(
        &security::LoginRequest {
            principal: s.principal.clone(),
            keytab: s.keytab.as_ref().map(PathBuf::from),
            proxy_user: s.proxy_user.clone(),
        },
        ca.as_deref(),
    )?;
    match opts.deploy_mode {
        DeployMode::Cluster => runtime()?.block_on(submit_cluster(&cluster, &opts)),
        DeployMode::Client => runtime()?.block_on(client_mode::run(&cluster, &opts)),
    }
}

/// Refuses, in one line and before anything is sent, a driver that cannot run on a Linux
/// NodeManager or is not a Spindle driver; returns what it needs (glibc, shared libraries), for
/// [`stage`] to say (so that an error before staging stays one line).
fn check_driver(path: &std::path::Path) -> Result<String, Error> {
    let err = |message| Error::Driver {
        path: path.display().to_string(),
        message,
    };
    let info = crate::elf::inspect_file(path).map_err(err)?;
    info.require_driver().map_err(err)?;
    if let Some(w) = info.arch_warning() {
        tracing::warn!("driver program {}: {w}", path.display());
    }
    Ok(format!(
        "spindle: driver program {}: {}",
        path.display(),
        info.summary()
    ))
}

async fn submit_cluster(cluster: &Cluster, opts: &YarnSubmit) -> Result<i32, Error> {
    cluster.warn_if_file_system_is_only_local().await;
    let new_app = cluster.rest.new_application().await?;
    let app = new_app.application_id;
    opts.check_fits(new_app.max_resource)?;
    let staging = cluster.staging(None)?;
    let staged = stage(&staging, opts, app).await?;
    let mut sub = opts.submission(&staging, staged);
    if let Some(k) = &cluster.kerberos
        && let Some(keytab) = &k.login.keytab
    {
        // The AM logs in from a private copy to fetch new tokens (Spark does the same).
        match staging.stage_keytab(keytab, app).await {
            Ok(path) => {
                sub.launch.keytab = Some(spindle_contract::launch::StagedKeytab {
                    principal: k.login.principal.clone(),
                    path,
                })
            }
            Err(e) => {
                let _ = staging.remove_app_dir(app).await;
                return Err(e.into());
            }
        }
    }
    let mut ctx = sub.context(app, submission::new_secret().to_vec());
    if let Some(k) = &cluster.kerberos {
        match security::delegation_tokens(cluster, k, &opts.conf).await {
            Ok(tokens) => {
                if let Some(note) = security::lifetime_note(&tokens, k.login.keytab.is_some()) {
                    eprintln!("{note}");
                }
                ctx.am_container.credentials.merge(&tokens)
            }
            Err(e) => {
                let _ = staging.remove_app_dir(app).await;
                return Err(e);
            }
        }
    }
    if opts.verbose {
        print_submission(&ctx, opts);
    }
    submission::submit(&cluster.rest, &staging, &ctx).await?;
    eprintln!(
        "spindle: submitted {app} ({}) to YARN as {}; RM page: {}",
        opts.name,
        cluster.user,
        cluster.app_page(app)
    );
    if opts.detach {
        // The AM removes the staging directory when the application ends; only an application
        // that ends before it could start is cleaned up here.
        return progress::wait_accepted(cluster, &staging, app).await;
    }
    progress::wait(cluster, Some(&staging), app).await
}

/// Uploads what the application needs (the binary through the cache, the
/// `--files`), saying what was sent.
async fn stage(
    staging: &Staging,
    opts: &YarnSubmit,
    app: ApplicationId,
) -> Result<StagedApp, Error> {
    if !opts.driver_summary.is_empty() {
        eprintln!("{}", opts.driver_summary);
    }
    let staged = staging.stage_app(app, &opts.driver, &opts.files).await?;
    let bin = &staged.binary;
    if bin.uploaded {
        eprintln!(
            "spindle: uploaded {} ({} bytes, sha256 {}) to {}",
            opts.driver.display(),
            bin.resource.size,
            &bin.sha256[..12],
            bin.resource.url
        );
    } else {
        eprintln!(
            "spindle: reusing {} already in HDFS (same sha256 {}), nothing uploaded",
            bin.resource.url,
            &bin.sha256[..12]
        );
    }
    Ok(staged)
}

impl YarnSubmit {
    /// The cluster-mode submission of what was staged: the AM runs the driver.
    fn submission(&self, staging: &Staging, staged: StagedApp) -> Submission {
        Submission {
            launch: AmLaunch {
                deploy_mode: self.deploy_mode,
                app_name: self.name.clone(),
                staging_dir: staged.dir,
                local_resources: staged.local_resources,
                num_executors: self.num_executors,
                executor_cores: self.executor_cores,
                executor_memory_mb: self.executor_memory_mb,
                executor_memory_overhead_mb: self.executor_overhead_mb,
                conf: self.conf.clone(),
                driver_url: None,
                user: staging.user().to_string(),
                keytab: None,
            },
            scheduling: self.scheduling(),
            am_resource: self.am_resource(),
            args: self.args.clone(),
        }
    }

    /// `--queue`, `--tags`, `--priority`, `--max-app-attempts`.
    pub(crate) fn scheduling(&self) -> Scheduling {
        Scheduling {
            queue: self.queue.clone(),
            tags: self.tags.clone(),
            priority: self.priority,
            max_app_attempts: self.max_app_attempts,
        }
    }
}

fn print_submission(ctx: &SubmissionContext, opts: &YarnSubmit) {
    let spec = &ctx.am_container;
    eprintln!(
        "spindle: application {} name {:?} type {}",
        ctx.application_id, ctx.application_name, ctx.application_type
    );
    eprintln!(
        "spindle:   AM container {} MB, {} vcores (driver memory {} MB + overhead {} MB)",
        ctx.resource.memory_mb, ctx.resource.vcores, opts.driver_memory_mb, opts.driver_overhead_mb
    );
    eprintln!(
        "spindle:   executors {} x ({} MB + {} MB overhead, {} cores)",
        opts.num_executors, opts.executor_memory_mb, opts.executor_overhead_mb, opts.executor_cores
    );
    for (name, r) in &spec.local_resources {
        eprintln!(
            "spindle:   resource {name} <- {} (size {}, timestamp {}, {:?})",
            r.url, r.size, r.timestamp, r.visibility
        );
    }
    for (k, v) in &spec.environment {
        eprintln!("spindle:   env {k}={v}");
    }
    eprintln!("spindle:   command {}", spec.commands.join(" "));
    let secrets: Vec<&str> = spec.credentials.secrets().map(|(k, _)| k).collect();
    eprintln!("spindle:   credentials: secrets {secrets:?} (values not shown)");
}

fn parse_app(id: &str) -> Result<ApplicationId, Error> {
    id.parse()
        .map_err(|e| Error::Usage(format!("{id:?} is not a YARN application id ({e})")))
}

/// `spindle status <appId> [--json]`.
pub(crate) fn status(a: &cli::Status) -> Result<i32, Error> {
    let app = parse_app(&a.app_id)?;
    let cluster = Cluster::from_env()?;
    let rt = runtime()?;
    let r = rt.block_on(cluster.rest.app(app))?;
    let base = cluster.rest.active_base();
    // Waiting for its AM: the queue's numbers too (best effort).
    let queue = if waiting::explain(&r, None).is_some() {
        rt.block_on(cluster.rest.scheduler_queue(&r.queue))
            .ok()
            .flatten()
    } else {
        None
    };
    let why = waiting::explain(&r, queue.as_ref());
    if a.json {
        println!("{}", to_json(&report::AppJson::new(&r, base, why))?);
    } else {
        print!("{}", report::describe(&r, base, why.as_deref()));
    }
    Ok(0)
}

fn to_json(v: &impl serde::Serialize) -> Result<String, Error> {
    serde_json::to_string_pretty(v).map_err(|e| Error::Usage(format!("writing JSON: {e}")))
}

/// `spindle list`: the RM's applications, filtered by the RM (states, queue, user, tags,
/// type) and again here (type and tags, whatever the RM's version does with them), the most
/// recent first.
pub(crate) fn list(l: &cli::List) -> Result<i32, Error> {
    let states = report::parse_states(&l.state)?;
    let tags: Vec<String> = l
        .tags
        .iter()
        .map(|t| t.trim().to_lowercase())
        .filter(|t| !t.is_empty())
        .collect();
    let cluster = Cluster::from_env()?;
    let filter = AppsFilter {
        states,
        user: l.user.clone(),
        queue: l.queue.clone(),
        application_types: if l.all {
            Vec::new()
        } else {
            vec![launch::APPLICATION_TYPE.to_string()]
        },
        application_tags: tags.clone(),
        ..AppsFilter::default()
    };
    let rt = runtime()?;
    let mut apps = rt.block_on(cluster.rest.apps(&filter))?;
    apps.retain(|a| {
        (l.all
            || a.application_type
                .eq_ignore_ascii_case(launch::APPLICATION_TYPE))
            && (tags.is_empty()
                || a.application_tags
                    .iter()
                    .any(|t| tags.contains(&t.to_lowercase())))
            && (filter.states.is_empty() || filter.states.contains(&a.state))
    });
    apps.sort_by(|a, b| b.start_time.cmp(&a.start_time).then(b.id.cmp(&a.id)));
    if let Some(n) = l.limit {
        apps.truncate(n as usize);
    }
    let base = cluster.rest.active_base();
    if l.json {
        // One look at the scheduler's queues explains every application waiting for its AM.
        let mut queues = std::collections::HashMap::new();
        for a in apps.iter().filter(|a| waiting::explain(a, None).is_some()) {
            if !queues.contains_key(&a.queue) {
                let q = rt
                    .block_on(cluster.rest.scheduler_queue(&a.queue))
                    .ok()
                    .flatten();
                queues.insert(a.queue.clone(), q);
            }
        }
        let all: Vec<report::AppJson> = apps
            .iter()
            .map(|a| {
                let q = queues.get(&a.queue).and_then(Option::as_ref);
                report::AppJson::new(a, base, waiting::explain(a, q))
            })
            .collect();
        println!("{}", to_json(&all)?);
    } else {
        print!("{}", report::table(&apps));
    }
    Ok(0)
}

/// `spindle kill <appId>`: kills it, waits for KILLED, removes its staging directory.
pub(crate) fn kill(id: &str) -> Result<i32, Error> {
    let app = parse_app(id)?;
    let cluster = Cluster::from_env()?;
    runtime()?.block_on(async {
        let report = cluster.rest.app(app).await?;
        if report.state.is_final() {
            eprintln!(
                "spindle: {app} already ended: {} (final status {:?})",
                report.state.as_str(),
                report.final_status
            );
        } else {
            let state = cluster.rest.kill(app).await?;
            eprintln!("spindle: killed {app}: {}", state.as_str());
        }
        remove_staging(&cluster, &report.user, app).await;
        Ok(0)
    })
}

/// Removes an application's staging directory (the AM does too; whoever is
/// first wins), reporting only failures.
pub(crate) async fn remove_staging(cluster: &Cluster, user: &str, app: ApplicationId) {
    let user = if user.is_empty() { None } else { Some(user) };
    let result = match cluster.staging(user) {
        Ok(s) => s.remove_app_dir(app).await.map_err(Error::from),
        Err(e) => Err(e),
    };
    if let Err(e) = result {
        tracing::warn!("could not remove the staging directory of {app}: {e}");
    }
}

/// `spindle logs <appId>`.
pub(crate) fn logs(l: &cli::Logs) -> Result<i32, Error> {
    let app = parse_app(&l.app_id)?;
    let cluster = Cluster::from_env()?;
    let selection = logs::Selection {
        container: l.container.clone(),
        am: l.am,
        files: l.log_files.clone(),
        tail: l.tail,
    };
    if l.follow {
        runtime()?.block_on(follow::follow(&cluster, app, &selection))
    } else {
        runtime()?.block_on(logs::print_logs(&cluster, app, &selection))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn the_host_of_a_file_system_uri() {
        assert_eq!(host_of_uri("hdfs://localhost:8020"), Some("localhost"));
        assert_eq!(host_of_uri("hdfs://namenode:8020/"), Some("namenode"));
        assert_eq!(host_of_uri("hdfs://nameservice1"), Some("nameservice1"));
        assert_eq!(host_of_uri("hdfs://[::1]:8020/x"), Some("::1"));
        assert_eq!(host_of_uri("hdfs:///x"), None);
        assert_eq!(host_of_uri("file:/x"), None);
    }

    #[test]
    fn loopback_hosts() {
        assert!(is_loopback("localhost"));
        assert!(is_loopback("127.0.0.1"));
        assert!(!is_loopback("10.89.0.2"));
        assert!(!is_loopback("no-such-host.invalid"));
    }

    fn parse(args: &[&str]) -> Result<YarnSubmit, Error> {
        let mut argv = vec!["spindle", "submit", "--master", "yarn"];
        argv.extend_from_slice(args);
        let cli = cli::Cli::try_parse_from(argv).unwrap();
        match cli.command {
            cli::Command::Submit(s) => YarnSubmit::from_cli(&s),
            _ => unreachable!(),
        }
    }

    fn exe() -> String {
        std::env::current_exe().unwrap().display().to_string()
    }

    #[test]
    fn flags_mean_what_spark_submits_mean() {
        let me = exe();
        let o = parse(&[
            "--deploy-mode",
            "cluster",
            "--name",
            "wc",
            "--queue",
            "q1",
            "--num-executors",
            "3",
            "--executor-cores",
            "2",
            "--executor-memory",
            "2g",
            "--driver-memory",
            "512m",
            "--driver-cores",
            "2",
            "--conf",
            "a.b=c=d",
            "--max-app-attempts",
            "1",
            "--tags",
            "x,y",
            "--priority",
            "5",
            &me,
            "in",
            "--out",
            "o p",
        ])
        .unwrap();
        assert_eq!(o.name, "wc");
        assert_eq!(o.queue.as_deref(), Some("q1"));
        assert_eq!((o.num_executors, o.executor_cores), (3, 2));
        assert_eq!((o.executor_memory_mb, o.executor_overhead_mb), (2048, 384));
        assert_eq!(
            o.am_resource(),
            Resource {
                memory_mb: 512 + 384,
                vcores: 2
            }
        );
        assert_eq!(o.conf.get("a.b").map(String::as_str), Some("c=d"));
        assert_eq!(o.max_app_attempts, Some(1));
        assert_eq!(o.tags, vec!["x", "y"]);
        assert_eq!(o.priority, Some(5));
        assert_eq!(o.args, vec!["in", "--out", "o p"]);
    }

    #[test]
    fn bad_flags_are_one_line_errors() {
        let me = exe();
        let e = parse(&["--executor-memory", "lots", &me])
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("--executor-memory") && e.contains("lots"), "{e}");
        let e = parse(&["--conf", "novalue", &me])
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("KEY=VALUE"), "{e}");
        let e = parse(&["--files", "/nonexistent/x.csv", &me])
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("/nonexistent/x.csv"), "{e}");
        let e = parse(&["--deploy-mode", "both", &me])
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("--deploy-mode"), "{e}");
        let e = parse(&["/nonexistent/driver"]).err().unwrap().to_string();
        assert!(e.contains("/nonexistent/driver"), "{e}");
        let e = parse(&["--conf", "spindle.executor.memoryOverhead=x", &me])
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("memoryOverhead"), "{e}");
    }

    #[test]
    fn oversized_containers_name_the_flag() {
        let o = parse(&["--executor-memory", "8g", &exe()]).unwrap();
        let e = o
            .check_fits(Resource {
                memory_mb: 4096,
                vcores: 4,
            })
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("--executor-memory") && e.contains("9011") && e.contains("4096"),
            "{e}"
        );
        let o = parse(&["--executor-cores", "8", &exe()]).unwrap();
        let e = o
            .check_fits(Resource {
                memory_mb: 8192,
                vcores: 4,
            })
            .unwrap_err()
            .to_string();
        assert!(e.contains("--executor-cores"), "{e}");
        assert!(
            parse(&[&exe()])
                .unwrap()
                .check_fits(Resource {
                    memory_mb: 8192,
                    vcores: 4
                })
                .is_ok()
        );
    }
}
