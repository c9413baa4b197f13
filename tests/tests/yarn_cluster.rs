//! Spindle's ApplicationMaster in cluster mode on the real mini-Hadoop: the wordcount example is
//! staged in HDFS and submitted through the RM's REST API with the launch contract of
//! `spindle_am::launch` (as `spindle submit` does); the real NodeManagers start the AM, which
//! registers, gets executor containers and runs the job. Output is read back by Hadoop's own
//! Java FileSystem. Also: an executor killed mid-job, the AM process killed (second attempt),
//! an executor over its memory limit, and a killed application (staging directory removed).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use hdfs_native::{Client, ClientBuilder, WriteOptions};
use spindle_am::launch::{self, AmLaunch, DeployMode, Resource};
use spindle_hadoop::config::Configuration;
use spindle_hadoop::credentials::Credentials;
use spindle_hadoop::ids::ApplicationId;
use spindle_hadoop::rest::{self, AppReport, RmRestClient, SubmissionContext};
use spindle_tests::{MiniHadoop, hadoop, java_peer_ok};

/// Builds an example binary of this workspace (same target dir and profile as this test).
fn example_binary(name: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    assert_eq!(name, "wordcount", "only wordcount is built here");
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap().to_path_buf();
    BUILT.get_or_init(|| {
        let target_dir = profile_dir.parent().unwrap();
        let mut cmd = Command::new(env!("CARGO"));
        cmd.args(["build", "-p", "spindle-examples", "--bin", name])
            .env("CARGO_TARGET_DIR", target_dir)
            .current_dir(spindle_tests::repo_root());
        if profile_dir.file_name().unwrap() == "release" {
            cmd.arg("--release");
        }
        let st = cmd.status().expect("cargo build");
        assert!(st.success(), "building the examples failed");
    });
    profile_dir.join(name)
}

fn user() -> String {
    spindle_hadoop::user::current_user()
}

fn hdfs(h: &MiniHadoop) -> Client {
    ClientBuilder::new().with_url(h.fs_uri()).build().unwrap()
}

async fn put(fs: &Client, path: &str, data: &[u8]) {
    let opts = WriteOptions::default().overwrite(true).create_parent(true);
    let mut w = fs.create(path, opts).await.unwrap();
    for chunk in data.chunks(8 << 20) {
        w.write_bytes(bytes::Bytes::copy_from_slice(chunk))
            .await
            .unwrap();
    }
    w.close().await.unwrap();
}

fn random_secret() -> Vec<u8> {
    let mut b = vec![0u8; 32];
    std::fs::File::open("/dev/urandom")
        .unwrap()
        .read_exact(&mut b)
        .unwrap();
    b
}

/// Options of one test submission.
struct Submit<'a> {
    name: &'a str,
    args: Vec<String>,
    executors: u32,
    executor_memory_mb: u64,
    overhead_mb: u64,
    conf: BTreeMap<String, String>,
    env: Vec<(String, String)>,
    max_attempts: Option<i32>,
}

impl<'a> Submit<'a> {
    fn new(name: &'a str, args: Vec<String>) -> Self {
        Submit {
            name,
            args,
            executors: 2,
            executor_memory_mb: 128,
            overhead_mb: 64,
            conf: BTreeMap::new(),
            env: vec![("SPINDLE_VERBOSE".into(), "1".into())],
            max_attempts: Some(1),
        }
    }
}

struct App {
    id: ApplicationId,
    rest: RmRestClient,
    staging: String,
}

/// Stages the wordcount binary and submits its AM through REST; returns once accepted.
async fn submit(h: &MiniHadoop, s: Submit<'_>) -> App {
    let conf = Configuration::load_dir(h.conf_dir()).unwrap();
    let rest = RmRestClient::from_config(&conf, Some(user())).unwrap();
    let new = rest.new_application().await.unwrap();
    let app = new.application_id;
    let fs = hdfs(h);
    let staging_path = format!("/user/{}/.spindleStaging/{app}", user());
    let bin = std::fs::read(example_binary("wordcount")).unwrap();
    let bin_path = format!("{staging_path}/{}", launch::APP_BINARY);
    put(&fs, &bin_path, &bin).await;
    let st = fs.get_file_info(&bin_path).await.unwrap();
    let base = h.fs_uri().trim_end_matches('/').to_string();
    let staging = format!("{base}{staging_path}");
    let am = AmLaunch {
        deploy_mode: DeployMode::Cluster,
        app_name: s.name.to_string(),
        staging_dir: staging.clone(),
        local_resources: BTreeMap::from([(
            launch::APP_BINARY.to_string(),
            Resource::file(
                format!("{base}{bin_path}"),
                st.length as i64,
                st.modification_time as i64,
            ),
        )]),
        num_executors: s.executors,
        executor_cores: 1,
        executor_memory_mb: s.executor_memory_mb,
        executor_memory_overhead_mb: s.overhead_mb,
        conf: s.conf,
        driver_url: None,
        user: user(),
    };
    let mut ctx = SubmissionContext::new(
        app,
        s.name,
        rest::Resource {
            memory_mb: 256,
            vcores: 1,
        },
    );
    ctx.max_app_attempts = s.max_attempts;
    ctx.am_container.local_resources = am.rest_resources().unwrap();
    ctx.am_container.environment = am.to_env().into_iter().chain(s.env).collect();
    ctx.am_container.commands = vec![launch::container_command(&s.args)];
    let mut creds = Credentials::new();
    creds.add_secret(launch::SECRET_ALIAS, random_secret());
    ctx.am_container.credentials = creds;
    rest.submit(&ctx).await.unwrap();
    App {
        id: app,
        rest,
        staging,
    }
}

/// Waits for the final state; prints the AM's log on a failure to help.
async fn wait_final(app: &App, within: Duration) -> AppReport {
    let deadline = Instant::now() + within;
    loop {
        let r = app.rest.app(app.id).await.unwrap();
        if r.state.is_final() {
            return r;
        }
        assert!(
            Instant::now() < deadline,
            "{} not finished after {within:?}: {r:?}",
            app.id
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// The AM's stderr, wherever the NodeManagers keep container logs.
fn am_log(h: &MiniHadoop, app: ApplicationId) -> String {
    let mut out = String::new();
    let Some(root) = h.work_dir() else {
        return out;
    };
    let needle = app.to_string();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|f| f == "stderr")
                && p.to_string_lossy().contains(&needle)
            {
                out.push_str(&format!("== {}\n", p.display()));
                out.push_str(&std::fs::read_to_string(&p).unwrap_or_default());
            }
        }
    }
    out
}

fn status(r: &AppReport) -> String {
    format!("{:?}", r.final_status).to_uppercase()
}

async fn staging_exists(h: &MiniHadoop, app: &App) -> bool {
    let path = app
        .staging
        .trim_start_matches(h.fs_uri().trim_end_matches('/'));
    hdfs(h).get_file_info(path).await.is_ok()
}

const TEXT: &str = "the quick brown fox jumps over the lazy dog\nthe dog sleeps\n";

/// Writes `copies` of TEXT as the input; returns (input uri, output uri).
async fn wordcount_input(h: &MiniHadoop, tag: &str, copies: usize) -> (String, String) {
    let fs = hdfs(h);
    let dir = format!("/tmp/yarn-am-{tag}-{}", std::process::id());
    let _ = fs.delete(&dir, true).await;
    put(
        &fs,
        &format!("{dir}/in/a.txt"),
        TEXT.repeat(copies).as_bytes(),
    )
    .await;
    put(
        &fs,
        &format!("{dir}/in/b.txt"),
        TEXT.repeat(copies).as_bytes(),
    )
    .await;
    let base = h.fs_uri().trim_end_matches('/');
    (format!("{base}{dir}/in"), format!("{base}{dir}/out"))
}

/// Checks the output with Hadoop's Java FileSystem: `_SUCCESS`, and the counts of TEXT.
fn check_wordcount_output(out: &str, copies: u64) {
    let listing = java_peer_ok("dev.spindle.peers.FsCatDir", &[out]);
    assert!(listing.contains("file _SUCCESS"), "{listing}");
    assert!(!listing.contains("file _temporary"), "{listing}");
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for line in listing.lines().filter_map(|l| l.strip_prefix("line ")) {
        let (w, c) = line.split_once('\t').expect("word<TAB>count");
        assert!(
            counts.insert(w.to_string(), c.parse().unwrap()).is_none(),
            "{w} twice"
        );
    }
    let mut expected: BTreeMap<String, u64> = BTreeMap::new();
    for w in TEXT.split_whitespace() {
        *expected.entry(w.to_string()).or_default() += 2 * copies;
    }
    assert_eq!(counts, expected);
}

#[test]
fn wordcount_in_cluster_mode_output_read_by_java() {
    let h = hadoop();
    let _logs = h.log_guard();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let (input, out) = wordcount_input(h, "wc", 50).await;
        let app = submit(
            h,
            Submit::new("yarn-am-wordcount", vec![input, out.clone()]),
        )
        .await;
        let r = wait_final(&app, Duration::from_secs(180)).await;
        assert_eq!(
            (r.state.as_str(), status(&r).as_str()),
            ("FINISHED", "SUCCEEDED"),
            "{r:?}\n{}",
            am_log(h, app.id)
        );
        check_wordcount_output(&out, 50);
        assert!(
            !staging_exists(h, &app).await,
            "staging directory left behind"
        );
        let log = am_log(h, app.id);
        if !log.is_empty() {
            assert!(log.contains("registered"), "{log}");
        }
    });
}
