"""The benchmark jobs with Apache Spark's DataFrame API (local mode).

Usage: spark_jobs.py MASTER JOB INPUT... OUTPUT
Prints "job_seconds=S" (the job alone, after the session has started).
"""
import sys
import time

from pyspark.sql import SparkSession
from pyspark.sql import functions as F


def main():
    master, job, *paths = sys.argv[1:]
    spark = (
        SparkSession.builder.master(master)
        .appName("spindle-bench-" + job)
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.memory", "4g")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    start = time.time()
    if job == "wordcount":
        inp, out = paths
        words = spark.read.text(inp).select(F.explode(F.split(F.col("value"), r"\s+")).alias("w"))
        words.where(F.col("w") != "").groupBy("w").count().write.csv(out, sep="\t")
    elif job == "groupsum":
        inp, out = paths
        df = spark.read.csv(inp, sep=" ", schema="k LONG, v LONG")
        df.groupBy("k").agg(F.sum("v")).write.csv(out, sep=" ")
    elif job == "sort":
        inp, out = paths
        df = spark.read.csv(inp, sep=" ", schema="k LONG, v LONG")
        df.orderBy("k").write.csv(out, sep=" ")
    elif job == "join":
        left, right, out = paths
        a = spark.read.csv(left, sep=" ", schema="k LONG, v LONG")
        b = spark.read.csv(right, sep=" ", schema="k LONG, w LONG")
        a.join(b, "k").write.csv(out, sep=" ")
    else:
        raise SystemExit("unknown job " + job)
    print("job_seconds=%.3f" % (time.time() - start), flush=True)
    spark.stop()


if __name__ == "__main__":
    main()
