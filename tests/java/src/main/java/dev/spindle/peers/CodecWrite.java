package dev.spindle.peers;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Paths;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.io.compress.CompressionCodec;
import org.apache.hadoop.io.compress.CompressionCodecFactory;
import org.apache.hadoop.util.NativeCodeLoader;

/**
 * Writes a local text file into DIR compressed by each of Hadoop's own codecs, pure Java (no
 * libhadoop): lines.gz, lines.bz2, lines.snappy, lines.lz4, lines.deflate, and concat.gz (two
 * gzip members, each half of the text, back to back). The first half of the text goes in
 * line-sized writes, the rest in one write (larger than a snappy/lz4 block: several chunks in
 * one block). Also writes _SUCCESS and .hidden.gz (not gzip), which readers must skip.
 * Usage: CodecWrite LOCAL-FILE DIR. Prints file=PATH codec=CLASS per file, and native=BOOL.
 */
public final class CodecWrite {
  static final String[] CODECS = {
    "org.apache.hadoop.io.compress.GzipCodec",
    "org.apache.hadoop.io.compress.BZip2Codec",
    "org.apache.hadoop.io.compress.SnappyCodec",
    "org.apache.hadoop.io.compress.Lz4Codec",
    "org.apache.hadoop.io.compress.DefaultCodec",
  };

  public static void main(String[] args) throws Exception {
    byte[] text = Files.readAllBytes(Paths.get(args[0]));
    int half = text.length / 2;
    while (half < text.length && text[half - 1] != '\n') {
      half++;
    }
    Configuration conf = new Configuration();
    Path dir = new Path(args[1]);
    CompressionCodecFactory factory = new CompressionCodecFactory(conf);
    try (FileSystem fs = FileSystem.get(dir.toUri(), conf)) {
      fs.mkdirs(dir);
      for (String name : CODECS) {
        CompressionCodec codec = factory.getCodecByClassName(name);
        Path p = new Path(dir, "lines" + codec.getDefaultExtension());
        try (OutputStream out = codec.createOutputStream(fs.create(p, true))) {
          int start = 0;
          for (int i = 0; i < half; i++) {
            if (text[i] == '\n') {
              out.write(text, start, i + 1 - start);
              start = i + 1;
            }
          }
          out.write(text, half, text.length - half);
        }
        System.out.println("file=" + p + " codec=" + codec.getClass().getName());
      }
      CompressionCodec gzip = factory.getCodecByClassName(CODECS[0]);
      Path concat = new Path(dir, "concat.gz");
      try (OutputStream raw = fs.create(concat, true)) {
        for (int[] r : new int[][] {{0, half}, {half, text.length}}) {
          OutputStream member = gzip.createOutputStream(new NonClosing(raw));
          member.write(text, r[0], r[1] - r[0]);
          member.close();
        }
      }
      System.out.println("file=" + concat + " codec=" + gzip.getClass().getName());
      fs.create(new Path(dir, "_SUCCESS"), true).close();
      try (OutputStream out = fs.create(new Path(dir, ".hidden.gz"), true)) {
        out.write("not gzip\n".getBytes("UTF-8"));
      }
    }
    System.out.println("native=" + NativeCodeLoader.isNativeCodeLoaded());
  }

  /** Lets each gzip member finish without closing the file under it. */
  static final class NonClosing extends java.io.FilterOutputStream {
    NonClosing(OutputStream out) {
      super(out);
    }

    @Override
    public void write(byte[] b, int off, int len) throws java.io.IOException {
      out.write(b, off, len);
    }

    @Override
    public void close() throws java.io.IOException {
      out.flush();
    }
  }
}
