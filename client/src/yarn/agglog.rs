//! What the two formats of YARN's aggregated logs share: the decoded shape
//! (per container, per log file, its bytes), their gz compression, and
//! telling them apart. A NodeManager writes one file per application and
//! node in the format `yarn.log-aggregation.file-formats` names first: TFile
//! ([`super::tfile`], the default) or IFile ([`super::ifile`]).

use std::io::Read;

/// One log file of one container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LogFile {
    pub container: String,
    pub name: String,
    pub contents: Vec<u8>,
}

/// What an aggregated log file holds.
#[derive(Debug, Default)]
pub(crate) struct AggregatedLog {
    pub owner: Option<String>,
    pub files: Vec<LogFile>,
}

/// Decodes one node's aggregated log file of application `app` (the whole
/// file in memory), whichever format it is in. `end`: where an IFile's
/// valid part ends, from its `-checksum` file. `None`: an IFile the
/// NodeManager is still writing (it writes in place, not to a `.tmp`).
pub(crate) fn decode(
    file: &[u8],
    app: &str,
    end: Option<u64>,
) -> Result<Option<AggregatedLog>, String> {
    if super::ifile::starts_like(file, app) {
        super::ifile::decode(file, app, end)
    } else {
        super::tfile::decode(file).map(Some)
    }
}

/// The largest region inflated (a block's or a log file's raw size).
pub(crate) const MAX_RAW: i64 = 1 << 30;

/// Inflates Hadoop's `gz` (its `DefaultCodec`: zlib streams, one after
/// another where the writer flushed) to at most `raw + 1` bytes, so a caller
/// can tell "more than it said" from "exactly".
pub(crate) fn inflate(stored: &[u8], raw: i64, what: &str) -> Result<Vec<u8>, String> {
    if !(0..=MAX_RAW).contains(&raw) {
        return Err(format!(
            "{what}: raw size {raw} out of range (at most {MAX_RAW})"
        ));
    }
    let mut out = Vec::new();
    let mut rest = stored;
    while !rest.is_empty() && out.len() as i64 <= raw {
        let mut z = flate2::bufread::ZlibDecoder::new(rest);
        let room = (raw + 1 - out.len() as i64) as u64;
        (&mut z)
            .take(room)
            .read_to_end(&mut out)
            .map_err(|e| format!("{what}: inflating gz: {e}"))?;
        let used = z.total_in() as usize;
        if used == 0 {
            break;
        }
        rest = &rest[used.min(rest.len())..];
    }
    Ok(out)
}

/// The error for a compression other than `none` and `gz`.
pub(crate) fn unknown_compression(name: &str) -> String {
    format!(
        "compressed with {name:?}; aggregated logs are read uncompressed or gz \
         (yarn.nodemanager.log-aggregation.compression-type)"
    )
}

#[cfg(test)]
pub(crate) mod tests {
    /// zlib streams of `parts` of `data`, one after another (a writer that flushed).
    pub(crate) fn zlib(data: &[u8], parts: usize) -> Vec<u8> {
        use std::io::Write;
        let mut out = Vec::new();
        for piece in data.chunks(data.len().div_ceil(parts).max(1)) {
            let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
            z.write_all(piece).unwrap();
            out.extend_from_slice(&z.finish().unwrap());
        }
        out
    }

    #[test]
    fn inflation_stops_one_byte_past_the_size_it_was_told() {
        let stored = zlib(b"abcdefgh", 3);
        assert_eq!(super::inflate(&stored, 8, "t").unwrap(), b"abcdefgh");
        assert_eq!(super::inflate(&stored, 3, "t").unwrap(), b"abcd");
        assert!(
            super::inflate(&stored, -1, "t")
                .unwrap_err()
                .contains("out of range")
        );
        assert!(super::inflate(b"garbage", 6, "t").is_err());
    }
}
