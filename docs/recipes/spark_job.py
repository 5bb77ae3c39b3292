"""PySpark: hand the pool to ``mapPartitions``; each Python worker keeps one pool.

    spark-submit spark_job.py my-bucket

The pool travels inside every task's closure as its configuration. With Python worker reuse (the
default, spelled out below) a worker process runs task after task, and every task that carries the
pool finds the same pool there: one session and one credential resolution per worker process,
however many partitions it handles.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator

from pyspark.sql import SparkSession

from sessionpool import SessionPool


def upload_partition(
    pool: SessionPool, bucket: str, rows: Iterable[tuple[str, str]]
) -> Iterator[tuple[str, str]]:
    """Store each (key, text) row, and yield (key, text read back)."""
    s3 = pool.client("s3")
    for key, text in rows:
        s3.put_object(Bucket=bucket, Key=key, Body=text.encode())
        yield key, s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()


def upload_all(
    spark: SparkSession, pool: SessionPool, bucket: str, items: list[tuple[str, str]]
) -> dict[str, str]:
    """Store every (key, text) item from Spark's workers; return what they read back."""
    rdd = spark.sparkContext.parallelize(items, numSlices=8)
    return dict(rdd.mapPartitions(lambda rows: upload_partition(pool, bucket, rows)).collect())


def spark_session() -> SparkSession:
    return (
        SparkSession.builder.master("local[2]")
        .appName("sessionpool-recipe")
        .config("spark.python.worker.reuse", "true")
        .getOrCreate()
    )


if __name__ == "__main__":
    spark = spark_session()
    items = [(f"reports/{i}.txt", f"report {i}") for i in range(100)]
    print(len(upload_all(spark, SessionPool(), sys.argv[1], items)), "objects written")
    spark.stop()
