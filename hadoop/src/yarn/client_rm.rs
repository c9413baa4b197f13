//! Client to ResourceManager over RPC: ApplicationClientProtocol, what
//! `yarn application` and Hadoop's `YarnClient` use (new application,
//! reports, kill, cluster metrics and nodes). Spindle submits through REST
//! (`rest.rs`); this client reads what only RPC carries, such as an
//! unmanaged AM's AMRM token.

use spindle_proto::yarn as pb;

use super::convert::missing;
use super::records::{AppReport, ClusterMetrics, NewApplication, NodeReport, NodeState};
use crate::Result;
use crate::config::Configuration;
use crate::ids::ApplicationId;
use crate::ipc::{Auth, IpcConfig, RpcClient};

/// Hadoop's protocol name, sent in the connection context and every call.
pub const APPLICATION_CLIENT_PROTOCOL: &str =
    "org.apache.hadoop.yarn.api.ApplicationClientProtocolPB";

/// ApplicationClientProtocol on the ResourceManager (`yarn.resourcemanager.address`,
/// all HA addresses in order).
#[derive(Debug)]
pub struct ApplicationClient {
    rpc: RpcClient,
}

impl ApplicationClient {
    pub fn new(addresses: Vec<String>, auth: Auth, config: IpcConfig) -> Self {
        ApplicationClient {
            rpc: RpcClient::new(addresses, APPLICATION_CLIENT_PROTOCOL, auth, config),
        }
    }

    /// A client of every RM of `conf` (`yarn.resourcemanager.address`, per HA
    /// id), with the IPC settings of `conf`.
    pub fn from_config(conf: &Configuration, auth: Auth) -> Result<Self> {
        let addresses = conf.rm_addresses()?.into_iter().map(|r| r.rpc).collect();
        Ok(Self::new(addresses, auth, IpcConfig::from_conf(conf)?))
    }

    /// A new application id and the largest container the cluster grants.
    pub async fn new_application(&self) -> Result<NewApplication> {
        let r: pb::GetNewApplicationResponseProto = self
            .rpc
            .call("getNewApplication", &pb::GetNewApplicationRequestProto {})
            .await?;
        (&r).try_into()
    }

    /// NodeManager counts by state.
    pub async fn cluster_metrics(&self) -> Result<ClusterMetrics> {
        let r: pb::GetClusterMetricsResponseProto = self
            .rpc
            .call_idempotent("getClusterMetrics", &pb::GetClusterMetricsRequestProto {})
            .await?;
        Ok((&r.cluster_metrics.unwrap_or_default()).into())
    }

    /// NodeManagers in any of `states` (all states when empty).
    pub async fn cluster_nodes(&self, states: &[NodeState]) -> Result<Vec<NodeReport>> {
        let request = pb::GetClusterNodesRequestProto {
            node_states: states
                .iter()
                .map(|s| Ok(pb::NodeStateProto::try_from(*s)? as i32))
                .collect::<Result<_>>()?,
        };
        let r: pb::GetClusterNodesResponseProto = self
            .rpc
            .call_idempotent("getClusterNodes", &request)
            .await?;
        r.node_reports.iter().map(NodeReport::try_from).collect()
    }

    /// The RM's report on one application.
    pub async fn application_report(&self, id: ApplicationId) -> Result<AppReport> {
        let request = pb::GetApplicationReportRequestProto {
            application_id: Some(id.into()),
        };
        let r: pb::GetApplicationReportResponseProto = self
            .rpc
            .call_idempotent("getApplicationReport", &request)
            .await?;
        let report = r
            .application_report
            .ok_or_else(|| missing("GetApplicationReportResponseProto", "application_report"))?;
        (&report).try_into()
    }

    /// Asks the RM to kill an application; true once the kill is complete
    /// (the RM may answer false first: call again until true).
    pub async fn kill_application(
        &self,
        id: ApplicationId,
        diagnostics: Option<&str>,
    ) -> Result<bool> {
        let request = pb::KillApplicationRequestProto {
            application_id: Some(id.into()),
            diagnostics: diagnostics.map(str::to_string),
        };
        let r: pb::KillApplicationResponseProto =
            self.rpc.call("forceKillApplication", &request).await?;
        Ok(r.is_kill_completed())
    }
}
