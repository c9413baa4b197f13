//! The `/api/v1` JSON shapes, defined once: the AM serves them (its web UI,
//! behind the YARN tracking URL), `spindle submit` reads them for its progress
//! line, and `spindle history` serves them from event logs ([`crate::events`]). Field names are Spark's
//! (`jobId`, `numCompleteTasks`, …), so tools written for Spark's REST API read
//! them. Every field has a default, so a reader accepts answers that leave
//! some out (an older AM) or carry more.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One entry of `/api/v1/applications`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Application {
    /// The YARN application id.
    pub id: String,
    /// The application's name.
    pub name: String,
    /// This AM's attempt (one entry).
    pub attempts: Vec<ApplicationAttempt>,
}

/// One attempt of an application.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ApplicationAttempt {
    /// The YARN attempt number, as text (Spark's type).
    pub attempt_id: String,
    /// Milliseconds since the epoch.
    pub start_time: u64,
    /// The user the application runs as.
    pub spark_user: String,
    /// Milliseconds since the epoch, once it ended.
    pub end_time: Option<u64>,
    /// Milliseconds, once it ended.
    pub duration: Option<u64>,
    /// When its event log last changed (the history server), else now.
    pub last_updated: u64,
    /// Whether it ended (its log holds the application's end).
    pub completed: bool,
    /// `SUCCEEDED`, `FAILED` or `KILLED` once it ended, else `RUNNING` (also
    /// for a log that stopped without an end: a killed or crashed driver).
    pub status: String,
    /// Once it ended, the typed reason (`SUCCEEDED`, `MEMORY_LIMIT`, …; Spindle's, not Spark's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<crate::outcome::Reason>,
    /// Once it ended, the reason's exit code of `spindle submit` (Spindle's, not Spark's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// Why it failed, one line ("" otherwise).
    pub diagnostics: String,
}

/// Task attempts listed per stage (the counts cover all of them), so a
/// long-running driver's answers stay small, as Spark's UI bounds them too.
pub const TASKS_KEPT_PER_STAGE: usize = 1000;

/// A stage's name in the API and pages.
pub fn stage_name(stage_id: u32, job_id: u64) -> String {
    format!("stage {stage_id} of job {job_id}")
}

/// One job (one action), as `/api/v1/applications/<id>/jobs` lists it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Job {
    /// The job's number in the application.
    pub job_id: u64,
    /// The action that started it.
    pub name: String,
    /// `RUNNING`, `SUCCEEDED` or `FAILED`.
    pub status: String,
    /// Milliseconds since the epoch.
    pub submission_time: u64,
    /// Milliseconds since the epoch, once it ended.
    pub completion_time: Option<u64>,
    /// Its stages.
    pub stage_ids: Vec<u32>,
    /// Tasks of all its stage attempts.
    pub num_tasks: u32,
    /// Of those, running.
    pub num_active_tasks: u32,
    /// Of those, succeeded.
    pub num_completed_tasks: u32,
    /// Of those, failed.
    pub num_failed_tasks: u32,
    /// Stage attempts running.
    pub num_active_stages: u32,
    /// Stage attempts complete.
    pub num_completed_stages: u32,
}

impl Job {
    /// Fills in the task and stage counts from the job's stage attempts in `stages`.
    pub fn count_from(&mut self, stages: &[Stage]) {
        let mine: Vec<&Stage> = stages.iter().filter(|s| s.job_id == self.job_id).collect();
        let sum = |f: fn(&Stage) -> u32| mine.iter().map(|s| f(s)).sum();
        let count = |status: &str| mine.iter().filter(|s| s.status == status).count() as u32;
        self.num_tasks = sum(|s| s.num_tasks);
        self.num_active_tasks = sum(|s| s.num_active_tasks);
        self.num_completed_tasks = sum(|s| s.num_complete_tasks);
        self.num_failed_tasks = sum(|s| s.num_failed_tasks);
        self.num_active_stages = count("ACTIVE");
        self.num_completed_stages = count("COMPLETE");
    }
}

/// One stage attempt, as `/api/v1/applications/<id>/stages` lists it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Stage {
    /// The stage's number in the application.
    pub stage_id: u32,
    /// 0 for the first attempt; a retried stage appears again.
    pub attempt_id: u32,
    /// The job it belongs to.
    pub job_id: u64,
    /// `stage <n> of job <m>`.
    pub name: String,
    /// `ACTIVE`, `COMPLETE` or `FAILED`.
    pub status: String,
    /// Its tasks.
    pub num_tasks: u32,
    /// Running.
    pub num_active_tasks: u32,
    /// Succeeded.
    pub num_complete_tasks: u32,
    /// Failed.
    pub num_failed_tasks: u32,
    /// Milliseconds since the epoch.
    pub submission_time: u64,
    /// Milliseconds since the epoch, once it ended.
    pub completion_time: Option<u64>,
    /// Task launches per locality level (`PROCESS_LOCAL`, `NODE_LOCAL`,
    /// `NO_PREF`, `ANY`), as Spark's `StageData`.
    pub locality: BTreeMap<String, u32>,
    /// Its task attempts, in launch order (bounded).
    pub tasks: Vec<Task>,
}

/// One task attempt of a stage, as Spark's `TaskData`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Task {
    /// The partition it computes.
    pub index: u32,
    /// 0 for the first attempt.
    pub attempt: u32,
    /// Where it ran.
    pub executor_id: String,
    /// The executor's host.
    pub host: String,
    /// `RUNNING`, `SUCCESS` or `FAILED`.
    pub status: String,
    /// `PROCESS_LOCAL`, `NODE_LOCAL`, `NO_PREF` or `ANY`.
    pub task_locality: String,
}

/// One executor, as `/api/v1/applications/<id>/executors` lists it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Executor {
    /// The executor's id.
    pub id: String,
    /// Its NodeManager, `host:port`.
    pub host_port: String,
    /// Starting or running.
    pub is_active: bool,
    /// `starting`, `running`, `lost`, `stopped`, or `removed` (given back on purpose: idle, preempted).
    pub state: String,
    /// Why it ended ("" while it runs): `idle`, `preempted` or
    /// `decommissioning` (given back after moving its blocks), `stopped` (the application ended), or why it
    /// was lost (state `lost`).
    pub remove_reason: String,
    /// Why it was asked for: `initial`, `backlog` (tasks waited: dynamic
    /// allocation) or `replacement` (of a lost or preempted one).
    pub add_reason: String,
    /// When its container was granted, milliseconds since the epoch.
    pub add_time: u64,
    /// When it ended, milliseconds since the epoch.
    pub remove_time: Option<u64>,
    /// Shuffle blocks moved off it to executors that stay before it was given back.
    pub blocks_migrated: u64,
    /// Cached partitions moved off it likewise.
    pub cached_blocks_migrated: u64,
    /// Its YARN container.
    pub container_id: String,
    /// Links to its logs on the NodeManager.
    pub executor_logs: ExecutorLogs,
}

/// NodeManager web links to an executor's output.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExecutorLogs {
    /// Its stdout.
    pub stdout: String,
    /// Its stderr.
    pub stderr: String,
}

/// One entry of `/api/v1/applications/<id>/logs` (Spindle's own): a container
/// log file whose bytes `start..end` the AM keeps; `logs/<container>/<file>?offset=N`
/// serves them raw. Offsets are those of the file in the container's log
/// directory, and of its aggregated copy.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct LogSpan {
    /// The YARN container id.
    pub container: String,
    /// The file's name: stdout, stderr.
    pub file: String,
    /// The first byte kept.
    pub start: u64,
    /// The byte after the last one received.
    pub end: u64,
}

/// `/api/v1/applications/<id>/elastic`: what dynamic allocation and YARN
/// preemption did (Spindle's own; Spark has no such endpoint).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Elastic {
    /// Whether dynamic allocation is on.
    pub dynamic_allocation: bool,
    /// The executors the driver wants now.
    pub target_executors: u32,
    /// Executors that registered with the driver so far.
    pub executors_added: u32,
    /// Executors asked for because tasks waited.
    pub requested_for_backlog: u32,
    /// Executors given back because they were idle.
    pub removed_idle: u32,
    /// Executors given back because YARN asked for them (preemption).
    pub removed_preempted: u32,
    /// Executors given back because their node was being decommissioned.
    pub removed_decommissioning: u32,
    /// Containers YARN preempted before they were given back (exit -102).
    pub containers_preempted: u32,
    /// Executors lost (their container ended unexpectedly).
    pub removed_lost: u32,
    /// Containers granted after the need for them had gone, given back unused.
    pub containers_released: u32,
    /// Shuffle blocks moved off executors being removed.
    pub blocks_migrated: u64,
    /// Their bytes.
    pub bytes_migrated: u64,
    /// Map outputs that could not move (recomputed if needed).
    pub outputs_lost: u64,
    /// Map tasks run again for output computed before (any cause).
    pub maps_recomputed: u64,
    /// Cached partitions moved off executors being removed.
    pub cached_blocks_migrated: u64,
    /// Their bytes.
    pub cached_bytes_migrated: u64,
    /// Cached partitions that could not move (recomputed if needed).
    pub cached_blocks_lost: u64,
    /// Cached partitions computed again after they had been cached (any cause).
    pub cached_recomputed: u64,
    /// Executor failures counted against `spindle.executor.maxFailures`.
    pub executor_failures: u32,
}

/// `/api/v1/applications/<id>/waiting`: why executor containers the AM asked for are not
/// granted, from the RM's last allocate answer (Spindle's own endpoint). `waiting` is false
/// while nothing has waited more than a few seconds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Waiting {
    /// Whether containers have waited long enough to be explained.
    pub waiting: bool,
    /// Executor containers asked for and not granted.
    pub executors_pending: u32,
    /// How long, in seconds, since the last container was granted (or asked for).
    pub seconds: u64,
    /// One executor's container.
    #[serde(rename = "executorMemoryMB")]
    pub executor_memory_mb: i64,
    /// Its vcores.
    pub executor_vcores: i32,
    /// What the scheduler can still give this application (allocate's `available`).
    #[serde(rename = "headroomMemoryMB")]
    pub headroom_memory_mb: i64,
    /// Its vcores.
    pub headroom_vcores: i32,
    /// The largest container YARN grants.
    #[serde(rename = "maxContainerMemoryMB")]
    pub max_container_memory_mb: i64,
    /// NodeManagers in the cluster.
    pub cluster_nodes: u32,
    /// One line: what waits, and why, with the numbers.
    pub explanation: String,
}

/// `/api/v1/applications/<id>/environment`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Environment {
    /// `[key, value]` pairs, secrets left out.
    pub spindle_properties: Vec<[String; 2]>,
}

/// The body of an error answer (an unknown application).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ErrorMessage {
    /// What was wrong.
    pub message: String,
}

/// Text made safe inside HTML elements and quoted attributes, for the pages
/// that show these shapes (the AM's web UI and `spindle history`).
pub fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_are_sparks() {
        let job = serde_json::to_value(Job {
            job_id: 1,
            stage_ids: vec![2],
            num_completed_tasks: 3,
            ..Default::default()
        })
        .unwrap();
        assert_eq!(job["jobId"], 1);
        assert_eq!(job["stageIds"], serde_json::json!([2]));
        assert_eq!(job["numCompletedTasks"], 3);
        assert!(job["completionTime"].is_null());
        let stage = serde_json::to_value(Stage {
            num_complete_tasks: 4,
            tasks: vec![Task {
                task_locality: "NODE_LOCAL".into(),
                ..Default::default()
            }],
            ..Default::default()
        })
        .unwrap();
        assert_eq!(stage["numCompleteTasks"], 4);
        assert_eq!(stage["tasks"][0]["taskLocality"], "NODE_LOCAL");
        let e = serde_json::to_value(Executor::default()).unwrap();
        assert!(e["executorLogs"]["stdout"].is_string() && e["isActive"] == false);
        let env = serde_json::to_value(Environment {
            spindle_properties: vec![["k".into(), "v".into()]],
        })
        .unwrap();
        assert_eq!(env, serde_json::json!({"spindleProperties": [["k", "v"]]}));
    }

    #[test]
    fn readers_take_partial_answers_and_ignore_unknown_fields() {
        let jobs: Vec<Job> =
            serde_json::from_str(r#"[{"jobId":1,"status":"RUNNING","extra":1}]"#).unwrap();
        assert_eq!(jobs[0].job_id, 1);
        assert_eq!(jobs[0].num_tasks, 0);
        let stage = Stage {
            stage_id: 3,
            attempt_id: 1,
            locality: BTreeMap::from([("ANY".into(), 2)]),
            ..Default::default()
        };
        let back: Stage = serde_json::from_str(&serde_json::to_string(&stage).unwrap()).unwrap();
        assert_eq!(back, stage);
    }
}
