//! ApplicationMaster to ResourceManager over RPC: ApplicationMasterProtocol
//! (register, allocate heartbeats, finish), authenticated with the AMRM
//! token, as Hadoop's `AMRMClient` speaks it. The client keeps the allocate
//! sequence number and the registration it repeats after an RM restart.

use std::sync::atomic::{AtomicBool, Ordering};

use spindle_proto::yarn as pb;

use super::convert;
use super::records::{AllocateRequest, Allocation, FinalStatus, Registration};
use crate::config::Configuration;
use crate::ipc::{Auth, IpcConfig, RpcClient};
use crate::{Error, Result, Token};

/// Hadoop's protocol name, sent in the connection context and every call.
pub const APPLICATION_MASTER_PROTOCOL: &str =
    "org.apache.hadoop.yarn.api.ApplicationMasterProtocolPB";

/// What a ResourceManager throws at an AM it does not know as registered,
/// typically after a restart that recovered the application: the AM must
/// register again and send all its outstanding asks again.
pub const AM_NOT_REGISTERED_EXCEPTION: &str =
    "org.apache.hadoop.yarn.exceptions.ApplicationMasterNotRegisteredException";
/// Thrown by `registerApplicationMaster` when this attempt already is registered.
const INVALID_AM_REQUEST_EXCEPTION: &str =
    "org.apache.hadoop.yarn.exceptions.InvalidApplicationMasterRequestException";

/// Whether `e` is the RM saying this AM must register (again).
pub fn is_not_registered(e: &Error) -> bool {
    e.remote_class() == Some(AM_NOT_REGISTERED_EXCEPTION)
}

/// ApplicationMasterProtocol on the ResourceManager's scheduler address
/// (`yarn.resourcemanager.scheduler.address`), authenticated with the AMRM
/// token. Keeps the allocate sequence number itself.
#[derive(Debug)]
pub struct AmRmClient {
    rpc: RpcClient,
    response_id: tokio::sync::Mutex<i32>,
    /// The last registration (host, RPC port, tracking URL), repeated by
    /// [`reregister`](Self::reregister).
    registration: tokio::sync::Mutex<Option<(String, i32, String)>>,
    /// Set once the RM confirmed `finishApplicationMaster`: never register again.
    unregistered: AtomicBool,
}

impl AmRmClient {
    pub fn new(addresses: Vec<String>, am_rm_token: Token, config: IpcConfig) -> Self {
        AmRmClient {
            rpc: RpcClient::new(
                addresses,
                APPLICATION_MASTER_PROTOCOL,
                Auth::Token(am_rm_token),
                config,
            ),
            response_id: tokio::sync::Mutex::new(0),
            registration: tokio::sync::Mutex::new(None),
            unregistered: AtomicBool::new(false),
        }
    }

    /// A client of every RM's scheduler address of `conf`
    /// (`yarn.resourcemanager.scheduler.address`, per HA id).
    pub fn from_config(conf: &Configuration, am_rm_token: Token) -> Result<Self> {
        let addresses = conf
            .rm_addresses()?
            .into_iter()
            .map(|r| r.scheduler)
            .collect();
        Ok(Self::new(
            addresses,
            am_rm_token,
            IpcConfig::from_conf(conf)?,
        ))
    }

    /// Registers this AM; `tracking_url` is what the RM's proxy links to.
    /// Also the answer to [`AmCommand::Resync`](super::AmCommand::Resync):
    /// registering again restarts the allocate sequence (then send all
    /// outstanding asks again).
    pub async fn register(
        &self,
        host: &str,
        rpc_port: i32,
        tracking_url: &str,
    ) -> Result<Registration> {
        let mut last = self.registration.lock().await;
        let r = self.register_once(host, rpc_port, tracking_url).await?;
        *last = Some((host.to_string(), rpc_port, tracking_url.to_string()));
        Ok(r)
    }

    /// Registers again as [`register`](Self::register) did, after the RM
    /// answered [`AM_NOT_REGISTERED_EXCEPTION`] or
    /// [`AmCommand::Resync`](super::AmCommand::Resync) (it restarted).
    /// Concurrent callers share one registration; an RM that says the attempt
    /// is registered already counts as success.
    pub async fn reregister(&self) -> Result<()> {
        let last = self.registration.lock().await;
        let refuse = |why: &str| Error::Rpc {
            address: self.rpc.addresses().join(","),
            reason: format!("not registering again: {why}"),
        };
        if self.unregistered.load(Ordering::SeqCst) {
            return Err(refuse("this attempt has unregistered"));
        }
        let Some((host, port, url)) = last.clone() else {
            return Err(refuse("it never registered"));
        };
        match self.register_once(&host, port, &url).await {
            Ok(_) => Ok(()),
            Err(e)
                if e.remote_class() == Some(INVALID_AM_REQUEST_EXCEPTION)
                    && e.to_string().contains("already registered") =>
            {
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    async fn register_once(
        &self,
        host: &str,
        rpc_port: i32,
        tracking_url: &str,
    ) -> Result<Registration> {
        // The allocate sequence starts over with each registration.
        let mut response_id = self.response_id.lock().await;
        *response_id = 0;
        let request = pb::RegisterApplicationMasterRequestProto {
            host: Some(host.to_string()),
            rpc_port: Some(rpc_port),
            tracking_url: Some(tracking_url.to_string()),
        };
        let r: pb::RegisterApplicationMasterResponseProto =
            self.rpc.call("registerApplicationMaster", &request).await?;
        (&r).try_into()
    }

    /// One heartbeat: sends asks and releases, returns what the RM granted
    /// and which containers finished since the last heartbeat.
    pub async fn allocate(&self, request: &AllocateRequest) -> Result<Allocation> {
        let mut response_id = self.response_id.lock().await;
        let proto = convert::allocate_request(request, *response_id);
        let r: pb::AllocateResponseProto = self.rpc.call("allocate", &proto).await?;
        *response_id = r.response_id();
        // Switch to a rolled-over token even if the rest of the answer is unreadable.
        if let Some(token) = r.am_rm_token.clone() {
            self.rpc.set_auth(Auth::Token(token.into()));
        }
        Allocation::try_from(&r)
    }

    /// Unregisters with the final status; true once the RM has recorded it
    /// (call again while false).
    pub async fn finish(
        &self,
        status: FinalStatus,
        diagnostics: &str,
        tracking_url: &str,
    ) -> Result<bool> {
        let request = pb::FinishApplicationMasterRequestProto {
            diagnostics: Some(diagnostics.to_string()),
            tracking_url: Some(tracking_url.to_string()),
            final_application_status: Some(pb::FinalApplicationStatusProto::from(status) as i32),
        };
        let r: pb::FinishApplicationMasterResponseProto =
            self.rpc.call("finishApplicationMaster", &request).await?;
        if r.is_unregistered() {
            self.unregistered.store(true, Ordering::SeqCst);
        }
        Ok(r.is_unregistered())
    }
}
