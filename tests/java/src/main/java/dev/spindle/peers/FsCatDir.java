package dev.spindle.peers;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Lists a job's output directory with Hadoop's FileSystem and prints it.
 * Usage: FsCatDir DIR. Prints "file NAME" for every entry (sorted), then every line of the
 * part-* files prefixed with "line ", or "missing" when DIR does not exist.
 */
public final class FsCatDir {
  public static void main(String[] args) throws Exception {
    Path dir = new Path(args[0]);
    try (FileSystem fs = FileSystem.get(dir.toUri(), new Configuration())) {
      if (!fs.exists(dir)) {
        System.out.println("missing");
        return;
      }
      FileStatus[] entries = fs.listStatus(dir);
      Arrays.sort(entries, (a, b) -> a.getPath().getName().compareTo(b.getPath().getName()));
      for (FileStatus st : entries) {
        System.out.println("file " + st.getPath().getName());
      }
      for (FileStatus st : entries) {
        if (!st.getPath().getName().startsWith("part-")) {
          continue;
        }
        try (BufferedReader r = new BufferedReader(
            new InputStreamReader(fs.open(st.getPath()), StandardCharsets.UTF_8))) {
          String line;
          while ((line = r.readLine()) != null) {
            System.out.println("line " + line);
          }
        }
      }
    }
  }
}
