"""Long-lived workers keep a bounded number of received pools (HAZARDS W1).

A worker process that is handed a new pool per job (loky, Ray, Spark with worker reuse, an
executor) used to keep every pool it unpickled, with its sessions, clients and sockets. Now it
keeps the most recently received few (``SESSIONPOOL_RECEIVED_POOLS``, default 8); one pushed out
is freed as soon as no task holds it, and its clients are closed with it. Tasks carrying the
same pool still share one pool per worker. A bad ``SESSIONPOOL_RECEIVED_POOLS`` fails every
unpickle, naming the variable, and keeps nothing.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
import weakref
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import botocore.client
import pytest

import sessionpool
from sessionpool import InvalidArgumentError, SessionPool, _received

pytestmark = pytest.mark.filterwarnings(
    "ignore:This process .* is multi-threaded:DeprecationWarning"
)


def live(kind: type) -> int:
    # type() and not isinstance(): a weak proxy to a dead object raises on isinstance.
    return sum(1 for o in gc.get_objects() if issubclass(type(o), kind))


@pytest.fixture
def fresh_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_received, "_received", type(_received._received)())
    monkeypatch.setattr(_received, "_limit", None)
    monkeypatch.delenv("SESSIONPOOL_RECEIVED_POOLS", raising=False)


def received_pool(i: int) -> SessionPool:
    """A pool as a worker receives it: unpickled, its maker gone from this process."""
    data = pickle.dumps(SessionPool(region=["us-east-1", "eu-west-1"][i % 2]))
    return pickle.loads(data)  # noqa: S301 - our own pickle


def test_a_process_handed_100_pools_keeps_8_and_closes_the_others_clients(
    aws_env: Any, fresh_registry: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed = [0]
    original = botocore.client.BaseClient.close

    def close(self: Any) -> None:
        closed[0] += 1
        original(self)

    monkeypatch.setattr(botocore.client.BaseClient, "close", close)
    made: list[weakref.ref[SessionPool]] = []
    gc.disable()  # freed by reference counting as they are pushed out, not by a collection
    try:
        for i in range(100):
            pool = received_pool(i)
            made.append(weakref.ref(pool))
            pool.client("s3").list_buckets()
            del pool  # the job ends
        alive = sum(1 for ref in made if ref() is not None)
    finally:
        gc.enable()
    assert _received.received_count() == 8
    assert closed[0] == 92
    # Only this test's own pools are counted: other tests in this worker may leave pools behind.
    assert alive == 8


def test_a_pool_handed_out_again_stays_the_same_pool(aws_env: Any, fresh_registry: None) -> None:
    data = pickle.dumps(SessionPool(region="eu-west-1"))
    first = pickle.loads(data)  # noqa: S301
    first_id_client = first.client("s3")
    for i in range(20):  # other pools come and go, but this one keeps being used
        received_pool(i).client("sqs")
        again = pickle.loads(data)  # noqa: S301
        assert again is first
        assert again.client("s3") is first_id_client


def test_a_pool_pushed_out_while_a_task_still_uses_it_keeps_working(
    aws_env: Any, fresh_registry: None
) -> None:
    sessionpool.set_received_limit(2)
    held = received_pool(0)
    s3 = held.client("s3")
    for i in range(1, 10):
        received_pool(i)
    assert not held.closed
    assert held.client("s3") is s3
    s3.list_buckets()


# -- the limit -------------------------------------------------------------------------------------


def test_the_limit_comes_from_the_environment(
    aws_env: Any, fresh_registry: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SESSIONPOOL_RECEIVED_POOLS", "3")
    for i in range(10):
        received_pool(i)
    assert _received.received_count() == 3


@pytest.mark.parametrize("bad", [0, -1, "many", 2.5, True])
def test_bad_limits_are_refused(fresh_registry: None, bad: Any) -> None:
    with pytest.raises(InvalidArgumentError, match="positive whole number"):
        sessionpool.set_received_limit(bad)


@pytest.mark.parametrize("value", ["garbage", "0", "-3", "2.5", ""])
def test_a_bad_received_pools_variable_fails_every_unpickle_and_keeps_nothing(
    aws_env: Any, fresh_registry: None, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("SESSIONPOOL_RECEIVED_POOLS", value)
    sent = []
    for _ in range(20):
        maker = SessionPool()
        sent.append(pickle.dumps(maker))
        maker.close()  # as in a worker: the pool that was pickled is not here
    for data in sent + sent:  # each twice: the second unpickle of a pool fails too
        with pytest.raises(InvalidArgumentError) as caught:
            pickle.loads(data)  # noqa: S301 - our own pickle
        message = str(caught.value)
        assert "SESSIONPOOL_RECEIVED_POOLS" in message
        assert repr(value) in message
        assert "positive whole number" in message
    assert _received.received_count() == 0


# -- a spawned worker ------------------------------------------------------------------------------


def job(pool: SessionPool, env: dict[str, str]) -> dict[str, int]:
    os.environ.update(env)
    pool.client("s3").list_buckets()
    gc.collect()
    return {
        "received": _received.received_count(),
        "pools": live(SessionPool),
        "clients": live(botocore.client.BaseClient),
        "pid": os.getpid(),
    }


def test_a_spawn_worker_handed_100_distinct_pools_stays_bounded(aws_env: Any) -> None:
    env = {k: v for k, v in os.environ.items() if k.startswith("AWS_")}
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=ctx) as executor:
        results = [
            executor.submit(job, SessionPool(region="us-east-1"), env).result(timeout=120)
            for _ in range(100)
        ]
    assert len({r["pid"] for r in results}) == 1  # one long-lived worker
    last = results[-1]
    assert last["received"] == 8, last
    assert last["pools"] <= 8, last
    assert last["clients"] <= 8, last  # one s3 client per live pool, no more
