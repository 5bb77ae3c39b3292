"""Executor churn: a thread's clients are closed when it ends, so descriptors and memory stay flat
over rounds of executors (HAZARDS R2, R3).

Ten ``ThreadPoolExecutor``s of 8 workers each, one after the other, each used for real S3 calls
through one pool (two keys per worker) and shut down. When a worker thread ends, the pool's
finalizer on its slot closes that thread's clients, so after every shutdown the process holds
exactly the descriptors it held before, and memory does not grow from round to round.

The server runs in a process of its own (``MotoProcess`` in ``tests/support/servers.py``), so
the descriptors and memory measured here are the pool's alone.
"""

from __future__ import annotations

import gc
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from sessionpool import SessionPool
from tests.support.logs import quiet_botocore
from tests.support.probes import fd_count, rss_bytes
from tests.support.servers import MotoProcess
from tests.support.tags import install_close_log, tag

ROUNDS = 10
WORKERS = 8
KEYS = ({}, {"profile": "prod"})  # two sessions, so two clients, per worker
BARRIER_TIMEOUT = 60.0


@pytest.fixture
def churn_pool(
    aws_env: Any, own_server: MotoProcess, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[SessionPool, str]]:
    monkeypatch.setenv("AWS_ENDPOINT_URL", own_server.url)
    pool = SessionPool()
    bucket = f"churn-{uuid.uuid4().hex[:20]}"
    pool.client("s3").create_bucket(Bucket=bucket)
    with quiet_botocore():  # 160 requests a round: see quiet_botocore
        yield pool, bucket
    pool.close()


def run_round(pool: SessionPool, bucket: str, round_no: int) -> list[str]:
    """One executor of WORKERS threads (all started together), each putting and reading back an
    object under every key; shut down on leaving the block. Returns the tags of the clients used
    (tags, not clients: holding the clients would keep them alive past their thread; tags, not
    ids: a freed client's id goes to the next object made)."""
    barrier = threading.Barrier(WORKERS)

    def task(i: int) -> list[str]:
        barrier.wait(BARRIER_TIMEOUT)  # one task per worker: the executor starts all 8 threads
        used = []
        for key_args in KEYS:
            s3 = pool.client("s3", **key_args)
            key = f"round-{round_no}/worker-{i}/{key_args.get('profile', 'default')}"
            body = f"{key} {uuid.uuid4().hex}".encode()
            s3.put_object(Bucket=bucket, Key=key, Body=body)
            assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == body
            used.append(tag(s3))
        return used

    with ThreadPoolExecutor(max_workers=WORKERS) as executor:
        results = list(executor.map(task, range(WORKERS)))
    return [name for tags in results for name in tags]


def test_descriptors_return_to_baseline_after_every_executor_shutdown(
    churn_pool: tuple[SessionPool, str],
) -> None:
    # With the cyclic garbage collector off: connections must be closed by the pool's finalizer
    # when each thread ends, not by a collection that happens to run (a dropped client is
    # cyclic garbage, and its sockets would stay open until then).
    pool, bucket = churn_pool
    run_round(pool, bucket, 0)  # warm-up: models, credentials, the main thread's own client
    gc.collect()
    gc.disable()
    try:
        baseline = fd_count()
        after = []
        for round_no in range(1, ROUNDS + 1):
            run_round(pool, bucket, round_no)
            after.append(fd_count())
    finally:
        gc.enable()
    assert after == [baseline] * ROUNDS


def test_every_ended_workers_clients_are_closed_exactly_once_per_round(
    churn_pool: tuple[SessionPool, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pool, bucket = churn_pool
    close_log = install_close_log(monkeypatch)
    for round_no in range(ROUNDS):
        close_log.reset()
        used = run_round(pool, bucket, round_no)
        assert len(set(used)) == WORKERS * len(KEYS)  # every worker had its own clients
        assert sorted(close_log.tags()) == sorted(used)  # each closed once, nothing else closed
    s = pool.stats()
    assert s["threads"] == 1  # only the main thread (it created the bucket) still has a slot
    assert s["sessions_created"] == 1 + ROUNDS * WORKERS * len(KEYS)


def test_memory_stays_flat_across_executor_rounds(churn_pool: tuple[SessionPool, str]) -> None:
    # A behaviour bound, not a timing one: after the first round has loaded models and warmed
    # caches, nine more rounds of 8 new threads x 2 new sessions must not keep adding memory.
    # gc.collect() before each reading: a closed client has reference cycles that only the
    # cyclic collector frees, and a leak is what stays *after* it ran.
    pool, bucket = churn_pool
    readings = []
    for round_no in range(ROUNDS):
        run_round(pool, bucket, round_no)
        gc.collect()
        readings.append(rss_bytes())
    growth = max(readings[1:]) - readings[0]
    assert growth < 4 * 1024 * 1024, [r // 1024 for r in readings]
