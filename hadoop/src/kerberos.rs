//! Kerberos as a Hadoop client sees it: the login (ticket cache or keytab),
//! the user's short name from `hadoop.security.auth_to_local`, server
//! principals with `_HOST` resolved as Hadoop does, and failures turned into
//! one line that names the cause and the fix.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::Configuration;
use crate::gss::{self, Credential, GssError};
use crate::{Error, Result};

/// A logged-in Kerberos user: credentials plus the names Hadoop derives.
#[derive(Debug, Clone)]
pub struct Login {
    pub credential: Arc<Credential>,
    /// `alice@EXAMPLE.COM`.
    pub principal: String,
    /// The short name from `auth_to_local` (`alice`): HDFS owner, staging dir.
    pub short_name: String,
    /// The keytab, when the login came from one (containers never get it).
    pub keytab: Option<PathBuf>,
}

impl Login {
    /// Logs in from the ticket cache (`kinit`, `KRB5CCNAME`).
    pub fn from_ticket_cache(conf: &Configuration) -> Result<Self> {
        let credential = Credential::from_ticket_cache().map_err(|e| explain(&e, None))?;
        if credential.lifetime == 0 {
            return Err(Error::Kerberos {
                reason: format!(
                    "the Kerberos ticket of {} has expired: run `kinit` again, or submit with \
                     --principal/--keytab",
                    credential.principal()
                ),
            });
        }
        Self::finish(conf, credential, None)
    }

    /// Logs in as `principal` from `keytab` (`--principal P --keytab F`).
    pub fn from_keytab(conf: &Configuration, principal: &str, keytab: &Path) -> Result<Self> {
        if !keytab.is_file() {
            return Err(Error::Kerberos {
                reason: format!(
                    "the keytab {} does not exist or is not a file: check --keytab",
                    keytab.display()
                ),
            });
        }
        if let Err(e) = std::fs::File::open(keytab) {
            return Err(Error::Kerberos {
                reason: format!("the keytab {} cannot be read: {e}", keytab.display()),
            });
        }
        let credential =
            Credential::from_keytab(principal, keytab).map_err(|e| explain(&e, Some(keytab)))?;
        Self::finish(conf, credential, Some(keytab.to_path_buf()))
    }

    fn finish(
        conf: &Configuration,
        credential: Arc<Credential>,
        keytab: Option<PathBuf>,
    ) -> Result<Self> {
        let principal = credential.principal().to_string();
        let rules = AuthToLocal::from_conf(conf)?;
        let short_name = rules.short_name(&principal, &default_realm())?;
        Ok(Login {
            credential,
            principal,
            short_name,
            keytab,
        })
    }

    /// Proves the login works by getting a service ticket for
    /// `service@host` (mutual authentication is not needed for that): a
    /// wrong realm, an unknown principal or clock skew fail here, in seconds.
    pub fn check_service(&self, service_at_host: &str) -> Result<()> {
        let mut ctx = gss::Context::new(
            self.credential.clone(),
            service_at_host,
            gss::Mech::Krb5,
            gss::FLAG_MUTUAL,
        )
        .map_err(|e| explain(&e, self.keytab.as_deref()))?;
        ctx.step(None)
            .map(|_| ())
            .map_err(|e| explain(&e, self.keytab.as_deref()))
    }
}

/// Whether the cluster's configuration asks for Kerberos
/// (`hadoop.security.authentication=kerberos`).
pub fn is_kerberos(conf: &Configuration) -> Result<bool> {
    Ok(conf
        .get_trimmed("hadoop.security.authentication")?
        .is_some_and(|a| a.eq_ignore_ascii_case("kerberos")))
}

/// The one-line reason for a GSSAPI failure, with what to do about it.
pub fn explain(e: &GssError, keytab: Option<&Path>) -> Error {
    let reason = describe(e, keytab);
    Error::Kerberos { reason }
}

// MIT krb5 error codes (krb5_err.et, base -1765328384) seen as GSSAPI minor statuses.
const KRB5_BASE: i64 = -1765328384;
fn krb5_code(offset: i64) -> u32 {
    (KRB5_BASE + offset) as i32 as u32
}

fn describe(e: &GssError, keytab: Option<&Path>) -> String {
    let lib = &e.message;
    let low = lib.to_ascii_lowercase();
    let minor = e.minor;
    let cause_fix: Option<String> = if e.major == 0 && e.minor == 0 {
        // Not from the library itself (e.g. it could not be loaded).
        None
    } else if minor == krb5_code(37) || low.contains("clock skew") {
        Some(
            "this machine's clock differs from the KDC's by more than the allowed skew \
              (usually 5 minutes): synchronise the clock (NTP)"
                .into(),
        )
    } else if minor == krb5_code(32)
        || e.major & 0xffff_0000 == gss::S_CREDENTIALS_EXPIRED
        || low.contains("expired")
    {
        Some(match keytab {
            Some(_) => "the Kerberos ticket has expired: check the keytab and the clock".into(),
            None => "the Kerberos ticket has expired: run `kinit` again, or submit with \
                     --principal/--keytab"
                .into(),
        })
    } else if minor == krb5_code(6) || low.contains("client not found") {
        Some(
            "the client principal is unknown to the KDC: check the principal name and its \
             realm (--principal, or the one given to `kinit`)"
                .into(),
        )
    } else if minor == krb5_code(7) || low.contains("server not found") {
        Some(
            "the KDC does not know the server's principal: check the cluster's principal \
             settings and that the host name the client uses is the one in the principal \
             (krb5.conf `rdns`/`dns_canonicalize_hostname`)"
                .into(),
        )
    } else if low.contains("cannot find kdc")
        || low.contains("cannot contact any kdc")
        || low.contains("cannot resolve network address for kdc")
        || low.contains("realm")
    {
        Some(
            "the realm's KDC cannot be found or reached: check the realm of the principal and \
             the [realms] section of krb5.conf (KRB5_CONFIG)"
                .into(),
        )
    } else if low.contains("key table entry not found")
        || low.contains("no key table entry")
        || low.contains("keytab")
        || (keytab.is_some() && e.major & 0xffff_0000 == gss::S_NO_CRED)
    {
        Some(match keytab {
            Some(k) => format!(
                "the keytab {} holds no key for this principal: check --principal (`klist -kt {}` lists its principals)",
                k.display(),
                k.display()
            ),
            None => "no key for this principal: check --principal/--keytab".into(),
        })
    } else if e.major & 0xffff_0000 == gss::S_NO_CRED
        || low.contains("no kerberos credentials")
        || low.contains("no credentials cache")
        || low.contains("credentials cache file")
        || low.contains("matching credential not found")
    {
        Some(
            "no Kerberos ticket: run `kinit <principal>` (or `kinit -kt <keytab> <principal>`), \
             or submit with --principal/--keytab"
                .into(),
        )
    } else if low.contains("decrypt integrity check failed")
        || low.contains("preauthentication failed")
    {
        Some(match keytab {
            Some(k) => format!(
                "the KDC rejected the key in {}: the keytab is out of date (re-export it)",
                k.display()
            ),
            None => "the KDC rejected the password or key: run `kinit` again".into(),
        })
    } else {
        None
    };
    match cause_fix {
        Some(cf) => format!("{cf} ({}: {lib})", e.what),
        None => e.to_string(),
    }
}

/// The default realm of the Kerberos configuration (`KRB5_CONFIG`, else
/// `/etc/krb5.conf`): `[libdefaults] default_realm`. Empty when unknown.
pub fn default_realm() -> String {
    let paths: Vec<PathBuf> = match std::env::var_os("KRB5_CONFIG") {
        Some(v) => std::env::split_paths(&v).collect(),
        None => vec![PathBuf::from("/etc/krb5.conf")],
    };
    for p in paths {
        if let Ok(text) = std::fs::read_to_string(&p)
            && let Some(realm) = realm_in_krb5_conf(&text)
        {
            return realm;
        }
    }
    String::new()
}

fn realm_in_krb5_conf(text: &str) -> Option<String> {
    let mut section = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            section = line.trim_matches(['[', ']']).trim().to_string();
        } else if section == "libdefaults"
            && let Some((k, v)) = line.split_once('=')
            && k.trim() == "default_realm"
        {
            return Some(v.trim().to_string());
        }
    }
    None
}

/// A Kerberos principal split as Hadoop's `KerberosName`:
/// `service[/host][@REALM]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalName {
    pub service: String,
    pub host: Option<String>,
    pub realm: Option<String>,
}

impl PrincipalName {
    pub fn parse(text: &str) -> Result<Self> {
        let bad = || Error::Kerberos {
            reason: format!("malformed Kerberos principal name {text:?}"),
        };
        let (rest, realm) = match text.split_once('@') {
            Some((r, realm)) if !realm.contains('@') && !realm.is_empty() => {
                (r, Some(realm.to_string()))
            }
            Some(_) => return Err(bad()),
            None => (text, None),
        };
        let (service, host) = match rest.split_once('/') {
            Some((s, h)) if !h.contains('/') && !h.is_empty() => (s, Some(h.to_string())),
            Some(_) => return Err(bad()),
            None => (rest, None),
        };
        if service.is_empty() {
            return Err(bad());
        }
        Ok(PrincipalName {
            service: service.to_string(),
            host,
            realm,
        })
    }
}

/// Hadoop's `SecurityUtil.getServerPrincipal`: a `_HOST` host part becomes
/// the lower-cased canonical name of the server's host.
pub fn resolve_host_pattern(principal: &str, server_host: &str) -> String {
    match principal.split_once('/') {
        Some((service, rest)) => {
            let (host, realm) = match rest.split_once('@') {
                Some((h, r)) => (h, Some(r)),
                None => (rest, None),
            };
            if host != "_HOST" {
                return principal.to_string();
            }
            let host = canonical_host(server_host);
            match realm {
                Some(r) => format!("{service}/{host}@{r}"),
                None => format!("{service}/{host}"),
            }
        }
        None => principal.to_string(),
    }
}

/// The canonical, lower-cased name of `host` as Java's
/// `InetAddress.getCanonicalHostName` gives it: the reverse lookup of its
/// first address, falling back to the name itself.
pub fn canonical_host(host: &str) -> String {
    use std::net::ToSocketAddrs;
    let addr = (host, 0).to_socket_addrs().ok().and_then(|mut a| a.next());
    let name = addr.and_then(|a| reverse_lookup(a.ip()));
    name.unwrap_or_else(|| host.to_string())
        .to_ascii_lowercase()
}

/// Reverse lookup through `/etc/hosts` (the file Java and glibc consult
/// first); `None` when the address is not listed there.
fn reverse_lookup(ip: std::net::IpAddr) -> Option<String> {
    let hosts = std::fs::read_to_string("/etc/hosts").ok()?;
    hosts.lines().find_map(|line| {
        let line = line.split('#').next()?;
        let mut fields = line.split_whitespace();
        let addr: std::net::IpAddr = fields.next()?.parse().ok()?;
        (addr == ip).then(|| fields.next().map(str::to_string))?
    })
}

/// Hadoop's `hadoop.security.auth_to_local` rules (mechanism `hadoop`):
/// `RULE:[n:fmt](regex)s/pattern/replacement/g` and `DEFAULT`.
#[derive(Debug, Clone)]
pub struct AuthToLocal {
    rules: Vec<Rule>,
    /// `hadoop.security.auth_to_local.mechanism=mit`: an unmatched name stays
    /// whole instead of failing.
    mit: bool,
}

#[derive(Debug, Clone)]
enum Rule {
    Default,
    Rule {
        components: usize,
        format: String,
        matcher: Option<regex::Regex>,
        subst: Option<(regex::Regex, String, bool)>,
        lower: bool,
    },
}

impl AuthToLocal {
    pub fn from_conf(conf: &Configuration) -> Result<Self> {
        let text = conf
            .get("hadoop.security.auth_to_local")?
            .unwrap_or_else(|| "DEFAULT".into());
        let mit = conf
            .get_trimmed("hadoop.security.auth_to_local.mechanism")?
            .is_some_and(|m| m.eq_ignore_ascii_case("mit"));
        Self::parse(&text, mit)
    }

    pub fn parse(text: &str, mit: bool) -> Result<Self> {
        let bad = |why: String| Error::Config {
            file: "core-site.xml".into(),
            key: "hadoop.security.auth_to_local".into(),
            reason: why,
        };
        let re = regex::Regex::new(
            r"^\s*((DEFAULT)|RULE:\[(\d*):([^\]]*)\](\(([^)]*)\))?(s/([^/]*)/([^/]*)/(g)?)?/?(L)?)",
        )
        .map_err(|e| bad(e.to_string()))?;
        let mut rules = Vec::new();
        let mut rest = text.trim();
        while !rest.is_empty() {
            let caps = re
                .captures(rest)
                .ok_or_else(|| bad(format!("invalid rule at {:?}", first_word(rest))))?;
            if caps.get(2).is_some() {
                rules.push(Rule::Default);
            } else {
                let components = caps[3]
                    .parse()
                    .map_err(|_| bad(format!("no component count in {:?}", &caps[0])))?;
                let anchored = |p: &str| {
                    regex::Regex::new(&format!("^(?:{p})$"))
                        .map_err(|e| bad(format!("regex {p:?}: {e}")))
                };
                let matcher = caps.get(6).map(|m| anchored(m.as_str())).transpose()?;
                let subst = match caps.get(8) {
                    Some(from) => Some((
                        regex::Regex::new(from.as_str())
                            .map_err(|e| bad(format!("regex {:?}: {e}", from.as_str())))?,
                        java_replacement(caps.get(9).map_or("", |m| m.as_str())),
                        caps.get(10).is_some(),
                    )),
                    None => None,
                };
                rules.push(Rule::Rule {
                    components,
                    format: caps[4].to_string(),
                    matcher,
                    subst,
                    lower: caps.get(11).is_some(),
                });
            }
            rest = rest[caps[0].len()..].trim_start();
        }
        Ok(AuthToLocal { rules, mit })
    }

    /// The short name of `principal` under these rules, `default_realm`
    /// being the realm of the Kerberos configuration.
    pub fn short_name(&self, principal: &str, default_realm: &str) -> Result<String> {
        let name = PrincipalName::parse(principal)?;
        let Some(realm) = name.realm.clone() else {
            // Hadoop returns a realm-less name unchanged.
            return Ok(principal.to_string());
        };
        let mut params = vec![realm.clone(), name.service.clone()];
        if let Some(h) = &name.host {
            params.push(h.clone());
        }
        for rule in &self.rules {
            let result = match rule {
                Rule::Default => (realm == default_realm).then(|| name.service.clone()),
                Rule::Rule {
                    components,
                    format,
                    matcher,
                    subst,
                    lower,
                } => {
                    if params.len() - 1 != *components {
                        continue;
                    }
                    let base = substitute_params(format, &params);
                    if matcher.as_ref().is_some_and(|m| !m.is_match(&base)) {
                        continue;
                    }
                    let out = match subst {
                        Some((from, to, true)) => from.replace_all(&base, to.as_str()).into_owned(),
                        Some((from, to, false)) => from.replace(&base, to.as_str()).into_owned(),
                        None => base,
                    };
                    if out.contains('@') || out.contains('/') {
                        return Err(Error::Kerberos {
                            reason: format!(
                                "hadoop.security.auth_to_local maps {principal} to {out:?}, \
                                 which is not a simple user name"
                            ),
                        });
                    }
                    Some(if *lower { out.to_lowercase() } else { out })
                }
            };
            if let Some(r) = result {
                return Ok(r);
            }
        }
        if self.mit {
            return Ok(principal.to_string());
        }
        Err(Error::Kerberos {
            reason: format!(
                "no hadoop.security.auth_to_local rule maps {principal} to a user name \
                 (the default realm is {default_realm:?}): add a rule for its realm, or fix \
                 default_realm in krb5.conf"
            ),
        })
    }
}

fn first_word(s: &str) -> &str {
    s.split_whitespace().next().unwrap_or(s)
}

/// `$0` is the realm, `$1`, `$2` the principal's components.
fn substitute_params(format: &str, params: &[String]) -> String {
    let mut out = String::new();
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$'
            && let Some(d) = chars.peek().and_then(|d| d.to_digit(10))
            && (d as usize) < params.len()
        {
            chars.next();
            out.push_str(&params[d as usize]);
        } else {
            out.push(c);
        }
    }
    out
}

/// Java's replacement syntax (`$1`) in the `regex` crate's (`${1}`).
fn java_replacement(to: &str) -> String {
    let mut out = String::new();
    let mut chars = to.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '$' if chars.peek().is_some_and(|d| d.is_ascii_digit()) => {
                let d = chars.next().unwrap_or('0');
                out.push_str(&format!("${{{d}}}"));
            }
            '$' => out.push_str("$$"),
            '\\' => {
                if let Some(n) = chars.next() {
                    if n == '$' {
                        out.push_str("$$");
                    } else {
                        out.push(n);
                    }
                }
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(text: &str) -> AuthToLocal {
        AuthToLocal::parse(text, false).unwrap()
    }

    #[test]
    fn default_rule_strips_the_default_realm_only() {
        let r = rules("DEFAULT");
        assert_eq!(
            r.short_name("alice@EXAMPLE.COM", "EXAMPLE.COM").unwrap(),
            "alice"
        );
        assert_eq!(
            r.short_name("nn/host1@EXAMPLE.COM", "EXAMPLE.COM").unwrap(),
            "nn"
        );
        let e = r
            .short_name("alice@OTHER.ORG", "EXAMPLE.COM")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("auth_to_local") && e.contains("alice@OTHER.ORG"),
            "{e}"
        );
        // The MIT mechanism keeps the whole name instead.
        let mit = AuthToLocal::parse("DEFAULT", true).unwrap();
        assert_eq!(
            mit.short_name("alice@OTHER.ORG", "EXAMPLE.COM").unwrap(),
            "alice@OTHER.ORG"
        );
    }

    #[test]
    fn hadoop_rules_as_in_its_documentation() {
        let r = rules(
            "RULE:[1:$1@$0](.*@FOO.COM)s/@.*//
             RULE:[2:$1](nn|dn)s/.*/hdfs/
             RULE:[2:$1@$0](rm@.*EXAMPLE.COM)s/.*/yarn/
             RULE:[1:$1]/L
             DEFAULT",
        );
        assert_eq!(r.short_name("bob@FOO.COM", "EXAMPLE.COM").unwrap(), "bob");
        assert_eq!(
            r.short_name("nn/h1@EXAMPLE.COM", "EXAMPLE.COM").unwrap(),
            "hdfs"
        );
        assert_eq!(
            r.short_name("dn/h2@ELSEWHERE", "EXAMPLE.COM").unwrap(),
            "hdfs"
        );
        assert_eq!(
            r.short_name("rm/h@EXAMPLE.COM", "EXAMPLE.COM").unwrap(),
            "yarn"
        );
        assert_eq!(
            r.short_name("Carol@ANY.ORG", "EXAMPLE.COM").unwrap(),
            "carol"
        );
        assert_eq!(
            r.short_name("HTTP/h@EXAMPLE.COM", "EXAMPLE.COM").unwrap(),
            "HTTP"
        );
    }

    #[test]
    fn flink_style_rules_and_replacement_groups() {
        let r = rules("RULE:[1:$1] RULE:[2:$1]");
        assert_eq!(r.short_name("alice@X.Y", "").unwrap(), "alice");
        assert_eq!(r.short_name("nm/localhost@X.Y", "").unwrap(), "nm");
        let g = rules("RULE:[1:$1@$0](.*)s/(.*)@(.*)/$2-$1/g");
        assert_eq!(g.short_name("a@R", "").unwrap(), "R-a");
        let slash = rules("RULE:[1:$1/$0]");
        assert!(slash.short_name("a@R", "").is_err());
    }

    #[test]
    fn bad_rules_name_the_key() {
        let e = AuthToLocal::parse("RULE:[x:$1]", false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("hadoop.security.auth_to_local"), "{e}");
        let e = AuthToLocal::parse("NONSENSE", false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("NONSENSE"), "{e}");
    }

    #[test]
    fn host_pattern_is_resolved_only_in_the_host_part() {
        assert_eq!(
            resolve_host_pattern("rm/_HOST@EXAMPLE.COM", "LOCALHOST"),
            format!("rm/{}@EXAMPLE.COM", canonical_host("localhost"))
        );
        assert_eq!(resolve_host_pattern("rm/h1@R", "h2"), "rm/h1@R");
        assert_eq!(resolve_host_pattern("rm@R", "h2"), "rm@R");
        assert_eq!(
            canonical_host("Some.Unknown.Host.invalid"),
            "some.unknown.host.invalid"
        );
    }

    #[test]
    fn principal_names_split_like_hadoop() {
        let p = PrincipalName::parse("nn/h1.example.com@EXAMPLE.COM").unwrap();
        assert_eq!(p.service, "nn");
        assert_eq!(p.host.as_deref(), Some("h1.example.com"));
        assert_eq!(p.realm.as_deref(), Some("EXAMPLE.COM"));
        assert!(PrincipalName::parse("a/b/c@R").is_err());
        assert!(PrincipalName::parse("@R").is_err());
    }

    #[test]
    fn krb5_conf_realm() {
        let text =
            "[libdefaults]\n  dns_lookup_kdc = false\n  default_realm = EXAMPLE.COM\n[realms]\n";
        assert_eq!(realm_in_krb5_conf(text).as_deref(), Some("EXAMPLE.COM"));
        assert_eq!(realm_in_krb5_conf("[realms]\n default_realm = X\n"), None);
    }

    #[test]
    fn library_failures_become_one_actionable_line() {
        let err = |major, minor, message: &str| GssError {
            what: "Kerberos authentication to rm@host".into(),
            major,
            minor,
            message: message.into(),
        };
        let skew = describe(&err(0xd0000, krb5_code(37), "Clock skew too great"), None);
        assert!(skew.contains("clock") && skew.contains("NTP"), "{skew}");
        let none = describe(
            &err(
                gss::S_NO_CRED,
                0x96c73a8d_u32,
                "No Kerberos credentials available (default cache: FILE:/tmp/x)",
            ),
            None,
        );
        assert!(
            none.contains("kinit") && none.contains("--principal/--keytab"),
            "{none}"
        );
        let expired = describe(
            &err(
                gss::S_CREDENTIALS_EXPIRED,
                0,
                "The referenced credential has expired",
            ),
            None,
        );
        assert!(
            expired.contains("expired") && expired.contains("kinit"),
            "{expired}"
        );
        let realm = describe(
            &err(0xd0000, 0, "Cannot find KDC for realm \"NOPE.ORG\""),
            None,
        );
        assert!(realm.contains("krb5.conf"), "{realm}");
        for line in [skew, none, expired, realm] {
            assert!(!line.contains('\n'), "{line}");
        }
    }
}
