//! Writing a whole HDFS file again through new DataNodes when the ones it got fail.
//!
//! hdfs-native's writer fails a block whose first DataNode cannot be reached, where Java's
//! client abandons the block and asks the NameNode for another pipeline without that node. A
//! DataNode cut off but not yet declared dead would otherwise fail every write whose block it
//! heads (with two DataNodes and replication 2, every other one). Each new try gets a pipeline
//! chosen anew, and within 2 recheck intervals + 10 heartbeats of the cut (20 s on the
//! mini-Hadoop, 10.5 minutes by default) the NameNode stops handing the silent DataNode out.

use hdfs_native::HdfsError;
use hdfs_native::file::FileWriter;
use std::time::Duration;

/// The pauses before each new try of a write whose DataNodes failed (31 s in all).
pub const PIPELINE_PAUSES: [Duration; 6] = {
    let s = Duration::from_secs;
    [s(1), s(2), s(4), s(8), s(8), s(8)]
};

/// How long one piece of a file (or its close) may take to reach its DataNodes.
pub const DATANODE_WITHIN: Duration = Duration::from_secs(60);

/// `w.write_bytes(piece)`, failed as an I/O error when it takes over [`DATANODE_WITHIN`].
pub async fn write_piece(w: &mut FileWriter, piece: bytes::Bytes) -> Result<(), HdfsError> {
    match tokio::time::timeout(DATANODE_WITHIN, w.write_bytes(piece)).await {
        Ok(r) => r.map(|_| ()),
        Err(_) => Err(silent()),
    }
}

/// `w.close()`, failed as an I/O error when it takes over [`DATANODE_WITHIN`].
pub async fn close(mut w: FileWriter) -> Result<(), HdfsError> {
    tokio::time::timeout(DATANODE_WITHIN, w.close())
        .await
        .unwrap_or_else(|_| Err(silent()))
}

fn silent() -> HdfsError {
    HdfsError::IOError(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        format!("no DataNode took the data within {DATANODE_WITHIN:?}"),
    ))
}

/// Runs `write_once` (create the file, write it whole, close it) until it succeeds; while its
/// DataNodes fail, removes the half-written file and pauses before the next try, once per
/// entry of `pauses` ([`PIPELINE_PAUSES`]). Any other HDFS failure, or the last DataNode one,
/// comes back as `Ok(Err(..))` for the caller to name; `E` is the caller's own error, from
/// creating or removing the file, returned at once.
pub async fn with_new_pipelines<E>(
    path: &str,
    pauses: &[Duration],
    mut write_once: impl AsyncFnMut() -> Result<Result<(), HdfsError>, E>,
    mut remove: impl AsyncFnMut() -> Result<(), E>,
) -> Result<Result<(), HdfsError>, E> {
    let mut pauses = pauses.iter();
    loop {
        let e = match write_once().await? {
            Ok(()) => return Ok(Ok(())),
            Err(e) => e,
        };
        let pause = match (&e, pauses.next()) {
            (HdfsError::IOError(_) | HdfsError::DataTransferError(_), Some(pause)) => pause,
            _ => return Ok(Err(e)),
        };
        tracing::warn!("writing {path}: {e}; writing it again through new DataNodes in {pause:?}");
        remove().await?;
        tokio::time::sleep(*pause).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A write whose DataNodes fail is written again from a removed file, as often as there are
    /// pauses; a failure of anything else (a quota, say) comes back at once.
    #[test]
    fn a_write_failed_by_its_datanodes_is_written_again_through_new_ones() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let pauses = [Duration::ZERO; 3];
        let run = |answers: Vec<fn() -> HdfsError>, ok_at: usize| {
            let (mut tries, mut removed) = (0, 0);
            let r: Result<_, ()> = rt.block_on(with_new_pipelines(
                "/out/_temporary/attempt-00001-0",
                &pauses,
                async || {
                    tries += 1;
                    Ok(match answers.get(tries - 1) {
                        Some(e) if tries != ok_at => Err(e()),
                        _ => Ok(()),
                    })
                },
                async || {
                    removed += 1;
                    Ok(())
                },
            ));
            (r.unwrap(), tries, removed)
        };
        let datanode: fn() -> HdfsError = || {
            HdfsError::IOError(std::io::Error::new(
                std::io::ErrorKind::HostUnreachable,
                "No route to host",
            ))
        };
        let pipeline: fn() -> HdfsError = || HdfsError::DataTransferError("bad ack".into());
        let quota: fn() -> HdfsError =
            || HdfsError::RPCError("DSQuotaExceededException".into(), "quota".into());

        let (r, tries, removed) = run(vec![datanode, pipeline], 3);
        assert!(r.is_ok(), "{r:?}");
        assert_eq!((tries, removed), (3, 2));

        let (r, tries, removed) = run(vec![quota], 0);
        assert!(r.unwrap_err().to_string().contains("quota"));
        assert_eq!((tries, removed), (1, 0));

        let (r, tries, removed) = run(vec![datanode; 10], 0);
        assert!(r.unwrap_err().to_string().contains("No route to host"));
        assert_eq!((tries, removed), (4, 3));
    }
}
