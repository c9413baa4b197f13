//! Shuffle blocks on the wire: a peer streams the blocks a reducer asked for,
//! in the order asked, each as chunks of at most [`CHUNK`] bytes whose first
//! names the block's length. The reader checks that length against
//! [`MAX_MESSAGE`] before allocating, and requires every block asked for, each
//! exactly as long as it said: a peer claiming a huge block is an error, not an
//! allocation, and a stream cut short is a failed fetch, not missing records.

use spindle_proto::spindle::ShuffleChunk;

use crate::net::MAX_MESSAGE;
use crate::{Error, Result};

/// The holder named in the map output and cache locations for blocks moved
/// to the cluster's file system (no executor stayed to take them); a map
/// output's address is then their directory.
pub const FILE_SYSTEM_HOLDER: &str = "file-system";

/// The file of one block (map x reducer) of a shuffle in such a directory.
pub fn block_file(shuffle_id: u32, map_id: u32, reduce_id: u32) -> String {
    format!("shuffle_{shuffle_id}_{map_id}_{reduce_id}.lz4")
}

/// The file of one cached partition of a dataset (its node id) in such a
/// directory, as the block cache encodes it on disk.
pub fn cached_file(node_id: u32, partition: u32) -> String {
    format!("cached_{node_id}_{partition}.lz4")
}

/// Bytes per streamed chunk.
pub const CHUNK: usize = 1 << 20;

/// Capacity reserved up front for a block: its length, up to this; past it the
/// buffer grows as bytes arrive, so a false length costs at most this much.
const RESERVE: usize = 64 * CHUNK;

/// The blocks of one fetch, reassembled from the peer's chunks as
/// `(map id, block)`.
pub struct Blocks<F> {
    next_chunk: F,
    ahead: Option<ShuffleChunk>,
    /// The map ids asked for, in order; `at` is the next one due.
    map_ids: Vec<u32>,
    at: usize,
    from: String,
}

impl<F: FnMut() -> Result<Option<ShuffleChunk>>> Blocks<F> {
    /// Blocks of `map_ids` from the peer at `from`, whose chunks `next_chunk`
    /// returns one at a time (None at the end of the stream).
    pub fn new(from: impl Into<String>, map_ids: Vec<u32>, next_chunk: F) -> Self {
        Blocks {
            next_chunk,
            ahead: None,
            map_ids,
            at: 0,
            from: from.into(),
        }
    }

    fn corrupt(&self, message: String) -> Error {
        Error::Corrupt {
            what: "shuffle fetch",
            message: format!("from {}: {message}", self.from),
        }
    }

    fn chunk(&mut self) -> Result<Option<ShuffleChunk>> {
        match self.ahead.take() {
            Some(c) => Ok(Some(c)),
            None => (self.next_chunk)(),
        }
    }

    fn block(&mut self, first: ShuffleChunk) -> Result<(u32, Vec<u8>)> {
        let map_id = first.map_id;
        let want = self.map_ids[self.at];
        if map_id != want {
            return Err(self.corrupt(format!("a block of map {map_id} where map {want} was due")));
        }
        self.at += 1;
        let claimed = first.block_bytes;
        if claimed > MAX_MESSAGE as u64 {
            return Err(self.corrupt(format!(
                "map {map_id}'s block claims {claimed} bytes, over the limit of {MAX_MESSAGE}"
            )));
        }
        let claimed = claimed as usize;
        let mut data = first.data;
        data.reserve(claimed.min(RESERVE).saturating_sub(data.len()));
        while data.len() < claimed {
            match self.chunk()? {
                Some(c) if c.map_id == map_id && c.block_bytes == 0 => {
                    if c.data.len() > claimed - data.len() {
                        break;
                    }
                    data.extend_from_slice(&c.data);
                }
                Some(c) => {
                    self.ahead = Some(c);
                    break;
                }
                None => break,
            }
        }
        if data.len() != claimed {
            return Err(self.corrupt(format!(
                "map {map_id}'s block is not the {claimed} bytes it claims"
            )));
        }
        Ok((map_id, data))
    }
}

impl<F: FnMut() -> Result<Option<ShuffleChunk>>> Iterator for Blocks<F> {
    type Item = Result<(u32, Vec<u8>)>;

    fn next(&mut self) -> Option<Self::Item> {
        let first = match self.chunk() {
            Ok(c) => c,
            Err(e) => return Some(Err(e)),
        };
        match first {
            None if self.at == self.map_ids.len() => None,
            None => Some(Err(self.corrupt(format!(
                "the stream ended after {} of {} blocks",
                self.at,
                self.map_ids.len()
            )))),
            Some(c) if self.at == self.map_ids.len() => Some(Err(self.corrupt(format!(
                "a block of map {} after the {} asked for",
                c.map_id,
                self.map_ids.len()
            )))),
            Some(c) => Some(self.block(c)),
        }
    }
}

/// The chunks that carry one block (what a peer sends for it).
pub fn chunks_of(map_id: u32, block: &[u8]) -> Vec<ShuffleChunk> {
    let mut out: Vec<ShuffleChunk> = block
        .chunks(CHUNK)
        .map(|d| ShuffleChunk {
            map_id,
            data: d.to_vec(),
            block_bytes: 0,
        })
        .collect();
    if out.is_empty() {
        out.push(ShuffleChunk {
            map_id,
            data: Vec::new(),
            block_bytes: 0,
        });
    }
    out[0].block_bytes = block.len() as u64;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fetch(map_ids: Vec<u32>, chunks: Vec<ShuffleChunk>) -> Result<Vec<(u32, Vec<u8>)>> {
        let mut chunks = chunks.into_iter();
        Blocks::new("peer:1", map_ids, move || Ok(chunks.next())).collect()
    }

    #[test]
    fn blocks_come_back_whole_across_chunks() {
        let big: Vec<u8> = (0..(2 * CHUNK + 5)).map(|i| i as u8).collect();
        let mut chunks = chunks_of(3, b"abc");
        chunks.extend(chunks_of(4, &[]));
        chunks.extend(chunks_of(7, &big));
        assert_eq!(chunks.len(), 5);
        let got = fetch(vec![3, 4, 7], chunks).unwrap();
        assert_eq!(
            got,
            vec![(3, b"abc".to_vec()), (4, Vec::new()), (7, big.clone())]
        );
    }

    #[test]
    fn a_peer_claiming_a_huge_block_is_refused_before_allocating_it() {
        let mut chunks = chunks_of(1, b"xyz");
        chunks[0].block_bytes = 1 << 40;
        let (r, largest) =
            spindle_test_support::largest_allocation(|| fetch(vec![1], chunks.clone()));
        let e = r.unwrap_err().to_string();
        assert!(
            e.contains("claims 1099511627776 bytes, over the limit"),
            "{e}"
        );
        assert!(largest < 1 << 20, "allocated {largest} bytes");
        // Under the limit but false: the reader reserves at most RESERVE and
        // fails when the bytes do not come.
        chunks[0].block_bytes = MAX_MESSAGE as u64;
        let (r, largest) = spindle_test_support::largest_allocation(|| fetch(vec![1], chunks));
        let e = r.unwrap_err().to_string();
        assert!(e.contains("is not the 1073741824 bytes it claims"), "{e}");
        assert!(largest <= RESERVE, "allocated {largest} bytes");
    }

    #[test]
    fn a_stream_cut_short_or_out_of_order_is_corrupt() {
        let two = || [chunks_of(1, &[1; 10]), chunks_of(2, &[2; 10])].concat();
        // Cut inside a block, and between blocks.
        let mut cut = two();
        cut[1].data.truncate(4);
        assert!(fetch(vec![1, 2], cut).is_err());
        let mut lost = two();
        lost.pop();
        let e = fetch(vec![1, 2], lost).unwrap_err().to_string();
        assert!(e.contains("ended after 1 of 2 blocks"), "{e}");
        // A block not asked for, or twice.
        let e = fetch(vec![2, 1], two()).unwrap_err().to_string();
        assert!(e.contains("map 1 where map 2 was due"), "{e}");
        let e = fetch(vec![1], two()).unwrap_err().to_string();
        assert!(e.contains("after the 1 asked for"), "{e}");
        // Bytes beyond the length claimed.
        let mut long = two();
        long[0].block_bytes = 5;
        assert!(fetch(vec![1, 2], long).is_err());
        assert!(matches!(fetch(vec![1, 2], two()).map(|v| v.len()), Ok(2)));
    }
}
