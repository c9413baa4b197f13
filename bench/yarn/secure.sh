#!/usr/bin/env bash
# bench/yarn/secure.sh: Spindle on the secure mini-Hadoop beside the open one, in one run.
#
#   bench/yarn/secure.sh              # 1 GiB of text in each HDFS, 3 runs on each cluster
#   bench/yarn/secure.sh --smoke      # 8 MiB, one run each, a debug build: checks the script only
#   bench/yarn/secure.sh --mb N --runs N
#
# Starts two mini-Hadoops side by side (deploy/mini-hadoop, and deploy/mini-hadoop --secure:
# Kerberos everywhere, RPC and data transfer at privacy), writes the same text into each HDFS,
# then submits the wordcount example (`spindle submit --master yarn --deploy-mode cluster`, 2
# executors of 1 core; on the secure one from a kinit ticket cache) alternately to the open and
# the secure cluster, RUNS times each. Measured as bench/yarn/run.sh does (bench/yarn/sample.py;
# on the secure cluster through curl --negotiate): submit to first task running, submit to final
# status. Prints a Markdown table of the medians with secure/open ratios.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root=$(pwd)
source bench/yarn/lib.sh
mb=1024; runs=3; smoke=false
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) smoke=true; mb=8; runs=1 ;;
    --mb) mb=$2; shift ;;
    --runs) runs=$2; shift ;;
    *) echo "usage: bench/yarn/secure.sh [--smoke | --mb N] [--runs N]" >&2; exit 2 ;;
  esac
  shift
done
work="$root/target/bench-secure"
rm -rf "$work"; mkdir -p "$work"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target/bench}"

if $smoke; then
  echo "bench: building spindle and wordcount (debug, smoke mode)" >&2
  cargo build --quiet -p spindle-client -p spindle-examples --bin spindle --bin wordcount
  bin="$CARGO_TARGET_DIR/debug"
else
  echo "bench: building spindle and wordcount (release)" >&2
  cargo build --quiet --release -p spindle-client -p spindle-examples --bin spindle --bin wordcount
  bin="$CARGO_TARGET_DIR/release"
fi
tests/java/build >/dev/null

# Both clusters at once.
mini_hadoop_start "$work/open"
mini_hadoop_start "$work/secure" --secure
mini_hadoop_wait "$work/open"
mini_hadoop_wait "$work/secure"
ready=$(cat "$work/secure/ready.txt")
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$ready"; }
principal=$(field principal); keytab=$(field keytab); krb5=$(field krb5)
export KRB5_CONFIG="$krb5" KRB5CCNAME="FILE:$work/ccache"
kinit -kt "$keytab" "$principal"

cp_of() { echo "$1:$root/tests/java/target/classes:$(cat tests/java/target/classpath.txt)"; }
# Hadoop's FsShell on cluster C (open or secure: logged in from the keytab, after a first line
# "login <principal> <short name>" on stdout).
fs_shell() {
  local c=$1; shift
  if [ "$c" = secure ]; then
    java -Djava.security.krb5.conf="$krb5" -cp "$(cp_of "$work/secure/conf")" \
      dev.spindle.peers.KeytabLogin "$principal" "$keytab" org.apache.hadoop.fs.FsShell "$@"
  else
    java -cp "$(cp_of "$work/open/conf")" org.apache.hadoop.fs.FsShell "$@"
  fi
}

# The same text for both: a 1 MiB block of words (fixed seed) repeated to the size asked for.
python3 bench/yarn/text_block.py "$work/block.txt"
user=$(id -un)
for c in open secure; do
  echo "bench: writing $mb MiB of text to the $c cluster" >&2
  fs_shell "$c" -mkdir -p "/user/$user/bench" 2>/dev/null
  for _ in $(seq 1 "$mb"); do cat "$work/block.txt"; done \
    | fs_shell "$c" -put -f - "/user/$user/bench/in.txt" 2>"$work/put-$c.log" >/dev/null \
    || { cat "$work/put-$c.log" >&2; exit 1; }
done

: >"$work/results.tsv"
for i in $(seq 1 "$runs"); do
  for c in open secure; do
    conf="$work/$c/conf"
    cluster_urls "$conf"
    name="wc-$c-$i"
    SAMPLE_SPNEGO=$([ "$c" = secure ] && echo 1 || echo 0) \
      python3 bench/yarn/sample.py "$rm_url" "$name" "$work/$name.json" &
    sampler=$!
    t0=$(date +%s.%N)
    HADOOP_CONF_DIR="$conf" "$bin/spindle" submit --master yarn --deploy-mode cluster --name "$name" \
      --num-executors 2 --executor-cores 1 --executor-memory 512m --driver-memory 512m \
      "$bin/wordcount" "$fs/user/$user/bench/in.txt" "$fs/user/$user/bench/out-$i" \
      >"$work/$name.out" 2>&1 || { echo "bench: $name failed, see $work/$name.out" >&2; tail -5 "$work/$name.out" >&2; }
    t1=$(date +%s.%N)
    wait $sampler || true
    python3 - "$work/$name.json" "$c" "$(echo "$t1 - $t0" | bc)" <<'PY' >>"$work/results.tsv"
import json, sys
d = json.load(open(sys.argv[1]))
print("\t".join([sys.argv[2], d["state"] or "?", f'{d["first_task_s"] or 0:.2f}', f'{float(sys.argv[3]):.2f}']))
PY
  done
done

# Same answer on both clusters.
sums=$(for c in open secure; do fs_shell "$c" -cat "/user/$user/bench/out-1/part-*" 2>/dev/null | grep -v '^login ' | sort | md5sum; done | uniq | wc -l)
same=$([ "$sums" = 1 ] && echo identical || echo DIFFERENT)

python3 - "$work/results.tsv" "$mb" "$runs" "$same" <<'PY'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
def med(c, i):
    v = [float(r[i]) for r in rows if r[0] == c and r[1] == "FINISHED"]
    return statistics.median(v) if v else None
def fmt(x): return "?" if x is None else f"{x:.2f}"
print(f"wordcount of {sys.argv[2]} MiB in HDFS, 2 executors x 1 core, median of {sys.argv[3]} run(s) "
      f"per cluster, alternating; outputs {sys.argv[4]}")
print("| | open mini-Hadoop | secure mini-Hadoop (Kerberos, privacy) | secure / open |")
print("|---|---|---|---|")
for i, what in [(2, "submit to first task running (s)"), (3, "submit to final status (s)")]:
    o, s = med("open", i), med("secure", i)
    ratio = f"{s / o:.2f}x" if o and s else "n/a"
    print(f"| {what} | {fmt(o)} | {fmt(s)} | {ratio} |")
states = {c: sorted({r[1] for r in rows if r[0] == c}) for c in ("open", "secure")}
print(f"| final states | {' '.join(states['open'])} | {' '.join(states['secure'])} | |")
bad = any(r[1] != "FINISHED" for r in rows) or sys.argv[4] != "identical"
sys.exit(1 if bad else 0)
PY
