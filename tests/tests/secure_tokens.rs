//! Applications that outlive their HDFS delegation tokens, on a secure cluster of this file's own
//! with short lives (`deploy/mini-hadoop --secure --token-renew-interval 60 --token-max-lifetime
//! 180 --ticket-lifetime 120 --rpc-protection authentication`): the same job (`spindle-testjobs hdfs-rounds`, copying HDFS files
//! from its executors round after round for longer than the tokens' maximum lifetime) submitted
//! with `--principal/--keytab` succeeds, its AM logging in again and handing new tokens to its
//! executors; submitted from a ticket cache it fails, and its diagnostics say the tokens expired.
//!
//! The two tests run at once (about four minutes together, cluster start included).
//! `#[ignore]`d like the other secure tests; scripts/test's secure stage runs them. Its own test
//! binary because this process's Kerberos library must point at that cluster's KDC.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use spindle_hadoop::delegation;
use spindle_hadoop::ids::ApplicationId;
use spindle_hadoop::yarn::{AppReport, FinalStatus};
use spindle_tests::secure::{
    app_id_in, bind_kerberos, keytab_hdfs, kinit, put_words, spindle_cli, spnego_rest,
    submit_with_keytab,
};
use spindle_tests::{MiniHadoop, OwnCluster, binary, block_on, scratch_dir, text};

/// The tokens' maximum lifetime on this cluster, seconds.
const MAX_LIFETIME: u64 = 180;

/// The cluster, with this process's Kerberos library pointed at its KDC.
fn cluster() -> &'static MiniHadoop {
    static OWN: OnceLock<OwnCluster> = OnceLock::new();
    let own = OWN.get_or_init(|| {
        let own = OwnCluster::start(
            "secure-tokens",
            1,
            &[
                "--secure",
                // Unwrapped SASL: localizing a debug binary under privacy can outlast the AM's
                // 90 s to register on a loaded machine (the QOPs are secure_protection's).
                "--rpc-protection",
                "authentication",
                "--token-renew-interval",
                "60",
                "--token-max-lifetime",
                &MAX_LIFETIME.to_string(),
                "--ticket-lifetime",
                "120",
            ],
        );
        bind_kerberos(own.get());
        own
    });
    own.get()
}

/// Waits for `app` to end, asking the RM with a fresh keytab login each time (tickets live two
/// minutes here); its final report.
fn wait_for_end(h: &MiniHadoop, app: &str, within: Duration) -> AppReport {
    let id: ApplicationId = app.parse().unwrap();
    let deadline = Instant::now() + within;
    loop {
        if let Ok(r) = block_on(spnego_rest(h).app(id))
            && r.state.is_final()
        {
            return r;
        }
        assert!(
            Instant::now() < deadline,
            "{app} did not end within {within:?}"
        );
        std::thread::sleep(Duration::from_secs(3));
    }
}

/// `spindle submit --detach` of `hdfs-rounds` copying `input` for `seconds` into `out`: the
/// application id and what `spindle submit` said.
fn submit_rounds(
    mut submit: std::process::Command,
    job: &std::path::Path,
    input: &str,
    out: &str,
    seconds: u64,
) -> (String, String) {
    let done = submit
        .args(["--detach", "--name", "hdfs-rounds"])
        .arg(job)
        .args(["hdfs-rounds", input, out, &seconds.to_string()])
        .output()
        .unwrap();
    let err = text(&done.stderr);
    assert!(done.status.success(), "spindle submit failed:\n{err}");
    let app = app_id_in(&err).unwrap_or_else(|| panic!("no application id in:\n{err}"));
    (app, err)
}

/// The `round-N` directories under `dir` with a `_SUCCESS`, and the latest one's time (ms).
fn committed_rounds(h: &MiniHadoop, dir: &str) -> (usize, i64) {
    let fs = keytab_hdfs(h);
    block_on(async {
        let mut n = 0;
        let mut last = 0;
        for st in fs.list_status(dir, false).await.unwrap() {
            let name = st.path.rsplit('/').next().unwrap_or_default().to_string();
            if !name.starts_with("round-") {
                continue;
            }
            if let Ok(ok) = fs.get_file_info(&format!("{dir}/{name}/_SUCCESS")).await {
                n += 1;
                last = last.max(ok.modification_time as i64);
            }
        }
        (n, last)
    })
}

#[test]
#[ignore = "needs a secure mini-Hadoop of its own; scripts/test's secure stage runs it"]
fn a_job_with_a_keytab_outlives_its_first_tokens() {
    let h = cluster();
    let k = h.kerberos().unwrap();
    let dir = scratch_dir("secure-tokens-keytab");
    let (root, base, _) = put_words(h, "secure-tokens-keytab", 2_000, 0x70C_0001);
    let job = binary("spindle-testjobs");
    let submitted_at = delegation::now_ms();
    let (app, said) = submit_rounds(
        submit_with_keytab(h, &dir, 1),
        &job,
        &format!("{root}{base}/in/input.txt"),
        &format!("{root}{base}/rounds"),
        MAX_LIFETIME + 20,
    );
    assert!(
        said.contains("the AM logs in again from the staged keytab"),
        "{said}"
    );
    // The keytab's copy in the staging directory is the owner's alone while the job runs.
    let staged = format!(
        "/user/{}/.spindleStaging/{app}/{}",
        k.short_name(),
        spindle_contract::staging::KEYTAB_NAME
    );
    let fs = keytab_hdfs(h);
    let st = block_on(fs.get_file_info(&staged)).unwrap_or_else(|e| panic!("{staged}: {e}"));
    assert_eq!(st.permission & 0o777, 0o600, "{staged}");

    let report = wait_for_end(h, &app, Duration::from_secs(420));
    assert_eq!(
        report.final_status,
        FinalStatus::Succeeded,
        "{app}: {}",
        report.diagnostics
    );
    // Executors kept writing HDFS past the first tokens' end, so they had new ones.
    let (rounds, last) = committed_rounds(h, &format!("{base}/rounds"));
    assert!(rounds >= 5, "{rounds} rounds");
    assert!(
        last - submitted_at > MAX_LIFETIME as i64 * 1000,
        "the last round was committed {} ms after submission",
        last - submitted_at
    );
    // The staging directory, keytab included, is gone.
    assert!(
        block_on(fs.get_file_info(&staged)).is_err(),
        "{staged} is still there"
    );
}

#[test]
#[ignore = "needs a secure mini-Hadoop of its own; scripts/test's secure stage runs it"]
fn a_job_without_a_keytab_fails_naming_token_expiry() {
    let h = cluster();
    let k = h.kerberos().unwrap();
    let dir = scratch_dir("secure-tokens-cache");
    let (root, base, _) = put_words(h, "secure-tokens-cache", 2_000, 0x70C_0002);
    // Built first: the ticket lives two minutes.
    let job = binary("spindle-testjobs");
    let cache = kinit(k, &dir.join("kinit-cache"));
    let mut submit = spindle_cli(h, &cache);
    submit
        .args(["submit", "--master", "yarn"])
        .args(["--driver-memory", "256m", "--executor-memory", "256m"])
        .args(["--num-executors", "1"])
        .args(["--conf", "spindle.executor.memoryOverhead=128m"])
        .args(["--conf", "spindle.driver.memoryOverhead=128m"]);
    let (app, said) = submit_rounds(
        submit,
        &job,
        &format!("{root}{base}/in/input.txt"),
        &format!("{root}{base}/rounds"),
        MAX_LIFETIME + 20,
    );
    assert!(
        said.contains("without --keytab the application can live until")
            && said.contains("maximum lifetime is 3m"),
        "{said}"
    );
    let report = wait_for_end(h, &app, Duration::from_secs(420));
    assert_eq!(report.final_status, FinalStatus::Failed, "{app}");
    assert!(
        report.diagnostics.contains(delegation::EXPIRED)
            && report.diagnostics.contains("--principal/--keytab"),
        "{app}: {}",
        report.diagnostics
    );
    let (rounds, _) = committed_rounds(h, &format!("{base}/rounds"));
    eprintln!(
        "{app}: {rounds} rounds before the tokens expired: {}",
        report.diagnostics
    );
}
