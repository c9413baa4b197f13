//! CSV and JSON lines: text input split by lines as `text_file` splits it
//! (so compressed files and block locality come with it; a record may not
//! span lines, as with Spark's default `multiLine=false`), each batch of
//! lines decoded into Arrow by arrow-csv or arrow-json against the record
//! type's schema, and written back through their writers.
//!
//! CSV files have a header line naming the columns in the order of the
//! record type's fields (checked, so that columns never shift silently);
//! JSON lines hold one object per line, matched to fields by name (other
//! keys ignored; a missing `Option` field is `None`). A bad record fails
//! the task with the file, the byte offset of its line and, in a split
//! that starts the file, its line number.

use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{ArrowError, SchemaRef};
use serde::{Deserialize, Serialize};

use super::{LineReader, Split, columnar};
use crate::{Data, Error, Result};

/// A line-based record format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum TextFormat {
    /// Comma-separated values with a header line (RFC 4180 quoting).
    Csv,
    /// One JSON object per line.
    JsonLines,
}

impl TextFormat {
    fn name(self) -> &'static str {
        match self {
            TextFormat::Csv => "CSV",
            TextFormat::JsonLines => "JSON lines",
        }
    }

    /// The extension of part files written in this format.
    pub(crate) fn extension(self) -> &'static str {
        match self {
            TextFormat::Csv => ".csv",
            TextFormat::JsonLines => ".json",
        }
    }

    /// Decodes lines (without their ends) into one batch.
    fn decode(
        self,
        schema: &SchemaRef,
        lines: &[&str],
    ) -> std::result::Result<RecordBatch, ArrowError> {
        let mut buf = Vec::with_capacity(lines.iter().map(|l| l.len() + 1).sum());
        for l in lines {
            buf.extend_from_slice(l.as_bytes());
            buf.push(b'\n');
        }
        let rows = lines.len().max(1);
        let batch = match self {
            TextFormat::Csv => {
                let mut d = arrow_csv::ReaderBuilder::new(schema.clone())
                    .with_header(false)
                    .with_batch_size(rows)
                    .build_decoder();
                let mut at = 0;
                while at < buf.len() {
                    match d.decode(&buf[at..])? {
                        0 => break,
                        n => at += n,
                    }
                }
                d.flush()?
            }
            TextFormat::JsonLines => {
                let mut d = arrow_json::ReaderBuilder::new(schema.clone())
                    .with_batch_size(rows)
                    .build_decoder()?;
                let mut at = 0;
                while at < buf.len() {
                    match d.decode(&buf[at..])? {
                        0 => break,
                        n => at += n,
                    }
                }
                d.flush()?
            }
        };
        Ok(batch.unwrap_or_else(|| RecordBatch::new_empty(schema.clone())))
    }
}

/// A CSV header's column names (quotes removed).
fn header_names(line: &str) -> Vec<String> {
    line.split(',')
        .map(|c| c.trim().trim_matches('"').to_string())
        .collect()
}

/// An Arrow decoder's message about one line decoded alone, without the
/// line number it gives (always 1 then).
fn without_line_number(e: &ArrowError) -> String {
    e.to_string()
        .replace(" for line 1,", ",")
        .replace(" for line 1 ", " ")
        .replace(" at line 1.", ".")
        .replace(" at line 1:", ":")
}

/// Reads a split's records.
struct Records {
    lines: LineReader,
    format: TextFormat,
    schema: SchemaRef,
    what: String,
    /// Lines of the file seen so far, when the split starts the file.
    line_no: Option<u64>,
    batch: usize,
}

impl Records {
    fn next_records<T: Data>(&mut self) -> Result<Option<Vec<T>>> {
        loop {
            if crate::task::current_task_cancelled() {
                return Err(Error::Cancelled {
                    job: 0,
                    reason: format!("stopped reading {}", self.lines.path()),
                });
            }
            let Some(lines) = self.lines.next_batch_at(self.batch)? else {
                return Ok(None);
            };
            let first_no = self.line_no;
            if let Some(n) = &mut self.line_no {
                *n += lines.len() as u64;
            }
            let mut keep: Vec<(u64, Option<u64>, &str)> = Vec::with_capacity(lines.len());
            for (i, (at, line)) in lines.iter().enumerate() {
                let no = first_no.map(|n| n + i as u64 + 1);
                if self.format == TextFormat::Csv && *at == 0 {
                    self.check_header(line)?;
                } else if !line.trim().is_empty() {
                    keep.push((*at, no, line));
                }
            }
            if keep.is_empty() {
                continue;
            }
            let texts: Vec<&str> = keep.iter().map(|k| k.2).collect();
            let batch = match self.format.decode(&self.schema, &texts) {
                Ok(b) => b,
                Err(e) => return Err(self.locate(&keep, e)),
            };
            match columnar::from_batch::<T>(&batch, &self.what) {
                Ok(records) => return Ok(Some(records)),
                Err(e) => {
                    // Find the line whose values do not fit T.
                    for &(at, no, line) in &keep {
                        if let Ok(b) = self.format.decode(&self.schema, &[line])
                            && let Err(e) = columnar::from_batch::<T>(&b, "")
                        {
                            return Err(self.at(at, no, e.to_string().trim_start_matches(": ")));
                        }
                    }
                    return Err(e);
                }
            }
        }
    }

    fn check_header(&self, line: &str) -> Result<()> {
        let names = header_names(line);
        let fields: Vec<&str> = self
            .schema
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        if names != fields {
            return Err(Error::Task(format!(
                "{}: the header names the columns {}; the record type's fields are {} (in this order)",
                self.what,
                names.join(", "),
                fields.join(", ")
            )));
        }
        Ok(())
    }

    /// The error of the first line of `lines` that does not decode alone.
    fn locate(&self, lines: &[(u64, Option<u64>, &str)], batch_error: ArrowError) -> Error {
        for &(at, no, line) in lines {
            if let Err(e) = self.format.decode(&self.schema, &[line]) {
                return self.at(at, no, &without_line_number(&e));
            }
        }
        Error::Task(format!("{}: {batch_error}", self.what))
    }

    fn at(&self, at: u64, no: Option<u64>, message: &str) -> Error {
        let no = no.map(|n| format!(" (line {n})")).unwrap_or_default();
        Error::Task(format!(
            "{}: the line at byte {at}{no}: {message}",
            self.what
        ))
    }
}

/// The records of a split of CSV or JSON-lines text, decoded as `T` in
/// batches of up to `batch` lines.
pub(crate) fn records<T: Data>(
    split: &Split,
    format: TextFormat,
    batch: usize,
) -> Result<impl Iterator<Item = Result<Vec<T>>> + Send + use<T>> {
    let schema = columnar::schema_of::<T>()?;
    let lines = LineReader::open(split)?;
    let mut r = Records {
        lines,
        format,
        schema,
        what: format!("{} ({})", split.path, format.name()),
        line_no: (split.start == 0).then_some(0),
        batch,
    };
    let mut done = false;
    Ok(std::iter::from_fn(move || {
        if done {
            return None;
        }
        let next = r.next_records::<T>().transpose();
        done = !matches!(next, Some(Ok(_)));
        next
    }))
}

/// Writes records as CSV (with a header line) or JSON lines.
pub(crate) fn write<T: Data>(
    out: &str,
    format: TextFormat,
    batches: impl Iterator<Item = Result<Vec<T>>>,
    w: &mut dyn std::io::Write,
) -> Result<()> {
    let schema = columnar::schema_of::<T>()?;
    let fields: Vec<_> = schema.fields().iter().cloned().collect();
    let err = |e: ArrowError| Error::Task(format!("writing {out} ({}): {e}", format.name()));
    match format {
        TextFormat::Csv => {
            // The header even for an empty part, so that every file says its columns.
            let mut writer = arrow_csv::WriterBuilder::new().with_header(true).build(w);
            writer
                .write(&RecordBatch::new_empty(Arc::clone(&schema)))
                .map_err(err)?;
            for b in batches {
                let records = b?;
                if !records.is_empty() {
                    writer
                        .write(&columnar::to_batch(&fields, &records)?)
                        .map_err(err)?;
                }
            }
        }
        TextFormat::JsonLines => {
            let mut writer = arrow_json::LineDelimitedWriter::new(w);
            for b in batches {
                let records = b?;
                if !records.is_empty() {
                    writer
                        .write(&columnar::to_batch(&fields, &records)?)
                        .map_err(err)?;
                }
            }
            writer.finish().map_err(err)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    struct Row {
        id: i64,
        name: String,
        score: Option<f64>,
    }

    fn rows(n: i64) -> Vec<Row> {
        (0..n)
            .map(|i| Row {
                id: i,
                name: format!("name, \"{i}\""),
                score: (i % 2 == 0).then_some(i as f64 * 0.25),
            })
            .collect()
    }

    fn read(path: &std::path::Path, format: TextFormat, parts: u32) -> Result<Vec<Row>> {
        let mut out = Vec::new();
        for s in super::super::plan_splits(path.to_str().unwrap(), parts)? {
            for b in records::<Row>(&s, format, 5)? {
                out.extend(b?);
            }
        }
        Ok(out)
    }

    #[test]
    fn written_csv_and_json_lines_read_back_across_splits() {
        let dir = tempfile::tempdir().unwrap();
        for format in [TextFormat::Csv, TextFormat::JsonLines] {
            let f = dir.path().join(format!("x{}", format.extension()));
            let mut bytes = Vec::new();
            write::<Row>(
                "x",
                format,
                vec![Ok(rows(40)), Ok(rows(3))].into_iter(),
                &mut bytes,
            )
            .unwrap();
            std::fs::write(&f, &bytes).unwrap();
            assert_eq!(read(&f, format, 4).unwrap(), [rows(40), rows(3)].concat());
        }
    }

    #[test]
    fn a_csv_header_must_name_the_fields_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("h.csv");
        std::fs::write(&f, "name,id,score\nx,1,\n").unwrap();
        let e = read(&f, TextFormat::Csv, 1).unwrap_err().to_string();
        assert!(
            e.contains("h.csv (CSV): the header names the columns name, id, score; the record type's fields are id, name, score"),
            "{e}"
        );
    }

    #[test]
    fn bad_records_are_named_by_file_offset_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("b.csv");
        std::fs::write(&f, "id,name,score\n1,a,0.5\n2,b,1.5,extra\n3,c,\n").unwrap();
        let e = read(&f, TextFormat::Csv, 1).unwrap_err().to_string();
        assert!(
            e.contains("b.csv (CSV): the line at byte 22 (line 3): ")
                && e.contains("incorrect number of fields, expected 3 got more than 3"),
            "{e}"
        );
        assert!(!e.contains('\n'), "{e}");
        let f = dir.path().join("b.json");
        std::fs::write(
            &f,
            "{\"id\":1,\"name\":\"a\"}\n\n[1,2]\n{\"id\":3,\"name\":\"c\"}\n",
        )
        .unwrap();
        let e = read(&f, TextFormat::JsonLines, 1).unwrap_err().to_string();
        assert!(
            e.contains("b.json (JSON lines): the line at byte 21 (line 3): "),
            "{e}"
        );
        // A value of the wrong type.
        std::fs::write(
            &f,
            "{\"id\":1,\"name\":\"a\"}\n{\"id\":\"two\",\"name\":\"b\"}\n",
        )
        .unwrap();
        let e = read(&f, TextFormat::JsonLines, 1).unwrap_err().to_string();
        assert!(
            e.contains("b.json (JSON lines): the line at byte 20 (line 2): "),
            "{e}"
        );
    }
}
