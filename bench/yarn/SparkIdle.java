import java.util.Arrays;

import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

/** The Spark side of bench/yarn/run.sh's idle measurement: one small job on the executors, then
 * SECONDS with nothing to do while the executors' memory is sampled. */
public final class SparkIdle {
  public static void main(String[] args) throws InterruptedException {
    SparkSession spark = SparkSession.builder().appName("idle").getOrCreate();
    JavaSparkContext sc = new JavaSparkContext(spark.sparkContext());
    long n = sc.parallelize(Arrays.asList(1, 2, 3, 4, 5, 6, 7, 8), 2).count();
    System.out.println("idle: counted " + n);
    Thread.sleep(Long.parseLong(args[0]) * 1000L);
    spark.stop();
  }
}
