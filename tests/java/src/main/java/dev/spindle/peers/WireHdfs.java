package dev.spindle.peers;

import java.io.InputStream;
import java.security.MessageDigest;
import java.security.PrivilegedExceptionAction;
import java.util.HexFormat;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.BlockLocation;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FsServerDefaults;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.permission.FsPermission;
import org.apache.hadoop.security.UserGroupInformation;
import org.apache.hadoop.security.token.Token;

/**
 * What Hadoop's own HDFS client (FileSystem over ClientNamenodeProtocol) reports, for comparison
 * with Spindle's NameNode client. Subcommands, each printing key=value lines:
 * <ul>
 *   <li>{@code blocks PATH}: "block offset=.. length=.. hosts=h1,h2 names=ip:port,.." per block
 *       of getFileBlockLocations(status, 0, length), then count=N</li>
 *   <li>{@code stat PATH}: length, owner, group, permission (octal), replication, blockSize</li>
 *   <li>{@code defaults}: the server defaults of the root path</li>
 *   <li>{@code chmod PATH OCTAL}</li>
 *   <li>{@code read-as USER TOKEN PATH}: reads PATH as remote user USER holding TOKEN (its
 *       url-safe string form, or "-" for none); prints bytes= and sha256=, or error=CLASS: MSG
 *       and exits 3</li>
 * </ul>
 */
public final class WireHdfs {
  public static void main(String[] args) throws Exception {
    Configuration conf = new Configuration();
    switch (args[0]) {
      case "blocks" -> {
        try (FileSystem fs = FileSystem.newInstance(conf)) {
          FileStatus st = fs.getFileStatus(new Path(args[1]));
          BlockLocation[] blocks = fs.getFileBlockLocations(st, 0, st.getLen());
          for (BlockLocation b : blocks) {
            System.out.printf(
                "block offset=%d length=%d hosts=%s names=%s%n",
                b.getOffset(), b.getLength(), String.join(",", b.getHosts()),
                String.join(",", b.getNames()));
          }
          System.out.println("count=" + blocks.length);
        }
      }
      case "stat" -> {
        try (FileSystem fs = FileSystem.newInstance(conf)) {
          FileStatus st = fs.getFileStatus(new Path(args[1]));
          System.out.println("length=" + st.getLen());
          System.out.println("owner=" + st.getOwner());
          System.out.println("group=" + st.getGroup());
          System.out.println("permission=" + Integer.toOctalString(st.getPermission().toShort()));
          System.out.println("replication=" + st.getReplication());
          System.out.println("blockSize=" + st.getBlockSize());
          System.out.println("modificationTime=" + st.getModificationTime());
        }
      }
      case "defaults" -> {
        try (FileSystem fs = FileSystem.newInstance(conf)) {
          FsServerDefaults d = fs.getServerDefaults(new Path("/"));
          System.out.println("blockSize=" + d.getBlockSize());
          System.out.println("bytesPerChecksum=" + d.getBytesPerChecksum());
          System.out.println("writePacketSize=" + d.getWritePacketSize());
          System.out.println("replication=" + d.getReplication());
          System.out.println("fileBufferSize=" + d.getFileBufferSize());
          System.out.println("encryptDataTransfer=" + d.getEncryptDataTransfer());
          System.out.println("trashInterval=" + d.getTrashInterval());
        }
      }
      case "chmod" -> {
        try (FileSystem fs = FileSystem.newInstance(conf)) {
          fs.setPermission(new Path(args[1]), new FsPermission(Short.parseShort(args[2], 8)));
        }
      }
      case "read-as" -> {
        UserGroupInformation ugi = UserGroupInformation.createRemoteUser(args[1]);
        if (!args[2].equals("-")) {
          Token<?> token = new Token<>();
          token.decodeFromUrlString(args[2]);
          ugi.addToken(token);
        }
        Path path = new Path(args[3]);
        try {
          String out = ugi.doAs((PrivilegedExceptionAction<String>) () -> {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            long n = 0;
            try (FileSystem fs = FileSystem.newInstance(conf); InputStream in = fs.open(path)) {
              byte[] buf = new byte[1 << 16];
              int r;
              while ((r = in.read(buf)) > 0) {
                sha.update(buf, 0, r);
                n += r;
              }
            }
            return "bytes=" + n + "\nsha256=" + HexFormat.of().formatHex(sha.digest());
          });
          System.out.println(out);
        } catch (Exception e) {
          Throwable t = e;
          while (t.getCause() != null && t.getMessage() == null) {
            t = t.getCause();
          }
          String msg = String.valueOf(t.getMessage()).lines().findFirst().orElse("");
          System.out.println("error=" + t.getClass().getName() + ": " + msg);
          System.exit(3);
        }
      }
      default -> throw new IllegalArgumentException("unknown subcommand " + args[0]);
    }
  }
}
