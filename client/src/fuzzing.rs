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
        spindle_test_support::replay_corpora(&[("tfile", super::tfile), ("elf", super::elf)]);
    }
}
