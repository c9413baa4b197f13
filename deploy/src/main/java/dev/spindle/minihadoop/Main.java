package dev.spindle.minihadoop;

import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.hadoop.yarn.api.protocolrecords.GetClusterMetricsRequest;
import org.apache.hadoop.yarn.conf.YarnConfiguration;
import org.apache.hadoop.yarn.server.MiniYARNCluster;
import org.apache.hadoop.yarn.webapp.util.WebAppUtils;

/**
 * Starts real Apache Hadoop daemons in this one JVM: a MiniDFSCluster (NameNode + DataNodes) and a
 * MiniYARNCluster (ResourceManager + NodeManagers), writes a client configuration for them, prints
 * one {@code READY rm=<url> fs=<uri>} line on stdout and runs until the JVM is asked to stop.
 *
 * <p>Started by {@code deploy/mini-hadoop}, which owns the flags' documentation and the clean-up of
 * container processes. Logging goes to stderr (the script sends it to the work dir).
 */
public final class Main {

  /** Parsed command line; defaults match deploy/mini-hadoop. */
  static final class Options {
    File confDir;
    File workDir;
    int nodeManagers = 2;
    int dataNodes = 2;
    int nmMemoryMb = 4096;
    int nmVcores = 8;
    boolean fixedPorts = false;
    boolean pmemCheck = false;
    boolean rmRecovery = false;
    /** Two ResourceManagers and two NameNodes with manual failover; see {@link HaCluster}. */
    boolean ha = false;
    /** Kerberos everywhere (a KDC in this JVM); see {@link Kerberos}. */
    boolean secure = false;
    /** With secure: every web endpoint on HTTPS only, with a CA of this run; see {@link Https}. */
    boolean https = false;
    /** hadoop.rpc.protection and dfs.data.transfer.protection of a secure cluster. */
    String rpcProtection = "privacy";
    String appClasspath = "";
    /**
     * A Hadoop configuration file (capacity-scheduler.xml's format) whose properties replace the
     * one-queue defaults: queues, and the preemption monitor's yarn-site keys alike.
     */
    File capacityScheduler;
    /**
     * NodeManager i (i > 0) binds and registers as host 127.0.0.(i+1) rather than the host name
     * they all share: the RM's per-host operations (graceful decommissioning) can single it out.
     */
    boolean nmOwnHosts = false;
    /** Seconds; 0 keeps Hadoop's defaults (renewal interval one day, max lifetime a week). */
    int tokenRenewIntervalSec = 0;
    int tokenMaxLifetimeSec = 0;
    /** With secure: the KDC's ticket lifetime in seconds; 0 keeps a day. */
    int ticketLifetimeSec = 0;
  }

  public static void main(String[] args) {
    try {
      run(parse(args));
    } catch (Throwable t) {
      // Daemon threads of a half-started cluster would keep the JVM alive: exit, which runs the
      // shutdown hook and stops whatever did start.
      System.err.println("mini-hadoop: start-up failed: " + t);
      t.printStackTrace();
      System.exit(1);
    }
  }

  static void run(Options o) throws Exception {
    long t0 = System.nanoTime();
    watchParent();

    Files.createDirectories(o.workDir.toPath());
    Files.createDirectories(o.confDir.toPath());
    deleteTree(new File(o.workDir, "rm-state"));
    // Mini clusters resolve their defaults relative to these properties or the working directory.
    File dfsBase = new File(o.workDir, "dfs");
    System.setProperty("test.build.data", new File(o.workDir, "test-data").getAbsolutePath());
    System.setProperty("hdfs.minidfs.basedir", dfsBase.getAbsolutePath());

    if (o.ha) {
      new HaCluster(o).run(t0);
      return;
    }
    Configuration conf = new Configuration();
    applySettings(conf, o);
    Kerberos krb =
        o.secure
            ? Kerberos.start(o.workDir, o.confDir, o.rpcProtection, o.ticketLifetimeSec)
            : null;
    if (krb != null) {
      krb.apply(conf);
      Kerberos.enableSecurity(conf);
    }
    File yarnDir = new File(o.workDir, "yarn");
    Files.createDirectories(yarnDir.toPath());
    writeExcludeSetup(conf, o.workDir);
    // The ssl-*.xml files go next to the daemon configuration: a class-path directory of the
    // NodeManagers (NodeManagerMain) and of this JVM (deploy/mini-hadoop).
    Https https = o.https ? Https.setUp(o.workDir, o.confDir, yarnDir) : null;
    if (https != null) {
      Https.apply(conf, MiniYARNCluster.getHostname(), port(o, 8090));
    }
    // The NameNode's ports are chosen up front too, so the NodeManagers' configuration is complete
    // before anything starts: their JVMs start alongside HDFS and the RM, not after them.
    int nnPort = port(o, 8020);
    conf.set("fs.defaultFS", "hdfs://localhost:" + nnPort);
    File daemonConf = new File(yarnDir, "daemon-site.xml");
    try (OutputStream os = new FileOutputStream(daemonConf)) {
      conf.writeXml(os);
    }
    List<Process> nodeManagers = new ArrayList<>();
    File log = new File(new File(o.workDir, "logs"), "mini-hadoop.log");
    for (int i = 0; i < o.nodeManagers; i++) {
      nodeManagers.add(
          NodeManagerMain.spawn(
              daemonConf,
              yarnDir,
              i,
              log,
              o.workDir,
              krb == null ? null : krb.jvmOption(),
              null,
              o.nmOwnHosts && i > 0 ? "127.0.0." + (i + 1) : null));
    }

    // Stops whatever has started, however far start-up got.
    MiniDFSCluster[] dfsRef = new MiniDFSCluster[1];
    MiniYARNCluster[] yarnRef = new MiniYARNCluster[1];
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  System.err.println("mini-hadoop: stopping NodeManagers (they kill their containers)");
                  for (Process nm : nodeManagers) {
                    nm.destroy();
                  }
                  for (Process nm : nodeManagers) {
                    try {
                      if (!nm.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
                        nm.destroyForcibly().waitFor();
                      }
                    } catch (InterruptedException e) {
                      nm.destroyForcibly();
                    }
                  }
                  System.err.println("mini-hadoop: stopping the ResourceManager");
                  try {
                    if (yarnRef[0] != null) {
                      yarnRef[0].stop();
                    }
                  } catch (Throwable t) {
                    System.err.println("mini-hadoop: YARN stop failed: " + t);
                  }
                  System.err.println("mini-hadoop: stopping HDFS");
                  try {
                    if (dfsRef[0] != null) {
                      dfsRef[0].shutdown();
                    }
                  } catch (Throwable t) {
                    System.err.println("mini-hadoop: HDFS stop failed: " + t);
                  }
                  if (krb != null) {
                    krb.kdc.stop();
                  }
                  System.err.println("mini-hadoop: stopped");
                },
                "mini-hadoop-shutdown"));


    // HDFS first: YARN needs fs.defaultFS for log aggregation and localization.
    boolean format = !new File(dfsBase, "name1/current").isDirectory();
    MiniDFSCluster.Builder dfsBuilder =
        new MiniDFSCluster.Builder(conf, dfsBase)
            .numDataNodes(krb == null ? o.dataNodes : 0)
            .nameNodePort(nnPort)
            .nameNodeHttpPort(port(o, 9870))
            .format(format)
            .manageNameDfsDirs(true)
            .manageDataDfsDirs(true);
    MiniDFSCluster dfs;
    if (krb == null) {
      dfs = dfsBuilder.build();
      dfsRef[0] = dfs;
    } else {
      // Secure: the NameNode and the DataNodes each under their own login (see Kerberos).
      dfs = krb.as(Kerberos.NAMENODE, dfsBuilder::build);
      dfsRef[0] = dfs;
      // The builder set dfs.replication to its DataNode count, 0 here, and the NameNode hands
      // that to clients as the default replication (FileContext writes, log aggregation):
      // restore ours and restart the NameNode (already formatted; about a second) to take it.
      conf.setInt("dfs.replication", Math.min(3, o.dataNodes));
      dfs.getConfiguration(0).setInt("dfs.replication", Math.min(3, o.dataNodes));
      krb.as(
          Kerberos.NAMENODE,
          () -> {
            dfs.restartNameNode(0, true);
            return null;
          });
      krb.as(
          Kerberos.DATANODE,
          () -> {
            dfs.startDataNodes(conf, o.dataNodes, true, null, null);
            return null;
          });
    }
    dfs.waitActive();
    String fsUri = dfs.getURI().toString();

    Configuration yarnConf = new YarnConfiguration(dfs.getConfiguration(0));
    yarnConf.set("fs.defaultFS", fsUri);
    // The ResourceManager runs here; each NodeManager runs in a JVM of its own (see
    // NodeManagerMain for why).
    MiniYARNCluster yarn = new MiniYARNCluster("mini-hadoop", 1, 0, 1, 1);
    yarnRef[0] = yarn;

    if (krb == null) {
      yarn.init(yarnConf);
      yarn.start();
    } else {
      krb.as(
          Kerberos.RESOURCEMANAGER,
          () -> {
            // MiniYARNCluster's RM skips its own keytab login, yet it renews delegation tokens
            // as the JVM's login user: make that the RM (started last, it keeps it).
            krb.loginJvm(Kerberos.RESOURCEMANAGER);
            yarn.init(yarnConf);
            yarn.start();
            return null;
          });
    }
    Configuration live = yarn.getConfig();

    waitForNodeManagers(yarn, nodeManagers, o.nodeManagers);
    String rmWeb = WebAppUtils.getHttpSchemePrefix(live) + WebAppUtils.getRMWebAppURLWithoutScheme(live);

    writeClientConfig(live, dfs.getConfiguration(0), fsUri, o);
    watchControlDir(yarn, o, krb);

    double secs = (System.nanoTime() - t0) / 1e9;
    System.err.printf("mini-hadoop: cluster up in %.1f s (JVM start excluded)%n", secs);
    String ready = "READY rm=" + rmWeb + " fs=" + fsUri;
    if (krb != null) {
      ready +=
          " principal=" + krb.userPrincipal
              + " keytab=" + krb.userKeytab.getAbsolutePath()
              + " krb5=" + krb.krb5Conf.getAbsolutePath();
    }
    if (https != null) {
      ready += " ca=" + https.caPem.getAbsolutePath();
    }
    System.out.println(ready);
    System.out.flush();
    Thread.currentThread().join();
  }

  /**
   * Serves requests made through files in {@code <work-dir>/control/} (deploy/mini-hadoop turns
   * its stdin commands into them): {@code restart-rm} stops the ResourceManager and starts a new
   * one in its place on the same ports, which recovers applications from its state store when
   * {@code --rm-recovery} is on. Once the NodeManagers have registered again, the number of
   * restarts so far is written to {@code control/rm-restarts}. {@code decommission-nm} (holding a
   * host name, optionally a timeout in seconds) decommissions that host's NodeManagers gracefully
   * (see {@link #decommission}); {@code control/nm-decommissions} then reads {@code <count>
   * host=<host> timeout=<s> <node id>=<state>} or {@code <count> error=<why>}.
   */
  static void watchControlDir(MiniYARNCluster yarn, Options o, Kerberos krb) throws IOException {
    File dir = new File(o.workDir, "control");
    Files.createDirectories(dir.toPath());
    File request = new File(dir, "restart-rm");
    File done = new File(dir, "rm-restarts");
    File decommission = new File(dir, "decommission-nm");
    File decommissioned = new File(dir, "nm-decommissions");
    Files.deleteIfExists(request.toPath());
    Files.deleteIfExists(done.toPath());
    Files.deleteIfExists(decommission.toPath());
    Files.deleteIfExists(decommissioned.toPath());
    Thread t =
        new Thread(
            () -> {
              int restarts = 0;
              int decommissions = 0;
              while (true) {
                try {
                  Thread.sleep(200);
                  if (decommission.exists()) {
                    String what = Files.readString(decommission.toPath());
                    Files.deleteIfExists(decommission.toPath());
                    String report;
                    try {
                      report = decommission(yarn, o.workDir, what);
                    } catch (Exception e) {
                      report = "error=" + e.toString().replace('\n', ' ');
                    }
                    decommissions++;
                    System.err.println("mini-hadoop: decommission " + what.trim() + ": " + report);
                    File tmp = new File(dir, "nm-decommissions.tmp");
                    Files.writeString(tmp.toPath(), decommissions + " " + report + "\n");
                    Files.move(
                        tmp.toPath(),
                        decommissioned.toPath(),
                        StandardCopyOption.ATOMIC_MOVE,
                        StandardCopyOption.REPLACE_EXISTING);
                  }
                  if (!request.exists()) {
                    continue;
                  }
                  Files.deleteIfExists(request.toPath());
                  long t0 = System.nanoTime();
                  System.err.println("mini-hadoop: restarting the ResourceManager");
                  java.security.PrivilegedExceptionAction<Void> restart =
                      () -> {
                        yarn.stopResourceManager(0);
                        // The RM's metrics are static singletons; a new RM in this JVM starts them
                        // over (as the RM does itself when it becomes active again after HA
                        // failover).
                        org.apache.hadoop.yarn.server.resourcemanager.ClusterMetrics.destroy();
                        org.apache.hadoop.yarn.server.resourcemanager.scheduler.QueueMetrics
                            .clearQueueMetrics();
                        yarn.restartResourceManager(0);
                        return null;
                      };
                  if (krb == null) {
                    restart.run();
                  } else {
                    krb.as(Kerberos.RESOURCEMANAGER, restart);
                  }
                  waitForNodeManagersToReregister(yarn, o.nodeManagers);
                  restarts++;
                  System.err.printf(
                      "mini-hadoop: ResourceManager restarted (%d) in %.1f s%n",
                      restarts, (System.nanoTime() - t0) / 1e9);
                  File tmp = new File(dir, "rm-restarts.tmp");
                  Files.writeString(tmp.toPath(), restarts + "\n");
                  Files.move(
                      tmp.toPath(),
                      done.toPath(),
                      StandardCopyOption.ATOMIC_MOVE,
                      StandardCopyOption.REPLACE_EXISTING);
                } catch (InterruptedException e) {
                  return;
                } catch (Throwable e) {
                  // A cluster without a working RM is of no use to anyone: stop it loudly.
                  System.err.println("mini-hadoop: restarting the ResourceManager failed: " + e);
                  e.printStackTrace();
                  System.exit(1);
                }
              }
            },
            "mini-hadoop-control");
    t.setDaemon(true);
    t.start();
  }

  /** Hadoop's key for the RM's exclude file (YarnConfiguration.RM_NODES_EXCLUDE_FILE_PATH). */
  static final String EXCLUDE_PATH = "yarn.resourcemanager.nodes.exclude-path";

  /** The RM's exclude file: NodeManager hosts to decommission, one a line. */
  static File excludeFile(File workDir) {
    return new File(new File(workDir, "yarn"), "nodes.exclude");
  }

  /**
   * Sets up graceful decommissioning as an operator's cluster has it: an empty exclude file named
   * by the RM's configuration, and a yarn-site.xml naming it in {@code <work-dir>/rm-conf}, which
   * deploy/mini-hadoop puts on this JVM's class path. The RM's AdminService reads yarn-site.xml
   * from the class path again at every refreshNodes, not the configuration it started with.
   */
  static void writeExcludeSetup(Configuration conf, File workDir) throws IOException {
    File exclude = excludeFile(workDir);
    Files.createDirectories(exclude.getParentFile().toPath());
    Files.writeString(exclude.toPath(), "");
    conf.set(EXCLUDE_PATH, exclude.getAbsolutePath());
    File rmConf = new File(workDir, "rm-conf");
    Files.createDirectories(rmConf.toPath());
    Configuration site = new Configuration(false);
    site.set(EXCLUDE_PATH, exclude.getAbsolutePath());
    try (OutputStream os = new FileOutputStream(new File(rmConf, "yarn-site.xml"))) {
      site.writeXml(os);
    }
  }

  /**
   * Gracefully decommissions the NodeManagers of {@code host} as {@code yarn rmadmin -refreshNodes
   * -g TIMEOUT} does: the host goes into the exclude file, then the RM's AdminService refreshes
   * its nodes with DecommissionType.GRACEFUL. Returns the report line for {@code
   * control/nm-decommissions}: the host and its nodes' states, or an error naming the known hosts.
   */
  static String decommission(MiniYARNCluster yarn, File workDir, String request)
      throws Exception {
    String[] words = request.trim().split("\\s+");
    String host = words[0];
    int timeoutSec = words.length > 1 ? Integer.parseInt(words[1]) : 300;
    var nodes = yarn.getResourceManager().getRMContext().getRMNodes().values();
    java.util.Set<String> hosts = new java.util.TreeSet<>();
    nodes.forEach(n -> hosts.add(n.getHostName()));
    if (host.isEmpty() || !hosts.contains(host)) {
      return "error=no NodeManager on host '" + host + "' (hosts: " + String.join(",", hosts) + ")";
    }
    File exclude = excludeFile(workDir);
    List<String> lines = new ArrayList<>(Files.readAllLines(exclude.toPath()));
    if (!lines.contains(host)) {
      lines.add(host);
    }
    Files.write(exclude.toPath(), lines);
    yarn.getResourceManager()
        .getRMContext()
        .getRMAdminService()
        .refreshNodes(
            org.apache.hadoop.yarn.server.api.protocolrecords.RefreshNodesRequest.newInstance(
                org.apache.hadoop.yarn.api.records.DecommissionType.GRACEFUL, timeoutSec));
    // The RM moves the nodes out of RUNNING through its event dispatcher, a moment later.
    List<String> states = new ArrayList<>();
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (true) {
      states.clear();
      boolean running = false;
      for (var n : yarn.getResourceManager().getRMContext().getRMNodes().values()) {
        if (n.getHostName().equals(host)) {
          states.add(n.getNodeID() + "=" + n.getState());
          running |= n.getState() == org.apache.hadoop.yarn.api.records.NodeState.RUNNING;
        }
      }
      if (!running || System.nanoTime() > deadline) {
        break;
      }
      Thread.sleep(100);
    }
    return "host=" + host + " timeout=" + timeoutSec + " " + String.join(",", states);
  }

  /** Waits until a restarted RM knows {@code n} running NodeManagers again (at most 120 s). */
  static void waitForNodeManagersToReregister(MiniYARNCluster yarn, int n) throws Exception {
    long deadline = System.nanoTime() + 120_000_000_000L;
    while (true) {
      long running =
          yarn.getResourceManager().getRMContext().getRMNodes().values().stream()
              .filter(node -> node.getState() == org.apache.hadoop.yarn.api.records.NodeState.RUNNING)
              .count();
      if (running >= n) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            running + " of " + n + " NodeManagers registered with the restarted RM within 120 s");
      }
      Thread.sleep(100);
    }
  }

  /** Waits until the RM counts {@code n} NodeManagers; fails fast if one of their JVMs dies. */
  static void waitForNodeManagers(MiniYARNCluster yarn, List<Process> jvms, int n) throws Exception {
    long deadline = System.nanoTime() + 180_000_000_000L;
    GetClusterMetricsRequest req = GetClusterMetricsRequest.newInstance();
    while (true) {
      int registered =
          yarn.getResourceManager()
              .getClientRMService()
              .getClusterMetrics(req)
              .getClusterMetrics()
              .getNumNodeManagers();
      if (registered >= n) {
        return;
      }
      for (Process p : jvms) {
        if (!p.isAlive()) {
          throw new IllegalStateException(
              "mini-hadoop: a NodeManager JVM exited with status " + p.exitValue() + " (see the log)");
        }
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "mini-hadoop: " + registered + " of " + n + " NodeManagers registered within 180 s");
      }
      Thread.sleep(50);
    }
  }

  /**
   * The settings that make real Hadoop work well on one small, shared machine. Each says why;
   * docs/mini-hadoop.md lists them too.
   */
  static void applySettings(Configuration c, Options o) {
    // --- HDFS ---
    // Never more replicas than DataNodes, or every write stays under-replicated.
    c.setInt("dfs.replication", Math.min(3, o.dataNodes));
    // The NameNode enters safe mode when free space falls under this (default 100 MB); a busy
    // shared disk must not turn HDFS read-only.
    c.setLong("dfs.namenode.resource.du.reserved", 1024 * 1024);
    // DataNodes likewise keep no reserve of their own.
    c.setLong("dfs.datanode.du.reserved", 0);
    // Faster DataNode heartbeats: block reports and decommission reach the NameNode sooner.
    c.setInt("dfs.heartbeat.interval", 1);
    // The NameNode issues delegation tokens without Kerberos too, so clients (Spindle's submit,
    // its tests of delegation tokens) can fetch, renew and cancel them on this cluster.
    c.setBoolean("dfs.namenode.delegation.token.always-use", true);
    // Short token lives (--token-renew-interval, --token-max-lifetime) let tests see tokens
    // expire and be replaced within minutes.
    if (o.tokenRenewIntervalSec > 0) {
      c.setLong("dfs.namenode.delegation.token.renew-interval", o.tokenRenewIntervalSec * 1000L);
    }
    if (o.tokenMaxLifetimeSec > 0) {
      c.setLong("dfs.namenode.delegation.token.max-lifetime", o.tokenMaxLifetimeSec * 1000L);
    }

    // --- YARN scheduling ---
    // NodeManager resources (accounting only: YARN does not reserve real memory).
    c.setInt("yarn.minicluster.yarn.nodemanager.resource.memory-mb", o.nmMemoryMb);
    c.setInt("yarn.nodemanager.resource.memory-mb", o.nmMemoryMb);
    c.setInt("yarn.nodemanager.resource.cpu-vcores", o.nmVcores);
    // Small containers: Spindle's native executors need tens of MB, not the default 1 GB minimum.
    c.setInt("yarn.scheduler.minimum-allocation-mb", 32);
    c.setInt("yarn.scheduler.maximum-allocation-mb", o.nmMemoryMb);
    c.setInt("yarn.scheduler.minimum-allocation-vcores", 1);
    c.setInt("yarn.scheduler.maximum-allocation-vcores", o.nmVcores);
    // All NodeManagers run on one host: include the port in node names so the scheduler tells
    // them apart (an AM's node blacklist and locality hints name one NodeManager). Hadoop's key
    // is yarn.scheduler.include-port-in-node-name (YarnConfiguration
    // .RM_SCHEDULER_INCLUDE_PORT_IN_NODE_NAME); clients get it too, so AMs name nodes alike.
    c.setBoolean("yarn.scheduler.include-port-in-node-name", true);
    // Fast NodeManager heartbeats (default 1 s): containers are allocated and reported sooner.
    c.setLong("yarn.resourcemanager.nodemanagers.heartbeat-interval-ms", 100);
    // The capacity scheduler with one queue, configured here because the jars carry no
    // capacity-scheduler.xml.
    c.set("yarn.scheduler.capacity.root.queues", "default");
    c.set("yarn.scheduler.capacity.root.default.capacity", "100");
    c.set("yarn.scheduler.capacity.root.default.maximum-capacity", "100");
    c.set("yarn.scheduler.capacity.root.default.state", "RUNNING");
    c.set("yarn.scheduler.capacity.root.default.acl_submit_applications", "*");
    c.set("yarn.scheduler.capacity.root.default.acl_administer_queue", "*");
    c.set("yarn.scheduler.capacity.root.default.user-limit-factor", "1");
    // Tests run several applications at once; the default 10 % AM share would admit only one
    // 512 MB AM at a time on a small cluster.
    c.set("yarn.scheduler.capacity.maximum-am-resource-percent", "0.5");
    if (o.capacityScheduler != null) {
      // --capacity-scheduler FILE: its properties win (queues, preemption monitor settings).
      if (!o.capacityScheduler.isFile()) {
        throw new IllegalArgumentException(
            "mini-hadoop: --capacity-scheduler " + o.capacityScheduler + ": no such file");
      }
      Configuration extra = new Configuration(false);
      extra.addResource(new org.apache.hadoop.fs.Path(o.capacityScheduler.toURI()));
      for (java.util.Map.Entry<String, String> e : extra) {
        c.set(e.getKey(), e.getValue());
      }
    }
    // Lost AMs and NodeManagers are noticed in seconds, not the default 10 minutes, so failure
    // tests end quickly.
    // A secure cluster gets longer: its encrypted data transfer (privacy) makes localizing a
    // debug driver binary take over 30 s on a loaded 2-core machine, before the AM can register.
    c.setLong("yarn.am.liveness-monitor.expiry-interval-ms", o.secure ? 90_000 : 30_000);
    c.setLong("yarn.nm.liveness-monitor.expiry-interval-ms", 20_000);
    // Application priorities (--priority) take effect up to this value; Hadoop's default, 0,
    // flattens every submitted priority to 0.
    c.setInt("yarn.cluster.max-application-priority", 10);
    // AM retries are the application's business; two attempts as on a default cluster.
    c.setInt("yarn.resourcemanager.am.max-attempts", 2);

    // --- NodeManagers on a busy shared machine ---
    // Physical-memory kills (-104) only when asked for (--pmem-check): JVM containers run with
    // heaps near their allocation. Read by NodeManagerMain.
    c.setBoolean("mini-hadoop.pmem-check-enabled", o.pmemCheck);
    if (o.pmemCheck) {
      // The monitor samples every 3 s by default; a container far over its limit is killed
      // within a second this way.
      c.setLong("yarn.nodemanager.container-monitor.interval-ms", 300);
      // Hadoop 3.5's monitor skips its limit check altogether while
      // yarn.nodemanager.resource.memory.enforced is true (the default), leaving kills to cgroups'
      // OOM killer even when no cgroups are configured: turn it off so the polling check kills.
      c.setBoolean("yarn.nodemanager.resource.memory.enforced", false);
    }
    // Threads and malloc arenas inflate virtual memory far past physical use: no vmem kills.
    c.setBoolean("yarn.nodemanager.vmem-check-enabled", false);
    // A disk more than 90 % full would mark the NodeManager unhealthy and leave applications
    // ACCEPTED forever: accept any fill level.
    c.setFloat("yarn.nodemanager.disk-health-checker.max-disk-utilization-per-disk-percentage", 100f);
    c.setLong("yarn.nodemanager.disk-health-checker.min-free-space-per-disk-mb", 0);
    // Keep finished containers' directories for ten minutes, for post-mortems.
    c.setInt("yarn.nodemanager.delete.debug-delay-sec", 600);
    // Killed containers get 250 ms between SIGTERM and SIGKILL (the default), stated so stop
    // time is predictable.
    c.setLong("yarn.nodemanager.sleep-delay-before-sigkill.ms", 250);
    // Recovery off: a stopped NodeManager kills its containers instead of leaving them running.
    c.setBoolean("yarn.nodemanager.recovery.enabled", false);
    // NodeManagers start alongside the RM and retry until it listens: every 200 ms, not 30 s.
    c.setLong("yarn.resourcemanager.connect.retry-interval.ms", 200);
    // Containers (the distributed-shell AM, Spark) need Hadoop's classes: the conf dir first, then
    // the jars Maven resolved on this machine.
    c.set("yarn.application.classpath", o.confDir.getAbsolutePath() + "," + o.appClasspath);

    // --- ResourceManager restart (--rm-recovery) ---
    // The RM keeps applications, attempts and its token keys in a state store and recovers them
    // when it starts again; work-preserving: running containers survive, NodeManagers report
    // them when they re-register, and AMs re-register and ask again. The store is a directory of
    // the local file system, cleared on every cold start of the cluster (it describes
    // applications of a previous run's NodeManagers, which are gone).
    c.setBoolean("yarn.resourcemanager.recovery.enabled", o.rmRecovery);
    if (o.rmRecovery) {
      c.set(
          "yarn.resourcemanager.store.class",
          "org.apache.hadoop.yarn.server.resourcemanager.recovery.FileSystemRMStateStore");
      c.set(
          "yarn.resourcemanager.fs.state-store.uri",
          new File(o.workDir, "rm-state").toURI().toString());
      c.setBoolean("yarn.resourcemanager.work-preserving-recovery.enabled", true);
      // After a restart the scheduler waits this long for NodeManagers to report their containers
      // before it allocates new ones (default 10 s); they re-register within a second here.
      c.setLong("yarn.resourcemanager.work-preserving-recovery.scheduling-wait-ms", 2000);
    }

    // --- Logs ---
    // Aggregate container logs into HDFS so they can be read after an application ends.
    c.setBoolean("yarn.log-aggregation-enable", true);
    c.set("yarn.nodemanager.remote-app-log-dir", "/tmp/logs");
    c.setLong("yarn.log-aggregation.retain-seconds", 7 * 24 * 3600);

    // The web proxy: yarn.web-proxy.address stays unset so the RM serves /proxy/<appId>/ itself.
    c.unset("yarn.web-proxy.address");
    // No timeline service in this cluster: clients must not try to reach one.
    c.setBoolean("yarn.timeline-service.enabled", false);

    // The RM's ports are chosen here (free ports unless --fixed-ports) and used as fixed ports:
    // with MiniYARNCluster's own ephemeral ports (":0") the RM computes its web proxy's address
    // before binding, so tracking URLs and the proxy's redirects would point at port 0.
    c.setBoolean("yarn.minicluster.fixed.ports", true);
    String host = MiniYARNCluster.getHostname();
    c.set("yarn.resourcemanager.hostname", host);
    c.set("yarn.resourcemanager.address", host + ":" + port(o, 8032));
    c.set("yarn.resourcemanager.scheduler.address", host + ":" + port(o, 8030));
    c.set("yarn.resourcemanager.resource-tracker.address", host + ":" + port(o, 8031));
    c.set("yarn.resourcemanager.admin.address", host + ":" + port(o, 8033));
    c.set("yarn.resourcemanager.webapp.address", host + ":" + port(o, 8088));
  }

  /**
   * Hadoop's well-known port with --fixed-ports, else a port that is free right now, taken below
   * the kernel's ephemeral range: the daemons bind ephemeral ports of their own while starting,
   * and one of those must never be handed the port chosen here before its owner binds it.
   */
  static int port(Options o, int wellKnown) {
    if (o.fixedPorts) {
      return wellKnown;
    }
    int low = 32768;
    // (Read line by line: /proc files report size 0, which whole-file reads mishandle.)
    try (java.io.BufferedReader r =
        Files.newBufferedReader(new File("/proc/sys/net/ipv4/ip_local_port_range").toPath())) {
      low = Integer.parseInt(r.readLine().trim().split("\\s+")[0]);
    } catch (IOException | RuntimeException e) {
      // Linux's default range starts at 32768.
    }
    if (low < 4096) {
      low = 32768;
    }
    int from = Math.max(1024, Math.min(10000, low - 2000));
    java.util.Random random = new java.util.Random();
    for (int attempt = 0; attempt < 200; attempt++) {
      int candidate = from + random.nextInt(Math.max(1, low - from));
      if (USED_PORTS.contains(candidate)) {
        continue;
      }
      try (java.net.ServerSocket s = new java.net.ServerSocket()) {
        s.setReuseAddress(false);
        s.bind(new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), candidate), 1);
        USED_PORTS.add(candidate);
        return candidate;
      } catch (IOException taken) {
        // try another
      }
    }
    throw new IllegalStateException("mini-hadoop: no free port found below " + low);
  }

  private static final java.util.Set<Integer> USED_PORTS = new java.util.HashSet<>();

  /** Keys a client never needs: per-daemon directories and addresses of one NodeManager. */
  static boolean isDaemonOnly(String key) {
    return key.startsWith("yarn.nodemanager.local-dirs")
        || key.startsWith("yarn.nodemanager.log-dirs")
        || key.equals("yarn.nodemanager.address")
        || key.equals("yarn.nodemanager.localizer.address")
        || key.equals("yarn.nodemanager.webapp.address")
        || key.equals("yarn.nodemanager.webapp.https.address")
        || key.equals("yarn.nodemanager.collector-service.address")
        || key.startsWith("yarn.minicluster.")
        || key.equals("yarn.is.minicluster")
        || key.startsWith("dfs.namenode.name.dir")
        || key.startsWith("dfs.namenode.edits.dir")
        || key.startsWith("dfs.namenode.checkpoint")
        || key.startsWith("dfs.datanode.data.dir")
        || key.startsWith("dfs.datanode.address")
        || key.startsWith("dfs.datanode.http.address")
        || key.startsWith("dfs.datanode.https.address")
        || key.startsWith("dfs.datanode.ipc.address")
        || key.startsWith("dfs.datanode.hostname")
        || key.startsWith("hadoop.tmp.dir")
        // Server-side plumbing the mini clusters set in code; clients get Hadoop's defaults.
        || key.startsWith("rpc.engine.")
        || key.startsWith("hdfs.minidfs.")
        || key.equals("hadoop.http.filter.initializers")
        || key.startsWith("net.topology.")
        || key.startsWith("yarn.node-attribute.")
        || key.equals("yarn.timeline-service.address")
        || key.equals("yarn.timeline-service.webapp.address")
        || key.equals("dfs.namenode.startup")
        // One HA daemon's own identity and the NameNodes' shared edits (--ha).
        || key.startsWith("dfs.namenode.shared.edits.dir")
        || key.startsWith("dfs.ha.namenode.id")
        || key.equals("dfs.nameservice.id")
        || key.equals("yarn.resourcemanager.ha.id")
        // A secure cluster's service keytabs belong to its daemons, never to clients.
        || key.contains("keytab");
  }

  /**
   * Writes core-site.xml, hdfs-site.xml and yarn-site.xml: every property that was set by code
   * (ours or the mini clusters', with the real ports) rather than read from Hadoop's
   * *-default.xml, split by prefix. Files are written to a temporary name and renamed, so a
   * reader never sees half a file.
   */
  static void writeClientConfig(Configuration yarnLive, Configuration dfsLive, String fsUri, Options o)
      throws IOException {
    Map<String, String> core = new TreeMap<>();
    Map<String, String> hdfs = new TreeMap<>();
    Map<String, String> yarnSite = new TreeMap<>();
    for (Configuration src : List.of(dfsLive, yarnLive)) {
      for (Map.Entry<String, String> e : src) {
        String key = e.getKey();
        if (!setByCode(src, key) || isDaemonOnly(key)) {
          continue;
        }
        String value = src.get(key);
        if (key.startsWith("dfs.")) {
          hdfs.put(key, value);
        } else if (key.startsWith("yarn.")) {
          yarnSite.put(key, value);
        } else if (!key.startsWith("mapreduce.") && !key.startsWith("test.")) {
          core.put(key, value);
        }
      }
    }
    core.put("fs.defaultFS", fsUri);
    core.put("hadoop.security.authentication", o.secure ? "kerberos" : "simple");
    // Clients reach DataNodes at the addresses the NameNode reports (127.0.0.1 here).
    hdfs.put("dfs.client.use.datanode.hostname", "false");
    write(new File(o.confDir, "core-site.xml"), core);
    write(new File(o.confDir, "hdfs-site.xml"), hdfs);
    write(new File(o.confDir, "yarn-site.xml"), yarnSite);
  }

  /** Writes {@code text} to {@code file} through a temporary name, so no reader sees half of it. */
  static void writeAtomically(File file, String text) throws IOException {
    File tmp = new File(file.getPath() + ".tmp");
    Files.writeString(tmp.toPath(), text);
    Files.move(tmp.toPath(), file.toPath(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  static boolean setByCode(Configuration c, String key) {
    String[] sources = c.getPropertySources(key);
    if (sources == null) {
      return false;
    }
    for (String s : sources) {
      if (s.endsWith("-default.xml")) {
        return false;
      }
    }
    return true;
  }

  static void write(File file, Map<String, String> props) throws IOException {
    Configuration out = new Configuration(false);
    for (Map.Entry<String, String> e : props.entrySet()) {
      out.set(e.getKey(), e.getValue(), "mini-hadoop");
    }
    File tmp = new File(file.getPath() + ".tmp");
    try (OutputStream os = new FileOutputStream(tmp)) {
      out.writeXml(os);
    }
    Files.move(tmp.toPath(), file.toPath(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  /**
   * Starts a daemon JVM of its own (a NodeManager, an HA ResourceManager): {@code cmd} with the
   * cluster's work dir appended as {@code --work-dir} (so tools can tell whose JVM this is),
   * stdin from /dev/null, stdout and stderr appended to {@code log}.
   */
  static Process startDaemon(List<String> cmd, File workDir, File log) throws IOException {
    List<String> args = new ArrayList<>(cmd);
    args.add("--work-dir");
    args.add(workDir.getAbsolutePath());
    ProcessBuilder pb = new ProcessBuilder(args);
    pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log));
    pb.redirectError(ProcessBuilder.Redirect.appendTo(log));
    return pb.start();
  }

  /** Exits (running the shutdown hook) when the launching script dies, so no cluster outlives it. */
  static void watchParent() {
    ProcessHandle parent = ProcessHandle.current().parent().orElse(null);
    if (parent == null) {
      return;
    }
    Thread t =
        new Thread(
            () -> {
              while (parent.isAlive()) {
                try {
                  Thread.sleep(500);
                } catch (InterruptedException e) {
                  return;
                }
              }
              System.err.println("mini-hadoop: launcher " + parent.pid() + " is gone, stopping");
              System.exit(1);
            },
            "mini-hadoop-parent-watch");
    t.setDaemon(true);
    t.start();
  }

  static Options parse(String[] args) {
    Options o = new Options();
    List<String> a = new ArrayList<>(List.of(args));
    for (int i = 0; i < a.size(); i++) {
      String flag = a.get(i);
      if (flag.equals("--fixed-ports")) {
        o.fixedPorts = true;
        continue;
      }
      if (flag.equals("--pmem-check")) {
        o.pmemCheck = true;
        continue;
      }
      if (flag.equals("--rm-recovery")) {
        o.rmRecovery = true;
        continue;
      }
      if (flag.equals("--ha")) {
        o.ha = true;
        continue;
      }
      if (flag.equals("--secure")) {
        o.secure = true;
        continue;
      }
      if (flag.equals("--https")) {
        o.https = true;
        continue;
      }
      if (flag.equals("--nm-own-hosts")) {
        o.nmOwnHosts = true;
        continue;
      }
      if (i + 1 >= a.size()) {
        throw new IllegalArgumentException("mini-hadoop: flag " + flag + " needs a value");
      }
      String v = a.get(++i);
      switch (flag) {
        case "--conf-dir" -> o.confDir = new File(v).getAbsoluteFile();
        case "--work-dir" -> o.workDir = new File(v).getAbsoluteFile();
        case "--nodemanagers" -> o.nodeManagers = positive(flag, v);
        case "--datanodes" -> o.dataNodes = positive(flag, v);
        case "--nm-memory" -> o.nmMemoryMb = positive(flag, v);
        case "--nm-vcores" -> o.nmVcores = positive(flag, v);
        case "--app-classpath" -> o.appClasspath = v;
        case "--capacity-scheduler" -> o.capacityScheduler = new File(v).getAbsoluteFile();
        case "--token-renew-interval" -> o.tokenRenewIntervalSec = positive(flag, v);
        case "--token-max-lifetime" -> o.tokenMaxLifetimeSec = positive(flag, v);
        case "--ticket-lifetime" -> o.ticketLifetimeSec = positive(flag, v);
        case "--rpc-protection" -> {
          // One level, or several in the server's order of preference (Hadoop's own syntax).
          for (String level : v.split(",")) {
            if (!List.of("authentication", "integrity", "privacy").contains(level.trim())) {
              throw new IllegalArgumentException(
                  "mini-hadoop: --rpc-protection takes authentication, integrity or privacy"
                      + " (or a comma-separated list of them), got '" + v + "'");
            }
          }
          o.rpcProtection = v;
        }
        default -> throw new IllegalArgumentException("mini-hadoop: unknown flag " + flag);
      }
    }
    if (o.ticketLifetimeSec > 0 && !o.secure) {
      throw new IllegalArgumentException("mini-hadoop: --ticket-lifetime needs --secure");
    }
    if (o.https && !o.secure) {
      throw new IllegalArgumentException("mini-hadoop: --https needs --secure");
    }
    if (o.confDir == null || o.workDir == null) {
      throw new IllegalArgumentException("mini-hadoop: --conf-dir and --work-dir are required");
    }
    return o;
  }

  static void deleteTree(File f) throws IOException {
    if (!f.exists()) {
      return;
    }
    try (var paths = Files.walk(f.toPath())) {
      for (var p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  static int positive(String flag, String v) {
    try {
      int n = Integer.parseInt(v);
      if (n > 0) {
        return n;
      }
    } catch (NumberFormatException e) {
      // fall through to the error below
    }
    throw new IllegalArgumentException("mini-hadoop: " + flag + " needs a positive integer, got '" + v + "'");
  }
}
