//! Memory sizes as spark-submit takes them (`512m`, `2g`, a bare number is
//! MiB) and the container size YARN must grant: heap + overhead.

use crate::Error;

/// Parses whole numbers with an optional unit
/// (`b`, `k`, `m`, `g`, `t`, optionally followed by `b`), into MiB. A bare
/// number is MiB, as Spark reads `spark.executor.memory`. `flag` names the
/// option in the error.
pub fn parse_mb(flag: &str, s: &str) -> Result<u64, Error> {
    let bad = |why: &str| Error::Usage(format!("{flag} {s:?}: {why} (e.g. 512m, 2g)"));
    let t = s.trim().to_ascii_lowercase();
    let digits_end = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    if digits_end == 0 {
        return Err(bad("not a size"));
    }
    let n: u64 = t[..digits_end].parse().map_err(|_| bad("too large"))?;
    let unit = t[digits_end..].trim();
    let unit = unit
        .strip_suffix('b')
        .filter(|u| !u.is_empty())
        .unwrap_or(unit);
    let bytes_per = match unit {
        "" | "m" => 1 << 20,
        "b" => 1,
        "k" => 1 << 10,
        "g" => 1 << 30,
        "t" => 1 << 40,
        _ => return Err(bad("unknown unit")),
    };
    let bytes = n.checked_mul(bytes_per).ok_or_else(|| bad("too large"))?;
    let mb = bytes.div_ceil(1 << 20);
    if mb == 0 {
        return Err(bad("must be at least 1 MiB"));
    }
    Ok(mb)
}

/// The overhead YARN adds to a heap size: an explicit value, or Spark's rule,
/// max(384 MiB, 10 %).
pub fn overhead_mb(memory_mb: u64, explicit: Option<u64>) -> u64 {
    explicit.unwrap_or_else(|| spindle_am::launch::default_overhead_mb(memory_mb))
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
