//! Hadoop's own distributed-shell application runs a command in 2 containers to SUCCEEDED, and
//! the containers' logs, aggregated into HDFS, can be read after it ends (Hadoop's `yarn logs`).

use std::time::Duration;

use spindle_tests::{
    hadoop, http_get_no_redirect, java_peer_jar, java_peer_ok, rest_get, wait_for,
};

#[test]
fn distributed_shell_runs_two_containers_and_their_logs_are_readable_afterwards() {
    let h = hadoop();
    let _logs = h.log_guard();
    let name = format!("spindle-smoke-ds-{}", std::process::id());
    let am_jar = java_peer_jar("hadoop-yarn-applications-distributedshell");
    let am_jar = am_jar.to_str().unwrap();
    // The Client exits 0 only when the application finishes SUCCEEDED.
    java_peer_ok(
        "org.apache.hadoop.yarn.applications.distributedshell.Client",
        &[
            "-jar",
            am_jar,
            "-appname",
            &name,
            "-shell_command",
            "echo hello-from-container-$CONTAINER_ID",
            "-num_containers",
            "2",
            "-container_memory",
            "64",
            "-master_memory",
            "256",
            "-timeout",
            "300000",
        ],
    );

    // The RM agrees, and log aggregation into HDFS completes.
    let url = format!("{}/ws/v1/cluster/apps?name={name}", h.rm_url());
    let app = wait_for("log aggregation", Duration::from_secs(90), || {
        let r = rest_get(&url).unwrap();
        let apps = r.json["apps"]["app"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(apps.len(), 1, "one application named {name}: {}", r.body);
        let app = apps[0].clone();
        assert_eq!(app["state"], "FINISHED", "{app}");
        assert_eq!(app["finalStatus"], "SUCCEEDED", "{app}");
        (app["logAggregationStatus"] == "SUCCEEDED").then_some(app)
    });
    let app_id = app["id"].as_str().unwrap();

    // The tracking URL goes through the RM's web proxy, which sends a finished application (this
    // AM registered no UI of its own) to the RM's application page.
    let tracking = app["trackingUrl"].as_str().unwrap_or_default();
    assert_eq!(tracking, format!("{}/proxy/{app_id}/", h.rm_url()), "{app}");
    let proxied = http_get_no_redirect(tracking).unwrap();
    assert_eq!(proxied.status, 302, "{}", proxied.body);
    let target = proxied.location.unwrap_or_default();
    assert_eq!(target, format!("{}/cluster/app/{app_id}", h.rm_url()));
    let page = rest_get(&target).unwrap();
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains(app_id),
        "the RM's application page names {app_id}"
    );

    // Hadoop's own log reader (`yarn logs -applicationId`) finds each container's output.
    let out = java_peer_ok(
        "org.apache.hadoop.yarn.client.cli.LogsCLI",
        &["-applicationId", app_id],
    );
    let container_prefix = format!("container_{}_", app_id.trim_start_matches("application_"));
    let mut echoed: Vec<&str> = out
        .lines()
        .filter_map(|l| l.trim().strip_prefix("hello-from-container-"))
        .collect();
    echoed.sort();
    echoed.dedup();
    assert_eq!(
        echoed.len(),
        2,
        "two containers' output in the aggregated logs:\n{out}"
    );
    for id in echoed {
        assert!(
            id.starts_with(&container_prefix),
            "{id} is not a container of {app_id}"
        );
    }
}
