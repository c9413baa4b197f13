//! What tasks get from the executor: local dirs, the block cache, shuffle
//! fetches from peers, and blobs from the driver.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use spindle_core::cache::BlockCache;
use spindle_core::env::ExecutorEnv;
use spindle_core::net::Security;
use spindle_core::task::{BlockIter, ExecutorServices};
use spindle_core::{Error as CoreError, Result};
use spindle_proto::spindle::driver_client::DriverClient;
use spindle_proto::spindle::executor_client::ExecutorClient;
use spindle_proto::spindle::{BlobRequest, FetchRequest, ShuffleChunk};
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
        let p = ExecutorClient::new(channel).max_decoding_message_size(usize::MAX);
        peers.insert(address.to_string(), p.clone());
        Ok(p)
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
        let stream = self
            .handle
            .block_on(peer.fetch_shuffle(req))
            .map_err(|s| CoreError::Rpc(format!("fetching from {address}: {}", s.message())))?
            .into_inner();
        Ok(Box::new(BlockStream {
            handle: self.handle.clone(),
            stream,
            ahead: None,
            done: false,
            address: address.to_string(),
        }))
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

/// Blocks from a peer's stream: consecutive chunks of one map id form a block.
struct BlockStream {
    handle: Handle,
    stream: tonic::Streaming<ShuffleChunk>,
    ahead: Option<ShuffleChunk>,
    done: bool,
    address: String,
}

impl BlockStream {
    fn next_chunk(&mut self) -> Result<Option<ShuffleChunk>> {
        if let Some(c) = self.ahead.take() {
            return Ok(Some(c));
        }
        if self.done {
            return Ok(None);
        }
        let r = self.handle.block_on(self.stream.message());
        match r {
            Ok(Some(c)) => Ok(Some(c)),
            Ok(None) => {
                self.done = true;
                Ok(None)
            }
            Err(s) => Err(CoreError::Rpc(format!(
                "fetching from {}: {}",
                self.address,
                s.message()
            ))),
        }
    }
}

impl Iterator for BlockStream {
    type Item = Result<(u32, Vec<u8>)>;
    fn next(&mut self) -> Option<Self::Item> {
        // The task's job was cancelled (the task runner reports it as such).
        if spindle_core::task::current_task_cancelled() {
            return Some(Err(CoreError::Cancelled {
                job: 0,
                reason: format!("stopped fetching from {}", self.address),
            }));
        }
        let first = match self.next_chunk() {
            Ok(Some(c)) => c,
            Ok(None) => return None,
            Err(e) => return Some(Err(e)),
        };
        let map_id = first.map_id;
        let mut data = first.data;
        loop {
            match self.next_chunk() {
                Ok(Some(c)) if c.map_id == map_id => data.extend_from_slice(&c.data),
                Ok(Some(c)) => {
                    self.ahead = Some(c);
                    break;
                }
                Ok(None) => break,
                Err(e) => return Some(Err(e)),
            }
        }
        Some(Ok((map_id, data)))
    }
}
