//! The executor's gRPC service: task launch and shuffle block serving.

use std::sync::Arc;

use spindle_core::codec;
use spindle_core::plan::{StagePlan, TaskInputs, TaskOutcome};
use spindle_core::task::ExecutorServices;
use spindle_proto::spindle::executor_server::Executor;
use spindle_proto::spindle::{
    CancelReply, CancelRequest, FetchRequest, ShuffleChunk, TaskReply, TaskRequest,
};
use tokio::io::AsyncReadExt;
use tonic::{Request, Response, Status};

use crate::services::Services;

/// Bytes per streamed shuffle chunk.
const CHUNK: usize = 1 << 20;

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
        Ok(Response::new(TaskReply {
            outcome: codec::encode(&outcome),
        }))
    }

    async fn cancel_job(
        &self,
        req: Request<CancelRequest>,
    ) -> Result<Response<CancelReply>, Status> {
        self.jobs.cancel(req.into_inner().job_id);
        Ok(Response::new(CancelReply {}))
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
                let mut f = match tokio::fs::File::open(&path).await {
                    Ok(f) => f,
                    Err(e) => {
                        let _ = tx
                            .send(Err(Status::not_found(format!("{}: {e}", path.display()))))
                            .await;
                        return;
                    }
                };
                loop {
                    let mut buf = Vec::with_capacity(CHUNK);
                    match (&mut f).take(CHUNK as u64).read_to_end(&mut buf).await {
                        Ok(0) => break,
                        Ok(_) => {
                            if tx
                                .send(Ok(ShuffleChunk { map_id, data: buf }))
                                .await
                                .is_err()
                            {
                                return;
                            }
                        }
                        Err(e) => {
                            let _ = tx
                                .send(Err(Status::internal(format!("{}: {e}", path.display()))))
                                .await;
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
