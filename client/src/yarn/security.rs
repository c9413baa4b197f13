//! Kerberos for `spindle submit|status|kill|logs`: who logs in and how, and
//! the HDFS delegation tokens a submission hands to its containers (which
//! never see a keytab or a ticket cache).

use std::path::{Path, PathBuf};

use spindle_hadoop::config::Configuration;
use spindle_hadoop::credentials::Credentials;
use spindle_hadoop::delegation;
use spindle_hadoop::ipc::{Auth, KerberosAuth};
use spindle_hadoop::kerberos::{self, Login};

use crate::Error;

/// How the user asked to log in (`--principal/--keytab`, `--proxy-user`).
#[derive(Debug, Clone, Default)]
pub struct LoginRequest {
    pub principal: Option<String>,
    pub keytab: Option<PathBuf>,
    pub proxy_user: Option<String>,
}

/// A Kerberos user of the cluster.
#[derive(Debug, Clone)]
pub struct KerberosUser {
    pub login: Login,
    /// Acting for this user (`--proxy-user`).
    pub proxy_user: Option<String>,
}

impl KerberosUser {
    /// Whom applications run as: the proxied user, else the login's short name.
    pub fn user(&self) -> &str {
        self.proxy_user.as_deref().unwrap_or(&self.login.short_name)
    }

    /// The staging client's login.
    pub fn hdfs_login(&self) -> spindle_contract::staging::HdfsLogin<'_> {
        spindle_contract::staging::HdfsLogin {
            principal: &self.login.principal,
            keytab: self.login.keytab.as_deref(),
            proxy_user: self.proxy_user.as_deref(),
        }
    }

    /// Kerberos IPC to the server whose principal `conf` names under `key`.
    pub fn ipc_auth(&self, conf: &Configuration, key: &str) -> Result<Auth, Error> {
        Ok(Auth::Kerberos(KerberosAuth::from_conf(
            conf,
            self.login.clone(),
            key,
            self.proxy_user.clone(),
        )?))
    }
}

/// Logs in when the cluster is Kerberized; `None` on a simple-auth cluster.
/// Flags that make no sense for the cluster are one-line errors.
pub fn login(
    conf: &Configuration,
    conf_dir: &Path,
    request: &LoginRequest,
) -> Result<Option<KerberosUser>, Error> {
    let kerberized = kerberos::is_kerberos(conf)?;
    if !kerberized {
        if request.principal.is_some() || request.keytab.is_some() {
            return Err(Error::Usage(format!(
                "--principal/--keytab given, but {} says hadoop.security.authentication=simple: \
                 the cluster does not use Kerberos (drop the flags, or point HADOOP_CONF_DIR at \
                 the Kerberized cluster's configuration)",
                conf_dir.join("core-site.xml").display()
            )));
        }
        return Ok(None);
    }
    let login = match (&request.principal, &request.keytab) {
        (Some(p), Some(k)) => Login::from_keytab(conf, p, k)?,
        (None, None) => Login::from_ticket_cache(conf)?,
        _ => {
            return Err(Error::Usage("--principal and --keytab go together".into()));
        }
    };
    let user = KerberosUser {
        login,
        proxy_user: request.proxy_user.clone(),
    };
    // A wrong realm, an unknown principal or a skewed clock show here, in
    // seconds, rather than as a failure deep in the first RPC.
    if let Some(service) = rm_service(conf)? {
        user.login.check_service(&service)?;
    }
    Ok(Some(user))
}

/// `rm@<host>` for the RM's principal, the service Kerberos must reach first.
fn rm_service(conf: &Configuration) -> Result<Option<String>, Error> {
    let Some(principal) = delegation::rm_principal(conf)? else {
        return Ok(None);
    };
    let name = kerberos::PrincipalName::parse(&principal)?;
    Ok(name.host.map(|h| format!("{}@{h}", name.service)))
}

/// HDFS delegation tokens for `fs.defaultFS` and every file system of
/// `spindle.kerberos.access.hadoopFileSystems`, renewable by the RM (which
/// renews them while the application runs and cancels them at its end),
/// each under every service name a client may look it up by.
pub async fn delegation_tokens(
    cluster: &super::Cluster,
    user: &KerberosUser,
    app_conf: &std::collections::BTreeMap<String, String>,
) -> Result<Credentials, Error> {
    let conf = &cluster.conf;
    let renewer = delegation::renewer(conf)?;
    let key = spindle_contract::settings::KERBEROS_FILE_SYSTEMS
        .key
        .unwrap_or_default();
    let file_systems = delegation::file_systems(conf, app_conf.get(key).map(String::as_str))
        .map_err(|e| Error::Usage(e.to_string()))?;
    let auth = user.ipc_auth(conf, "dfs.namenode.kerberos.principal")?;
    delegation::hdfs_tokens(conf, &auth, &file_systems, &renewer)
        .await
        .map_err(|e| Error::HadoopConf(e.to_string()))
}

/// What `spindle submit` says about the tokens' lifetime on a Kerberized
/// cluster: without a keytab, when the application must have ended.
pub fn lifetime_note(tokens: &Credentials, keytab: bool) -> Option<String> {
    let (issue, max) = delegation::lifetime(tokens)?;
    let life = delegation::human(std::time::Duration::from_millis((max - issue).max(0) as u64));
    Some(if keytab {
        format!(
            "spindle: Kerberos: HDFS delegation tokens live at most {life}; the AM logs in \
             again from the staged keytab and fetches new ones, so the application may run \
             longer"
        )
    } else {
        let usable = max - delegation::CLIENT_MARGIN.as_millis() as i64;
        format!(
            "spindle: Kerberos: without --keytab the application can live until {} (its HDFS \
             delegation tokens' maximum lifetime is {life}, to {}; HDFS clients stop using a \
             token {} s before); submit with --principal/--keytab in cluster deploy mode to run longer",
            delegation::utc(usable),
            delegation::utc(max),
            delegation::CLIENT_MARGIN.as_secs()
        )
    })
}

/// The delegation tokens of a client-mode driver, in a private file (mode 600)
/// named to it in `HADOOP_TOKEN_FILE_LOCATION`; removed when dropped.
pub struct TokenFile {
    path: PathBuf,
}

impl TokenFile {
    pub fn write(
        tokens: &Credentials,
        app: spindle_hadoop::ids::ApplicationId,
    ) -> Result<TokenFile, Error> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let path =
            std::env::temp_dir().join(format!("spindle-tokens-{app}-{}", std::process::id()));
        let bytes = tokens.to_file_bytes(spindle_hadoop::credentials::CredentialsFormat::Writable);
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .and_then(|mut f| f.write_all(&bytes))
            .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
        Ok(TokenFile { path })
    }

    pub fn path_string(&self) -> String {
        self.path.to_string_lossy().into_owned()
    }
}

impl Drop for TokenFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
