//! What tasks get from the executor: local dirs, the block cache, shuffle
//! fetches from peers, and blobs from the driver.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use spindle_core::blocks::{Blocks, CHUNK};
use spindle_core::cache::BlockCache;
use spindle_core::env::ExecutorEnv;
use spindle_core::net::Security;
use spindle_core::task::{BlockIter, ExecutorServices};
use spindle_core::{Error as CoreError, Result};
use spindle_proto::spindle::driver_client::DriverClient;
use spindle_proto::spindle::executor_client::ExecutorClient;
use spindle_proto::spindle::{BlobRequest, FetchCachedRequest, FetchRequest, ShuffleChunk};
use tokio::runtime::Handle;
use tonic::transport::Channel;

use crate::Error;

type Driver = DriverClient<Channel>;
type Peer = ExecutorClient<Channel>;

pub(crate) struct Services {
    id: String,
    shuffle_dirs: Vec<PathBuf>,
    scratch: PathBuf,
    cache: BlockCache,
    shuffle_bytes: usize,
    driver: Driver,
    peers: Mutex<HashMap<String, Peer>>,
    security: Security,
    handle: Handle,
}

impl Services {
    pub(crate) fn new(
        env: &ExecutorEnv,
        security: Security,
        driver: Driver,
        handle: Handle,
    ) -> Result<Self, Error> {
        let mut shuffle_dirs = Vec::new();
        for d in &env.local_dirs {
            let dir = d.join(format!("spindle-executor-{}", env.executor_id));
            spindle_core::scratch::create_dir(&dir)
                .map_err(|e| Error::Start(format!("creating {}: {e}", dir.display())))?;
            shuffle_dirs.push(dir);
        }
        let scratch = shuffle_dirs[0].clone();
        Ok(Services {
            id: env.executor_id.clone(),
            cache: BlockCache::new(env.cache_bytes, scratch.clone()),
            scratch,
            shuffle_dirs,
            shuffle_bytes: env.shuffle_bytes,
            driver,
            peers: Mutex::new(HashMap::new()),
            security,
            handle,
        })
    }

    fn peer(&self, address: &str) -> Result<Peer> {
        let mut peers = self.peers.lock().expect("peers");
        if let Some(p) = peers.get(address) {
            return Ok(p.clone());
        }
        let channel = spindle_core::net::channel(address, &self.security)?;
        // Peers only stream shuffle chunks to each other.
        let p = ExecutorClient::new(channel).max_decoding_message_size(CHUNK + 1024);
        peers.insert(address.to_string(), p.clone());
        Ok(p)
    }

    /// The cached partitions of `node_id` that the peer at `address` keeps,
    /// as `(partition, bytes as on disk)`; empty for one it does not keep.
    pub(crate) fn fetch_cached(
        &self,
        address: &str,
        node_id: u32,
        partitions: Vec<u32>,
    ) -> Result<BlockIter> {
        let mut peer = self.peer(address)?;
        let req = FetchCachedRequest {
            node_id,
            partitions,
        };
        let partitions = req.partitions.clone();
        let stream = self
            .handle
            .block_on(peer.fetch_cached(req))
            .map_err(|s| CoreError::Rpc(format!("fetching from {address}: {}", s.message())))?
            .into_inner();
        Ok(self.blocks(address, partitions, stream))
    }

    /// Reassembles the blocks `ids` from a peer's stream of chunks.
    fn blocks(
        &self,
        address: &str,
        ids: Vec<u32>,
        mut stream: tonic::Streaming<ShuffleChunk>,
    ) -> BlockIter {
        let handle = self.handle.clone();
        let from = address.to_string();
        let next_chunk = move || {
            // The task's job was cancelled (the task runner reports it as such).
            if spindle_core::task::current_task_cancelled() {
                return Err(CoreError::Cancelled {
                    job: 0,
                    reason: format!("stopped fetching from {from}"),
                });
            }
            handle
                .block_on(stream.message())
                .map_err(|s| CoreError::Rpc(format!("fetching from {from}: {}", s.message())))
        };
        Box::new(Blocks::new(address, ids, next_chunk))
    }
}

impl ExecutorServices for Services {
    fn executor_id(&self) -> &str {
        &self.id
    }

    fn scratch_dir(&self) -> &Path {
        &self.scratch
    }

    fn shuffle_path(&self, shuffle_id: u32, map_id: u32, reduce_id: u32) -> PathBuf {
        let dir =
            &self.shuffle_dirs[(map_id as usize + reduce_id as usize) % self.shuffle_dirs.len()];
        dir.join(format!("shuffle_{shuffle_id}_{map_id}_{reduce_id}.lz4"))
    }

    fn fetch_blocks(
        &self,
        address: &str,
        shuffle_id: u32,
        map_ids: Vec<u32>,
        reduce_id: u32,
    ) -> Result<BlockIter> {
        let mut peer = self.peer(address)?;
        let req = FetchRequest {
            shuffle_id,
            map_ids,
            reduce_id,
        };
        let map_ids = req.map_ids.clone();
        let stream = self
            .handle
            .block_on(peer.fetch_shuffle(req))
            .map_err(|s| CoreError::Rpc(format!("fetching from {address}: {}", s.message())))?
            .into_inner();
        Ok(self.blocks(address, map_ids, stream))
    }

    fn blob(&self, blob_id: u64, index: u32) -> Result<Vec<u8>> {
        let mut driver = self.driver.clone();
        self.handle
            .block_on(driver.get_blob(BlobRequest { blob_id, index }))
            .map(|r| r.into_inner().data)
            .map_err(|s| {
                CoreError::Rpc(format!(
                    "fetching blob {blob_id} from the driver: {}",
                    s.message()
                ))
            })
    }

    fn cache(&self) -> &BlockCache {
        &self.cache
    }

    fn shuffle_memory(&self) -> usize {
        self.shuffle_bytes
    }
}
