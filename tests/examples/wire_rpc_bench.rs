//! RPC round trips per second of Spindle's IPC client against a real cluster (`HADOOP_CONF_DIR`):
//! ApplicationClientProtocol.getClusterMetrics on the RM and ClientProtocol.getFileInfo on the NN,
//! one call in flight and 16 in flight. `bench/rpc-roundtrips.sh` runs it next to the same loop
//! in Hadoop's Java client (`dev.spindle.peers.WireBench`). Usage: wire_rpc_bench CALLS PATH.
//! Prints `<name> calls=N secs=S rate=R` lines.

use std::sync::Arc;
use std::time::Instant;

use spindle_hadoop::config::Configuration;
use spindle_hadoop::ipc::{Auth, IpcConfig};
use spindle_hadoop::namenode::NameNodeClient;
use spindle_hadoop::yarn::ApplicationClient;

const IN_FLIGHT: usize = 16;

async fn measure<F, Fut>(name: &str, calls: usize, parallel: usize, f: F)
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let f = Arc::new(f);
    // Warm-up: connection, first calls.
    for _ in 0..calls / 10 {
        f().await;
    }
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..parallel {
        let f = f.clone();
        let n = calls / parallel;
        tasks.push(tokio::spawn(async move {
            for _ in 0..n {
                f().await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let secs = started.elapsed().as_secs_f64();
    let done = calls / parallel * parallel;
    println!(
        "{name} calls={done} secs={secs:.3} rate={:.0}",
        done as f64 / secs
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let calls: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(5000);
    let path = args.get(2).cloned().unwrap_or_else(|| "/".into());
    let conf = Configuration::from_env().expect("HADOOP_CONF_DIR");
    let rm_addrs: Vec<String> = conf
        .rm_addresses()
        .unwrap()
        .into_iter()
        .map(|r| r.rpc)
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let rm = Arc::new(ApplicationClient::new(
            rm_addrs,
            Auth::simple(),
            IpcConfig::default(),
        ));
        let nn = Arc::new(NameNodeClient::from_config(&conf, Auth::simple()).unwrap());
        for (label, parallel) in [("1", 1), ("16", IN_FLIGHT)] {
            let c = rm.clone();
            measure(
                &format!("rm.getClusterMetrics.inflight{label}"),
                calls,
                parallel,
                move || {
                    let c = c.clone();
                    async move {
                        c.cluster_metrics().await.unwrap();
                    }
                },
            )
            .await;
            let c = nn.clone();
            let p = path.clone();
            measure(
                &format!("nn.getFileInfo.inflight{label}"),
                calls,
                parallel,
                move || {
                    let c = c.clone();
                    let p = p.clone();
                    async move {
                        c.file_info(&p).await.unwrap().expect("path exists");
                    }
                },
            )
            .await;
        }
    });
}
