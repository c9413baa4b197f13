//! The staging area in HDFS, one module for both deploy modes and the AM:
//! per application `<home>/.spindleStaging/<appId>/` (mode 700; the client or
//! the driver creates it, the AM removes it when the application ends, and
//! nothing else is ever removed as staging), and a content-addressed cache of
//! driver binaries, `<home>/.spindleStaging/cache/<sha256>`, so an unchanged
//! binary is uploaded once, in chunks, and every later submission reuses it,
//! whether `spindle submit` or a driver started by hand stages it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use hdfs_native::{Client, ClientBuilder, WriteOptions};
use sha2::{Digest, Sha256};
use spindle_hadoop::ids::ApplicationId;
use spindle_hadoop::namenode;
use spindle_hadoop::yarn::{LocalResource, LocalResourceVisibility};
use tokio::io::AsyncReadExt;

use crate::hdfs_write::{PIPELINE_PAUSES, close, with_new_pipelines, write_piece};
use crate::launch::APP_BINARY;
use crate::{Error, Result};

/// The folder under a user's home that holds their applications' staging directories.
pub const STAGING_ROOT: &str = ".spindleStaging";
/// Upload chunk.
const CHUNK: usize = 4 << 20;

/// Refuses any path but `<root>/.spindleStaging/<app>` (absolute, no `.`,
/// `..` or empty components): the only directory Spindle removes as staging.
pub fn check_app_dir(path: &str, app: ApplicationId) -> Result<()> {
    let parts: Vec<&str> = path.strip_prefix('/').unwrap_or("").split('/').collect();
    let shaped = path.starts_with('/')
        && parts
            .iter()
            .all(|p| !p.is_empty() && *p != "." && *p != "..")
        && parts.len() >= 2
        && parts[parts.len() - 2] == STAGING_ROOT
        && parts[parts.len() - 1] == app.to_string();
    if shaped {
        Ok(())
    } else {
        Err(Error::Launch(format!(
            "refusing {path:?} as the staging directory of {app}: \
             it is not <home>/{STAGING_ROOT}/{app}"
        )))
    }
}

/// What staging a file did.
#[derive(Debug, Clone)]
pub struct Staged {
    /// The file as containers localize it.
    pub resource: LocalResource,
    /// False when the file was found in the cache and nothing was sent.
    pub uploaded: bool,
    /// The file's SHA-256, hex.
    pub sha256: String,
}

/// What staging an application did: its directory and what its containers localize.
#[derive(Debug, Clone)]
pub struct StagedApp {
    /// `hdfs://…/<home>/.spindleStaging/<appId>`.
    pub dir: String,
    /// By link name; the driver binary is [`APP_BINARY`].
    pub local_resources: BTreeMap<String, LocalResource>,
    /// How the driver binary was staged.
    pub binary: Staged,
}

/// An HDFS client scoped to one user's staging area.
pub struct Staging {
    client: Client,
    /// `hdfs://authority`, no trailing slash.
    fs_uri: String,
    /// `<home>/.spindleStaging`.
    root: String,
    user: String,
}

/// How the staging client proves who it is on a Kerberized cluster: the
/// principal, its keytab when the login came from one (else the ticket cache),
/// and the user acted for (`--proxy-user`), if any.
#[derive(Debug, Clone, Copy)]
pub struct HdfsLogin<'a> {
    /// `alice@EXAMPLE.COM`.
    pub principal: &'a str,
    /// The keytab of a keytab login; `None`: the ticket cache.
    pub keytab: Option<&'a Path>,
    /// `--proxy-user`.
    pub proxy_user: Option<&'a str>,
}

impl Staging {
    /// Connects to `default_fs` (`fs.defaultFS`) as `caller`, with the site
    /// files of `conf_dir` (for HA name services and client settings; else
    /// hdfs-native's own lookup), for the staging area of `owner` (the caller's
    /// own, unless another user's application is being cleaned up: HDFS then
    /// decides what the caller may do).
    pub fn connect(
        conf_dir: Option<&Path>,
        default_fs: &str,
        caller: &str,
        owner: &str,
        kerberos: Option<HdfsLogin<'_>>,
    ) -> Result<Self> {
        let Some(rest) = default_fs.strip_prefix("hdfs://") else {
            return Err(Error::Launch(format!(
                "fs.defaultFS is {default_fs:?}: YARN mode stages the driver in HDFS and needs an hdfs:// file system"
            )));
        };
        let authority = rest.split('/').next().unwrap_or(rest);
        let fs_uri = format!("hdfs://{authority}");
        let mut b = ClientBuilder::new().with_url(&fs_uri);
        match kerberos {
            // Kerberos names the user; only a proxied user is sent as the effective one.
            Some(k) => {
                if let Some(keytab) = k.keytab {
                    b = b
                        .with_kerberos_principal(k.principal)
                        .with_kerberos_keytab(keytab.to_string_lossy());
                }
                if let Some(p) = k.proxy_user {
                    b = b.with_user(p);
                }
            }
            None => b = b.with_user(caller),
        }
        if let Some(dir) = conf_dir {
            b = b.with_config_dir(dir.to_string_lossy());
        }
        let client = b
            .build()
            .map_err(|e| hdfs("connecting to", default_fs, e))?;
        Ok(Staging {
            client,
            fs_uri,
            root: format!("/user/{owner}/{STAGING_ROOT}"),
            user: owner.to_string(),
        })
    }

    /// The staging area holding `uri`, the staging directory of `app`
    /// (`hdfs://host:port/<home>/.spindleStaging/<appId>`), refused unless it
    /// has that form: the AM, which removes it when the application ends, acts
    /// as the user of its container.
    pub fn of_app_dir(uri: &str, app: ApplicationId, user: &str) -> Result<Staging> {
        let (base, path) = split_uri(uri)?;
        check_app_dir(&path, app)?;
        let client = ClientBuilder::new()
            .with_url(&base)
            .build()
            .map_err(|e| hdfs("connecting to", &base, e))?;
        let root = path
            .rsplit_once('/')
            .map(|(root, _)| root.to_string())
            .unwrap_or_default();
        Ok(Staging {
            client,
            fs_uri: base,
            root,
            user: user.to_string(),
        })
    }

    /// Whose staging area this is.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// `<home>/.spindleStaging/<appId>`.
    pub fn app_dir(&self, app: ApplicationId) -> String {
        format!("{}/{app}", self.root)
    }

    /// The full URI of a path in this file system.
    pub fn uri(&self, path: &str) -> String {
        format!("{}{path}", self.fs_uri)
    }

    /// Stages an application: creates its directory, puts the driver binary
    /// in the cache (see [`Staging::stage_binary`]) and `files` in the
    /// directory. On failure the directory is removed again.
    pub async fn stage_app(
        &self,
        app: ApplicationId,
        binary: &Path,
        files: &[PathBuf],
    ) -> Result<StagedApp> {
        let staged = async {
            let dir = self.create_app_dir(app).await?;
            let bin = self.stage_binary(binary, app).await?;
            let mut local_resources = BTreeMap::new();
            local_resources.insert(APP_BINARY.to_string(), bin.resource.clone());
            for f in files {
                let (name, r) = self.stage_file(f, app).await?;
                if local_resources.insert(name.clone(), r).is_some() {
                    return Err(Error::Launch(format!(
                        "--files: two files are named {name}"
                    )));
                }
            }
            Ok(StagedApp {
                dir: self.uri(&dir),
                local_resources,
                binary: bin,
            })
        }
        .await;
        if staged.is_err() {
            let _ = self.remove_app_dir(app).await;
        }
        staged
    }

    /// Creates the application's staging directory, mode 700.
    pub async fn create_app_dir(&self, app: ApplicationId) -> Result<String> {
        let dir = self.app_dir(app);
        self.mkdir_private(&dir).await?;
        Ok(dir)
    }

    async fn mkdir_private(&self, dir: &str) -> Result<()> {
        self.answer("creating", dir, self.client.mkdirs(dir, 0o700, true))
            .await?;
        // mkdirs applies the mode only to directories it creates; make sure.
        self.answer(
            "setting the permission of",
            dir,
            self.client.set_permission(dir, 0o700),
        )
        .await
    }

    /// A NameNode call that must answer in time ([`namenode::answer`]): an
    /// unreachable or silent NameNode is one clear line in seconds, not a
    /// hang of minutes in TCP retries.
    async fn answer<T>(
        &self,
        what: &str,
        path: &str,
        call: impl std::future::Future<Output = hdfs_native::Result<T>>,
    ) -> Result<T> {
        match namenode::answer(&self.fs_uri, call).await {
            Ok(r) => r.map_err(|e| hdfs(what, path, e)),
            Err(e) => Err(Error::Hdfs {
                what: format!("{what} {path}"),
                reason: e.to_string(),
            }),
        }
    }

    /// Puts the driver binary in the cache unless a file of the same SHA-256
    /// is there already; the resource (visibility PRIVATE: NodeManagers keep
    /// it per user across applications) names the cached file with the size
    /// and modification time HDFS reports.
    pub async fn stage_binary(&self, local: &Path, app: ApplicationId) -> Result<Staged> {
        let (sha256, len) = sha256_of(local).await?;
        let cache = format!("{}/cache", self.root);
        let path = format!("{cache}/{sha256}");
        let mut uploaded = false;
        let existing = self.client.get_file_info(&path).await.ok();
        if existing.as_ref().is_none_or(|s| s.length as u64 != len) {
            self.mkdir_private(&cache).await?;
            // Upload under a name of our own, then rename into place: a
            // concurrent submission never sees a half-written binary.
            let tmp = format!("{path}.{app}.tmp");
            self.upload(local, &tmp, 0o700).await?;
            if existing.is_some() {
                let _ = self.client.delete(&path, false).await;
            }
            if let Err(e) = self.client.rename(&tmp, &path, false).await {
                // Someone else put it there first: theirs is as good as ours.
                let _ = self.client.delete(&tmp, false).await;
                if self.client.get_file_info(&path).await.is_err() {
                    return Err(hdfs("renaming into", &path, e));
                }
            }
            uploaded = true;
        }
        let mut resource = self.resource(&path).await?;
        resource.visibility = LocalResourceVisibility::Private;
        Ok(Staged {
            resource,
            uploaded,
            sha256,
        })
    }

    /// Uploads a `--files` entry into the application's directory.
    pub async fn stage_file(
        &self,
        local: &Path,
        app: ApplicationId,
    ) -> Result<(String, LocalResource)> {
        let name = local
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .ok_or_else(|| {
                Error::Launch(format!("--files {}: not a file name", local.display()))
            })?;
        let path = format!("{}/{name}", self.app_dir(app));
        self.upload(local, &path, 0o600).await?;
        Ok((name, self.resource(&path).await?))
    }

    /// Uploads `--keytab` privately (mode 600) into the application's
    /// directory, for the AM alone (no executor localizes it); removed with
    /// the directory. Returns its `hdfs://` URI.
    pub async fn stage_keytab(&self, local: &Path, app: ApplicationId) -> Result<String> {
        let path = format!("{}/{KEYTAB_NAME}", self.app_dir(app));
        self.upload(local, &path, 0o600).await?;
        Ok(self.uri(&path))
    }

    /// A small file of the staging directory, whole (the AM's keytab).
    pub async fn read_small(&self, uri: &str) -> Result<Vec<u8>> {
        let (_, path) = split_uri(uri)?;
        let r = self
            .client
            .read(&path)
            .await
            .map_err(|e| hdfs("opening", &path, e))?;
        if r.file_length() > 1024 * 1024 {
            return Err(Error::Launch(format!(
                "{uri}: {} bytes, too large for a keytab",
                r.file_length()
            )));
        }
        let bytes = r
            .read_range(0, r.file_length())
            .await
            .map_err(|e| hdfs("reading", &path, e))?;
        Ok(bytes.to_vec())
    }

    /// Removes the application's staging directory; true if it existed.
    pub async fn remove_app_dir(&self, app: ApplicationId) -> Result<bool> {
        let dir = self.app_dir(app);
        check_app_dir(&dir, app)?;
        let call = async {
            match self.client.delete(&dir, true).await {
                Err(hdfs_native::HdfsError::FileNotFound(_)) => Ok(false),
                r => r,
            }
        };
        self.answer("removing", &dir, call).await
    }

    /// Whether a path exists.
    pub async fn exists(&self, path: &str) -> Result<bool> {
        let call = async {
            match self.client.get_file_info(path).await {
                Ok(_) => Ok(true),
                Err(hdfs_native::HdfsError::FileNotFound(_)) => Ok(false),
                Err(e) => Err(e),
            }
        };
        self.answer("looking up", path, call).await
    }

    /// The hdfs-native client (for reading results and logs).
    pub fn client(&self) -> &Client {
        &self.client
    }

    async fn resource(&self, path: &str) -> Result<LocalResource> {
        let st = self
            .client
            .get_file_info(path)
            .await
            .map_err(|e| hdfs("looking up", path, e))?;
        Ok(LocalResource::file(
            self.uri(path),
            st.length as i64,
            st.modification_time as i64,
        ))
    }

    /// Streams `local` into `path`, one chunk in memory at a time; written again from the start
    /// while its DataNodes fail ([`with_new_pipelines`]).
    async fn upload(&self, local: &Path, path: &str, mode: u32) -> Result<()> {
        with_new_pipelines(
            path,
            &PIPELINE_PAUSES,
            async || self.upload_once(local, path, mode).await,
            async || {
                let removed = self.client.delete(path, false);
                self.answer("removing", path, removed).await.map(|_| ())
            },
        )
        .await?
        .map_err(|e| hdfs("writing", path, e))
    }

    /// One try of [`upload`](Self::upload): `Ok(Err(..))` when the DataNodes failed it.
    async fn upload_once(
        &self,
        local: &Path,
        path: &str,
        mode: u32,
    ) -> Result<std::result::Result<(), hdfs_native::HdfsError>> {
        let mut file = tokio::fs::File::open(local)
            .await
            .map_err(|e| Error::io(format!("opening {}", local.display()), e))?;
        let opts = WriteOptions::default()
            .overwrite(true)
            .create_parent(false)
            .permission(mode);
        let mut w = self
            .answer("creating", path, self.client.create(path, opts))
            .await?;
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = read_full(&mut file, &mut buf)
                .await
                .map_err(|e| Error::io(format!("reading {}", local.display()), e))?;
            if n == 0 {
                break;
            }
            if let Err(e) = write_piece(&mut w, Bytes::copy_from_slice(&buf[..n])).await {
                return Ok(Err(e));
            }
        }
        Ok(close(w).await)
    }
}

/// The staged keytab's name in the application's directory.
pub const KEYTAB_NAME: &str = "spindle-keytab";

/// `scheme://authority` and the path of an HDFS URI.
fn split_uri(uri: &str) -> Result<(String, String)> {
    let bad = || {
        Error::Launch(format!(
            "staging directory {uri:?} is not hdfs://host:port/path"
        ))
    };
    let (scheme, rest) = uri.split_once("://").ok_or_else(bad)?;
    let i = rest.find('/').ok_or_else(bad)?;
    if rest[i..].len() <= 1 {
        return Err(bad());
    }
    Ok((format!("{scheme}://{}", &rest[..i]), rest[i..].to_string()))
}

async fn read_full(file: &mut tokio::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        let n = file.read(&mut buf[filled..]).await?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    Ok(filled)
}

/// The SHA-256 (hex) and length of a local file.
pub async fn sha256_of(path: &Path) -> Result<(String, u64)> {
    let mut file = tokio::fs::File::open(path)
        .await
        .map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
    let mut sha = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut len = 0u64;
    loop {
        let n = file
            .read(&mut buf)
            .await
            .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
        if n == 0 {
            break;
        }
        sha.update(&buf[..n]);
        len += n as u64;
    }
    let hex = sha.finalize().iter().map(|b| format!("{b:02x}")).collect();
    Ok((hex, len))
}

/// One line: a NameNode's exception comes with its Java stack trace, which
/// says nothing to a user.
pub fn hdfs(what: &str, path: &str, e: hdfs_native::HdfsError) -> Error {
    let e = e.to_string();
    Error::Hdfs {
        what: format!("{what} {path}"),
        reason: e.lines().next().unwrap_or_default().trim().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_silent_namenode_is_an_error_within_30_seconds() {
        // Accepts connections and never answers: a black hole after the handshake.
        let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let nn = format!("hdfs://{}", silent.local_addr().unwrap());
        let _held = std::thread::spawn(move || {
            let _open: Vec<_> = silent.incoming().take(8).collect();
        });
        let app: ApplicationId = "application_1_0001".parse().unwrap();
        let dir = format!("{nn}/user/u/{STAGING_ROOT}/{app}");
        let staging = Staging::of_app_dir(&dir, app, "u").unwrap();
        let rt = tokio::runtime::Runtime::new().unwrap();
        let started = std::time::Instant::now();
        // What the AM does first: open the connection, see the directory.
        let e = rt
            .block_on(staging.exists(&staging.app_dir(app)))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(&nn) && e.contains("did not answer within 12 s"),
            "{e}"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(30));
    }

    #[test]
    fn only_this_applications_staging_directory_is_accepted() {
        let app: ApplicationId = "application_1_0001".parse().unwrap();
        assert!(check_app_dir("/user/u/.spindleStaging/application_1_0001", app).is_ok());
        assert!(check_app_dir("/staging/.spindleStaging/application_1_0001", app).is_ok());
        for bad in [
            "/user/u",
            "/user/u/important",
            "/user/u/.spindleStaging",
            "/user/u/.spindleStaging/application_1_0002",
            "/user/u/.spindleStaging/application_1_0001/..",
            "/user/u/.spindleStaging/../.spindleStaging/application_1_0001",
            "/user/u/.spindleStaging//application_1_0001",
            "user/u/.spindleStaging/application_1_0001",
            "/.spindleStaging/application_1_00011",
            "",
        ] {
            let e = check_app_dir(bad, app).unwrap_err().to_string();
            assert!(
                e.contains("refusing") && e.contains("application_1_0001"),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn uris_split() {
        assert_eq!(
            split_uri("hdfs://localhost:9000/user/u/.spindleStaging/application_1_0001").unwrap(),
            (
                "hdfs://localhost:9000".to_string(),
                "/user/u/.spindleStaging/application_1_0001".to_string()
            )
        );
        assert!(split_uri("/user/u").is_err());
        assert!(split_uri("hdfs://nn/").is_err());
    }

    #[test]
    fn the_ams_view_of_a_staging_directory_is_the_same_area() {
        let app: ApplicationId = "application_1_0001".parse().unwrap();
        let uri = "hdfs://localhost:9000/user/u/.spindleStaging/application_1_0001";
        let s = Staging::of_app_dir(uri, app, "u").unwrap();
        assert_eq!(s.uri(&s.app_dir(app)), uri);
        let other: ApplicationId = "application_1_0002".parse().unwrap();
        let e = Staging::of_app_dir(uri, other, "u")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("refusing"), "{e}");
    }

    #[tokio::test]
    async fn sha256_matches_a_known_digest() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("abc");
        std::fs::write(&p, b"abc").unwrap();
        let (sha, len) = sha256_of(&p).await.unwrap();
        assert_eq!(len, 3);
        assert_eq!(
            sha,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn non_hdfs_default_fs_is_refused_in_one_line() {
        let e = Staging::connect(None, "file:///", "u", "u", None)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("fs.defaultFS") && e.contains("file:///"), "{e}");
    }
}
