//! The driver's `Context`: starts the driver service and the executors,
//! creates datasets, and runs jobs.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use spindle_proto::spindle::driver_server::DriverServer;
use tokio::runtime::Runtime;

use crate::auth::Secret;
use crate::backend::{ClusterBackend, ExecutorLaunch, LocalBackend};
use crate::broadcast::Broadcast;
use crate::dataset::Dataset;
use crate::driver_rpc::{Blobs, DriverService, Registry};
use crate::entry::SinkRef;
use crate::graph::NodeDef;
use crate::ops::source;
use crate::scheduler::Scheduler;
use crate::{Data, Error, Result, codec, env};

/// Executors silent for this long are declared lost.
const HEARTBEAT_TIMEOUT: Duration = Duration::from_secs(10);

thread_local! {
    /// The job group of jobs started from this thread (`set_job_group`).
    static JOB_GROUP: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// The entry point of a driver program: makes datasets and runs their jobs.
/// Cheap to clone; the executors stop when the last clone is dropped.
#[derive(Clone)]
pub struct Context {
    inner: Arc<Inner>,
}

struct Inner {
    rt: Runtime,
    sched: Arc<Scheduler>,
    blobs: Arc<Blobs>,
    backend: Arc<dyn ClusterBackend>,
    next_node: AtomicU32,
    next_shuffle: AtomicU32,
    next_blob: AtomicU64,
    parallelism: u32,
    /// Where checkpoints go: the directory given, then one of this context's own.
    checkpoint_dir: Mutex<Option<String>>,
    shutdown: Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.backend.stop();
        if let Some(tx) = self.shutdown.lock().expect("shutdown").take() {
            let _ = tx.send(());
        }
    }
}

/// Settings for executors started by a backend.
#[derive(Clone, Debug)]
pub struct ExecutorSettings {
    /// Task slots per executor.
    pub cores: u32,
    /// Memory for cached partitions, in MiB.
    pub cache_mb: u64,
    /// Memory for shuffle buffers before spilling, in MiB.
    pub shuffle_mb: u64,
}

impl ExecutorSettings {
    /// From SPINDLE_EXECUTOR_CORES, SPINDLE_CACHE_MEMORY_MB, SPINDLE_SHUFFLE_MEMORY_MB.
    pub fn from_env() -> Result<Self> {
        use spindle_contract::settings;
        Ok(ExecutorSettings {
            cores: env::count(&settings::EXECUTOR_CORES)?.max(1) as u32,
            cache_mb: env::count(&settings::CACHE_MEMORY_MB)?,
            shuffle_mb: env::count(&settings::SHUFFLE_MEMORY_MB)?,
        })
    }
}

/// The engine's settings: the `--conf` pairs `spindle submit` gave this
/// driver (`SPINDLE_CONF`), then their variables, then the registry's defaults.
struct EngineConf {
    locality_wait: Duration,
    /// Whether the application's connections are encrypted (they are
    /// authenticated either way).
    encryption: bool,
}

fn engine_conf() -> Result<EngineConf> {
    use spindle_contract::{Conf, settings};
    let config = |e: spindle_contract::Error| Error::Config(e.to_string());
    let conf = Conf::from_env().map_err(config)?;
    for w in conf.warnings() {
        tracing::warn!("{w}");
    }
    Ok(EngineConf {
        locality_wait: conf
            .duration(&settings::LOCALITY_WAIT)
            .map_err(config)?
            .unwrap_or_default(),
        encryption: conf
            .bool(&settings::NETWORK_CRYPTO_ENABLED)
            .map_err(config)?
            .unwrap_or(true),
    })
}

impl Context {
    /// A context for the master in `SPINDLE_MASTER` (default `local[2]`).
    pub fn from_env() -> Result<Context> {
        let master = spindle_contract::Conf::default()
            .text(&spindle_contract::settings::MASTER)
            .unwrap_or_default();
        let n = env::parse_local_master(&master)?;
        Context::local(n)
    }

    /// A context with `executors` local executor processes. SIGINT and
    /// SIGTERM cancel the running jobs, stop the executors and end the
    /// process (status 130 or 143).
    pub fn local(executors: u32) -> Result<Context> {
        let ctx =
            Context::with_backend("127.0.0.1", ExecutorSettings::from_env()?, move |launch| {
                let b = LocalBackend::new(executors, launch)?;
                b.request_executors(executors)?;
                Ok(Arc::new(b) as Arc<dyn ClusterBackend>)
            })?;
        ctx.stop_on_signals()?;
        Ok(ctx)
    }

    /// Registers this context with the process's SIGINT/SIGTERM watcher.
    fn stop_on_signals(&self) -> Result<()> {
        signals::watch()?;
        signals::register(
            Arc::downgrade(&self.inner.sched),
            Arc::downgrade(&self.inner.backend),
        );
        Ok(())
    }

    /// A context whose executors come from `make_backend`, given what each
    /// executor must be told. The driver service listens on `bind_host`.
    pub fn with_backend(
        bind_host: &str,
        settings: ExecutorSettings,
        make_backend: impl FnOnce(ExecutorLaunch) -> Result<Arc<dyn ClusterBackend>>,
    ) -> Result<Context> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("spindle-driver")
            .enable_all()
            .build()
            .map_err(|e| Error::io("starting the driver runtime", e))?;
        let engine = engine_conf()?;
        let secret = Secret::generate();
        let end = crate::backend::EndNotice::default();
        let security = crate::net::Security::new(&secret, engine.encryption)?;
        let registry = Registry::new();
        let blobs: Arc<Blobs> = Default::default();
        let sched = Arc::new(Scheduler::new(registry.clone()));
        sched.set_locality_wait(engine.locality_wait);
        let listener = rt
            .block_on(tokio::net::TcpListener::bind((bind_host, 0)))
            .map_err(|e| Error::io(format!("binding the driver service on {bind_host}"), e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::io("driver address", e))?;
        let own_sha: Arc<tokio::sync::OnceCell<Vec<u8>>> = Default::default();
        {
            // Hash our executable while the executors start.
            let own_sha = own_sha.clone();
            rt.spawn(async move {
                let _ = own_sha
                    .get_or_try_init(|| async {
                        tokio::task::spawn_blocking(crate::driver_rpc::executable_sha256)
                            .await
                            .map_err(|e| Error::Task(e.to_string()))?
                    })
                    .await;
            });
        }
        let service = DriverService {
            registry: registry.clone(),
            blobs: blobs.clone(),
            own_sha,
            security: security.clone(),
            end: end.clone(),
            progress: sched.progress.clone(),
        };
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server = DriverServer::new(service)
            .max_decoding_message_size(crate::net::MAX_MESSAGE)
            .max_encoding_message_size(crate::net::MAX_MESSAGE);
        let incoming = {
            let _guard = rt.enter();
            crate::net::incoming(listener, security.clone())
        };
        rt.spawn(async move {
            let r = tonic::transport::Server::builder()
                .tcp_nodelay(true)
                .add_service(server)
                .serve_with_incoming_shutdown(incoming, async {
                    let _ = rx.await;
                })
                .await;
            if let Err(e) = r {
                tracing::warn!("driver service stopped: {e}");
            }
        });
        {
            let blobs = blobs.clone();
            crate::broadcast::set_source(move |id| {
                blobs
                    .get(id, 0)
                    .ok_or_else(|| Error::Task(format!("no broadcast {id}")))
            });
        }
        let launch = ExecutorLaunch {
            driver_url: format!("{}://{addr}", crate::net::scheme(engine.encryption)),
            secret,
            cores: settings.cores,
            cache_mb: settings.cache_mb,
            shuffle_mb: settings.shuffle_mb,
            end,
        };
        let backend = {
            let _guard = rt.enter();
            make_backend(launch)?
        };
        sched.set_backend(backend.clone());
        if let Some(dynamic) = backend.dynamic_allocation() {
            rt.spawn(sched.clone().run_allocation(dynamic, settings.cores));
        }
        {
            // Executors that stop heartbeating are lost.
            let sched = sched.clone();
            rt.spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_secs(2)).await;
                    for id in sched.registry.silent(HEARTBEAT_TIMEOUT) {
                        sched.executor_lost(&id, "no heartbeat");
                    }
                }
            });
        }
        let parallelism = backend.default_parallelism();
        Ok(Context {
            inner: Arc::new(Inner {
                rt,
                sched,
                blobs,
                backend,
                next_node: AtomicU32::new(0),
                next_shuffle: AtomicU32::new(0),
                next_blob: AtomicU64::new(0),
                parallelism,
                checkpoint_dir: Mutex::new(None),
                shutdown: Mutex::new(Some(tx)),
            }),
        })
    }

    pub(crate) fn next_node_id(&self) -> u32 {
        self.inner.next_node.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn next_shuffle_id(&self) -> u32 {
        self.inner.next_shuffle.fetch_add(1, Ordering::Relaxed)
    }

    fn put_blob(&self, parts: Vec<Vec<u8>>) -> u64 {
        let id = self.inner.next_blob.fetch_add(1, Ordering::Relaxed);
        self.inner.blobs.put(id, parts);
        id
    }

    /// Partitions for shuffles when none is named: the executors' total cores.
    pub fn default_parallelism(&self) -> u32 {
        self.inner.parallelism
    }

    /// The cluster backend (local processes, or YARN containers).
    pub fn backend(&self) -> &Arc<dyn ClusterBackend> {
        &self.inner.backend
    }

    /// How a cluster backend tells the scheduler that an executor is gone
    /// (its container ended), sooner than the heartbeat timeout would.
    pub fn executor_lost_reporter(&self) -> crate::backend::LostReporter {
        let sched = Arc::downgrade(&self.inner.sched);
        Arc::new(move |id, why| {
            if let Some(s) = sched.upgrade() {
                s.executor_lost(id, why);
            }
        })
    }

    /// Starts writing this application's event log (`spindle.eventLog.*` of
    /// the `--conf` pairs in `SPINDLE_CONF`; on by default), for `spindle
    /// history`. `None` when turned off. The driver's entry points call this;
    /// a context made in code (tests) writes no log unless asked.
    pub fn start_event_log(
        &self,
        info: crate::eventlog::AppInfo,
    ) -> Result<Option<Arc<crate::eventlog::EventLog>>> {
        let conf = spindle_contract::Conf::from_env().map_err(|e| Error::Config(e.to_string()))?;
        crate::eventlog::start(&self.inner.sched.progress.events, info, &conf)
    }

    /// How a cluster backend tells the scheduler that the cluster wants an
    /// executor's resources back (YARN preemption, or its node is
    /// decommissioning: `decommissioning`): no new tasks go there, its
    /// shuffle output moves to executors that stay, then it is released
    /// through [`ClusterBackend::release_executor`].
    pub fn executor_preemption_reporter(&self) -> crate::backend::PreemptionReporter {
        let sched = Arc::downgrade(&self.inner.sched);
        let rt = self.inner.rt.handle().clone();
        Arc::new(move |id, decommissioning| {
            if let Some(s) = sched.upgrade() {
                let why = if decommissioning {
                    crate::scheduler::Removal::Decommissioning
                } else {
                    crate::scheduler::Removal::Preempted
                };
                rt.spawn(s.preempt_executor(id.to_string(), why));
            }
        })
    }

    /// What dynamic allocation and preemption did so far (for dashboards).
    pub fn elastic_stats(&self) -> crate::backend::ElasticStats {
        self.inner.sched.elastic_stats()
    }

    /// Jobs and stages so far, with task counts (for dashboards).
    pub fn progress(&self) -> crate::progress::Snapshot {
        self.inner.sched.progress.snapshot()
    }

    /// Hands every executor new delegation tokens (a Hadoop token storage
    /// file) over the application's own authenticated channel, and keeps them
    /// for executors that register later. Resolves to how many executors
    /// took them and the failures, each one line.
    pub fn update_tokens(&self, tokens: Vec<u8>) -> tokio::task::JoinHandle<(usize, Vec<String>)> {
        let registry = self.inner.sched.registry.clone();
        self.inner.rt.spawn(async move {
            registry.set_tokens(tokens.clone());
            let calls = registry.clients().into_iter().map(|(id, mut client)| {
                let tokens = tokens.clone();
                async move {
                    let r = tokio::time::timeout(
                        Duration::from_secs(10),
                        client.update_tokens(spindle_proto::spindle::TokensUpdate { tokens }),
                    )
                    .await;
                    match r {
                        Ok(Ok(_)) => Ok(()),
                        Ok(Err(s)) => Err(format!("executor {id}: {}", s.message())),
                        Err(_) => Err(format!("executor {id}: no answer within 10 s")),
                    }
                }
            });
            let results = futures::future::join_all(calls).await;
            let ok = results.iter().filter(|r| r.is_ok()).count();
            (ok, results.into_iter().filter_map(|r| r.err()).collect())
        })
    }

    /// Number of executors registered right now.
    pub fn executor_count(&self) -> u32 {
        self.inner.sched.registry.total_cores()
    }

    pub(crate) fn run_job(
        &self,
        name: &str,
        root: &Arc<NodeDef>,
        sink: SinkRef,
        params: Vec<u8>,
        partitions: Vec<u32>,
    ) -> Result<Vec<Vec<u8>>> {
        let group = JOB_GROUP.with(|g| g.borrow().clone());
        self.inner.rt.block_on(
            self.inner
                .sched
                .run_job(name, group, root, sink, params, partitions),
        )
    }

    /// Jobs started from this thread from now on belong to `group` (until
    /// [`Context::clear_job_group`]), so [`Context::cancel_job_group`] can
    /// cancel them from another thread, as Spark's `setJobGroup`.
    pub fn set_job_group(&self, group: &str) {
        JOB_GROUP.with(|g| *g.borrow_mut() = Some(group.to_string()));
    }

    /// Jobs started from this thread belong to no group again.
    pub fn clear_job_group(&self) {
        JOB_GROUP.with(|g| *g.borrow_mut() = None);
    }

    /// Cancels the running jobs of `group`: their actions return
    /// [`Error::Cancelled`], their tasks are told to stop, and a cancelled
    /// save leaves no output. Returns how many jobs were cancelled.
    pub fn cancel_job_group(&self, group: &str) -> usize {
        self.inner
            .sched
            .cancel_group(group, &format!("job group {group} was cancelled"))
    }

    /// Cancels every running job (from any thread); the context stays
    /// usable for the next job. Returns how many jobs were cancelled.
    pub fn cancel_all_jobs(&self) -> usize {
        self.inner.sched.cancel_all("all jobs were cancelled")
    }

    /// How long a stage waits for a slot at a locality level before it runs
    /// tasks less locally (`spindle.locality.wait`).
    pub fn set_locality_wait(&self, wait: Duration) {
        self.inner.sched.set_locality_wait(wait);
    }

    /// A dataset of `data` split into `partitions` slices.
    pub fn parallelize<T: Data>(&self, data: Vec<T>, partitions: u32) -> Dataset<T> {
        let partitions = partitions.max(1);
        let n = data.len();
        let mut it = data.into_iter();
        let mut slices = Vec::with_capacity(partitions as usize);
        for i in 0..partitions as usize {
            let lo = n * i / partitions as usize;
            let hi = n * (i + 1) / partitions as usize;
            let part: Vec<T> = it.by_ref().take(hi - lo).collect();
            slices.push(codec::encode(&part));
        }
        let blob_id = self.put_blob(slices);
        Dataset::new_node(
            self,
            "parallelize",
            source::compute_parallelize::<T>,
            codec::encode(&source::BlobParams { blob_id }),
            Vec::new(),
            partitions,
        )
    }

    /// The numbers `start..end` in `partitions` partitions.
    pub fn range(&self, start: u64, end: u64, partitions: u32) -> Dataset<u64> {
        let partitions = partitions.max(1);
        Dataset::new_node(
            self,
            "range",
            source::compute_range,
            codec::encode(&source::RangeParams {
                start,
                end,
                partitions,
            }),
            Vec::new(),
            partitions,
        )
    }

    /// The lines of text files, as Hadoop's `TextInputFormat` reads them:
    /// `path` is a file, a directory (its files; names starting with `_` or
    /// `.` skipped), a pattern (`*`, `?`, `[a-z]`, `{a,b}`), or a
    /// comma-separated list of these; `hdfs://`, `file://`, or without a
    /// scheme in `fs.defaultFS`. Files are split by block size into at least
    /// `min_partitions` partitions (default: the default parallelism, at
    /// least 2); compressed files (`.gz`, `.bz2`, `.snappy`, `.lz4`,
    /// `.deflate`, `.zst`; see [`Codec`](crate::io::Codec)) are decompressed
    /// as they are read, one partition each.
    pub fn text_file(&self, path: &str, min_partitions: Option<u32>) -> Result<Dataset<String>> {
        let min = min_partitions.unwrap_or(self.default_parallelism().max(2));
        let path = path.to_string();
        self.split_source("text_file", source::compute_text_file, move || {
            crate::io::plan_splits(&path, min)
        })
    }

    /// The records of Hadoop SequenceFiles (what `SequenceFile.Writer`
    /// writes: uncompressed, record- or block-compressed with any codec of
    /// [`Codec`](crate::io::Codec)), keys and values as `Text` (`String`) or
    /// `BytesWritable` (`Vec<u8>`); `path` as for [`text_file`](Self::text_file).
    /// A file is one partition (Hadoop would split at sync markers); a file
    /// whose classes are not `K`'s and `V`'s fails its task naming both.
    pub fn sequence_file<K: crate::io::Writable, V: crate::io::Writable>(
        &self,
        path: &str,
    ) -> Result<Dataset<(K, V)>> {
        let path = path.to_string();
        self.split_source(
            "sequence_file",
            source::compute_sequence_file::<K, V>,
            move || crate::io::plan_file_splits(&path),
        )
    }

    /// The rows of Parquet files as records of `T`, a struct whose fields
    /// name the columns to read (the others are never decoded; an `Option`
    /// field may be missing from a file and reads as `None`); `path` as for
    /// [`text_file`](Self::text_file). A partition is a row group, or a run
    /// of consecutive small row groups of one file up to the split size
    /// `text_file` uses (the block size, smaller to reach `min_partitions`),
    /// and prefers the DataNodes holding its bytes. Reads every file's footer
    /// now: a file that is not Parquet, or lacks a column `T` needs, is an
    /// error naming it.
    ///
    /// ```no_run
    /// # fn f(ctx: &spindle_core::Context) -> spindle_core::Result<()> {
    /// #[derive(Clone, serde::Serialize, serde::Deserialize)]
    /// struct Visit {
    ///     url: String,
    ///     ms: u64,
    ///     referrer: Option<String>,
    /// }
    /// let visits = ctx.parquet_file::<Visit>("hdfs:///warehouse/visits", None)?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "columnar")]
    pub fn parquet_file<T: Data>(
        &self,
        path: &str,
        min_partitions: Option<u32>,
    ) -> Result<Dataset<T>> {
        let min = min_partitions.unwrap_or(self.default_parallelism().max(2));
        let path = path.to_string();
        self.split_source("parquet_file", source::compute_parquet::<T>, move || {
            crate::io::parquet_file::plan_splits::<T>(&path, min)
        })
    }

    /// The records of CSV files with a header line, as `T` (a struct whose
    /// fields are the columns, in the header's order: checked); split,
    /// decompressed and placed as [`text_file`](Self::text_file) does. A
    /// record may not span lines; blank lines are skipped. A row that does not
    /// fit (wrong number of columns, a value of the wrong type) fails the job
    /// naming the file, the byte offset of its line and, where known, its
    /// line number.
    #[cfg(feature = "columnar")]
    pub fn csv_file<T: Data>(&self, path: &str, min_partitions: Option<u32>) -> Result<Dataset<T>> {
        let min = min_partitions.unwrap_or(self.default_parallelism().max(2));
        let path = path.to_string();
        self.split_source("csv_file", source::compute_csv::<T>, move || {
            crate::io::plan_splits(&path, min)
        })
    }

    /// The records of JSON-lines files (one object per line, as Spark's
    /// `read.json` reads by default) as `T`, fields matched by name (other
    /// keys ignored, a missing `Option` field `None`); otherwise as
    /// [`csv_file`](Self::csv_file).
    #[cfg(feature = "columnar")]
    pub fn json_file<T: Data>(
        &self,
        path: &str,
        min_partitions: Option<u32>,
    ) -> Result<Dataset<T>> {
        let min = min_partitions.unwrap_or(self.default_parallelism().max(2));
        let path = path.to_string();
        self.split_source("json_file", source::compute_json::<T>, move || {
            crate::io::plan_splits(&path, min)
        })
    }

    /// A source of one partition per split that `plan` makes (off the
    /// runtime's threads: listing files and block locations blocks), each
    /// partition preferring its split's hosts.
    fn split_source<T: Data>(
        &self,
        name: &'static str,
        compute: crate::entry::ComputeFn,
        plan: impl FnOnce() -> Result<Vec<crate::io::Split>> + Send + 'static,
    ) -> Result<Dataset<T>> {
        let splits = self.inner.rt.block_on(async {
            tokio::task::spawn_blocking(plan)
                .await
                .map_err(|e| Error::Task(e.to_string()))?
        })?;
        let num_partitions = splits.len() as u32;
        let hosts: Vec<Vec<String>> = splits.iter().map(|s| s.hosts.clone()).collect();
        let ds = Dataset::new_node(
            self,
            name,
            compute,
            codec::encode(&source::TextParams { splits }),
            Vec::new(),
            num_partitions,
        );
        self.set_node_hosts(ds.node.id, hosts);
        Ok(ds)
    }

    /// Where each partition of a source node prefers to run (its splits' DataNodes).
    pub(crate) fn set_node_hosts(&self, node_id: u32, hosts: Vec<Vec<String>>) {
        self.inner.sched.set_node_hosts(node_id, hosts);
    }

    /// Ships `value` to the executors once; use it through `map_with`.
    pub fn broadcast<T: Data>(&self, value: &T) -> Broadcast<T> {
        Broadcast::new(self.put_blob(vec![codec::encode(value)]))
    }

    /// Sets where `Dataset::checkpoint` writes (a local directory or an
    /// `hdfs://` URL): each context writes under a new subdirectory of it,
    /// which it leaves behind (remove it when done, as with Spark's).
    pub fn set_checkpoint_dir(&self, dir: &str) {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let own = format!(
            "{}/spindle-{:x}-{nanos:x}",
            dir.trim_end_matches('/'),
            std::process::id()
        );
        *self.inner.checkpoint_dir.lock().expect("checkpoint dir") = Some(own);
    }

    pub(crate) fn checkpoint_dir(&self) -> Option<String> {
        self.inner
            .checkpoint_dir
            .lock()
            .expect("checkpoint dir")
            .clone()
    }

    pub(crate) fn unpersist_node(&self, node_id: u32) {
        self.inner.rt.block_on(self.inner.sched.unpersist(node_id));
    }

    /// Each file of `path` (a file or a directory, as `text_file` lists it)
    /// as one record (file path, content), read whole: runs of files of
    /// about equal bytes, in name order, make at most `partitions`
    /// partitions (default: the default parallelism). A file that is not
    /// UTF-8 fails the job naming it.
    pub fn whole_text_files(
        &self,
        path: &str,
        partitions: Option<u32>,
    ) -> Result<Dataset<(String, String)>> {
        self.whole_files::<String>("whole_text_files", path, partitions)
    }

    /// Like [`Context::whole_text_files`], with each file's bytes.
    pub fn binary_files(
        &self,
        path: &str,
        partitions: Option<u32>,
    ) -> Result<Dataset<(String, Vec<u8>)>> {
        self.whole_files::<Vec<u8>>("binary_files", path, partitions)
    }

    fn whole_files<C: source::WholeFile>(
        &self,
        name: &'static str,
        path: &str,
        partitions: Option<u32>,
    ) -> Result<Dataset<(String, C)>> {
        let files = self.inner.rt.block_on(async {
            let path = path.to_string();
            tokio::task::spawn_blocking(move || crate::io::input_files(&path))
                .await
                .map_err(|e| Error::Task(e.to_string()))?
        })?;
        let n = partitions
            .unwrap_or(self.default_parallelism())
            .clamp(1, files.len().max(1) as u32) as usize;
        // Contiguous runs of files of about equal bytes, in name order.
        let total: u64 = files.iter().map(|f| f.1.max(1)).sum();
        let mut parts: Vec<Vec<String>> = vec![Vec::new(); n];
        let mut seen = 0u64;
        for (f, len) in files {
            let by_bytes = (seen * n as u64 / total.max(1)) as usize;
            parts[by_bytes.min(n - 1)].push(f);
            seen += len.max(1);
        }
        parts.retain(|p| !p.is_empty());
        if parts.is_empty() {
            parts.push(Vec::new());
        }
        let num_partitions = parts.len() as u32;
        Ok(Dataset::new_node(
            self,
            name,
            source::compute_whole_files::<C>,
            codec::encode(&source::WholeFilesParams { files: parts }),
            Vec::new(),
            num_partitions,
        ))
    }

    /// A new accumulator starting at `initial`: pass it to tasks as a
    /// `map_with` parameter, add to it there, read it here after an action.
    /// Each partition's updates count once, however often its task runs.
    pub fn accumulator<T: crate::Accumulable>(&self, initial: T) -> crate::Accumulator<T> {
        crate::Accumulator::register(initial)
    }

    /// Stops the executors now (they also stop when the context is dropped).
    pub fn stop(&self) {
        self.inner.backend.stop();
    }
}

/// SIGINT and SIGTERM in a local-mode driver: one watcher thread per
/// process (installed with the first local context, so it outlives any one
/// context: with no context alive a signal just ends the process, as by
/// default). On a signal it cancels every live context's jobs, lets them
/// clean up (a cancelled save removes its output), stops their executors
/// and exits with 130 (SIGINT) or 143 (SIGTERM).
mod signals {
    use std::sync::{Mutex, OnceLock, Weak};
    use std::time::{Duration, Instant};

    use crate::backend::ClusterBackend;
    use crate::scheduler::Scheduler;
    use crate::{Error, Result};

    type Live = (Weak<Scheduler>, Weak<dyn ClusterBackend>);
    static LIVE: Mutex<Vec<Live>> = Mutex::new(Vec::new());
    static WATCHER: OnceLock<std::result::Result<(), String>> = OnceLock::new();

    pub(super) fn register(sched: Weak<Scheduler>, backend: Weak<dyn ClusterBackend>) {
        let mut live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
        live.retain(|(s, _)| s.strong_count() > 0);
        live.push((sched, backend));
    }

    pub(super) fn watch() -> Result<()> {
        WATCHER
            .get_or_init(|| {
                let (tx, rx) = std::sync::mpsc::channel();
                std::thread::Builder::new()
                    .name("spindle-signals".into())
                    .spawn(move || run(tx))
                    .map_err(|e| format!("starting the signal watcher: {e}"))?;
                rx.recv()
                    .unwrap_or_else(|_| Err("the signal watcher did not start".into()))
            })
            .clone()
            .map_err(Error::Config)
    }

    fn run(ready: std::sync::mpsc::Sender<std::result::Result<(), String>>) {
        use tokio::signal::unix::{SignalKind, signal};
        let rt = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => {
                let _ = ready.send(Err(format!("the signal watcher's runtime: {e}")));
                return;
            }
        };
        let (name, code) = rt.block_on(async {
            let int = signal(SignalKind::interrupt());
            let term = signal(SignalKind::terminate());
            let (mut int, mut term) = match (int, term) {
                (Ok(i), Ok(t)) => (i, t),
                (Err(e), _) | (_, Err(e)) => {
                    let _ = ready.send(Err(format!("installing SIGINT/SIGTERM handlers: {e}")));
                    return std::future::pending().await;
                }
            };
            let _ = ready.send(Ok(()));
            tokio::select! {
                _ = int.recv() => ("SIGINT", 130),
                _ = term.recv() => ("SIGTERM", 143),
            }
        });
        let live: Vec<Live> = LIVE.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let scheds: Vec<_> = live.iter().filter_map(|(s, _)| s.upgrade()).collect();
        if !scheds.is_empty() {
            tracing::info!("{name}: cancelling the running jobs and stopping the executors");
            for s in &scheds {
                s.cancel_all(&format!("the driver received {name}"));
            }
            let deadline = Instant::now() + Duration::from_secs(8);
            while scheds.iter().any(|s| s.running_jobs() > 0) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            // The action that was cancelled removes its partial output.
            std::thread::sleep(Duration::from_millis(300));
        }
        drop(scheds);
        for (_, b) in &live {
            if let Some(b) = b.upgrade() {
                b.stop();
            }
        }
        std::process::exit(code);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A backend that starts nothing (no executor is needed here).
    struct NoExecutors;
    impl ClusterBackend for NoExecutors {
        fn request_executors(&self, _: u32) -> Result<()> {
            Ok(())
        }
        fn executor_lost(&self, _: &str) {}
        fn stop(&self) {}
        fn default_parallelism(&self) -> u32 {
            2
        }
    }

    #[test]
    fn nothing_runs_nothing_is_cancelled() {
        let settings = ExecutorSettings {
            cores: 1,
            cache_mb: 1,
            shuffle_mb: 1,
        };
        let ctx =
            Context::with_backend("127.0.0.1", settings, |_| Ok(Arc::new(NoExecutors))).unwrap();
        ctx.set_locality_wait(Duration::from_secs(2));
        assert_eq!(ctx.inner.sched.locality_wait(), Duration::from_secs(2));
        assert_eq!(ctx.cancel_all_jobs(), 0);
        assert_eq!(ctx.cancel_job_group("g"), 0);
    }
}
