//! Hadoop's `*-site.xml` configuration, read the way Hadoop's `Configuration`
//! reads it: later files override earlier ones unless a key was marked
//! `final`, values expand `${key}` and `${env.NAME}`, and typed getters accept
//! Hadoop's suffixes (`512m`, `30s`). Keys Spindle relies on have Hadoop's
//! defaults built in, so a missing file or key behaves as on a real cluster.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::{Error, Result};

/// The files a client reads, in Hadoop's order (core first).
pub const SITE_FILES: [&str; 3] = ["core-site.xml", "hdfs-site.xml", "yarn-site.xml"];

/// Site files are kilobytes; a bigger one is refused before it is read.
const MAX_FILE_BYTES: u64 = 16 << 20;
/// Hadoop stops expanding after this many substitutions (`Configuration.MAX_SUBST`).
const MAX_SUBST: usize = 20;

/// Where a value came from when no file set it.
const DEFAULT_SOURCE: &str = "(Hadoop default)";

/// Hadoop's defaults (from core-default.xml, hdfs-default.xml and
/// yarn-default.xml of Hadoop 3.x) for the keys Spindle reads.
const DEFAULTS: &[(&str, &str)] = &[
    ("fs.defaultFS", "file:///"),
    ("hadoop.security.authentication", "simple"),
    ("hadoop.rpc.protection", "authentication"),
    ("ipc.client.connect.timeout", "20000"),
    ("ipc.client.connect.max.retries", "10"),
    ("ipc.client.rpc-timeout.ms", "120000"),
    ("ipc.ping.interval", "60000"),
    ("ipc.maximum.data.length", "134217728"),
    ("dfs.replication", "3"),
    ("dfs.blocksize", "134217728"),
    ("dfs.client.use.datanode.hostname", "false"),
    ("yarn.http.policy", "HTTP_ONLY"),
    ("yarn.resourcemanager.hostname", "0.0.0.0"),
    (
        "yarn.resourcemanager.address",
        "${yarn.resourcemanager.hostname}:8032",
    ),
    (
        "yarn.resourcemanager.scheduler.address",
        "${yarn.resourcemanager.hostname}:8030",
    ),
    (
        "yarn.resourcemanager.webapp.address",
        "${yarn.resourcemanager.hostname}:8088",
    ),
    (
        "yarn.resourcemanager.webapp.https.address",
        "${yarn.resourcemanager.hostname}:8090",
    ),
    ("yarn.resourcemanager.ha.enabled", "false"),
    ("yarn.resourcemanager.am.max-attempts", "2"),
    ("yarn.resourcemanager.connect.max-wait.ms", "900000"),
    ("yarn.resourcemanager.connect.retry-interval.ms", "30000"),
    ("yarn.scheduler.minimum-allocation-mb", "1024"),
    ("yarn.scheduler.maximum-allocation-mb", "8192"),
    ("yarn.scheduler.minimum-allocation-vcores", "1"),
    ("yarn.scheduler.maximum-allocation-vcores", "4"),
    ("yarn.am.liveness-monitor.expiry-interval-ms", "600000"),
    ("yarn.log-aggregation-enable", "false"),
    ("yarn.nodemanager.remote-app-log-dir", "/tmp/logs"),
];

/// Deprecated keys Hadoop still honours, with their replacements (from
/// Hadoop's built-in deprecation table; only keys Spindle reads).
const DEPRECATED: &[(&str, &str)] = &[("fs.default.name", "fs.defaultFS")];

/// The key a deprecated key stands for (itself when not deprecated).
fn canonical(key: &str) -> &str {
    DEPRECATED
        .iter()
        .find(|(old, _)| *old == key)
        .map_or(key, |(_, new)| new)
}

/// Default ports of the RM services, used with `yarn.resourcemanager.hostname[.<id>]`.
const RM_RPC_PORT: u16 = 8032;
const RM_SCHEDULER_PORT: u16 = 8030;
const RM_WEBAPP_PORT: u16 = 8088;
const RM_WEBAPP_HTTPS_PORT: u16 = 8090;

#[derive(Clone, Debug)]
struct Property {
    value: String,
    source: String,
    is_final: bool,
}

/// A loaded Hadoop configuration. Cheap to clone; immutable once loaded
/// except through [`Configuration::set`].
#[derive(Clone, Debug, Default)]
pub struct Configuration {
    props: BTreeMap<String, Property>,
    files: Vec<PathBuf>,
}

/// One ResourceManager's addresses (one entry per HA id, or one without HA).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RmAddresses {
    /// The HA id (`rm1`), `None` without HA.
    pub id: Option<String>,
    /// ApplicationClientProtocol, `host:port` (`yarn.resourcemanager.address`).
    pub rpc: String,
    /// ApplicationMasterProtocol, `host:port` (`yarn.resourcemanager.scheduler.address`).
    pub scheduler: String,
    /// The web UI and REST API base URL, e.g. `http://host:8088`.
    pub web: String,
}

/// The unit a bare number means in a duration value (Hadoop's
/// `getTimeDuration` takes it from the caller).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeUnit {
    Nanos,
    Micros,
    Millis,
    Seconds,
    Minutes,
    Hours,
    Days,
}

impl TimeUnit {
    fn nanos(self) -> u128 {
        match self {
            TimeUnit::Nanos => 1,
            TimeUnit::Micros => 1_000,
            TimeUnit::Millis => 1_000_000,
            TimeUnit::Seconds => 1_000_000_000,
            TimeUnit::Minutes => 60_000_000_000,
            TimeUnit::Hours => 3_600_000_000_000,
            TimeUnit::Days => 86_400_000_000_000,
        }
    }
}

impl Configuration {
    /// An empty configuration: every getter answers Hadoop's default.
    pub fn new() -> Self {
        Self::default()
    }

    /// The directories searched for the site files, in order: `HADOOP_CONF_DIR`,
    /// `YARN_CONF_DIR`, `HADOOP_HOME/etc/hadoop` (those that are set).
    pub fn conf_dirs_from_env() -> Vec<PathBuf> {
        let mut dirs = Vec::new();
        for var in ["HADOOP_CONF_DIR", "YARN_CONF_DIR"] {
            if let Some(v) = std::env::var_os(var).filter(|v| !v.is_empty()) {
                dirs.push(PathBuf::from(v));
            }
        }
        if let Some(home) = std::env::var_os("HADOOP_HOME").filter(|v| !v.is_empty()) {
            dirs.push(Path::new(&home).join("etc").join("hadoop"));
        }
        dirs
    }

    /// Loads the site files from the directories of [`Self::conf_dirs_from_env`]:
    /// each file is taken from the first directory that has it. With none of
    /// the variables set, the result holds only Hadoop's defaults.
    pub fn from_env() -> Result<Self> {
        Self::load_dirs(&Self::conf_dirs_from_env())
    }

    /// Loads `core-site.xml`, `hdfs-site.xml` and `yarn-site.xml` from `dir`
    /// (missing files are skipped; a directory that does not exist is an error).
    pub fn load_dir(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref();
        if !dir.is_dir() {
            return Err(Error::Config {
                file: dir.display().to_string(),
                key: "(directory)".into(),
                reason: "not a directory".into(),
            });
        }
        Self::load_dirs(&[dir.to_path_buf()])
    }

    fn load_dirs(dirs: &[PathBuf]) -> Result<Self> {
        let mut conf = Self::new();
        for name in SITE_FILES {
            if let Some(path) = dirs.iter().map(|d| d.join(name)).find(|p| p.is_file()) {
                conf.add_file(&path)?;
            }
        }
        Ok(conf)
    }

    /// The files loaded so far, in order.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// Adds one XML resource from a file; its values override earlier ones
    /// except those marked final.
    pub fn add_file(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let file_err = |reason: String| Error::Config {
            file: path.display().to_string(),
            key: "(file)".into(),
            reason,
        };
        let len = std::fs::metadata(path)
            .map_err(|e| file_err(format!("cannot read: {e}")))?
            .len();
        if len > MAX_FILE_BYTES {
            return Err(file_err(format!(
                "{len} bytes, over the {} MiB a site file may have",
                MAX_FILE_BYTES >> 20
            )));
        }
        let text =
            std::fs::read_to_string(path).map_err(|e| file_err(format!("cannot read: {e}")))?;
        self.add_xml(&path.display().to_string(), &text)?;
        self.files.push(path.to_path_buf());
        Ok(())
    }

    /// Adds one XML resource given as text; `source` names it in errors.
    /// Accepts Hadoop's two property forms: child elements
    /// (`<name>`, `<value>`, `<final>`) and attributes (`name=`, `value=`, `final=`).
    pub fn add_xml(&mut self, source: &str, text: &str) -> Result<()> {
        let xml_err = |reason: String| Error::Config {
            file: source.to_string(),
            key: "(xml)".into(),
            reason,
        };
        let doc =
            roxmltree::Document::parse(text).map_err(|e| xml_err(format!("malformed XML: {e}")))?;
        let root = doc.root_element();
        if root.tag_name().name() != "configuration" {
            return Err(xml_err(format!(
                "root element is <{}>, expected <configuration>",
                root.tag_name().name()
            )));
        }
        for prop in root.children().filter(|n| n.is_element()) {
            if prop.tag_name().name() != "property" {
                // Hadoop ignores unknown elements at this level (e.g. xi:include
                // fallbacks); so do we.
                continue;
            }
            let line = doc.text_pos_at(prop.range().start).row;
            let mut name = prop.attribute("name").map(str::to_string);
            let mut value = prop.attribute("value").map(str::to_string);
            let mut is_final = prop.attribute("final").map(str::to_string);
            for field in prop.children().filter(|n| n.is_element()) {
                let text: String = field
                    .children()
                    .filter(|c| c.is_text())
                    .filter_map(|c| c.text())
                    .collect();
                match field.tag_name().name() {
                    "name" => name = Some(text.trim().to_string()),
                    "value" => value = Some(text),
                    "final" => is_final = Some(text.trim().to_string()),
                    _ => {}
                }
            }
            let Some(name) = name.filter(|n| !n.is_empty()) else {
                return Err(xml_err(format!("line {line}: <property> without a <name>")));
            };
            let is_final = match is_final.as_deref().map(str::trim) {
                None | Some("") => false,
                Some(f) => parse_bool(f).ok_or_else(|| Error::Config {
                    file: source.to_string(),
                    key: name.clone(),
                    reason: format!("<final> is {f:?}, expected true or false"),
                })?,
            };
            // Hadoop ignores a property without a value, or with an empty
            // one: it neither sets the key nor overrides an earlier value.
            let Some(value) = value.filter(|v| !v.is_empty()) else {
                continue;
            };
            // A deprecated key sets its replacement, as in Hadoop.
            let name = canonical(&name).to_string();
            if let Some(old) = self.props.get(&name)
                && old.is_final
            {
                continue;
            }
            self.props.insert(
                name,
                Property {
                    value,
                    source: format!("{source}:{line}"),
                    is_final,
                },
            );
        }
        Ok(())
    }

    /// Sets a value in code (overrides files, unless the key is final there).
    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        let key = canonical(key);
        if self.props.get(key).is_some_and(|p| p.is_final) {
            return;
        }
        self.props.insert(
            key.to_string(),
            Property {
                value: value.into(),
                source: "(set in code)".into(),
                is_final: false,
            },
        );
    }

    /// The value as written (no expansion), falling back to Hadoop's default.
    pub fn get_raw(&self, key: &str) -> Option<&str> {
        let key = canonical(key);
        match self.props.get(key) {
            Some(p) => Some(&p.value),
            None => DEFAULTS.iter().find(|(k, _)| *k == key).map(|(_, v)| *v),
        }
    }

    /// Where the value of `key` came from: `file:line`, or Hadoop's default.
    pub fn source(&self, key: &str) -> &str {
        self.props
            .get(canonical(key))
            .map_or(DEFAULT_SOURCE, |p| &p.source)
    }

    /// Whether `key` is set by a loaded file or in code (defaults do not count).
    pub fn is_set(&self, key: &str) -> bool {
        self.props.contains_key(canonical(key))
    }

    /// Every key set by files or in code, sorted.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.props.keys().map(String::as_str)
    }

    fn err(&self, key: &str, reason: String) -> Error {
        Error::Config {
            file: self.source(key).to_string(),
            key: key.to_string(),
            reason,
        }
    }

    /// The value with `${key}` and `${env.NAME}` (also `${env.NAME:-default}`
    /// and `${env.NAME-default}`) expanded as Hadoop does: innermost first, an
    /// unknown variable stops expansion and is left as written, a value that
    /// refers to itself is returned unexpanded, and more than 20 substitutions
    /// is an error. Unlike Hadoop, which looks at the JVM's system properties
    /// first, there are none here: `${user.name}` resolves only if a file
    /// sets `user.name`.
    pub fn get(&self, key: &str) -> Result<Option<String>> {
        let Some(raw) = self.get_raw(key) else {
            return Ok(None);
        };
        self.expand(key, raw).map(Some)
    }

    /// [`Self::get`], with a default for a missing key.
    pub fn get_or(&self, key: &str, default: &str) -> Result<String> {
        Ok(self.get(key)?.unwrap_or_else(|| default.to_string()))
    }

    /// The value trimmed, `None` when missing or blank (Hadoop's `getTrimmed`).
    pub fn get_trimmed(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .get(key)?
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty()))
    }

    fn expand(&self, key: &str, raw: &str) -> Result<String> {
        let mut eval = raw.to_string();
        for _ in 0..MAX_SUBST {
            let Some((start, end)) = find_variable(&eval) else {
                return Ok(eval);
            };
            let var = &eval[start + 2..end];
            let val = match var.strip_prefix("env.").filter(|v| !v.is_empty()) {
                Some(env) => env_lookup(env),
                None => self.get_raw(var).map(str::to_string),
            };
            let Some(val) = val else {
                return Ok(eval);
            };
            let reference = &eval[start..=end];
            if val.contains(reference) {
                return Ok(raw.to_string());
            }
            eval = format!("{}{}{}", &eval[..start], val, &eval[end + 1..]);
        }
        Err(self.err(
            key,
            format!("variable substitution depth too large (over {MAX_SUBST}) in {raw:?}"),
        ))
    }

    /// A boolean (`true`/`false`, any case); anything else is an error.
    pub fn get_bool(&self, key: &str, default: bool) -> Result<bool> {
        match self.get_trimmed(key)? {
            None => Ok(default),
            Some(v) => parse_bool(&v)
                .ok_or_else(|| self.err(key, format!("{v:?} is not a boolean (true or false)"))),
        }
    }

    /// A 64-bit integer (decimal, or hexadecimal with `0x`).
    pub fn get_i64(&self, key: &str, default: i64) -> Result<i64> {
        match self.get_trimmed(key)? {
            None => Ok(default),
            Some(v) => {
                parse_int(&v).ok_or_else(|| self.err(key, format!("{v:?} is not an integer")))
            }
        }
    }

    /// A 32-bit integer (decimal, or hexadecimal with `0x`).
    pub fn get_i32(&self, key: &str, default: i32) -> Result<i32> {
        let v = self.get_i64(key, default.into())?;
        i32::try_from(v).map_err(|_| self.err(key, format!("{v} does not fit in a 32-bit integer")))
    }

    /// A size in bytes with Hadoop's binary suffixes (`k`, `m`, `g`, `t`,
    /// `p`, `e`, any case; `2g` = 2 GiB); a bare number is bytes.
    pub fn get_size_bytes(&self, key: &str, default: u64) -> Result<u64> {
        match self.get_trimmed(key)? {
            None => Ok(default),
            Some(v) => parse_size(&v).map_err(|reason| self.err(key, format!("{v:?}: {reason}"))),
        }
    }

    /// A duration with Hadoop's suffixes (`ns`, `us`, `ms`, `s`, `m`, `h`,
    /// `d`, any case); a bare number is in `unit`, which the caller takes from
    /// Hadoop's documentation of the key (e.g. milliseconds for `*-ms` keys).
    pub fn get_duration(&self, key: &str, default: Duration, unit: TimeUnit) -> Result<Duration> {
        match self.get_trimmed(key)? {
            None => Ok(default),
            Some(v) => {
                parse_duration(&v, unit).map_err(|reason| self.err(key, format!("{v:?}: {reason}")))
            }
        }
    }

    /// A comma-separated list, each item trimmed, empty items dropped.
    pub fn get_strings(&self, key: &str) -> Result<Vec<String>> {
        Ok(self
            .get(key)?
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default())
    }

    /// `fs.permissions.umask-mode` (default `022`): the permission bits that new
    /// files and directories leave out, as Hadoop's client applies them.
    pub fn umask(&self) -> Result<u32> {
        let key = "fs.permissions.umask-mode";
        match self.get_trimmed(key)? {
            None => Ok(0o022),
            Some(v) => parse_umask(&v).map_err(|reason| self.err(key, format!("{v:?}: {reason}"))),
        }
    }

    /// `fs.defaultFS` (Hadoop's default is `file:///`).
    pub fn default_fs(&self) -> Result<String> {
        self.required("fs.defaultFS")
    }

    fn required(&self, key: &str) -> Result<String> {
        self.get_trimmed(key)?
            .ok_or_else(|| self.err(key, "is empty and has no default".into()))
    }

    /// Whether RM HA is on (`yarn.resourcemanager.ha.enabled`).
    pub fn rm_ha_enabled(&self) -> Result<bool> {
        self.get_bool("yarn.resourcemanager.ha.enabled", false)
    }

    /// The ResourceManagers a client may talk to, in failover order: one per
    /// id of `yarn.resourcemanager.ha.rm-ids` with HA on, else one. Each
    /// address is `<key>[.<id>]` when set, else `yarn.resourcemanager.hostname[.<id>]`
    /// with Hadoop's default port, as Hadoop's `HAUtil` resolves them. The web
    /// address follows `yarn.http.policy` (HTTPS_ONLY uses the https address).
    pub fn rm_addresses(&self) -> Result<Vec<RmAddresses>> {
        let (web_key, web_port, scheme) = if self.yarn_web_scheme()? == "https" {
            (
                "yarn.resourcemanager.webapp.https.address",
                RM_WEBAPP_HTTPS_PORT,
                "https",
            )
        } else {
            (
                "yarn.resourcemanager.webapp.address",
                RM_WEBAPP_PORT,
                "http",
            )
        };
        if !self.rm_ha_enabled()? {
            return Ok(vec![RmAddresses {
                id: None,
                rpc: self.address("yarn.resourcemanager.address", None, RM_RPC_PORT)?,
                scheduler: self.address(
                    "yarn.resourcemanager.scheduler.address",
                    None,
                    RM_SCHEDULER_PORT,
                )?,
                web: format!("{scheme}://{}", self.address(web_key, None, web_port)?),
            }]);
        }
        let ids = self.get_strings("yarn.resourcemanager.ha.rm-ids")?;
        if ids.is_empty() {
            return Err(self.err(
                "yarn.resourcemanager.ha.rm-ids",
                "RM HA is enabled (yarn.resourcemanager.ha.enabled) but no RM ids are listed"
                    .into(),
            ));
        }
        ids.into_iter()
            .map(|id| {
                Ok(RmAddresses {
                    rpc: self.address("yarn.resourcemanager.address", Some(&id), RM_RPC_PORT)?,
                    scheduler: self.address(
                        "yarn.resourcemanager.scheduler.address",
                        Some(&id),
                        RM_SCHEDULER_PORT,
                    )?,
                    web: format!("{scheme}://{}", self.address(web_key, Some(&id), web_port)?),
                    id: Some(id),
                })
            })
            .collect()
    }

    /// The scheme of YARN's web endpoints (RM, NodeManagers, proxy): `https` when
    /// `yarn.http.policy` is HTTPS_ONLY, else `http`.
    pub fn yarn_web_scheme(&self) -> Result<&'static str> {
        let https = self
            .get_trimmed("yarn.http.policy")?
            .is_some_and(|p| p.eq_ignore_ascii_case("HTTPS_ONLY"));
        Ok(if https { "https" } else { "http" })
    }

    /// The REST base URLs of the RMs, in failover order (`http://host:port`).
    pub fn rm_web_urls(&self) -> Result<Vec<String>> {
        Ok(self.rm_addresses()?.into_iter().map(|a| a.web).collect())
    }

    /// `key` (or `key.id` under HA) as `host:port`; when unset, the RM host
    /// name (`yarn.resourcemanager.hostname[.id]`) with `port`.
    fn address(&self, key: &str, id: Option<&str>, port: u16) -> Result<String> {
        let (key, host_key) = match id {
            Some(id) => (
                format!("{key}.{id}"),
                format!("yarn.resourcemanager.hostname.{id}"),
            ),
            None => (key.to_string(), "yarn.resourcemanager.hostname".to_string()),
        };
        let addr = match self.get_trimmed(&key)? {
            Some(a) => a,
            None => match self.get_trimmed(&host_key)? {
                Some(host) => format!("{host}:{port}"),
                None => {
                    return Err(self.err(
                        &key,
                        format!("RM address is not set and neither is {host_key}"),
                    ));
                }
            },
        };
        check_host_port(&addr).map_err(|reason| self.err(&key, reason))?;
        Ok(addr)
    }
}

/// `host:port` with a numeric port, as Hadoop's `NetUtils.createSocketAddr`
/// requires for a server address.
fn check_host_port(addr: &str) -> std::result::Result<(), String> {
    let Some((host, port)) = addr.rsplit_once(':') else {
        return Err(format!("{addr:?} is not host:port"));
    };
    if host.is_empty() {
        return Err(format!("{addr:?} has no host"));
    }
    port.parse::<u16>()
        .map(|_| ())
        .map_err(|_| format!("{addr:?} has no valid port"))
}

/// The innermost-leftmost `${...}`: byte offsets of `$` and `}`.
fn find_variable(s: &str) -> Option<(usize, usize)> {
    let mut search = 0;
    loop {
        let start = search + s[search..].find("${")?;
        let close = start + 2 + s[start + 2..].find('}')?;
        // A `${` between start and close is more deeply nested: use it.
        match s[start + 2..close].rfind("${") {
            Some(inner) => {
                let inner = start + 2 + inner;
                return Some((inner, close));
            }
            None if close == start + 2 => search = close, // "${}" is not a variable
            None => return Some((start, close)),
        }
    }
}

/// `NAME`, `NAME:-default` (default when unset or empty), `NAME-default`
/// (default when unset).
fn env_lookup(spec: &str) -> Option<String> {
    if let Some(i) = spec.find(['-', ':']) {
        let name = &spec[..i];
        if spec[i..].starts_with(":-") {
            return Some(
                std::env::var(name)
                    .ok()
                    .filter(|v| !v.is_empty())
                    .unwrap_or_else(|| spec[i + 2..].to_string()),
            );
        }
        if spec[i..].starts_with('-') {
            return Some(std::env::var(name).unwrap_or_else(|_| spec[i + 1..].to_string()));
        }
    }
    std::env::var(spec).ok()
}

fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

fn parse_int(s: &str) -> Option<i64> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let magnitude = match digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        Some(hex) => i64::from_str_radix(hex, 16).ok()?,
        None if digits.starts_with(['+', '-']) => return None,
        None => digits.parse::<i64>().ok()?,
    };
    Some(if neg { -magnitude } else { magnitude })
}

/// Hadoop's `TraditionalBinaryPrefix.string2long`, for non-negative sizes.
pub fn parse_size(s: &str) -> std::result::Result<u64, String> {
    let s = s.trim();
    let (num, shift) = match s.chars().last() {
        None => return Err("empty size".into()),
        Some(c) if c.is_ascii_digit() => (s, 0),
        Some(c) => {
            let shift = match c.to_ascii_lowercase() {
                'k' => 10,
                'm' => 20,
                'g' => 30,
                't' => 40,
                'p' => 50,
                'e' => 60,
                _ => {
                    return Err(format!(
                        "unknown size suffix {c:?} (use k, m, g, t, p or e)"
                    ));
                }
            };
            (&s[..s.len() - 1], shift)
        }
    };
    let n: u64 = num
        .trim()
        .parse()
        .map_err(|_| format!("{num:?} is not a non-negative whole number"))?;
    n.checked_mul(1u64 << shift)
        .ok_or_else(|| "size overflows 64 bits".to_string())
}

/// Hadoop's `UmaskParser`: octal (`022`, `0027`) or symbolic, naming the
/// bits that stay (`u=rwx,g=rx,o=` is `027`).
pub fn parse_umask(s: &str) -> std::result::Result<u32, String> {
    let s = s.trim();
    if !s.is_empty() && s.len() <= 4 && s.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        let v = u32::from_str_radix(s, 8).map_err(|e| e.to_string())?;
        return Ok(v & 0o777);
    }
    let mut allowed = 0o777u32;
    for clause in s.split(',').map(str::trim) {
        let (who, perms) = clause
            .split_once('=')
            .ok_or_else(|| format!("{clause:?} is neither octal nor who=perms"))?;
        let mut bits = 0;
        for p in perms.chars() {
            bits |= match p {
                'r' => 4,
                'w' => 2,
                'x' => 1,
                '-' => 0,
                _ => return Err(format!("{p:?} in {clause:?} is not r, w or x")),
            };
        }
        let who = if who.is_empty() { "a" } else { who };
        for w in who.chars() {
            let shifts: &[u32] = match w {
                'u' => &[6],
                'g' => &[3],
                'o' => &[0],
                'a' => &[6, 3, 0],
                _ => return Err(format!("{w:?} in {clause:?} is not u, g, o or a")),
            };
            for shift in shifts {
                allowed = (allowed & !(0o7 << shift)) | (bits << shift);
            }
        }
    }
    Ok(!allowed & 0o777)
}

/// Hadoop's `getTimeDuration` parsing: an optional unit suffix (`ns`, `us`,
/// `ms`, `s`, `m`, `h`, `d`), else `unit`.
pub fn parse_duration(s: &str, unit: TimeUnit) -> std::result::Result<Duration, String> {
    let lower = s.trim().to_ascii_lowercase();
    const SUFFIXES: [(&str, TimeUnit); 7] = [
        ("ns", TimeUnit::Nanos),
        ("us", TimeUnit::Micros),
        ("ms", TimeUnit::Millis),
        ("s", TimeUnit::Seconds),
        ("m", TimeUnit::Minutes),
        ("h", TimeUnit::Hours),
        ("d", TimeUnit::Days),
    ];
    let (num, unit) = SUFFIXES
        .iter()
        .find_map(|(suffix, u)| lower.strip_suffix(suffix).map(|n| (n, *u)))
        .unwrap_or((lower.as_str(), unit));
    let n: u64 = num
        .trim()
        .parse()
        .map_err(|_| format!("{num:?} is not a non-negative whole number"))?;
    let nanos = u128::from(n) * unit.nanos();
    let secs =
        u64::try_from(nanos / 1_000_000_000).map_err(|_| "duration too large".to_string())?;
    Ok(Duration::new(secs, (nanos % 1_000_000_000) as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn umask_octal_and_symbolic() {
        assert_eq!(parse_umask("022"), Ok(0o022));
        assert_eq!(parse_umask("0077"), Ok(0o077));
        assert_eq!(parse_umask("7"), Ok(0o007));
        assert_eq!(parse_umask("u=rwx,g=rwx,o="), Ok(0o007));
        assert_eq!(parse_umask("u=rwx,g=r-x,o=r-x"), Ok(0o022));
        assert_eq!(parse_umask("a=rx"), Ok(0o222));
        assert!(parse_umask("0999").is_err());
        assert!(parse_umask("u+w").is_err());
        assert!(parse_umask("q=r").is_err());
        assert_eq!(Configuration::new().umask().unwrap(), 0o022);
        let c = conf(
            "<configuration><property><name>fs.permissions.umask-mode</name>\
             <value>027</value></property></configuration>",
        );
        assert_eq!(c.umask().unwrap(), 0o027);
    }

    fn conf(xml: &str) -> Configuration {
        let mut c = Configuration::new();
        c.add_xml("test-site.xml", xml).unwrap();
        c
    }

    fn props(pairs: &[(&str, &str)]) -> String {
        let mut s = String::from("<?xml version=\"1.0\"?>\n<configuration>\n");
        for (k, v) in pairs {
            s.push_str(&format!(
                "<property><name>{k}</name><value>{v}</value></property>\n"
            ));
        }
        s.push_str("</configuration>\n");
        s
    }

    #[test]
    fn defaults_without_files() {
        let c = Configuration::new();
        assert_eq!(c.default_fs().unwrap(), "file:///");
        let rms = c.rm_addresses().unwrap();
        assert_eq!(
            rms,
            vec![RmAddresses {
                id: None,
                rpc: "0.0.0.0:8032".into(),
                scheduler: "0.0.0.0:8030".into(),
                web: "http://0.0.0.0:8088".into(),
            }]
        );
        assert_eq!(c.source("fs.defaultFS"), DEFAULT_SOURCE);
    }

    #[test]
    fn hostname_drives_addresses_and_explicit_address_wins() {
        let c = conf(&props(&[
            ("yarn.resourcemanager.hostname", "rm.example"),
            ("yarn.resourcemanager.webapp.address", "web.example:18088"),
        ]));
        let rm = &c.rm_addresses().unwrap()[0];
        assert_eq!(rm.rpc, "rm.example:8032");
        assert_eq!(rm.scheduler, "rm.example:8030");
        assert_eq!(rm.web, "http://web.example:18088");
    }

    #[test]
    fn ha_addresses_per_id() {
        let c = conf(&props(&[
            ("yarn.resourcemanager.ha.enabled", "true"),
            ("yarn.resourcemanager.ha.rm-ids", " rm1 , rm2 "),
            ("yarn.resourcemanager.hostname.rm1", "a.example"),
            ("yarn.resourcemanager.address.rm2", "b.example:9032"),
            ("yarn.resourcemanager.hostname.rm2", "b.example"),
            ("yarn.resourcemanager.webapp.address.rm2", "b.example:9088"),
        ]));
        let rms = c.rm_addresses().unwrap();
        assert_eq!(rms.len(), 2);
        assert_eq!(rms[0].id.as_deref(), Some("rm1"));
        assert_eq!(rms[0].rpc, "a.example:8032");
        assert_eq!(rms[0].web, "http://a.example:8088");
        assert_eq!(rms[1].rpc, "b.example:9032");
        assert_eq!(rms[1].scheduler, "b.example:8030");
        assert_eq!(c.rm_web_urls().unwrap()[1], "http://b.example:9088");
    }

    #[test]
    fn ha_without_ids_or_host_is_an_error() {
        let c = conf(&props(&[("yarn.resourcemanager.ha.enabled", "true")]));
        let e = c.rm_addresses().unwrap_err().to_string();
        assert!(e.contains("yarn.resourcemanager.ha.rm-ids"), "{e}");
        let c = conf(&props(&[
            ("yarn.resourcemanager.ha.enabled", "true"),
            ("yarn.resourcemanager.ha.rm-ids", "rm1,rm2"),
            ("yarn.resourcemanager.hostname.rm1", "a"),
        ]));
        let e = c.rm_addresses().unwrap_err().to_string();
        assert!(e.contains("yarn.resourcemanager.address.rm2"), "{e}");
        assert!(e.contains("yarn.resourcemanager.hostname.rm2"), "{e}");
    }

    #[test]
    fn bad_port_names_file_and_key() {
        let c = conf(&props(&[("yarn.resourcemanager.address", "host:80x")]));
        let e = c.rm_addresses().unwrap_err().to_string();
        assert!(e.contains("test-site.xml:3"), "{e}");
        assert!(e.contains("yarn.resourcemanager.address"), "{e}");
        assert!(e.contains("valid port"), "{e}");
    }

    #[test]
    fn expansion_of_keys_and_env() {
        // SAFETY: this test is the only one that touches these variables.
        unsafe {
            std::env::set_var("SPINDLE_CONFIG_TEST_HOST", "envhost");
            std::env::remove_var("SPINDLE_CONFIG_TEST_UNSET");
            std::env::set_var("SPINDLE_CONFIG_TEST_EMPTY", "");
        }
        let c = conf(&props(&[
            ("a", "${b}-${c}"),
            ("b", "B"),
            ("c", "${b}${b}"),
            ("h", "${env.SPINDLE_CONFIG_TEST_HOST}:1"),
            ("d1", "${env.SPINDLE_CONFIG_TEST_UNSET:-dflt}"),
            ("d2", "${env.SPINDLE_CONFIG_TEST_EMPTY:-dflt}"),
            ("d3", "${env.SPINDLE_CONFIG_TEST_EMPTY-dflt}"),
            ("d4", "${env.SPINDLE_CONFIG_TEST_UNSET-dflt}"),
            ("unknown", "x${nope}y${b}"),
            ("self", "x${self}"),
            ("nested", "${${b}}"),
            ("B", "inner"),
        ]));
        assert_eq!(c.get("a").unwrap().unwrap(), "B-BB");
        assert_eq!(c.get("h").unwrap().unwrap(), "envhost:1");
        assert_eq!(c.get("d1").unwrap().unwrap(), "dflt");
        assert_eq!(c.get("d2").unwrap().unwrap(), "dflt");
        assert_eq!(c.get("d3").unwrap().unwrap(), "");
        assert_eq!(c.get("d4").unwrap().unwrap(), "dflt");
        // Hadoop stops at the first unknown variable and leaves the rest.
        assert_eq!(c.get("unknown").unwrap().unwrap(), "x${nope}y${b}");
        assert_eq!(c.get("self").unwrap().unwrap(), "x${self}");
        assert_eq!(c.get("nested").unwrap().unwrap(), "inner");
        assert_eq!(c.get_raw("a"), Some("${b}-${c}"));
        assert_eq!(c.get("missing").unwrap(), None);
    }

    #[test]
    fn expansion_depth_limit() {
        // A chain of 25 references: more than Hadoop's 20 substitutions.
        let mut pairs: Vec<(String, String)> = (0..25)
            .map(|i| (format!("k{i}"), format!("${{k{}}}", i + 1)))
            .collect();
        pairs.push(("k25".into(), "end".into()));
        let refs: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let c = conf(&props(&refs));
        let e = c.get("k0").unwrap_err().to_string();
        assert!(e.contains("k0") && e.contains("depth"), "{e}");
        // 20 levels are fine.
        assert_eq!(c.get("k6").unwrap().unwrap(), "end");
    }

    #[test]
    fn final_properties_win_over_later_files() {
        let mut c = Configuration::new();
        c.add_xml(
            "core-site.xml",
            "<configuration><property><name>x</name><value>1</value><final>true</final></property>\
             <property name=\"y\" value=\"a\"/></configuration>",
        )
        .unwrap();
        c.add_xml("yarn-site.xml", &props(&[("x", "2"), ("y", "b")]))
            .unwrap();
        assert_eq!(c.get("x").unwrap().unwrap(), "1");
        assert_eq!(c.get("y").unwrap().unwrap(), "b");
        assert!(c.source("y").starts_with("yarn-site.xml:"));
        c.set("x", "3");
        assert_eq!(c.get_raw("x"), Some("1"));
    }

    #[test]
    fn deprecated_keys_set_their_replacement() {
        let c = conf(&props(&[("fs.default.name", "hdfs://old:8020")]));
        assert_eq!(c.default_fs().unwrap(), "hdfs://old:8020");
        assert_eq!(
            c.get("fs.default.name").unwrap().unwrap(),
            "hdfs://old:8020"
        );
        assert!(c.is_set("fs.defaultFS"));
        assert!(c.source("fs.default.name").starts_with("test-site.xml:"));
    }

    #[test]
    fn malformed_xml_names_the_file() {
        let mut c = Configuration::new();
        let e = c
            .add_xml(
                "etc/core-site.xml",
                "<configuration><property><name>a</name></configuration>",
            )
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("configuration etc/core-site.xml: (xml): malformed XML"),
            "{e}"
        );
        assert!(!e.contains('\n'));
        let e = c.add_xml("f.xml", "<conf/>").unwrap_err().to_string();
        assert!(e.contains("expected <configuration>"), "{e}");
        let e = c
            .add_xml(
                "f.xml",
                "<configuration><property><value>1</value></property></configuration>",
            )
            .unwrap_err()
            .to_string();
        assert!(e.contains("without a <name>"), "{e}");
    }

    #[test]
    fn typed_getters() {
        let c = conf(&props(&[
            ("b1", " TRUE "),
            ("b2", "yes"),
            ("i1", "0x10"),
            ("i2", "-42"),
            ("i3", "4294967296"),
            ("s1", "2g"),
            ("s2", "512M"),
            ("s3", "100"),
            ("s4", "1.5g"),
            ("d1", "30s"),
            ("d2", "100ms"),
            ("d3", "250"),
            ("d4", "2m"),
            ("d5", "1D"),
            ("d6", "10x"),
        ]));
        assert!(c.get_bool("b1", false).unwrap());
        assert!(c.get_bool("missing", true).unwrap());
        let e = c.get_bool("b2", false).unwrap_err().to_string();
        assert!(
            e.contains("test-site.xml:") && e.contains("b2") && e.contains("not a boolean"),
            "{e}"
        );
        assert_eq!(c.get_i32("i1", 0).unwrap(), 16);
        assert_eq!(c.get_i64("i2", 0).unwrap(), -42);
        assert!(
            c.get_i32("i3", 0)
                .unwrap_err()
                .to_string()
                .contains("32-bit")
        );
        assert_eq!(c.get_i64("i3", 0).unwrap(), 1 << 32);
        assert_eq!(c.get_size_bytes("s1", 0).unwrap(), 2 << 30);
        assert_eq!(c.get_size_bytes("s2", 0).unwrap(), 512 << 20);
        assert_eq!(c.get_size_bytes("s3", 0).unwrap(), 100);
        assert!(c.get_size_bytes("s4", 0).is_err());
        let ms = TimeUnit::Millis;
        assert_eq!(
            c.get_duration("d1", Duration::ZERO, ms).unwrap(),
            Duration::from_secs(30)
        );
        assert_eq!(
            c.get_duration("d2", Duration::ZERO, TimeUnit::Seconds)
                .unwrap(),
            Duration::from_millis(100)
        );
        assert_eq!(
            c.get_duration("d3", Duration::ZERO, ms).unwrap(),
            Duration::from_millis(250)
        );
        assert_eq!(
            c.get_duration("d3", Duration::ZERO, TimeUnit::Seconds)
                .unwrap(),
            Duration::from_secs(250)
        );
        assert_eq!(
            c.get_duration("d4", Duration::ZERO, ms).unwrap(),
            Duration::from_secs(120)
        );
        assert_eq!(
            c.get_duration("d5", Duration::ZERO, ms).unwrap(),
            Duration::from_secs(86400)
        );
        assert_eq!(
            c.get_duration("nope", Duration::from_secs(7), ms).unwrap(),
            Duration::from_secs(7)
        );
        let e = c
            .get_duration("d6", Duration::ZERO, ms)
            .unwrap_err()
            .to_string();
        assert!(e.contains("d6") && e.contains("10x"), "{e}");
    }

    #[test]
    fn loads_site_files_from_a_directory() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("core-site.xml"),
            props(&[("fs.defaultFS", "hdfs://nn:9000"), ("z", "core")]),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("yarn-site.xml"),
            props(&[("yarn.resourcemanager.hostname", "rm"), ("z", "yarn")]),
        )
        .unwrap();
        let c = Configuration::load_dir(dir.path()).unwrap();
        assert_eq!(c.files().len(), 2);
        assert_eq!(c.default_fs().unwrap(), "hdfs://nn:9000");
        assert_eq!(c.get("z").unwrap().unwrap(), "yarn");
        assert_eq!(c.rm_web_urls().unwrap(), vec!["http://rm:8088".to_string()]);
        let e = Configuration::load_dir(dir.path().join("missing"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a directory"), "{e}");
    }
}

#[cfg(test)]
mod robustness {
    //! Property tests: any XML text loads or fails with one line; any value
    //! expands or fails cleanly (no panic, no endless loop).

    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_text_loads_or_fails_in_one_line(text in ".{0,200}") {
            let mut c = Configuration::new();
            if let Err(e) = c.add_xml("fuzz.xml", &text) {
                let msg = e.to_string();
                prop_assert!(msg.contains("fuzz.xml"));
                prop_assert!(!msg.contains('\n'), "{}", msg);
            }
        }

        #[test]
        fn any_values_expand_or_fail_cleanly(values in proptest::collection::vec("[a-c${}.env]{0,12}", 1..6)) {
            let mut c = Configuration::new();
            for (i, v) in values.iter().enumerate() {
                c.set(["a", "b", "c", "d", "e", "f"][i], v.clone());
            }
            for k in ["a", "b", "c", "d", "e", "f"] {
                let _ = c.get(k);
                let _ = c.get_bool(k, false);
                let _ = c.get_size_bytes(k, 0);
                let _ = c.get_duration(k, Duration::ZERO, TimeUnit::Millis);
            }
        }
    }
}
