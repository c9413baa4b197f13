import java.util.Arrays;

import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

import scala.Tuple2;

/** The Spark side of bench/yarn/run.sh: word count of IN into OUT (word TAB count lines). */
public final class SparkWordCount {
  public static void main(String[] args) {
    SparkSession spark = SparkSession.builder().appName("wordcount").getOrCreate();
    JavaSparkContext sc = new JavaSparkContext(spark.sparkContext());
    JavaPairRDD<String, Long> counts = sc.textFile(args[0])
        .flatMap(line -> Arrays.stream(line.split("\\s+")).filter(w -> !w.isEmpty()).iterator())
        .mapToPair(w -> new Tuple2<>(w, 1L))
        .reduceByKey(Long::sum);
    counts.map(t -> t._1() + "\t" + t._2()).saveAsTextFile(args[1]);
    spark.stop();
  }
}
