//! Running one task inside an executor: the context compute functions see,
//! the services the executor runtime provides, and panic capture.

use std::any::Any;
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::cache::BlockCache;
use crate::plan::{
    NodeSpec, Parent, ShuffleInput, StagePlan, TaskInputs, TaskMetrics, TaskOutcome, TaskValue,
};
use crate::{Error, Result};

/// A partition's records as they flow between operations: batches, so that
/// dynamic dispatch happens once per batch, never per record.
pub struct Stream<T>(pub Batches<T>);

/// Batches of records, each batch or the failure that ended the stream.
pub type Batches<T> = Box<dyn Iterator<Item = Result<Vec<T>>> + Send>;

impl<T: Send + 'static> Stream<T> {
    /// A stream over batches already in memory.
    pub fn from_batches(batches: Vec<Vec<T>>) -> Self {
        Stream(Box::new(batches.into_iter().map(Ok)))
    }

    /// Applies `f` to every batch.
    pub fn map_batches<U: Send + 'static>(
        self,
        mut f: impl FnMut(Vec<T>) -> Vec<U> + Send + 'static,
    ) -> Stream<U> {
        Stream(Box::new(self.0.map(move |b| b.map(&mut f))))
    }

    /// Reads every record into memory.
    pub fn collect_vec(self) -> Result<Vec<T>> {
        let mut out = Vec::new();
        for b in self.0 {
            let mut b = b?;
            if out.is_empty() {
                out = b;
            } else {
                out.append(&mut b);
            }
        }
        Ok(out)
    }
}

/// A partition's records pushed into a consumer a chunk at a time: how
/// narrow operations (map, filter, flat_map and their `_with` forms) run
/// fused, each record passed from the source through every operation to
/// the sink in one pass, with no collection between operations.
pub struct Push<T>(PushFn<T>);

/// Pushes the next chunk of records into the consumer; false once nothing is left.
type PushFn<T> = Box<dyn FnMut(&mut dyn FnMut(T)) -> Result<bool> + Send>;

impl<T: Send + 'static> Push<T> {
    /// A push source from a function that pushes one chunk per call and
    /// answers false (having pushed nothing) at the end.
    pub fn new(f: impl FnMut(&mut dyn FnMut(T)) -> Result<bool> + Send + 'static) -> Self {
        Push(Box::new(f))
    }

    /// Pushes the next chunk into `sink`; false at the end.
    pub fn next_chunk(&mut self, sink: &mut dyn FnMut(T)) -> Result<bool> {
        (self.0)(sink)
    }

    /// Pushes every record into `sink`, which may fail: its first failure
    /// ends the pass (checked after each chunk) and is returned.
    pub fn try_for_each(mut self, mut sink: impl FnMut(T) -> Result<()>) -> Result<()> {
        let mut failed: Option<Error> = None;
        loop {
            let more = self.next_chunk(&mut |x| {
                if failed.is_none()
                    && let Err(e) = sink(x)
                {
                    failed = Some(e);
                }
            })?;
            if let Some(e) = failed {
                return Err(e);
            }
            if !more {
                return Ok(());
            }
        }
    }

    /// The records as batches, one per chunk (empty chunks skipped).
    pub fn into_stream(mut self) -> Stream<T> {
        let mut done = false;
        Stream(Box::new(std::iter::from_fn(move || {
            while !done {
                let mut batch = Vec::new();
                match self.next_chunk(&mut |x| batch.push(x)) {
                    Err(e) => {
                        done = true;
                        return Some(Err(e));
                    }
                    Ok(more) => {
                        done = !more;
                        if !batch.is_empty() {
                            return Some(Ok(batch));
                        }
                    }
                }
            }
            None
        })))
    }
}

impl<T: Send + 'static> Stream<T> {
    /// The batches as chunks of a push source.
    pub fn into_push(self) -> Push<T> {
        let mut batches = self.0;
        Push::new(move |sink| match batches.next() {
            None => Ok(false),
            Some(Err(e)) => Err(e),
            Some(Ok(b)) => {
                for x in b {
                    sink(x);
                }
                Ok(true)
            }
        })
    }
}

/// A stream with its type erased, as passed through fn pointers: a
/// [`Stream`] or a [`Push`] of the node's record type.
pub type Erased = Box<dyn Any + Send>;

/// Erases a stream's type.
pub fn erase<T: Send + 'static>(s: Stream<T>) -> Erased {
    Box::new(s)
}

/// Erases a push source's type.
pub fn erase_push<T: Send + 'static>(p: Push<T>) -> Erased {
    Box::new(p)
}

/// The records of an erased stream or push source as batches, or None when
/// they are not of type `T`.
pub(crate) fn unerase_stream<T: Send + 'static>(e: Erased) -> Option<Stream<T>> {
    match e.downcast::<Stream<T>>() {
        Ok(s) => Some(*s),
        Err(e) => e.downcast::<Push<T>>().ok().map(|p| p.into_stream()),
    }
}

/// The records of an erased stream or push source as a push source, or None
/// when they are not of type `T`.
pub(crate) fn unerase_push<T: Send + 'static>(e: Erased) -> Option<Push<T>> {
    match e.downcast::<Push<T>>() {
        Ok(p) => Some(*p),
        Err(e) => e.downcast::<Stream<T>>().ok().map(|s| s.into_push()),
    }
}

/// What a sink produced.
pub enum SinkOutput {
    /// The action's per-partition result.
    Value(Vec<u8>),
    /// A shuffle's map side wrote its blocks.
    MapOutput {
        /// Bytes written for each reducer.
        sizes: Vec<u64>,
        /// Their sum.
        bytes: u64,
    },
}

/// A sequence of shuffle blocks: (map id, the block's bytes).
pub type BlockIter = Box<dyn Iterator<Item = Result<(u32, Vec<u8>)>> + Send>;

/// What the executor runtime offers to tasks.
pub trait ExecutorServices: Send + Sync + 'static {
    /// This executor's id.
    fn executor_id(&self) -> &str;
    /// A local directory for spills and scratch files.
    fn scratch_dir(&self) -> &Path;
    /// Where this executor keeps the block of (shuffle, map, reducer).
    fn shuffle_path(&self, shuffle_id: u32, map_id: u32, reduce_id: u32) -> PathBuf;
    /// Streams blocks held by another executor.
    fn fetch_blocks(
        &self,
        address: &str,
        shuffle_id: u32,
        map_ids: Vec<u32>,
        reduce_id: u32,
    ) -> Result<BlockIter>;
    /// A blob held by the driver (parallelized data, broadcast values).
    fn blob(&self, blob_id: u64, index: u32) -> Result<Vec<u8>>;
    /// The block manager for cached partitions.
    fn cache(&self) -> &BlockCache;
    /// Bytes an aggregation may hold in memory before it spills to disk.
    fn shuffle_memory(&self) -> usize;
}

/// What a running task sees.
pub struct TaskContext {
    /// The stage the task belongs to.
    pub plan: Arc<StagePlan>,
    /// Where the task's shuffle blocks are.
    pub inputs: TaskInputs,
    /// The executor's services (shuffle files, blobs, cache).
    pub services: Arc<dyn ExecutorServices>,
    /// The partition of the stage's root the task computes.
    pub partition: u32,
    /// The attempt's number, from 0.
    pub attempt: u32,
    pub(crate) cached: Mutex<Vec<(u32, u32)>>,
    pub(crate) read_back: Mutex<Vec<(u32, u32)>>,
    pub(crate) shuffle_read: std::sync::atomic::AtomicU64,
    /// Set when the task's job is cancelled; checked between batches.
    pub cancel: Arc<AtomicBool>,
}

impl TaskContext {
    /// A context for attempt `attempt` of `partition` of `plan`, with nothing
    /// cached, read back or read from shuffles yet.
    pub(crate) fn new(
        plan: Arc<StagePlan>,
        inputs: TaskInputs,
        services: Arc<dyn ExecutorServices>,
        partition: u32,
        attempt: u32,
        cancel: Arc<AtomicBool>,
    ) -> Self {
        TaskContext {
            plan,
            inputs,
            services,
            partition,
            attempt,
            cached: Mutex::new(Vec::new()),
            read_back: Mutex::new(Vec::new()),
            shuffle_read: Default::default(),
            cancel,
        }
    }

    /// Computes a partition of a node of this stage.
    pub fn compute<T: Send + 'static>(&self, node_id: u32, partition: u32) -> Result<Stream<T>> {
        let spec = self.plan.node(node_id)?;
        let f = spec.compute.resolve();
        let erased = f(self, spec, partition)?;
        let Stream(batches) = downcast::<T>(erased, spec)?;
        // Every batch passing between two operations checks for cancellation.
        let cancel = self.cancel.clone();
        let job = self.plan.job_id;
        Ok(Stream(Box::new(batches.map(move |b| {
            if cancel.load(Ordering::Relaxed) {
                Err(cancelled(job))
            } else {
                b
            }
        }))))
    }

    /// Fails with `Error::Cancelled` once the task's job is cancelled.
    pub fn check_cancelled(&self) -> Result<()> {
        if self.cancel.load(Ordering::Relaxed) {
            Err(cancelled(self.plan.job_id))
        } else {
            Ok(())
        }
    }

    /// Computes a partition of a node of this stage as a push source, so
    /// that the caller runs fused with it.
    pub fn compute_push<T: Send + 'static>(&self, node_id: u32, partition: u32) -> Result<Push<T>> {
        let spec = self.plan.node(node_id)?;
        let f = spec.compute.resolve();
        let erased = f(self, spec, partition)?;
        let mut input = unerase_push::<T>(erased).ok_or_else(|| unexpected(spec))?;
        // Every chunk passing between two operations checks for cancellation.
        let cancel = self.cancel.clone();
        let job = self.plan.job_id;
        Ok(Push::new(move |sink| {
            if cancel.load(Ordering::Relaxed) {
                return Err(cancelled(job));
            }
            input.next_chunk(sink)
        }))
    }

    /// The `i`-th parent of `spec` (a narrow dependency) as a push source.
    pub fn parent_push<T: Send + 'static>(
        &self,
        spec: &NodeSpec,
        i: usize,
        partition: u32,
    ) -> Result<Push<T>> {
        match spec.parents.get(i) {
            Some(Parent::Node(id)) => self.compute_push(*id, partition),
            _ => Err(Error::Task(format!(
                "node {} has no narrow parent {i}",
                spec.name
            ))),
        }
    }

    /// Computes a partition of the `i`-th parent of `spec` (a narrow dependency).
    pub fn parent<T: Send + 'static>(
        &self,
        spec: &NodeSpec,
        i: usize,
        partition: u32,
    ) -> Result<Stream<T>> {
        match spec.parents.get(i) {
            Some(Parent::Node(id)) => self.compute(*id, partition),
            _ => Err(Error::Task(format!(
                "node {} has no narrow parent {i}",
                spec.name
            ))),
        }
    }

    /// The shuffle id of the `i`-th parent of `spec` (a shuffle dependency).
    pub fn shuffle_parent(&self, spec: &NodeSpec, i: usize) -> Result<u32> {
        match spec.parents.get(i) {
            Some(Parent::Shuffle { shuffle_id }) => Ok(*shuffle_id),
            _ => Err(Error::Task(format!(
                "node {} has no shuffle parent {i}",
                spec.name
            ))),
        }
    }

    /// Where this task's blocks of a shuffle are.
    pub fn shuffle_input(&self, shuffle_id: u32) -> Result<&ShuffleInput> {
        self.inputs
            .shuffles
            .iter()
            .find(|s| s.shuffle_id == shuffle_id)
            .ok_or_else(|| {
                Error::Task(format!(
                    "task was given no locations for shuffle {shuffle_id}"
                ))
            })
    }

    pub(crate) fn note_cached(&self, node: u32, partition: u32) {
        self.cached
            .lock()
            .expect("cache list")
            .push((node, partition));
    }

    /// The file in the cluster's file system holding a cached partition, if
    /// its executor left it there.
    pub(crate) fn cached_file(&self, node: u32, partition: u32) -> Option<&str> {
        self.inputs
            .cached_files
            .iter()
            .find(|(n, p, _)| (*n, *p) == (node, partition))
            .map(|f| f.2.as_str())
    }

    /// A cached partition was read back from the cluster's file system and
    /// is kept here now.
    pub(crate) fn note_read_back(&self, node: u32, partition: u32) {
        self.read_back
            .lock()
            .expect("cache list")
            .push((node, partition));
    }
}

fn downcast<T: Send + 'static>(e: Erased, spec: &NodeSpec) -> Result<Stream<T>> {
    unerase_stream::<T>(e).ok_or_else(|| unexpected(spec))
}

fn unexpected(spec: &NodeSpec) -> Error {
    Error::Task(format!(
        "node {} produced records of an unexpected type",
        spec.name
    ))
}

fn cancelled(job: u64) -> Error {
    Error::Cancelled {
        job,
        reason: "stopped on the executor".into(),
    }
}

thread_local! {
    static PANIC_AT: RefCell<Option<String>> = const { RefCell::new(None) };
    /// The cancel flag of the task running on this thread.
    static CANCEL: RefCell<Option<Arc<AtomicBool>>> = const { RefCell::new(None) };
}

/// Whether the task running on this thread was cancelled: output writers
/// check it before they commit, so a cancelled job leaves no output.
pub fn current_task_cancelled() -> bool {
    CANCEL.with(|c| {
        c.borrow()
            .as_ref()
            .is_some_and(|f| f.load(Ordering::Relaxed))
    })
}

/// Installs a panic hook that keeps the location of a panic for the task
/// report instead of printing it; other threads' panics print as usual.
pub fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let in_task = PANIC_AT.with(|p| {
            let mut p = p.borrow_mut();
            if p.is_some() {
                let loc = info
                    .location()
                    .map(|l| format!("{}:{}", l.file(), l.line()))
                    .unwrap_or_default();
                *p = Some(loc);
                true
            } else {
                false
            }
        });
        if !in_task {
            previous(info);
        }
    }));
}

/// Runs one task to its outcome; a panic in user code becomes `Failed`.
pub fn run_task(
    plan: Arc<StagePlan>,
    inputs: TaskInputs,
    partition: u32,
    attempt: u32,
    services: Arc<dyn ExecutorServices>,
    cancel: Arc<AtomicBool>,
) -> TaskOutcome {
    let start = Instant::now();
    if cancel.load(Ordering::Relaxed) {
        return TaskOutcome::Cancelled;
    }
    if let Err(e) = crate::entry::check_probe(plan.probe) {
        return TaskOutcome::Failed {
            message: e.to_string(),
        };
    }
    let ctx = TaskContext::new(plan, inputs, services, partition, attempt, cancel.clone());
    CANCEL.with(|c| *c.borrow_mut() = Some(cancel.clone()));
    PANIC_AT.with(|p| *p.borrow_mut() = Some(String::new()));
    crate::accumulator::begin_task();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let stream = ctx.compute_erased_root()?;
        let sink = ctx.plan.sink.resolve();
        sink(&ctx, stream, &ctx.plan.sink_params)
    }));
    let location = PANIC_AT.with(|p| p.borrow_mut().take()).unwrap_or_default();
    let accumulators = crate::accumulator::end_task();
    CANCEL.with(|c| c.borrow_mut().take());
    if cancel.load(Ordering::Relaxed) {
        // Whatever it produced is discarded.
        return TaskOutcome::Cancelled;
    }
    let mut metrics = TaskMetrics {
        run_micros: start.elapsed().as_micros() as u64,
        shuffle_bytes_read: ctx.shuffle_read.load(std::sync::atomic::Ordering::Relaxed),
        ..Default::default()
    };
    match result {
        Ok(Ok(out)) => {
            let value = match out {
                SinkOutput::Value(v) => TaskValue::Result(v),
                SinkOutput::MapOutput { sizes, bytes } => {
                    metrics.shuffle_bytes_written = bytes;
                    TaskValue::MapOutput(sizes)
                }
            };
            let cached = std::mem::take(&mut *ctx.cached.lock().expect("cache list"));
            let read_back = std::mem::take(&mut *ctx.read_back.lock().expect("cache list"));
            TaskOutcome::Success {
                value,
                cached,
                read_back,
                accumulators,
                metrics,
            }
        }
        Ok(Err(Error::FetchFailed {
            shuffle_id,
            executor_id,
            message,
        })) => TaskOutcome::FetchFailed {
            shuffle_id,
            executor_id,
            message,
        },
        Ok(Err(Error::Cancelled { .. })) => TaskOutcome::Cancelled,
        Ok(Err(e)) => TaskOutcome::Failed {
            message: e.to_string(),
        },
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a non-string panic payload".into());
            let at = if location.is_empty() {
                String::new()
            } else {
                format!(" at {location}")
            };
            TaskOutcome::Failed {
                message: format!("user code panicked{at}: {what}"),
            }
        }
    }
}

impl TaskContext {
    fn compute_erased_root(&self) -> Result<Erased> {
        let spec = self.plan.node(self.plan.root)?;
        let f = spec.compute.resolve();
        f(self, spec, self.partition)
    }
}
