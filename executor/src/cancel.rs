//! Cancel flags of the jobs whose tasks run here: the driver's CancelJob
//! call sets them, and tasks check them between batches.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Cancelled job ids remembered, so a task arriving after its job's cancel
/// call stops at once (job ids only grow; the oldest are forgotten).
const REMEMBERED: usize = 1024;

#[derive(Default)]
pub(crate) struct JobFlags {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Running tasks per job: the job's flag and how many tasks hold it.
    running: HashMap<u64, (Arc<AtomicBool>, usize)>,
    cancelled: BTreeSet<u64>,
}

/// A running task's hold on its job's flag; released when dropped.
pub(crate) struct TaskFlag {
    jobs: Arc<JobFlags>,
    job: u64,
    pub flag: Arc<AtomicBool>,
}

impl Drop for TaskFlag {
    fn drop(&mut self) {
        let mut s = self.jobs.state.lock().expect("job flags");
        if let Some((_, n)) = s.running.get_mut(&self.job) {
            *n -= 1;
            if *n == 0 {
                s.running.remove(&self.job);
            }
        }
    }
}

impl JobFlags {
    /// The flag for a task of `job` starting now.
    pub(crate) fn task_started(self: &Arc<Self>, job: u64) -> TaskFlag {
        let mut s = self.state.lock().expect("job flags");
        let was_cancelled = s.cancelled.contains(&job);
        let (flag, n) = s
            .running
            .entry(job)
            .or_insert_with(|| (Arc::new(AtomicBool::new(was_cancelled)), 0));
        *n += 1;
        TaskFlag {
            jobs: self.clone(),
            job,
            flag: flag.clone(),
        }
    }

    /// Stops the running and future tasks of `job`.
    pub(crate) fn cancel(&self, job: u64) {
        let mut s = self.state.lock().expect("job flags");
        if let Some((flag, _)) = s.running.get(&job) {
            flag.store(true, Ordering::Relaxed);
        }
        s.cancelled.insert(job);
        while s.cancelled.len() > REMEMBERED {
            s.cancelled.pop_first();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancel_reaches_running_and_later_tasks_of_that_job_only() {
        let jobs = Arc::new(JobFlags::default());
        let a = jobs.task_started(1);
        let other = jobs.task_started(2);
        jobs.cancel(1);
        assert!(a.flag.load(Ordering::Relaxed));
        assert!(!other.flag.load(Ordering::Relaxed));
        drop(a);
        assert!(jobs.task_started(1).flag.load(Ordering::Relaxed));
        assert!(!jobs.state.lock().unwrap().running.contains_key(&1));
    }
}
