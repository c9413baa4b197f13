//! Hostile and broken peers: the frame, header and SASL decoders never panic on arbitrary bytes,
//! an oversized frame is refused before any large allocation, and a server that sends garbage,
//! stops mid-frame or says nothing never holds a call past its timeout.

use std::time::{Duration, Instant};

use proptest::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::connection::read_frame;
use super::frame::{self, decode_response};
use super::{Auth, Connection, IpcConfig};
use crate::Error;
use crate::sasl::{self, DigestMd5, Mechanism};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn response_decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(r) = decode_response(&bytes) {
            let _ = r.status();
            let _ = r.message::<spindle_proto::yarn::AllocateResponseProto>();
        }
    }

    #[test]
    fn sasl_decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = sasl::decode_sasl_response("fuzz:1", &bytes);
    }

    #[test]
    fn digest_challenge_parser_never_panics(text in ".{0,200}") {
        let mut d = DigestMd5::new(&crate::Token::default());
        let _ = d.start("", "default", Some(text.as_bytes()));
        let _ = d.finish(Some(text.as_bytes()));
    }

    #[test]
    fn frame_reader_never_panics_on_any_stream(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let result = rt().block_on(read_frame(&mut bytes.as_slice(), 1024, "fuzz:1"));
        match result {
            Ok(body) => {
                let len = u32::from_be_bytes(bytes[..4].try_into().unwrap()) as usize;
                prop_assert_eq!(body.len(), len);
                prop_assert!(len <= 1024);
            }
            Err(e) => prop_assert!(e.to_string().contains("fuzz:1")),
        }
    }

    #[test]
    fn sasl_negotiation_ends_on_any_server_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let outcome = rt().block_on(async {
            let (mut client, mut server) = tokio::io::duplex(64 * 1024);
            server.write_all(&bytes).await.unwrap();
            drop(server);
            let mech: Box<dyn Mechanism> = Box::new(DigestMd5::new(&crate::Token::default()));
            tokio::time::timeout(Duration::from_secs(5), sasl::negotiate(&mut client, Some(mech), "fuzz:1", 4096, false)).await
        });
        prop_assert!(outcome.is_ok(), "negotiation hung");
    }
}

#[test]
fn oversized_frame_is_refused_before_allocation() {
    // Claims 2 GiB and sends nothing more: refused from the prefix alone.
    let mut stream: &[u8] = &[0x7f, 0xff, 0xff, 0xff];
    let err = rt()
        .block_on(read_frame(&mut stream, frame::DEFAULT_MAX_FRAME, "nn:8020"))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "RPC with nn:8020: frame of 2147483647 bytes exceeds the limit of 134217728 bytes \
         (ipc.maximum.response.length)"
    );
}

#[test]
fn truncated_frame_is_an_error() {
    let mut stream: &[u8] = &[0, 0, 0, 100, 1, 2, 3];
    let err = rt()
        .block_on(read_frame(&mut stream, 1024, "nn:8020"))
        .unwrap_err();
    assert!(err.to_string().contains("3 of 100 bytes"), "{err}");
}

/// A TCP server that reads the client's handshake, then plays `script` and keeps the socket open
/// for `hold` (so only the client's own timeout can end the call).
async fn fake_server(script: Vec<u8>, hold: Duration) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 512];
        let _ = socket.read(&mut buf).await;
        let _ = socket.write_all(&script).await;
        tokio::time::sleep(hold).await;
    });
    address
}

fn short_timeouts() -> IpcConfig {
    IpcConfig {
        call_timeout: Duration::from_millis(500),
        connect_retries: 0,
        ..IpcConfig::default()
    }
}

async fn call_against(script: Vec<u8>) -> (Error, Duration) {
    let address = fake_server(script, Duration::from_secs(30)).await;
    let auth = Auth::Simple {
        user: "fuzz".into(),
    };
    let conn = Connection::open(&address, "test.Protocol", &auth, &short_timeouts())
        .await
        .unwrap();
    let started = Instant::now();
    let err = conn
        .call::<_, spindle_proto::yarn::GetClusterMetricsResponseProto>(
            "getClusterMetrics",
            &spindle_proto::yarn::GetClusterMetricsRequestProto {},
        )
        .await
        .unwrap_err();
    (err, started.elapsed())
}

#[test]
fn silent_server_times_out() {
    let (err, took) = rt().block_on(call_against(Vec::new()));
    assert!(matches!(err, Error::Timeout { .. }), "{err}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert!(err.to_string().contains("getClusterMetrics"), "{err}");
}

#[test]
fn garbage_from_server_fails_the_call_quickly() {
    let (err, took) = rt().block_on(call_against(vec![0, 0, 0, 4, 0xff, 0xff, 0xff, 0xff]));
    assert!(matches!(err, Error::Rpc { .. }), "{err}");
    assert!(err.to_string().contains("response header"), "{err}");
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[test]
fn oversized_answer_fails_the_call_with_the_limit() {
    let (err, took) = rt().block_on(call_against(vec![0x40, 0, 0, 0]));
    assert!(err.to_string().contains("exceeds the limit"), "{err}");
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[test]
fn server_stopping_mid_frame_fails_the_call() {
    let rt = rt();
    let err = rt.block_on(async {
        let address = fake_server(vec![0, 0, 0, 50, 1, 2], Duration::from_millis(10)).await;
        let auth = Auth::Simple {
            user: "fuzz".into(),
        };
        let conn = Connection::open(&address, "p", &auth, &short_timeouts())
            .await
            .unwrap();
        conn.call::<_, spindle_proto::yarn::GetClusterMetricsResponseProto>(
            "getClusterMetrics",
            &spindle_proto::yarn::GetClusterMetricsRequestProto {},
        )
        .await
        .unwrap_err()
    });
    assert!(
        err.to_string().contains("in the middle of a frame"),
        "{err}"
    );
}

#[test]
fn silent_server_during_sasl_times_out_the_handshake() {
    let rt = rt();
    let (err, took) = rt.block_on(async {
        let address = fake_server(Vec::new(), Duration::from_secs(30)).await;
        let token = crate::Token::default();
        let started = Instant::now();
        let err = Connection::open(&address, "p", &Auth::Token(token), &short_timeouts())
            .await
            .unwrap_err();
        (err, started.elapsed())
    });
    assert!(matches!(err, Error::Timeout { .. }), "{err}");
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[test]
fn concurrent_calls_are_matched_by_call_id() {
    // A server that answers in reverse order, echoing each request's application id: every
    // caller must get the answer to its own request.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use prost::Message;
        use spindle_proto::common::{
            RequestHeaderProto, RpcRequestHeaderProto, RpcResponseHeaderProto,
        };
        use spindle_proto::yarn::{
            ApplicationIdProto, ApplicationReportProto, GetApplicationReportRequestProto,
            GetApplicationReportResponseProto,
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        const N: i32 = 8;
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut preamble = [0u8; 7];
            s.read_exact(&mut preamble).await.unwrap();
            let mut calls = Vec::new();
            // The connection context, then N calls.
            for _ in 0..=N {
                let body = read_frame(&mut s, 1 << 20, "client").await.unwrap();
                let mut rest = body.as_slice();
                let h = RpcRequestHeaderProto::decode_length_delimited(&mut rest).unwrap();
                if h.call_id < 0 {
                    continue;
                }
                RequestHeaderProto::decode_length_delimited(&mut rest).unwrap();
                let req =
                    GetApplicationReportRequestProto::decode_length_delimited(&mut rest).unwrap();
                calls.push((h.call_id, req.application_id));
            }
            for (call_id, app) in calls.into_iter().rev() {
                let header = RpcResponseHeaderProto {
                    call_id: call_id as u32,
                    status: 0,
                    ..Default::default()
                };
                let msg = GetApplicationReportResponseProto {
                    application_report: Some(ApplicationReportProto {
                        application_id: app,
                        ..Default::default()
                    }),
                };
                let bytes = frame::frame(&[&header, &msg]);
                s.write_all(&bytes).await.unwrap();
            }
            tokio::time::sleep(Duration::from_secs(5)).await;
        });
        let auth = Auth::Simple { user: "t".into() };
        let conn = Connection::open(&address, "p", &auth, &IpcConfig::default())
            .await
            .unwrap();
        let mut tasks = Vec::new();
        for i in 0..N {
            let c = conn.clone();
            tasks.push(tokio::spawn(async move {
                let request = GetApplicationReportRequestProto {
                    application_id: Some(ApplicationIdProto {
                        id: Some(i),
                        cluster_timestamp: Some(1),
                    }),
                };
                let r: GetApplicationReportResponseProto =
                    c.call("getApplicationReport", &request).await.unwrap();
                (
                    i,
                    r.application_report.unwrap().application_id.unwrap().id(),
                )
            }));
        }
        for t in tasks {
            let (asked, answered) = t.await.unwrap();
            assert_eq!(asked, answered);
        }
    });
}

/// A server that completes the simple handshake and answers every call with `status` (and, on
/// error, Java's `class`), echoing a default `GetClusterMetricsResponseProto` on success.
async fn answering_server(status: i32, class: &'static str) -> String {
    answering_server_on(
        TcpListener::bind("127.0.0.1:0").await.unwrap(),
        status,
        class,
    )
}

/// [`answering_server`] on `listener`.
fn answering_server_on(listener: TcpListener, status: i32, class: &'static str) -> String {
    use prost::Message;
    use spindle_proto::common::{RpcRequestHeaderProto, RpcResponseHeaderProto};
    let address = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut preamble = [0u8; 7];
                if s.read_exact(&mut preamble).await.is_err() {
                    return;
                }
                while let Ok(body) = read_frame(&mut s, 1 << 20, "client").await {
                    let h =
                        RpcRequestHeaderProto::decode_length_delimited(body.as_slice()).unwrap();
                    if h.call_id < 0 {
                        continue;
                    }
                    let header = RpcResponseHeaderProto {
                        call_id: h.call_id as u32,
                        status,
                        exception_class_name: (status != 0).then(|| class.to_string()),
                        error_msg: (status != 0).then(|| format!("{class}: Operation category READ is not supported in state standby\n\tat Foo.bar")),
                        ..Default::default()
                    };
                    let bytes = if status == 0 {
                        let msg = spindle_proto::yarn::GetClusterMetricsResponseProto::default();
                        frame::frame(&[&header, &msg])
                    } else {
                        frame::frame(&[&header])
                    };
                    if s.write_all(&bytes).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    address
}

/// A dead HA address costs one refused connect, not its connect-retry budget: the other
/// address is tried first, as Java's failover proxy providers do.
#[test]
fn dead_address_fails_over_without_its_connect_retries() {
    let rt = rt();
    rt.block_on(async {
        // A port that was just free: connecting is refused.
        let dead = {
            let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
            l.local_addr().unwrap().to_string()
        };
        let active = answering_server(0, "").await;
        let client = super::RpcClient::new(
            vec![dead, active],
            "p",
            Auth::Simple { user: "t".into() },
            IpcConfig {
                connect_retries: 10,
                connect_backoff: Duration::from_millis(500),
                ..short_timeouts()
            },
        );
        let t0 = std::time::Instant::now();
        let _: spindle_proto::yarn::GetClusterMetricsResponseProto = client
            .call(
                "getClusterMetrics",
                &spindle_proto::yarn::GetClusterMetricsRequestProto {},
            )
            .await
            .unwrap();
        // Ten retries of the dead address would take over 10 s.
        assert!(t0.elapsed() < Duration::from_secs(2), "{:?}", t0.elapsed());
    });
}

/// While neither HA address answers (the active RM killed, the standby not yet active), the
/// client keeps trying both in turn: the new active is found within one pause of its start, not
/// after the dead address's whole retry budget (seen: an AM heartbeat stuck 15 s in an RM
/// failover).
#[test]
fn an_address_that_comes_up_during_the_retries_is_found_at_once() {
    let rt = rt();
    rt.block_on(async {
        let free = || async {
            let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
            l.local_addr().unwrap().to_string()
        };
        let (dead, later) = (free().await, free().await);
        let client = super::RpcClient::new(
            vec![dead, later.clone()],
            "p",
            Auth::Simple { user: "t".into() },
            IpcConfig {
                connect_retries: 10,
                connect_backoff: Duration::from_millis(200),
                ..short_timeouts()
            },
        );
        let t0 = std::time::Instant::now();
        let up = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            answering_server_on(TcpListener::bind(&later).await.unwrap(), 0, "");
        });
        let _: spindle_proto::yarn::GetClusterMetricsResponseProto = client
            .call(
                "getClusterMetrics",
                &spindle_proto::yarn::GetClusterMetricsRequestProto {},
            )
            .await
            .unwrap();
        up.await.unwrap();
        // Up at 1.5 s; pauses of 0.2, 0.4, 0.8, then 2 s: found by 3.4 s. Retrying the dead
        // address ten times first would take over 15 s.
        assert!(
            t0.elapsed() < Duration::from_millis(3800),
            "{:?}",
            t0.elapsed()
        );
    });
}

#[test]
fn standby_answer_fails_over_to_the_next_address() {
    let rt = rt();
    rt.block_on(async {
        let standby = answering_server(1, "org.apache.hadoop.ipc.StandbyException").await;
        let active = answering_server(0, "").await;
        let client = super::RpcClient::new(
            vec![standby.clone(), active.clone()],
            "p",
            Auth::Simple { user: "t".into() },
            short_timeouts(),
        );
        for _ in 0..3 {
            let _: spindle_proto::yarn::GetClusterMetricsResponseProto = client
                .call(
                    "getClusterMetrics",
                    &spindle_proto::yarn::GetClusterMetricsRequestProto {},
                )
                .await
                .unwrap();
        }
        // With only standbys, the standby's exception comes through, in one line.
        let client = super::RpcClient::new(
            vec![standby.clone(), standby.clone()],
            "p",
            Auth::Simple { user: "t".into() },
            short_timeouts(),
        );
        let err = client
            .call::<_, spindle_proto::yarn::GetClusterMetricsResponseProto>(
                "getClusterMetrics",
                &spindle_proto::yarn::GetClusterMetricsRequestProto {},
            )
            .await
            .unwrap_err();
        assert_eq!(
            err.remote_class(),
            Some("org.apache.hadoop.ipc.StandbyException")
        );
        assert_eq!(
            err.to_string(),
            format!(
                "{standby} getClusterMetrics: org.apache.hadoop.ipc.StandbyException: Operation \
                 category READ is not supported in state standby"
            )
        );
    });
}

#[test]
fn a_retriable_answer_is_retried_after_a_pause() {
    let rt = rt();
    rt.block_on(async {
        const RETRIABLE: &str = "org.apache.hadoop.ipc.RetriableException";
        let starting = answering_server(1, RETRIABLE).await;
        let active = answering_server(0, "").await;
        let call = |addresses: Vec<String>| async move {
            let client = super::RpcClient::new(
                addresses,
                "p",
                Auth::Simple { user: "t".into() },
                IpcConfig {
                    connect_backoff: Duration::from_millis(10),
                    ..short_timeouts()
                },
            );
            client
                .call::<_, spindle_proto::yarn::GetClusterMetricsResponseProto>(
                    "getClusterMetrics",
                    &spindle_proto::yarn::GetClusterMetricsRequestProto {},
                )
                .await
        };
        // A NameNode still starting beside the active one: the call reaches the active one.
        call(vec![starting.clone(), active]).await.unwrap();
        // Alone, it is asked again after each pause, and its answer comes through at the end.
        let t0 = std::time::Instant::now();
        let err = call(vec![starting]).await.unwrap_err();
        assert_eq!(err.remote_class(), Some(RETRIABLE));
        // Pauses of 10, 20, 40 … ms, nine of them: over 2.5 s in all.
        assert!(
            t0.elapsed() > Duration::from_millis(2500),
            "{:?}",
            t0.elapsed()
        );
    });
}

#[test]
fn other_remote_errors_do_not_fail_over() {
    let rt = rt();
    rt.block_on(async {
        let failing = answering_server(1, "org.apache.hadoop.yarn.exceptions.YarnException").await;
        let active = answering_server(0, "").await;
        let client = super::RpcClient::new(
            vec![failing, active],
            "p",
            Auth::Simple { user: "t".into() },
            short_timeouts(),
        );
        let err = client
            .call::<_, spindle_proto::yarn::GetClusterMetricsResponseProto>(
                "getClusterMetrics",
                &spindle_proto::yarn::GetClusterMetricsRequestProto {},
            )
            .await
            .unwrap_err();
        assert_eq!(
            err.remote_class(),
            Some("org.apache.hadoop.yarn.exceptions.YarnException")
        );
    });
}

#[test]
fn ipc_config_reads_hadoops_keys() {
    let mut conf = crate::config::Configuration::new();
    assert_eq!(
        IpcConfig::from_conf(&conf).unwrap().max_frame,
        frame::DEFAULT_MAX_FRAME
    );
    conf.set("ipc.client.connect.max.retries", "7");
    conf.set("ipc.maximum.response.length", "1m");
    conf.set("ipc.client.rpc-timeout.ms", "1500");
    let c = IpcConfig::from_conf(&conf).unwrap();
    assert_eq!(c.connect_retries, 7);
    assert_eq!(c.max_frame, 1 << 20);
    assert_eq!(c.call_timeout, Duration::from_millis(1500));
    conf.set("ipc.client.connect.max.retries", "many");
    let err = IpcConfig::from_conf(&conf).unwrap_err().to_string();
    assert!(err.contains("ipc.client.connect.max.retries"), "{err}");
}

/// Hangs up on the first connection as soon as a call arrives; answers on every later one.
async fn flaky_server() -> String {
    let dead = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let good = answering_server(0, "").await;
    let address = dead.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        let mut first = true;
        loop {
            let Ok((mut s, _)) = dead.accept().await else {
                return;
            };
            if first {
                first = false;
                let mut preamble = [0u8; 7];
                let _ = s.read_exact(&mut preamble).await;
                let _ = read_frame(&mut s, 1 << 20, "c").await; // context
                let _ = read_frame(&mut s, 1 << 20, "c").await; // the call
                drop(s);
            } else {
                // Relay to the answering server.
                let mut upstream = tokio::net::TcpStream::connect(&good).await.unwrap();
                tokio::spawn(async move {
                    let _ = tokio::io::copy_bidirectional(&mut s, &mut upstream).await;
                });
            }
        }
    });
    address
}

#[test]
fn idempotent_calls_survive_a_dropped_connection() {
    let rt = rt();
    rt.block_on(async {
        let request = spindle_proto::yarn::GetClusterMetricsRequestProto {};
        let auth = Auth::Simple { user: "t".into() };
        let client = super::RpcClient::new(
            vec![flaky_server().await],
            "p",
            auth.clone(),
            short_timeouts(),
        );
        let r: crate::Result<spindle_proto::yarn::GetClusterMetricsResponseProto> =
            client.call_idempotent("getClusterMetrics", &request).await;
        r.unwrap();

        let client = super::RpcClient::new(vec![flaky_server().await], "p", auth, short_timeouts());
        let r: crate::Result<spindle_proto::yarn::GetClusterMetricsResponseProto> =
            client.call("getClusterMetrics", &request).await;
        let err = r.unwrap_err();
        assert!(
            err.to_string().contains("connection closed by the server"),
            "{err}"
        );
        // The next call reconnects by itself.
        let r: crate::Result<spindle_proto::yarn::GetClusterMetricsResponseProto> =
            client.call("getClusterMetrics", &request).await;
        r.unwrap();
    });
}

#[test]
fn server_that_stops_reading_cannot_block_a_call_past_its_timeout() {
    let rt = rt();
    let (err, took) = rt.block_on(async {
        // Accepts, reads the handshake, then never reads again: big requests fill the buffers.
        let address = fake_server(Vec::new(), Duration::from_secs(30)).await;
        let auth = Auth::Simple {
            user: "fuzz".into(),
        };
        let conn = Connection::open(&address, "p", &auth, &short_timeouts())
            .await
            .unwrap();
        let big = spindle_proto::yarn::GetClusterNodesRequestProto {
            node_states: vec![1; 4 << 20],
        };
        let started = Instant::now();
        let err = conn
            .call::<_, spindle_proto::yarn::GetClusterNodesResponseProto>("getClusterNodes", &big)
            .await
            .unwrap_err();
        (err, started.elapsed())
    });
    assert!(matches!(err, Error::Timeout { .. }), "{err}");
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[test]
fn a_call_can_carry_its_own_timeout() {
    let rt = rt();
    let (err, took) = rt.block_on(async {
        let address = fake_server(Vec::new(), Duration::from_secs(30)).await;
        let config = IpcConfig {
            call_timeout: Duration::from_secs(60),
            ..short_timeouts()
        };
        let client = super::RpcClient::new(
            vec![address],
            "p",
            Auth::Simple { user: "t".into() },
            config,
        );
        let started = Instant::now();
        let r: crate::Result<spindle_proto::yarn::GetClusterMetricsResponseProto> = client
            .call_with_timeout(
                "getClusterMetrics",
                &spindle_proto::yarn::GetClusterMetricsRequestProto {},
                Duration::from_millis(300),
            )
            .await;
        (r.unwrap_err(), started.elapsed())
    });
    assert!(
        err.to_string().ends_with("no answer within 300 ms"),
        "{err}"
    );
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[test]
fn a_secure_cluster_without_credentials_is_refused_before_sending_a_user_name() {
    let rt = rt();
    let err = rt.block_on(async {
        let address = fake_server(Vec::new(), Duration::from_secs(30)).await;
        let config = IpcConfig {
            secure: true,
            ..short_timeouts()
        };
        Connection::open(&address, "p", &Auth::simple(), &config)
            .await
            .unwrap_err()
    });
    assert!(matches!(err, Error::Auth { .. }), "{err}");
    assert!(err.to_string().contains("secure"), "{err}");
}
