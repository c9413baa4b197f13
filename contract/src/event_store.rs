//! Where event logs live: a directory in HDFS (through hdfs-native, as the
//! caller) or on this machine's file system. The writer appends whole
//! compressed streams and closes the file after each, so what a reader sees
//! is always complete up to the last flush; the history server lists
//! attempts, reads their parts and removes expired ones.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use hdfs_native::{Client, WriteOptions};

use crate::events::{parse_attempt_dir, parse_part};
use crate::staging::hdfs;
use crate::{Error, Result};

/// The event log directory.
#[derive(Clone, Debug)]
pub enum EventStore {
    /// A local directory.
    Local(PathBuf),
    /// A directory in HDFS.
    Hdfs {
        /// Connected as the caller.
        client: Client,
        /// `hdfs://authority`.
        fs: String,
        /// The absolute path of the directory.
        dir: String,
    },
}

/// One attempt's directory, as listed.
#[derive(Clone, Debug)]
pub struct AttemptDir {
    /// `<appId>_<attempt>`.
    pub name: String,
    /// Its application.
    pub app_id: String,
    /// Its attempt.
    pub attempt: u32,
}

/// The default `spindle.eventLog.dir`: `/user/<user>/.spindle/events` in
/// HDFS when the Hadoop configuration names a cluster, else
/// `$HOME/.spindle/events` on this machine.
pub fn default_dir(user: &str, cluster: bool) -> String {
    if cluster {
        format!("/user/{user}/.spindle/events")
    } else {
        let home = std::env::var("HOME").unwrap_or_else(|_| "/tmp".into());
        format!("file://{}/.spindle/events", home.trim_end_matches('/'))
    }
}

/// `hdfs://authority` and the path of an `hdfs://` URI.
pub fn split_hdfs_uri(uri: &str) -> Option<(String, String)> {
    let rest = uri.strip_prefix("hdfs://")?;
    let i = rest.find('/').unwrap_or(rest.len());
    let path = if rest[i..].is_empty() {
        "/"
    } else {
        &rest[i..]
    };
    Some((format!("hdfs://{}", &rest[..i]), path.to_string()))
}

/// Milliseconds since the epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl EventStore {
    /// The directory as a URI, for messages.
    pub fn uri(&self) -> String {
        match self {
            EventStore::Local(p) => format!("file://{}", p.display()),
            EventStore::Hdfs { fs, dir, .. } => format!("{fs}{dir}"),
        }
    }

    fn hdfs_path(dir: &str, rel: &str) -> String {
        format!("{}/{rel}", dir.trim_end_matches('/'))
    }

    /// Appends `bytes` to `rel` (`<attempt dir>/<part>`), creating it (and
    /// its directories) when `create`; the file is closed again, so readers
    /// see all of it.
    pub async fn append(&self, rel: &str, bytes: &[u8], create: bool) -> Result<()> {
        match self {
            EventStore::Local(root) => {
                use std::io::Write;
                let path = root.join(rel);
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)
                        .map_err(|e| Error::io(format!("creating {}", parent.display()), e))?;
                }
                let mut f = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
                f.write_all(bytes)
                    .and_then(|_| f.flush())
                    .map_err(|e| Error::io(format!("writing {}", path.display()), e))
            }
            EventStore::Hdfs { client, fs, dir } => {
                let path = Self::hdfs_path(dir, rel);
                let uri = format!("{fs}{path}");
                let mut w = if create {
                    let opts = WriteOptions {
                        overwrite: false,
                        create_parent: true,
                        ..Default::default()
                    };
                    client
                        .create(&path, opts)
                        .await
                        .map_err(|e| hdfs("creating", &uri, e))?
                } else {
                    client
                        .append(&path)
                        .await
                        .map_err(|e| hdfs("appending to", &uri, e))?
                };
                w.write_bytes(bytes::Bytes::copy_from_slice(bytes))
                    .await
                    .map_err(|e| hdfs("writing", &uri, e))?;
                w.close().await.map_err(|e| hdfs("closing", &uri, e))
            }
        }
    }

    /// The attempt directories (others are left out), with the time each
    /// last changed (ms since the epoch).
    pub async fn attempts(&self) -> Result<Vec<(AttemptDir, u64)>> {
        let mut out = Vec::new();
        for (name, is_dir, _, _) in self.list("").await? {
            if let (true, Some((app_id, attempt))) = (is_dir, parse_attempt_dir(&name)) {
                let changed = self
                    .parts(&name)
                    .await?
                    .iter()
                    .map(|p| p.2)
                    .max()
                    .unwrap_or(0);
                out.push((
                    AttemptDir {
                        name,
                        app_id,
                        attempt,
                    },
                    changed,
                ));
            }
        }
        Ok(out)
    }

    /// An attempt's part files in order: name, length, modification time.
    pub async fn parts(&self, attempt_dir: &str) -> Result<Vec<(String, u64, u64)>> {
        let mut parts: Vec<(u32, String, u64, u64)> = self
            .list(attempt_dir)
            .await?
            .into_iter()
            .filter(|(_, is_dir, _, _)| !is_dir)
            .filter_map(|(n, _, len, m)| parse_part(&n).map(|(i, _)| (i, n, len, m)))
            .collect();
        parts.sort();
        Ok(parts.into_iter().map(|(_, n, l, m)| (n, l, m)).collect())
    }

    /// Names under `rel` ("" = the directory itself): name, is a directory,
    /// length, modification time. A missing directory lists nothing.
    async fn list(&self, rel: &str) -> Result<Vec<(String, bool, u64, u64)>> {
        match self {
            EventStore::Local(root) => {
                let dir = root.join(rel);
                let entries = match std::fs::read_dir(&dir) {
                    Ok(e) => e,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
                    Err(e) => return Err(Error::io(format!("listing {}", dir.display()), e)),
                };
                let mut out = Vec::new();
                for e in entries.flatten() {
                    let Ok(meta) = e.metadata() else { continue };
                    let modified = meta
                        .modified()
                        .ok()
                        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                        .map(|d| d.as_millis() as u64)
                        .unwrap_or(0);
                    out.push((
                        e.file_name().to_string_lossy().into_owned(),
                        meta.is_dir(),
                        meta.len(),
                        modified,
                    ));
                }
                Ok(out)
            }
            EventStore::Hdfs { client, fs, dir } => {
                let path = if rel.is_empty() {
                    dir.clone()
                } else {
                    Self::hdfs_path(dir, rel)
                };
                match client.list_status(&path, false).await {
                    Ok(list) => Ok(list
                        .into_iter()
                        .map(|s| {
                            let name = s.path.rsplit('/').next().unwrap_or_default().to_string();
                            (name, s.isdir, s.length as u64, s.modification_time)
                        })
                        .collect()),
                    Err(hdfs_native::HdfsError::FileNotFound(_)) => Ok(Vec::new()),
                    Err(e) => Err(hdfs("listing", &format!("{fs}{path}"), e)),
                }
            }
        }
    }

    /// A whole part file.
    pub async fn read(&self, rel: &str) -> Result<Vec<u8>> {
        match self {
            EventStore::Local(root) => {
                let path = root.join(rel);
                std::fs::read(&path)
                    .map_err(|e| Error::io(format!("reading {}", path.display()), e))
            }
            EventStore::Hdfs { client, fs, dir } => {
                let path = Self::hdfs_path(dir, rel);
                let uri = format!("{fs}{path}");
                let r = client
                    .read(&path)
                    .await
                    .map_err(|e| hdfs("opening", &uri, e))?;
                let n = r.file_length();
                let b = r
                    .read_range(0, n)
                    .await
                    .map_err(|e| hdfs("reading", &uri, e))?;
                Ok(b.to_vec())
            }
        }
    }

    /// Removes an attempt's directory; anything that is not one is refused.
    pub async fn remove_attempt(&self, attempt_dir: &str) -> Result<()> {
        if parse_attempt_dir(attempt_dir).is_none() || attempt_dir.contains('/') {
            return Err(Error::Launch(format!(
                "{attempt_dir:?} is not an event log directory: not removed"
            )));
        }
        match self {
            EventStore::Local(root) => {
                let path = root.join(attempt_dir);
                std::fs::remove_dir_all(&path)
                    .map_err(|e| Error::io(format!("removing {}", path.display()), e))
            }
            EventStore::Hdfs { client, fs, dir } => {
                let path = Self::hdfs_path(dir, attempt_dir);
                client
                    .delete(&path, true)
                    .await
                    .map(drop)
                    .map_err(|e| hdfs("removing", &format!("{fs}{path}"), e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn local_store_appends_lists_and_removes_only_attempts() {
        let tmp = tempfile::tempdir().unwrap();
        let store = EventStore::Local(tmp.path().to_path_buf());
        store
            .append("application_1_0001_1/events_00001.jsonl.gz", b"ab", true)
            .await
            .unwrap();
        store
            .append("application_1_0001_1/events_00001.jsonl.gz", b"cd", false)
            .await
            .unwrap();
        std::fs::create_dir(tmp.path().join("not-ours")).unwrap();
        let attempts = store.attempts().await.unwrap();
        assert_eq!(attempts.len(), 1);
        assert_eq!(attempts[0].0.app_id, "application_1_0001");
        assert!(attempts[0].1 > 0);
        let parts = store.parts("application_1_0001_1").await.unwrap();
        assert_eq!(parts[0].1, 4);
        assert_eq!(
            store
                .read("application_1_0001_1/events_00001.jsonl.gz")
                .await
                .unwrap(),
            b"abcd"
        );
        assert!(store.remove_attempt("not-ours").await.is_err());
        assert!(tmp.path().join("not-ours").is_dir());
        store.remove_attempt("application_1_0001_1").await.unwrap();
        assert!(store.attempts().await.unwrap().is_empty());
    }

    #[test]
    fn default_dirs() {
        assert_eq!(default_dir("ann", true), "/user/ann/.spindle/events");
        assert!(default_dir("ann", false).starts_with("file:///"));
        assert_eq!(
            split_hdfs_uri("hdfs://nn:8020/a/b"),
            Some(("hdfs://nn:8020".into(), "/a/b".into()))
        );
    }
}
