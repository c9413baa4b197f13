//! ApplicationClientProtocol over Spindle's RPC client, checked against the real ResourceManager:
//! what Spindle reads must equal what the RM's REST API and Hadoop's own Java `YarnClient`
//! report for the same cluster.

use std::collections::BTreeSet;

use spindle_hadoop::ipc::{Auth, IpcConfig};
use spindle_hadoop::yarn::{
    AppState, ApplicationClient, FinalStatus, NodeReport, NodeState, Resource, SubmissionContext,
};
use spindle_proto::yarn as pb;
use spindle_tests::{
    hadoop, java_peer_ok, kv_lines, rest_client, rm_conf, rpc_client, runtime, unused_port,
};

#[test]
fn cluster_metrics_agree_with_rest_and_java() {
    let h = hadoop();
    let _logs = h.log_guard();
    let (rpc, rest) = (rpc_client(h), rest_client(h));
    let rt = runtime();
    let ours = rt.block_on(rpc.cluster_metrics()).unwrap();
    let theirs = rt.block_on(rest.cluster_metrics()).unwrap();
    let java = kv_lines(&java_peer_ok("dev.spindle.peers.WireYarn", &["metrics"]));

    assert!(ours.active_nodes >= 1, "{ours:?}");
    assert_eq!(
        ours.active_nodes, theirs.active_nodes,
        "{ours:?} vs REST {theirs:?}"
    );
    assert_eq!(ours.lost_nodes, theirs.lost_nodes);
    assert_eq!(ours.unhealthy_nodes, theirs.unhealthy_nodes);
    assert_eq!(ours.decommissioned_nodes, theirs.decommissioned_nodes);
    assert_eq!(ours.rebooted_nodes, theirs.rebooted_nodes);
    assert_eq!(ours.node_managers.to_string(), java["nodeManagers"]);
    assert_eq!(ours.active_nodes.to_string(), java["active"]);
    assert_eq!(ours.lost_nodes.to_string(), java["lost"]);
    assert_eq!(ours.unhealthy_nodes.to_string(), java["unhealthy"]);
}

#[test]
fn cluster_nodes_agree_with_rest_and_java() {
    let h = hadoop();
    let _logs = h.log_guard();
    let (rpc, rest) = (rpc_client(h), rest_client(h));
    let rt = runtime();
    let running = rt
        .block_on(rpc.cluster_nodes(&[NodeState::Running]))
        .unwrap();
    // Container counts move if another test's containers start or end between the three
    // reads: take a moment where ours did not change across Java's and REST's reads.
    let (ours, theirs, java) = (0..5)
        .map(|_| {
            let before = rt.block_on(rpc.cluster_nodes(&[])).unwrap();
            let theirs = rt.block_on(rest.nodes()).unwrap();
            let java = java_peer_ok("dev.spindle.peers.WireYarn", &["nodes"]);
            let after = rt.block_on(rpc.cluster_nodes(&[])).unwrap();
            (before, after, theirs, java)
        })
        .find(|(before, after, _, _)| {
            let counts = |n: &[NodeReport]| {
                n.iter()
                    .map(|n| (n.node_id.to_string(), n.num_containers, n.state))
                    .collect::<Vec<_>>()
            };
            counts(before) == counts(after)
        })
        .map(|(ours, _, theirs, java)| (ours, theirs, java))
        .expect("node reports kept changing");

    assert!(!ours.is_empty());
    assert!(
        running.iter().all(|n| n.state == NodeState::Running),
        "{running:?}"
    );
    // What the RM's REST API reports of a node: id, web address, rack and state.
    let rest_view = |nodes: &[NodeReport]| -> BTreeSet<(String, String, String, String)> {
        nodes
            .iter()
            .map(|n| {
                (
                    n.node_id.to_string(),
                    n.http_address.clone(),
                    n.rack.clone(),
                    n.state.as_str().to_string(),
                )
            })
            .collect()
    };
    assert_eq!(rest_view(&ours), rest_view(&theirs));

    let ours_java_view: BTreeSet<String> = ours
        .iter()
        .map(|n| {
            format!(
                "node id={} http={} rack={} state={} memory={} vcores={} containers={}",
                n.node_id,
                n.http_address,
                n.rack,
                n.state.as_str(),
                n.capability.memory_mb,
                n.capability.vcores,
                n.num_containers
            )
        })
        .collect();
    let java_view: BTreeSet<String> = java
        .lines()
        .filter(|l| l.starts_with("node "))
        .map(str::to_string)
        .collect();
    assert_eq!(ours_java_view, java_view);
}

#[test]
fn new_application_ids_follow_the_rms_sequence() {
    let h = hadoop();
    let _logs = h.log_guard();
    let (rpc, rest) = (rpc_client(h), rest_client(h));
    let rt = runtime();
    let ours = rt.block_on(rpc.new_application()).unwrap();
    let rest_app = rt.block_on(rest.new_application()).unwrap();
    let java = kv_lines(&java_peer_ok("dev.spindle.peers.WireYarn", &["newapp"]));
    let java_id: spindle_hadoop::ids::ApplicationId = java["id"].parse().unwrap();

    // Same RM (same cluster timestamp), and the RM handed out later ids afterwards.
    assert_eq!(
        ours.application_id.cluster_timestamp,
        rest_app.application_id.cluster_timestamp
    );
    assert_eq!(
        ours.application_id.cluster_timestamp,
        java_id.cluster_timestamp
    );
    assert!(
        rest_app.application_id.id > ours.application_id.id,
        "{ours:?} {rest_app:?}"
    );
    assert!(
        java_id.id > rest_app.application_id.id,
        "{java_id} {rest_app:?}"
    );
    assert_eq!(ours.max_resource.memory_mb, rest_app.max_resource.memory_mb);
    assert_eq!(ours.max_resource.vcores, rest_app.max_resource.vcores);
    assert_eq!(ours.max_resource.memory_mb.to_string(), java["memory"]);
    assert_eq!(ours.max_resource.vcores.to_string(), java["vcores"]);
}

#[test]
fn application_report_and_force_kill_agree_with_rest_and_java() {
    let h = hadoop();
    let _logs = h.log_guard();
    let (rpc, rest) = (rpc_client(h), rest_client(h));
    let rt = runtime();
    // An unmanaged-AM application: the RM tracks it, but no container runs for it.
    let new = rt.block_on(rpc.new_application()).unwrap();
    let mut ctx = SubmissionContext::new(
        new.application_id,
        "wire-rpc-report",
        Resource {
            memory_mb: 64,
            vcores: 1,
        },
    );
    ctx.unmanaged_am = true;
    ctx.application_type = "SPINDLE-WIRE".into();
    rt.block_on(rest.submit(&ctx)).unwrap();

    // Nothing slow (a JVM start) before the kill: an unmanaged AM that never registers is failed
    // by the RM after the AM liveness interval.
    let ours = rt
        .block_on(rpc.application_report(new.application_id))
        .unwrap();
    let theirs = rt.block_on(rest.app(new.application_id)).unwrap();
    assert_eq!(ours.id, new.application_id);
    assert_eq!(ours.name, "wire-rpc-report");
    assert_eq!(ours.name, theirs.name);
    assert_eq!(ours.user, theirs.user);
    assert_eq!(ours.queue, theirs.queue);
    assert_eq!(ours.application_type, theirs.application_type);
    assert!(ours.unmanaged && theirs.unmanaged);
    assert_eq!(ours.start_time, theirs.start_time);

    // Kill over RPC until the RM says it is done; REST and Java then see KILLED.
    let mut done = false;
    for _ in 0..100 {
        if rt
            .block_on(rpc.kill_application(new.application_id, Some("killed by the wire-rpc test")))
            .unwrap()
        {
            done = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(done, "forceKillApplication never completed");
    // For unmanaged AMs the RM answers "completed" at once and kills asynchronously.
    let mut ours = rt
        .block_on(rpc.application_report(new.application_id))
        .unwrap();
    for _ in 0..100 {
        if ours.state == AppState::Killed {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        ours = rt
            .block_on(rpc.application_report(new.application_id))
            .unwrap();
    }
    assert_eq!(ours.state, AppState::Killed, "{ours:?}");
    assert_eq!(ours.final_status, FinalStatus::Killed, "{ours:?}");
    assert!(
        ours.diagnostics.contains("killed by the wire-rpc test"),
        "{}",
        ours.diagnostics
    );
    assert_eq!(
        rt.block_on(rest.app(new.application_id))
            .unwrap()
            .state
            .as_str(),
        "KILLED"
    );
    let java = kv_lines(&java_peer_ok(
        "dev.spindle.peers.WireYarn",
        &["report", &new.application_id.to_string()],
    ));
    assert_eq!(java["id"], new.application_id.to_string());
    assert_eq!(java["user"], ours.user);
    assert_eq!(java["queue"], ours.queue);
    assert_eq!(java["name"], ours.name);
    assert_eq!(java["type"], ours.application_type);
    assert_eq!(java["unmanaged"], "true");
    assert_eq!(java["startTime"], ours.start_time.to_string());
    assert_eq!(java["state"], "KILLED");
    assert_eq!(java["finalStatus"], "KILLED");
    assert_eq!(java["finishTime"], ours.finish_time.to_string());
    assert_eq!(java["attempt"], ours.current_attempt.unwrap().to_string());
}

#[test]
fn unknown_application_is_hadoops_exception_class_and_message() {
    let h = hadoop();
    let _logs = h.log_guard();
    let rpc = rpc_client(h);
    let rt = runtime();
    let new = rt.block_on(rpc.new_application()).unwrap();
    let missing = spindle_hadoop::ids::ApplicationId::new(
        new.application_id.cluster_timestamp,
        new.application_id.id + 1000,
    );
    let err = rt.block_on(rpc.application_report(missing)).unwrap_err();
    assert_eq!(
        err.remote_class(),
        Some("org.apache.hadoop.yarn.exceptions.ApplicationNotFoundException"),
        "{err}"
    );
    let msg = err.to_string();
    assert!(msg.contains(&missing.to_string()), "{msg}");
    assert!(!msg.contains('\n'), "one line: {msg}");
}

#[test]
fn unreachable_rm_fails_in_seconds_naming_the_address() {
    let address = format!("127.0.0.1:{}", unused_port());
    let rpc = ApplicationClient::new(vec![address.clone()], Auth::simple(), IpcConfig::default());
    let started = std::time::Instant::now();
    let err = runtime().block_on(rpc.cluster_metrics()).unwrap_err();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!("cannot connect to {address}")),
        "{msg}"
    );
}

#[test]
fn failover_skips_a_dead_address() {
    let h = hadoop();
    let _logs = h.log_guard();
    let live = rm_conf(h).rm_addresses().unwrap()[0].rpc.clone();
    let port = unused_port();
    let config = IpcConfig {
        connect_retries: 0,
        ..IpcConfig::default()
    };
    let rpc = ApplicationClient::new(
        vec![format!("127.0.0.1:{port}"), live],
        Auth::simple(),
        config,
    );
    let metrics = runtime().block_on(rpc.cluster_metrics()).unwrap();
    assert!(metrics.active_nodes >= 1, "{metrics:?}");
}

#[test]
fn many_concurrent_calls_share_one_connection_and_pings_keep_it_open() {
    let h = hadoop();
    let _logs = h.log_guard();
    let address = rm_conf(h).rm_addresses().unwrap()[0].rpc.clone();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let config = IpcConfig {
            ping_interval: std::time::Duration::from_millis(100),
            ..IpcConfig::default()
        };
        let conn = spindle_hadoop::ipc::Connection::open(
            &address,
            spindle_hadoop::yarn::APPLICATION_CLIENT_PROTOCOL,
            &Auth::simple(),
            &config,
        )
        .await
        .unwrap();
        // 64 calls in flight at once on the one connection, answers matched by call id.
        let mut tasks = Vec::new();
        for _ in 0..64 {
            let c = conn.clone();
            tasks.push(tokio::spawn(async move {
                let r: pb::GetClusterMetricsResponseProto = c
                    .call("getClusterMetrics", &pb::GetClusterMetricsRequestProto {})
                    .await
                    .unwrap();
                r.cluster_metrics.unwrap().num_active_nms.unwrap_or(0)
            }));
        }
        for t in tasks {
            assert!(t.await.unwrap() >= 1);
        }
        // Several pings later (the real server takes call id -4 as a ping), the same connection
        // still answers.
        tokio::time::sleep(std::time::Duration::from_millis(700)).await;
        assert_eq!(conn.closed_reason(), None);
        let r: pb::GetClusterMetricsResponseProto = conn
            .call("getClusterMetrics", &pb::GetClusterMetricsRequestProto {})
            .await
            .unwrap();
        assert!(r.cluster_metrics.is_some());
    });
}
