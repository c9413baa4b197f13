//! Saving records as Parquet, CSV or JSON lines (the `columnar` feature).

use crate::io::delimited::TextFormat;
use crate::ops::actions;
use crate::{Data, Dataset, Result};

/// Records are written by their serde shape: a struct's fields are the
/// columns (`Option` fields nullable), as [`Context::parquet_file`] reads
/// them back. Like [`save_as_text_file`](Dataset::save_as_text_file), `path`
/// is a directory that must not exist; part files appear only when the whole
/// job succeeded.
///
/// [`Context::parquet_file`]: crate::Context::parquet_file
impl<T: Data> Dataset<T> {
    /// Writes one Parquet file per partition (`part-00000.parquet`, ...;
    /// snappy-compressed, as Spark and pyarrow write by default).
    ///
    /// ```no_run
    /// # #[derive(Clone, serde::Serialize, serde::Deserialize)]
    /// # struct Visit { url: String, ms: u64 }
    /// # fn f(visits: spindle_core::Dataset<Visit>) -> spindle_core::Result<()> {
    /// visits.save_as_parquet("hdfs:///warehouse/visits")?;
    /// # Ok(()) }
    /// ```
    pub fn save_as_parquet(&self, path: &str) -> Result<()> {
        self.save_with(
            path,
            actions::sink_save_columnar::<T>,
            "save_as_parquet",
            ".parquet",
            None,
        )
    }

    /// Writes one CSV file per partition (`part-00000.csv`, ...), each with
    /// a header line naming the fields.
    pub fn save_as_csv(&self, path: &str) -> Result<()> {
        self.save_with(
            path,
            actions::sink_save_columnar::<T>,
            "save_as_csv",
            TextFormat::Csv.extension(),
            None,
        )
    }

    /// Writes one JSON-lines file per partition (`part-00000.json`, ...):
    /// an object per record, `None` fields left out.
    pub fn save_as_json(&self, path: &str) -> Result<()> {
        self.save_with(
            path,
            actions::sink_save_columnar::<T>,
            "save_as_json",
            TextFormat::JsonLines.extension(),
            None,
        )
    }
}
