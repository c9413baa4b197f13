//! Broadcast values: kept by the driver, fetched once per executor, used in
//! tasks through `map_with` parameters (a `Broadcast` serializes as its id).

use std::any::Any;
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex, OnceLock};

use serde::{Deserialize, Serialize};

use crate::codec;
use crate::{Data, Result};

type Fetch = Box<dyn Fn(u64) -> Result<Vec<u8>> + Send + Sync>;

static SOURCE: OnceLock<Fetch> = OnceLock::new();
static VALUES: OnceLock<Mutex<HashMap<u64, Arc<dyn Any + Send + Sync>>>> = OnceLock::new();

/// Sets where this process gets broadcast bytes (the driver's blob store, or
/// the driver over gRPC in an executor). The first call wins.
pub fn set_source(f: impl Fn(u64) -> Result<Vec<u8>> + Send + Sync + 'static) {
    let _ = SOURCE.set(Box::new(f));
}

/// A read-only value shipped to every executor once.
#[derive(Serialize, Deserialize)]
pub struct Broadcast<T> {
    id: u64,
    #[serde(skip)]
    _t: PhantomData<fn() -> T>,
}

impl<T> Clone for Broadcast<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Broadcast<T> {}

impl<T> std::fmt::Debug for Broadcast<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Broadcast({})", self.id)
    }
}

impl<T: Data> Broadcast<T> {
    pub(crate) fn new(id: u64) -> Self {
        Broadcast {
            id,
            _t: PhantomData,
        }
    }

    /// The value; fetched from the driver on first use in each executor.
    /// Panics (failing the task, which is retried) if it cannot be fetched.
    pub fn value(&self) -> Arc<T> {
        let values = VALUES.get_or_init(Default::default);
        if let Some(v) = values.lock().expect("broadcast values").get(&self.id)
            && let Ok(v) = v.clone().downcast::<T>()
        {
            return v;
        }
        let source = SOURCE
            .get()
            .expect("spindle: broadcast used outside a Context or executor");
        let bytes = source(self.id)
            .unwrap_or_else(|e| panic!("broadcast {} could not be fetched: {e}", self.id));
        let v: Arc<T> = Arc::new(
            codec::decode(&bytes, "broadcast value")
                .unwrap_or_else(|e| panic!("broadcast {}: {e}", self.id)),
        );
        values
            .lock()
            .expect("broadcast values")
            .insert(self.id, v.clone());
        v
    }
}
