package dev.spindle.peers;

import org.apache.hadoop.yarn.api.records.ApplicationId;
import org.apache.hadoop.yarn.api.records.ApplicationReport;
import org.apache.hadoop.yarn.api.records.YarnClusterMetrics;
import org.apache.hadoop.yarn.client.api.YarnClient;
import org.apache.hadoop.yarn.conf.YarnConfiguration;

/**
 * What Hadoop's own YarnClient (RPC to the RM) reports.
 *
 * <ul>
 *   <li>{@code metrics}: {@code nodeManagers=N}, {@code active=N}, {@code lost=N},
 *       {@code unhealthy=N}, {@code decommissioned=N}, one per line
 *   <li>{@code app <applicationId>}: {@code state=.. finalStatus=.. name=.. queue=.. type=..
 *       user=.. tags=<sorted,comma> amContainer=..} one per line
 * </ul>
 */
public final class YarnReport {
  public static void main(String[] args) throws Exception {
    try (YarnClient yarn = YarnClient.createYarnClient()) {
      yarn.init(new YarnConfiguration());
      yarn.start();
      if (args.length == 1 && args[0].equals("metrics")) {
        YarnClusterMetrics m = yarn.getYarnClusterMetrics();
        System.out.printf(
            "nodeManagers=%d%nactive=%d%nlost=%d%nunhealthy=%d%ndecommissioned=%d%n",
            m.getNumNodeManagers(),
            m.getNumActiveNodeManagers(),
            m.getNumLostNodeManagers(),
            m.getNumUnhealthyNodeManagers(),
            m.getNumDecommissionedNodeManagers());
      } else if (args.length == 2 && args[0].equals("app")) {
        ApplicationReport r = yarn.getApplicationReport(ApplicationId.fromString(args[1]));
        System.out.println("state=" + r.getYarnApplicationState());
        System.out.println("finalStatus=" + r.getFinalApplicationStatus());
        System.out.println("name=" + r.getName());
        System.out.println("queue=" + r.getQueue());
        System.out.println("type=" + r.getApplicationType());
        System.out.println("user=" + r.getUser());
        System.out.println("tags=" + String.join(",", new java.util.TreeSet<>(r.getApplicationTags())));
        System.out.println("attempt=" + r.getCurrentApplicationAttemptId());
      } else {
        System.err.println("usage: metrics | app <applicationId>");
        System.exit(2);
      }
    }
  }
}
