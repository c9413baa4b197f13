//! Action sinks: what a result task sends back for its partition.

use std::fmt::Display;
use std::io::Write;

use serde::{Deserialize, Serialize};

use crate::codec;
use crate::entry::conjure;
use crate::task::{Erased, SinkOutput, Stream, TaskContext};
use crate::{Data, Error, Result};

fn input<T: Send + 'static>(e: Erased) -> Result<Stream<T>> {
    crate::task::unerase_stream::<T>(e)
        .ok_or_else(|| Error::Task("action input of an unexpected type".into()))
}

fn input_push<T: Send + 'static>(e: Erased) -> Result<crate::task::Push<T>> {
    crate::task::unerase_push::<T>(e)
        .ok_or_else(|| Error::Task("action input of an unexpected type".into()))
}

pub(crate) fn sink_collect<T: Data>(_: &TaskContext, e: Erased, _: &[u8]) -> Result<SinkOutput> {
    let all = input::<T>(e)?.collect_vec()?;
    Ok(SinkOutput::Value(codec::encode(&all)))
}

pub(crate) fn sink_count<T: Send + 'static>(
    _: &TaskContext,
    e: Erased,
    _: &[u8],
) -> Result<SinkOutput> {
    let mut n = 0u64;
    for b in input::<T>(e)?.0 {
        n += b?.len() as u64;
    }
    Ok(SinkOutput::Value(codec::encode(&n)))
}

pub(crate) fn sink_reduce<T: Data, F: Fn(T, T) -> T + Copy + Send + Sync + 'static>(
    _: &TaskContext,
    e: Erased,
    _: &[u8],
) -> Result<SinkOutput> {
    let f: F = conjure();
    let mut acc: Option<T> = None;
    for b in input::<T>(e)?.0 {
        for x in b? {
            acc = Some(match acc {
                None => x,
                Some(a) => f(a, x),
            });
        }
    }
    Ok(SinkOutput::Value(codec::encode(&acc)))
}

pub(crate) fn sink_take<T: Data>(_: &TaskContext, e: Erased, params: &[u8]) -> Result<SinkOutput> {
    let n: u64 = codec::decode(params, "take count")?;
    let mut out = Vec::new();
    for b in input::<T>(e)?.0 {
        if out.len() as u64 >= n {
            break;
        }
        let b = b?;
        let room = (n - out.len() as u64) as usize;
        out.extend(b.into_iter().take(room));
    }
    Ok(SinkOutput::Value(codec::encode(&out)))
}

/// Parameters of save_as_text_file.
#[derive(Serialize, Deserialize)]
pub(crate) struct SaveParams {
    pub path: String,
    /// Compresses each part file (named with the codec's extension).
    pub codec: Option<crate::io::Codec>,
    /// What follows `part-P` in a part file's name: the format's and the
    /// codec's extensions (`.parquet`, `.gz`).
    pub suffix: String,
}

pub(crate) fn sink_save_text<T: Data + Display>(
    ctx: &TaskContext,
    e: Erased,
    params: &[u8],
) -> Result<SinkOutput> {
    let params: SaveParams = codec::decode(params, "save parameters")?;
    let mut records = input_push::<T>(e)?;
    crate::io::write_task_part(
        &params.path,
        ctx.partition,
        ctx.attempt,
        &params.suffix,
        params.codec,
        |w: &mut dyn Write| {
            // Lines are formatted into a buffer of our own (no dynamic call
            // per record) and written a chunk at a time; a String, the
            // commonest record, is copied without the formatting machinery.
            let mut buf: Vec<u8> = Vec::with_capacity(256 * 1024);
            while records.next_chunk(&mut |x| {
                if let Some(s) = (&x as &dyn std::any::Any).downcast_ref::<String>() {
                    buf.extend_from_slice(s.as_bytes());
                    buf.push(b'\n');
                } else {
                    writeln!(buf, "{x}").expect("writing to a Vec cannot fail");
                }
            })? {
                if buf.len() >= 128 * 1024 {
                    w.write_all(&buf)
                        .map_err(|e| Error::io(format!("writing {}", params.path), e))?;
                    buf.clear();
                }
            }
            w.write_all(&buf)
                .map_err(|e| Error::io(format!("writing {}", params.path), e))
        },
    )?;
    Ok(SinkOutput::Value(Vec::new()))
}

/// Writes a partition as one Parquet, CSV or JSON-lines part file
/// (`SaveParams::suffix` says which: `.parquet`, `.csv`, `.json`).
#[cfg(feature = "columnar")]
pub(crate) fn sink_save_columnar<T: Data>(
    ctx: &TaskContext,
    e: Erased,
    params: &[u8],
) -> Result<SinkOutput> {
    use crate::io::delimited::{self, TextFormat};
    let params: SaveParams = codec::decode(params, "save parameters")?;
    let stream = input::<T>(e)?;
    let out = params.path.as_str();
    crate::io::write_task_part(
        out,
        ctx.partition,
        ctx.attempt,
        &params.suffix,
        params.codec,
        |w: &mut dyn Write| {
            let text = [TextFormat::Csv, TextFormat::JsonLines]
                .into_iter()
                .find(|f| f.extension() == params.suffix);
            match text {
                Some(format) => delimited::write::<T>(out, format, stream.0, w),
                None => crate::io::parquet_file::write::<T>(out, stream.0, w),
            }
        },
    )?;
    Ok(SinkOutput::Value(Vec::new()))
}

/// Samples up to `n` keys of a partition (reservoir sampling) and counts it,
/// for the bounds of a range partitioner.
pub(crate) fn sink_sample_keys<K: Data, V: Data>(
    ctx: &TaskContext,
    e: Erased,
    params: &[u8],
) -> Result<SinkOutput> {
    let n: u64 = codec::decode(params, "sample size")?;
    let mut seen = 0u64;
    let mut sample: Vec<K> = Vec::new();
    let mut state = 0x9E37_79B9_7F4A_7C15u64 ^ ctx.partition as u64;
    for b in input::<(K, V)>(e)?.0 {
        for (k, _) in b? {
            seen += 1;
            if (sample.len() as u64) < n {
                sample.push(k);
            } else {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let j = state % seen;
                if j < n {
                    sample[j as usize] = k;
                }
            }
        }
    }
    Ok(SinkOutput::Value(codec::encode(&(seen, sample))))
}

/// Folds a partition into a copy of the zero value (the parameters) with `S`.
pub(crate) fn sink_aggregate<T: Data, C: Data, S: Fn(C, T) -> C + Copy + Send + Sync + 'static>(
    _: &TaskContext,
    e: Erased,
    params: &[u8],
) -> Result<SinkOutput> {
    let seq: S = conjure();
    let mut acc: C = codec::decode(params, "aggregate zero value")?;
    for b in input::<T>(e)?.0 {
        for x in b? {
            acc = seq(acc, x);
        }
    }
    Ok(SinkOutput::Value(codec::encode(&acc)))
}

/// Parameters of take_ordered: how many, and whether the largest.
#[derive(Serialize, Deserialize)]
pub(crate) struct OrderedParams {
    pub n: u64,
    pub descending: bool,
}

/// Keeps the `n` first records of `v` in the order asked for, sorted.
pub(crate) fn keep_first<T: Ord>(v: &mut Vec<T>, n: usize, descending: bool) {
    if descending {
        v.sort_unstable_by(|a, b| b.cmp(a));
    } else {
        v.sort_unstable();
    }
    v.truncate(n);
}

/// A partition's `n` smallest (or largest) records, sorted; memory stays
/// within about 2n + one batch records.
pub(crate) fn sink_take_ordered<T: Data + Ord>(
    _: &TaskContext,
    e: Erased,
    params: &[u8],
) -> Result<SinkOutput> {
    let p: OrderedParams = codec::decode(params, "take_ordered parameters")?;
    let n = usize::try_from(p.n).unwrap_or(usize::MAX);
    let mut best: Vec<T> = Vec::new();
    for b in input::<T>(e)?.0 {
        best.extend(b?);
        if best.len() > n.saturating_mul(2).max(super::BATCH) {
            keep_first(&mut best, n, p.descending);
        }
    }
    keep_first(&mut best, n, p.descending);
    Ok(SinkOutput::Value(codec::encode(&best)))
}

/// Writes a partition's records as checked frames (a checkpoint's part file).
pub(crate) fn sink_save_frames<T: Data>(
    ctx: &TaskContext,
    e: Erased,
    params: &[u8],
) -> Result<SinkOutput> {
    let params: SaveParams = codec::decode(params, "checkpoint parameters")?;
    let records = input::<T>(e)?.collect_vec()?;
    let bytes = crate::cache::encode_partition(&records);
    crate::io::write_task_output(
        &params.path,
        ctx.partition,
        ctx.attempt,
        |w: &mut dyn Write| {
            w.write_all(&bytes)
                .map_err(|e| Error::io(format!("writing {}", params.path), e))
        },
    )?;
    Ok(SinkOutput::Value(Vec::new()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_first_keeps_the_smallest_or_largest_sorted() {
        let mut v = vec![5, 1, 9, 3, 7, 3];
        keep_first(&mut v, 3, false);
        assert_eq!(v, vec![1, 3, 3]);
        let mut v = vec![5, 1, 9, 3, 7, 3];
        keep_first(&mut v, 2, true);
        assert_eq!(v, vec![9, 7]);
        let mut v = vec![2, 1];
        keep_first(&mut v, 10, true);
        assert_eq!(v, vec![2, 1]);
    }
}
