//! Hadoop IPC (RPC v9) client: framing in [`frame`], one multiplexed
//! connection in [`connection`], and [`RpcClient`], which adds reconnection and
//! failover across a list of addresses (ResourceManager HA). The protocol
//! clients (`yarn`, `namenode`) are thin typed layers over `RpcClient`.

pub mod connection;
pub mod frame;
#[cfg(test)]
mod robustness;

use std::time::Duration;

use prost::Message;

pub use connection::Connection;

use crate::namenode::{RETRIABLE_EXCEPTION, RETRIABLE_TRIES};
use crate::{Error, Result, Token};

/// How a connection authenticates.
#[derive(Clone, Debug)]
pub enum Auth {
    /// Simple auth: the server trusts the user name we send.
    Simple { user: String },
    /// A token (AMRM, NM, delegation) proved with SASL DIGEST-MD5.
    Token(Token),
    /// A Kerberos login proved with SASL GSSAPI.
    Kerberos(KerberosAuth),
}

/// Kerberos for one protocol: the login, the configuration key naming the
/// server's principal (`yarn.resourcemanager.principal`,
/// `dfs.namenode.kerberos.principal`) and its value, the acceptable
/// protections in preference order, and whom to act for, if anyone.
#[derive(Clone, Debug)]
pub struct KerberosAuth {
    pub login: crate::kerberos::Login,
    pub server_key: String,
    pub server_principal: Option<String>,
    pub qops: Vec<crate::sasl::gssapi::Qop>,
    pub proxy_user: Option<String>,
}

impl KerberosAuth {
    /// Kerberos for the server whose principal `conf` names under `server_key`,
    /// with the protections of `hadoop.rpc.protection`.
    pub fn from_conf(
        conf: &crate::config::Configuration,
        login: crate::kerberos::Login,
        server_key: &str,
        proxy_user: Option<String>,
    ) -> Result<Self> {
        let protection = conf
            .get_trimmed("hadoop.rpc.protection")?
            .unwrap_or_else(|| "authentication".into());
        let qops =
            crate::sasl::gssapi::Qop::parse_list(&protection).map_err(|reason| Error::Config {
                file: "core-site.xml".into(),
                key: "hadoop.rpc.protection".into(),
                reason,
            })?;
        Ok(KerberosAuth {
            login,
            server_key: server_key.to_string(),
            server_principal: conf.get_trimmed(server_key)?,
            qops,
            proxy_user,
        })
    }
}

impl Auth {
    /// Simple auth as the current user (`$HADOOP_USER_NAME` or the OS user).
    pub fn simple() -> Self {
        Auth::Simple {
            user: crate::user::current_user(),
        }
    }

    /// The SASL mechanism this auth needs for the server at `address`
    /// (`host:port`), `None` for simple auth (no SASL).
    pub fn mechanism(&self, address: &str) -> Option<Box<dyn crate::sasl::Mechanism>> {
        match self {
            Auth::Simple { .. } => None,
            Auth::Token(token) => Some(Box::new(crate::sasl::DigestMd5::new(token))),
            Auth::Kerberos(k) => {
                let host = address.rsplit_once(':').map_or(address, |(h, _)| h);
                let host = host.trim_start_matches('[').trim_end_matches(']');
                let expected =
                    k.server_principal
                        .as_ref()
                        .map(|p| crate::sasl::gssapi::ExpectedServer {
                            key: k.server_key.clone(),
                            principal: crate::kerberos::resolve_host_pattern(p, host),
                        });
                Some(Box::new(crate::sasl::Gssapi::new(
                    k.login.credential.clone(),
                    expected,
                    k.qops.clone(),
                )))
            }
        }
    }
}

/// Timeouts and limits of the IPC client. The defaults fail in seconds where
/// Hadoop's Java client would retry for minutes.
#[derive(Clone, Debug)]
pub struct IpcConfig {
    /// Per TCP connect attempt.
    pub connect_timeout: Duration,
    /// Retries after the first failed connect attempt, per address.
    pub connect_retries: u32,
    /// First pause between connect attempts; doubles, capped at 2 s.
    pub connect_backoff: Duration,
    /// How long one call (and the connection handshake) may take.
    pub call_timeout: Duration,
    /// Interval of keep-alive pings on an open connection.
    pub ping_interval: Duration,
    /// Largest frame accepted from a server (`ipc.maximum.response.length`).
    pub max_frame: usize,
    /// Whether a client holding credentials may agree to SIMPLE auth when the
    /// server offers nothing else (`ipc.client.fallback-to-simple-auth-allowed`,
    /// off as in Hadoop: a downgrade would hand the user name to anyone).
    pub fallback_to_simple: bool,
    /// The cluster says it is secure (`hadoop.security.authentication` is not
    /// `simple`): a connection without credentials is refused before it starts.
    pub secure: bool,
}

impl IpcConfig {
    /// The defaults, overridden by Hadoop's client keys where `conf` sets
    /// them: `ipc.client.connect.timeout`, `ipc.client.connect.max.retries`,
    /// `ipc.client.rpc-timeout.ms` (0 keeps our timeout), `ipc.ping.interval`
    /// `ipc.maximum.response.length`, `ipc.client.fallback-to-simple-auth-allowed`
    /// and `hadoop.security.authentication`.
    pub fn from_conf(conf: &crate::config::Configuration) -> Result<Self> {
        use crate::config::TimeUnit::Millis;
        let d = IpcConfig::default();
        let rpc_timeout = conf.get_duration("ipc.client.rpc-timeout.ms", Duration::ZERO, Millis)?;
        Ok(IpcConfig {
            connect_timeout: conf.get_duration(
                "ipc.client.connect.timeout",
                d.connect_timeout,
                Millis,
            )?,
            connect_retries: conf
                .get_i32("ipc.client.connect.max.retries", d.connect_retries as i32)?
                .max(0) as u32,
            connect_backoff: d.connect_backoff,
            call_timeout: if rpc_timeout.is_zero() {
                d.call_timeout
            } else {
                rpc_timeout
            },
            ping_interval: conf.get_duration("ipc.ping.interval", d.ping_interval, Millis)?,
            max_frame: conf.get_size_bytes("ipc.maximum.response.length", d.max_frame as u64)?
                as usize,
            fallback_to_simple: conf.get_bool(
                "ipc.client.fallback-to-simple-auth-allowed",
                d.fallback_to_simple,
            )?,
            secure: conf
                .get_trimmed("hadoop.security.authentication")?
                .is_some_and(|a| !a.eq_ignore_ascii_case("simple")),
        })
    }
}

impl Default for IpcConfig {
    fn default() -> Self {
        IpcConfig {
            connect_timeout: Duration::from_secs(2),
            connect_retries: 3,
            connect_backoff: Duration::from_millis(200),
            call_timeout: Duration::from_secs(60),
            ping_interval: Duration::from_secs(30),
            max_frame: frame::DEFAULT_MAX_FRAME,
            fallback_to_simple: false,
            secure: false,
        }
    }
}

/// Java's `StandbyException`: the server is an HA standby, try the next one.
const STANDBY_EXCEPTION: &str = "org.apache.hadoop.ipc.StandbyException";

/// A client for one protocol on one logical server, which may be several
/// addresses (HA). It connects lazily, reconnects when the server closed an
/// idle connection, and fails over to the next address when one is
/// unreachable or answers as standby.
pub struct RpcClient {
    addresses: Vec<String>,
    protocol: String,
    /// Used for new connections; a rolled-over token replaces it.
    auth: std::sync::Mutex<Auth>,
    config: IpcConfig,
    /// The open connection and the index of its address.
    current: tokio::sync::Mutex<Option<(usize, Connection)>>,
    /// Where the next connection attempt starts (the last good address).
    preferred: std::sync::atomic::AtomicUsize,
}

impl std::fmt::Debug for RpcClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RpcClient")
            .field("addresses", &self.addresses)
            .field("protocol", &self.protocol)
            .finish_non_exhaustive()
    }
}

impl RpcClient {
    /// A client of `protocol` (Hadoop's protocol name, e.g.
    /// `org.apache.hadoop.yarn.api.ApplicationClientProtocolPB`) at one or
    /// more `host:port` addresses, tried in order.
    pub fn new(addresses: Vec<String>, protocol: &str, auth: Auth, config: IpcConfig) -> Self {
        RpcClient {
            addresses,
            protocol: protocol.to_string(),
            auth: std::sync::Mutex::new(auth),
            config,
            current: tokio::sync::Mutex::new(None),
            preferred: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// The addresses this client may use, in failover order.
    pub fn addresses(&self) -> &[String] {
        &self.addresses
    }

    /// Replaces the credentials used for connections opened from now on
    /// (e.g. a rolled-over AMRM token); the open connection stays.
    pub fn set_auth(&self, auth: Auth) {
        if let Ok(mut a) = self.auth.lock() {
            *a = auth;
        }
    }

    /// Calls `method` with `request`, connecting or failing over as needed.
    pub async fn call<Q: Message, R: Message + Default>(
        &self,
        method: &str,
        request: &Q,
    ) -> Result<R> {
        self.call_with(method, request, false, None).await
    }

    /// [`call`](Self::call) with this call's own timeout instead of the
    /// configured one (e.g. a short one for a heartbeat).
    pub async fn call_with_timeout<Q: Message, R: Message + Default>(
        &self,
        method: &str,
        request: &Q,
        timeout: Duration,
    ) -> Result<R> {
        self.call_with(method, request, false, Some(timeout)).await
    }

    /// [`call`](Self::call) for a call that may safely run twice (a read):
    /// when the connection breaks under it, it is retried once per address
    /// on a new connection, so an RM or NN failover costs no error.
    pub async fn call_idempotent<Q: Message, R: Message + Default>(
        &self,
        method: &str,
        request: &Q,
    ) -> Result<R> {
        self.call_with(method, request, true, None).await
    }

    async fn call_with<Q: Message, R: Message + Default>(
        &self,
        method: &str,
        request: &Q,
        idempotent: bool,
        timeout: Option<Duration>,
    ) -> Result<R> {
        let timeout = timeout.unwrap_or(self.config.call_timeout);
        let mut retries = 0;
        let mut retriable = 0;
        let mut pause = self.config.connect_backoff;
        loop {
            let (index, conn) = self.connection().await?;
            let retry = retries + 1 < self.addresses.len().max(2);
            match conn.call_with_timeout(method, request, timeout).await {
                // A standby did not run the call: safe to try the next one.
                Err(Error::Remote { ref class, .. })
                    if class == STANDBY_EXCEPTION && retries + 1 < self.addresses.len() =>
                {
                    self.drop_connection(index).await;
                }
                // Not run either: pause, then try the next address (the same one when alone).
                Err(Error::Remote { ref class, .. })
                    if class == RETRIABLE_EXCEPTION && retriable + 1 < RETRIABLE_TRIES =>
                {
                    retriable += 1;
                    self.drop_connection(index).await;
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(2));
                    continue;
                }
                Err(Error::Rpc { .. }) if idempotent && retry => {
                    // Reconnect to the same address first (it may just have closed an
                    // idle connection), then move on.
                    let mut current = self.current.lock().await;
                    if current.as_ref().is_some_and(|(i, _)| *i == index) {
                        *current = None;
                    }
                    if retries > 0 {
                        drop(current);
                        self.drop_connection(index).await;
                    }
                }
                other => return other,
            }
            retries += 1;
        }
    }

    /// The open connection, or a new one to the first address that answers.
    async fn connection(&self) -> Result<(usize, Connection)> {
        let mut current = self.current.lock().await;
        if let Some((i, c)) = current.as_ref()
            && c.closed_reason().is_none()
        {
            return Ok((*i, c.clone()));
        }
        if self.addresses.is_empty() {
            return Err(Error::Connect {
                address: "(none)".into(),
                reason: format!("no address configured for {}", self.protocol),
            });
        }
        // Start at the address that last worked; a connection to it that the
        // server closed (idle) is simply reopened first.
        let start = self.preferred.load(std::sync::atomic::Ordering::Relaxed);
        let auth = self
            .auth
            .lock()
            .map(|a| a.clone())
            .map_err(|_| Error::Connect {
                address: self.addresses.join(","),
                reason: "credentials lock poisoned".into(),
            })?;
        let mut errors = Vec::new();
        // With several addresses (HA) each round tries every address once, without connect
        // retries, as Java's failover proxy providers do (yarn.client.failover-retries and
        // dfs.client.failover.connection.retries default to 0, and each failover moves on to the
        // next address): a killed active RM or NameNode must not cost its retry budget before
        // the new active is tried, and a standby that becomes active while we wait is found
        // within one pause. Rounds are paused as connect retries are and there are as many, so
        // the budget per address stays `connect_retries`.
        let n = self.addresses.len();
        let (rounds, config) = if n > 1 {
            let once = IpcConfig {
                connect_retries: 0,
                ..self.config.clone()
            };
            (self.config.connect_retries + 1, once)
        } else {
            (1, self.config.clone())
        };
        let mut pause = self.config.connect_backoff;
        for round in 0..rounds {
            if round > 0 {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(2));
            }
            for k in 0..n {
                let i = (start + k) % n;
                match Connection::open(&self.addresses[i], &self.protocol, &auth, &config).await {
                    Ok(c) => {
                        self.preferred
                            .store(i, std::sync::atomic::Ordering::Relaxed);
                        *current = Some((i, c.clone()));
                        return Ok((i, c));
                    }
                    // Authentication problems are not fixed by another address.
                    Err(e @ Error::Auth { .. }) => return Err(e),
                    // The last round's errors say why each address failed.
                    Err(e) if round + 1 == rounds => errors.push(e),
                    Err(_) => {}
                }
            }
        }
        if errors.len() == 1 {
            return Err(errors.remove(0));
        }
        Err(Error::Connect {
            address: self.addresses.join(","),
            reason: errors
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("; "),
        })
    }

    /// Forgets the connection to `index` and starts the next attempt at the
    /// address after it.
    async fn drop_connection(&self, index: usize) {
        let mut current = self.current.lock().await;
        if current.as_ref().is_some_and(|(i, _)| *i == index) {
            *current = None;
        }
        let next = (index + 1) % self.addresses.len().max(1);
        self.preferred
            .store(next, std::sync::atomic::Ordering::Relaxed);
    }
}

#[cfg(test)]
mod config_tests {
    use super::*;

    #[test]
    fn ipc_config_reads_security_keys() {
        let d = IpcConfig::from_conf(&crate::config::Configuration::new()).unwrap();
        assert!(!d.secure && !d.fallback_to_simple);
        let mut conf = crate::config::Configuration::new();
        conf.set("hadoop.security.authentication", "kerberos");
        conf.set("ipc.client.fallback-to-simple-auth-allowed", "true");
        let c = IpcConfig::from_conf(&conf).unwrap();
        assert!(c.secure && c.fallback_to_simple);
    }
}
