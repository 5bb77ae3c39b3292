"""Ray, for real: ``docs/recipes/ray_job.py`` on a local Ray started with ``num_cpus=2``.

Ray's processes are started by this test with its framework environment, on 127.0.0.1, without
the dashboard or usage reporting, in a temporary directory of the test's own; ``ray.shutdown()``
stops them. 24 tasks and an actor's 12 calls write and read back distinct objects; the workers'
pool calls are observed from inside them: each worker process (task workers and the actor's)
found one pool, made one session and one S3 client, and resolved credentials once (one
AssumeRole per worker process at moto's server).
"""

from __future__ import annotations

import importlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest

from sessionpool import SessionPool
from tests.integration import _support
from tests.integration.conftest import FrameworkEnv
from tests.support.servers import MotoServer

pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning")]

ray = pytest.importorskip("ray")


@pytest.fixture
def local_ray(framework_env: FrameworkEnv, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")  # no token written under ~/.ray
    # Short: Ray's unix sockets live under it, and their paths are limited to ~107 bytes.
    temp_dir = tempfile.mkdtemp(prefix="it-ray-", dir="/tmp")
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        _node_ip_address="127.0.0.1",
        _temp_dir=temp_dir,
        log_to_driver=False,
        configure_logging=False,
    )
    try:
        yield ray
    finally:
        ray.shutdown()
        shutil.rmtree(temp_dir, ignore_errors=True)


def test_tasks_and_an_actor_keep_one_pool_per_worker_process(
    local_ray: Any, framework_env: FrameworkEnv, moto: MotoServer
) -> None:
    ray_job = importlib.import_module("ray_job")
    before = moto.log.count("AssumeRole")
    pool = SessionPool()
    bucket = framework_env.bucket
    tasks = [(f"ray/task/{i:03d}", f"ray task {i}") for i in range(24)]
    assert ray_job.upload_all(pool, bucket, tasks) == dict(tasks)
    actor = [(f"ray/actor/{i:03d}", f"ray actor {i}") for i in range(12)]
    assert ray_job.archive_all(pool, bucket, actor) == dict(actor)

    workers = _support.observed_workers(framework_env.dir)
    _support.assert_a_session_per_thread(workers, test_pid=os.getpid())
    assert sum(w.calls for w in workers.values()) == 24 + 12
    assert moto.log.count("AssumeRole") - before == len(workers)
