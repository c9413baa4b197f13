#!/usr/bin/env bash
# bench/rpc-roundtrips.sh: Hadoop RPC round trips per second, Spindle's IPC client against
# Hadoop's own Java client, on the same real ResourceManager and NameNode, in the same run:
#   rm.getClusterMetrics (ApplicationClientProtocol) and nn.getFileInfo (ClientProtocol),
#   with 1 call in flight and with 16 in flight.
# Rounds alternate Java and Rust (3 each); the table shows each side's median and the ratio.
# Usage: bench/rpc-roundtrips.sh [CALLS]  (default 20000 per measurement).
# Uses the cluster of $HADOOP_CONF_DIR if set, else starts deploy/mini-hadoop for the run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
calls=${1:-20000}
scratch="$root/target/bench-rpc-roundtrips"
rm -rf "$scratch"; mkdir -p "$scratch"
target=${CARGO_TARGET_DIR:-$root/target}

pid=
if [ -z "${HADOOP_CONF_DIR:-}" ]; then
  exec 5> >(exec deploy/mini-hadoop --stop-on-stdin-eof --work-dir "$scratch/cluster" \
    --conf-dir "$scratch/cluster/conf" >"$scratch/ready.txt" 2>"$scratch/launcher.log")
  pid=$!
  trap 'kill -TERM $pid 2>/dev/null; exec 5>&-; wait $pid 2>/dev/null || true' EXIT
  until grep -q '^READY ' "$scratch/ready.txt" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || { cat "$scratch/launcher.log" >&2; exit 1; }
    sleep 0.1
  done
  export HADOOP_CONF_DIR="$scratch/cluster/conf"
fi

cargo build --release -q -p spindle-tests --example wire_rpc_bench
bash tests/java/build
cp="$HADOOP_CONF_DIR:$root/tests/java/target/classes:$(cat tests/java/target/classpath.txt)"
java_peer() { java -Xmx512m -XX:+UseSerialGC -cp "$cp" "$@"; }

# A file for getFileInfo, written by Hadoop's client.
java_peer dev.spindle.peers.FsWriteRandom /bench-rpc/file 1024 1048576 1 >/dev/null

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); calls per measurement: $calls"
for round in 1 2 3; do
  java_peer dev.spindle.peers.WireBench "$calls" /bench-rpc/file 2>/dev/null | sed 's/^/java /' >>"$scratch/results.txt"
  "$target/release/examples/wire_rpc_bench" "$calls" /bench-rpc/file | sed 's/^/rust /' >>"$scratch/results.txt"
done

awk '
  { side=$1; name=$2; split($5, r, "="); rates[side, name] = rates[side, name] " " r[2]; names[name] = 1 }
  function median(list,   a, n, i, j, t) {
    n = split(list, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return a[int((n + 1) / 2)]
  }
  END {
    printf "| call | Spindle (calls/s) | Java client (calls/s) | Spindle / Java |\n|---|---|---|---|\n"
    split("rm.getClusterMetrics.inflight1 nn.getFileInfo.inflight1 rm.getClusterMetrics.inflight16 nn.getFileInfo.inflight16", order, " ")
    for (i = 1; i <= 4; i++) {
      s = median(rates["rust", order[i]]); j = median(rates["java", order[i]])
      printf "| %s | %d | %d | %.2f |\n", order[i], s, j, s / j
    }
  }' "$scratch/results.txt"
