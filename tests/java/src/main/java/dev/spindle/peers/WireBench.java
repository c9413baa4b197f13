package dev.spindle.peers;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.yarn.client.api.YarnClient;
import org.apache.hadoop.yarn.conf.YarnConfiguration;

/**
 * RPC round trips per second of Hadoop's own Java clients, the baseline of
 * bench/rpc-roundtrips.sh: YarnClient.getYarnClusterMetrics (ApplicationClientProtocol
 * getClusterMetrics) and FileSystem.getFileStatus (ClientProtocol getFileInfo), with 1 and 16
 * calls in flight (threads sharing one client, as Hadoop multiplexes them on one connection).
 * Usage: WireBench CALLS PATH. Prints "name calls=N secs=S rate=R" lines like the Rust side.
 */
public final class WireBench {
  interface Call {
    void run() throws Exception;
  }

  static void measure(String name, int calls, int parallel, Call call) throws Exception {
    for (int i = 0; i < calls / 10; i++) {
      call.run();
    }
    ExecutorService pool = Executors.newFixedThreadPool(parallel);
    int per = calls / parallel;
    long t0 = System.nanoTime();
    List<Future<Void>> futures = new ArrayList<>();
    for (int p = 0; p < parallel; p++) {
      Callable<Void> task = () -> {
        for (int i = 0; i < per; i++) {
          call.run();
        }
        return null;
      };
      futures.add(pool.submit(task));
    }
    for (Future<Void> f : futures) {
      f.get();
    }
    double secs = (System.nanoTime() - t0) / 1e9;
    pool.shutdown();
    int done = per * parallel;
    System.out.printf("%s calls=%d secs=%.3f rate=%.0f%n", name, done, secs, done / secs);
  }

  public static void main(String[] args) throws Exception {
    int calls = Integer.parseInt(args[0]);
    Path path = new Path(args[1]);
    Configuration conf = new Configuration();
    try (YarnClient yarn = YarnClient.createYarnClient(); FileSystem fs = FileSystem.newInstance(conf)) {
      yarn.init(new YarnConfiguration(conf));
      yarn.start();
      for (int parallel : new int[] {1, 16}) {
        measure("rm.getClusterMetrics.inflight" + parallel, calls, parallel, yarn::getYarnClusterMetrics);
        measure("nn.getFileInfo.inflight" + parallel, calls, parallel, () -> fs.getFileStatus(path));
      }
    }
  }
}
