//! Every `spindle.*` key and `SPINDLE_*` variable, declared once with its
//! type, default and a line of doc (as Spark's `config.scala`), the one typed
//! way to read them ([`Conf`]), the check `spindle submit` runs on `--conf`,
//! and the tables of `docs/configuration.md`, generated from this file.
//!
//! Sizes are written as spark-submit takes them (`512m`, `2g`, a bare number
//! is MiB) and durations as Hadoop's (`500ms`, `2s`, `1m`; a bare number is
//! milliseconds): both go through Hadoop's parsers in `spindle-hadoop`.

use std::collections::BTreeMap;
use std::time::Duration;

use spindle_hadoop::config::{TimeUnit, parse_duration, parse_size};

use crate::Error;

/// How a value is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `true` or `false`.
    Bool,
    /// A whole number, 0 to 2^31 - 1.
    Count,
    /// A memory size: `512m`, `2g`; a bare number is MiB.
    SizeMb,
    /// A duration: `500ms`, `2s`, `1m`; a bare number is milliseconds.
    Duration,
    /// Free text.
    Text,
}

/// Who sets it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The user, with `spindle submit --conf KEY=VALUE` (and its variable, if any).
    Conf,
    /// The user, in a driver program's environment.
    Env,
    /// Spindle's launchers, in the environment of the processes they start.
    Launch,
}

/// One setting.
#[derive(Debug)]
pub struct Setting {
    /// Its `--conf` key, for [`Scope::Conf`].
    pub key: Option<&'static str>,
    /// Its environment variable.
    pub var: Option<&'static str>,
    /// How its value is written.
    pub kind: Kind,
    /// The value when unset, as it would be written; `None` when computed.
    pub default: Option<&'static str>,
    /// The default as the docs say it, when computed.
    pub default_doc: &'static str,
    /// Who sets it.
    pub scope: Scope,
    /// One line: what it does.
    pub doc: &'static str,
    /// Earlier keys or variables that still work, with a deprecation warning.
    pub renamed_from: &'static [&'static str],
}

impl Setting {
    /// The `--conf` key, else the variable: how messages name it.
    pub const fn name(&self) -> &'static str {
        match (self.key, self.var) {
            (Some(k), _) => k,
            (None, Some(v)) => v,
            (None, None) => panic!("a setting has a key or a variable"),
        }
    }

    /// The environment variable (for settings that have one).
    pub const fn var_name(&self) -> &'static str {
        match self.var {
            Some(v) => v,
            None => panic!("this setting has no variable"),
        }
    }

    /// Whether `value` is written as this setting's kind wants.
    pub fn check(&self, value: &str) -> Result<(), Error> {
        let err = |reason: String| Error::Setting {
            name: self.name().to_string(),
            value: value.to_string(),
            reason,
        };
        match self.kind {
            Kind::Bool => parse_bool(value).map(drop).map_err(err),
            Kind::Count => parse_count(value).map(drop).map_err(err),
            Kind::SizeMb => parse_size_mb(value).map(drop).map_err(err),
            Kind::Duration => parse_duration(value.trim(), TimeUnit::Millis)
                .map(drop)
                .map_err(err),
            Kind::Text => Ok(()),
        }
    }
}

const fn conf(
    key: &'static str,
    kind: Kind,
    default: Option<&'static str>,
    doc: &'static str,
) -> Setting {
    Setting {
        key: Some(key),
        var: None,
        kind,
        default,
        default_doc: "",
        scope: Scope::Conf,
        doc,
        renamed_from: &[],
    }
}

const fn env(
    var: &'static str,
    kind: Kind,
    default: Option<&'static str>,
    doc: &'static str,
) -> Setting {
    Setting {
        key: None,
        var: Some(var),
        kind,
        default,
        default_doc: "",
        scope: Scope::Env,
        doc,
        renamed_from: &[],
    }
}

const fn launch(var: &'static str, doc: &'static str) -> Setting {
    Setting {
        key: None,
        var: Some(var),
        kind: Kind::Text,
        default: None,
        default_doc: "",
        scope: Scope::Launch,
        doc,
        renamed_from: &[],
    }
}

// ------------------------------------------------------------ --conf keys

/// Counted executor failures after which the application fails.
pub const EXECUTOR_MAX_FAILURES: Setting = Setting {
    default_doc: "max(3, 2 × `--num-executors`)",
    ..conf(
        "spindle.executor.maxFailures",
        Kind::Count,
        None,
        "counted executor failures after which the application fails",
    )
};
/// An executor container's memory on top of `--executor-memory`.
pub const EXECUTOR_MEMORY_OVERHEAD: Setting = Setting {
    default_doc: "max(384m, 10 % of `--executor-memory`)",
    ..conf(
        "spindle.executor.memoryOverhead",
        Kind::SizeMb,
        None,
        "memory an executor's container gets on top of `--executor-memory`",
    )
};
/// The driver's (cluster mode: the AM's) container memory on top of `--driver-memory`.
pub const DRIVER_MEMORY_OVERHEAD: Setting = Setting {
    default_doc: "max(384m, 10 % of `--driver-memory`)",
    ..conf(
        "spindle.driver.memoryOverhead",
        Kind::SizeMb,
        None,
        "the same for the driver's (cluster mode: the ApplicationMaster's) container",
    )
};
/// Client deploy mode: the ApplicationMaster's memory.
pub const YARN_AM_MEMORY: Setting = conf(
    "spindle.yarn.am.memory",
    Kind::SizeMb,
    Some("256m"),
    "client deploy mode: the ApplicationMaster's memory",
);
/// Delay scheduling: how long a stage waits per locality level.
pub const LOCALITY_WAIT: Setting = Setting {
    var: Some("SPINDLE_LOCALITY_WAIT"),
    ..conf(
        "spindle.locality.wait",
        Kind::Duration,
        Some("500ms"),
        "how long a stage waits per locality level for a local launch before it runs tasks \
         less locally; `0` turns waiting off",
    )
};

/// Encryption of the connections between the application's own processes.
pub const NETWORK_CRYPTO_ENABLED: Setting = Setting {
    var: Some("SPINDLE_NETWORK_CRYPTO_ENABLED"),
    ..conf(
        "spindle.network.crypto.enabled",
        Kind::Bool,
        Some("true"),
        "encrypt the connections between the driver, the AM and the executors (TLS 1.3); `false` \
         leaves them authenticated but in plaintext: authentication cannot be turned off",
    )
};

/// More HDFS file systems to get delegation tokens for at submission (Kerberos).
pub const KERBEROS_FILE_SYSTEMS: Setting = conf(
    "spindle.kerberos.access.hadoopFileSystems",
    Kind::Text,
    None,
    "on a Kerberized cluster, comma-separated `hdfs://` file systems besides `fs.defaultFS` that \
     the application reads or writes: `spindle submit` gets an HDFS delegation token for each \
     (Spark 3's `spark.kerberos.access.hadoopFileSystems`)",
);

/// The CAs of the cluster's HTTPS endpoints (`yarn.http.policy=HTTPS_ONLY`).
pub const SSL_CA: Setting = Setting {
    var: Some("SPINDLE_SSL_CA"),
    ..conf(
        "spindle.ssl.ca",
        Kind::Text,
        None,
        "a PEM file of the CA certificates that the cluster's HTTPS web endpoints (RM, proxy, \
         NodeManagers) are checked against; unset: the trust store of the `ssl-client.xml` \
         beside the site files when it is PEM, else the system's CA bundle. The variable serves \
         `status`, `kill`, `logs` and `list`, which take no `--conf`",
    )
};
/// Whether the driver writes an event log for `spindle history`.
pub const EVENT_LOG_ENABLED: Setting = conf(
    "spindle.eventLog.enabled",
    Kind::Bool,
    Some("true"),
    "write the application's event log (jobs, stages, tasks, executors; secrets redacted) for \
     `spindle history`",
);
/// Where event logs go.
pub const EVENT_LOG_DIR: Setting = Setting {
    default_doc: "`/user/<user>/.spindle/events` in `fs.defaultFS` when `HADOOP_CONF_DIR` names a \
                  cluster, else `$HOME/.spindle/events`",
    ..conf(
        "spindle.eventLog.dir",
        Kind::Text,
        None,
        "the directory of event logs (`hdfs://`, `file://` or a path in the default file \
         system): one subdirectory `<appId>_<attempt>` per application attempt",
    )
};
/// The event log's compression.
pub const EVENT_LOG_CODEC: Setting = conf(
    "spindle.eventLog.compression.codec",
    Kind::Text,
    Some("gzip"),
    "`gzip` or `zstd`: each flush is one complete compressed stream, so a crashed driver's log \
     stays readable",
);
/// When the event log starts a new part file.
pub const EVENT_LOG_ROLLING_MAX_SIZE: Setting = conf(
    "spindle.eventLog.rolling.maxFileSize",
    Kind::SizeMb,
    Some("128m"),
    "an event log part file this large (compressed) is closed and the next one begun",
);
/// How long `spindle history` keeps event logs.
pub const HISTORY_MAX_AGE: Setting = conf(
    "spindle.history.maxAge",
    Kind::Duration,
    Some("7d"),
    "`spindle history` removes event logs unchanged for longer (at start and every hour)",
);
/// The history server the YARN UI links to after the application ends.
pub const YARN_HISTORY_SERVER_ADDRESS: Setting = conf(
    "spindle.yarn.historyServer.address",
    Kind::Text,
    None,
    "`host:port` (or a URL) of `spindle history`: the AM leaves \
     `http://<address>/history/<appId>` as the final tracking URL, so the YARN UI's History \
     link works after the application ends",
);
/// The YARN partition executors run in (Spark's `spark.yarn.executor.nodeLabelExpression`).
pub const YARN_EXECUTOR_NODE_LABEL: Setting = conf(
    "spindle.yarn.executor.nodeLabelExpression",
    Kind::Text,
    None,
    "the node label (partition) the AM asks YARN to place executors in, for example the \
     nodes of one OS release or hardware; unset: the queue's default partition. The AM itself \
     stays in the default partition",
);
/// Dynamic allocation: executors follow the work (after Spark's).
pub const DYN_ENABLED: Setting = conf(
    "spindle.dynamicAllocation.enabled",
    Kind::Bool,
    Some("false"),
    "ask for executors as tasks wait and give idle ones back (their shuffle output and cached \
     partitions move to executors that stay first, or to the staging directory when none stays, \
     so nothing is recomputed); `--num-executors` is then the initial count",
);
/// Dynamic allocation: executors kept however idle.
pub const DYN_MIN: Setting = conf(
    "spindle.dynamicAllocation.minExecutors",
    Kind::Count,
    Some("0"),
    "dynamic allocation: executors kept however idle",
);
/// Dynamic allocation: the most executors asked for.
pub const DYN_MAX: Setting = Setting {
    default_doc: "unlimited",
    ..conf(
        "spindle.dynamicAllocation.maxExecutors",
        Kind::Count,
        None,
        "dynamic allocation: the most executors asked for",
    )
};
/// Dynamic allocation: executors asked for at the start.
pub const DYN_INITIAL: Setting = Setting {
    default_doc: "max(`minExecutors`, `--num-executors`)",
    ..conf(
        "spindle.dynamicAllocation.initialExecutors",
        Kind::Count,
        None,
        "dynamic allocation: executors asked for at the start",
    )
};
/// Dynamic allocation: how long an executor may idle before it is given back.
pub const DYN_IDLE_TIMEOUT: Setting = conf(
    "spindle.dynamicAllocation.executorIdleTimeout",
    Kind::Duration,
    Some("60s"),
    "dynamic allocation: an executor without a task this long is given back",
);
/// Dynamic allocation: the same for executors caching partitions.
pub const DYN_CACHED_IDLE_TIMEOUT: Setting = Setting {
    default_doc: "never",
    ..conf(
        "spindle.dynamicAllocation.cachedExecutorIdleTimeout",
        Kind::Duration,
        None,
        "dynamic allocation: the same for an executor caching partitions (they move to executors \
         that stay first; when none stays, to the application's staging directory, read back \
         from there when needed again)",
    )
};
/// Dynamic allocation: how long tasks wait before more executors are asked for.
pub const DYN_BACKLOG_TIMEOUT: Setting = conf(
    "spindle.dynamicAllocation.schedulerBacklogTimeout",
    Kind::Duration,
    Some("1s"),
    "dynamic allocation: tasks waiting this long make the driver ask for more executors",
);
/// Dynamic allocation: the interval of further asks while tasks keep waiting.
pub const DYN_SUSTAINED_BACKLOG_TIMEOUT: Setting = Setting {
    default_doc: "`schedulerBacklogTimeout`",
    ..conf(
        "spindle.dynamicAllocation.sustainedSchedulerBacklogTimeout",
        Kind::Duration,
        None,
        "dynamic allocation: while tasks keep waiting, more executors are asked for after each \
         such interval, twice as many each time (1, 2, 4, ...)",
    )
};
/// Tests only: a pause inside the job's output commit, so a test can fail a NameNode over there.
pub const TEST_COMMIT_PAUSE: Setting = conf(
    "spindle.test.commitPause",
    Kind::Text,
    None,
    "tests only: a local directory; after the first rename of each output commit the driver \
     writes `<dir>/paused` (the output path) and waits for `<dir>/resume` (at most 10 minutes), \
     so a test can fail the NameNode over in the middle of the commit",
);

// ------------------------------------------------- a driver's environment

/// Where the executors run.
pub const MASTER: Setting = env(
    "SPINDLE_MASTER",
    Kind::Text,
    Some("local[2]"),
    "`local`, `local[N]`, `local[*]`, or `yarn` (client deploy mode; needs `HADOOP_CONF_DIR`)",
);
/// Tasks an executor runs at once.
pub const EXECUTOR_CORES: Setting = env(
    "SPINDLE_EXECUTOR_CORES",
    Kind::Count,
    Some("1"),
    "tasks an executor runs at once",
);
/// Memory for cached partitions per executor, MiB.
pub const CACHE_MEMORY_MB: Setting = Setting {
    default_doc: "512 (under YARN: half of the executor memory)",
    ..env(
        "SPINDLE_CACHE_MEMORY_MB",
        Kind::Count,
        Some("512"),
        "memory for cached partitions per executor, MiB",
    )
};
/// Memory an aggregation holds before it spills, per executor, MiB.
pub const SHUFFLE_MEMORY_MB: Setting = Setting {
    default_doc: "256 (under YARN: a quarter of the executor memory)",
    ..env(
        "SPINDLE_SHUFFLE_MEMORY_MB",
        Kind::Count,
        Some("256"),
        "memory a map-side combine or a reducer holds before it spills, per executor, MiB",
    )
};
/// Job times and spills on stderr.
pub const VERBOSE: Setting = Setting {
    default_doc: "unset",
    ..env(
        "SPINDLE_VERBOSE",
        Kind::Text,
        None,
        "`1`: print job times, and what tasks spill (passed on to YARN executors from the AM's \
         environment, as are `RUST_BACKTRACE` and `RUST_LOG`)",
    )
};
/// Which log lines each process writes (`spindle_contract::logging`).
pub const LOG: Setting = Setting {
    default_doc: "`warn,spindle=info`",
    ..env(
        "SPINDLE_LOG",
        Kind::Text,
        None,
        "which log lines go to stderr, in `tracing`'s filter syntax (`debug`, \
         `spindle_am=debug,hdfs_native=info`; else `RUST_LOG`); passed on to the AM and the \
         executors",
    )
};
/// Client deploy mode: the address executors reach the driver by.
pub const DRIVER_HOST: Setting = Setting {
    default_doc: "the address on the route to the RM",
    ..env(
        "SPINDLE_DRIVER_HOST",
        Kind::Text,
        None,
        "client deploy mode: the address executors reach the driver by",
    )
};
/// Executors: directories for shuffle, spill and cache files.
pub const LOCAL_DIRS: Setting = Setting {
    default_doc: "YARN's `LOCAL_DIRS`",
    ..env(
        "SPINDLE_LOCAL_DIRS",
        Kind::Text,
        None,
        "executors: directories for shuffle, spill and cache files (comma-separated)",
    )
};
/// Executors: the host name other executors reach this one by.
pub const EXECUTOR_HOST: Setting = Setting {
    default_doc: "`NM_HOST` under YARN, else 127.0.0.1",
    ..env(
        "SPINDLE_EXECUTOR_HOST",
        Kind::Text,
        None,
        "executors: the host name other executors reach this one by",
    )
};

// --------------------------------------------- set by Spindle's launchers

/// `am` or `executor` ([`crate::Role`]).
pub const ROLE: Setting = launch("SPINDLE_ROLE", "`am` or `executor`: see `Role`");
/// An executor's driver.
pub const DRIVER_URL: Setting =
    launch("SPINDLE_DRIVER_URL", "where an executor reaches its driver");
/// An executor's id.
pub const EXECUTOR_ID: Setting = launch(
    "SPINDLE_EXECUTOR_ID",
    "an executor's id, unique in the application",
);
/// An executor's container memory, MiB, as YARN granted it: the executor
/// keeps its own resident memory below it (spilling, dropping cached blocks).
pub const CONTAINER_MEMORY_MB: Setting = launch(
    "SPINDLE_CONTAINER_MEMORY_MB",
    "an executor: its container's memory, MiB (YARN kills the container above it)",
);
/// Local mode: the application secret.
pub const APP_SECRET: Setting = launch("SPINDLE_APP_SECRET", "local mode: the application secret");
/// A file holding the application secret.
pub const APP_SECRET_FILE: Setting = launch(
    "SPINDLE_APP_SECRET_FILE",
    "a file holding the application secret",
);
/// The AM: `cluster` or `client`.
pub const DEPLOY_MODE: Setting = launch(
    "SPINDLE_DEPLOY_MODE",
    "the AM: `cluster` or `client` deploy mode",
);
/// The AM: the application's name.
pub const APP_NAME: Setting = launch("SPINDLE_APP_NAME", "the AM: the application's name");
/// The AM: the staging directory it removes at the end.
pub const STAGING_DIR: Setting = launch(
    "SPINDLE_STAGING_DIR",
    "the AM: `<home>/.spindleStaging/<appId>`, removed when the application ends",
);
/// The AM: files to localize into executors.
pub const LOCAL_RESOURCES: Setting = launch(
    "SPINDLE_LOCAL_RESOURCES",
    "the AM: the files every container gets (JSON)",
);
/// The AM: executors to start.
pub const NUM_EXECUTORS: Setting = launch("SPINDLE_NUM_EXECUTORS", "the AM: executors to start");
/// The AM: memory per executor, MiB.
pub const EXECUTOR_MEMORY_MB: Setting = launch(
    "SPINDLE_EXECUTOR_MEMORY_MB",
    "the AM: memory per executor, MiB",
);
/// The AM: memory overhead per executor, MiB.
pub const EXECUTOR_MEMORY_OVERHEAD_MB: Setting = launch(
    "SPINDLE_EXECUTOR_MEMORY_OVERHEAD_MB",
    "the AM: an executor container's memory overhead, MiB",
);
/// The `--conf` pairs, as a JSON object.
pub const CONF: Setting = launch(
    "SPINDLE_CONF",
    "the `--conf` pairs of `spindle submit` (JSON object)",
);
/// Client deploy mode: the queue.
pub const YARN_QUEUE: Setting = launch("SPINDLE_YARN_QUEUE", "client deploy mode: `--queue`");
/// Client deploy mode: the AM's memory, MiB.
pub const AM_MEMORY_MB: Setting = launch(
    "SPINDLE_AM_MEMORY_MB",
    "client deploy mode: the AM's memory, MiB",
);
/// Client deploy mode: the tags.
pub const YARN_TAGS: Setting = launch("SPINDLE_YARN_TAGS", "client deploy mode: `--tags`");
/// Client deploy mode: the priority.
pub const YARN_PRIORITY: Setting =
    launch("SPINDLE_YARN_PRIORITY", "client deploy mode: `--priority`");
/// Client deploy mode: the AM attempts.
pub const YARN_MAX_APP_ATTEMPTS: Setting = launch(
    "SPINDLE_YARN_MAX_APP_ATTEMPTS",
    "client deploy mode: `--max-app-attempts`",
);
/// A Kerberized cluster: the principal of `--principal`.
pub const KERBEROS_PRINCIPAL: Setting = launch(
    "SPINDLE_KERBEROS_PRINCIPAL",
    "Kerberos with `--principal/--keytab`: who the driver (client deploy mode) or the AM \
     (cluster deploy mode, to renew tokens) logs in as",
);
/// Client deploy mode on a Kerberized cluster: the keytab of `--keytab`.
pub const KERBEROS_KEYTAB: Setting = launch(
    "SPINDLE_KERBEROS_KEYTAB",
    "client deploy mode: the driver logs in from `--keytab` (Kerberos)",
);
/// Cluster deploy mode with `--keytab`: the keytab's copy in the staging directory.
pub const KERBEROS_STAGED_KEYTAB: Setting = launch(
    "SPINDLE_KERBEROS_STAGED_KEYTAB",
    "cluster deploy mode with `--keytab`: the `hdfs://` path of the keytab's private copy \
     (mode 600) in the application's staging directory, from which the AM logs in to fetch \
     new HDFS delegation tokens; removed with the directory",
);
/// Client deploy mode: an application already staged by `spindle submit`.
pub const YARN_APP_ID: Setting = launch(
    "SPINDLE_YARN_APP_ID",
    "client deploy mode: the application `spindle submit` created and staged",
);

/// Every setting, in the order the docs list them.
pub const ALL: &[&Setting] = &[
    &EXECUTOR_MAX_FAILURES,
    &EXECUTOR_MEMORY_OVERHEAD,
    &DRIVER_MEMORY_OVERHEAD,
    &YARN_AM_MEMORY,
    &LOCALITY_WAIT,
    &NETWORK_CRYPTO_ENABLED,
    &KERBEROS_FILE_SYSTEMS,
    &SSL_CA,
    &EVENT_LOG_ENABLED,
    &EVENT_LOG_DIR,
    &EVENT_LOG_CODEC,
    &EVENT_LOG_ROLLING_MAX_SIZE,
    &HISTORY_MAX_AGE,
    &YARN_HISTORY_SERVER_ADDRESS,
    &YARN_EXECUTOR_NODE_LABEL,
    &DYN_ENABLED,
    &DYN_MIN,
    &DYN_MAX,
    &DYN_INITIAL,
    &DYN_IDLE_TIMEOUT,
    &DYN_CACHED_IDLE_TIMEOUT,
    &DYN_BACKLOG_TIMEOUT,
    &DYN_SUSTAINED_BACKLOG_TIMEOUT,
    &TEST_COMMIT_PAUSE,
    &MASTER,
    &EXECUTOR_CORES,
    &CACHE_MEMORY_MB,
    &SHUFFLE_MEMORY_MB,
    &VERBOSE,
    &LOG,
    &DRIVER_HOST,
    &LOCAL_DIRS,
    &EXECUTOR_HOST,
    &ROLE,
    &DRIVER_URL,
    &EXECUTOR_ID,
    &CONTAINER_MEMORY_MB,
    &APP_SECRET,
    &APP_SECRET_FILE,
    &DEPLOY_MODE,
    &APP_NAME,
    &STAGING_DIR,
    &LOCAL_RESOURCES,
    &NUM_EXECUTORS,
    &EXECUTOR_MEMORY_MB,
    &EXECUTOR_MEMORY_OVERHEAD_MB,
    &CONF,
    &YARN_QUEUE,
    &AM_MEMORY_MB,
    &YARN_TAGS,
    &YARN_PRIORITY,
    &YARN_MAX_APP_ATTEMPTS,
    &KERBEROS_PRINCIPAL,
    &KERBEROS_KEYTAB,
    &KERBEROS_STAGED_KEYTAB,
    &YARN_APP_ID,
];

/// How a secret value is shown (Spark's text).
pub const REDACTED: &str = "*********(redacted)";

/// Whether a key names a secret, by Spark's default redaction pattern
/// `(?i)secret|password|token|access[.]key`: its value is never shown, and
/// never travels in a container's environment.
pub fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    ["secret", "password", "token", "access.key"]
        .iter()
        .any(|w| k.contains(w))
}

/// `value`, or [`REDACTED`] when `key` names a secret.
pub fn redacted<'a>(key: &str, value: &'a str) -> &'a str {
    if is_secret_key(key) { REDACTED } else { value }
}

/// Whether `SPINDLE_VERBOSE=1`: job times and spills go to stderr.
pub fn verbose() -> bool {
    std::env::var(VERBOSE.var_name()).is_ok_and(|v| v == "1")
}

// ---------------------------------------------------------------- parsing

fn parse_bool(s: &str) -> Result<bool, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err("not true or false".into()),
    }
}

fn parse_count(s: &str) -> Result<u32, String> {
    s.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| *n <= i32::MAX as u32)
        .ok_or_else(|| "not a whole number from 0 to 2147483647".into())
}

/// A memory size as spark-submit takes it (`512m`, `2g`, `1gb`; a bare
/// number is MiB), in MiB rounded up; at least 1 MiB.
pub fn parse_size_mb(s: &str) -> Result<u64, String> {
    let t = s.trim().to_ascii_lowercase();
    let t = match t.strip_suffix('b') {
        Some(n) if n.ends_with(|c: char| c.is_ascii_alphabetic()) => n.to_string(),
        Some(n) => format!("{n}b"),
        None => t,
    };
    let bytes = if t.ends_with(|c: char| c.is_ascii_digit()) {
        parse_size(&format!("{t}m"))
    } else if let Some(n) = t.strip_suffix('b') {
        parse_size(n)
    } else {
        parse_size(&t)
    }
    .map_err(|e| format!("{e} (e.g. 512m, 2g)"))?;
    match bytes.div_ceil(1 << 20) {
        0 => Err("must be at least 1 MiB".into()),
        mb => Ok(mb),
    }
}

// ------------------------------------------------------------------ Conf

/// The settings of one application: the `--conf` pairs, then the
/// environment, then the defaults; keys renamed since are read under their
/// new names with a warning.
#[derive(Clone, Debug, Default)]
pub struct Conf {
    pairs: BTreeMap<String, String>,
    warnings: Vec<String>,
}

impl Conf {
    /// From `--conf` pairs: unknown `spindle.*` keys get a warning naming the
    /// nearest known key, renamed ones a deprecation warning; a value that
    /// does not parse is an error naming the key.
    pub fn new(pairs: BTreeMap<String, String>) -> Result<Conf, Error> {
        let mut conf = Conf::default();
        for (key, value) in pairs {
            let key = match lookup(ALL, &key) {
                Some((s, false)) => {
                    s.check(&value)?;
                    key
                }
                Some((s, true)) => {
                    s.check(&value)?;
                    conf.warnings
                        .push(format!("{key} is deprecated: use {}", s.name()));
                    s.name().to_string()
                }
                None if key.starts_with("spindle.") => {
                    conf.warnings.push(match nearest(ALL, &key) {
                        Some(n) => format!("unknown key {key} (did you mean {n}?)"),
                        None => format!("unknown key {key}"),
                    });
                    key
                }
                None => key,
            };
            conf.pairs.insert(key, value);
        }
        Ok(conf)
    }

    /// The pairs `spindle submit` handed this driver or AM in `SPINDLE_CONF`.
    pub fn from_env() -> Result<Conf, Error> {
        Conf::decode(&std::env::var(CONF.var_name()).unwrap_or_default())
    }

    /// The pairs as `SPINDLE_CONF` carries them (JSON, made safe for a
    /// container's launch script).
    pub fn encode(&self) -> String {
        crate::env_value::encode(
            &serde_json::to_string(&self.pairs).expect("string pairs serialize"),
        )
    }

    /// Reads what [`Conf::encode`] (or a hand-written JSON object) gives.
    pub fn decode(raw: &str) -> Result<Conf, Error> {
        Conf::new(decode_pairs(raw)?)
    }

    /// The pairs, under current key names.
    pub fn pairs(&self) -> &BTreeMap<String, String> {
        &self.pairs
    }

    /// What a user should hear about the pairs (unknown and renamed keys).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The value and where it came from: the `--conf` key, then the
    /// variable (and the variables it was renamed from), then the default.
    fn raw(&self, s: &Setting) -> Option<(String, String)> {
        if let Some(v) = s.key.and_then(|k| self.pairs.get(k)) {
            return Some((s.name().to_string(), v.clone()));
        }
        let vars = s
            .var
            .iter()
            .chain(s.renamed_from.iter().filter(|r| !r.contains('.')));
        for var in vars {
            if let Ok(v) = std::env::var(var) {
                return Some((var.to_string(), v));
            }
        }
        s.default.map(|d| (s.name().to_string(), d.to_string()))
    }

    fn parsed<T>(
        &self,
        s: &Setting,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Option<T>, Error> {
        match self.raw(s) {
            None => Ok(None),
            Some((name, value)) => parse(&value).map(Some).map_err(|reason| Error::Setting {
                name,
                value,
                reason,
            }),
        }
    }

    /// A [`Kind::Duration`] setting (its default when unset).
    pub fn duration(&self, s: &Setting) -> Result<Option<Duration>, Error> {
        self.parsed(s, |v| parse_duration(v.trim(), TimeUnit::Millis))
    }

    /// A [`Kind::SizeMb`] setting, MiB.
    pub fn size_mb(&self, s: &Setting) -> Result<Option<u64>, Error> {
        self.parsed(s, parse_size_mb)
    }

    /// A [`Kind::Count`] setting.
    pub fn count(&self, s: &Setting) -> Result<Option<u32>, Error> {
        self.parsed(s, parse_count)
    }

    /// A [`Kind::Bool`] setting.
    pub fn bool(&self, s: &Setting) -> Result<Option<bool>, Error> {
        self.parsed(s, parse_bool)
    }

    /// A [`Kind::Text`] setting.
    pub fn text(&self, s: &Setting) -> Option<String> {
        self.raw(s).map(|(_, v)| v)
    }
}

/// `--conf` pairs as `SPINDLE_CONF` carries them.
pub fn encode_pairs(pairs: &BTreeMap<String, String>) -> String {
    crate::env_value::encode(&serde_json::to_string(pairs).expect("string pairs serialize"))
}

/// `SPINDLE_CONF`'s JSON object; empty means none.
fn decode_pairs(raw: &str) -> Result<BTreeMap<String, String>, Error> {
    let raw = crate::env_value::decode(CONF.name(), raw)?;
    if raw.trim().is_empty() {
        return Ok(BTreeMap::new());
    }
    serde_json::from_str(&raw).map_err(|e| Error::Setting {
        name: CONF.name().into(),
        value: raw.chars().take(80).collect(),
        reason: format!("not a JSON object of strings: {e}"),
    })
}

/// The setting a `--conf` key names, and whether under an earlier name.
fn lookup<'a>(all: &[&'a Setting], key: &str) -> Option<(&'a Setting, bool)> {
    all.iter().find_map(|s| {
        if s.scope != Scope::Conf {
            None
        } else if s.key == Some(key) {
            Some((*s, false))
        } else if s.renamed_from.contains(&key) {
            Some((*s, true))
        } else {
            None
        }
    })
}

/// The known `--conf` key closest to `key`, if close enough to be a typo.
fn nearest(all: &[&Setting], key: &str) -> Option<&'static str> {
    all.iter()
        .filter_map(|s| s.key)
        .map(|k| {
            (
                edit_distance(&k.to_ascii_lowercase(), &key.to_ascii_lowercase()),
                k,
            )
        })
        .filter(|(d, k)| *d <= k.len() / 3)
        .min()
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (row[j + 1] + 1)
                .min(row[j] + 1)
                .min(diag + usize::from(ca != *cb));
            diag = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

// ------------------------------------------------------------------- docs

/// The generated part of `docs/configuration.md`.
pub fn markdown() -> String {
    let mut out = String::new();
    let table = |out: &mut String, scope: Scope, title: &str, head: &str| {
        out.push_str(&format!(
            "### {title}\n\n| {head} | default | meaning |\n|---|---|---|\n"
        ));
        for s in ALL.iter().filter(|s| s.scope == scope) {
            let name = match (s.key, s.var) {
                (Some(k), Some(v)) => format!("`{k}` (`{v}`)"),
                _ => format!("`{}`", s.name()),
            };
            let default = match (s.default_doc, s.default) {
                ("", Some(d)) => format!("`{d}`"),
                ("", None) => "none".to_string(),
                (doc, _) => doc.to_string(),
            };
            out.push_str(&format!("| {name} | {default} | {} |\n", s.doc));
        }
        out.push('\n');
    };
    table(&mut out, Scope::Conf, "`--conf` keys", "key (variable)");
    table(
        &mut out,
        Scope::Env,
        "A driver program's environment",
        "variable",
    );
    table(
        &mut out,
        Scope::Launch,
        "Set by Spindle's launchers (not for users)",
        "variable",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_well_formed() {
        let mut seen = std::collections::HashSet::new();
        for s in ALL {
            for n in s.key.iter().chain(s.var.iter()).chain(s.renamed_from) {
                assert!(seen.insert(*n), "{n} declared twice");
            }
            assert!(s.key.is_none_or(|k| k.starts_with("spindle.")), "{s:?}");
            assert!(s.var.is_none_or(|v| v.starts_with("SPINDLE_")), "{s:?}");
            assert_eq!(s.key.is_some(), s.scope == Scope::Conf, "{s:?}");
            if let Some(d) = s.default {
                s.check(d).unwrap();
            }
        }
    }

    #[test]
    fn sizes_parse_like_spark_through_hadoops_parser() {
        assert_eq!(parse_size_mb("512m"), Ok(512));
        assert_eq!(parse_size_mb("2g"), Ok(2048));
        assert_eq!(parse_size_mb("2G"), Ok(2048));
        assert_eq!(parse_size_mb("1gb"), Ok(1024));
        assert_eq!(parse_size_mb("1024"), Ok(1024));
        assert_eq!(parse_size_mb("1048576k"), Ok(1024));
        assert_eq!(parse_size_mb("1t"), Ok(1 << 20));
        assert_eq!(parse_size_mb("1048577b"), Ok(2));
        for bad in ["", "m", "12q", "-1g", "1.5g", "0", "99999999999999999999g"] {
            assert!(parse_size_mb(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn values_are_checked_naming_the_key() {
        let bad = |k: &str, v: &str| {
            let pairs = BTreeMap::from([(k.to_string(), v.to_string())]);
            Conf::new(pairs).unwrap_err().to_string()
        };
        let e = bad("spindle.locality.wait", "1e20s");
        assert!(e.starts_with("spindle.locality.wait=\"1e20s\": "), "{e}");
        assert!(bad("spindle.locality.wait", "99999999999999999999d").contains("locality"));
        assert!(bad("spindle.executor.maxFailures", "3000000000").contains("maxFailures"));
        assert!(bad("spindle.executor.memoryOverhead", "lots").contains("memoryOverhead"));
        let ok = Conf::new(BTreeMap::from([
            ("spindle.locality.wait".to_string(), "2s".to_string()),
            (
                "spindle.executor.memoryOverhead".to_string(),
                "1g".to_string(),
            ),
        ]))
        .unwrap();
        assert_eq!(
            ok.duration(&LOCALITY_WAIT).unwrap(),
            Some(Duration::from_secs(2))
        );
        assert_eq!(ok.size_mb(&EXECUTOR_MEMORY_OVERHEAD).unwrap(), Some(1024));
        assert_eq!(ok.size_mb(&DRIVER_MEMORY_OVERHEAD).unwrap(), None);
        assert_eq!(ok.size_mb(&YARN_AM_MEMORY).unwrap(), Some(256));
        assert!(ok.warnings().is_empty());
    }

    #[test]
    fn unknown_keys_are_warned_with_the_nearest_and_other_keys_pass() {
        let c = Conf::new(BTreeMap::from([
            ("spindle.localty.wait".to_string(), "1s".to_string()),
            ("spindle.nothing.like.it".to_string(), "x".to_string()),
            ("fs.something".to_string(), "y".to_string()),
        ]))
        .unwrap();
        assert_eq!(
            c.warnings(),
            [
                "unknown key spindle.localty.wait (did you mean spindle.locality.wait?)",
                "unknown key spindle.nothing.like.it",
            ]
        );
        assert_eq!(c.pairs().len(), 3);
    }

    #[test]
    fn renamed_keys_keep_working_with_a_warning() {
        const RENAMED: Setting = Setting {
            renamed_from: &["spindle.old.wait"],
            ..LOCALITY_WAIT
        };
        let all = [&RENAMED];
        assert_eq!(
            lookup(&all, "spindle.old.wait").map(|(s, old)| (s.name(), old)),
            Some(("spindle.locality.wait", true))
        );
        assert_eq!(
            lookup(&all, "spindle.locality.wait").map(|(_, old)| old),
            Some(false)
        );
        assert_eq!(
            nearest(&all, "spindle.locality.wiat"),
            Some("spindle.locality.wait")
        );
    }

    #[test]
    fn secrets_are_known_by_sparks_pattern() {
        for k in [
            "spindle.s3.secret",
            "x.PASSWORD",
            "fs.azure.account.Token",
            "fs.s3a.access.key",
        ] {
            assert!(is_secret_key(k), "{k}");
            assert_eq!(redacted(k, "v"), REDACTED);
        }
        for k in ["spindle.locality.wait", "fs.s3a.accesskey", "tokens"] {
            assert_eq!(is_secret_key(k), k == "tokens", "{k}");
        }
        assert_eq!(redacted("spindle.locality.wait", "2s"), "2s");
    }

    #[test]
    fn pairs_travel_as_json() {
        let c = Conf::new(BTreeMap::from([("a".to_string(), "b\"$(x)".to_string())])).unwrap();
        assert_eq!(decode_pairs(&c.encode()).unwrap(), *c.pairs());
        assert!(decode_pairs("").unwrap().is_empty());
        assert!(
            decode_pairs("[1]")
                .unwrap_err()
                .to_string()
                .starts_with("SPINDLE_CONF=")
        );
    }

    /// `docs/configuration.md` holds [`markdown`] between its markers; set
    /// `SPINDLE_WRITE_DOCS=1` to rewrite it after changing a setting.
    #[test]
    fn the_configuration_page_is_generated_from_this_registry() {
        const BEGIN: &str = "<!-- generated from contract/src/settings.rs: do not edit -->\n";
        const END: &str = "<!-- end of generated part -->";
        let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR");
        let path = std::path::Path::new(&dir).join("../docs/configuration.md");
        let page = std::fs::read_to_string(&path).unwrap();
        let (Some(b), Some(e)) = (page.find(BEGIN), page.find(END)) else {
            panic!("{} lacks the generated-part markers", path.display());
        };
        let generated = &page[b + BEGIN.len()..e];
        if generated != markdown() {
            if std::env::var_os("SPINDLE_WRITE_DOCS").is_some() {
                let new = format!("{}{BEGIN}{}{}", &page[..b], markdown(), &page[e..]);
                std::fs::write(&path, new).unwrap();
            } else {
                panic!(
                    "docs/configuration.md is out of date with contract/src/settings.rs: \
                     run SPINDLE_WRITE_DOCS=1 cargo test -p spindle-contract"
                );
            }
        }
    }
}
