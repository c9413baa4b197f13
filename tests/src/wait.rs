//! Waiting: async runtimes for synchronous tests, and deadlines for what a cluster does in its
//! own time.

use std::fmt::Debug;
use std::future::Future;
use std::time::{Duration, Instant};

/// How often [`wait_for`] and [`poll`] look again.
const EVERY: Duration = Duration::from_millis(200);

/// A single-threaded tokio runtime (I/O and timers on). One runtime for a test's calls keeps the
/// connections a client opened on it alive between calls.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Runs `f` to completion on a [`runtime`] of its own.
pub fn block_on<F: Future>(f: F) -> F::Output {
    runtime().block_on(f)
}

/// Calls `probe` until it answers `Some`, and returns that; panics after `within`, naming `what`.
pub fn wait_for<T>(what: &str, within: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {within:?} waiting for {what}"
        );
        std::thread::sleep(EVERY);
    }
}

/// [`wait_for`] a condition.
pub fn wait_until(what: &str, within: Duration, mut done: impl FnMut() -> bool) {
    wait_for(what, within, || done().then_some(()))
}

/// Calls `probe` until it answers `Ok`, and returns that; panics after `within`, naming `what`
/// and the last `Err` answer.
pub async fn poll<T, L: Debug>(
    what: &str,
    within: Duration,
    mut probe: impl AsyncFnMut() -> Result<T, L>,
) -> T {
    let deadline = Instant::now() + within;
    loop {
        match probe().await {
            Ok(v) => return v,
            Err(last) => assert!(
                Instant::now() < deadline,
                "{what}: not within {within:?}; last seen: {last:?}"
            ),
        }
        tokio::time::sleep(EVERY).await;
    }
}
