#!/usr/bin/env bash
# bench/yarn/preempted.sh: the time a preempted Spindle job loses.
#
#   bench/yarn/preempted.sh                 # one run of each
#   SPINDLE_BIN=DIR bench/yarn/preempted.sh # prebuilt spindle and spindle-testjobs from DIR
#
# On a mini-Hadoop of its own with one 2048 MB NodeManager, two queues of half the cluster each
# and the capacity scheduler's preemption monitor (deploy/conf/capacity-preemption.xml, as the
# preemption test), runs `spindle-testjobs preemptible` (36 map tasks of 1.5 s, then 36 reduce
# tasks of 1.5 s) in queue a with 9 executors of 128 + 64 MB, which fill the node with its AM:
# once alone, then again with a second application (`idle 20`, 2 executors) submitted to queue b
# as soon as the first has its 9 executors, so the RM takes queue a's share beyond its half back.
# A short application runs first, so that neither measured one uploads the driver binary.
# Prints the first job's wall time both ways (the RM's elapsedTime), the difference, and what
# its AM counted (executors given back on the RM's request, containers YARN preempted anyway,
# blocks moved, map tasks run again, failures).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root=$(pwd)
source bench/yarn/lib.sh
work="$root/target/bench-preempted"
mkdir -p "$work"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target/bench}"

mini_hadoop "$work/cluster" --nodemanagers 1 --nm-memory 2048 \
  --capacity-scheduler deploy/conf/capacity-preemption.xml
cluster_urls "$HADOOP_CONF_DIR"

if [ -n "${SPINDLE_BIN:-}" ]; then
  bin=$SPINDLE_BIN
else
  echo "bench: building spindle and spindle-testjobs (release)" >&2
  cargo build --quiet --release -p spindle-client -p spindle-testjobs --bin spindle --bin spindle-testjobs
  bin="$CARGO_TARGET_DIR/release"
fi

# submit NAME QUEUE EXECUTORS ARGS...: spindle submit in the background; its stderr in NAME.log.
submit() {
  local name=$1 queue=$2 executors=$3; shift 3
  "$bin/spindle" submit --master yarn --deploy-mode cluster --name "preempt-$name" --queue "$queue" \
    --num-executors "$executors" --executor-cores 1 --executor-memory 128m --driver-memory 192m \
    --conf spindle.executor.memoryOverhead=64m --conf spindle.driver.memoryOverhead=64m \
    "$bin/spindle-testjobs" "$@" 2>"$work/$name.log" >/dev/null &
}

# app_of NAME: the application id spindle submit printed.
app_of() {
  local app=""
  until [ -n "$app" ]; do
    sleep 0.2
    app=$(grep -o 'application_[0-9]*_[0-9]*' "$work/$1.log" 2>/dev/null | head -1 || true)
  done
  echo "$app"
}

# report NAME APP: "NAME elapsedMs" plus the AM's elastic counters it printed at the end.
report() {
  python3 - "$rm_url/ws/v1/cluster/apps/$2" "$1" <<'PY'
import json, sys, urllib.request
url, name = sys.argv[1], sys.argv[2]
a = json.load(urllib.request.urlopen(url))["app"]
assert a["finalStatus"] == "SUCCEEDED", a
print(name, a["elapsedTime"])
PY
}

# A first, short application uploads the driver binary; the two measured ones reuse it in HDFS.
submit warm-up a 1 idle 1
wait $!
submit alone a 9 preemptible
wait $!
alone=$(report alone "$(app_of alone)")

submit preempted a 9 preemptible
pid=$!
app=$(app_of preempted)
# Once the first application holds its 9 executors and its AM, queue b asks for its half.
until python3 - "$rm_url/ws/v1/cluster/apps/$app" <<'PY'
import json, sys, urllib.request
a = json.load(urllib.request.urlopen(sys.argv[1]))["app"]
sys.exit(0 if a.get("runningContainers", 0) >= 10 else 1)
PY
do sleep 0.3; done
submit preempting b 2 idle 20
other=$!
wait $pid
preempted=$(report preempted "$app")
wait $other || true
grep -h 'spindle: executors:\|blocks moved' "$work/preempted.log" >&2 || true

python3 - "$alone" "$preempted" <<'PY'
import sys
(_, a), (_, p) = (r.split() for r in sys.argv[1:3])
a, p = int(a) / 1000, int(p) / 1000
print("preemptible job (36 + 36 tasks of 1.5 s), 9 executors of 1 core filling queue a")
print()
print("| run | wall time |")
print("|---|---:|")
print(f"| alone | {a:.1f} s |")
print(f"| queue b takes its half back mid-job | {p:.1f} s |")
print(f"| lost to preemption | {p - a:.1f} s ({(p - a) / a * 100:.0f} %) |")
PY
