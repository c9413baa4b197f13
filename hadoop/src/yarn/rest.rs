//! Client to ResourceManager over REST (`/ws/v1/cluster/...`): cluster info
//! and metrics, nodes, new application, submit, reports, attempts and kill.
//! Spindle submits applications this way (DESIGN.md).
//!
//! Answers are read into private shapes named after Hadoop's web DAOs
//! (`AppInfo`, `NodeInfo`, ...), tolerantly (every field has a default,
//! unknown fields are ignored; Hadoop 3.5's Jersey 2 leaves out empty lists
//! and maps), and come back as the records of `records.rs`: no JSON leaves
//! this module. An RM `RemoteException` becomes [`Error::RestRemote`] with
//! Hadoop's exception class. With RM HA the client tries each RM web address
//! in turn and sticks to the one that answered.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};

use super::records::{
    AppAttempt, AppReport, AppState, ClusterInfo, ClusterMetrics, FinalStatus, LocalResourceType,
    LocalResourceVisibility, NewApplication, NodeReport, NodeState, QueueInfo, Resource,
    SubmissionContext,
};
use crate::config::Configuration;
use crate::error::{Error, Result};
use crate::ids::{ApplicationAttemptId, ApplicationId, ContainerId, NodeId};
use crate::tls::{HttpsTrust, error_chain};
use crate::token::encode_base64;

/// Filters of `/ws/v1/cluster/apps`; empty fields are not sent.
#[derive(Clone, Debug, Default)]
pub struct AppsFilter {
    pub states: Vec<AppState>,
    pub user: Option<String>,
    pub queue: Option<String>,
    pub limit: Option<u32>,
    pub application_types: Vec<String>,
    pub application_tags: Vec<String>,
    pub started_time_begin: Option<i64>,
    pub started_time_end: Option<i64>,
}

impl AppsFilter {
    fn query(&self) -> Vec<(&'static str, String)> {
        let mut q = Vec::new();
        let join = |v: &[String]| v.join(",");
        if !self.states.is_empty() {
            let states: Vec<String> = self.states.iter().map(|s| s.as_str().to_string()).collect();
            q.push(("states", join(&states)));
        }
        if let Some(u) = &self.user {
            q.push(("user", u.clone()));
        }
        if let Some(queue) = &self.queue {
            q.push(("queue", queue.clone()));
        }
        if let Some(l) = self.limit {
            q.push(("limit", l.to_string()));
        }
        if !self.application_types.is_empty() {
            q.push(("applicationTypes", join(&self.application_types)));
        }
        if !self.application_tags.is_empty() {
            q.push(("applicationTags", join(&self.application_tags)));
        }
        if let Some(t) = self.started_time_begin {
            q.push(("startedTimeBegin", t.to_string()));
        }
        if let Some(t) = self.started_time_end {
            q.push(("startedTimeEnd", t.to_string()));
        }
        q
    }
}

// ---------------------------------------------------------------------------
// Hadoop's JSON shapes (private), read tolerantly, and their records
// ---------------------------------------------------------------------------

/// An application (Hadoop's `AppInfo`). `progress` is in percent here.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct AppInfo {
    #[serde(deserialize_with = "de_opt_parse")]
    id: Option<ApplicationId>,
    user: String,
    name: String,
    queue: String,
    state: AppState,
    final_status: FinalStatus,
    progress: f64,
    tracking_url: Option<String>,
    diagnostics: String,
    application_type: String,
    #[serde(deserialize_with = "de_comma_list")]
    application_tags: Vec<String>,
    priority: i32,
    started_time: i64,
    launch_time: i64,
    finished_time: i64,
    elapsed_time: i64,
    #[serde(rename = "amRPCAddress")]
    am_rpc_address: Option<String>,
    #[serde(rename = "allocatedMB")]
    allocated_mb: i64,
    #[serde(rename = "allocatedVCores")]
    allocated_vcores: i64,
    running_containers: i32,
    memory_seconds: i64,
    vcore_seconds: i64,
    unmanaged_application: bool,
}

impl From<AppInfo> for AppReport {
    fn from(a: AppInfo) -> Self {
        AppReport {
            id: a.id.unwrap_or(ApplicationId::new(0, 0)),
            current_attempt: None,
            user: terminal_safe(&a.user),
            queue: terminal_safe(&a.queue),
            name: terminal_safe(&a.name),
            application_type: a.application_type,
            application_tags: a.application_tags,
            priority: a.priority,
            state: a.state,
            final_status: a.final_status,
            progress: (a.progress / 100.0) as f32,
            diagnostics: terminal_safe(&a.diagnostics),
            am_rpc_address: a.am_rpc_address,
            tracking_url: a.tracking_url,
            original_tracking_url: None,
            start_time: a.started_time,
            launch_time: a.launch_time,
            finish_time: a.finished_time,
            elapsed_time: a.elapsed_time,
            running_containers: a.running_containers,
            allocated: Resource {
                memory_mb: a.allocated_mb,
                vcores: a.allocated_vcores as i32,
            },
            memory_seconds: a.memory_seconds,
            vcore_seconds: a.vcore_seconds,
            unmanaged: a.unmanaged_application,
            am_rm_token: None,
        }
    }
}

/// One attempt (Hadoop's `AppAttemptInfo`).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct AppAttemptInfo {
    id: i32,
    #[serde(deserialize_with = "de_opt_parse")]
    app_attempt_id: Option<ApplicationAttemptId>,
    app_attempt_state: String,
    start_time: i64,
    finished_time: i64,
    #[serde(deserialize_with = "de_opt_parse")]
    container_id: Option<ContainerId>,
    node_id: String,
    node_http_address: String,
    logs_link: String,
    diagnostics_info: String,
}

impl From<AppAttemptInfo> for AppAttempt {
    fn from(a: AppAttemptInfo) -> Self {
        AppAttempt {
            id: a.id,
            app_attempt_id: a.app_attempt_id,
            app_attempt_state: a.app_attempt_state,
            start_time: a.start_time,
            finished_time: a.finished_time,
            container_id: a.container_id,
            node_id: a.node_id,
            node_http_address: a.node_http_address,
            logs_link: a.logs_link,
            diagnostics_info: a.diagnostics_info,
        }
    }
}

/// The RM (Hadoop's `ClusterInfo`).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct ClusterInfoJson {
    id: i64,
    started_on: i64,
    state: String,
    ha_state: String,
    resource_manager_version: String,
    hadoop_version: String,
}

impl From<ClusterInfoJson> for ClusterInfo {
    fn from(c: ClusterInfoJson) -> Self {
        ClusterInfo {
            id: c.id,
            started_on: c.started_on,
            state: c.state,
            ha_state: c.ha_state,
            resource_manager_version: c.resource_manager_version,
            hadoop_version: c.hadoop_version,
        }
    }
}

/// Cluster-wide counters (Hadoop's `ClusterMetricsInfo`).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct ClusterMetricsInfo {
    apps_submitted: i32,
    apps_completed: i32,
    apps_pending: i32,
    apps_running: i32,
    apps_failed: i32,
    apps_killed: i32,
    #[serde(rename = "reservedMB")]
    reserved_mb: i64,
    #[serde(rename = "availableMB")]
    available_mb: i64,
    #[serde(rename = "allocatedMB")]
    allocated_mb: i64,
    #[serde(rename = "totalMB")]
    total_mb: i64,
    reserved_virtual_cores: i64,
    available_virtual_cores: i64,
    allocated_virtual_cores: i64,
    total_virtual_cores: i64,
    containers_allocated: i32,
    containers_reserved: i32,
    containers_pending: i32,
    total_nodes: i32,
    active_nodes: i32,
    lost_nodes: i32,
    unhealthy_nodes: i32,
    decommissioning_nodes: i32,
    decommissioned_nodes: i32,
    rebooted_nodes: i32,
    shutdown_nodes: i32,
}

impl From<ClusterMetricsInfo> for ClusterMetrics {
    fn from(m: ClusterMetricsInfo) -> Self {
        ClusterMetrics {
            node_managers: 0,
            total_nodes: m.total_nodes,
            active_nodes: m.active_nodes,
            decommissioning_nodes: m.decommissioning_nodes,
            decommissioned_nodes: m.decommissioned_nodes,
            lost_nodes: m.lost_nodes,
            unhealthy_nodes: m.unhealthy_nodes,
            rebooted_nodes: m.rebooted_nodes,
            shutdown_nodes: m.shutdown_nodes,
            apps_submitted: m.apps_submitted,
            apps_completed: m.apps_completed,
            apps_pending: m.apps_pending,
            apps_running: m.apps_running,
            apps_failed: m.apps_failed,
            apps_killed: m.apps_killed,
            total_mb: m.total_mb,
            available_mb: m.available_mb,
            allocated_mb: m.allocated_mb,
            reserved_mb: m.reserved_mb,
            total_virtual_cores: m.total_virtual_cores,
            available_virtual_cores: m.available_virtual_cores,
            allocated_virtual_cores: m.allocated_virtual_cores,
            reserved_virtual_cores: m.reserved_virtual_cores,
            containers_allocated: m.containers_allocated,
            containers_reserved: m.containers_reserved,
            containers_pending: m.containers_pending,
        }
    }
}

/// A NodeManager (Hadoop's `NodeInfo`): its capacity is what it uses plus
/// what it has available.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct NodeInfo {
    id: String,
    rack: String,
    state: NodeState,
    #[serde(rename = "nodeHTTPAddress")]
    node_http_address: String,
    health_report: String,
    last_health_update: i64,
    num_containers: i32,
    #[serde(rename = "usedMemoryMB")]
    used_memory_mb: i64,
    #[serde(rename = "availMemoryMB")]
    avail_memory_mb: i64,
    used_virtual_cores: i64,
    available_virtual_cores: i64,
}

impl TryFrom<NodeInfo> for NodeReport {
    type Error = Error;
    fn try_from(n: NodeInfo) -> Result<Self> {
        let vcores = |v: i64| v as i32;
        Ok(NodeReport {
            node_id: n.id.parse::<NodeId>()?,
            http_address: n.node_http_address,
            rack: n.rack,
            state: n.state,
            health_report: n.health_report,
            last_health_report_time: n.last_health_update,
            num_containers: n.num_containers,
            used: Resource {
                memory_mb: n.used_memory_mb,
                vcores: vcores(n.used_virtual_cores),
            },
            capability: Resource {
                memory_mb: n.used_memory_mb + n.avail_memory_mb,
                vcores: vcores(n.used_virtual_cores + n.available_virtual_cores),
            },
        })
    }
}

/// Hadoop's `ResourceInfo`: memory in MB and cores.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize)]
struct ResourceJson {
    #[serde(default)]
    memory: i64,
    #[serde(rename = "vCores", default)]
    vcores: i32,
}

impl From<ResourceJson> for Resource {
    fn from(r: ResourceJson) -> Self {
        Resource {
            memory_mb: r.memory,
            vcores: r.vcores,
        }
    }
}

impl From<Resource> for ResourceJson {
    fn from(r: Resource) -> Self {
        ResourceJson {
            memory: r.memory_mb,
            vcores: r.vcores,
        }
    }
}

/// The answer of `new-application` (Hadoop's `NewApplication`).
#[derive(Debug, Deserialize)]
struct NewApplicationJson {
    #[serde(rename = "application-id", deserialize_with = "de_app_id")]
    application_id: ApplicationId,
    #[serde(rename = "maximum-resource-capability", default)]
    maximum_resource_capability: ResourceJson,
}

impl From<NewApplicationJson> for NewApplication {
    fn from(n: NewApplicationJson) -> Self {
        NewApplication {
            application_id: n.application_id,
            max_resource: n.maximum_resource_capability.into(),
        }
    }
}

fn de_app_id<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<ApplicationId, D::Error> {
    let s = String::deserialize(d)?;
    s.parse().map_err(serde::de::Error::custom)
}

/// An optional id: missing, null, empty or Hadoop's `"null"` is `None`.
fn de_opt_parse<'de, D, T>(d: D) -> std::result::Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: std::str::FromStr<Err = Error>,
{
    match Option::<String>::deserialize(d)? {
        None => Ok(None),
        Some(s) if s.is_empty() || s == "null" => Ok(None),
        Some(s) => s.parse().map(Some).map_err(serde::de::Error::custom),
    }
}

fn de_comma_list<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Vec<String>, D::Error> {
    Ok(Option::<String>::deserialize(d)?
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect())
}

/// `{"key": {"item": [...]}}` where the inner object may be missing, null or
/// empty (Hadoop 3.5 writes `{"apps":{}}` for no applications), and a single
/// item may come as an object instead of a list.
#[derive(Deserialize)]
#[serde(bound = "T: DeserializeOwned")]
struct Listing<T> {
    #[serde(default, alias = "app", alias = "node", alias = "appAttempt")]
    items: OneOrMany<T>,
}

#[derive(Deserialize, Default)]
#[serde(untagged, bound = "T: DeserializeOwned")]
enum OneOrMany<T> {
    Many(Vec<T>),
    One(T),
    #[default]
    None,
}

impl<T> OneOrMany<T> {
    fn into_vec(self) -> Vec<T> {
        match self {
            OneOrMany::Many(v) => v,
            OneOrMany::One(t) => vec![t],
            OneOrMany::None => Vec::new(),
        }
    }
}

#[derive(Deserialize)]
#[serde(bound = "T: DeserializeOwned")]
struct AppsWrapper<T> {
    #[serde(default)]
    apps: Option<Listing<T>>,
}

#[derive(Deserialize)]
struct NodesWrapper {
    #[serde(default)]
    nodes: Option<Listing<NodeInfo>>,
}

#[derive(Deserialize)]
struct AttemptsWrapper {
    #[serde(default, rename = "appAttempts")]
    app_attempts: Option<Listing<AppAttemptInfo>>,
}

#[derive(Deserialize)]
struct AppWrapper {
    app: AppInfo,
}

#[derive(Deserialize)]
struct ClusterInfoWrapper {
    #[serde(rename = "clusterInfo")]
    cluster_info: ClusterInfoJson,
}

#[derive(Deserialize)]
struct ClusterMetricsWrapper {
    #[serde(rename = "clusterMetrics")]
    cluster_metrics: ClusterMetricsInfo,
}

/// The leaf queue `wanted` (path or leaf name) in a scheduler info tree; nested queues are
/// `queues.queue[]`.
fn find_queue(info: &serde_json::Value, wanted: &str) -> Option<QueueInfo> {
    let name = info["queueName"].as_str().unwrap_or_default();
    let path = info["queuePath"].as_str().unwrap_or(name);
    let children = info["queues"]["queue"].as_array();
    if children.is_none_or(|c| c.is_empty()) && !name.is_empty() {
        let leaf = wanted.rsplit('.').next().unwrap_or(wanted);
        if path == wanted || (!wanted.contains('.') && name == leaf) {
            let f = |k: &str| info[k].as_f64().unwrap_or(0.0);
            let i = |k: &str| info[k].as_i64().unwrap_or(0) as i32;
            let r = |k: &str| Resource {
                memory_mb: info[k]["memory"].as_i64().unwrap_or(0),
                vcores: info[k]["vCores"].as_i64().unwrap_or(0) as i32,
            };
            return Some(QueueInfo {
                path: path.to_string(),
                absolute_capacity: f("absoluteCapacity"),
                absolute_used_capacity: f("absoluteUsedCapacity"),
                absolute_max_capacity: f("absoluteMaxCapacity"),
                num_active_applications: i("numActiveApplications"),
                num_pending_applications: i("numPendingApplications"),
                max_am_resource: f("configuredMaxAMResourceLimit"),
                am_resource_limit: r("AMResourceLimit"),
                used_am_resource: r("usedAMResource"),
                user_am_resource_limit: r("userAMResourceLimit"),
                resources_used: r("resourcesUsed"),
            });
        }
    }
    children?.iter().find_map(|c| find_queue(c, wanted))
}

#[derive(Deserialize, Serialize)]
struct StateBody {
    #[serde(default)]
    state: AppState,
}

#[derive(Deserialize)]
struct RemoteExceptionWrapper {
    #[serde(rename = "RemoteException")]
    remote: RemoteExceptionBody,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct RemoteExceptionBody {
    exception: String,
    message: String,
    java_class_name: String,
}

/// Hadoop's JSON map: `{"entry": [{"key": k, "value": v}, ...]}`.
#[derive(Serialize)]
struct EntryMap<V: Serialize> {
    entry: Vec<Entry<V>>,
}

#[derive(Serialize)]
struct Entry<V: Serialize> {
    key: String,
    value: V,
}

impl<V: Serialize> EntryMap<V> {
    fn of<'a, I, K>(iter: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String> + 'a,
    {
        Self {
            entry: iter
                .into_iter()
                .map(|(key, value)| Entry {
                    key: key.into(),
                    value,
                })
                .collect(),
        }
    }
}

#[derive(Serialize)]
struct LocalResourceJson<'a> {
    resource: &'a str,
    #[serde(rename = "type")]
    kind: LocalResourceType,
    visibility: LocalResourceVisibility,
    size: i64,
    timestamp: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pattern: Option<&'a str>,
}

#[derive(Serialize)]
struct CommandsJson {
    command: String,
}

#[derive(Serialize)]
struct CredentialsJson {
    tokens: EntryMap<String>,
    secrets: EntryMap<String>,
}

#[derive(Serialize)]
struct ContainerSpecJson<'a> {
    #[serde(rename = "local-resources")]
    local_resources: EntryMap<LocalResourceJson<'a>>,
    environment: EntryMap<&'a str>,
    commands: CommandsJson,
    #[serde(rename = "service-data")]
    service_data: EntryMap<String>,
    credentials: CredentialsJson,
}

#[derive(Serialize)]
struct TagsJson<'a> {
    tag: &'a [String],
}

#[derive(Serialize)]
struct SubmissionJson<'a> {
    #[serde(rename = "application-id")]
    application_id: String,
    #[serde(rename = "application-name")]
    application_name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    queue: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    priority: Option<i32>,
    #[serde(rename = "am-container-spec")]
    am_container_spec: ContainerSpecJson<'a>,
    #[serde(rename = "unmanaged-AM")]
    unmanaged_am: bool,
    #[serde(rename = "max-app-attempts", skip_serializing_if = "Option::is_none")]
    max_app_attempts: Option<i32>,
    resource: ResourceJson,
    #[serde(rename = "application-type")]
    application_type: &'a str,
    #[serde(rename = "keep-containers-across-application-attempts")]
    keep_containers: bool,
    #[serde(rename = "application-tags")]
    application_tags: TagsJson<'a>,
    #[serde(
        rename = "attempt-failures-validity-interval",
        skip_serializing_if = "Option::is_none"
    )]
    attempt_failures_validity_interval: Option<i64>,
}

/// What the REST API cannot carry, found before sending: Hadoop 3.5's RM
/// reads an empty string value as null and fails with a
/// NullPointerException on an empty secret or service-data entry.
fn check_rest_limits(ctx: &SubmissionContext) -> std::result::Result<(), String> {
    let spec = &ctx.am_container;
    if let Some((alias, _)) = spec.credentials.secrets().find(|(_, s)| s.is_empty()) {
        return Err(format!(
            "secret {alias:?} is empty: the RM REST API cannot carry an empty secret"
        ));
    }
    if let Some((name, _)) = spec.service_data.iter().find(|(_, d)| d.is_empty()) {
        return Err(format!(
            "service data {name:?} is empty: the RM REST API cannot carry empty service data"
        ));
    }
    Ok(())
}

/// The JSON body of `POST /ws/v1/cluster/apps`, with the field names of
/// Hadoop's `ApplicationSubmissionContextInfo` and friends: tokens as
/// `Token.encodeToUrlString`, secrets and service data as base64.
fn submission_json(ctx: &SubmissionContext) -> String {
    let spec = &ctx.am_container;
    let body = SubmissionJson {
        application_id: ctx.application_id.to_string(),
        application_name: &ctx.application_name,
        queue: ctx.queue.as_deref(),
        priority: ctx.priority,
        am_container_spec: ContainerSpecJson {
            local_resources: EntryMap::of(spec.local_resources.iter().map(|(name, r)| {
                (
                    name.as_str(),
                    LocalResourceJson {
                        resource: &r.url,
                        kind: r.kind,
                        visibility: r.visibility,
                        size: r.size,
                        timestamp: r.timestamp,
                        pattern: r.pattern.as_deref(),
                    },
                )
            })),
            environment: EntryMap::of(
                spec.environment
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str())),
            ),
            commands: CommandsJson {
                command: spec.commands.join(" "),
            },
            service_data: EntryMap::of(
                spec.service_data
                    .iter()
                    .map(|(k, v)| (k.as_str(), encode_base64(v))),
            ),
            credentials: CredentialsJson {
                tokens: EntryMap::of(
                    spec.credentials
                        .tokens()
                        .map(|(a, t)| (a, t.encode_url_string())),
                ),
                secrets: EntryMap::of(
                    spec.credentials
                        .secrets()
                        .map(|(a, s)| (a, encode_base64(s))),
                ),
            },
        },
        unmanaged_am: ctx.unmanaged_am,
        max_app_attempts: ctx.max_app_attempts,
        resource: ctx.resource.into(),
        application_type: &ctx.application_type,
        keep_containers: ctx.keep_containers_across_application_attempts,
        application_tags: TagsJson {
            tag: &ctx.application_tags,
        },
        attempt_failures_validity_interval: ctx.attempt_failures_validity_interval_ms,
    };
    serde_json::to_string(&body).expect("the submission body always serializes")
}

// ---------------------------------------------------------------------------
// The client
// ---------------------------------------------------------------------------

/// How long a kill may take before [`RmRestClient::kill`] gives up waiting.
const KILL_WAIT: Duration = Duration::from_secs(60);

/// A client of the RM REST API. Clones share the connection pool and the
/// knowledge of which RM is active.
#[derive(Clone, Debug)]
pub struct RmRestClient {
    http: reqwest::Client,
    /// RM web base URLs (`http://host:port`), in failover order.
    bases: Vec<String>,
    /// The base that answered last.
    active: Arc<AtomicUsize>,
    /// `user.name` for simple authentication; `None` acts as `dr.who`.
    user: Option<String>,
    /// Kerberos: SPNEGO on every call (then `user.name` is not sent).
    spnego: Option<Arc<crate::spnego::Spnego>>,
    /// Kerberos: the user to act for (`doAs`, checked against `hadoop.proxyuser.*`).
    do_as: Option<String>,
    /// The CAs trusted on HTTPS RMs, and the timeouts: what rebuilds `http` ([`Self::with_trust`]).
    trust: HttpsTrust,
    timeouts: (Duration, Duration),
}

impl RmRestClient {
    /// A client for the given RM web addresses (`http://host:port`, or
    /// `host:port`, taken as http), tried in order on connection failures.
    pub fn new(bases: Vec<String>, user: Option<String>) -> Result<Self> {
        Self::with_timeouts(bases, user, Duration::from_secs(5), Duration::from_secs(60))
    }

    /// [`Self::new`] with explicit connect and whole-request timeouts.
    pub fn with_timeouts(
        bases: Vec<String>,
        user: Option<String>,
        connect: Duration,
        request: Duration,
    ) -> Result<Self> {
        if bases.is_empty() {
            return Err(Error::Rest {
                url: "(none)".into(),
                reason: "no ResourceManager web address given".into(),
            });
        }
        let bases: Vec<String> = bases
            .into_iter()
            .map(|b| {
                let b = b.trim_end_matches('/');
                if b.contains("://") {
                    b.to_string()
                } else {
                    format!("http://{b}")
                }
            })
            .collect();
        let trust = HttpsTrust::system()?;
        Ok(Self {
            http: http_client(&bases, &trust, (connect, request))?,
            bases,
            active: Arc::new(AtomicUsize::new(0)),
            user,
            spnego: None,
            do_as: None,
            trust,
            timeouts: (connect, request),
        })
    }

    /// Trusts the CAs of `trust` on HTTPS RMs (instead of the system's).
    pub fn with_trust(mut self, trust: HttpsTrust) -> Result<Self> {
        self.http = http_client(&self.bases, &trust, self.timeouts)?;
        self.trust = trust;
        Ok(self)
    }

    /// Whether SPNEGO got a `hadoop.auth` cookie that later calls reuse.
    pub fn holds_auth_cookie(&self) -> bool {
        self.spnego.as_ref().is_some_and(|s| s.cookie().is_some())
    }

    /// Acts for `user` (`doAs`): the authenticated user must be allowed to
    /// impersonate it by the RM's `hadoop.proxyuser.*` settings.
    pub fn with_do_as(mut self, user: &str) -> Self {
        self.do_as = Some(user.to_string());
        self
    }

    /// Authenticates every call with SPNEGO as `login` (a Kerberized RM).
    pub fn with_kerberos(mut self, login: &crate::kerberos::Login) -> Self {
        self.spnego = Some(Arc::new(crate::spnego::Spnego::new(
            login.credential.clone(),
        )));
        self.user = None;
        self
    }

    /// A client for the RM (or RMs, with HA) named by a Hadoop configuration, trusting the
    /// CAs its `ssl-client.xml` names in PEM, else the system's (see [`HttpsTrust::load`]).
    pub fn from_config(conf: &Configuration, user: Option<String>) -> Result<Self> {
        Self::new(conf.rm_web_urls()?, user)?.with_trust(HttpsTrust::load(conf, None)?)
    }

    /// The RM web addresses, in failover order.
    pub fn bases(&self) -> &[String] {
        &self.bases
    }

    /// The RM web address that answered last.
    pub fn active_base(&self) -> &str {
        &self.bases[self.active.load(Ordering::Relaxed) % self.bases.len()]
    }

    /// Sends one request, failing over to the next RM on connection errors
    /// (not on HTTP errors: an RM that answers is authoritative). Returns the
    /// status and the body of a 2xx answer; other statuses become errors.
    async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<String>,
    ) -> Result<(StatusCode, String)> {
        let start = self.active.load(Ordering::Relaxed);
        let mut failures = Vec::new();
        for i in 0..self.bases.len() {
            let idx = (start + i) % self.bases.len();
            let url = format!("{}{}", self.bases[idx], path);
            let resp = match self.send(&method, &url, query, body.as_deref()).await {
                Ok(r) => r,
                Err(Sent::Unreachable(why)) => {
                    failures.push(why);
                    continue;
                }
                Err(Sent::Failed(e)) => return Err(e),
            };
            let status = resp.status();
            if status.is_redirection() {
                // Followed only between the configured ResourceManagers (the policy above).
                let to = resp.headers().get(reqwest::header::LOCATION);
                let to = terminal_safe(to.and_then(|l| l.to_str().ok()).unwrap_or("?"));
                return Err(Error::Rest {
                    url,
                    reason: format!(
                        "HTTP {status} to {to}: not one of the configured ResourceManagers, \
                         not followed"
                    ),
                });
            }
            let text = read_bounded(resp).await.map_err(|reason| Error::Rest {
                url: url.clone(),
                reason: format!("reading the answer: {reason}"),
            })?;
            // A standby RM that knows the active one answers 307 (followed above);
            // one that does not answers 503 without a RemoteException: try the next.
            if status == StatusCode::SERVICE_UNAVAILABLE && !is_remote_exception(&text) {
                failures.push(format!("{url}: HTTP 503 {}", snippet(&text)));
                continue;
            }
            self.active.store(idx, Ordering::Relaxed);
            if status.is_success() {
                return Ok((status, text));
            }
            return Err(remote_error(&url, status, &text));
        }
        Err(Error::Rest {
            url: self.bases.join(", "),
            reason: format!(
                "no ResourceManager reachable or active: {}",
                failures.join("; ")
            ),
        })
    }

    /// One request to `url`, with SPNEGO when Kerberized: the cookie if we
    /// hold one, else (or when the cookie is refused) a fresh Negotiate token.
    async fn send(
        &self,
        method: &Method,
        url: &str,
        query: &[(&str, String)],
        body: Option<&str>,
    ) -> std::result::Result<reqwest::Response, Sent> {
        let mut use_cookie = true;
        loop {
            let mut req = self
                .http
                .request(method.clone(), url)
                .header(reqwest::header::ACCEPT, "application/json");
            let mut q: Vec<(&str, String)> = query.to_vec();
            if let Some(user) = &self.user {
                q.push(("user.name", user.clone()));
            }
            if let Some(user) = &self.do_as {
                q.push(("doAs", user.clone()));
            }
            if !q.is_empty() {
                req = req.query(&q);
            }
            if let Some(b) = body {
                req = req
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(b.to_string());
            }
            let cookie = self.spnego.as_ref().and_then(|s| s.cookie());
            if let Some(spnego) = &self.spnego {
                match cookie.as_ref().filter(|_| use_cookie) {
                    Some(c) => {
                        req = req.header(
                            reqwest::header::COOKIE,
                            format!("{}={c}", crate::spnego::AUTH_COOKIE),
                        )
                    }
                    None => {
                        let auth = spnego.authorization(url).map_err(Sent::Failed)?;
                        req = req.header(reqwest::header::AUTHORIZATION, auth);
                    }
                }
            }
            let resp = match req.send().await {
                Ok(r) => r,
                Err(e) if e.is_connect() || (e.is_timeout() && !e.is_body()) => {
                    return Err(Sent::Unreachable(format!(
                        "{url}: {}",
                        self.trust.explain(&e)
                    )));
                }
                Err(e) => {
                    return Err(Sent::Failed(Error::Rest {
                        url: url.to_string(),
                        reason: self.trust.explain(&e),
                    }));
                }
            };
            let unauthorized = resp.status() == StatusCode::UNAUTHORIZED;
            match &self.spnego {
                Some(spnego) => {
                    spnego.remember(
                        resp.headers()
                            .get_all(reqwest::header::SET_COOKIE)
                            .iter()
                            .filter_map(|v| v.to_str().ok()),
                    );
                    if unauthorized && use_cookie && cookie.is_some() {
                        // The cookie expired or another RM signed it: negotiate again.
                        spnego.forget();
                        use_cookie = false;
                        continue;
                    }
                }
                None if unauthorized && wants_negotiate(&resp) => {
                    return Err(Sent::Failed(Error::Kerberos {
                        reason: format!(
                            "{url} requires Kerberos (HTTP 401, WWW-Authenticate: Negotiate), but the \
                             client configuration says hadoop.security.authentication=simple: use the \
                             cluster's own configuration (HADOOP_CONF_DIR) with \
                             hadoop.security.authentication=kerberos"
                        ),
                    }));
                }
                None => {}
            }
            return Ok(resp);
        }
    }

    async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T> {
        let (_, text) = self.call(Method::GET, path, query, None).await?;
        self.parse(path, &text)
    }

    fn parse<T: DeserializeOwned>(&self, path: &str, text: &str) -> Result<T> {
        serde_json::from_str(text).map_err(|e| Error::Rest {
            url: format!("{}{}", self.active_base(), path),
            reason: format!("unexpected answer ({e}): {}", snippet(text)),
        })
    }

    /// `GET /ws/v1/cluster/info`.
    pub async fn cluster_info(&self) -> Result<ClusterInfo> {
        let w: ClusterInfoWrapper = self.get_json("/ws/v1/cluster/info", &[]).await?;
        Ok(w.cluster_info.into())
    }

    /// `GET /ws/v1/cluster/metrics`.
    pub async fn cluster_metrics(&self) -> Result<ClusterMetrics> {
        let w: ClusterMetricsWrapper = self.get_json("/ws/v1/cluster/metrics", &[]).await?;
        Ok(w.cluster_metrics.into())
    }

    /// `GET /ws/v1/cluster/scheduler`: the leaf queue named `queue` (a path such as
    /// `root.default`, or a leaf's own name), if the scheduler reports one.
    pub async fn scheduler_queue(&self, queue: &str) -> Result<Option<QueueInfo>> {
        let v: serde_json::Value = self.get_json("/ws/v1/cluster/scheduler", &[]).await?;
        Ok(find_queue(&v["scheduler"]["schedulerInfo"], queue))
    }

    /// `GET /ws/v1/cluster/nodes` (the RM's default: nodes in any usable state).
    pub async fn nodes(&self) -> Result<Vec<NodeReport>> {
        let w: NodesWrapper = self.get_json("/ws/v1/cluster/nodes", &[]).await?;
        w.nodes
            .map(|l| l.items.into_vec())
            .unwrap_or_default()
            .into_iter()
            .map(NodeReport::try_from)
            .collect()
    }

    /// `POST /ws/v1/cluster/apps/new-application`: reserves an application id.
    pub async fn new_application(&self) -> Result<NewApplication> {
        let path = "/ws/v1/cluster/apps/new-application";
        let (_, text) = self.call(Method::POST, path, &[], None).await?;
        Ok(self.parse::<NewApplicationJson>(path, &text)?.into())
    }

    /// `POST /ws/v1/cluster/apps`: the RM answers 202 Accepted once it has
    /// taken the application; rejections come back as [`Error::RestRemote`].
    pub async fn submit(&self, ctx: &SubmissionContext) -> Result<()> {
        let path = "/ws/v1/cluster/apps";
        check_rest_limits(ctx).map_err(|reason| Error::Rest {
            url: format!("{}{}", self.active_base(), path),
            reason,
        })?;
        let (status, _) = self
            .call(Method::POST, path, &[], Some(submission_json(ctx)))
            .await?;
        if status != StatusCode::ACCEPTED {
            return Err(Error::Rest {
                url: format!("{}{}", self.active_base(), path),
                reason: format!("submission answered {status}, expected 202 Accepted"),
            });
        }
        Ok(())
    }

    /// `GET /ws/v1/cluster/apps/{id}`.
    pub async fn app(&self, id: ApplicationId) -> Result<AppReport> {
        let w: AppWrapper = self
            .get_json(&format!("/ws/v1/cluster/apps/{id}"), &[])
            .await?;
        Ok(w.app.into())
    }

    /// `GET /ws/v1/cluster/apps` with filters.
    pub async fn apps(&self, filter: &AppsFilter) -> Result<Vec<AppReport>> {
        let w: AppsWrapper<AppInfo> = self
            .get_json("/ws/v1/cluster/apps", &filter.query())
            .await?;
        let apps = w.apps.map(|l| l.items.into_vec()).unwrap_or_default();
        Ok(apps.into_iter().map(AppReport::from).collect())
    }

    /// `GET /ws/v1/cluster/apps/{id}/appattempts`.
    pub async fn attempts(&self, id: ApplicationId) -> Result<Vec<AppAttempt>> {
        let w: AttemptsWrapper = self
            .get_json(&format!("/ws/v1/cluster/apps/{id}/appattempts"), &[])
            .await?;
        let attempts = w.app_attempts.map(|l| l.items.into_vec());
        Ok(attempts
            .unwrap_or_default()
            .into_iter()
            .map(AppAttempt::from)
            .collect())
    }

    /// `GET /ws/v1/cluster/apps/{id}/state`.
    pub async fn app_state(&self, id: ApplicationId) -> Result<AppState> {
        let w: StateBody = self
            .get_json(&format!("/ws/v1/cluster/apps/{id}/state"), &[])
            .await?;
        Ok(w.state)
    }

    /// `PUT /ws/v1/cluster/apps/{id}/state` to `KILLED`, then waits (up to a
    /// minute) until the application is in a final state, which it returns:
    /// `KILLED`, or `FINISHED`/`FAILED` if it ended first.
    pub async fn kill(&self, id: ApplicationId) -> Result<AppState> {
        let path = format!("/ws/v1/cluster/apps/{id}/state");
        let body = serde_json::to_string(&StateBody {
            state: AppState::Killed,
        })
        .expect("state serializes");
        let (_, text) = self.call(Method::PUT, &path, &[], Some(body)).await?;
        let mut state = self.parse::<StateBody>(&path, &text)?.state;
        let deadline = tokio::time::Instant::now() + KILL_WAIT;
        while !state.is_final() {
            if tokio::time::Instant::now() > deadline {
                return Err(Error::Rest {
                    url: format!("{}{}", self.active_base(), path),
                    reason: format!(
                        "{id} still {} after {}s",
                        state.as_str(),
                        KILL_WAIT.as_secs()
                    ),
                });
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            state = self.app_state(id).await?;
        }
        Ok(state)
    }
}

/// An answer to `GET /ws/v1/cluster/apps/{id}` decoded as [`RmRestClient::app`]
/// decodes it, and as an error answer; for the fuzz targets. What would reach
/// a terminal never holds a control character.
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) fn fuzz_app_answer(body: &[u8]) {
    let text = String::from_utf8_lossy(body);
    let shown = match serde_json::from_str::<AppWrapper>(&text) {
        Ok(w) => {
            let report = AppReport::from(w.app);
            let _ = format!("{report:?}");
            None
        }
        Err(e) => Some(format!("unexpected answer ({e}): {}", snippet(&text))),
    };
    let remote = remote_error("http://rm:8088/x", StatusCode::NOT_FOUND, &text).to_string();
    for s in shown.iter().chain([&remote]) {
        assert!(
            !s.chars().any(|c| c.is_control() && c != '\n' && c != '\t'),
            "a control character would reach the terminal: {s:?}"
        );
    }
}

/// How [`RmRestClient::send`] failed: an RM that did not answer (try the
/// next) or an error that another RM would not fix.
enum Sent {
    Unreachable(String),
    Failed(Error),
}

/// Whether a 401 asks for SPNEGO.
fn wants_negotiate(resp: &reqwest::Response) -> bool {
    resp.headers()
        .get_all(reqwest::header::WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.trim_start().to_ascii_lowercase().starts_with("negotiate"))
}

fn is_remote_exception(text: &str) -> bool {
    serde_json::from_str::<RemoteExceptionWrapper>(text).is_ok()
}

/// A non-2xx answer as an error: Hadoop's `RemoteException` when the body is
/// one, else the status and the start of the body.
fn remote_error(url: &str, status: StatusCode, text: &str) -> Error {
    match serde_json::from_str::<RemoteExceptionWrapper>(text) {
        Ok(w) => Error::RestRemote {
            url: url.to_string(),
            status: status.as_u16(),
            exception: terminal_safe(&w.remote.exception),
            message: first_line(&w.remote.message),
            java_class_name: terminal_safe(&w.remote.java_class_name),
        },
        Err(_) => Error::Rest {
            url: url.to_string(),
            reason: format!("HTTP {status}: {}", snippet(text)),
        },
    }
}

fn first_line(s: &str) -> String {
    terminal_safe(s.lines().next().unwrap_or("").trim())
}

/// Text from a server made safe to print: control characters other than
/// newline and tab (terminal escape sequences among them) become U+FFFD.
pub(super) fn terminal_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                '\u{fffd}'
            } else {
                c
            }
        })
        .collect()
}

/// The largest answer read from a ResourceManager: a listing of thousands of
/// applications is a few MiB; more is refused, not buffered.
const MAX_BODY: usize = 64 << 20;

/// The body of `resp` as text, refused past [`MAX_BODY`].
async fn read_bounded(mut resp: reqwest::Response) -> std::result::Result<String, String> {
    let too_big = || format!("the answer is over {} MiB, refused", MAX_BODY >> 20);
    if resp.content_length().is_some_and(|n| n > MAX_BODY as u64) {
        return Err(too_big());
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| error_chain(&e))? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(too_big());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(String::from_utf8_lossy(&body).into_owned())
}

/// Redirects are followed only to the configured ResourceManagers (a standby
/// answers 307 to the active one); anywhere else a submission (with its
/// credentials) must never be re-sent.
fn redirect_policy(bases: &[String]) -> reqwest::redirect::Policy {
    let allowed: Vec<String> = bases.iter().map(|b| authority(b)).collect();
    reqwest::redirect::Policy::custom(move |attempt| {
        let to = authority(attempt.url().as_str());
        if attempt.previous().len() < 5 && allowed.contains(&to) {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

/// `host:port` of a URL, lowercased, with the scheme's default port.
fn authority(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("http", url));
    let hostport = rest
        .split(['/', '?', '#'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    let hostport = hostport.rsplit('@').next().unwrap_or("").to_string();
    if hostport
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        hostport
    } else {
        let port = if scheme.eq_ignore_ascii_case("https") {
            443
        } else {
            80
        };
        format!("{hostport}:{port}")
    }
}

/// The first 200 characters of a body, on one line.
fn snippet(text: &str) -> String {
    let one_line = terminal_safe(&text.split_whitespace().collect::<Vec<_>>().join(" "));
    let mut s: String = one_line.chars().take(200).collect();
    if one_line.chars().count() > 200 {
        s.push('…');
    }
    if s.is_empty() {
        "(empty body)".into()
    } else {
        s
    }
}

/// The RM client's HTTP client: `trust`'s CAs, the timeouts, redirects only between the RMs.
fn http_client(
    bases: &[String],
    trust: &HttpsTrust,
    (connect, request): (Duration, Duration),
) -> Result<reqwest::Client> {
    // Hadoop's web servers close idle connections after hadoop.http.idle_timeout.ms (60 s);
    // hyper keeps them 90 s, and a request sent on one the server is closing fails with
    // "connection closed before message completed". Reconnecting is cheap: keep them 5 s.
    trust
        .client_builder()
        .connect_timeout(connect)
        .timeout(request)
        .redirect(redirect_policy(bases))
        .pool_idle_timeout(Duration::from_secs(5))
        .build()
        .map_err(|e| Error::Rest {
            url: "(client)".into(),
            reason: format!("cannot build the HTTP client: {e}"),
        })
}

#[cfg(test)]
mod tests {

    /// Hadoop 3.5.0's capacity scheduler answer (trimmed: the fields read, from a mini-Hadoop
    /// whose queue admits one ApplicationMaster).
    #[test]
    fn a_leaf_queue_is_found_by_path_or_name() {
        let v: serde_json::Value = serde_json::from_str(
            r#"{"scheduler":{"schedulerInfo":{"type":"capacityScheduler","queueName":"root","queuePath":"root",
              "queues":{"queue":[{"type":"capacitySchedulerLeafQueueInfo","queuePath":"root.default",
              "queueName":"default","absoluteCapacity":100.0,"absoluteMaxCapacity":100.0,
              "absoluteUsedCapacity":18.75,"numActiveApplications":1,"numPendingApplications":1,
              "configuredMaxAMResourceLimit":0.1,"resourcesUsed":{"memory":384,"vCores":2},
              "AMResourceLimit":{"memory":224,"vCores":1},"usedAMResource":{"memory":192,"vCores":1},
              "userAMResourceLimit":{"memory":224,"vCores":1}}]}}}}"#,
        )
        .unwrap();
        let info = &v["scheduler"]["schedulerInfo"];
        let q = find_queue(info, "root.default").unwrap();
        assert_eq!(q.path, "root.default");
        assert_eq!(
            (q.num_active_applications, q.num_pending_applications),
            (1, 1)
        );
        assert_eq!(
            q.am_resource_limit,
            Resource {
                memory_mb: 224,
                vcores: 1
            }
        );
        assert_eq!(q.used_am_resource.memory_mb, 192);
        assert_eq!(q.max_am_resource, 0.1);
        assert_eq!(q.absolute_used_capacity, 18.75);
        assert_eq!(find_queue(info, "default"), Some(q));
        assert_eq!(find_queue(info, "root"), None, "root is not a leaf");
        assert_eq!(find_queue(info, "root.nosuch"), None);
    }
    use super::*;
    use crate::token::Token;
    use crate::yarn::LocalResource;

    #[test]
    fn submission_json_has_hadoops_field_names() {
        let mut ctx = SubmissionContext::new(
            "application_1_0007".parse().unwrap(),
            "wordcount",
            Resource {
                memory_mb: 512,
                vcores: 1,
            },
        );
        ctx.queue = Some("default".into());
        ctx.max_app_attempts = Some(1);
        ctx.application_tags = vec!["a".into(), "b".into()];
        let spec = &mut ctx.am_container;
        spec.local_resources.insert(
            "driver".into(),
            LocalResource {
                url: "hdfs://nn:8020/x/driver".into(),
                kind: LocalResourceType::File,
                visibility: LocalResourceVisibility::Application,
                size: 10,
                timestamp: 20,
                pattern: None,
            },
        );
        spec.environment.insert("ROLE".into(), "am".into());
        spec.commands = vec!["./driver".into(), "1><LOG_DIR>/stdout".into()];
        spec.service_data.insert("svc".into(), b"hi".to_vec());
        spec.credentials.add_token(
            "alias1",
            Token {
                identifier: b"abc".to_vec(),
                password: b"pw".to_vec(),
                kind: "TEST_KIND".into(),
                service: "127.0.0.1:1234".into(),
            },
        );
        spec.credentials
            .add_secret("sparkCookie", b"secret".to_vec());
        let v: serde_json::Value = serde_json::from_str(&submission_json(&ctx)).unwrap();
        let expected = serde_json::json!({
            "application-id": "application_1_0007",
            "application-name": "wordcount",
            "queue": "default",
            "am-container-spec": {
                "local-resources": {"entry": [{"key": "driver", "value": {
                    "resource": "hdfs://nn:8020/x/driver", "type": "FILE",
                    "visibility": "APPLICATION", "size": 10, "timestamp": 20}}]},
                "environment": {"entry": [{"key": "ROLE", "value": "am"}]},
                "commands": {"command": "./driver 1><LOG_DIR>/stdout"},
                "service-data": {"entry": [{"key": "svc", "value": "aGk="}]},
                "credentials": {
                    "tokens": {"entry": [{"key": "alias1", "value": "A2FiYwJwdwlURVNUX0tJTkQOMTI3LjAuMC4xOjEyMzQ"}]},
                    "secrets": {"entry": [{"key": "sparkCookie", "value": "c2VjcmV0"}]}
                }
            },
            "unmanaged-AM": false,
            "max-app-attempts": 1,
            "resource": {"memory": 512, "vCores": 1},
            "application-type": "SPINDLE",
            "keep-containers-across-application-attempts": false,
            "application-tags": {"tag": ["a", "b"]}
        });
        assert_eq!(v, expected);
    }

    #[test]
    fn parses_hadoop_35_shapes_tolerantly() {
        let empty: AppsWrapper<AppInfo> = serde_json::from_str(r#"{"apps":{}}"#).unwrap();
        assert!(empty.apps.unwrap().items.into_vec().is_empty());
        let null: AppsWrapper<AppInfo> = serde_json::from_str(r#"{"apps":null}"#).unwrap();
        assert!(null.apps.is_none());
        let one: NodesWrapper = serde_json::from_str(
            r#"{"nodes":{"node":{"id":"h:1","state":"RUNNING","nodeHTTPAddress":"h:2"}}}"#,
        )
        .unwrap();
        let nodes = one.nodes.unwrap().items.into_vec();
        assert_eq!(nodes.len(), 1);
        let node = NodeReport::try_from(nodes.into_iter().next().unwrap()).unwrap();
        assert_eq!(node.node_id, NodeId::new("h", 1));
        assert_eq!(node.http_address, "h:2");
        assert_eq!(node.state, NodeState::Running);
        let app: AppWrapper = serde_json::from_str(
            r#"{"app":{"id":"application_5_0002","state":"SOMETHING_NEW","finalStatus":"SUCCEEDED",
                "applicationTags":"t1,t2","trackingUI":"History","amRPCAddress":"h:3","extra":{"x":1},
                "progress":50.0}}"#,
        )
        .unwrap();
        let app = AppReport::from(app.app);
        assert_eq!(app.id, ApplicationId::new(5, 2));
        assert_eq!(app.state, AppState::Unknown);
        assert_eq!(app.final_status, FinalStatus::Succeeded);
        assert_eq!(app.application_tags, vec!["t1", "t2"]);
        assert_eq!(app.am_rpc_address.as_deref(), Some("h:3"));
        assert_eq!(
            app.progress, 0.5,
            "REST's percent is a fraction in the record"
        );
        let bare: AppWrapper =
            serde_json::from_str(r#"{"app":{"id":"application_5_0003"}}"#).unwrap();
        let bare = AppReport::from(bare.app);
        assert_eq!(bare.state, AppState::Unknown);
        assert_eq!(bare.final_status, FinalStatus::Undefined);
        assert_eq!(bare.tracking_url, None);
        let attempts: AttemptsWrapper = serde_json::from_str(
            r#"{"appAttempts":{"appAttempt":[{"id":1,"containerId":"container_5_0002_01_000001",
                "appAttemptId":"appattempt_5_0002_000001","appAttemptState":"LAUNCHED","exportPorts":"null"}]}}"#,
        )
        .unwrap();
        let a = &attempts.app_attempts.unwrap().items.into_vec()[0];
        assert_eq!(a.container_id.unwrap().sequence(), 1);
        assert_eq!(a.app_attempt_id.unwrap().attempt_id, 1);
    }

    #[test]
    fn remote_exception_names_are_terminal_safe() {
        // Found by the rest_app_report fuzz target: the class names were printed raw.
        let text = "{\"RemoteException\":{\"exception\":\"Not\\u001b[2JFound\",\
            \"message\":\"m\",\"javaClassName\":\"org.x\\u007fY\"}}";
        let e = remote_error("http://rm:8088/x", StatusCode::NOT_FOUND, text).to_string();
        assert!(!e.chars().any(char::is_control), "{e:?}");
        assert!(e.contains("Not\u{fffd}[2JFound"), "{e:?}");
    }

    #[test]
    fn remote_exception_becomes_a_typed_error() {
        let body = r#"{"RemoteException":{"exception":"NotFoundException","message":"app with id: application_1_0001 not found","javaClassName":"org.apache.hadoop.yarn.webapp.NotFoundException"}}"#;
        match remote_error("http://rm/x", StatusCode::NOT_FOUND, body) {
            Error::RestRemote {
                status,
                exception,
                java_class_name,
                message,
                ..
            } => {
                assert_eq!(status, 404);
                assert_eq!(exception, "NotFoundException");
                assert_eq!(
                    java_class_name,
                    "org.apache.hadoop.yarn.webapp.NotFoundException"
                );
                assert!(message.contains("not found"));
            }
            e => panic!("{e}"),
        }
        let e = remote_error(
            "http://rm/x",
            StatusCode::BAD_GATEWAY,
            "<html>\n<b>oops</b></html>",
        )
        .to_string();
        assert!(
            e.contains("502") && e.contains("<b>oops</b>") && !e.contains('\n'),
            "{e}"
        );
    }

    #[tokio::test]
    async fn unreachable_rms_are_named_in_one_error() {
        // Two closed ports on loopback: both are tried, both named.
        let a = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let b = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let (pa, pb) = (
            a.local_addr().unwrap().port(),
            b.local_addr().unwrap().port(),
        );
        drop((a, b));
        let client = RmRestClient::new(
            vec![format!("127.0.0.1:{pa}"), format!("http://127.0.0.1:{pb}/")],
            None,
        )
        .unwrap();
        let e = client.cluster_info().await.unwrap_err().to_string();
        assert!(
            e.contains(&format!("127.0.0.1:{pa}")) && e.contains(&format!("127.0.0.1:{pb}")),
            "{e}"
        );
        assert!(e.contains("no ResourceManager reachable"), "{e}");
    }
}
