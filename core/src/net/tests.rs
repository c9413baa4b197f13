//! The handshakes of both modes over real loopback connections: the
//! application's secret opens them; no secret, a wrong one, the other mode and
//! a replayed handshake do not; gRPC calls follow the same rule.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::*;

const MODES: [bool; 2] = [true, false];
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// One connection: the server's and the client's handshake results, and,
/// when both succeed, a message sent from the client reaches the server.
async fn handshake(
    server: &Security,
    client: &Security,
) -> (std::io::Result<()>, std::io::Result<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = server.clone();
    let accepted = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut s = server.accept(tcp).await?;
        let mut buf = [0u8; 4];
        s.read_exact(&mut buf).await?;
        assert_eq!(&buf, b"ping");
        Ok(())
    });
    let tcp = TcpStream::connect(addr).await.unwrap();
    let connected = async {
        let mut s = client.connect(tcp).await?;
        s.write_all(b"ping").await?;
        s.flush().await?;
        Ok(())
    }
    .await;
    let accepted = tokio::time::timeout(Duration::from_secs(10), accepted)
        .await
        .expect("the server's handshake ends")
        .unwrap();
    (accepted, connected)
}

#[tokio::test]
async fn the_application_secret_opens_both_modes() {
    let secret = Secret::generate();
    for encrypted in MODES {
        let s = Security::new(&secret, encrypted).unwrap();
        assert_eq!(s.encrypted(), encrypted);
        let (a, c) = handshake(&s, &s).await;
        a.unwrap();
        c.unwrap();
    }
}

#[tokio::test]
async fn a_wrong_secret_is_refused_on_either_side() {
    for encrypted in MODES {
        let ours = Security::new(&Secret::generate(), encrypted).unwrap();
        let theirs = Security::new(&Secret::generate(), encrypted).unwrap();
        let (a, c) = handshake(&ours, &theirs).await;
        assert!(
            a.is_err(),
            "encrypted={encrypted}: server accepted a wrong secret"
        );
        assert!(
            c.is_err(),
            "encrypted={encrypted}: client trusted a wrong secret"
        );
        let (a, c) = handshake(&theirs, &ours).await;
        assert!(a.is_err() && c.is_err(), "encrypted={encrypted}");
    }
}

#[tokio::test]
async fn the_other_mode_is_refused() {
    let secret = Secret::generate();
    let tls = Security::new(&secret, true).unwrap();
    let plain = Security::new(&secret, false).unwrap();
    let (a, c) = handshake(&tls, &plain).await;
    assert!(a.is_err() && c.is_err());
    let (a, c) = handshake(&plain, &tls).await;
    assert!(a.is_err() && c.is_err());
}

/// What a server's handshake makes of `bytes` sent by a peer that then waits.
async fn server_given(server: &Security, bytes: &[u8]) -> std::io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let (accepted, _) = listener.accept().await.unwrap();
    tcp.write_all(bytes).await.unwrap();
    let r = tokio::time::timeout(Duration::from_secs(10), server.accept(accepted))
        .await
        .expect("the server decides without waiting for more");
    drop(tcp);
    r.map(|_| ())
}

#[tokio::test]
async fn a_peer_without_the_secret_is_refused() {
    let secret = Secret::generate();
    for encrypted in MODES {
        let s = Security::new(&secret, encrypted).unwrap();
        // A plain gRPC client starts with HTTP/2's preface.
        let mut hello = PREFACE.to_vec();
        hello.extend_from_slice(&[0u8; 64]);
        assert!(
            server_given(&s, &hello).await.is_err(),
            "encrypted={encrypted}"
        );
    }
}

/// Forwards one connection between a client and `target`, recording what
/// the client sent and what the server answered.
async fn recording_relay(
    target: std::net::SocketAddr,
) -> (
    std::net::SocketAddr,
    tokio::task::JoinHandle<(Vec<u8>, Vec<u8>)>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let (client, _) = listener.accept().await.unwrap();
        let server = TcpStream::connect(target).await.unwrap();
        let (mut cr, mut cw) = client.into_split();
        let (mut sr, mut sw) = server.into_split();
        let up = tokio::spawn(async move {
            let mut seen = Vec::new();
            let mut buf = [0u8; 4096];
            while let Ok(n) = cr.read(&mut buf).await {
                if n == 0 || sw.write_all(&buf[..n]).await.is_err() {
                    break;
                }
                seen.extend_from_slice(&buf[..n]);
            }
            let _ = sw.shutdown().await;
            seen
        });
        let mut down = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = sr.read(&mut buf).await {
            if n == 0 || cw.write_all(&buf[..n]).await.is_err() {
                break;
            }
            down.extend_from_slice(&buf[..n]);
        }
        let _ = cw.shutdown().await;
        (up.await.unwrap(), down)
    });
    (addr, task)
}

#[tokio::test]
async fn a_replayed_handshake_is_refused() {
    let secret = Secret::generate();
    for encrypted in MODES {
        let s = Security::new(&secret, encrypted).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (relay, recorded) = recording_relay(listener.local_addr().unwrap()).await;
        let server = s.clone();
        let accepted = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut st = server.accept(tcp).await.unwrap();
            let mut buf = [0u8; 4];
            st.read_exact(&mut buf).await.unwrap();
            st.shutdown().await.unwrap();
        });
        let mut c = s
            .connect(TcpStream::connect(relay).await.unwrap())
            .await
            .unwrap();
        c.write_all(b"ping").await.unwrap();
        c.flush().await.unwrap();
        accepted.await.unwrap();
        drop(c);
        let (up, _) = recorded.await.unwrap();
        assert!(!up.is_empty());
        // Everything the genuine client sent, sent again to a fresh connection.
        let r = server_given(&s, &up).await;
        assert!(
            r.is_err(),
            "encrypted={encrypted}: a replayed handshake was accepted"
        );
    }
}

#[tokio::test]
async fn nothing_readable_crosses_an_encrypted_connection() {
    let secret = Secret::generate();
    let marker = b"a record only the two ends may read";
    for encrypted in MODES {
        let s = Security::new(&secret, encrypted).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (relay, recorded) = recording_relay(listener.local_addr().unwrap()).await;
        let server = s.clone();
        let accepted = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut st = server.accept(tcp).await.unwrap();
            let mut buf = vec![0u8; PREFACE.len() + marker.len()];
            st.read_exact(&mut buf).await.unwrap();
            st.write_all(marker).await.unwrap();
            st.shutdown().await.unwrap();
        });
        let mut c = s
            .connect(TcpStream::connect(relay).await.unwrap())
            .await
            .unwrap();
        c.write_all(PREFACE).await.unwrap();
        c.write_all(marker).await.unwrap();
        c.flush().await.unwrap();
        let mut back = Vec::new();
        c.read_to_end(&mut back).await.unwrap();
        assert_eq!(back, marker);
        accepted.await.unwrap();
        drop(c);
        let (up, down) = recorded.await.unwrap();
        let has = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
        for bytes in [&up, &down] {
            assert!(
                !has(bytes, secret.expose().as_bytes()),
                "the secret crossed the wire"
            );
            assert_eq!(has(bytes, marker), !encrypted, "encrypted={encrypted}");
        }
        assert_eq!(has(&up, PREFACE), !encrypted, "encrypted={encrypted}");
    }
}

/// The driver's service behind [`incoming`], as every Spindle server runs.
async fn driver_service(security: &Security) -> std::net::SocketAddr {
    use spindle_proto::spindle::driver_server::DriverServer;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let service = crate::driver_rpc::DriverService {
        registry: crate::driver_rpc::Registry::new(),
        blobs: Default::default(),
        own_sha: Default::default(),
        security: security.clone(),
        end: Default::default(),
        progress: Default::default(),
    };
    let incoming = incoming(listener, security.clone());
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(DriverServer::new(service))
            .serve_with_incoming(incoming),
    );
    addr
}

#[tokio::test]
async fn grpc_calls_need_the_secret() {
    use spindle_proto::spindle::HeartbeatRequest;
    use spindle_proto::spindle::driver_client::DriverClient;
    let secret = Secret::generate();
    let hb = || HeartbeatRequest {
        executor_id: "x".into(),
    };
    for encrypted in MODES {
        let s = Security::new(&secret, encrypted).unwrap();
        let addr = driver_service(&s).await;
        // A plain gRPC client (no handshake at all).
        let plain = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect_lazy();
        assert!(DriverClient::new(plain).heartbeat(hb()).await.is_err());
        // A wrong secret, and the other mode.
        for other in [
            Security::new(&Secret::generate(), encrypted).unwrap(),
            Security::new(&secret, !encrypted).unwrap(),
        ] {
            let ch = channel(&addr.to_string(), &other).unwrap();
            assert!(DriverClient::new(ch).heartbeat(hb()).await.is_err());
        }
        // The application's secret: answered (the executor is unknown).
        let ch = channel(&format!("{}://{addr}", scheme(encrypted)), &s).unwrap();
        let r = DriverClient::new(ch).heartbeat(hb()).await.unwrap();
        assert!(!r.into_inner().known);
    }
}

#[test]
fn driver_urls_name_their_mode() {
    assert_eq!(parse_url("https://h:1").unwrap(), (true, "h:1"));
    assert_eq!(parse_url("http://h:1/").unwrap(), (false, "h:1"));
    for bad in ["h:1", "ftp://h:1", "https://", "http://h:1/x"] {
        assert!(parse_url(bad).is_err(), "{bad}");
    }
    let s = Security::new(&Secret::generate(), true).unwrap();
    let e = channel("http://h:1", &s).unwrap_err().to_string();
    assert!(e.contains("does not match"), "{e}");
}

#[test]
fn a_bad_address_is_named() {
    let s = Security::new(&Secret::generate(), true).unwrap();
    let e = channel("not a url", &s).unwrap_err().to_string();
    assert!(e.contains("not a url"), "{e}");
}
