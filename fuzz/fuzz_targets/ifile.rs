//! Fuzz target: `spindle_client::fuzzing::ifile` (see that function for what it feeds).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| spindle_client::fuzzing::ifile(data));
