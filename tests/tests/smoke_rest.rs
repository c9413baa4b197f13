//! The ResourceManager's REST API answers as Hadoop 3.5 does: cluster info, nodes, and Hadoop's
//! RemoteException JSON for an unknown application.

use spindle_tests::{hadoop, rest_get};

#[test]
fn cluster_info_reports_a_started_hadoop_3_5_rm() {
    let h = hadoop();
    let _logs = h.log_guard();
    let r = rest_get(&format!("{}/ws/v1/cluster/info", h.rm_url())).unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let info = &r.json["clusterInfo"];
    assert_eq!(info["state"], "STARTED", "{}", r.body);
    assert_eq!(info["haState"], "ACTIVE", "{}", r.body);
    let version = info["resourceManagerVersion"].as_str().unwrap_or_default();
    assert!(
        version.starts_with("3.5."),
        "RM version {version:?}: {}",
        r.body
    );
}

#[test]
fn cluster_nodes_lists_two_running_nodemanagers_whose_web_answers() {
    let h = hadoop();
    let _logs = h.log_guard();
    let r = rest_get(&format!("{}/ws/v1/cluster/nodes", h.rm_url())).unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let nodes = r.json["nodes"]["node"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(nodes.len(), 2, "{}", r.body);
    for node in &nodes {
        assert_eq!(node["state"], "RUNNING", "{node}");
        assert!(node["availMemoryMB"].as_u64().unwrap_or(0) > 0, "{node}");
        // Each NodeManager's own REST API answers at the address the RM reports.
        let web = node["nodeHTTPAddress"].as_str().expect("nodeHTTPAddress");
        let nm = rest_get(&format!("http://{web}/ws/v1/node/info")).unwrap();
        assert_eq!(nm.status, 200, "{}", nm.body);
        assert_eq!(nm.json["nodeInfo"]["nodeHealthy"], true, "{}", nm.body);
        // ... and speaks for that node (not another daemon of the same JVM).
        assert_eq!(nm.json["nodeInfo"]["id"], node["id"], "{}", nm.body);
        // Its HTML UI answers too.
        let page = rest_get(&format!("http://{web}/node")).unwrap();
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(
            title(&page.body).contains("NodeManager information"),
            "{}",
            page.body
        );
    }
}

/// The text of an HTML page's `<title>`, whitespace collapsed.
fn title(html: &str) -> String {
    let start = html.find("<title>").map(|i| i + 7).unwrap_or(0);
    let end = html[start..]
        .find("</title>")
        .map(|i| start + i)
        .unwrap_or(start);
    html[start..end]
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn resourcemanager_web_ui_serves_its_pages() {
    let h = hadoop();
    let _logs = h.log_guard();
    for (path, expected) in [
        ("/cluster", "About the Cluster"),
        ("/cluster/nodes", "Nodes of the cluster"),
        ("/cluster/apps", "All Applications"),
    ] {
        let page = rest_get(&format!("{}{path}", h.rm_url())).unwrap();
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        assert_eq!(title(&page.body), expected, "{path}");
    }
}

#[test]
fn unknown_application_gets_hadoops_remote_exception_json() {
    let h = hadoop();
    let _logs = h.log_guard();
    let r = rest_get(&format!(
        "{}/ws/v1/cluster/apps/application_1_0001",
        h.rm_url()
    ))
    .unwrap();
    assert_eq!(r.status, 404, "{}", r.body);
    let e = &r.json["RemoteException"];
    assert_eq!(e["exception"], "NotFoundException", "{}", r.body);
    assert_eq!(
        e["javaClassName"], "org.apache.hadoop.yarn.webapp.NotFoundException",
        "{}",
        r.body
    );
    assert!(
        e["message"]
            .as_str()
            .unwrap_or_default()
            .contains("application_1_0001"),
        "{}",
        r.body
    );

    // A malformed id is a 400 with the same JSON shape.
    let r = rest_get(&format!("{}/ws/v1/cluster/apps/not-an-app-id", h.rm_url())).unwrap();
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(
        r.json["RemoteException"]["exception"], "BadRequestException",
        "{}",
        r.body
    );
}
