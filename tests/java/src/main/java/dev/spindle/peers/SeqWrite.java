package dev.spindle.peers;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.io.BytesWritable;
import org.apache.hadoop.io.SequenceFile;
import org.apache.hadoop.io.SequenceFile.CompressionType;
import org.apache.hadoop.io.Text;
import org.apache.hadoop.io.Writable;
import org.apache.hadoop.io.compress.CompressionCodec;
import org.apache.hadoop.io.compress.CompressionCodecFactory;

/**
 * Writes SequenceFiles with Hadoop's own SequenceFile.Writer into DIR: for Text keys and values
 * (text-*.seq) and BytesWritable ones (bytes-*.seq), uncompressed, and record- and
 * block-compressed with each codec Hadoop has in pure Java (DefaultCodec, GzipCodec, BZip2Codec,
 * SnappyCodec, Lz4Codec; ZStandardCodec needs libhadoop). Blocks
 * of 20 kB, so a file holds several. N records each: key "key-I", value "value I" and I % 50
 * x's (as UTF-8 bytes for BytesWritable). Usage: SeqWrite DIR N. Prints file=PATH per file.
 */
public final class SeqWrite {
  public static void main(String[] args) throws Exception {
    Configuration conf = new Configuration();
    conf.setInt("io.seqfile.compress.blocksize", 20000);
    Path dir = new Path(args[0]);
    int n = Integer.parseInt(args[1]);
    CompressionCodecFactory factory = new CompressionCodecFactory(conf);
    String[] codecs = {"DefaultCodec", "GzipCodec", "BZip2Codec", "SnappyCodec", "Lz4Codec"};
    for (String kind : new String[] {"text", "bytes"}) {
      Class<? extends Writable> type = kind.equals("text") ? Text.class : BytesWritable.class;
      write(conf, new Path(dir, kind + "-none.seq"), type, CompressionType.NONE, null, n);
      for (CompressionType ct : new CompressionType[] {CompressionType.RECORD, CompressionType.BLOCK}) {
        for (String c : codecs) {
          CompressionCodec codec = factory.getCodecByClassName("org.apache.hadoop.io.compress." + c);
          Path p = new Path(dir, kind + "-" + ct.name().toLowerCase() + "-" + c + ".seq");
          write(conf, p, type, ct, codec, n);
        }
      }
    }
  }

  static void write(Configuration conf, Path p, Class<? extends Writable> type, CompressionType ct,
      CompressionCodec codec, int n) throws Exception {
    SequenceFile.Writer.Option compression = codec == null
        ? SequenceFile.Writer.compression(ct)
        : SequenceFile.Writer.compression(ct, codec);
    try (SequenceFile.Writer w = SequenceFile.createWriter(conf, SequenceFile.Writer.file(p),
        SequenceFile.Writer.keyClass(type), SequenceFile.Writer.valueClass(type), compression)) {
      for (int i = 0; i < n; i++) {
        String k = "key-" + i;
        String v = "value " + i + " " + "x".repeat(i % 50);
        if (type == Text.class) {
          w.append(new Text(k), new Text(v));
        } else {
          w.append(new BytesWritable(k.getBytes("UTF-8")), new BytesWritable(v.getBytes("UTF-8")));
        }
      }
    }
    System.out.println("file=" + p);
  }
}
