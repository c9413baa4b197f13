//! DIGEST-MD5 (RFC 2831) client, as Hadoop uses it for token authentication:
//! the user name is the base64 of the token identifier, the password the
//! base64 of the token password. Quality of protection `auth`, or the
//! security layers of `hadoop.rpc.protection` integrity (`auth-int`,
//! HMAC-MD5) and privacy (`auth-conf` with the `rc4` cipher), which Hadoop's
//! servers demand of tokens too (AMRM, NM and delegation tokens).

use base64::Engine as _;
use md5::{Digest, Md5};

use super::{Mechanism, SecurityLayer};
use crate::Token;

/// One DIGEST-MD5 exchange for one token.
pub struct DigestMd5 {
    username: String,
    password: String,
    protocol: String,
    server_id: String,
    cnonce: String,
    /// The `rspauth` value the server must send back to prove it knows the
    /// password too; set once we have answered a challenge.
    expected_rspauth: Option<String>,
    /// The layer agreed on (qop other than `auth`), ready once the server succeeds.
    layer: Option<DigestLayer>,
}

impl DigestMd5 {
    /// A client that proves possession of `token`.
    pub fn new(token: &Token) -> Self {
        let b64 = base64::engine::general_purpose::STANDARD;
        let cnonce_bytes: [u8; 12] = rand::random();
        Self::with_cnonce(
            b64.encode(&token.identifier),
            b64.encode(&token.password),
            b64.encode(cnonce_bytes),
        )
    }

    fn with_cnonce(username: String, password: String, cnonce: String) -> Self {
        DigestMd5 {
            username,
            password,
            protocol: String::new(),
            server_id: String::new(),
            cnonce,
            expected_rspauth: None,
            layer: None,
        }
    }

    /// The response to a server challenge (`realm=…,nonce=…,qop=…`).
    fn respond(&mut self, challenge: &[u8]) -> Result<Vec<u8>, String> {
        let text = std::str::from_utf8(challenge)
            .map_err(|_| "DIGEST-MD5 challenge is not UTF-8".to_string())?;
        let fields = parse_directives(text)?;
        let get = |key: &str| {
            fields
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v.as_str())
        };
        let nonce = get("nonce").ok_or("DIGEST-MD5 challenge has no nonce")?;
        let qops: Vec<&str> = get("qop")
            .unwrap_or("auth")
            .split(',')
            .map(str::trim)
            .collect();
        // The strongest protection the server offers: it offers only what its
        // hadoop.rpc.protection allows.
        let qop = ["auth-conf", "auth-int", "auth"]
            .into_iter()
            .find(|q| qops.contains(q))
            .ok_or_else(|| {
                format!(
                    "server offers SASL quality of protection {}, which Spindle does not know",
                    qops.join(",")
                )
            })?;
        let ciphers: Vec<&str> = get("cipher")
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .collect();
        if qop == "auth-conf" && !ciphers.contains(&"rc4") {
            return Err(format!(
                "server offers DIGEST-MD5 privacy with ciphers {} only; Spindle uses rc4",
                ciphers.join(",")
            ));
        }
        let server_maxbuf: usize = get("maxbuf").and_then(|m| m.parse().ok()).unwrap_or(65536);
        if let Some(alg) = get("algorithm")
            && !alg.eq_ignore_ascii_case("md5-sess")
        {
            return Err(format!(
                "DIGEST-MD5 challenge asks for algorithm {alg}, not md5-sess"
            ));
        }
        let realm = get("realm").unwrap_or(&self.server_id).to_string();
        let utf8 = get("charset").is_some_and(|c| c.eq_ignore_ascii_case("utf-8"));
        let digest_uri = format!("{}/{}", self.protocol, self.server_id);
        let nc = "00000001";
        let ha1_raw = self.ha1_raw(&realm, nonce);
        let ha1 = hex(&ha1_raw);
        // With a security layer A2 ends in a zero MAC (RFC 2831 2.1.2.1).
        let a2_tail = if qop == "auth" {
            ""
        } else {
            ":00000000000000000000000000000000"
        };
        let response = kd_hex(
            &ha1,
            nonce,
            nc,
            &self.cnonce,
            qop,
            &format!("AUTHENTICATE:{digest_uri}{a2_tail}"),
        );
        self.expected_rspauth = Some(kd_hex(
            &ha1,
            nonce,
            nc,
            &self.cnonce,
            qop,
            &format!(":{digest_uri}{a2_tail}"),
        ));
        self.layer = match qop {
            "auth" => None,
            q => Some(DigestLayer::new(&ha1_raw, q == "auth-conf", server_maxbuf)),
        };
        let cipher = if qop == "auth-conf" {
            ",cipher=rc4"
        } else {
            ""
        };
        let mut out = String::new();
        if utf8 {
            out.push_str("charset=utf-8,");
        }
        out.push_str(&format!(
            "username=\"{}\",realm=\"{}\",nonce=\"{}\",nc={nc},cnonce=\"{}\",digest-uri=\"{}\",\
             maxbuf=65536,response={response},qop={qop}{cipher}",
            quote(&self.username),
            quote(&realm),
            quote(nonce),
            quote(&self.cnonce),
            quote(&digest_uri)
        ));
        Ok(out.into_bytes())
    }

    /// MD5(MD5(user:realm:password) ":" nonce ":" cnonce): H(A1), whose hex
    /// enters the response and whose bytes key the security layer.
    fn ha1_raw(&self, realm: &str, nonce: &str) -> [u8; 16] {
        let inner = Md5::digest(format!("{}:{realm}:{}", self.username, self.password));
        let mut a1 = inner.to_vec();
        a1.extend_from_slice(format!(":{nonce}:{}", self.cnonce).as_bytes());
        Md5::digest(&a1).into()
    }
}

/// KD(HA1, nonce:nc:cnonce:qop:HEX(H(A2))) in hex, RFC 2831 section 2.1.2.1.
fn kd_hex(ha1: &str, nonce: &str, nc: &str, cnonce: &str, qop: &str, a2: &str) -> String {
    let ha2 = hex(&Md5::digest(a2.as_bytes()));
    hex(&Md5::digest(format!(
        "{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}"
    )))
}

/// HMAC-MD5 (RFC 2104) of `parts` under a key of at most 64 bytes.
fn hmac_md5(key: &[u8], parts: &[&[u8]]) -> [u8; 16] {
    let mut k = [0u8; 64];
    k[..key.len()].copy_from_slice(key);
    let mut inner = Md5::new();
    inner.update(k.map(|b| b ^ 0x36));
    for p in parts {
        inner.update(p);
    }
    let mut outer = Md5::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// RC4, the one DIGEST-MD5 cipher Spindle speaks (`rc4`, 128-bit keys): one
/// keystream per direction, continued across messages.
struct Rc4 {
    s: [u8; 256],
    i: u8,
    j: u8,
}

impl Rc4 {
    fn new(key: &[u8]) -> Self {
        let mut s = [0u8; 256];
        for (i, v) in s.iter_mut().enumerate() {
            *v = i as u8;
        }
        let mut j = 0u8;
        for i in 0..256 {
            j = j.wrapping_add(s[i]).wrapping_add(key[i % key.len()]);
            s.swap(i, j as usize);
        }
        Rc4 { s, i: 0, j: 0 }
    }

    fn apply(&mut self, data: &mut [u8]) {
        for b in data {
            self.i = self.i.wrapping_add(1);
            self.j = self.j.wrapping_add(self.s[self.i as usize]);
            self.s.swap(self.i as usize, self.j as usize);
            let k =
                self.s[(self.s[self.i as usize].wrapping_add(self.s[self.j as usize])) as usize];
            *b ^= k;
        }
    }
}

/// The DIGEST-MD5 security layer (RFC 2831 section 2.3 and 2.4): each
/// message gets a 10-byte HMAC-MD5 over its sequence number and text, the
/// message type 1 and the sequence number; privacy encrypts text and MAC.
struct DigestLayer {
    /// Signing keys Kic (ours) and Kis (the server's).
    sign_out: [u8; 16],
    sign_in: [u8; 16],
    /// Sealing ciphers (privacy only).
    seal: Option<(Rc4, Rc4)>,
    seq_out: u32,
    seq_in: u32,
    max_chunk: usize,
}

impl DigestLayer {
    fn new(ha1: &[u8; 16], privacy: bool, server_maxbuf: usize) -> Self {
        let derive = |key: &[u8], magic: &str| -> [u8; 16] {
            let mut h = Md5::new();
            h.update(key);
            h.update(magic.as_bytes());
            h.finalize().into()
        };
        let sign_out = derive(
            ha1,
            "Digest session key to client-to-server signing key magic constant",
        );
        let sign_in = derive(
            ha1,
            "Digest session key to server-to-client signing key magic constant",
        );
        let seal = privacy.then(|| {
            let out = derive(
                ha1,
                "Digest H(A1) to client-to-server sealing key magic constant",
            );
            let inn = derive(
                ha1,
                "Digest H(A1) to server-to-client sealing key magic constant",
            );
            (Rc4::new(&out), Rc4::new(&inn))
        });
        DigestLayer {
            sign_out,
            sign_in,
            seal,
            seq_out: 0,
            seq_in: 0,
            // Text plus 10 bytes of MAC and 6 of trailer must fit the server's buffer.
            max_chunk: server_maxbuf.saturating_sub(16).max(1),
        }
    }
}

impl SecurityLayer for DigestLayer {
    fn wrap(&mut self, data: &[u8]) -> Result<Vec<u8>, String> {
        let seq = self.seq_out.to_be_bytes();
        let mac = hmac_md5(&self.sign_out, &[&seq, data]);
        let mut out = Vec::with_capacity(data.len() + 16);
        out.extend_from_slice(data);
        out.extend_from_slice(&mac[..10]);
        if let Some((enc, _)) = self.seal.as_mut() {
            enc.apply(&mut out);
        }
        out.extend_from_slice(&[0, 1]);
        out.extend_from_slice(&seq);
        self.seq_out = self.seq_out.wrapping_add(1);
        Ok(out)
    }

    fn unwrap(&mut self, token: &[u8]) -> Result<Vec<u8>, String> {
        if token.len() < 16 {
            return Err(format!(
                "DIGEST-MD5: a wrapped message of {} bytes",
                token.len()
            ));
        }
        let (body, trailer) = token.split_at(token.len() - 6);
        if trailer[..2] != [0, 1] {
            return Err("DIGEST-MD5: wrapped message of an unknown type".into());
        }
        let seq = [trailer[2], trailer[3], trailer[4], trailer[5]];
        if u32::from_be_bytes(seq) != self.seq_in {
            return Err(format!(
                "DIGEST-MD5: message {} arrived where {} was due",
                u32::from_be_bytes(seq),
                self.seq_in
            ));
        }
        let mut body = body.to_vec();
        if let Some((_, dec)) = self.seal.as_mut() {
            dec.apply(&mut body);
        }
        let (text, mac) = body.split_at(body.len() - 10);
        if hmac_md5(&self.sign_in, &[&seq, text])[..10] != *mac {
            return Err("DIGEST-MD5: a wrapped message failed its integrity check".into());
        }
        self.seq_in = self.seq_in.wrapping_add(1);
        Ok(text.to_vec())
    }

    fn max_chunk(&self) -> usize {
        self.max_chunk
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Escapes `"` and `\` inside a quoted-string value.
fn quote(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Parses `key=value,key="quoted, value",…` into pairs; never panics.
fn parse_directives(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        if chars.peek().is_none() {
            return Ok(out);
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' {
                break;
            }
            key.push(c);
            chars.next();
        }
        if chars.next() != Some('=') {
            return Err(format!(
                "DIGEST-MD5 challenge: directive {:?} has no value",
                key.trim()
            ));
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    None => return Err("DIGEST-MD5 challenge: unterminated quoted value".into()),
                    Some('"') => break,
                    Some('\\') => {
                        if let Some(c) = chars.next() {
                            value.push(c);
                        }
                    }
                    Some(c) => value.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        out.push((key.trim().to_string(), value.trim().to_string()));
    }
}

impl Mechanism for DigestMd5 {
    fn method(&self) -> &str {
        "TOKEN"
    }

    fn mechanism(&self) -> &str {
        "DIGEST-MD5"
    }

    fn start(
        &mut self,
        protocol: &str,
        server_id: &str,
        challenge: Option<&[u8]>,
    ) -> Result<Vec<u8>, String> {
        self.protocol = protocol.to_string();
        self.server_id = server_id.to_string();
        match challenge {
            // Hadoop servers put the first challenge into their NEGOTIATE offer.
            Some(c) if !c.is_empty() => self.respond(c),
            // DIGEST-MD5 has no initial response: wait for a CHALLENGE.
            _ => Ok(Vec::new()),
        }
    }

    fn step(&mut self, challenge: &[u8]) -> Result<Vec<u8>, String> {
        if self.expected_rspauth.is_some() {
            return Err("DIGEST-MD5: a second challenge after our response".into());
        }
        self.respond(challenge)
    }

    fn finish(&mut self, data: Option<&[u8]>) -> Result<(), String> {
        let expected = self
            .expected_rspauth
            .as_deref()
            .ok_or("DIGEST-MD5: server reported success before any challenge")?;
        let data = data.ok_or("DIGEST-MD5: server success without rspauth")?;
        let text = std::str::from_utf8(data).map_err(|_| "DIGEST-MD5 rspauth is not UTF-8")?;
        let fields = parse_directives(text)?;
        match fields.iter().find(|(k, _)| k == "rspauth") {
            Some((_, v)) if v == expected => Ok(()),
            Some(_) => {
                Err("DIGEST-MD5: the server's rspauth does not match (wrong server?)".into())
            }
            None => Err("DIGEST-MD5: server success without rspauth".into()),
        }
    }

    fn security_layer(&mut self) -> Option<Box<dyn SecurityLayer>> {
        self.layer
            .take()
            .map(|l| Box::new(l) as Box<dyn SecurityLayer>)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of RFC 2831 section 4.
    #[test]
    fn rfc2831_example() {
        let mut d =
            DigestMd5::with_cnonce("chris".into(), "secret".into(), "OA6MHXh6VqTrRk".into());
        let challenge = b"realm=\"elwood.innosoft.com\",nonce=\"OA6MG9tEQGm2hh\",qop=\"auth\",algorithm=md5-sess,charset=utf-8";
        let resp = d
            .start("imap", "elwood.innosoft.com", Some(challenge))
            .unwrap();
        let resp = String::from_utf8(resp).unwrap();
        assert!(
            resp.contains("response=d388dad90d4bbd760a152321f2143af7"),
            "{resp}"
        );
        assert!(
            resp.starts_with("charset=utf-8,username=\"chris\""),
            "{resp}"
        );
        assert!(
            resp.contains("digest-uri=\"imap/elwood.innosoft.com\""),
            "{resp}"
        );
        assert!(resp.contains(",qop=auth"), "{resp}");
        d.finish(Some(b"rspauth=ea40f60335c427b5527b84dbabcdfffd"))
            .unwrap();
        assert!(
            d.finish(Some(b"rspauth=00000000000000000000000000000000"))
                .is_err()
        );
    }

    #[test]
    fn hadoop_token_credentials_are_base64() {
        let token = Token {
            identifier: vec![1, 2, 3],
            password: vec![0xff, 0xfe],
            kind: "YARN_AM_RM_TOKEN".into(),
            service: "127.0.0.1:8030".into(),
        };
        let d = DigestMd5::new(&token);
        assert_eq!(d.username, "AQID");
        assert_eq!(d.password, "//4=");
    }

    #[test]
    fn privacy_needs_rc4_and_names_it() {
        let mut d = DigestMd5::with_cnonce("u".into(), "p".into(), "c".into());
        let err = d
            .start(
                "",
                "default",
                Some(b"realm=\"default\",nonce=\"n\",qop=\"auth-conf\",cipher=\"3des\",algorithm=md5-sess"),
            )
            .unwrap_err();
        assert!(err.contains("rc4") && err.contains("3des"), "{err}");
        let mut d = DigestMd5::with_cnonce("u".into(), "p".into(), "c".into());
        let resp = d
            .start(
                "",
                "default",
                Some(b"realm=\"default\",nonce=\"n\",qop=\"auth-conf\",cipher=\"3des,rc4,des\",maxbuf=4096,algorithm=md5-sess"),
            )
            .unwrap();
        let resp = String::from_utf8(resp).unwrap();
        assert!(resp.contains(",qop=auth-conf,cipher=rc4"), "{resp}");
        assert!(d.layer.as_ref().is_some_and(|l| l.max_chunk == 4080));
    }

    #[test]
    fn hmac_md5_and_rc4_match_their_reference_vectors() {
        // RFC 2202 test case 1.
        assert_eq!(
            hex(&hmac_md5(&[0x0b; 16], &[b"Hi ", b"There"])),
            "9294727a3638bb1c13f48ef8158bfc9d"
        );
        // The classic RC4 vector: key "Key", plaintext "Plaintext".
        let mut data = b"Plaintext".to_vec();
        Rc4::new(b"Key").apply(&mut data);
        assert_eq!(hex(&data), "bbf316e8d940af0ad3");
    }

    /// A layer as the server holds it: the same keys, directions swapped.
    fn server_side(client: &DigestLayer, ha1: &[u8; 16]) -> DigestLayer {
        let mut s = DigestLayer::new(ha1, client.seal.is_some(), 65536);
        std::mem::swap(&mut s.sign_in, &mut s.sign_out);
        if let Some((a, b)) = s.seal.take() {
            s.seal = Some((b, a));
        }
        s
    }

    #[test]
    fn layers_protect_sequence_and_content() {
        let ha1 = [7u8; 16];
        for privacy in [false, true] {
            let mut client = DigestLayer::new(&ha1, privacy, 65536);
            let mut server = server_side(&client, &ha1);
            for msg in [&b"first call"[..], b"", b"second call"] {
                let wrapped = client.wrap(msg).unwrap();
                assert_eq!(wrapped.len(), msg.len() + 16);
                assert_eq!(msg.is_empty() || !privacy, wrapped.starts_with(msg));
                assert_eq!(server.unwrap(&wrapped).unwrap(), msg);
                let back = server.wrap(msg).unwrap();
                assert_eq!(client.unwrap(&back).unwrap(), msg);
            }
            // A flipped bit, or a replayed message, is refused.
            let mut bad = client.wrap(b"payload").unwrap();
            bad[0] ^= 1;
            assert!(server.unwrap(&bad).is_err());
            let mut client2 = DigestLayer::new(&ha1, privacy, 65536);
            let replay = client2.wrap(b"first call").unwrap();
            assert!(
                server
                    .unwrap(&replay)
                    .unwrap_err()
                    .contains("arrived where")
            );
        }
    }

    #[test]
    fn directive_parser_handles_quotes_and_garbage() {
        let f = parse_directives("a=1, b=\"x,\\\"y\",c=").unwrap();
        assert_eq!(f[0], ("a".into(), "1".into()));
        assert_eq!(f[1], ("b".into(), "x,\"y".into()));
        assert_eq!(f[2], ("c".into(), "".into()));
        assert!(parse_directives("novalue").is_err());
        assert!(parse_directives("a=\"open").is_err());
        assert!(parse_directives("").unwrap().is_empty());
    }
}
