//! YARN's three RPC protocols as small typed clients:
//! [`ClientRmClient`] (ApplicationClientProtocol: what `yarn application`
//! does), [`AmRmClient`] (ApplicationMasterProtocol: register, allocate,
//! finish) and [`NmClient`] (ContainerManagementProtocol: start, stop and
//! query containers on one NodeManager). They speak in the domain types below;
//! protobuf stays inside this module.

use std::collections::BTreeMap;

use spindle_proto::yarn as pb;

use crate::config::Configuration;
use crate::ids::{ApplicationAttemptId, ApplicationId, ContainerId, NodeId};
use crate::ipc::{Auth, IpcConfig, RpcClient};
use crate::{Error, Result, Token};

/// Hadoop's protocol names, sent in the connection context and every call.
pub const APPLICATION_CLIENT_PROTOCOL: &str =
    "org.apache.hadoop.yarn.api.ApplicationClientProtocolPB";
pub const APPLICATION_MASTER_PROTOCOL: &str =
    "org.apache.hadoop.yarn.api.ApplicationMasterProtocolPB";
pub const CONTAINER_MANAGEMENT_PROTOCOL: &str =
    "org.apache.hadoop.yarn.api.ContainerManagementProtocolPB";

/// What a ResourceManager throws at an AM it does not know as registered,
/// typically after a restart that recovered the application: the AM must
/// register again and send all its outstanding asks again.
pub const AM_NOT_REGISTERED_EXCEPTION: &str =
    "org.apache.hadoop.yarn.exceptions.ApplicationMasterNotRegisteredException";
/// Thrown by `registerApplicationMaster` when this attempt already is registered.
const INVALID_AM_REQUEST_EXCEPTION: &str =
    "org.apache.hadoop.yarn.exceptions.InvalidApplicationMasterRequestException";

/// Whether `e` is the RM saying this AM must register (again).
pub fn is_not_registered(e: &Error) -> bool {
    e.remote_class() == Some(AM_NOT_REGISTERED_EXCEPTION)
}

// ---------------------------------------------------------------- domain types

/// An amount of cluster resources.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Resource {
    pub memory_mb: i64,
    pub vcores: i32,
}

/// `getNewApplication`'s answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewApplication {
    pub id: ApplicationId,
    /// The largest container the scheduler grants.
    pub max_resource: Resource,
}

/// NodeManager counts by state, as `yarn node -list` summarizes them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClusterMetrics {
    pub node_managers: i32,
    pub active: i32,
    pub decommissioned: i32,
    pub decommissioning: i32,
    pub lost: i32,
    pub unhealthy: i32,
    pub rebooted: i32,
    pub shutdown: i32,
}

/// The state of a NodeManager.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeState {
    New,
    Running,
    Unhealthy,
    Decommissioned,
    Lost,
    Rebooted,
    Decommissioning,
    Shutdown,
}

/// One NodeManager as the RM sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeReport {
    pub node_id: NodeId,
    pub http_address: String,
    pub rack: String,
    pub used: Resource,
    pub capability: Resource,
    pub num_containers: i32,
    pub state: Option<NodeState>,
    pub health_report: String,
    pub last_health_report_time: i64,
}

/// The lifecycle state of an application.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppState {
    New,
    NewSaving,
    Submitted,
    Accepted,
    Running,
    Finished,
    Failed,
    Killed,
}

/// What an application says about its own outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FinalStatus {
    Undefined,
    Succeeded,
    Failed,
    Killed,
    Ended,
}

/// `getApplicationReport`'s answer.
#[derive(Clone, Debug, PartialEq)]
pub struct AppReport {
    pub id: ApplicationId,
    pub user: String,
    pub queue: String,
    pub name: String,
    pub application_type: String,
    pub state: Option<AppState>,
    pub final_status: Option<FinalStatus>,
    pub diagnostics: String,
    /// The AM's host and RPC port as it registered them.
    pub host: String,
    pub rpc_port: i32,
    pub tracking_url: String,
    pub original_tracking_url: String,
    pub start_time: i64,
    pub finish_time: i64,
    pub progress: f32,
    pub unmanaged: bool,
    pub tags: Vec<String>,
    pub current_attempt: Option<ApplicationAttemptId>,
    /// Present for an unmanaged AM's submitter: the token its AM must use.
    pub am_rm_token: Option<Token>,
}

/// A container request as an AM thinks of it: `count` containers of
/// `resource` at `priority`, optionally preferring some nodes or racks.
#[derive(Clone, Debug, PartialEq)]
pub struct ContainerRequest {
    pub resource: Resource,
    pub priority: i32,
    pub count: i32,
    pub nodes: Vec<String>,
    pub racks: Vec<String>,
    /// Whether the scheduler may fall back to other nodes/racks.
    pub relax_locality: bool,
}

impl ContainerRequest {
    /// `count` containers of `resource` anywhere in the cluster.
    pub fn anywhere(resource: Resource, priority: i32, count: i32) -> Self {
        ContainerRequest {
            resource,
            priority,
            count,
            nodes: Vec::new(),
            racks: Vec::new(),
            relax_locality: true,
        }
    }

    /// The scheduler's resource requests for this ask: one per node, one per
    /// rack and the `*` (any) line. Counts are totals outstanding, not deltas:
    /// YARN replaces its table entry on each allocate.
    fn to_protos(&self) -> Vec<pb::ResourceRequestProto> {
        let line = |name: &str, relax: bool| pb::ResourceRequestProto {
            priority: Some(pb::PriorityProto {
                priority: Some(self.priority),
            }),
            resource_name: Some(name.to_string()),
            capability: Some(resource_to_proto(self.resource)),
            num_containers: Some(self.count),
            relax_locality: Some(relax),
            ..Default::default()
        };
        let mut out: Vec<_> = self.nodes.iter().map(|n| line(n, true)).collect();
        out.extend(self.racks.iter().map(|r| line(r, true)));
        let localized = !self.nodes.is_empty() || !self.racks.is_empty();
        out.push(line("*", self.relax_locality || !localized));
        out
    }
}

/// The resource-request table lines for several asks, as Hadoop's AMRMClient
/// builds them: asks of the same priority and size share one line per node,
/// rack and `*`, whose count is the sum over the asks naming it (`*` counts
/// them all). A name sent with 0 clears the RM's line for it.
fn ask_table(asks: &[ContainerRequest]) -> Vec<pb::ResourceRequestProto> {
    /// Resource name -> (count, relax_locality).
    type Lines = BTreeMap<String, (i32, bool)>;
    // (priority, memory, vcores) -> its lines
    let mut table: BTreeMap<(i32, i64, i32), Lines> = BTreeMap::new();
    let mut order: Vec<(i32, i64, i32)> = Vec::new();
    for ask in asks {
        let key = (ask.priority, ask.resource.memory_mb, ask.resource.vcores);
        if !table.contains_key(&key) {
            order.push(key);
        }
        let lines = table.entry(key).or_default();
        for line in ask.to_protos() {
            let entry = lines
                .entry(line.resource_name().to_string())
                .or_insert((0, false));
            entry.0 += line.num_containers();
            entry.1 |= line.relax_locality();
        }
    }
    let mut out = Vec::new();
    for key in order {
        let (priority, memory_mb, vcores) = key;
        let lines = &table[&key];
        // Nodes and racks first, `*` last, as the Java client sends them.
        let names = lines
            .keys()
            .filter(|n| n.as_str() != "*")
            .chain(lines.keys().filter(|n| n.as_str() == "*"));
        for name in names {
            let (count, relax) = lines[name];
            out.push(pb::ResourceRequestProto {
                priority: Some(pb::PriorityProto {
                    priority: Some(priority),
                }),
                resource_name: Some(name.clone()),
                capability: Some(resource_to_proto(Resource { memory_mb, vcores })),
                num_containers: Some(count),
                relax_locality: Some(relax),
                ..Default::default()
            });
        }
    }
    out
}

/// One allocate heartbeat's content.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AllocateRequest {
    /// Asks. Each replaces the RM's outstanding count at the same priority,
    /// place and size (0 cancels); the RM then decrements it as it allocates,
    /// so send an ask again only to change it, or containers are allocated twice.
    pub asks: Vec<ContainerRequest>,
    /// Containers the AM gives back.
    pub release: Vec<ContainerId>,
    /// Application progress, 0.0 to 1.0.
    pub progress: f32,
    pub blacklist_additions: Vec<String>,
    pub blacklist_removals: Vec<String>,
}

/// A container granted to the AM.
#[derive(Clone, Debug, PartialEq)]
pub struct Container {
    pub id: ContainerId,
    /// The NodeManager to start it on (its ContainerManager RPC address).
    pub node_id: NodeId,
    pub node_http_address: String,
    pub resource: Resource,
    pub priority: i32,
    /// Proves to the NM that the RM granted this container.
    pub token: Option<Token>,
}

/// Where a container is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContainerState {
    New,
    Running,
    Complete,
}

/// A container's status, from the RM (completed containers) or an NM.
#[derive(Clone, Debug, PartialEq)]
pub struct ContainerStatus {
    pub id: ContainerId,
    pub state: Option<ContainerState>,
    /// The process exit code, or one of YARN's negative codes (-100 aborted,
    /// -102 preempted, -104 physical memory exceeded, …); -1000 if unknown.
    pub exit_status: i32,
    pub diagnostics: String,
}

/// The credential for talking to one NodeManager.
#[derive(Clone, Debug, PartialEq)]
pub struct NmToken {
    pub node_id: NodeId,
    pub token: Token,
}

/// A command the RM gives the AM in an allocate answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AmCommand {
    /// The RM lost track of the AM (e.g. RM restart): re-register.
    Resync,
    /// The AM must exit.
    Shutdown,
}

/// One allocate heartbeat's answer.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Allocation {
    pub allocated: Vec<Container>,
    pub completed: Vec<ContainerStatus>,
    /// Tokens for NodeManagers the AM has not talked to yet.
    pub nm_tokens: Vec<NmToken>,
    /// What the application may still get (headroom).
    pub available: Resource,
    pub num_cluster_nodes: i32,
    pub updated_nodes: Vec<NodeReport>,
    pub command: Option<AmCommand>,
    /// A rolled-over AMRM token; the client switches to it by itself.
    pub new_am_rm_token: Option<Token>,
}

/// `registerApplicationMaster`'s answer.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Registration {
    pub max_resource: Resource,
    pub queue: String,
    pub containers_from_previous_attempts: Vec<Container>,
    pub nm_tokens_from_previous_attempts: Vec<NmToken>,
}

/// How a NodeManager treats a file to localize.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LocalResourceType {
    /// Unpacked (jar, zip, tar.gz).
    Archive,
    File,
}

/// Who may share a localized file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Visibility {
    Public,
    Private,
    Application,
}

/// A file the NodeManager downloads into the container's directory.
#[derive(Clone, Debug, PartialEq)]
pub struct LocalResource {
    /// e.g. `hdfs`, with host and port of the NameNode.
    pub scheme: String,
    pub host: String,
    pub port: i32,
    /// The path within the filesystem.
    pub file: String,
    /// Size and modification time must equal the file's, or the NM refuses.
    pub size: i64,
    pub timestamp: i64,
    pub kind: LocalResourceType,
    pub visibility: Visibility,
}

/// What to run in a container.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LaunchContext {
    /// Run by the NM through bash; `<LOG_DIR>` expands to the log directory.
    pub commands: Vec<String>,
    pub environment: BTreeMap<String, String>,
    /// Link name in the working directory -> resource.
    pub local_resources: BTreeMap<String, LocalResource>,
    /// Credentials for the container, in Hadoop's token storage format
    /// (they end up in the file named by `HADOOP_TOKEN_FILE_LOCATION`).
    pub tokens: Vec<u8>,
}

/// Per-container outcome of a start/stop call on a NodeManager.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ContainerResults {
    pub succeeded: Vec<ContainerId>,
    /// The container and the NM's reason (exception class and message).
    pub failed: Vec<(ContainerId, String)>,
}

// ----------------------------------------------------------------- clients

/// ApplicationClientProtocol on the ResourceManager (`yarn.resourcemanager.address`,
/// all HA addresses in order).
#[derive(Debug)]
pub struct ClientRmClient {
    rpc: RpcClient,
}

impl ClientRmClient {
    pub fn new(addresses: Vec<String>, auth: Auth, config: IpcConfig) -> Self {
        ClientRmClient {
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
        let id = r
            .application_id
            .as_ref()
            .map(app_id_from_proto)
            .ok_or_else(|| missing("getNewApplication", "application_id"))?;
        Ok(NewApplication {
            id,
            max_resource: resource_from_proto(r.maximum_capability.as_ref()),
        })
    }

    /// NodeManager counts by state.
    pub async fn cluster_metrics(&self) -> Result<ClusterMetrics> {
        let r: pb::GetClusterMetricsResponseProto = self
            .rpc
            .call_idempotent("getClusterMetrics", &pb::GetClusterMetricsRequestProto {})
            .await?;
        let m = r.cluster_metrics.unwrap_or_default();
        Ok(ClusterMetrics {
            node_managers: m.num_node_managers(),
            active: m.num_active_nms(),
            decommissioned: m.num_decommissioned_nms(),
            decommissioning: m.num_decommissioning_nms(),
            lost: m.num_lost_nms(),
            unhealthy: m.num_unhealthy_nms(),
            rebooted: m.num_rebooted_nms(),
            shutdown: m.num_shutdown_nms(),
        })
    }

    /// NodeManagers in any of `states` (all states when empty).
    pub async fn cluster_nodes(&self, states: &[NodeState]) -> Result<Vec<NodeReport>> {
        let request = pb::GetClusterNodesRequestProto {
            node_states: states
                .iter()
                .map(|s| node_state_to_proto(*s) as i32)
                .collect(),
        };
        let r: pb::GetClusterNodesResponseProto = self
            .rpc
            .call_idempotent("getClusterNodes", &request)
            .await?;
        r.node_reports.iter().map(node_report_from_proto).collect()
    }

    /// The RM's report on one application.
    pub async fn application_report(&self, id: ApplicationId) -> Result<AppReport> {
        let request = pb::GetApplicationReportRequestProto {
            application_id: Some(app_id_to_proto(id)),
        };
        let r: pb::GetApplicationReportResponseProto = self
            .rpc
            .call_idempotent("getApplicationReport", &request)
            .await?;
        let report = r
            .application_report
            .ok_or_else(|| missing("getApplicationReport", "application_report"))?;
        app_report_from_proto(&report)
    }

    /// Asks the RM to kill an application; true once the kill is complete
    /// (the RM may answer false first: call again until true).
    pub async fn kill_application(
        &self,
        id: ApplicationId,
        diagnostics: Option<&str>,
    ) -> Result<bool> {
        let request = pb::KillApplicationRequestProto {
            application_id: Some(app_id_to_proto(id)),
            diagnostics: diagnostics.map(str::to_string),
        };
        let r: pb::KillApplicationResponseProto =
            self.rpc.call("forceKillApplication", &request).await?;
        Ok(r.is_kill_completed())
    }
}

/// ApplicationMasterProtocol on the ResourceManager's scheduler address
/// (`yarn.resourcemanager.scheduler.address`), authenticated with the AMRM
/// token. Keeps the allocate sequence number itself.
#[derive(Debug)]
pub struct AmRmClient {
    rpc: RpcClient,
    response_id: tokio::sync::Mutex<i32>,
    /// The last registration (host, RPC port, tracking URL), repeated by
    /// [`reregister`](Self::reregister).
    registration: tokio::sync::Mutex<Option<(String, i32, String)>>,
    /// Set once the RM confirmed `finishApplicationMaster`: never register again.
    unregistered: std::sync::atomic::AtomicBool,
}

impl AmRmClient {
    pub fn new(addresses: Vec<String>, am_rm_token: Token, config: IpcConfig) -> Self {
        AmRmClient {
            rpc: RpcClient::new(
                addresses,
                APPLICATION_MASTER_PROTOCOL,
                Auth::Token(am_rm_token),
                config,
            ),
            response_id: tokio::sync::Mutex::new(0),
            registration: tokio::sync::Mutex::new(None),
            unregistered: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// A client of every RM's scheduler address of `conf`
    /// (`yarn.resourcemanager.scheduler.address`, per HA id).
    pub fn from_config(conf: &Configuration, am_rm_token: Token) -> Result<Self> {
        let addresses = conf
            .rm_addresses()?
            .into_iter()
            .map(|r| r.scheduler)
            .collect();
        Ok(Self::new(
            addresses,
            am_rm_token,
            IpcConfig::from_conf(conf)?,
        ))
    }

    /// Registers this AM; `tracking_url` is what the RM's proxy links to.
    /// Also the answer to [`AmCommand::Resync`]: registering again restarts
    /// the allocate sequence (then send all outstanding asks again).
    pub async fn register(
        &self,
        host: &str,
        rpc_port: i32,
        tracking_url: &str,
    ) -> Result<Registration> {
        let mut last = self.registration.lock().await;
        let r = self.register_once(host, rpc_port, tracking_url).await?;
        *last = Some((host.to_string(), rpc_port, tracking_url.to_string()));
        Ok(r)
    }

    /// Registers again as [`register`](Self::register) did, after the RM
    /// answered [`AM_NOT_REGISTERED_EXCEPTION`] or [`AmCommand::Resync`] (it
    /// restarted). Concurrent callers share one registration; an RM that says
    /// the attempt is registered already counts as success.
    pub async fn reregister(&self) -> Result<()> {
        let last = self.registration.lock().await;
        let refuse = |why: &str| Error::Rpc {
            address: self.rpc.addresses().join(","),
            reason: format!("not registering again: {why}"),
        };
        if self.unregistered.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(refuse("this attempt has unregistered"));
        }
        let Some((host, port, url)) = last.clone() else {
            return Err(refuse("it never registered"));
        };
        match self.register_once(&host, port, &url).await {
            Ok(_) => Ok(()),
            Err(e)
                if e.remote_class() == Some(INVALID_AM_REQUEST_EXCEPTION)
                    && e.to_string().contains("already registered") =>
            {
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    async fn register_once(
        &self,
        host: &str,
        rpc_port: i32,
        tracking_url: &str,
    ) -> Result<Registration> {
        // The allocate sequence starts over with each registration.
        let mut response_id = self.response_id.lock().await;
        *response_id = 0;
        let request = pb::RegisterApplicationMasterRequestProto {
            host: Some(host.to_string()),
            rpc_port: Some(rpc_port),
            tracking_url: Some(tracking_url.to_string()),
        };
        let r: pb::RegisterApplicationMasterResponseProto =
            self.rpc.call("registerApplicationMaster", &request).await?;
        Ok(Registration {
            max_resource: resource_from_proto(r.maximum_capability.as_ref()),
            queue: r.queue().to_string(),
            containers_from_previous_attempts: r
                .containers_from_previous_attempts
                .iter()
                .map(container_from_proto)
                .collect::<Result<_>>()?,
            nm_tokens_from_previous_attempts: r
                .nm_tokens_from_previous_attempts
                .iter()
                .map(nm_token_from_proto)
                .collect::<Result<_>>()?,
        })
    }

    /// One heartbeat: sends asks and releases, returns what the RM granted
    /// and which containers finished since the last heartbeat.
    pub async fn allocate(&self, request: &AllocateRequest) -> Result<Allocation> {
        let mut response_id = self.response_id.lock().await;
        let proto = pb::AllocateRequestProto {
            ask: ask_table(&request.asks),
            release: request
                .release
                .iter()
                .map(|c| container_id_to_proto(*c))
                .collect(),
            blacklist_request: (!request.blacklist_additions.is_empty()
                || !request.blacklist_removals.is_empty())
            .then(|| pb::ResourceBlacklistRequestProto {
                blacklist_additions: request.blacklist_additions.clone(),
                blacklist_removals: request.blacklist_removals.clone(),
            }),
            response_id: Some(*response_id),
            progress: Some(request.progress),
            tracking_url: None,
        };
        let r: pb::AllocateResponseProto = self.rpc.call("allocate", &proto).await?;
        *response_id = r.response_id();
        let new_am_rm_token = r.am_rm_token.clone().map(Token::from);
        if let Some(token) = &new_am_rm_token {
            self.rpc.set_auth(Auth::Token(token.clone()));
        }
        Ok(Allocation {
            allocated: r
                .allocated_containers
                .iter()
                .map(container_from_proto)
                .collect::<Result<_>>()?,
            completed: r
                .completed_container_statuses
                .iter()
                .map(container_status_from_proto)
                .collect::<Result<_>>()?,
            nm_tokens: r
                .nm_tokens
                .iter()
                .map(nm_token_from_proto)
                .collect::<Result<_>>()?,
            available: resource_from_proto(r.limit.as_ref()),
            num_cluster_nodes: r.num_cluster_nodes(),
            updated_nodes: r
                .updated_nodes
                .iter()
                .map(node_report_from_proto)
                .collect::<Result<_>>()?,
            command: r
                .a_m_command
                .and_then(|c| match pb::AmCommandProto::try_from(c) {
                    Ok(pb::AmCommandProto::AmResync) => Some(AmCommand::Resync),
                    Ok(pb::AmCommandProto::AmShutdown) => Some(AmCommand::Shutdown),
                    Err(_) => None,
                }),
            new_am_rm_token,
        })
    }

    /// Unregisters with the final status; true once the RM has recorded it
    /// (call again while false).
    pub async fn finish(
        &self,
        status: FinalStatus,
        diagnostics: &str,
        tracking_url: &str,
    ) -> Result<bool> {
        let request = pb::FinishApplicationMasterRequestProto {
            diagnostics: Some(diagnostics.to_string()),
            tracking_url: Some(tracking_url.to_string()),
            final_application_status: Some(final_status_to_proto(status) as i32),
        };
        let r: pb::FinishApplicationMasterResponseProto =
            self.rpc.call("finishApplicationMaster", &request).await?;
        if r.is_unregistered() {
            self.unregistered
                .store(true, std::sync::atomic::Ordering::SeqCst);
        }
        Ok(r.is_unregistered())
    }
}

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
        containers: &[(&Container, &LaunchContext)],
    ) -> Result<ContainerResults> {
        let mut requests = Vec::new();
        for (container, launch) in containers {
            let token = container
                .token
                .as_ref()
                .ok_or_else(|| missing("startContainers", "the container's token"))?;
            requests.push(pb::StartContainerRequestProto {
                container_launch_context: Some(launch_to_proto(launch)),
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
        results(&r.succeeded_requests, &r.failed_requests)
    }

    /// Stops (kills) containers.
    pub async fn stop_containers(&self, ids: &[ContainerId]) -> Result<ContainerResults> {
        let request = pb::StopContainersRequestProto {
            container_id: ids.iter().map(|c| container_id_to_proto(*c)).collect(),
        };
        let r: pb::StopContainersResponseProto = self.rpc.call("stopContainers", &request).await?;
        results(&r.succeeded_requests, &r.failed_requests)
    }

    /// Current statuses; containers the NM could not report come back in
    /// the second list with its reason.
    pub async fn container_statuses(
        &self,
        ids: &[ContainerId],
    ) -> Result<(Vec<ContainerStatus>, Vec<(ContainerId, String)>)> {
        let request = pb::GetContainerStatusesRequestProto {
            container_id: ids.iter().map(|c| container_id_to_proto(*c)).collect(),
        };
        let r: pb::GetContainerStatusesResponseProto = self
            .rpc
            .call_idempotent("getContainerStatuses", &request)
            .await?;
        let statuses = r
            .status
            .iter()
            .map(container_status_from_proto)
            .collect::<Result<_>>()?;
        Ok((statuses, results(&[], &r.failed_requests)?.failed))
    }
}

// ------------------------------------------------------------ token identifiers

// ------------------------------------------------------------- conversions

fn missing(method: &str, field: &str) -> Error {
    Error::Malformed {
        what: format!("{method} answer"),
        reason: format!("{field} is missing"),
    }
}

fn malformed(what: &str, reason: impl std::fmt::Display) -> Error {
    Error::Malformed {
        what: what.to_string(),
        reason: reason.to_string(),
    }
}

fn resource_from_proto(r: Option<&pb::ResourceProto>) -> Resource {
    r.map(|r| Resource {
        memory_mb: r.memory(),
        vcores: r.virtual_cores(),
    })
    .unwrap_or_default()
}

fn resource_to_proto(r: Resource) -> pb::ResourceProto {
    pb::ResourceProto {
        memory: Some(r.memory_mb),
        virtual_cores: Some(r.vcores),
    }
}

fn app_id_from_proto(p: &pb::ApplicationIdProto) -> ApplicationId {
    ApplicationId::new(p.cluster_timestamp(), p.id())
}

fn app_id_to_proto(id: ApplicationId) -> pb::ApplicationIdProto {
    pb::ApplicationIdProto {
        id: Some(id.id),
        cluster_timestamp: Some(id.cluster_timestamp),
    }
}

fn attempt_id_from_proto(p: &pb::ApplicationAttemptIdProto) -> ApplicationAttemptId {
    let app = p
        .application_id
        .as_ref()
        .map(app_id_from_proto)
        .unwrap_or(ApplicationId::new(0, 0));
    ApplicationAttemptId::new(app, p.attempt_id())
}

fn attempt_id_to_proto(id: ApplicationAttemptId) -> pb::ApplicationAttemptIdProto {
    pb::ApplicationAttemptIdProto {
        application_id: Some(app_id_to_proto(id.application_id)),
        attempt_id: Some(id.attempt_id),
    }
}

fn container_id_from_proto(p: &pb::ContainerIdProto) -> Result<ContainerId> {
    let attempt = p
        .app_attempt_id
        .as_ref()
        .map(attempt_id_from_proto)
        .ok_or_else(|| malformed("container id", "no application attempt"))?;
    Ok(ContainerId {
        attempt_id: attempt,
        container_id: p.id(),
    })
}

fn container_id_to_proto(id: ContainerId) -> pb::ContainerIdProto {
    pb::ContainerIdProto {
        app_id: Some(app_id_to_proto(id.attempt_id.application_id)),
        app_attempt_id: Some(attempt_id_to_proto(id.attempt_id)),
        id: Some(id.container_id),
    }
}

fn node_id_from_proto(p: &pb::NodeIdProto) -> NodeId {
    NodeId::new(p.host(), p.port())
}

fn node_state_from_proto(v: i32) -> Option<NodeState> {
    use pb::NodeStateProto as S;
    Some(match S::try_from(v).ok()? {
        S::NsNew => NodeState::New,
        S::NsRunning => NodeState::Running,
        S::NsUnhealthy => NodeState::Unhealthy,
        S::NsDecommissioned => NodeState::Decommissioned,
        S::NsLost => NodeState::Lost,
        S::NsRebooted => NodeState::Rebooted,
        S::NsDecommissioning => NodeState::Decommissioning,
        S::NsShutdown => NodeState::Shutdown,
    })
}

fn node_state_to_proto(s: NodeState) -> pb::NodeStateProto {
    use pb::NodeStateProto as S;
    match s {
        NodeState::New => S::NsNew,
        NodeState::Running => S::NsRunning,
        NodeState::Unhealthy => S::NsUnhealthy,
        NodeState::Decommissioned => S::NsDecommissioned,
        NodeState::Lost => S::NsLost,
        NodeState::Rebooted => S::NsRebooted,
        NodeState::Decommissioning => S::NsDecommissioning,
        NodeState::Shutdown => S::NsShutdown,
    }
}

fn node_report_from_proto(p: &pb::NodeReportProto) -> Result<NodeReport> {
    Ok(NodeReport {
        node_id: p
            .node_id
            .as_ref()
            .map(node_id_from_proto)
            .ok_or_else(|| malformed("node report", "no node id"))?,
        http_address: p.http_address().to_string(),
        rack: p.rack_name().to_string(),
        used: resource_from_proto(p.used.as_ref()),
        capability: resource_from_proto(p.capability.as_ref()),
        num_containers: p.num_containers(),
        state: p.node_state.and_then(node_state_from_proto),
        health_report: p.health_report().to_string(),
        last_health_report_time: p.last_health_report_time(),
    })
}

fn app_state_from_proto(v: i32) -> Option<AppState> {
    use pb::YarnApplicationStateProto as S;
    Some(match S::try_from(v).ok()? {
        S::New => AppState::New,
        S::NewSaving => AppState::NewSaving,
        S::Submitted => AppState::Submitted,
        S::Accepted => AppState::Accepted,
        S::Running => AppState::Running,
        S::Finished => AppState::Finished,
        S::Failed => AppState::Failed,
        S::Killed => AppState::Killed,
    })
}

fn final_status_from_proto(v: i32) -> Option<FinalStatus> {
    use pb::FinalApplicationStatusProto as S;
    Some(match S::try_from(v).ok()? {
        S::AppUndefined => FinalStatus::Undefined,
        S::AppSucceeded => FinalStatus::Succeeded,
        S::AppFailed => FinalStatus::Failed,
        S::AppKilled => FinalStatus::Killed,
        S::AppEnded => FinalStatus::Ended,
    })
}

fn final_status_to_proto(s: FinalStatus) -> pb::FinalApplicationStatusProto {
    use pb::FinalApplicationStatusProto as S;
    match s {
        FinalStatus::Undefined => S::AppUndefined,
        FinalStatus::Succeeded => S::AppSucceeded,
        FinalStatus::Failed => S::AppFailed,
        FinalStatus::Killed => S::AppKilled,
        FinalStatus::Ended => S::AppEnded,
    }
}

fn app_report_from_proto(p: &pb::ApplicationReportProto) -> Result<AppReport> {
    Ok(AppReport {
        id: p
            .application_id
            .as_ref()
            .map(app_id_from_proto)
            .ok_or_else(|| missing("getApplicationReport", "applicationId"))?,
        user: p.user().to_string(),
        queue: p.queue().to_string(),
        name: p.name().to_string(),
        application_type: p.application_type().to_string(),
        state: p.yarn_application_state.and_then(app_state_from_proto),
        final_status: p.final_application_status.and_then(final_status_from_proto),
        diagnostics: p.diagnostics().to_string(),
        host: p.host().to_string(),
        rpc_port: p.rpc_port(),
        tracking_url: p.tracking_url().to_string(),
        original_tracking_url: p.original_tracking_url().to_string(),
        start_time: p.start_time(),
        finish_time: p.finish_time(),
        progress: p.progress(),
        unmanaged: p.unmanaged_application(),
        tags: p.application_tags.clone(),
        current_attempt: p
            .current_application_attempt_id
            .as_ref()
            .map(attempt_id_from_proto),
        am_rm_token: p.am_rm_token.clone().map(Token::from),
    })
}

fn container_from_proto(p: &pb::ContainerProto) -> Result<Container> {
    Ok(Container {
        id: p
            .id
            .as_ref()
            .map(container_id_from_proto)
            .transpose()?
            .ok_or_else(|| malformed("container", "no container id"))?,
        node_id: p
            .node_id
            .as_ref()
            .map(node_id_from_proto)
            .ok_or_else(|| malformed("container", "no node id"))?,
        node_http_address: p.node_http_address().to_string(),
        resource: resource_from_proto(p.resource.as_ref()),
        priority: p.priority.as_ref().map(|x| x.priority()).unwrap_or(0),
        token: p.container_token.clone().map(Token::from),
    })
}

fn container_status_from_proto(p: &pb::ContainerStatusProto) -> Result<ContainerStatus> {
    use pb::ContainerStateProto as S;
    Ok(ContainerStatus {
        id: p
            .container_id
            .as_ref()
            .map(container_id_from_proto)
            .transpose()?
            .ok_or_else(|| malformed("container status", "no container id"))?,
        state: p.state.and_then(|s| match S::try_from(s).ok()? {
            S::CNew => Some(ContainerState::New),
            S::CRunning => Some(ContainerState::Running),
            S::CComplete => Some(ContainerState::Complete),
        }),
        exit_status: p.exit_status(),
        diagnostics: p.diagnostics().to_string(),
    })
}

fn nm_token_from_proto(p: &pb::NmTokenProto) -> Result<NmToken> {
    Ok(NmToken {
        node_id: p
            .node_id
            .as_ref()
            .map(node_id_from_proto)
            .ok_or_else(|| malformed("NM token", "no node id"))?,
        token: p
            .token
            .clone()
            .map(Token::from)
            .ok_or_else(|| malformed("NM token", "no token"))?,
    })
}

fn launch_to_proto(l: &LaunchContext) -> pb::ContainerLaunchContextProto {
    pb::ContainerLaunchContextProto {
        local_resources: l
            .local_resources
            .iter()
            .map(|(name, r)| pb::StringLocalResourceMapProto {
                key: Some(name.clone()),
                value: Some(pb::LocalResourceProto {
                    resource: Some(pb::UrlProto {
                        scheme: Some(r.scheme.clone()),
                        host: Some(r.host.clone()),
                        port: Some(r.port),
                        file: Some(r.file.clone()),
                        user_info: None,
                    }),
                    size: Some(r.size),
                    timestamp: Some(r.timestamp),
                    r#type: Some(match r.kind {
                        LocalResourceType::Archive => pb::LocalResourceTypeProto::Archive,
                        LocalResourceType::File => pb::LocalResourceTypeProto::File,
                    } as i32),
                    visibility: Some(match r.visibility {
                        Visibility::Public => pb::LocalResourceVisibilityProto::Public,
                        Visibility::Private => pb::LocalResourceVisibilityProto::Private,
                        Visibility::Application => pb::LocalResourceVisibilityProto::Application,
                    } as i32),
                    pattern: None,
                }),
            })
            .collect(),
        tokens: (!l.tokens.is_empty()).then(|| l.tokens.clone()),
        service_data: Vec::new(),
        environment: l
            .environment
            .iter()
            .map(|(k, v)| pb::StringStringMapProto {
                key: Some(k.clone()),
                value: Some(v.clone()),
            })
            .collect(),
        command: l.commands.clone(),
    }
}

fn results(
    succeeded: &[pb::ContainerIdProto],
    failed: &[pb::ContainerExceptionMapProto],
) -> Result<ContainerResults> {
    Ok(ContainerResults {
        succeeded: succeeded
            .iter()
            .map(container_id_from_proto)
            .collect::<Result<_>>()?,
        failed: failed
            .iter()
            .map(|f| {
                let id = f
                    .container_id
                    .as_ref()
                    .map(container_id_from_proto)
                    .transpose()?
                    .ok_or_else(|| malformed("container failure", "no container id"))?;
                let reason = f
                    .exception
                    .as_ref()
                    .map(|e| {
                        format!(
                            "{}: {}",
                            e.class_name(),
                            crate::error::first_line(e.message(), e.class_name())
                        )
                    })
                    .unwrap_or_else(|| "no reason given".into());
                Ok((id, reason))
            })
            .collect::<Result<_>>()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ask_anywhere_is_one_star_line() {
        let asks = ContainerRequest::anywhere(
            Resource {
                memory_mb: 256,
                vcores: 1,
            },
            1,
            2,
        )
        .to_protos();
        assert_eq!(asks.len(), 1);
        assert_eq!(asks[0].resource_name(), "*");
        assert_eq!(asks[0].num_containers(), 2);
        assert!(asks[0].relax_locality());
        assert_eq!(asks[0].capability.as_ref().unwrap().memory(), 256);
    }

    #[test]
    fn ask_with_nodes_adds_node_rack_and_any_lines() {
        let mut r = ContainerRequest::anywhere(
            Resource {
                memory_mb: 128,
                vcores: 1,
            },
            3,
            1,
        );
        r.nodes = vec!["h1".into()];
        r.racks = vec!["/default-rack".into()];
        r.relax_locality = false;
        let asks = r.to_protos();
        let names: Vec<_> = asks.iter().map(|a| a.resource_name().to_string()).collect();
        assert_eq!(names, ["h1", "/default-rack", "*"]);
        assert!(!asks[2].relax_locality());
    }

    #[test]
    fn asks_of_one_priority_share_their_lines_and_any_counts_them_all() {
        let res = Resource {
            memory_mb: 128,
            vcores: 1,
        };
        let on = |nodes: &[&str], count| {
            let mut r = ContainerRequest::anywhere(res, 1, count);
            r.nodes = nodes.iter().map(|n| n.to_string()).collect();
            r.racks = vec!["/default-rack".into()];
            r
        };
        let mut stale = on(&["old"], 0);
        stale.racks.clear();
        let asks = [
            on(&["h1"], 2),
            on(&["h2"], 1),
            ContainerRequest::anywhere(res, 1, 1),
            stale,
        ];
        let lines: Vec<(String, i32)> = ask_table(&asks)
            .iter()
            .map(|l| (l.resource_name().to_string(), l.num_containers()))
            .collect();
        let expect = [
            ("/default-rack", 3),
            ("h1", 2),
            ("h2", 1),
            ("old", 0),
            ("*", 4),
        ];
        assert_eq!(
            lines,
            expect.map(|(n, c)| (n.to_string(), c)).to_vec(),
            "one line per name, counts summed"
        );
        // Another priority keeps lines of its own.
        let two = ask_table(&[on(&["h1"], 1), ContainerRequest::anywhere(res, 2, 5)]);
        assert_eq!(two.len(), 4);
        assert_eq!(two[3].priority.as_ref().unwrap().priority(), 2);
    }

    #[test]
    fn container_id_round_trips_through_proto() {
        let id: ContainerId = "container_e03_1700000000000_0007_02_000011"
            .parse()
            .unwrap();
        let p = container_id_to_proto(id);
        assert_eq!(p.app_attempt_id.as_ref().unwrap().attempt_id(), 2);
        assert_eq!(container_id_from_proto(&p).unwrap(), id);
    }
}
