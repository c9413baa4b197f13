//! The ApplicationMaster protocols with real tokens, against the real ResourceManager and
//! NodeManagers: an unmanaged AM submitted through REST gets its AMRM token from the RM, then
//! Spindle's clients register, allocate two containers, start a shell command in each on the real
//! NodeManagers (NMToken over DIGEST-MD5), see both exit 0, and finish SUCCEEDED, which the RM
//! reports. A token with a wrong password is refused by the real RM with one clear line.

use std::collections::BTreeMap;
use std::time::Duration;

use spindle_hadoop::ids::ContainerId;
use spindle_hadoop::ipc::IpcConfig;
use spindle_hadoop::token::ContainerTokenIdentifier;
use spindle_hadoop::yarn::{
    AllocateRequest, AmRmClient, AppState, ContainerLaunchContext, ContainerRequest,
    ContainerState, FinalStatus, NmClient, Resource,
};
use spindle_tests::{
    allocate, finish_am, hadoop, poll, registered_am, rest_client, rm_conf, rpc_client,
    unmanaged_app,
};

/// One small container anywhere, `n` times.
fn small(n: i32) -> ContainerRequest {
    ContainerRequest::anywhere(
        Resource {
            memory_mb: 64,
            vcores: 1,
        },
        1,
        n,
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn unmanaged_am_runs_two_containers_and_finishes_succeeded() {
    let h = hadoop();
    let _logs = h.log_guard();
    let rpc = rpc_client(h);
    let (app, token) = unmanaged_app(h, "wire-rpc-am").await;
    let am = AmRmClient::from_config(&rm_conf(h), token).unwrap();
    let reg = am.register("localhost", 0, "").await.unwrap();
    assert!(reg.max_resource.memory_mb >= 64, "{reg:?}");
    // Registration moves the attempt to RUNNING (asynchronously inside the RM).
    let report = poll(
        "RUNNING after register",
        Duration::from_secs(30),
        async || {
            let r = rpc.application_report(app).await.unwrap();
            if r.state == AppState::Running {
                Ok(r)
            } else {
                Err(r)
            }
        },
    )
    .await;
    assert_eq!(reg.queue, report.queue);
    assert_eq!(report.am_rpc_address.as_deref(), Some("localhost:0"));

    // Ask for two small containers anywhere; heartbeat until both arrive.
    let (containers, nm_tokens) = allocate(&am, vec![small(2)], 2).await;
    assert_eq!(containers.len(), 2, "{containers:?}");
    for ctr in &containers {
        assert_eq!(ctr.id.application_id(), app);
        assert!(ctr.resource.memory_mb >= 64, "{ctr:?}");
        let token = ctr.token.as_ref().expect("container token");
        let ident = ContainerTokenIdentifier::decode(&token.identifier).unwrap();
        let (id, expiry) = (ident.container_id, ident.expiry_time_stamp);
        assert_eq!(id, ctr.id);
        assert!(expiry > 0);
        assert!(
            nm_tokens.contains_key(&ctr.node_id.to_string()),
            "no NMToken for {}: {:?}",
            ctr.node_id,
            nm_tokens.keys()
        );
    }

    // Start `exit 0` shell commands through ContainerManagementProtocol on the real NMs.
    let launch = ContainerLaunchContext {
        commands: vec![
            "echo wire-rpc-container-ran $SPINDLE_WIRE_TEST 1><LOG_DIR>/stdout; exit 0".into(),
        ],
        environment: BTreeMap::from([("SPINDLE_WIRE_TEST".to_string(), "1".to_string())]),
        ..Default::default()
    };
    for ctr in &containers {
        let nm = NmClient::new(
            &ctr.node_id,
            nm_tokens[&ctr.node_id.to_string()].token.clone(),
            IpcConfig::default(),
        );
        let started = nm.start_containers(&[(ctr, &launch)]).await.unwrap();
        assert_eq!(started.succeeded, vec![ctr.id], "{started:?}");
        assert!(started.failed.is_empty(), "{started:?}");
        let (statuses, failed) = nm.container_statuses(&[ctr.id]).await.unwrap();
        assert!(failed.is_empty(), "{failed:?}");
        assert_eq!(statuses.len(), 1);
        assert_eq!(statuses[0].id, ctr.id);
    }

    // Both complete with exit status 0, reported through allocate.
    let mut done: BTreeMap<ContainerId, i32> = BTreeMap::new();
    let request = AllocateRequest {
        progress: 0.9,
        ..Default::default()
    };
    poll("both completed", Duration::from_secs(90), async || {
        let a = am.allocate(&request).await.unwrap();
        assert!(a.allocated.is_empty(), "no more containers were asked for");
        for s in a.completed {
            assert!(s.diagnostics.is_empty() || s.exit_status == 0, "{s:?}");
            done.insert(s.id, s.exit_status);
        }
        if done.len() >= 2 {
            Ok(())
        } else {
            Err(done.clone())
        }
    })
    .await;
    let ids: Vec<ContainerId> = containers.iter().map(|c| c.id).collect();
    assert_eq!(done.keys().copied().collect::<Vec<_>>(), {
        let mut v = ids.clone();
        v.sort();
        v
    });
    assert!(done.values().all(|s| *s == 0), "exit statuses {done:?}");
    // The command really ran in each container, with our environment.
    for ctr in &containers {
        let url = format!(
            "http://{}/ws/v1/node/containerlogs/{}/stdout",
            ctr.node_http_address, ctr.id
        );
        let body = reqwest::get(&url).await.unwrap().text().await.unwrap();
        assert!(body.contains("wire-rpc-container-ran 1"), "{url}: {body}");
    }

    // Unregister as SUCCEEDED; the RM then reports it.
    finish_am(&am, FinalStatus::Succeeded, "wire-rpc: all good").await;
    let r = poll("FINISHED", Duration::from_secs(30), async || {
        let r = rpc.application_report(app).await.unwrap();
        if r.state == AppState::Finished {
            Ok(r)
        } else {
            Err(r)
        }
    })
    .await;
    assert_eq!(r.final_status, FinalStatus::Succeeded, "{r:?}");
    let rest = rest_client(h).app(app).await.unwrap();
    assert_eq!(rest.state.as_str(), "FINISHED");
    assert_eq!(
        format!("{:?}", rest.final_status).to_uppercase(),
        "SUCCEEDED"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn amrm_token_with_a_wrong_password_is_refused_in_one_line() {
    let h = hadoop();
    let _logs = h.log_guard();
    let scheduler: Vec<String> = rm_conf(h)
        .rm_addresses()
        .unwrap()
        .into_iter()
        .map(|r| r.scheduler)
        .collect();
    let (_app, token) = unmanaged_app(h, "wire-rpc-bad-token").await;
    let mut forged = token.clone();
    forged.password[0] ^= 0x55;
    let am = AmRmClient::new(scheduler.clone(), forged, IpcConfig::default());
    let err = am.register("localhost", 0, "").await.unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, spindle_hadoop::Error::Auth { .. }),
        "expected an authentication error, got {msg}"
    );
    assert!(
        msg.starts_with(&format!("authentication to {} refused: ", scheduler[0])),
        "{msg}"
    );
    assert!(msg.contains("DIGEST-MD5"), "{msg}");
    assert!(!msg.contains('\n'), "one line: {msg}");
    eprintln!("refused as expected: {msg}");

    // The genuine token still works, and the app can be cleaned up.
    let am = AmRmClient::new(scheduler, token, IpcConfig::default());
    am.register("localhost", 0, "").await.unwrap();
    finish_am(&am, FinalStatus::Failed, "wire-rpc: bad-token test").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn stop_containers_kills_a_running_container() {
    let h = hadoop();
    let _logs = h.log_guard();
    let (_app, _token, am) = registered_am(h, "wire-rpc-stop").await;
    let (containers, nm_tokens) = allocate(&am, vec![small(1)], 1).await;
    let ctr = containers.into_iter().next().expect("a container");
    let nm = NmClient::new(
        &ctr.node_id,
        nm_tokens[&ctr.node_id.to_string()].token.clone(),
        IpcConfig::default(),
    );
    let launch = ContainerLaunchContext {
        commands: vec!["sleep 600".into()],
        ..Default::default()
    };
    assert_eq!(
        nm.start_containers(&[(&ctr, &launch)])
            .await
            .unwrap()
            .succeeded,
        vec![ctr.id]
    );
    // Wait until the NM reports it running, then stop it.
    poll(
        "the container running",
        Duration::from_secs(60),
        async || {
            let (s, _) = nm.container_statuses(&[ctr.id]).await.unwrap();
            if s.first().and_then(|s| s.state) == Some(ContainerState::Running) {
                return Ok(());
            }
            // Heartbeat meanwhile: a silent AM is expired by the RM.
            let a = am.allocate(&AllocateRequest::default()).await.unwrap();
            assert!(a.completed.is_empty(), "{:?}", a.completed);
            Err(s)
        },
    )
    .await;
    let stopped = nm.stop_containers(&[ctr.id]).await.unwrap();
    assert_eq!(stopped.succeeded, vec![ctr.id], "{stopped:?}");
    // The RM reports it completed as KILLED_BY_APPMASTER (-105).
    let status = poll("its completion", Duration::from_secs(60), async || {
        let a = am.allocate(&AllocateRequest::default()).await.unwrap();
        a.completed
            .into_iter()
            .find(|s| s.id == ctr.id)
            .ok_or("not completed")
    })
    .await;
    assert_eq!(status.exit_status, -105, "{status:?}");
    finish_am(&am, FinalStatus::Succeeded, "").await;
}
