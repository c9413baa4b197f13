//! Files: input listing and splitting, line reading, and the output commit
//! protocol; local paths and `hdfs://` URLs (through hdfs-native).
//!
//! Paths resolve as Hadoop resolves them: `hdfs://` and `file:` name their
//! file system; a path without a scheme is in `fs.defaultFS` of
//! `HADOOP_CONF_DIR` (relative ones under `/user/<user>`), and local only when
//! that is `file:///` or no configuration is set. An input is a
//! comma-separated list of paths and patterns ([`glob`]); compressed files
//! are read and written by extension ([`compress`]). With the `columnar`
//! feature, Parquet, CSV and JSON lines are read into and written from
//! serde records through the arrow-rs crates (`columnar`, `parquet_file`,
//! `delimited`).
//!
//! Output commit: a task writes `OUT/_temporary/attempt-P-A`, and commits by
//! renaming it to `OUT/_temporary/part-P`; the driver commits the job by
//! renaming every `part-P` into `OUT` and writing `_SUCCESS`, or aborts it by
//! deleting `OUT`, so a failed job leaves no partial output.

#[cfg(feature = "columnar")]
mod columnar;
mod compress;
#[cfg(feature = "columnar")]
pub(crate) mod delimited;
mod glob;
#[cfg(feature = "columnar")]
pub(crate) mod parquet_file;
mod seqfile;

pub use compress::Codec;
#[cfg(feature = "columnar")]
pub use parquet_file::plan_splits as plan_parquet_splits;
pub use seqfile::Writable;

use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use spindle_hadoop::namenode::NameNodeClient;

use crate::{Error, Result};

/// Split size for local files (Hadoop's local file system default block).
const LOCAL_BLOCK: u64 = 32 * 1024 * 1024;
/// Bytes read at a time when scanning lines.
const READ_CHUNK: usize = 1024 * 1024;

/// A path on the local file system or in HDFS.
#[derive(Clone, Debug)]
pub enum Location {
    /// A path on this machine's file system.
    Local(PathBuf),
    /// `base` is `hdfs://authority`, `path` the absolute path in it.
    Hdfs {
        /// `hdfs://authority` of the file system.
        base: String,
        /// The absolute path inside it.
        path: String,
    },
}

/// The scheme of a URL-like path (`hdfs` of `hdfs://nn/x`, `file` of
/// `file:/x`): letters before a `:` that comes before any `/`.
fn scheme_of(s: &str) -> Option<&str> {
    let (scheme, _) = s.split_once(':')?;
    let mut chars = scheme.chars();
    (chars.next()?.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)))
    .then_some(scheme)
}

/// `hdfs://authority` of `fs.defaultFS` in `HADOOP_CONF_DIR`, or `None` when
/// the default file system is the local one (or nothing is configured).
fn default_fs() -> Result<Option<String>> {
    let conf = spindle_hadoop::config::Configuration::from_env()
        .map_err(|e| Error::Config(e.to_string()))?;
    default_fs_of(&conf)
}

/// Whether `fs.defaultFS` of `HADOOP_CONF_DIR` is an HDFS (a cluster is configured).
pub(crate) fn default_fs_is_hdfs() -> Result<bool> {
    Ok(default_fs()?.is_some())
}

fn default_fs_of(conf: &spindle_hadoop::config::Configuration) -> Result<Option<String>> {
    let fs = conf
        .get_trimmed("fs.defaultFS")
        .map_err(|e| Error::Config(e.to_string()))?
        .unwrap_or_default();
    match scheme_of(&fs) {
        None | Some("file") => Ok(None),
        Some("hdfs") => {
            let rest = &fs["hdfs://".len().min(fs.len())..];
            let auth = rest.split('/').next().unwrap_or("");
            Ok(Some(format!("hdfs://{auth}")))
        }
        Some(other) => Err(unsupported(other, &format!("fs.defaultFS {fs}"))),
    }
}

fn unsupported(scheme: &str, what: &str) -> Error {
    if scheme == "viewfs" {
        Error::Config(format!(
            "{what}: viewfs:// mount tables are not supported; use the hdfs:// URL the mount points to"
        ))
    } else {
        Error::Config(format!(
            "{what}: unsupported file system {scheme}:// (use a local path, file:// or hdfs://)"
        ))
    }
}

impl Location {
    /// Parses `hdfs://host:port/path`, `file:///path`, or a path without a
    /// scheme, which is in `fs.defaultFS` (see the module's doc).
    pub fn parse(s: &str) -> Result<Location> {
        match scheme_of(s) {
            Some("hdfs") => {
                // `hdfs:/path` and `hdfs:///path` name the default HDFS.
                let after = &s["hdfs:".len()..];
                let (auth, path) = match after.strip_prefix("//") {
                    Some(r) => r.split_at(r.find('/').unwrap_or(r.len())),
                    None => ("", after),
                };
                let path = if path.is_empty() { "/" } else { path };
                Ok(Location::Hdfs {
                    base: format!("hdfs://{auth}"),
                    path: path.to_string(),
                })
            }
            Some("file") => {
                let rest = &s["file:".len()..];
                // `file:///p` and `file:/p`; `file://localhost/p` too.
                let rest = rest.strip_prefix("//localhost").unwrap_or(rest);
                let rest = if rest.starts_with("///") {
                    &rest[2..]
                } else {
                    rest
                };
                Ok(Location::Local(PathBuf::from(rest)))
            }
            Some(other) => Err(unsupported(other, s)),
            None => Ok(Self::in_default_fs(s, default_fs()?)),
        }
    }

    /// A path without a scheme in the default file system `fs` (`None`: local).
    fn in_default_fs(s: &str, fs: Option<String>) -> Location {
        match fs {
            Some(base) => {
                let path = if s.starts_with('/') {
                    s.to_string()
                } else {
                    // Hadoop's working directory is the user's home.
                    let user = spindle_hadoop::user::current_user();
                    format!("/user/{user}/{}", s.trim_start_matches("./"))
                };
                Location::Hdfs { base, path }
            }
            None => Location::Local(PathBuf::from(s)),
        }
    }

    /// The path with its file system, the same wherever it is parsed again
    /// (`file:///abs` for local paths, `hdfs://authority/path`).
    pub fn qualified(&self) -> String {
        match self {
            Location::Local(p) => {
                let abs = std::path::absolute(p).unwrap_or_else(|_| p.clone());
                format!("file://{}", abs.display())
            }
            Location::Hdfs { base, path } => format!("{base}{path}"),
        }
    }

    /// The parent directory and the last name (`None` for a root).
    fn split_last(&self) -> Option<(Location, String)> {
        match self {
            Location::Local(p) => {
                let name = p.file_name()?.to_str()?.to_string();
                let parent = p.parent().filter(|d| !d.as_os_str().is_empty());
                Some((
                    Location::Local(parent.unwrap_or(Path::new(".")).to_path_buf()),
                    name,
                ))
            }
            Location::Hdfs { base, path } => {
                let (dir, name) = path.trim_end_matches('/').rsplit_once('/')?;
                (!name.is_empty()).then(|| {
                    let dir = if dir.is_empty() { "/" } else { dir };
                    (
                        Location::Hdfs {
                            base: base.clone(),
                            path: dir.to_string(),
                        },
                        name.to_string(),
                    )
                })
            }
        }
    }

    /// The path for messages.
    fn display(&self) -> String {
        match self {
            Location::Local(p) => p.display().to_string(),
            Location::Hdfs { base, path } => format!("{base}{path}"),
        }
    }

    fn join(&self, name: &str) -> Location {
        match self {
            Location::Local(p) => Location::Local(p.join(name)),
            Location::Hdfs { base, path } => Location::Hdfs {
                base: base.clone(),
                path: format!("{}/{name}", path.trim_end_matches('/')),
            },
        }
    }
}

/// Runs an hdfs-native future from synchronous code, inside or outside a runtime.
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    match tokio::runtime::Handle::try_current() {
        Ok(h) => tokio::task::block_in_place(|| h.block_on(f)),
        Err(_) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime for HDFS")
            .block_on(f),
    }
}

/// Runs `f`, whose HDFS calls are separate [`block_on`]s, inside one
/// runtime: a client's connections are tasks of the runtime that made them,
/// so they must outlive each call (a task or a driver's planning thread has
/// the engine's runtime already; a direct call from a plain thread gets one).
#[cfg(feature = "columnar")]
fn in_runtime<R>(f: impl FnOnce() -> R) -> Result<R> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Ok(f());
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting a runtime for HDFS", e))?;
    let _entered = rt.enter();
    Ok(f())
}

pub(crate) fn hdfs_client(base: &str) -> Result<hdfs_native::Client> {
    hdfs_native::ClientBuilder::new()
        .with_url(base)
        .build()
        .map_err(|e| hdfs_failure(format!("{base}: {e}")))
}

/// An HDFS failure, led by the token-expiry reason when that is the cause.
fn hdfs_failure(message: String) -> Error {
    Error::Hdfs(crate::tokens::explain_hdfs_failure(message))
}

fn hdfs_err(what: &str, path: &str, e: hdfs_native::HdfsError) -> Error {
    hdfs_failure(format!("{what} {path}: {e}"))
}

/// A NameNode call of the file system `base` that must answer in time
/// ([`spindle_hadoop::namenode::answer`]) and is made again while the NameNode is still starting
/// (a `RetriableException`, which hdfs-native passes through); its own result is left to the
/// caller.
async fn in_time<T, F, Fut>(
    base: &str,
    what: &str,
    path: &str,
    call: F,
) -> Result<std::result::Result<T, hdfs_native::HdfsError>>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = std::result::Result<T, hdfs_native::HdfsError>>,
{
    use spindle_hadoop::namenode::{RETRIABLE_EXCEPTION, answer_retrying};
    let retriable = |e: &hdfs_native::HdfsError| matches!(e, hdfs_native::HdfsError::RPCError(class, _) if class == RETRIABLE_EXCEPTION);
    answer_retrying(base, call, retriable)
        .await
        .map_err(|e| hdfs_failure(format!("{what} {path}: {e}")))
}

/// One partition of a text input: a byte range of a file.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Split {
    /// The file the split reads.
    pub path: String,
    /// The first byte of the range.
    pub start: u64,
    /// The range's length in bytes.
    pub len: u64,
    /// The hosts holding the split's bytes (HDFS DataNodes), each by host
    /// name and by IP address so that executors reporting either match;
    /// the hosts holding most of the split first. Empty for local files.
    pub hosts: Vec<String>,
}

/// Windows a split is sampled through (sort_by_key's bounds): this many,
/// evenly spaced, covering one `SAMPLE_SHARE`th of it.
const SAMPLE_WINDOWS: u64 = 8;
const SAMPLE_SHARE: u64 = 16;
/// A split shorter than this is sampled whole: its windows would hold few lines.
const SAMPLE_MIN_SPLIT: u64 = 1 << 20;

impl Split {
    /// Evenly spaced windows over the split for sampling its lines, and the
    /// share of the split they cover. A line belongs to the window it starts
    /// in, as to a split, so the windows' lines stand for that share of the
    /// split's. A compressed file (which cannot be read from the middle) or a
    /// short split is one window, the whole split.
    pub fn sample_windows(&self) -> (Vec<Split>, f64) {
        if Codec::for_path(&self.path).is_some() || self.len < SAMPLE_MIN_SPLIT {
            return (vec![self.clone()], 1.0);
        }
        let width = self.len / (SAMPLE_WINDOWS * SAMPLE_SHARE);
        let step = self.len / SAMPLE_WINDOWS;
        let windows = (0..SAMPLE_WINDOWS)
            .map(|i| Split {
                start: self.start + i * step,
                len: width,
                ..self.clone()
            })
            .collect();
        (windows, (SAMPLE_WINDOWS * width) as f64 / self.len as f64)
    }
}

/// A file of an input with its length and block size.
struct InputFile {
    path: String,
    len: u64,
    block: u64,
    /// The file's blocks and their DataNodes (HDFS only).
    blocks: Vec<BlockHosts>,
}

/// One HDFS block: its byte range and the hosts (names and IPs) holding it.
#[derive(Clone, Debug, PartialEq)]
pub struct BlockHosts {
    /// The block's first byte in the file.
    pub offset: u64,
    /// The block's length in bytes.
    pub len: u64,
    /// The DataNodes holding a replica, by name and by IP address.
    pub hosts: Vec<String>,
}

impl BlockHosts {
    /// From the NameNode's answer: host names then the IPs of the transfer
    /// addresses (`ip:port`), without duplicates.
    fn from_location(b: &spindle_hadoop::namenode::BlockLocation) -> BlockHosts {
        let mut hosts: Vec<String> = Vec::new();
        let ips = b
            .names
            .iter()
            .map(|n| n.rsplit_once(':').map_or(n.as_str(), |(ip, _)| ip));
        for h in b.hosts.iter().map(String::as_str).chain(ips) {
            if !h.is_empty() && !hosts.iter().any(|x| x == h) {
                hosts.push(h.to_string());
            }
        }
        BlockHosts {
            offset: b.offset,
            len: b.length,
            hosts,
        }
    }
}

/// The hosts holding `[start, start + len)` of a file: every host of an
/// overlapping block, those holding the most bytes of the range first.
pub fn split_hosts(blocks: &[BlockHosts], start: u64, len: u64) -> Vec<String> {
    let end = start + len;
    let mut weight: Vec<(String, u64)> = Vec::new();
    for b in blocks {
        let overlap = end
            .min(b.offset + b.len)
            .saturating_sub(start.max(b.offset));
        if overlap == 0 {
            continue;
        }
        for h in &b.hosts {
            match weight.iter_mut().find(|(x, _)| x == h) {
                Some((_, w)) => *w += overlap,
                None => weight.push((h.clone(), overlap)),
            }
        }
    }
    // Stable: equal weights keep the NameNode's order.
    weight.sort_by_key(|w| std::cmp::Reverse(w.1));
    weight.into_iter().map(|(h, _)| h).collect()
}

/// The NameNode client for `base` (`hdfs://authority`), configured from
/// `HADOOP_CONF_DIR` when set (HA name services, IPC timeouts).
fn namenode_client(base: &str) -> std::result::Result<NameNodeClient, spindle_hadoop::Error> {
    use spindle_hadoop::config::Configuration;
    use spindle_hadoop::ipc::{Auth, IpcConfig};
    let conf = Configuration::from_env().unwrap_or_default();
    let secure = conf
        .get_trimmed("hadoop.security.authentication")
        .ok()
        .flatten()
        .is_some_and(|a| a == "kerberos");
    // With security on, a container proves itself with the HDFS delegation
    // token of this file system (by service name: one token per file system).
    let token = if secure {
        let services = spindle_hadoop::namenode::token_services(&conf, base)?;
        spindle_hadoop::credentials::Credentials::from_env()
            .ok()
            .flatten()
            .and_then(|c| {
                c.token_for_service(spindle_hadoop::token::kinds::HDFS_DELEGATION, &services)
                    .cloned()
            })
    } else {
        None
    };
    let auth = token.map(Auth::Token).unwrap_or_else(Auth::simple);
    let addresses = spindle_hadoop::namenode::namenode_addresses(&conf, base)?;
    Ok(NameNodeClient::new(
        addresses,
        auth,
        IpcConfig::from_conf(&conf)?,
    ))
}

/// The blocks of each file with their hosts: one getBlockLocations call per
/// file. Locality is only a hint, so a failure is reported once and the
/// input is read without it.
async fn hdfs_block_hosts(base: &str, files: &mut [InputFile]) {
    let client = match namenode_client(base) {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(
                "no block locations for {base} (tasks will not prefer DataNode hosts): {e}"
            );
            return;
        }
    };
    for f in files.iter_mut().filter(|f| f.len > 0) {
        let path = f.path.strip_prefix(base).unwrap_or(&f.path);
        let locs = spindle_hadoop::namenode::answer(base, client.block_locations(path, 0, f.len));
        match locs.await.and_then(|r| r) {
            Ok(locs) => f.blocks = locs.blocks.iter().map(BlockHosts::from_location).collect(),
            Err(e) => {
                tracing::warn!(
                    "no block locations for {} (tasks will not prefer DataNode hosts): {e}",
                    f.path
                );
                return;
            }
        }
    }
}

fn is_hidden(name: &str) -> bool {
    name.starts_with('_') || name.starts_with('.')
}

/// A file or directory found while listing an input.
struct Entry {
    loc: Location,
    is_dir: bool,
    len: u64,
    block: u64,
}

/// Looks up and lists paths of one file system for [`list_input`].
enum Lister {
    Local,
    Hdfs(hdfs_native::Client),
}

impl Lister {
    fn of(loc: &Location) -> Result<Lister> {
        Ok(match loc {
            Location::Local(_) => Lister::Local,
            Location::Hdfs { base, .. } => Lister::Hdfs(hdfs_client(base)?),
        })
    }

    fn local_entry(p: PathBuf, meta: &std::fs::Metadata) -> Entry {
        Entry {
            loc: Location::Local(p),
            is_dir: meta.is_dir(),
            len: meta.len(),
            block: LOCAL_BLOCK,
        }
    }

    fn hdfs_entry(base: &str, s: hdfs_native::client::FileStatus) -> Entry {
        Entry {
            loc: Location::Hdfs {
                base: base.to_string(),
                path: s.path,
            },
            is_dir: s.isdir,
            len: s.length as u64,
            block: s.blocksize.unwrap_or(128 << 20).max(1),
        }
    }

    /// The entry at `loc`, `None` when nothing is there.
    async fn stat(&self, loc: &Location) -> Result<Option<Entry>> {
        match (self, loc) {
            (Lister::Hdfs(c), Location::Hdfs { base, path }) => {
                match in_time(base, "looking up", path, || c.get_file_info(path)).await? {
                    Ok(mut st) => {
                        st.path = path.clone();
                        Ok(Some(Self::hdfs_entry(base, st)))
                    }
                    Err(hdfs_native::HdfsError::FileNotFound(_)) => Ok(None),
                    Err(e) => Err(hdfs_err("looking up", path, e)),
                }
            }
            (_, Location::Local(p)) => Ok(std::fs::metadata(p)
                .ok()
                .map(|m| Self::local_entry(p.clone(), &m))),
            _ => unreachable!("one file system per pattern"),
        }
    }

    /// The entries of directory `loc`, sorted by name.
    async fn list(&self, loc: &Location) -> Result<Vec<Entry>> {
        let mut out = match (self, loc) {
            (Lister::Hdfs(c), Location::Hdfs { base, path }) => {
                in_time(base, "listing", path, || c.list_status(path, false))
                    .await?
                    .map_err(|e| hdfs_err("listing", path, e))?
                    .into_iter()
                    .map(|mut s| {
                        // hdfs-native gives names relative to the directory.
                        if !s.path.starts_with('/') {
                            s.path = format!("{}/{}", path.trim_end_matches('/'), s.path);
                        }
                        Self::hdfs_entry(base, s)
                    })
                    .collect()
            }
            (_, Location::Local(p)) => {
                let what = || format!("listing {}", p.display());
                let mut out = Vec::new();
                for entry in std::fs::read_dir(p).map_err(|e| Error::io(what(), e))? {
                    let entry = entry.map_err(|e| Error::io(what(), e))?;
                    let meta = std::fs::metadata(entry.path())
                        .map_err(|e| Error::io(format!("reading {}", entry.path().display()), e))?;
                    out.push(Self::local_entry(entry.path(), &meta));
                }
                out
            }
            _ => unreachable!("one file system per pattern"),
        };
        out.sort_by_key(|e| e.loc.qualified());
        Ok(out)
    }
}

/// The files of an input (as `text_file` lists them) with their sizes, for
/// sources that read whole files.
pub fn input_files(path: &str) -> Result<Vec<(String, u64)>> {
    Ok(list_input(path)?
        .into_iter()
        .map(|f| (f.path, f.len))
        .collect())
}

/// Writes whole files into `dir` (local or in HDFS, made first), each under a
/// temporary name renamed into place: a reader sees all of a file or none.
pub fn write_files(dir: &str, files: &[(String, Vec<u8>)]) -> Result<()> {
    let loc = Location::parse(dir)?;
    let fs = OutputFs::of(&loc)?;
    let (dir_mode, file_mode) = output_permissions()?;
    block_on(async {
        fs.mkdirs(&loc, dir_mode).await?;
        for (name, bytes) in files {
            let (tmp, to) = (loc.join(&format!("{name}.writing")), loc.join(name));
            fs.write(&tmp, bytes, file_mode).await?;
            if fs.exists(&to).await? {
                fs.remove(&to).await?;
            }
            fs.rename(&tmp, &to).await?;
        }
        Ok(())
    })
}

/// The whole content of one file, local or in HDFS.
pub fn read_whole(path: &str) -> Result<Vec<u8>> {
    match Location::parse(path)? {
        Location::Local(p) => {
            std::fs::read(&p).map_err(|e| Error::io(format!("reading {}", p.display()), e))
        }
        Location::Hdfs { base, path: p } => block_on(async {
            let client = hdfs_client(&base)?;
            let r = in_time(&base, "opening", &p, || client.read(&p))
                .await?
                .map_err(|e| hdfs_err("opening", &p, e))?;
            r.read_range(0, r.file_length())
                .await
                .map(|b| b.to_vec())
                .map_err(|e| hdfs_err("reading", &p, e))
        }),
    }
}

impl Location {
    /// The last component of the path.
    fn name(&self) -> String {
        self.split_last().map(|(_, n)| n).unwrap_or_default()
    }
}

/// The files of an input: a comma-separated list of paths, directories
/// (their files, names starting with `_` or `.` skipped) and patterns, as
/// Hadoop's `FileInputFormat` lists them. A path that is not there, or a
/// pattern that matches nothing, is an error naming it.
fn list_input(input: &str) -> Result<Vec<InputFile>> {
    let mut files: Vec<InputFile> = Vec::new();
    for item in glob::split_list(input) {
        let mut found = Vec::new();
        let is_pattern = item.contains(['*', '?', '[', '{', '\\']);
        for pattern in glob::expand_braces(&item)? {
            found.extend(block_on(list_pattern(&pattern, is_pattern))?);
        }
        if found.is_empty() && is_pattern {
            return Err(Error::InputMissing(format!(
                "{item} (the pattern matches no files)"
            )));
        }
        found.sort_by(|a: &InputFile, b| a.path.cmp(&b.path));
        found.dedup_by(|a, b| a.path == b.path);
        files.extend(found);
    }
    if files.is_empty() && glob::split_list(input).is_empty() {
        return Err(Error::Config("no input path given".into()));
    }
    // Block locations, one NameNode conversation per file system.
    let mut bases: Vec<String> = Vec::new();
    for f in &files {
        if let Ok(Location::Hdfs { base, .. }) = Location::parse(&f.path)
            && !bases.contains(&base)
        {
            bases.push(base);
        }
    }
    for base in bases {
        let mut of_base: Vec<InputFile> = Vec::new();
        let mut rest = Vec::new();
        for f in files.drain(..) {
            if f.path.starts_with(&base) && f.path[base.len()..].starts_with('/') {
                of_base.push(f);
            } else {
                rest.push(f);
            }
        }
        block_on(hdfs_block_hosts(&base, &mut of_base));
        // Keep the input's order: files of other file systems after.
        files = of_base.into_iter().chain(rest).collect();
    }
    Ok(files)
}

/// The files one brace-free pattern (or plain path) names.
async fn list_pattern(pattern: &str, is_pattern: bool) -> Result<Vec<InputFile>> {
    let loc = Location::parse(pattern)?;
    let lister = Lister::of(&loc)?;
    let matched: Vec<Entry> = if glob::has_wildcard(pattern) {
        // Component by component from the root, listing where a component has wildcards.
        let (mut cands, comps): (Vec<Location>, Vec<String>) = match &loc {
            Location::Local(p) => {
                let abs = std::path::absolute(p)
                    .map_err(|e| Error::io(format!("resolving {}", p.display()), e))?;
                let comps = abs
                    .to_str()
                    .unwrap_or_default()
                    .split('/')
                    .filter(|c| !c.is_empty())
                    .map(String::from)
                    .collect();
                (vec![Location::Local(PathBuf::from("/"))], comps)
            }
            Location::Hdfs { base, path } => (
                vec![Location::Hdfs {
                    base: base.clone(),
                    path: "/".into(),
                }],
                path.split('/')
                    .filter(|c| !c.is_empty())
                    .map(String::from)
                    .collect(),
            ),
        };
        let last = comps.len().saturating_sub(1);
        for (i, comp) in comps.iter().enumerate() {
            let mut next = Vec::new();
            if glob::has_wildcard(comp) {
                let m = glob::Matcher::new(comp)?;
                for dir in &cands {
                    if !lister.stat(dir).await?.is_some_and(|e| e.is_dir) {
                        continue;
                    }
                    for e in lister.list(dir).await? {
                        let name = e.loc.name();
                        // Like Hadoop's input filter, matches of the last
                        // component skip hidden names.
                        if m.matches(&name) && !(i == last && is_hidden(&name)) {
                            next.push(e.loc);
                        }
                    }
                }
            } else {
                let name = glob::unescape(comp);
                next = cands.iter().map(|d| d.join(&name)).collect();
            }
            cands = next;
        }
        let mut out = Vec::new();
        for c in &cands {
            out.extend(lister.stat(c).await?);
        }
        out
    } else {
        match lister.stat(&loc).await? {
            Some(e) => vec![e],
            None if is_pattern => vec![],
            None => return Err(Error::InputMissing(pattern.to_string())),
        }
    };
    let mut files = Vec::new();
    for e in matched {
        let children = if e.is_dir {
            lister.list(&e.loc).await?
        } else {
            vec![e]
        };
        for c in children {
            if c.is_dir || (is_hidden(&c.loc.name()) && c.loc.qualified() != loc.qualified()) {
                continue;
            }
            files.push(InputFile {
                path: c.loc.qualified(),
                len: c.len,
                block: c.block,
                blocks: Vec::new(),
            });
        }
    }
    Ok(files)
}

/// Splits an input into byte ranges: Hadoop's rule, split size =
/// min(total / min_partitions, block size), never across files; a compressed
/// file is one split.
pub fn plan_splits(path: &str, min_partitions: u32) -> Result<Vec<Split>> {
    let files = list_input(path)?;
    let total: u64 = files.iter().map(|f| f.len).sum();
    let goal = (total / min_partitions.max(1) as u64).max(1);
    let mut splits = Vec::new();
    for f in files {
        if Codec::for_path(&f.path).is_some() && f.len > 0 {
            splits.push(Split {
                hosts: split_hosts(&f.blocks, 0, f.len),
                path: f.path,
                start: 0,
                len: f.len,
            });
            continue;
        }
        let size = goal.min(f.block).max(1);
        let mut start = 0;
        while start < f.len {
            // Like Hadoop, a last piece under 10% of a split joins the one before.
            let len = if (f.len - start) as f64 <= size as f64 * 1.1 {
                f.len - start
            } else {
                size
            };
            splits.push(Split {
                path: f.path.clone(),
                start,
                len,
                hosts: split_hosts(&f.blocks, start, len),
            });
            start += len;
        }
    }
    Ok(splits)
}

enum Source {
    Local(std::fs::File),
    Hdfs(Box<hdfs_native::file::FileReader>),
}

impl Source {
    fn open(path: &str) -> Result<Source> {
        Ok(match Location::parse(path)? {
            Location::Local(p) => Source::Local(
                std::fs::File::open(&p)
                    .map_err(|e| Error::io(format!("opening {}", p.display()), e))?,
            ),
            Location::Hdfs { base, path } => {
                let client = hdfs_client(&base)?;
                Source::Hdfs(Box::new(
                    block_on(in_time(&base, "opening", &path, || client.read(&path)))?
                        .map_err(|e| hdfs_err("opening", &path, e))?,
                ))
            }
        })
    }

    fn read_at(&mut self, offset: u64, max: usize) -> Result<Vec<u8>> {
        let mut buf = Vec::new();
        self.read_into(offset, max, &mut buf)?;
        Ok(buf)
    }

    /// Appends up to `max` bytes from `offset` to `buf` (fewer only at the
    /// end of the file), reading straight into its spare room: a line reader
    /// reuses one buffer for the whole split.
    fn read_into(&mut self, offset: u64, max: usize, buf: &mut Vec<u8>) -> Result<usize> {
        match self {
            Source::Local(f) => {
                use std::os::unix::fs::FileExt;
                let base = buf.len();
                buf.resize(base + max, 0);
                let mut filled = 0;
                while filled < max {
                    match f.read_at(&mut buf[base + filled..], offset + filled as u64) {
                        Ok(0) => break,
                        Ok(n) => filled += n,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(e) => {
                            buf.truncate(base);
                            return Err(Error::io("reading input", e));
                        }
                    }
                }
                buf.truncate(base + filled);
                Ok(filled)
            }
            Source::Hdfs(r) => {
                let len = r.file_length() as u64;
                if offset >= len {
                    return Ok(0);
                }
                let n = (max as u64).min(len - offset) as usize;
                let bytes = block_on(r.read_range(offset as usize, n))
                    .map_err(|e| hdfs_failure(format!("reading: {e}")))?;
                buf.extend_from_slice(&bytes);
                Ok(bytes.len())
            }
        }
    }
}

/// One split per file of an input (the files [`plan_splits`] lists), for
/// formats read whole: SequenceFiles.
pub fn plan_file_splits(path: &str) -> Result<Vec<Split>> {
    Ok(list_input(path)?
        .into_iter()
        .filter(|f| f.len > 0)
        .map(|f| Split {
            hosts: split_hosts(&f.blocks, 0, f.len),
            path: f.path,
            start: 0,
            len: f.len,
        })
        .collect())
}

/// The records of a SequenceFile split, decoded as `K` and `V`, in batches of
/// up to `batch`; the file's classes must be `K`'s and `V`'s.
pub fn sequence_file_records<K: Writable, V: Writable>(
    split: &Split,
    batch: usize,
) -> Result<impl Iterator<Item = Result<Vec<(K, V)>>> + Send + use<K, V>> {
    let path = split.path.clone();
    let file = std::io::BufReader::with_capacity(
        READ_CHUNK,
        SourceReader {
            src: Source::open(&path)?,
            pos: 0,
        },
    );
    let err = |e: std::io::Error| Error::Task(format!("{path} (SequenceFile): {e}"));
    let mut r = seqfile::SeqReader::new(file).map_err(err)?;
    for (what, class, want) in [
        ("keys", &r.key_class, K::CLASS),
        ("values", &r.value_class, V::CLASS),
    ] {
        if class != want {
            return Err(Error::Task(format!(
                "{path} (SequenceFile): its {what} are {class}, not {want}"
            )));
        }
    }
    let mut done = false;
    Ok(std::iter::from_fn(move || {
        if done {
            return None;
        }
        let mut out = Vec::new();
        while out.len() < batch {
            match r.next() {
                Ok(Some(rec)) => match seqfile::decode::<K, V>(&path, rec) {
                    Ok(kv) => out.push(kv),
                    Err(e) => return Some(Err(e)),
                },
                Ok(None) => {
                    done = true;
                    break;
                }
                Err(e) => {
                    done = true;
                    return Some(Err(Error::Task(format!("{path} (SequenceFile): {e}"))));
                }
            }
        }
        (!out.is_empty()).then_some(Ok(out))
    }))
}

/// A file read front to back through [`Source::read_at`] (what a decoder reads).
struct SourceReader {
    src: Source,
    pos: u64,
}

impl Read for SourceReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let bytes = self
            .src
            .read_at(self.pos, buf.len())
            .map_err(std::io::Error::other)?;
        buf[..bytes.len()].copy_from_slice(&bytes);
        self.pos += bytes.len() as u64;
        Ok(bytes.len())
    }
}

/// Where a [`LineReader`] takes its bytes: the file, or its decompressed stream.
enum LineInput {
    Plain(Source),
    Decoded {
        codec: Codec,
        stream: Box<dyn Read + Send>,
    },
}

/// Reads the lines of a split: skips a partial first line (the previous split
/// owns it) and reads past the end to finish the last line, as Hadoop does.
/// A compressed file is one split, decompressed as it is read.
///
/// The split is streamed through one buffer of about [`READ_CHUNK`] bytes
/// (more only while a single line is longer), so a task's memory does not
/// grow with its split.
pub struct LineReader {
    src: LineInput,
    path: String,
    /// File offset of `buf[at]`.
    pos: u64,
    end: u64,
    buf: Vec<u8>,
    at: usize,
    /// Bytes read from the source at a time.
    chunk: usize,
    /// The lines [`Self::take_buffered`] found: offset and range in `buf`.
    lines: Vec<(u64, std::ops::Range<usize>)>,
    eof: bool,
    started: bool,
    done: bool,
    start: u64,
}

impl LineReader {
    /// Opens the file of a split.
    pub fn open(split: &Split) -> Result<LineReader> {
        Self::with_chunk(split, READ_CHUNK)
    }

    /// Opens the file of a split, reading `chunk` bytes at a time.
    fn with_chunk(split: &Split, chunk: usize) -> Result<LineReader> {
        let src = Source::open(&split.path)?;
        let (src, end) = match Codec::for_path(&split.path) {
            None => (LineInput::Plain(src), split.start + split.len),
            Some(codec) => {
                let file =
                    std::io::BufReader::with_capacity(READ_CHUNK, SourceReader { src, pos: 0 });
                let stream = compress::decoder(codec, file)
                    .map_err(|e| Error::Task(format!("{} ({codec}): {e}", split.path)))?;
                // Every line of the decompressed stream is this split's.
                (LineInput::Decoded { codec, stream }, u64::MAX)
            }
        };
        let chunk = chunk.max(1);
        Ok(LineReader {
            src,
            path: split.path.clone(),
            pos: split.start,
            end,
            buf: Vec::with_capacity(chunk),
            at: 0,
            chunk,
            lines: Vec::new(),
            eof: false,
            started: false,
            done: false,
            start: split.start,
        })
    }

    /// Moves the unread bytes to the front of the buffer and appends the
    /// next chunk of the input; at the end of the input sets `eof`.
    fn fill(&mut self) -> Result<()> {
        if self.at > 0 {
            self.buf.copy_within(self.at.., 0);
            self.buf.truncate(self.buf.len() - self.at);
            self.at = 0;
        }
        let n = match &mut self.src {
            LineInput::Plain(src) => {
                let file_off = self.pos + self.buf.len() as u64;
                src.read_into(file_off, self.chunk, &mut self.buf)
                    .map_err(|e| Error::Task(format!("{}: {e}", self.path)))?
            }
            LineInput::Decoded { codec, stream } => {
                let base = self.buf.len();
                self.buf.resize(base + self.chunk, 0);
                let n = read_full(stream, &mut self.buf[base..]);
                self.buf.truncate(base + *n.as_ref().unwrap_or(&0));
                n.map_err(|e| Error::Task(format!("{} ({codec}): {e}", self.path)))?
            }
        };
        if n == 0 {
            self.eof = true;
        }
        Ok(())
    }

    /// The next line's file offset and its bytes' range in `buf` (without
    /// its end of line), or None at the end of the input.
    fn next_line(&mut self) -> Result<Option<(u64, std::ops::Range<usize>)>> {
        let mut searched = 0;
        loop {
            let from = self.at + searched;
            if let Some(i) = memchr::memchr(b'\n', &self.buf[from..]) {
                let line_start = self.pos;
                let range = self.at..from + i;
                let taken = from + i + 1 - self.at;
                self.at += taken;
                self.pos += taken as u64;
                return Ok(Some((line_start, range)));
            }
            if self.eof {
                if self.at < self.buf.len() {
                    let line_start = self.pos;
                    let range = self.at..self.buf.len();
                    self.pos += range.len() as u64;
                    self.at = self.buf.len();
                    return Ok(Some((line_start, range)));
                }
                return Ok(None);
            }
            // No end of line in what is buffered: keep it, read more, and
            // search only the new bytes.
            searched = self.buf.len() - self.at;
            self.fill()?;
        }
    }

    /// Up to `n` lines of the split, or None once it is exhausted. A split
    /// owns the lines that start inside it.
    pub fn next_batch(&mut self, n: usize) -> Result<Option<Vec<String>>> {
        let mut out = Vec::with_capacity(n);
        self.take_lines(n, &mut |_, line| out.push(line))?;
        Ok(if out.is_empty() { None } else { Some(out) })
    }

    /// Like [`next_batch`](Self::next_batch), each line with its offset in
    /// the file (in the decompressed stream of a compressed file), for
    /// errors that name where a bad record is.
    pub fn next_batch_at(&mut self, n: usize) -> Result<Option<Vec<(u64, String)>>> {
        let mut out = Vec::with_capacity(n);
        self.take_lines(n, &mut |at, line| out.push((at, line)))?;
        Ok(if out.is_empty() { None } else { Some(out) })
    }

    /// The path of the split's file.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Gives up to `n` lines of the split to `sink`, each as it is read;
    /// false, having given none, once the split is exhausted.
    pub fn push_lines(&mut self, n: usize, sink: &mut dyn FnMut(String)) -> Result<bool> {
        self.take_lines(n, &mut |_, line| sink(line))
    }

    /// Hands up to `n` lines, each with its offset, to `take`; false, having
    /// given none, once the split is exhausted.
    fn take_lines(&mut self, n: usize, take: &mut dyn FnMut(u64, String)) -> Result<bool> {
        if self.done {
            return Ok(false);
        }
        // The task's job was cancelled (the task runner reports it as such).
        if crate::task::current_task_cancelled() {
            return Err(Error::Cancelled {
                job: 0,
                reason: format!("stopped reading {}", self.path),
            });
        }
        if !self.started {
            self.started = true;
            // A line that began before this split belongs to the previous one.
            if let LineInput::Plain(src) = &mut self.src
                && self.start != 0
                && src.read_at(self.start - 1, 1)?.first() != Some(&b'\n')
            {
                self.next_line()?;
            }
        }
        let mut given = 0;
        while given < n && !self.done {
            given += self.take_buffered(n - given, take);
            if given == n || self.done {
                break;
            }
            // The next line is not wholly buffered (or there is none): read on.
            match self.next_line()? {
                Some((line_start, range)) if line_start < self.end => {
                    take(line_start, line_text(&self.buf[range]));
                    given += 1;
                }
                _ => self.done = true,
            }
        }
        Ok(given > 0)
    }

    /// Hands up to `k` of the lines wholly in the buffer to `take`, their
    /// bytes checked as UTF-8 in one pass (on short lines a check per line
    /// costs more than the checking); the number handed.
    fn take_buffered(&mut self, k: usize, take: &mut dyn FnMut(u64, String)) -> usize {
        let mut lines = std::mem::take(&mut self.lines);
        lines.clear();
        while lines.len() < k {
            let Some(i) = memchr::memchr(b'\n', &self.buf[self.at..]) else {
                break;
            };
            // A split owns the lines that start inside it.
            if self.pos >= self.end {
                self.done = true;
                break;
            }
            lines.push((self.pos, self.at..self.at + i));
            self.at += i + 1;
            self.pos += i as u64 + 1;
        }
        if let (Some((_, first)), Some((_, last))) = (lines.first(), lines.last()) {
            let from = first.start;
            match std::str::from_utf8(&self.buf[from..last.end]) {
                Ok(text) => {
                    for (at, r) in &lines {
                        // Cut at line ends ('\n' is ASCII): always on a character boundary.
                        let line = &text[r.start - from..r.end - from];
                        take(*at, line.strip_suffix('\r').unwrap_or(line).to_owned());
                    }
                }
                Err(_) => {
                    for (at, r) in &lines {
                        take(*at, line_text(&self.buf[r.clone()]));
                    }
                }
            }
        }
        let handed = lines.len();
        self.lines = lines;
        handed
    }
}

/// A line's text without its `\r`, any invalid UTF-8 replaced (U+FFFD).
fn line_text(line: &[u8]) -> String {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    match std::str::from_utf8(line) {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(line).into_owned(),
    }
}

/// Reads until `buf` is full or the stream ends; the bytes read.
fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// The file that proves an output directory was made by this application:
/// hidden from Hadoop's input formats (leading `_`), never a `part-*` file.
/// It holds the owner (the YARN application id) and the process that made it.
pub const OWNER_MARKER: &str = "_spindle_owner";

static OWNER: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// Names the application whose outputs this driver creates (the YARN
/// application id, shared by all its attempts). Unset, outputs are owned by
/// this process alone (local mode).
pub fn set_output_owner(application: &str) {
    *OWNER.lock().unwrap_or_else(|e| e.into_inner()) = Some(application.to_string());
}

/// This process, unique among the application's attempts.
fn this_process() -> &'static str {
    static PROCESS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PROCESS.get_or_init(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        format!("{}-{nanos}", std::process::id())
    })
}

/// Who owns the outputs this process creates: the application, or in local
/// mode this process alone.
fn output_owner() -> String {
    let owner = OWNER.lock().unwrap_or_else(|e| e.into_inner()).clone();
    owner.unwrap_or_else(|| format!("local-{}", this_process()))
}

/// The marker's text for outputs this process creates: the owner, then the
/// process.
fn owner_marker() -> String {
    format!("{}\nprocess {}\n", output_owner(), this_process())
}

/// Whether a marker's text says an *earlier* process of this application
/// made the directory (a crashed AM attempt): only then may it be replaced.
/// Outputs of other applications, or of this very process, never are.
fn made_by_earlier_attempt(marker: &str, mine: &str) -> bool {
    marker.lines().next() == mine.lines().next() && marker != mine
}

/// The permission bits of new output directories and files: Hadoop's
/// defaults (0777, 0666) less `fs.permissions.umask-mode`.
fn output_permissions() -> Result<(u32, u32)> {
    static UMASK: std::sync::OnceLock<std::result::Result<u32, String>> =
        std::sync::OnceLock::new();
    let umask = UMASK.get_or_init(|| {
        spindle_hadoop::config::Configuration::from_env()
            .and_then(|c| c.umask())
            .map_err(|e| e.to_string())
    });
    let umask = umask.clone().map_err(Error::Config)?;
    Ok((0o777 & !umask, 0o666 & !umask))
}

/// The few operations the output protocol needs, on either file system.
struct OutputFs(Option<hdfs_native::Client>);

impl OutputFs {
    fn of(loc: &Location) -> Result<OutputFs> {
        Ok(OutputFs(match loc {
            Location::Local(_) => None,
            Location::Hdfs { base, .. } => Some(hdfs_client(base)?),
        }))
    }

    async fn exists(&self, loc: &Location) -> Result<bool> {
        match (&self.0, loc) {
            (Some(c), Location::Hdfs { base, path }) => {
                match in_time(base, "looking up", path, || c.get_file_info(path)).await? {
                    Ok(_) => Ok(true),
                    Err(hdfs_native::HdfsError::FileNotFound(_)) => Ok(false),
                    Err(e) => Err(hdfs_err("looking up", path, e)),
                }
            }
            (_, Location::Local(p)) => Ok(p.symlink_metadata().is_ok()),
            _ => unreachable!("one file system per output"),
        }
    }

    /// The marker's text of an output directory; `None` when it has none.
    async fn marker(&self, dir: &Location) -> Result<Option<String>> {
        const MAX: usize = 4096;
        let loc = dir.join(OWNER_MARKER);
        if !self.exists(&loc).await? {
            return Ok(None);
        }
        let bytes = match (&self.0, &loc) {
            (Some(c), Location::Hdfs { base, path }) => {
                let r = in_time(base, "opening", path, || c.read(path))
                    .await?
                    .map_err(|e| hdfs_err("opening", path, e))?;
                let n = r.file_length().min(MAX);
                in_time(base, "reading", path, || r.read_range(0, n))
                    .await?
                    .map_err(|e| hdfs_err("reading", path, e))?
                    .to_vec()
            }
            (_, Location::Local(p)) => {
                let mut b = std::fs::read(p)
                    .map_err(|e| Error::io(format!("reading {}", p.display()), e))?;
                b.truncate(MAX);
                b
            }
            _ => unreachable!("one file system per output"),
        };
        Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
    }

    async fn mkdirs(&self, loc: &Location, mode: u32) -> Result<()> {
        match (&self.0, loc) {
            (Some(c), Location::Hdfs { base, path }) => {
                in_time(base, "creating", path, || c.mkdirs(path, mode, true))
                    .await?
                    .map_err(|e| hdfs_err("creating", path, e))
            }
            (_, Location::Local(p)) => std::fs::create_dir_all(p)
                .map_err(|e| Error::io(format!("creating {}", p.display()), e)),
            _ => unreachable!("one file system per output"),
        }
    }

    /// Writes `bytes` as the new file `loc` (it must not exist yet).
    async fn write(&self, loc: &Location, bytes: &[u8], mode: u32) -> Result<()> {
        match (&self.0, loc) {
            (Some(c), Location::Hdfs { base, path }) => {
                use spindle_contract::hdfs_write::{PIPELINE_PAUSES, with_new_pipelines};
                with_new_pipelines(
                    path,
                    &PIPELINE_PAUSES,
                    async || write_hdfs_once(c, base, path, bytes, mode).await,
                    async || self.remove(loc).await,
                )
                .await?
                .map_err(|e| hdfs_err("writing", path, e))
            }
            (_, Location::Local(p)) => std::fs::write(p, bytes)
                .map_err(|e| Error::io(format!("writing {}", p.display()), e)),
            _ => unreachable!("one file system per output"),
        }
    }

    /// Renames `from` to `to`; fails when `to` exists (HDFS rename2 without
    /// overwrite; locally, a non-empty directory is never replaced).
    async fn rename(&self, from: &Location, to: &Location) -> Result<()> {
        match (&self.0, from, to) {
            (Some(c), Location::Hdfs { base, path: f }, Location::Hdfs { path: t, .. }) => {
                in_time(base, "renaming into", t, || c.rename(f, t, false))
                    .await?
                    .map_err(|e| hdfs_err("renaming into", t, e))
            }
            (_, Location::Local(f), Location::Local(t)) => std::fs::rename(f, t)
                .map_err(|e| Error::io(format!("renaming into {}", t.display()), e)),
            _ => unreachable!("one file system per output"),
        }
    }

    /// [`OutputFs::rename`] for the commit, safe across a NameNode failover ([`rename_applied_once`]).
    async fn commit_rename(&self, from: &Location, to: &Location) -> Result<()> {
        rename_applied_once(
            async || self.rename(from, to).await,
            async |which| match which {
                Side::From => self.exists(from).await,
                Side::To => self.exists(to).await,
            },
        )
        .await
    }

    async fn remove(&self, loc: &Location) -> Result<()> {
        match (&self.0, loc) {
            (Some(c), Location::Hdfs { base, path }) => {
                in_time(base, "removing", path, || c.delete(path, true))
                    .await?
                    .map(|_| ())
                    .map_err(|e| hdfs_err("removing", path, e))
            }
            (_, Location::Local(p)) => {
                let r = if p.is_dir() {
                    std::fs::remove_dir_all(p)
                } else {
                    std::fs::remove_file(p)
                };
                r.map_err(|e| Error::io(format!("removing {}", p.display()), e))
            }
            _ => unreachable!("one file system per output"),
        }
    }
}

/// Creates `path` in HDFS and writes `bytes` into it; `Ok(Err(..))` when the NameNode took the
/// file but its DataNodes failed it (the file is left half-written for the caller to remove).
async fn write_hdfs_once(
    c: &hdfs_native::Client,
    base: &str,
    path: &str,
    bytes: &[u8],
    mode: u32,
) -> Result<std::result::Result<(), hdfs_native::HdfsError>> {
    use spindle_contract::hdfs_write::{close, write_piece};
    let opts = hdfs_native::WriteOptions::default().permission(mode);
    let mut w = in_time(base, "creating", path, || c.create(path, opts.clone()))
        .await?
        .map_err(|e| hdfs_err("creating", path, e))?;
    for chunk in bytes.chunks(4 << 20) {
        if let Err(e) = write_piece(&mut w, bytes::Bytes::copy_from_slice(chunk)).await {
            return Ok(Err(e));
        }
    }
    Ok(close(w).await)
}

/// A rename's two ends, for [`rename_applied_once`]'s look after a failed attempt.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Side {
    From,
    To,
}

/// Attempts of one commit rename (the wait between two: [`RENAME_RETRY_WAIT`]).
const RENAME_TRIES: u32 = 3;
const RENAME_RETRY_WAIT: std::time::Duration = std::time::Duration::from_millis(500);

/// Runs `rename` (without overwrite) until it is applied exactly once. When the active NameNode
/// dies with a rename in flight, hdfs-native returns the error rather than resend a write whose
/// request went out, and a new call carries a new client id and call id, so the NameNode's retry
/// cache cannot recognise it (docs/hadoop-notes.md). So after a failed attempt both ends are
/// looked at: the source gone and the target there means the rename was applied before its answer
/// was lost (done); the source there and the target not means it was not (try again). Without
/// overwrite, a repeated rename fails on the existing target rather than moving into it, so it
/// can never apply twice.
async fn rename_applied_once(
    mut rename: impl AsyncFnMut() -> Result<()>,
    mut exists: impl AsyncFnMut(Side) -> Result<bool>,
) -> Result<()> {
    let mut tries = 0;
    loop {
        tries += 1;
        let Err(e) = rename().await else {
            return Ok(());
        };
        let (from, to) = (exists(Side::From).await?, exists(Side::To).await?);
        if !from && to {
            return Ok(());
        }
        if !from || to || tries >= RENAME_TRIES {
            return Err(e);
        }
        tokio::time::sleep(RENAME_RETRY_WAIT).await;
    }
}

/// Checks the output path is free and creates it with its owner marker and
/// temporary directory. The directory is assembled under a hidden name beside
/// the output and renamed into place, so the output never exists without
/// its marker: a crash at any point leaves nothing that a later attempt
/// could mistake for its own. An existing output is refused unless its
/// marker says an earlier attempt of this application made it (a crashed AM
/// attempt): that one is replaced.
pub fn prepare_output(out: &str) -> Result<()> {
    let loc = Location::parse(out)?;
    let (parent, name) = loc
        .split_last()
        .ok_or_else(|| Error::Config(format!("output path {out:?} has no directory name")))?;
    let marker = owner_marker();
    let (dir_mode, file_mode) = output_permissions()?;
    block_on(async {
        let fs = OutputFs::of(&loc)?;
        if fs.exists(&loc).await? {
            match fs.marker(&loc).await? {
                Some(m) if made_by_earlier_attempt(&m, &marker) => {
                    tracing::info!(
                        "replacing {out}: an earlier attempt of this application began it"
                    );
                    fs.remove(&loc).await?;
                }
                _ => return Err(Error::OutputExists(out.to_string())),
            }
        }
        let prep = parent.join(&format!(".{name}.{}.spindle-prepare", output_owner()));
        if fs.exists(&prep).await? {
            match fs.marker(&prep).await? {
                Some(m) if m == marker || made_by_earlier_attempt(&m, &marker) => {
                    fs.remove(&prep).await?
                }
                _ => {
                    return Err(Error::OutputExists(format!(
                        "{} (a directory this application did not make is in the way of {out})",
                        prep.display()
                    )));
                }
            }
        }
        fs.mkdirs(&prep.join("_temporary"), dir_mode).await?;
        fs.write(&prep.join(OWNER_MARKER), marker.as_bytes(), file_mode)
            .await?;
        if let Err(e) = fs.commit_rename(&prep, &loc).await {
            let _ = fs.remove(&prep).await;
            // Someone made the output meanwhile: theirs stays.
            return Err(match fs.exists(&loc).await {
                Ok(true) => Error::OutputExists(out.to_string()),
                _ => e,
            });
        }
        Ok(())
    })
}

fn part_name(p: u32) -> String {
    format!("part-{p:05}")
}

/// Writes one task's output and commits it (rename into `_temporary/part-P`).
pub fn write_task_output(
    out: &str,
    partition: u32,
    attempt: u32,
    write: impl FnOnce(&mut dyn Write) -> Result<()>,
) -> Result<()> {
    write_task_output_with(out, partition, attempt, None, write)
}

/// Runs `write` on `w`, through `codec`'s encoder when there is one.
fn write_encoded(
    w: &mut dyn Write,
    codec: Option<Codec>,
    out: &str,
    write: impl FnOnce(&mut dyn Write) -> Result<()>,
) -> Result<()> {
    let Some(codec) = codec else {
        return write(w);
    };
    let io_err = |e| Error::io(format!("writing {out} ({codec})"), e);
    let mut enc = compress::Encoder::new(codec, w).map_err(io_err)?;
    write(&mut enc)?;
    enc.finish().map_err(io_err)?;
    Ok(())
}

/// [`write_task_output`], compressed with `codec` into `part-P` plus the
/// codec's extension (`part-00000.gz`), as Hadoop's output formats name them.
pub fn write_task_output_with(
    out: &str,
    partition: u32,
    attempt: u32,
    codec: Option<Codec>,
    write: impl FnOnce(&mut dyn Write) -> Result<()>,
) -> Result<()> {
    let suffix = codec.map_or("", Codec::extension);
    write_task_part(out, partition, attempt, suffix, codec, write)
}

/// [`write_task_output_with`] into `part-P` + `suffix` (`part-00000.parquet`).
pub fn write_task_part(
    out: &str,
    partition: u32,
    attempt: u32,
    suffix: &str,
    codec: Option<Codec>,
    write: impl FnOnce(&mut dyn Write) -> Result<()>,
) -> Result<()> {
    let part_name = |p| part_name(p) + suffix;
    let tmp = Location::parse(out)?.join("_temporary");
    let attempt_loc = tmp.join(&format!("attempt-{partition:05}-{attempt}"));
    let cancelled = || {
        Error::Task(format!(
            "{out}: partition {partition} not committed: the job was cancelled"
        ))
    };
    let final_loc = tmp.join(&part_name(partition));
    match (&attempt_loc, &final_loc) {
        (Location::Local(a), Location::Local(f)) => {
            let file = std::fs::File::create(a)
                .map_err(|e| Error::io(format!("creating {}", a.display()), e))?;
            let mut w = BufWriter::with_capacity(1 << 20, file);
            write_encoded(&mut w, codec, out, write)?;
            w.flush()
                .map_err(|e| Error::io(format!("writing {}", a.display()), e))?;
            drop(w);
            if crate::task::current_task_cancelled() {
                let _ = std::fs::remove_file(a);
                return Err(cancelled());
            }
            if f.exists() {
                // Another attempt of this partition already committed.
                let _ = std::fs::remove_file(a);
                return Ok(());
            }
            std::fs::rename(a, f).map_err(|e| Error::io(format!("committing {}", f.display()), e))
        }
        (Location::Hdfs { .. }, Location::Hdfs { .. }) => {
            let mut bytes = Vec::new();
            write_encoded(&mut bytes, codec, out, write)?;
            if crate::task::current_task_cancelled() {
                return Err(cancelled());
            }
            block_on(async {
                let fs = OutputFs::of(&attempt_loc)?;
                let (_, file_mode) = output_permissions()?;
                fs.write(&attempt_loc, &bytes, file_mode).await?;
                if crate::task::current_task_cancelled() {
                    let _ = fs.remove(&attempt_loc).await;
                    return Err(cancelled());
                }
                if fs.exists(&final_loc).await? {
                    // Another attempt of this partition already committed.
                    let _ = fs.remove(&attempt_loc).await;
                    return Ok(());
                }
                fs.rename(&attempt_loc, &final_loc).await
            })
        }
        _ => unreachable!("attempt and final locations share a file system"),
    }
}

/// Moves every committed part into the output directory, marks success and
/// drops the owner marker (a complete output is never replaced).
pub fn commit_job(out: &str, partitions: u32) -> Result<()> {
    commit_job_with(out, partitions, None)
}

/// [`commit_job`] of parts written by [`write_task_output_with`] with `codec`.
pub fn commit_job_with(out: &str, partitions: u32, codec: Option<Codec>) -> Result<()> {
    commit_job_parts(out, partitions, codec.map_or("", Codec::extension))
}

/// [`commit_job`] of parts written by [`write_task_part`] with `suffix`.
pub fn commit_job_parts(out: &str, partitions: u32, suffix: &str) -> Result<()> {
    let loc = Location::parse(out)?;
    let tmp = loc.join("_temporary");
    let (_, file_mode) = output_permissions()?;
    block_on(async {
        let fs = OutputFs::of(&loc)?;
        for p in 0..partitions {
            let name = part_name(p) + suffix;
            fs.commit_rename(&tmp.join(&name), &loc.join(&name)).await?;
            if p == 0 {
                commit_pause(out).await?;
            }
        }
        if let Err(e) = fs.remove(&tmp).await {
            // Deleted before the answer was lost (a NameNode failover), or not at all.
            if fs.exists(&tmp).await? {
                return Err(e);
            }
        }
        let success = loc.join("_SUCCESS");
        if let Err(e) = fs.write(&success, b"", file_mode).await {
            // Written before the answer was lost (a NameNode failover), or not at all.
            if !fs.exists(&success).await? {
                return Err(e);
            }
        }
        if let Err(e) = fs.remove(&loc.join(OWNER_MARKER)).await {
            tracing::warn!("{out} is complete, but its owner marker stays: {e}");
        }
        Ok(())
    })
}

/// Tests only (`spindle.test.commitPause`): between a commit's first rename and the rest, tells
/// the test it is there (`<dir>/paused`, holding the output path) and waits for `<dir>/resume`, so
/// that a NameNode failover lands inside the commit however fast the commit is.
async fn commit_pause(out: &str) -> Result<()> {
    let conf = spindle_contract::Conf::from_env().map_err(|e| Error::Config(e.to_string()))?;
    let Some(dir) = conf.text(&spindle_contract::settings::TEST_COMMIT_PAUSE) else {
        return Ok(());
    };
    let dir = Path::new(&dir);
    let io = |what: &str, e| Error::io(format!("{what} (spindle.test.commitPause)"), e);
    let paused = dir.join("paused");
    let new = dir.join(".paused.new");
    std::fs::write(&new, out).map_err(|e| io(&format!("writing {}", new.display()), e))?;
    std::fs::rename(&new, &paused).map_err(|e| io(&format!("writing {}", paused.display()), e))?;
    tracing::info!(
        "commit of {out} paused until {} exists",
        dir.join("resume").display()
    );
    let t0 = std::time::Instant::now();
    while !dir.join("resume").exists() {
        if t0.elapsed() > std::time::Duration::from_secs(600) {
            tracing::info!(
                "no {} after 10 minutes: committing",
                dir.join("resume").display()
            );
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    Ok(())
}

/// Deletes everything a failed job wrote: the output directory, only if this
/// process made it (its marker says so).
pub fn abort_job(out: &str) {
    let Ok(loc) = Location::parse(out) else {
        return;
    };
    let mine = owner_marker();
    let result = block_on(async {
        let fs = OutputFs::of(&loc)?;
        if fs.marker(&loc).await?.as_deref() == Some(mine.as_str()) {
            fs.remove(&loc).await?;
        } else {
            tracing::warn!("not removing {out}: this process did not make it");
        }
        Ok::<(), Error>(())
    });
    if let Err(e) = result {
        tracing::warn!("removing the failed output {out}: {e}");
    }
}

/// Whether a local path exists (used by tests and examples).
pub fn local_exists(p: &Path) -> bool {
    p.exists()
}

#[cfg(test)]
mod tests {
    use super::{RENAME_TRIES, Side, rename_applied_once};

    /// Files written whole into a directory made for them; writing one again replaces it, and
    /// no temporary name is left behind.
    #[test]
    fn files_are_written_whole_and_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let local = dir.path().join("a/b");
        let to = &format!("file://{}", local.display());
        let files = [
            ("x".to_string(), b"one".to_vec()),
            ("y".to_string(), Vec::new()),
        ];
        super::write_files(to, &files).unwrap();
        super::write_files(to, &[("x".to_string(), b"two".to_vec())]).unwrap();
        assert_eq!(super::read_whole(&format!("{to}/x")).unwrap(), b"two");
        assert_eq!(super::read_whole(&format!("{to}/y")).unwrap(), b"");
        let mut names: Vec<_> = std::fs::read_dir(&local)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["x", "y"]);
    }

    /// A commit rename whose first answer is lost after the rename was applied (the active
    /// NameNode died with the reply in flight), and one whose first attempt never arrived: both
    /// end with the part in place exactly once; a part never written fails.
    #[test]
    fn a_retried_rename_neither_fails_nor_applies_twice() {
        let dir = tempfile::tempdir().unwrap();
        let (from, to) = (dir.path().join("from"), dir.path().join("to"));
        let exists = |f: &std::path::Path, t: &std::path::Path| {
            let (f, t) = (f.to_path_buf(), t.to_path_buf());
            async move |side| {
                Ok(match side {
                    Side::From => f.exists(),
                    Side::To => t.exists(),
                })
            }
        };
        let lost = || crate::Error::Config("connection reset".into());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();

        // Applied, answer lost: no second rename is made, and no error.
        std::fs::create_dir(&from).unwrap();
        std::fs::write(from.join("part-00000"), b"a 1\n").unwrap();
        let mut calls = 0;
        let r = rt.block_on(rename_applied_once(
            async || {
                calls += 1;
                std::fs::rename(&from, &to).unwrap();
                Err(lost())
            },
            exists(&from, &to),
        ));
        assert!(r.is_ok(), "{r:?}");
        assert_eq!(calls, 1);
        assert_eq!(std::fs::read(to.join("part-00000")).unwrap(), b"a 1\n");
        assert!(!to.join("from").exists() && !from.exists());

        // Not applied the first time: tried again, applied once.
        std::fs::rename(&to, &from).unwrap();
        let mut calls = 0;
        let r = rt.block_on(rename_applied_once(
            async || {
                calls += 1;
                if calls == 1 {
                    return Err(lost());
                }
                std::fs::rename(&from, &to).map_err(|e| crate::Error::io("renaming", e))
            },
            exists(&from, &to),
        ));
        assert!(r.is_ok(), "{r:?}");
        assert_eq!(calls, 2);
        assert!(to.join("part-00000").exists() && !from.exists());

        // Neither end there (nothing to commit): the error, after one attempt.
        std::fs::remove_dir_all(&to).unwrap();
        let mut calls = 0;
        let r = rt.block_on(rename_applied_once(
            async || {
                calls += 1;
                Err(lost())
            },
            exists(&from, &to),
        ));
        assert!(r.is_err());
        assert_eq!(calls, 1);

        // Never applied: gives up after RENAME_TRIES attempts.
        std::fs::create_dir(&from).unwrap();
        let mut calls = 0;
        let r = rt.block_on(rename_applied_once(
            async || {
                calls += 1;
                Err(lost())
            },
            exists(&from, &to),
        ));
        assert!(r.is_err());
        assert_eq!(calls, RENAME_TRIES);
    }

    use super::*;

    fn read_all(path: &str, parts: u32) -> Vec<String> {
        let mut out = Vec::new();
        for s in plan_splits(path, parts).unwrap() {
            let mut r = LineReader::open(&s).unwrap();
            while let Some(b) = r.next_batch(7).unwrap() {
                out.extend(b);
            }
        }
        out
    }

    #[test]
    fn splits_give_every_line_exactly_once() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("in.txt");
        let lines: Vec<String> = (0..1000)
            .map(|i| "x".repeat(i % 37) + &i.to_string())
            .collect();
        std::fs::write(&f, lines.join("\n") + "\n").unwrap();
        let path = f.display().to_string();
        for parts in [1, 2, 3, 7, 50, 333] {
            assert_eq!(read_all(&path, parts), lines, "with {parts} partitions");
        }
        // No final newline, and CRLF endings.
        std::fs::write(&f, "a\r\nbb\r\nccc").unwrap();
        for parts in [1, 2, 3, 4] {
            assert_eq!(
                read_all(&path, parts),
                vec!["a", "bb", "ccc"],
                "with {parts} partitions"
            );
        }
    }

    #[test]
    fn lines_longer_than_the_read_buffer_and_splits_between_chunks_are_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("in.txt");
        // Lines from empty to 5000 bytes (far above the small buffers used
        // here), some CRLF, some non-UTF-8 (replaced as before), no final newline.
        let mut bytes = Vec::new();
        let mut want = Vec::new();
        for i in 0..300usize {
            let line = format!("{i}:{}", "abcdefghij".repeat((i * 7919) % 500));
            bytes.extend_from_slice(line.as_bytes());
            bytes.extend_from_slice(if i % 5 == 0 { b"\r\n" } else { b"\n" });
            want.push(line);
            if i % 50 == 0 {
                bytes.extend_from_slice(b"\n");
                want.push(String::new());
            }
            // Invalid UTF-8 among lines read a buffer at a time.
            if i % 70 == 0 {
                bytes.extend_from_slice(b"mid\xffdle\r\n");
                want.push("mid\u{fffd}dle".into());
            }
        }
        bytes.extend_from_slice(b"tail\xffend");
        want.push("tail\u{fffd}end".into());
        std::fs::write(&f, &bytes).unwrap();
        let path = f.display().to_string();
        for parts in [1, 3, 17, 101] {
            for chunk in [1, 2, 7, 64, 4096, READ_CHUNK] {
                let mut got = Vec::new();
                for s in plan_splits(&path, parts).unwrap() {
                    let mut r = LineReader::with_chunk(&s, chunk).unwrap();
                    while let Some(b) = r.next_batch(13).unwrap() {
                        got.extend(b);
                    }
                    // The buffer holds at most a chunk beyond the longest line.
                    assert!(
                        r.buf.capacity() <= 2 * (5100 + chunk),
                        "{}",
                        r.buf.capacity()
                    );
                }
                assert_eq!(got.len(), want.len(), "{parts} splits, chunk {chunk}");
                assert!(got == want, "{parts} splits, chunk {chunk}");
            }
        }
    }

    #[test]
    fn sample_windows_read_the_lines_starting_in_them_and_a_compressed_file_whole() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("in.txt");
        // Lines of varied lengths, each naming its own start offset.
        let (mut text, mut starts) = (String::new(), Vec::new());
        for i in 0..150_000usize {
            starts.push(text.len() as u64);
            text += &format!("{} {}\n", text.len(), "y".repeat(i % 23));
        }
        std::fs::write(&f, &text).unwrap();
        let split = plan_splits(&f.display().to_string(), 1).unwrap().remove(0);
        assert!(split.len >= SAMPLE_MIN_SPLIT, "{}", split.len);
        let (windows, share) = split.sample_windows();
        assert_eq!(windows.len() as u64, SAMPLE_WINDOWS);
        assert!((share - 1.0 / SAMPLE_SHARE as f64).abs() < 0.001, "{share}");
        for w in windows {
            let mut got = Vec::new();
            let mut r = LineReader::open(&w).unwrap();
            while let Some(b) = r.next_batch(100).unwrap() {
                got.extend(
                    b.iter()
                        .map(|l| l.split(' ').next().unwrap().parse::<u64>().unwrap()),
                );
            }
            let want: Vec<u64> = starts
                .iter()
                .copied()
                .filter(|&s| s >= w.start && s < w.start + w.len)
                .collect();
            assert!(!want.is_empty());
            assert_eq!(got, want, "window at {}", w.start);
        }
        // A gzip'd file cannot be entered in the middle: it is read whole.
        let gz = Split {
            path: dir.path().join("in.txt.gz").display().to_string(),
            ..split.clone()
        };
        let (windows, share) = gz.sample_windows();
        assert_eq!(
            (windows.len(), windows[0].start, windows[0].len, share),
            (1, 0, split.len, 1.0)
        );
    }

    fn lines_of(input: &str) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for s in plan_splits(input, 3)? {
            let mut r = LineReader::open(&s)?;
            while let Some(b) = r.next_batch(5)? {
                out.extend(b);
            }
        }
        Ok(out)
    }

    #[test]
    fn inputs_are_lists_patterns_and_directories_as_hadoop_lists_them() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display().to_string();
        for (rel, text) in [
            ("logs/2024-01/a.txt", "a1\na2\n"),
            ("logs/2024-01/_SUCCESS", "hidden\n"),
            ("logs/2024-01/.a.txt.crc", "hidden\n"),
            ("logs/2024-02/b.txt", "b1\n"),
            ("logs/2025-01/c.log", "c1\n"),
            ("logs/_tmp/x.txt", "hidden\n"),
            ("other/d.txt", "d1\n"),
        ] {
            let p = dir.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        let sorted = |mut v: Vec<String>| {
            v.sort();
            v
        };
        let read = |input: String| sorted(lines_of(&input).unwrap());
        assert_eq!(read(format!("{d}/logs/2024-01")), ["a1", "a2"]);
        // As in Hadoop's Globber, only a match of the last component is
        // filtered: `*` in the middle matches `_tmp` too.
        assert_eq!(
            read(format!("{d}/logs/*/*.txt")),
            ["a1", "a2", "b1", "hidden"]
        );
        assert_eq!(read(format!("{d}/logs/2*/*.txt")), ["a1", "a2", "b1"]);
        assert_eq!(read(format!("{d}/logs/2024-0?")), ["a1", "a2", "b1"]);
        assert_eq!(read(format!("{d}/logs/202[45]-01/*")), ["a1", "a2", "c1"]);
        assert_eq!(read(format!("{d}/logs/{{2024-02,2025-01}}")), ["b1", "c1"]);
        assert_eq!(read(format!("{d}/logs/*")), ["a1", "a2", "b1", "c1"]);
        assert_eq!(
            read(format!(
                "file://{d}/logs/2024-02,{d}/other/d.txt,{d}/logs/{{2025,2026}}-01"
            )),
            ["b1", "c1", "d1"]
        );
        let e = plan_splits(&format!("{d}/logs/*.gz"), 1)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            format!("input path does not exist: {d}/logs/*.gz (the pattern matches no files)")
        );
        let e = plan_splits(&format!("{d}/other/d.txt,{d}/nope"), 1).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("input path does not exist: {d}/nope")
        );
        let e = plan_splits(&format!("{d}/logs/[a"), 1)
            .unwrap_err()
            .to_string();
        assert!(e.contains("without its ']'"), "{e}");
    }

    #[test]
    fn compressed_files_are_one_split_each_and_read_as_text() {
        let dir = tempfile::tempdir().unwrap();
        let lines: Vec<String> = (0..20_000).map(|i| format!("line {i}")).collect();
        let text = lines.join("\n") + "\n";
        for codec in Codec::ALL {
            let p = dir.path().join(format!("in{}", codec.extension()));
            let mut e = compress::Encoder::new(codec, Vec::new()).unwrap();
            e.write_all(text.as_bytes()).unwrap();
            std::fs::write(&p, e.finish().unwrap()).unwrap();
            let path = p.display().to_string();
            let splits = plan_splits(&path, 4).unwrap();
            assert_eq!(splits.len(), 1, "{codec}");
            assert_eq!(lines_of(&path).unwrap(), lines, "{codec}");
        }
        // Damage is one line naming the file and the codec.
        let p = dir.path().join("bad.gz");
        std::fs::write(&p, b"\x1f\x8b\x08\x00garbage").unwrap();
        let e = lines_of(&p.display().to_string()).unwrap_err().to_string();
        assert!(e.contains("bad.gz (gzip): "), "{e}");
        assert!(!e.contains('\n'), "{e}");
    }

    #[test]
    fn compressed_output_is_named_by_its_codec() {
        let dir = tempfile::tempdir().unwrap();
        for codec in Codec::ALL {
            let out = dir.path().join(codec.name()).display().to_string();
            prepare_output(&out).unwrap();
            write_task_output_with(&out, 0, 0, Some(codec), |w| {
                w.write_all(b"x\ny\n").map_err(|e| Error::io("w", e))
            })
            .unwrap();
            commit_job_with(&out, 1, Some(codec)).unwrap();
            let part = format!("{out}/part-00000{}", codec.extension());
            assert!(Path::new(&part).is_file(), "{part}");
            assert_eq!(lines_of(&out).unwrap(), ["x", "y"], "{codec}");
        }
    }

    #[test]
    fn paths_resolve_as_hadoop_resolves_them() {
        let hdfs = |l: Location| match l {
            Location::Hdfs { base, path } => (base, path),
            Location::Local(p) => panic!("local {}", p.display()),
        };
        let fs = Some("hdfs://nn:8020".to_string());
        assert_eq!(
            hdfs(Location::in_default_fs("/data/x", fs.clone())),
            ("hdfs://nn:8020".into(), "/data/x".into())
        );
        let user = spindle_hadoop::user::current_user();
        assert_eq!(
            hdfs(Location::in_default_fs("data/x", fs)).1,
            format!("/user/{user}/data/x")
        );
        assert!(matches!(
            Location::in_default_fs("data/x", None),
            Location::Local(p) if p == Path::new("data/x")
        ));
        assert_eq!(
            hdfs(Location::parse("hdfs:///a/b").unwrap()),
            ("hdfs://".into(), "/a/b".into())
        );
        assert_eq!(
            hdfs(Location::parse("hdfs://nn/a").unwrap()),
            ("hdfs://nn".into(), "/a".into())
        );
        for (url, local) in [("file:///tmp/a", "/tmp/a"), ("file:/tmp/a", "/tmp/a")] {
            assert!(
                matches!(Location::parse(url).unwrap(), Location::Local(p) if p == Path::new(local))
            );
        }
        let e = Location::parse("viewfs://cluster/data")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "configuration: viewfs://cluster/data: viewfs:// mount tables are not supported; use the hdfs:// URL the mount points to"
        );
        let e = Location::parse("s3a://bucket/x").unwrap_err().to_string();
        assert!(e.contains("unsupported file system s3a://"), "{e}");
        let mut conf = spindle_hadoop::config::Configuration::new();
        assert_eq!(default_fs_of(&conf).unwrap(), None);
        conf.set("fs.defaultFS", "hdfs://nn:9000/");
        assert_eq!(
            default_fs_of(&conf).unwrap().as_deref(),
            Some("hdfs://nn:9000")
        );
        conf.set("fs.defaultFS", "viewfs://cluster");
        let e = default_fs_of(&conf).unwrap_err().to_string();
        assert!(
            e.contains("fs.defaultFS viewfs://cluster: viewfs://"),
            "{e}"
        );
        assert!(
            Location::parse("/tmp/x")
                .unwrap()
                .qualified()
                .starts_with("file:///tmp/x")
        );
    }

    #[test]
    fn split_hosts_are_those_of_overlapping_blocks_most_bytes_first() {
        let b = |offset, len, hosts: &[&str]| BlockHosts {
            offset,
            len,
            hosts: hosts.iter().map(|h| h.to_string()).collect(),
        };
        let blocks = [b(0, 100, &["dn1", "dn2"]), b(100, 100, &["dn2", "dn3"])];
        assert_eq!(split_hosts(&blocks, 0, 100), ["dn1", "dn2"]);
        // 30 bytes in block 0, 70 in block 1: dn2 holds all, dn3 most of the rest.
        assert_eq!(split_hosts(&blocks, 70, 100), ["dn2", "dn3", "dn1"]);
        assert_eq!(split_hosts(&blocks, 200, 10), Vec::<String>::new());
        assert!(split_hosts(&[], 0, 10).is_empty());
    }

    #[test]
    fn block_hosts_keep_names_and_ips() {
        let loc = spindle_hadoop::namenode::BlockLocation {
            offset: 0,
            length: 5,
            hosts: vec!["dn1.example".into(), "localhost".into()],
            names: vec!["10.0.0.1:9866".into(), "127.0.0.1:9866".into()],
            racks: vec![],
            block_id: 1,
            corrupt: false,
        };
        assert_eq!(
            BlockHosts::from_location(&loc).hosts,
            ["dn1.example", "localhost", "10.0.0.1", "127.0.0.1"]
        );
    }

    #[test]
    fn missing_input_is_a_clear_error() {
        let e = plan_splits("/definitely/not/here.txt", 2).unwrap_err();
        assert_eq!(
            e.to_string(),
            "input path does not exist: /definitely/not/here.txt"
        );
    }

    #[test]
    fn a_silent_namenode_is_one_line_within_30_seconds() {
        // Accepts connections and never answers: a black hole after the handshake.
        let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let nn = format!("hdfs://{}", silent.local_addr().unwrap());
        let _held = std::thread::spawn(move || {
            let _open: Vec<_> = silent.incoming().take(8).collect();
        });
        let started = std::time::Instant::now();
        let e = plan_splits(&format!("{nn}/in"), 2).unwrap_err().to_string();
        assert!(
            e.starts_with("hdfs: looking up /in: the NameNode of ")
                && e.contains(&nn)
                && e.contains("did not answer within 12 s"),
            "{e}"
        );
        assert!(!e.contains('\n'), "{e}");
        let took = started.elapsed();
        assert!(took < std::time::Duration::from_secs(30), "{took:?}");
        let started = std::time::Instant::now();
        let e = prepare_output(&format!("{nn}/out"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("did not answer within 12 s"), "{e}");
        let took = started.elapsed();
        assert!(took < std::time::Duration::from_secs(30), "{took:?}");
    }

    #[test]
    fn output_commit_is_all_or_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out").display().to_string();
        prepare_output(&out).unwrap();
        assert!(matches!(prepare_output(&out), Err(Error::OutputExists(_))));
        for p in 0..2 {
            write_task_output(&out, p, 0, |w| {
                w.write_all(format!("p{p}\n").as_bytes())
                    .map_err(|e| Error::io("w", e))
            })
            .unwrap();
        }
        commit_job(&out, 2).unwrap();
        assert_eq!(
            std::fs::read_to_string(format!("{out}/part-00001")).unwrap(),
            "p1\n"
        );
        assert!(Path::new(&format!("{out}/_SUCCESS")).exists());
        assert!(!Path::new(&format!("{out}/_temporary")).exists());
        assert!(!Path::new(&format!("{out}/{OWNER_MARKER}")).exists());
        // A complete output is no longer this process's to remove.
        abort_job(&out);
        assert!(Path::new(&format!("{out}/_SUCCESS")).exists());
        assert!(matches!(prepare_output(&out), Err(Error::OutputExists(_))));
    }

    #[test]
    fn a_failed_job_removes_only_its_own_output() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out").display().to_string();
        prepare_output(&out).unwrap();
        assert!(Path::new(&format!("{out}/{OWNER_MARKER}")).exists());
        assert!(Path::new(&format!("{out}/_temporary")).is_dir());
        // Nothing beside the output is left from preparing it.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        abort_job(&out);
        assert!(!Path::new(&out).exists());

        let theirs = dir.path().join("theirs");
        std::fs::create_dir(&theirs).unwrap();
        std::fs::write(theirs.join("data"), b"keep").unwrap();
        let theirs = theirs.display().to_string();
        assert!(matches!(
            prepare_output(&theirs),
            Err(Error::OutputExists(_))
        ));
        abort_job(&theirs);
        assert_eq!(std::fs::read(format!("{theirs}/data")).unwrap(), b"keep");
    }

    #[test]
    fn only_an_earlier_attempt_of_the_same_application_is_replaced() {
        let mine = "application_1_0001\nprocess 7-1\n";
        assert!(made_by_earlier_attempt(
            "application_1_0001\nprocess 5-0\n",
            mine
        ));
        assert!(!made_by_earlier_attempt(mine, mine));
        assert!(!made_by_earlier_attempt(
            "application_1_0002\nprocess 5-0\n",
            mine
        ));
        assert!(!made_by_earlier_attempt("", mine));
    }

    #[test]
    fn output_locations_split_into_parent_and_name() {
        let (p, n) = Location::parse("hdfs://nn:8020/a/b/out/")
            .unwrap()
            .split_last()
            .unwrap();
        assert_eq!(
            (p.display(), n.as_str()),
            ("hdfs://nn:8020/a/b".to_string(), "out")
        );
        let (p, n) = Location::parse("hdfs://nn/out")
            .unwrap()
            .split_last()
            .unwrap();
        assert_eq!((p.display(), n.as_str()), ("hdfs://nn/".to_string(), "out"));
        assert!(
            Location::parse("hdfs://nn/")
                .unwrap()
                .split_last()
                .is_none()
        );
        let (p, n) = Location::parse("out").unwrap().split_last().unwrap();
        assert_eq!((p.display(), n.as_str()), (".".to_string(), "out"));
    }
}
