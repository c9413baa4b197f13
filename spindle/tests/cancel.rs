//! Job cancellation end to end in local mode, with real executor processes
//! (this test binary is the driver and, started again, each executor):
//! a long job cancelled from another thread returns `Error::Cancelled`
//! within a bounded time and the next job on the same context is right; a
//! cancelled save leaves no output; a job group cancels only its jobs; and
//! SIGINT to a driver cancels its job and stops its executors.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use spindle::{Context, Error};
use spindle_tests::{alive, children_of, local_command, signal, wait_exit};

/// Slow enough that a job over a billion records never ends by itself, and
/// quick enough per batch that a cancel is noticed in well under a second.
fn slow(x: u64) -> u64 {
    std::thread::sleep(Duration::from_micros(20));
    x
}

fn main() {
    // In an executor process this serves tasks and never returns.
    let ctx = spindle::context().expect("context");
    match std::env::var("CANCEL_TEST_CHILD").as_deref() {
        Ok("dropped") => {
            // No context alive any more: a signal still ends the process.
            drop(ctx);
            println!("RUNNING");
            loop {
                std::thread::sleep(Duration::from_secs(1));
            }
        }
        Ok(_) => sigint_child(&ctx),
        Err(_) => {}
    }
    type Test = fn(&Context);
    let tests: [(&str, Test); 5] = [
        (
            "cancel_all_jobs_stops_a_long_job_and_the_context_stays_usable",
            cancel_all,
        ),
        ("a_cancelled_save_leaves_no_output", cancelled_save),
        ("a_job_group_cancels_only_its_own_jobs", job_group),
        ("sigint_cancels_and_stops_the_executors", sigint),
        (
            "sigint_ends_a_driver_whose_context_is_gone",
            sigint_after_drop,
        ),
    ];
    for (name, test) in tests {
        let started = Instant::now();
        test(&ctx);
        println!("test {name} ... ok ({:?})", started.elapsed());
    }
    ctx.stop();
}

/// Cancels every job `after` from now, from another thread.
fn cancel_later(ctx: &Context, after: Duration) -> std::thread::JoinHandle<usize> {
    let ctx = ctx.clone();
    std::thread::spawn(move || {
        std::thread::sleep(after);
        ctx.cancel_all_jobs()
    })
}

fn assert_cancelled<T: std::fmt::Debug>(r: spindle::Result<T>, started: Instant) {
    let elapsed = started.elapsed();
    match r {
        Err(Error::Cancelled { reason, .. }) => {
            assert!(reason.contains("cancelled"), "{reason}")
        }
        other => panic!("expected a cancelled job, got {other:?}"),
    }
    // Cancelled after 1 to 1.5 s. Running tasks get up to 5 s to stop before
    // the driver abandons them: ending well within that shows the executors
    // stopped them.
    assert!(elapsed < Duration::from_secs(4), "took {elapsed:?}");
}

fn cancel_all(ctx: &Context) {
    assert_eq!(ctx.cancel_all_jobs(), 0, "nothing runs yet");
    let canceller = cancel_later(ctx, Duration::from_millis(1500));
    let started = Instant::now();
    let r = ctx.range(0, 1_000_000_000, 4).map(slow).count();
    let err = format!("{:?}", r.as_ref().err());
    assert_cancelled(r, started);
    assert!(started.elapsed() >= Duration::from_millis(1400), "{err}");
    assert_eq!(canceller.join().unwrap(), 1);
    // The same context runs the next job, with the right answer, promptly:
    // the executors' slots were freed and their tasks stopped.
    let next = Instant::now();
    let sum = ctx
        .range(0, 10_000, 4)
        .map(|x| x * 3)
        .reduce(|a, b| a + b)
        .unwrap();
    assert_eq!(sum, Some(3 * (10_000 * 9_999 / 2)));
    assert!(
        next.elapsed() < Duration::from_secs(10),
        "{:?}",
        next.elapsed()
    );
}

fn cancelled_save(ctx: &Context) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let canceller = cancel_later(ctx, Duration::from_millis(1500));
    let started = Instant::now();
    let r = ctx
        .range(0, 1_000_000_000, 4)
        .map(slow)
        .save_as_text_file(out.to_str().unwrap());
    assert_cancelled(r, started);
    assert_eq!(canceller.join().unwrap(), 1);
    // Give a straggling task the chance to write what it should not.
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        !out.exists(),
        "partial output left behind in {}",
        out.display()
    );
    // And the same path can be written by the next job.
    ctx.range(0, 100, 2)
        .save_as_text_file(out.to_str().unwrap())
        .unwrap();
    assert!(out.join("_SUCCESS").exists());
}

fn job_group(ctx: &Context) {
    let (tx, rx) = mpsc::channel();
    let worker = {
        let ctx = ctx.clone();
        std::thread::spawn(move || {
            ctx.set_job_group("slow-ones");
            tx.send(()).unwrap();
            let started = Instant::now();
            let r = ctx.range(0, 1_000_000_000, 2).map(slow).count();
            (r, started)
        })
    };
    rx.recv().unwrap();
    std::thread::sleep(Duration::from_millis(1000));
    assert_eq!(ctx.cancel_job_group("another-group"), 0);
    assert_eq!(ctx.cancel_job_group("slow-ones"), 1);
    let (r, started) = worker.join().unwrap();
    assert_cancelled(r, started);
    // Jobs of this thread (no group) are not affected by the group.
    assert_eq!(ctx.range(0, 1000, 2).count().unwrap(), 1000);
}

/// Starts this binary as a child driver in `mode`, waits for its RUNNING.
fn child_driver(
    mode: &str,
) -> (
    std::process::Child,
    std::io::Lines<BufReader<std::process::ChildStdout>>,
) {
    let exe = std::env::current_exe().unwrap();
    let mut child = local_command(exe)
        .env("CANCEL_TEST_CHILD", mode)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "RUNNING");
    (child, lines)
}

/// Sends SIGINT to `child` and waits (at most 15 s) for it to exit.
fn interrupt(child: &mut std::process::Child) -> std::process::ExitStatus {
    signal(child.id(), "INT");
    wait_exit(child, "the driver after SIGINT", Duration::from_secs(15))
}

fn sigint_after_drop(_ctx: &Context) {
    let (mut child, _lines) = child_driver("dropped");
    let exit = interrupt(&mut child);
    assert_eq!(exit.code(), Some(130));
}

fn sigint(_ctx: &Context) {
    let (mut child, lines) = child_driver("running");
    let pid = child.id();
    let executors = children_of(pid);
    assert_eq!(
        executors.len(),
        2,
        "executors of the child driver: {executors:?}"
    );
    let exit = interrupt(&mut child);
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(exit.code(), Some(130), "stderr:\n{stderr}");
    assert!(
        stderr.contains("SIGINT: cancelling the running jobs"),
        "stderr:\n{stderr}"
    );
    // The job saw the cancel before the process ended.
    let rest: Vec<String> = lines.map_while(|l| l.ok()).collect();
    assert!(
        rest.iter().any(|l| l.starts_with("CANCELLED job")),
        "stdout: {rest:?}\nstderr:\n{stderr}"
    );
    for e in executors {
        assert!(!alive(e), "executor process {e} outlived its driver");
    }
}

/// The driver that the SIGINT test interrupts: runs a job that never ends
/// by itself, reports how it ended, then waits to be ended.
fn sigint_child(ctx: &Context) -> ! {
    // Wait for both executors, so the parent sees them.
    let deadline = Instant::now() + Duration::from_secs(20);
    while ctx.executor_count() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    // Say RUNNING once tasks of the job run, so the signal finds it running.
    let watcher = ctx.clone();
    std::thread::spawn(move || {
        loop {
            let p = watcher.progress();
            if p.stages.iter().any(|s| s.active_tasks > 0) {
                println!("RUNNING");
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    let r = ctx.range(0, 1_000_000_000, 4).map(slow).count();
    match r {
        Err(Error::Cancelled { job, reason }) => println!("CANCELLED job {job}: {reason}"),
        other => println!("UNEXPECTED {other:?}"),
    }
    loop {
        std::thread::sleep(Duration::from_secs(1));
    }
}
