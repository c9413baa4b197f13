//! DIGEST-MD5 (RFC 2831) client, as Hadoop uses it for token authentication:
//! the user name is the base64 of the token identifier, the password the
//! base64 of the token password, quality of protection `auth` only (no
//! integrity or privacy layer, which `hadoop.rpc.protection=authentication`,
//! the default, negotiates).

use base64::Engine as _;
use md5::{Digest, Md5};

use super::Mechanism;
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
        if !qops.contains(&"auth") {
            return Err(format!(
                "server requires SASL quality of protection {} (hadoop.rpc.protection integrity or \
                 privacy); Spindle supports authentication only",
                qops.join(",")
            ));
        }
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
        let ha1 = self.ha1(&realm, nonce);
        let response = kd_hex(
            &ha1,
            nonce,
            nc,
            &self.cnonce,
            &format!("AUTHENTICATE:{digest_uri}"),
        );
        self.expected_rspauth = Some(kd_hex(
            &ha1,
            nonce,
            nc,
            &self.cnonce,
            &format!(":{digest_uri}"),
        ));
        let mut out = String::new();
        if utf8 {
            out.push_str("charset=utf-8,");
        }
        out.push_str(&format!(
            "username=\"{}\",realm=\"{}\",nonce=\"{}\",nc={nc},cnonce=\"{}\",digest-uri=\"{}\",\
             maxbuf=65536,response={response},qop=auth",
            quote(&self.username),
            quote(&realm),
            quote(nonce),
            quote(&self.cnonce),
            quote(&digest_uri)
        ));
        Ok(out.into_bytes())
    }

    /// hex(MD5(MD5(user:realm:password) ":" nonce ":" cnonce)).
    fn ha1(&self, realm: &str, nonce: &str) -> String {
        let inner = Md5::digest(format!("{}:{realm}:{}", self.username, self.password));
        let mut a1 = inner.to_vec();
        a1.extend_from_slice(format!(":{nonce}:{}", self.cnonce).as_bytes());
        hex(&Md5::digest(&a1))
    }
}

/// KD(HA1, nonce:nc:cnonce:qop:HEX(H(A2))) in hex, RFC 2831 section 2.1.2.1.
fn kd_hex(ha1: &str, nonce: &str, nc: &str, cnonce: &str, a2: &str) -> String {
    let ha2 = hex(&Md5::digest(a2.as_bytes()));
    hex(&Md5::digest(format!(
        "{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}"
    )))
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
    fn refuses_integrity_and_privacy() {
        let mut d = DigestMd5::with_cnonce("u".into(), "p".into(), "c".into());
        let err = d
            .start(
                "",
                "default",
                Some(b"realm=\"default\",nonce=\"n\",qop=\"auth-conf\",algorithm=md5-sess"),
            )
            .unwrap_err();
        assert!(err.contains("auth-conf"), "{err}");
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
