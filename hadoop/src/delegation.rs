//! HDFS delegation tokens over an application's life: getting them for every
//! file system it uses (at submission, and again from a keytab while it runs),
//! how long they live, swapping fresh ones into a container's token file (which
//! hdfs-native reads at every new connection), and the one-line reason when
//! an application outlived them.
//!
//! A token dies at the earlier of its expiry (issue + `dfs.namenode.delegation
//! .token.renew-interval`, pushed back by each renewal, which the RM does for
//! the tokens of a submission) and its max date (issue + `…max-lifetime`, which
//! no renewal passes). Only new tokens, from a Kerberos login, outlive that.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::config::Configuration;
use crate::credentials::{Credentials, CredentialsFormat, TOKEN_FILE_ENV};
use crate::ipc::{Auth, IpcConfig};
use crate::kerberos;
use crate::namenode::{self, NameNodeClient};
use crate::token::{DelegationTokenIdentifier, kinds};
use crate::{Error, Result};

/// hdfs-native (0.14) passes over a token whose max date is less than this
/// far away, so its connections fail that much before the token dies.
pub const CLIENT_MARGIN: Duration = Duration::from_secs(60);

/// `yarn.resourcemanager.principal` with `_HOST` resolved for the RM's
/// address, as Hadoop's `Master.getMasterPrincipal` does: the renewer of an
/// application's tokens.
pub fn rm_principal(conf: &Configuration) -> Result<Option<String>> {
    let Some(p) = conf.get_trimmed("yarn.resourcemanager.principal")? else {
        return Ok(None);
    };
    let address = conf
        .get_trimmed("yarn.resourcemanager.address")?
        .unwrap_or_else(|| "0.0.0.0:8032".into());
    let host = address
        .rsplit_once(':')
        .map_or(address.as_str(), |(h, _)| h);
    Ok(Some(kerberos::resolve_host_pattern(&p, host)))
}

/// The RM's principal, required: it must renew the tokens.
pub fn renewer(conf: &Configuration) -> Result<String> {
    rm_principal(conf)?.ok_or_else(|| Error::Config {
        file: conf.source("yarn.resourcemanager.principal").to_string(),
        key: "yarn.resourcemanager.principal".into(),
        reason: "the cluster uses Kerberos but the key is not set: the ResourceManager must \
                 renew the application's HDFS delegation tokens"
            .into(),
    })
}

/// `fs.defaultFS` and `extra` (`spindle.kerberos.access.hadoopFileSystems`,
/// comma-separated), each as `hdfs://authority`, without repeats.
pub fn file_systems(conf: &Configuration, extra: Option<&str>) -> Result<Vec<String>> {
    let mut out = vec![conf.default_fs()?];
    for fs in extra
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
    {
        if !fs.starts_with("hdfs://") {
            return Err(Error::Config {
                file: "--conf".into(),
                key: "spindle.kerberos.access.hadoopFileSystems".into(),
                reason: format!("{fs:?} is not an hdfs:// file system"),
            });
        }
        let fs = namenode::file_system_root(fs);
        if !out.contains(&fs) {
            out.push(fs);
        }
    }
    Ok(out)
}

/// One HDFS delegation token per file system, renewable by `renewer`, each
/// under every service name a client may look it up by (Java's `ip:port`,
/// hdfs-native's `host:port`, `ha-hdfs:<ns>`). `auth` is a Kerberos login.
pub async fn hdfs_tokens(
    conf: &Configuration,
    auth: &Auth,
    file_systems: &[String],
    renewer: &str,
) -> Result<Credentials> {
    let ipc = IpcConfig::from_conf(conf)?;
    let mut credentials = Credentials::new();
    for fs in file_systems {
        let client = NameNodeClient::new(
            namenode::namenode_addresses(conf, fs)?,
            auth.clone(),
            ipc.clone(),
        );
        let token = client
            .get_delegation_token(renewer)
            .await
            .map_err(|e| Error::Rpc {
                address: fs.clone(),
                reason: format!("getting an HDFS delegation token: {e}"),
            })?;
        for service in namenode::token_services(conf, fs)? {
            let mut t = token.clone();
            t.service = service.clone();
            credentials.add_token(service, t);
        }
    }
    Ok(credentials)
}

/// The NameNode's renewal interval, measured as Spark does: a token the
/// logged-in user may renew itself (`own_name`, its short name), renewed once
/// (new expiry − issue date) and cancelled.
pub async fn renewal_interval(
    conf: &Configuration,
    auth: &Auth,
    fs: &str,
    own_name: &str,
) -> Result<Duration> {
    let client = NameNodeClient::new(
        namenode::namenode_addresses(conf, fs)?,
        auth.clone(),
        IpcConfig::from_conf(conf)?,
    );
    let token = client.get_delegation_token(own_name).await?;
    let id = DelegationTokenIdentifier::decode(&token.identifier)?;
    let expiry = client.renew_delegation_token(&token).await;
    let _ = client.cancel_delegation_token(&token).await;
    let expiry = expiry? as i64;
    Ok(Duration::from_millis((expiry - id.issue_date).max(0) as u64))
}

/// When the HDFS delegation tokens of `creds` stop being usable: the
/// earliest issue date and the earliest max date (ms since the epoch); `None`
/// without HDFS tokens.
pub fn lifetime(creds: &Credentials) -> Option<(i64, i64)> {
    creds
        .tokens()
        .filter(|(_, t)| t.kind == kinds::HDFS_DELEGATION)
        .filter_map(|(_, t)| DelegationTokenIdentifier::decode(&t.identifier).ok())
        .map(|id| (id.issue_date, id.max_date))
        .reduce(|(i, m), (i2, m2)| (i.min(i2), m.min(m2)))
}

/// `creds` with the HDFS delegation tokens of `fresh` in place of its own
/// (same aliases replaced, older HDFS tokens dropped); other tokens and the
/// secrets stay.
pub fn with_fresh_tokens(creds: &Credentials, fresh: &Credentials) -> Credentials {
    let mut out = creds.without_kind(kinds::HDFS_DELEGATION);
    out.merge(fresh);
    out
}

/// Puts the HDFS tokens of `fresh` into this process's token file
/// (`HADOOP_TOKEN_FILE_LOCATION`), atomically, keeping everything else in it:
/// hdfs-native reads the file at every new connection, so later connections
/// authenticate with them. A no-op outside a container.
pub fn install(fresh: &Credentials) -> Result<()> {
    let Some(path) = std::env::var_os(TOKEN_FILE_ENV).filter(|p| !p.is_empty()) else {
        return Ok(());
    };
    let current = Credentials::read_file(&path)?;
    with_fresh_tokens(&current, fresh).write_file(&path, CredentialsFormat::Writable)
}

/// Milliseconds since the epoch, now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// A UTC time of day with its date, `2026-12-05 10:42:13 UTC`, for messages.
pub fn utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// A duration as `3m`, `7d`, `1h30m`, `45s`.
pub fn human(d: Duration) -> String {
    let s = d.as_secs();
    let (days, h, m, sec) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60, s % 60);
    let mut out = String::new();
    for (n, unit) in [(days, "d"), (h, "h"), (m, "m"), (sec, "s")] {
        if n > 0 {
            out.push_str(&format!("{n}{unit}"));
        }
    }
    if out.is_empty() { "0s".into() } else { out }
}

/// The phrase every token-expiry failure starts with.
pub const EXPIRED: &str = "HDFS delegation token expired";

/// Why HDFS refuses this process now, when the reason is the application's
/// delegation tokens: `Some` when the token file holds an HDFS delegation
/// token at or past its max date (less [`CLIENT_MARGIN`], after which the
/// client no longer uses it). One line, naming the time and the cure.
pub fn expiry_reason() -> Option<String> {
    let creds = Credentials::from_env().ok()??;
    expiry_reason_of(&creds, now_ms())
}

fn expiry_reason_of(creds: &Credentials, now: i64) -> Option<String> {
    let (issue, max) = lifetime(creds)?;
    if now + CLIENT_MARGIN.as_millis() as i64 <= max {
        return None;
    }
    Some(format!(
        "{EXPIRED}: the application's HDFS tokens reached their maximum lifetime of {} at {} \
         (dfs.namenode.delegation.token.max-lifetime; HDFS clients stop using a token {} s \
         before) and cannot be renewed further: submit with --principal/--keytab for \
         applications that run longer",
        human(Duration::from_millis((max - issue).max(0) as u64)),
        utc(max),
        CLIENT_MARGIN.as_secs()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Token;

    fn hdfs_token(issue: i64, max: i64, service: &str) -> Token {
        Token {
            identifier: DelegationTokenIdentifier {
                owner: "alice".into(),
                renewer: "yarn".into(),
                real_user: String::new(),
                issue_date: issue,
                max_date: max,
                sequence_number: 1,
                master_key_id: 1,
            }
            .encode(),
            password: vec![1, 2, 3],
            kind: kinds::HDFS_DELEGATION.into(),
            service: service.into(),
        }
    }

    #[test]
    fn lifetime_is_the_earliest_max_date_of_the_hdfs_tokens() {
        let mut c = Credentials::new();
        assert_eq!(lifetime(&c), None);
        c.add_token("a", hdfs_token(1_000, 181_000, "a"));
        c.add_token("b", hdfs_token(2_000, 182_000, "b"));
        c.add_token(
            "",
            Token {
                kind: kinds::AM_RM.into(),
                ..Default::default()
            },
        );
        assert_eq!(lifetime(&c), Some((1_000, 181_000)));
    }

    #[test]
    fn fresh_tokens_replace_the_old_and_keep_the_rest() {
        let mut c = Credentials::new();
        c.add_token("127.0.0.1:9000", hdfs_token(1, 2, "127.0.0.1:9000"));
        c.add_token("old-alias", hdfs_token(1, 2, "old"));
        c.add_token(
            "",
            Token {
                kind: kinds::AM_RM.into(),
                ..Default::default()
            },
        );
        c.add_secret("spindle.app.secret", vec![7; 32]);
        let mut fresh = Credentials::new();
        fresh.add_token("127.0.0.1:9000", hdfs_token(10, 20, "127.0.0.1:9000"));
        let out = with_fresh_tokens(&c, &fresh);
        assert_eq!(lifetime(&out), Some((10, 20)));
        assert!(out.token("old-alias").is_none());
        assert!(out.token_of_kind(kinds::AM_RM).is_some());
        assert_eq!(out.secret("spindle.app.secret"), Some(&[7u8; 32][..]));
    }

    #[test]
    fn expiry_reason_only_past_the_max_date_less_the_margin() {
        let mut c = Credentials::new();
        assert_eq!(expiry_reason_of(&c, 0), None);
        // Issued at 10:00:00, max lifetime 3 minutes.
        let issue = 1_796_464_800_000;
        c.add_token("s", hdfs_token(issue, issue + 180_000, "s"));
        assert_eq!(expiry_reason_of(&c, issue + 119_000), None);
        let why = expiry_reason_of(&c, issue + 121_000).unwrap();
        assert!(why.starts_with(EXPIRED), "{why}");
        assert!(
            why.contains("3m") && why.contains("--principal/--keytab"),
            "{why}"
        );
        assert!(why.contains(&utc(issue + 180_000)), "{why}");
        assert!(!why.contains('\n'));
    }

    #[test]
    fn times_and_durations_for_people() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400_000), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_796_468_533_000), "2026-12-05 11:02:13 UTC");
        assert_eq!(human(Duration::from_secs(180)), "3m");
        assert_eq!(human(Duration::from_secs(7 * 86_400)), "7d");
        assert_eq!(human(Duration::from_secs(5_445)), "1h30m45s");
        assert_eq!(human(Duration::ZERO), "0s");
    }

    #[test]
    fn extra_file_systems_must_be_hdfs() {
        let mut conf = Configuration::new();
        conf.set("fs.defaultFS", "hdfs://nn:9000");
        assert_eq!(
            file_systems(&conf, Some(" hdfs://other:8020/x, hdfs://nn:9000")).unwrap(),
            ["hdfs://nn:9000", "hdfs://other:8020"]
        );
        let e = file_systems(&conf, Some("s3a://b"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("spindle.kerberos.access.hadoopFileSystems") && e.contains("s3a://b"),
            "{e}"
        );
    }
}
