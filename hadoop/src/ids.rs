//! YARN ids and their string forms, printed and parsed exactly as Hadoop's
//! `ApplicationId`, `ApplicationAttemptId`, `ContainerId` and `NodeId` do,
//! because these strings are what the RM REST API, the environment of a
//! container and the logs use. Their protobuf forms are in `yarn/convert.rs`
//! with the other YARN records'.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// `application_<clusterTimestamp>_<id>`, the id zero-padded to 4 digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ApplicationId {
    /// When the RM started (ms since the epoch): tells RM restarts apart.
    pub cluster_timestamp: i64,
    /// Sequence number within that RM's lifetime.
    pub id: i32,
}

/// `appattempt_<clusterTimestamp>_<app 4 digits>_<attempt 6 digits>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ApplicationAttemptId {
    pub application_id: ApplicationId,
    pub attempt_id: i32,
}

/// `container_[e<epoch>_]<ts>_<app 4>_<attempt 2>_<container 6>`.
///
/// The 64-bit container id holds the RM epoch (incremented by RM restarts
/// and failovers) in its bits 40 and up and the sequence number in the low 40
/// bits, as Hadoop's `ContainerId.getContainerId()` does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContainerId {
    pub attempt_id: ApplicationAttemptId,
    /// Epoch and sequence number: `(epoch << 40) | sequence`.
    pub container_id: i64,
}

/// A NodeManager's id: `host:port` of its RPC server.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    pub host: String,
    pub port: i32,
}

const SEQUENCE_BITS: u32 = 40;
const SEQUENCE_MASK: i64 = (1 << SEQUENCE_BITS) - 1;

fn malformed(what: &str, s: &str, reason: impl Into<String>) -> Error {
    Error::Malformed {
        what: format!("{what} {s:?}"),
        reason: reason.into(),
    }
}

/// A non-negative decimal number made of ASCII digits only (no sign, no
/// spaces), as Hadoop's ids are written.
fn number<T: FromStr>(what: &str, s: &str, part: &str, field: &str) -> Result<T> {
    if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed(
            what,
            s,
            format!("{field} {part:?} is not a number"),
        ));
    }
    part.parse()
        .map_err(|_| malformed(what, s, format!("{field} {part:?} is out of range")))
}

impl ApplicationId {
    pub fn new(cluster_timestamp: i64, id: i32) -> Self {
        Self {
            cluster_timestamp,
            id,
        }
    }
}

impl fmt::Display for ApplicationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "application_{}_{:04}", self.cluster_timestamp, self.id)
    }
}

impl FromStr for ApplicationId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        const WHAT: &str = "application id";
        let parts: Vec<&str> = s.split('_').collect();
        match parts.as_slice() {
            ["application", ts, id] => Ok(Self {
                cluster_timestamp: number(WHAT, s, ts, "cluster timestamp")?,
                id: number(WHAT, s, id, "sequence number")?,
            }),
            _ => Err(malformed(
                WHAT,
                s,
                "expected application_<clusterTimestamp>_<id>",
            )),
        }
    }
}

impl ApplicationAttemptId {
    pub fn new(application_id: ApplicationId, attempt_id: i32) -> Self {
        Self {
            application_id,
            attempt_id,
        }
    }
}

impl fmt::Display for ApplicationAttemptId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let app = &self.application_id;
        write!(
            f,
            "appattempt_{}_{:04}_{:06}",
            app.cluster_timestamp, app.id, self.attempt_id
        )
    }
}

impl FromStr for ApplicationAttemptId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        const WHAT: &str = "application attempt id";
        let parts: Vec<&str> = s.split('_').collect();
        match parts.as_slice() {
            ["appattempt", ts, app, attempt] => Ok(Self {
                application_id: ApplicationId {
                    cluster_timestamp: number(WHAT, s, ts, "cluster timestamp")?,
                    id: number(WHAT, s, app, "application sequence number")?,
                },
                attempt_id: number(WHAT, s, attempt, "attempt number")?,
            }),
            _ => Err(malformed(
                WHAT,
                s,
                "expected appattempt_<clusterTimestamp>_<appId>_<attemptId>",
            )),
        }
    }
}

impl ContainerId {
    /// A container id from its parts; `sequence` must fit in 40 bits.
    pub fn new(attempt_id: ApplicationAttemptId, epoch: i64, sequence: i64) -> Self {
        Self {
            attempt_id,
            container_id: (epoch << SEQUENCE_BITS) | (sequence & SEQUENCE_MASK),
        }
    }

    /// The RM epoch (0 before any RM restart).
    pub fn epoch(&self) -> i64 {
        self.container_id >> SEQUENCE_BITS
    }

    /// The container's sequence number within its attempt (1 is the AM).
    pub fn sequence(&self) -> i64 {
        self.container_id & SEQUENCE_MASK
    }

    pub fn application_id(&self) -> ApplicationId {
        self.attempt_id.application_id
    }

    /// The container this process runs in, from `CONTAINER_ID`, which the
    /// NodeManager sets in every container; `None` outside YARN.
    pub fn from_env() -> Result<Option<ContainerId>> {
        match std::env::var("CONTAINER_ID") {
            Ok(s) if !s.is_empty() => s.parse().map(Some),
            _ => Ok(None),
        }
    }
}

impl fmt::Display for ContainerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("container_")?;
        if self.epoch() > 0 {
            write!(f, "e{:02}_", self.epoch())?;
        }
        let app = &self.attempt_id.application_id;
        write!(
            f,
            "{}_{:04}_{:02}_{:06}",
            app.cluster_timestamp,
            app.id,
            self.attempt_id.attempt_id,
            self.sequence()
        )
    }
}

impl FromStr for ContainerId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        const WHAT: &str = "container id";
        let parts: Vec<&str> = s.split('_').collect();
        let (epoch, rest) = match parts.as_slice() {
            ["container", e, rest @ ..] if e.starts_with('e') => {
                (number::<i64>(WHAT, s, &e[1..], "epoch")?, rest)
            }
            ["container", rest @ ..] => (0, rest),
            _ => return Err(malformed(WHAT, s, "expected the prefix container_")),
        };
        let [ts, app, attempt, seq] = rest else {
            return Err(malformed(
                WHAT,
                s,
                "expected container_[e<epoch>_]<clusterTimestamp>_<appId>_<attemptId>_<containerId>",
            ));
        };
        let sequence: i64 = number(WHAT, s, seq, "container number")?;
        if sequence > SEQUENCE_MASK {
            return Err(malformed(
                WHAT,
                s,
                "container number does not fit in 40 bits",
            ));
        }
        if epoch > i64::MAX >> SEQUENCE_BITS {
            return Err(malformed(WHAT, s, "epoch is out of range"));
        }
        let attempt_id = ApplicationAttemptId {
            application_id: ApplicationId {
                cluster_timestamp: number(WHAT, s, ts, "cluster timestamp")?,
                id: number(WHAT, s, app, "application sequence number")?,
            },
            attempt_id: number(WHAT, s, attempt, "attempt number")?,
        };
        Ok(Self::new(attempt_id, epoch, sequence))
    }
}

impl NodeId {
    pub fn new(host: impl Into<String>, port: i32) -> Self {
        Self {
            host: host.into(),
            port,
        }
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

impl FromStr for NodeId {
    type Err = Error;
    /// Hadoop's `NodeId.fromString`: exactly one `:` with a numeric port.
    fn from_str(s: &str) -> Result<Self> {
        const WHAT: &str = "node id";
        let parts: Vec<&str> = s.split(':').collect();
        match parts.as_slice() {
            [host, port] if !host.is_empty() => Ok(Self {
                host: host.to_string(),
                port: number(WHAT, s, port, "port")?,
            }),
            _ => Err(malformed(WHAT, s, "expected host:port")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn application_id_round_trip() {
        let id: ApplicationId = "application_1410901177871_0001".parse().unwrap();
        assert_eq!(id, ApplicationId::new(1410901177871, 1));
        assert_eq!(id.to_string(), "application_1410901177871_0001");
        // More than four digits are printed in full.
        let big = ApplicationId::new(1, 123456);
        assert_eq!(big.to_string(), "application_1_123456");
        assert_eq!(big.to_string().parse::<ApplicationId>().unwrap(), big);
    }

    #[test]
    fn attempt_id_round_trip() {
        let s = "appattempt_1410901177871_0012_000003";
        let id: ApplicationAttemptId = s.parse().unwrap();
        assert_eq!(id.application_id, ApplicationId::new(1410901177871, 12));
        assert_eq!(id.attempt_id, 3);
        assert_eq!(id.to_string(), s);
    }

    #[test]
    fn container_id_without_and_with_epoch() {
        let s = "container_1410901177871_0001_01_000005";
        let c: ContainerId = s.parse().unwrap();
        assert_eq!(c.epoch(), 0);
        assert_eq!(c.sequence(), 5);
        assert_eq!(c.container_id, 5);
        assert_eq!(c.to_string(), s);

        // Hadoop's own example from ContainerId's documentation.
        let s = "container_e17_1410901177871_0001_01_000005";
        let c: ContainerId = s.parse().unwrap();
        assert_eq!(c.epoch(), 17);
        assert_eq!(c.sequence(), 5);
        assert_eq!(c.container_id, (17 << 40) | 5);
        assert_eq!(c.attempt_id.attempt_id, 1);
        assert_eq!(c.to_string(), s);

        // Epochs below 10 are padded to two digits; wide numbers are kept.
        let c = ContainerId::new(
            ApplicationAttemptId::new(ApplicationId::new(7, 3), 2),
            3,
            1234567,
        );
        assert_eq!(c.to_string(), "container_e03_7_0003_02_1234567");
        assert_eq!(c.to_string().parse::<ContainerId>().unwrap(), c);
    }

    #[test]
    fn node_id_round_trip() {
        let n: NodeId = "localhost:45454".parse().unwrap();
        assert_eq!(n, NodeId::new("localhost", 45454));
        assert_eq!(n.to_string(), "localhost:45454");
    }

    #[test]
    fn malformed_ids_are_clear_errors() {
        for (s, needle) in [
            ("application_x_0001", "cluster timestamp"),
            ("application_1_", "sequence number"),
            ("app_1_1", "expected application_"),
            ("application_1_1_1", "expected application_"),
            ("application_1_-1", "not a number"),
            ("application_1_99999999999", "out of range"),
        ] {
            let e = s.parse::<ApplicationId>().unwrap_err().to_string();
            assert!(e.contains(needle) && e.contains(s), "{s}: {e}");
        }
        for (s, needle) in [
            ("container_1_0001_01", "expected container_"),
            ("containers_1_0001_01_000001", "prefix"),
            ("container_ex_1_0001_01_000001", "epoch"),
            ("container_1_0001_01_2000000000000", "40 bits"),
        ] {
            let e = s.parse::<ContainerId>().unwrap_err().to_string();
            assert!(e.contains(needle), "{s}: {e}");
        }
        assert!("appattempt_1_1".parse::<ApplicationAttemptId>().is_err());
        assert!("host".parse::<NodeId>().is_err());
        assert!("host:port".parse::<NodeId>().is_err());
        assert!(":1".parse::<NodeId>().is_err());
    }
}

#[cfg(test)]
mod robustness {
    //! Property tests: printed ids parse back to themselves; any string
    //! parses or fails cleanly.

    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn printed_ids_parse_back(
            ts in 0i64..=i64::MAX, app in 0i32..=i32::MAX, attempt in 0i32..=i32::MAX,
            epoch in 0i64..(1 << 23), seq in 0i64..(1 << 40),
            host in "[a-z][a-z0-9.-]{0,20}", port in 0i32..65536,
        ) {
            let a = ApplicationId::new(ts, app);
            prop_assert_eq!(a.to_string().parse::<ApplicationId>().unwrap(), a);
            let at = ApplicationAttemptId::new(a, attempt);
            prop_assert_eq!(at.to_string().parse::<ApplicationAttemptId>().unwrap(), at);
            let c = ContainerId::new(at, epoch, seq);
            prop_assert_eq!(c.to_string().parse::<ContainerId>().unwrap(), c);
            prop_assert_eq!((c.epoch(), c.sequence()), (epoch, seq));
            let n = NodeId::new(host, port);
            prop_assert_eq!(n.to_string().parse::<NodeId>().unwrap(), n);
        }

        #[test]
        fn any_string_parses_or_fails_cleanly(s in "(application|appattempt|container)?_?[0-9e_a-z:-]{0,40}") {
            let _ = s.parse::<ApplicationId>();
            let _ = s.parse::<ApplicationAttemptId>();
            let _ = s.parse::<ContainerId>();
            let _ = s.parse::<NodeId>();
        }
    }
}
