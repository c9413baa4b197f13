//! Records as Arrow record batches, the form Parquet, CSV and JSON lines are
//! read and written in: a record type's Arrow fields come from its serde
//! shape (serde_arrow traces the type), so a struct's fields are the
//! columns; `Option` fields are nullable.

use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{FieldRef, Schema, SchemaRef};
use serde_arrow::schema::{SchemaLike, TracingOptions};

use crate::{Data, Error, Result};

/// How record types map to Arrow: plain `Utf8`, `Binary` and `List` (what
/// pyarrow and Spark write, not their 64-bit-offset variants), enums without
/// data as strings.
fn tracing() -> TracingOptions {
    TracingOptions::default()
        .strings_as_large_utf8(false)
        .bytes_as_large_binary(false)
        .sequence_as_large_list(false)
        .enums_without_data_as_strings(true)
}

/// The Arrow fields of `T`, one per field of the struct.
pub(crate) fn fields_of<T: Data>() -> Result<Vec<FieldRef>> {
    Vec::<FieldRef>::from_type::<T>(tracing()).map_err(|e| {
        Error::Config(format!(
            "{} has no Arrow schema (records of Parquet, CSV and JSON lines are structs of plain fields): {e}",
            std::any::type_name::<T>()
        ))
    })
}

/// The Arrow schema of `T`.
pub(crate) fn schema_of<T: Data>() -> Result<SchemaRef> {
    Ok(Arc::new(Schema::new(fields_of::<T>()?)))
}

/// Records as one record batch of `fields`.
pub(crate) fn to_batch<T: Data>(fields: &[FieldRef], records: &[T]) -> Result<RecordBatch> {
    serde_arrow::to_record_batch(fields, &records).map_err(|e| {
        Error::Task(format!(
            "{} records as Arrow: {e}",
            std::any::type_name::<T>()
        ))
    })
}

/// The rows of a batch as records; `what` names where they came from.
pub(crate) fn from_batch<T: Data>(batch: &RecordBatch, what: &str) -> Result<Vec<T>> {
    serde_arrow::from_record_batch(batch).map_err(|e| {
        Error::Task(format!(
            "{what}: rows as {}: {e}",
            std::any::type_name::<T>()
        ))
    })
}

/// The fields of `T` a file's columns must provide: every field that is not
/// an `Option` (a missing nullable column reads as `None`). An error names
/// the file, the missing column and the columns the file has.
pub(crate) fn check_columns(
    what: &str,
    wanted: &[FieldRef],
    have: &[&str],
    type_name: &str,
) -> Result<()> {
    for f in wanted {
        if !f.is_nullable() && !have.contains(&f.name().as_str()) {
            return Err(Error::Task(format!(
                "{what}: no column {:?} for the field of {type_name} (its columns: {})",
                f.name(),
                have.join(", ")
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    struct Row {
        name: String,
        n: i64,
        score: Option<f64>,
    }

    #[test]
    fn records_round_trip_through_a_batch_with_plain_arrow_types() {
        let fields = fields_of::<Row>().unwrap();
        let names: Vec<_> = fields
            .iter()
            .map(|f| (f.name().clone(), f.data_type().to_string(), f.is_nullable()))
            .collect();
        assert_eq!(
            names,
            [
                ("name".into(), "Utf8".into(), false),
                ("n".into(), "Int64".into(), false),
                ("score".into(), "Float64".into(), true)
            ]
        );
        let rows = vec![
            Row {
                name: "a".into(),
                n: -3,
                score: None,
            },
            Row {
                name: "b".into(),
                n: 7,
                score: Some(0.5),
            },
        ];
        let batch = to_batch(&fields, &rows).unwrap();
        assert_eq!(batch.num_rows(), 2);
        assert_eq!(from_batch::<Row>(&batch, "test").unwrap(), rows);
    }

    #[test]
    fn a_missing_required_column_is_named_with_the_columns_there_are() {
        let fields = fields_of::<Row>().unwrap();
        let e = check_columns("f.parquet", &fields, &["name", "x"], "Row")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(r#"f.parquet: no column "n" for the field of Row (its columns: name, x)"#),
            "{e}"
        );
        // A nullable field may be missing.
        check_columns("f.parquet", &fields, &["name", "n"], "Row").unwrap();
    }
}
