"""Bounds: every cache the pool keeps is bounded, checked on the pool's own tables.

* A session's cached clients: at most ``max_clients`` (64 by default), least recently used out;
  a client in constant use (hot path or memo) stays.
* Keys: at most ``max_keys`` (128 by default), the least recently used key out, not the oldest;
  eviction closes the evicted key's clients in every live thread; ``None`` is unbounded.
* ``idle_timeout``: ``prune()`` evicts a key idle longer, never one in constant hot-path use.
* The bounds and ``stats()`` read other threads' tables without a lock; a garbage collection in
  the middle of that (finalizers, ``gc.callbacks``) may change them: never a ``RuntimeError``.

Time is a fake clock passed as ``clock=`` (the ``bounded`` fixture); nothing here waits for real
time, and nothing makes a request: what happens to calls in flight, and to clients pushed out
while held, is in ``tests/behaviour/test_bounded_caches.py``.
"""

from __future__ import annotations

import gc
import pickle
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.config import Config

from sessionpool import SessionPool
from tests.support.clock import FakeClock
from tests.support.logs import quiet_botocore
from tests.support.memory import planted_keys
from tests.support.tags import CloseLog
from tests.support.threads import run_together

JOIN_TIMEOUT = 60.0


# -- a session's clients ---------------------------------------------------------------------------


def config(i: int) -> Config:
    """A Config of its own: a client of its own (configs are keyed by value)."""
    return Config(connect_timeout=1 + i / 1000)


@pytest.mark.compat
def test_a_session_caches_at_most_max_clients(aws_env: object) -> None:
    with SessionPool(max_clients=8) as pool, quiet_botocore():
        for i in range(40):
            pool.client("s3", config=config(i))
        assert pool.stats()["clients"] == 8
        assert pool.get_session().client_count == 8


@pytest.mark.compat
def test_the_default_bound_is_64_clients(aws_env: object) -> None:
    with SessionPool() as pool, quiet_botocore():
        for i in range(100):
            pool.client("s3", config=config(i))
        assert pool.stats()["clients"] == 64


@pytest.mark.compat
def test_a_client_in_constant_use_stays_while_others_come_and_go(aws_env: object) -> None:
    with SessionPool(max_clients=4) as pool, quiet_botocore():
        hot = pool.client("s3")
        with_args = pool.client("sqs", region="eu-west-1")
        for i in range(20):
            assert pool.client("s3") is hot  # the hot path
            assert pool.client("sqs", region="eu-west-1") is with_args  # the memo path
            pool.client("dynamodb", config=config(i))
        assert pool.client("s3") is hot and pool.client("sqs", region="eu-west-1") is with_args


@pytest.mark.compat
def test_resources_are_bounded_too(aws_env: object) -> None:
    with SessionPool(max_clients=3) as pool, quiet_botocore():
        for i in range(10):
            pool.resource("s3", config=config(i))
        assert len(pool.get_session()._resources) == 3


# -- keys ------------------------------------------------------------------------------------------


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


@pytest.mark.compat
def test_the_default_bound_keeps_at_most_128_keys(aws_env: object) -> None:
    with SessionPool() as pool, quiet_botocore():
        for i in range(150):
            pool.client("s3", **planted_keys(i))
        assert pool.stats()["sessions"] == 128
        assert pool.stats()["evictions"] == 150 - 128


@pytest.mark.compat
def test_max_keys_none_is_unbounded_and_pickles_as_such(aws_env: object) -> None:
    with SessionPool(max_keys=None) as pool, quiet_botocore():
        for i in range(130):
            pool.client("s3", **planted_keys(i))
        assert pool.stats()["sessions"] == 130
        assert pickle.loads(pickle.dumps(pool)) is pool
        assert pool._config.max_keys is None


@pytest.mark.compat
def test_credentials_of_a_key_in_use_elsewhere_are_kept(aws_env: object) -> None:
    with SessionPool() as pool, quiet_botocore():
        pool.client("s3", **planted_keys(1))  # this thread keeps a session of the key
        run_together(2, lambda _: pool.client("s3", **planted_keys(1)))
        resolutions = pool.stats()["credential_resolutions"]
        run_together(1, lambda _: pool.client("s3", **planted_keys(1)))
        assert pool.stats()["credential_resolutions"] == resolutions


# -- idle_timeout ----------------------------------------------------------------------------------


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


# -- walking other threads' tables -----------------------------------------------------------------


@pytest.fixture
def collection_inside_every_walk() -> Iterator[list[Any]]:
    """A garbage collection at almost every allocation, with a ``gc.callbacks`` hook (as a
    metrics agent installs) that changes the tables being walked, once per walk."""
    changes: list[Any] = []
    thresholds = gc.get_threshold()
    gc.set_threshold(1, 1, 1)
    gc.callbacks.append(lambda phase, info: changes and changes.pop()())
    try:
        yield changes
    finally:
        gc.callbacks.pop()
        gc.set_threshold(*thresholds)


@pytest.mark.compat
def test_stats_and_bounds_survive_a_table_changing_under_a_collection(
    aws_env: object, collection_inside_every_walk: list[Any]
) -> None:
    with SessionPool(max_keys=256, idle_timeout=3600) as pool, quiet_botocore():
        ready, done = threading.Barrier(2), threading.Event()

        def worker() -> None:
            for i in range(8):
                pool.client("s3", **planted_keys(i))
            ready.wait()
            done.wait(120)

        thread = threading.Thread(target=worker)
        thread.start()
        ready.wait()
        try:
            slot = next(
                s for s in pool._registry.slots if s.sessions and s is not pool._registry.slot()
            )
            session = next(iter(slot.sessions.values()))
            for _ in range(20):
                # Each walk meets a collection whose callback adds to the slot's tables.
                collection_inside_every_walk.append(
                    lambda: slot.sessions.setdefault(object(), session)  # type: ignore[arg-type]
                )
                collection_inside_every_walk.append(lambda: slot.fast.setdefault(object(), session))
                pool.stats()
                pool.prune()
        finally:
            done.set()
            thread.join()
