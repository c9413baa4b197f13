//! The ResourceManager and an application's AM, from a test: clients built from the cluster's
//! configuration, the RM's and the AM's JSON (through the RM's web proxy), and an unmanaged AM
//! for tests that speak the AM's protocol themselves.

use std::collections::BTreeMap;
use std::time::Duration;

use spindle_hadoop::Token;
use spindle_hadoop::config::Configuration;
use spindle_hadoop::ids::ApplicationId;
use spindle_hadoop::ipc::Auth;
use spindle_hadoop::token::AmRmTokenIdentifier;
use spindle_hadoop::yarn::{
    AllocateRequest, AmRmClient, ApplicationClient, Container, ContainerRequest, FinalStatus,
    NmToken, Resource, RmRestClient, SubmissionContext,
};

use crate::cluster::MiniHadoop;
use crate::http::rest_get;
use crate::wait::poll;

/// The cluster's client configuration, read as `spindle submit` reads it.
pub fn rm_conf(cluster: &MiniHadoop) -> Configuration {
    Configuration::load_dir(cluster.conf_dir())
        .unwrap_or_else(|e| panic!("{}: {e}", cluster.conf_dir().display()))
}

/// Spindle's RM REST client for `cluster`, as the current user.
pub fn rest_client(cluster: &MiniHadoop) -> RmRestClient {
    RmRestClient::from_config(
        &rm_conf(cluster),
        Some(spindle_hadoop::user::current_user()),
    )
    .expect("RM REST client")
}

/// Spindle's RM RPC client (ApplicationClientProtocol) for `cluster`, with SIMPLE authentication.
pub fn rpc_client(cluster: &MiniHadoop) -> ApplicationClient {
    ApplicationClient::from_config(&rm_conf(cluster), Auth::simple()).expect("RM RPC client")
}

/// The RM's report of `app` (`/ws/v1/cluster/apps/<app>`, its `app` object) as JSON.
pub fn app_json(cluster: &MiniHadoop, app: &str) -> serde_json::Value {
    let url = format!("{}/ws/v1/cluster/apps/{app}", cluster.rm_url());
    rest_get(&url).unwrap_or_else(|e| panic!("{url}: {e}")).json["app"].clone()
}

/// `<rm>/proxy/<app>/`, the application's tracking URL through the RM's web proxy (built from the
/// live RM URL: the RM's own report may name a host or port this machine cannot use).
pub fn proxy_url(cluster: &MiniHadoop, app: &str) -> String {
    format!("{}/proxy/{app}/", cluster.rm_url().trim_end_matches('/'))
}

/// The AM's JSON API (`/api/v1/applications/<app>/<what>`) through the RM's web proxy, once it
/// answers 200 with JSON.
pub fn am_api(cluster: &MiniHadoop, app: &str, what: &str) -> Option<serde_json::Value> {
    let url = format!(
        "{}api/v1/applications/{app}/{what}",
        proxy_url(cluster, app)
    );
    let r = rest_get(&url).ok()?;
    (r.status == 200 && !r.json.is_null()).then_some(r.json)
}

/// Submits an unmanaged-AM application named `name` through REST and waits (60 s at most) until
/// the RM hands its submitter the AMRM token (the attempt is LAUNCHED), read over RPC.
pub async fn unmanaged_app(cluster: &MiniHadoop, name: &str) -> (ApplicationId, Token) {
    let rest = rest_client(cluster);
    let rpc = rpc_client(cluster);
    let new = rest.new_application().await.expect("new application");
    let id = new.application_id;
    let mut ctx = SubmissionContext::new(
        id,
        name,
        Resource {
            memory_mb: 64,
            vcores: 1,
        },
    );
    ctx.unmanaged_am = true;
    rest.submit(&ctx).await.expect("submit");
    let token = poll("the AMRM token", Duration::from_secs(60), async || {
        let report = rpc
            .application_report(id)
            .await
            .expect("application report");
        report.am_rm_token.clone().ok_or(report)
    })
    .await;
    assert_eq!(token.kind, "YARN_AM_RM_TOKEN");
    let attempt = AmRmTokenIdentifier::decode(&token.identifier)
        .expect("AMRM token identifier")
        .attempt_id;
    assert_eq!(attempt.application_id, id);
    (id, token)
}

/// [`unmanaged_app`], and Spindle's AM client for it, registered with the RM (host `localhost`,
/// no port, no tracking URL): the application id, its AMRM token and the client.
pub async fn registered_am(cluster: &MiniHadoop, name: &str) -> (ApplicationId, Token, AmRmClient) {
    let (id, token) = unmanaged_app(cluster, name).await;
    let am = AmRmClient::from_config(&rm_conf(cluster), token.clone()).expect("AM client");
    am.register("localhost", 0, "").await.expect("register");
    (id, token, am)
}

/// Sends `asks` once and heartbeats until `n` containers are allocated (60 s at most): the
/// containers, and the NMTokens that came with them by node id.
pub async fn allocate(
    am: &AmRmClient,
    asks: Vec<ContainerRequest>,
    n: usize,
) -> (Vec<Container>, BTreeMap<String, NmToken>) {
    let mut containers: Vec<Container> = Vec::new();
    let mut nm_tokens = BTreeMap::new();
    // The RM keeps the outstanding count and decrements it as it allocates: the asks go once
    // (sending them again would reset the count and over-allocate).
    let mut request = AllocateRequest {
        asks,
        progress: 0.1,
        ..Default::default()
    };
    poll(
        &format!("{n} containers"),
        Duration::from_secs(60),
        async || {
            let a = am.allocate(&request).await.expect("allocate");
            request.asks.clear();
            for t in a.nm_tokens {
                nm_tokens.insert(t.node_id.to_string(), t);
            }
            containers.extend(a.allocated);
            if containers.len() >= n {
                Ok(())
            } else {
                Err(containers.len())
            }
        },
    )
    .await;
    (containers, nm_tokens)
}

/// Unregisters the AM with `status`, asking again until the RM confirms (10 s at most).
pub async fn finish_am(am: &AmRmClient, status: FinalStatus, diagnostics: &str) {
    poll("the unregistration", Duration::from_secs(10), async || {
        if am.finish(status, diagnostics, "").await.expect("finish") {
            Ok(())
        } else {
            Err("not yet")
        }
    })
    .await
}
