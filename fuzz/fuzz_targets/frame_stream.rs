//! Fuzz target: `spindle_core::fuzzing::frame_stream` (see that function for what it feeds).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| spindle_core::fuzzing::frame_stream(data));
