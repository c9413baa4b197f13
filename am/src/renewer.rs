//! Keeping a long application's HDFS delegation tokens alive (cluster mode,
//! `--principal/--keytab`), after Spark's `HadoopDelegationTokenManager`:
//! the AM logs in from the keytab `spindle submit` staged privately, fetches
//! new tokens at 75 % of the NameNode's renewal interval (so they never need
//! a renewal of their own), puts them into its own token file (its HDFS
//! client's), into the launch context of executors it starts later, and
//! hands them to every running executor over Spindle's authenticated channel.
//! Its Kerberos ticket is renewed by logging in again before 80 % of its life.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use spindle_contract::launch::{AmLaunch, StagedKeytab};
use spindle_contract::staging::Staging;
use spindle_hadoop::config::Configuration;
use spindle_hadoop::credentials::{Credentials, CredentialsFormat};
use spindle_hadoop::delegation;
use spindle_hadoop::ipc::{Auth, KerberosAuth};
use spindle_hadoop::kerberos::Login;

use crate::{Error, Result};

/// The tokens executors get, replaced when new ones arrive.
pub(crate) type SharedTokens = Arc<Mutex<Credentials>>;

/// New tokens at this fraction of their time to expiry (Spark's ratio).
const REFRESH_AT: f64 = 0.75;
/// Log in again once a ticket has lived this fraction of its lifetime.
const RELOGIN_AT: f64 = 0.8;
/// After a failed fetch, try again this soon (or sooner, near expiry).
const RETRY: Duration = Duration::from_secs(20);

/// The AM's token renewer; `None` without a staged keytab.
pub(crate) struct Renewer {
    conf: Configuration,
    principal: String,
    keytab: PathBuf,
    proxy_user: Option<String>,
    file_systems: Vec<String>,
    renewer: String,
    login: Option<(Login, Instant)>,
}

/// One round's result: the tokens and when to fetch again.
pub(crate) struct Fetched {
    pub tokens: Credentials,
    pub next: Duration,
    pub interval: Duration,
}

impl Renewer {
    /// Copies the staged keytab into the container's directory (mode 600;
    /// the NodeManager deletes the directory with the container) and
    /// prepares the renewer. `None` when `spindle submit` staged no keytab.
    pub(crate) async fn from_launch(
        launch: &AmLaunch,
        staging: &Staging,
        conf: &Configuration,
    ) -> Result<Option<Renewer>> {
        let Some(StagedKeytab { principal, path }) = &launch.keytab else {
            return Ok(None);
        };
        let bytes = staging
            .read_small(path)
            .await
            .map_err(|e| Error::Config(format!("the staged keytab {path}: {e}")))?;
        let local = std::env::current_dir()
            .map_err(|e| Error::Config(format!("the container's directory: {e}")))?
            .join(spindle_contract::staging::KEYTAB_NAME);
        write_private(&local, &bytes)?;
        let key = spindle_contract::settings::KERBEROS_FILE_SYSTEMS
            .key
            .unwrap_or_default();
        let file_systems =
            delegation::file_systems(conf, launch.conf.get(key).map(String::as_str))?;
        Ok(Some(
            Renewer {
                conf: conf.clone(),
                principal: principal.clone(),
                keytab: local,
                proxy_user: None,
                file_systems,
                renewer: delegation::renewer(conf)?,
                login: None,
            }
            .acting_for(&launch.user),
        ))
    }

    /// Acts for `user` (`--proxy-user`) when the login is someone else.
    fn acting_for(mut self, user: &str) -> Self {
        let own = self.principal.split(['/', '@']).next().unwrap_or_default();
        if own != user {
            self.proxy_user = Some(user.to_string());
        }
        self
    }

    /// The keytab login, fresh when the last one has lived [`RELOGIN_AT`] of
    /// its ticket's lifetime (or there is none yet).
    fn login(&mut self) -> Result<Login> {
        if let Some((login, at)) = &self.login
            && at.elapsed() < ticket_refresh(login)
        {
            return Ok(login.clone());
        }
        let login = Login::from_keytab(&self.conf, &self.principal, &self.keytab)?;
        tracing::info!(
            "logged in as {} from the staged keytab (ticket for {} s)",
            login.principal,
            login.credential.lifetime
        );
        self.login = Some((login.clone(), Instant::now()));
        Ok(login)
    }

    /// When the current login must be renewed, from now.
    pub(crate) fn relogin_due(&self) -> Duration {
        match &self.login {
            // A ticket of unknown lifetime is renewed with each fetch only.
            Some((login, _)) if login.credential.lifetime == u32::MAX => {
                Duration::from_secs(86_400)
            }
            Some((login, at)) => ticket_refresh(login).saturating_sub(at.elapsed()),
            None => Duration::ZERO,
        }
    }

    /// Fetches, then installs the tokens everywhere: this process's token
    /// file, `shared` (executors started later) and, through `ctx`, every
    /// running executor. Returns when to fetch again.
    pub(crate) async fn renew(
        &mut self,
        shared: &SharedTokens,
        ctx: Option<&spindle_core::Context>,
    ) -> Result<Duration> {
        let f = self.fetch().await?;
        delegation::install(&f.tokens)?;
        {
            let mut s = shared.lock().unwrap_or_else(|e| e.into_inner());
            *s = delegation::with_fresh_tokens(&s, &f.tokens);
        }
        let told = match ctx {
            Some(ctx) => match ctx.update_tokens(file_bytes(&f.tokens)).await {
                Ok((n, failed)) => {
                    for why in &failed {
                        tracing::warn!("handing tokens over: {why}");
                    }
                    format!("; handed to {n} executors")
                }
                Err(e) => format!("; not handed to the executors: {e}"),
            },
            None => String::new(),
        };
        let until = delegation::lifetime(&f.tokens)
            .map(|(_, max)| format!(", max date {}", delegation::utc(max)))
            .unwrap_or_default();
        tracing::info!(
            "{} new HDFS delegation tokens (renewal interval {}{until}); next in {}{told}",
            f.tokens.tokens().count(),
            delegation::human(f.interval),
            delegation::human(f.next),
        );
        Ok(f.next)
    }

    /// Renews for as long as the application runs: new tokens when `first`
    /// has passed and then as each round says, a new login before the
    /// ticket's end, retries after failures.
    pub(crate) async fn run(
        mut self,
        first: Duration,
        shared: SharedTokens,
        ctx: spindle_core::Context,
    ) {
        let mut next_fetch = Instant::now() + first;
        loop {
            let wake = next_fetch.min(Instant::now() + self.relogin_due());
            tokio::time::sleep_until(wake.into()).await;
            if Instant::now() < next_fetch {
                if let Err(e) = self.keep_login() {
                    tracing::warn!("logging in again from the keytab: {e}");
                    tokio::time::sleep(RETRY).await;
                }
                continue;
            }
            next_fetch = match self.renew(&shared, Some(&ctx)).await {
                Ok(next) => Instant::now() + next,
                Err(e) => {
                    let current = shared.lock().unwrap_or_else(|e| e.into_inner()).clone();
                    let retry = retry_after(&current);
                    tracing::warn!(
                        "fetching new HDFS delegation tokens: {e}; again in {}",
                        delegation::human(retry)
                    );
                    Instant::now() + retry
                }
            };
        }
    }

    /// Logs in again if due (so the ticket never lapses between fetches).
    pub(crate) fn keep_login(&mut self) -> Result<()> {
        self.login().map(|_| ())
    }

    /// New HDFS delegation tokens for every file system of the application.
    pub(crate) async fn fetch(&mut self) -> Result<Fetched> {
        let login = self.login()?;
        let auth = Auth::Kerberos(KerberosAuth::from_conf(
            &self.conf,
            login.clone(),
            "dfs.namenode.kerberos.principal",
            self.proxy_user.clone(),
        )?);
        let tokens =
            delegation::hdfs_tokens(&self.conf, &auth, &self.file_systems, &self.renewer).await?;
        // The NameNode lets only the renewer named in a token renew it, compared with the
        // caller's short name: with --proxy-user the caller is the proxied user.
        let own_name = self.proxy_user.as_deref().unwrap_or(&login.short_name);
        let interval =
            delegation::renewal_interval(&self.conf, &auth, &self.file_systems[0], own_name)
                .await?;
        let now = delegation::now_ms();
        let to_max = delegation::lifetime(&tokens)
            .map(|(_, max)| Duration::from_millis((max - now).max(0) as u64))
            .unwrap_or(interval);
        let next = interval.min(to_max).mul_f64(REFRESH_AT);
        Ok(Fetched {
            tokens,
            next: next.max(Duration::from_secs(5)),
            interval,
        })
    }
}

/// How long after a login to log in again.
fn ticket_refresh(login: &Login) -> Duration {
    let life = login.credential.lifetime;
    if life == u32::MAX {
        // Unknown: log in at every fetch.
        return Duration::ZERO;
    }
    Duration::from_secs(u64::from(life)).mul_f64(RELOGIN_AT)
}

/// How soon to retry after a failed fetch: [`RETRY`], sooner when the
/// current tokens end before that.
pub(crate) fn retry_after(current: &Credentials) -> Duration {
    let left = delegation::lifetime(current)
        .map(|(_, max)| Duration::from_millis((max - delegation::now_ms()).max(0) as u64));
    match left {
        Some(l) => RETRY.min(l / 4).max(Duration::from_secs(2)),
        None => RETRY,
    }
}

/// The tokens as a token storage file, as executors take them.
pub(crate) fn file_bytes(tokens: &Credentials) -> Vec<u8> {
    tokens.to_file_bytes(CredentialsFormat::Writable)
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let _ = std::fs::remove_file(path);
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut f| f.write_all(bytes))
        .map_err(|e| Error::Config(format!("writing {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_come_sooner_near_the_end() {
        use spindle_hadoop::Token;
        use spindle_hadoop::token::{DelegationTokenIdentifier, kinds};
        assert_eq!(retry_after(&Credentials::new()), RETRY);
        let ending_in = |secs: i64| {
            let now = delegation::now_ms();
            let mut c = Credentials::new();
            let id = DelegationTokenIdentifier {
                owner: "alice".into(),
                renewer: "yarn".into(),
                real_user: String::new(),
                issue_date: now - 100_000,
                max_date: now + secs * 1000,
                sequence_number: 1,
                master_key_id: 1,
            };
            c.add_token(
                "nn:8020",
                Token {
                    identifier: id.encode(),
                    kind: kinds::HDFS_DELEGATION.into(),
                    ..Default::default()
                },
            );
            retry_after(&c)
        };
        assert_eq!(ending_in(3600), RETRY);
        let soon = ending_in(40);
        assert!(
            soon <= Duration::from_secs(10) && soon >= Duration::from_secs(9),
            "{soon:?}"
        );
        assert_eq!(ending_in(-5), Duration::from_secs(2));
    }

    #[test]
    fn the_keytab_copy_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("spindle-renewer-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("k");
        write_private(&p, b"x").unwrap();
        write_private(&p, b"yz").unwrap();
        let meta = std::fs::metadata(&p).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::read(&p).unwrap(), b"yz");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
