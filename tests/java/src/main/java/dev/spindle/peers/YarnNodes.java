package dev.spindle.peers;

import java.util.List;

import org.apache.hadoop.yarn.api.records.NodeReport;
import org.apache.hadoop.yarn.api.records.NodeState;
import org.apache.hadoop.yarn.client.api.YarnClient;
import org.apache.hadoop.yarn.conf.YarnConfiguration;

/**
 * Lists the cluster's RUNNING NodeManagers as Hadoop's own YarnClient sees them (RPC to the RM).
 * Prints one line "node <nodeId> <httpAddress> <memoryMb> <vcores>" per node, then "running=N".
 */
public final class YarnNodes {
  public static void main(String[] args) throws Exception {
    try (YarnClient yarn = YarnClient.createYarnClient()) {
      yarn.init(new YarnConfiguration());
      yarn.start();
      List<NodeReport> nodes = yarn.getNodeReports(NodeState.RUNNING);
      for (NodeReport n : nodes) {
        System.out.printf(
            "node %s %s %d %d%n",
            n.getNodeId(),
            n.getHttpAddress(),
            n.getCapability().getMemorySize(),
            n.getCapability().getVirtualCores());
      }
      System.out.println("running=" + nodes.size());
    }
  }
}
