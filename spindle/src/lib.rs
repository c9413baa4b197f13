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

#![warn(missing_docs)]
#![allow(clippy::needless_doctest_main)]

pub use spindle_contract::Role;
pub use spindle_core::cache::StorageLevel;
pub use spindle_core::io::Codec;
pub use spindle_core::{Broadcast, Context, Data, Dataset, Error, Records, Result};

/// Advanced: the backend trait and the executor environment contract.
pub mod cluster {
    pub use spindle_core::ExecutorSettings;
    pub use spindle_core::backend::{ClusterBackend, ExecutorLaunch, LocalBackend};
    pub use spindle_core::env;
}

/// Runs a driver program: in an executor process this never returns (the
/// executor serves tasks until the driver stops); in the driver it creates
/// the [`Context`] from the environment, runs `job`, stops the executors and
/// exits, printing an error as one line with a non-zero status.
pub fn main(job: impl FnOnce(&Context) -> Result<()>) {
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
            let r = job(&ctx);
            ctx.stop();
            r
        }),
    };
    if let Err(e) = result {
        eprintln!("spindle: {e}");
        std::process::exit(1);
    }
}

/// Creates the driver's context, or, in an executor process, runs the
/// executor and never returns. Prefer [`main`].
pub fn context() -> Result<Context> {
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
                eprintln!("spindle executor: {e}");
                std::process::exit(1);
            }
            std::process::exit(0)
        }
    }
}
