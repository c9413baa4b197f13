package dev.spindle.minihadoop;

import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.hadoop.hdfs.MiniDFSNNTopology;
import org.apache.hadoop.util.ToolRunner;
import org.apache.hadoop.yarn.client.api.YarnClient;
import org.apache.hadoop.yarn.client.cli.RMAdminCLI;
import org.apache.hadoop.yarn.conf.YarnConfiguration;
import org.apache.hadoop.yarn.server.MiniYARNCluster;

/**
 * {@code deploy/mini-hadoop --ha}: two ResourceManagers (each in a JVM of its own, see {@link
 * ResourceManagerMain}) with automatic failover off, sharing a FileSystemRMStateStore, and an HDFS
 * nameservice of two NameNodes (MiniDFSCluster's HA topology, shared edits in a directory). Failover
 * is manual, as an operator does it: the active daemon is stopped and the other transitioned to
 * active ({@code yarn rmadmin -transitionToActive}, for HDFS MiniDFSCluster's transitionToActive,
 * which is what {@code hdfs haadmin} calls); the stopped one then comes back as standby.
 */
final class HaCluster {
  static final String NAMESERVICE = "ns1";
  static final String[] RM_IDS = {"rm1", "rm2"};
  static final String[] NN_IDS = {"nn1", "nn2"};
  /** The plain RM address keys; with HA each gets a per-id twin (key.rm1, key.rm2). */
  static final String[][] RM_PORTS = {
    {"yarn.resourcemanager.address", "8032"},
    {"yarn.resourcemanager.scheduler.address", "8030"},
    {"yarn.resourcemanager.resource-tracker.address", "8031"},
    {"yarn.resourcemanager.admin.address", "8033"},
    {"yarn.resourcemanager.webapp.address", "8088"},
  };

  final Main.Options o;
  final Configuration conf = new Configuration();
  final File daemonConf;
  final File log;
  final List<Process> nodeManagers = new ArrayList<>();
  final Process[] rms = new Process[2];
  final String[] rmWeb = new String[2];
  MiniDFSCluster dfs;
  int activeRm = 0;
  int activeNn = 0;

  HaCluster(Main.Options o) {
    this.o = o;
    this.daemonConf = new File(new File(o.workDir, "yarn"), "daemon-site.xml");
    this.log = new File(new File(o.workDir, "logs"), "mini-hadoop.log");
  }

  /** Well-known port for the first daemon of a pair, that plus 10000 for the second. */
  int port(int index, int wellKnown) {
    return Main.port(o, wellKnown + index * 10000);
  }

  void run(long t0) throws Exception {
    if (o.secure) {
      throw new IllegalArgumentException("mini-hadoop: --ha and --secure cannot be combined yet");
    }
    Main.applySettings(conf, o);
    String host = MiniYARNCluster.getHostname();

    // --- HDFS nameservice: ports fixed up front so every daemon's configuration is complete ---
    int[] nnRpc = {port(0, 8020), port(1, 8020)};
    int[] nnHttp = {port(0, 9870), port(1, 9870)};
    conf.set("dfs.nameservices", NAMESERVICE);
    conf.set("dfs.ha.namenodes." + NAMESERVICE, String.join(",", NN_IDS));
    for (int i = 0; i < 2; i++) {
      String suffix = NAMESERVICE + "." + NN_IDS[i];
      conf.set("dfs.namenode.rpc-address." + suffix, "127.0.0.1:" + nnRpc[i]);
      conf.set("dfs.namenode.http-address." + suffix, "127.0.0.1:" + nnHttp[i]);
    }
    conf.set(
        "dfs.client.failover.proxy.provider." + NAMESERVICE,
        "org.apache.hadoop.hdfs.server.namenode.ha.ConfiguredFailoverProxyProvider");
    // The standby reads the shared edits every second (default 60 s), so a failover finds it
    // nearly caught up.
    conf.set("dfs.ha.tail-edits.period", "1s");
    String fsUri = "hdfs://" + NAMESERVICE;
    conf.set("fs.defaultFS", fsUri);

    // --- ResourceManager pair ---
    for (String[] k : RM_PORTS) {
      conf.unset(k[0]);
    }
    conf.unset("yarn.resourcemanager.hostname");
    conf.setBoolean("yarn.resourcemanager.ha.enabled", true);
    conf.set("yarn.resourcemanager.ha.rm-ids", String.join(",", RM_IDS));
    conf.set("yarn.resourcemanager.cluster-id", "mini-hadoop");
    // Manual failover, as `yarn rmadmin -transitionToActive` does: no ZooKeeper, no elector.
    conf.setBoolean("yarn.resourcemanager.ha.automatic-failover.enabled", false);
    conf.setBoolean("yarn.resourcemanager.ha.automatic-failover.embedded", false);
    for (int i = 0; i < 2; i++) {
      conf.set("yarn.resourcemanager.hostname." + RM_IDS[i], host);
      for (String[] k : RM_PORTS) {
        conf.set(k[0] + "." + RM_IDS[i], host + ":" + port(i, Integer.parseInt(k[1])));
      }
      rmWeb[i] = "http://" + conf.get("yarn.resourcemanager.webapp.address." + RM_IDS[i]);
    }
    // Both RMs keep applications in one FileSystemRMStateStore (a local directory both JVMs
    // see); the new active recovers them, work-preserving.
    conf.setBoolean("yarn.resourcemanager.recovery.enabled", true);
    conf.set(
        "yarn.resourcemanager.store.class",
        "org.apache.hadoop.yarn.server.resourcemanager.recovery.FileSystemRMStateStore");
    conf.set(
        "yarn.resourcemanager.fs.state-store.uri",
        new File(o.workDir, "rm-state").toURI().toString());
    conf.setBoolean("yarn.resourcemanager.work-preserving-recovery.enabled", true);
    conf.setLong("yarn.resourcemanager.work-preserving-recovery.scheduling-wait-ms", 2000);
    // Clients (NodeManagers, AMs, users) try the next RM after 100 ms..1 s, not after
    // yarn.resourcemanager.connect.retry-interval.ms (their default base).
    conf.setLong("yarn.client.failover-sleep-base-ms", 100);
    conf.setLong("yarn.client.failover-sleep-max-ms", 1000);

    File yarnDir = daemonConf.getParentFile();
    Files.createDirectories(yarnDir.toPath());
    try (OutputStream os = new FileOutputStream(daemonConf)) {
      conf.writeXml(os);
    }
    // The NodeManagers' container localizers (JVMs of their own) resolve hdfs://ns1 with the
    // settings found on their class path.
    File siteDir = new File(yarnDir, "nm-site");
    Files.createDirectories(siteDir.toPath());
    for (String name : List.of("core-site.xml", "hdfs-site.xml")) {
      Files.copy(
          daemonConf.toPath(),
          new File(siteDir, name).toPath(),
          java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
    for (int i = 0; i < o.nodeManagers; i++) {
      nodeManagers.add(
          NodeManagerMain.spawn(daemonConf, yarnDir, i, log, o.workDir, null, siteDir, null));
    }
    for (int i = 0; i < 2; i++) {
      rms[i] = ResourceManagerMain.spawn(daemonConf, RM_IDS[i], log, o.workDir);
    }
    Runtime.getRuntime().addShutdownHook(new Thread(this::stopAll, "mini-hadoop-shutdown"));

    MiniDFSNNTopology.NSConf ns = new MiniDFSNNTopology.NSConf(NAMESERVICE);
    for (int i = 0; i < 2; i++) {
      ns.addNN(new MiniDFSNNTopology.NNConf(NN_IDS[i]).setIpcPort(nnRpc[i]).setHttpPort(nnHttp[i]));
    }
    dfs =
        new MiniDFSCluster.Builder(conf, new File(o.workDir, "dfs"))
            .nnTopology(new MiniDFSNNTopology().addNameservice(ns))
            .numDataNodes(o.dataNodes)
            .format(true)
            .manageNameDfsDirs(true)
            .manageDataDfsDirs(true)
            .build();
    dfs.waitActive();
    dfs.transitionToActive(0);
    System.err.println("mini-hadoop: NameNode nn1 active, nn2 standby");

    transitionRm(0, 180);
    waitForNodeManagers();
    Main.writeClientConfig(conf, conf, fsUri, o);
    watchControl();

    System.err.printf(
        "mini-hadoop: HA cluster up in %.1f s (JVM start excluded)%n", (System.nanoTime() - t0) / 1e9);
    System.out.println("READY rm=" + rmWeb[activeRm] + " fs=" + fsUri);
    System.out.flush();
    Thread.currentThread().join();
  }

  void stopAll() {
    System.err.println("mini-hadoop: stopping NodeManagers (they kill their containers)");
    destroyAll(nodeManagers);
    System.err.println("mini-hadoop: stopping the ResourceManagers");
    List<Process> live = new ArrayList<>();
    for (Process p : rms) {
      if (p != null) {
        live.add(p);
      }
    }
    destroyAll(live);
    System.err.println("mini-hadoop: stopping HDFS");
    try {
      if (dfs != null) {
        dfs.shutdown();
      }
    } catch (Throwable t) {
      System.err.println("mini-hadoop: HDFS stop failed: " + t);
    }
    System.err.println("mini-hadoop: stopped");
  }

  static void destroyAll(List<Process> jvms) {
    for (Process p : jvms) {
      p.destroy();
    }
    for (Process p : jvms) {
      try {
        if (!p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
          p.destroyForcibly().waitFor();
        }
      } catch (InterruptedException e) {
        p.destroyForcibly();
      }
    }
  }

  /**
   * {@code yarn rmadmin -transitionToActive --forceactive <id>} (forced: the other RM may be dead,
   * and the check that it is not active would wait on it), retried while that RM is starting.
   */
  void transitionRm(int index, int timeoutSecs) throws Exception {
    long deadline = System.nanoTime() + timeoutSecs * 1_000_000_000L;
    String[] args = {"-transitionToActive", "--forceactive", RM_IDS[index]};
    while (true) {
      if (!rms[index].isAlive()) {
        throw new IllegalStateException(
            "mini-hadoop: ResourceManager " + RM_IDS[index] + " exited (see the log)");
      }
      RMAdminCLI cli =
          new RMAdminCLI() {
            {
              // stdout carries only the READY line.
              out = System.err;
            }
          };
      int rc;
      try {
        rc = ToolRunner.run(new YarnConfiguration(conf), cli, args);
      } catch (Exception e) {
        rc = -1;
      }
      if (rc == 0 && "ACTIVE".equals(haState(index))) {
        activeRm = index;
        System.err.println("mini-hadoop: ResourceManager " + RM_IDS[index] + " active");
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "mini-hadoop: ResourceManager " + RM_IDS[index] + " not active within " + timeoutSecs + " s");
      }
      Thread.sleep(500);
    }
  }

  /** The RM's {@code haState} from its REST cluster info (served by a standby too), or null. */
  String haState(int index) {
    try {
      HttpURLConnection c =
          (HttpURLConnection) new URL(rmWeb[index] + "/ws/v1/cluster/info").openConnection();
      c.setRequestProperty("Accept", "application/json");
      c.setConnectTimeout(2000);
      c.setReadTimeout(5000);
      c.setInstanceFollowRedirects(false);
      if (c.getResponseCode() != 200) {
        return null;
      }
      try (InputStream in = c.getInputStream()) {
        String body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        java.util.regex.Matcher m =
            java.util.regex.Pattern.compile("\"haState\"\\s*:\\s*\"(\\w+)\"").matcher(body);
        return m.find() ? m.group(1) : null;
      }
    } catch (IOException e) {
      return null;
    }
  }

  /** Waits until the active RM counts every NodeManager as running (at most 180 s). */
  void waitForNodeManagers() throws Exception {
    long deadline = System.nanoTime() + 180_000_000_000L;
    try (YarnClient yc = YarnClient.createYarnClient()) {
      yc.init(new YarnConfiguration(conf));
      yc.start();
      while (true) {
        int n = yc.getYarnClusterMetrics().getNumNodeManagers();
        if (n >= o.nodeManagers) {
          return;
        }
        for (Process p : nodeManagers) {
          if (!p.isAlive()) {
            throw new IllegalStateException(
                "mini-hadoop: a NodeManager JVM exited with status " + p.exitValue() + " (see the log)");
          }
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              "mini-hadoop: " + n + " of " + o.nodeManagers + " NodeManagers registered within 180 s");
        }
        Thread.sleep(100);
      }
    }
  }

  /**
   * Serves {@code <work-dir>/control/failover-rm} and {@code failover-nn} (deploy/mini-hadoop
   * turns the stdin lines of those names into them). failover-rm kills the active RM's JVM
   * (SIGKILL), makes the other active and, once the NodeManagers count again, writes {@code
   * control/rm-failovers} ({@code <count> active=<id> ms=<kill to active> killed-at=<epoch ms>});
   * then starts the killed
   * one again as standby, ready for the next failover. failover-nn stops the active NameNode,
   * makes the other active, writes {@code control/nn-failovers} alike, and restarts the stopped
   * one as standby.
   */
  void watchControl() throws IOException {
    File dir = new File(o.workDir, "control");
    Files.createDirectories(dir.toPath());
    for (String f : List.of("failover-rm", "failover-nn", "rm-failovers", "nn-failovers")) {
      Files.deleteIfExists(new File(dir, f).toPath());
    }
    Thread t =
        new Thread(
            () -> {
              int rmFailovers = 0;
              int nnFailovers = 0;
              while (true) {
                try {
                  Thread.sleep(200);
                  if (Files.deleteIfExists(new File(dir, "failover-rm").toPath())) {
                    rmFailovers++;
                    failoverRm(dir, rmFailovers);
                  }
                  if (Files.deleteIfExists(new File(dir, "failover-nn").toPath())) {
                    nnFailovers++;
                    failoverNn(dir, nnFailovers);
                  }
                } catch (InterruptedException e) {
                  return;
                } catch (Throwable e) {
                  System.err.println("mini-hadoop: failover failed: " + e);
                  e.printStackTrace();
                  System.exit(1);
                }
              }
            },
            "mini-hadoop-control");
    t.setDaemon(true);
    t.start();
  }

  void failoverRm(File dir, int count) throws Exception {
    int old = activeRm;
    int next = 1 - old;
    // The standby must be up (it may still be starting after the previous failover).
    waitForState(next, "STANDBY", 180);
    long t0 = System.nanoTime();
    long killedAt = System.currentTimeMillis();
    System.err.println("mini-hadoop: killing the active ResourceManager " + RM_IDS[old]);
    rms[old].destroyForcibly().waitFor();
    transitionRm(next, 60);
    long ms = (System.nanoTime() - t0) / 1_000_000;
    waitForNodeManagers();
    System.err.printf(
        "mini-hadoop: RM failover %d: %s active %d ms after the kill%n", count, RM_IDS[next], ms);
    Main.writeAtomically(
        new File(dir, "rm-failovers"),
        count + " active=" + RM_IDS[next] + " ms=" + ms + " killed-at=" + killedAt + "\n");
    rms[old] = ResourceManagerMain.spawn(daemonConf, RM_IDS[old], log, o.workDir);
  }

  void waitForState(int index, String state, int timeoutSecs) throws Exception {
    long deadline = System.nanoTime() + timeoutSecs * 1_000_000_000L;
    while (!state.equals(haState(index))) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "mini-hadoop: ResourceManager " + RM_IDS[index] + " not " + state + " within " + timeoutSecs + " s");
      }
      Thread.sleep(200);
    }
  }

  void failoverNn(File dir, int count) throws Exception {
    int old = activeNn;
    int next = 1 - old;
    long t0 = System.nanoTime();
    long stoppedAt = System.currentTimeMillis();
    System.err.println("mini-hadoop: stopping the active NameNode " + NN_IDS[old]);
    dfs.shutdownNameNode(old);
    dfs.transitionToActive(next);
    activeNn = next;
    long ms = (System.nanoTime() - t0) / 1_000_000;
    System.err.printf(
        "mini-hadoop: NameNode failover %d: %s active %d ms after the stop%n", count, NN_IDS[next], ms);
    Main.writeAtomically(
        new File(dir, "nn-failovers"),
        count + " active=" + NN_IDS[next] + " ms=" + ms + " killed-at=" + stoppedAt + "\n");
    // Back as standby (HA NameNodes start in standby), tailing the shared edits.
    dfs.restartNameNode(old, false);
  }
}
