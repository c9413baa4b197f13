//! Entry points for the fuzz targets in `fuzz/` and for the tests that replay
//! their corpora (feature `fuzzing`; not an API).

/// An aggregated log file as `spindle logs` reads it from HDFS: decodes or
/// fails with a message, and never yields more log bytes than the file holds.
pub fn tfile(data: &[u8]) {
    if let Ok(log) = crate::yarn::tfile::decode(data) {
        let total: usize = log.files.iter().map(|f| f.contents.len()).sum();
        assert!(total <= data.len(), "{total} log bytes from {}", data.len());
    }
}

/// The application whose IFile aggregated logs the `ifile` seeds are (an
/// IFile begins and ends with the SHA-256 of its application id).
pub const IFILE_APP: &str = "application_1700000000000_0007";

/// An IFile aggregated log as `spindle logs` reads it: the input as a whole
/// file of [`IFILE_APP`], and as the Java-serialized index of one (framed
/// by the UUIDs and its length, so mutations reach the index reader).
/// Decodes or fails with a message; the logs never exceed what their
/// regions of the input can inflate to (zlib: about 1032 to 1).
pub fn ifile(data: &[u8]) {
    use sha2::Digest;
    let check = |file: &[u8]| {
        if let Ok(Some(log)) = crate::yarn::ifile::decode(file, IFILE_APP, None) {
            let total: usize = log.files.iter().map(|f| f.contents.len()).sum();
            assert!(
                total <= file.len() * 1040,
                "{total} log bytes from {}",
                file.len()
            );
        }
    };
    check(data);
    let uuid = sha2::Sha256::digest(IFILE_APP.as_bytes());
    let mut framed = uuid.to_vec();
    framed.extend_from_slice(data);
    framed.extend_from_slice(&(data.len() as i32).to_be_bytes());
    framed.extend_from_slice(&uuid);
    check(&framed);
    if let Ok(s) = crate::yarn::javaser::read(data) {
        assert!(s.objects.len() <= data.len(), "{} objects", s.objects.len());
    }
}

/// A driver binary as `spindle submit` inspects it: reads or fails with a message.
pub fn elf(data: &[u8]) {
    if let Ok(info) = crate::elf::inspect(data) {
        assert!(
            info.needed.len() <= data.len() / 16,
            "{} libraries",
            info.needed.len()
        );
        let _ = info.summary();
    }
}

#[cfg(test)]
mod tests {
    /// CI's share of the fuzzing: every committed input of the targets.
    #[test]
    fn committed_fuzz_corpora_replay() {
        spindle_test_support::replay_corpora(&[
            ("tfile", super::tfile),
            ("ifile", super::ifile),
            ("elf", super::elf),
        ]);
    }
}
