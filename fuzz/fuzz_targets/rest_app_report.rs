//! Fuzz target: `spindle_hadoop::fuzzing::rest_app_report` (see that function for what it feeds).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| spindle_hadoop::fuzzing::rest_app_report(data));
