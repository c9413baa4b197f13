package dev.spindle.peers;

import java.security.MessageDigest;
import java.util.HexFormat;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Reads an HDFS file with Hadoop's FileSystem and describes it.
 * Usage: FsDigest PATH. Prints "sha256=HEX length=N blocksize=N blocks=N replication=N".
 */
public final class FsDigest {
  public static void main(String[] args) throws Exception {
    Path path = new Path(args[0]);
    try (FileSystem fs = FileSystem.get(new Configuration())) {
      FileStatus st = fs.getFileStatus(path);
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      long total = 0;
      byte[] buf = new byte[1 << 20];
      try (FSDataInputStream in = fs.open(path)) {
        int n;
        while ((n = in.read(buf)) > 0) {
          sha.update(buf, 0, n);
          total += n;
        }
      }
      int blocks = fs.getFileBlockLocations(st, 0, st.getLen()).length;
      System.out.printf(
          "sha256=%s length=%d blocksize=%d blocks=%d replication=%d%n",
          HexFormat.of().formatHex(sha.digest()), total, st.getBlockSize(), blocks, st.getReplication());
    }
  }
}
