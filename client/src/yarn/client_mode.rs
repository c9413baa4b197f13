//! `spindle submit --master yarn --deploy-mode client`: the driver runs here,
//! as a child process with `SPINDLE_MASTER=yarn` and the flags in its
//! environment; the driver itself submits the ApplicationMaster, which only
//! runs executors (`spindle_am::client_mode`). This process relays the
//! driver's output, learns the application id from it, kills the
//! application on Ctrl-C, and reports the application's final status.

use std::process::Stdio;
use std::time::{Duration, Instant};

use spindle_am::client_mode::{AM_MEMORY_MB, QUEUE};
use spindle_am::launch;
use spindle_hadoop::ids::ApplicationId;
use spindle_hadoop::rest::FinalStatus;
use tokio::io::{AsyncBufReadExt, BufReader};

use super::{Cluster, YarnSubmit, progress};
use crate::Error;

/// `--conf` key of the AM's memory in client mode (Spark: `spark.yarn.am.memory`).
pub const AM_MEMORY_KEY: &str = "spindle.yarn.am.memory";

/// The driver's environment for client mode.
pub fn driver_env(opts: &YarnSubmit) -> Result<Vec<(String, String)>, Error> {
    let mut env = vec![
        ("SPINDLE_MASTER".to_string(), "yarn".to_string()),
        (launch::DEPLOY_MODE.into(), "client".into()),
        (launch::APP_NAME.into(), opts.name.clone()),
        (launch::NUM_EXECUTORS.into(), opts.num_executors.to_string()),
        (
            launch::EXECUTOR_CORES.into(),
            opts.executor_cores.to_string(),
        ),
        (
            launch::EXECUTOR_MEMORY_MB.into(),
            opts.executor_memory_mb.to_string(),
        ),
        (
            launch::EXECUTOR_MEMORY_OVERHEAD_MB.into(),
            opts.executor_overhead_mb.to_string(),
        ),
        (
            launch::CONF.into(),
            serde_json::to_string(&opts.conf).expect("conf serializes"),
        ),
    ];
    if let Some(q) = &opts.queue {
        env.push((QUEUE.into(), q.clone()));
    }
    if let Some(m) = opts.conf.get(AM_MEMORY_KEY) {
        let mb = super::memory::parse_mb(&format!("--conf {AM_MEMORY_KEY}"), m)?;
        env.push((AM_MEMORY_MB.into(), mb.to_string()));
    }
    Ok(env)
}

/// Runs the driver here; returns its exit code (non-zero too when the
/// application did not end SUCCEEDED), or [`progress::INTERRUPTED`] after Ctrl-C.
pub async fn run(cluster: &Cluster, opts: &YarnSubmit) -> Result<i32, Error> {
    let program = if opts.driver.components().count() == 1 {
        std::path::Path::new(".").join(&opts.driver)
    } else {
        opts.driver.clone()
    };
    let mut child = tokio::process::Command::new(&program)
        .args(&opts.args)
        .envs(driver_env(opts)?)
        .env_remove(launch::ROLE)
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| Error::Driver {
            path: opts.driver.display().to_string(),
            message: e.to_string(),
        })?;
    let stderr = child.stderr.take().expect("stderr is piped");
    let (tx, mut app_rx) = tokio::sync::watch::channel(None::<ApplicationId>);
    // Relay the driver's stderr, picking up the application id it announces.
    let relay = tokio::spawn(async move {
        let mut lines = BufReader::new(stderr).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            eprintln!("{line}");
            if tx.borrow().is_none()
                && let Some(id) = line
                    .split_whitespace()
                    .find(|w| w.starts_with("application_"))
                    .and_then(|w| w.trim_end_matches([',', ':', ')']).parse().ok())
            {
                let _ = tx.send(Some(id));
            }
        }
    });
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let status = tokio::select! {
        s = child.wait() => s.map_err(|e| Error::io("waiting for the driver", e))?,
        _ = &mut ctrl_c => {
            let app = *app_rx.borrow_and_update();
            let _ = child.start_kill();
            let _ = child.wait().await;
            match app {
                Some(app) => {
                    eprintln!("spindle: interrupted: killing {app}");
                    let state = cluster.rest.kill(app).await?;
                    eprintln!("spindle: {app} killed ({})", state.as_str());
                    super::remove_staging(cluster, &cluster.user, app).await;
                }
                None => eprintln!("spindle: interrupted before the application was submitted"),
            }
            return Ok(progress::INTERRUPTED);
        }
    };
    let _ = relay.await;
    let code = status.code().unwrap_or(1);
    let Some(app) = *app_rx.borrow() else {
        return Ok(code);
    };
    // The driver told the AM how it ended; wait (briefly) for YARN to agree.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match cluster.rest.app(app).await {
            Ok(r) if r.state.is_final() => {
                eprintln!(
                    "spindle: {app} ended: {}, final status {:?}",
                    r.state.as_str(),
                    r.final_status
                );
                let ok = r.final_status == FinalStatus::Succeeded;
                return Ok(if ok { code } else { code.max(1) });
            }
            _ if Instant::now() > deadline => {
                eprintln!("spindle: {app} has not ended in YARN 30 s after the driver exited");
                return Ok(code.max(1));
            }
            _ => tokio::time::sleep(Duration::from_millis(300)).await,
        }
    }
}
