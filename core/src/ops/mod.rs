//! The monomorphized functions tasks run, named by offset in plans: sources,
//! narrow transformations, shuffle writers/readers and action sinks.

pub(crate) mod actions;
pub(crate) mod external;
pub(crate) mod map_combine;
pub(crate) mod narrow;
pub(crate) mod shuffle;
pub(crate) mod source;

/// Records per batch produced by sources and re-batching operations.
pub(crate) const BATCH: usize = 4096;

/// Whether tasks log what they spill (`SPINDLE_VERBOSE=1`).
fn verbose() -> bool {
    spindle_contract::settings::verbose()
}

/// Prints one log line with a single write, so lines of executors sharing
/// the driver's stderr never interleave.
fn log_line(line: String) {
    use std::io::Write;
    let _ = std::io::stderr().write_all(format!("{line}\n").as_bytes());
}
