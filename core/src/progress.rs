//! A snapshot of what the scheduler is doing (jobs, stages, task counts), for
//! dashboards such as the YARN application master's web UI. Updated by the
//! scheduler; read with [`crate::Context::progress`]. Each hook also hands a
//! record to the event log ([`crate::eventlog`]).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use spindle_contract::events::Event;

/// One action's job.
#[derive(Clone, Debug, Serialize)]
pub struct JobProgress {
    /// The job's number in this context.
    pub job_id: u64,
    /// The action that started it (`count`, `collect`, …).
    pub name: String,
    /// `RUNNING`, `SUCCEEDED` or `FAILED`.
    pub status: String,
    /// Milliseconds since the epoch.
    pub submitted_ms: u64,
    /// Milliseconds since the epoch, once the job ended.
    pub completed_ms: Option<u64>,
    /// The stages the job ran, in the order they were submitted.
    pub stage_ids: Vec<u32>,
}

/// One stage (one attempt of it: a retried stage appears again).
#[derive(Clone, Debug, Serialize)]
pub struct StageProgress {
    /// The stage's number in the context.
    pub stage_id: u32,
    /// The job it belongs to.
    pub job_id: u64,
    /// `ACTIVE`, `COMPLETE` or `FAILED`.
    pub status: String,
    /// Tasks in the stage (one per partition).
    pub num_tasks: u32,
    /// Tasks running now.
    pub active_tasks: u32,
    /// Tasks finished successfully.
    pub completed_tasks: u32,
    /// Task attempts that failed.
    pub failed_tasks: u32,
    /// Milliseconds since the epoch.
    pub submitted_ms: u64,
    /// Milliseconds since the epoch, once the stage ended.
    pub completed_ms: Option<u64>,
    /// Tasks launched per locality level (`PROCESS_LOCAL`, `NODE_LOCAL`,
    /// `NO_PREF`, `ANY`), like Spark's stage `locality` summary.
    pub locality: BTreeMap<String, u32>,
    /// The task attempts launched, in launch order: the first
    /// [`TASKS_KEPT_PER_STAGE`] (the counts above cover all of them).
    pub tasks: Vec<TaskProgress>,
}

pub use spindle_contract::api::TASKS_KEPT_PER_STAGE;

/// One task attempt.
#[derive(Clone, Debug, Serialize)]
pub struct TaskProgress {
    /// The partition the task computes.
    pub partition: u32,
    /// The attempt's number, from 0.
    pub attempt: u32,
    /// The executor running it.
    pub executor_id: String,
    /// The executor's host (under YARN its NodeManager's).
    pub host: String,
    /// `PROCESS_LOCAL`, `NODE_LOCAL`, `NO_PREF` or `ANY`.
    pub locality: String,
    /// `RUNNING`, `SUCCESS` or `FAILED`.
    pub status: String,
}

/// What the scheduler knows when it launches a task.
#[derive(Clone, Debug)]
pub struct TaskStart {
    /// The partition the task computes.
    pub partition: u32,
    /// The attempt's number, from 0.
    pub attempt: u32,
    /// The executor it runs on.
    pub executor_id: String,
    /// The executor's host.
    pub host: String,
    /// `PROCESS_LOCAL`, `NODE_LOCAL`, `NO_PREF` or `ANY`.
    pub locality: &'static str,
}

/// Everything so far.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Snapshot {
    /// Every job of the context, oldest first.
    pub jobs: Vec<JobProgress>,
    /// Every stage attempt, oldest first.
    pub stages: Vec<StageProgress>,
}

#[derive(Default)]
pub(crate) struct Progress {
    snapshot: Mutex<Snapshot>,
    /// The event log's inlet.
    pub(crate) events: crate::eventlog::Sink,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Progress {
    fn with<R>(&self, f: impl FnOnce(&mut Snapshot) -> R) -> R {
        f(&mut self.snapshot.lock().unwrap_or_else(|e| e.into_inner()))
    }

    pub(crate) fn snapshot(&self) -> Snapshot {
        self.with(|s| s.clone())
    }

    pub(crate) fn executor_added(&self, id: &str, host_port: &str, cores: u32) {
        self.events.emit(Event::ExecutorAdded {
            id: id.into(),
            host_port: host_port.into(),
            cores,
        });
    }

    pub(crate) fn executor_removed(&self, id: &str, reason: &str) {
        self.events.emit(Event::ExecutorRemoved {
            id: id.into(),
            reason: reason.into(),
        });
    }

    pub(crate) fn job_started(&self, job_id: u64, name: &str) {
        self.events.emit(Event::JobStart {
            job_id,
            name: name.into(),
        });
        self.with(|s| {
            s.jobs.push(JobProgress {
                job_id,
                name: name.to_string(),
                status: "RUNNING".into(),
                submitted_ms: now_ms(),
                completed_ms: None,
                stage_ids: Vec::new(),
            })
        })
    }

    pub(crate) fn job_ended(&self, job_id: u64, ok: bool) {
        self.events.emit(Event::JobEnd {
            job_id,
            status: if ok { "SUCCEEDED" } else { "FAILED" }.into(),
        });
        self.with(|s| {
            if let Some(j) = s.jobs.iter_mut().rev().find(|j| j.job_id == job_id) {
                j.status = if ok { "SUCCEEDED" } else { "FAILED" }.into();
                j.completed_ms = Some(now_ms());
            }
            for st in s.stages.iter_mut().filter(|st| st.job_id == job_id) {
                if st.status == "ACTIVE" {
                    st.status = if ok { "COMPLETE" } else { "FAILED" }.into();
                    st.active_tasks = 0;
                    st.completed_ms = Some(now_ms());
                }
            }
        })
    }

    pub(crate) fn stage_started(&self, job_id: u64, stage_id: u32, num_tasks: u32) {
        self.events.emit(Event::StageSubmitted {
            job_id,
            stage_id,
            num_tasks,
        });
        self.with(|s| {
            if let Some(j) = s.jobs.iter_mut().rev().find(|j| j.job_id == job_id) {
                j.stage_ids.push(stage_id);
            }
            s.stages.push(StageProgress {
                stage_id,
                job_id,
                status: "ACTIVE".into(),
                num_tasks,
                active_tasks: 0,
                completed_tasks: 0,
                failed_tasks: 0,
                submitted_ms: now_ms(),
                completed_ms: None,
                locality: BTreeMap::new(),
                tasks: Vec::new(),
            })
        })
    }

    fn stage(&self, stage_id: u32, f: impl FnOnce(&mut StageProgress)) {
        self.with(|s| {
            if let Some(st) = s.stages.iter_mut().rev().find(|st| st.stage_id == stage_id) {
                f(st)
            }
        })
    }

    pub(crate) fn task_started(&self, stage_id: u32, t: TaskStart) {
        self.events.emit(Event::TaskStart {
            stage_id,
            index: t.partition,
            attempt: t.attempt,
            executor_id: t.executor_id.clone(),
            host: t.host.clone(),
            locality: t.locality.into(),
        });
        self.stage(stage_id, |st| {
            st.active_tasks += 1;
            *st.locality.entry(t.locality.to_string()).or_insert(0) += 1;
            if st.tasks.len() >= TASKS_KEPT_PER_STAGE {
                return;
            }
            st.tasks.push(TaskProgress {
                partition: t.partition,
                attempt: t.attempt,
                executor_id: t.executor_id,
                host: t.host,
                locality: t.locality.to_string(),
                status: "RUNNING".into(),
            });
        })
    }

    pub(crate) fn task_ended(&self, stage_id: u32, partition: u32, attempt: u32, ok: bool) {
        self.events.emit(Event::TaskEnd {
            stage_id,
            index: partition,
            attempt,
            status: if ok { "SUCCESS" } else { "FAILED" }.into(),
        });
        self.stage(stage_id, |st| {
            st.active_tasks = st.active_tasks.saturating_sub(1);
            if ok {
                st.completed_tasks += 1;
            } else {
                st.failed_tasks += 1;
            }
            if let Some(t) = st
                .tasks
                .iter_mut()
                .rev()
                .find(|t| t.partition == partition && t.attempt == attempt)
            {
                t.status = if ok { "SUCCESS" } else { "FAILED" }.into();
            }
        })
    }

    pub(crate) fn stage_ended(&self, stage_id: u32, ok: bool) {
        self.events.emit(Event::StageCompleted {
            stage_id,
            status: if ok { "COMPLETE" } else { "FAILED" }.into(),
        });
        self.stage(stage_id, |st| {
            st.status = if ok { "COMPLETE" } else { "FAILED" }.into();
            st.active_tasks = 0;
            st.completed_ms = Some(now_ms());
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_follow_the_hooks() {
        let p = Progress::default();
        p.job_started(0, "collect");
        p.stage_started(0, 3, 4);
        let start = |partition, locality| TaskStart {
            partition,
            attempt: 0,
            executor_id: "1".into(),
            host: "h".into(),
            locality,
        };
        p.task_started(3, start(0, "NODE_LOCAL"));
        p.task_started(3, start(1, "ANY"));
        p.task_ended(3, 0, 0, true);
        p.task_ended(3, 1, 0, false);
        let s = p.snapshot();
        assert_eq!(s.jobs[0].stage_ids, vec![3]);
        let st = &s.stages[0];
        assert_eq!(
            (st.active_tasks, st.completed_tasks, st.failed_tasks),
            (0, 1, 1)
        );
        assert_eq!(st.locality["NODE_LOCAL"], 1);
        assert_eq!(st.locality["ANY"], 1);
        assert_eq!(st.tasks[0].status, "SUCCESS");
        assert_eq!(st.tasks[1].locality, "ANY");
        assert_eq!(st.tasks[1].status, "FAILED");
        p.stage_ended(3, true);
        p.job_ended(0, true);
        let s = p.snapshot();
        assert_eq!(s.jobs[0].status, "SUCCEEDED");
        assert_eq!(s.stages[0].status, "COMPLETE");
        assert!(s.jobs[0].completed_ms.is_some());
    }
}
