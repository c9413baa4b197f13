//! Hadoop RPC v9 bytes on the wire: the connection preamble, the frames
//! (4-byte big-endian length, then varint-delimited protobuf messages) and the
//! request/response headers. Pure functions over byte slices, so the decoders
//! can be tested and fuzzed without sockets.

use prost::Message;
use spindle_proto::common::{
    IpcConnectionContextProto, RequestHeaderProto, RpcKindProto, RpcRequestHeaderProto,
    RpcResponseHeaderProto, UserInformationProto, rpc_request_header_proto::OperationProto,
    rpc_response_header_proto::RpcStatusProto,
};

/// Hadoop's reserved call ids (`RpcConstants`, `AuthProtocol`).
pub const CONNECTION_CONTEXT_CALL_ID: i32 = -3;
pub const PING_CALL_ID: i32 = -4;
pub const SASL_CALL_ID: i32 = -33;

/// `ipc.maximum.response.length`'s default: Hadoop clients refuse longer frames.
pub const DEFAULT_MAX_FRAME: usize = 128 * 1024 * 1024;

/// How the client authenticates, announced in the last byte of the preamble.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthProtocol {
    /// Simple auth without SASL (`0`).
    None,
    /// A SASL negotiation follows (`-33`).
    Sasl,
}

/// The 7 bytes that open every connection: `hrpc`, version 9, service class 0,
/// and the auth protocol.
pub fn preamble(auth: AuthProtocol) -> [u8; 7] {
    let auth_byte = match auth {
        AuthProtocol::None => 0u8,
        AuthProtocol::Sasl => SASL_CALL_ID as u8,
    };
    [b'h', b'r', b'p', b'c', 9, 0, auth_byte]
}

/// The request header for call `call_id` (retry count 0 for real calls, -1
/// for the out-of-band calls: context, SASL, ping).
pub fn request_header(call_id: i32, client_id: &[u8], retry_count: i32) -> RpcRequestHeaderProto {
    RpcRequestHeaderProto {
        rpc_kind: Some(RpcKindProto::RpcProtocolBuffer as i32),
        rpc_op: Some(OperationProto::RpcFinalPacket as i32),
        call_id,
        client_id: client_id.to_vec(),
        retry_count: Some(retry_count),
    }
}

/// One complete frame: the length prefix, then each message varint-delimited.
pub fn frame(messages: &[&dyn DelimitedEncode]) -> Vec<u8> {
    let body_len: usize = messages.iter().map(|m| m.delimited_len()).sum();
    let mut out = Vec::with_capacity(4 + body_len);
    out.extend_from_slice(&(body_len as u32).to_be_bytes());
    for m in messages {
        m.encode_delimited_into(&mut out);
    }
    out
}

/// Object-safe varint-delimited encoding, so one frame can mix message types.
pub trait DelimitedEncode {
    fn delimited_len(&self) -> usize;
    fn encode_delimited_into(&self, out: &mut Vec<u8>);
}

impl<M: Message> DelimitedEncode for M {
    fn delimited_len(&self) -> usize {
        let len = self.encoded_len();
        prost::length_delimiter_len(len) + len
    }
    fn encode_delimited_into(&self, out: &mut Vec<u8>) {
        // Encoding into a Vec cannot run out of space.
        let _ = self.encode_length_delimited(out);
    }
}

/// The connection context frame sent once, after the preamble and any SASL
/// exchange: the protocol this connection serves and, for simple auth, the
/// effective user (token auth sends no user: the token names it).
pub fn connection_context_frame(client_id: &[u8], protocol: &str, user: Option<&str>) -> Vec<u8> {
    connection_context_frame_as(client_id, protocol, user, None)
}

/// [`connection_context_frame`] naming a real user too: a Kerberos user
/// acting for another (`--proxy-user`), which the server checks against
/// `hadoop.proxyuser.*`.
pub fn connection_context_frame_as(
    client_id: &[u8],
    protocol: &str,
    user: Option<&str>,
    real_user: Option<&str>,
) -> Vec<u8> {
    let header = request_header(CONNECTION_CONTEXT_CALL_ID, client_id, -1);
    let context = IpcConnectionContextProto {
        user_info: user.map(|u| UserInformationProto {
            effective_user: Some(u.to_string()),
            real_user: real_user.map(str::to_string),
        }),
        protocol: Some(protocol.to_string()),
    };
    frame(&[&header, &context])
}

/// A call frame: request header, the protobuf engine's method header, request.
pub fn call_frame(
    call_id: i32,
    client_id: &[u8],
    protocol: &str,
    method: &str,
    request: &dyn DelimitedEncode,
) -> Vec<u8> {
    let header = request_header(call_id, client_id, 0);
    let method_header = RequestHeaderProto {
        method_name: method.to_string(),
        declaring_class_protocol_name: protocol.to_string(),
        client_protocol_version: 1,
    };
    frame(&[&header, &method_header, request])
}

/// The keep-alive frame: a bare header with the ping call id.
pub fn ping_frame(client_id: &[u8]) -> Vec<u8> {
    frame(&[&request_header(PING_CALL_ID, client_id, -1)])
}

/// Why a frame length or body was refused; the caller adds the peer address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// The length prefix exceeds the limit (checked before allocating).
    TooLarge { len: usize, max: usize },
    /// The body does not decode; the string says which part and why.
    Malformed(String),
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::TooLarge { len, max } => write!(
                f,
                "frame of {len} bytes exceeds the limit of {max} bytes (ipc.maximum.response.length)"
            ),
            FrameError::Malformed(why) => f.write_str(why),
        }
    }
}

/// Validates a length prefix against `max` before anything is allocated.
pub fn check_length(prefix: [u8; 4], max: usize) -> Result<usize, FrameError> {
    let len = u32::from_be_bytes(prefix) as usize;
    if len > max {
        return Err(FrameError::TooLarge { len, max });
    }
    Ok(len)
}

/// A decoded response frame: its header and the bytes after the header (the
/// varint-delimited response message, when the call succeeded).
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub header: RpcResponseHeaderProto,
    pub body: Vec<u8>,
}

impl Response {
    /// Hadoop's status: success, error (connection stays open), or fatal.
    pub fn status(&self) -> RpcStatusProto {
        RpcStatusProto::try_from(self.header.status).unwrap_or(RpcStatusProto::Fatal)
    }

    /// Decodes the delimited message that follows a successful header.
    pub fn message<M: Message + Default>(&self) -> Result<M, FrameError> {
        M::decode_length_delimited(self.body.as_slice())
            .map_err(|e| FrameError::Malformed(format!("response message: {e}")))
    }
}

/// Splits a frame body (without its length prefix) into header and rest.
pub fn decode_response(frame_body: &[u8]) -> Result<Response, FrameError> {
    let mut rest = frame_body;
    let header = RpcResponseHeaderProto::decode_length_delimited(&mut rest)
        .map_err(|e| FrameError::Malformed(format!("response header: {e}")))?;
    Ok(Response {
        header,
        body: rest.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use spindle_proto::yarn::GetClusterMetricsRequestProto;

    const CLIENT_ID: [u8; 16] = [
        0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
        0xb0,
    ];

    #[test]
    fn preambles_match_hadoop_java_client() {
        // PEERS.md: captured from YarnClient / DFSClient.
        assert_eq!(
            preamble(AuthProtocol::None),
            [0x68, 0x72, 0x70, 0x63, 0x09, 0x00, 0x00]
        );
        assert_eq!(
            preamble(AuthProtocol::Sasl),
            [0x68, 0x72, 0x70, 0x63, 0x09, 0x00, 0xdf]
        );
    }

    #[test]
    fn connection_context_frame_golden_bytes() {
        let f = connection_context_frame(
            &CLIENT_ID,
            "org.apache.hadoop.yarn.api.ApplicationClientProtocolPB",
            Some("alice"),
        );
        let mut header = vec![
            0x08, 0x02, // rpcKind = RPC_PROTOCOL_BUFFER
            0x10, 0x00, // rpcOp = RPC_FINAL_PACKET
            0x18, 0x05, // callId = -3, zigzag
            0x22, 0x10, // clientId, 16 bytes
        ];
        header.extend_from_slice(&CLIENT_ID);
        header.extend_from_slice(&[0x28, 0x01]); // retryCount = -1, zigzag
        let protocol = b"org.apache.hadoop.yarn.api.ApplicationClientProtocolPB";
        let mut context = vec![0x12, 0x07, 0x0a, 0x05];
        context.extend_from_slice(b"alice");
        context.push(0x1a);
        context.push(protocol.len() as u8);
        context.extend_from_slice(protocol);
        let mut body = vec![header.len() as u8];
        body.extend_from_slice(&header);
        body.push(context.len() as u8);
        body.extend_from_slice(&context);
        let mut expected = (body.len() as u32).to_be_bytes().to_vec();
        expected.extend_from_slice(&body);
        assert_eq!(f, expected);
    }

    #[test]
    fn call_frame_golden_bytes() {
        let f = call_frame(
            0,
            &CLIENT_ID,
            "org.apache.hadoop.yarn.api.ApplicationClientProtocolPB",
            "getClusterMetrics",
            &GetClusterMetricsRequestProto {},
        );
        let mut header = vec![0x08, 0x02, 0x10, 0x00, 0x18, 0x00, 0x22, 0x10];
        header.extend_from_slice(&CLIENT_ID);
        header.extend_from_slice(&[0x28, 0x00]); // retryCount = 0
        let protocol = b"org.apache.hadoop.yarn.api.ApplicationClientProtocolPB";
        let mut method = vec![0x0a, 17];
        method.extend_from_slice(b"getClusterMetrics");
        method.push(0x12);
        method.push(protocol.len() as u8);
        method.extend_from_slice(protocol);
        method.extend_from_slice(&[0x18, 0x01]); // clientProtocolVersion = 1
        let mut body = vec![header.len() as u8];
        body.extend_from_slice(&header);
        body.push(method.len() as u8);
        body.extend_from_slice(&method);
        body.push(0x00); // the empty request: a single zero length byte
        let mut expected = (body.len() as u32).to_be_bytes().to_vec();
        expected.extend_from_slice(&body);
        assert_eq!(f, expected);
    }

    #[test]
    fn ping_frame_uses_call_id_minus_four() {
        let f = ping_frame(&CLIENT_ID);
        let body = &f[4..];
        let mut rest = body;
        let h = RpcRequestHeaderProto::decode_length_delimited(&mut rest).unwrap();
        assert_eq!(h.call_id, -4);
        assert!(rest.is_empty());
        // -4 zigzag-encodes as 7.
        assert_eq!(&body[5..7], &[0x18, 0x07]);
    }

    #[test]
    fn length_limit_is_checked() {
        assert_eq!(check_length([0, 0, 0, 10], 10), Ok(10));
        assert_eq!(
            check_length([0x7f, 0xff, 0xff, 0xff], 1024),
            Err(FrameError::TooLarge {
                len: 0x7fff_ffff,
                max: 1024
            })
        );
        let msg = check_length([0xff; 4], 16).unwrap_err().to_string();
        assert!(
            msg.contains("4294967295 bytes exceeds the limit of 16"),
            "{msg}"
        );
    }

    #[test]
    fn response_decoding() {
        // callId 7, SUCCESS, then an empty delimited message.
        let ok = [0x04, 0x08, 0x07, 0x10, 0x00, 0x00];
        let r = decode_response(&ok).unwrap();
        assert_eq!(r.header.call_id, 7);
        assert_eq!(r.status(), RpcStatusProto::Success);
        assert_eq!(
            r.message::<GetClusterMetricsRequestProto>(),
            Ok(GetClusterMetricsRequestProto {})
        );

        assert!(decode_response(&[]).is_err());
        assert!(decode_response(&[0x05, 0x08]).is_err()); // truncated header
        let err = decode_response(&[0xff, 0xff, 0xff]).unwrap_err();
        assert!(err.to_string().starts_with("response header"), "{err}");
    }
}
