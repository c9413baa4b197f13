//! Why an application waits in ACCEPTED, in one line with the numbers: what the RM's report
//! says about the AM (the capacity scheduler's "Queue's AM resource limit exceeded", "User's AM
//! resource limit exceeded", "waiting for resources to be assigned for AM", each with its
//! `Details : key = value;` pairs) and, where the scheduler reports it, the queue
//! (`/ws/v1/cluster/scheduler`).

use spindle_hadoop::yarn::{AppReport, AppState, QueueInfo, Resource};

/// The explanation while `r` waits for its ApplicationMaster; `None` when it does not (or the RM
/// says nothing).
pub(crate) fn explain(r: &AppReport, queue: Option<&QueueInfo>) -> Option<String> {
    if !matches!(
        r.state,
        AppState::New | AppState::NewSaving | AppState::Submitted | AppState::Accepted
    ) {
        return None;
    }
    let d = strip_date(r.diagnostics.trim());
    if d.is_empty() {
        return None;
    }
    let detail = |key: &str| details(d, key);
    let res = |r: Resource| format!("<memory:{} MB, vCores:{}>", r.memory_mb, r.vcores);
    let q_name = queue.map_or(r.queue.as_str(), |q| q.path.as_str());
    let apps = queue.map_or(String::new(), |q| {
        format!(
            "; {} application(s) of the queue running, {} waiting",
            q.num_active_applications, q.num_pending_applications
        )
    });
    let request = detail("AM Resource Request").unwrap_or_else(|| "?".into());
    let line = if d.contains("Queue's AM resource limit exceeded") {
        let usage = detail("Queue AM Resource Usage")
            .or_else(|| queue.map(|q| res(q.used_am_resource)))
            .unwrap_or_else(|| "?".into());
        let limit = detail("Queue Resource Limit for AM")
            .or_else(|| queue.map(|q| res(q.am_resource_limit)))
            .unwrap_or_else(|| "?".into());
        let percent = queue
            .filter(|q| q.max_am_resource > 0.0)
            .map(|q| format!(" ({}% of the queue)", round(q.max_am_resource * 100.0)))
            .unwrap_or_default();
        format!(
            "queue {q_name} is at its AM-resource limit: its ApplicationMasters hold {usage} of \
             {limit}{percent} and this application's AM needs {request}{apps}; it starts when \
             another application of the queue ends (or when \
             yarn.scheduler.capacity.{q_name}.maximum-am-resource-percent is raised)"
        )
    } else if d.contains("User's AM resource limit exceeded") {
        let limit = detail("User AM Resource Limit of the queue")
            .or_else(|| queue.map(|q| res(q.user_am_resource_limit)))
            .unwrap_or_else(|| "?".into());
        format!(
            "user {} is at the AM-resource limit per user of queue {q_name}: {limit}, and this \
             application's AM needs {request}{apps}; it starts when another of the user's \
             applications in the queue ends (user-limit-factor, minimum-user-limit-percent)",
            r.user
        )
    } else if d.contains("cluster resource is empty") {
        "the cluster has no resources: no NodeManager is running (or none is in the AM's \
         partition)"
            .to_string()
    } else if d.contains("waiting for resources to be assigned for AM") {
        let used = queue.map_or(String::new(), |q| {
            format!(
                ": the queue holds {}% of the cluster (guaranteed {}%, at most {}%)",
                round(q.absolute_used_capacity),
                round(q.absolute_capacity),
                round(q.absolute_max_capacity)
            )
        });
        let partition = detail("AM Partition")
            .filter(|p| p != "<DEFAULT_PARTITION>")
            .map(|p| {
                format!("; the AM asks for node label {p}: only nodes of that partition can run it")
            })
            .unwrap_or_default();
        format!(
            "queue {q_name} or the cluster is full{used}; the AM needs {request} and no node \
             has room for it now{partition}{apps}"
        )
    } else if d.contains("waiting for AM container to be launched")
        || d.contains("waiting for AM container to Register")
    {
        "the AM container is starting (the NodeManager is localizing the driver binary)".into()
    } else {
        format!("the ResourceManager says: {}", one_line(d))
    };
    Some(line)
}

/// The RM's diagnostics start with `[<date>] `.
fn strip_date(d: &str) -> &str {
    match d.strip_prefix('[').and_then(|rest| rest.split_once("] ")) {
        Some((_, after)) => after.trim(),
        None => d,
    }
}

/// `key = value;` from the scheduler's "Details : …" part.
fn details(d: &str, key: &str) -> Option<String> {
    let at = d.find(&format!("{key} = "))? + key.len() + 3;
    let value = d[at..].split(';').next()?.trim();
    (!value.is_empty()).then(|| value.to_string())
}

fn round(x: f64) -> String {
    let s = format!("{x:.1}");
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What Hadoop 3.5.0's RM reported for the second application in a queue whose AM limit
    /// admits one (deploy/conf/capacity-am-limit.xml).
    const AM_LIMIT: &str = "[Sat Dec 05 09:34:59 +0000 2026] Application is added to the scheduler and is not yet activated. Queue's AM resource limit exceeded.  Details : AM Partition = <DEFAULT_PARTITION>; AM Resource Request = <memory:192, vCores:1>; Queue Resource Limit for AM = <memory:224, vCores:1>; User AM Resource Limit of the queue = <memory:224, vCores:1>; Queue AM Resource Usage = <memory:192, vCores:1>; ";

    fn accepted(diagnostics: &str) -> AppReport {
        AppReport {
            id: "application_1_0002".parse().unwrap(),
            current_attempt: None,
            user: "alice".into(),
            queue: "root.default".into(),
            name: "x".into(),
            application_type: "SPINDLE".into(),
            application_tags: vec![],
            priority: 0,
            state: AppState::Accepted,
            final_status: spindle_hadoop::yarn::FinalStatus::Undefined,
            progress: 0.0,
            diagnostics: diagnostics.into(),
            am_rpc_address: None,
            tracking_url: None,
            original_tracking_url: None,
            start_time: 1,
            launch_time: 0,
            finish_time: 0,
            elapsed_time: 0,
            running_containers: 0,
            allocated: Resource::default(),
            memory_seconds: 0,
            vcore_seconds: 0,
            unmanaged: false,
            am_rm_token: None,
        }
    }

    #[test]
    fn the_queues_am_limit_is_named_with_the_numbers() {
        let q = QueueInfo {
            path: "root.default".into(),
            num_active_applications: 1,
            num_pending_applications: 1,
            max_am_resource: 0.1,
            ..Default::default()
        };
        let line = explain(&accepted(AM_LIMIT), Some(&q)).unwrap();
        assert_eq!(
            line,
            "queue root.default is at its AM-resource limit: its ApplicationMasters hold \
             <memory:192, vCores:1> of <memory:224, vCores:1> (10% of the queue) and this \
             application's AM needs <memory:192, vCores:1>; 1 application(s) of the queue \
             running, 1 waiting; it starts when another application of the queue ends (or when \
             yarn.scheduler.capacity.root.default.maximum-am-resource-percent is raised)"
        );
        // Without the scheduler's queue info, the report's own numbers.
        let line = explain(&accepted(AM_LIMIT), None).unwrap();
        assert!(line.contains("of <memory:224, vCores:1> and"), "{line}");
    }

    #[test]
    fn other_waits_and_running_applications() {
        let user = "[d] Application is added to the scheduler and is not yet activated. User's AM resource limit exceeded.  Details : AM Partition = <DEFAULT_PARTITION>; AM Resource Request = <memory:1024, vCores:1>; User AM Resource Limit of the queue = <memory:2048, vCores:1>;";
        let line = explain(&accepted(user), None).unwrap();
        assert!(
            line.starts_with("user alice is at the AM-resource limit per user of queue root.default: <memory:2048, vCores:1>"),
            "{line}"
        );
        let full = "[d] Application is Activated, waiting for resources to be assigned for AM.  Details : AM Partition = gpu ; Partition Resource = <memory:0, vCores:0> ; AM Resource Request = <memory:192, vCores:1>;";
        let line = explain(&accepted(full), None).unwrap();
        assert!(line.contains("is full"), "{line}");
        assert!(line.contains("node label gpu"), "{line}");
        assert_eq!(explain(&accepted(""), None), None);
        let mut running = accepted(AM_LIMIT);
        running.state = AppState::Running;
        assert_eq!(explain(&running, None), None);
    }
}
