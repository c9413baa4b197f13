//! The executor runtime: registers with the driver, runs tasks, writes and
//! serves shuffle blocks, keeps cached partitions, and heartbeats.
//!
//! An executor is the driver's own binary started with `SPINDLE_ROLE=executor`
//! (see `spindle_core::env` for everything it reads from its environment).

mod cancel;
mod error;
mod server;
mod services;

use std::sync::Arc;
use std::time::{Duration, Instant};

use spindle_core::env::ExecutorEnv;
use spindle_proto::spindle::driver_client::DriverClient;
use spindle_proto::spindle::executor_server::ExecutorServer;
use spindle_proto::spindle::{HeartbeatRequest, LogChunk, RegisterRequest};

pub use error::Error;
use services::Services;

/// Runs this process as an executor until the driver goes away; never returns.
pub fn run_from_env() -> ! {
    let code = match ExecutorEnv::from_env().map_err(Error::from).and_then(run) {
        Ok(()) => 0,
        Err(e) => {
            tracing::error!("{e}");
            1
        }
    };
    std::process::exit(code)
}

/// The names and addresses of this machine, for the driver to match with
/// the hosts of input blocks: the NodeManager's host under YARN (`NM_HOST`),
/// the machine's host name, and the addresses they resolve to.
fn machine_hosts() -> Vec<String> {
    use std::net::ToSocketAddrs;
    let mut names: Vec<String> = Vec::new();
    let add = |h: String, into: &mut Vec<String>| {
        let h = h.trim().to_string();
        if !h.is_empty() && !into.contains(&h) {
            into.push(h);
        }
    };
    if let Ok(h) = std::env::var("NM_HOST") {
        add(h, &mut names);
    }
    if let Ok(h) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
        add(h, &mut names);
    }
    let mut hosts = names.clone();
    for n in &names {
        if let Ok(addrs) = (n.as_str(), 0).to_socket_addrs() {
            for a in addrs {
                add(a.ip().to_string(), &mut hosts);
            }
        }
    }
    hosts
}

/// Runs an executor with this environment until the driver goes away.
pub fn run(env: ExecutorEnv) -> Result<(), Error> {
    let started = Instant::now();
    spindle_core::memory::one_arena();
    spindle_core::task::install_panic_hook();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(env.cores as usize + 8)
        .thread_name("spindle-executor")
        .enable_all()
        .build()
        .map_err(|e| Error::Start(format!("runtime: {e}")))?;
    rt.block_on(serve(env, started))
}

async fn serve(env: ExecutorEnv, started: Instant) -> Result<(), Error> {
    let sha =
        tokio::task::spawn_blocking(move || (spindle_core::executable_sha256(), started.elapsed()));
    let hosts = tokio::task::spawn_blocking(machine_hosts);
    let listener = tokio::net::TcpListener::bind((env.host.as_str(), 0))
        .await
        .map_err(|e| Error::Start(format!("binding on {}: {e}", env.host)))?;
    let address = format!(
        "{}:{}",
        env.host,
        listener
            .local_addr()
            .map_err(|e| Error::Start(e.to_string()))?
            .port()
    );
    let security = spindle_core::net::Security::new(&env.secret, env.encryption)
        .map_err(|e| Error::Start(e.to_string()))?;
    let channel = spindle_core::net::channel(&env.driver_url, &security)
        .map_err(|e| Error::Start(format!("the driver: {e}")))?;
    let mut driver =
        DriverClient::new(channel).max_decoding_message_size(spindle_core::net::MAX_MESSAGE);
    let services = Arc::new(Services::new(
        &env,
        security.clone(),
        driver.clone(),
        tokio::runtime::Handle::current(),
    )?);
    if let Some(limit) = env.container_bytes {
        // Kept below the container's size: YARN kills it above (-104).
        let s = services.clone();
        spindle_core::memory::watch(limit, move |_| {
            spindle_core::task::ExecutorServices::cache(&*s).shed();
        })
        .map_err(|e| Error::Start(format!("memory watch: {e}")))?;
    }
    {
        let s = services.clone();
        spindle_core::broadcast::set_source(move |id| {
            spindle_core::task::ExecutorServices::blob(&*s, id, 0)
        });
    }
    let service = ExecutorServer::new(server::ExecutorService {
        services: services.clone(),
        jobs: Default::default(),
    })
    .max_decoding_message_size(spindle_core::net::MAX_MESSAGE)
    .max_encoding_message_size(spindle_core::net::MAX_MESSAGE);
    let incoming = spindle_core::net::incoming(listener, security);
    tokio::spawn(async move {
        if let Err(e) = tonic::transport::Server::builder()
            .tcp_nodelay(true)
            .add_service(service)
            .serve_with_incoming(incoming)
            .await
        {
            tracing::error!("server stopped: {e}");
            std::process::exit(1);
        }
    });
    let (sha, hashed_at) = sha.await.map_err(|e| Error::Start(e.to_string()))?;
    let sha = sha.map_err(|e| Error::Start(e.to_string()))?;
    let listening_at = started.elapsed();
    let req = RegisterRequest {
        executor_id: env.executor_id.clone(),
        executable_sha256: sha,
        address,
        cores: env.cores,
        pid: std::process::id(),
        hosts: hosts.await.unwrap_or_default(),
    };
    let mut tries = 0;
    loop {
        match driver.register(req.clone()).await {
            Ok(reply) => {
                // Tokens newer than the container's, fetched while it started.
                let tokens = reply.into_inner().tokens;
                if !tokens.is_empty()
                    && let Err(e) = spindle_core::tokens::install(&tokens)
                {
                    tracing::warn!("spindle executor {}: {e}", env.executor_id);
                }
                break;
            }
            Err(s)
                if s.code() == tonic::Code::FailedPrecondition
                    || s.code() == tonic::Code::Unauthenticated =>
            {
                return Err(Error::Refused(s.message().to_string()));
            }
            Err(s) => {
                tries += 1;
                if tries > 50 {
                    return Err(Error::Start(format!(
                        "cannot reach the driver at {}: {}",
                        env.driver_url,
                        s.message()
                    )));
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    if spindle_contract::settings::verbose() {
        tracing::info!(
            "spindle executor {}: registered {:?} after start (executable hashed after {hashed_at:?}, register sent after {listening_at:?})",
            env.executor_id,
            started.elapsed()
        );
    }
    // Under YARN, this container's stdout and stderr go to the driver with
    // the heartbeats, for `spindle logs --follow` (spindle_core::container_logs).
    let mut own = std::env::var("CONTAINER_ID")
        .ok()
        .map(|c| (c, spindle_core::container_logs::OwnOutput::open()));
    // Heartbeats: the executor ends when the driver is gone or has dropped it.
    let mut misses = 0;
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if let Some((container, output)) = &mut own {
            for (file, offset, data) in output.read_new() {
                let chunk = LogChunk {
                    container_id: container.clone(),
                    file: file.clone(),
                    offset,
                    data,
                };
                // Sent again with the next heartbeat if it did not arrive.
                if driver.append_log(chunk).await.is_err() {
                    output.rewind(&file, offset);
                }
            }
        }
        match driver
            .heartbeat(HeartbeatRequest {
                executor_id: env.executor_id.clone(),
            })
            .await
        {
            Ok(r) if r.get_ref().known => misses = 0,
            Ok(_) => break,
            Err(_) => {
                misses += 1;
                if misses >= 3 {
                    break;
                }
            }
        }
    }
    if let Some(limit) = env.container_bytes {
        let m = spindle_core::memory::stats();
        tracing::info!(
            "spindle executor {}: peak resident memory {} MiB of the container's {} MiB; memory pressure {} times",
            env.executor_id,
            m.peak_bytes >> 20,
            limit >> 20,
            m.pressure_events
        );
    }
    Ok(())
}
