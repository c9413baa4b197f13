#!/usr/bin/env bash
# bench/local/crypto.sh [--smoke] [--no-build] [--runs N]
#
# What encryption costs: the same Spindle local[2] jobs with the channels
# between the driver and its executors encrypted (the default, TLS 1.3) and
# not (spindle.network.crypto.enabled=false: authenticated, plaintext),
# alternating on the same generated data in one run. The 1 GiB wordcount
# and the 50M-record sort, whose shuffles cross executor-to-executor
# connections. Prints a Markdown table with each run's job time, the ratio
# of the medians (encrypted / plaintext; the goal is at most 1.10), and the
# same for the CPU seconds of all processes (steadier on a busy machine).
# Every output is checked against the hand-written program's.
#   --smoke     small data (seconds)
#   --no-build  use the binaries already built (bench/local/binaries.sh says where)
#   --runs N    runs of each mode (default 3; 1 with --smoke)
# Sizes as bench/local/run.sh (WORDS_MB, SORT_N); data under target/bench-data
# (BENCH_DATA overrides), shared with run.sh.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
mode=full
build=1
runs=
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) mode=smoke ;;
    --no-build) build=0 ;;
    --runs) runs=$2; shift ;;
    *) echo "usage: bench/local/crypto.sh [--smoke] [--no-build] [--runs N]" >&2; exit 2 ;;
  esac
  shift
done
if [ $mode = smoke ]; then
  : "${WORDS_MB:=8}" "${SORT_N:=200000}" "${runs:=1}"
else
  : "${WORDS_MB:=1024}" "${SORT_N:=50000000}" "${runs:=3}"
fi
# The examples and the hand-written programs (bench/baseline: the data and the reference answers).
. "$root/bench/local/binaries.sh"
build_binaries spindle-examples spindle-baseline

data="${BENCH_DATA:-$root/target/bench-data/$mode}"
mkdir -p "$data"
gen() { [ -s "$1" ] || "$bin/baseline" "${@:2}" "$1"; }
gen "$data/words.txt" gen-text "$WORDS_MB"
gen "$data/sort.txt" gen-pairs "$SORT_N" 1000000000000 1

out="$data/out-crypto"
measure() { python3 "$root/bench/local/measure.py" "$@"; }
field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }
# Sorted lines of every part file (or of the hand-written program's single file).
canon() { if [ -d "$1" ]; then cat "$1"/part-*; else cat "$1"; fi | LC_ALL=C sort | md5sum; }
median() { python3 -c "import statistics,sys; print(round(statistics.median(map(float, sys.argv[1:])), 3))" "$@"; }

echo "| job | encrypted: job time per run (s) | plaintext: job time per run (s) | median encrypted (s) | median plaintext (s) | encrypted / plaintext | CPU, median encrypted / plaintext (s) | CPU ratio |"
echo "|---|---|---|---|---|---|---|---|"
bench_job() {
  local job=$1 input=$2
  rm -rf "$out" && mkdir -p "$out"
  "$bin/baseline" "$job" "$input" "$out/baseline" >/dev/null
  local want on=() off=() con=() coff=() i enc s
  want=$(canon "$out/baseline")
  for i in $(seq "$runs"); do
    for enc in true false; do
      rm -rf "$out/spindle"
      s=$(SPINDLE_MASTER='local[2]' SPINDLE_VERBOSE=1 SPINDLE_NETWORK_CRYPTO_ENABLED=$enc \
        measure "$bin/$job" "$input" "$out/spindle")
      if [ "$(canon "$out/spindle")" != "$want" ]; then
        echo "bench: $job (encryption $enc): Spindle's answer differs from the hand-written program's" >&2
        exit 1
      fi
      if [ $enc = true ]; then
        on+=("$(field "$s" job)"); con+=("$(field "$s" cpu)")
      else
        off+=("$(field "$s" job)"); coff+=("$(field "$s" cpu)")
      fi
    done
  done
  local mon moff cmon cmoff
  mon=$(median "${on[@]}"); moff=$(median "${off[@]}")
  cmon=$(median "${con[@]}"); cmoff=$(median "${coff[@]}")
  echo "| $job | ${on[*]} | ${off[*]} | $mon | $moff | $(python3 -c "print(round($mon/$moff, 3))") | $cmon / $cmoff | $(python3 -c "print(round($cmon/$cmoff, 3))") |"
}
bench_job wordcount "$data/words.txt"
bench_job sort "$data/sort.txt"
