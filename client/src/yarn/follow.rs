//! `spindle logs --follow <appId>`: a running application's container logs
//! as they grow, then what is left of them once YARN aggregated them into
//! HDFS, each line once and in order per container and file.
//!
//! While the application runs, the lines come from its AM through the RM's
//! web proxy (`/api/v1/applications/<id>/logs`, kept by
//! `spindle_core::container_logs`: the AM's own output and what its executors
//! sent over Spindle's channel), so the client needs no access to the
//! NodeManagers. Every file is followed by byte offset, printed up to its last
//! complete line; after the end, the aggregated copy of the same file
//! continues from that offset.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::time::{Duration, Instant};

use spindle_contract::api::LogSpan;
use spindle_hadoop::ids::ApplicationId;
use spindle_hadoop::spnego::Spnego;
use spindle_hadoop::yarn::AppState;

use super::Cluster;
use super::logs::{Selection, aggregated, get_bytes, http_client, tail_start};
use super::progress::usable_tracking_url;
use crate::Error;

/// How often the RM and the AM are asked.
const POLL: Duration = Duration::from_secs(1);
/// RM answers may fail this long in a row before following stops.
const RM_OUTAGE: Duration = Duration::from_secs(60);
/// How long to wait for YARN to aggregate the logs after the end.
const AGGREGATION_WAIT: Duration = Duration::from_secs(90);
/// With `--tail`, how far back the first read of a running file looks.
const TAIL_WINDOW: u64 = 1 << 20;

/// A followed file: (container id, file name).
type Key = (String, String);

/// Follows `app` to its end and through its aggregated logs; 0 once some
/// log was printed.
pub(crate) async fn follow(
    cluster: &Cluster,
    app: ApplicationId,
    selection: &Selection,
) -> Result<i32, Error> {
    let http = http_client(cluster)?;
    let spnego = cluster
        .kerberos
        .as_ref()
        .map(|k| Spnego::new(k.login.credential.clone()));
    let mut out = Printer::default();
    let mut failing_since: Option<Instant> = None;
    let mut said_waiting = false;
    let report = loop {
        let report = match cluster.rest.app(app).await {
            Ok(r) => {
                failing_since = None;
                r
            }
            Err(e) => {
                if failing_since.get_or_insert_with(Instant::now).elapsed() > RM_OUTAGE {
                    return Err(e.into());
                }
                tokio::time::sleep(POLL).await;
                continue;
            }
        };
        if report.state.is_final() {
            break report;
        }
        let tracking = report
            .tracking_url
            .as_deref()
            .filter(|u| u.starts_with("http"));
        match (report.state, tracking) {
            (AppState::Running, Some(url)) => {
                let base = format!(
                    "{}/api/v1/applications/{app}/logs",
                    usable_tracking_url(url, cluster.rest.active_base()).trim_end_matches('/')
                );
                // Only the AM's own answers count: once it is gone, the RM's
                // proxy answers with an HTML page of its own.
                let get = |url: String| {
                    let (http, spnego) = (&http, spnego.as_ref());
                    let expect = Some("application/octet-stream");
                    async move { get_bytes(http, &cluster.trust, &url, spnego, expect).await }
                };
                let index = get_bytes(
                    &http,
                    &cluster.trust,
                    &base,
                    spnego.as_ref(),
                    Some("application/json"),
                );
                // The AM may not serve yet (or be gone already): try again.
                if let Ok(Some(body)) = index.await
                    && let Ok(index) = serde_json::from_slice::<Vec<LogSpan>>(&body)
                {
                    for span in index
                        .iter()
                        .filter(|s| selection.wants(&s.container, &s.file))
                    {
                        let key = (span.container.clone(), span.file.clone());
                        if !out.offsets.contains_key(&key) {
                            let first = first_offset(span, selection.tail, |o| {
                                get(format!(
                                    "{base}/{}/{}?offset={o}",
                                    span.container, span.file
                                ))
                            })
                            .await;
                            out.offsets.insert(key.clone(), first);
                        }
                        let mut offset = out.offsets[&key];
                        if offset < span.start {
                            tracing::warn!(
                                "{} {}: bytes {offset}..{} were dropped by the AM before \
                                 they were read (it keeps the last 4 MiB of each file)",
                                span.container,
                                span.file,
                                span.start
                            );
                            offset = span.start;
                            out.offsets.insert(key.clone(), offset);
                        }
                        while offset < span.end {
                            let url =
                                format!("{base}/{}/{}?offset={offset}", span.container, span.file);
                            let Ok(Some(mut bytes)) = get(url).await else {
                                break;
                            };
                            // Never past what the index announced.
                            bytes.truncate((span.end - offset) as usize);
                            let used = out.lines(&key, &bytes, false);
                            if used == 0 {
                                break;
                            }
                            offset += used as u64;
                        }
                    }
                }
            }
            _ if !said_waiting => {
                tracing::info!(
                    "{app} is {}; following it once it runs",
                    report.state.as_str()
                );
                said_waiting = true;
            }
            _ => {}
        }
        tokio::time::sleep(POLL).await;
    };
    tracing::info!(
        "{app} ended ({:?}); reading its aggregated logs",
        report.final_status
    );
    // Containers seen running must all be in the aggregated logs (each node
    // writes its file when the application ends there); without any, the
    // listing must stay the same for one poll.
    let seen: BTreeSet<&String> = out.offsets.keys().map(|(c, _)| c).collect();
    let seen: BTreeSet<String> = seen.into_iter().cloned().collect();
    let waited = Instant::now();
    let mut last_listing: Option<Vec<Key>> = None;
    let logs = loop {
        let logs = aggregated(cluster, &report.user, app).await?;
        let listing: Vec<Key> = logs
            .files
            .iter()
            .map(|(_, f)| (f.container.clone(), f.name.clone()))
            .collect();
        let containers: BTreeSet<&String> = listing.iter().map(|(c, _)| c).collect();
        let complete = !logs.in_progress
            && !listing.is_empty()
            && seen.iter().all(|c| containers.contains(c))
            && (!seen.is_empty() || last_listing.as_ref() == Some(&listing));
        if complete {
            break logs;
        }
        if waited.elapsed() > AGGREGATION_WAIT {
            tracing::warn!(
                "{app}: YARN has not aggregated every container's logs after {} s \
                 (yarn.log-aggregation-enable must be true); showing what there is",
                AGGREGATION_WAIT.as_secs()
            );
            break logs;
        }
        last_listing = Some(listing);
        tokio::time::sleep(POLL * 2).await;
    };
    for (_, f) in &logs.files {
        if !selection.wants(&f.container, &f.name) {
            continue;
        }
        let key = (f.container.clone(), f.name.clone());
        let from = match out.offsets.get(&key) {
            Some(&o) => o as usize,
            None => selection.tail.map_or(0, |n| tail_start(&f.contents, n)),
        };
        if from < f.contents.len() {
            out.lines(&key, &f.contents[from..], true);
        }
    }
    if out.printed == 0 {
        eprintln!("spindle: no logs found for {app}");
        return Ok(1);
    }
    Ok(0)
}

/// Where following a running file starts: its beginning, or with `--tail N`
/// its last N lines among the last [`TAIL_WINDOW`] bytes.
async fn first_offset<F, Fut>(span: &LogSpan, tail: Option<usize>, read: F) -> u64
where
    F: Fn(u64) -> Fut,
    Fut: std::future::Future<Output = Result<Option<Vec<u8>>, Error>>,
{
    let Some(n) = tail else {
        return span.start;
    };
    let from = span.start.max(span.end.saturating_sub(TAIL_WINDOW));
    let mut window = Vec::new();
    while from + (window.len() as u64) < span.end {
        match read(from + window.len() as u64).await {
            Ok(Some(b)) if !b.is_empty() => window.extend_from_slice(&b),
            _ => break,
        }
    }
    // Drop a partial first line, and a partial last line (printed once whole).
    let whole = window
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let mut at = tail_start(&window[..whole], n);
    if at == 0 && from > span.start {
        at = window
            .iter()
            .position(|&b| b == b'\n')
            .map_or(whole, |i| i + 1);
    }
    from + at as u64
}

/// Prints lines with their container and file in front, and remembers how
/// far each file was printed.
#[derive(Default)]
struct Printer {
    offsets: BTreeMap<Key, u64>,
    printed: usize,
}

impl Printer {
    /// Prints the complete lines of `bytes` (all of it when `last`), which
    /// continue `key`'s file at its offset; returns the bytes used. A line
    /// longer than one read is printed in pieces.
    fn lines(&mut self, key: &Key, bytes: &[u8], last: bool) -> usize {
        let used = if last || bytes.len() >= 1 << 20 {
            bytes.len()
        } else {
            bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1)
        };
        if used == 0 {
            return 0;
        }
        let mut text = Vec::with_capacity(used + 64);
        for line in bytes[..used].split_inclusive(|&b| b == b'\n') {
            let line = line.strip_suffix(b"\n").unwrap_or(line);
            let _ = write!(text, "[{} {}] ", key.0, key.1);
            text.extend_from_slice(String::from_utf8_lossy(line).as_bytes());
            text.push(b'\n');
        }
        // A closed pipe (`| head`) ends the output, not the program's logic.
        let _ = std::io::stdout().lock().write_all(&text);
        *self.offsets.entry(key.clone()).or_default() += used as u64;
        self.printed += 1;
        used
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_complete_lines_are_printed_and_counted() {
        let mut p = Printer::default();
        let k: Key = ("c1".into(), "stdout".into());
        p.offsets.insert(k.clone(), 10);
        assert_eq!(p.lines(&k, b"one\ntw", false), 4);
        assert_eq!(p.offsets[&k], 14);
        assert_eq!(p.lines(&k, b"tw", false), 0);
        assert_eq!(p.lines(&k, b"two", true), 3);
        assert_eq!(p.offsets[&k], 17);
    }

    #[tokio::test]
    async fn a_tail_starts_at_a_line_of_the_kept_bytes() {
        let file = b"l1\nl2\nl3\nl4\npart".to_vec();
        let span = LogSpan {
            container: "c".into(),
            file: "stdout".into(),
            start: 0,
            end: file.len() as u64,
        };
        let read = |o: u64| {
            let b = file[o as usize..].to_vec();
            async move { Ok(Some(b)) }
        };
        assert_eq!(first_offset(&span, Some(2), read).await, 6);
        assert_eq!(first_offset(&span, None, read).await, 0);
        assert_eq!(first_offset(&span, Some(9), read).await, 0);
    }
}
