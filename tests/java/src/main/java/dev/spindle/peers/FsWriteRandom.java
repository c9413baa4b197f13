package dev.spindle.peers;

import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.SplittableRandom;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Writes pseudo-random bytes to HDFS with Hadoop's FileSystem and a chosen block size.
 * Usage: FsWriteRandom PATH LENGTH BLOCKSIZE SEED. Prints "sha256=HEX length=N".
 */
public final class FsWriteRandom {
  public static void main(String[] args) throws Exception {
    Path path = new Path(args[0]);
    long length = Long.parseLong(args[1]);
    long blockSize = Long.parseLong(args[2]);
    SplittableRandom rnd = new SplittableRandom(Long.parseLong(args[3]));
    Configuration conf = new Configuration();
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    try (FileSystem fs = FileSystem.get(conf)) {
      short replication = fs.getDefaultReplication(path);
      byte[] buf = new byte[1 << 20];
      try (FSDataOutputStream out = fs.create(path, true, 1 << 16, replication, blockSize)) {
        long left = length;
        while (left > 0) {
          int n = (int) Math.min(buf.length, left);
          rnd.nextBytes(buf);
          out.write(buf, 0, n);
          sha.update(buf, 0, n);
          left -= n;
        }
      }
      System.out.printf("sha256=%s length=%d%n", HexFormat.of().formatHex(sha.digest()), length);
    }
  }
}
