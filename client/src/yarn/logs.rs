//! `spindle logs <appId>`: containers still on a NodeManager are read
//! through its web services (`/ws/v1/node/apps/<appId>` lists them,
//! `/ws/v1/node/containers/<id>/logs` lists their files,
//! `/ws/v1/node/containerlogs/<id>/<file>` serves one); once the
//! application has ended and YARN aggregated its logs into HDFS
//! (`yarn.nodemanager.remote-app-log-dir`), they are read from there (TFile
//! or IFile, plain or gz: [`super::agglog`]).
//! `--follow` reads a running application's logs from its AM instead
//! ([`super::follow`]).

use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;
use spindle_hadoop::ids::ApplicationId;
use spindle_hadoop::spnego::{AUTH_COOKIE, Spnego};
use spindle_hadoop::tls::HttpsTrust;

use super::Cluster;
use super::agglog::{self, LogFile};
use crate::Error;
use spindle_contract::staging::hdfs;

/// Which container log files to show.
#[derive(Clone, Debug, Default)]
pub(crate) struct Selection {
    /// Only this container.
    pub container: Option<String>,
    /// Only the AM's containers (container number 1 of each attempt).
    pub am: bool,
    /// Only these files (stdout, stderr); all when empty.
    pub files: Vec<String>,
    /// Only the last lines of each file.
    pub tail: Option<usize>,
}

impl Selection {
    pub(crate) fn wants(&self, container: &str, file: &str) -> bool {
        self.container.as_deref().is_none_or(|c| c == container)
            && (!self.am || is_am_container(container))
            && (self.files.is_empty() || self.files.iter().any(|f| f == file))
    }
}

/// Whether a container id names an AM: YARN gives an attempt's AM the
/// attempt's first container (`container_[e<epoch>_]<ts>_<app>_<attempt>_000001`).
pub(crate) fn is_am_container(id: &str) -> bool {
    id.starts_with("container_")
        && id.rsplit('_').next().and_then(|n| n.parse::<u64>().ok()) == Some(1)
}

/// Where the last `n` lines of `bytes` start (a last line without its
/// newline counts as a line).
pub(crate) fn tail_start(bytes: &[u8], n: usize) -> usize {
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let mut seen = 0;
    for (i, &b) in body.iter().enumerate().rev() {
        if b == b'\n' {
            seen += 1;
            if seen == n {
                return i + 1;
            }
        }
    }
    if n == 0 { bytes.len() } else { 0 }
}

/// Runs the command; 0 when some log was printed.
pub(crate) async fn print_logs(
    cluster: &Cluster,
    app: ApplicationId,
    selection: &Selection,
) -> Result<i32, Error> {
    let report = cluster.rest.app(app).await?;
    let mut printed = 0;
    if !report.state.is_final() {
        printed += print_from_nodemanagers(cluster, app, selection).await?;
    }
    if printed == 0 {
        for (node, f) in aggregated(cluster, &report.user, app).await?.files {
            if !selection.wants(&f.container, &f.name) {
                continue;
            }
            println!("==> {} on {node} ({}, aggregated) <==", f.container, f.name);
            print_body(&f.contents, selection.tail);
            printed += 1;
        }
    }
    if printed == 0 {
        eprintln!(
            "spindle: no logs found for {app} ({}){}",
            report.state.as_str(),
            if report.state.is_final() {
                "; aggregation may still be running (yarn.log-aggregation-enable must be true)"
            } else {
                ""
            }
        );
        return Ok(1);
    }
    Ok(0)
}

/// Prints a log file (its last `tail` lines), ending in a newline.
fn print_body(bytes: &[u8], tail: Option<usize>) {
    let from = tail.map_or(0, |n| tail_start(bytes, n));
    let text = String::from_utf8_lossy(&bytes[from..]);
    print!("{text}");
    if !text.ends_with('\n') && !text.is_empty() {
        println!();
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NmApp {
    containerids: Value,
}

#[derive(Deserialize)]
struct NmAppWrapper {
    app: NmApp,
}

/// Strings of a value that is a string, a list of strings, or `{"x": [...]}`.
fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().flat_map(strings).collect(),
        Value::Object(o) => o.values().flat_map(strings).collect(),
        _ => Vec::new(),
    }
}

/// File names in a `/containers/<id>/logs` answer (any nesting), from the
/// LOCAL entries.
fn local_log_names(v: &Value) -> Vec<String> {
    let mut names = Vec::new();
    fn walk(v: &Value, names: &mut Vec<String>) {
        match v {
            Value::Array(a) => a.iter().for_each(|x| walk(x, names)),
            Value::Object(o) => {
                if o.get("logAggregationType")
                    .and_then(Value::as_str)
                    .is_some_and(|t| t != "LOCAL")
                {
                    return;
                }
                if let Some(Value::String(n)) = o.get("fileName") {
                    names.push(n.clone());
                }
                o.values().for_each(|x| walk(x, names));
            }
            _ => {}
        }
    }
    walk(v, &mut names);
    names.sort();
    names.dedup();
    names
}

/// [`get_bytes`] as text.
async fn get(
    http: &reqwest::Client,
    trust: &HttpsTrust,
    url: &str,
    spnego: Option<&Spnego>,
) -> Result<Option<String>, Error> {
    Ok(get_bytes(http, trust, url, spnego, None)
        .await?
        .map(|b| String::from_utf8_lossy(&b).into_owned()))
}

/// GET with the media type the endpoint produces: the NodeManager answers
/// 406 to `Accept: application/json` on its plain-text log endpoint. On a
/// Kerberized cluster with SPNEGO: the server's `hadoop.auth` cookie once it
/// set one, else (or when it is refused) a fresh `Negotiate` ticket. `None`
/// for 404 and 416 (a range the server does not have), and for an answer of
/// another media type than `expect` (the RM's proxy answers with an HTML page
/// of its own once the AM is gone).
pub(crate) async fn get_bytes(
    http: &reqwest::Client,
    trust: &HttpsTrust,
    url: &str,
    spnego: Option<&Spnego>,
    expect: Option<&str>,
) -> Result<Option<Vec<u8>>, Error> {
    let err = |reason: String| Error::Http {
        url: url.to_string(),
        reason,
    };
    let accept = if url.contains("/containerlogs/") {
        "text/plain"
    } else {
        "application/json"
    };
    let mut use_cookie = true;
    let resp = loop {
        let mut req = http.get(url).header("Accept", accept);
        let cookie = spnego.and_then(|s| s.cookie()).filter(|_| use_cookie);
        if let Some(s) = spnego {
            req = match &cookie {
                Some(c) => req.header("Cookie", format!("{AUTH_COOKIE}={c}")),
                None => req.header("Authorization", s.authorization(url)?),
            };
        }
        let resp = req.send().await.map_err(|e| err(trust.explain(&e)))?;
        if let Some(s) = spnego {
            s.remember(
                resp.headers()
                    .get_all("set-cookie")
                    .iter()
                    .filter_map(|v| v.to_str().ok()),
            );
            if resp.status() == reqwest::StatusCode::UNAUTHORIZED && cookie.is_some() {
                s.forget();
                use_cookie = false;
                continue;
            }
        }
        break resp;
    };
    if resp.status() == reqwest::StatusCode::NOT_FOUND
        || resp.status() == reqwest::StatusCode::RANGE_NOT_SATISFIABLE
    {
        return Ok(None);
    }
    if !resp.status().is_success() {
        return Err(err(format!("HTTP {}", resp.status())));
    }
    if let Some(want) = expect {
        let got = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !got.starts_with(want) {
            return Ok(None);
        }
    }
    resp.bytes()
        .await
        .map(|b| Some(b.to_vec()))
        .map_err(|e| err(e.to_string()))
}

/// An HTTP client for the cluster's web endpoints.
pub(crate) fn http_client(cluster: &Cluster) -> Result<reqwest::Client, Error> {
    cluster
        .trust
        .client_builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| Error::Http {
            url: "(client)".into(),
            reason: e.to_string(),
        })
}

async fn print_from_nodemanagers(
    cluster: &Cluster,
    app: ApplicationId,
    selection: &Selection,
) -> Result<usize, Error> {
    let http = http_client(cluster)?;
    let scheme = cluster.conf.yarn_web_scheme()?;
    let mut printed = 0;
    for node in cluster.rest.nodes().await? {
        if node.http_address.is_empty() {
            continue;
        }
        let base = format!("{scheme}://{}/ws/v1/node", node.http_address);
        // Each NodeManager signs its own cookie.
        let spnego = cluster
            .kerberos
            .as_ref()
            .map(|k| Spnego::new(k.login.credential.clone()));
        let spnego = spnego.as_ref();
        let Some(text) = get(&http, &cluster.trust, &format!("{base}/apps/{app}"), spnego).await?
        else {
            continue;
        };
        let Ok(w) = serde_json::from_str::<NmAppWrapper>(&text) else {
            continue;
        };
        for cid in strings(&w.app.containerids) {
            // A container still localizing has no logs yet (the NodeManager
            // answers 500/503): say so and go on with the others.
            let listed = match get(
                &http,
                &cluster.trust,
                &format!("{base}/containers/{cid}/logs"),
                spnego,
            )
            .await
            {
                Ok(t) => t
                    .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                    .map(|v| local_log_names(&v))
                    .unwrap_or_default(),
                Err(e) => {
                    tracing::warn!("{cid} on {}: no logs yet ({e})", node.node_id);
                    continue;
                }
            };
            let names = if listed.is_empty() {
                vec!["stdout".to_string(), "stderr".to_string()]
            } else {
                listed
            };
            for name in names.iter().filter(|n| selection.wants(&cid, n)) {
                if let Some(body) = get(
                    &http,
                    &cluster.trust,
                    &format!("{base}/containerlogs/{cid}/{name}"),
                    spnego,
                )
                .await?
                {
                    println!("==> {cid} on {} ({name}, running) <==", node.node_id);
                    print_body(body.as_bytes(), selection.tail);
                    printed += 1;
                }
            }
        }
    }
    Ok(printed)
}

/// The logs YARN aggregated into HDFS for an application.
#[derive(Default)]
pub(crate) struct Aggregated {
    /// (node file name, log file), by node then as stored.
    pub files: Vec<(String, LogFile)>,
    /// Some node's file is still being written (`<node>.tmp`).
    pub in_progress: bool,
}

/// Where the NodeManagers aggregate logs: per format named in
/// `yarn.log-aggregation.file-formats`, its own
/// `yarn.log-aggregation.<format>.remote-app-log-dir` or the common one.
fn remote_log_dirs(cluster: &Cluster) -> Result<Vec<String>, Error> {
    let common = cluster
        .conf
        .get_or("yarn.nodemanager.remote-app-log-dir", "/tmp/logs")?;
    let formats = cluster
        .conf
        .get_or("yarn.log-aggregation.file-formats", "TFile")?;
    let mut dirs = Vec::new();
    for f in formats.split(',').map(str::trim).filter(|f| !f.is_empty()) {
        let own = cluster
            .conf
            .get(&format!("yarn.log-aggregation.{f}.remote-app-log-dir"))?
            .filter(|d| !d.trim().is_empty());
        let dir = own.unwrap_or_else(|| common.clone());
        let dir = dir.trim_end_matches('/').to_string();
        if !dirs.contains(&dir) {
            dirs.push(dir);
        }
    }
    if dirs.is_empty() {
        dirs.push(common.trim_end_matches('/').to_string());
    }
    Ok(dirs)
}

/// Reads the application's aggregated logs (none yet: empty).
pub(crate) async fn aggregated(
    cluster: &Cluster,
    user: &str,
    app: ApplicationId,
) -> Result<Aggregated, Error> {
    let staging = cluster.staging(Some(user))?;
    let fs = staging.client();
    let app_name = app.to_string();
    let mut out = Aggregated::default();
    // Hadoop 3 keeps them under <user>/bucket-<suffix>-<format>/<nnnn>/<appId>/
    // (older releases: <user>/<suffix>/<appId>/): find the application's directory.
    let mut files = Vec::new();
    for remote in remote_log_dirs(cluster)? {
        let user_dir = format!("{remote}/{user}");
        let listing = match fs.list_status(&user_dir, true).await {
            Ok(l) => l,
            Err(hdfs_native::HdfsError::FileNotFound(_)) => continue,
            Err(e) => return Err(hdfs("listing", &user_dir, e).into()),
        };
        files.extend(
            listing
                .into_iter()
                .filter(|s| !s.isdir)
                .filter(|s| s.path.rsplit('/').nth(1) == Some(app_name.as_str())),
        );
    }
    out.in_progress = files.iter().any(|s| s.path.ends_with(".tmp"));
    files.retain(|s| !s.path.ends_with(".tmp"));
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files.dedup_by(|a, b| a.path == b.path);
    let read = |path: String| async move {
        let reader = fs
            .read(&path)
            .await
            .map_err(|e| hdfs("opening", &path, e))?;
        reader
            .read_range(0, reader.file_length())
            .await
            .map_err(|e| hdfs("reading", &path, e))
    };
    // IFile: `<node>-checksum` names where a node's file is complete while
    // a rolling cycle appends to it (i32 name length, the name, i64 end).
    let mut ends = std::collections::HashMap::new();
    for st in files.iter().filter(|s| s.path.ends_with(CHECKSUM_SUFFIX)) {
        let b = read(st.path.clone()).await?;
        if let Some((name, end)) = parse_checksum(&b) {
            ends.insert(name, end);
        }
    }
    for st in files.iter().filter(|s| !s.path.ends_with(CHECKSUM_SUFFIX)) {
        let node = st.path.rsplit('/').next().unwrap_or("").to_string();
        let bytes = read(st.path.clone()).await?;
        let decoded =
            agglog::decode(&bytes, &app_name, ends.get(&node).copied()).map_err(|reason| {
                spindle_contract::Error::Hdfs {
                    what: format!("decoding {}", st.path),
                    reason,
                }
            })?;
        match decoded {
            Some(log) => out
                .files
                .extend(log.files.into_iter().map(|f| (node.clone(), f))),
            None => out.in_progress = true,
        }
    }
    Ok(out)
}

/// The name of an IFile's `-checksum` file: the node file's and this.
const CHECKSUM_SUFFIX: &str = "-checksum";

/// An IFile `-checksum` file: (the node file it is about, where that ends).
fn parse_checksum(b: &[u8]) -> Option<(String, u64)> {
    let n = u32::from_be_bytes(b.get(..4)?.try_into().ok()?) as usize;
    let name = b.get(4..4usize.checked_add(n)?)?;
    let end = i64::from_be_bytes(b.get(4 + n..12 + n)?.try_into().ok()?);
    Some((
        String::from_utf8_lossy(name).into_owned(),
        u64::try_from(end).ok()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_ids_and_log_names_parse_in_either_shape() {
        let one: NmAppWrapper = serde_json::from_str(r#"{"app":{"containerids":"c1"}}"#).unwrap();
        assert_eq!(strings(&one.app.containerids), vec!["c1"]);
        let many: NmAppWrapper =
            serde_json::from_str(r#"{"app":{"containerids":["c1","c2"]}}"#).unwrap();
        assert_eq!(strings(&many.app.containerids), vec!["c1", "c2"]);
        let none: NmAppWrapper = serde_json::from_str(r#"{"app":{}}"#).unwrap();
        assert!(strings(&none.app.containerids).is_empty());
        let v: Value = serde_json::from_str(
            r#"{"containerLogsInfo":[{"containerLogInfo":[{"fileName":"stdout"},{"fileName":"stderr"}],"logAggregationType":"LOCAL"},
                {"containerLogInfo":{"fileName":"old"},"logAggregationType":"AGGREGATED"}]}"#,
        )
        .unwrap();
        assert_eq!(local_log_names(&v), vec!["stderr", "stdout"]);
    }

    #[test]
    fn the_am_is_its_attempts_first_container() {
        assert!(is_am_container("container_1700000000000_0003_01_000001"));
        assert!(is_am_container(
            "container_e17_1700000000000_0003_02_000001"
        ));
        assert!(!is_am_container("container_1700000000000_0003_01_000002"));
        assert!(!is_am_container("stdout"));
        let s = Selection {
            am: true,
            files: vec!["stdout".into()],
            ..Default::default()
        };
        assert!(s.wants("container_1_0003_01_000001", "stdout"));
        assert!(!s.wants("container_1_0003_01_000001", "stderr"));
        assert!(!s.wants("container_1_0003_01_000002", "stdout"));
    }

    #[test]
    fn checksum_files_name_a_node_file_and_its_end() {
        let mut b = 5u32.to_be_bytes().to_vec();
        b.extend_from_slice(b"n_123");
        b.extend_from_slice(&77i64.to_be_bytes());
        assert_eq!(parse_checksum(&b), Some(("n_123".into(), 77)));
        assert_eq!(parse_checksum(&b[..10]), None);
        assert_eq!(parse_checksum(&[0xff; 12]), None);
    }

    #[test]
    fn tails_count_lines_from_the_end() {
        assert_eq!(tail_start(b"a\nb\nc\n", 2), 2);
        assert_eq!(tail_start(b"a\nb\nc", 2), 2);
        assert_eq!(tail_start(b"a\nb\nc\n", 5), 0);
        assert_eq!(tail_start(b"a\nb\n", 0), 4);
        assert_eq!(tail_start(b"", 3), 0);
    }
}
