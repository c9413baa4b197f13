package dev.spindle.minihadoop;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.yarn.conf.YarnConfiguration;
import org.apache.hadoop.yarn.server.resourcemanager.ResourceManager;

/**
 * One ResourceManager of an HA pair ({@code deploy/mini-hadoop --ha}) in a JVM of its own, started
 * by {@link HaCluster}. Own JVMs because the RM's HTML web app is a Guice servlet module with one
 * static pipeline per JVM (see {@link NodeManagerMain}); two RMs in one JVM would serve each
 * other's pages. It starts as standby (automatic failover is off) until an admin call makes it
 * active.
 */
public final class ResourceManagerMain {

  /** Starts RM {@code rmId} as a child JVM; its output is appended to {@code log}. */
  static Process spawn(File daemonConf, String rmId, File log, File workDir) throws IOException {
    String java = new File(new File(System.getProperty("java.home"), "bin"), "java").getPath();
    List<String> cmd = new ArrayList<>();
    cmd.add(java);
    String opts = System.getenv("MINI_HADOOP_RM_JAVA_OPTS");
    if (opts == null || opts.isBlank()) {
      opts = "-Xms64m -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss512k";
    }
    for (String opt : opts.trim().split("\\s+")) {
      cmd.add(opt);
    }
    cmd.add("-Djava.net.preferIPv4Stack=true");
    // Becoming active refreshes the queues and settings from yarn-site.xml and
    // capacity-scheduler.xml on the class path (LocalConfigurationProvider), not from the file
    // the RM started with: give it both, holding the daemon configuration.
    File rmConf = new File(daemonConf.getParentFile(), "rm-conf");
    if (!rmConf.mkdirs() && !rmConf.isDirectory()) {
      throw new IOException("mini-hadoop: cannot create " + rmConf);
    }
    for (String name : List.of("yarn-site.xml", "capacity-scheduler.xml")) {
      Files.copy(
          daemonConf.toPath(),
          new File(rmConf, name).toPath(),
          StandardCopyOption.REPLACE_EXISTING);
    }
    cmd.add("-cp");
    cmd.add(rmConf.getAbsolutePath() + File.pathSeparator + System.getProperty("java.class.path"));
    cmd.add(ResourceManagerMain.class.getName());
    cmd.add(daemonConf.getAbsolutePath());
    cmd.add(rmId);
    return Main.startDaemon(cmd, workDir, log);
  }

  /** Usage: ResourceManagerMain DAEMON_CONF RM_ID --work-dir DIR. */
  public static void main(String[] args) throws Exception {
    Main.watchParent();
    // yarn-site.xml on the class path is the daemon configuration (see spawn).
    Configuration conf = new YarnConfiguration();
    // Which of yarn.resourcemanager.ha.rm-ids this one is; it takes that id's addresses.
    conf.set(YarnConfiguration.RM_HA_ID, args[1]);
    conf.unset("yarn.is.minicluster");
    ResourceManager rm = new ResourceManager();
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    rm.stop();
                  } catch (Throwable t) {
                    System.err.println("mini-hadoop: ResourceManager " + args[1] + " stop failed: " + t);
                  }
                },
                "resourcemanager-shutdown"));
    rm.init(conf);
    rm.start();
    System.err.println("mini-hadoop: ResourceManager " + args[1] + " started (standby)");
    Thread.currentThread().join();
  }
}
