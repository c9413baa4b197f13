//! Launching and stopping executors on the NodeManagers, after Spark's
//! `ExecutorRunnable`: the executor container's launch context (the same
//! binary and files, the engine's executor environment, the application
//! secret in its credentials), `startContainers` and `stopContainers` with the
//! NMTokens the ResourceManager hands out with allocations.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use spindle_contract::launch::{self, AmLaunch};
use spindle_contract::settings;
use spindle_core::backend::ExecutorLaunch;
use spindle_hadoop::Token;
use spindle_hadoop::credentials::Credentials;
use spindle_hadoop::ids::{ContainerId, NodeId};
use spindle_hadoop::ipc::IpcConfig;
use spindle_hadoop::yarn::{Container, ContainerLaunchContext, NmClient, NmToken};

use crate::secret;

/// How long stopping the executors of one node may take when the application ends.
const STOP_AT_END: Duration = Duration::from_secs(3);

/// The NodeManager side of the AM.
pub(crate) struct Launcher {
    launch: AmLaunch,
    exec: ExecutorLaunch,
    ipc: IpcConfig,
    /// NMTokens by node (`host:port`), as the last allocations gave them.
    tokens: Mutex<BTreeMap<String, Token>>,
    /// What every executor's credentials carry besides the secret: the HDFS
    /// delegation tokens on a Kerberized cluster (never the AMRMToken), the
    /// newest the AM has.
    executor_tokens: crate::renewer::SharedTokens,
}

impl Launcher {
    /// Launching what `launch` and `exec` describe, over `ipc`, executors
    /// getting `executor_tokens` in their credentials.
    pub(crate) fn new(
        launch: AmLaunch,
        exec: ExecutorLaunch,
        ipc: IpcConfig,
        executor_tokens: crate::renewer::SharedTokens,
    ) -> Self {
        Launcher {
            launch,
            exec,
            ipc,
            tokens: Mutex::new(BTreeMap::new()),
            executor_tokens,
        }
    }

    /// Keeps the NMTokens an allocate answer carried.
    pub(crate) fn add_tokens(&self, tokens: Vec<NmToken>) {
        let mut map = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        for t in tokens {
            map.insert(t.node_id.to_string(), t.token);
        }
    }

    fn client(&self, node: &NodeId) -> Option<NmClient> {
        let token = self
            .tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&node.to_string())
            .cloned()?;
        Some(NmClient::new(node, token, self.ipc.clone()))
    }

    /// The launch context of executor `executor_id` in a container of
    /// `memory_mb` (the executor keeps its resident memory below it).
    pub(crate) fn context(&self, executor_id: &str, memory_mb: i64) -> ContainerLaunchContext {
        let mut environment: BTreeMap<String, String> =
            self.exec.common_env(executor_id).into_iter().collect();
        environment.insert(
            settings::CONTAINER_MEMORY_MB.var_name().into(),
            memory_mb.to_string(),
        );
        environment.insert(launch::USER.into(), self.launch.user.clone());
        for passthrough in [
            settings::VERBOSE.var_name(),
            settings::LOG.var_name(),
            "RUST_BACKTRACE",
            "RUST_LOG",
        ] {
            if let Ok(v) = std::env::var(passthrough) {
                environment.insert(passthrough.into(), v);
            }
        }
        let mut creds: Credentials = self
            .executor_tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        creds.add_secret(launch::SECRET_ALIAS, secret::to_bytes(&self.exec.secret));
        ContainerLaunchContext {
            commands: vec![launch::container_command(&[])],
            environment,
            local_resources: self.launch.local_resources.clone(),
            service_data: BTreeMap::new(),
            credentials: creds,
        }
    }

    /// Starts executor `executor_id` in container `c`; the NodeManager's
    /// refusal as one line.
    pub(crate) async fn start(&self, c: &Container, executor_id: &str) -> Result<(), String> {
        let nm = self
            .client(&c.node_id)
            .ok_or_else(|| format!("no NMToken for node {}", c.node_id))?;
        let ctx = self.context(executor_id, c.resource.memory_mb);
        let r = nm
            .start_containers(&[(c, &ctx)])
            .await
            .map_err(|e| e.to_string())?;
        match r.failed.first() {
            Some((_, why)) => Err(why.clone()),
            None => Ok(()),
        }
    }

    /// Stops container `id` on `node` (nothing without an NMToken for it).
    pub(crate) async fn stop(&self, node: &NodeId, id: ContainerId) {
        if let Some(nm) = self.client(node)
            && let Err(e) = nm.stop_containers(&[id]).await
        {
            tracing::warn!("stopping {id} on {node}: {e}");
        }
    }

    /// Stops `containers` when the application ends, one call per node, each
    /// given a few seconds: rather now than when the RM notices the end.
    pub(crate) async fn stop_all(&self, containers: Vec<Container>) {
        let mut by_node: BTreeMap<String, (NodeId, Vec<ContainerId>)> = BTreeMap::new();
        for c in containers {
            by_node
                .entry(c.node_id.to_string())
                .or_insert_with(|| (c.node_id.clone(), Vec::new()))
                .1
                .push(c.id);
        }
        for (node, ids) in by_node.into_values() {
            if let Some(nm) = self.client(&node) {
                let _ = tokio::time::timeout(STOP_AT_END, nm.stop_containers(&ids)).await;
            }
        }
    }
}
