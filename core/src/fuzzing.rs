//! Entry points for the fuzz targets in `fuzz/` and for the tests that replay
//! their corpora (feature `fuzzing`; not an API). Each feeds arbitrary bytes
//! to one decoder of bytes that come from outside the process, as the engine
//! does, and returns normally whatever the bytes: a panic, a hang or an
//! allocation beyond the input's bound is the bug a fuzzer reports.

use crate::codec::{self, FrameReader, FrameStream};
use crate::plan::{StagePlan, TaskInputs, TaskOutcome};

/// A shuffle block fetched from a peer, as a reducer reads it. The first byte
/// picks the record type.
pub fn frame_reader(data: &[u8]) {
    let Some((&kind, block)) = data.split_first() else {
        return;
    };
    match kind % 3 {
        0 => drain_reader::<(String, u64)>(block),
        1 => drain_reader::<(u64, Vec<u8>)>(block),
        _ => drain_reader::<(Option<i64>, Vec<String>)>(block),
    }
}

/// Each input twice: as it is (mostly refused by a frame's checksum), and
/// with its checksums made right, as a hostile peer would send it.
fn drain_reader<T: serde::de::DeserializeOwned>(block: &[u8]) {
    let mut r = FrameReader::new(block.to_vec());
    while let Ok(Some(_)) = r.next_batch::<T>() {}
    let mut sealed = block.to_vec();
    codec::reseal(&mut sealed);
    let mut r = FrameReader::new(sealed);
    while let Ok(Some(_)) = r.next_batch::<T>() {}
}

/// A spill file read back frame by frame. The first byte picks the record type.
pub fn frame_stream(data: &[u8]) {
    let Some((&kind, file)) = data.split_first() else {
        return;
    };
    match kind % 3 {
        0 => drain_stream::<(String, u64)>(file),
        1 => drain_stream::<(u64, Vec<u8>)>(file),
        _ => drain_stream::<(Option<i64>, Vec<String>)>(file),
    }
}

fn drain_stream<T: serde::de::DeserializeOwned>(file: &[u8]) {
    let mut r = FrameStream::new(file);
    while let Ok(Some(_)) = r.next_batch::<T>() {}
    let mut sealed = file.to_vec();
    codec::reseal(&mut sealed);
    let mut r = FrameStream::new(&sealed[..]);
    while let Ok(Some(_)) = r.next_batch::<T>() {}
}

/// What crosses the driver–executor channel: the first byte picks a stage
/// plan or a task's inputs (decoded by an executor) or a task's outcome
/// (decoded by the driver).
pub fn task_plan(data: &[u8]) {
    let Some((&kind, bytes)) = data.split_first() else {
        return;
    };
    match kind % 3 {
        0 => {
            if let Ok(plan) = codec::decode::<StagePlan>(bytes, "stage plan") {
                let _ = plan.node(plan.root);
            }
        }
        1 => {
            let _ = codec::decode::<TaskInputs>(bytes, "task inputs");
        }
        _ => {
            let _ = codec::decode::<TaskOutcome>(bytes, "task outcome");
        }
    }
}

#[cfg(test)]
mod tests {
    /// CI's share of the fuzzing: every committed input of the targets.
    #[test]
    fn committed_fuzz_corpora_replay() {
        spindle_test_support::replay_corpora(&[
            ("frame_reader", super::frame_reader),
            ("frame_stream", super::frame_stream),
            ("task_plan", super::task_plan),
        ]);
    }
}
