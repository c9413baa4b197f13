//! The live output of an application's YARN containers, kept by the driver
//! for `spindle logs --follow`: every process (the AM and each executor) tails
//! its own stdout and stderr, which the NodeManager's launch command
//! redirected into the container's log directory, and the executors send the
//! new bytes over Spindle's authenticated channel (`AppendLog`). The AM serves
//! them through the RM's web proxy, so a client that cannot reach the
//! NodeManagers (or speak SPNEGO to them) still follows a running application.
//!
//! Offsets are byte offsets in those files, which are also the files YARN
//! aggregates into HDFS at the end: a client that printed bytes up to an
//! offset continues in the aggregated copy at that offset, with no gap and no
//! line twice. Each file keeps only its last [`KEEP`] bytes in memory.

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use spindle_contract::api::LogSpan;

/// The bytes kept per container log file; older ones are dropped (a follower
/// that fell further behind is told where the kept bytes start).
pub const KEEP: usize = 4 << 20;
/// The most one read of a process's own output sends at once.
pub const CHUNK: usize = 256 << 10;

/// Kept bytes of one file: `data` starts at byte `start` of the file.
#[derive(Default)]
struct Kept {
    start: u64,
    data: Vec<u8>,
}

impl Kept {
    fn end(&self) -> u64 {
        self.start + self.data.len() as u64
    }
}

/// The container log files of this application that reached this process.
#[derive(Default)]
pub struct LogStore {
    files: Mutex<BTreeMap<(String, String), Kept>>,
}

/// The process's one store (the AM's own output and its executors').
pub fn store() -> &'static LogStore {
    static STORE: OnceLock<LogStore> = OnceLock::new();
    STORE.get_or_init(LogStore::default)
}

impl LogStore {
    /// Adds `data`, found at `offset` of `container`'s `file`. Bytes already
    /// kept are skipped; a chunk after a hole starts the file anew there.
    pub fn append(&self, container: &str, file: &str, offset: u64, data: &[u8]) {
        let mut files = self.files.lock().expect("log store");
        let kept = files
            .entry((container.to_string(), file.to_string()))
            .or_default();
        let end = kept.end();
        if offset > end {
            kept.start = offset;
            kept.data.clear();
            kept.data.extend_from_slice(data);
        } else {
            let skip = (end - offset) as usize;
            if skip < data.len() {
                kept.data.extend_from_slice(&data[skip..]);
            }
        }
        if kept.data.len() > KEEP {
            let drop = kept.data.len() - KEEP;
            kept.data.drain(..drop);
            kept.start += drop as u64;
        }
    }

    /// Every file with the byte range kept.
    pub fn index(&self) -> Vec<LogSpan> {
        let files = self.files.lock().expect("log store");
        files
            .iter()
            .map(|((container, file), k)| LogSpan {
                container: container.clone(),
                file: file.clone(),
                start: k.start,
                end: k.end(),
            })
            .collect()
    }

    /// The bytes past what a reader holds (`have`: each file's end, by container and file; a
    /// file it lacks is read from its first kept byte), at most [`CHUNK`] per file and about
    /// `max_total` in all: (container, file, offset, bytes).
    pub fn since(
        &self,
        have: &BTreeMap<(String, String), u64>,
        max_total: usize,
    ) -> Vec<(String, String, u64, Vec<u8>)> {
        let files = self.files.lock().expect("log store");
        let mut out = Vec::new();
        let mut total = 0;
        for (key, k) in files.iter() {
            if total >= max_total {
                break;
            }
            let from = have.get(key).copied().unwrap_or(0).max(k.start);
            if from >= k.end() {
                continue;
            }
            let at = (from - k.start) as usize;
            let data = k.data[at..(at + CHUNK).min(k.data.len())].to_vec();
            total += data.len();
            out.push((key.0.clone(), key.1.clone(), from, data));
        }
        out
    }

    /// Up to `max` bytes of a file from `offset`, which must lie within the
    /// kept range (`None` otherwise, or for an unknown file).
    pub fn read(&self, container: &str, file: &str, offset: u64, max: usize) -> Option<Vec<u8>> {
        let files = self.files.lock().expect("log store");
        let k = files.get(&(container.to_string(), file.to_string()))?;
        if offset < k.start || offset > k.end() {
            return None;
        }
        let from = (offset - k.start) as usize;
        let to = (from + max).min(k.data.len());
        Some(k.data[from..to].to_vec())
    }
}

/// This process's own stdout and stderr when they are files (a YARN
/// container's log files), read from where the last read stopped.
pub struct OwnOutput {
    files: Vec<(String, PathBuf, u64)>,
}

impl OwnOutput {
    /// The files behind descriptors 1 and 2; empty when they are not regular
    /// files (a terminal, a pipe: local mode).
    pub fn open() -> OwnOutput {
        let mut files = Vec::new();
        for fd in [1, 2] {
            let Ok(path) = std::fs::read_link(format!("/proc/self/fd/{fd}")) else {
                continue;
            };
            let regular = std::fs::metadata(&path).is_ok_and(|m| m.is_file());
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .map(str::to_string);
            if let (true, Some(name)) = (regular, name)
                && !files.iter().any(|(n, _, _)| *n == name)
            {
                files.push((name, path, 0));
            }
        }
        OwnOutput { files }
    }

    /// New bytes of each file since the last call, at most [`CHUNK`] each:
    /// (file name, offset, bytes).
    pub fn read_new(&mut self) -> Vec<(String, u64, Vec<u8>)> {
        let mut out = Vec::new();
        for (name, path, offset) in &mut self.files {
            let Ok(mut f) = std::fs::File::open(&*path) else {
                continue;
            };
            if f.seek(SeekFrom::Start(*offset)).is_err() {
                continue;
            }
            let mut data = Vec::new();
            if f.take(CHUNK as u64).read_to_end(&mut data).is_ok() && !data.is_empty() {
                let n = data.len() as u64;
                out.push((name.clone(), *offset, data));
                *offset += n;
            }
        }
        out
    }
}

impl OwnOutput {
    /// Reads `file` again from `offset` next time (its bytes did not arrive).
    pub fn rewind(&mut self, file: &str, offset: u64) {
        for (name, _, at) in &mut self.files {
            if name == file {
                *at = (*at).min(offset);
            }
        }
    }
}

/// Copies this process's own output into [`store`] every second, under
/// `container` (the AM's own container; executors send theirs instead).
pub fn keep_own_output(container: String) {
    let mut own = OwnOutput::open();
    if own.files.is_empty() {
        return;
    }
    let _ = std::thread::Builder::new()
        .name("spindle-own-logs".into())
        .spawn(move || {
            loop {
                for (file, offset, data) in own.read_new() {
                    store().append(&container, &file, offset, &data);
                }
                std::thread::sleep(std::time::Duration::from_secs(1));
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_skip_what_is_kept_and_restart_after_a_hole() {
        let s = LogStore::default();
        s.append("c1", "stdout", 0, b"abc");
        s.append("c1", "stdout", 1, b"bcde");
        assert_eq!(s.read("c1", "stdout", 0, 100).unwrap(), b"abcde");
        assert_eq!(s.read("c1", "stdout", 3, 1).unwrap(), b"d");
        assert_eq!(s.read("c1", "stdout", 5, 10).unwrap(), b"");
        assert!(s.read("c1", "stdout", 6, 10).is_none());
        assert!(s.read("c1", "stderr", 0, 10).is_none());
        s.append("c1", "stdout", 10, b"xy");
        assert!(s.read("c1", "stdout", 5, 10).is_none());
        assert_eq!(s.read("c1", "stdout", 10, 10).unwrap(), b"xy");
        let idx = s.index();
        assert_eq!(idx.len(), 1);
        assert_eq!((idx[0].start, idx[0].end), (10, 12));
    }

    #[test]
    fn a_reader_gets_what_it_lacks_and_copies_converge() {
        let driver = LogStore::default();
        driver.append("c1", "stdout", 0, b"one\n");
        driver.append("c2", "stderr", 0, b"x");
        let am = LogStore::default();
        let have = |s: &LogStore| {
            s.index()
                .into_iter()
                .map(|sp| ((sp.container, sp.file), sp.end))
                .collect::<BTreeMap<_, _>>()
        };
        let copy = |from: &LogStore, to: &LogStore| {
            for (c, f, off, data) in from.since(&have(to), usize::MAX) {
                to.append(&c, &f, off, &data);
            }
        };
        copy(&driver, &am);
        driver.append("c1", "stdout", 4, b"two\n");
        assert_eq!(
            driver.since(&have(&am), usize::MAX),
            vec![("c1".into(), "stdout".into(), 4, b"two\n".to_vec())]
        );
        copy(&driver, &am);
        assert!(driver.since(&have(&am), usize::MAX).is_empty());
        assert_eq!(am.read("c1", "stdout", 0, 100).unwrap(), b"one\ntwo\n");
        assert_eq!(am.read("c2", "stderr", 0, 100).unwrap(), b"x");
        // The budget stops after the file that reaches it.
        assert_eq!(driver.since(&BTreeMap::new(), 1).len(), 1);
    }

    #[test]
    fn only_the_last_bytes_of_a_file_are_kept() {
        let s = LogStore::default();
        let big = vec![b'x'; KEEP + 10];
        s.append("c", "stderr", 0, &big);
        let idx = s.index();
        assert_eq!((idx[0].start, idx[0].end), (10, KEEP as u64 + 10));
        assert!(s.read("c", "stderr", 9, 1).is_none());
    }

    #[test]
    fn own_output_reads_only_new_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stdout");
        std::fs::write(&path, b"one\n").unwrap();
        let mut own = OwnOutput {
            files: vec![("stdout".into(), path.clone(), 0)],
        };
        assert_eq!(
            own.read_new(),
            vec![("stdout".into(), 0, b"one\n".to_vec())]
        );
        assert!(own.read_new().is_empty());
        std::fs::write(&path, b"one\ntwo\n").unwrap();
        assert_eq!(
            own.read_new(),
            vec![("stdout".into(), 4, b"two\n".to_vec())]
        );
        own.rewind("stdout", 4);
        assert_eq!(
            own.read_new(),
            vec![("stdout".into(), 4, b"two\n".to_vec())]
        );
    }
}
