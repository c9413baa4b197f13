#!/usr/bin/env bash
# bench/separate-daemons.sh: the alternative deploy/mini-hadoop did not take, measured for
# comparison: NameNode, 2 DataNodes, ResourceManager and 2 NodeManagers as six separate JVMs
# (their real main classes, the same jars and JVM flags, the same small-machine settings), all
# started at once. Prints the time until the NameNode sees 2 live DataNodes and the RM 2 active
# NodeManagers, and the summed RSS. Scratch space: target/bench-separate/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
deploy/build
cp="$root/deploy/target/classes:$(cat deploy/target/classpath.txt)"
s="$root/target/bench-separate"
rm -rf "$s"; mkdir -p "$s/logs"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
nn=$(port); nnhttp=$(port); rm=$(port); rms=$(port); rmt=$(port); rma=$(port); rmweb=$(port)
prop() { echo "<property><name>$1</name><value>$2</value></property>"; }
site() { echo "<configuration>"; cat; echo "</configuration>"; }

# conf DIR NAME: one conf dir per daemon (own data and local dirs)
conf() {
  local d="$s/conf-$1"; mkdir -p "$d"
  { prop fs.defaultFS "hdfs://localhost:$nn"; } | site >"$d/core-site.xml"
  { prop dfs.namenode.rpc-address "localhost:$nn"; prop dfs.namenode.http-address "localhost:$nnhttp"
    prop dfs.namenode.name.dir "$s/name"; prop dfs.datanode.data.dir "$s/data-$1"
    prop dfs.datanode.address 127.0.0.1:0; prop dfs.datanode.http.address 127.0.0.1:0
    prop dfs.datanode.ipc.address 127.0.0.1:0; prop dfs.replication 2
    prop dfs.namenode.resource.du.reserved 1048576; prop dfs.heartbeat.interval 1
    prop dfs.namenode.safemode.extension 0; } | site >"$d/hdfs-site.xml"
  { prop yarn.resourcemanager.address "localhost:$rm"; prop yarn.resourcemanager.scheduler.address "localhost:$rms"
    prop yarn.resourcemanager.resource-tracker.address "localhost:$rmt"; prop yarn.resourcemanager.admin.address "localhost:$rma"
    prop yarn.resourcemanager.webapp.address "localhost:$rmweb"
    prop yarn.nodemanager.address localhost:0; prop yarn.nodemanager.webapp.address localhost:0
    prop yarn.nodemanager.localizer.address "localhost:$(port)"
    prop yarn.nodemanager.local-dirs "$s/nm-local-$1"; prop yarn.nodemanager.log-dirs "$s/nm-log-$1"
    prop yarn.nodemanager.recovery.enabled false; prop yarn.nodemanager.vmem-check-enabled false
    prop yarn.nodemanager.disk-health-checker.max-disk-utilization-per-disk-percentage 100
    prop yarn.nodemanager.disk-health-checker.min-free-space-per-disk-mb 0
    prop yarn.resourcemanager.nodemanagers.heartbeat-interval-ms 100
    prop yarn.resourcemanager.scheduler.include-port-in-node-name true
    prop yarn.scheduler.capacity.root.queues default; prop yarn.scheduler.capacity.root.default.capacity 100
    prop yarn.scheduler.capacity.root.default.maximum-capacity 100; } | site >"$d/yarn-site.xml"
  echo "$d"
}
jopts=(-Xms128m -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.net.preferIPv4Stack=true)
pids=()
run() { local name=$1 class=$2; shift 2
  java "${jopts[@]}" -cp "$(conf "$name"):$cp" "$class" "$@" >"$s/logs/$name.log" 2>&1 &
  pids+=($!)
}
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null || true' EXIT
java "${jopts[@]}" -cp "$(conf nn):$cp" org.apache.hadoop.hdfs.server.namenode.NameNode -format -force -nonInteractive \
  >"$s/logs/format.log" 2>&1
t0=$(date +%s.%N)
run nn org.apache.hadoop.hdfs.server.namenode.NameNode
run dn1 org.apache.hadoop.hdfs.server.datanode.DataNode
run dn2 org.apache.hadoop.hdfs.server.datanode.DataNode
run rm org.apache.hadoop.yarn.server.resourcemanager.ResourceManager
run nm1 org.apache.hadoop.yarn.server.nodemanager.NodeManager
run nm2 org.apache.hadoop.yarn.server.nodemanager.NodeManager
for _ in $(seq 1 1200); do
  dns=$(curl -s "http://localhost:$nnhttp/jmx?qry=Hadoop:service=NameNode,name=FSNamesystemState" \
    | grep -o '"NumLiveDataNodes" : [0-9]*' | grep -o '[0-9]*$' || true)
  nms=$(curl -s "http://localhost:$rmweb/ws/v1/cluster/metrics" | grep -o '"activeNodes":[0-9]*' | grep -o '[0-9]*$' || true)
  [ "${dns:-0}" = 2 ] && [ "${nms:-0}" = 2 ] && break
  sleep 0.1
done
[ "${dns:-0}" = 2 ] && [ "${nms:-0}" = 2 ] || { echo "not up: datanodes=$dns nodemanagers=$nms (logs: $s/logs)"; exit 1; }
echo "six daemon JVMs: 2 live DataNodes and 2 active NodeManagers after $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"
sleep 5
total=0
for p in "${pids[@]}"; do
  rss=$(awk '/^VmRSS/{print $2}' "/proc/$p/status"); total=$((total + rss))
  echo "  $(tr '\0' ' ' <"/proc/$p/cmdline" | grep -o 'org\.apache\.hadoop\.[a-zA-Z.]*' | tail -1): $((rss / 1024)) MB"
done
echo "six daemon JVMs: RSS idle $((total / 1024)) MB"
