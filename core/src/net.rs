//! gRPC channels between Spindle's own processes (driver, executors, peers).
//!
//! Every channel connects lazily, gives up connecting after a few seconds and
//! pings its peer over HTTP/2: a host cut off from the network then fails the
//! calls in flight within about half a minute instead of after the kernel's
//! TCP retransmission limit (~15 min), so the scheduler can run the work elsewhere.

use std::time::Duration;

use tonic::transport::{Channel, Endpoint};

use crate::{Error, Result};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(10);
const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(20);

/// A lazily connected channel to `url` (`http://host:port`).
pub fn channel(url: &str) -> Result<Channel> {
    Ok(Endpoint::from_shared(url.to_string())
        .map_err(|e| Error::Rpc(format!("address {url}: {e}")))?
        .tcp_nodelay(true)
        .connect_timeout(CONNECT_TIMEOUT)
        .http2_keep_alive_interval(KEEPALIVE_INTERVAL)
        .keep_alive_timeout(KEEPALIVE_TIMEOUT)
        .keep_alive_while_idle(true)
        .connect_lazy())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_address_is_named() {
        let e = channel("not a url").unwrap_err().to_string();
        assert!(e.contains("not a url"), "{e}");
    }
}
