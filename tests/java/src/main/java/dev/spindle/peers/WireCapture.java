package dev.spindle.peers;

import java.net.URI;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.yarn.client.api.YarnClient;
import org.apache.hadoop.yarn.conf.YarnConfiguration;

/**
 * Points Hadoop's own clients at ADDRESS (a listener of the Rust test that records the bytes and
 * never answers) and makes one call, so the test can compare Spindle's frames with Java's.
 * Usage: WireCapture rm HOST:PORT (getClusterMetrics) | WireCapture nn HOST:PORT PATH (getFileInfo).
 * Fails once the listener hangs up; the test ignores the exit status.
 */
public final class WireCapture {
  public static void main(String[] args) throws Exception {
    Configuration conf = new Configuration(false);
    conf.setInt("ipc.client.connect.max.retries", 0);
    conf.setInt("ipc.client.connect.max.retries.on.timeouts", 0);
    conf.setInt("ipc.client.rpc-timeout.ms", 5000);
    conf.setInt("yarn.resourcemanager.connect.max-wait.ms", 1000);
    conf.setInt("yarn.resourcemanager.connect.retry-interval.ms", 500);
    conf.setInt("dfs.client.retry.max.attempts", 0);
    conf.setInt("dfs.client.failover.max.attempts", 0);
    switch (args[0]) {
      case "rm" -> {
        YarnConfiguration yc = new YarnConfiguration(conf);
        yc.set("yarn.resourcemanager.address", args[1]);
        try (YarnClient yarn = YarnClient.createYarnClient()) {
          yarn.init(yc);
          yarn.start();
          yarn.getYarnClusterMetrics();
        }
      }
      case "nn" -> {
        try (FileSystem fs = FileSystem.newInstance(new URI("hdfs://" + args[1]), conf)) {
          fs.getFileStatus(new Path(args[2]));
        }
      }
      default -> throw new IllegalArgumentException(args[0]);
    }
  }
}
