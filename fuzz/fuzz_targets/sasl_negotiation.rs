//! Fuzz target: `spindle_hadoop::fuzzing::sasl_negotiation` (see that function for what it feeds).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| spindle_hadoop::fuzzing::sasl_negotiation(data));
