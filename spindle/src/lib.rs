//! Spindle: Spark-style distributed datasets in Rust.
//!
//! A driver program is an ordinary binary:
//!
//! ```no_run
//! fn main() {
//!     spindle::main(|ctx| {
//!         let lines = ctx.text_file("input.txt", None)?;
//!         let counts = lines
//!             .flat_map(|l: String| l.split_whitespace().map(str::to_string).collect::<Vec<_>>())
//!             .map(|w| (w, 1u64))
//!             .reduce_by_key(|a, b| a + b)
//!             .collect()?;
//!         println!("{} distinct words", counts.len());
//!         Ok(())
//!     })
//! }
//! ```
//!
//! Run it with `SPINDLE_MASTER=local[2] ./driver` or `spindle submit --master
//! local[2] ./driver`: the same binary is started again as each executor
//! ([`main`] and [`context`] pick the role from the environment), and
//! tasks name the code to run inside it.
//!
//! # Closures capture nothing
//!
//! Every closure given to a [`Dataset`] operation must be zero-sized: it may
//! not capture any variable. This is checked when the program is compiled.
//! A closure such as
//!
//! ```compile_fail
//! # spindle::main(|ctx| {
//! let threshold = 10u64;
//! let big = ctx.range(0, 100, 2).filter(move |x| *x > threshold);
//! # Ok(()) });
//! ```
//!
//! is rejected by `cargo build` with:
//!
//! ```text
//! error[E0080]: evaluation panicked: spindle: a closure given to a Dataset operation
//!               must capture nothing; pass state with map_with(params, ..) or a
//!               Broadcast (see the spindle crate docs)
//! ```
//!
//! (a closure capturing by reference, without `move`, is refused earlier, for
//! not being `'static`). There are two ways to give tasks a value:
//!
//! 1. **`map_with` / `flat_map_with`**: the parameters are serialized into the
//!    task and handed to the closure by reference:
//!    ```no_run
//!    # spindle::main(|ctx| {
//!    let threshold = 10u64;
//!    let flags = ctx.range(0, 100, 2).map_with(threshold, |t, x| x > *t);
//!    # Ok(()) });
//!    ```
//! 2. **Broadcast values**, for larger data sent once per executor:
//!    ```no_run
//!    # spindle::main(|ctx| {
//!    let names = ctx.broadcast(&vec!["zero".to_string(), "one".to_string()]);
//!    let named = ctx.range(0, 2, 1).map_with(names, |n, i| n.value()[i as usize].clone());
//!    # Ok(()) });
//!    ```
//!
//! Values flow back from tasks through **accumulators**, passed the same way:
//!
//! ```no_run
//! # spindle::main(|ctx| {
//! let blank = ctx.accumulator(0u64);
//! let lines = ctx.text_file("input.txt", None)?;
//! let words = lines
//!     .flat_map_with(blank, |b, l: String| {
//!         if l.trim().is_empty() {
//!             b.add(1);
//!         }
//!         l.split_whitespace().map(str::to_string).collect::<Vec<_>>()
//!     })
//!     .count()?;
//! println!("{words} words, {} blank lines", blank.value());
//! # Ok(()) });
//! ```
//!
//! A task's additions count only if it succeeds, and once per partition:
//! a retried task, or a map task rerun because its shuffle output was lost,
//! does not count twice (Spark promises this for actions only; here it holds
//! for shuffle map stages too). Each job that computes a partition again
//! adds again, as in Spark (cache the dataset to compute it once); a
//! partition read from the cache adds nothing, since nothing runs. Any [`Accumulable`] type works: numbers add, `Vec`s
//! collect, `BTreeMap`s merge per key; implement it for your own.
//!
//! # Operations
//!
//! [`Dataset`] offers what Spark's RDDs do, each built on a few primitives
//! (narrow `map_partitions`, the shuffle with map-side combine, `cogroup`,
//! and actions that fold partitions on the executors):
//!
//! - **transformations**: `map`, `filter`, `flat_map`, `map_partitions` and
//!   their `_with(params, ..)` forms; `union`, `distinct`, `coalesce` (no
//!   shuffle), `repartition`, `sample`, `zip_with_index`, `sort_by`,
//!   `cartesian`, `intersection`, `subtract`;
//! - **pairs**: `reduce_by_key`, `fold_by_key`, `aggregate_by_key`,
//!   `combine_by_key`, `group_by_key`, `partition_by_key`, `sort_by_key`,
//!   `cogroup`, `join`, `left_outer_join`, `right_outer_join`,
//!   `full_outer_join`, `keys`, `values`, `map_values`, `flat_map_values`;
//! - **actions**: `collect`, `count`, `first`, `take`, `take_ordered`,
//!   `top`, `reduce`, `fold`, `aggregate`, `count_by_key`,
//!   `count_by_value`, `collect_as_map`, `lookup`, `foreach`,
//!   `foreach_partition` (and `_with` forms), `save_as_text_file`;
//! - **storage**: `cache`, `persist`, `unpersist`, and `checkpoint`, which
//!   writes the partitions under `Context::set_checkpoint_dir` (local or
//!   `hdfs://`) and returns a dataset read back from there, its lineage cut;
//! - **sources** on [`Context`]: `parallelize`, `range`, `text_file`,
//!   `whole_text_files` and `binary_files` (one record per file), `broadcast`,
//!   `accumulator`.
//!
//! # The allocator
//!
//! With the `thread-cache` feature (on by default) this crate sets the
//! program's global allocator: small blocks, such as the `String` per word a
//! closure makes, are cached per thread in front of the system allocator. A
//! program that sets its own turns the feature off.
//!
//! # Parquet, CSV and JSON lines
//!
//! With the `columnar` feature (on by default), records are your own serde
//! structs, a column per field (`Option` fields nullable):
//! `ctx.parquet_file::<T>(path, None)` reads only the columns `T` names, a
//! partition per row group (or run of small ones) placed by HDFS block
//! locality; `ctx.csv_file::<T>` (with a header line) and `ctx.json_file::<T>`
//! (one object per line) read text as `text_file` does; `save_as_parquet`,
//! `save_as_csv` and `save_as_json` write part files as `save_as_text_file`
//! does.
//!
//! ```no_run
//! #[derive(Clone, serde::Serialize, serde::Deserialize)]
//! struct Visit {
//!     url: String,
//!     ms: u64,
//! }
//! # #[cfg(feature = "columnar")]
//! spindle::main(|ctx| {
//!     let visits = ctx.parquet_file::<Visit>("hdfs:///warehouse/visits", None)?;
//!     visits.filter(|v| v.ms > 1000).save_as_json("hdfs:///reports/slow")?;
//!     Ok(())
//! });
//! ```
//!
//! Actions that need a small job first say so: `sort_by_key` and `sort_by`
//! sample the keys, `zip_with_index` counts the partitions.

#![warn(missing_docs)]
#![allow(clippy::needless_doctest_main)]

/// Small blocks cached per thread ([`spindle_core::alloc`]): a user's
/// closures allocate a `String` per word and free it a moment later.
#[cfg(feature = "thread-cache")]
#[global_allocator]
static ALLOCATOR: spindle_core::alloc::ThreadCache = spindle_core::alloc::ThreadCache;

pub use spindle_contract::Role;
pub use spindle_core::cache::StorageLevel;
pub use spindle_core::io::Codec;
pub use spindle_core::{
    Accumulable, Accumulator, Broadcast, Context, Data, Dataset, Error, Records, Result,
};

/// Advanced: the backend trait and the executor environment contract.
pub mod cluster {
    pub use spindle_core::ExecutorSettings;
    pub use spindle_core::backend::{ClusterBackend, ElasticStats, ExecutorLaunch, LocalBackend};
    pub use spindle_core::env;
}

/// The mark of a driver binary (`spindle_contract::driver_note`): an ELF note that `spindle
/// submit` looks for before uploading a binary. Kept by `#[used]` and by the reference in
/// [`main`] and [`context`], so neither the compiler nor the linker's section GC drops it.
#[used]
#[unsafe(link_section = ".note.spindle")]
static DRIVER_NOTE: spindle_contract::driver_note::DriverNote =
    spindle_contract::driver_note::DRIVER_NOTE;

/// Runs a driver program: in an executor process this never returns (the
/// executor serves tasks until the driver stops); in the driver it creates
/// the [`Context`] from the environment, runs `job`, stops the executors and
/// exits, printing an error as one line with a non-zero status.
pub fn main(job: impl FnOnce(&Context) -> Result<()>) {
    std::hint::black_box(&DRIVER_NOTE);
    spindle_contract::logging::init();
    let result = match Role::from_env() {
        Role::Executor => run_executor(),
        // Under YARN in cluster mode: this process is the application master
        // and runs the driver; it never returns.
        Role::ApplicationMaster => spindle_am::run(job),
        // SPINDLE_MASTER=yarn: the driver of a client-mode YARN application;
        // its executors run in containers.
        Role::ClientDriver => spindle_am::client_mode::context_from_env()
            .map_err(|e| Error::Config(e.to_string()))
            .and_then(|ctx| {
                let r = job(&ctx);
                spindle_am::client_mode::finish(r.as_ref().map(|_| ()).map_err(|e| e.to_string()));
                ctx.stop();
                r
            }),
        Role::LocalDriver => Context::from_env().and_then(|ctx| {
            let conf =
                spindle_contract::Conf::from_env().map_err(|e| Error::Config(e.to_string()))?;
            // The history is not the job: a log that cannot start costs a warning.
            let log = ctx
                .start_event_log(spindle_core::eventlog::AppInfo::local(&conf))
                .unwrap_or_else(|e| {
                    tracing::warn!("no event log: {e}");
                    None
                });
            let r = job(&ctx);
            ctx.stop();
            if let Some(log) = log {
                match &r {
                    Ok(()) => log.end(
                        "SUCCEEDED",
                        spindle_contract::outcome::Reason::Succeeded,
                        "",
                    ),
                    Err(e) => log.end(
                        "FAILED",
                        spindle_contract::outcome::Reason::DriverError,
                        e.to_string().lines().next().unwrap_or_default(),
                    ),
                }
            }
            r
        }),
    };
    if let Err(e) = result {
        // The program's one-line error for its user, as the CLI prints its own: not a log record.
        eprintln!("spindle: {e}");
        std::process::exit(1);
    }
}

/// Creates the driver's context, or, in an executor process, runs the
/// executor and never returns. Prefer [`main`].
pub fn context() -> Result<Context> {
    std::hint::black_box(&DRIVER_NOTE);
    spindle_contract::logging::init();
    if Role::from_env() == Role::Executor {
        run_executor();
    }
    Context::from_env()
}

/// Runs this process as an executor; in a YARN container the secret comes
/// from the container's credentials file.
fn run_executor() -> ! {
    match spindle_am::executor_env() {
        None => spindle_executor::run_from_env(),
        Some(env) => {
            let r = env
                .map_err(|e| e.to_string())
                .and_then(|env| spindle_executor::run(env).map_err(|e| e.to_string()));
            if let Err(e) = r {
                tracing::error!("{e}");
                std::process::exit(1);
            }
            std::process::exit(0)
        }
    }
}
