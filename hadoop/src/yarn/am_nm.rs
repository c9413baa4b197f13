//! ApplicationMaster to NodeManager over RPC: ContainerManagementProtocol
//! (start, stop and query containers on one NodeManager), authenticated with
//! the NMToken the RM handed out for that node, as Hadoop's `NMClient`
//! speaks it.

use spindle_proto::yarn as pb;

use super::convert::{container_results, missing};
use super::records::{Container, ContainerLaunchContext, ContainerResults, ContainerStatus};
use crate::ids::{ContainerId, NodeId};
use crate::ipc::{Auth, IpcConfig, RpcClient};
use crate::{Result, Token};

/// Hadoop's protocol name, sent in the connection context and every call.
pub const CONTAINER_MANAGEMENT_PROTOCOL: &str =
    "org.apache.hadoop.yarn.api.ContainerManagementProtocolPB";

/// ContainerManagementProtocol on one NodeManager, authenticated with the
/// NMToken the RM handed out for that node.
#[derive(Debug)]
pub struct NmClient {
    rpc: RpcClient,
}

impl NmClient {
    /// A client for the NM at `node` (a container's `node_id`).
    pub fn new(node: &NodeId, nm_token: Token, config: IpcConfig) -> Self {
        NmClient {
            rpc: RpcClient::new(
                vec![format!("{}:{}", node.host, node.port)],
                CONTAINER_MANAGEMENT_PROTOCOL,
                Auth::Token(nm_token),
                config,
            ),
        }
    }

    /// Starts containers; each needs the container token from its allocation.
    pub async fn start_containers(
        &self,
        containers: &[(&Container, &ContainerLaunchContext)],
    ) -> Result<ContainerResults> {
        let mut requests = Vec::new();
        for (container, launch) in containers {
            let token = container
                .token
                .as_ref()
                .ok_or_else(|| missing("startContainers request", "the container's token"))?;
            requests.push(pb::StartContainerRequestProto {
                container_launch_context: Some((*launch).try_into()?),
                container_token: Some(token.into()),
            });
        }
        let r: pb::StartContainersResponseProto = self
            .rpc
            .call(
                "startContainers",
                &pb::StartContainersRequestProto {
                    start_container_request: requests,
                },
            )
            .await?;
        container_results(&r.succeeded_requests, &r.failed_requests)
    }

    /// Stops (kills) containers.
    pub async fn stop_containers(&self, ids: &[ContainerId]) -> Result<ContainerResults> {
        let request = pb::StopContainersRequestProto {
            container_id: ids.iter().map(|c| (*c).into()).collect(),
        };
        let r: pb::StopContainersResponseProto = self.rpc.call("stopContainers", &request).await?;
        container_results(&r.succeeded_requests, &r.failed_requests)
    }

    /// Current statuses; containers the NM could not report come back in
    /// the second list with its reason.
    pub async fn container_statuses(
        &self,
        ids: &[ContainerId],
    ) -> Result<(Vec<ContainerStatus>, Vec<(ContainerId, String)>)> {
        let request = pb::GetContainerStatusesRequestProto {
            container_id: ids.iter().map(|c| (*c).into()).collect(),
        };
        let r: pb::GetContainerStatusesResponseProto = self
            .rpc
            .call_idempotent("getContainerStatuses", &request)
            .await?;
        let statuses = r
            .status
            .iter()
            .map(ContainerStatus::try_from)
            .collect::<Result<_>>()?;
        Ok((statuses, container_results(&[], &r.failed_requests)?.failed))
    }
}
