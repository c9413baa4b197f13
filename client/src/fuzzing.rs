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

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    /// CI's share of the fuzzing: every committed input of the target
    /// (`fuzz/corpus/tfile/`: seeds and any crash found since) runs through
    /// its entry point (scripts/fuzz runs libFuzzer itself).
    #[test]
    fn committed_fuzz_corpus_replays() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/tfile");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        assert!(files.len() >= 3, "{}: fewer than 3 seeds", dir.display());
        for path in files {
            eprintln!("replaying {}", path.display());
            super::tfile(&std::fs::read(&path).unwrap());
        }
    }
}
