package dev.spindle.peers;

import java.nio.charset.StandardCharsets;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Writes a small text file through Hadoop's FileSystem, reads it back and compares.
 * Usage: FsRoundTrip PATH. Prints "roundtrip ok bytes=N fs=URI"; exits 1 on a mismatch.
 */
public final class FsRoundTrip {
  public static void main(String[] args) throws Exception {
    Path path = new Path(args[0]);
    Configuration conf = new Configuration();
    byte[] data =
        // A fixed-width stamp: the size (55000 bytes) does not depend on the clock's digits.
        String.format("written by Hadoop's FileSystem at %020d%n", System.nanoTime()).repeat(1000)
            .getBytes(StandardCharsets.UTF_8);
    try (FileSystem fs = FileSystem.get(conf)) {
      try (FSDataOutputStream out = fs.create(path, true)) {
        out.write(data);
      }
      byte[] back = new byte[data.length];
      try (FSDataInputStream in = fs.open(path)) {
        in.readFully(back);
        if (in.read() != -1) {
          System.err.println("file is longer than what was written");
          System.exit(1);
        }
      }
      if (!java.util.Arrays.equals(data, back)) {
        System.err.println("read back different bytes");
        System.exit(1);
      }
      fs.delete(path, false);
      System.out.println("roundtrip ok bytes=" + data.length + " fs=" + fs.getUri());
    }
  }
}
