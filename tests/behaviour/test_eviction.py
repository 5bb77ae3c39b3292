"""Eviction forgets everything, leaves nothing untracked, and counters only grow.

* **Secrets**: with ``max_keys=2``, after 300 keys each with explicit credentials, no secret of an
  evicted key is reachable in memory (every object the garbage collector knows, and the
  containers it does not track, scanned for the planted strings).
* **No untracked sessions** (HAZARDS E1): an eviction that lands between a thread making its
  session and publishing it to its lock-free fast table must not leave the thread on a session
  the pool no longer tracks. Once injected at exactly that point, then hunted under
  ``sys.setswitchinterval(1e-5)`` with eviction churn: every session a thread can reach through
  its fast table or memo is one the pool tracks, and every client ever handed out is closed by
  eviction or ``close()``.
* **Monotonic counters**: ``stats()["hits"]`` never goes down while a session is being dropped.
"""

from __future__ import annotations

import gc
import random
import sys
import threading
import uuid
import weakref
from typing import Any

import botocore.client
import pytest

from sessionpool import SessionPool
from tests.support.logs import quiet_botocore
from tests.support.memory import planted_keys, planted_strings
from tests.support.threads import run_together
from tests.support.tracking import untracked

THREADS, ROUNDS = 6, 60  # churn: each round may build a session and a client


def test_after_300_keys_only_the_live_keys_secrets_remain_in_memory(aws_env_apart: Any) -> None:
    # botocore's DEBUG records name event handlers (bound to clients), and pytest keeps every
    # record until the test ends: that would keep evicted clients alive, not the pool.
    pool = SessionPool(max_keys=2)
    try:
        with quiet_botocore():
            for i in range(300):
                with pool.session(**planted_keys(i)):
                    pool.client("s3").list_buckets()
                pool.client("sqs", **planted_keys(i))  # the call form with arguments too
        gc.collect()
        holders: dict[str, list[str]] = {}
        found = planted_strings(holders)
        live = {f"{i:04d}-{kind}-EXAMPLE" for i in (298, 299) for kind in ("secret", "token")}
        leaked = sorted(found - live)
        assert not leaked, (len(leaked), [(n, holders[n]) for n in leaked[:5]])
        assert pool.stats()["sessions"] <= 2
    finally:
        pool.close()


def test_the_scan_finds_secrets_that_are_still_held(aws_env: Any) -> None:
    # The other side: a pool without a bound keeps its keys, and the scan sees them.
    with SessionPool() as pool:
        for i in range(3):
            with pool.session(**planted_keys(i)):
                pool.client("s3")
        gc.collect()
        assert {f"{i:04d}-secret-EXAMPLE" for i in range(3)} <= planted_strings()


# -- no untracked sessions -----------------------------------------------------------------------


@pytest.fixture
def closed_clients(monkeypatch: pytest.MonkeyPatch) -> weakref.WeakSet[Any]:
    closed: weakref.WeakSet[Any] = weakref.WeakSet()
    original = botocore.client.BaseClient.close

    def close(self: Any) -> None:
        closed.add(self)
        original(self)

    monkeypatch.setattr(botocore.client.BaseClient, "close", close)
    return closed


def test_an_eviction_between_making_and_publishing_a_session_leaves_nothing_untracked(
    aws_env: Any, closed_clients: weakref.WeakSet[Any]
) -> None:
    pool = SessionPool(max_keys=1)
    original = pool._apply_bounds
    armed = [True]

    def racing(key: Any) -> None:
        # Exactly between the session's creation and its publication to the fast table,
        # another thread evicts the key (as an LRU eviction by another key would).
        original(key)
        if armed[0]:
            armed[0] = False
            slots = list(pool._registry.slots)
            evictor = threading.Thread(target=pool._evict, args=([key], slots))
            evictor.start()
            evictor.join()

    pool._apply_bounds = racing  # type: ignore[method-assign]
    handed_out = [pool.client("s3"), pool.client("s3"), pool.client("s3")]
    assert not armed[0]  # the eviction happened
    assert untracked(pool) == []
    # The hot path and the tracked session agree.
    assert pool.client("s3") is pool.get_session().client("s3")
    assert pool.stats()["sessions"] == 1
    pool.close()
    assert all(c in closed_clients for c in handed_out)


def test_eviction_churn_under_a_tiny_switch_interval_leaves_nothing_untracked(
    aws_env: Any, closed_clients: weakref.WeakSet[Any]
) -> None:
    profiles = ["prod", "dev", None]
    regions = ["us-east-1", "eu-west-1"]
    pool = SessionPool(max_keys=2)
    handed_out: list[Any] = []
    lock = threading.Lock()
    finished = threading.Barrier(THREADS)

    def churn(i: int) -> list[str]:
        rng = random.Random(i)
        mine = []
        for _ in range(ROUNDS):
            profile, region = rng.choice(profiles), rng.choice(regions)
            style = rng.randrange(3)
            if style == 0:
                with pool.session(profile=profile, region=region):
                    mine += [pool.client("s3"), pool.client("s3")]
            elif style == 1:
                mine.append(pool.client("sqs", profile=profile, region=region))
            else:
                mine.append(pool.client("s3"))  # the default key: the hot path
        with lock:
            handed_out.extend(mine)
        finished.wait()  # every thread alive (slots in place) while the tables are checked
        problems = untracked(pool)
        finished.wait()
        return problems

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        problems = run_together(THREADS, churn, timeout=600)
    finally:
        sys.setswitchinterval(old)
    assert problems == [[]] * THREADS, problems
    stats = pool.stats()
    assert stats["evictions"] > 0
    pool.close()
    never_closed = [c for c in handed_out if c not in closed_clients]
    assert never_closed == [], f"{len(never_closed)} clients of untracked sessions"


# -- counters only grow --------------------------------------------------------------------------


class _Watching:
    """Stands in for Counters.retired_hits: reads stats() at the moment a dropped session's
    hits are about to be retired, which is after the session left its slot."""

    def __init__(self, pool: SessionPool, inner: Any) -> None:
        self.pool = pool
        self.inner = inner
        self.readings: list[int] = []

    def append(self, hits: int) -> None:
        self.readings.append(self.pool.stats()["hits"])
        self.inner.append(hits)

    def popleft(self) -> int:
        return int(self.inner.popleft())


@pytest.mark.parametrize("how", ["thread exit", "eviction"])
def test_hits_never_go_down_while_a_session_is_dropped(aws_env: Any, how: str) -> None:
    pool = SessionPool(max_keys=1)
    counters = pool._registry.counters
    watching = _Watching(pool, counters.retired_hits)

    def use(profile: str | None) -> None:
        for _ in range(50):
            pool.client("s3", profile=profile)

    if how == "thread exit":
        used, leave = threading.Event(), threading.Event()

        def worker() -> None:
            use("prod")
            used.set()
            leave.wait(60)

        t = threading.Thread(target=worker)
        t.start()
        used.wait(60)
        before = pool.stats()["hits"]  # the live thread's hits included
        assert before > 0
        counters.retired_hits = watching  # type: ignore[assignment]
        leave.set()
        t.join()  # the thread's slot is released here, dropping its session
    else:
        use("prod")
        before = pool.stats()["hits"]
        assert before > 0
        counters.retired_hits = watching  # type: ignore[assignment]
        use("dev")  # evicts prod (max_keys=1)
    assert watching.readings, "no session was dropped"
    assert min(watching.readings) >= before, (before, watching.readings)
    assert pool.stats()["hits"] >= max(watching.readings)
    pool.close()


def test_sessions_made_after_eviction_are_new_and_tracked(aws_env: Any) -> None:
    with SessionPool(max_keys=1) as pool:
        first = pool.get_session(profile="prod")
        pool.get_session(profile="dev")
        again = pool.get_session(profile="prod")
        assert again is not first
        assert untracked(pool) == []
        assert pool.stats()["evictions"] == 2
        assert str(uuid.uuid4())  # (keeps uuid imported for the churn names)
