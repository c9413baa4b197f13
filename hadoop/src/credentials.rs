//! Hadoop's `Credentials`: a user's tokens and secret keys, each under an
//! alias, and the `HDTS` token storage file that carries them. YARN writes
//! this file into every container (`HADOOP_TOKEN_FILE_LOCATION`); that is how
//! the AM gets its AMRMToken and how secrets reach executors.
//!
//! The file is `HDTS`, a format byte, then either Hadoop's `Writable` encoding
//! (format 0, what Hadoop 3.5 writes by default) or one length-delimited
//! `CredentialsProto` (format 1).

use std::collections::BTreeMap;
use std::path::Path;

use prost::Message;
use spindle_proto::common::{CredentialsKvProto, CredentialsProto};

use crate::error::{Error, Result};
use crate::token::{Token, writable};

/// The four bytes every token storage file starts with.
pub const MAGIC: &[u8; 4] = b"HDTS";

/// The largest token storage file read: real ones hold a few tokens of a few
/// hundred bytes each.
pub const MAX_FILE: u64 = 16 * 1024 * 1024;

/// The environment variable YARN sets to the container's credentials file.
pub const TOKEN_FILE_ENV: &str = "HADOOP_TOKEN_FILE_LOCATION";

/// The two encodings of a token storage file (Hadoop's `SerializedFormat`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CredentialsFormat {
    /// Version byte 0: `Writable` encoding.
    Writable = 0,
    /// Version byte 1: a length-delimited `CredentialsProto`.
    Protobuf = 1,
}

/// Tokens and secret keys by alias. Aliases are unique; adding one again
/// replaces it, as in Hadoop.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    tokens: BTreeMap<String, Token>,
    secrets: BTreeMap<String, Vec<u8>>,
}

impl std::fmt::Debug for Credentials {
    // Secrets and passwords never appear in logs: only aliases and kinds.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("tokens", &self.tokens)
            .field("secrets", &self.secrets.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Credentials {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add_token(&mut self, alias: impl Into<String>, token: Token) {
        self.tokens.insert(alias.into(), token);
    }

    pub fn token(&self, alias: &str) -> Option<&Token> {
        self.tokens.get(alias)
    }

    pub fn remove_token(&mut self, alias: &str) -> Option<Token> {
        self.tokens.remove(alias)
    }

    /// Tokens sorted by alias.
    pub fn tokens(&self) -> impl Iterator<Item = (&str, &Token)> {
        self.tokens.iter().map(|(a, t)| (a.as_str(), t))
    }

    /// The first token of a kind (e.g. the AMRMToken, whose alias is the
    /// empty string in files the NodeManager writes).
    pub fn token_of_kind(&self, kind: &str) -> Option<&Token> {
        self.tokens.values().find(|t| t.kind == kind)
    }

    /// The token of `kind` whose service is one of `services` (the names a
    /// server is known by), not merely the first of its kind: with several
    /// file systems each has its own.
    pub fn token_for_service(&self, kind: &str, services: &[String]) -> Option<&Token> {
        services.iter().find_map(|s| {
            self.tokens
                .values()
                .find(|t| t.kind == kind && t.service == *s)
        })
    }

    pub fn add_secret(&mut self, alias: impl Into<String>, secret: impl Into<Vec<u8>>) {
        self.secrets.insert(alias.into(), secret.into());
    }

    pub fn secret(&self, alias: &str) -> Option<&[u8]> {
        self.secrets.get(alias).map(Vec::as_slice)
    }

    pub fn remove_secret(&mut self, alias: &str) -> Option<Vec<u8>> {
        self.secrets.remove(alias)
    }

    /// Secret keys sorted by alias.
    pub fn secrets(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.secrets.iter().map(|(a, s)| (a.as_str(), s.as_slice()))
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty() && self.secrets.is_empty()
    }

    /// A copy without the tokens of `kind`: what an AM hands to the
    /// containers it launches is its own credentials without the AMRMToken
    /// (`without_kind(kinds::AM_RM)`).
    pub fn without_kind(&self, kind: &str) -> Credentials {
        let mut c = self.clone();
        c.tokens.retain(|_, t| t.kind != kind);
        c
    }

    /// Adds every token and secret of `other`, replacing same aliases.
    pub fn merge(&mut self, other: &Credentials) {
        self.tokens.extend(other.tokens.clone());
        self.secrets.extend(other.secrets.clone());
    }

    /// Hadoop's `Credentials.write`: the body of a format-0 file, after
    /// `HDTS` and the format byte.
    pub fn write_writable(&self, out: &mut Vec<u8>) {
        writable::write_vint(out, count(self.tokens.len()));
        for (alias, token) in &self.tokens {
            writable::write_text(out, alias);
            token.write_writable(out);
        }
        writable::write_vint(out, count(self.secrets.len()));
        for (alias, secret) in &self.secrets {
            writable::write_text(out, alias);
            writable::write_bytes(out, secret);
        }
    }

    /// Hadoop's `Credentials.readFields`.
    pub fn read_writable(r: &mut writable::Reader<'_>) -> Result<Self> {
        let mut creds = Self::new();
        let n = r.vint("token count")?;
        if n < 0 {
            return Err(r.err("token count", format!("negative count {n}")));
        }
        for _ in 0..n {
            let alias = r.text("token alias")?;
            let token = Token::read_writable(r)?;
            creds.tokens.insert(alias, token);
        }
        let n = r.vint("secret count")?;
        if n < 0 {
            return Err(r.err("secret count", format!("negative count {n}")));
        }
        for _ in 0..n {
            let alias = r.text("secret alias")?;
            let secret = r.bytes("secret value")?.to_vec();
            creds.secrets.insert(alias, secret);
        }
        Ok(creds)
    }

    /// The `CredentialsProto` of a format-1 file.
    pub fn to_proto(&self) -> CredentialsProto {
        CredentialsProto {
            tokens: self
                .tokens
                .iter()
                .map(|(alias, t)| CredentialsKvProto {
                    alias: alias.clone(),
                    token: Some(t.into()),
                    secret: None,
                })
                .collect(),
            secrets: self
                .secrets
                .iter()
                .map(|(alias, s)| CredentialsKvProto {
                    alias: alias.clone(),
                    token: None,
                    secret: Some(s.clone()),
                })
                .collect(),
        }
    }

    /// From a `CredentialsProto`; a token entry without a token, or a secret
    /// entry without a secret, is an error (Hadoop would fail on it too).
    pub fn from_proto(proto: CredentialsProto) -> Result<Self> {
        let malformed = |reason: String| Error::Malformed {
            what: "CredentialsProto".into(),
            reason,
        };
        let mut creds = Self::new();
        for kv in proto.tokens {
            let token = kv
                .token
                .ok_or_else(|| malformed(format!("token entry {:?} has no token", kv.alias)))?;
            creds.tokens.insert(kv.alias, token.into());
        }
        for kv in proto.secrets {
            let secret = kv
                .secret
                .ok_or_else(|| malformed(format!("secret entry {:?} has no secret", kv.alias)))?;
            creds.secrets.insert(kv.alias, secret);
        }
        Ok(creds)
    }

    /// A whole token storage file in the given format. This is also what a
    /// ContainerLaunchContext's `tokens` field holds (Hadoop and Spark fill it
    /// with `writeTokenStorageToStream`); the NodeManager writes it unchanged
    /// to the container's `HADOOP_TOKEN_FILE_LOCATION`.
    pub fn to_file_bytes(&self, format: CredentialsFormat) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.push(format as u8);
        match format {
            CredentialsFormat::Writable => self.write_writable(&mut out),
            CredentialsFormat::Protobuf => self
                .to_proto()
                .encode_length_delimited(&mut out)
                .expect("a Vec grows as needed"),
        }
        out
    }

    /// Decodes a token storage file of either format; `source` names it in
    /// errors. Bytes after the credentials are an error (Hadoop writes none).
    pub fn from_file_bytes(source: &str, bytes: &[u8]) -> Result<Self> {
        let what = format!("credentials file {source}");
        let mut r = writable::Reader::new(&what, bytes);
        let magic = r.take("magic", MAGIC.len())?;
        if magic != MAGIC {
            return Err(r.err("magic", format!("found {magic:02x?}, expected \"HDTS\"")));
        }
        let format = r.u8("format")?;
        let creds = match format {
            0 => Self::read_writable(&mut r)?,
            1 => {
                let mut rest = r.remaining();
                let proto = CredentialsProto::decode_length_delimited(&mut rest)
                    .map_err(|e| r.err("CredentialsProto", e))?;
                let used = r.remaining().len() - rest.len();
                r.take("CredentialsProto", used)?;
                Self::from_proto(proto).map_err(|e| r.err("CredentialsProto", e))?
            }
            v => {
                return Err(r.err(
                    "format",
                    format!("unknown format {v} (0 is Writable, 1 is protobuf)"),
                ));
            }
        };
        r.finish()?;
        Ok(creds)
    }

    /// Reads a token storage file (Hadoop's `Credentials.readTokenStorageFile`).
    /// A file over [`MAX_FILE`] is refused before it is read.
    pub fn read_file(path: impl AsRef<Path>) -> Result<Self> {
        use std::io::Read;
        let path = path.as_ref();
        let io_err = |source| Error::Io {
            context: format!("reading credentials file {}", path.display()),
            source,
        };
        let too_large = || Error::Malformed {
            what: format!("credentials file {}", path.display()),
            reason: format!("larger than {} MiB", MAX_FILE >> 20),
        };
        let file = std::fs::File::open(path).map_err(io_err)?;
        if file.metadata().map_err(io_err)?.len() > MAX_FILE {
            return Err(too_large());
        }
        // take: a device or a pipe has no length to check beforehand.
        let mut bytes = Vec::new();
        file.take(MAX_FILE + 1)
            .read_to_end(&mut bytes)
            .map_err(io_err)?;
        if bytes.len() as u64 > MAX_FILE {
            return Err(too_large());
        }
        Self::from_file_bytes(&path.display().to_string(), &bytes)
    }

    /// Reads the file named by `HADOOP_TOKEN_FILE_LOCATION`; `None` when the
    /// variable is unset (not running in a YARN container).
    pub fn from_env() -> Result<Option<Self>> {
        match std::env::var_os(TOKEN_FILE_ENV) {
            Some(path) if !path.is_empty() => Self::read_file(path).map(Some),
            _ => Ok(None),
        }
    }

    /// Writes a token storage file: to a temporary file beside it, readable
    /// only by its owner, then renamed into place.
    pub fn write_file(&self, path: impl AsRef<Path>, format: CredentialsFormat) -> Result<()> {
        let path = path.as_ref();
        let io_err = |source| Error::Io {
            context: format!("writing credentials file {}", path.display()),
            source,
        };
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = path.with_file_name(format!(".{file_name}.tmp{}", std::process::id()));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let write = || -> std::io::Result<()> {
            use std::io::Write;
            let mut f = options.open(&tmp)?;
            f.write_all(&self.to_file_bytes(format))?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            io_err(e)
        })
    }
}

fn count(n: usize) -> i32 {
    i32::try_from(n).expect("more than 2^31 credentials")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// PEERS.md: what Hadoop 3.5's `Credentials.writeTokenStorageFile` writes
    /// for one token (alias1, abc, pw, TEST_KIND, 127.0.0.1:1234).
    const GOLDEN_WRITABLE: [u8; 46] = [
        0x48, 0x44, 0x54, 0x53, 0x00, 0x01, 0x06, 0x61, 0x6c, 0x69, 0x61, 0x73, 0x31, 0x03, 0x61,
        0x62, //
        0x63, 0x02, 0x70, 0x77, 0x09, 0x54, 0x45, 0x53, 0x54, 0x5f, 0x4b, 0x49, 0x4e, 0x44, 0x0e,
        0x31, //
        0x32, 0x37, 0x2e, 0x30, 0x2e, 0x30, 0x2e, 0x31, 0x3a, 0x31, 0x32, 0x33, 0x34, 0x00,
    ];

    fn golden() -> Credentials {
        let mut c = Credentials::new();
        c.add_token(
            "alias1",
            Token {
                identifier: b"abc".to_vec(),
                password: b"pw".to_vec(),
                kind: "TEST_KIND".into(),
                service: "127.0.0.1:1234".into(),
            },
        );
        c
    }

    #[test]
    fn golden_writable_file() {
        assert_eq!(
            golden().to_file_bytes(CredentialsFormat::Writable),
            GOLDEN_WRITABLE
        );
        assert_eq!(
            Credentials::from_file_bytes("golden", &GOLDEN_WRITABLE).unwrap(),
            golden()
        );
    }

    #[test]
    fn protobuf_file_layout() {
        let bytes = golden().to_file_bytes(CredentialsFormat::Protobuf);
        // HDTS, version 1, the message length, then tokens (field 1) holding
        // alias (1) and token (2) = {identifier, password, kind, service}.
        let token: &[u8] = b"\x0a\x03abc\x12\x02pw\x1a\x09TEST_KIND\x22\x0e127.0.0.1:1234";
        let mut kv = b"\x0a\x06alias1\x12".to_vec();
        kv.push(token.len() as u8);
        kv.extend_from_slice(token);
        let mut expected = b"HDTS\x01".to_vec();
        expected.push(kv.len() as u8 + 2);
        expected.push(0x0a);
        expected.push(kv.len() as u8);
        expected.extend_from_slice(&kv);
        assert_eq!(bytes, expected);
        assert_eq!(Credentials::from_file_bytes("p", &bytes).unwrap(), golden());
    }

    #[test]
    fn both_formats_round_trip_with_secrets() {
        let mut c = golden();
        c.add_token(
            "",
            Token {
                identifier: vec![0; 300],
                password: (0..=255).collect(),
                kind: "YARN_AM_RM_TOKEN".into(),
                service: String::new(),
            },
        );
        c.add_secret("sparkCookie", b"s3cr3t\x00\xff".to_vec());
        c.add_secret("empty", Vec::new());
        for format in [CredentialsFormat::Writable, CredentialsFormat::Protobuf] {
            let bytes = c.to_file_bytes(format);
            let back = Credentials::from_file_bytes("x", &bytes).unwrap();
            assert_eq!(back, c, "{format:?}");
            assert_eq!(
                back.token_of_kind("YARN_AM_RM_TOKEN")
                    .unwrap()
                    .identifier
                    .len(),
                300
            );
            assert_eq!(back.secret("sparkCookie").unwrap(), b"s3cr3t\x00\xff");
        }
    }

    #[test]
    fn bad_files_fail_with_a_clear_error() {
        let e = Credentials::from_file_bytes("f", b"HDTX\x00\x00\x00")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("credentials file f") && e.contains("magic"),
            "{e}"
        );
        let e = Credentials::from_file_bytes("f", b"HDTS\x07")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown format 7"), "{e}");
        for n in 0..GOLDEN_WRITABLE.len() {
            assert!(
                Credentials::from_file_bytes("f", &GOLDEN_WRITABLE[..n]).is_err(),
                "prefix {n}"
            );
        }
        let proto = golden().to_file_bytes(CredentialsFormat::Protobuf);
        for n in 0..proto.len() {
            assert!(
                Credentials::from_file_bytes("f", &proto[..n]).is_err(),
                "prefix {n}"
            );
        }
        let e = Credentials::from_file_bytes("f", b"HDTS\x00\xff")
            .unwrap_err()
            .to_string();
        assert!(e.contains("negative count"), "{e}");
        let mut trailing = GOLDEN_WRITABLE.to_vec();
        trailing.push(1);
        assert!(
            Credentials::from_file_bytes("f", &trailing)
                .unwrap_err()
                .to_string()
                .contains("trailing")
        );
    }

    #[test]
    fn huge_claims_are_refused_before_anything_is_allocated() {
        use spindle_test_support::largest_allocation;
        let dir = tempfile::tempdir().unwrap();
        // A sparse file of 1 TiB.
        let path = dir.path().join("huge");
        std::fs::File::create(&path)
            .unwrap()
            .set_len(1 << 40)
            .unwrap();
        let (r, largest) = largest_allocation(|| Credentials::read_file(&path));
        let e = r.unwrap_err().to_string();
        assert!(e.contains("larger than 16 MiB"), "{e}");
        assert!(largest < 1 << 20, "allocated {largest} bytes");
        // A device: no length beforehand, an endless stream of zeros.
        let (r, largest) = largest_allocation(|| Credentials::read_file("/dev/zero"));
        assert!(r.unwrap_err().to_string().contains("larger than 16 MiB"));
        assert!(
            largest <= 2 * (MAX_FILE as usize + 1),
            "allocated {largest} bytes"
        );
        // A secret whose length says 2 GiB - 1, in a file of a few bytes.
        let mut bytes = MAGIC.to_vec();
        bytes.push(0);
        writable::write_vint(&mut bytes, 0);
        writable::write_vint(&mut bytes, 1);
        writable::write_text(&mut bytes, "s");
        writable::write_vint(&mut bytes, i32::MAX);
        bytes.extend_from_slice(b"abc");
        let (r, largest) = largest_allocation(|| Credentials::from_file_bytes("f", &bytes));
        assert!(r.unwrap_err().to_string().contains("secret value"));
        assert!(largest < 1 << 20, "allocated {largest} bytes");
        // The same claim in a protobuf file.
        let mut bytes = MAGIC.to_vec();
        bytes.push(1);
        bytes.extend_from_slice(&[0xfe, 0xff, 0xff, 0xff, 0x07, 0x0a]);
        let (r, largest) = largest_allocation(|| Credentials::from_file_bytes("f", &bytes));
        assert!(r.is_err());
        assert!(largest < 1 << 20, "allocated {largest} bytes");
    }

    #[test]
    fn without_kind_drops_only_that_kind() {
        let mut c = golden();
        c.add_token(
            "",
            Token {
                kind: crate::token::kinds::AM_RM.into(),
                ..Token::default()
            },
        );
        c.add_secret("s", b"x".to_vec());
        let for_executors = c.without_kind(crate::token::kinds::AM_RM);
        assert!(for_executors.token("").is_none());
        assert!(for_executors.token("alias1").is_some());
        assert_eq!(for_executors.secret("s"), Some(&b"x"[..]));
        assert!(c.token("").is_some());
    }

    #[test]
    fn debug_hides_secrets() {
        let mut c = golden();
        c.add_secret("k", b"topsecret".to_vec());
        let s = format!("{c:?}");
        assert!(!s.contains("topsecret") && !s.contains("pw"), "{s}");
        assert!(s.contains("alias1") && s.contains("TEST_KIND"), "{s}");
    }

    #[test]
    fn file_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("container_tokens");
        golden()
            .write_file(&path, CredentialsFormat::Writable)
            .unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), GOLDEN_WRITABLE);
        assert_eq!(Credentials::read_file(&path).unwrap(), golden());
        let e = Credentials::read_file(dir.path().join("nope"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("reading credentials file"), "{e}");
    }
}

#[cfg(test)]
mod robustness {
    //! Property tests: any credentials round-trip through both formats, and
    //! any bytes decode to a value or a clear error, never a panic.

    use super::*;
    use proptest::prelude::*;

    fn token() -> impl Strategy<Value = Token> {
        (
            proptest::collection::vec(any::<u8>(), 0..300),
            proptest::collection::vec(any::<u8>(), 0..64),
            ".{0,20}",
            ".{0,30}",
        )
            .prop_map(|(identifier, password, kind, service)| Token {
                identifier,
                password,
                kind,
                service,
            })
    }

    fn credentials() -> impl Strategy<Value = Credentials> {
        (
            proptest::collection::btree_map(".{0,12}", token(), 0..5),
            proptest::collection::btree_map(
                ".{0,12}",
                proptest::collection::vec(any::<u8>(), 0..200),
                0..5,
            ),
        )
            .prop_map(|(tokens, secrets)| Credentials { tokens, secrets })
    }

    proptest! {
        #[test]
        fn both_formats_round_trip(c in credentials()) {
            for format in [CredentialsFormat::Writable, CredentialsFormat::Protobuf] {
                let bytes = c.to_file_bytes(format);
                prop_assert_eq!(&Credentials::from_file_bytes("p", &bytes).unwrap(), &c);
            }
        }

        #[test]
        fn any_bytes_after_the_header_decode_or_fail_cleanly(
            format in 0u8..3,
            body in proptest::collection::vec(any::<u8>(), 0..512),
        ) {
            let mut bytes = MAGIC.to_vec();
            bytes.push(format);
            bytes.extend_from_slice(&body);
            if let Err(e) = Credentials::from_file_bytes("fuzz", &bytes) {
                let msg = e.to_string();
                prop_assert!(msg.contains("fuzz") || msg.contains("CredentialsProto"), "{}", msg);
                prop_assert!(!msg.contains('\n'));
            }
        }

        #[test]
        fn flipped_bytes_of_a_valid_file_never_panic(
            c in credentials(),
            flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
            proto in any::<bool>(),
        ) {
            let format = if proto { CredentialsFormat::Protobuf } else { CredentialsFormat::Writable };
            let mut bytes = c.to_file_bytes(format);
            for (at, x) in flips {
                let n = bytes.len();
                bytes[at % n] ^= x;
            }
            let _ = Credentials::from_file_bytes("fuzz", &bytes);
        }
    }
}
