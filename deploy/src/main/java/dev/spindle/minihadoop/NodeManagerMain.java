package dev.spindle.minihadoop;

import java.io.File;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.yarn.conf.YarnConfiguration;
import org.apache.hadoop.yarn.server.MiniYARNCluster;
import org.apache.hadoop.yarn.server.nodemanager.NodeManager;

/**
 * One NodeManager in a JVM of its own, started by {@link Main} (one per NodeManager).
 *
 * <p>Why not in the cluster's JVM: the RM's and the NodeManagers' HTML web apps are Guice servlet
 * modules, and Guice's servlet filter keeps one static pipeline per JVM, so with several of them
 * in one JVM the last one started serves every port's HTML pages (the RM's {@code /cluster} pages
 * and the NodeManagers' {@code /node/containerlogs} pages 404 or show another daemon). HDFS and
 * the REST APIs do not have this problem. The NodeManager talks real RPC to the RM's resource
 * tracker, as on a real cluster.
 */
public final class NodeManagerMain {

  /** Starts NodeManager {@code index} as a child JVM; its output is appended to {@code log}. */
  static Process spawn(
      File daemonConf, File yarnDir, int index, File log, File workDir, String krb5Option)
      throws IOException {
    return spawn(daemonConf, yarnDir, index, log, workDir, krb5Option, null, null);
  }

  /**
   * {@link #spawn} with {@code siteDir} (core-site.xml, hdfs-site.xml) first on the class path: the
   * container localizer, a JVM the NodeManager starts with its own class path, reads its HDFS
   * settings from there (an HA nameservice is only a name without them).
   */
  static Process spawn(
      File daemonConf,
      File yarnDir,
      int index,
      File log,
      File workDir,
      String krb5Option,
      File siteDir,
      String host)
      throws IOException {
    String java = new File(new File(System.getProperty("java.home"), "bin"), "java").getPath();
    List<String> cmd = new ArrayList<>();
    cmd.add(java);
    String opts = System.getenv("MINI_HADOOP_NM_JAVA_OPTS");
    if (opts == null || opts.isBlank()) {
      // A NodeManager's heap stays small; C1 only and the serial GC start fastest on 2 cores.
      opts = "-Xms64m -Xmx384m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss512k";
    }
    for (String opt : opts.trim().split("\\s+")) {
      cmd.add(opt);
    }
    cmd.add("-Djava.net.preferIPv4Stack=true");
    if (host != null) {
      cmd.add("-D" + HOST_PROPERTY + "=" + host);
    }
    if (krb5Option != null) {
      cmd.add(krb5Option);
    }
    cmd.add("-cp");
    // A secure NodeManager also reads the daemon configuration as a class-path resource (main).
    cmd.add(
        (siteDir == null ? "" : siteDir.getAbsolutePath() + File.pathSeparator)
            + (krb5Option == null
                ? ""
                : daemonConf.getParentFile().getAbsolutePath() + File.pathSeparator)
            + System.getProperty("java.class.path"));
    cmd.add(NodeManagerMain.class.getName());
    cmd.add(daemonConf.getAbsolutePath());
    cmd.add(new File(yarnDir, "nm-" + index).getAbsolutePath());
    return Main.startDaemon(cmd, workDir, log);
  }

  /**
   * The address a NodeManager binds and registers as (a loopback address) instead of the host name
   * all NodeManagers share; a system property of its JVM.
   */
  static final String HOST_PROPERTY = "mini-hadoop.nm-host";

  /** Usage: NodeManagerMain DAEMON_CONF NM_DIR --work-dir DIR. */
  public static void main(String[] args) throws Exception {
    Main.watchParent();
    Configuration conf = new YarnConfiguration();
    conf.addResource(new Path(new File(args[0]).toURI()));
    File dir = new File(args[1]);
    File local = new File(dir, "local");
    File logs = new File(dir, "logs");
    if (!local.mkdirs() && !local.isDirectory() || !logs.mkdirs() && !logs.isDirectory()) {
      throw new IOException("mini-hadoop: cannot create " + local + " and " + logs);
    }
    conf.set("yarn.nodemanager.local-dirs", local.getAbsolutePath());
    conf.set("yarn.nodemanager.log-dirs", logs.getAbsolutePath());
    // Free ports; the NodeManager reports the bound ones to the RM when it registers.
    String host = System.getProperty(HOST_PROPERTY, MiniYARNCluster.getHostname());
    conf.set("yarn.nodemanager.address", host + ":0");
    conf.set("yarn.nodemanager.localizer.address", host + ":0");
    conf.set("yarn.nodemanager.webapp.address", host + ":0");
    conf.set("yarn.nodemanager.webapp.https.address", host + ":0");
    // Resources come from the flags, not from this machine's hardware.
    conf.setBoolean("yarn.nodemanager.resource.detect-hardware-capabilities", false);
    // Physical-memory kills off as well: JVM containers (distributed shell, Spark) run with heaps
    // near their allocation. Tests of -104 turn it on with deploy/mini-hadoop --pmem-check (or
    // mini-hadoop.pmem-check-enabled=true in a yarn-site.xml on the NodeManager's class path).
    conf.setBoolean(
        "yarn.nodemanager.pmem-check-enabled",
        conf.getBoolean("mini-hadoop.pmem-check-enabled", false));
    conf.unset("yarn.is.minicluster");
    if ("kerberos".equals(conf.get("hadoop.security.authentication"))) {
      // A secure cluster. Code inside the NodeManager that makes a Configuration of its own (the
      // container localizer, an RPC client to the NodeManager itself) must see the security
      // settings too, or it talks SASL at another protection level: make the daemon
      // configuration a default resource (spawn put its directory on the class path).
      Configuration.addDefaultResource(new File(args[0]).getName());
      // The NodeManager then logs in from its keytab (yarn.nodemanager.principal/keytab) itself.
      Kerberos.enableSecurity(conf);
    }

    NodeManager nm = new NodeManager();
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  // Recovery is off: stopping kills this NodeManager's containers.
                  try {
                    nm.stop();
                  } catch (Throwable t) {
                    System.err.println("mini-hadoop: NodeManager stop failed: " + t);
                  }
                },
                "nodemanager-shutdown"));
    nm.init(conf);
    nm.start();
    Thread.currentThread().join();
  }
}
