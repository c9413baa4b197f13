//! The executor's gRPC service: task launch and shuffle block serving.

use std::sync::Arc;

use spindle_core::blocks::CHUNK;
use spindle_core::codec;
use spindle_core::plan::{StagePlan, TaskInputs, TaskOutcome};
use spindle_core::task::ExecutorServices;
use spindle_proto::spindle::executor_server::Executor;
use spindle_proto::spindle::{
    CancelReply, CancelRequest, FetchCachedRequest, FetchRequest, PullCachedReply,
    PullCachedRequest, PullShuffleReply, PullShuffleRequest, PushCachedRequest, PushShuffleRequest,
    RemoveCachedReply, RemoveCachedRequest, ShuffleChunk, TaskReply, TaskRequest, TokensReply,
    TokensUpdate,
};
use tokio::io::AsyncReadExt;
use tonic::{Request, Response, Status};

use crate::services::Services;

pub(crate) struct ExecutorService {
    pub services: Arc<Services>,
    pub jobs: Arc<crate::cancel::JobFlags>,
}

#[tonic::async_trait]
impl Executor for ExecutorService {
    async fn run_task(&self, req: Request<TaskRequest>) -> Result<Response<TaskReply>, Status> {
        let r = req.into_inner();
        let outcome = match (
            codec::decode::<StagePlan>(&r.plan, "stage plan"),
            codec::decode::<TaskInputs>(&r.inputs, "task inputs"),
        ) {
            (Ok(plan), Ok(inputs)) => {
                let services: Arc<dyn ExecutorServices> = self.services.clone();
                let (p, a) = (r.partition, r.attempt);
                let flag = self.jobs.task_started(r.job_id);
                let cancel = flag.flag.clone();
                tokio::task::spawn_blocking(move || {
                    let _flag = flag;
                    spindle_core::task::run_task(Arc::new(plan), inputs, p, a, services, cancel)
                })
                .await
                .unwrap_or_else(|e| TaskOutcome::Failed {
                    message: format!("task thread: {e}"),
                })
            }
            (Err(e), _) | (_, Err(e)) => TaskOutcome::Failed {
                message: e.to_string(),
            },
        };
        let mut outcome = codec::encode(&outcome);
        if outcome.len() > spindle_core::net::MAX_MESSAGE - 1024 {
            outcome = codec::encode(&TaskOutcome::Failed {
                message: format!(
                    "the task's result takes {} bytes, over the limit of {} for one message (collect fewer records per partition, or save them)",
                    outcome.len(),
                    spindle_core::net::MAX_MESSAGE
                ),
            });
        }
        Ok(Response::new(TaskReply { outcome }))
    }

    async fn cancel_job(
        &self,
        req: Request<CancelRequest>,
    ) -> Result<Response<CancelReply>, Status> {
        self.jobs.cancel(req.into_inner().job_id);
        Ok(Response::new(CancelReply {}))
    }

    async fn remove_cached(
        &self,
        req: Request<RemoveCachedRequest>,
    ) -> Result<Response<RemoveCachedReply>, Status> {
        self.services.cache().remove_node(req.into_inner().node_id);
        Ok(Response::new(RemoveCachedReply {}))
    }

    async fn update_tokens(
        &self,
        req: Request<TokensUpdate>,
    ) -> Result<Response<TokensReply>, Status> {
        let tokens = req.into_inner().tokens;
        let n = tokio::task::spawn_blocking(move || spindle_core::tokens::install(&tokens))
            .await
            .map_err(|e| Status::internal(format!("installing tokens: {e}")))?
            .map_err(|e| Status::internal(e.to_string()))?;
        tracing::info!(
            "spindle executor {}: {n} new delegation tokens from the driver",
            self.services.executor_id()
        );
        Ok(Response::new(TokensReply {}))
    }

    async fn push_shuffle(
        &self,
        req: Request<PushShuffleRequest>,
    ) -> Result<Response<PullShuffleReply>, Status> {
        let r = req.into_inner();
        let services = self.services.clone();
        let (blocks, bytes) = tokio::task::spawn_blocking(move || push_blocks(&services, &r))
            .await
            .map_err(|e| Status::internal(format!("pushing shuffle blocks: {e}")))?
            .map_err(|e| Status::unavailable(e.to_string()))?;
        Ok(Response::new(PullShuffleReply { blocks, bytes }))
    }

    async fn pull_shuffle(
        &self,
        req: Request<PullShuffleRequest>,
    ) -> Result<Response<PullShuffleReply>, Status> {
        let r = req.into_inner();
        let services = self.services.clone();
        let (blocks, bytes) = tokio::task::spawn_blocking(move || pull_blocks(&services, &r))
            .await
            .map_err(|e| Status::internal(format!("pulling shuffle blocks: {e}")))?
            .map_err(|e| Status::unavailable(e.to_string()))?;
        Ok(Response::new(PullShuffleReply { blocks, bytes }))
    }

    async fn pull_cached(
        &self,
        req: Request<PullCachedRequest>,
    ) -> Result<Response<PullCachedReply>, Status> {
        let r = req.into_inner();
        let services = self.services.clone();
        let (partitions, bytes) =
            tokio::task::spawn_blocking(move || pull_cached_blocks(&services, &r))
                .await
                .map_err(|e| Status::internal(format!("pulling cached partitions: {e}")))?
                .map_err(|e| Status::unavailable(e.to_string()))?;
        Ok(Response::new(PullCachedReply { partitions, bytes }))
    }

    async fn push_cached(
        &self,
        req: Request<PushCachedRequest>,
    ) -> Result<Response<PullCachedReply>, Status> {
        let r = req.into_inner();
        let services = self.services.clone();
        let (partitions, bytes) =
            tokio::task::spawn_blocking(move || push_cached_blocks(&services, &r))
                .await
                .map_err(|e| Status::internal(format!("pushing cached partitions: {e}")))?
                .map_err(|e| Status::unavailable(e.to_string()))?;
        Ok(Response::new(PullCachedReply { partitions, bytes }))
    }

    type FetchCachedStream = tokio_stream::wrappers::ReceiverStream<Result<ShuffleChunk, Status>>;

    async fn fetch_cached(
        &self,
        req: Request<FetchCachedRequest>,
    ) -> Result<Response<Self::FetchCachedStream>, Status> {
        let r = req.into_inner();
        let services = self.services.clone();
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        // Encoding a partition kept in memory takes CPU: off the runtime.
        tokio::task::spawn_blocking(move || {
            for p in r.partitions {
                let block = services
                    .cache()
                    .block_bytes((r.node_id, p))
                    .unwrap_or_default();
                for chunk in spindle_core::blocks::chunks_of(p, &block) {
                    if tx.blocking_send(Ok(chunk)).is_err() {
                        return;
                    }
                }
            }
        });
        Ok(Response::new(tokio_stream::wrappers::ReceiverStream::new(
            rx,
        )))
    }

    type FetchShuffleStream = tokio_stream::wrappers::ReceiverStream<Result<ShuffleChunk, Status>>;

    async fn fetch_shuffle(
        &self,
        req: Request<FetchRequest>,
    ) -> Result<Response<Self::FetchShuffleStream>, Status> {
        let r = req.into_inner();
        let paths: Vec<(u32, std::path::PathBuf)> = r
            .map_ids
            .iter()
            .map(|m| {
                (
                    *m,
                    self.services.shuffle_path(r.shuffle_id, *m, r.reduce_id),
                )
            })
            .collect();
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        tokio::spawn(async move {
            for (map_id, path) in paths {
                let fail = |e: std::io::Error| Status::internal(format!("{}: {e}", path.display()));
                let (mut f, len) = match tokio::fs::File::open(&path).await {
                    Ok(f) => match f.metadata().await {
                        Ok(m) => (f, m.len()),
                        Err(e) => {
                            let _ = tx.send(Err(fail(e))).await;
                            return;
                        }
                    },
                    Err(e) => {
                        let _ = tx
                            .send(Err(Status::not_found(format!("{}: {e}", path.display()))))
                            .await;
                        return;
                    }
                };
                // Every block asked for is sent, an empty one as one empty
                // chunk; the first chunk names the block's length.
                let mut first = true;
                loop {
                    let mut buf = Vec::with_capacity(CHUNK.min(len as usize));
                    match (&mut f).take(CHUNK as u64).read_to_end(&mut buf).await {
                        Ok(0) if !first => break,
                        Ok(_) => {
                            let chunk = ShuffleChunk {
                                map_id,
                                data: buf,
                                block_bytes: if first { len } else { 0 },
                            };
                            first = false;
                            if tx.send(Ok(chunk)).await.is_err() {
                                return;
                            }
                        }
                        Err(e) => {
                            let _ = tx.send(Err(fail(e))).await;
                            return;
                        }
                    }
                }
            }
        });
        Ok(Response::new(tokio_stream::wrappers::ReceiverStream::new(
            rx,
        )))
    }
}

/// Copies every reducer's block of `r.map_ids` from this executor's shuffle
/// directories into `r.dir` (the cluster's file system). Returns (blocks, bytes).
fn push_blocks(services: &Services, r: &PushShuffleRequest) -> spindle_core::Result<(u64, u64)> {
    let mut files = Vec::new();
    for &map_id in &r.map_ids {
        for reduce_id in 0..r.reducers {
            let path = services.shuffle_path(r.shuffle_id, map_id, reduce_id);
            let data = std::fs::read(&path)
                .map_err(|e| spindle_core::Error::io(format!("reading {}", path.display()), e))?;
            let name = spindle_core::blocks::block_file(r.shuffle_id, map_id, reduce_id);
            files.push((name, data));
        }
    }
    spindle_core::io::write_files(&r.dir, &files)?;
    let bytes = files.iter().map(|f| f.1.len() as u64).sum();
    Ok((files.len() as u64, bytes))
}

/// Copies every reducer's block of `r.map_ids` from the peer into this
/// executor's shuffle directories, each written aside and renamed into place
/// so a reader never sees half a block. Returns (blocks, bytes).
fn pull_blocks(services: &Services, r: &PullShuffleRequest) -> spindle_core::Result<(u64, u64)> {
    let (mut blocks, mut bytes) = (0u64, 0u64);
    for reduce_id in 0..r.reducers {
        let fetched =
            services.fetch_blocks(&r.from_address, r.shuffle_id, r.map_ids.clone(), reduce_id)?;
        for block in fetched {
            let (map_id, data) = block?;
            let path = services.shuffle_path(r.shuffle_id, map_id, reduce_id);
            let tmp = path.with_extension("pulled");
            let io = |e: std::io::Error| {
                spindle_core::Error::io(format!("writing {}", tmp.display()), e)
            };
            std::fs::write(&tmp, &data).map_err(io)?;
            std::fs::rename(&tmp, &path).map_err(io)?;
            blocks += 1;
            bytes += data.len() as u64;
        }
    }
    Ok((blocks, bytes))
}

/// Copies the cached partitions `r.partitions` of `r.node_id` that the peer
/// still keeps into this executor's block cache. Returns (partitions kept, bytes).
fn pull_cached_blocks(
    services: &Services,
    r: &PullCachedRequest,
) -> spindle_core::Result<(Vec<u32>, u64)> {
    let (mut kept, mut bytes) = (Vec::new(), 0u64);
    for block in services.fetch_cached(&r.from_address, r.node_id, r.partitions.clone())? {
        let (p, data) = block?;
        // Empty: the peer no longer keeps it (evicted); recomputed when needed.
        if data.is_empty() {
            continue;
        }
        services.cache().put_moved((r.node_id, p), &data)?;
        kept.push(p);
        bytes += data.len() as u64;
    }
    Ok((kept, bytes))
}

/// Copies the cached partitions `r.partitions` of `r.node_id` this executor
/// still keeps into `r.dir` (the cluster's file system), one file each, as
/// encoded on disk. Returns (partitions written, bytes).
fn push_cached_blocks(
    services: &Services,
    r: &PushCachedRequest,
) -> spindle_core::Result<(Vec<u32>, u64)> {
    let (mut written, mut bytes) = (Vec::new(), 0u64);
    for &p in &r.partitions {
        // Not kept any more (evicted): recomputed when needed.
        let Some(data) = services.cache().block_bytes((r.node_id, p)) else {
            continue;
        };
        let name = spindle_core::blocks::cached_file(r.node_id, p);
        let len = data.len() as u64;
        // One at a time: a partition kept in memory is encoded only when it goes.
        spindle_core::io::write_files(&r.dir, &[(name, data)])?;
        written.push(p);
        bytes += len;
    }
    Ok((written, bytes))
}
