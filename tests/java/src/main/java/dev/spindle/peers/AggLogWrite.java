package dev.spindle.peers;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Collections;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.security.UserGroupInformation;
import org.apache.hadoop.yarn.api.records.ApplicationAccessType;
import org.apache.hadoop.yarn.api.records.ContainerId;
import org.apache.hadoop.yarn.conf.YarnConfiguration;
import org.apache.hadoop.yarn.logaggregation.AggregatedLogFormat;

/**
 * Adds one node's aggregated log file, written by Hadoop's own AggregatedLogFormat.LogWriter
 * (a TFile) with yarn.nodemanager.log-aggregation.compression-type=COMPRESSION, to the
 * aggregated logs of the application APP_ID in HDFS: container CONTAINER_ID with a stdout of N
 * lines "agg line I" (and an empty stderr). Usage: AggLogWrite APP_ID CONTAINER_ID N COMPRESSION.
 * Prints path=HDFS_PATH and length=BYTES.
 */
public final class AggLogWrite {
  public static void main(String[] args) throws Exception {
    String app = args[0];
    ContainerId container = ContainerId.fromString(args[1]);
    int n = Integer.parseInt(args[2]);
    YarnConfiguration conf = new YarnConfiguration();
    conf.set(YarnConfiguration.NM_LOG_AGG_COMPRESSION_TYPE, args[3]);
    FileSystem fs = FileSystem.get(conf);
    String root = conf.get(YarnConfiguration.NM_REMOTE_APP_LOG_DIR,
        YarnConfiguration.DEFAULT_NM_REMOTE_APP_LOG_DIR);
    FileStatus[] dirs = fs.globStatus(new Path(root + "/*/*/*/" + app));
    if (dirs == null || dirs.length == 0) {
      throw new IllegalStateException("no aggregated log directory of " + app + " under " + root);
    }
    Path target = new Path(dirs[0].getPath(), "peer.example_" + args[3]);

    // LogValue reads <root log dir>/<appId>/<containerId>/<file>, as on a NodeManager.
    File logRoot = Files.createTempDirectory("agglog").toFile();
    File dir = new File(logRoot, app + "/" + container);
    if (!dir.mkdirs()) {
      throw new IllegalStateException("cannot create " + dir);
    }
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < n; i++) {
      out.append("agg line ").append(i).append('\n');
    }
    Files.write(new File(dir, "stdout").toPath(), out.toString().getBytes(StandardCharsets.UTF_8));
    Files.write(new File(dir, "stderr").toPath(), new byte[0]);

    UserGroupInformation ugi = UserGroupInformation.getCurrentUser();
    AggregatedLogFormat.LogWriter writer = new AggregatedLogFormat.LogWriter();
    writer.initialize(conf, target, ugi);
    writer.writeApplicationOwner(ugi.getShortUserName());
    writer.writeApplicationACLs(Collections.<ApplicationAccessType, String>emptyMap());
    writer.append(new AggregatedLogFormat.LogKey(container),
        new AggregatedLogFormat.LogValue(Collections.singletonList(logRoot.getPath()), container,
            ugi.getShortUserName()));
    writer.close();
    System.out.println("path=" + target);
    System.out.println("length=" + fs.getFileStatus(target).getLen());
  }
}
