//! The SASL exchange that opens an authenticated Hadoop RPC connection
//! (call id -33, `RpcSaslProto` messages). The negotiation loop is generic
//! over a [`Mechanism`]: DIGEST-MD5 for tokens, GSSAPI for Kerberos. A
//! mechanism that agreed on integrity or privacy hands back a
//! [`SecurityLayer`] that wraps every later RPC in `RpcSaslProto` WRAP messages.

pub mod digest;
pub mod gssapi;

use prost::Message;
use spindle_proto::common::{
    RpcSaslProto,
    rpc_response_header_proto::RpcStatusProto,
    rpc_sasl_proto::{SaslAuth, SaslState},
};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use crate::ipc::connection::read_frame;
use crate::ipc::frame::{self, SASL_CALL_ID};
use crate::{Error, Result};

pub use digest::DigestMd5;
pub use gssapi::Gssapi;

/// A negotiated SASL security layer (QOP `auth-int` or `auth-conf`).
pub trait SecurityLayer: Send {
    /// Protects outgoing bytes (at most [`max_chunk`](Self::max_chunk) at a time).
    fn wrap(&mut self, data: &[u8]) -> std::result::Result<Vec<u8>, String>;
    /// Checks and opens a token from the server.
    fn unwrap(&mut self, token: &[u8]) -> std::result::Result<Vec<u8>, String>;
    /// The largest plaintext one wrap may carry (the server's buffer size).
    fn max_chunk(&self) -> usize;
}

/// The frames that carry `data` through `layer`: one SASL WRAP message per
/// chunk, as Hadoop's client writes them.
pub fn wrap_frames(
    layer: &mut dyn SecurityLayer,
    data: &[u8],
) -> std::result::Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(data.len() + 64);
    for chunk in data.chunks(layer.max_chunk()) {
        let token = layer.wrap(chunk)?;
        out.extend(sasl_frame(&RpcSaslProto {
            state: SaslState::Wrap as i32,
            token: Some(token),
            ..Default::default()
        }));
    }
    Ok(out)
}

/// A SASL client mechanism in Hadoop's vocabulary: an auth method name
/// (`TOKEN`, `KERBEROS`) carried by a SASL mechanism (`DIGEST-MD5`, `GSSAPI`).
/// Errors are short reasons; the caller adds the address.
pub trait Mechanism: Send {
    /// Hadoop's auth method, e.g. `TOKEN`.
    fn method(&self) -> &str;
    /// The SASL mechanism, e.g. `DIGEST-MD5`.
    fn mechanism(&self) -> &str;
    /// The first response, given the server's offer: its protocol, server id
    /// and, if it sent one, the initial challenge.
    fn start(
        &mut self,
        protocol: &str,
        server_id: &str,
        challenge: Option<&[u8]>,
    ) -> std::result::Result<Vec<u8>, String>;
    /// The response to a further challenge.
    fn step(&mut self, challenge: &[u8]) -> std::result::Result<Vec<u8>, String>;
    /// Checks the data the server sent with SUCCESS (mutual authentication).
    fn finish(&mut self, data: Option<&[u8]>) -> std::result::Result<(), String>;
    /// The security layer agreed on, if it protects later messages.
    fn security_layer(&mut self) -> Option<Box<dyn SecurityLayer>> {
        None
    }
}

/// What the negotiation settled on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The server accepts simple auth: the connection context names the user.
    Simple,
    /// Authenticated with this Hadoop auth method (e.g. `TOKEN`).
    Authenticated(String),
}

/// The largest SASL answer accepted, whatever the connection's own limit:
/// challenges and Kerberos tokens are a few kilobytes.
pub const MAX_SASL_FRAME: usize = 1024 * 1024;

fn sasl_frame(message: &RpcSaslProto) -> Vec<u8> {
    // Hadoop's client sends SASL messages with an empty client id.
    let header = frame::request_header(SASL_CALL_ID, &[], -1);
    frame::frame(&[&header, message])
}

/// Decodes one SASL answer frame; server-side failures become `Error::Auth`.
pub fn decode_sasl_response(address: &str, body: &[u8]) -> Result<RpcSaslProto> {
    let response = frame::decode_response(body).map_err(|e| Error::Rpc {
        address: address.to_string(),
        reason: format!("during SASL: {e}"),
    })?;
    if response.status() != RpcStatusProto::Success {
        let class = response
            .header
            .exception_class_name
            .clone()
            .unwrap_or_default();
        let msg = response.header.error_msg.clone().unwrap_or_default();
        return Err(Error::Auth {
            address: address.to_string(),
            reason: format!("{} ({class})", crate::error::first_line(&msg, &class)),
        });
    }
    if response.header.call_id as i32 != SASL_CALL_ID {
        return Err(Error::Rpc {
            address: address.to_string(),
            reason: format!(
                "expected a SASL answer (call id -33) but got call id {}",
                response.header.call_id as i32
            ),
        });
    }
    response.message::<RpcSaslProto>().map_err(|e| Error::Rpc {
        address: address.to_string(),
        reason: format!("SASL message: {e}"),
    })
}

/// Runs the SASL exchange on a fresh connection whose preamble announced
/// SASL. With `mechanism == None` only simple auth can be agreed on; with a
/// mechanism, a server that offers only SIMPLE (or declares success before
/// any mechanism ran) is refused unless `fallback_to_simple`.
pub async fn negotiate<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    mechanism: Option<Box<dyn Mechanism>>,
    address: &str,
    max_frame: usize,
    fallback_to_simple: bool,
) -> Result<Outcome> {
    negotiate_with_layer(stream, mechanism, address, max_frame, fallback_to_simple)
        .await
        .map(|(outcome, _)| outcome)
}

/// [`negotiate`], also returning the security layer the mechanism agreed on.
pub async fn negotiate_with_layer<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    mut mechanism: Option<Box<dyn Mechanism>>,
    address: &str,
    max_frame: usize,
    fallback_to_simple: bool,
) -> Result<(Outcome, Option<Box<dyn SecurityLayer>>)> {
    let fail = |reason: String| Error::Auth {
        address: address.to_string(),
        reason,
    };
    let downgrade_refused = |mech: &dyn Mechanism| {
        fail(format!(
            "the server wants SIMPLE authentication, but Spindle holds {}/{} credentials \
             for it and refuses to fall back (ipc.client.fallback-to-simple-auth-allowed=false)",
            mech.method(),
            mech.mechanism()
        ))
    };
    let send = |msg: RpcSaslProto| sasl_frame(&msg);
    write(
        stream,
        address,
        &send(RpcSaslProto {
            state: SaslState::Negotiate as i32,
            ..Default::default()
        }),
    )
    .await?;
    let mut started = false;
    // A well-behaved server finishes in 2-3 rounds; bound it anyway.
    for _ in 0..16 {
        let body = read_frame(stream, max_frame.min(MAX_SASL_FRAME), address).await?;
        let message = decode_sasl_response(address, &body)?;
        let state = SaslState::try_from(message.state)
            .map_err(|_| fail(format!("unknown SASL state {}", message.state)))?;
        match state {
            SaslState::Negotiate => {
                let offered: Vec<String> = message
                    .auths
                    .iter()
                    .map(|a| format!("{}/{}", a.method, a.mechanism))
                    .collect();
                let chosen = mechanism.as_ref().and_then(|m| {
                    message
                        .auths
                        .iter()
                        .find(|a| a.method == m.method() && a.mechanism == m.mechanism())
                });
                if let (Some(auth), Some(mech)) = (chosen, mechanism.as_deref_mut()) {
                    let token = mech
                        .start(auth.protocol(), auth.server_id(), auth.challenge.as_deref())
                        .map_err(&fail)?;
                    started = true;
                    let reply = RpcSaslProto {
                        state: SaslState::Initiate as i32,
                        token: Some(token),
                        auths: vec![SaslAuth {
                            challenge: None,
                            ..auth.clone()
                        }],
                        ..Default::default()
                    };
                    write(stream, address, &send(reply)).await?;
                } else if let Some(simple) = message.auths.iter().find(|a| a.method == "SIMPLE") {
                    if let Some(mech) = mechanism.as_deref().filter(|_| !fallback_to_simple) {
                        return Err(downgrade_refused(mech));
                    }
                    // Switching to simple: Hadoop's client does not wait for an ack.
                    let reply = RpcSaslProto {
                        state: SaslState::Initiate as i32,
                        auths: vec![simple.clone()],
                        ..Default::default()
                    };
                    write(stream, address, &send(reply)).await?;
                    return Ok((Outcome::Simple, None));
                } else {
                    let ours = mechanism
                        .as_ref()
                        .map(|m| format!("{}/{}", m.method(), m.mechanism()))
                        .unwrap_or_else(|| "SIMPLE".into());
                    return Err(fail(format!(
                        "server offers [{}], Spindle has {ours} (no token for this service?)",
                        offered.join(", ")
                    )));
                }
            }
            SaslState::Challenge => {
                let mech = mechanism
                    .as_deref_mut()
                    .filter(|_| started)
                    .ok_or_else(|| fail("SASL challenge before any mechanism was chosen".into()))?;
                let token = mech.step(message.token()).map_err(&fail)?;
                let reply = RpcSaslProto {
                    state: SaslState::Response as i32,
                    token: Some(token),
                    ..Default::default()
                };
                write(stream, address, &send(reply)).await?;
            }
            SaslState::Success => {
                return match mechanism.as_deref_mut().filter(|_| started) {
                    Some(mech) => {
                        mech.finish(message.token.as_deref()).map_err(&fail)?;
                        let layer = mech.security_layer();
                        Ok((Outcome::Authenticated(mech.method().to_string()), layer))
                    }
                    None => match mechanism.as_deref().filter(|_| !fallback_to_simple) {
                        Some(mech) => Err(downgrade_refused(mech)),
                        None => Ok((Outcome::Simple, None)),
                    },
                };
            }
            other => {
                return Err(fail(format!("unexpected SASL state {other:?} from server")));
            }
        }
    }
    Err(fail(
        "SASL negotiation did not finish after 16 rounds".into(),
    ))
}

async fn write<S: AsyncWrite + Unpin>(stream: &mut S, address: &str, bytes: &[u8]) -> Result<()> {
    stream.write_all(bytes).await.map_err(|e| Error::Rpc {
        address: address.to_string(),
        reason: format!("sending SASL message: {e}"),
    })?;
    stream.flush().await.map_err(|e| Error::Rpc {
        address: address.to_string(),
        reason: format!("sending SASL message: {e}"),
    })
}

/// Encodes a SASL message as the server sends it (for tests and fuzzing).
#[doc(hidden)]
pub fn server_frame(call_id: u32, status: RpcStatusProto, message: &RpcSaslProto) -> Vec<u8> {
    use spindle_proto::common::RpcResponseHeaderProto;
    let header = RpcResponseHeaderProto {
        call_id,
        status: status as i32,
        ..Default::default()
    };
    let mut body = Vec::new();
    let _ = header.encode_length_delimited(&mut body);
    let _ = message.encode_length_delimited(&mut body);
    let mut out = (body.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(&body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Token;
    use tokio::io::AsyncReadExt;

    fn offer(method: &str, mech: &str, challenge: Option<&[u8]>) -> SaslAuth {
        SaslAuth {
            method: method.into(),
            mechanism: mech.into(),
            protocol: Some(String::new()),
            server_id: Some("default".into()),
            challenge: challenge.map(|c| c.to_vec()),
        }
    }

    /// Reads the client's frames until it has sent `n` of them.
    async fn client_frames(peer: &mut tokio::io::DuplexStream, n: usize) -> Vec<RpcSaslProto> {
        let mut out = Vec::new();
        for _ in 0..n {
            let mut len = [0u8; 4];
            peer.read_exact(&mut len).await.unwrap();
            let mut body = vec![0u8; u32::from_be_bytes(len) as usize];
            peer.read_exact(&mut body).await.unwrap();
            let mut rest = body.as_slice();
            let h =
                spindle_proto::common::RpcRequestHeaderProto::decode_length_delimited(&mut rest)
                    .unwrap();
            assert_eq!(h.call_id, SASL_CALL_ID);
            out.push(RpcSaslProto::decode_length_delimited(&mut rest).unwrap());
        }
        out
    }

    #[tokio::test]
    async fn switches_to_simple_when_offered() {
        let (mut client, mut server) = tokio::io::duplex(4096);
        let reply = server_frame(
            SASL_CALL_ID as u32,
            RpcStatusProto::Success,
            &RpcSaslProto {
                state: SaslState::Negotiate as i32,
                auths: vec![offer("SIMPLE", "", None)],
                ..Default::default()
            },
        );
        server.write_all(&reply).await.unwrap();
        let outcome = negotiate(&mut client, None, "nn:8020", 1 << 20, false)
            .await
            .unwrap();
        assert_eq!(outcome, Outcome::Simple);
        let sent = client_frames(&mut server, 2).await;
        assert_eq!(sent[0].state, SaslState::Negotiate as i32);
        assert_eq!(sent[1].state, SaslState::Initiate as i32);
        assert_eq!(sent[1].auths[0].method, "SIMPLE");
    }

    #[tokio::test]
    async fn token_without_offer_is_a_clear_error() {
        let (mut client, mut server) = tokio::io::duplex(4096);
        let reply = server_frame(
            SASL_CALL_ID as u32,
            RpcStatusProto::Success,
            &RpcSaslProto {
                state: SaslState::Negotiate as i32,
                auths: vec![offer("KERBEROS", "GSSAPI", None)],
                ..Default::default()
            },
        );
        server.write_all(&reply).await.unwrap();
        let mech = Box::new(DigestMd5::new(&Token::default()));
        let err = negotiate(&mut client, Some(mech), "rm:8030", 1 << 20, false)
            .await
            .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("rm:8030"), "{msg}");
        assert!(msg.contains("KERBEROS/GSSAPI"), "{msg}");
        assert!(msg.contains("TOKEN/DIGEST-MD5"), "{msg}");
    }

    /// A server answering a token holder's NEGOTIATE with `reply`: what does the client conclude?
    async fn token_holder_meets(reply: RpcSaslProto, fallback: bool) -> Result<Outcome> {
        let (mut client, mut server) = tokio::io::duplex(4096);
        let frame = server_frame(SASL_CALL_ID as u32, RpcStatusProto::Success, &reply);
        server.write_all(&frame).await.unwrap();
        let mech = Box::new(DigestMd5::new(&Token::default()));
        negotiate(&mut client, Some(mech), "nn:8020", 1 << 20, fallback).await
    }

    #[tokio::test]
    async fn a_token_holder_never_falls_back_to_simple() {
        let simple_only = RpcSaslProto {
            state: SaslState::Negotiate as i32,
            auths: vec![offer("SIMPLE", "", None)],
            ..Default::default()
        };
        let early_success = RpcSaslProto {
            state: SaslState::Success as i32,
            ..Default::default()
        };
        for reply in [simple_only.clone(), early_success.clone()] {
            let msg = token_holder_meets(reply, false)
                .await
                .unwrap_err()
                .to_string();
            assert!(msg.contains("nn:8020"), "{msg}");
            assert!(msg.contains("refuses to fall back"), "{msg}");
            assert!(
                msg.contains("ipc.client.fallback-to-simple-auth-allowed"),
                "{msg}"
            );
        }
        // Only when the configuration allows it, as Hadoop's client.
        for reply in [simple_only, early_success] {
            assert_eq!(
                token_holder_meets(reply, true).await.unwrap(),
                Outcome::Simple
            );
        }
    }

    #[tokio::test]
    async fn server_fatal_becomes_auth_error() {
        let (mut client, mut server) = tokio::io::duplex(4096);
        let header = spindle_proto::common::RpcResponseHeaderProto {
            call_id: SASL_CALL_ID as u32,
            status: RpcStatusProto::Fatal as i32,
            exception_class_name: Some("javax.security.sasl.SaslException".into()),
            error_msg: Some(
                "DIGEST-MD5: digest response format violation. Mismatched response.".into(),
            ),
            ..Default::default()
        };
        let mut body = Vec::new();
        header.encode_length_delimited(&mut body).unwrap();
        let mut f = (body.len() as u32).to_be_bytes().to_vec();
        f.extend_from_slice(&body);
        server.write_all(&f).await.unwrap();
        let mech = Box::new(DigestMd5::new(&Token::default()));
        let err = negotiate(&mut client, Some(mech), "rm:8030", 1 << 20, false)
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "authentication to rm:8030 refused: DIGEST-MD5: digest response format violation. \
             Mismatched response. (javax.security.sasl.SaslException)"
        );
    }

    /// A scripted mechanism: shows the driver's CHALLENGE/RESPONSE path and the
    /// seam another mechanism (GSSAPI) plugs into.
    struct Scripted {
        finished_with: std::sync::Arc<std::sync::Mutex<Option<Vec<u8>>>>,
    }

    impl Mechanism for Scripted {
        fn method(&self) -> &str {
            "KERBEROS"
        }
        fn mechanism(&self) -> &str {
            "GSSAPI"
        }
        fn start(
            &mut self,
            protocol: &str,
            server_id: &str,
            challenge: Option<&[u8]>,
        ) -> std::result::Result<Vec<u8>, String> {
            assert_eq!((protocol, server_id, challenge), ("nn", "host1", None));
            Ok(b"first".to_vec())
        }
        fn step(&mut self, challenge: &[u8]) -> std::result::Result<Vec<u8>, String> {
            assert_eq!(challenge, b"more?");
            Ok(b"second".to_vec())
        }
        fn finish(&mut self, data: Option<&[u8]>) -> std::result::Result<(), String> {
            *self.finished_with.lock().unwrap() = data.map(|d| d.to_vec());
            Ok(())
        }
    }

    #[tokio::test]
    async fn challenge_rounds_drive_any_mechanism() {
        let (mut client, mut server) = tokio::io::duplex(4096);
        let msg = |state: SaslState, token: Option<&[u8]>, auths: Vec<SaslAuth>| {
            server_frame(
                SASL_CALL_ID as u32,
                RpcStatusProto::Success,
                &RpcSaslProto {
                    state: state as i32,
                    token: token.map(|t| t.to_vec()),
                    auths,
                    ..Default::default()
                },
            )
        };
        let mut offer = offer("KERBEROS", "GSSAPI", None);
        offer.protocol = Some("nn".into());
        offer.server_id = Some("host1".into());
        let mut script = msg(SaslState::Negotiate, None, vec![offer]);
        script.extend(msg(SaslState::Challenge, Some(b"more?"), vec![]));
        script.extend(msg(SaslState::Success, Some(b"done"), vec![]));
        server.write_all(&script).await.unwrap();
        let finished_with = std::sync::Arc::new(std::sync::Mutex::new(None));
        let mech = Box::new(Scripted {
            finished_with: finished_with.clone(),
        });
        let outcome = negotiate(&mut client, Some(mech), "nn:8020", 1 << 20, false)
            .await
            .unwrap();
        assert_eq!(outcome, Outcome::Authenticated("KERBEROS".into()));
        assert_eq!(finished_with.lock().unwrap().as_deref(), Some(&b"done"[..]));
        let sent = client_frames(&mut server, 3).await;
        assert_eq!(sent[1].state, SaslState::Initiate as i32);
        assert_eq!(sent[1].token.as_deref(), Some(&b"first"[..]));
        assert_eq!(sent[1].auths[0].mechanism, "GSSAPI");
        assert_eq!(sent[2].state, SaslState::Response as i32);
        assert_eq!(sent[2].token.as_deref(), Some(&b"second"[..]));
    }

    #[tokio::test]
    async fn truncated_answer_is_an_error_not_a_hang() {
        let (mut client, mut server) = tokio::io::duplex(4096);
        server.write_all(&[0, 0, 0, 50, 1, 2, 3]).await.unwrap();
        drop(server);
        let err = negotiate(&mut client, None, "x:1", 1 << 20, false)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("x:1"), "{err}");
    }

    #[tokio::test]
    async fn an_answer_claiming_a_huge_length_is_refused_before_reading_it() {
        let (mut client, mut server) = tokio::io::duplex(4096);
        // 100 MiB claimed, under the connection's 128 MiB limit.
        server
            .write_all(&(100u32 << 20).to_be_bytes())
            .await
            .unwrap();
        let answer = negotiate(&mut client, None, "x:1", 128 << 20, false);
        let err = tokio::time::timeout(std::time::Duration::from_secs(10), answer)
            .await
            .expect("refused from the length alone, without waiting for the body")
            .unwrap_err()
            .to_string();
        assert!(err.contains("x:1"), "{err}");
        assert!(err.contains(&(100u32 << 20).to_string()), "{err}");
        drop(server);
    }
}
