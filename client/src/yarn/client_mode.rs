//! `spindle submit --master yarn --deploy-mode client`: this process gets the
//! application id and stages the driver binary (through the SHA-256 cache,
//! as cluster mode does) and `--files`; the driver runs here as a child
//! process with `SPINDLE_MASTER=yarn`, the flags and what was staged in its
//! environment, and submits the ApplicationMaster itself (through
//! `spindle_contract::submit`, the path cluster mode takes too), which only runs
//! executors (the `spindle-am` crate's `client_mode`). This process relays the driver's
//! output, kills the application on Ctrl-C, and reports its final status.

use std::process::Stdio;
use std::time::{Duration, Instant};

use spindle_contract::launch;
use spindle_contract::launch::{AM_MEMORY_MB, APP_ID};
use spindle_contract::outcome::Reason;
use spindle_hadoop::yarn::FinalStatus;

use super::{Cluster, YarnSubmit, progress};
use crate::Error;

/// `--conf` key of the AM's memory in client mode (Spark: `spark.yarn.am.memory`).
pub(crate) const AM_MEMORY_KEY: &str = "spindle.yarn.am.memory";

/// The driver's environment for client mode.
pub(crate) fn driver_env(opts: &YarnSubmit) -> Result<Vec<(String, String)>, Error> {
    let mut env = vec![
        (
            spindle_contract::settings::MASTER.var_name().to_string(),
            "yarn".to_string(),
        ),
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
    env.extend(opts.scheduling().to_env());
    if let Some(m) = opts.conf.get(AM_MEMORY_KEY) {
        let mb = super::memory::parse_mb(&format!("--conf {AM_MEMORY_KEY}"), m)?;
        env.push((AM_MEMORY_MB.into(), mb.to_string()));
    }
    Ok(env)
}

/// Runs the driver here; returns its exit code (non-zero too when the
/// application did not end SUCCEEDED), or [`progress::INTERRUPTED`] after Ctrl-C.
pub(crate) async fn run(cluster: &Cluster, opts: &YarnSubmit) -> Result<i32, Error> {
    let program = if opts.driver.components().count() == 1 {
        std::path::Path::new(".").join(&opts.driver)
    } else {
        opts.driver.clone()
    };
    let mut env = driver_env(opts)?;
    cluster.warn_if_file_system_is_only_local().await;
    // The application id and what the AM and executors localize, staged here.
    let app = cluster.rest.new_application().await?.application_id;
    let staging = cluster.staging(None)?;
    let am = super::stage(&staging, opts, app).await?;
    env.push((APP_ID.into(), app.to_string()));
    env.push((launch::STAGING_DIR.into(), am.dir.clone()));
    // Kerberos: the driver reads and writes HDFS with the delegation tokens fetched here (and
    // hands them to the AM), and logs in itself only to talk to the RM.
    let _tokens = match &cluster.kerberos {
        Some(k) => {
            let tokens = match super::security::delegation_tokens(cluster, k, &opts.conf).await {
                Ok(t) => t,
                Err(e) => {
                    let _ = staging.remove_app_dir(app).await;
                    return Err(e);
                }
            };
            // Client mode renews nothing: the executors' tokens live as long as these.
            if let Some(note) = super::security::lifetime_note(&tokens, false) {
                eprintln!("{note} (client deploy mode fetches no new tokens, keytab or not)");
            }
            let file = super::security::TokenFile::write(&tokens, app)?;
            env.push(("HADOOP_TOKEN_FILE_LOCATION".into(), file.path_string()));
            env.push((launch::USER.into(), cluster.user.clone()));
            if let Some(keytab) = &k.login.keytab {
                env.push((launch::KERBEROS_PRINCIPAL.into(), k.login.principal.clone()));
                env.push((
                    launch::KERBEROS_KEYTAB.into(),
                    keytab.to_string_lossy().into_owned(),
                ));
            }
            Some(file)
        }
        None => None,
    };
    env.push((
        launch::LOCAL_RESOURCES.into(),
        launch::resources_to_env(&am.local_resources),
    ));
    let mut driver = tokio::process::Command::new(&program);
    driver
        .args(&opts.args)
        .envs(env)
        .env_remove(launch::ROLE)
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    crate::child::dies_with_parent(driver.as_std_mut());
    let spawned = driver.spawn();
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => {
            let _ = staging.remove_app_dir(app).await;
            return Err(Error::Driver {
                path: opts.driver.display().to_string(),
                message: e.to_string(),
            });
        }
    };
    let mut stderr = child.stderr.take().expect("stderr is piped");
    // Relay the driver's stderr as bytes: whatever it writes (not always UTF-8) passes, and the
    // pipe never fills up and stalls the driver.
    let relay = tokio::spawn(async move {
        let _ = tokio::io::copy(&mut stderr, &mut tokio::io::stderr()).await;
    });
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let status = tokio::select! {
        s = child.wait() => s.map_err(|e| Error::io("waiting for the driver", e))?,
        _ = &mut ctrl_c => {
            let _ = child.start_kill();
            let _ = child.wait().await;
            if cluster.rest.app(app).await.is_ok() {
                eprintln!("spindle: interrupted: killing {app}");
                let state = cluster.rest.kill(app).await?;
                eprintln!("spindle: {app} killed ({})", state.as_str());
            } else {
                eprintln!("spindle: interrupted before the application was submitted");
            }
            super::remove_staging(cluster, &cluster.user, app).await;
            return Ok(progress::INTERRUPTED);
        }
    };
    let _ = relay.await;
    let code = status.code().unwrap_or(1);
    if cluster.rest.app(app).await.is_err() {
        // The driver never submitted it: nobody else will remove the staging directory.
        super::remove_staging(cluster, &cluster.user, app).await;
        return Ok(code.max(1));
    }
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
                // The AM removes it right after unregistering, which YARN may report first:
                // as in cluster mode, the staging directory is gone when submit returns.
                super::remove_staging(cluster, &cluster.user, app).await;
                let ok = r.final_status == FinalStatus::Succeeded;
                // The driver's own exit code, unless YARN names a cause beyond the driver.
                return Ok(match super::outcome::reason(&r) {
                    _ if ok => code,
                    Some(
                        reason @ (Reason::MemoryLimit
                        | Reason::BinaryNotRunnable
                        | Reason::ExecutorsLost
                        | Reason::Killed
                        | Reason::Preempted),
                    ) => reason.code(),
                    _ => code.max(1),
                });
            }
            _ if Instant::now() > deadline => {
                eprintln!("spindle: {app} has not ended in YARN 30 s after the driver exited");
                return Ok(code.max(1));
            }
            _ => tokio::time::sleep(Duration::from_millis(300)).await,
        }
    }
}
