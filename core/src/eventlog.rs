//! The driver's event log (the format is `spindle_contract::events`): the
//! scheduler's hooks hand records to a [`Sink`] (a channel send, nothing
//! more on the hot path); a writer thread of its own compresses them and
//! appends them to `spindle.eventLog.dir`, flushing at every job and stage
//! end and at least every [`FLUSH_EVERY`], rolling to a new part file at
//! `spindle.eventLog.rolling.maxFileSize`. The thread outlives the
//! [`crate::Context`], so the application's end is written after the
//! executors stop.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use spindle_contract::event_store::{EventStore, default_dir, now_ms};
use spindle_contract::events::{Codec, Event, Record, attempt_dir_name, part_name};
use spindle_contract::outcome::Reason;
use spindle_contract::{Conf, settings};

use crate::io::Location;
use crate::{Error, Result};

/// The longest a record waits in memory before it is written.
pub const FLUSH_EVERY: Duration = Duration::from_secs(10);
/// Records kept from before the log starts (executors that register first).
const PENDING_MAX: usize = 1000;
/// How long ending the log waits for the last write.
const END_WAIT: Duration = Duration::from_secs(15);
/// The same while nothing was ever written (an unreachable file system
/// should not hold a finished driver for long).
const END_WAIT_NEVER_WRITTEN: Duration = Duration::from_secs(3);
/// Failed writes in a row after which the log gives up.
const MAX_FAILURES: u32 = 5;

#[derive(Debug)]
enum Msg {
    Record(Record),
    /// The last record; answered once written.
    End(Record, Sender<()>),
}

#[derive(Debug)]
enum SinkState {
    /// Not started yet: records are kept (a few).
    Pending(Vec<Record>),
    Connected(Sender<Msg>),
    Off,
}

/// Where the scheduler's hooks put records. Cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct Sink(Arc<Mutex<SinkState>>);

impl Default for Sink {
    fn default() -> Self {
        Sink(Arc::new(Mutex::new(SinkState::Pending(Vec::new()))))
    }
}

impl Sink {
    pub(crate) fn emit(&self, event: Event) {
        let record = Record {
            time: now_ms(),
            event,
        };
        let mut s = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match &mut *s {
            SinkState::Pending(v) if v.len() < PENDING_MAX => v.push(record),
            SinkState::Connected(tx) => {
                let _ = tx.send(Msg::Record(record));
            }
            _ => {}
        }
    }

    /// Sends the start record, then what was kept, and everything from now on, to `tx`.
    fn connect(&self, start: Record, tx: Sender<Msg>) {
        let mut s = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let _ = tx.send(Msg::Record(start));
        if let SinkState::Pending(v) = std::mem::replace(&mut *s, SinkState::Off) {
            for r in v {
                let _ = tx.send(Msg::Record(r));
            }
        }
        *s = SinkState::Connected(tx);
    }

    fn turn_off(&self) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = SinkState::Off;
    }
}

/// Who the application is, for the first record of its log.
#[derive(Clone, Debug)]
pub struct AppInfo {
    /// The YARN application id, or `local-<ms>`.
    pub app_id: String,
    /// The attempt, from 1.
    pub attempt: u32,
    /// The application's name.
    pub name: String,
    /// Who runs it (the default directory is under this user's home).
    pub user: String,
    /// The configuration to record, secrets already redacted.
    pub properties: Vec<[String; 2]>,
}

impl AppInfo {
    /// A local-mode driver: `local-<ms>`, named after its executable, with
    /// the `--conf` pairs `spindle submit` gave it (redacted).
    pub fn local(conf: &Conf) -> AppInfo {
        let name = std::env::current_exe()
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "spindle".into());
        let mut properties = spindle_contract::events::redacted_properties(conf.pairs());
        let master = Conf::default().text(&settings::MASTER).unwrap_or_default();
        properties.push(["spindle.master".into(), master]);
        AppInfo {
            app_id: format!("local-{}", now_ms()),
            attempt: 1,
            name,
            user: spindle_hadoop::user::current_user(),
            properties,
        }
    }
}

/// A started event log; [`EventLog::end`] writes the application's end.
#[derive(Debug)]
pub struct EventLog {
    tx: Mutex<Option<Sender<Msg>>>,
    sink: Sink,
    /// Whether a write ever succeeded.
    written: Arc<AtomicBool>,
    /// Where it is written, for messages.
    pub uri: String,
}

impl EventLog {
    /// Writes the application's end (`SUCCEEDED`, `FAILED` or `KILLED`) with its typed reason
    /// and waits (a bounded time) until everything is written. Only the first call counts.
    pub fn end(&self, status: &str, reason: Reason, diagnostics: &str) {
        let Some(tx) = self.tx.lock().unwrap_or_else(|e| e.into_inner()).take() else {
            return;
        };
        self.sink.turn_off();
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        let record = Record {
            time: now_ms(),
            event: Event::ApplicationEnd {
                status: status.into(),
                reason: Some(reason),
                exit_code: Some(reason.code()),
                diagnostics: diagnostics.into(),
            },
        };
        let wait = if self.written.load(Ordering::Relaxed) {
            END_WAIT
        } else {
            END_WAIT_NEVER_WRITTEN
        };
        if tx.send(Msg::End(record, done_tx)).is_ok() && done_rx.recv_timeout(wait).is_err() {
            tracing::warn!(
                "event log {}: the last records were not written within {} s",
                self.uri,
                wait.as_secs()
            );
        }
    }
}

/// Starts the writer for `info` as `conf` says (`None` when
/// `spindle.eventLog.enabled` is false), connected to `sink`.
pub(crate) fn start(sink: &Sink, info: AppInfo, conf: &Conf) -> Result<Option<Arc<EventLog>>> {
    let config = |e: spindle_contract::Error| Error::Config(e.to_string());
    if !conf
        .bool(&settings::EVENT_LOG_ENABLED)
        .map_err(config)?
        .unwrap_or(true)
    {
        sink.turn_off();
        return Ok(None);
    }
    let codec = Codec::parse(
        &conf
            .text(&settings::EVENT_LOG_CODEC)
            .unwrap_or_else(|| "gzip".into()),
    )
    .map_err(config)?;
    let max_size = conf
        .size_mb(&settings::EVENT_LOG_ROLLING_MAX_SIZE)
        .map_err(config)?
        .unwrap_or(128)
        << 20;
    let dir = match conf.text(&settings::EVENT_LOG_DIR) {
        Some(d) => d,
        None => default_dir(&info.user, crate::io::default_fs_is_hdfs()?),
    };
    start_writer(sink, info, Location::parse(&dir)?, codec, max_size).map(Some)
}

/// Starts the writer thread for `info`'s log in `location`.
fn start_writer(
    sink: &Sink,
    info: AppInfo,
    location: Location,
    codec: Codec,
    max_size: u64,
) -> Result<Arc<EventLog>> {
    let uri = format!(
        "{}/{}",
        location.qualified().trim_end_matches('/'),
        attempt_dir_name(&info.app_id, info.attempt)
    );
    let start = Record {
        time: now_ms(),
        event: Event::ApplicationStart {
            app_id: info.app_id.clone(),
            attempt: info.attempt,
            name: info.name.clone(),
            user: info.user.clone(),
            properties: info.properties.clone(),
        },
    };
    let (tx, rx) = std::sync::mpsc::channel();
    let written = Arc::new(AtomicBool::new(false));
    let writer = Writer {
        written: written.clone(),
        store: None,
        location,
        dir: attempt_dir_name(&info.app_id, info.attempt),
        codec,
        max_size,
        part: 1,
        part_len: 0,
        created: false,
        buf: Vec::new(),
        failures: 0,
        uri: uri.clone(),
    };
    std::thread::Builder::new()
        .name("spindle-eventlog".into())
        .spawn(move || writer.run(rx))
        .map_err(|e| Error::io("starting the event log writer", e))?;
    sink.connect(start, tx.clone());
    Ok(Arc::new(EventLog {
        tx: Mutex::new(Some(tx)),
        sink: sink.clone(),
        written,
        uri,
    }))
}

struct Writer {
    /// Opened on the writer's thread.
    store: Option<EventStore>,
    location: Location,
    /// `<appId>_<attempt>`.
    dir: String,
    codec: Codec,
    max_size: u64,
    part: u32,
    part_len: u64,
    /// Whether the current part exists (then it is appended to).
    created: bool,
    /// JSON lines not written yet.
    buf: Vec<u8>,
    failures: u32,
    uri: String,
    written: Arc<AtomicBool>,
}

impl Writer {
    fn run(mut self, rx: Receiver<Msg>) {
        let rt = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => {
                tracing::warn!("event log {}: {e}", self.uri);
                return;
            }
        };
        let mut last_flush = Instant::now();
        loop {
            let wait = FLUSH_EVERY.saturating_sub(last_flush.elapsed());
            match rx.recv_timeout(wait) {
                Ok(Msg::Record(r)) => {
                    let now = matches!(
                        r.event,
                        Event::ApplicationStart { .. }
                            | Event::JobEnd { .. }
                            | Event::StageCompleted { .. }
                    );
                    self.push(&r);
                    if now || last_flush.elapsed() >= FLUSH_EVERY {
                        rt.block_on(self.flush());
                        last_flush = Instant::now();
                    }
                }
                Ok(Msg::End(r, done)) => {
                    self.push(&r);
                    rt.block_on(self.flush());
                    let _ = done.send(());
                    return;
                }
                Err(RecvTimeoutError::Timeout) => {
                    rt.block_on(self.flush());
                    last_flush = Instant::now();
                }
                Err(RecvTimeoutError::Disconnected) => {
                    rt.block_on(self.flush());
                    return;
                }
            }
            if self.failures >= MAX_FAILURES {
                tracing::warn!(
                    "event log {}: {MAX_FAILURES} writes failed in a row: no more events are recorded",
                    self.uri
                );
                return;
            }
        }
    }

    fn push(&mut self, r: &Record) {
        self.buf.extend_from_slice(&r.to_line());
    }

    /// Writes what is buffered as one compressed stream; on failure the
    /// records stay buffered and the next attempt goes to a new part file
    /// (the state of the one that failed is unknown).
    async fn flush(&mut self) {
        if self.buf.is_empty() || self.failures >= MAX_FAILURES {
            return;
        }
        if self.store.is_none() {
            match open(&self.location) {
                Ok(s) => self.store = Some(s),
                Err(e) => {
                    self.failed(&e.to_string());
                    return;
                }
            }
        }
        let store = self.store.as_ref().expect("opened above");
        let bytes = self.codec.compress(&self.buf);
        let rel = format!("{}/{}", self.dir, part_name(self.part, self.codec));
        let r =
            spindle_hadoop::namenode::answer(&self.uri, store.append(&rel, &bytes, !self.created))
                .await;
        match r {
            Ok(Ok(())) => {
                self.written.store(true, Ordering::Relaxed);
                self.buf.clear();
                self.failures = 0;
                self.created = true;
                self.part_len += bytes.len() as u64;
                if self.part_len >= self.max_size {
                    self.next_part();
                }
            }
            Ok(Err(e)) => self.failed(&e.to_string()),
            Err(e) => self.failed(&e.to_string()),
        }
    }

    fn next_part(&mut self) {
        self.part += 1;
        self.part_len = 0;
        self.created = false;
    }

    fn failed(&mut self, why: &str) {
        self.failures += 1;
        if self.failures == 1 {
            tracing::warn!("event log {}: {why}", self.uri);
        }
        if self.created {
            self.next_part();
        }
    }
}

/// The store of a resolved event log directory.
fn open(location: &Location) -> Result<EventStore> {
    Ok(match location {
        Location::Local(p) => {
            EventStore::Local(std::path::absolute(p).unwrap_or_else(|_| p.clone()))
        }
        Location::Hdfs { base, path } => EventStore::Hdfs {
            client: crate::io::hdfs_client(base)?,
            fs: base.clone(),
            dir: path.clone(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use spindle_contract::events::{parse_lines, replay};

    fn conf(dir: &std::path::Path, extra: &[(&str, &str)]) -> Conf {
        let mut pairs = std::collections::BTreeMap::new();
        pairs.insert(
            settings::EVENT_LOG_DIR.name().to_string(),
            format!("file://{}", dir.display()),
        );
        for (k, v) in extra {
            pairs.insert(k.to_string(), v.to_string());
        }
        Conf::new(pairs).unwrap()
    }

    fn info() -> AppInfo {
        AppInfo {
            app_id: "application_5_0007".into(),
            attempt: 2,
            name: "t".into(),
            user: "u".into(),
            properties: spindle_contract::events::redacted_properties(
                [("my.password".to_string(), "hunter2".to_string())]
                    .iter()
                    .map(|(k, v)| (k, v)),
            ),
        }
    }

    fn parts(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let Ok(entries) = std::fs::read_dir(dir.join("application_5_0007_2")) else {
            return Vec::new();
        };
        let mut v: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
        v.sort();
        v
    }

    #[test]
    fn rolls_flushes_at_stage_ends_and_keeps_secrets_out() {
        let tmp = tempfile::tempdir().unwrap();
        let sink = Sink::default();
        // Before the start: kept, and written after the start record.
        sink.emit(Event::ExecutorAdded {
            id: "1".into(),
            host_port: "h:1".into(),
            cores: 2,
        });
        // A rolling size of one byte: every flush starts a new part.
        let at = Location::Local(tmp.path().to_path_buf());
        let log = start_writer(&sink, info(), at, Codec::Gzip, 1).unwrap();
        sink.emit(Event::JobStart {
            job_id: 0,
            name: "count".into(),
        });
        sink.emit(Event::StageSubmitted {
            job_id: 0,
            stage_id: 0,
            num_tasks: 1,
        });
        sink.emit(Event::StageCompleted {
            stage_id: 0,
            status: "COMPLETE".into(),
        });
        // Flushed at the stage's end, without waiting for the timer.
        let deadline = Instant::now() + Duration::from_secs(5);
        let all_text = |parts: &[std::path::PathBuf]| -> Vec<u8> {
            parts
                .iter()
                .flat_map(|p| Codec::Gzip.decompress_prefix(&std::fs::read(p).unwrap()))
                .collect()
        };
        loop {
            let ps = parts(tmp.path());
            let (recs, _) = parse_lines(&all_text(&ps));
            if recs.len() == 5 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "not flushed: {} records",
                recs.len()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        log.end("SUCCEEDED", Reason::Succeeded, "");
        let ps = parts(tmp.path());
        assert!(ps.len() >= 2, "rolled into several parts: {ps:?}");
        assert!(ps[0].to_string_lossy().ends_with("events_00001.jsonl.gz"));
        let text = all_text(&ps);
        assert!(!String::from_utf8_lossy(&text).contains("hunter2"));
        let r = replay(&[text]);
        assert!(r.completed());
        assert_eq!((r.app_id.as_str(), r.attempt), ("application_5_0007", 2));
        assert_eq!(r.executors().len(), 1);
        assert_eq!(r.jobs()[0].stage_ids, vec![0]);
        assert_eq!(r.stages()[0].status, "COMPLETE");
        // Emitting after the end is harmless.
        sink.emit(Event::JobStart {
            job_id: 1,
            name: "x".into(),
        });
    }

    #[test]
    fn zstd_and_off() {
        let tmp = tempfile::tempdir().unwrap();
        let c = conf(tmp.path(), &[(settings::EVENT_LOG_CODEC.name(), "zstd")]);
        let sink = Sink::default();
        let log = start(&sink, info(), &c).unwrap().unwrap();
        log.end("FAILED", Reason::DriverError, "boom");
        let ps = parts(tmp.path());
        assert!(ps[0].to_string_lossy().ends_with(".zst"));
        let r = replay(&[Codec::Zstd.decompress_prefix(&std::fs::read(&ps[0]).unwrap())]);
        let a = r.attempt_info(0);
        assert_eq!(a.diagnostics, "boom");
        assert_eq!(
            (a.reason, a.exit_code),
            (Some(Reason::DriverError), Some(1))
        );
        let tmp = tempfile::tempdir().unwrap();
        let c = conf(tmp.path(), &[(settings::EVENT_LOG_ENABLED.name(), "false")]);
        assert!(start(&Sink::default(), info(), &c).unwrap().is_none());
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
        let c = conf(tmp.path(), &[(settings::EVENT_LOG_CODEC.name(), "lz4")]);
        let e = start(&Sink::default(), info(), &c).unwrap_err().to_string();
        assert!(e.contains("spindle.eventLog.compression.codec"), "{e}");
    }
}
