//! SASL GSSAPI (RFC 4752) as Hadoop IPC uses it for `KERBEROS`: the
//! Kerberos context, the check of the server's principal against the
//! configured one, and the security-layer choice (`auth`, `auth-int`,
//! `auth-conf` from `hadoop.rpc.protection`) whose wrap/unwrap then carries
//! every later RPC.

use std::sync::Arc;

use super::{Mechanism, SecurityLayer};
use crate::gss::{self, Context, Credential};
use crate::kerberos::{self, PrincipalName};

/// A SASL quality of protection (`hadoop.rpc.protection`: authentication,
/// integrity, privacy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Qop {
    Auth,
    AuthInt,
    AuthConf,
}

impl Qop {
    /// The RFC 4752 security-layer bit.
    fn bit(self) -> u8 {
        match self {
            Qop::Auth => 1,
            Qop::AuthInt => 2,
            Qop::AuthConf => 4,
        }
    }

    /// Hadoop's name for it.
    pub fn hadoop_name(self) -> &'static str {
        match self {
            Qop::Auth => "authentication",
            Qop::AuthInt => "integrity",
            Qop::AuthConf => "privacy",
        }
    }

    /// Parses `hadoop.rpc.protection` (comma-separated, in preference order).
    pub fn parse_list(value: &str) -> Result<Vec<Qop>, String> {
        let mut out = Vec::new();
        for v in value.split(',').map(str::trim).filter(|v| !v.is_empty()) {
            out.push(match v.to_ascii_lowercase().as_str() {
                "authentication" => Qop::Auth,
                "integrity" => Qop::AuthInt,
                "privacy" => Qop::AuthConf,
                _ => {
                    return Err(format!(
                        "unknown protection {v:?} (authentication, integrity or privacy)"
                    ));
                }
            });
        }
        if out.is_empty() {
            out.push(Qop::Auth);
        }
        Ok(out)
    }
}

/// What the client checks the server's principal against: the configured
/// value of `key` with `_HOST` already resolved for this server.
#[derive(Debug, Clone)]
pub struct ExpectedServer {
    pub key: String,
    pub principal: String,
}

/// The largest wrapped message we accept (what Java's client announces).
const OUR_MAX_BUFFER: u32 = 65536;

/// The client side of SASL GSSAPI for one connection.
pub struct Gssapi {
    credential: Arc<Credential>,
    expected: Option<ExpectedServer>,
    qops: Vec<Qop>,
    context: Option<Context>,
    negotiated: Option<(Qop, u32)>,
}

impl Gssapi {
    /// `qops` in preference order; `expected` from the protocol's principal key.
    pub fn new(
        credential: Arc<Credential>,
        expected: Option<ExpectedServer>,
        qops: Vec<Qop>,
    ) -> Self {
        Gssapi {
            credential,
            expected,
            qops,
            context: None,
            negotiated: None,
        }
    }

    /// The protection agreed on, once negotiated.
    pub fn qop(&self) -> Option<Qop> {
        self.negotiated.map(|(q, _)| q)
    }

    fn check_server(&self, protocol: &str, server_id: &str) -> Result<(), String> {
        let Some(expected) = &self.expected else {
            return Ok(());
        };
        let want = PrincipalName::parse(&expected.principal).map_err(|e| e.to_string())?;
        if want.host.is_none() {
            return Err(format!(
                "{} = {} has no host part (service/host@REALM)",
                expected.key, expected.principal
            ));
        }
        let realm = kerberos::default_realm();
        let realm_ok = match &want.realm {
            Some(r) => realm.is_empty() || *r == realm,
            None => true,
        };
        if want.service != protocol || want.host.as_deref() != Some(server_id) || !realm_ok {
            let shown = if realm.is_empty() {
                format!("{protocol}/{server_id}")
            } else {
                format!("{protocol}/{server_id}@{realm}")
            };
            return Err(format!(
                "the server's Kerberos principal is {shown}, but {} expects {}: \
                 check {} (and _HOST, which stands for the server's canonical host name)",
                expected.key, expected.principal, expected.key
            ));
        }
        Ok(())
    }

    fn layer_offer(&mut self, challenge: &[u8]) -> Result<Vec<u8>, String> {
        let ctx = self.context.as_mut().ok_or("no context")?;
        let (offer, _) = ctx.unwrap(challenge).map_err(|e| e.to_string())?;
        if offer.len() != 4 {
            return Err(format!(
                "malformed GSSAPI security-layer offer ({} bytes, expected 4)",
                offer.len()
            ));
        }
        let mask = offer[0];
        let server_max = u32::from_be_bytes([0, offer[1], offer[2], offer[3]]);
        let Some(qop) = self.qops.iter().copied().find(|q| mask & q.bit() != 0) else {
            let offered: Vec<&str> = [Qop::Auth, Qop::AuthInt, Qop::AuthConf]
                .into_iter()
                .filter(|q| mask & q.bit() != 0)
                .map(Qop::hadoop_name)
                .collect();
            let ours: Vec<&str> = self.qops.iter().map(|q| q.hadoop_name()).collect();
            return Err(format!(
                "no common RPC protection: the server offers {}, the client allows {} \
                 (hadoop.rpc.protection)",
                offered.join(","),
                ours.join(",")
            ));
        };
        let max_send = if qop == Qop::Auth {
            0
        } else {
            ctx.wrap_size_limit(qop == Qop::AuthConf, server_max.max(1024))
                .map_err(|e| e.to_string())?
        };
        let mut reply = vec![qop.bit()];
        reply.extend_from_slice(&OUR_MAX_BUFFER.to_be_bytes()[1..]);
        // No authorization id: Hadoop's client sends none for KERBEROS.
        let wrapped = ctx.wrap(false, &reply).map_err(|e| e.to_string())?;
        self.negotiated = Some((qop, max_send));
        Ok(wrapped)
    }
}

impl Mechanism for Gssapi {
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
    ) -> Result<Vec<u8>, String> {
        self.check_server(protocol, server_id)?;
        let flags = gss::FLAG_MUTUAL
            | gss::FLAG_REPLAY
            | gss::FLAG_SEQUENCE
            | gss::FLAG_CONF
            | gss::FLAG_INTEG;
        let mut ctx = Context::new(
            self.credential.clone(),
            &format!("{protocol}@{server_id}"),
            gss::Mech::Krb5,
            flags,
        )
        .map_err(|e| kerberos::explain(&e, None).to_string())?;
        let token = ctx
            .step(challenge.filter(|c| !c.is_empty()))
            .map_err(|e| kerberos::explain(&e, None).to_string())?;
        self.context = Some(ctx);
        Ok(token)
    }

    fn step(&mut self, challenge: &[u8]) -> Result<Vec<u8>, String> {
        let ctx = self
            .context
            .as_mut()
            .ok_or("GSSAPI challenge before the context started")?;
        if !ctx.is_complete() {
            return ctx
                .step(Some(challenge))
                .map_err(|e| kerberos::explain(&e, None).to_string());
        }
        if self.negotiated.is_some() {
            return Err("GSSAPI challenge after the security layer was agreed".into());
        }
        self.layer_offer(challenge)
    }

    fn finish(&mut self, data: Option<&[u8]>) -> Result<(), String> {
        if self.negotiated.is_none() {
            return Err("the server reported success before the GSSAPI exchange finished".into());
        }
        if data.is_some_and(|d| !d.is_empty()) {
            return Err("unexpected data with the GSSAPI SUCCESS".into());
        }
        Ok(())
    }

    fn security_layer(&mut self) -> Option<Box<dyn SecurityLayer>> {
        let (qop, max_send) = self.negotiated?;
        if qop == Qop::Auth {
            return None;
        }
        let context = self.context.take()?;
        Some(Box::new(GssLayer {
            context,
            conf: qop == Qop::AuthConf,
            max_send: max_send as usize,
        }))
    }
}

/// The negotiated `auth-int`/`auth-conf` layer over the established context.
struct GssLayer {
    context: Context,
    conf: bool,
    max_send: usize,
}

impl SecurityLayer for GssLayer {
    fn wrap(&mut self, data: &[u8]) -> Result<Vec<u8>, String> {
        self.context
            .wrap(self.conf, data)
            .map_err(|e| e.to_string())
    }

    fn unwrap(&mut self, token: &[u8]) -> Result<Vec<u8>, String> {
        let (data, encrypted) = self.context.unwrap(token).map_err(|e| e.to_string())?;
        if self.conf && !encrypted {
            return Err("the server sent an unencrypted message on a privacy connection".into());
        }
        Ok(data)
    }

    fn max_chunk(&self) -> usize {
        self.max_send.max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protection_list_keeps_preference_order() {
        assert_eq!(
            Qop::parse_list("privacy, authentication").unwrap(),
            vec![Qop::AuthConf, Qop::Auth]
        );
        assert_eq!(Qop::parse_list("").unwrap(), vec![Qop::Auth]);
        assert!(Qop::parse_list("secret").unwrap_err().contains("secret"));
    }
}
