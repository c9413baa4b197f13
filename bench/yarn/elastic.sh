#!/usr/bin/env bash
# bench/yarn/elastic.sh: what dynamic allocation saves a shared cluster, in container-seconds.
#
#   bench/yarn/elastic.sh                 # narrow phase of 30 s
#   bench/yarn/elastic.sh --seconds N     # narrow phase of N s
#   SPINDLE_BIN=DIR bench/yarn/elastic.sh # prebuilt spindle and spindle-testjobs from DIR
#
# Runs `spindle-testjobs two-phase N` (16 tasks of 1.5 s, then one task of N s) in cluster mode
# twice on the same cluster: with 4 executors of 1 core kept throughout, and with
# spindle.dynamicAllocation.enabled (1 executor at the start, at most 4, idle timeout 5 s,
# backlog timeout 1 s). Reads from the RM's REST report of each application its vcoreSeconds
# (every container has 1 vcore, so these are container-seconds, the AM's included), its
# memorySeconds and its elapsed time, and prints a Markdown table. Uses HADOOP_CONF_DIR's cluster
# if set, else starts the mini-Hadoop.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root=$(pwd)
source bench/yarn/lib.sh
seconds=30
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift ;;
    *) echo "usage: bench/yarn/elastic.sh [--seconds N]" >&2; exit 2 ;;
  esac
  shift
done
work="$root/target/bench-elastic"
mkdir -p "$work"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target/bench}"

if [ -n "${HADOOP_CONF_DIR:-}" ] && [ -f "$HADOOP_CONF_DIR/yarn-site.xml" ]; then
  echo "bench: cluster of HADOOP_CONF_DIR=$HADOOP_CONF_DIR" >&2
else
  mini_hadoop "$work/cluster"
fi
cluster_urls "$HADOOP_CONF_DIR"

if [ -n "${SPINDLE_BIN:-}" ]; then
  bin=$SPINDLE_BIN
else
  echo "bench: building spindle and spindle-testjobs (release)" >&2
  cargo build --quiet --release -p spindle-client -p spindle-testjobs --bin spindle --bin spindle-testjobs
  bin="$CARGO_TARGET_DIR/release"
fi

# run NAME ARGS...: submits the two-phase job; prints "NAME vcoreSeconds memorySeconds elapsedMs".
run() {
  local name=$1; shift
  local log="$work/$name.log"
  "$bin/spindle" submit --master yarn --deploy-mode cluster --name "elastic-$name" \
    --executor-cores 1 --executor-memory 256m --driver-memory 256m \
    --conf spindle.executor.memoryOverhead=64m --conf spindle.driver.memoryOverhead=64m \
    "$@" "$bin/spindle-testjobs" two-phase "$seconds" 2>"$log" || { cat "$log" >&2; exit 1; }
  local app
  app=$(grep -o 'application_[0-9]*_[0-9]*' "$log" | head -1)
  python3 - "$rm_url/ws/v1/cluster/apps/$app" "$name" <<'EOF'
import json, sys, time, urllib.request
url, name = sys.argv[1], sys.argv[2]
# The RM adds a container's last seconds once it has completed: wait for the figures to settle.
last = None
for _ in range(40):
    a = json.load(urllib.request.urlopen(url))["app"]
    now = (a["vcoreSeconds"], a["memorySeconds"], a["elapsedTime"])
    if now == last and a["runningContainers"] <= 0:
        break
    last = now
    time.sleep(0.5)
print(name, *now)
EOF
}

fixed=$(run fixed --num-executors 4)
dynamic=$(run dynamic --num-executors 1 \
  --conf spindle.dynamicAllocation.enabled=true \
  --conf spindle.dynamicAllocation.minExecutors=1 \
  --conf spindle.dynamicAllocation.maxExecutors=4 \
  --conf spindle.dynamicAllocation.executorIdleTimeout=5s \
  --conf spindle.dynamicAllocation.schedulerBacklogTimeout=1s)
grep -h 'spindle: executors:' "$work/dynamic.log" >&2 || true

python3 - "$fixed" "$dynamic" "$seconds" <<'EOF'
import sys
rows = [r.split() for r in sys.argv[1:3]]
seconds = sys.argv[3]
print(f"two-phase job (16 tasks of 1.5 s, then 1 task of {seconds} s), 1-core executors, AM included")
print()
print("| executors | container-seconds (vcoreSeconds) | MB-seconds | wall time |")
print("|---|---:|---:|---:|")
base = None
for name, vcs, mbs, ms in rows:
    label = "4 kept throughout" if name == "fixed" else "dynamic allocation, 1 to 4"
    vcs, mbs, ms = int(vcs), int(mbs), int(ms)
    base = base or vcs
    print(f"| {label} | {vcs} ({vcs / base:.2f}x) | {mbs} | {ms / 1000:.1f} s |")
EOF
