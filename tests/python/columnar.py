"""Peers of the columnar tests (tests/tests/yarn_columnar.rs): files written and read by
pyarrow, Python's json module and Spark, never by Spindle's own code.

Record i is the one spindle-testjobs' `event(i)` makes: id i, name "name i" (n,"i" for every
seventh: CSV quoting), score i/2 or null for every third. `payload` (Parquet only) is a column
the job's record type does not have: a projection skips it.

  columnar.py write DIR N [PAYLOAD] -> DIR/parquet (4 row groups), DIR/csv, DIR/json
  columnar.py read DIR N            -> checks DIR/parquet, DIR/csv, DIR/json (Spindle's part files)
  columnar.py spark-write DIR N     -> DIR, a Parquet directory written by Spark (local mode)
  columnar.py spark-read DIR N      -> checks DIR/parquet with Spark (local mode)
"""

import json
import os
import random
import sys


def name(i):
    return f'n,"{i}"' if i % 7 == 0 else f"name {i}"


def score(i):
    return None if i % 3 == 0 else i * 0.5


def rows(n):
    return [(i, name(i), score(i)) for i in range(n)]


def fail(what, got, want):
    for k, (g, w) in enumerate(zip(got, want)):
        if g != w:
            sys.exit(f"{what}: row {k}: got {g!r}, want {w!r} ({len(got)} rows, {len(want)} wanted)")
    sys.exit(f"{what}: {len(got)} rows, {len(want)} wanted")


def check(what, got, n):
    got = sorted(got)
    want = rows(n)
    if got != want:
        fail(what, got, want)
    print(f"ok {what} {len(got)}")


def part_files(d, ext):
    names = sorted(os.listdir(d))
    if "_SUCCESS" not in names:
        sys.exit(f"{d}: no _SUCCESS")
    parts = [os.path.join(d, f) for f in names if f.startswith("part-")]
    if not parts or not all(p.endswith(ext) for p in parts):
        sys.exit(f"{d}: part files {names}")
    return parts


def write(d, n, payload):
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    rng = random.Random(7)
    ids = list(range(n))
    table = pa.table(
        {
            "id": pa.array(ids, pa.int64()),
            "payload": pa.array(["".join(rng.choice("0123456789abcdef") for _ in range(payload)) for _ in ids]),
            "name": pa.array([name(i) for i in ids]),
            "score": pa.array([score(i) for i in ids], pa.float64()),
        }
    )
    for sub in ("parquet", "csv", "json"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    pq.write_table(table, os.path.join(d, "parquet", "events.parquet"), row_group_size=(n + 3) // 4)
    meta = pq.ParquetFile(os.path.join(d, "parquet", "events.parquet")).metadata
    print(f"row_groups={meta.num_row_groups}")
    pcsv.write_csv(table.drop_columns(["payload"]), os.path.join(d, "csv", "events.csv"))
    with open(os.path.join(d, "json", "events.jsonl"), "w") as f:
        for i, nm, s in rows(n):
            f.write(json.dumps({"name": nm, "id": i, "score": s, "other": [1, 2]}) + "\n")


def read(d, n):
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.json as pjson
    import pyarrow.parquet as pq

    part_files(os.path.join(d, "parquet"), ".parquet")
    t = pq.read_table(os.path.join(d, "parquet"))
    print("parquet schema: " + ", ".join(f"{f.name}:{f.type}" for f in t.schema))
    check("parquet", list(zip(t["id"].to_pylist(), t["name"].to_pylist(), t["score"].to_pylist())), n)

    got = []
    for p in part_files(os.path.join(d, "csv"), ".csv"):
        opts = pcsv.ConvertOptions(column_types={"id": pa.int64(), "name": pa.string(), "score": pa.float64()})
        t = pcsv.read_csv(p, convert_options=opts)
        if t.column_names != ["id", "name", "score"]:
            sys.exit(f"{p}: columns {t.column_names}")
        got += zip(t["id"].to_pylist(), t["name"].to_pylist(), t["score"].to_pylist())
    check("csv", got, n)

    got = []
    for p in part_files(os.path.join(d, "json"), ".json"):
        if os.path.getsize(p) == 0:
            continue
        schema = pa.schema([("id", pa.int64()), ("name", pa.string()), ("score", pa.float64())])
        t = pjson.read_json(p, parse_options=pjson.ParseOptions(explicit_schema=schema))
        got += zip(t["id"].to_pylist(), t["name"].to_pylist(), t["score"].to_pylist())
    check("json", got, n)


def spark():
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master("local[1]")
        .appName("spindle-columnar-peer")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )


def spark_write(d, n):
    s = spark()
    df = s.createDataFrame(rows(n), "id long, name string, score double")
    df.repartition(3).write.parquet(d)
    print("spark wrote")


def spark_read(d, n):
    s = spark()
    df = s.read.parquet(os.path.join(d, "parquet"))
    print("spark schema: " + df.schema.simpleString())
    check("spark parquet", [(r["id"], r["name"], r["score"]) for r in df.collect()], n)


if __name__ == "__main__":
    cmd, d, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if cmd == "write":
        write(d, n, int(sys.argv[4]) if len(sys.argv) > 4 else 8)
    elif cmd == "read":
        read(d, n)
    elif cmd == "spark-write":
        spark_write(d, n)
    elif cmd == "spark-read":
        spark_read(d, n)
    else:
        sys.exit(f"unknown command {cmd}")
