"""``multiprocessing.Pool(maxtasksperchild=4)``, for real: ``docs/recipes/multiprocessing_pool.py``.

The recipe hands the pool to each worker in the initializer, from 2 spawned processes that
are each replaced after 4 tasks: 16 tasks need at least 4 worker processes. Each of them, as
observed from inside, got one pool, made one session and one S3 client, and resolved
credentials once (one AssumeRole per worker process at moto's server).
"""

from __future__ import annotations

import importlib
import os

from sessionpool import SessionPool
from tests.integration import _support
from tests.integration.conftest import FrameworkEnv
from tests.support.servers import MotoServer


def test_each_replaced_worker_resolves_credentials_once(
    framework_env: FrameworkEnv, moto: MotoServer
) -> None:
    recipe = importlib.import_module("multiprocessing_pool")
    before = moto.log.count("AssumeRole")
    pool = SessionPool()
    items = [(f"mp/{i:03d}", f"mp text {i}") for i in range(16)]
    assert recipe.upload_all(pool, framework_env.bucket, items) == dict(items)

    workers = _support.observed_workers(framework_env.dir)
    _support.assert_a_session_per_thread(workers, test_pid=os.getpid())
    assert len(workers) >= 4  # maxtasksperchild=4: 16 tasks, at most 4 per process
    assert all(w.calls <= 4 for w in workers.values())
    assert sum(w.calls for w in workers.values()) == 16
    assert moto.log.count("AssumeRole") - before == len(workers)
