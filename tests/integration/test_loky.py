"""joblib with the loky backend, for real: ``docs/recipes/loky_job.py`` on 2 loky workers.

Two ``Parallel`` calls reuse loky's workers; the workers' pool calls are observed from inside
them: every worker process found one pool for all the tasks it ran, made one session and one
S3 client, and resolved credentials once (one AssumeRole per worker at moto's server). The
workers are shut down at the end, so none outlives the test.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator

import pytest

from sessionpool import SessionPool
from tests.integration import _support
from tests.integration.conftest import FrameworkEnv
from tests.support.servers import MotoServer

pytest.importorskip("joblib")


@pytest.fixture
def loky_workers(framework_env: FrameworkEnv) -> Iterator[None]:
    from joblib.externals.loky import get_reusable_executor

    # Workers from an earlier test would carry that test's environment: start afresh.
    get_reusable_executor().shutdown(wait=True, kill_workers=True)
    try:
        yield
    finally:
        get_reusable_executor().shutdown(wait=True, kill_workers=True)


def test_loky_workers_keep_one_pool_and_one_session(
    loky_workers: None, framework_env: FrameworkEnv, moto: MotoServer
) -> None:
    loky_job = importlib.import_module("loky_job")
    before = moto.log.count("AssumeRole")
    pool = SessionPool()
    for run in range(2):
        items = [(f"loky/{run}/{i:03d}", f"loky text {run} {i}") for i in range(24)]
        assert loky_job.upload_all(pool, framework_env.bucket, items, n_jobs=2) == dict(items)

    workers = _support.observed_workers(framework_env.dir)
    _support.assert_a_session_per_thread(workers, test_pid=os.getpid())
    assert len(workers) <= 2
    assert sum(w.calls for w in workers.values()) == 48
    assert moto.log.count("AssumeRole") - before == len(workers)
