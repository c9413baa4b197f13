#!/usr/bin/env bash
# bench/yarn/run.sh: Spindle vs Apache Spark on the same YARN cluster, same data, same run.
#
#   bench/yarn/run.sh            # 1 GB of text in HDFS, 2 executors of 1 core each
#   bench/yarn/run.sh --smoke    # 8 MB and a debug build: checks the script itself, not a measurement
#   bench/yarn/run.sh --gb N     # N GB
#   SPINDLE_BIN=DIR bench/yarn/run.sh   # use prebuilt spindle, wordcount, wordcount_plain and
#                                       # spindle-testjobs (tests/jobs) from DIR
#
# For each engine: `spindle submit --master yarn --deploy-mode cluster` (release build of the
# hand-tuned wordcount example, then of wordcount_plain, the pipeline the `spindle` crate docs
# teach, measured alike and its output compared with the tuned one's) and `spark-submit --master
# yarn --deploy-mode cluster` (Spark 4.3 from the pyspark package in the ignored .venv, its jars
# given to YARN from the local disk with spark.yarn.jars=local:..., a Java word count compiled
# here against them). Measured: submit to first task running (the AM's /api/v1 through the RM
# proxy, polled every 100 ms), wall time from submit to final status, peak RSS of the AM
# container and of an executor container (every process whose environment names the container);
# then, for each engine, an application that runs one small job and leaves its executors idle
# for 10 s: the RSS of an idle executor (the last sample of its container). Uses
# HADOOP_CONF_DIR's cluster if set, else starts the mini-Hadoop. Prints a Markdown table with
# Spark/Spindle ratios.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root=$(pwd)
source bench/yarn/lib.sh
gb=1; smoke=false
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) smoke=true ;;
    --gb) gb=$2; shift ;;
    *) echo "usage: bench/yarn/run.sh [--smoke | --gb N]" >&2; exit 2 ;;
  esac
  shift
done
work="$root/target/bench-yarn"
mkdir -p "$work"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target/bench}"

if [ -n "${HADOOP_CONF_DIR:-}" ] && [ -f "$HADOOP_CONF_DIR/yarn-site.xml" ]; then
  echo "bench: cluster of HADOOP_CONF_DIR=$HADOOP_CONF_DIR" >&2
else
  mini_hadoop "$work/cluster"
fi
cluster_urls "$HADOOP_CONF_DIR"

if [ -n "${SPINDLE_BIN:-}" ]; then
  echo "bench: prebuilt binaries in SPINDLE_BIN=$SPINDLE_BIN" >&2
  bin=$SPINDLE_BIN
elif $smoke; then
  echo "bench: building spindle, wordcount and wordcount_plain (debug, smoke mode)" >&2
  cargo build --quiet -p spindle-client -p spindle-examples -p spindle-testjobs \
    --bin spindle --bin wordcount --bin wordcount_plain --bin spindle-testjobs
  bin="$CARGO_TARGET_DIR/debug"
else
  echo "bench: building spindle, wordcount and wordcount_plain (release)" >&2
  cargo build --quiet --release -p spindle-client -p spindle-examples -p spindle-testjobs \
    --bin spindle --bin wordcount --bin wordcount_plain --bin spindle-testjobs
  bin="$CARGO_TARGET_DIR/release"
fi

venv="$root/.venv"
if ! "$venv/bin/python" -c "import pyspark" 2>/dev/null; then
  echo "bench: installing pyspark into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet pyspark
fi
export SPARK_HOME
SPARK_HOME=$("$venv/bin/python" -c "import os, pyspark; print(os.path.dirname(pyspark.__file__))")
if [ ! -s "$work/spark-wc.jar" ] || [ bench/yarn/SparkWordCount.java -nt "$work/spark-wc.jar" ] \
  || [ bench/yarn/SparkIdle.java -nt "$work/spark-wc.jar" ]; then
  rm -rf "$work/classes"; mkdir -p "$work/classes"
  javac -nowarn -cp "$SPARK_HOME/jars/*" -d "$work/classes" bench/yarn/SparkWordCount.java bench/yarn/SparkIdle.java
  (cd "$work/classes" && jar cf "$work/spark-wc.jar" .)
fi

tests/java/build >/dev/null
cp="$HADOOP_CONF_DIR:$root/tests/java/target/classes:$(cat tests/java/target/classpath.txt)"
fs_shell() { java -cp "$cp" org.apache.hadoop.fs.FsShell "$@" 2>/dev/null; }

# The same text for both: a 1 MiB block of words (fixed seed) repeated to the size asked for.
if $smoke; then mb=8; else mb=$((gb * 1024)); fi
input="$fs/bench-yarn/in-${mb}m"
if ! fs_shell -test -e "$input/data.txt"; then
  echo "bench: writing $mb MiB of text to $input" >&2
  python3 bench/yarn/text_block.py "$work/block.txt"
  fs_shell -mkdir -p "$input"
  for _ in $(seq 1 "$mb"); do cat "$work/block.txt"; done | fs_shell -put -f - "$input/data.txt"
fi

run() { # engine name command...
  local engine=$1 name=$2; shift 2
  python3 bench/yarn/sample.py "$rm_url" "$name" "$work/$name.json" &
  local sampler=$!
  local t0; t0=$(date +%s.%N)
  "$@" >"$work/$name.out" 2>&1 || { echo "bench: $engine failed, see $work/$name.out" >&2; tail -5 "$work/$name.out" >&2; }
  local t1; t1=$(date +%s.%N)
  wait $sampler || true
  python3 - "$work/$name.json" "$engine" "$(echo "$t1 - $t0" | bc)" <<'PY' >>"$work/results.tsv"
import json, sys
d = json.load(open(sys.argv[1]))
print("\t".join([sys.argv[2], d["state"] or "?", f'{d["first_task_s"] or 0:.2f}', f'{float(sys.argv[3]):.2f}', str(d["am_rss_mb"]), str(d["executor_rss_mb"]), str(d["executor_last_rss_mb"])]))
PY
}

: >"$work/results.tsv"
tag=$(date +%s)
fs_shell -rm -r -f "$fs/bench-yarn/out-*" || true
run spindle "spindle-wc-$tag" "$bin/spindle" submit --master yarn --deploy-mode cluster --name "spindle-wc-$tag" \
  --num-executors 2 --executor-cores 1 --executor-memory 512m --driver-memory 512m \
  "$bin/wordcount" "$input" "$fs/bench-yarn/out-spindle-$tag"
run spindle-plain "spindle-plain-$tag" "$bin/spindle" submit --master yarn --deploy-mode cluster --name "spindle-plain-$tag" \
  --num-executors 2 --executor-cores 1 --executor-memory 512m --driver-memory 512m \
  "$bin/wordcount_plain" "$input" "$fs/bench-yarn/out-plain-$tag"
run spark "spark-wc-$tag" "$venv/bin/spark-submit" --master yarn --deploy-mode cluster --name "spark-wc-$tag" \
  --num-executors 2 --executor-cores 1 --executor-memory 512m --driver-memory 512m \
  --conf "spark.yarn.jars=local:$SPARK_HOME/jars/*" --conf spark.yarn.submit.waitAppCompletion=true \
  --class SparkWordCount "$work/spark-wc.jar" "$input" "$fs/bench-yarn/out-spark-$tag"

# Idle executors: one small job, then 10 s with nothing to do.
run spindle-idle "spindle-idle-$tag" "$bin/spindle" submit --master yarn --deploy-mode cluster --name "spindle-idle-$tag" \
  --num-executors 2 --executor-cores 1 --executor-memory 512m --driver-memory 512m \
  "$bin/spindle-testjobs" idle 10
run spark-idle "spark-idle-$tag" "$venv/bin/spark-submit" --master yarn --deploy-mode cluster --name "spark-idle-$tag" \
  --num-executors 2 --executor-cores 1 --executor-memory 512m --driver-memory 512m \
  --conf "spark.yarn.jars=local:$SPARK_HOME/jars/*" --conf spark.yarn.submit.waitAppCompletion=true \
  --class SparkIdle "$work/spark-wc.jar" 10

# Same answer from both engines and from both Spindle programs.
sum_of() { fs_shell -cat "$fs/bench-yarn/out-$1-$tag/part-*" | sort | md5sum; }
tuned=$(sum_of spindle)
compare() { # OTHER: "identical" if its sorted output is the tuned example's (and not empty)
  if [ "$tuned" = "$(: | md5sum)" ]; then echo "EMPTY"
  elif [ "$tuned" = "$(sum_of "$1")" ]; then echo "identical"
  else echo "DIFFERENT"; fi
}
same=$(compare spark)
same_plain=$(compare plain)

python3 - "$work/results.tsv" "$mb" "$same" "$same_plain" <<'PY'
import sys
rows = {r[0]: r for r in (l.rstrip("\n").split("\t") for l in open(sys.argv[1]))}
s, p, k = rows.get("spindle"), rows.get("spindle-plain"), rows.get("spark")
si, ki = rows.get("spindle-idle"), rows.get("spark-idle")
def ratio(i):
    try: return f"{float(k[i]) / float(s[i]):.1f}x"
    except Exception: return "n/a"
print(f"wordcount of {sys.argv[2]} MiB in HDFS, 2 executors x 1 core; outputs: Spark's and wordcount's "
      f"{sys.argv[3]}, wordcount_plain's and wordcount's {sys.argv[4]}")
print("| | Spindle `wordcount` (tuned) | Spindle `wordcount_plain` (docs') | Spark 4.3 | Spark / Spindle tuned |")
print("|---|---|---|---|---|")
for i, what in [(2, "submit to first task running (s)"), (3, "submit to final status (s)"), (4, "AM container peak RSS (MB)"), (5, "executor container peak RSS (MB)")]:
    print(f"| {what} | {s[i] if s else '?'} | {p[i] if p else '?'} | {k[i] if k else '?'} | {ratio(i)} |")
print(f"| final state | {s[1] if s else '?'} | {p[1] if p else '?'} | {k[1] if k else '?'} | |")
def idle_ratio():
    try: return f"{float(ki[6]) / float(si[6]):.1f}x"
    except Exception: return "n/a"
print(f"| idle executor RSS, after one small job and 10 s idle (MB) | {si[6] if si else '?'} | | {ki[6] if ki else '?'} | {idle_ratio()} |")
print(f"| AM container peak RSS, idle application (MB) | {si[4] if si else '?'} | | {ki[4] if ki else '?'} | |")
print(f"| idle application final state | {si[1] if si else '?'} | | {ki[1] if ki else '?'} | |")
PY
