//! Spindle's RM REST client against the real ResourceManager of the mini-Hadoop, checked against
//! what Hadoop's own YarnClient (RPC) reports for the same cluster: cluster info, metrics, nodes,
//! a submitted application's report and its kill, RemoteException errors, RM failover.

use std::collections::BTreeSet;
use std::time::Duration;

use spindle_hadoop::Error;
use spindle_hadoop::ids::{ApplicationAttemptId, ApplicationId};
use spindle_hadoop::yarn::{
    AppAttempt, AppState, AppsFilter, LocalResource, LocalResourceType, LocalResourceVisibility,
    NodeState, Resource, RmRestClient, SubmissionContext,
};
use spindle_tests::{
    block_on, hadoop, hdfs_client, hdfs_put, java_peer_ok, kv_lines, rm_conf, scratch_dir,
    unused_port, wait_for, wait_until,
};

const USER: &str = "spindle-wire";

/// Spindle's REST client as `USER`.
fn client() -> RmRestClient {
    RmRestClient::from_config(&rm_conf(hadoop()), Some(USER.into())).unwrap()
}

#[test]
fn cluster_info_metrics_and_nodes_match_yarn_client() {
    let h = hadoop();
    let _logs = h.log_guard();
    let c = client();
    let (info, metrics, nodes) = block_on(async {
        (
            c.cluster_info().await.unwrap(),
            c.cluster_metrics().await.unwrap(),
            c.nodes().await.unwrap(),
        )
    });
    assert_eq!(info.state, "STARTED");
    assert_eq!(info.ha_state, "ACTIVE");
    assert_eq!(
        info.resource_manager_version,
        spindle_tests::hadoop_version(),
        "{info:?}"
    );

    // Nodes: the same NodeManagers, addresses and capacities as YarnClient.getNodeReports(RUNNING).
    let java = java_peer_ok("dev.spindle.peers.YarnNodes", &[]);
    let java_nodes: BTreeSet<String> = java
        .lines()
        .filter_map(|l| l.strip_prefix("node "))
        .map(str::to_string)
        .collect();
    let ours: BTreeSet<String> = nodes
        .iter()
        .filter(|n| n.state == NodeState::Running)
        .map(|n| {
            format!(
                "{} {} {} {}",
                n.node_id, n.http_address, n.capability.memory_mb, n.capability.vcores
            )
        })
        .collect();
    assert_eq!(ours, java_nodes, "REST nodes vs YarnClient:\n{java}");
    assert_eq!(ours.len(), 2);

    // Metrics: node counts as YarnClient.getYarnClusterMetrics, capacity as the nodes' sum.
    let jm = kv_lines(&java_peer_ok("dev.spindle.peers.YarnReport", &["metrics"]));
    assert_eq!(
        metrics.active_nodes.to_string(),
        jm["active"],
        "{metrics:?} vs {jm:?}"
    );
    assert_eq!(metrics.lost_nodes.to_string(), jm["lost"]);
    assert_eq!(metrics.unhealthy_nodes.to_string(), jm["unhealthy"]);
    assert_eq!(
        metrics.decommissioned_nodes.to_string(),
        jm["decommissioned"]
    );
    let node_mb: i64 = nodes.iter().map(|n| n.capability.memory_mb).sum();
    assert_eq!(metrics.total_mb, node_mb, "{metrics:?}");
    assert_eq!(
        metrics.total_mb,
        metrics.available_mb + metrics.allocated_mb,
        "{metrics:?}"
    );
}

fn wait_for_am_container(c: &RmRestClient, id: ApplicationId) -> AppAttempt {
    wait_for(
        &format!("the AM container of {id}"),
        Duration::from_secs(90),
        || {
            let attempts = block_on(c.attempts(id)).unwrap();
            attempts.into_iter().find(|a| a.container_id.is_some())
        },
    )
}

#[test]
fn submit_report_and_kill_agree_with_yarn_client() {
    let h = hadoop();
    let _logs = h.log_guard();
    let c = client();
    let info = block_on(c.cluster_info()).unwrap();
    let new = block_on(c.new_application()).unwrap();
    // Application ids carry the RM's start time, which is the cluster id.
    assert_eq!(new.application_id.cluster_timestamp, info.id);
    assert!(new.max_resource.memory_mb >= 1024, "{new:?}");
    assert!(new.max_resource.vcores >= 1, "{new:?}");

    let id = new.application_id;
    let tag = format!("wire-rest-{}", std::process::id());
    let mut ctx = SubmissionContext::new(
        id,
        "wire-rest-sleep",
        Resource {
            memory_mb: 64,
            vcores: 1,
        },
    );
    ctx.queue = Some("default".into());
    ctx.max_app_attempts = Some(1);
    ctx.application_tags = vec![tag.clone(), "spindle".into()];
    ctx.am_container.commands = vec!["sleep".into(), "300".into()];
    ctx.am_container
        .environment
        .insert("SPINDLE_ROLE".into(), "test".into());
    block_on(c.submit(&ctx)).unwrap();

    let attempt = wait_for_am_container(&c, id);
    let report = block_on(c.app(id)).unwrap();
    assert_eq!(report.id, id);
    assert_eq!(report.user, USER, "user.name is the submitting user");
    assert_eq!(report.name, "wire-rest-sleep");
    assert_eq!(report.application_type, "SPINDLE");
    assert!(!report.state.is_final(), "{report:?}");
    // The AM never registers, so the application waits in ACCEPTED with a launched container.
    assert_eq!(report.state, AppState::Accepted, "{report:?}");
    assert_eq!(
        attempt.app_attempt_id,
        Some(ApplicationAttemptId::new(id, 1)),
        "{attempt:?}"
    );
    let am = attempt.container_id.unwrap();
    assert_eq!(am.application_id(), id);
    assert_eq!(am.sequence(), 1, "the AM is the first container: {am}");

    // Hadoop's YarnClient sees the same application.
    let java = kv_lines(&java_peer_ok(
        "dev.spindle.peers.YarnReport",
        &["app", &id.to_string()],
    ));
    assert_eq!(java["state"], report.state.as_str(), "{java:?}");
    assert_eq!(java["name"], report.name);
    assert_eq!(java["queue"], report.queue);
    assert_eq!(java["type"], report.application_type);
    assert_eq!(java["user"], report.user);
    let mut tags = report.application_tags.clone();
    tags.sort();
    assert_eq!(java["tags"], tags.join(","));
    assert_eq!(
        java["attempt"].parse::<ApplicationAttemptId>().unwrap(),
        attempt.app_attempt_id.unwrap()
    );

    // Filters: our tag finds exactly this application.
    let filter = AppsFilter {
        application_tags: vec![tag.clone()],
        ..Default::default()
    };
    let apps = block_on(c.apps(&filter)).unwrap();
    assert_eq!(apps.iter().map(|a| a.id).collect::<Vec<_>>(), vec![id]);

    // Kill: KILLED, and YarnClient agrees.
    assert_eq!(block_on(c.kill(id)).unwrap(), AppState::Killed);
    assert_eq!(block_on(c.app_state(id)).unwrap(), AppState::Killed);
    let java = kv_lines(&java_peer_ok(
        "dev.spindle.peers.YarnReport",
        &["app", &id.to_string()],
    ));
    assert_eq!(java["state"], "KILLED", "{java:?}");
    let killed = AppsFilter {
        states: vec![AppState::Killed],
        application_tags: vec![tag],
        ..Default::default()
    };
    assert_eq!(block_on(c.apps(&killed)).unwrap().len(), 1);
}

#[test]
fn unknown_application_is_a_typed_not_found() {
    let h = hadoop();
    let _logs = h.log_guard();
    let c = client();
    let e = block_on(c.app(ApplicationId::new(1, 1))).unwrap_err();
    match &e {
        Error::RestRemote {
            status,
            exception,
            java_class_name,
            message,
            url,
        } => {
            assert_eq!(*status, 404);
            assert_eq!(exception, "NotFoundException");
            assert_eq!(
                java_class_name,
                "org.apache.hadoop.yarn.webapp.NotFoundException"
            );
            assert!(message.contains("application_1_0001"), "{message}");
            assert!(
                url.ends_with("/ws/v1/cluster/apps/application_1_0001"),
                "{url}"
            );
        }
        other => panic!("expected RestRemote, got {other}"),
    }
    assert!(!e.to_string().contains('\n'));
}

#[test]
fn submission_over_the_maximum_allocation_is_a_typed_bad_request() {
    let h = hadoop();
    let _logs = h.log_guard();
    let c = client();
    let new = block_on(c.new_application()).unwrap();
    let max = new.max_resource;
    let mut ctx = SubmissionContext::new(
        new.application_id,
        "wire-rest-too-big",
        Resource {
            memory_mb: max.memory_mb + 1,
            vcores: 1,
        },
    );
    ctx.am_container.commands = vec!["true".into()];
    let e = block_on(c.submit(&ctx)).unwrap_err();
    match &e {
        Error::RestRemote {
            status,
            exception,
            java_class_name,
            message,
            ..
        } => {
            assert_eq!(*status, 400, "{e}");
            assert_eq!(exception, "BadRequestException", "{e}");
            assert_eq!(
                java_class_name,
                "org.apache.hadoop.yarn.webapp.BadRequestException"
            );
            assert!(message.to_lowercase().contains("max"), "{e}");
        }
        other => panic!("expected RestRemote, got {other}"),
    }
}

#[test]
fn fails_over_from_a_dead_rm_to_a_live_one() {
    let h = hadoop();
    let _logs = h.log_guard();
    let dead_url = format!("http://127.0.0.1:{}", unused_port());
    let live = h.rm_url().trim_end_matches('/').to_string();
    let c = RmRestClient::new(vec![dead_url.clone(), live.clone()], Some(USER.into())).unwrap();
    let info = block_on(c.cluster_info()).unwrap();
    assert_eq!(info.state, "STARTED");
    assert_eq!(c.active_base(), live);
    // The next call starts from the RM that answered.
    block_on(c.cluster_metrics()).unwrap();
    assert_eq!(c.active_base(), live);

    // A standby RM: one that knows the active RM redirects (307) there, one that does not answers
    // 503 with a text body, as Hadoop's RMWebAppFilter does; both lead to the live RM.
    let target = live.clone();
    let redirect = fake_standby(move |path| {
        format!(
            "HTTP/1.1 307 Temporary Redirect\r\nLocation: {target}{path}\r\nContent-Length: 0\r\n\r\n"
        )
    });
    // Redirects are followed between configured ResourceManagers only.
    let c = RmRestClient::new(vec![redirect.clone(), live.clone()], Some(USER.into())).unwrap();
    assert_eq!(block_on(c.cluster_metrics()).unwrap().active_nodes, 2);
    let body = "This is standby RM. Redirecting to the current active RM";
    let unavailable = fake_standby(move |_| {
        format!(
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    });
    let c = RmRestClient::new(vec![unavailable.clone(), live.clone()], None).unwrap();
    block_on(c.cluster_info()).unwrap();
    assert_eq!(c.active_base(), live);

    // With only dead RMs, one error names them.
    let c = RmRestClient::new(vec![dead_url.clone()], None).unwrap();
    let e = block_on(c.cluster_info()).unwrap_err().to_string();
    assert!(
        e.contains(&dead_url) && e.contains("no ResourceManager reachable"),
        "{e}"
    );
}

/// Writes `content` to HDFS with hdfs-native and returns (hdfs URL, length, modification time).
async fn hdfs_file(path: &str, content: &[u8]) -> (String, i64, i64) {
    let h = hadoop();
    let fs = hdfs_client(h);
    hdfs_put(&fs, path, content).await;
    let st = fs.get_file_info(path).await.unwrap();
    let url = format!("{}{}", h.fs_uri().trim_end_matches('/'), path);
    (url, st.length as i64, st.modification_time as i64)
}

#[test]
fn local_resources_and_environment_reach_the_am_container() {
    let h = hadoop();
    let _logs = h.log_guard();
    let c = client();
    let pid = std::process::id();
    let dir = scratch_dir("wire-rest-localized");
    let script = b"#!/bin/sh\necho payload-ran \"$1\" \"$SPINDLE_ROLE\"\n";
    let (url, size, timestamp) =
        block_on(hdfs_file(&format!("/wire-rest/{pid}/payload.sh"), script));

    // One attempt of a 64 MB AM container that localizes the payload, stamped `timestamp`.
    let with_payload = |id: ApplicationId, name: &str, timestamp: i64| {
        let mut ctx = SubmissionContext::new(
            id,
            name,
            Resource {
                memory_mb: 64,
                vcores: 1,
            },
        );
        ctx.max_app_attempts = Some(1);
        ctx.am_container.local_resources.insert(
            "payload.sh".into(),
            LocalResource {
                url: url.clone(),
                kind: LocalResourceType::File,
                visibility: LocalResourceVisibility::Application,
                size,
                timestamp,
                pattern: None,
            },
        );
        ctx
    };

    let id = block_on(c.new_application()).unwrap().application_id;
    let mut ctx = with_payload(id, "wire-rest-localize", timestamp);
    ctx.am_container
        .environment
        .insert("SPINDLE_ROLE".into(), "am".into());
    let out = dir.join("out");
    ctx.am_container.commands = vec![format!(
        "cp payload.sh {d}/copy && echo $CONTAINER_ID > {d}/cid && sh payload.sh arg1 > {d}/out.tmp && mv {d}/out.tmp {out}; sleep 300",
        d = dir.display(),
        out = out.display()
    )];
    block_on(c.submit(&ctx)).unwrap();
    wait_until("the AM command to run", Duration::from_secs(90), || {
        out.exists()
    });
    assert_eq!(
        std::fs::read(dir.join("copy")).unwrap(),
        script,
        "the localized file"
    );
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "payload-ran arg1 am\n"
    );
    // The container id the NodeManager put in the environment parses, and names the AM container.
    let cid: spindle_hadoop::ids::ContainerId = std::fs::read_to_string(dir.join("cid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(
        (
            cid.application_id(),
            cid.attempt_id.attempt_id,
            cid.sequence()
        ),
        (id, 1, 1),
        "{cid}"
    );
    assert_eq!(block_on(c.kill(id)).unwrap(), AppState::Killed);

    // The NodeManager checks the timestamp: a stale one fails the localization, and the
    // application with it, with Hadoop's diagnostic.
    let new = block_on(c.new_application()).unwrap();
    let mut ctx = with_payload(new.application_id, "wire-rest-stale", timestamp - 1000);
    ctx.am_container.commands = vec!["true".into()];
    block_on(c.submit(&ctx)).unwrap();
    let report = wait_for("the final state", Duration::from_secs(90), || {
        let r = block_on(c.app(new.application_id)).unwrap();
        r.state.is_final().then_some(r)
    });
    assert_eq!(report.state, AppState::Failed, "{report:?}");
    assert!(
        report.diagnostics.contains("changed on src filesystem"),
        "{}",
        report.diagnostics
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A hostile or broken RM: each case ends in one error line, quickly, with nothing followed,
/// buffered without bound, or printed raw.
#[test]
fn a_hostile_rm_gets_one_line_errors_and_nothing_more() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    // A redirect to a host that is not a configured RM: not followed, the submission not re-sent.
    let elsewhere_hits = Arc::new(AtomicUsize::new(0));
    let hits = elsewhere_hits.clone();
    let elsewhere = fake_standby(move |_| {
        hits.fetch_add(1, Ordering::SeqCst);
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}".to_string()
    });
    let target = elsewhere.clone();
    let redirect = fake_standby(move |path| {
        format!(
            "HTTP/1.1 307 Temporary Redirect\r\nLocation: {target}{path}\r\nContent-Length: 0\r\n\r\n"
        )
    });
    let c = RmRestClient::new(vec![redirect], None).unwrap();
    let e = block_on(c.new_application()).unwrap_err().to_string();
    assert!(
        e.contains("not one of the configured ResourceManagers") && e.contains(&elsewhere),
        "{e}"
    );
    assert_eq!(elsewhere_hits.load(Ordering::SeqCst), 0);

    // A 200 MB body: refused, not buffered.
    let huge = fake_standby(|_| {
        format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{{",
            200u64 << 20
        )
    });
    let e = block_on(RmRestClient::new(vec![huge], None).unwrap().cluster_info())
        .unwrap_err()
        .to_string();
    assert!(e.contains("over 64 MiB"), "{e}");

    // A body that never ends: the request timeout ends it.
    let slow = fake_standby(|_| {
        std::thread::sleep(Duration::from_secs(30));
        String::new()
    });
    let c = RmRestClient::with_timeouts(
        vec![slow],
        None,
        Duration::from_secs(1),
        Duration::from_secs(2),
    )
    .unwrap();
    let started = std::time::Instant::now();
    let e = block_on(c.cluster_info()).unwrap_err().to_string();
    assert!(started.elapsed() < Duration::from_secs(10), "{e}");
    assert_eq!(e.lines().count(), 1, "{e}");

    // Escape sequences in an RM's error: made harmless before anything prints them.
    let body = r#"{"RemoteException":{"exception":"BadRequestException","message":"\u001b[2J\u001b]0;owned\u0007 bad","javaClassName":"x.Y"}}"#;
    let escapes = fake_standby(move |_| {
        format!(
            "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    });
    let e = block_on(
        RmRestClient::new(vec![escapes], None)
            .unwrap()
            .cluster_info(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("bad") && !e.chars().any(|c| c.is_control()),
        "{e:?}"
    );
}

/// A one-thread HTTP server on loopback that answers every request with `answer(path)`.
fn fake_standby(answer: impl Fn(&str) -> String + Send + 'static) -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            // Skip the headers.
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let path = request_line
                .split_whitespace()
                .nth(1)
                .unwrap_or("/")
                .to_string();
            let _ = stream.write_all(answer(&path).as_bytes());
        }
    });
    url
}
