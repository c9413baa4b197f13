package dev.spindle.peers;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

/**
 * Hadoop's own {@link Configuration} reading XML files: {@code <file>... -- <key>...} loads the
 * files in order (no defaults) and prints {@code key=<value>} with {@code get()} (expanded), or
 * {@code key=<null>} when unset, or {@code key=<error: message>} when Hadoop refuses the value.
 */
public final class ConfPeer {
  public static void main(String[] args) {
    Configuration conf = new Configuration(false);
    int i = 0;
    for (; i < args.length && !args[i].equals("--"); i++) {
      conf.addResource(new Path("file://" + args[i]));
    }
    for (i++; i < args.length; i++) {
      String v;
      try {
        String got = conf.get(args[i]);
        v = got == null ? "<null>" : got;
      } catch (RuntimeException e) {
        v = "<error: " + e.getMessage() + ">";
      }
      System.out.println(args[i] + "=" + v);
    }
  }
}
