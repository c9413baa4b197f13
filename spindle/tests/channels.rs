//! Spindle's own channels seen from the wire, in local mode with real executor
//! processes (this test binary is the driver and, started again, each
//! executor): the executors reach the driver through a relay in this test
//! that forwards every byte and keeps a copy. Encrypted (the default), the
//! copy holds no cleartext HTTP/2 (no `PRI * HTTP/2.0` preface), no copy of
//! the application secret and none of the job's data; with
//! `spindle.network.crypto.enabled=false` (this binary again, as a driver with
//! `SPINDLE_NETWORK_CRYPTO_ENABLED=false`) the same relay does see HTTP/2 and
//! the data (so it would notice), and still never the secret.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use spindle::cluster::{ClusterBackend, ExecutorSettings, LocalBackend};
use spindle::{Context, Result, Role};

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// Data the job moves from the driver to the executors (a broadcast value).
const MARKER: &str = "broadcast-value-that-only-the-application-may-read";

/// Every connection's bytes, both directions, in the order they passed.
type Seen = Arc<Mutex<Vec<Arc<Mutex<Vec<u8>>>>>>;

/// Listens on loopback and forwards each connection to `target`.
fn relay(target: String) -> (String, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let seen: Seen = Default::default();
    let all = seen.clone();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { continue };
            let Ok(server) = TcpStream::connect(&target) else {
                continue;
            };
            for (mut from, mut to) in [
                (client.try_clone().unwrap(), server.try_clone().unwrap()),
                (server, client),
            ] {
                let copy: Arc<Mutex<Vec<u8>>> = Default::default();
                all.lock().unwrap().push(copy.clone());
                std::thread::spawn(move || {
                    let mut buf = [0u8; 16384];
                    loop {
                        match from.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => {
                                copy.lock().unwrap().extend_from_slice(&buf[..n]);
                                if to.write_all(&buf[..n]).is_err() {
                                    break;
                                }
                            }
                        }
                    }
                    let _ = to.shutdown(Shutdown::Write);
                });
            }
        }
    });
    (addr, seen)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Runs a job whose executors reach the driver through a relay; returns what
/// the relay saw and the application's secret.
fn job_through_a_relay() -> Result<(Vec<Vec<u8>>, String)> {
    let settings = ExecutorSettings {
        cores: 1,
        cache_mb: 64,
        shuffle_mb: 64,
    };
    let seen: Arc<Mutex<Option<(Seen, String)>>> = Default::default();
    let slot = seen.clone();
    let ctx = Context::with_backend("127.0.0.1", settings, move |mut launch| {
        let (scheme, driver) = launch.driver_url.split_once("://").unwrap();
        let (relay_addr, copies) = relay(driver.to_string());
        launch.driver_url = format!("{scheme}://{relay_addr}");
        *slot.lock().unwrap() = Some((copies, launch.secret.expose().to_string()));
        let b = LocalBackend::new(2, launch)?;
        b.request_executors(2)?;
        Ok(Arc::new(b) as Arc<dyn ClusterBackend>)
    })?;
    let value = ctx.broadcast(&MARKER.to_string());
    let lengths = ctx
        .range(0, 8, 4)
        .map_with(value, |v, x| v.value().len() as u64 + x)
        .collect()?;
    assert_eq!(lengths.len(), 8);
    assert!(lengths.iter().all(|n| *n >= MARKER.len() as u64));
    ctx.stop();
    let (copies, secret) = seen.lock().unwrap().take().expect("the backend started");
    let bytes = copies
        .lock()
        .unwrap()
        .iter()
        .map(|c| c.lock().unwrap().clone())
        .collect();
    Ok((bytes, secret))
}

/// Set in the environment of this binary's second run, as a driver without encryption.
const PLAINTEXT_RUN: &str = "CHANNELS_TEST_PLAINTEXT";

fn main() {
    if Role::from_env() == Role::Executor {
        // An executor process: serves tasks and never returns.
        let _ = spindle::context();
        unreachable!("an executor never returns");
    }
    let encryption = std::env::var_os(PLAINTEXT_RUN).is_none();
    let (streams, secret) = job_through_a_relay().expect("the job runs");
    let total: usize = streams.iter().map(Vec::len).sum();
    // Enough that the job's traffic went through the relay: a TLS handshake alone is over 1000
    // bytes; without encryption the preface and data checks below say it (how many bytes
    // depends on how the tasks fell on the two executors).
    let least = if encryption { 1000 } else { 200 };
    assert!(total > least, "the relay saw only {total} bytes");
    let any = |needle: &[u8]| streams.iter().any(|s| contains(s, needle));
    assert!(!any(secret.as_bytes()), "the secret crossed the wire");
    assert_eq!(
        any(PREFACE),
        !encryption,
        "HTTP/2 preface, encryption={encryption}"
    );
    assert_eq!(
        any(MARKER.as_bytes()),
        !encryption,
        "job data, encryption={encryption}"
    );
    println!(
        "test executor_to_driver_bytes_encryption_{encryption} ... ok ({} connections, {total} bytes)",
        streams.len() / 2
    );
    if encryption {
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .env(PLAINTEXT_RUN, "1")
            .env("SPINDLE_NETWORK_CRYPTO_ENABLED", "false")
            .status()
            .unwrap();
        assert!(status.success(), "the run without encryption: {status}");
    }
}
