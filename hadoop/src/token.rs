//! A Hadoop security token: what the RM, NMs and NN hand out and accept, in
//! its serialized forms (Hadoop's `Writable` bytes, the URL-safe base64
//! string the REST API and `Token.encodeToUrlString` use, and `TokenProto`,
//! the one conversion every RPC message carrying a token uses), plus the
//! decoders of the token identifiers Spindle reads.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

use prost::Message;
use spindle_proto::common::TokenProto;
use spindle_proto::yarn::{
    AmrmTokenIdentifierProto, ContainerTokenIdentifierProto, NmTokenIdentifierProto,
};

use crate::error::{Error, Result};
use crate::ids::{ApplicationAttemptId, ContainerId, NodeId};
use crate::yarn::Resource;

/// A token as Hadoop's `Token<T>` holds it: the opaque identifier bytes, the
/// password, the kind (e.g. `YARN_AM_RM_TOKEN`) and the service (`host:port`).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Token {
    pub identifier: Vec<u8>,
    pub password: Vec<u8>,
    pub kind: String,
    pub service: String,
}

impl std::fmt::Debug for Token {
    // The password is a secret: never print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token")
            .field("kind", &self.kind)
            .field("service", &self.service)
            .field("identifier_len", &self.identifier.len())
            .finish_non_exhaustive()
    }
}

impl From<&Token> for TokenProto {
    fn from(t: &Token) -> Self {
        TokenProto {
            identifier: t.identifier.clone(),
            password: t.password.clone(),
            kind: t.kind.clone(),
            service: t.service.clone(),
        }
    }
}

impl From<TokenProto> for Token {
    fn from(p: TokenProto) -> Self {
        Token {
            identifier: p.identifier,
            password: p.password,
            kind: p.kind,
            service: p.service,
        }
    }
}

/// Token kinds Spindle meets.
pub mod kinds {
    pub const AM_RM: &str = "YARN_AM_RM_TOKEN";
    pub const NM: &str = "NMToken";
    pub const CONTAINER: &str = "ContainerToken";
    pub const HDFS_DELEGATION: &str = "HDFS_DELEGATION_TOKEN";
    pub const RM_DELEGATION: &str = "RM_DELEGATION_TOKEN";
}

impl Token {
    /// Appends Hadoop's `Token.write`: vint-length identifier and password,
    /// then kind and service as `Text`.
    pub fn write_writable(&self, out: &mut Vec<u8>) {
        writable::write_bytes(out, &self.identifier);
        writable::write_bytes(out, &self.password);
        writable::write_text(out, &self.kind);
        writable::write_text(out, &self.service);
    }

    /// Hadoop's `Token.write` as a new buffer.
    pub fn to_writable(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_writable(&mut out);
        out
    }

    /// Reads Hadoop's `Token.readFields` from `r`.
    pub fn read_writable(r: &mut writable::Reader<'_>) -> Result<Self> {
        Ok(Self {
            identifier: r.bytes("token identifier")?.to_vec(),
            password: r.bytes("token password")?.to_vec(),
            kind: r.text("token kind")?,
            service: r.text("token service")?,
        })
    }

    /// Decodes one token from exactly `bytes` (trailing bytes are an error).
    pub fn from_writable(bytes: &[u8]) -> Result<Self> {
        let mut r = writable::Reader::new("token", bytes);
        let token = Self::read_writable(&mut r)?;
        r.finish()?;
        Ok(token)
    }

    /// Hadoop's `Token.encodeToUrlString`: URL-safe base64, no padding, of
    /// the `Writable` bytes. This is what the RM REST API takes in
    /// `credentials.tokens` and what `yarn` CLI tools print.
    pub fn encode_url_string(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.to_writable())
    }

    /// Hadoop's `Token.decodeFromUrlString`. Like Hadoop's decoder it accepts
    /// both base64 alphabets, with or without padding.
    pub fn decode_url_string(s: &str) -> Result<Self> {
        let bytes = decode_base64_lenient(s).map_err(|reason| Error::Malformed {
            what: "token URL string".into(),
            reason,
        })?;
        Self::from_writable(&bytes)
    }
}

/// Base64 in either alphabet, padded or not (commons-codec's decoder, which
/// Hadoop uses, accepts all of these).
pub(crate) fn decode_base64_lenient(s: &str) -> std::result::Result<Vec<u8>, String> {
    let normalized: String = s
        .trim()
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect();
    URL_SAFE_NO_PAD
        .decode(normalized.as_bytes())
        .map_err(|e| format!("invalid base64: {e}"))
}

/// Standard base64 with padding (REST `secrets` and `service-data` values).
pub(crate) fn encode_base64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Hadoop's `Writable` primitives used by tokens, credentials and
/// identifiers: `WritableUtils` variable-length integers and `Text`.
pub mod writable {
    use crate::error::{Error, Result};

    /// `WritableUtils.writeVLong`: -112..=127 in one byte; otherwise a
    /// length/sign byte then the magnitude (ones' complement for negatives)
    /// in big-endian order.
    pub fn write_vlong(out: &mut Vec<u8>, value: i64) {
        if (-112..=127).contains(&value) {
            out.push(value as u8);
            return;
        }
        let (mut len, magnitude) = if value < 0 {
            (-120i32, !value)
        } else {
            (-112i32, value)
        };
        let mut tmp = magnitude;
        while tmp != 0 {
            tmp >>= 8;
            len -= 1;
        }
        out.push(len as i8 as u8);
        let n = if len < -120 {
            -(len + 120)
        } else {
            -(len + 112)
        };
        for i in (0..n).rev() {
            out.push((magnitude >> (i * 8)) as u8);
        }
    }

    /// `WritableUtils.writeVInt`.
    pub fn write_vint(out: &mut Vec<u8>, value: i32) {
        write_vlong(out, value.into());
    }

    /// A vint length, then the bytes (how tokens store identifier and password).
    pub fn write_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
        write_vint(out, len_i32(bytes.len()));
        out.extend_from_slice(bytes);
    }

    /// `Text.write`: vint length of the UTF-8 bytes, then the bytes.
    pub fn write_text(out: &mut Vec<u8>, s: &str) {
        write_bytes(out, s.as_bytes());
    }

    fn len_i32(n: usize) -> i32 {
        // A Java array cannot be longer than i32::MAX; neither can our fields.
        i32::try_from(n).expect("field longer than 2 GiB")
    }

    /// A cursor over bytes in Hadoop's `Writable` encoding. Every read checks
    /// bounds; errors name the thing being decoded and the offset.
    pub struct Reader<'a> {
        what: &'a str,
        buf: &'a [u8],
        pos: usize,
    }

    impl<'a> Reader<'a> {
        /// `what` names the whole structure in errors (e.g. "credentials file x").
        pub fn new(what: &'a str, buf: &'a [u8]) -> Self {
            Self { what, buf, pos: 0 }
        }

        pub fn position(&self) -> usize {
            self.pos
        }

        pub fn remaining(&self) -> &'a [u8] {
            &self.buf[self.pos..]
        }

        pub fn is_empty(&self) -> bool {
            self.pos >= self.buf.len()
        }

        pub fn err(&self, field: &str, reason: impl std::fmt::Display) -> Error {
            Error::Malformed {
                what: self.what.to_string(),
                reason: format!("{field} at byte {}: {reason}", self.pos),
            }
        }

        /// Errors unless every byte was consumed.
        pub fn finish(&self) -> Result<()> {
            if self.is_empty() {
                Ok(())
            } else {
                Err(self.err(
                    "end",
                    format!("{} unexpected trailing bytes", self.buf.len() - self.pos),
                ))
            }
        }

        pub fn take(&mut self, field: &str, n: usize) -> Result<&'a [u8]> {
            if self.buf.len() - self.pos < n {
                return Err(self.err(
                    field,
                    format!("needs {n} bytes, only {} left", self.buf.len() - self.pos),
                ));
            }
            let out = &self.buf[self.pos..self.pos + n];
            self.pos += n;
            Ok(out)
        }

        pub fn u8(&mut self, field: &str) -> Result<u8> {
            Ok(self.take(field, 1)?[0])
        }

        /// `WritableUtils.readVLong`.
        pub fn vlong(&mut self, field: &str) -> Result<i64> {
            let start = self.pos;
            let first = self.u8(field)? as i8;
            let len: usize = if first >= -112 {
                return Ok(first.into());
            } else if first < -120 {
                (-119 - i32::from(first)) as usize
            } else {
                (-111 - i32::from(first)) as usize
            };
            let bytes = self
                .take(field, len - 1)
                .inspect_err(|_| self.pos = start)?;
            let mut value: i64 = 0;
            for b in bytes {
                value = (value << 8) | i64::from(*b);
            }
            let negative = first < -120 || (-112..0).contains(&first);
            Ok(if negative { !value } else { value })
        }

        /// `WritableUtils.readVInt`: a vlong that must fit in 32 bits.
        pub fn vint(&mut self, field: &str) -> Result<i32> {
            let start = self.pos;
            let v = self.vlong(field)?;
            i32::try_from(v).map_err(|_| {
                self.pos = start;
                self.err(field, format!("{v} does not fit in an int"))
            })
        }

        /// A vint length, then that many bytes; a negative length or one
        /// past the end is an error (never an allocation).
        pub fn bytes(&mut self, field: &str) -> Result<&'a [u8]> {
            let start = self.pos;
            let len = self.vint(field)?;
            let len = usize::try_from(len).map_err(|_| {
                self.pos = start;
                self.err(field, format!("negative length {len}"))
            })?;
            self.take(field, len).inspect_err(|_| self.pos = start)
        }

        /// `Text.readFields`: a vint length, then UTF-8.
        pub fn text(&mut self, field: &str) -> Result<String> {
            let start = self.pos;
            let bytes = self.bytes(field)?;
            String::from_utf8(bytes.to_vec()).map_err(|_| {
                self.pos = start;
                self.err(field, "not valid UTF-8")
            })
        }
    }
}

/// Hadoop's `AbstractDelegationTokenIdentifier` (the identifier of HDFS and
/// RM delegation tokens), decoded from its `Writable` form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DelegationTokenIdentifier {
    pub owner: String,
    pub renewer: String,
    pub real_user: String,
    /// Milliseconds since the epoch.
    pub issue_date: i64,
    /// Milliseconds since the epoch; the token cannot be renewed past it.
    pub max_date: i64,
    pub sequence_number: i32,
    pub master_key_id: i32,
}

impl DelegationTokenIdentifier {
    /// The only version Hadoop writes and accepts.
    const VERSION: u8 = 0;

    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let mut r = writable::Reader::new("delegation token identifier", bytes);
        let version = r.u8("version")?;
        if version != Self::VERSION {
            return Err(r.err("version", format!("unknown version {version}, expected 0")));
        }
        let id = Self {
            owner: r.text("owner")?,
            renewer: r.text("renewer")?,
            real_user: r.text("realUser")?,
            issue_date: r.vlong("issueDate")?,
            max_date: r.vlong("maxDate")?,
            sequence_number: r.vint("sequenceNumber")?,
            master_key_id: r.vint("masterKeyId")?,
        };
        r.finish()?;
        Ok(id)
    }

    /// Hadoop's `AbstractDelegationTokenIdentifier.write`.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![Self::VERSION];
        writable::write_text(&mut out, &self.owner);
        writable::write_text(&mut out, &self.renewer);
        writable::write_text(&mut out, &self.real_user);
        writable::write_vlong(&mut out, self.issue_date);
        writable::write_vlong(&mut out, self.max_date);
        writable::write_vint(&mut out, self.sequence_number);
        writable::write_vint(&mut out, self.master_key_id);
        out
    }
}

/// The identifier of a `YARN_AM_RM_TOKEN`: which application attempt may
/// talk ApplicationMasterProtocol, under which RM master key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AmRmTokenIdentifier {
    pub attempt_id: ApplicationAttemptId,
    pub key_id: i32,
}

/// The identifier of an `NMToken`: which attempt may talk to which NodeManager.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NmTokenIdentifier {
    pub attempt_id: ApplicationAttemptId,
    pub node_id: NodeId,
    pub app_submitter: String,
    pub key_id: i32,
}

/// The identifier of a `ContainerToken`: what the RM allowed one container to use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerTokenIdentifier {
    pub container_id: ContainerId,
    /// The NodeManager's `host:port`.
    pub nm_host_addr: String,
    pub app_submitter: String,
    pub memory_mb: i64,
    pub vcores: i32,
    /// Milliseconds since the epoch after which the NM refuses to start the container.
    pub expiry_time_stamp: i64,
    pub master_key_id: i32,
    pub rm_identifier: i64,
    pub priority: i32,
    pub creation_time: i64,
}

/// The identifier bytes as the protobuf message `M` (YARN token identifiers
/// are a bare message, not length-delimited).
fn decode_identifier<M: Message + Default>(what: &str, bytes: &[u8]) -> Result<M> {
    M::decode(bytes).map_err(|e| Error::Malformed {
        what: what.to_string(),
        reason: e.to_string(),
    })
}

fn missing_field(what: &str, field: &str) -> Error {
    Error::Malformed {
        what: what.to_string(),
        reason: format!("field {field} is missing"),
    }
}

impl AmRmTokenIdentifier {
    const WHAT: &str = "AMRMTokenIdentifier";

    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let p: AmrmTokenIdentifierProto = decode_identifier(Self::WHAT, bytes)?;
        let attempt = p
            .app_attempt_id
            .as_ref()
            .ok_or_else(|| missing_field(Self::WHAT, "appAttemptId"))?;
        Ok(Self {
            attempt_id: attempt.into(),
            key_id: p.key_id.unwrap_or(-1),
        })
    }
}

impl NmTokenIdentifier {
    const WHAT: &str = "NMTokenIdentifier";

    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let p: NmTokenIdentifierProto = decode_identifier(Self::WHAT, bytes)?;
        let attempt = p
            .app_attempt_id
            .as_ref()
            .ok_or_else(|| missing_field(Self::WHAT, "appAttemptId"))?;
        let node = p
            .node_id
            .as_ref()
            .ok_or_else(|| missing_field(Self::WHAT, "nodeId"))?;
        Ok(Self {
            attempt_id: attempt.into(),
            node_id: node.into(),
            app_submitter: p.app_submitter.clone().unwrap_or_default(),
            key_id: p.key_id.unwrap_or(-1),
        })
    }
}

impl ContainerTokenIdentifier {
    const WHAT: &str = "ContainerTokenIdentifier";

    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let p: ContainerTokenIdentifierProto = decode_identifier(Self::WHAT, bytes)?;
        let container = p
            .container_id
            .as_ref()
            .ok_or_else(|| missing_field(Self::WHAT, "containerId"))?;
        let resource = p.resource.as_ref().map(Resource::from).unwrap_or_default();
        Ok(Self {
            container_id: container.try_into()?,
            nm_host_addr: p.nm_host_addr.clone().unwrap_or_default(),
            app_submitter: p.app_submitter.clone().unwrap_or_default(),
            memory_mb: resource.memory_mb,
            vcores: resource.vcores,
            expiry_time_stamp: p.expiry_time_stamp.unwrap_or(0),
            master_key_id: p.master_key_id.unwrap_or(-1),
            rm_identifier: p.rm_identifier.unwrap_or(0),
            priority: p.priority.and_then(|pr| pr.priority).unwrap_or(0),
            creation_time: p.creation_time.unwrap_or(0),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::writable::*;
    use super::*;

    fn vlong_bytes(v: i64) -> Vec<u8> {
        let mut out = Vec::new();
        write_vlong(&mut out, v);
        out
    }

    #[test]
    fn vlong_matches_hadoop_encoding() {
        // Values and bytes as WritableUtils.writeVLong produces them.
        let cases: &[(i64, &[u8])] = &[
            (0, &[0x00]),
            (127, &[0x7f]),
            (-112, &[0x90]),
            (128, &[0x8f, 0x80]),
            (255, &[0x8f, 0xff]),
            (256, &[0x8e, 0x01, 0x00]),
            (-113, &[0x87, 0x70]),
            (-256, &[0x87, 0xff]),
            (-257, &[0x86, 0x01, 0x00]),
            (
                1_700_000_000_000,
                &[0x8a, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00],
            ),
        ];
        for (v, bytes) in cases {
            assert_eq!(vlong_bytes(*v), *bytes, "encoding {v}");
            let mut r = Reader::new("test", bytes);
            assert_eq!(r.vlong("v").unwrap(), *v, "decoding {v}");
            assert!(r.is_empty());
        }
        for v in [
            i64::MIN,
            i64::MAX,
            -1,
            1 << 40,
            -(1 << 40),
            i32::MIN.into(),
            i32::MAX.into(),
        ] {
            let bytes = vlong_bytes(v);
            assert_eq!(Reader::new("t", &bytes).vlong("v").unwrap(), v);
        }
        assert_eq!(vlong_bytes(i64::MAX).len(), 9);
    }

    #[test]
    fn vint_rejects_long_values_and_truncation() {
        let bytes = vlong_bytes(1 << 40);
        let e = Reader::new("thing", &bytes)
            .vint("len")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("thing") && e.contains("len") && e.contains("int"),
            "{e}"
        );
        let e = Reader::new("thing", &[0x8e, 0x01])
            .vlong("len")
            .unwrap_err()
            .to_string();
        assert!(e.contains("needs 2 bytes"), "{e}");
    }

    fn sample() -> Token {
        Token {
            identifier: b"abc".to_vec(),
            password: b"pw".to_vec(),
            kind: "TEST_KIND".into(),
            service: "127.0.0.1:1234".into(),
        }
    }

    #[test]
    fn writable_bytes_of_a_token() {
        // The token part of PEERS.md's 46-byte golden credentials file.
        let expected: &[u8] = b"\x03abc\x02pw\x09TEST_KIND\x0e127.0.0.1:1234";
        assert_eq!(sample().to_writable(), expected);
        assert_eq!(Token::from_writable(expected).unwrap(), sample());
    }

    #[test]
    fn url_string_round_trip_and_leniency() {
        let s = sample().encode_url_string();
        assert_eq!(s, "A2FiYwJwdwlURVNUX0tJTkQOMTI3LjAuMC4xOjEyMzQ");
        assert!(!s.contains('='));
        assert_eq!(Token::decode_url_string(&s).unwrap(), sample());
        // Padded standard base64 of the same bytes decodes too.
        let std = STANDARD.encode(sample().to_writable());
        assert_eq!(Token::decode_url_string(&std).unwrap(), sample());
        let e = Token::decode_url_string("!!!").unwrap_err().to_string();
        assert!(e.contains("token URL string"), "{e}");
    }

    #[test]
    fn truncated_or_garbage_tokens_fail_cleanly() {
        let full = sample().to_writable();
        for n in 0..full.len() {
            assert!(Token::from_writable(&full[..n]).is_err(), "prefix {n}");
        }
        let mut extra = full.clone();
        extra.push(0);
        assert!(
            Token::from_writable(&extra)
                .unwrap_err()
                .to_string()
                .contains("trailing")
        );
        // A huge declared length must not allocate: it is checked against what is left.
        let e = Token::from_writable(&[0x8c, 0x7f, 0xff, 0xff, 0xff])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("token identifier") && e.contains("only 0 left"),
            "{e}"
        );
        let e = Token::from_writable(&[0xff]).unwrap_err().to_string();
        assert!(e.contains("negative length"), "{e}");
    }

    #[test]
    fn delegation_token_identifier_round_trip() {
        let id = DelegationTokenIdentifier {
            owner: "alice".into(),
            renewer: "yarn".into(),
            real_user: String::new(),
            issue_date: 1_700_000_000_000,
            max_date: 1_700_604_800_000,
            sequence_number: 42,
            master_key_id: 7,
        };
        let bytes = id.encode();
        assert_eq!(&bytes[..7], b"\x00\x05alice");
        assert_eq!(DelegationTokenIdentifier::decode(&bytes).unwrap(), id);
        let mut bad = bytes.clone();
        bad[0] = 1;
        let e = DelegationTokenIdentifier::decode(&bad)
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown version 1"), "{e}");
        let e = DelegationTokenIdentifier::decode(&bytes[..bytes.len() - 1])
            .unwrap_err()
            .to_string();
        assert!(e.contains("masterKeyId"), "{e}");
    }

    #[test]
    fn yarn_identifiers_decode() {
        use crate::ids::ApplicationId;
        use spindle_proto::yarn::{
            ApplicationAttemptIdProto, ContainerIdProto, NodeIdProto, ResourceProto,
        };
        let attempt = ApplicationAttemptId::new(ApplicationId::new(1795716172282, 2), 1);
        // The identifier of the AMRMToken the NodeManager wrote for application 2 on the
        // mini-Hadoop (container_tokens, bytes 8..29).
        let amrm: &[u8] = &[
            0x0a, 0x0d, 0x0a, 0x09, 0x08, 0x02, 0x10, 0xfa, 0x93, 0x99, 0xc8, 0xa1, 0x34, 0x10,
            0x01, 0x10, 0x9c, 0xa8, 0xdc, 0xe5, 0x01,
        ];
        let id = AmRmTokenIdentifier::decode(amrm).unwrap();
        assert_eq!(id.attempt_id, attempt);
        assert!(id.key_id != -1);

        let nm = NmTokenIdentifierProto {
            app_attempt_id: Some(ApplicationAttemptIdProto::from(attempt)),
            node_id: Some(NodeIdProto::from(NodeId::new("localhost", 4545))),
            app_submitter: Some("alice".into()),
            key_id: Some(9),
        };
        let id = NmTokenIdentifier::decode(&nm.encode_to_vec()).unwrap();
        assert_eq!(id.node_id.to_string(), "localhost:4545");
        assert_eq!(id.app_submitter, "alice");

        let cid = ContainerId::new(attempt, 0, 3);
        let ct = ContainerTokenIdentifierProto {
            container_id: Some(ContainerIdProto::from(cid)),
            nm_host_addr: Some("localhost:4545".into()),
            resource: Some(ResourceProto {
                memory: Some(512),
                virtual_cores: Some(1),
            }),
            expiry_time_stamp: Some(42),
            ..Default::default()
        };
        let id = ContainerTokenIdentifier::decode(&ct.encode_to_vec()).unwrap();
        assert_eq!(id.container_id, cid);
        assert_eq!(
            (id.memory_mb, id.vcores, id.expiry_time_stamp),
            (512, 1, 42)
        );

        // Garbage and missing fields are clear errors, never panics.
        let e = AmRmTokenIdentifier::decode(&[0xff, 0xff])
            .unwrap_err()
            .to_string();
        assert!(e.contains("AMRMTokenIdentifier"), "{e}");
        let e = NmTokenIdentifier::decode(&[]).unwrap_err().to_string();
        assert!(e.contains("appAttemptId"), "{e}");
        for n in 0..amrm.len() {
            let _ = AmRmTokenIdentifier::decode(&amrm[..n]);
        }
    }
}

#[cfg(test)]
mod robustness {
    //! Property tests of the Writable primitives, the URL form and the
    //! identifier decoders: round trips hold, garbage never panics.

    use super::writable::{Reader, write_vlong};
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn vlong_round_trips(v in any::<i64>()) {
            let mut out = Vec::new();
            write_vlong(&mut out, v);
            prop_assert!(out.len() <= 9);
            let mut r = Reader::new("p", &out);
            prop_assert_eq!(r.vlong("v").unwrap(), v);
            prop_assert!(r.is_empty());
        }

        #[test]
        fn url_string_round_trips(
            identifier in proptest::collection::vec(any::<u8>(), 0..200),
            password in proptest::collection::vec(any::<u8>(), 0..64),
            kind in ".{0,20}",
            service in ".{0,30}",
        ) {
            let t = Token { identifier, password, kind, service };
            let s = t.encode_url_string();
            prop_assert!(s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
            prop_assert_eq!(Token::decode_url_string(&s).unwrap(), t);
        }

        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256), s in ".{0,64}") {
            let _ = Token::from_writable(&bytes);
            let _ = Token::decode_url_string(&s);
            let _ = DelegationTokenIdentifier::decode(&bytes);
            let _ = AmRmTokenIdentifier::decode(&bytes);
            let _ = NmTokenIdentifier::decode(&bytes);
            let _ = ContainerTokenIdentifier::decode(&bytes);
        }

        #[test]
        fn delegation_identifier_round_trips(
            owner in ".{0,16}", renewer in ".{0,16}", real_user in ".{0,16}",
            issue_date in any::<i64>(), max_date in any::<i64>(),
            sequence_number in any::<i32>(), master_key_id in any::<i32>(),
        ) {
            let id = DelegationTokenIdentifier {
                owner, renewer, real_user, issue_date, max_date, sequence_number, master_key_id,
            };
            prop_assert_eq!(DelegationTokenIdentifier::decode(&id.encode()).unwrap(), id);
        }
    }
}
