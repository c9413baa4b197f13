//! Protobuf to records and back: the one conversion of each YARN record to
//! and from its Hadoop message, shared by the three RPC partners
//! (`client_rm`, `am_rm`, `am_nm`) and the token identifiers (`token.rs`).
//!
//! Reading follows Hadoop's `*PBImpl` classes: a missing scalar reads as its
//! default (an `ApplicationAttemptIdProto` without its application reads as
//! application 0 of timestamp 0, as `ApplicationAttemptIdPBImpl` does); a
//! missing enum reads as the record's default (`Unknown`, or `Undefined` for a
//! final status) and a value this client does not know as `Unknown`. A
//! message that cannot stand for its record (a container without its id) is
//! an error naming the field. Writing follows Hadoop 3 too: a `ContainerIdProto` carries the
//! attempt and the 64-bit id, never the deprecated `app_id` (field 1), which
//! `ContainerIdPBImpl` neither writes nor reads.

use std::collections::BTreeMap;

use spindle_proto::yarn as pb;

use super::records::*;
use crate::credentials::CredentialsFormat;
use crate::ids::{ApplicationAttemptId, ApplicationId, ContainerId, NodeId};
use crate::{Error, Result, Token};

/// The error for a message without a field its record cannot do without.
pub(crate) fn missing(what: &str, field: &str) -> Error {
    Error::Malformed {
        what: what.to_string(),
        reason: format!("field {field} is missing"),
    }
}

// ------------------------------------------------------------------- ids

impl From<ApplicationId> for pb::ApplicationIdProto {
    fn from(id: ApplicationId) -> Self {
        Self {
            id: Some(id.id),
            cluster_timestamp: Some(id.cluster_timestamp),
        }
    }
}

impl From<&pb::ApplicationIdProto> for ApplicationId {
    fn from(p: &pb::ApplicationIdProto) -> Self {
        ApplicationId::new(p.cluster_timestamp(), p.id())
    }
}

impl From<ApplicationAttemptId> for pb::ApplicationAttemptIdProto {
    fn from(id: ApplicationAttemptId) -> Self {
        Self {
            application_id: Some(id.application_id.into()),
            attempt_id: Some(id.attempt_id),
        }
    }
}

impl From<&pb::ApplicationAttemptIdProto> for ApplicationAttemptId {
    fn from(p: &pb::ApplicationAttemptIdProto) -> Self {
        let app = p
            .application_id
            .as_ref()
            .map(ApplicationId::from)
            .unwrap_or(ApplicationId::new(0, 0));
        ApplicationAttemptId::new(app, p.attempt_id())
    }
}

impl From<ContainerId> for pb::ContainerIdProto {
    fn from(id: ContainerId) -> Self {
        Self {
            app_id: None,
            app_attempt_id: Some(id.attempt_id.into()),
            id: Some(id.container_id),
        }
    }
}

impl TryFrom<&pb::ContainerIdProto> for ContainerId {
    type Error = Error;
    fn try_from(p: &pb::ContainerIdProto) -> Result<Self> {
        let attempt = p
            .app_attempt_id
            .as_ref()
            .ok_or_else(|| missing("ContainerIdProto", "app_attempt_id"))?;
        Ok(ContainerId {
            attempt_id: attempt.into(),
            container_id: p.id(),
        })
    }
}

impl From<NodeId> for pb::NodeIdProto {
    fn from(id: NodeId) -> Self {
        Self {
            host: Some(id.host),
            port: Some(id.port),
        }
    }
}

impl From<&pb::NodeIdProto> for NodeId {
    fn from(p: &pb::NodeIdProto) -> Self {
        NodeId::new(p.host(), p.port())
    }
}

/// A required id field of `what`.
fn container_id(what: &str, p: Option<&pb::ContainerIdProto>) -> Result<ContainerId> {
    p.ok_or_else(|| missing(what, "container_id"))?.try_into()
}

fn node_id(what: &str, p: Option<&pb::NodeIdProto>) -> Result<NodeId> {
    p.map(NodeId::from).ok_or_else(|| missing(what, "node_id"))
}

// ------------------------------------------------------------- the cluster

impl From<Resource> for pb::ResourceProto {
    fn from(r: Resource) -> Self {
        Self {
            memory: Some(r.memory_mb),
            virtual_cores: Some(r.vcores),
        }
    }
}

impl From<&pb::ResourceProto> for Resource {
    fn from(p: &pb::ResourceProto) -> Self {
        Resource {
            memory_mb: p.memory(),
            vcores: p.virtual_cores(),
        }
    }
}

/// An optional resource field: nothing when not sent.
fn resource(p: Option<&pb::ResourceProto>) -> Resource {
    p.map(Resource::from).unwrap_or_default()
}

/// An optional priority field: 0 when not sent.
fn priority(p: Option<&pb::PriorityProto>) -> i32 {
    p.map(|p| p.priority()).unwrap_or(0)
}

impl From<&pb::YarnClusterMetricsProto> for ClusterMetrics {
    fn from(m: &pb::YarnClusterMetricsProto) -> Self {
        ClusterMetrics {
            node_managers: m.num_node_managers(),
            active_nodes: m.num_active_nms(),
            decommissioning_nodes: m.num_decommissioning_nms(),
            decommissioned_nodes: m.num_decommissioned_nms(),
            lost_nodes: m.num_lost_nms(),
            unhealthy_nodes: m.num_unhealthy_nms(),
            rebooted_nodes: m.num_rebooted_nms(),
            shutdown_nodes: m.num_shutdown_nms(),
            ..Default::default()
        }
    }
}

impl From<pb::NodeStateProto> for NodeState {
    fn from(s: pb::NodeStateProto) -> Self {
        use pb::NodeStateProto as S;
        match s {
            S::NsNew => NodeState::New,
            S::NsRunning => NodeState::Running,
            S::NsUnhealthy => NodeState::Unhealthy,
            S::NsDecommissioned => NodeState::Decommissioned,
            S::NsLost => NodeState::Lost,
            S::NsRebooted => NodeState::Rebooted,
            S::NsDecommissioning => NodeState::Decommissioning,
            S::NsShutdown => NodeState::Shutdown,
        }
    }
}

impl TryFrom<NodeState> for pb::NodeStateProto {
    type Error = Error;
    fn try_from(s: NodeState) -> Result<Self> {
        use pb::NodeStateProto as S;
        Ok(match s {
            NodeState::New => S::NsNew,
            NodeState::Running => S::NsRunning,
            NodeState::Unhealthy => S::NsUnhealthy,
            NodeState::Decommissioned => S::NsDecommissioned,
            NodeState::Lost => S::NsLost,
            NodeState::Rebooted => S::NsRebooted,
            NodeState::Decommissioning => S::NsDecommissioning,
            NodeState::Shutdown => S::NsShutdown,
            NodeState::Unknown => {
                return Err(Error::Malformed {
                    what: "node state".into(),
                    reason: "UNKNOWN is no state a ResourceManager knows".into(),
                });
            }
        })
    }
}

impl TryFrom<&pb::NodeReportProto> for NodeReport {
    type Error = Error;
    fn try_from(p: &pb::NodeReportProto) -> Result<Self> {
        Ok(NodeReport {
            node_id: node_id("NodeReportProto", p.node_id.as_ref())?,
            http_address: p.http_address().to_string(),
            rack: p.rack_name().to_string(),
            state: enum_field(
                p.node_state,
                pb::NodeStateProto::try_from,
                NodeState::Unknown,
            ),
            health_report: p.health_report().to_string(),
            last_health_report_time: p.last_health_report_time(),
            num_containers: p.num_containers(),
            used: resource(p.used.as_ref()),
            capability: resource(p.capability.as_ref()),
        })
    }
}

/// An enum field: its record value, the record's default when missing, and
/// `unknown` for a value this client does not know (a newer Hadoop's).
fn enum_field<P, R, E>(
    v: Option<i32>,
    decode: impl Fn(i32) -> std::result::Result<P, E>,
    unknown: R,
) -> R
where
    R: From<P> + Default,
{
    match v {
        None => R::default(),
        Some(v) => decode(v).map(R::from).unwrap_or(unknown),
    }
}

// ------------------------------------------------------------ applications

impl TryFrom<&pb::GetNewApplicationResponseProto> for NewApplication {
    type Error = Error;
    fn try_from(p: &pb::GetNewApplicationResponseProto) -> Result<Self> {
        Ok(NewApplication {
            application_id: p
                .application_id
                .as_ref()
                .map(ApplicationId::from)
                .ok_or_else(|| missing("GetNewApplicationResponseProto", "application_id"))?,
            max_resource: resource(p.maximum_capability.as_ref()),
        })
    }
}

impl From<pb::YarnApplicationStateProto> for AppState {
    fn from(s: pb::YarnApplicationStateProto) -> Self {
        use pb::YarnApplicationStateProto as S;
        match s {
            S::New => AppState::New,
            S::NewSaving => AppState::NewSaving,
            S::Submitted => AppState::Submitted,
            S::Accepted => AppState::Accepted,
            S::Running => AppState::Running,
            S::Finished => AppState::Finished,
            S::Failed => AppState::Failed,
            S::Killed => AppState::Killed,
        }
    }
}

impl From<pb::FinalApplicationStatusProto> for FinalStatus {
    fn from(s: pb::FinalApplicationStatusProto) -> Self {
        use pb::FinalApplicationStatusProto as S;
        match s {
            S::AppUndefined => FinalStatus::Undefined,
            S::AppSucceeded => FinalStatus::Succeeded,
            S::AppFailed => FinalStatus::Failed,
            S::AppKilled => FinalStatus::Killed,
            S::AppEnded => FinalStatus::Ended,
        }
    }
}

impl From<FinalStatus> for pb::FinalApplicationStatusProto {
    /// `Unknown` is sent as `APP_UNDEFINED`, what an AM says that has none.
    fn from(s: FinalStatus) -> Self {
        use pb::FinalApplicationStatusProto as S;
        match s {
            FinalStatus::Undefined | FinalStatus::Unknown => S::AppUndefined,
            FinalStatus::Succeeded => S::AppSucceeded,
            FinalStatus::Failed => S::AppFailed,
            FinalStatus::Killed => S::AppKilled,
            FinalStatus::Ended => S::AppEnded,
        }
    }
}

impl TryFrom<&pb::ApplicationReportProto> for AppReport {
    type Error = Error;
    fn try_from(p: &pb::ApplicationReportProto) -> Result<Self> {
        let usage = p.app_resource_usage.unwrap_or_default();
        // The RM sends host "N/A" and port -1 until the AM registers (as its
        // REST API, which then leaves amRPCAddress out).
        let am_rpc_address = match (p.host.as_deref(), p.rpc_port) {
            (Some(host), Some(port)) if !host.is_empty() && host != "N/A" && port != -1 => {
                Some(format!("{host}:{port}"))
            }
            _ => None,
        };
        Ok(AppReport {
            id: p
                .application_id
                .as_ref()
                .map(ApplicationId::from)
                .ok_or_else(|| missing("ApplicationReportProto", "applicationId"))?,
            current_attempt: p
                .current_application_attempt_id
                .as_ref()
                .map(ApplicationAttemptId::from),
            user: p.user().to_string(),
            queue: p.queue().to_string(),
            name: p.name().to_string(),
            application_type: p.application_type().to_string(),
            application_tags: p.application_tags.clone(),
            priority: priority(p.priority.as_ref()),
            state: enum_field(
                p.yarn_application_state,
                pb::YarnApplicationStateProto::try_from,
                AppState::Unknown,
            ),
            final_status: enum_field(
                p.final_application_status,
                pb::FinalApplicationStatusProto::try_from,
                FinalStatus::Unknown,
            ),
            progress: p.progress(),
            diagnostics: p.diagnostics().to_string(),
            am_rpc_address,
            tracking_url: p.tracking_url.clone(),
            original_tracking_url: p.original_tracking_url.clone(),
            start_time: p.start_time(),
            launch_time: p.launch_time(),
            finish_time: p.finish_time(),
            elapsed_time: 0,
            running_containers: usage.num_used_containers(),
            allocated: resource(usage.used_resources.as_ref()),
            memory_seconds: usage.memory_seconds(),
            vcore_seconds: usage.vcore_seconds(),
            unmanaged: p.unmanaged_application(),
            am_rm_token: p.am_rm_token.clone().map(Token::from),
        })
    }
}

// ------------------------------------------------------------ launching

impl TryFrom<&LocalResource> for pb::LocalResourceProto {
    type Error = Error;
    /// The URL split into YARN's `URL` record; fails unless it is
    /// `scheme://host[:port]/path`.
    fn try_from(r: &LocalResource) -> Result<Self> {
        let url = r.url_parts()?;
        Ok(pb::LocalResourceProto {
            resource: Some(pb::UrlProto {
                scheme: Some(url.scheme.to_string()),
                host: Some(url.host.to_string()),
                port: Some(url.port),
                file: Some(url.file.to_string()),
                user_info: None,
            }),
            size: Some(r.size),
            timestamp: Some(r.timestamp),
            r#type: Some(pb::LocalResourceTypeProto::from(r.kind) as i32),
            visibility: Some(pb::LocalResourceVisibilityProto::from(r.visibility) as i32),
            pattern: r.pattern.clone(),
        })
    }
}

impl From<LocalResourceType> for pb::LocalResourceTypeProto {
    fn from(t: LocalResourceType) -> Self {
        match t {
            LocalResourceType::File => pb::LocalResourceTypeProto::File,
            LocalResourceType::Archive => pb::LocalResourceTypeProto::Archive,
            LocalResourceType::Pattern => pb::LocalResourceTypeProto::Pattern,
        }
    }
}

impl From<LocalResourceVisibility> for pb::LocalResourceVisibilityProto {
    fn from(v: LocalResourceVisibility) -> Self {
        match v {
            LocalResourceVisibility::Public => pb::LocalResourceVisibilityProto::Public,
            LocalResourceVisibility::Private => pb::LocalResourceVisibilityProto::Private,
            LocalResourceVisibility::Application => pb::LocalResourceVisibilityProto::Application,
        }
    }
}

impl TryFrom<&ContainerLaunchContext> for pb::ContainerLaunchContextProto {
    type Error = Error;
    /// The credentials travel as a Writable token storage file, as Hadoop's
    /// and Spark's clients fill `tokens` (`writeTokenStorageToStream`).
    fn try_from(l: &ContainerLaunchContext) -> Result<Self> {
        Ok(pb::ContainerLaunchContextProto {
            local_resources: l
                .local_resources
                .iter()
                .map(|(name, r)| {
                    Ok(pb::StringLocalResourceMapProto {
                        key: Some(name.clone()),
                        value: Some(r.try_into()?),
                    })
                })
                .collect::<Result<_>>()?,
            tokens: (!l.credentials.is_empty())
                .then(|| l.credentials.to_file_bytes(CredentialsFormat::Writable)),
            service_data: l
                .service_data
                .iter()
                .map(|(k, v)| pb::StringBytesMapProto {
                    key: Some(k.clone()),
                    value: Some(v.clone()),
                })
                .collect(),
            environment: l
                .environment
                .iter()
                .map(|(k, v)| pb::StringStringMapProto {
                    key: Some(k.clone()),
                    value: Some(v.clone()),
                })
                .collect(),
            command: l.commands.clone(),
        })
    }
}

// ------------------------------------------------------------ the AM and the RM

/// The scheduler's resource-request lines for one ask: one per node, one
/// per rack and the `*` (any) line. Counts are totals outstanding, not
/// deltas: YARN replaces its table entry on each allocate.
fn request_lines(ask: &ContainerRequest) -> Vec<pb::ResourceRequestProto> {
    let line =
        |name: &str, relax: bool| request_line(ask.priority, ask.resource, name, ask.count, relax);
    let mut out: Vec<_> = ask.nodes.iter().map(|n| line(n, true)).collect();
    out.extend(ask.racks.iter().map(|r| line(r, true)));
    let localized = !ask.nodes.is_empty() || !ask.racks.is_empty();
    let mut any = line("*", ask.relax_locality || !localized);
    any.node_label_expression = ask.node_label.clone();
    out.push(any);
    out
}

fn request_line(
    priority: i32,
    resource: Resource,
    name: &str,
    count: i32,
    relax: bool,
) -> pb::ResourceRequestProto {
    pb::ResourceRequestProto {
        priority: Some(pb::PriorityProto {
            priority: Some(priority),
        }),
        resource_name: Some(name.to_string()),
        capability: Some(resource.into()),
        num_containers: Some(count),
        relax_locality: Some(relax),
        ..Default::default()
    }
}

/// The resource-request table lines for several asks, as Hadoop's AMRMClient
/// builds them: asks of the same priority and size share one line per node,
/// rack and `*`, whose count is the sum over the asks naming it (`*` counts
/// them all). A name sent with 0 clears the RM's line for it. The `*` line carries the node
/// label of the asks sharing it (YARN keeps one per priority and size, as the Java client does).
fn ask_table(asks: &[ContainerRequest]) -> Vec<pb::ResourceRequestProto> {
    /// Resource name -> (count, relax_locality).
    type Lines = BTreeMap<String, (i32, bool)>;
    // (priority, memory, vcores) -> its lines
    let mut table: BTreeMap<(i32, i64, i32), Lines> = BTreeMap::new();
    let mut labels: BTreeMap<(i32, i64, i32), String> = BTreeMap::new();
    let mut order: Vec<(i32, i64, i32)> = Vec::new();
    for ask in asks {
        let key = (ask.priority, ask.resource.memory_mb, ask.resource.vcores);
        if !table.contains_key(&key) {
            order.push(key);
        }
        if let Some(label) = &ask.node_label {
            labels.entry(key).or_insert_with(|| label.clone());
        }
        let lines = table.entry(key).or_default();
        for line in request_lines(ask) {
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
            let resource = Resource { memory_mb, vcores };
            let mut line = request_line(priority, resource, name, count, relax);
            if name == "*" {
                line.node_label_expression = labels.get(&key).cloned();
            }
            out.push(line);
        }
    }
    out
}

/// An allocate heartbeat; `response_id` is the allocate sequence number the
/// AM client keeps.
pub(crate) fn allocate_request(r: &AllocateRequest, response_id: i32) -> pb::AllocateRequestProto {
    let blacklisting = !r.blacklist_additions.is_empty() || !r.blacklist_removals.is_empty();
    pb::AllocateRequestProto {
        ask: ask_table(&r.asks),
        release: r.release.iter().map(|c| (*c).into()).collect(),
        blacklist_request: blacklisting.then(|| pb::ResourceBlacklistRequestProto {
            blacklist_additions: r.blacklist_additions.clone(),
            blacklist_removals: r.blacklist_removals.clone(),
        }),
        response_id: Some(response_id),
        progress: Some(r.progress),
        tracking_url: None,
    }
}

impl TryFrom<&pb::ContainerProto> for Container {
    type Error = Error;
    fn try_from(p: &pb::ContainerProto) -> Result<Self> {
        Ok(Container {
            id: container_id("ContainerProto", p.id.as_ref())?,
            node_id: node_id("ContainerProto", p.node_id.as_ref())?,
            node_http_address: p.node_http_address().to_string(),
            resource: resource(p.resource.as_ref()),
            priority: priority(p.priority.as_ref()),
            token: p.container_token.clone().map(Token::from),
        })
    }
}

impl TryFrom<&pb::ContainerStatusProto> for ContainerStatus {
    type Error = Error;
    fn try_from(p: &pb::ContainerStatusProto) -> Result<Self> {
        use pb::ContainerStateProto as S;
        Ok(ContainerStatus {
            id: container_id("ContainerStatusProto", p.container_id.as_ref())?,
            state: p.state.and_then(|s| match S::try_from(s).ok()? {
                S::CNew => Some(ContainerState::New),
                S::CRunning => Some(ContainerState::Running),
                S::CComplete => Some(ContainerState::Complete),
            }),
            exit_status: p.exit_status(),
            diagnostics: p.diagnostics().to_string(),
        })
    }
}

impl TryFrom<&pb::NmTokenProto> for NmToken {
    type Error = Error;
    fn try_from(p: &pb::NmTokenProto) -> Result<Self> {
        Ok(NmToken {
            node_id: node_id("NMTokenProto", p.node_id.as_ref())?,
            token: p
                .token
                .clone()
                .map(Token::from)
                .ok_or_else(|| missing("NMTokenProto", "token"))?,
        })
    }
}

/// Every element of a repeated field, or the first error.
fn all<'a, P: 'a, R>(items: impl IntoIterator<Item = &'a P>) -> Result<Vec<R>>
where
    R: TryFrom<&'a P, Error = Error>,
{
    items.into_iter().map(R::try_from).collect()
}

impl TryFrom<&pb::RegisterApplicationMasterResponseProto> for Registration {
    type Error = Error;
    fn try_from(r: &pb::RegisterApplicationMasterResponseProto) -> Result<Self> {
        Ok(Registration {
            max_resource: resource(r.maximum_capability.as_ref()),
            queue: r.queue().to_string(),
            containers_from_previous_attempts: all(&r.containers_from_previous_attempts)?,
            nm_tokens_from_previous_attempts: all(&r.nm_tokens_from_previous_attempts)?,
        })
    }
}

impl TryFrom<&pb::AllocateResponseProto> for Allocation {
    type Error = Error;
    fn try_from(r: &pb::AllocateResponseProto) -> Result<Self> {
        Ok(Allocation {
            allocated: all(&r.allocated_containers)?,
            completed: all(&r.completed_container_statuses)?,
            nm_tokens: all(&r.nm_tokens)?,
            available: resource(r.limit.as_ref()),
            num_cluster_nodes: r.num_cluster_nodes(),
            updated_nodes: all(&r.updated_nodes)?,
            command: r
                .a_m_command
                .and_then(|c| match pb::AmCommandProto::try_from(c).ok()? {
                    pb::AmCommandProto::AmResync => Some(AmCommand::Resync),
                    pb::AmCommandProto::AmShutdown => Some(AmCommand::Shutdown),
                }),
            new_am_rm_token: r.am_rm_token.clone().map(Token::from),
            preemption: r.preempt.as_ref().map(preemption).transpose()?,
        })
    }
}

fn preemption(p: &pb::PreemptionMessageProto) -> Result<Preemption> {
    let ids = |cs: &[pb::PreemptionContainerProto]| -> Result<Vec<ContainerId>> {
        cs.iter()
            .map(|c| container_id("PreemptionContainerProto", c.id.as_ref()))
            .collect()
    };
    Ok(Preemption {
        strict: match &p.strict_contract {
            Some(s) => ids(&s.container)?,
            None => Vec::new(),
        },
        negotiable: match &p.contract {
            Some(c) => ids(&c.container)?,
            None => Vec::new(),
        },
        resources: p
            .contract
            .iter()
            .flat_map(|c| &c.resource)
            .filter_map(|r| r.resource.as_ref())
            .map(|r| (resource(r.capability.as_ref()), r.num_containers()))
            .collect(),
    })
}

// ------------------------------------------------------------ the AM and an NM

/// A NodeManager's per-container outcome: the ids it took, and the ones it
/// refused with its reason (exception class and first line of the message).
pub(crate) fn container_results(
    succeeded: &[pb::ContainerIdProto],
    failed: &[pb::ContainerExceptionMapProto],
) -> Result<ContainerResults> {
    Ok(ContainerResults {
        succeeded: all(succeeded)?,
        failed: failed
            .iter()
            .map(|f| {
                let id = container_id("ContainerExceptionMapProto", f.container_id.as_ref())?;
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
    use prost::Message;

    use super::*;

    #[test]
    fn a_preemption_message_reads_both_contracts() {
        let c1: ContainerId = "container_1_0001_01_000002".parse().unwrap();
        let c2: ContainerId = "container_1_0001_01_000003".parse().unwrap();
        let named = |c: ContainerId| pb::PreemptionContainerProto {
            id: Some(pb::ContainerIdProto::from(c)),
        };
        let size = Resource {
            memory_mb: 512,
            vcores: 1,
        };
        let r = pb::AllocateResponseProto {
            preempt: Some(pb::PreemptionMessageProto {
                strict_contract: Some(pb::StrictPreemptionContractProto {
                    container: vec![named(c1)],
                }),
                contract: Some(pb::PreemptionContractProto {
                    resource: vec![pb::PreemptionResourceRequestProto {
                        resource: Some(pb::ResourceRequestProto {
                            capability: Some(size.into()),
                            num_containers: Some(2),
                            ..Default::default()
                        }),
                    }],
                    container: vec![named(c2), named(c1)],
                }),
            }),
            ..Default::default()
        };
        // Through the bytes, as the RM sends them: preempt is field 8 of the response.
        let bytes = r.encode_to_vec();
        assert_eq!(bytes[0], (8 << 3) | 2);
        let back = pb::AllocateResponseProto::decode(bytes.as_slice()).unwrap();
        let p = Allocation::try_from(&back).unwrap().preemption.unwrap();
        assert_eq!(p.strict, [c1]);
        assert_eq!(p.negotiable, [c2, c1]);
        assert_eq!(p.containers(), [c1, c2]);
        assert_eq!(p.resources, [(size, 2)]);
        let none = Allocation::try_from(&pb::AllocateResponseProto::default()).unwrap();
        assert_eq!(none.preemption, None);
    }

    #[test]
    fn ids_round_trip_as_hadoop_3_writes_them() {
        let c: ContainerId = "container_e05_1410901177871_0012_02_000007"
            .parse()
            .unwrap();
        let proto = pb::ContainerIdProto::from(c);
        assert!(proto.app_id.is_none(), "the deprecated field 1 is not sent");
        let bytes = proto.encode_to_vec();
        // attempt (field 2) = {application_id (1) = {id 12, ts}, attemptId 2}, then id (field 3).
        assert_eq!(bytes[0], 0x12);
        let back = pb::ContainerIdProto::decode(bytes.as_slice()).unwrap();
        assert_eq!(ContainerId::try_from(&back).unwrap(), c);
        assert_eq!(back.id, Some((5 << 40) | 7));
        let n = NodeId::new("localhost", 4545);
        assert_eq!(NodeId::from(&pb::NodeIdProto::from(n.clone())), n);
        let e = ContainerId::try_from(&pb::ContainerIdProto::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("app_attempt_id"), "{e}");
        // An attempt without its application reads as ApplicationAttemptIdPBImpl reads it.
        let bare = pb::ApplicationAttemptIdProto {
            application_id: None,
            attempt_id: Some(3),
        };
        assert_eq!(
            ApplicationAttemptId::from(&bare),
            ApplicationAttemptId::new(ApplicationId::new(0, 0), 3)
        );
    }

    #[test]
    fn reports_read_missing_values_as_defaults_and_unknown_ones_as_unknown() {
        let p = pb::ApplicationReportProto {
            application_id: Some(ApplicationId::new(5, 2).into()),
            yarn_application_state: Some(99),
            host: Some("N/A".into()),
            rpc_port: Some(-1),
            ..Default::default()
        };
        let r = AppReport::try_from(&p).unwrap();
        assert_eq!(r.state, AppState::Unknown);
        assert_eq!(r.final_status, FinalStatus::Undefined, "not sent");
        assert_eq!(r.am_rpc_address, None);
        let newer = pb::ApplicationReportProto {
            final_application_status: Some(99),
            ..p.clone()
        };
        let r = AppReport::try_from(&newer).unwrap();
        assert_eq!(r.final_status, FinalStatus::Unknown);
        let p = pb::ApplicationReportProto {
            host: Some("h".into()),
            rpc_port: Some(0),
            yarn_application_state: Some(pb::YarnApplicationStateProto::Running as i32),
            ..p
        };
        let r = AppReport::try_from(&p).unwrap();
        assert_eq!(r.state, AppState::Running);
        assert_eq!(r.am_rpc_address.as_deref(), Some("h:0"));
        let e = AppReport::try_from(&pb::ApplicationReportProto::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("applicationId"), "{e}");
    }

    #[test]
    fn launch_context_carries_credentials_as_a_token_file() {
        let mut l = ContainerLaunchContext {
            commands: vec!["./x".into()],
            ..Default::default()
        };
        l.local_resources.insert(
            "x".into(),
            LocalResource::file("hdfs://localhost:9000/a/b", 5, 7),
        );
        let p = pb::ContainerLaunchContextProto::try_from(&l).unwrap();
        assert_eq!(p.tokens, None, "no credentials, no tokens");
        let url = p.local_resources[0]
            .value
            .as_ref()
            .unwrap()
            .resource
            .as_ref()
            .unwrap();
        assert_eq!(
            (url.scheme(), url.host(), url.port(), url.file()),
            ("hdfs", "localhost", 9000, "/a/b")
        );
        l.credentials.add_secret("s", b"v".to_vec());
        let p = pb::ContainerLaunchContextProto::try_from(&l).unwrap();
        assert_eq!(
            p.tokens.unwrap(),
            l.credentials.to_file_bytes(CredentialsFormat::Writable)
        );
        l.local_resources
            .insert("bad".into(), LocalResource::file("not a url", 1, 1));
        assert!(pb::ContainerLaunchContextProto::try_from(&l).is_err());
    }

    #[test]
    fn ask_anywhere_is_one_star_line() {
        let asks = request_lines(&ContainerRequest::anywhere(
            Resource {
                memory_mb: 256,
                vcores: 1,
            },
            1,
            2,
        ));
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
        let asks = request_lines(&r);
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
    fn a_node_label_goes_on_the_any_line_only() {
        let res = Resource {
            memory_mb: 128,
            vcores: 1,
        };
        let mut on_h1 = ContainerRequest::anywhere(res, 1, 1);
        on_h1.nodes = vec!["h1".into()];
        on_h1.node_label = Some("bullseye".into());
        let mut any = ContainerRequest::anywhere(res, 1, 2);
        any.node_label = Some("bullseye".into());
        let lines = ask_table(&[on_h1, any, ContainerRequest::anywhere(res, 2, 1)]);
        let labels: Vec<(&str, Option<&str>)> = lines
            .iter()
            .map(|l| (l.resource_name(), l.node_label_expression.as_deref()))
            .collect();
        assert_eq!(
            labels,
            [("h1", None), ("*", Some("bullseye")), ("*", None)],
            "{lines:?}"
        );
        assert_eq!(lines[1].num_containers(), 3);
    }
}
