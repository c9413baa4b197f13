//! Which certificate authorities Spindle's HTTP clients trust when a cluster's web endpoints
//! speak HTTPS (`yarn.http.policy=HTTPS_ONLY`): the RM's REST API and proxy, the NodeManagers'.
//!
//! Hadoop's own clients read a Java trust store named by `ssl-client.xml`; Spindle reads PEM.
//! The CAs come from the first of: a PEM file the user names (`spindle.ssl.ca`), the trust
//! store of the `ssl-client.xml` beside the site files when it is PEM, the system's CA bundle.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::config::Configuration;
use crate::{Error, Result};

/// The system CA bundles of the Linux distributions users run (Debian/Ubuntu, RHEL/Fedora,
/// SUSE), in that order.
const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
];

/// The CAs an HTTPS client trusts, and where they came from (for error messages).
#[derive(Clone, Debug)]
pub struct HttpsTrust {
    config: Arc<rustls::ClientConfig>,
    source: String,
}

impl HttpsTrust {
    /// The CAs of `ca` (a PEM file) if given, else of `ssl-client.xml` beside `conf`'s site
    /// files if its trust store is PEM, else the system's bundle (none at all if the system has
    /// none: then every HTTPS endpoint is refused, with that said).
    pub fn load(conf: &Configuration, ca: Option<&Path>) -> Result<Self> {
        if let Some(ca) = ca {
            return Self::from_pem(ca, "spindle.ssl.ca");
        }
        if let Some(store) = ssl_client_trust_store(conf)? {
            let head = std::fs::read(&store).map_err(|e| Error::Io {
                context: format!(
                    "reading the trust store {} (ssl-client.xml)",
                    store.display()
                ),
                source: e,
            })?;
            if head.starts_with(b"-----BEGIN") {
                return Self::from_pem(&store, "ssl-client.xml");
            }
            // A Java key store (JKS, PKCS#12): not for us; the system bundle may still do.
        }
        Self::system()
    }

    /// The system's CA bundle.
    pub fn system() -> Result<Self> {
        match SYSTEM_BUNDLES.iter().map(Path::new).find(|p| p.is_file()) {
            Some(p) => Self::from_pem(p, "the system's CA bundle"),
            None => Self::with_roots(
                rustls::RootCertStore::empty(),
                "no CA (none configured, no system bundle)".into(),
            ),
        }
    }

    /// The certificates of a PEM file; `what` says who named it.
    fn from_pem(path: &Path, what: &str) -> Result<Self> {
        let bad = |reason: String| Error::Config {
            file: path.display().to_string(),
            key: what.to_string(),
            reason,
        };
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
            .map_err(|e| bad(format!("cannot read it as PEM: {e}")))?
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| bad(format!("not PEM certificates: {e}")))?;
        if certs.is_empty() {
            return Err(bad(
                "holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into(),
            ));
        }
        let mut roots = rustls::RootCertStore::empty();
        let (_, rejected) = roots.add_parsable_certificates(certs);
        if roots.is_empty() {
            return Err(bad(format!(
                "none of its {rejected} certificates is usable as a CA"
            )));
        }
        Self::with_roots(roots, format!("{what} {}", path.display()))
    }

    fn with_roots(roots: rustls::RootCertStore, source: String) -> Result<Self> {
        let config = rustls::ClientConfig::builder_with_provider(crypto_provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::Config {
                file: "(TLS)".into(),
                key: "protocol versions".into(),
                reason: e.to_string(),
            })?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Self {
            config: Arc::new(config),
            source,
        })
    }

    /// Where the trusted CAs came from, e.g. `spindle.ssl.ca /etc/cluster/ca.pem`.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// A `reqwest` client builder that trusts these CAs (the one way Spindle builds HTTP clients
    /// for Hadoop's endpoints).
    pub fn client_builder(&self) -> reqwest::ClientBuilder {
        reqwest::Client::builder().use_preconfigured_tls(self.config.as_ref().clone())
    }

    /// Says what went wrong with a request in one line, naming TLS problems as such: a server
    /// certificate from an unknown CA says which CAs were trusted and how to add the right one.
    pub fn explain(&self, e: &reqwest::Error) -> String {
        let chain = error_chain(e);
        // rustls's certificate errors reach us as text inside an io::Error whose inner error is
        // not a rustls::Error value (tokio-rustls wraps it), so they are recognized by rustls's
        // own wording.
        match chain.split_once("invalid peer certificate: ") {
            Some((_, why)) => format!(
                "the server's TLS certificate is not trusted ({why}; trusted CAs: {}); give the \
                 cluster's CA certificate as PEM with --conf spindle.ssl.ca=FILE or \
                 SPINDLE_SSL_CA=FILE",
                self.source
            ),
            None => chain,
        }
    }
}

/// The workspace's one TLS crypto provider: ring (aws-lc builds far slower on small machines),
/// for Spindle's own channels and HTTPS to Hadoop alike.
pub fn crypto_provider() -> Arc<rustls::crypto::CryptoProvider> {
    // Deprecated only for lacking post-quantum key exchange.
    #[allow(deprecated)]
    Arc::new(rustls::crypto::ring::default_provider())
}

/// An error with its causes on one line (the cause says "connection refused").
pub(crate) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let cs = c.to_string();
        if !s.contains(&cs) {
            s.push_str(": ");
            s.push_str(&cs);
        }
        cur = c.source();
    }
    s
}

/// The trust store file named by the `ssl-client.xml` in the directory of `conf`'s site files
/// (`hadoop.ssl.client.conf` names another file name there), if any.
fn ssl_client_trust_store(conf: &Configuration) -> Result<Option<PathBuf>> {
    let name = conf.get_or("hadoop.ssl.client.conf", "ssl-client.xml")?;
    let Some(dir) = conf.files().iter().find_map(|f| f.parent()) else {
        return Ok(None);
    };
    let file = dir.join(name);
    if !file.is_file() {
        return Ok(None);
    }
    let mut ssl = Configuration::new();
    ssl.add_file(&file)?;
    Ok(ssl
        .get_trimmed("ssl.client.truststore.location")?
        .map(PathBuf::from))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOT_A_CERT: &str = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";

    #[test]
    fn a_pem_without_certificates_is_refused_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("ca.pem");
        std::fs::write(&f, "just text\n").unwrap();
        let e = HttpsTrust::load(&Configuration::new(), Some(&f))
            .unwrap_err()
            .to_string();
        assert!(e.contains("ca.pem") && e.contains("spindle.ssl.ca"), "{e}");
        assert!(e.contains("no PEM certificate"), "{e}");
        std::fs::write(&f, NOT_A_CERT).unwrap();
        let e = HttpsTrust::load(&Configuration::new(), Some(&f))
            .unwrap_err()
            .to_string();
        assert!(e.contains("usable as a CA"), "{e}");
    }

    /// A server with a certificate of an unknown CA (`openssl s_server`, when installed).
    #[tokio::test]
    async fn a_certificate_of_an_unknown_ca_is_explained() {
        let dir = tempfile::tempdir().unwrap();
        let (key, cert) = (dir.path().join("k.pem"), dir.path().join("c.pem"));
        let made = std::process::Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            ])
            .args(["-subj", "/CN=localhost", "-keyout"])
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .output();
        if !made.is_ok_and(|o| o.status.success()) {
            eprintln!("no openssl: skipped");
            return;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut server = std::process::Command::new("openssl")
            .args(["s_server", "-www", "-accept", &port.to_string(), "-key"])
            .arg(&key)
            .arg("-cert")
            .arg(&cert)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let trust = HttpsTrust::system().unwrap();
        let http = trust.client_builder().build().unwrap();
        let url = format!("https://localhost:{port}/");
        let mut why = String::new();
        for _ in 0..50 {
            match http.get(&url).send().await {
                Err(e) if e.is_connect() && !error_chain(&e).contains("certificate") => {
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await
                }
                Err(e) => {
                    why = trust.explain(&e);
                    break;
                }
                Ok(r) => panic!("an untrusted server was accepted: {}", r.status()),
            }
        }
        let _ = server.kill();
        let _ = server.wait();
        assert!(why.contains("not trusted"), "{why}");
        assert!(
            why.contains("spindle.ssl.ca") && why.contains("system"),
            "{why}"
        );
    }

    #[test]
    fn ssl_client_xml_beside_the_site_files_names_the_trust_store() {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path().join("core-site.xml");
        std::fs::write(&site, "<configuration/>").unwrap();
        std::fs::write(
            dir.path().join("ssl-client.xml"),
            "<configuration><property><name>ssl.client.truststore.location</name>\
             <value>/etc/ca.jks</value></property></configuration>",
        )
        .unwrap();
        let conf = Configuration::load_dir(dir.path()).unwrap();
        assert_eq!(
            ssl_client_trust_store(&conf).unwrap(),
            Some(PathBuf::from("/etc/ca.jks"))
        );
        // A missing Java trust store is an error that names it.
        let e = HttpsTrust::load(&conf, None).unwrap_err().to_string();
        assert!(e.contains("/etc/ca.jks"), "{e}");
    }
}
