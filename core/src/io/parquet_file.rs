//! Parquet input and output.
//!
//! The driver reads each file's footer once: a split is a row group, or a
//! run of small consecutive row groups of one file (up to the split size
//! text input uses: the block size, smaller for `min_partitions`), and its
//! byte range gives the split its hosts from the file's HDFS blocks. A task
//! reads the footer again and decodes the row groups that start inside its
//! range, only the columns its record type names (a column projection).
//! From HDFS, a task fetches each needed column chunk whole in one read, as
//! Parquet's Java reader does, and keeps one row group's chunks at a time.

use std::collections::VecDeque;
use std::sync::Mutex;

use bytes::Bytes;
use parquet::arrow::ArrowWriter;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::basic::Compression;
use parquet::errors::ParquetError;
use parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader, RowGroupMetaData};
use parquet::file::properties::WriterProperties;
use parquet::file::reader::{ChunkReader, Length};

use super::columnar;
use super::{
    Location, Split, block_on, hdfs_client, hdfs_err, in_runtime, in_time, list_input, split_hosts,
};
use crate::{Data, Error, Result};

/// Bytes read at once outside the column chunks a task expects (the footer).
const LOOSE_READ: u64 = 1 << 20;

/// `path (Parquet): message`, the form of every Parquet error.
fn bad(path: &str, e: impl std::fmt::Display) -> Error {
    Error::Task(format!("{path} (Parquet): {e}"))
}

/// A Parquet file in HDFS, read through hdfs-native: the column chunks a
/// task will decode are fetched whole (one DataNode read each) and kept
/// until newer ones push them out; other ranges are read as asked.
struct HdfsFile {
    reader: hdfs_native::file::FileReader,
    path: String,
    /// Byte ranges (start, length) of the column chunks to fetch whole.
    chunks: Vec<(u64, u64)>,
    /// Fetched chunks, oldest first, at most `keep` of them.
    cache: Mutex<VecDeque<(u64, Bytes)>>,
    keep: usize,
}

impl HdfsFile {
    fn open(base: &str, path: &str) -> Result<HdfsFile> {
        let client = hdfs_client(base)?;
        let reader = block_on(in_time(base, "opening", path, || client.read(path)))?
            .map_err(|e| hdfs_err("opening", path, e))?;
        Ok(HdfsFile {
            reader,
            path: path.to_string(),
            chunks: Vec::new(),
            cache: Mutex::new(VecDeque::new()),
            keep: 1,
        })
    }

    fn fetch(&self, start: u64, len: u64) -> parquet::errors::Result<Bytes> {
        block_on(self.reader.read_range(start as usize, len as usize))
            .map_err(|e| ParquetError::External(Box::new(hdfs_err("reading", &self.path, e))))
    }

    /// The bytes from `start` to the end of the chunk holding it (fetching
    /// the chunk), or `None` when no expected chunk holds it.
    fn chunk_from(&self, start: u64) -> parquet::errors::Result<Option<Bytes>> {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((at, b)) = cache
            .iter()
            .find(|(at, b)| *at <= start && start < at + b.len() as u64)
        {
            return Ok(Some(b.slice((start - at) as usize..)));
        }
        let Some(&(at, len)) = self
            .chunks
            .iter()
            .find(|(at, len)| *at <= start && start < at + len)
        else {
            return Ok(None);
        };
        let b = self.fetch(at, len)?;
        cache.push_back((at, b.clone()));
        while cache.len() > self.keep {
            cache.pop_front();
        }
        Ok(Some(b.slice((start - at) as usize..)))
    }
}

impl Length for HdfsFile {
    fn len(&self) -> u64 {
        self.reader.file_length() as u64
    }
}

impl ChunkReader for HdfsFile {
    type T = std::io::Cursor<Bytes>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        let bytes = match self.chunk_from(start)? {
            Some(b) => b,
            None => self.fetch(start, LOOSE_READ.min(self.len().saturating_sub(start)))?,
        };
        Ok(std::io::Cursor::new(bytes))
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        match self.chunk_from(start)? {
            Some(b) if b.len() >= length => Ok(b.slice(..length)),
            _ => self.fetch(start, length as u64),
        }
    }
}

/// Where a row group's bytes begin: its first column chunk.
fn row_group_start(rg: &RowGroupMetaData) -> u64 {
    rg.columns()
        .iter()
        .map(|c| c.byte_range().0)
        .min()
        .unwrap_or(0)
}

/// The footer of a Parquet file, local or in HDFS.
fn footer(path: &str) -> Result<ParquetMetaData> {
    let meta = match Location::parse(path)? {
        Location::Local(p) => {
            let f = std::fs::File::open(&p)
                .map_err(|e| Error::io(format!("opening {}", p.display()), e))?;
            ParquetMetaDataReader::new().parse_and_finish(&f)
        }
        Location::Hdfs { base, path: p } => {
            ParquetMetaDataReader::new().parse_and_finish(&HdfsFile::open(&base, &p)?)
        }
    };
    meta.map_err(|e| bad(path, e))
}

/// The splits of a Parquet input (`path` as `text_file` takes it), each a
/// run of consecutive row groups of one file no larger together than the
/// split size (a larger row group is a split of its own), with the hosts
/// of its bytes. Reads every file's footer: a file that is not Parquet
/// fails here, naming it; so does one that lacks a column `T` needs.
pub fn plan_splits<T: Data>(path: &str, min_partitions: u32) -> Result<Vec<Split>> {
    in_runtime(|| plan::<T>(path, min_partitions))?
}

fn plan<T: Data>(path: &str, min_partitions: u32) -> Result<Vec<Split>> {
    let wanted = columnar::fields_of::<T>()?;
    let files = list_input(path)?;
    let total: u64 = files.iter().map(|f| f.len).sum();
    let goal = (total / min_partitions.max(1) as u64).max(1);
    let mut splits = Vec::new();
    for f in files.iter().filter(|f| f.len > 0) {
        let meta = footer(&f.path)?;
        let names: Vec<&str> = meta
            .file_metadata()
            .schema_descr()
            .root_schema()
            .get_fields()
            .iter()
            .map(|c| c.name())
            .collect();
        columnar::check_columns(
            &format!("{} (Parquet)", f.path),
            &wanted,
            &names,
            std::any::type_name::<T>(),
        )?;
        let size = goal.min(f.block).max(1);
        let mut run: Option<(u64, u64)> = None;
        let mut push = |(start, end): (u64, u64)| {
            splits.push(Split {
                path: f.path.clone(),
                start,
                len: end - start,
                hosts: split_hosts(&f.blocks, start, end - start),
            })
        };
        for rg in meta.row_groups() {
            let start = row_group_start(rg);
            let end = start + rg.compressed_size().max(1) as u64;
            run = match run {
                Some((s, _)) if end - s <= size => Some((s, end)),
                Some(r) => {
                    push(r);
                    Some((start, end))
                }
                None => Some((start, end)),
            };
        }
        if let Some(r) = run {
            push(r);
        }
    }
    Ok(splits)
}

/// The records of a split: the row groups that start inside its byte
/// range, decoded as `T` in batches of up to `batch` rows.
pub(crate) fn records<T: Data>(
    split: &Split,
    batch: usize,
) -> Result<Box<dyn Iterator<Item = Result<Vec<T>>> + Send>> {
    // Tasks run inside the executor's runtime, which the HDFS reads of the
    // iterator need (see `in_runtime`).
    match Location::parse(&split.path)? {
        Location::Local(p) => {
            let f = std::fs::File::open(&p)
                .map_err(|e| Error::io(format!("opening {}", p.display()), e))?;
            read_split(f, split, batch, |_, _| {})
        }
        Location::Hdfs { base, path } => {
            let f = HdfsFile::open(&base, &path)?;
            read_split(f, split, batch, |f: &mut HdfsFile, chunks| {
                f.keep = chunks.len().max(1);
                f.chunks = chunks;
            })
        }
    }
}

/// [`records`] from any reader; `expect` is told the column chunks
/// (start, length) the split will read.
fn read_split<T: Data, R: ChunkReader + 'static>(
    mut reader: R,
    split: &Split,
    batch: usize,
    expect: impl FnOnce(&mut R, Vec<(u64, u64)>),
) -> Result<Box<dyn Iterator<Item = Result<Vec<T>>> + Send>> {
    let path = split.path.clone();
    let wanted = columnar::fields_of::<T>()?;
    let meta =
        ArrowReaderMetadata::load(&reader, ArrowReaderOptions::new()).map_err(|e| bad(&path, e))?;
    let schema = meta.schema().clone();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let what = format!("{path} (Parquet)");
    columnar::check_columns(&what, &wanted, &names, std::any::type_name::<T>())?;
    // The projection: the file's top-level columns that T has a field for.
    let roots: Vec<usize> = (0..schema.fields().len())
        .filter(|&i| wanted.iter().any(|w| w.name() == schema.field(i).name()))
        .collect();
    let parquet_schema = meta.metadata().file_metadata().schema_descr_ptr();
    let end = split.start + split.len;
    let groups: Vec<usize> = meta
        .metadata()
        .row_groups()
        .iter()
        .enumerate()
        .filter(|(_, rg)| (split.start..end).contains(&row_group_start(rg)))
        .map(|(i, _)| i)
        .collect();
    let chunks = groups
        .iter()
        .flat_map(|&g| {
            let rg = meta.metadata().row_group(g);
            (0..rg.num_columns())
                .filter(|&c| roots.contains(&parquet_schema.get_column_root_idx(c)))
                .map(move |c| rg.column(c).byte_range())
        })
        .collect();
    expect(&mut reader, chunks);
    if groups.is_empty() {
        return Ok(Box::new(std::iter::empty()));
    }
    let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(reader, meta)
        .with_projection(ProjectionMask::roots(&parquet_schema, roots))
        .with_row_groups(groups)
        .with_batch_size(batch)
        .build()
        .map_err(|e| bad(&path, e))?;
    Ok(Box::new(reader.map(move |b| {
        if crate::task::current_task_cancelled() {
            return Err(Error::Cancelled {
                job: 0,
                reason: format!("stopped reading {path}"),
            });
        }
        let b = b.map_err(|e| bad(&path, e))?;
        columnar::from_batch(&b, &what)
    })))
}

/// Writes records as one Parquet file (snappy-compressed pages, as Spark
/// and pyarrow write by default), in row groups of up to `batch` records
/// handed over at a time.
pub(crate) fn write<T: Data>(
    out: &str,
    batches: impl Iterator<Item = Result<Vec<T>>>,
    w: &mut dyn std::io::Write,
) -> Result<()> {
    let schema = columnar::schema_of::<T>()?;
    let fields: Vec<_> = schema.fields().iter().cloned().collect();
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    let err = |e: ParquetError| Error::Task(format!("writing {out} (Parquet): {e}"));
    // ArrowWriter needs a Send sink; the part file is assembled in memory
    // (the HDFS path buffers a part file whole anyway).
    let mut writer = ArrowWriter::try_new(Vec::new(), schema, Some(props)).map_err(err)?;
    for b in batches {
        let records = b?;
        if !records.is_empty() {
            writer
                .write(&columnar::to_batch(&fields, &records)?)
                .map_err(err)?;
        }
    }
    let bytes = writer.into_inner().map_err(err)?;
    w.write_all(&bytes)
        .map_err(|e| Error::io(format!("writing {out}"), e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    struct Row {
        id: u32,
        name: String,
        weight: Option<f64>,
    }

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    struct Name {
        name: String,
    }

    fn rows(n: u32) -> Vec<Row> {
        (0..n)
            .map(|i| Row {
                id: i,
                name: format!("n{i}"),
                weight: (i % 3 != 0).then_some(i as f64 / 2.0),
            })
            .collect()
    }

    /// A file of `groups` row groups of `per` rows each.
    fn write_file(path: &std::path::Path, groups: u32, per: u32) {
        let mut bytes = Vec::new();
        let batches = (0..groups).map(|g| Ok(rows(per * (g + 1))[(per * g) as usize..].to_vec()));
        // One row group per batch: a row group ends at max_row_group_size.
        let schema = columnar::schema_of::<Row>().unwrap();
        let fields: Vec<_> = schema.fields().iter().cloned().collect();
        let props = WriterProperties::builder()
            .set_max_row_group_row_count(Some(per as usize))
            .build();
        let mut w = ArrowWriter::try_new(&mut bytes, schema, Some(props)).unwrap();
        for b in batches {
            let b: Result<Vec<Row>> = b;
            w.write(&columnar::to_batch(&fields, &b.unwrap()).unwrap())
                .unwrap();
        }
        w.close().unwrap();
        std::fs::write(path, bytes).unwrap();
    }

    fn read_all<T: Data>(splits: &[Split]) -> Vec<T> {
        let mut out = Vec::new();
        for s in splits {
            for b in records::<T>(s, 7).unwrap() {
                out.extend(b.unwrap());
            }
        }
        out
    }

    #[test]
    fn one_split_per_row_group_or_runs_of_small_ones_and_every_row_once() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a.parquet");
        write_file(&f, 5, 100);
        let p = f.to_str().unwrap();
        // The split size below one row group: a split each.
        let splits = plan_splits::<Row>(p, 1000).unwrap();
        assert_eq!(splits.len(), 5, "{splits:?}");
        assert_eq!(read_all::<Row>(&splits), rows(500));
        // One split: all five groups together.
        let splits = plan_splits::<Row>(p, 1).unwrap();
        assert_eq!(splits.len(), 1);
        assert_eq!(read_all::<Row>(&splits), rows(500));
        // Projection: only the name column is decoded.
        let names = read_all::<Name>(&plan_splits::<Name>(p, 3).unwrap());
        assert_eq!(names.len(), 500);
        assert_eq!(names[499].name, "n499");
    }

    #[test]
    fn written_files_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("w.parquet");
        let mut bytes = Vec::new();
        write::<Row>(
            "w",
            vec![Ok(rows(10)), Ok(vec![]), Ok(rows(3))].into_iter(),
            &mut bytes,
        )
        .unwrap();
        std::fs::write(&f, bytes).unwrap();
        let got = read_all::<Row>(&plan_splits::<Row>(f.to_str().unwrap(), 2).unwrap());
        assert_eq!(got, [rows(10), rows(3)].concat());
    }

    #[test]
    fn damaged_files_fail_in_one_line_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("bad.parquet");
        write_file(&f, 2, 50);
        let whole = std::fs::read(&f).unwrap();
        // Truncated: the footer is gone.
        std::fs::write(&f, &whole[..whole.len() / 2]).unwrap();
        let e = plan_splits::<Row>(f.to_str().unwrap(), 2)
            .unwrap_err()
            .to_string();
        assert!(e.contains("bad.parquet (Parquet): "), "{e}");
        assert!(!e.contains('\n'), "{e}");
        // Not Parquet at all.
        std::fs::write(&f, b"id,name\n1,a\n").unwrap();
        let e = plan_splits::<Row>(f.to_str().unwrap(), 2)
            .unwrap_err()
            .to_string();
        assert!(e.contains("bad.parquet (Parquet): "), "{e}");
        // A column T needs is not there.
        #[derive(Clone, Serialize, Deserialize)]
        struct Other {
            zip: String,
        }
        write_file(&f, 1, 5);
        let e = plan_splits::<Other>(f.to_str().unwrap(), 2)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(r#"bad.parquet (Parquet): no column "zip""#)
                && e.contains("id, name, weight"),
            "{e}"
        );
    }
}
