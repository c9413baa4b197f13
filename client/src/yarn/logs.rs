//! `spindle logs <appId>`: containers still on a NodeManager are read
//! through its web services (`/ws/v1/node/apps/<appId>` lists them,
//! `/ws/v1/node/containers/<id>/logs` lists their files,
//! `/ws/v1/node/containerlogs/<id>/<file>` serves one); once the
//! application has ended and YARN aggregated its logs into HDFS
//! (`yarn.nodemanager.remote-app-log-dir`), they are read from there (TFile).

use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;
use spindle_hadoop::ids::ApplicationId;
use spindle_hadoop::spnego::{AUTH_COOKIE, Spnego};
use spindle_hadoop::tls::HttpsTrust;

use super::Cluster;
use super::tfile;
use crate::Error;
use spindle_contract::staging::hdfs;

/// Runs the command; 0 when some log was printed.
pub(crate) async fn print_logs(
    cluster: &Cluster,
    app: ApplicationId,
    container: Option<&str>,
    files: &[String],
) -> Result<i32, Error> {
    let report = cluster.rest.app(app).await?;
    let wanted = |c: &str, f: &str| {
        container.is_none_or(|want| want == c) && (files.is_empty() || files.iter().any(|x| x == f))
    };
    let mut printed = 0;
    if !report.state.is_final() {
        printed += print_from_nodemanagers(cluster, app, &wanted).await?;
    }
    if printed == 0 {
        printed += print_aggregated(cluster, &report.user, app, &wanted).await?;
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

/// GET with the media type the endpoint produces: the NodeManager answers
/// 406 to `Accept: application/json` on its plain-text log endpoint. On a
/// Kerberized cluster with SPNEGO: the node's `hadoop.auth` cookie once it
/// set one, else (or when it is refused) a fresh `Negotiate` ticket.
async fn get(
    http: &reqwest::Client,
    trust: &HttpsTrust,
    url: &str,
    spnego: Option<&Spnego>,
) -> Result<Option<String>, Error> {
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
    if resp.status() == reqwest::StatusCode::NOT_FOUND {
        return Ok(None);
    }
    if !resp.status().is_success() {
        return Err(err(format!("HTTP {}", resp.status())));
    }
    resp.text().await.map(Some).map_err(|e| err(e.to_string()))
}

async fn print_from_nodemanagers(
    cluster: &Cluster,
    app: ApplicationId,
    wanted: &dyn Fn(&str, &str) -> bool,
) -> Result<usize, Error> {
    let http = cluster
        .trust
        .client_builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| Error::Http {
            url: "(client)".into(),
            reason: e.to_string(),
        })?;
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
                    eprintln!("spindle: {cid} on {}: no logs yet ({e})", node.node_id);
                    continue;
                }
            };
            let names = if listed.is_empty() {
                vec!["stdout".to_string(), "stderr".to_string()]
            } else {
                listed
            };
            for name in names.iter().filter(|n| wanted(&cid, n)) {
                if let Some(body) = get(
                    &http,
                    &cluster.trust,
                    &format!("{base}/containerlogs/{cid}/{name}"),
                    spnego,
                )
                .await?
                {
                    println!("==> {cid} on {} ({name}, running) <==", node.node_id);
                    print!("{body}");
                    if !body.ends_with('\n') {
                        println!();
                    }
                    printed += 1;
                }
            }
        }
    }
    Ok(printed)
}

async fn print_aggregated(
    cluster: &Cluster,
    user: &str,
    app: ApplicationId,
    wanted: &dyn Fn(&str, &str) -> bool,
) -> Result<usize, Error> {
    let remote = cluster
        .conf
        .get_or("yarn.nodemanager.remote-app-log-dir", "/tmp/logs")?;
    let user_dir = format!("{}/{user}", remote.trim_end_matches('/'));
    let staging = cluster.staging(Some(user))?;
    let fs = staging.client();
    // Hadoop 3 keeps them under <user>/bucket-logs-tfile/<nnnn>/<appId>/
    // (older releases: <user>/logs/<appId>/): find the application's directory.
    let listing = match fs.list_status(&user_dir, true).await {
        Ok(l) => l,
        Err(hdfs_native::HdfsError::FileNotFound(_)) => return Ok(0),
        Err(e) => return Err(hdfs("listing", &user_dir, e).into()),
    };
    let app_name = app.to_string();
    let mut printed = 0;
    let mut files: Vec<_> = listing
        .into_iter()
        .filter(|s| !s.isdir && !s.path.ends_with(".tmp"))
        .filter(|s| s.path.rsplit('/').nth(1) == Some(app_name.as_str()))
        .collect();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    for st in files {
        let node = st.path.rsplit('/').next().unwrap_or("").to_string();
        let reader = fs
            .read(&st.path)
            .await
            .map_err(|e| hdfs("opening", &st.path, e))?;
        let bytes = reader
            .read_range(0, reader.file_length())
            .await
            .map_err(|e| hdfs("reading", &st.path, e))?;
        let log = tfile::decode(&bytes).map_err(|reason| spindle_contract::Error::Hdfs {
            what: format!("decoding {}", st.path),
            reason,
        })?;
        for f in log.files.iter().filter(|f| wanted(&f.container, &f.name)) {
            println!("==> {} on {node} ({}, aggregated) <==", f.container, f.name);
            let text = String::from_utf8_lossy(&f.contents);
            print!("{text}");
            if !text.ends_with('\n') && !text.is_empty() {
                println!();
            }
            printed += 1;
        }
    }
    Ok(printed)
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
}
