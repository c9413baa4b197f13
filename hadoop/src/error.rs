//! The one error type of this crate.

/// Everything that can go wrong while talking to Hadoop. Each message names
/// what failed and where (a file and key, an address, a method).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bytes that do not decode as what they claim to be.
    #[error("malformed {what}: {reason}")]
    Malformed { what: String, reason: String },
    /// An I/O error, with what was being done.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// A configuration file that is not valid XML, or a value that does not
    /// parse as what its key needs. `file` is where the value came from.
    #[error("configuration {file}: {key}: {reason}")]
    Config {
        file: String,
        key: String,
        reason: String,
    },
    /// The RM REST API could not be reached or answered something unreadable.
    #[error("RM REST {url}: {reason}")]
    Rest { url: String, reason: String },
    /// The RM REST API answered with Hadoop's `RemoteException`.
    #[error("RM REST {url}: HTTP {status} {exception}: {message} ({java_class_name})")]
    RestRemote {
        url: String,
        status: u16,
        exception: String,
        message: String,
        java_class_name: String,
    },
    // --- Hadoop IPC (wire-rpc) ---
    /// No TCP connection could be opened, after the configured retries.
    #[error("cannot connect to {address}: {reason}")]
    Connect { address: String, reason: String },
    /// The RPC connection broke, or the server broke the protocol.
    #[error("RPC with {address}: {reason}")]
    Rpc { address: String, reason: String },
    /// A call (or a connection handshake) got no answer in time.
    #[error("RPC {method} to {address}: no answer within {timeout_ms} ms")]
    Timeout {
        address: String,
        method: String,
        timeout_ms: u64,
    },
    /// A NameNode call (hdfs-native's or ours) got no answer in time: the
    /// NameNode is down, unreachable or black-holed.
    #[error(
        "the NameNode of {fs} did not answer within {secs} s (is fs.defaultFS right, and the NameNode up and reachable from here?)"
    )]
    NameNodeSilent { fs: String, secs: u64 },
    /// The server ran the call and it threw: Hadoop's `RemoteException`, with
    /// the Java exception class and the first line of its message.
    #[error("{address} {method}: {class}: {message}")]
    Remote {
        address: String,
        method: String,
        class: String,
        message: String,
    },
    /// The server refused our credentials (SASL), or we could not agree on
    /// an authentication method.
    #[error("authentication to {address} refused: {reason}")]
    Auth { address: String, reason: String },
    /// A Kerberos login or ticket problem, said as what to do about it
    /// (`kinit`, `--principal/--keytab`, `krb5.conf`).
    #[error("Kerberos: {reason}")]
    Kerberos { reason: String },
}

impl Error {
    /// The Java exception class when the server threw one (`Remote`, or
    /// `RestRemote` from the RM REST API).
    pub fn remote_class(&self) -> Option<&str> {
        match self {
            Error::Remote { class, .. } => Some(class),
            Error::RestRemote {
                java_class_name, ..
            } => Some(java_class_name),
            _ => None,
        }
    }
}

/// The first line of a Java exception text, without a leading `class: `
/// (servers send `stringifyException` output: class, message, stack trace).
pub(crate) fn first_line(text: &str, class: &str) -> String {
    let line = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    let line = line
        .strip_prefix(class)
        .and_then(|rest| rest.strip_prefix(':'))
        .map(str::trim)
        .unwrap_or(line);
    line.to_string()
}

pub type Result<T> = std::result::Result<T, Error>;
