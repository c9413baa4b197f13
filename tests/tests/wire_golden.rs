//! Spindle's first bytes on a connection equal those of Hadoop's own Java clients, byte for byte:
//! the preamble, the connection context and the first call's frame, for YarnClient
//! (ApplicationClientProtocol.getClusterMetrics) and DFSClient (ClientProtocol.getFileInfo).
//! Java talks to a listener here that records and never answers; Spindle's frames are built with
//! the client id Java chose (16 random bytes) and the same user.

use std::io::Read;
use std::net::TcpListener;
use std::process::Stdio;
use std::time::Duration;

use prost::Message;
use spindle_hadoop::ipc::frame;
use spindle_proto::common::RpcRequestHeaderProto;
use spindle_tests::{java_command, wait_for};

const USER: &str = "wire-golden";

/// Runs the Java capture peer against a fresh listener; returns the preamble and the first two
/// frames it sent (each with its length prefix).
fn capture(args: &[&str]) -> ([u8; 7], Vec<u8>, Vec<u8>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let mut child = java_command("dev.spindle.peers.WireCapture")
        .arg(args[0])
        .arg(&address)
        .args(&args[1..])
        .env("HADOOP_USER_NAME", USER)
        .env_remove("HADOOP_CONF_DIR")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for Java's connection, but never forever: if the peer dies first, say why.
    listener.set_nonblocking(true).unwrap();
    let mut s = wait_for(
        "WireCapture to connect",
        Duration::from_secs(120),
        || match listener.accept() {
            Ok((s, _)) => Some(s),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if let Some(status) = child.try_wait().unwrap() {
                    let mut err = String::new();
                    child
                        .stderr
                        .take()
                        .unwrap()
                        .read_to_string(&mut err)
                        .unwrap();
                    panic!("WireCapture exited ({status}) without connecting:\n{err}");
                }
                None
            }
            Err(e) => panic!("accept: {e}"),
        },
    );
    s.set_nonblocking(false).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut preamble = [0u8; 7];
    s.read_exact(&mut preamble).unwrap();
    let mut read_frame = || {
        let mut len = [0u8; 4];
        s.read_exact(&mut len).unwrap();
        let mut body = vec![0u8; u32::from_be_bytes(len) as usize];
        s.read_exact(&mut body).unwrap();
        let mut f = len.to_vec();
        f.extend_from_slice(&body);
        f
    };
    let context = read_frame();
    let call = read_frame();
    drop(s);
    let _ = child.kill();
    let _ = child.wait();
    (preamble, context, call)
}

fn client_id(frame: &[u8]) -> Vec<u8> {
    let mut body = &frame[4..];
    RpcRequestHeaderProto::decode_length_delimited(&mut body)
        .unwrap()
        .client_id
}

/// Java's first bytes (`capture(args)`) equal Spindle's: the preamble, the connection context
/// for `protocol` and the first call, `method` with `request`, built with Java's client id.
fn assert_first_bytes_equal(
    args: &[&str],
    protocol: &str,
    method: &str,
    request: &dyn frame::DelimitedEncode,
) {
    let (preamble, context, call) = capture(args);
    let id = client_id(&context);
    assert_eq!(id.len(), 16);
    assert_eq!(preamble, frame::preamble(frame::AuthProtocol::None));
    assert_eq!(
        context,
        frame::connection_context_frame(&id, protocol, Some(USER))
    );
    assert_eq!(call, frame::call_frame(0, &id, protocol, method, request));
}

#[test]
fn yarn_client_bytes_equal_spindles() {
    assert_first_bytes_equal(
        &["rm"],
        spindle_hadoop::yarn::APPLICATION_CLIENT_PROTOCOL,
        "getClusterMetrics",
        &spindle_proto::yarn::GetClusterMetricsRequestProto {},
    );
}

#[test]
fn hdfs_client_bytes_equal_spindles() {
    assert_first_bytes_equal(
        &["nn", "/wire/golden"],
        spindle_hadoop::namenode::CLIENT_PROTOCOL,
        "getFileInfo",
        &spindle_proto::hdfs::GetFileInfoRequestProto {
            src: "/wire/golden".into(),
        },
    );
}
