//! Reads YARN's indexed aggregated-log format, "IFile"
//! (`LogAggregationIndexedFileController`, chosen by
//! `yarn.log-aggregation.file-formats=IFile`), one file per NodeManager.
//!
//! Layout (facts from Hadoop's controller; see docs/hadoop-notes.md): the
//! file starts with a UUID, the SHA-256 of the application id's text (32
//! bytes, in 3.3.6 to 3.5.0; the controller's first versions wrote a random
//! 36-character UUID); then each
//! log file's bytes as they were, or for `gz` one zlib stream per log file;
//! then the index, a Java-serialized `IndexedLogsMeta` (user, compression
//! name, node id, and per aggregation cycle a map from container id to a
//! list of `IndexedFileLogMeta`: file name, size, stored size, start offset,
//! modification time), its length (i32) and the UUID again. Rolling
//! aggregation appends more logs and a fresh, cumulative index each cycle,
//! so the last index describes everything; a `<node>-checksum` file beside
//! it names where the last complete cycle ends while one is being written.
//! The NodeManager writes in place, so a file that does not end with its
//! UUID yet is still being written.

use sha2::{Digest, Sha256};

use super::agglog::{AggregatedLog, LogFile, inflate, unknown_compression};
use super::javaser::{self, Object, Stream, Value};

const CONTROLLER: &str = "org.apache.hadoop.yarn.logaggregation.filecontroller.ifile.\
                          LogAggregationIndexedFileController";

type R<T> = Result<T, String>;

/// The UUID an IFile of `app` starts with, when it starts with one: its
/// length (32, or 36 for a text UUID of older releases).
fn uuid_len(file: &[u8], app: &str) -> Option<usize> {
    let digest = Sha256::digest(app.as_bytes());
    if file.len() >= 32 && file[..32] == digest[..] {
        return Some(32);
    }
    let text = file.get(..36)?;
    let dashes = [8, 13, 18, 23];
    let is_uuid = text.iter().enumerate().all(|(i, &b)| {
        if dashes.contains(&i) {
            b == b'-'
        } else {
            b.is_ascii_hexdigit()
        }
    });
    is_uuid.then_some(36)
}

/// Whether `file` begins as an IFile of application `app` does.
pub(crate) fn starts_like(file: &[u8], app: &str) -> bool {
    uuid_len(file, app).is_some()
}

/// Decodes an IFile of application `app`; `end` is where its valid part
/// ends when a `-checksum` file says so. `None`: still being written.
pub(crate) fn decode(file: &[u8], app: &str, end: Option<u64>) -> R<Option<AggregatedLog>> {
    let n = uuid_len(file, app).ok_or_else(|| {
        format!("byte 0: not an IFile of {app} (no UUID: the SHA-256 of the application id)")
    })?;
    let end = match end {
        None => file.len(),
        Some(0) => return Ok(Some(AggregatedLog::default())),
        Some(e) => usize::try_from(e)
            .ok()
            .filter(|&e| e <= file.len())
            .ok_or_else(|| {
                format!(
                    "its -checksum file says it ends at byte {e}, it has {} bytes",
                    file.len()
                )
            })?,
    };
    let uuid = &file[..n];
    if end < 2 * n + 4 || &file[end - n..end] != uuid {
        return Ok(None);
    }
    let len_at = end - n - 4;
    let len = i32::from_be_bytes(file[len_at..len_at + 4].try_into().expect("4 bytes"));
    let meta_at = usize::try_from(len)
        .ok()
        .filter(|&l| l > 0 && l <= len_at - n)
        .map(|l| len_at - l)
        .ok_or_else(|| {
            format!(
                "byte {len_at}: index length {len} does not fit the {} bytes before it",
                len_at - n
            )
        })?;
    let stream = javaser::read(&file[meta_at..len_at])
        .map_err(|e| format!("byte {}: index: {}", meta_at + e.offset, e.message))?;
    let index = Index {
        s: &stream,
        base: meta_at,
    };
    let metas = index.read()?;
    // Log bytes lie between the leading UUID and the last index, and no two
    // files share bytes (else a small file could claim its bytes many times).
    let mut regions: Vec<(usize, usize, &FileMeta)> = Vec::new();
    for m in &metas.files {
        let start = usize::try_from(m.start).ok();
        let stored = usize::try_from(m.stored).ok();
        let (Some(start), Some(stored)) = (start, stored) else {
            return Err(m.err(format!("start {} and stored size {}", m.start, m.stored)));
        };
        if start < n || start.checked_add(stored).is_none_or(|e| e > meta_at) {
            return Err(m.err(format!(
                "bytes {start}..+{stored} lie outside the log data (bytes {n}..{meta_at})"
            )));
        }
        if stored > 0 {
            regions.push((start, stored, m));
        }
    }
    regions.sort_by_key(|r| r.0);
    for w in regions.windows(2) {
        if w[0].0 + w[0].1 > w[1].0 {
            return Err(w[1].2.err(format!(
                "its bytes from {} overlap those of {} {}",
                w[1].0, w[0].2.container, w[0].2.name
            )));
        }
    }
    let mut out = AggregatedLog {
        owner: metas.user,
        files: Vec::with_capacity(metas.files.len()),
    };
    for m in &metas.files {
        // Like Hadoop's reader: the file's size in bytes, or what is stored
        // when that is less (a file that shrank while it was aggregated).
        let stored = &file[m.start as usize..(m.start + m.stored) as usize];
        let size = usize::try_from(m.size).map_err(|_| m.err(format!("size {}", m.size)))?;
        let contents = match metas.compression.as_str() {
            "none" => stored[..size.min(stored.len())].to_vec(),
            "gz" => {
                let mut v = inflate(stored, m.size, &format!("{} {}", m.container, m.name))
                    .map_err(|e| m.err(e))?;
                v.truncate(size);
                v
            }
            other => return Err(format!("byte {meta_at}: {}", unknown_compression(other))),
        };
        out.files.push(LogFile {
            container: m.container.clone(),
            name: m.name.clone(),
            contents,
        });
    }
    Ok(Some(out))
}

/// One log file as the index describes it.
#[derive(Debug)]
struct FileMeta {
    container: String,
    name: String,
    size: i64,
    stored: i64,
    start: i64,
    /// Where its object is in the file, for errors.
    at: usize,
}

impl FileMeta {
    fn err(&self, what: String) -> String {
        format!(
            "byte {}: index entry of {} {}: {what}",
            self.at, self.container, self.name
        )
    }
}

/// What `spindle logs` needs of the index.
struct Metas {
    user: Option<String>,
    compression: String,
    /// By aggregation cycle, then container id, then as listed.
    files: Vec<FileMeta>,
}

/// Reads the index's objects by class and field name.
struct Index<'s> {
    s: &'s Stream,
    base: usize,
}

impl<'s> Index<'s> {
    fn read(&self) -> R<Metas> {
        let top = self.object(&self.s.root, "IndexedLogsMeta", "the index")?;
        let compression = self
            .string(top, "compressName")?
            .unwrap_or_else(|| "none".into());
        let mut files = Vec::new();
        for cycle in self.list(self.field(top, "logMetas")?, "logMetas")? {
            let cycle = self.object(cycle, "IndexedPerAggregationLogMeta", "a cycle")?;
            let mut containers = self.map(self.field(cycle, "logMetas")?, "a cycle's logMetas")?;
            containers.sort_by(|a, b| a.0.cmp(&b.0));
            for (container, list) in containers {
                for f in self.list(list, &container)? {
                    let f = self.object(f, "IndexedFileLogMeta", &container)?;
                    files.push(FileMeta {
                        container: self.string(f, "containerId")?.unwrap_or(container.clone()),
                        name: self.string(f, "fileName")?.unwrap_or_default(),
                        size: self.long(f, "fileSize")?,
                        stored: self.long(f, "fileCompressedSize")?,
                        start: self.long(f, "startIndex")?,
                        at: self.base + f.at,
                    });
                }
            }
        }
        Ok(Metas {
            user: self.string(top, "user")?,
            compression,
            files,
        })
    }

    fn at(&self, o: &Object) -> usize {
        self.base + o.at
    }

    /// The object `v` is, of the controller's nested class `class`.
    fn object(&self, v: &Value, class: &str, what: &str) -> R<&'s Object> {
        let Value::Object(i) = v else {
            return Err(format!(
                "byte {}: {what}: {v:?} where an {class} belongs",
                self.base
            ));
        };
        let o = &self.s.objects[*i];
        if *o.class != format!("{CONTROLLER}${class}") {
            return Err(format!(
                "byte {}: {what}: an object of class {} where an {class} belongs",
                self.at(o),
                o.class
            ));
        }
        Ok(o)
    }

    fn field(&self, o: &'s Object, name: &str) -> R<&'s Value> {
        o.field(name).ok_or_else(|| {
            format!(
                "byte {}: {} has no field {name}",
                self.at(o),
                short(&o.class)
            )
        })
    }

    fn string(&self, o: &Object, name: &str) -> R<Option<String>> {
        match self.field(o, name)? {
            Value::Null => Ok(None),
            Value::Str(s) => Ok(Some(s.to_string())),
            other => Err(format!(
                "byte {}: {}.{name} is {other:?}, not a string",
                self.at(o),
                short(&o.class)
            )),
        }
    }

    fn long(&self, o: &Object, name: &str) -> R<i64> {
        match self.field(o, name)? {
            Value::Int(n) => Ok(*n),
            other => Err(format!(
                "byte {}: {}.{name} is {other:?}, not a number",
                self.at(o),
                short(&o.class)
            )),
        }
    }

    /// A `java.util` list's elements (null: none).
    fn list(&self, v: &Value, what: &str) -> R<&'s [Value]> {
        match v {
            Value::Null => Ok(&[]),
            Value::Object(i) => {
                let o = &self.s.objects[*i];
                match &*o.class {
                    "java.util.ArrayList" | "java.util.LinkedList" => Ok(&o.written),
                    other => Err(format!(
                        "byte {}: {what}: a {other} where a list belongs",
                        self.at(o)
                    )),
                }
            }
            other => Err(format!(
                "byte {}: {what}: {other:?} where a list belongs",
                self.base
            )),
        }
    }

    /// A `java.util` map from strings, as (key, value) pairs (null: none).
    fn map(&self, v: &Value, what: &str) -> R<Vec<(String, &'s Value)>> {
        let o = match v {
            Value::Null => return Ok(Vec::new()),
            Value::Object(i) => &self.s.objects[*i],
            other => {
                return Err(format!(
                    "byte {}: {what}: {other:?} where a map belongs",
                    self.base
                ));
            }
        };
        if !matches!(
            &*o.class,
            "java.util.HashMap" | "java.util.LinkedHashMap" | "java.util.TreeMap"
        ) || o.written.len() % 2 != 0
        {
            return Err(format!(
                "byte {}: {what}: a {} of {} entries where a map belongs",
                self.at(o),
                o.class,
                o.written.len()
            ));
        }
        o.written
            .chunks(2)
            .map(|kv| match &kv[0] {
                Value::Str(k) => Ok((k.to_string(), &kv[1])),
                other => Err(format!(
                    "byte {}: {what}: key {other:?}, not a container id",
                    self.at(o)
                )),
            })
            .collect()
    }
}

/// A nested class's own name, for messages.
fn short(class: &str) -> &str {
    class.rsplit(['$', '.']).next().unwrap_or(class)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::yarn::agglog::tests::zlib;
    use crate::yarn::javaser::tests::{ENUM, SERIALIZABLE, WRITE_METHOD, Writer};

    pub(crate) const APP: &str = "application_1700000000000_0007";

    fn nested(w: &mut Writer, name: &str, fields: &[(u8, &str, &str)]) {
        w.object()
            .class(&format!("{CONTROLLER}${name}"), SERIALIZABLE, fields);
    }

    fn hash_map(w: &mut Writer, entries: u8) {
        w.object()
            .class(
                "java.util.HashMap",
                WRITE_METHOD,
                &[(b'F', "loadFactor", ""), (b'I', "threshold", "")],
            )
            .bytes(&0.75f32.to_bits().to_be_bytes())
            .bytes(&12i32.to_be_bytes())
            .block(&[0, 0, 0, 16, 0, 0, 0, entries]);
    }

    fn array_list(w: &mut Writer, n: usize) {
        w.object()
            .class("java.util.ArrayList", WRITE_METHOD, &[(b'I', "size", "")])
            .bytes(&(n as i32).to_be_bytes())
            .block(&(n as i32).to_be_bytes());
    }

    /// An index entry: (container, file, start, stored size, size).
    type Entry<'a> = (&'a str, &'a str, i64, i64, i64);

    /// A Java-serialized index in the controller's shape (one cycle; fields
    /// in the order the JDK writes them: primitives, then objects, by
    /// name; every class described anew, which the grammar allows):
    /// (container, file, start, stored size, size).
    pub(crate) fn index(algo: &str, files: &[Entry]) -> Vec<u8> {
        let mut w = Writer::new();
        nested(
            &mut w,
            "IndexedLogsMeta",
            &[
                (b'I', "version", ""),
                (b'L', "acls", "Ljava/util/Map;"),
                (b'L', "compressName", "Ljava/lang/String;"),
                (b'L', "logMetas", "Ljava/util/List;"),
                (b'L', "nodeId", "Ljava/lang/String;"),
                (b'L', "user", "Ljava/lang/String;"),
            ],
        );
        w.bytes(&1i32.to_be_bytes());
        hash_map(&mut w, 1);
        w.u8(ENUM)
            .class(
                "org.apache.hadoop.yarn.api.records.ApplicationAccessType",
                SERIALIZABLE,
                &[],
            )
            .string("VIEW_APP")
            .string("*")
            .end();
        w.string(algo);
        array_list(&mut w, 1);
        nested(
            &mut w,
            "IndexedPerAggregationLogMeta",
            &[
                (b'J', "uploadTimeStamp", ""),
                (b'L', "logMetas", "Ljava/util/Map;"),
                (b'L', "remoteNodeLogFileName", "Ljava/lang/String;"),
            ],
        );
        w.bytes(&1_700_000_000_000i64.to_be_bytes());
        let mut containers: Vec<&str> = files.iter().map(|f| f.0).collect();
        containers.dedup();
        hash_map(&mut w, containers.len() as u8);
        for c in containers {
            w.string(c);
            let mine: Vec<_> = files.iter().filter(|f| f.0 == c).collect();
            array_list(&mut w, mine.len());
            for (container, name, start, stored, size) in mine {
                nested(
                    &mut w,
                    "IndexedFileLogMeta",
                    &[
                        (b'J', "fileCompressedSize", ""),
                        (b'J', "fileSize", ""),
                        (b'J', "lastModifiedTime", ""),
                        (b'J', "startIndex", ""),
                        (b'L', "containerId", "Ljava/lang/String;"),
                        (b'L', "fileName", "Ljava/lang/String;"),
                    ],
                );
                for v in [*stored, *size, 0, *start] {
                    w.bytes(&v.to_be_bytes());
                }
                w.string(container).string(name);
            }
            w.end();
        }
        w.end(); // the map of containers
        w.string("localhost_1234");
        w.end(); // the list of cycles
        w.string("localhost:1234").string("alice");
        w.out
    }

    /// A whole IFile of [`APP`] holding `logs` (container, file, bytes).
    pub(crate) fn sample(algo: &str, logs: &[(&str, &str, &[u8])]) -> Vec<u8> {
        let uuid = Sha256::digest(APP.as_bytes());
        let mut file = uuid.to_vec();
        let mut files = Vec::new();
        for (c, name, body) in logs {
            let stored = if algo == "gz" {
                zlib(body, 1)
            } else {
                body.to_vec()
            };
            files.push((
                *c,
                *name,
                file.len() as i64,
                stored.len() as i64,
                body.len() as i64,
            ));
            file.extend_from_slice(&stored);
        }
        with_index(file, &index(algo, &files))
    }

    fn with_index(mut file: Vec<u8>, meta: &[u8]) -> Vec<u8> {
        let uuid = Sha256::digest(APP.as_bytes());
        file.extend_from_slice(meta);
        file.extend_from_slice(&(meta.len() as i32).to_be_bytes());
        file.extend_from_slice(&uuid);
        file
    }

    const LOGS: &[(&str, &str, &[u8])] = &[
        (
            "container_1700000000000_0007_01_000002",
            "stdout",
            b"task out\n",
        ),
        ("container_1700000000000_0007_01_000001", "stderr", b""),
        (
            "container_1700000000000_0007_01_000001",
            "stdout",
            b"driver 0\ndriver 1\n",
        ),
    ];

    #[test]
    fn decodes_the_index_and_the_logs_plain_and_gz() {
        for algo in ["none", "gz"] {
            let log = decode(&sample(algo, LOGS), APP, None).unwrap().unwrap();
            assert_eq!(log.owner.as_deref(), Some("alice"));
            let got: Vec<(&str, &str, &[u8])> = log
                .files
                .iter()
                .map(|f| (f.container.as_str(), f.name.as_str(), &f.contents[..]))
                .collect();
            // Containers in id order, files as listed.
            assert_eq!(got, vec![LOGS[1], LOGS[2], LOGS[0]], "{algo}");
        }
    }

    /// A NodeManager's own file (Hadoop 3.5.0, gz; the `spindle-testjobs chatty 2` job on the
    /// mini-Hadoop), its UUIDs rewritten for [`APP`]: Java's real ObjectOutputStream output,
    /// with shared class descriptors and the container ids written once and referenced back.
    #[test]
    fn decodes_a_nodemanagers_own_file() {
        let file = include_bytes!("../../../fuzz/corpus/ifile/nodemanager-gz-three-containers");
        let log = decode(file, APP, None).unwrap().unwrap();
        assert_eq!(log.owner.as_deref(), Some("root"));
        assert_eq!(log.files.len(), 18);
        let containers: std::collections::BTreeSet<&str> =
            log.files.iter().map(|f| f.container.as_str()).collect();
        assert_eq!(containers.len(), 3, "{containers:?}");
        let text = |c: &str, name: &str| {
            let f = log
                .files
                .iter()
                .find(|f| f.container.ends_with(c) && f.name == name);
            String::from_utf8(f.unwrap().contents.clone()).unwrap()
        };
        let driver: Vec<String> = (0..20).map(|i| format!("driver {i}\n")).collect();
        assert!(text("_000001", "stdout").starts_with(&driver.concat()));
        for (c, p) in [("_000002", 0), ("_000003", 1)] {
            let want = |s: &str| {
                (0..20)
                    .map(|i| format!("part {p} {s} {i}\n"))
                    .collect::<String>()
            };
            let (out, err) = (text(c, "stdout"), text(c, "stderr"));
            // Which executor ran which task is the scheduler's choice.
            let other = |s: &str| want(s).replace(&format!("part {p}"), &format!("part {}", 1 - p));
            assert!(out == want("out") || out == other("out"), "{out}");
            assert!(err == want("err") || err == other("err"), "{err}");
        }
        assert_eq!(text("_000002", "prelaunch.err"), "");
    }

    #[test]
    fn a_file_without_its_closing_uuid_is_still_being_written() {
        let good = sample("none", LOGS);
        assert!(starts_like(&good, APP));
        assert!(!starts_like(&good, "application_1700000000000_0008"));
        assert!(
            decode(&good[..good.len() - 1], APP, None)
                .unwrap()
                .is_none()
        );
        assert!(decode(&good[..40], APP, None).unwrap().is_none());
        // A -checksum file's end: 0 means nothing aggregated yet; beyond the file is an error.
        assert!(
            decode(&good, APP, Some(0))
                .unwrap()
                .unwrap()
                .files
                .is_empty()
        );
        let e = decode(&good, APP, Some(1 << 40)).unwrap_err();
        assert!(e.contains("-checksum"), "{e}");
        // The index of an earlier cycle, followed by more bytes: read up to the end given.
        let mut longer = good.clone();
        longer.extend_from_slice(b"\nmore logs of a cycle in progress");
        let log = decode(&longer, APP, Some(good.len() as u64))
            .unwrap()
            .unwrap();
        assert_eq!(log.files.len(), 3);
    }

    #[test]
    fn bad_indexes_name_the_byte() {
        let uuid = Sha256::digest(APP.as_bytes()).to_vec();
        // Regions outside the data, overlapping, or in an unknown compression.
        let mut data = uuid.clone();
        data.extend_from_slice(b"abcdefgh");
        let cases: [(&str, &[Entry], &str); 4] = [
            (
                "none",
                &[("c", "stdout", 32, 9000, 8)],
                "outside the log data",
            ),
            ("none", &[("c", "stdout", 0, 4, 4)], "outside the log data"),
            (
                "none",
                &[("c", "stdout", 32, 8, 8), ("c", "stderr", 36, 4, 4)],
                "overlap those of c stdout",
            ),
            ("lzo", &[("c", "stdout", 32, 8, 8)], "\"lzo\""),
        ];
        for (algo, files, want) in cases {
            let e = decode(&with_index(data.clone(), &index(algo, files)), APP, None).unwrap_err();
            assert!(e.starts_with("byte ") && e.contains(want), "{want}: {e}");
        }
        // An index that is not an IndexedLogsMeta; a length that does not fit.
        let mut w = Writer::new();
        w.string("hello");
        let e = decode(&with_index(data.clone(), &w.out), APP, None).unwrap_err();
        assert!(e.contains("where an IndexedLogsMeta belongs"), "{e}");
        let mut bad = sample("none", LOGS);
        let at = bad.len() - 36;
        bad[at..at + 4].copy_from_slice(&i32::MAX.to_be_bytes());
        let e = decode(&bad, APP, None).unwrap_err();
        assert_eq!(
            e,
            format!(
                "byte {at}: index length {} does not fit the {} bytes before it",
                i32::MAX,
                at - 32
            )
        );
        // A field of the wrong type, named with its byte.
        let meta = index("none", &[("c", "stdout", 32, 8, 8)]);
        let mut swapped = meta.clone();
        let pos = swapped
            .windows(9)
            .position(|x| x == b"startIndex".get(..9).unwrap())
            .unwrap();
        swapped[pos - 3] = b'I'; // declare startIndex an int: the values shift
        let e = decode(&with_index(data.clone(), &swapped), APP, None).unwrap_err();
        assert!(e.starts_with("byte "), "{e}");
    }

    #[test]
    fn garbage_and_truncation_are_errors_not_panics() {
        let good = sample("gz", LOGS);
        for cut in 0..good.len() {
            let mut bad = good[..cut].to_vec();
            bad.extend_from_slice(&good[good.len() - 36..]);
            let _ = decode(&bad, APP, None);
        }
        let mut flipped = good.clone();
        for i in 32..flipped.len() - 32 {
            for bit in [0x01, 0x80, 0xff] {
                flipped[i] ^= bit;
                let _ = decode(&flipped, APP, None);
                flipped[i] ^= bit;
            }
        }
    }
}
