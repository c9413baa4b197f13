#!/usr/bin/env bash
# bench/yarn/failover.sh: how long a running Spindle job and Spindle's clients take to go on after
# the ResourceManager or the NameNode fails over (an HA mini-Hadoop: deploy/mini-hadoop --ha).
#
#   bench/yarn/failover.sh            # 3 runs of each failover, 64 input files of 1 MiB
#   bench/yarn/failover.sh --smoke    # one run of each, 16 files: checks the script only
#   bench/yarn/failover.sh --runs N --files N
#   SPINDLE_BIN=DIR bench/yarn/failover.sh   # prebuilt spindle and wordcount from DIR
#
# Starts `deploy/mini-hadoop --ha` (two RMs in JVMs of their own, a nameservice of two
# NameNodes), writes FILES files of the YARN benchmarks' text (bench/yarn/text_block.py) into
# hdfs://ns1, then per run submits the wordcount example twice (`spindle submit --master yarn`,
# cluster mode, 2 executors of 1 core): during the first the active RM is killed (SIGKILL) and the
# standby made active, during the second the active NameNode is stopped and the standby made
# active, each once a quarter of the map tasks are done. bench/yarn/failover.py measures, from the
# kill: the cluster's own kill-to-active time, the job's progress again (a task begun after the
# kill is done, from the AM's /api/v1), `spindle status` (REST) succeeding again and, for the RM,
# the AM's RPC heartbeat reaching the new active RM. Each job must succeed in one attempt with
# the right counts. Prints a Markdown table (median and range over the runs) and the load.
#
# The binaries are the debug build by default (the test build; failover times do not depend on
# how fast a task computes, only on how often tasks end), SPINDLE_BIN for others.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root=$(pwd)
source bench/yarn/lib.sh
runs=3; files=64; smoke=false
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) smoke=true; runs=1; files=16 ;;
    --runs) [ $# -ge 2 ] || { echo "--runs needs a value" >&2; exit 2; }; runs=$2; shift ;;
    --files) [ $# -ge 2 ] || { echo "--files needs a value" >&2; exit 2; }; files=$2; shift ;;
    *) echo "usage: bench/yarn/failover.sh [--smoke] [--runs N] [--files N]" >&2; exit 2 ;;
  esac
  shift
done
work="$root/target/bench-failover"
rm -rf "$work"; mkdir -p "$work"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
if [ -n "${SPINDLE_BIN:-}" ]; then
  bin=$SPINDLE_BIN
else
  echo "bench: building spindle and wordcount (debug)" >&2
  cargo build --quiet -p spindle-client -p spindle-examples --bin spindle --bin wordcount
  bin="$CARGO_TARGET_DIR/debug"
fi
load_start=$(uptime)

cluster="$work/cluster"
started=$(date +%s)
mini_hadoop "$cluster" --ha --nodemanagers 1 --datanodes 2
echo "bench: $(cat "$cluster/ready.txt") in $(( $(date +%s) - started )) s" >&2
conf="$cluster/conf"

# The input: FILES copies of one 1 MiB block, so every file is one task; the expected counts are
# the block's times FILES.
python3 bench/yarn/text_block.py "$work/block.txt"
mkdir -p "$work/in"
for i in $(seq -w 1 "$files"); do ln -sf "$work/block.txt" "$work/in/part-$i.txt"; done
fs_shell() { java -cp "$conf:$root/deploy/target/lib/*" org.apache.hadoop.fs.FsShell "$@"; }
fs_shell -mkdir -p /bench 2>>"$work/fs.log"
fs_shell -put "$work/in" /bench/in 2>>"$work/fs.log"
python3 - "$work/block.txt" "$files" >"$work/expected.txt" <<'PY'
import collections, sys
c = collections.Counter(open(sys.argv[1]).read().split())
for w in sorted(c):
    print(f"{w}\t{c[w] * int(sys.argv[2])}")
PY

: >"$work/results.jsonl"
for i in $(seq 1 "$runs"); do
  for kind in rm nn; do
    name="failover-$kind-$i"
    python3 bench/yarn/failover.py "$cluster" "$conf" "$bin/spindle" "$name" "$kind" 0.25 \
      "$work/$name.json" &
    sampler=$!
    HADOOP_CONF_DIR="$conf" "$bin/spindle" submit --master yarn --name "$name" \
      --num-executors 2 --executor-cores 1 --executor-memory 256m --driver-memory 256m \
      "$bin/wordcount" "hdfs://ns1/bench/in" "hdfs://ns1/bench/out-$name" \
      >"$work/$name.out" 2>&1 || { echo "bench: $name failed:" >&2; tail -20 "$work/$name.out" >&2; exit 1; }
    wait "$sampler" || { echo "bench: the measurement of $name failed" >&2; exit 1; }
    fs_shell -cat "/bench/out-$name/part-*" 2>>"$work/fs.log" | grep -P "^\S+\t\d+$" | LC_ALL=C sort >"$work/$name.counts"
    cmp -s "$work/$name.counts" "$work/expected.txt" || { echo "bench: $name counted wrong" >&2; exit 1; }
    cat "$work/$name.json" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)))' \
      >>"$work/results.jsonl"
    echo "bench: $name: $(tail -1 "$work/results.jsonl")" >&2
  done
done

python3 - "$work/results.jsonl" "$files" "$runs" "$load_start" "$(uptime)" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
def cell(kind, key):
    v = [r[key] for r in rows if r["kind"] == kind and r.get(key) is not None]
    missing = sum(1 for r in rows if r["kind"] == kind and r.get(key) is None)
    if not v:
        return "n/a"
    s = f"{statistics.median(v):.0f}" if len(v) == 1 else f"{statistics.median(v):.0f} ({min(v):.0f}-{max(v):.0f})"
    return s + (f", {missing} not seen" if missing else "")
print(f"wordcount of {sys.argv[2]} files of 1 MiB, 2 executors x 1 core, {sys.argv[3]} run(s) per "
      "failover; milliseconds from the kill, median (range)")
print("| failover | kill to active (cluster) | job progress again (a task begun after the kill done) "
      "| next task done | `spindle status` (REST) again | AM heartbeat (RPC) to the new RM |")
print("|---|---|---|---|---|---|")
for kind, what in [("rm", "ResourceManager (SIGKILL)"), ("nn", "NameNode (stopped)")]:
    print(f"| {what} | {cell(kind, 'kill_to_active_ms')} | {cell(kind, 'progress_ms')} | "
          f"{cell(kind, 'next_task_done_ms')} | "
          + (f"{cell(kind, 'status_ms')} | {cell(kind, 'am_rpc_ms')}" if kind == "rm" else "(RM only) | (RM only)")
          + " |")
states = sorted({(r["final_state"], r.get("attempts")) for r in rows})
print(f"final states (state, attempts): {states}; load at start: {sys.argv[4].split('load average:')[-1].strip()}, "
      f"at end: {sys.argv[5].split('load average:')[-1].strip()}")
bad = any(r["final_state"] != "FINISHED" or r.get("attempts") != 1 for r in rows)
sys.exit(1 if bad else 0)
PY
