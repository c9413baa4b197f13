package dev.spindle.peers;

import java.util.List;

import org.apache.hadoop.yarn.api.records.ApplicationId;
import org.apache.hadoop.yarn.api.records.ApplicationReport;
import org.apache.hadoop.yarn.api.records.NodeReport;
import org.apache.hadoop.yarn.api.records.Resource;
import org.apache.hadoop.yarn.api.records.YarnClusterMetrics;
import org.apache.hadoop.yarn.client.api.YarnClient;
import org.apache.hadoop.yarn.client.api.YarnClientApplication;
import org.apache.hadoop.yarn.conf.YarnConfiguration;

/**
 * What Hadoop's own YarnClient (ApplicationClientProtocol over RPC) reports, for comparison with
 * Spindle's RPC client. Subcommands, each printing key=value lines:
 * <ul>
 *   <li>{@code metrics}: nodeManagers, active, decommissioned, lost, unhealthy, rebooted</li>
 *   <li>{@code nodes}: one "node id=.. http=.. rack=.. state=.. memory=.. vcores=.. containers=.."
 *       line per node (all states), then count=N</li>
 *   <li>{@code newapp}: id=application_... memory=.. vcores=.. (the maximum capability)</li>
 *   <li>{@code report APP_ID}: the application report's fields</li>
 * </ul>
 */
public final class WireYarn {
  public static void main(String[] args) throws Exception {
    try (YarnClient yarn = YarnClient.createYarnClient()) {
      yarn.init(new YarnConfiguration());
      yarn.start();
      switch (args[0]) {
        case "metrics" -> {
          YarnClusterMetrics m = yarn.getYarnClusterMetrics();
          System.out.println("nodeManagers=" + m.getNumNodeManagers());
          System.out.println("active=" + m.getNumActiveNodeManagers());
          System.out.println("decommissioned=" + m.getNumDecommissionedNodeManagers());
          System.out.println("lost=" + m.getNumLostNodeManagers());
          System.out.println("unhealthy=" + m.getNumUnhealthyNodeManagers());
          System.out.println("rebooted=" + m.getNumRebootedNodeManagers());
        }
        case "nodes" -> {
          List<NodeReport> nodes = yarn.getNodeReports();
          for (NodeReport n : nodes) {
            System.out.printf(
                "node id=%s http=%s rack=%s state=%s memory=%d vcores=%d containers=%d%n",
                n.getNodeId(), n.getHttpAddress(), n.getRackName(), n.getNodeState(),
                n.getCapability().getMemorySize(), n.getCapability().getVirtualCores(),
                n.getNumContainers());
          }
          System.out.println("count=" + nodes.size());
        }
        case "newapp" -> {
          YarnClientApplication app = yarn.createApplication();
          ApplicationId id = app.getNewApplicationResponse().getApplicationId();
          Resource max = app.getNewApplicationResponse().getMaximumResourceCapability();
          System.out.println("id=" + id);
          System.out.println("memory=" + max.getMemorySize());
          System.out.println("vcores=" + max.getVirtualCores());
        }
        case "report" -> {
          ApplicationReport r = yarn.getApplicationReport(ApplicationId.fromString(args[1]));
          System.out.println("id=" + r.getApplicationId());
          System.out.println("user=" + r.getUser());
          System.out.println("queue=" + r.getQueue());
          System.out.println("name=" + r.getName());
          System.out.println("type=" + r.getApplicationType());
          System.out.println("state=" + r.getYarnApplicationState());
          System.out.println("finalStatus=" + r.getFinalApplicationStatus());
          System.out.println("unmanaged=" + r.isUnmanagedApp());
          System.out.println("startTime=" + r.getStartTime());
          System.out.println("finishTime=" + r.getFinishTime());
          System.out.println("attempt=" + r.getCurrentApplicationAttemptId());
          System.out.println("host=" + r.getHost());
          System.out.println("rpcPort=" + r.getRpcPort());
        }
        default -> throw new IllegalArgumentException("unknown subcommand " + args[0]);
      }
    }
  }
}
