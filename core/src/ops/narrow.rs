//! Narrow transformations: one input partition gives one output partition.

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::cache::{StorageLevel, encode_partition};
use crate::codec;
use crate::entry::conjure;
use crate::plan::NodeSpec;
use crate::task::{Erased, Stream, TaskContext, erase};
use crate::{Data, Error, Result};

use super::{BATCH, log_line};

pub(crate) fn compute_map<T: Data, U: Data, F: Fn(T) -> U + Copy + Send + Sync + 'static>(
    ctx: &TaskContext,
    spec: &NodeSpec,
    p: u32,
) -> Result<Erased> {
    let f: F = conjure();
    let input = ctx.parent::<T>(spec, 0, p)?;
    Ok(erase(
        input.map_batches(move |b| b.into_iter().map(f).collect()),
    ))
}

pub(crate) fn compute_filter<T: Data, F: Fn(&T) -> bool + Copy + Send + Sync + 'static>(
    ctx: &TaskContext,
    spec: &NodeSpec,
    p: u32,
) -> Result<Erased> {
    let f: F = conjure();
    let input = ctx.parent::<T>(spec, 0, p)?;
    Ok(erase(input.map_batches(move |mut b| {
        b.retain(f);
        b
    })))
}

pub(crate) fn compute_flat_map<
    T: Data,
    U: Data,
    I: IntoIterator<Item = U>,
    F: Fn(T) -> I + Copy + Send + Sync + 'static,
>(
    ctx: &TaskContext,
    spec: &NodeSpec,
    p: u32,
) -> Result<Erased> {
    let f: F = conjure();
    let input = ctx.parent::<T>(spec, 0, p)?;
    Ok(erase(input.map_batches(move |b| {
        let mut out = Vec::with_capacity(b.len() * 2);
        for x in b {
            out.extend(f(x));
        }
        out
    })))
}

pub(crate) fn compute_map_with<
    P: Data,
    T: Data,
    U: Data,
    F: Fn(&P, T) -> U + Copy + Send + Sync + 'static,
>(
    ctx: &TaskContext,
    spec: &NodeSpec,
    p: u32,
) -> Result<Erased> {
    let f: F = conjure();
    let params: P = codec::decode(&spec.params, "map_with parameters")?;
    let input = ctx.parent::<T>(spec, 0, p)?;
    Ok(erase(input.map_batches(move |b| {
        b.into_iter().map(|x| f(&params, x)).collect()
    })))
}

pub(crate) fn compute_flat_map_with<
    P: Data,
    T: Data,
    U: Data,
    I: IntoIterator<Item = U>,
    F: Fn(&P, T) -> I + Copy + Send + Sync + 'static,
>(
    ctx: &TaskContext,
    spec: &NodeSpec,
    p: u32,
) -> Result<Erased> {
    let f: F = conjure();
    let params: P = codec::decode(&spec.params, "flat_map_with parameters")?;
    let input = ctx.parent::<T>(spec, 0, p)?;
    Ok(erase(input.map_batches(move |b| {
        let mut out = Vec::with_capacity(b.len());
        for x in b {
            out.extend(f(&params, x));
        }
        out
    })))
}

/// The records of a partition one by one, for `map_partitions`; a failure
/// upstream ends the iteration and is reported after the user's function.
pub struct Records<T> {
    batches: Box<dyn Iterator<Item = Result<Vec<T>>> + Send>,
    current: std::vec::IntoIter<T>,
    error: Arc<Mutex<Option<Error>>>,
}

impl<T> Iterator for Records<T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        loop {
            if let Some(x) = self.current.next() {
                return Some(x);
            }
            match self.batches.next()? {
                Ok(b) => self.current = b.into_iter(),
                Err(e) => {
                    *self.error.lock().expect("error slot") = Some(e);
                    return None;
                }
            }
        }
    }
}

pub(crate) fn compute_map_partitions<
    T: Data,
    U: Data,
    I: IntoIterator<Item = U>,
    F: Fn(u32, Records<T>) -> I + Copy + Send + Sync + 'static,
>(
    ctx: &TaskContext,
    spec: &NodeSpec,
    p: u32,
) -> Result<Erased>
where
    I::IntoIter: Send + 'static,
{
    let f: F = conjure();
    let input = ctx.parent::<T>(spec, 0, p)?;
    let error = Arc::new(Mutex::new(None));
    let records = Records {
        batches: input.0,
        current: Vec::new().into_iter(),
        error: error.clone(),
    };
    let mut out = f(p, records).into_iter();
    let mut done = false;
    let iter = std::iter::from_fn(move || {
        if done {
            return None;
        }
        let batch: Vec<U> = out.by_ref().take(BATCH).collect();
        if let Some(e) = error.lock().expect("error slot").take() {
            done = true;
            return Some(Err(e));
        }
        if batch.is_empty() {
            done = true;
            return None;
        }
        Some(Ok(batch))
    });
    Ok(erase(Stream::<U>(Box::new(iter))))
}

/// Parameters of a union: how many partitions each parent has.
#[derive(Serialize, Deserialize)]
pub(crate) struct UnionParams {
    pub parent_partitions: Vec<u32>,
}

pub(crate) fn compute_union<T: Data>(ctx: &TaskContext, spec: &NodeSpec, p: u32) -> Result<Erased> {
    let params: UnionParams = codec::decode(&spec.params, "union parameters")?;
    let mut local = p;
    for (i, n) in params.parent_partitions.iter().enumerate() {
        if local < *n {
            return Ok(erase(ctx.parent::<T>(spec, i, local)?));
        }
        local -= n;
    }
    Err(Error::Task(format!("union has no partition {p}")))
}

/// Estimated bytes of a partition held in memory: its sampled encoded size
/// plus the records' own size.
fn estimate_size<T: Data>(v: &[T]) -> usize {
    let sample = v.len().min(32);
    if sample == 0 {
        return 64;
    }
    let mut buf = Vec::new();
    for x in &v[..sample] {
        codec::encode_into(x, &mut buf);
    }
    64 + v.len() * (std::mem::size_of::<T>() + buf.len() / sample)
}

fn spill_vec<T: Data>(v: &(dyn std::any::Any + Send + Sync)) -> Vec<u8> {
    let v = v
        .downcast_ref::<Vec<T>>()
        .expect("cache entry of its own type");
    encode_partition(v)
}

fn stream_of<T: Data>(v: Arc<Vec<T>>) -> Stream<T> {
    let mut at = 0;
    Stream(Box::new(std::iter::from_fn(move || {
        if at >= v.len() {
            return None;
        }
        let end = (at + BATCH).min(v.len());
        let b = v[at..end].to_vec();
        at = end;
        Some(Ok(b))
    })))
}

/// A cached dataset: the partition from the block manager, or computed from
/// the parent and kept (so a lost or evicted partition is recomputed).
pub(crate) fn compute_cached<T: Data>(
    ctx: &TaskContext,
    spec: &NodeSpec,
    p: u32,
) -> Result<Erased> {
    let level: StorageLevel = codec::decode(&spec.params, "storage level")?;
    let key = (spec.id, p);
    let cache = ctx.services.cache();
    if level != StorageLevel::DiskOnly
        && let Some(v) = cache.get_memory(key)
        && let Ok(v) = v.downcast::<Vec<T>>()
    {
        return Ok(erase(stream_of(v)));
    }
    if level != StorageLevel::MemoryOnly
        && let Some(read) = cache.get_disk::<T>(key)
    {
        match read {
            Ok(v) => return Ok(erase(stream_of(Arc::new(v)))),
            // A damaged partition is a miss (as Spark treats a corrupt
            // block): recomputed below, never used, never a task failure.
            Err(e) => log_line(format!(
                "spindle: cached partition {p} of {} is unusable and is recomputed: {e}",
                spec.name
            )),
        }
    }
    let data = Arc::new(ctx.parent::<T>(spec, 0, p)?.collect_vec()?);
    match level {
        StorageLevel::DiskOnly => cache.put_disk(key, &encode_partition(&data)),
        StorageLevel::MemoryOnly | StorageLevel::MemoryAndDisk => {
            let spill = (level == StorageLevel::MemoryAndDisk).then_some(spill_vec::<T> as _);
            if !cache.put_memory(key, data.clone(), estimate_size(&data), spill) {
                return Ok(erase(stream_of(data)));
            }
        }
    }
    ctx.note_cached(spec.id, p);
    Ok(erase(stream_of(data)))
}
