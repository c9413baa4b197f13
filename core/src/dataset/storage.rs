//! Where a dataset's partitions are kept beyond one job: dropping cached
//! partitions, and checkpoints to reliable storage that cut the lineage.

use crate::codec;
use crate::entry::SinkFn;
use crate::io::Codec;
use crate::ops::{actions, source};
use crate::{Data, Dataset, Error, Result};

impl<T: Data> Dataset<T> {
    /// Drops the partitions `persist` or `cache` kept, in every executor
    /// (waiting for them); later jobs compute this dataset again and no
    /// longer keep it. Unpersisting a dataset that is not cached does nothing.
    pub fn unpersist(&self) {
        if self.node.name == "cached" {
            self.ctx.unpersist_node(self.node.id);
        }
    }

    /// Writes every partition under the context's checkpoint directory (see
    /// `Context::set_checkpoint_dir`, local or `hdfs://`) and returns a
    /// dataset read from there: its lineage starts at the files, so a lost
    /// partition is read again, not recomputed. Runs a job now.
    pub fn checkpoint(&self) -> Result<Dataset<T>> {
        let dir = self.ctx.checkpoint_dir().ok_or_else(|| {
            Error::Config(
                "checkpoint: no checkpoint directory (call Context::set_checkpoint_dir)".into(),
            )
        })?;
        let path = format!("{dir}/node-{}", self.node.id);
        self.save_with(
            &path,
            actions::sink_save_frames::<T>,
            "checkpoint",
            "",
            None,
        )?;
        let params = source::CheckpointParams {
            path,
            partitions: self.node.num_partitions,
        };
        Ok(Dataset::new_node(
            &self.ctx,
            "checkpoint",
            source::compute_checkpoint::<T>,
            codec::encode(&params),
            Vec::new(),
            self.node.num_partitions,
        ))
    }

    /// Runs `sink` (which writes each partition with `io::write_task_part`)
    /// into `path` under the output commit protocol: part files named
    /// `part-P` + `ext` (a format's extension, or nothing), compressed with
    /// `codec` if any (its extension after `ext`).
    pub(crate) fn save_with(
        &self,
        path: &str,
        sink: SinkFn,
        name: &'static str,
        ext: &str,
        codec: Option<Codec>,
    ) -> Result<()> {
        let suffix = format!("{ext}{}", codec.map_or("", Codec::extension));
        // A path in fs.defaultFS is resolved once here, so that every
        // executor writes to the same place; local ones stay as written.
        let path = match crate::io::Location::parse(path)? {
            loc @ crate::io::Location::Hdfs { .. } => loc.qualified(),
            crate::io::Location::Local(_) => path.to_string(),
        };
        let path = path.as_str();
        crate::io::prepare_output(path)?;
        let params = actions::SaveParams {
            path: path.to_string(),
            codec,
            suffix: suffix.clone(),
        };
        let result = self
            .run(name, sink, codec::encode(&params), self.all_partitions())
            .and_then(|_| crate::io::commit_job_parts(path, self.node.num_partitions, &suffix));
        if result.is_err() {
            crate::io::abort_job(path);
        }
        result
    }
}
