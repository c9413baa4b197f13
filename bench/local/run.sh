#!/usr/bin/env bash
# bench/local/run.sh [--smoke] [--no-spark] [--no-build]
#
# Spindle local[2] vs Apache Spark local[2] (pyspark DataFrame API, from the
# ignored .venv at the repository root) vs hand-written Rust programs
# (bench/baseline), side by side in one run on the same generated data:
# wordcount, group-by sum, sort, join. Prints a Markdown table with job time,
# wall time including start-up, peak RSS and ratios. Every job's output is
# checked against the hand-written program's before any figure is printed.
#   --smoke     small data (seconds; what CI can run)
#   --no-spark  skip Spark (no venv needed)
#   --no-build  use the binaries already built (bench/local/binaries.sh says where)
# Full sizes: 1 GiB of text, 50M pairs sorted, 10M x 1M join, 10M pairs grouped
# (override with WORDS_MB, SORT_N, JOIN_N, JOIN_M, GROUP_N).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
mode=full
spark=1
build=1
for a in "$@"; do
  case "$a" in
    --smoke) mode=smoke ;;
    --no-spark) spark=0 ;;
    --no-build) build=0 ;;
    *) echo "usage: bench/local/run.sh [--smoke] [--no-spark] [--no-build]" >&2; exit 2 ;;
  esac
done
if [ $mode = smoke ]; then
  : "${WORDS_MB:=8}" "${SORT_N:=200000}" "${JOIN_N:=200000}" "${JOIN_M:=20000}" "${GROUP_N:=200000}"
else
  : "${WORDS_MB:=1024}" "${SORT_N:=50000000}" "${JOIN_N:=10000000}" "${JOIN_M:=1000000}" "${GROUP_N:=10000000}"
fi
# The examples, the hand-written programs (bench/baseline) and the engine-overheads job (tests/jobs).
. "$root/bench/local/binaries.sh"
build_binaries spindle-examples spindle-baseline spindle-testjobs
py=python3
if [ $spark = 1 ]; then
  if [ ! -x "$root/.venv/bin/python" ] || ! "$root/.venv/bin/python" -c "import pyspark" 2>/dev/null; then
    echo "installing pyspark into $root/.venv" >&2
    python3 -m venv "$root/.venv"
    "$root/.venv/bin/pip" install --quiet pyspark
  fi
  py="$root/.venv/bin/python"
fi

data="$root/target/bench-data/$mode"
mkdir -p "$data"
gen() { [ -s "$1" ] || "$bin/baseline" "${@:2}" "$1"; }
gen "$data/words.txt" gen-text "$WORDS_MB"
gen "$data/sort.txt" gen-pairs "$SORT_N" 1000000000000 1
gen "$data/group.txt" gen-pairs "$GROUP_N" 100000 2
gen "$data/left.txt" gen-pairs "$JOIN_N" "$JOIN_M" 3
gen "$data/right.txt" gen-pairs "$JOIN_M" "$JOIN_M" 4

out="$data/out"
measure() { "$py" "$root/bench/local/measure.py" "$@"; }
field() { "$py" -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }
# Sorted lines of every part file (or a single file) for comparing answers.
canon() { if [ -d "$1" ]; then cat "$1"/part-*; else cat "$1"; fi | LC_ALL=C sort; }

echo "| job | system | job time (s) | wall incl. start-up (s) | CPU, all processes (s) | peak RSS, all processes (MiB) | peak RSS, largest process (MiB) | Spark / Spindle job time | Spark / Spindle wall | Spindle / hand-written wall |"
echo "|---|---|---|---|---|---|---|---|---|---|"
run_job() {
  local job=$1; shift
  local spindle_bin=$1; shift
  local inputs=("$@")
  rm -rf "$out" && mkdir -p "$out"
  local b s k
  b=$(measure "$bin/baseline" "$job" "${inputs[@]}" "$out/baseline")
  s=$(SPINDLE_MASTER='local[2]' SPINDLE_VERBOSE=1 measure "$bin/$spindle_bin" "${inputs[@]}" "$out/spindle")
  if [ "$(canon "$out/spindle" | md5sum)" != "$(canon "$out/baseline" | md5sum)" ]; then
    echo "bench: $job: Spindle's answer differs from the hand-written program's" >&2; exit 1
  fi
  if [ "$job" = sort ] && ! cat "$out/spindle"/part-* | awk 'NR>1 && $1<p {exit 1} {p=$1}'; then
    echo "bench: sort: Spindle's output is not in key order" >&2; exit 1
  fi
  local sj sw bw
  sj=$(field "$s" job); sw=$(field "$s" wall); bw=$(field "$b" wall)
  echo "| $job | hand-written Rust (all cores) | – | $bw | $(field "$b" cpu) | $(field "$b" rss_mb) | $(field "$b" rss_max_mb) | | | |"
  echo "| $job | Spindle local[2] | $sj | $sw | $(field "$s" cpu) | $(field "$s" rss_mb) | $(field "$s" rss_max_mb) | | | $("$py" -c "print(round($sw/$bw,2))") |"
  if [ $spark = 1 ]; then
    k=$(measure "$py" "$root/bench/local/spark_jobs.py" 'local[2]' "$job" "${inputs[@]}" "$out/spark")
    if [ "$(canon "$out/spark" | md5sum)" != "$(canon "$out/baseline" | md5sum)" ]; then
      echo "bench: $job: Spark's answer differs from the hand-written program's" >&2; exit 1
    fi
    echo "| $job | Spark local[2] DataFrame | $(field "$k" job) | $(field "$k" wall) | $(field "$k" cpu) | $(field "$k" rss_mb) | $(field "$k" rss_max_mb) | $("$py" -c "print(round($(field "$k" job)/$sj,2))") | $("$py" -c "print(round($(field "$k" wall)/$sw,2))") | |"
  fi
}
run_job wordcount wordcount "$data/words.txt"
run_job groupsum groupsum "$data/group.txt"
run_job sort sort "$data/sort.txt"
run_job join pairjoin "$data/left.txt" "$data/right.txt"

# Engine overheads: executor start to registered, 10,000 no-op tasks, idle executor RSS.
SPINDLE_MASTER='local[2]' SPINDLE_VERBOSE=1 "$bin/spindle-testjobs" overheads 10000 2>&1 | grep -E "registered|no-op|tiny|idle" || true
