#!/usr/bin/env bash
# bench/mini-hadoop.sh: measures the mini-Hadoop (figures for bench/RESULTS.md).
#   1. cold start: a copy of deploy/ with an empty Maven repository (everything downloaded)
#   2. warm starts (3 runs): time from launching deploy/mini-hadoop to its READY line
#   3. RSS of the whole cluster: idle after READY, and the peak while distributed shell runs
#      (the JVM plus every container process)
#   4. distributed shell (2 containers, `echo`): client launch to exit, and the RM's
#      startedTime -> finishedTime
# Usage: bench/mini-hadoop.sh [--skip-cold]. Scratch space: target/bench-mini-hadoop/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
skip_cold=false; [ "${1:-}" = "--skip-cold" ] && skip_cold=true
scratch="$root/target/bench-mini-hadoop"
rm -rf "$scratch"; mkdir -p "$scratch"
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1f", b-a}'; }

# start DEPLOY_DIR WORK -> sets $pid, $secs, $ready
start() {
  local deploy=$1 work=$2 t0
  rm -rf "$work"; mkdir -p "$work"
  t0=$(now)
  exec 5> >(exec "$deploy/mini-hadoop" --stop-on-stdin-eof --work-dir "$work" --conf-dir "$work/conf" \
    >"$work/ready.txt" 2>"$work/launcher.log")
  pid=$!
  until grep -q '^READY ' "$work/ready.txt" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || { cat "$work/launcher.log" >&2; exit 1; }
    sleep 0.05
  done
  secs=$(elapsed "$t0" "$(now)")
  ready=$(cat "$work/ready.txt")
}
stop() { kill -TERM "$pid"; exec 5>&-; wait "$pid" 2>/dev/null || true; }

# The JVM plus every process whose environment has LOG_DIRS under the work dir (containers).
cluster_rss_kb() {
  local work=$1 total=0 p rss
  for p in /proc/[0-9]*; do
    if { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -qF -- "--work-dir $work" \
      || { tr '\0' '\n' <"$p/environ"; } 2>/dev/null | grep -qF "LOG_DIRS=$work/"; then
      rss=$(awk '/^VmRSS/{print $2}' "$p/status" 2>/dev/null || echo 0)
      total=$((total + ${rss:-0}))
    fi
  done
  echo "$total"
}

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, load average $(cut -d' ' -f1-3 /proc/loadavg)"

if ! $skip_cold; then
  cold="$scratch/cold"
  mkdir -p "$cold/deploy"
  cp -r deploy/pom.xml deploy/build deploy/mini-hadoop deploy/src "$cold/deploy/"
  export MINI_HADOOP_MAVEN_REPO="$cold/m2"
  start "$cold/deploy" "$cold/work"
  echo "cold start (empty Maven repository, $(du -sh "$cold/m2" | cut -f1) downloaded, compile): READY after $secs s"
  stop
  unset MINI_HADOOP_MAVEN_REPO
  rm -rf "$cold"
fi

deploy/build
for i in 1 2 3; do
  start "$root/deploy" "$scratch/warm"
  echo "warm start $i: READY after $secs s"
  [ $i -eq 3 ] || stop
done
work="$scratch/warm"
sleep 5
echo "idle cluster RSS (HDFS + RM JVM and one JVM per NodeManager): $(( $(cluster_rss_kb "$work") / 1024 )) MB"

tests/java/build
conf="$work/conf"
cp="$conf:$root/tests/java/target/classes:$(cat tests/java/target/classpath.txt)"
ds_jar=$(tr ':' '\n' <<<"$cp" | grep hadoop-yarn-applications-distributedshell)
rm_url=$(sed 's/.*rm=\([^ ]*\).*/\1/' <<<"$ready")
peak=0
for run in 1 2 3; do
  t0=$(now)
  HADOOP_CONF_DIR=$conf java -cp "$cp" org.apache.hadoop.yarn.applications.distributedshell.Client \
    -jar "$ds_jar" -appname "bench-ds-$run" -shell_command 'echo hello' -num_containers 2 \
    -container_memory 64 -master_memory 256 >/dev/null 2>"$scratch/ds-$run.log" &
  ds=$!
  while kill -0 "$ds" 2>/dev/null; do
    r=$(cluster_rss_kb "$work"); [ "$r" -gt "$peak" ] && peak=$r
    sleep 0.2
  done
  wait "$ds" || { echo "distributed shell failed: $scratch/ds-$run.log" >&2; exit 1; }
  t1=$(now)
  app=$(curl -s "$rm_url/ws/v1/cluster/apps?name=bench-ds-$run" | python3 -c '
import json, sys
a = json.load(sys.stdin)["apps"]["app"][0]
print(a["finalStatus"], (a["finishedTime"] - a["startedTime"]) / 1000)')
  echo "distributed shell run $run (2 containers): client launch to exit $(elapsed "$t0" "$t1") s; RM submit to finish ${app#* } s (${app%% *})"
done
echo "peak cluster RSS during distributed shell (JVM + AM + containers): $((peak / 1024)) MB"
t0=$(now); stop
echo "stop (SIGTERM to exit, nothing left): $(elapsed "$t0" "$(now)") s"
