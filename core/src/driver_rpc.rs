//! The driver's gRPC service (registration, heartbeats, blobs) and its
//! registry of executors with their free task slots.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use spindle_proto::spindle::driver_server::Driver;
use spindle_proto::spindle::executor_client::ExecutorClient;
use spindle_proto::spindle::{
    AppEnd, AwaitEndRequest, BlobReply, BlobRequest, HeartbeatReply, HeartbeatRequest, LogAck,
    LogChunk, LogChunks, ReadLogsRequest, RegisterReply, RegisterRequest,
};
use tokio::sync::watch;
use tonic::transport::Channel;
use tonic::{Request, Response, Status};

use crate::Error;
use crate::net::Security;

/// A client of one executor's service, over an authenticated channel.
pub(crate) type ExecClient = ExecutorClient<Channel>;

/// A registered executor.
pub(crate) struct ExecutorInfo {
    pub address: String,
    /// Names and addresses of its machine, for node locality.
    pub hosts: Vec<String>,
    pub cores: u32,
    pub free: u32,
    pub client: ExecClient,
    pub last_seen: Instant,
    /// Being removed on purpose (idle, preempted): no new tasks go there.
    pub draining: bool,
    /// Since when no task runs there (None while one does).
    pub idle_since: Option<Instant>,
}

/// The executors the driver can use.
pub(crate) struct Registry {
    executors: Mutex<BTreeMap<String, ExecutorInfo>>,
    changed: watch::Sender<u64>,
    /// Executors that ever registered.
    registered: std::sync::atomic::AtomicU32,
    /// The newest delegation tokens fetched while the application runs (a
    /// token storage file; empty until the first), for executors that
    /// register after they were pushed.
    tokens: Mutex<Vec<u8>>,
}

/// A task slot taken on an executor; given back when dropped.
pub(crate) struct Slot {
    registry: Arc<Registry>,
    pub executor_id: String,
    pub address: String,
    pub client: ExecClient,
}

impl Slot {
    /// Resolves once the slot's executor is forgotten (declared lost by the
    /// backend or by its silence): a task running there is then given up at
    /// once instead of waiting on a connection that may never answer.
    pub(crate) async fn lost(&self) {
        let mut changes = self.registry.subscribe();
        while self.registry.alive(&self.executor_id) {
            if changes.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.registry.release(&self.executor_id);
    }
}

impl Registry {
    pub(crate) fn new() -> Arc<Registry> {
        Arc::new(Registry {
            executors: Mutex::new(BTreeMap::new()),
            changed: watch::Sender::new(0),
            registered: Default::default(),
            tokens: Mutex::new(Vec::new()),
        })
    }

    /// Keeps `tokens` as the newest delegation tokens.
    pub(crate) fn set_tokens(&self, tokens: Vec<u8>) {
        *self.tokens.lock().expect("tokens") = tokens;
    }

    /// The newest delegation tokens (empty: none fetched since the start).
    pub(crate) fn tokens(&self) -> Vec<u8> {
        self.tokens.lock().expect("tokens").clone()
    }

    fn bump(&self) {
        self.changed.send_modify(|v| *v += 1);
    }

    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    fn add(&self, id: String, info: ExecutorInfo) {
        self.executors.lock().expect("registry").insert(id, info);
        self.registered
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.bump();
    }

    /// Executors that ever registered.
    pub(crate) fn registered_total(&self) -> u32 {
        self.registered.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Stops giving `id` new tasks; false if it is unknown or already draining.
    pub(crate) fn start_draining(&self, id: &str) -> bool {
        let mut ex = self.executors.lock().expect("registry");
        match ex.get_mut(id) {
            Some(e) if !e.draining => {
                e.draining = true;
                true
            }
            _ => false,
        }
    }

    /// Whether a task runs on `id` now.
    pub(crate) fn busy(&self, id: &str) -> bool {
        self.executors
            .lock()
            .expect("registry")
            .get(id)
            .is_some_and(|e| e.free < e.cores)
    }

    /// The executors that take tasks (not draining): (id, idle since).
    pub(crate) fn active(&self) -> Vec<(String, Option<Instant>)> {
        self.executors
            .lock()
            .expect("registry")
            .iter()
            .filter(|(_, e)| !e.draining)
            .map(|(id, e)| (id.clone(), e.idle_since))
            .collect()
    }

    /// The service address and client of a live executor.
    pub(crate) fn endpoint(&self, id: &str) -> Option<(String, ExecClient)> {
        self.executors
            .lock()
            .expect("registry")
            .get(id)
            .map(|e| (e.address.clone(), e.client.clone()))
    }

    /// Forgets an executor; true if it was known.
    pub(crate) fn remove(&self, id: &str) -> bool {
        let known = self
            .executors
            .lock()
            .expect("registry")
            .remove(id)
            .is_some();
        self.bump();
        known
    }

    pub(crate) fn alive(&self, id: &str) -> bool {
        self.executors.lock().expect("registry").contains_key(id)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.executors.lock().expect("registry").is_empty()
    }

    pub(crate) fn total_cores(&self) -> u32 {
        self.executors
            .lock()
            .expect("registry")
            .values()
            .map(|e| e.cores)
            .sum()
    }

    /// The executors with a free slot: (id, hosts, free slots).
    pub(crate) fn free_executors(&self) -> Vec<crate::scheduler::FreeExecutor> {
        self.executors
            .lock()
            .expect("registry")
            .iter()
            .filter(|(_, e)| e.free > 0 && !e.draining)
            .map(|(id, e)| crate::scheduler::FreeExecutor {
                id: id.clone(),
                hosts: e.hosts.clone(),
                free: e.free,
            })
            .collect()
    }

    /// Every host name or address some live executor runs on.
    pub(crate) fn live_hosts(&self) -> std::collections::HashSet<String> {
        self.executors
            .lock()
            .expect("registry")
            .values()
            .flat_map(|e| e.hosts.iter().map(|h| h.to_ascii_lowercase()))
            .collect()
    }

    /// The hosts of a live executor (empty if it is gone).
    pub(crate) fn hosts_of(&self, id: &str) -> Vec<String> {
        self.executors
            .lock()
            .expect("registry")
            .get(id)
            .map(|e| e.hosts.clone())
            .unwrap_or_default()
    }

    /// Clients of every live executor (to tell them about cancelled jobs).
    pub(crate) fn clients(&self) -> Vec<(String, ExecClient)> {
        self.executors
            .lock()
            .expect("registry")
            .iter()
            .map(|(id, e)| (id.clone(), e.client.clone()))
            .collect()
    }

    /// Takes a free slot, on `on` if given.
    pub(crate) fn take_slot(self: &Arc<Self>, on: Option<&str>) -> Option<Slot> {
        let mut ex = self.executors.lock().expect("registry");
        let (id, info) = match on {
            Some(id) => ex
                .get_mut(id)
                .filter(|e| e.free > 0 && !e.draining)
                .map(|e| (id.to_string(), e))?,
            None => {
                // The executor with the most free slots spreads work evenly.
                let (id, e) = ex
                    .iter_mut()
                    .filter(|(_, e)| e.free > 0 && !e.draining)
                    .max_by_key(|(_, e)| e.free)?;
                (id.clone(), e)
            }
        };
        info.free -= 1;
        info.idle_since = None;
        Some(Slot {
            registry: self.clone(),
            executor_id: id,
            address: info.address.clone(),
            client: info.client.clone(),
        })
    }

    fn release(&self, id: &str) {
        if let Some(e) = self.executors.lock().expect("registry").get_mut(id) {
            e.free = (e.free + 1).min(e.cores);
            if e.free == e.cores {
                e.idle_since = Some(Instant::now());
            }
        }
        self.bump();
    }

    fn seen(&self, id: &str) -> bool {
        match self.executors.lock().expect("registry").get_mut(id) {
            Some(e) => {
                e.last_seen = Instant::now();
                true
            }
            None => false,
        }
    }

    /// Executors not heard from for longer than `timeout`.
    pub(crate) fn silent(&self, timeout: std::time::Duration) -> Vec<String> {
        let ex = self.executors.lock().expect("registry");
        ex.iter()
            .filter(|(_, e)| e.last_seen.elapsed() > timeout)
            .map(|(id, _)| id.clone())
            .collect()
    }
}

/// Data the driver serves to tasks: parallelized slices, broadcast values.
#[derive(Default)]
pub(crate) struct Blobs {
    map: Mutex<HashMap<u64, Arc<Vec<Vec<u8>>>>>,
}

impl Blobs {
    pub(crate) fn put(&self, id: u64, parts: Vec<Vec<u8>>) {
        self.map.lock().expect("blobs").insert(id, Arc::new(parts));
    }

    pub(crate) fn get(&self, id: u64, index: u32) -> Option<Vec<u8>> {
        let map = self.map.lock().expect("blobs");
        map.get(&id)?.get(index as usize).cloned()
    }
}

/// SHA-256 of this process's executable.
pub fn executable_sha256() -> crate::Result<Vec<u8>> {
    use sha2::Digest;
    use std::io::Read;
    let exe = std::env::current_exe().map_err(|e| Error::io("locating the executable", e))?;
    let mut f = std::fs::File::open(&exe)
        .map_err(|e| Error::io(format!("opening {}", exe.display()), e))?;
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f
            .read(&mut buf)
            .map_err(|e| Error::io(format!("reading {}", exe.display()), e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().to_vec())
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The driver's service.
pub(crate) struct DriverService {
    pub registry: Arc<Registry>,
    pub blobs: Arc<Blobs>,
    pub own_sha: Arc<tokio::sync::OnceCell<Vec<u8>>>,
    pub security: Security,
    /// Client deploy mode: what the AM's `AwaitEnd` waits for.
    pub end: crate::backend::EndNotice,
    /// Where registrations are recorded (the event log).
    pub progress: Arc<crate::progress::Progress>,
}

impl DriverService {
    async fn own_sha(&self) -> Result<Vec<u8>, Status> {
        self.own_sha
            .get_or_try_init(|| async {
                tokio::task::spawn_blocking(executable_sha256)
                    .await
                    .map_err(|e| Status::internal(e.to_string()))?
                    .map_err(|e| Status::internal(e.to_string()))
            })
            .await
            .cloned()
    }
}

#[tonic::async_trait]
impl Driver for DriverService {
    async fn register(
        &self,
        req: Request<RegisterRequest>,
    ) -> Result<Response<RegisterReply>, Status> {
        let r = req.into_inner();
        let ours = self.own_sha().await?;
        if r.executable_sha256 != ours {
            let e = Error::ExecutableMismatch {
                executor: r.executor_id.clone(),
                theirs: hex(&r.executable_sha256),
                ours: hex(&ours),
            };
            tracing::warn!("{e}");
            return Err(Status::failed_precondition(e.to_string()));
        }
        let channel = crate::net::channel(&r.address, &self.security)
            .map_err(|e| Status::invalid_argument(format!("executor {}: {e}", r.executor_id)))?;
        let client = ExecutorClient::new(channel)
            .max_decoding_message_size(crate::net::MAX_MESSAGE)
            .max_encoding_message_size(crate::net::MAX_MESSAGE);
        let cores = r.cores.max(1);
        let mut hosts = r.hosts;
        // The host of its service address is one of its names too.
        if let Some((h, _)) = r.address.rsplit_once(':') {
            let h = h.trim_start_matches('[').trim_end_matches(']');
            if !hosts.iter().any(|x| x == h) {
                hosts.push(h.to_string());
            }
        }
        self.progress
            .executor_added(&r.executor_id, &r.address, cores);
        self.registry.add(
            r.executor_id,
            ExecutorInfo {
                address: r.address,
                hosts,
                cores,
                free: cores,
                client,
                last_seen: Instant::now(),
                draining: false,
                idle_since: Some(Instant::now()),
            },
        );
        Ok(Response::new(RegisterReply {
            tokens: self.registry.tokens(),
        }))
    }

    async fn heartbeat(
        &self,
        req: Request<HeartbeatRequest>,
    ) -> Result<Response<HeartbeatReply>, Status> {
        let known = self.registry.seen(&req.into_inner().executor_id);
        Ok(Response::new(HeartbeatReply { known }))
    }

    async fn get_blob(&self, req: Request<BlobRequest>) -> Result<Response<BlobReply>, Status> {
        let r = req.into_inner();
        match self.blobs.get(r.blob_id, r.index) {
            Some(data) => Ok(Response::new(BlobReply { data })),
            None => Err(Status::not_found(format!(
                "no blob {} part {}",
                r.blob_id, r.index
            ))),
        }
    }

    async fn append_log(&self, req: Request<LogChunk>) -> Result<Response<LogAck>, Status> {
        let c = req.into_inner();
        let name_ok = |s: &str| {
            !s.is_empty()
                && s.len() <= 128
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
                && s != "."
                && s != ".."
        };
        if !name_ok(&c.container_id) || !name_ok(&c.file) {
            return Err(Status::invalid_argument(format!(
                "log chunk: bad container {:?} or file {:?}",
                c.container_id, c.file
            )));
        }
        if c.data.len() > crate::container_logs::CHUNK {
            return Err(Status::invalid_argument(format!(
                "log chunk of {} bytes: at most {} at once",
                c.data.len(),
                crate::container_logs::CHUNK
            )));
        }
        crate::container_logs::store().append(&c.container_id, &c.file, c.offset, &c.data);
        Ok(Response::new(LogAck {}))
    }

    async fn read_logs(
        &self,
        req: Request<ReadLogsRequest>,
    ) -> Result<Response<LogChunks>, Status> {
        let have = req
            .into_inner()
            .have
            .into_iter()
            .map(|c| ((c.container_id, c.file), c.offset))
            .collect();
        let chunks = crate::container_logs::store()
            .since(&have, 4 * crate::container_logs::CHUNK)
            .into_iter()
            .map(|(container_id, file, offset, data)| LogChunk {
                container_id,
                file,
                offset,
                data,
            })
            .collect();
        Ok(Response::new(LogChunks { chunks }))
    }

    async fn await_end(&self, _req: Request<AwaitEndRequest>) -> Result<Response<AppEnd>, Status> {
        let end = self.end.wait().await;
        Ok(Response::new(AppEnd {
            succeeded: end.is_ok(),
            diagnostics: end.err().unwrap_or_default(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_different_executable_is_refused_with_a_clear_error() {
        let svc = DriverService {
            registry: Registry::new(),
            blobs: Default::default(),
            own_sha: Default::default(),
            security: Security::new(&crate::auth::Secret::generate(), true).unwrap(),
            end: Default::default(),
            progress: Default::default(),
        };
        let req = RegisterRequest {
            executor_id: "7".into(),
            executable_sha256: vec![0u8; 32],
            address: "127.0.0.1:1".into(),
            cores: 1,
            pid: 1,
            hosts: vec!["node7".into()],
        };
        let err = svc.register(Request::new(req.clone())).await.unwrap_err();
        assert_eq!(err.code(), tonic::Code::FailedPrecondition);
        assert!(
            err.message()
                .contains("executor 7 refused: its executable has SHA-256 0000"),
            "{}",
            err.message()
        );
        assert!(svc.registry.is_empty());
        let good = RegisterRequest {
            executable_sha256: executable_sha256().unwrap(),
            ..req
        };
        svc.register(Request::new(good)).await.unwrap();
        assert!(svc.registry.alive("7"));
        assert_eq!(svc.registry.total_cores(), 1);
        assert_eq!(svc.registry.hosts_of("7"), ["node7", "127.0.0.1"]);
    }
}
