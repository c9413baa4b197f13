//! Memory sizes as spark-submit takes them (`512m`, `2g`, a bare number is
//! MiB) and the container size YARN must grant: heap + overhead.

use crate::Error;

/// A memory flag's size in MiB (`512m`, `2g`; a bare number is MiB), through
/// the one size parser of the settings registry; `flag` names the option in
/// the error.
pub(crate) fn parse_mb(flag: &str, s: &str) -> Result<u64, Error> {
    spindle_contract::settings::parse_size_mb(s)
        .map_err(|why| Error::Usage(format!("{flag} {s:?}: {why}")))
}

/// The overhead YARN adds to a heap size: an explicit value, or Spark's rule,
/// max(384 MiB, 10 %).
pub(crate) fn overhead_mb(memory_mb: u64, explicit: Option<u64>) -> u64 {
    explicit.unwrap_or_else(|| spindle_contract::launch::default_overhead_mb(memory_mb))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_like_spark() {
        assert_eq!(parse_mb("--x", "512m").unwrap(), 512);
        assert_eq!(parse_mb("--x", "2g").unwrap(), 2048);
        assert_eq!(parse_mb("--x", "2G").unwrap(), 2048);
        assert_eq!(parse_mb("--x", "1gb").unwrap(), 1024);
        assert_eq!(parse_mb("--x", "1024").unwrap(), 1024);
        assert_eq!(parse_mb("--x", "1048576k").unwrap(), 1024);
        assert_eq!(parse_mb("--x", "1t").unwrap(), 1 << 20);
        for bad in ["", "m", "12q", "-1g", "1.5g", "0"] {
            let e = parse_mb("--executor-memory", bad).unwrap_err().to_string();
            assert!(e.contains("--executor-memory"), "{e}");
        }
    }

    #[test]
    fn overhead_follows_spark() {
        assert_eq!(overhead_mb(1024, None), 384);
        assert_eq!(overhead_mb(10240, None), 1024);
        assert_eq!(overhead_mb(1024, Some(100)), 100);
    }
}
