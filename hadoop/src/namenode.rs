//! The NameNode calls Spindle needs that hdfs-native does not offer: block
//! locations with their hosts (for locality), server defaults, file status,
//! and HDFS delegation tokens (get, renew, cancel) for containers.

use spindle_proto::common as pc;
use spindle_proto::hdfs as pb;

use crate::config::Configuration;
use crate::ipc::{Auth, IpcConfig, RpcClient};
use crate::{Error, Result, Token};

/// How long one NameNode metadata call may take, whoever makes it: staging,
/// the engine's listings and output commits, the AM's clean-up.
pub const ANSWER_WITHIN: std::time::Duration = std::time::Duration::from_secs(12);

/// Waits at most [`ANSWER_WITHIN`] for a NameNode call (through hdfs-native
/// or this module), so an unreachable or black-holed NameNode is one clear
/// line in seconds ([`Error::NameNodeSilent`], naming `fs`), not a hang of
/// minutes in TCP retries.
pub async fn answer<F: std::future::Future>(fs: &str, call: F) -> Result<F::Output> {
    tokio::time::timeout(ANSWER_WITHIN, call)
        .await
        .map_err(|_| Error::NameNodeSilent {
            fs: fs.to_string(),
            secs: ANSWER_WITHIN.as_secs(),
        })
}

/// Java's `RetriableException`: the NameNode did not run the call but may soon (still starting,
/// e.g. one restarted after a failover); Java's clients pause and call again.
pub const RETRIABLE_EXCEPTION: &str = "org.apache.hadoop.ipc.RetriableException";

/// How often a call answered by a `RetriableException` is made in all (pauses of 0.2 s doubling
/// to 2 s between them: about 15 s) before that answer comes through.
pub const RETRIABLE_TRIES: u32 = 10;

/// [`answer`] for a call that can be made again (through hdfs-native, which passes a
/// `RetriableException` through): while `retriable` says the answer was one, pauses and calls
/// again, at most [`RETRIABLE_TRIES`] times in all.
pub async fn answer_retrying<T, E, F, Fut>(
    fs: &str,
    mut call: F,
    retriable: impl Fn(&E) -> bool,
) -> Result<std::result::Result<T, E>>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = std::result::Result<T, E>>,
{
    let mut pause = std::time::Duration::from_millis(200);
    for _ in 1..RETRIABLE_TRIES {
        match answer(fs, call()).await? {
            Err(e) if retriable(&e) => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(std::time::Duration::from_secs(2));
            }
            done => return Ok(done),
        }
    }
    answer(fs, call()).await
}

/// Hadoop's protocol name for ClientNamenodeProtocol (the Java interface).
pub const CLIENT_PROTOCOL: &str = "org.apache.hadoop.hdfs.protocol.ClientProtocol";

/// One block of a file and the DataNodes holding it, as Java's
/// `FileSystem.getFileBlockLocations` reports them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockLocation {
    /// Offset of the block in the file.
    pub offset: u64,
    pub length: u64,
    /// DataNode host names, in the NameNode's order (closest first).
    pub hosts: Vec<String>,
    /// DataNode transfer addresses, `ip:port`.
    pub names: Vec<String>,
    /// DataNode network locations (racks), e.g. `/default-rack`.
    pub racks: Vec<String>,
    pub block_id: u64,
    pub corrupt: bool,
}

/// A file's blocks in a requested range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockLocations {
    pub file_length: u64,
    pub under_construction: bool,
    pub blocks: Vec<BlockLocation>,
}

/// What kind of entry a path is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Directory,
    File,
    Symlink,
}

/// A path's status (`getFileInfo`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileStatus {
    pub kind: FileKind,
    pub length: u64,
    pub owner: String,
    pub group: String,
    /// Permission bits, e.g. `0o644`.
    pub permission: u32,
    /// Milliseconds since the epoch.
    pub modification_time: u64,
    pub access_time: u64,
    pub replication: u32,
    pub block_size: u64,
    pub file_id: u64,
}

/// The NameNode's defaults for new files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerDefaults {
    pub block_size: u64,
    pub bytes_per_checksum: u32,
    pub write_packet_size: u32,
    pub replication: u32,
    pub file_buffer_size: u32,
    pub encrypt_data_transfer: bool,
    /// Minutes; 0 means trash is off.
    pub trash_interval: u64,
}

/// ClientNamenodeProtocol on the NameNode (`fs.defaultFS` host and port;
/// several addresses for HA, tried in order).
#[derive(Debug)]
pub struct NameNodeClient {
    rpc: RpcClient,
    token_service: String,
}

impl NameNodeClient {
    pub fn new(addresses: Vec<String>, auth: Auth, config: IpcConfig) -> Self {
        // Java names an HDFS token's service after the NameNode's address.
        let token_service = addresses.first().cloned().unwrap_or_default();
        NameNodeClient {
            rpc: RpcClient::new(addresses, CLIENT_PROTOCOL, auth, config),
            token_service,
        }
    }

    /// A client for the NameNode(s) of `fs.defaultFS` (see [`namenode_addresses`]),
    /// with the IPC settings of `conf`.
    pub fn from_config(conf: &Configuration, auth: Auth) -> Result<Self> {
        let fs = conf.default_fs()?;
        Ok(Self::new(
            namenode_addresses(conf, &fs)?,
            auth,
            IpcConfig::from_conf(conf)?,
        ))
    }

    /// The status of `path`, or `None` if it does not exist.
    pub async fn file_info(&self, path: &str) -> Result<Option<FileStatus>> {
        let r: pb::GetFileInfoResponseProto = self
            .rpc
            .call_idempotent(
                "getFileInfo",
                &pb::GetFileInfoRequestProto {
                    src: path.to_string(),
                },
            )
            .await?;
        Ok(r.fs.map(|fs| FileStatus {
            kind: match fs.file_type() {
                pb::hdfs_file_status_proto::FileType::IsDir => FileKind::Directory,
                pb::hdfs_file_status_proto::FileType::IsFile => FileKind::File,
                pb::hdfs_file_status_proto::FileType::IsSymlink => FileKind::Symlink,
            },
            length: fs.length,
            owner: fs.owner.clone(),
            group: fs.group.clone(),
            permission: fs.permission.perm,
            modification_time: fs.modification_time,
            access_time: fs.access_time,
            replication: fs.block_replication(),
            block_size: fs.blocksize(),
            file_id: fs.file_id(),
        }))
    }

    /// The blocks of `path` overlapping `[offset, offset + length)` with the
    /// DataNodes that hold them. A missing file is `Error::Remote` with
    /// `java.io.FileNotFoundException`.
    pub async fn block_locations(
        &self,
        path: &str,
        offset: u64,
        length: u64,
    ) -> Result<BlockLocations> {
        let request = pb::GetBlockLocationsRequestProto {
            src: path.to_string(),
            offset,
            length,
        };
        let r: pb::GetBlockLocationsResponseProto = self
            .rpc
            .call_idempotent("getBlockLocations", &request)
            .await?;
        let located = r.locations.ok_or_else(|| Error::Remote {
            address: self.rpc.addresses().join(","),
            method: "getBlockLocations".into(),
            class: "java.io.FileNotFoundException".into(),
            message: format!("File does not exist: {path}"),
        })?;
        let blocks = located
            .blocks
            .iter()
            .map(|b| BlockLocation {
                offset: b.offset,
                length: b.b.num_bytes(),
                hosts: b.locs.iter().map(|d| d.id.host_name.clone()).collect(),
                names: b
                    .locs
                    .iter()
                    .map(|d| format!("{}:{}", d.id.ip_addr, d.id.xfer_port))
                    .collect(),
                racks: b.locs.iter().map(|d| d.location().to_string()).collect(),
                block_id: b.b.block_id,
                corrupt: b.corrupt,
            })
            .collect();
        Ok(BlockLocations {
            file_length: located.file_length,
            under_construction: located.under_construction,
            blocks,
        })
    }

    /// Block size, replication and the other defaults for new files.
    pub async fn server_defaults(&self) -> Result<ServerDefaults> {
        let r: pb::GetServerDefaultsResponseProto = self
            .rpc
            .call_idempotent("getServerDefaults", &pb::GetServerDefaultsRequestProto {})
            .await?;
        let d = r.server_defaults;
        Ok(ServerDefaults {
            block_size: d.block_size,
            bytes_per_checksum: d.bytes_per_checksum,
            write_packet_size: d.write_packet_size,
            replication: d.replication,
            file_buffer_size: d.file_buffer_size,
            encrypt_data_transfer: d.encrypt_data_transfer(),
            trash_interval: d.trash_interval(),
        })
    }

    /// A new HDFS delegation token that `renewer` may renew. Its service is
    /// set to this NameNode's `ip:port`, as Java's client names it
    /// (`hadoop.security.token.service.use_ip`), so Hadoop clients holding it
    /// pick it for this NameNode.
    pub async fn get_delegation_token(&self, renewer: &str) -> Result<Token> {
        let request = pc::GetDelegationTokenRequestProto {
            renewer: renewer.to_string(),
        };
        let r: pc::GetDelegationTokenResponseProto =
            self.rpc.call("getDelegationToken", &request).await?;
        let mut token = r.token.map(Token::from).ok_or_else(|| Error::Rpc {
            address: self.rpc.addresses().join(","),
            reason: "getDelegationToken returned no token: the NameNode issues delegation tokens \
                     only with security on (or dfs.namenode.delegation.token.always-use=true)"
                .into(),
        })?;
        if token.service.is_empty() {
            token.service = token_service(&self.token_service).await;
        }
        Ok(token)
    }

    /// Renews `token`; returns its new expiry (ms since the epoch).
    pub async fn renew_delegation_token(&self, token: &Token) -> Result<u64> {
        let request = pc::RenewDelegationTokenRequestProto {
            token: token.into(),
        };
        let r: pc::RenewDelegationTokenResponseProto =
            self.rpc.call("renewDelegationToken", &request).await?;
        Ok(r.new_expiry_time)
    }

    /// Cancels `token`; the NameNode refuses it from then on.
    pub async fn cancel_delegation_token(&self, token: &Token) -> Result<()> {
        let request = pc::CancelDelegationTokenRequestProto {
            token: token.into(),
        };
        let _: pc::CancelDelegationTokenResponseProto =
            self.rpc.call("cancelDelegationToken", &request).await?;
        Ok(())
    }
}

/// `hdfs://authority` of an HDFS URI (no path, no trailing slash).
pub fn file_system_root(uri: &str) -> String {
    let rest = uri.strip_prefix("hdfs://").unwrap_or(uri);
    format!("hdfs://{}", rest.split('/').next().unwrap_or(rest))
}

/// The service names an HDFS delegation token for `uri` is looked up by:
/// `ha-hdfs:<nameservice>` with HA (Java's and hdfs-native's name); else
/// the NameNode's `ip:port` (Java, `hadoop.security.token.service.use_ip`)
/// and the `host:port` of the URI (hdfs-native), when they differ.
pub fn token_services(conf: &Configuration, uri: &str) -> Result<Vec<String>> {
    let root = file_system_root(uri);
    let mut authority = root.trim_start_matches("hdfs://").to_string();
    if authority.is_empty() {
        authority = file_system_root(&conf.default_fs()?)
            .trim_start_matches("hdfs://")
            .to_string();
    }
    if !authority.contains(':') && conf.get_strings("dfs.nameservices")?.contains(&authority) {
        return Ok(vec![format!("ha-hdfs:{authority}")]);
    }
    let addresses = namenode_addresses(conf, &format!("hdfs://{authority}"))?;
    let mut out = Vec::new();
    if let Some(first) = addresses.first() {
        use std::net::ToSocketAddrs;
        let ip = first.to_socket_addrs().ok().and_then(|a| {
            let a: Vec<_> = a.collect();
            a.iter()
                .find(|a| a.is_ipv4())
                .or(a.first())
                .map(|a| a.to_string())
        });
        out.push(ip.unwrap_or_else(|| first.clone()));
        if !out.contains(first) {
            out.push(first.clone());
        }
    }
    if !out.contains(&authority) {
        out.push(authority);
    }
    Ok(out)
}

/// Hadoop's default NameNode RPC port.
const DEFAULT_NN_PORT: u16 = 8020;

/// The NameNode RPC addresses behind an `hdfs://` URI: `host:port` itself,
/// or with HA (`dfs.nameservices` naming the host) every
/// `dfs.namenode.rpc-address.<ns>.<nn>` of `dfs.ha.namenodes.<ns>`, in order.
pub fn namenode_addresses(conf: &Configuration, uri: &str) -> Result<Vec<String>> {
    let bad = |reason: &str| Error::Config {
        file: "core-site.xml".into(),
        key: "fs.defaultFS".into(),
        reason: format!("{uri:?}: {reason}"),
    };
    let authority = uri
        .strip_prefix("hdfs://")
        .ok_or_else(|| bad("not an hdfs:// URI"))?
        .split('/')
        .next()
        .unwrap_or("");
    if authority.is_empty() {
        // `hdfs:///path` names the default file system's NameNode, as in Hadoop.
        let default = conf.default_fs()?;
        if default
            .strip_prefix("hdfs://")
            .is_some_and(|r| !r.is_empty() && !r.starts_with('/'))
        {
            return namenode_addresses(conf, &default);
        }
        return Err(bad("no NameNode host"));
    }
    let nameservices = conf.get_strings("dfs.nameservices")?;
    if !authority.contains(':') && nameservices.iter().any(|n| n == authority) {
        let ids = conf.get_strings(&format!("dfs.ha.namenodes.{authority}"))?;
        let mut out = Vec::new();
        for id in &ids {
            let key = format!("dfs.namenode.rpc-address.{authority}.{id}");
            match conf.get_trimmed(&key)? {
                Some(a) => out.push(a),
                None => {
                    return Err(Error::Config {
                        file: conf.source(&key).to_string(),
                        key,
                        reason: format!(
                            "NameNode {id} of nameservice {authority} has no RPC address"
                        ),
                    });
                }
            }
        }
        if out.is_empty() {
            return Err(bad(&format!(
                "nameservice {authority} lists no NameNodes (dfs.ha.namenodes.{authority})"
            )));
        }
        return Ok(out);
    }
    if authority.contains(':') {
        Ok(vec![authority.to_string()])
    } else {
        Ok(vec![format!("{authority}:{DEFAULT_NN_PORT}")])
    }
}

/// `host:port` as Java's `SecurityUtil.buildTokenService` writes it: the
/// resolved IPv4 address when there is one, else the address unchanged.
async fn token_service(address: &str) -> String {
    match tokio::net::lookup_host(address).await {
        Ok(addrs) => {
            let addrs: Vec<_> = addrs.collect();
            addrs
                .iter()
                .find(|a| a.is_ipv4())
                .or(addrs.first())
                .map(|a| a.to_string())
                .unwrap_or_else(|| address.to_string())
        }
        Err(_) => address.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_retriable_answer_is_asked_again_and_any_other_comes_through_at_once() {
        let calls = std::cell::Cell::new(0);
        let flaky = || {
            calls.set(calls.get() + 1);
            let n = calls.get();
            async move { if n < 3 { Err("retriable") } else { Ok(n) } }
        };
        let r = answer_retrying("hdfs://nn", flaky, |e| *e == "retriable").await;
        assert_eq!(r.unwrap(), Ok(3));
        assert_eq!(calls.get(), 3);

        calls.set(0);
        let failing = || {
            calls.set(calls.get() + 1);
            async { Err::<u32, _>("file not found") }
        };
        let r = answer_retrying("hdfs://nn", failing, |e| *e == "retriable").await;
        assert_eq!(r.unwrap(), Err("file not found"));
        assert_eq!(calls.get(), 1);
    }

    #[test]
    fn namenode_addresses_plain_and_ha() {
        let mut conf = Configuration::new();
        assert_eq!(
            namenode_addresses(&conf, "hdfs://nn:9000").unwrap(),
            ["nn:9000"]
        );
        assert_eq!(
            namenode_addresses(&conf, "hdfs://nn/").unwrap(),
            ["nn:8020"]
        );
        assert!(namenode_addresses(&conf, "file:///").is_err());
        // No authority: the default file system's NameNode, if it names one.
        conf.set("fs.defaultFS", "hdfs:///");
        assert!(namenode_addresses(&conf, "hdfs:///x").is_err());
        conf.set("fs.defaultFS", "hdfs://nn:9000");
        assert_eq!(namenode_addresses(&conf, "hdfs:///x").unwrap(), ["nn:9000"]);
        conf.set("dfs.nameservices", "ns1");
        conf.set("dfs.ha.namenodes.ns1", "a, b");
        conf.set("dfs.namenode.rpc-address.ns1.a", "h1:8020");
        conf.set("dfs.namenode.rpc-address.ns1.b", "h2:8020");
        assert_eq!(
            namenode_addresses(&conf, "hdfs://ns1").unwrap(),
            ["h1:8020", "h2:8020"]
        );
        conf.set("dfs.ha.namenodes.ns1", "a,c");
        let err = namenode_addresses(&conf, "hdfs://ns1")
            .unwrap_err()
            .to_string();
        assert!(err.contains("dfs.namenode.rpc-address.ns1.c"), "{err}");
    }

    #[tokio::test]
    async fn token_service_resolves_to_an_ip() {
        assert_eq!(token_service("localhost:8020").await, "127.0.0.1:8020");
        assert_eq!(token_service("10.1.2.3:9000").await, "10.1.2.3:9000");
        assert_eq!(
            token_service("no-such-host.invalid:1").await,
            "no-such-host.invalid:1"
        );
    }
}
