//! YARN's records as Spindle uses them, one type per concept whichever
//! protocol carries it: the ResourceManager answers the same questions over
//! RPC (protobuf) and over REST (JSON), and both answers become these types,
//! so code above `spindle-hadoop` never depends on which one was asked.
//!
//! The records carry no wire shape: the protobuf conversions are in
//! `convert.rs`, the REST API's JSON shapes in `rest.rs`. A field that only
//! one protocol carries says so; the other leaves it at its default. The
//! enums' serde names are YARN's own (`RUNNING`, `FILE`), the names every
//! YARN API and log uses.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::credentials::Credentials;
use crate::ids::{ApplicationAttemptId, ApplicationId, ContainerId, NodeId};
use crate::{Error, Result, Token};

// ------------------------------------------------------------ the cluster

/// Memory and cores (YARN's `Resource`): a container's size, a node's
/// capacity, the largest container the scheduler grants.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Resource {
    pub memory_mb: i64,
    pub vcores: i32,
}

/// Cluster-wide counters (`YarnClusterMetrics`; REST `/ws/v1/cluster/metrics`).
/// RPC carries the node counts only; REST also the applications, memory,
/// cores and containers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClusterMetrics {
    /// The NodeManagers the RM keeps track of now (RPC only).
    pub node_managers: i32,
    /// Nodes in any state (REST only).
    pub total_nodes: i32,
    pub active_nodes: i32,
    pub decommissioning_nodes: i32,
    pub decommissioned_nodes: i32,
    pub lost_nodes: i32,
    pub unhealthy_nodes: i32,
    pub rebooted_nodes: i32,
    pub shutdown_nodes: i32,
    /// Applications by state (REST only, as all fields below).
    pub apps_submitted: i32,
    pub apps_completed: i32,
    pub apps_pending: i32,
    pub apps_running: i32,
    pub apps_failed: i32,
    pub apps_killed: i32,
    pub total_mb: i64,
    pub available_mb: i64,
    pub allocated_mb: i64,
    pub reserved_mb: i64,
    pub total_virtual_cores: i64,
    pub available_virtual_cores: i64,
    pub allocated_virtual_cores: i64,
    pub reserved_virtual_cores: i64,
    pub containers_allocated: i32,
    pub containers_reserved: i32,
    pub containers_pending: i32,
}

/// The RM itself (REST `/ws/v1/cluster/info`; no RPC call carries it).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClusterInfo {
    /// The cluster timestamp (the first part of application ids).
    pub id: i64,
    pub started_on: i64,
    /// `STARTED`, ...
    pub state: String,
    /// `ACTIVE` or `STANDBY` under HA (`ACTIVE` without it).
    pub ha_state: String,
    pub resource_manager_version: String,
    pub hadoop_version: String,
}

/// The state of a NodeManager (`NodeState`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum NodeState {
    New,
    Running,
    Unhealthy,
    Decommissioned,
    Lost,
    Rebooted,
    Decommissioning,
    Shutdown,
    /// Not sent, or a state this client does not know (a newer Hadoop).
    #[default]
    #[serde(other)]
    Unknown,
}

impl NodeState {
    /// The name YARN uses (`RUNNING`).
    pub fn as_str(self) -> &'static str {
        match self {
            NodeState::New => "NEW",
            NodeState::Running => "RUNNING",
            NodeState::Unhealthy => "UNHEALTHY",
            NodeState::Decommissioned => "DECOMMISSIONED",
            NodeState::Lost => "LOST",
            NodeState::Rebooted => "REBOOTED",
            NodeState::Decommissioning => "DECOMMISSIONING",
            NodeState::Shutdown => "SHUTDOWN",
            NodeState::Unknown => "UNKNOWN",
        }
    }
}

/// A NodeManager as the RM sees it (`NodeReport`; REST `/ws/v1/cluster/nodes`).
#[derive(Clone, Debug, PartialEq)]
pub struct NodeReport {
    /// `host:port` of the NM's RPC server; the host is the node's name.
    pub node_id: NodeId,
    /// `host:port` of the NM's web server (container logs).
    pub http_address: String,
    pub rack: String,
    pub state: NodeState,
    pub health_report: String,
    pub last_health_report_time: i64,
    pub num_containers: i32,
    pub used: Resource,
    /// What the node offers in all (used and available).
    pub capability: Resource,
}

// ------------------------------------------------------------ applications

/// `getNewApplication`'s answer (REST `new-application`): a fresh id and
/// the largest container the scheduler grants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewApplication {
    pub application_id: ApplicationId,
    pub max_resource: Resource,
}

/// YARN's `YarnApplicationState`: where an application is in its life.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AppState {
    New,
    NewSaving,
    Submitted,
    Accepted,
    Running,
    Finished,
    Failed,
    Killed,
    /// Not sent, or a state this client does not know (a newer Hadoop).
    #[default]
    #[serde(other)]
    Unknown,
}

impl AppState {
    /// FINISHED, FAILED or KILLED: the application will not change any more.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            AppState::Finished | AppState::Failed | AppState::Killed
        )
    }

    /// The name YARN uses (`RUNNING`).
    pub fn as_str(self) -> &'static str {
        match self {
            AppState::New => "NEW",
            AppState::NewSaving => "NEW_SAVING",
            AppState::Submitted => "SUBMITTED",
            AppState::Accepted => "ACCEPTED",
            AppState::Running => "RUNNING",
            AppState::Finished => "FINISHED",
            AppState::Failed => "FAILED",
            AppState::Killed => "KILLED",
            AppState::Unknown => "UNKNOWN",
        }
    }
}

/// YARN's `FinalApplicationStatus`: what the AM reported when it finished.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FinalStatus {
    /// Until the application ends (also when the RM sent none).
    #[default]
    Undefined,
    Succeeded,
    Failed,
    Killed,
    Ended,
    /// A status this client does not know (a newer Hadoop).
    #[serde(other)]
    Unknown,
}

/// An application as the RM reports it (`ApplicationReport`; REST
/// `/ws/v1/cluster/apps/{id}`).
#[derive(Clone, Debug, PartialEq)]
pub struct AppReport {
    pub id: ApplicationId,
    /// The attempt running now (RPC only).
    pub current_attempt: Option<ApplicationAttemptId>,
    pub user: String,
    pub queue: String,
    pub name: String,
    pub application_type: String,
    pub application_tags: Vec<String>,
    pub priority: i32,
    pub state: AppState,
    pub final_status: FinalStatus,
    /// From 0.0 to 1.0.
    pub progress: f32,
    pub diagnostics: String,
    /// `host:port` the AM registered with; `None` until it has.
    pub am_rpc_address: Option<String>,
    /// Where the RM sends users: its proxy to the AM's UI while it runs.
    pub tracking_url: Option<String>,
    /// The URL the AM registered, before the RM's proxy (RPC only).
    pub original_tracking_url: Option<String>,
    /// Milliseconds since the epoch; 0 until then.
    pub start_time: i64,
    pub launch_time: i64,
    pub finish_time: i64,
    /// How long it has run, as the RM counts it (REST only).
    pub elapsed_time: i64,
    /// Containers it holds now, the AM's included.
    pub running_containers: i32,
    /// Resources it holds now.
    pub allocated: Resource,
    pub memory_seconds: i64,
    pub vcore_seconds: i64,
    /// Submitted with an AM that runs outside YARN.
    pub unmanaged: bool,
    /// For an unmanaged AM's submitter: the token its AM must use (RPC only).
    pub am_rm_token: Option<Token>,
}

/// A leaf queue as the capacity scheduler reports it (REST `/ws/v1/cluster/scheduler`): what
/// explaining a waiting application needs. Zero where the scheduler does not say (another
/// scheduler, an older release).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QueueInfo {
    /// `root.default`.
    pub path: String,
    /// Percent of the cluster: guaranteed, used, at most.
    pub absolute_capacity: f64,
    pub absolute_used_capacity: f64,
    pub absolute_max_capacity: f64,
    pub num_active_applications: i32,
    pub num_pending_applications: i32,
    /// `maximum-am-resource-percent`, as a fraction (0.1).
    pub max_am_resource: f64,
    /// What the queue's ApplicationMasters may hold, and hold now.
    pub am_resource_limit: Resource,
    pub used_am_resource: Resource,
    /// What one user's ApplicationMasters may hold in the queue.
    pub user_am_resource_limit: Resource,
    pub resources_used: Resource,
}

/// One attempt of an application (REST `/ws/v1/cluster/apps/{id}/appattempts`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AppAttempt {
    /// The attempt number (1, 2, ...).
    pub id: i32,
    pub app_attempt_id: Option<ApplicationAttemptId>,
    /// `NEW`, `LAUNCHED`, `RUNNING`, `FINISHED`, `FAILED`, `KILLED`, ...
    pub app_attempt_state: String,
    pub start_time: i64,
    pub finished_time: i64,
    /// The AM container (absent for an unmanaged AM).
    pub container_id: Option<ContainerId>,
    pub node_id: String,
    pub node_http_address: String,
    pub logs_link: String,
    pub diagnostics_info: String,
}

// ------------------------------------------------------------ launching

/// How a NodeManager treats a file it localizes (`LocalResourceType`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LocalResourceType {
    /// Copied as is.
    #[default]
    File,
    /// Unpacked (zip, tar, jar).
    Archive,
    /// Unpacked in part (a jar with a pattern).
    Pattern,
}

/// Who may share a localized file (`LocalResourceVisibility`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LocalResourceVisibility {
    Public,
    Private,
    /// This application's containers only.
    #[default]
    Application,
}

/// A file the NodeManager downloads into a container's directory before
/// starting it. `size` and `timestamp` must equal the file's length and
/// modification time, or the NodeManager refuses it.
///
/// Its serde form is what Spindle's launch contract carries between its own
/// processes (`type` and `visibility` default to `FILE` and `APPLICATION`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalResource {
    /// e.g. `hdfs://nn:8020/user/u/.spindleStaging/<app>/spindle-app`.
    pub url: String,
    #[serde(rename = "type", default)]
    pub kind: LocalResourceType,
    #[serde(default)]
    pub visibility: LocalResourceVisibility,
    pub size: i64,
    pub timestamp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
}

/// A URL split as YARN's `URL` record holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct UrlParts<'a> {
    pub scheme: &'a str,
    pub host: &'a str,
    /// -1 when the URL names none.
    pub port: i32,
    pub file: &'a str,
}

impl LocalResource {
    /// A plain file visible to this application only.
    pub fn file(url: impl Into<String>, size: i64, timestamp: i64) -> Self {
        LocalResource {
            url: url.into(),
            kind: LocalResourceType::File,
            visibility: LocalResourceVisibility::Application,
            size,
            timestamp,
            pattern: None,
        }
    }

    /// Fails unless the URL is `scheme://host[:port]/path`, which a
    /// NodeManager needs: found early, before any container asks for it.
    pub fn check(&self) -> Result<()> {
        self.url_parts().map(drop)
    }

    /// The URL's scheme, host, port and path.
    pub(crate) fn url_parts(&self) -> Result<UrlParts<'_>> {
        let bad = || Error::Malformed {
            what: format!("local resource URL {:?}", self.url),
            reason: "expected scheme://host[:port]/path".into(),
        };
        let (scheme, rest) = self.url.split_once("://").ok_or_else(bad)?;
        let (authority, file) = rest.find('/').map(|i| rest.split_at(i)).ok_or_else(bad)?;
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) => (h, p.parse::<i32>().map_err(|_| bad())?),
            None => (authority, -1),
        };
        Ok(UrlParts {
            scheme,
            host,
            port,
            file,
        })
    }
}

/// What a NodeManager runs in a container (`ContainerLaunchContext`): the
/// files to localize, the environment, the command and the credentials.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ContainerLaunchContext {
    /// By link name in the container's working directory.
    pub local_resources: BTreeMap<String, LocalResource>,
    pub environment: BTreeMap<String, String>,
    /// Joined with spaces into one command line, run by the NodeManager
    /// through bash; `<LOG_DIR>` and `{{VAR}}` are expanded by YARN.
    pub commands: Vec<String>,
    /// Data for NodeManager auxiliary services, by service name.
    pub service_data: BTreeMap<String, Vec<u8>>,
    /// Tokens and secrets the NodeManager writes to the container's
    /// `HADOOP_TOKEN_FILE_LOCATION` (for an AM, the RM adds its AMRM token).
    pub credentials: Credentials,
}

/// Everything the RM needs to start an application (`ApplicationSubmissionContext`).
#[derive(Clone, Debug)]
pub struct SubmissionContext {
    pub application_id: ApplicationId,
    pub application_name: String,
    /// `None` lets the RM's placement rules decide (usually `default`).
    pub queue: Option<String>,
    pub priority: Option<i32>,
    pub am_container: ContainerLaunchContext,
    /// Of the AM container.
    pub resource: Resource,
    pub application_type: String,
    /// `None` uses the cluster's `yarn.resourcemanager.am.max-attempts`.
    pub max_app_attempts: Option<i32>,
    pub unmanaged_am: bool,
    pub keep_containers_across_application_attempts: bool,
    pub application_tags: Vec<String>,
    /// Failures older than this do not count against `max_app_attempts`.
    pub attempt_failures_validity_interval_ms: Option<i64>,
}

impl SubmissionContext {
    /// A context with the given id, name and AM resource; everything else default.
    pub fn new(application_id: ApplicationId, name: impl Into<String>, resource: Resource) -> Self {
        Self {
            application_id,
            application_name: name.into(),
            queue: None,
            priority: None,
            am_container: ContainerLaunchContext::default(),
            resource,
            application_type: "SPINDLE".into(),
            max_app_attempts: None,
            unmanaged_am: false,
            keep_containers_across_application_attempts: false,
            application_tags: Vec::new(),
            attempt_failures_validity_interval_ms: None,
        }
    }
}

// ------------------------------------------------------------ the AM and the RM

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
    /// The node label expression (a partition) of the `*` line, the only line YARN reads it
    /// from; `None` leaves the queue's default partition.
    pub node_label: Option<String>,
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
            node_label: None,
        }
    }
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
    /// What the ResourceManager is about to take back (None: nothing).
    pub preemption: Option<Preemption>,
}

/// A `PreemptionMessage`: containers the ResourceManager will kill unless the
/// AM gives resources back first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Preemption {
    /// The strict contract: these containers go, whatever the AM does.
    pub strict: Vec<ContainerId>,
    /// The negotiable contract: these containers go unless the AM frees
    /// `resources` some other way (the capacity scheduler names both).
    pub negotiable: Vec<ContainerId>,
    /// The negotiable contract's resources: (size, how many).
    pub resources: Vec<(Resource, i32)>,
}

impl Preemption {
    /// Every container named, strict ones first, each once.
    pub fn containers(&self) -> Vec<ContainerId> {
        let mut out: Vec<ContainerId> = Vec::new();
        for c in self.strict.iter().chain(&self.negotiable) {
            if !out.contains(c) {
                out.push(*c);
            }
        }
        out
    }
}

/// `registerApplicationMaster`'s answer.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Registration {
    pub max_resource: Resource,
    pub queue: String,
    pub containers_from_previous_attempts: Vec<Container>,
    pub nm_tokens_from_previous_attempts: Vec<NmToken>,
}

// ------------------------------------------------------------ the AM and an NM

/// Per-container outcome of a start/stop call on a NodeManager.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ContainerResults {
    pub succeeded: Vec<ContainerId>,
    /// The container and the NM's reason (exception class and message).
    pub failed: Vec<(ContainerId, String)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_resource_urls_split_as_yarn_holds_them() {
        let r = LocalResource::file("hdfs://localhost:9000/a/b", 5, 7);
        let p = r.url_parts().unwrap();
        assert_eq!(
            (p.scheme, p.host, p.port, p.file),
            ("hdfs", "localhost", 9000, "/a/b")
        );
        let no_port = LocalResource::file("hdfs://nn/a", 1, 1);
        assert_eq!(no_port.url_parts().unwrap().port, -1);
        for bad in ["not a uri", "hdfs://nn", "hdfs://nn:x/a"] {
            let e = LocalResource::file(bad, 1, 1)
                .check()
                .unwrap_err()
                .to_string();
            assert!(e.contains(bad), "{e}");
        }
    }

    #[test]
    fn local_resource_serde_form_defaults_to_an_application_file() {
        let parsed: LocalResource =
            serde_json::from_str(r#"{"url":"hdfs://h:1/x","size":1,"timestamp":2}"#).unwrap();
        assert_eq!(parsed, LocalResource::file("hdfs://h:1/x", 1, 2));
        let json = serde_json::to_value(&parsed).unwrap();
        assert_eq!(json["type"], "FILE");
        assert_eq!(json["visibility"], "APPLICATION");
        assert!(json.get("pattern").is_none());
        let e = serde_json::from_str::<LocalResource>(
            r#"{"url":"hdfs://h:1/x","size":1,"timestamp":2,"type":"ZIP"}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("ZIP"), "{e}");
    }
}
