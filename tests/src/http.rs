//! HTTP from tests: the RM's REST API and web UI, the web proxy, NodeManagers, WebHDFS.

use std::time::Duration;

/// An HTTP answer: status code, `Location` and `WWW-Authenticate` headers, body, and the body
/// parsed as JSON (`Value::Null` when it is not JSON).
#[derive(Debug)]
pub struct JsonReply {
    pub status: u16,
    pub location: Option<String>,
    /// What a 401 asks for, e.g. `Negotiate` (SPNEGO) on a secure cluster.
    pub www_authenticate: Option<String>,
    pub json: serde_json::Value,
    pub body: String,
}

/// GETs `url` with `Accept: application/json` (e.g. the RM REST API: `rest_get(&format!("{}/ws/v1/cluster/info", h.rm_url()))`).
/// Follows redirects; [`http_get_no_redirect`] does not. Runs on a thread of its own, so it works
/// from sync tests and inside async ones alike.
pub fn rest_get(url: &str) -> Result<JsonReply, String> {
    get(url, true)
}

/// GETs `url` like [`rest_get`] but returns a redirect as it is (status 3xx and `location`).
pub fn http_get_no_redirect(url: &str) -> Result<JsonReply, String> {
    get(url, false)
}

fn get(url: &str, follow_redirects: bool) -> Result<JsonReply, String> {
    let url = url.to_string();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("tokio runtime: {e}"))?;
        rt.block_on(async {
            let client = reqwest::Client::builder()
                .redirect(if follow_redirects {
                    reqwest::redirect::Policy::limited(10)
                } else {
                    reqwest::redirect::Policy::none()
                })
                .build()
                .map_err(|e| format!("HTTP client: {e}"))?;
            let reply = client
                .get(&url)
                .header("Accept", "application/json")
                .timeout(Duration::from_secs(30))
                .send()
                .await
                .map_err(|e| format!("GET {url}: {e}"))?;
            let status = reply.status().as_u16();
            let header = |name: &str| {
                reply
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            };
            let location = header("location");
            let www_authenticate = header("www-authenticate");
            let body = reply
                .text()
                .await
                .map_err(|e| format!("GET {url}: reading body: {e}"))?;
            let json = serde_json::from_str(&body).unwrap_or(serde_json::Value::Null);
            Ok(JsonReply {
                status,
                location,
                www_authenticate,
                json,
                body,
            })
        })
    })
    .join()
    .map_err(|_| "rest_get: the HTTP thread panicked".to_string())?
}

/// A loopback port nothing listens on (bound, learnt and closed again).
pub fn unused_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}
