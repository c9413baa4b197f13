package org.apache.hadoop.io;

import java.io.File;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.LinkOption;

import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.permission.FsPermission;

/**
 * The secure mini-Hadoop's stand-in for Hadoop's class of this name, first on the class path of
 * {@code deploy/mini-hadoop --secure} only (deploy/build compiles it apart from the launcher).
 *
 * <p>Hadoop's version checks who owns a file it opens (container logs, for log aggregation and
 * the NodeManager's log pages) through its native library, libhadoop, whenever Kerberos is on, and
 * fails without it; Maven Central has no libhadoop. This one makes the same owner check through
 * Java's file attributes instead, and keeps the same public API.
 */
public class SecureIOUtils {

  /** Thrown by {@link #createForWrite} when the file already exists. */
  public static class AlreadyExistsException extends IOException {
    private static final long serialVersionUID = 1L;

    public AlreadyExistsException(String msg) {
      super(msg);
    }

    public AlreadyExistsException(Throwable cause) {
      super(cause);
    }
  }

  public static RandomAccessFile openForRandomRead(
      File f, String mode, String expectedOwner, String expectedGroup) throws IOException {
    RandomAccessFile raf = new RandomAccessFile(f, mode);
    return checked(f, expectedOwner, raf);
  }

  protected static RandomAccessFile forceSecureOpenForRandomRead(
      File f, String mode, String expectedOwner, String expectedGroup) throws IOException {
    return openForRandomRead(f, mode, expectedOwner, expectedGroup);
  }

  public static FSDataInputStream openFSDataInputStream(
      File file, String expectedOwner, String expectedGroup) throws IOException {
    FileSystem local = FileSystem.getLocal(new org.apache.hadoop.conf.Configuration()).getRaw();
    FSDataInputStream in = local.open(new Path(file.getAbsolutePath()));
    return checked(file, expectedOwner, in);
  }

  protected static FSDataInputStream forceSecureOpenFSDataInputStream(
      File file, String expectedOwner, String expectedGroup) throws IOException {
    return openFSDataInputStream(file, expectedOwner, expectedGroup);
  }

  public static FileInputStream openForRead(File f, String expectedOwner, String expectedGroup)
      throws IOException {
    return checked(f, expectedOwner, new FileInputStream(f));
  }

  protected static FileInputStream forceSecureOpenForRead(
      File f, String expectedOwner, String expectedGroup) throws IOException {
    return openForRead(f, expectedOwner, expectedGroup);
  }

  /** Creates {@code f} with {@code permissions}, refusing to open a file that already exists. */
  public static FileOutputStream createForWrite(File f, int permissions) throws IOException {
    if (!f.createNewFile()) {
      throw new AlreadyExistsException("File " + f + " already exists");
    }
    FileOutputStream out = new FileOutputStream(f);
    try {
      FileSystem.getLocal(new org.apache.hadoop.conf.Configuration())
          .setPermission(new Path(f.getAbsolutePath()), new FsPermission((short) permissions));
      return out;
    } catch (IOException | RuntimeException e) {
      out.close();
      throw e;
    }
  }

  /**
   * Returns {@code stream} if {@code f} belongs to {@code expectedOwner} (or no owner is
   * expected); closes it and fails otherwise.
   */
  private static <T extends java.io.Closeable> T checked(File f, String expectedOwner, T stream)
      throws IOException {
    try {
      if (expectedOwner != null) {
        String owner = Files.getOwner(f.toPath(), LinkOption.NOFOLLOW_LINKS).getName();
        if (!owner.equals(expectedOwner)) {
          throw new IOException(
              "Owner '" + owner + "' for path " + f + " did not match expected owner '"
                  + expectedOwner + "'");
        }
      }
      return stream;
    } catch (IOException | RuntimeException e) {
      stream.close();
      throw e;
    }
  }
}
