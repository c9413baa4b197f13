//! The one `tracing` subscriber of a Spindle process (the `spindle` CLI, an
//! AM, an executor, a local driver), set up once by its entry point; library
//! code only emits events. Lines go to stderr (under YARN: the container's
//! stderr log file) with a UTC timestamp, the level and the target.
//!
//! `SPINDLE_LOG` (else `RUST_LOG`) filters them with `tracing`'s directive
//! syntax (`debug`, `spindle_am=debug,hdfs_native=info`); the default shows
//! Spindle's own info lines and every other crate's warnings. Crates that log
//! through the `log` facade (hdfs-native) go through the same subscriber.
//!
//! What the `spindle` CLI answers (what it submitted, its progress line, a
//! command's result, its one-line final error) is the command's output, not a
//! log line: it stays plain text on stderr, unfiltered.

use tracing_subscriber::EnvFilter;

/// The filter used when neither variable is set.
pub const DEFAULT_FILTER: &str = "warn,spindle=info";

/// The filter's directives: `SPINDLE_LOG`, else `RUST_LOG`, else [`DEFAULT_FILTER`].
fn directives(var: impl Fn(&str) -> Option<String>) -> (String, Option<&'static str>) {
    for name in [crate::settings::LOG.var_name(), "RUST_LOG"] {
        if let Some(v) = var(name).filter(|v| !v.trim().is_empty()) {
            return (v, Some(name));
        }
    }
    (DEFAULT_FILTER.to_string(), None)
}

/// Installs the subscriber; later calls (and a subscriber already set by a
/// test harness) leave the first one in place. A filter that does not parse
/// costs a warning, and the default is used.
pub fn init() {
    let (text, from) = directives(|k| std::env::var(k).ok());
    let (filter, bad) = match EnvFilter::builder().parse(&text) {
        Ok(f) => (f, None),
        Err(e) => (EnvFilter::new(DEFAULT_FILTER), Some(e)),
    };
    let installed = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init()
        .is_ok();
    if let (true, Some(e), Some(var)) = (installed, bad, from) {
        tracing::warn!("{var}={text:?} is not a log filter ({e}); using {DEFAULT_FILTER:?}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spindle_log_comes_before_rust_log_and_the_default() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(
            directives(env(&[("SPINDLE_LOG", "debug"), ("RUST_LOG", "trace")])),
            ("debug".to_string(), Some("SPINDLE_LOG"))
        );
        assert_eq!(
            directives(env(&[("SPINDLE_LOG", " "), ("RUST_LOG", "trace")])),
            ("trace".to_string(), Some("RUST_LOG"))
        );
        assert_eq!(directives(env(&[])), (DEFAULT_FILTER.to_string(), None));
        assert!(EnvFilter::builder().parse(DEFAULT_FILTER).is_ok());
    }
}
