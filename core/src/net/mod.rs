//! Connections between Spindle's own processes (the driver, its executors,
//! their peers, and a client-mode AM): authenticated always, encrypted by default.
//!
//! Every connection, before its first byte of HTTP/2, proves on both sides
//! that the peer holds the application secret, without sending it:
//!
//! - **encrypted** (the default): TLS 1.3 (rustls on ring), both sides
//!   presenting and pinning one Ed25519 key derived from the secret ([`tls`]);
//! - **`spindle.network.crypto.enabled=false`** (`SPINDLE_NETWORK_CRYPTO_ENABLED`,
//!   read by the driver's context): a mutual challenge–response
//!   with HMAC keys derived from the secret ([`handshake`]), then plaintext.
//!
//! Nothing turns authentication off. A process never takes the mode from its
//! peer: the driver chooses it, and tells its executors through the scheme of
//! the driver URL they are launched with (`https://` encrypted, `http://` not);
//! a peer speaking the other mode is refused.
//!
//! Every channel connects lazily, gives up connecting (TCP and handshake) after
//! a few seconds and pings its peer over HTTP/2: a host cut off from the network
//! then fails the calls in flight within about half a minute instead of after the
//! kernel's TCP retransmission limit (~15 min), so the scheduler can run the
//! work elsewhere.

mod handshake;
mod tls;

/// The largest message on these channels, and the largest shuffle block a
/// reducer fetches: each is held whole in memory at both ends. Task plans
/// (map_with parameters), task outcomes (a partition's `collect`), blobs
/// (parallelized slices, broadcast values) and fetched blocks stay under it;
/// anything larger is refused with an error naming the limit, before the
/// receiver allocates what a length prefix claims.
pub const MAX_MESSAGE: usize = 1 << 30;

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tonic::codegen::http::Uri;
use tonic::transport::{Channel, Endpoint};

use crate::auth::Secret;
use crate::{Error, Result};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(10);
const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(20);
/// A peer that has not finished its handshake by then is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The scheme of a driver URL for a mode.
pub fn scheme(encrypted: bool) -> &'static str {
    if encrypted { "https" } else { "http" }
}

/// The mode a driver URL names (`https://` encrypted, `http://` not) and its
/// `host:port`.
pub fn parse_url(url: &str) -> Result<(bool, &str)> {
    let bad = || {
        Error::Config(format!(
            "driver URL {url:?}: expected https://host:port or http://host:port"
        ))
    };
    let (encrypted, rest) = if let Some(r) = url.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = url.strip_prefix("http://") {
        (false, r)
    } else {
        return Err(bad());
    };
    let rest = rest.trim_end_matches('/');
    if rest.is_empty() || rest.contains('/') {
        return Err(bad());
    }
    Ok((encrypted, rest))
}

/// How this process's connections prove themselves: the application's keys
/// and whether to encrypt. Cheap to clone.
#[derive(Clone)]
pub struct Security {
    inner: Arc<Keys>,
}

enum Keys {
    Tls(tls::Tls),
    ChallengeResponse(handshake::HmacKey),
}

impl std::fmt::Debug for Security {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Security {{ encrypted: {} }}", self.encrypted())
    }
}

impl Security {
    /// The keys of the application with `secret`.
    pub fn new(secret: &Secret, encrypted: bool) -> Result<Security> {
        let keys = if encrypted {
            Keys::Tls(tls::Tls::new(secret)?)
        } else {
            Keys::ChallengeResponse(handshake::HmacKey::new(secret))
        };
        Ok(Security {
            inner: Arc::new(keys),
        })
    }

    /// Whether connections are encrypted.
    pub fn encrypted(&self) -> bool {
        matches!(*self.inner, Keys::Tls(_))
    }

    /// The client's handshake on a fresh connection.
    pub async fn connect(&self, mut tcp: TcpStream) -> std::io::Result<Stream> {
        match &*self.inner {
            Keys::Tls(t) => {
                let s = tokio_rustls::TlsConnector::from(t.client.clone())
                    .connect(tls::Tls::server_name(), tcp)
                    .await?;
                Ok(Stream::Tls(Box::new(s.into())))
            }
            Keys::ChallengeResponse(k) => {
                handshake::client(&mut tcp, k).await?;
                Ok(Stream::Plain(tcp))
            }
        }
    }

    /// The server's handshake on an accepted connection.
    pub async fn accept(&self, mut tcp: TcpStream) -> std::io::Result<Stream> {
        match &*self.inner {
            Keys::Tls(t) => {
                let s = tokio_rustls::TlsAcceptor::from(t.server.clone())
                    .accept(tcp)
                    .await?;
                Ok(Stream::Tls(Box::new(s.into())))
            }
            Keys::ChallengeResponse(k) => {
                handshake::server(&mut tcp, k).await?;
                Ok(Stream::Plain(tcp))
            }
        }
    }
}

/// An authenticated connection (TLS, or plaintext after the challenge–response).
pub enum Stream {
    /// Encrypted and mutually authenticated with TLS 1.3.
    Tls(Box<tokio_rustls::TlsStream<TcpStream>>),
    /// Authenticated by the challenge–response, then plaintext.
    Plain(TcpStream),
}

impl Stream {
    fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Tls(s) => s.get_ref().0,
            Stream::Plain(s) => s,
        }
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
            Stream::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Stream::Tls(s) => s.is_write_vectored(),
            Stream::Plain(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}

/// The peer's address, for tonic's `Request::remote_addr`.
#[derive(Clone, Debug)]
pub struct PeerInfo {
    /// Where the connection came from, when the socket says.
    pub remote_addr: Option<SocketAddr>,
}

impl tonic::transport::server::Connected for Stream {
    type ConnectInfo = PeerInfo;

    fn connect_info(&self) -> PeerInfo {
        PeerInfo {
            remote_addr: self.tcp().peer_addr().ok(),
        }
    }
}

/// The connections a server accepts from `listener` once they have passed the
/// handshake (each in a task of its own, so a slow peer holds up no other).
/// Refused peers are logged and dropped. Ends when the server drops the stream.
pub fn incoming(
    listener: TcpListener,
    security: Security,
) -> impl futures::Stream<Item = std::io::Result<Stream>> + Send + 'static {
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Stream>>(64);
    tokio::spawn(async move {
        loop {
            let (tcp, peer) = tokio::select! {
                _ = tx.closed() => return,
                r = listener.accept() => match r {
                    Ok(c) => c,
                    Err(e) => {
                        // Out of descriptors and the like: try again shortly.
                        tracing::warn!("accepting a connection: {e}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                },
            };
            // Small request/response messages: no Nagle delay.
            let _ = tcp.set_nodelay(true);
            let (tx, security) = (tx.clone(), security.clone());
            tokio::spawn(async move {
                match tokio::time::timeout(HANDSHAKE_TIMEOUT, security.accept(tcp)).await {
                    Ok(Ok(s)) => {
                        let _ = tx.send(Ok(s)).await;
                    }
                    Ok(Err(e)) => tracing::warn!("refused a connection from {peer}: {e}"),
                    Err(_) => tracing::warn!(
                        "refused a connection from {peer}: no handshake within {HANDSHAKE_TIMEOUT:?}"
                    ),
                }
            });
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(rx)
}

/// Opens a TCP connection and runs the client's handshake (tonic's connector).
#[derive(Clone)]
struct Connector(Security);

impl tower_service::Service<Uri> for Connector {
    type Response = hyper_util::rt::TokioIo<Stream>;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = std::io::Result<Self::Response>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let security = self.0.clone();
        Box::pin(async move {
            let host = uri
                .host()
                .ok_or_else(|| std::io::Error::other(format!("no host in {uri}")))?
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string();
            let port = uri
                .port_u16()
                .ok_or_else(|| std::io::Error::other(format!("no port in {uri}")))?;
            let tcp = TcpStream::connect((host.as_str(), port)).await?;
            tcp.set_nodelay(true)?;
            let s = tokio::time::timeout(HANDSHAKE_TIMEOUT, security.connect(tcp))
                .await
                .map_err(|_| {
                    std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        format!("no handshake with {host}:{port} within {HANDSHAKE_TIMEOUT:?}"),
                    )
                })??;
            Ok(hyper_util::rt::TokioIo::new(s))
        })
    }
}

/// A lazily connected, authenticated channel to `address` (`host:port`, or a
/// driver URL, whose scheme must then match `security`).
pub fn channel(address: &str, security: &Security) -> Result<Channel> {
    let address = if address.contains("://") {
        let (encrypted, rest) = parse_url(address)?;
        if encrypted != security.encrypted() {
            return Err(Error::Config(format!(
                "{address}: the URL's scheme does not match this process's spindle.network.crypto.enabled={}",
                security.encrypted()
            )));
        }
        rest
    } else {
        address
    };
    // The scheme tonic sees is only HTTP/2's `:scheme`: the connector secures the connection.
    Ok(Endpoint::from_shared(format!("http://{address}"))
        .map_err(|e| Error::Rpc(format!("address {address}: {e}")))?
        .connect_timeout(CONNECT_TIMEOUT)
        .http2_keep_alive_interval(KEEPALIVE_INTERVAL)
        .keep_alive_timeout(KEEPALIVE_TIMEOUT)
        .keep_alive_while_idle(true)
        .connect_with_connector_lazy(Connector(security.clone())))
}

#[cfg(test)]
mod tests;
