"""Celery, for real: a worker on ``docs/recipes/celery_app.py`` with a Redis broker and backend.

The fixture starts ``redis-server`` on a free port of 127.0.0.1 (``python3 tasks.py integration``
installs it). The worker runs the prefork pool (2 child processes) or the threads pool (4
threads); the test waits for it to answer a ping, sends 32 uploads then 32 downloads by task
name, and checks every body. The pool calls are observed inside the worker processes: a session
and an S3 client per worker thread that ran a task, one credential resolution (one AssumeRole at
moto's server) per worker process. The worker is stopped with SIGTERM (a warm shutdown) and must
exit 0.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid

import pytest

from tests.integration import _support
from tests.integration.conftest import FrameworkEnv
from tests.support.servers import MotoServer
from tests.support.waits import wait_until

celery = pytest.importorskip("celery")

TASKS = 32


@pytest.mark.parametrize(
    ("pool_name", "concurrency", "forks_seen"),
    [pytest.param("prefork", 2, 1, id="prefork"), pytest.param("threads", 4, 0, id="threads")],
)
def test_worker_gets_a_session_per_worker_thread(
    pool_name: str,
    concurrency: int,
    forks_seen: int,
    framework_env: FrameworkEnv,
    moto: MotoServer,
    redis_url: str,
) -> None:
    broker, backend = f"{redis_url}/0", f"{redis_url}/1"
    name = f"it-{uuid.uuid4().hex[:8]}@127.0.0.1"
    log = framework_env.dir / "celery.log"
    cmd = [
        sys.executable, "-m", "celery", "-A", "celery_app", "worker", "--pool", pool_name,
        "--concurrency", str(concurrency), "--hostname", name, "--loglevel", "INFO",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
    env = {**framework_env.vars, "CELERY_BROKER_URL": broker, "CELERY_RESULT_BACKEND": backend}
    before = moto.log.count("AssumeRole")
    client = celery.Celery("it-client", broker=broker, backend=backend)
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            cmd, env=env, cwd=_support.RECIPES, stdin=subprocess.DEVNULL, stdout=out, stderr=out
        )
    try:
        wait_until(
            lambda: proc.poll() is not None or client.control.ping([name], timeout=1.0),
            timeout=120,
            what="the celery worker to answer a ping",
        )
        assert proc.poll() is None, f"celery exited early:\n{log.read_text()[-3000:]}"
        bucket = framework_env.bucket
        keys = [f"celery/{pool_name}/{i:03d}" for i in range(TASKS)]
        uploads = [client.send_task("celery_app.upload", (bucket, k, f"text {k}")) for k in keys]
        assert [r.get(timeout=120) for r in uploads] == keys
        downloads = [client.send_task("celery_app.download", (bucket, k)) for k in keys]
        assert [r.get(timeout=120) for r in downloads] == [f"text {k}" for k in keys]
    finally:
        code = _support.stop(proc, signal.SIGTERM)
        client.close()
    assert code == 0, f"celery exited with {code}:\n{log.read_text()[-3000:]}"

    workers = _support.observed_workers(framework_env.dir)
    _support.assert_a_session_per_thread(workers, test_pid=os.getpid())
    assert all(w.stats["forks_seen"] == forks_seen for w in workers.values())
    if pool_name == "threads":
        assert set(workers) == {proc.pid}  # the worker process itself ran every task
    else:
        assert proc.pid not in workers and len(workers) <= concurrency
        assert all(len(w.threads) == 1 for w in workers.values())
    assert moto.log.count("AssumeRole") - before == len(workers)
