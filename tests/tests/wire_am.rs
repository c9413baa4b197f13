//! The ApplicationMaster protocols with real tokens, against the real ResourceManager and
//! NodeManagers: an unmanaged AM submitted through REST gets its AMRM token from the RM, then
//! Spindle's clients register, allocate two containers, start a shell command in each on the real
//! NodeManagers (NMToken over DIGEST-MD5), see both exit 0, and finish SUCCEEDED, which the RM
//! reports. A token with a wrong password is refused by the real RM with one clear line.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use spindle_hadoop::Token;
use spindle_hadoop::config::Configuration;
use spindle_hadoop::ids::{ApplicationId, ContainerId};
use spindle_hadoop::ipc::{Auth, IpcConfig};
use spindle_hadoop::token::{AmRmTokenIdentifier, ContainerTokenIdentifier};
use spindle_hadoop::yarn::{
    AllocateRequest, AmRmClient, AppState, ApplicationClient, Container, ContainerLaunchContext,
    ContainerRequest, ContainerState, FinalStatus, NmClient, NmToken, Resource, RmRestClient,
    SubmissionContext,
};
use spindle_tests::{MiniHadoop, hadoop};

struct Cluster {
    conf: Configuration,
    rpc: ApplicationClient,
    rest: RmRestClient,
    scheduler: Vec<String>,
}

fn cluster(h: &MiniHadoop) -> Cluster {
    let conf = Configuration::load_dir(h.conf_dir()).unwrap();
    let rms = conf.rm_addresses().unwrap();
    Cluster {
        rpc: ApplicationClient::new(
            rms.iter().map(|r| r.rpc.clone()).collect(),
            Auth::simple(),
            IpcConfig::default(),
        ),
        rest: RmRestClient::from_config(&conf, Some(spindle_hadoop::user::current_user())).unwrap(),
        scheduler: rms.iter().map(|r| r.scheduler.clone()).collect(),
        conf,
    }
}

/// Submits an unmanaged-AM application through REST and waits until the RM hands its
/// submitter the AMRM token (the attempt is LAUNCHED), read over RPC.
async fn unmanaged_app(c: &Cluster, name: &str) -> (ApplicationId, Token) {
    let new = c.rest.new_application().await.unwrap();
    let mut ctx = SubmissionContext::new(
        new.application_id,
        name,
        Resource {
            memory_mb: 64,
            vcores: 1,
        },
    );
    ctx.unmanaged_am = true;
    c.rest.submit(&ctx).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let report = c.rpc.application_report(new.application_id).await.unwrap();
        if let Some(token) = report.am_rm_token {
            assert_eq!(token.kind, "YARN_AM_RM_TOKEN");
            let attempt = AmRmTokenIdentifier::decode(&token.identifier)
                .unwrap()
                .attempt_id;
            assert_eq!(attempt.application_id, new.application_id);
            return (new.application_id, token);
        }
        assert!(
            Instant::now() < deadline,
            "no AMRM token after 60 s: {report:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[test]
fn unmanaged_am_runs_two_containers_and_finishes_succeeded() {
    let h = hadoop();
    let _logs = h.log_guard();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let c = cluster(h);
        let (app, token) = unmanaged_app(&c, "wire-rpc-am").await;
        let am = AmRmClient::from_config(&c.conf, token).unwrap();
        let reg = am.register("localhost", 0, "").await.unwrap();
        assert!(reg.max_resource.memory_mb >= 64, "{reg:?}");
        // Registration moves the attempt to RUNNING (asynchronously inside the RM).
        let deadline = Instant::now() + Duration::from_secs(30);
        let report = loop {
            let r = c.rpc.application_report(app).await.unwrap();
            if r.state == AppState::Running {
                break r;
            }
            assert!(
                Instant::now() < deadline,
                "not RUNNING after register: {r:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert_eq!(reg.queue, report.queue);
        assert_eq!(report.am_rpc_address.as_deref(), Some("localhost:0"));

        // Ask for two small containers anywhere; heartbeat until both arrive.
        let ask = ContainerRequest::anywhere(
            Resource {
                memory_mb: 64,
                vcores: 1,
            },
            1,
            2,
        );
        let mut containers: Vec<Container> = Vec::new();
        let mut nm_tokens: BTreeMap<String, NmToken> = BTreeMap::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut request = AllocateRequest {
            asks: vec![ask.clone()],
            progress: 0.1,
            ..Default::default()
        };
        while containers.len() < 2 {
            let a = am.allocate(&request).await.unwrap();
            for t in a.nm_tokens {
                nm_tokens.insert(t.node_id.to_string(), t);
            }
            containers.extend(a.allocated);
            // The RM keeps the outstanding count and decrements it as it allocates: send the
            // ask once (sending it again would reset the count and over-allocate).
            request.asks.clear();
            assert!(
                Instant::now() < deadline,
                "only {} containers after 60 s",
                containers.len()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
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
        let deadline = Instant::now() + Duration::from_secs(90);
        while done.len() < 2 {
            let a = am.allocate(&request).await.unwrap();
            assert!(a.allocated.is_empty(), "no more containers were asked for");
            for s in a.completed {
                assert!(s.diagnostics.is_empty() || s.exit_status == 0, "{s:?}");
                done.insert(s.id, s.exit_status);
            }
            assert!(Instant::now() < deadline, "completed after 90 s: {done:?}");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
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
        let mut unregistered = false;
        for _ in 0..50 {
            if am
                .finish(FinalStatus::Succeeded, "wire-rpc: all good", "")
                .await
                .unwrap()
            {
                unregistered = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert!(unregistered);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let r = c.rpc.application_report(app).await.unwrap();
            if r.state == AppState::Finished {
                assert_eq!(r.final_status, FinalStatus::Succeeded, "{r:?}");
                break;
            }
            assert!(Instant::now() < deadline, "not FINISHED after 30 s: {r:?}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let rest = c.rest.app(app).await.unwrap();
        assert_eq!(rest.state.as_str(), "FINISHED");
        assert_eq!(
            format!("{:?}", rest.final_status).to_uppercase(),
            "SUCCEEDED"
        );
    });
}

#[test]
fn amrm_token_with_a_wrong_password_is_refused_in_one_line() {
    let h = hadoop();
    let _logs = h.log_guard();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let c = cluster(h);
        let (app, token) = unmanaged_app(&c, "wire-rpc-bad-token").await;
        let mut forged = token.clone();
        forged.password[0] ^= 0x55;
        let am = AmRmClient::new(c.scheduler.clone(), forged, IpcConfig::default());
        let err = am.register("localhost", 0, "").await.unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(err, spindle_hadoop::Error::Auth { .. }),
            "expected an authentication error, got {msg}"
        );
        assert!(
            msg.starts_with(&format!("authentication to {} refused: ", c.scheduler[0])),
            "{msg}"
        );
        assert!(msg.contains("DIGEST-MD5"), "{msg}");
        assert!(!msg.contains('\n'), "one line: {msg}");
        eprintln!("refused as expected: {msg}");

        // The genuine token still works, and the app can be cleaned up.
        let am = AmRmClient::new(c.scheduler.clone(), token, IpcConfig::default());
        am.register("localhost", 0, "").await.unwrap();
        while !am
            .finish(FinalStatus::Failed, "wire-rpc: bad-token test", "")
            .await
            .unwrap()
        {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let _ = app;
    });
}

#[test]
fn stop_containers_kills_a_running_container() {
    let h = hadoop();
    let _logs = h.log_guard();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let c = cluster(h);
        let (_app, token) = unmanaged_app(&c, "wire-rpc-stop").await;
        let am = AmRmClient::from_config(&c.conf, token).unwrap();
        am.register("localhost", 0, "").await.unwrap();
        let mut request = AllocateRequest {
            asks: vec![ContainerRequest::anywhere(
                Resource {
                    memory_mb: 64,
                    vcores: 1,
                },
                1,
                1,
            )],
            ..Default::default()
        };
        let mut nm_tokens: BTreeMap<String, NmToken> = BTreeMap::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        let ctr = loop {
            let a = am.allocate(&request).await.unwrap();
            request.asks.clear();
            for t in a.nm_tokens {
                nm_tokens.insert(t.node_id.to_string(), t);
            }
            if let Some(ctr) = a.allocated.into_iter().next() {
                break ctr;
            }
            assert!(Instant::now() < deadline, "no container after 60 s");
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
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
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (s, _) = nm.container_statuses(&[ctr.id]).await.unwrap();
            if s.first().and_then(|s| s.state) == Some(ContainerState::Running) {
                break;
            }
            assert!(Instant::now() < deadline, "not running after 60 s: {s:?}");
            // Heartbeat meanwhile: a silent AM is expired by the RM.
            let a = am.allocate(&AllocateRequest::default()).await.unwrap();
            assert!(a.completed.is_empty(), "{:?}", a.completed);
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let stopped = nm.stop_containers(&[ctr.id]).await.unwrap();
        assert_eq!(stopped.succeeded, vec![ctr.id], "{stopped:?}");
        // The RM reports it completed as KILLED_BY_APPMASTER (-105).
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = 'found: loop {
            let a = am.allocate(&AllocateRequest::default()).await.unwrap();
            for s in a.completed {
                if s.id == ctr.id {
                    break 'found s;
                }
            }
            assert!(Instant::now() < deadline, "no completion after 60 s");
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        assert_eq!(status.exit_status, -105, "{status:?}");
        while !am.finish(FinalStatus::Succeeded, "", "").await.unwrap() {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
}
