package dev.spindle.peers;

import java.io.BufferedOutputStream;
import java.io.PrintStream;
import java.util.List;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.io.LongWritable;
import org.apache.hadoop.io.Text;
import org.apache.hadoop.io.compress.CompressionCodec;
import org.apache.hadoop.io.compress.CompressionCodecFactory;
import org.apache.hadoop.mapreduce.InputSplit;
import org.apache.hadoop.mapreduce.Job;
import org.apache.hadoop.mapreduce.RecordReader;
import org.apache.hadoop.mapreduce.TaskAttemptContext;
import org.apache.hadoop.mapreduce.TaskAttemptID;
import org.apache.hadoop.mapreduce.lib.input.FileInputFormat;
import org.apache.hadoop.mapreduce.lib.input.FileSplit;
import org.apache.hadoop.mapreduce.lib.input.TextInputFormat;
import org.apache.hadoop.mapreduce.task.TaskAttemptContextImpl;

/**
 * Reads INPUT (a path, directory, glob or comma-separated list, as a MapReduce job's input) the
 * way a Hadoop job does: TextInputFormat's splits, each read by its LineRecordReader (which
 * picks the codec by extension through CompressionCodecFactory). Prints every line on stdout;
 * on stderr, split=PATH:START+LEN codec=CLASS per split. Usage: CodecRead INPUT.
 */
public final class CodecRead {
  public static void main(String[] args) throws Exception {
    Configuration conf = new Configuration();
    Job job = Job.getInstance(conf);
    FileInputFormat.setInputPaths(job, args[0]);
    TextInputFormat format = new TextInputFormat();
    CompressionCodecFactory factory = new CompressionCodecFactory(conf);
    List<InputSplit> splits = format.getSplits(job);
    PrintStream out = new PrintStream(new BufferedOutputStream(System.out, 1 << 16), false, "UTF-8");
    for (InputSplit s : splits) {
      FileSplit fs = (FileSplit) s;
      Path p = fs.getPath();
      CompressionCodec codec = factory.getCodec(p);
      System.err.println("split=" + p + ":" + fs.getStart() + "+" + fs.getLength() + " codec="
          + (codec == null ? "none" : codec.getClass().getName()));
      TaskAttemptContext ctx = new TaskAttemptContextImpl(job.getConfiguration(), new TaskAttemptID());
      try (RecordReader<LongWritable, Text> reader = format.createRecordReader(s, ctx)) {
        reader.initialize(s, ctx);
        while (reader.nextKeyValue()) {
          out.println(reader.getCurrentValue().toString());
        }
      }
    }
    out.flush();
  }
}
