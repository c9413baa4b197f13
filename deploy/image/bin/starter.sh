#!/usr/bin/env bash
# Entry point of localhost/spindle-hadoop, like apache/hadoop's: when ENSURE_NAMENODE_DIR names a
# directory that does not exist yet, format the NameNode (once: later starts find the directory
# on the volume and keep the data), then run the command (hdfs namenode, yarn nodemanager, ...).
set -euo pipefail
if [ -n "${ENSURE_NAMENODE_DIR:-}" ] && [ ! -d "$ENSURE_NAMENODE_DIR" ]; then
  echo "starter: $ENSURE_NAMENODE_DIR is missing: formatting the NameNode" >&2
  /opt/hadoop/bin/hdfs namenode -format -force -nonInteractive \
    ${ENSURE_NAMENODE_CLUSTERID:+-clusterid "$ENSURE_NAMENODE_CLUSTERID"}
fi
exec "$@"
