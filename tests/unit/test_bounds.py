"""Bounds: ``max_keys`` (least recently used first) and ``idle_timeout`` (issue 4; HAZARDS R1, R4).

Time is a fake clock passed as ``clock=``; nothing here waits for real time. Eviction must close
the evicted clients, leave a call in progress in another thread unharmed, and hand out a fresh
client afterwards, never a closed one.
"""

from __future__ import annotations

import os
import threading
import uuid
from typing import Any

import pytest

from sessionpool import SessionPool
from tests.support.tags import CloseLog, install_close_log

JOIN_TIMEOUT = 60.0


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def close_log(monkeypatch: pytest.MonkeyPatch) -> CloseLog:
    return install_close_log(monkeypatch)


@pytest.fixture
def bounded(aws_env: Any, clock: FakeClock) -> Any:
    pools: list[SessionPool] = []

    def make(**kwargs: Any) -> SessionPool:
        pool = SessionPool(clock=clock, **kwargs)
        pools.append(pool)
        return pool

    yield make
    for pool in pools:
        pool.close()


def make_bucket(pool: SessionPool, **key_args: Any) -> str:
    name = f"bounds-{uuid.uuid4().hex[:20]}"
    pool.client("s3", **key_args).create_bucket(Bucket=name)
    return name


# -- max_keys ------------------------------------------------------------------------------------


def test_max_keys_evicts_the_least_recently_used_key_not_the_oldest(
    bounded: Any, clock: FakeClock, close_log: CloseLog
) -> None:
    pool = bounded(max_keys=2)
    default = pool.client("s3")  # key 1, first in
    clock.now += 1
    prod = pool.client("s3", profile="prod")  # key 2
    clock.now += 1
    assert pool.client("s3") is default  # key 1 used again (hot path): prod is now the LRU
    clock.now += 1
    dev = pool.client("s3", profile="dev")  # key 3: one key must go

    assert pool.stats()["evictions"] == 1
    assert close_log.count(prod) == 1
    assert close_log.count(default) == 0 and close_log.count(dev) == 0
    assert pool.client("s3") is default
    assert pool.client("s3", profile="dev") is dev


def test_max_keys_closes_every_client_of_the_evicted_key_in_every_live_thread(
    bounded: Any, clock: FakeClock, close_log: CloseLog
) -> None:
    pool = bounded(max_keys=1)
    have_clients = threading.Barrier(5)  # 4 workers + this thread
    evicted = threading.Event()
    made: list[list[Any]] = [[] for _ in range(4)]

    def work(i: int) -> None:
        made[i] = [pool.client("s3", profile="prod"), pool.client("sqs", profile="prod")]
        have_clients.wait(JOIN_TIMEOUT)
        evicted.wait(JOIN_TIMEOUT)  # alive until checked: only eviction may close these

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    try:
        have_clients.wait(JOIN_TIMEOUT)
        clock.now += 1
        pool.client("s3")  # a second key, over the cap of 1: prod goes
        counts = [close_log.count(c) for clients in made for c in clients]
    finally:
        evicted.set()
        for t in threads:
            t.join(JOIN_TIMEOUT)
    assert counts == [1] * 8
    assert pool.stats()["evictions"] == 1


def test_eviction_does_not_break_a_call_in_progress_in_another_thread(
    bounded: Any, close_log: CloseLog
) -> None:
    pool = bounded(max_keys=1)
    bucket = make_bucket(pool, profile="prod")
    body = os.urandom(8 * 1024 * 1024)  # far more than loopback buffers hold: still in flight
    pool.client("s3", profile="prod").put_object(Bucket=bucket, Key="big", Body=body)
    in_call = threading.Event()
    evicted = threading.Event()
    outcome: dict[str, Any] = {}

    def reader() -> None:  # thread A: in the middle of reading the body when B evicts
        s3 = pool.client("s3", profile="prod")
        stream = s3.get_object(Bucket=bucket, Key="big")["Body"]
        first = stream.read(64 * 1024)
        in_call.set()
        evicted.wait(JOIN_TIMEOUT)
        outcome["body"] = first + stream.read()
        outcome["old_closed"] = close_log.count(s3)
        fresh = pool.client("s3", profile="prod")
        outcome["fresh_is_old"] = fresh is s3
        outcome["fresh_closed"] = close_log.count(fresh)
        outcome["fresh_read"] = fresh.get_object(Bucket=bucket, Key="big")["Body"].read()

    def evictor() -> None:  # thread B: a new key over the cap evicts prod
        in_call.wait(JOIN_TIMEOUT)
        pool.client("s3", profile="dev")
        evicted.set()

    threads = [threading.Thread(target=reader), threading.Thread(target=evictor)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(JOIN_TIMEOUT)
        assert not t.is_alive()
    assert outcome["old_closed"] == 1  # the eviction really closed the client mid-read
    assert outcome["body"] == body
    assert outcome["fresh_is_old"] is False
    assert outcome["fresh_closed"] == 0
    assert outcome["fresh_read"] == body


# -- idle_timeout --------------------------------------------------------------------------------


def test_prune_evicts_a_key_idle_longer_than_the_timeout_and_closes_its_clients(
    bounded: Any, clock: FakeClock, close_log: CloseLog
) -> None:
    pool = bounded(idle_timeout=60)
    default = pool.client("s3")
    prod = pool.client("s3", profile="prod")
    clock.now += 30
    pool.client("s3")  # default used; prod not
    assert pool.prune() == 0  # nothing idle for more than 60 s yet
    clock.now += 31  # prod idle 61 s, default 31 s

    assert pool.prune() == 1
    assert close_log.count(prod) == 1
    assert close_log.count(default) == 0
    assert pool.stats()["evictions"] == 1
    fresh = pool.client("s3", profile="prod")
    assert fresh is not prod
    assert close_log.count(fresh) == 0
    assert pool.client("s3") is default


def test_a_fresh_client_after_idle_eviction_makes_real_calls(
    bounded: Any, clock: FakeClock
) -> None:
    pool = bounded(idle_timeout=60)
    bucket = make_bucket(pool, profile="prod")
    clock.now += 61
    assert pool.prune() == 1
    s3 = pool.client("s3", profile="prod")
    s3.put_object(Bucket=bucket, Key="k", Body=b"after eviction")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"after eviction"


def test_a_key_in_constant_hot_path_use_is_never_evicted_as_idle(
    bounded: Any, clock: FakeClock, close_log: CloseLog
) -> None:
    pool = bounded(idle_timeout=60)
    steps = 20
    go = threading.Barrier(2)
    done = threading.Barrier(2)
    made: list[Any] = []

    def hot() -> None:  # another thread, using the key only through the hot path
        made.append(pool.client("s3"))
        for _ in range(steps):
            go.wait(JOIN_TIMEOUT)
            for _ in range(10):
                pool.client("s3")
            done.wait(JOIN_TIMEOUT)

    thread = threading.Thread(target=hot)
    thread.start()
    pruned = []
    for _ in range(steps):
        go.wait(JOIN_TIMEOUT)
        done.wait(JOIN_TIMEOUT)
        clock.now += 1000  # far beyond the timeout between two looks, yet used in between
        pruned.append(pool.prune())
    thread.join(JOIN_TIMEOUT)
    assert pruned == [0] * steps
    assert close_log.count(made[0]) == 1  # closed once: when its thread ended, not before
    assert pool.stats()["evictions"] == 0


def test_an_unused_key_is_evicted_while_another_key_stays_hot(
    bounded: Any, clock: FakeClock, close_log: CloseLog
) -> None:
    pool = bounded(idle_timeout=60)
    default = pool.client("s3")
    prod = pool.client("s3", profile="prod")
    evicted_at = []
    for step in range(5):
        pool.client("s3")
        clock.now += 25
        if pool.prune():
            evicted_at.append(step)
    assert evicted_at == [2]  # prod idle 75 s at step 2 (25, 50, 75)
    assert close_log.count(prod) == 1
    assert close_log.count(default) == 0
