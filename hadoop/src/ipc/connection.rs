//! One Hadoop RPC connection: handshake (preamble, SASL, connection context),
//! then many concurrent calls multiplexed by call id. A reader task routes each
//! answer to its waiting caller; a ping task keeps an idle connection alive.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use prost::Message;
use spindle_proto::common::rpc_response_header_proto::RpcStatusProto;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::frame::{self, AuthProtocol};
use super::{Auth, IpcConfig};
use crate::sasl::{self, Outcome};
use crate::{Error, Result};

/// Reads one frame body, refusing a length above `max` before allocating.
/// The body buffer grows as bytes arrive, so a lying length prefix on a short
/// stream costs no more memory than the bytes actually sent.
pub async fn read_frame<R: AsyncRead + Unpin>(
    reader: &mut R,
    max: usize,
    address: &str,
) -> Result<Vec<u8>> {
    let mut prefix = [0u8; 4];
    reader
        .read_exact(&mut prefix)
        .await
        .map_err(|e| Error::Rpc {
            address: address.to_string(),
            reason: connection_lost(&e),
        })?;
    let len = frame::check_length(prefix, max).map_err(|e| Error::Rpc {
        address: address.to_string(),
        reason: e.to_string(),
    })?;
    let mut body = Vec::with_capacity(len.min(64 * 1024));
    let read = (&mut *reader)
        .take(len as u64)
        .read_to_end(&mut body)
        .await
        .map_err(|e| Error::Rpc {
            address: address.to_string(),
            reason: connection_lost(&e),
        })?;
    if read != len {
        return Err(Error::Rpc {
            address: address.to_string(),
            reason: format!("connection closed in the middle of a frame ({read} of {len} bytes)"),
        });
    }
    Ok(body)
}

fn connection_lost(e: &std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        "connection closed by the server".to_string()
    } else {
        format!("connection lost: {e}")
    }
}

/// An answer routed to a caller: the frame body or why there will be none.
type Reply = std::result::Result<frame::Response, Error>;

#[derive(Default)]
struct Pending {
    waiting: HashMap<i32, oneshot::Sender<Reply>>,
    /// Set once the connection is unusable; later calls fail with this reason.
    closed: Option<String>,
}

impl Pending {
    fn close(&mut self, address: &str, reason: &str) {
        if self.closed.is_none() {
            self.closed = Some(reason.to_string());
        }
        for (_, tx) in self.waiting.drain() {
            let _ = tx.send(Err(Error::Rpc {
                address: address.to_string(),
                reason: reason.to_string(),
            }));
        }
    }
}

struct Shared {
    address: String,
    protocol: String,
    client_id: [u8; 16],
    next_call_id: AtomicI32,
    writer: tokio::sync::Mutex<OwnedWriteHalf>,
    pending: Arc<Mutex<Pending>>,
    config: IpcConfig,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    /// The SASL security layer (QOP integrity or privacy), if any.
    layer: Layer,
}

type Layer = Option<Arc<Mutex<Box<dyn sasl::SecurityLayer>>>>;

/// The bytes to put on the wire for `frame`: itself, or its SASL WRAP frames.
fn seal(layer: &Layer, frame: Vec<u8>) -> std::result::Result<Vec<u8>, String> {
    match layer {
        None => Ok(frame),
        Some(l) => {
            let mut l = l
                .lock()
                .map_err(|_| "security layer poisoned".to_string())?;
            sasl::wrap_frames(l.as_mut(), &frame)
        }
    }
}

/// Response frames from the server, unwrapped from SASL WRAP messages when
/// a security layer is in place (one WRAP may carry several frames).
struct FrameSource {
    layer: Layer,
    plain: Vec<u8>,
}

impl FrameSource {
    async fn next<R: AsyncRead + Unpin>(
        &mut self,
        reader: &mut R,
        max: usize,
        address: &str,
    ) -> Result<Vec<u8>> {
        let Some(layer) = &self.layer else {
            return read_frame(reader, max, address).await;
        };
        let rpc = |reason: String| Error::Rpc {
            address: address.to_string(),
            reason,
        };
        loop {
            if self.plain.len() >= 4 {
                let prefix = [self.plain[0], self.plain[1], self.plain[2], self.plain[3]];
                let len = frame::check_length(prefix, max).map_err(|e| rpc(e.to_string()))?;
                if self.plain.len() >= 4 + len {
                    let body = self.plain[4..4 + len].to_vec();
                    self.plain.drain(..4 + len);
                    return Ok(body);
                }
            }
            let wrapped = read_frame(reader, max, address).await?;
            let message = sasl::decode_sasl_response(address, &wrapped)?;
            if message.state != spindle_proto::common::rpc_sasl_proto::SaslState::Wrap as i32 {
                return Err(rpc(
                    "the server sent an unwrapped message on a protected connection".into(),
                ));
            }
            let data = layer
                .lock()
                .map_err(|_| rpc("security layer poisoned".into()))?
                .unwrap(message.token())
                .map_err(rpc)?;
            self.plain.extend_from_slice(&data);
        }
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        if let Ok(tasks) = self.tasks.get_mut() {
            for t in tasks.drain(..) {
                t.abort();
            }
        }
    }
}

/// A live, authenticated connection to one Hadoop RPC server for one protocol.
/// Cheap to clone; calls from many tasks share it.
#[derive(Clone)]
pub struct Connection {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("address", &self.shared.address)
            .field("protocol", &self.shared.protocol)
            .finish()
    }
}

impl Connection {
    /// Connects to `address` (with the configured retries), authenticates
    /// with `auth` and announces `protocol`.
    pub async fn open(
        address: &str,
        protocol: &str,
        auth: &Auth,
        config: &IpcConfig,
    ) -> Result<Self> {
        let stream = connect_with_retries(address, config).await?;
        let _ = stream.set_nodelay(true);
        tokio::time::timeout(
            config.call_timeout,
            Self::handshake(stream, address, protocol, auth, config),
        )
        .await
        .map_err(|_| Error::Timeout {
            address: address.to_string(),
            method: "connection setup".into(),
            timeout_ms: config.call_timeout.as_millis() as u64,
        })?
    }

    async fn handshake(
        mut stream: TcpStream,
        address: &str,
        protocol: &str,
        auth: &Auth,
        config: &IpcConfig,
    ) -> Result<Self> {
        let io_err = |e: std::io::Error| Error::Rpc {
            address: address.to_string(),
            reason: format!("sending handshake: {e}"),
        };
        let client_id: [u8; 16] = rand::random();
        let mut layer = None;
        let (context_user, real_user) = match auth.mechanism(address) {
            None if config.secure => {
                return Err(Error::Auth {
                    address: address.to_string(),
                    reason: "the cluster is secure (hadoop.security.authentication is not simple) \
                             and Spindle has no token for this server"
                        .into(),
                });
            }
            None => {
                stream
                    .write_all(&frame::preamble(AuthProtocol::None))
                    .await
                    .map_err(io_err)?;
                (
                    Some(match auth {
                        Auth::Simple { user } => user.clone(),
                        _ => crate::user::current_user(),
                    }),
                    None,
                )
            }
            Some(mech) => {
                stream
                    .write_all(&frame::preamble(AuthProtocol::Sasl))
                    .await
                    .map_err(io_err)?;
                let (outcome, agreed) = sasl::negotiate_with_layer(
                    &mut stream,
                    Some(mech),
                    address,
                    config.max_frame,
                    config.fallback_to_simple,
                )
                .await?;
                layer = agreed;
                match (outcome, auth) {
                    // Kerberos names the user as Hadoop's client does: the
                    // full principal, or the proxied user with the principal as real user.
                    (Outcome::Authenticated(_), Auth::Kerberos(k)) => match &k.proxy_user {
                        Some(p) => (Some(p.clone()), Some(k.login.principal.clone())),
                        None => (Some(k.login.principal.clone()), None),
                    },
                    // The token names the user; Hadoop's client sends none.
                    (Outcome::Authenticated(_), _) => (None, None),
                    (Outcome::Simple, _) => (Some(crate::user::current_user()), None),
                }
            }
        };
        let layer = layer.map(|l| Arc::new(Mutex::new(l)));
        let context = frame::connection_context_frame_as(
            &client_id,
            protocol,
            context_user.as_deref(),
            real_user.as_deref(),
        );
        let context = seal(&layer, context).map_err(|reason| Error::Rpc {
            address: address.to_string(),
            reason,
        })?;
        stream.write_all(&context).await.map_err(io_err)?;
        stream.flush().await.map_err(io_err)?;

        let (mut reader, writer) = stream.into_split();
        let pending = Arc::new(Mutex::new(Pending::default()));
        let shared = Arc::new(Shared {
            address: address.to_string(),
            protocol: protocol.to_string(),
            client_id,
            next_call_id: AtomicI32::new(0),
            writer: tokio::sync::Mutex::new(writer),
            pending: pending.clone(),
            config: config.clone(),
            tasks: Mutex::new(Vec::new()),
            layer: layer.clone(),
        });

        let max = config.max_frame;
        let addr = address.to_string();
        let reader_task = tokio::spawn(async move {
            let mut source = FrameSource {
                layer,
                plain: Vec::new(),
            };
            let reason = loop {
                let body = match source.next(&mut reader, max, &addr).await {
                    Ok(b) => b,
                    Err(Error::Rpc { reason, .. }) => break reason,
                    Err(e) => break e.to_string(),
                };
                let response = match frame::decode_response(&body) {
                    Ok(r) => r,
                    Err(e) => break e.to_string(),
                };
                let call_id = response.header.call_id as i32;
                let fatal = response.status() == RpcStatusProto::Fatal;
                let waiter = pending
                    .lock()
                    .ok()
                    .and_then(|mut p| p.waiting.remove(&call_id));
                if fatal {
                    let class = response
                        .header
                        .exception_class_name
                        .clone()
                        .unwrap_or_default();
                    let msg = response.header.error_msg.clone().unwrap_or_default();
                    let reason = format!(
                        "server closed the connection: {}: {}",
                        class,
                        crate::error::first_line(&msg, &class)
                    );
                    if let Some(tx) = waiter {
                        let _ = tx.send(Err(Error::Rpc {
                            address: addr.clone(),
                            reason: reason.clone(),
                        }));
                    }
                    break reason;
                }
                if let Some(tx) = waiter {
                    let _ = tx.send(Ok(response));
                }
                // Answers to calls that timed out are dropped.
            };
            if let Ok(mut p) = pending.lock() {
                p.close(&addr, &reason);
            }
        });

        let weak = Arc::downgrade(&shared);
        let interval = config.ping_interval;
        let ping_task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(interval).await;
                let Some(shared) = weak.upgrade() else { return };
                let Ok(ping) = seal(&shared.layer, frame::ping_frame(&shared.client_id)) else {
                    return;
                };
                let sent = async {
                    let mut w = shared.writer.lock().await;
                    w.write_all(&ping).await?;
                    w.flush().await
                };
                if !matches!(tokio::time::timeout(interval, sent).await, Ok(Ok(()))) {
                    if let Ok(mut p) = shared.pending.lock() {
                        p.close(
                            &shared.address,
                            "ping could not be sent: server not reading",
                        );
                    }
                    return;
                }
            }
        });
        if let Ok(mut tasks) = shared.tasks.lock() {
            tasks.push(reader_task);
            tasks.push(ping_task);
        }
        Ok(Connection { shared })
    }

    /// The `host:port` this connection goes to.
    pub fn address(&self) -> &str {
        &self.shared.address
    }

    /// Why the connection can no longer be used, if it can't.
    pub fn closed_reason(&self) -> Option<String> {
        self.shared
            .pending
            .lock()
            .ok()
            .and_then(|p| p.closed.clone())
    }

    /// Calls `method` of this connection's protocol and waits (at most the
    /// configured call timeout) for its answer.
    pub async fn call<Q: Message, R: Message + Default>(
        &self,
        method: &str,
        request: &Q,
    ) -> Result<R> {
        self.call_with_timeout(method, request, self.shared.config.call_timeout)
            .await
    }

    /// [`call`](Self::call) with this call's own timeout.
    pub async fn call_with_timeout<Q: Message, R: Message + Default>(
        &self,
        method: &str,
        request: &Q,
        call_timeout: Duration,
    ) -> Result<R> {
        let s = &self.shared;
        let call_id = s.next_call_id.fetch_add(1, Ordering::Relaxed) & i32::MAX;
        let (tx, rx) = oneshot::channel();
        {
            let mut p = s
                .pending
                .lock()
                .map_err(|_| self.rpc_err("connection state poisoned"))?;
            if let Some(reason) = &p.closed {
                return Err(Error::Rpc {
                    address: s.address.clone(),
                    reason: reason.clone(),
                });
            }
            p.waiting.insert(call_id, tx);
        }
        let bytes = frame::call_frame(call_id, &s.client_id, &s.protocol, method, request);
        let bytes = match seal(&s.layer, bytes) {
            Ok(b) => b,
            Err(reason) => {
                if let Ok(mut p) = s.pending.lock() {
                    p.waiting.remove(&call_id);
                }
                return Err(self.rpc_err(&format!("protecting {method}: {reason}")));
            }
        };
        // One deadline covers sending (a server that stops reading blocks the
        // write) and the answer.
        let deadline = tokio::time::Instant::now() + call_timeout;
        let timeout = || Error::Timeout {
            address: s.address.clone(),
            method: method.to_string(),
            timeout_ms: call_timeout.as_millis() as u64,
        };
        let sent = async {
            let mut w = s.writer.lock().await;
            w.write_all(&bytes).await?;
            w.flush().await
        };
        let failure = match tokio::time::timeout_at(deadline, sent).await {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some((
                format!("sending {method}: {e}"),
                self.rpc_err(&format!("sending {method}: {e}")),
            )),
            // Part of the frame may be on the wire: the stream is unusable.
            Err(_) => Some((format!("sending {method} timed out"), timeout())),
        };
        if let Some((reason, err)) = failure {
            if let Ok(mut p) = s.pending.lock() {
                p.close(&s.address, &reason);
            }
            return Err(err);
        }
        let reply = match tokio::time::timeout_at(deadline, rx).await {
            Ok(Ok(reply)) => reply?,
            Ok(Err(_)) => return Err(self.rpc_err("connection closed before the answer")),
            Err(_) => {
                if let Ok(mut p) = s.pending.lock() {
                    p.waiting.remove(&call_id);
                }
                return Err(timeout());
            }
        };
        if reply.status() != RpcStatusProto::Success {
            let class = reply
                .header
                .exception_class_name
                .clone()
                .unwrap_or_default();
            let msg = reply.header.error_msg.clone().unwrap_or_default();
            return Err(Error::Remote {
                address: s.address.clone(),
                method: method.to_string(),
                message: crate::error::first_line(&msg, &class),
                class,
            });
        }
        reply
            .message::<R>()
            .map_err(|e| self.rpc_err(&format!("answer to {method}: {e}")))
    }

    fn rpc_err(&self, reason: &str) -> Error {
        Error::Rpc {
            address: self.shared.address.clone(),
            reason: reason.to_string(),
        }
    }
}

/// TCP connect with a per-attempt timeout and exponential backoff, giving up
/// after `connect_retries` retries with an error naming the address.
async fn connect_with_retries(address: &str, config: &IpcConfig) -> Result<TcpStream> {
    let started = std::time::Instant::now();
    let mut backoff = config.connect_backoff;
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let last =
            match tokio::time::timeout(config.connect_timeout, TcpStream::connect(address)).await {
                Ok(Ok(s)) => return Ok(s),
                Ok(Err(e)) => e.to_string(),
                Err(_) => format!("no answer within {} ms", config.connect_timeout.as_millis()),
            };
        if attempt > config.connect_retries {
            return Err(Error::Connect {
                address: address.to_string(),
                reason: format!(
                    "{last} (gave up after {attempt} attempts in {:.1} s)",
                    started.elapsed().as_secs_f64()
                ),
            });
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(2));
    }
}
