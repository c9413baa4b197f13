//! Accumulators: values tasks add to and the driver reads. An
//! [`Accumulator`] serializes as its id and reaches tasks the way a
//! broadcast does, as a `map_with` parameter (closures capture nothing).
//!
//! A task's additions are kept apart while it runs and travel back with its
//! result; the driver merges them only for the first successful attempt of
//! each partition of a result stage, and of each map partition of a shuffle,
//! so a retried, duplicated or recomputed task counts once. This is Spark's
//! promise for actions, kept here for shuffle map tasks too; a cached
//! partition read again adds nothing, since nothing is computed.

use std::any::Any;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::marker::PhantomData;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::{Data, Result, codec};

/// A value that accumulates: `Default` is its zero, `merge` adds another to it
/// (it should be associative and commutative: tasks merge in any order).
pub trait Accumulable: Data + Default {
    /// Adds `other` to `self`.
    fn merge(&mut self, other: Self);
}

macro_rules! add_assign {
    ($($t:ty),*) => {$(
        impl Accumulable for $t {
            fn merge(&mut self, other: Self) {
                *self += other;
            }
        }
    )*};
}
add_assign!(
    u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize, f32, f64
);

/// Collects every value added (in no particular order across tasks).
impl<T: Data> Accumulable for Vec<T> {
    fn merge(&mut self, mut other: Self) {
        self.append(&mut other);
    }
}

/// Per-key accumulation, e.g. a histogram.
impl<K: Data + Ord, V: Accumulable> Accumulable for BTreeMap<K, V> {
    fn merge(&mut self, other: Self) {
        for (k, v) in other {
            self.entry(k).or_default().merge(v);
        }
    }
}

/// A shared, add-only value (create it with `Context::accumulator`): tasks
/// call [`Accumulator::add`], the driver reads [`Accumulator::value`].
#[derive(Serialize, Deserialize)]
pub struct Accumulator<T> {
    id: u64,
    #[serde(skip)]
    _t: PhantomData<fn() -> T>,
}

impl<T> Clone for Accumulator<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Accumulator<T> {}

impl<T> std::fmt::Debug for Accumulator<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Accumulator({})", self.id)
    }
}

/// The updates of the task running on this thread, by accumulator id.
type TaskUpdates = HashMap<u64, Box<dyn Pending>>;

/// A task's partial value of one accumulator, with its type erased.
trait Pending: Send {
    fn as_any(&mut self) -> &mut dyn Any;
    fn encode(&self) -> Vec<u8>;
}

impl<T: Accumulable> Pending for T {
    fn as_any(&mut self) -> &mut dyn Any {
        self
    }
    fn encode(&self) -> Vec<u8> {
        codec::encode(self)
    }
}

/// The driver's value of one accumulator and how to merge encoded updates into it.
struct DriverSlot {
    value: Box<dyn Any + Send>,
    merge: fn(&mut dyn Any, &[u8]) -> Result<()>,
}

thread_local! {
    static TASK: RefCell<Option<TaskUpdates>> = const { RefCell::new(None) };
}

static NEXT_ID: AtomicU64 = AtomicU64::new(0);
static DRIVER: Mutex<Option<HashMap<u64, DriverSlot>>> = Mutex::new(None);

fn merge_encoded<T: Accumulable>(value: &mut dyn Any, bytes: &[u8]) -> Result<()> {
    let update: T = codec::decode(bytes, "accumulator update")?;
    value
        .downcast_mut::<T>()
        .expect("an accumulator keeps its type")
        .merge(update);
    Ok(())
}

impl<T: Accumulable> Accumulator<T> {
    /// A new accumulator starting at `initial`, registered in this (driver) process.
    pub(crate) fn register(initial: T) -> Self {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        DRIVER
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert_default()
            .insert(
                id,
                DriverSlot {
                    value: Box::new(initial),
                    merge: merge_encoded::<T>,
                },
            );
        Accumulator {
            id,
            _t: PhantomData,
        }
    }

    /// Adds `v`: inside a task, to that task's updates (counted when the task
    /// succeeds); on the driver, to the value directly.
    pub fn add(&self, v: T) {
        let in_task = TASK.with(|t| {
            let mut t = t.borrow_mut();
            let Some(updates) = t.as_mut() else {
                return Err(v);
            };
            let slot = updates
                .entry(self.id)
                .or_insert_with(|| Box::new(T::default()));
            match slot.as_any().downcast_mut::<T>() {
                Some(acc) => acc.merge(v),
                None => panic!("accumulator {} used with two types", self.id),
            }
            Ok(())
        });
        if let Err(v) = in_task {
            let mut driver = DRIVER.lock().unwrap_or_else(|e| e.into_inner());
            match driver.as_mut().and_then(|d| d.get_mut(&self.id)) {
                Some(slot) => slot
                    .value
                    .downcast_mut::<T>()
                    .expect("an accumulator keeps its type")
                    .merge(v),
                None => panic!(
                    "spindle: accumulator {} used outside a task and outside the driver that made it",
                    self.id
                ),
            }
        }
    }

    /// The value so far: what the driver started with plus the updates of
    /// every task that has succeeded. Read it on the driver, after an action.
    pub fn value(&self) -> T {
        let driver = DRIVER.lock().unwrap_or_else(|e| e.into_inner());
        match driver.as_ref().and_then(|d| d.get(&self.id)) {
            Some(slot) => slot
                .value
                .downcast_ref::<T>()
                .expect("an accumulator keeps its type")
                .clone(),
            None => panic!(
                "spindle: the value of accumulator {} is read on the driver that made it",
                self.id
            ),
        }
    }
}

/// Starts collecting the updates of the task about to run on this thread.
pub(crate) fn begin_task() {
    TASK.with(|t| *t.borrow_mut() = Some(HashMap::new()));
}

/// Stops collecting and returns the task's updates, encoded, by accumulator id.
pub(crate) fn end_task() -> Vec<(u64, Vec<u8>)> {
    let updates = TASK.with(|t| t.borrow_mut().take()).unwrap_or_default();
    let mut out: Vec<(u64, Vec<u8>)> = updates
        .into_iter()
        .map(|(id, v)| (id, v.encode()))
        .collect();
    out.sort_by_key(|(id, _)| *id);
    out
}

/// Merges the updates of one counted task into the driver's values. Updates
/// of accumulators this driver does not know are an error (another binary).
pub(crate) fn apply(updates: &[(u64, Vec<u8>)]) -> Result<()> {
    if updates.is_empty() {
        return Ok(());
    }
    let mut driver = DRIVER.lock().unwrap_or_else(|e| e.into_inner());
    let slots = driver.get_or_insert_default();
    for (id, bytes) in updates {
        let slot = slots.get_mut(id).ok_or_else(|| {
            crate::Error::Task(format!(
                "a task updated accumulator {id}, unknown to the driver"
            ))
        })?;
        (slot.merge)(slot.value.as_mut(), bytes)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_updates_count_only_when_applied_and_driver_adds_directly() {
        let acc = Accumulator::<u64>::register(5);
        acc.add(1);
        assert_eq!(acc.value(), 6);
        begin_task();
        acc.add(10);
        acc.add(20);
        let updates = end_task();
        assert_eq!(acc.value(), 6, "not counted before the driver applies it");
        apply(&updates).unwrap();
        assert_eq!(acc.value(), 36);
        // A failed attempt's updates are dropped with its result.
        begin_task();
        acc.add(1000);
        let _ = end_task();
        assert_eq!(acc.value(), 36);
    }

    #[test]
    fn maps_merge_per_key_and_unknown_ids_are_refused() {
        let acc = Accumulator::<BTreeMap<String, u32>>::register(BTreeMap::new());
        begin_task();
        acc.add(BTreeMap::from([("a".into(), 1)]));
        acc.add(BTreeMap::from([("a".into(), 2), ("b".into(), 1)]));
        apply(&end_task()).unwrap();
        assert_eq!(
            acc.value(),
            BTreeMap::from([("a".into(), 3), ("b".into(), 1)])
        );
        let e = apply(&[(u64::MAX, vec![0])]).unwrap_err().to_string();
        assert!(e.contains("unknown to the driver"), "{e}");
    }
}
