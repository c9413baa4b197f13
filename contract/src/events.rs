//! The event log of one application attempt, defined once: the driver writes
//! it (`spindle-core`'s `eventlog`), `spindle history` reads it back into the
//! same `/api/v1` shapes the AM serves ([`Replay`]).
//!
//! Layout, as Spark's rolling event logs: one directory per attempt,
//! `<dir>/<appId>_<attempt>/`, holding numbered part files
//! `events_00001.jsonl.gz` (or `.zst`), a new one once a part passes the
//! rolling size. A part is a sequence of complete compressed streams (gzip
//! members, zstd frames), one per flush, each holding whole JSON lines (one
//! [`Record`] a line): a driver that dies leaves every flushed stream
//! readable, and a reader takes whatever prefix of a damaged one decodes.

use std::io::{Read, Write};

use serde::{Deserialize, Serialize};

use crate::api;
use crate::outcome::Reason;
use crate::{Error, Result};

/// One line of the log: when, and what happened.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Milliseconds since the epoch.
    pub time: u64,
    /// What happened.
    #[serde(flatten)]
    pub event: Event,
}

impl Record {
    /// The record as one JSON line, newline included.
    pub fn to_line(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec(self).expect("records serialize");
        v.push(b'\n');
        v
    }
}

/// What the driver records.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all_fields = "camelCase")]
pub enum Event {
    /// The first line of every attempt's log.
    ApplicationStart {
        /// The YARN application id (`local-<ms>` in local mode).
        app_id: String,
        /// The attempt, from 1.
        attempt: u32,
        /// The application's name.
        name: String,
        /// Who runs it.
        user: String,
        /// The configuration, secrets redacted ([`crate::settings::redacted`]).
        properties: Vec<[String; 2]>,
    },
    /// The last line, when the driver ends in an orderly way.
    ApplicationEnd {
        /// `SUCCEEDED`, `FAILED` or `KILLED`.
        status: String,
        /// The typed reason (`MEMORY_LIMIT`), as `spindle submit` exits with it; absent in logs
        /// written before it was recorded (then read from the diagnostics' tag).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<Reason>,
        /// The reason's exit code, for readers of the log that branch on it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        exit_code: Option<i32>,
        /// Why it failed, one line.
        diagnostics: String,
    },
    /// An executor registered with the driver.
    ExecutorAdded {
        /// Its id.
        id: String,
        /// Its service address, `host:port`.
        host_port: String,
        /// Its task slots.
        cores: u32,
    },
    /// An executor was lost or released.
    ExecutorRemoved {
        /// Its id.
        id: String,
        /// Why.
        reason: String,
    },
    /// An action started a job.
    JobStart {
        /// The job's number.
        job_id: u64,
        /// The action.
        name: String,
    },
    /// A job ended.
    JobEnd {
        /// The job's number.
        job_id: u64,
        /// `SUCCEEDED` or `FAILED`.
        status: String,
    },
    /// A stage attempt was submitted.
    StageSubmitted {
        /// Its job.
        job_id: u64,
        /// The stage's number.
        stage_id: u32,
        /// Its tasks.
        num_tasks: u32,
    },
    /// A stage attempt ended.
    StageCompleted {
        /// The stage's number.
        stage_id: u32,
        /// `COMPLETE` or `FAILED`.
        status: String,
    },
    /// A task attempt was launched.
    TaskStart {
        /// Its stage.
        stage_id: u32,
        /// Its partition.
        index: u32,
        /// Its attempt, from 0.
        attempt: u32,
        /// Where.
        executor_id: String,
        /// The executor's host.
        host: String,
        /// `PROCESS_LOCAL`, `NODE_LOCAL`, `NO_PREF` or `ANY`.
        locality: String,
    },
    /// A task attempt ended.
    TaskEnd {
        /// Its stage.
        stage_id: u32,
        /// Its partition.
        index: u32,
        /// Its attempt.
        attempt: u32,
        /// `SUCCESS` or `FAILED`.
        status: String,
    },
}

// ------------------------------------------------------------ file names

/// How part files are compressed (`spindle.eventLog.compression.codec`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Codec {
    /// gzip members (`.gz`).
    Gzip,
    /// zstd frames (`.zst`).
    Zstd,
}

impl Codec {
    /// `gzip` or `zstd` (as the setting is written).
    pub fn parse(s: &str) -> Result<Codec> {
        match s.trim().to_ascii_lowercase().as_str() {
            "gzip" | "gz" => Ok(Codec::Gzip),
            "zstd" | "zst" => Ok(Codec::Zstd),
            other => Err(Error::Setting {
                name: crate::settings::EVENT_LOG_CODEC.name().into(),
                value: other.into(),
                reason: "not gzip or zstd".into(),
            }),
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Codec::Gzip => "gz",
            Codec::Zstd => "zst",
        }
    }

    /// `data` as one complete compressed stream.
    pub fn compress(self, data: &[u8]) -> Vec<u8> {
        match self {
            Codec::Gzip => {
                let mut e =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                e.write_all(data).expect("writing to memory");
                e.finish().expect("writing to memory")
            }
            Codec::Zstd => zstd::bulk::compress(data, 3).expect("zstd compresses in memory"),
        }
    }

    /// Everything that decodes from `data`: all its complete streams, and
    /// what decodes of a damaged or cut last one.
    pub fn decompress_prefix(self, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut reader: Box<dyn Read + '_> = match self {
            Codec::Gzip => Box::new(flate2::read::MultiGzDecoder::new(data)),
            Codec::Zstd => match zstd::stream::read::Decoder::new(data) {
                Ok(d) => Box::new(d),
                Err(_) => return out,
            },
        };
        let mut buf = [0u8; 64 * 1024];
        loop {
            match reader.read(&mut buf) {
                Ok(0) | Err(_) => return out,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    }
}

/// `<appId>_<attempt>`: an attempt's directory.
pub fn attempt_dir_name(app_id: &str, attempt: u32) -> String {
    format!("{app_id}_{attempt}")
}

/// The application id and attempt of a directory [`attempt_dir_name`]
/// made; `None` for anything else (which Spindle never touches).
pub fn parse_attempt_dir(name: &str) -> Option<(String, u32)> {
    let (app, attempt) = name.rsplit_once('_')?;
    let attempt: u32 = attempt.parse().ok()?;
    let ours = app.strip_prefix("application_").is_some_and(|r| {
        r.split('_').count() == 2 && r.chars().all(|c| c.is_ascii_digit() || c == '_')
    }) || app
        .strip_prefix("local-")
        .is_some_and(|r| !r.is_empty() && r.chars().all(|c| c.is_ascii_digit()));
    ours.then(|| (app.to_string(), attempt))
}

/// `events_<n>.jsonl.<ext>`, numbered from 1.
pub fn part_name(n: u32, codec: Codec) -> String {
    format!("events_{n:05}.jsonl.{}", codec.extension())
}

/// The number and codec of a part file's name.
pub fn parse_part(name: &str) -> Option<(u32, Codec)> {
    let rest = name.strip_prefix("events_")?;
    let (n, ext) = rest.split_once(".jsonl.")?;
    let codec = match ext {
        "gz" => Codec::Gzip,
        "zst" => Codec::Zstd,
        _ => return None,
    };
    Some((n.parse().ok()?, codec))
}

/// The records of decompressed log text: whole lines only (a cut last line
/// is left out); lines that do not parse are counted, not fatal.
pub fn parse_lines(text: &[u8]) -> (Vec<Record>, usize) {
    let mut records = Vec::new();
    let mut bad = 0;
    let mut lines = text.split(|b| *b == b'\n').peekable();
    while let Some(line) = lines.next() {
        if lines.peek().is_none() {
            // Not newline-terminated: cut off by a crash (or empty).
            break;
        }
        if line.is_empty() {
            continue;
        }
        match serde_json::from_slice::<Record>(line) {
            Ok(r) => records.push(r),
            Err(_) => bad += 1,
        }
    }
    (records, bad)
}

// ---------------------------------------------------------------- replay

/// How an attempt ended, from its last record.
#[derive(Clone, Debug, PartialEq)]
pub struct End {
    /// Milliseconds since the epoch.
    pub time: u64,
    /// `SUCCEEDED`, `FAILED` or `KILLED`.
    pub status: String,
    /// The typed reason: the record's, else the diagnostics' tag (older logs).
    pub reason: Option<Reason>,
    /// Why it failed, one line.
    pub diagnostics: String,
}

/// One attempt's state, rebuilt from its records.
#[derive(Clone, Debug, Default)]
pub struct Replay {
    /// The application id.
    pub app_id: String,
    /// The attempt.
    pub attempt: u32,
    /// The name.
    pub name: String,
    /// The user.
    pub user: String,
    /// When it started.
    pub start_time: u64,
    /// When and how it ended.
    pub end: Option<End>,
    /// The time of the last record.
    pub last_time: u64,
    /// Lines that did not parse.
    pub bad_lines: usize,
    properties: Vec<[String; 2]>,
    jobs: Vec<api::Job>,
    /// Oldest first.
    stages: Vec<api::Stage>,
    executors: Vec<api::Executor>,
}

impl Replay {
    /// Applies one record.
    pub fn apply(&mut self, r: Record) {
        self.last_time = self.last_time.max(r.time);
        let time = r.time;
        match r.event {
            Event::ApplicationStart {
                app_id,
                attempt,
                name,
                user,
                properties,
            } => {
                (self.app_id, self.attempt, self.name, self.user) = (app_id, attempt, name, user);
                self.start_time = time;
                self.properties = properties;
            }
            Event::ApplicationEnd {
                status,
                reason,
                exit_code: _,
                diagnostics,
            } => {
                let reason = reason.or_else(|| match status.as_str() {
                    "SUCCEEDED" => Some(Reason::Succeeded),
                    _ => Reason::from_tagged(&diagnostics),
                });
                self.end = Some(End {
                    time,
                    status,
                    reason,
                    diagnostics,
                });
                for e in self.executors.iter_mut().filter(|e| e.is_active) {
                    e.is_active = false;
                    e.state = "stopped".into();
                }
            }
            Event::ExecutorAdded {
                id,
                host_port,
                cores: _,
            } => self.executors.push(api::Executor {
                id,
                host_port,
                is_active: true,
                state: "running".into(),
                add_time: time,
                ..Default::default()
            }),
            Event::ExecutorRemoved { id, reason } => {
                if let Some(e) = self.executors.iter_mut().rev().find(|e| e.id == id) {
                    e.is_active = false;
                    e.state = "lost".into();
                    e.remove_reason = reason;
                    e.remove_time = Some(time);
                }
            }
            Event::JobStart { job_id, name } => self.jobs.push(api::Job {
                job_id,
                name,
                status: "RUNNING".into(),
                submission_time: time,
                ..Default::default()
            }),
            Event::JobEnd { job_id, status } => {
                let ok = status == "SUCCEEDED";
                if let Some(j) = self.jobs.iter_mut().rev().find(|j| j.job_id == job_id) {
                    j.status = status;
                    j.completion_time = Some(time);
                }
                for st in self.stages.iter_mut().filter(|s| s.job_id == job_id) {
                    if st.status == "ACTIVE" {
                        st.status = if ok { "COMPLETE" } else { "FAILED" }.into();
                        st.num_active_tasks = 0;
                        st.completion_time = Some(time);
                    }
                }
            }
            Event::StageSubmitted {
                job_id,
                stage_id,
                num_tasks,
            } => {
                if let Some(j) = self.jobs.iter_mut().rev().find(|j| j.job_id == job_id) {
                    j.stage_ids.push(stage_id);
                }
                let attempt_id = self
                    .stages
                    .iter()
                    .filter(|s| s.stage_id == stage_id)
                    .count();
                self.stages.push(api::Stage {
                    stage_id,
                    attempt_id: attempt_id as u32,
                    job_id,
                    name: api::stage_name(stage_id, job_id),
                    status: "ACTIVE".into(),
                    num_tasks,
                    submission_time: time,
                    ..Default::default()
                });
            }
            Event::StageCompleted { stage_id, status } => {
                if let Some(st) = self.stage(stage_id) {
                    st.status = status;
                    st.num_active_tasks = 0;
                    st.completion_time = Some(time);
                }
            }
            Event::TaskStart {
                stage_id,
                index,
                attempt,
                executor_id,
                host,
                locality,
            } => {
                if let Some(st) = self.stage(stage_id) {
                    st.num_active_tasks += 1;
                    *st.locality.entry(locality.clone()).or_insert(0) += 1;
                    if st.tasks.len() < api::TASKS_KEPT_PER_STAGE {
                        st.tasks.push(api::Task {
                            index,
                            attempt,
                            executor_id,
                            host,
                            status: "RUNNING".into(),
                            task_locality: locality,
                        });
                    }
                }
            }
            Event::TaskEnd {
                stage_id,
                index,
                attempt,
                status,
            } => {
                if let Some(st) = self.stage(stage_id) {
                    st.num_active_tasks = st.num_active_tasks.saturating_sub(1);
                    if status == "SUCCESS" {
                        st.num_complete_tasks += 1;
                    } else {
                        st.num_failed_tasks += 1;
                    }
                    if let Some(t) = st
                        .tasks
                        .iter_mut()
                        .rev()
                        .find(|t| t.index == index && t.attempt == attempt)
                    {
                        t.status = status;
                    }
                }
            }
        }
    }

    /// The latest attempt of a stage.
    fn stage(&mut self, stage_id: u32) -> Option<&mut api::Stage> {
        self.stages
            .iter_mut()
            .rev()
            .find(|s| s.stage_id == stage_id)
    }

    /// Whether the log holds the application's end.
    pub fn completed(&self) -> bool {
        self.end.is_some()
    }

    /// The attempt as `/api/v1/applications` lists it; `last_updated` is
    /// when its log last changed.
    pub fn attempt_info(&self, last_updated: u64) -> api::ApplicationAttempt {
        let (end_time, status, reason, diagnostics) = match &self.end {
            Some(e) => (
                Some(e.time),
                e.status.clone(),
                e.reason,
                e.diagnostics.clone(),
            ),
            None => (None, "RUNNING".to_string(), None, String::new()),
        };
        api::ApplicationAttempt {
            attempt_id: self.attempt.to_string(),
            start_time: self.start_time,
            spark_user: self.user.clone(),
            end_time,
            duration: end_time.map(|t| t.saturating_sub(self.start_time)),
            last_updated: last_updated.max(self.last_time),
            completed: self.end.is_some(),
            status,
            reason,
            exit_code: reason.map(Reason::code),
            diagnostics,
        }
    }

    /// Jobs, newest first, with their counts.
    pub fn jobs(&self) -> Vec<api::Job> {
        self.jobs
            .iter()
            .rev()
            .map(|j| {
                let mut j = j.clone();
                j.count_from(&self.stages);
                j
            })
            .collect()
    }

    /// Stage attempts, newest first.
    pub fn stages(&self) -> Vec<api::Stage> {
        self.stages.iter().rev().cloned().collect()
    }

    /// Every executor the attempt had.
    pub fn executors(&self) -> Vec<api::Executor> {
        self.executors.clone()
    }

    /// The recorded configuration (already redacted by the writer).
    pub fn environment(&self) -> api::Environment {
        api::Environment {
            spindle_properties: self.properties.clone(),
        }
    }
}

/// Replays the decompressed text of an attempt's parts, in order.
pub fn replay(parts: &[Vec<u8>]) -> Replay {
    let mut r = Replay::default();
    for text in parts {
        let (records, bad) = parse_lines(text);
        r.bad_lines += bad;
        for rec in records {
            r.apply(rec);
        }
    }
    r
}

/// The properties an event log records: `pairs` with secrets redacted.
pub fn redacted_properties<'a>(
    pairs: impl IntoIterator<Item = (&'a String, &'a String)>,
) -> Vec<[String; 2]> {
    let mut v: Vec<[String; 2]> = pairs
        .into_iter()
        .map(|(k, v)| [k.clone(), crate::settings::redacted(k, v).to_string()])
        .collect();
    v.sort();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(time: u64, event: Event) -> Record {
        Record { time, event }
    }

    fn sample() -> Vec<Record> {
        vec![
            rec(
                1,
                Event::ApplicationStart {
                    app_id: "application_1_0002".into(),
                    attempt: 1,
                    name: "wc".into(),
                    user: "u".into(),
                    properties: vec![["k".into(), "v".into()]],
                },
            ),
            rec(
                2,
                Event::ExecutorAdded {
                    id: "1".into(),
                    host_port: "h:1".into(),
                    cores: 1,
                },
            ),
            rec(
                3,
                Event::JobStart {
                    job_id: 0,
                    name: "count".into(),
                },
            ),
            rec(
                4,
                Event::StageSubmitted {
                    job_id: 0,
                    stage_id: 0,
                    num_tasks: 2,
                },
            ),
            rec(
                5,
                Event::TaskStart {
                    stage_id: 0,
                    index: 0,
                    attempt: 0,
                    executor_id: "1".into(),
                    host: "h".into(),
                    locality: "NODE_LOCAL".into(),
                },
            ),
            rec(
                6,
                Event::TaskEnd {
                    stage_id: 0,
                    index: 0,
                    attempt: 0,
                    status: "FAILED".into(),
                },
            ),
            rec(
                7,
                Event::TaskStart {
                    stage_id: 0,
                    index: 0,
                    attempt: 1,
                    executor_id: "1".into(),
                    host: "h".into(),
                    locality: "ANY".into(),
                },
            ),
            rec(
                8,
                Event::TaskEnd {
                    stage_id: 0,
                    index: 0,
                    attempt: 1,
                    status: "SUCCESS".into(),
                },
            ),
            rec(
                9,
                Event::StageCompleted {
                    stage_id: 0,
                    status: "COMPLETE".into(),
                },
            ),
            rec(
                10,
                Event::JobEnd {
                    job_id: 0,
                    status: "SUCCEEDED".into(),
                },
            ),
            rec(
                11,
                Event::ExecutorRemoved {
                    id: "1".into(),
                    reason: "container exited".into(),
                },
            ),
            rec(
                12,
                Event::ApplicationEnd {
                    status: "SUCCEEDED".into(),
                    reason: Some(Reason::Succeeded),
                    exit_code: Some(0),
                    diagnostics: String::new(),
                },
            ),
        ]
    }

    fn text(records: &[Record]) -> Vec<u8> {
        let mut out = Vec::new();
        for r in records {
            out.extend_from_slice(serde_json::to_string(r).unwrap().as_bytes());
            out.push(b'\n');
        }
        out
    }

    #[test]
    fn records_have_stable_json() {
        let line = serde_json::to_value(&sample()[4]).unwrap();
        assert_eq!(line["event"], "TaskStart");
        assert_eq!(line["time"], 5);
        assert_eq!(line["executorId"], "1");
        assert_eq!(line["locality"], "NODE_LOCAL");
        let back: Record = serde_json::from_value(line).unwrap();
        assert_eq!(back, sample()[4]);
    }

    /// The end record carries the reason and its exit code as fields; a log written before
    /// they existed gets them from the diagnostics' tag.
    #[test]
    fn the_end_carries_the_typed_reason() {
        let end = Record {
            time: 3,
            event: Event::ApplicationEnd {
                status: "FAILED".into(),
                reason: Some(Reason::ExecutorsLost),
                exit_code: Some(Reason::ExecutorsLost.code()),
                diagnostics: "[EXECUTORS_LOST] executor failures exceeded".into(),
            },
        };
        let line = serde_json::to_value(&end).unwrap();
        assert_eq!(
            (&line["reason"], &line["exitCode"]),
            (&"EXECUTORS_LOST".into(), &9.into())
        );
        let r = replay(&[end.to_line()]);
        let a = r.attempt_info(0);
        assert_eq!(
            (a.reason, a.exit_code),
            (Some(Reason::ExecutorsLost), Some(9))
        );
        let json = serde_json::to_value(&a).unwrap();
        assert_eq!(
            (&json["reason"], &json["exitCode"]),
            (&"EXECUTORS_LOST".into(), &9.into())
        );

        let old = br#"{"time":3,"event":"ApplicationEnd","status":"FAILED","diagnostics":"[MEMORY_LIMIT] killed"}
"#;
        let a = replay(&[old.to_vec()]).attempt_info(0);
        assert_eq!(
            (a.reason, a.exit_code),
            (Some(Reason::MemoryLimit), Some(8))
        );
        let running = replay(&[]).attempt_info(0);
        assert_eq!((running.reason, running.exit_code), (None, None));
        let json = serde_json::to_value(&running).unwrap();
        assert!(
            json.get("reason").is_none() && json.get("exitCode").is_none(),
            "{json}"
        );
    }

    #[test]
    fn replay_gives_the_api_shapes() {
        let r = replay(&[text(&sample())]);
        assert!(r.completed());
        let a = r.attempt_info(0);
        assert_eq!(
            (a.start_time, a.end_time, a.duration),
            (1, Some(12), Some(11))
        );
        assert_eq!(a.status, "SUCCEEDED");
        assert_eq!((a.reason, a.exit_code), (Some(Reason::Succeeded), Some(0)));
        let jobs = r.jobs();
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].stage_ids, vec![0]);
        assert_eq!(
            (
                jobs[0].num_tasks,
                jobs[0].num_completed_tasks,
                jobs[0].num_failed_tasks
            ),
            (2, 1, 1)
        );
        assert_eq!(jobs[0].num_completed_stages, 1);
        let st = &r.stages()[0];
        assert_eq!(st.locality["NODE_LOCAL"], 1);
        assert_eq!(st.tasks[1].task_locality, "ANY");
        assert_eq!(st.tasks[0].status, "FAILED");
        let ex = r.executors();
        assert_eq!(ex[0].remove_reason, "container exited");
        assert!(!ex[0].is_active);
    }

    #[test]
    fn a_cut_log_replays_its_prefix() {
        for codec in [Codec::Gzip, Codec::Zstd] {
            let recs = sample();
            // Two flushes, two streams; the second cut in the middle.
            let mut bytes = codec.compress(&text(&recs[..6]));
            let first = bytes.len();
            let second = codec.compress(&text(&recs[6..]));
            bytes.extend_from_slice(&second[..second.len() / 2]);
            let plain = codec.decompress_prefix(&bytes);
            let r = replay(&[plain]);
            assert_eq!(r.app_id, "application_1_0002", "{codec:?}");
            assert!(!r.completed());
            assert_eq!(r.attempt_info(0).status, "RUNNING");
            assert_eq!(r.jobs()[0].num_failed_tasks, 1, "{codec:?}");
            // Only the complete first stream: exactly its records.
            let (only_first, _) = parse_lines(&codec.decompress_prefix(&bytes[..first]));
            assert_eq!(only_first.len(), 6);
            // A cut inside a line drops that line only.
            let t = text(&recs[..3]);
            let (cut, bad) = parse_lines(&t[..t.len() - 4]);
            assert_eq!((cut.len(), bad), (2, 0));
        }
    }

    #[test]
    fn names_round_trip_and_foreign_directories_are_not_ours() {
        assert_eq!(
            parse_part(&part_name(7, Codec::Zstd)),
            Some((7, Codec::Zstd))
        );
        assert_eq!(part_name(1, Codec::Gzip), "events_00001.jsonl.gz");
        assert_eq!(parse_part("events_1.json"), None);
        let d = attempt_dir_name("application_17_0003", 2);
        assert_eq!(
            parse_attempt_dir(&d),
            Some(("application_17_0003".into(), 2))
        );
        assert_eq!(
            parse_attempt_dir("local-123_1"),
            Some(("local-123".into(), 1))
        );
        for other in ["my-data", "application_x_1_1", "important_1", "local-_1"] {
            assert_eq!(parse_attempt_dir(other), None, "{other}");
        }
        assert!(
            Codec::parse("lz4")
                .unwrap_err()
                .to_string()
                .contains("gzip or zstd")
        );
    }

    #[test]
    fn secrets_are_redacted() {
        let pairs = [
            ("spindle.app.secret".to_string(), "s3cr3t".to_string()),
            ("fs.s3a.access.key".to_string(), "AKIA".to_string()),
            ("spindle.locality.wait".to_string(), "1s".to_string()),
        ];
        let p = redacted_properties(pairs.iter().map(|(k, v)| (k, v)));
        let text = serde_json::to_string(&p).unwrap();
        assert!(!text.contains("s3cr3t") && !text.contains("AKIA"), "{text}");
        assert!(text.contains(crate::settings::REDACTED) && text.contains("1s"));
    }
}
