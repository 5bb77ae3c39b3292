"""The pool inside Dask distributed workers: a LocalCluster of 2 processes x 4 threads.

Tasks receive the pool as an argument (it pickles as its configuration; every task that carries
it into a worker process finds the same pool there), write and read S3 objects on the moto
server, and report which process, thread and session served them.
"""

from __future__ import annotations

import os
import threading
from collections import defaultdict
from typing import Any

import pytest

from sessionpool import SessionPool
from tests.support.tags import tag

distributed = pytest.importorskip("distributed")


def put_and_get(pool: SessionPool, bucket: str, i: int) -> dict[str, Any]:
    body = f"object {i} from {os.getpid()}".encode()
    key = f"dask/{i}"
    s3 = pool.client("s3")
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    read = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    return {
        "pid": os.getpid(),
        "thread": threading.get_ident(),
        "session": tag(pool.get_session()),
        "ok": read == body,
    }


def pool_stats(pool: SessionPool) -> dict[str, int]:
    return pool.stats()


@pytest.fixture
def cluster(aws_env: Any) -> Any:
    # Workers are new processes; they inherit this test's isolated AWS environment.
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=4,
            processes=True,
            host="127.0.0.1",
            dashboard_address=":0",
            silence_logs=40,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def test_dask_workers_share_one_pool_per_process_with_a_session_per_thread(
    cluster: Any, pool: SessionPool, bucket: str
) -> None:
    futures = cluster.map(put_and_get, [pool] * 64, [bucket] * 64, range(64), pure=False)
    results = cluster.gather(futures)

    assert all(r["ok"] for r in results)
    pids = {r["pid"] for r in results}
    assert os.getpid() not in pids
    sessions_by_thread: dict[tuple[int, int], set[str]] = defaultdict(set)
    for r in results:
        sessions_by_thread[(r["pid"], r["thread"])].add(r["session"])
    # Each worker thread used one session, and no two threads of a process shared one.
    assert all(len(s) == 1 for s in sessions_by_thread.values())
    for pid in pids:
        tags = [next(iter(s)) for (p, _), s in sessions_by_thread.items() if p == pid]
        assert len(tags) == len(set(tags))

    stats = cluster.run(pool_stats, pool)  # worker address -> that process's pool stats
    assert len(stats) == 2
    threads_by_pid: dict[int, int] = defaultdict(int)
    for p, _ in sessions_by_thread:
        threads_by_pid[p] += 1
    seen = sorted(threads_by_pid.values())
    for worker_stats in stats.values():
        # One credential resolution per key per worker process, however many tasks ran there
        # (none in a worker the scheduler happened to give no task).
        expected = 1 if worker_stats["sessions_created"] else 0
        assert worker_stats["credential_resolutions"] == expected
    # Every session a worker created belongs to a distinct thread that used it.
    assert sorted(s["sessions_created"] for s in stats.values() if s["sessions_created"]) == seen
    # Nothing leaked into S3: every object is there once.
    listed = pool.client("s3").list_objects_v2(Bucket=bucket, Prefix="dask/")
    assert listed["KeyCount"] == 64
