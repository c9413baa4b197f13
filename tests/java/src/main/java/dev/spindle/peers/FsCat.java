package dev.spindle.peers;

import java.io.InputStream;
import java.util.Arrays;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Prints the data files of a job's output directory with Hadoop's FileSystem: every file whose
 * name does not start with "_" or "." (part files), in name order, to stdout. Usage: FsCat DIR.
 * Exits 2 when DIR has no _SUCCESS marker (an uncommitted output).
 */
public final class FsCat {
  public static void main(String[] args) throws Exception {
    Path dir = new Path(args[0]);
    try (FileSystem fs = FileSystem.get(dir.toUri(), new Configuration())) {
      FileStatus[] all = fs.listStatus(dir);
      Arrays.sort(all);
      boolean success = false;
      byte[] buf = new byte[1 << 16];
      for (FileStatus st : all) {
        String name = st.getPath().getName();
        if (name.equals("_SUCCESS")) {
          success = true;
        }
        if (st.isDirectory() || name.startsWith("_") || name.startsWith(".")) {
          continue;
        }
        try (InputStream in = fs.open(st.getPath())) {
          int n;
          while ((n = in.read(buf)) > 0) {
            System.out.write(buf, 0, n);
          }
        }
      }
      System.out.flush();
      if (!success) {
        System.err.println("no _SUCCESS in " + dir);
        System.exit(2);
      }
    }
  }
}
