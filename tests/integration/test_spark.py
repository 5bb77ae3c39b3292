"""PySpark in local mode, for real: ``docs/recipes/spark_job.py`` on ``local[2]`` with Python
worker reuse on.

The JVM is started by this test (its environment, so its Python workers', is the test's
framework environment) and stopped at the end. Two jobs of 8 partitions each write and read back
48 objects; the Python workers' pool calls are observed from inside them: every worker process
found one pool (the same one for every task it ran, however many closures carried it), made one
session and one S3 client, and resolved credentials once (one AssumeRole at moto's server per
worker process).
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from sessionpool import SessionPool
from tests.integration import _support
from tests.integration.conftest import FrameworkEnv
from tests.support.servers import MotoServer

pytest.importorskip("pyspark")

pytestmark = [
    # pyspark's own imports and py4j's
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::PendingDeprecationWarning"),
]


@pytest.fixture
def spark(framework_env: FrameworkEnv, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from pyspark.core.context import SparkContext

    assert SparkContext._gateway is None, "a JVM from an earlier test would keep its environment"
    # py4j logs every command at DEBUG (the suite runs with DEBUG logging): not useful here.
    py4j_log = logging.getLogger("py4j")
    monkeypatch.setattr(py4j_log, "level", logging.INFO)
    monkeypatch.setenv("PYSPARK_PYTHON", sys.executable)
    monkeypatch.setenv("PYSPARK_DRIVER_PYTHON", sys.executable)
    monkeypatch.setenv("SPARK_LOCAL_IP", "127.0.0.1")
    monkeypatch.setenv(
        "PYSPARK_SUBMIT_ARGS",
        "--conf spark.ui.enabled=false --conf spark.driver.host=127.0.0.1"
        " --conf spark.driver.bindAddress=127.0.0.1 pyspark-shell",
    )
    spark_job = importlib.import_module("spark_job")
    session = spark_job.spark_session()
    gateway = SparkContext._gateway
    try:
        yield session
    finally:
        session.stop()
        # The JVM outlives stop(); it exits when its stdin closes.
        gateway.shutdown()
        gateway.proc.stdin.close()
        code = gateway.proc.wait(timeout=120)
        SparkContext._gateway = None
        SparkContext._jvm = None
    assert code == 0, f"the Spark JVM exited with {code}"


def test_python_workers_keep_one_pool_and_one_session(
    spark: Any, framework_env: FrameworkEnv, moto: MotoServer
) -> None:
    import spark_job

    conf = spark.sparkContext.getConf()
    assert conf.get("spark.master") == "local[2]"
    assert conf.get("spark.python.worker.reuse") == "true"
    before = moto.log.count("AssumeRole")
    pool = SessionPool()
    for run in range(2):
        items = [(f"spark/{run}/{i:03d}", f"spark text {run} {i}") for i in range(24)]
        assert spark_job.upload_all(spark, pool, framework_env.bucket, items) == dict(items)

    workers = _support.observed_workers(framework_env.dir)
    _support.assert_a_session_per_thread(workers, test_pid=os.getpid())
    assert all(len(w.threads) == 1 for w in workers.values())
    assert sum(w.calls for w in workers.values()) == 16  # one pool.client per partition
    assert moto.log.count("AssumeRole") - before == len(workers)
