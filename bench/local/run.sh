#!/usr/bin/env bash
# bench/local/run.sh [--smoke] [--no-spark] [--no-build]
#
# Spindle local[2] vs Apache Spark local[2] (pyspark DataFrame API, from the
# ignored .venv at the repository root) vs hand-written Rust programs
# (bench/baseline), side by side in one run on the same generated data:
# wordcount (twice for Spindle: the hand-tuned example, and wordcount_plain,
# the program the spindle crate docs teach), group-by sum, sort, join. Prints
# a Markdown table with job time, wall time including start-up, peak RSS and
# ratios; each figure is the run of median wall time out of RUNS runs (3 in
# a full run, 1 with --smoke). Every job's output is checked against the
# hand-written program's before any figure is printed.
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
  : "${WORDS_MB:=8}" "${SORT_N:=200000}" "${JOIN_N:=200000}" "${JOIN_M:=20000}" "${GROUP_N:=200000}" "${RUNS:=1}"
else
  : "${WORDS_MB:=1024}" "${SORT_N:=50000000}" "${JOIN_N:=10000000}" "${JOIN_M:=1000000}" "${GROUP_N:=10000000}" "${RUNS:=3}"
fi
# JOBS: which of wordcount, groupsum, sort, join to run (all by default).
: "${JOBS:=wordcount groupsum sort join}"
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
wants() { case " $JOBS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
if wants wordcount; then gen "$data/words-$WORDS_MB.txt" gen-text "$WORDS_MB"; fi
if wants sort; then gen "$data/sort-$SORT_N.txt" gen-pairs "$SORT_N" 1000000000000 1; fi
if wants groupsum; then gen "$data/group-$GROUP_N.txt" gen-pairs "$GROUP_N" 100000 2; fi
if wants join; then
  gen "$data/left-$JOIN_N-$JOIN_M.txt" gen-pairs "$JOIN_N" "$JOIN_M" 3
  gen "$data/right-$JOIN_M.txt" gen-pairs "$JOIN_M" "$JOIN_M" 4
fi

out="$data/out"
measure() { "$py" "$root/bench/local/measure.py" "$@"; }
# measure_median OUTDIR CMD...: RUNS runs of CMD (OUTDIR removed before each);
# prints the measurement of the run with the median wall time.
measure_median() {
  local dir=$1; shift
  local i runs=()
  for ((i = 0; i < RUNS; i++)); do
    rm -rf "$dir"
    runs+=("$(measure "$@")")
  done
  "$py" -c 'import json,sys; r=sorted((json.loads(a) for a in sys.argv[1:]), key=lambda m: m["wall"]); print(json.dumps(r[len(r)//2]))' "${runs[@]}"
}
field() { "$py" -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }
# Sorted lines of every part file (or a single file) for comparing answers.
canon() { if [ -d "$1" ]; then cat "$1"/part-*; else cat "$1"; fi | LC_ALL=C sort; }

echo "| job | system | job time (s) | wall incl. start-up (s) | CPU, all processes (s) | peak RSS, all processes (MiB) | peak RSS, largest process (MiB) | Spark / Spindle job time | Spark / Spindle wall | Spindle / hand-written wall |"
echo "|---|---|---|---|---|---|---|---|---|---|"
run_job() {
  local job=$1; shift
  local spindle_bins=($1); shift
  local inputs=("$@")
  wants "$job" || return 0
  rm -rf "$out" && mkdir -p "$out"
  local b s k sj sw bw first_sj='' spindle_bin
  b=$(measure_median "$out/baseline" "$bin/baseline" "$job" "${inputs[@]}" "$out/baseline")
  bw=$(field "$b" wall)
  echo "| $job | hand-written Rust (all cores) | – | $bw | $(field "$b" cpu) | $(field "$b" rss_mb) | $(field "$b" rss_max_mb) | | | |"
  for spindle_bin in "${spindle_bins[@]}"; do
    s=$(SPINDLE_MASTER='local[2]' SPINDLE_VERBOSE=1 measure_median "$out/spindle" "$bin/$spindle_bin" "${inputs[@]}" "$out/spindle")
    if [ "$(canon "$out/spindle" | md5sum)" != "$(canon "$out/baseline" | md5sum)" ]; then
      echo "bench: $job: Spindle's answer ($spindle_bin) differs from the hand-written program's" >&2; exit 1
    fi
    if [ "$job" = sort ] && ! cat "$out/spindle"/part-* | awk 'NR>1 && $1<p {exit 1} {p=$1}'; then
      echo "bench: sort: Spindle's output is not in key order" >&2; exit 1
    fi
    sj=$(field "$s" job); sw=$(field "$s" wall)
    [ -n "$first_sj" ] || { first_sj=$sj; first_sw=$sw; }
    echo "| $job | Spindle local[2] ($spindle_bin) | $sj | $sw | $(field "$s" cpu) | $(field "$s" rss_mb) | $(field "$s" rss_max_mb) | | | $("$py" -c "print(round($sw/$bw,2))") |"
  done
  if [ $spark = 1 ]; then
    k=$(measure_median "$out/spark" "$py" "$root/bench/local/spark_jobs.py" 'local[2]' "$job" "${inputs[@]}" "$out/spark")
    if [ "$(canon "$out/spark" | md5sum)" != "$(canon "$out/baseline" | md5sum)" ]; then
      echo "bench: $job: Spark's answer differs from the hand-written program's" >&2; exit 1
    fi
    echo "| $job | Spark local[2] DataFrame | $(field "$k" job) | $(field "$k" wall) | $(field "$k" cpu) | $(field "$k" rss_mb) | $(field "$k" rss_max_mb) | $("$py" -c "print(round($(field "$k" job)/$first_sj,2))") | $("$py" -c "print(round($(field "$k" wall)/$first_sw,2))") | |"
  fi
}
run_job wordcount "wordcount wordcount_plain" "$data/words-$WORDS_MB.txt"
run_job groupsum groupsum "$data/group-$GROUP_N.txt"
run_job sort sort "$data/sort-$SORT_N.txt"
run_job join pairjoin "$data/left-$JOIN_N-$JOIN_M.txt" "$data/right-$JOIN_M.txt"

# Engine overheads: executor start to registered, 10,000 no-op tasks, idle executor RSS.
SPINDLE_MASTER='local[2]' SPINDLE_VERBOSE=1 "$bin/spindle-testjobs" overheads 10000 2>&1 | grep -E "registered|no-op|tiny|idle" || true
