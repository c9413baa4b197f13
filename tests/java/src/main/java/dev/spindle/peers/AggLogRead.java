package dev.spindle.peers;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import org.apache.hadoop.yarn.api.records.ApplicationId;
import org.apache.hadoop.yarn.conf.YarnConfiguration;
import org.apache.hadoop.yarn.logaggregation.ContainerLogFileInfo;
import org.apache.hadoop.yarn.logaggregation.ContainerLogMeta;
import org.apache.hadoop.yarn.logaggregation.ContainerLogsRequest;
import org.apache.hadoop.yarn.logaggregation.filecontroller.LogAggregationFileController;
import org.apache.hadoop.yarn.logaggregation.filecontroller.LogAggregationFileControllerFactory;

/**
 * Reads an application's aggregated logs from HDFS as {@code yarn logs} does: Hadoop's
 * LogAggregationFileControllerFactory picks the controller whose files the application has
 * (TFile or IFile), its readAggregatedLogsMeta lists containers and files, and readAggregatedLogs
 * reads each file. Usage: AggLogRead APP_ID OWNER. Prints controller=CLASS, then per log file
 * {@code log=CONTAINER FILE bytes=N sha256=HEX} (of the file's contents as the controller returns
 * them).
 */
public final class AggLogRead {
  public static void main(String[] args) throws Exception {
    ApplicationId app = ApplicationId.fromString(args[0]);
    String owner = args[1];
    YarnConfiguration conf = new YarnConfiguration();
    LogAggregationFileController controller =
        new LogAggregationFileControllerFactory(conf).getFileControllerForRead(app, owner);
    System.out.println("controller=" + controller.getClass().getName());
    ContainerLogsRequest all = new ContainerLogsRequest();
    all.setAppId(app);
    all.setAppOwner(owner);
    all.setAppFinished(true);
    List<ContainerLogMeta> metas = controller.readAggregatedLogsMeta(all);
    for (ContainerLogMeta meta : metas) {
      for (ContainerLogFileInfo file : meta.getContainerLogMeta()) {
        ContainerLogsRequest one = new ContainerLogsRequest(all);
        one.setContainerId(meta.getContainerId());
        one.setLogTypes(new HashSet<>(List.of(file.getFileName())));
        one.setBytes(Long.MAX_VALUE);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (!controller.readAggregatedLogs(one, out)) {
          throw new IllegalStateException("no log " + file.getFileName() + " of " + meta.getContainerId());
        }
        byte[] body = contents(out.toByteArray());
        String digest = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body));
        System.out.println("log=" + meta.getContainerId() + " " + file.getFileName()
            + " bytes=" + body.length + " sha256=" + digest);
      }
    }
  }

  /** The log's bytes in the controller's output: LogLength:N, LogContents:, then N bytes. */
  static byte[] contents(byte[] out) {
    String text = new String(out, StandardCharsets.ISO_8859_1);
    int len = text.indexOf("LogLength:");
    int at = text.indexOf("LogContents:\n", len);
    if (len < 0 || at < 0) {
      throw new IllegalStateException("no LogLength/LogContents in: " + text);
    }
    long n = Long.parseLong(text.substring(len + "LogLength:".length(), text.indexOf('\n', len)).trim());
    int from = at + "LogContents:\n".length();
    return Arrays.copyOfRange(out, from, (int) Math.min(out.length, from + n));
  }
}
