//! SPNEGO (`Authorization: Negotiate`) for Hadoop's web endpoints (the RM
//! REST API, NodeManager log pages), as Hadoop's `AuthenticationFilter`
//! expects: a Kerberos ticket for `HTTP/<canonical host>` on the first
//! request, then the signed `hadoop.auth` cookie it sets, until it expires.

use std::sync::{Arc, Mutex};

use base64::Engine;

use crate::gss::{self, Credential};
use crate::kerberos;
use crate::{Error, Result};

/// The cookie Hadoop's `AuthenticationFilter` signs and sets.
pub const AUTH_COOKIE: &str = "hadoop.auth";

/// SPNEGO state of one client: the credentials and the last `hadoop.auth` cookie.
#[derive(Debug)]
pub struct Spnego {
    credential: Arc<Credential>,
    cookie: Mutex<Option<String>>,
}

impl Spnego {
    pub fn new(credential: Arc<Credential>) -> Self {
        Spnego {
            credential,
            cookie: Mutex::new(None),
        }
    }

    /// The cookie to send, if the server gave one.
    pub fn cookie(&self) -> Option<String> {
        self.cookie.lock().ok().and_then(|c| c.clone())
    }

    /// The `Authorization` value for a request to `url`: a fresh SPNEGO
    /// token for `HTTP@<canonical host of url>`.
    pub fn authorization(&self, url: &str) -> Result<String> {
        let host = url_host(url).ok_or_else(|| Error::Rest {
            url: url.to_string(),
            reason: "no host in the URL".into(),
        })?;
        let service = format!("HTTP@{}", kerberos::canonical_host(&host));
        let mut ctx = gss::Context::new(
            self.credential.clone(),
            &service,
            gss::Mech::Spnego,
            gss::FLAG_MUTUAL | gss::FLAG_SEQUENCE,
        )
        .map_err(|e| kerberos::explain(&e, None))?;
        let token = ctx.step(None).map_err(|e| kerberos::explain(&e, None))?;
        Ok(format!(
            "Negotiate {}",
            base64::engine::general_purpose::STANDARD.encode(token)
        ))
    }

    /// Keeps the `hadoop.auth` cookie from an answer's `Set-Cookie` headers.
    pub fn remember<'a>(&self, set_cookies: impl Iterator<Item = &'a str>) {
        for header in set_cookies {
            if let Some(v) = auth_cookie_value(header)
                && let Ok(mut c) = self.cookie.lock()
            {
                *c = Some(v);
            }
        }
    }

    /// Drops the cookie (the server refused it: expired or from another RM).
    pub fn forget(&self) {
        if let Ok(mut c) = self.cookie.lock() {
            *c = None;
        }
    }
}

/// The `hadoop.auth` value of a `Set-Cookie` header, if non-empty (a
/// refused request gets an empty one).
fn auth_cookie_value(header: &str) -> Option<String> {
    let first = header.split(';').next()?.trim();
    let (name, value) = first.split_once('=')?;
    if name.trim() != AUTH_COOKIE {
        return None;
    }
    let value = value.trim();
    (!value.is_empty() && value != "\"\"").then(|| value.to_string())
}

fn url_host(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next()?
    } else {
        authority.split(':').next()?
    };
    (!host.is_empty()).then(|| host.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_auth_cookie_is_picked_from_set_cookie() {
        assert_eq!(
            auth_cookie_value(
                "hadoop.auth=\"u=alice&p=alice@EXAMPLE.COM&t=kerberos&e=1&s=x\"; Path=/; HttpOnly"
            )
            .as_deref(),
            Some("\"u=alice&p=alice@EXAMPLE.COM&t=kerberos&e=1&s=x\"")
        );
        assert_eq!(auth_cookie_value("hadoop.auth=; Path=/"), None);
        assert_eq!(auth_cookie_value("hadoop.auth=\"\"; Path=/"), None);
        assert_eq!(auth_cookie_value("JSESSIONID=abc"), None);
    }

    #[test]
    fn hosts_of_urls() {
        assert_eq!(
            url_host("http://rm.example.com:8088/ws/v1").as_deref(),
            Some("rm.example.com")
        );
        assert_eq!(url_host("http://[::1]:8088/").as_deref(), Some("::1"));
        assert_eq!(url_host("localhost:8042").as_deref(), Some("localhost"));
        assert_eq!(url_host("http:///x"), None);
    }
}
