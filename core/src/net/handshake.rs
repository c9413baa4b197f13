//! Mutual challenge–response for connections without encryption
//! (`spindle.network.crypto.enabled=false`): both sides prove that they hold
//! the application secret before a byte of HTTP/2 is exchanged, and the
//! secret never crosses the wire.
//!
//! ```text
//! client -> server   MAGIC, client nonce (32 random bytes)
//! server -> client   server nonce (32 random bytes), HMAC(k, "server" | cn | sn)
//! client -> server   HMAC(k, "client" | cn | sn)
//! ```
//!
//! `k` is an HMAC-SHA256 key derived from the secret (HKDF). Each side checks
//! the other's tag over both nonces, so a recorded exchange replayed later
//! meets a fresh nonce and fails; the role labels keep one side's tag from
//! serving as the other's. The client checks the server before it answers.
//!
//! # Caveats
//!
//! Only the start of the connection is authenticated: what follows is
//! plaintext, which someone on the path can read and, actively, alter. That
//! is what turning encryption off means; TLS (the default) has neither gap.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::auth::Secret;

/// The first bytes of a client's greeting: protocol and version.
const MAGIC: &[u8; 8] = b"SPNDLCR1";
const NONCE: usize = 32;
const TAG: usize = 32;
/// The HKDF label of the HMAC key.
const KEY_LABEL: &[u8] = b"spindle challenge-response hmac key v1";

/// The HMAC key of one application.
#[derive(Clone)]
pub(crate) struct HmacKey(ring::hmac::Key);

impl HmacKey {
    pub(super) fn new(secret: &Secret) -> HmacKey {
        HmacKey(ring::hmac::Key::new(
            ring::hmac::HMAC_SHA256,
            &secret.derive(KEY_LABEL),
        ))
    }

    fn tag(&self, role: &[u8], client: &[u8], server: &[u8]) -> ring::hmac::Tag {
        let mut ctx = ring::hmac::Context::with_key(&self.0);
        ctx.update(role);
        ctx.update(client);
        ctx.update(server);
        ctx.sign()
    }

    fn verify(&self, role: &[u8], client: &[u8], server: &[u8], tag: &[u8]) -> bool {
        let mut msg = Vec::with_capacity(role.len() + client.len() + server.len());
        msg.extend_from_slice(role);
        msg.extend_from_slice(client);
        msg.extend_from_slice(server);
        ring::hmac::verify(&self.0, &msg, tag).is_ok()
    }
}

fn refused(why: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::PermissionDenied, why.to_string())
}

/// The client's side: proves itself only to a server that proved itself first.
pub(crate) async fn client<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut S,
    key: &HmacKey,
) -> std::io::Result<()> {
    let nonce: [u8; NONCE] = rand::random();
    let mut hello = Vec::with_capacity(MAGIC.len() + NONCE);
    hello.extend_from_slice(MAGIC);
    hello.extend_from_slice(&nonce);
    s.write_all(&hello).await?;
    s.flush().await?;
    let mut reply = [0u8; NONCE + TAG];
    s.read_exact(&mut reply).await?;
    let (theirs, tag) = reply.split_at(NONCE);
    if !key.verify(b"server", &nonce, theirs, tag) {
        return Err(refused(
            "the peer does not hold this application's secret (challenge-response)",
        ));
    }
    s.write_all(key.tag(b"client", &nonce, theirs).as_ref())
        .await?;
    s.flush().await
}

/// The server's side.
pub(crate) async fn server<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut S,
    key: &HmacKey,
) -> std::io::Result<()> {
    let mut hello = [0u8; MAGIC.len() + NONCE];
    s.read_exact(&mut hello).await?;
    let (magic, theirs) = hello.split_at(MAGIC.len());
    if magic != MAGIC {
        return Err(refused(
            "not Spindle's challenge-response (a TLS peer, or another protocol)",
        ));
    }
    let nonce: [u8; NONCE] = rand::random();
    let mut reply = Vec::with_capacity(NONCE + TAG);
    reply.extend_from_slice(&nonce);
    reply.extend_from_slice(key.tag(b"server", theirs, &nonce).as_ref());
    s.write_all(&reply).await?;
    s.flush().await?;
    let mut tag = [0u8; TAG];
    s.read_exact(&mut tag).await?;
    if !key.verify(b"client", theirs, &nonce, &tag) {
        return Err(refused(
            "the peer does not hold this application's secret (challenge-response)",
        ));
    }
    Ok(())
}
