//! The launch contract between `spindle submit` (client crate) and the
//! ApplicationMaster: what the client puts in the AM container's environment
//! and how the AM reads it back. Both sides use this module, so the variable
//! names live in one place. The application secret never travels here: it is
//! in the container's credentials (secret key [`SECRET_ALIAS`]).

use std::collections::BTreeMap;

use spindle_hadoop::credentials::Credentials;
use spindle_hadoop::yarn::LocalResource;

use crate::{Error, Result, env_value, settings};

/// `am` in the AM container (executors get `executor`).
pub const ROLE: &str = settings::ROLE.var_name();
/// `cluster` (the AM runs the driver) or `client` (the driver runs where `spindle submit` runs).
pub const DEPLOY_MODE: &str = settings::DEPLOY_MODE.var_name();
/// The application's name (hex: user text).
pub const APP_NAME: &str = settings::APP_NAME.var_name();
/// hdfs URI of `/user/<user>/.spindleStaging/<appId>`; the AM deletes it when the application ends.
pub const STAGING_DIR: &str = settings::STAGING_DIR.var_name();
/// Client deploy mode, Kerberos: whom the driver logs in as.
pub const KERBEROS_PRINCIPAL: &str = settings::KERBEROS_PRINCIPAL.var_name();
/// Client deploy mode, Kerberos: the keytab the driver logs in from.
pub const KERBEROS_KEYTAB: &str = settings::KERBEROS_KEYTAB.var_name();
/// Cluster deploy mode: the keytab staged for the AM.
pub const KERBEROS_STAGED_KEYTAB: &str = settings::KERBEROS_STAGED_KEYTAB.var_name();
/// JSON: link name -> [`LocalResource`]; the driver binary is [`APP_BINARY`].
pub const LOCAL_RESOURCES: &str = settings::LOCAL_RESOURCES.var_name();
/// Executors to start.
pub const NUM_EXECUTORS: &str = settings::NUM_EXECUTORS.var_name();
/// Cores (concurrent tasks) per executor.
pub const EXECUTOR_CORES: &str = settings::EXECUTOR_CORES.var_name();
/// Memory per executor, MiB.
pub const EXECUTOR_MEMORY_MB: &str = settings::EXECUTOR_MEMORY_MB.var_name();
/// An executor container's memory on top of its heap, MiB.
pub const EXECUTOR_MEMORY_OVERHEAD_MB: &str = settings::EXECUTOR_MEMORY_OVERHEAD_MB.var_name();
/// JSON object of the user's `--conf k=v` pairs.
pub const CONF: &str = settings::CONF.var_name();
/// Client mode only: where executors reach the driver.
pub const DRIVER_URL: &str = settings::DRIVER_URL.var_name();
/// The user the containers act as (Hadoop's own variable).
pub const USER: &str = "HADOOP_USER_NAME";

// Client deploy mode: what `spindle submit` tells the driver it starts.
/// Where the driver listens for executors (default: the address on the route to the RM).
pub const DRIVER_HOST: &str = settings::DRIVER_HOST.var_name();
/// The queue of a client-mode application.
pub const QUEUE: &str = settings::YARN_QUEUE.var_name();
/// The AM memory of a client-mode application, MiB.
pub const AM_MEMORY_MB: &str = settings::AM_MEMORY_MB.var_name();
/// `--tags`, comma-separated.
pub const TAGS: &str = settings::YARN_TAGS.var_name();
/// `--priority`.
pub const PRIORITY: &str = settings::YARN_PRIORITY.var_name();
/// `--max-app-attempts`.
pub const MAX_APP_ATTEMPTS: &str = settings::YARN_MAX_APP_ATTEMPTS.var_name();
/// Set by `spindle submit`, which got the application id and staged the
/// binary (SHA-256 cache) and `--files` itself: the driver then submits that
/// application with `SPINDLE_STAGING_DIR` and `SPINDLE_LOCAL_RESOURCES` as
/// given instead of uploading itself.
pub const APP_ID: &str = settings::YARN_APP_ID.var_name();

/// The link name of the driver binary in every container's working directory.
pub const APP_BINARY: &str = "spindle-app";
/// The secret key of the `--conf` pairs that name secrets, in the AM's credentials.
pub const SECRET_CONF_ALIAS: &str = "spindle.conf.secret";
/// The secret key of the per-application secret in the containers' credentials.
pub const SECRET_ALIAS: &str = "spindle.app.secret";
/// YARN application type of Spindle applications.
pub const APPLICATION_TYPE: &str = "SPINDLE";

/// Where the driver runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeployMode {
    /// In the AM container.
    Cluster,
    /// On the submitting machine; the AM only negotiates containers.
    Client,
}

impl DeployMode {
    /// As the launch variable writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            DeployMode::Cluster => "cluster",
            DeployMode::Client => "client",
        }
    }

    /// From the launch variable.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "cluster" => Ok(DeployMode::Cluster),
            "client" => Ok(DeployMode::Client),
            other => Err(Error::Launch(format!(
                "{DEPLOY_MODE}={other:?}: expected cluster or client"
            ))),
        }
    }
}

/// What the client tells the AM (the AM container's environment).
#[derive(Clone, Debug, PartialEq)]
pub struct AmLaunch {
    /// Where the driver runs.
    pub deploy_mode: DeployMode,
    /// The application's name.
    pub app_name: String,
    /// `hdfs://…/<home>/.spindleStaging/<appId>`, removed at the end.
    pub staging_dir: String,
    /// Localized into the AM and every executor container, by link name;
    /// must hold [`APP_BINARY`].
    pub local_resources: BTreeMap<String, LocalResource>,
    /// Executors to start.
    pub num_executors: u32,
    /// Cores per executor.
    pub executor_cores: u32,
    /// Heap per executor, MiB.
    pub executor_memory_mb: u64,
    /// Overhead per executor container, MiB.
    pub executor_memory_overhead_mb: u64,
    /// `--conf k=v`, e.g. `spindle.executor.maxFailures`.
    pub conf: BTreeMap<String, String>,
    /// Client mode: the driver's URL.
    pub driver_url: Option<String>,
    /// The submitting user.
    pub user: String,
    /// `--principal/--keytab` in cluster mode: the AM renews tokens from it.
    pub keytab: Option<StagedKeytab>,
}

/// A keytab `spindle submit` staged privately for the AM.
#[derive(Clone, Debug, PartialEq)]
pub struct StagedKeytab {
    /// `--principal`.
    pub principal: String,
    /// `hdfs://…/.spindleStaging/<appId>/<name>`, mode 600.
    pub path: String,
}

/// Spark's rule: max(384 MiB, 10 % of the heap).
pub fn default_overhead_mb(memory_mb: u64) -> u64 {
    (memory_mb / 10).max(384)
}

impl AmLaunch {
    /// The AM container's environment (the secret is not in it).
    pub fn to_env(&self) -> Vec<(String, String)> {
        let mut env = vec![
            (ROLE.to_string(), crate::Role::AM.to_string()),
            (DEPLOY_MODE.into(), self.deploy_mode.as_str().into()),
            // User text: hex, so the launch script neither expands nor breaks on it.
            (APP_NAME.into(), env_value::encode(&self.app_name)),
            (STAGING_DIR.into(), self.staging_dir.clone()),
            (
                LOCAL_RESOURCES.into(),
                resources_to_env(&self.local_resources),
            ),
            (NUM_EXECUTORS.into(), self.num_executors.to_string()),
            (EXECUTOR_CORES.into(), self.executor_cores.to_string()),
            (
                EXECUTOR_MEMORY_MB.into(),
                self.executor_memory_mb.to_string(),
            ),
            (
                EXECUTOR_MEMORY_OVERHEAD_MB.into(),
                self.executor_memory_overhead_mb.to_string(),
            ),
            // Secret values travel in the credentials ([`AmLaunch::credentials`]).
            (CONF.into(), settings::encode_pairs(&self.public_conf())),
            (USER.into(), self.user.clone()),
        ];
        if let Some(url) = &self.driver_url {
            env.push((DRIVER_URL.into(), url.clone()));
        }
        if let Some(k) = &self.keytab {
            env.push((KERBEROS_PRINCIPAL.into(), k.principal.clone()));
            env.push((KERBEROS_STAGED_KEYTAB.into(), k.path.clone()));
        }
        env
    }

    /// Reads the contract from this process's environment.
    pub fn from_env() -> Result<Self> {
        let launch = Self::from_vars(|k| std::env::var(k).ok())?;
        match Credentials::from_env()? {
            Some(creds) => launch.with_secret_conf(&creds),
            None => Ok(launch),
        }
    }

    /// The `--conf` pairs whose values may be shown and may travel in the
    /// environment (what a container's launch script, kept in its logs, holds).
    fn public_conf(&self) -> BTreeMap<String, String> {
        let mut conf = self.conf.clone();
        conf.retain(|k, _| !settings::is_secret_key(k));
        conf
    }

    /// The AM container's credentials: the application secret, and the
    /// `--conf` pairs that name secrets (never in the environment).
    pub fn credentials(&self, app_secret: Vec<u8>) -> Credentials {
        let mut creds = Credentials::new();
        creds.add_secret(SECRET_ALIAS, app_secret);
        let secret: BTreeMap<_, _> = self
            .conf
            .iter()
            .filter(|(k, _)| settings::is_secret_key(k))
            .collect();
        if !secret.is_empty() {
            let json = serde_json::to_vec(&secret).expect("string pairs serialize");
            creds.add_secret(SECRET_CONF_ALIAS, json);
        }
        creds
    }

    /// Adds the secret `--conf` pairs from the container's credentials.
    fn with_secret_conf(mut self, creds: &Credentials) -> Result<Self> {
        if let Some(json) = creds.secret(SECRET_CONF_ALIAS) {
            let pairs: BTreeMap<String, String> = serde_json::from_slice(json).map_err(|e| {
                Error::Launch(format!(
                    "the {SECRET_CONF_ALIAS} secret is not a JSON object: {e}"
                ))
            })?;
            self.conf.extend(pairs);
        }
        Ok(self)
    }

    /// Reads the contract from any variable lookup (tests use a map).
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let need = |k: &str| get(k).ok_or_else(|| Error::Launch(format!("{k} is not set")));
        let num = |k: &str| -> Result<u64> {
            let v = need(k)?;
            v.trim()
                .parse()
                .map_err(|_| Error::Launch(format!("{k}={v:?} is not a number")))
        };
        let local_resources = resources_from_env(&need(LOCAL_RESOURCES)?)?;
        let conf = crate::Conf::decode(&get(CONF).unwrap_or_default())?
            .pairs()
            .clone();
        let executor_memory_mb = num(EXECUTOR_MEMORY_MB)?;
        let launch = AmLaunch {
            deploy_mode: DeployMode::parse(&need(DEPLOY_MODE)?)?,
            app_name: match get(APP_NAME) {
                Some(v) => env_value::decode(APP_NAME, &v)?,
                None => "spindle".into(),
            },
            staging_dir: need(STAGING_DIR)?,
            local_resources,
            num_executors: num(NUM_EXECUTORS)? as u32,
            executor_cores: (num(EXECUTOR_CORES)? as u32).max(1),
            executor_memory_mb,
            executor_memory_overhead_mb: match get(EXECUTOR_MEMORY_OVERHEAD_MB) {
                Some(_) => num(EXECUTOR_MEMORY_OVERHEAD_MB)?,
                None => default_overhead_mb(executor_memory_mb),
            },
            conf,
            driver_url: get(DRIVER_URL).filter(|s| !s.is_empty()),
            user: need(USER)?,
            keytab: match (get(KERBEROS_PRINCIPAL), get(KERBEROS_STAGED_KEYTAB)) {
                (Some(principal), Some(path)) if !path.is_empty() => {
                    Some(StagedKeytab { principal, path })
                }
                _ => None,
            },
        };
        if launch.deploy_mode == DeployMode::Client && launch.driver_url.is_none() {
            return Err(Error::Launch(format!(
                "{DEPLOY_MODE}=client needs {DRIVER_URL}"
            )));
        }
        Ok(launch)
    }

    /// The container memory of one executor: heap + overhead.
    pub fn executor_container_mb(&self) -> u64 {
        self.executor_memory_mb + self.executor_memory_overhead_mb
    }
}

/// `SPINDLE_LOCAL_RESOURCES`' value for `resources` (JSON, env-safe).
pub fn resources_to_env(resources: &BTreeMap<String, LocalResource>) -> String {
    env_value::encode(&serde_json::to_string(resources).expect("resources serialize"))
}

/// Reads a `SPINDLE_LOCAL_RESOURCES` value: it must name the driver binary,
/// and every entry must be a valid resource.
pub fn resources_from_env(value: &str) -> Result<BTreeMap<String, LocalResource>> {
    let json = env_value::decode(LOCAL_RESOURCES, value)?;
    let local_resources: BTreeMap<String, LocalResource> = serde_json::from_str(&json)
        .map_err(|e| Error::Launch(format!("{LOCAL_RESOURCES} is not valid JSON: {e}")))?;
    if !local_resources.contains_key(APP_BINARY) {
        return Err(Error::Launch(format!(
            "{LOCAL_RESOURCES} has no {APP_BINARY:?} entry (the driver binary)"
        )));
    }
    for r in local_resources.values() {
        r.check()?;
    }
    Ok(local_resources)
}

/// The shell command of a Spindle container: the localized binary with its
/// arguments (single-quoted for bash), stdout and stderr into YARN's log dir.
pub fn container_command(args: &[String]) -> String {
    let mut cmd = format!("./{APP_BINARY}");
    for a in args {
        cmd.push(' ');
        cmd.push_str(&shell_quote(a));
    }
    cmd.push_str(" 1><LOG_DIR>/stdout 2><LOG_DIR>/stderr");
    cmd
}

/// One bash word that is `s` verbatim once the NodeManager's launch script
/// ran it. Single quotes keep bash from expanding anything; YARN itself
/// rewrites `{{`, `}}`, `<LOG_DIR>` and `<CPS>` in commands before bash sees
/// them, so braces and angle brackets go as ANSI-C escapes (`$'\x7b'`). Then
/// everything is escaped once more for the double quotes the NodeManager puts
/// the whole command in (`exec /bin/bash -c "<command>"`, written without
/// escaping).
pub fn shell_quote(s: &str) -> String {
    let mut single = String::from("'");
    for c in s.chars() {
        match c {
            '\'' => single.push_str(r"'\''"),
            '{' | '}' | '<' | '>' => single.push_str(&format!(r"'$'\x{:02x}''", c as u32)),
            c => single.push(c),
        }
    }
    single.push('\'');
    let mut out = String::with_capacity(single.len());
    for c in single.chars() {
        if matches!(c, '\\' | '"' | '$' | '`') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> AmLaunch {
        AmLaunch {
            deploy_mode: DeployMode::Cluster,
            app_name: "wordcount".into(),
            staging_dir: "hdfs://nn:8020/user/u/.spindleStaging/application_1_0001".into(),
            local_resources: BTreeMap::from([(
                APP_BINARY.to_string(),
                LocalResource::file(
                    "hdfs://nn:8020/user/u/.spindleStaging/application_1_0001/spindle-app",
                    1234,
                    1_700_000_000_000,
                ),
            )]),
            num_executors: 2,
            executor_cores: 1,
            executor_memory_mb: 512,
            executor_memory_overhead_mb: 384,
            conf: BTreeMap::from([("spindle.executor.maxFailures".into(), "5".into())]),
            driver_url: None,
            user: "alice".into(),
            keytab: Some(StagedKeytab {
                principal: "alice@EXAMPLE.COM".into(),
                path: "hdfs://nn:8020/user/u/.spindleStaging/application_1_0001/keytab".into(),
            }),
        }
    }

    fn lookup(env: &[(String, String)]) -> impl Fn(&str) -> Option<String> + '_ {
        |k| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    }

    #[test]
    fn env_round_trips() {
        let a = sample();
        let env = a.to_env();
        assert!(env.contains(&(ROLE.into(), "am".into())));
        assert_eq!(AmLaunch::from_vars(lookup(&env)).unwrap(), a);
        let mut c = a.clone();
        c.deploy_mode = DeployMode::Client;
        c.driver_url = Some("http://gw:7077".into());
        assert_eq!(AmLaunch::from_vars(lookup(&c.to_env())).unwrap(), c);
        assert_eq!(a.executor_container_mb(), 896);
    }

    #[test]
    fn missing_or_bad_values_name_the_variable() {
        let env = sample().to_env();
        for (drop, needle) in [
            (STAGING_DIR, STAGING_DIR),
            (USER, USER),
            (LOCAL_RESOURCES, LOCAL_RESOURCES),
        ] {
            let env: Vec<_> = env.iter().filter(|(k, _)| k != drop).cloned().collect();
            let e = AmLaunch::from_vars(lookup(&env)).unwrap_err().to_string();
            assert!(e.contains(needle), "{e}");
        }
        let mut bad = env.clone();
        bad.retain(|(k, _)| k != NUM_EXECUTORS);
        bad.push((NUM_EXECUTORS.into(), "two".into()));
        let e = AmLaunch::from_vars(lookup(&bad)).unwrap_err().to_string();
        assert!(e.contains("SPINDLE_NUM_EXECUTORS=\"two\""), "{e}");
        let mut client = env.clone();
        client.retain(|(k, _)| k != DEPLOY_MODE);
        client.push((DEPLOY_MODE.into(), "client".into()));
        let e = AmLaunch::from_vars(lookup(&client))
            .unwrap_err()
            .to_string();
        assert!(e.contains(DRIVER_URL), "{e}");
        let mut nobin = env.clone();
        nobin.retain(|(k, _)| k != LOCAL_RESOURCES);
        nobin.push((LOCAL_RESOURCES.into(), "{}".into()));
        let e = AmLaunch::from_vars(lookup(&nobin)).unwrap_err().to_string();
        assert!(e.contains(APP_BINARY), "{e}");
    }

    #[test]
    fn json_values_survive_the_nodemanagers_export_lines() {
        let env = sample().to_env();
        for (k, v) in &env {
            assert!(
                !v.contains('"') && !v.contains("}}") && !v.contains('$'),
                "{k}={v}"
            );
        }
    }

    #[test]
    fn default_overhead_is_sparks() {
        assert_eq!(default_overhead_mb(512), 384);
        assert_eq!(default_overhead_mb(8192), 819);
        let mut env = sample().to_env();
        env.retain(|(k, _)| k != EXECUTOR_MEMORY_OVERHEAD_MB);
        assert_eq!(
            AmLaunch::from_vars(lookup(&env))
                .unwrap()
                .executor_memory_overhead_mb,
            384
        );
    }

    #[test]
    fn local_resources_are_checked_when_read() {
        let mut resources = sample().local_resources;
        let env = resources_to_env(&resources);
        assert_eq!(resources_from_env(&env).unwrap(), resources);
        let written = env_value::decode(LOCAL_RESOURCES, &env).unwrap();
        assert!(written.contains(r#""type":"FILE""#), "{written}");
        let bad = LocalResource::file("not a uri", 1, 1);
        resources.insert("bad".into(), bad);
        let e = resources_from_env(&resources_to_env(&resources))
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a uri"), "{e}");
        let e = resources_from_env(
            r#"{"spindle-app":{"url":"hdfs://h:1/x","size":1,"timestamp":2,"type":"ZIP"}}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains(LOCAL_RESOURCES) && e.contains("ZIP"), "{e}");
    }

    #[test]
    fn arguments_survive_the_nodemanagers_launch_script() {
        // What the NodeManager does to a command: YARN's own expansions, then
        // launch_container.sh runs `exec /bin/bash -c "<command>"`.
        let args = [
            "it's",
            "a$HOME",
            "back\\slash",
            "q\"uote",
            "`id`",
            "two  spaces",
            "$(touch spindle-quote-test)",
            "{{HOME}}",
            "<LOG_DIR>/x",
            "<CPS>",
            r"\x7b",
        ];
        let quoted: Vec<String> = args.iter().map(|a| shell_quote(a)).collect();
        let command = format!("printf '%s\\n' {}", quoted.join(" "))
            .replace("{{", "$")
            .replace("}}", "")
            .replace("<LOG_DIR>", "/logs")
            .replace("<CPS>", ":");
        let dir = tempfile::tempdir().unwrap();
        let script = format!("exec /bin/bash -c \"{command}\"");
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(&script)
            .current_dir(dir.path())
            .output()
            .unwrap();
        let got: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(String::from)
            .collect();
        assert_eq!(got, args, "{script}");
        assert!(!dir.path().join("spindle-quote-test").exists());
    }

    #[test]
    fn secret_conf_values_travel_in_the_credentials_only() {
        let mut a = sample();
        a.conf.insert("fs.s3a.secret.key".into(), "hunter2".into());
        let env = a.to_env();
        assert!(env.iter().all(|(_, v)| !v.contains("hunter2")));
        let hex_secret: String = "hunter2".bytes().map(|b| format!("{b:02x}")).collect();
        assert!(env.iter().all(|(_, v)| !v.contains(&hex_secret)));
        let creds = a.credentials(vec![7; 32]);
        let back = AmLaunch::from_vars(lookup(&env))
            .unwrap()
            .with_secret_conf(&creds)
            .unwrap();
        assert_eq!(back, a);
    }

    #[test]
    fn user_text_in_the_environment_is_hex() {
        let mut a = sample();
        a.app_name = "n$(touch f)\"{{HOME}}<LOG_DIR>".into();
        let env = a.to_env();
        let name = &env.iter().find(|(k, _)| k == APP_NAME).unwrap().1;
        assert!(name.starts_with("hex:") && !name.contains('$'), "{name}");
        assert_eq!(
            AmLaunch::from_vars(lookup(&env)).unwrap().app_name,
            a.app_name
        );
    }

    #[test]
    fn commands_quote_arguments() {
        assert_eq!(
            container_command(&["hdfs:///in".into(), "it's".into(), "{".into()]),
            r"./spindle-app 'hdfs:///in' 'it'\\''s' ''\$'\\x7b''' 1><LOG_DIR>/stdout 2><LOG_DIR>/stderr"
        );
        assert_eq!(
            container_command(&[]),
            "./spindle-app 1><LOG_DIR>/stdout 2><LOG_DIR>/stderr"
        );
    }
}
