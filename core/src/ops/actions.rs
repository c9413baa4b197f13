//! Action sinks: what a result task sends back for its partition.

use std::fmt::Display;
use std::io::Write;

use serde::{Deserialize, Serialize};

use crate::codec;
use crate::entry::conjure;
use crate::task::{Erased, SinkOutput, Stream, TaskContext};
use crate::{Data, Error, Result};

fn input<T: 'static>(e: Erased) -> Result<Stream<T>> {
    e.downcast::<Stream<T>>()
        .map(|b| *b)
        .map_err(|_| Error::Task("action input of an unexpected type".into()))
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

pub(crate) fn sink_foreach<T: Data, F: Fn(T) + Copy + Send + Sync + 'static>(
    _: &TaskContext,
    e: Erased,
    _: &[u8],
) -> Result<SinkOutput> {
    let f: F = conjure();
    for b in input::<T>(e)?.0 {
        b?.into_iter().for_each(f);
    }
    Ok(SinkOutput::Value(Vec::new()))
}

/// Parameters of save_as_text_file.
#[derive(Serialize, Deserialize)]
pub(crate) struct SaveParams {
    pub path: String,
    /// Compresses each part file (named with the codec's extension).
    pub codec: Option<crate::io::Codec>,
}

pub(crate) fn sink_save_text<T: Data + Display>(
    ctx: &TaskContext,
    e: Erased,
    params: &[u8],
) -> Result<SinkOutput> {
    let params: SaveParams = codec::decode(params, "save parameters")?;
    let stream = input::<T>(e)?;
    crate::io::write_task_output_with(
        &params.path,
        ctx.partition,
        ctx.attempt,
        params.codec,
        |w: &mut dyn Write| {
            // Lines are formatted into a buffer of our own (no dynamic call
            // per record) and written a batch at a time.
            let mut buf: Vec<u8> = Vec::with_capacity(256 * 1024);
            for b in stream.0 {
                buf.clear();
                for x in b? {
                    writeln!(buf, "{x}").expect("writing to a Vec cannot fail");
                }
                w.write_all(&buf)
                    .map_err(|e| Error::io(format!("writing {}", params.path), e))?;
            }
            Ok(())
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
