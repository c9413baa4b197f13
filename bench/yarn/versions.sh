#!/usr/bin/env bash
# bench/yarn/versions.sh: the same YARN wordcount on Hadoop 3.3.6, 3.4.2 and 3.5.0, side by side.
#
#   bench/yarn/versions.sh             # 64 MiB of text (8 MiB blocks: 8 map tasks), 3 runs each
#   bench/yarn/versions.sh --smoke     # 8 MiB, one run each: checks the script only
#   bench/yarn/versions.sh --mb N --runs N --versions "3.4.2 3.5.0"
#   SPINDLE_BIN=DIR bench/yarn/versions.sh   # prebuilt spindle and wordcount from DIR
#
# For each release in turn: starts `deploy/mini-hadoop --hadoop-version V` (READY time taken),
# writes the same text (bench/yarn/text_block.py's block repeated) with that release's own
# FsShell, submits the wordcount example RUNS times (`spindle submit --master yarn`, cluster
# mode, 2 executors of 1 core), measured as bench/yarn/run.sh does (bench/yarn/sample.py: submit
# to first task running, submit to final status), checks the output against the expected counts,
# and stops the cluster. Prints a Markdown table of the medians, with the load before and after.
# The binaries are the debug build by default (the test build); the releases differ in the
# daemons, not in Spindle, so the comparison holds for either build.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root=$(pwd)
source bench/yarn/lib.sh
mb=64; runs=3; versions="3.3.6 3.4.2 3.5.0"
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) mb=8; runs=1 ;;
    --mb) [ $# -ge 2 ] || { echo "--mb needs a value" >&2; exit 2; }; mb=$2; shift ;;
    --runs) [ $# -ge 2 ] || { echo "--runs needs a value" >&2; exit 2; }; runs=$2; shift ;;
    --versions) [ $# -ge 2 ] || { echo "--versions needs a value" >&2; exit 2; }; versions=$2; shift ;;
    *) echo "usage: bench/yarn/versions.sh [--smoke | --mb N] [--runs N] [--versions \"V ...\"]" >&2; exit 2 ;;
  esac
  shift
done
work="$root/target/bench-versions"
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

python3 bench/yarn/text_block.py "$work/block.txt"
for _ in $(seq 1 "$mb"); do cat "$work/block.txt"; done >"$work/in.txt"
python3 - "$work/block.txt" "$mb" >"$work/expected.txt" <<'PY'
import collections, sys
c = collections.Counter(open(sys.argv[1]).read().split())
for w in sorted(c):
    print(f"{w}\t{c[w] * int(sys.argv[2])}")
PY

: >"$work/results.tsv"
for v in $versions; do
  dir="$work/$v"
  echo "bench: Hadoop $v" >&2
  deploy/build "$v" >&2
  lib="$root/deploy/target/hadoop-$v/lib"
  [ "$v" = 3.5.0 ] && lib="$root/deploy/target/lib"
  started=$(date +%s.%N)
  mini_hadoop "$dir" --hadoop-version "$v"
  ready_s=$(echo "$(date +%s.%N) - $started" | bc)
  cluster_urls "$HADOOP_CONF_DIR"
  reported=$(python3 -c 'import json,sys,urllib.request; i=json.load(urllib.request.urlopen(sys.argv[1]))["clusterInfo"]; print(i["resourceManagerVersion"].split()[0], i["hadoopVersion"].split()[0])' "$rm_url/ws/v1/cluster/info")
  fs_shell() { java -cp "$HADOOP_CONF_DIR:$lib/*" org.apache.hadoop.fs.FsShell "$@"; }
  fs_shell -D dfs.blocksize=8388608 -put "$work/in.txt" /bench-in.txt 2>>"$dir/fs.log"
  for i in $(seq 1 "$runs"); do
    name="wc-$v-$i"
    python3 bench/yarn/sample.py "$rm_url" "$name" "$dir/$name.json" &
    sampler=$!
    t0=$(date +%s.%N)
    "$bin/spindle" submit --master yarn --name "$name" \
      --num-executors 2 --executor-cores 1 --executor-memory 512m --driver-memory 256m \
      "$bin/wordcount" "$fs/bench-in.txt" "$fs/bench-out-$i" >"$dir/$name.out" 2>&1 ||
      { echo "bench: $name failed:" >&2; tail -20 "$dir/$name.out" >&2; exit 1; }
    t1=$(date +%s.%N)
    wait "$sampler" || true
    fs_shell -cat "/bench-out-$i/part-*" 2>>"$dir/fs.log" | grep -P "^\S+\t\d+$" | LC_ALL=C sort >"$dir/$name.counts"
    cmp -s "$dir/$name.counts" "$work/expected.txt" || { echo "bench: $name counted wrong" >&2; exit 1; }
    python3 - "$dir/$name.json" "$v" "$(echo "$t1 - $t0" | bc)" "$ready_s" "$reported" <<'PY' >>"$work/results.tsv"
import json, sys
d = json.load(open(sys.argv[1]))
print("\t".join([sys.argv[2], d["state"] or "?", f'{d["first_task_s"] or 0:.2f}', f'{float(sys.argv[3]):.2f}',
                 f'{float(sys.argv[4]):.1f}', sys.argv[5]]))
PY
    echo "bench: $name: $(tail -1 "$work/results.tsv")" >&2
  done
  mini_hadoop_stop
done

python3 - "$work/results.tsv" "$mb" "$runs" "$load_start" "$(uptime)" <<'PY'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
versions = list(dict.fromkeys(r[0] for r in rows))
def med(v, i):
    x = [float(r[i]) for r in rows if r[0] == v and r[1] == "FINISHED"]
    return statistics.median(x) if x else None
def rng(v, i):
    x = [float(r[i]) for r in rows if r[0] == v and r[1] == "FINISHED"]
    return "" if len(x) < 2 else f" ({min(x):.2f}-{max(x):.2f})"
fmt = lambda x: "?" if x is None else f"{x:.2f}"
print(f"wordcount of {sys.argv[2]} MiB in HDFS (8 MiB blocks), 2 executors x 1 core, median (range) "
      f"of {sys.argv[3]} run(s) per release, outputs checked against the expected counts")
print("| | " + " | ".join(f"Hadoop {v}" for v in versions) + " |")
print("|---|" + "---|" * len(versions))
print("| RM and Hadoop version reported (`/ws/v1/cluster/info`) | "
      + " | ".join(next(r[5] for r in rows if r[0] == v) for v in versions) + " |")
print("| mini-Hadoop start to READY (s) | " + " | ".join(next(r[4] for r in rows if r[0] == v) for v in versions) + " |")
for i, what in [(2, "submit to first task running (s)"), (3, "submit to final status (s)")]:
    print(f"| {what} | " + " | ".join(fmt(med(v, i)) + rng(v, i) for v in versions) + " |")
print("| final states | " + " | ".join(" ".join(sorted({r[1] for r in rows if r[0] == v})) for v in versions) + " |")
print(f"load at start: {sys.argv[4].split('load average:')[-1].strip()}; at end: "
      f"{sys.argv[5].split('load average:')[-1].strip()}")
sys.exit(1 if any(r[1] != "FINISHED" for r in rows) else 0)
PY
