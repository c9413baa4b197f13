//! Sources: data from the driver, number ranges, text files, SequenceFiles,
//! Parquet, CSV and JSON lines.

use serde::{Deserialize, Serialize};

use crate::codec;
use crate::io::{self, Split};
use crate::plan::NodeSpec;
use crate::task::{Erased, Push, Stream, TaskContext, erase, erase_push};
use crate::{Data, Result};

use super::BATCH;

/// Parameters of `parallelize`: the driver blob holding one slice per partition.
#[derive(Serialize, Deserialize)]
pub(crate) struct BlobParams {
    pub blob_id: u64,
}

pub(crate) fn compute_parallelize<T: Data>(
    ctx: &TaskContext,
    spec: &NodeSpec,
    p: u32,
) -> Result<Erased> {
    let params: BlobParams = codec::decode(&spec.params, "parallelize parameters")?;
    let bytes = ctx.services.blob(params.blob_id, p)?;
    let data: Vec<T> = codec::decode(&bytes, "parallelized slice")?;
    let mut batches = Vec::new();
    let mut it = data.into_iter().peekable();
    while it.peek().is_some() {
        batches.push(it.by_ref().take(BATCH).collect());
    }
    Ok(erase(Stream::from_batches(batches)))
}

/// Parameters of `range`.
#[derive(Serialize, Deserialize)]
pub(crate) struct RangeParams {
    pub start: u64,
    pub end: u64,
    pub partitions: u32,
}

impl RangeParams {
    /// The numbers of partition `p`: an even split of [start, end).
    pub(crate) fn bounds(&self, p: u32) -> (u64, u64) {
        let n = self.end.saturating_sub(self.start) as u128;
        let at = |i: u32| self.start + (n * i as u128 / self.partitions as u128) as u64;
        (at(p), at(p + 1))
    }
}

pub(crate) fn compute_range(_ctx: &TaskContext, spec: &NodeSpec, p: u32) -> Result<Erased> {
    let params: RangeParams = codec::decode(&spec.params, "range parameters")?;
    let (mut lo, hi) = params.bounds(p);
    let iter = std::iter::from_fn(move || {
        if lo >= hi {
            return None;
        }
        let end = hi.min(lo + BATCH as u64);
        let b: Vec<u64> = (lo..end).collect();
        lo = end;
        Some(Ok(b))
    });
    Ok(erase(Stream::<u64>(Box::new(iter))))
}

/// Parameters of `text_file`: one split per partition.
#[derive(Serialize, Deserialize)]
pub(crate) struct TextParams {
    pub splits: Vec<Split>,
}

pub(crate) fn compute_text_file(ctx: &TaskContext, spec: &NodeSpec, p: u32) -> Result<Erased> {
    let params: TextParams = codec::decode(&spec.params, "text_file parameters")?;
    let split = params
        .splits
        .into_iter()
        .nth(p as usize)
        .ok_or_else(|| crate::Error::Task(format!("text_file has no split {p}")))?;
    let _ = ctx;
    let mut lines = io::LineReader::open(&split)?;
    Ok(erase_push(Push::<String>::new(move |sink| {
        lines.push_lines(BATCH, sink)
    })))
}

/// Parameters of a text source sampled through windows of its splits
/// ([`Split::sample_windows`]): each partition's windows.
#[derive(Serialize, Deserialize)]
pub(crate) struct TextSampleParams {
    pub windows: Vec<Vec<Split>>,
}

/// The lines of partition `p`'s windows, one window after another.
pub(crate) fn compute_text_sample(_ctx: &TaskContext, spec: &NodeSpec, p: u32) -> Result<Erased> {
    let params: TextSampleParams = codec::decode(&spec.params, "text sample parameters")?;
    let mut windows = params
        .windows
        .into_iter()
        .nth(p as usize)
        .ok_or_else(|| crate::Error::Task(format!("text sample has no partition {p}")))?
        .into_iter();
    let mut lines: Option<io::LineReader> = None;
    Ok(erase_push(Push::<String>::new(move |sink| {
        loop {
            if let Some(r) = &mut lines
                && r.push_lines(BATCH, sink)?
            {
                return Ok(true);
            }
            match windows.next() {
                Some(w) => lines = Some(io::LineReader::open(&w)?),
                None => return Ok(false),
            }
        }
    })))
}

/// Parameters of `sequence_file`: one whole file per partition.
pub(crate) type SeqParams = TextParams;

pub(crate) fn compute_sequence_file<K: io::Writable, V: io::Writable>(
    _ctx: &TaskContext,
    spec: &NodeSpec,
    p: u32,
) -> Result<Erased> {
    let params: SeqParams = codec::decode(&spec.params, "sequence_file parameters")?;
    let split = params
        .splits
        .into_iter()
        .nth(p as usize)
        .ok_or_else(|| crate::Error::Task(format!("sequence_file has no split {p}")))?;
    let records = io::sequence_file_records::<K, V>(&split, BATCH)?;
    Ok(erase(Stream::<(K, V)>(Box::new(records))))
}

/// The split of partition `p` of a split source.
#[cfg(feature = "columnar")]
fn split_of(spec: &NodeSpec, p: u32, what: &'static str) -> Result<Split> {
    let params: TextParams = codec::decode(&spec.params, what)?;
    params
        .splits
        .into_iter()
        .nth(p as usize)
        .ok_or_else(|| crate::Error::Task(format!("{what}: no split {p}")))
}

#[cfg(feature = "columnar")]
pub(crate) fn compute_parquet<T: Data>(
    _ctx: &TaskContext,
    spec: &NodeSpec,
    p: u32,
) -> Result<Erased> {
    let split = split_of(spec, p, "parquet_file parameters")?;
    let records = io::parquet_file::records::<T>(&split, BATCH)?;
    Ok(erase(Stream::<T>(records)))
}

#[cfg(feature = "columnar")]
pub(crate) fn compute_csv<T: Data>(_ctx: &TaskContext, spec: &NodeSpec, p: u32) -> Result<Erased> {
    let split = split_of(spec, p, "csv_file parameters")?;
    let records = io::delimited::records::<T>(&split, io::delimited::TextFormat::Csv, BATCH)?;
    Ok(erase(Stream::<T>(Box::new(records))))
}

#[cfg(feature = "columnar")]
pub(crate) fn compute_json<T: Data>(_ctx: &TaskContext, spec: &NodeSpec, p: u32) -> Result<Erased> {
    let split = split_of(spec, p, "json_file parameters")?;
    let records = io::delimited::records::<T>(&split, io::delimited::TextFormat::JsonLines, BATCH)?;
    Ok(erase(Stream::<T>(Box::new(records))))
}

/// Parameters of a checkpointed dataset: its directory and partition count.
#[derive(Serialize, Deserialize)]
pub(crate) struct CheckpointParams {
    pub path: String,
    pub partitions: u32,
}

pub(crate) fn compute_checkpoint<T: Data>(
    _ctx: &TaskContext,
    spec: &NodeSpec,
    p: u32,
) -> Result<Erased> {
    let params: CheckpointParams = codec::decode(&spec.params, "checkpoint parameters")?;
    let file = format!("{}/part-{p:05}", params.path);
    let bytes = io::read_whole(&file)?;
    let mut frames = codec::FrameReader::new(bytes);
    let mut batches = Vec::new();
    while let Some(b) = frames
        .next_batch::<T>()
        .map_err(|e| crate::Error::Task(format!("checkpoint {file}: {e}")))?
    {
        batches.push(b);
    }
    Ok(erase(Stream::from_batches(batches)))
}

/// Parameters of `whole_text_files` and `binary_files`: each partition's files.
#[derive(Serialize, Deserialize)]
pub(crate) struct WholeFilesParams {
    pub files: Vec<Vec<String>>,
}

/// A whole file's content as a record: text (UTF-8) or bytes.
pub(crate) trait WholeFile: Data + Sized {
    fn from_bytes(path: &str, bytes: Vec<u8>) -> Result<Self>;
}

impl WholeFile for String {
    fn from_bytes(path: &str, bytes: Vec<u8>) -> Result<Self> {
        String::from_utf8(bytes).map_err(|e| {
            crate::Error::Task(format!(
                "{path}: not UTF-8 text (byte {}); read it with binary_files",
                e.utf8_error().valid_up_to()
            ))
        })
    }
}

impl WholeFile for Vec<u8> {
    fn from_bytes(_: &str, bytes: Vec<u8>) -> Result<Self> {
        Ok(bytes)
    }
}

/// Each file of the partition as (path, content), read whole, one at a time.
pub(crate) fn compute_whole_files<C: WholeFile>(
    _ctx: &TaskContext,
    spec: &NodeSpec,
    p: u32,
) -> Result<Erased> {
    let params: WholeFilesParams = codec::decode(&spec.params, "whole file parameters")?;
    let files = params
        .files
        .into_iter()
        .nth(p as usize)
        .ok_or_else(|| crate::Error::Task(format!("whole file source has no partition {p}")))?;
    let iter = files.into_iter().map(|f| {
        let content = C::from_bytes(&f, io::read_whole(&f)?)?;
        Ok(vec![(f, content)])
    });
    Ok(erase(Stream::<(String, C)>(Box::new(iter))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_text_refuses_a_file_that_is_not_utf8_naming_it() {
        let e = String::from_bytes("hdfs://nn:8020/in/x.bin", vec![b'a', b'b', 0xff, b'c'])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(
                "hdfs://nn:8020/in/x.bin: not UTF-8 text (byte 2); read it with binary_files"
            ),
            "{e}"
        );
        let bytes = vec![0u8, 0xff, 0xfe];
        assert_eq!(Vec::<u8>::from_bytes("x", bytes.clone()).unwrap(), bytes);
    }
}
