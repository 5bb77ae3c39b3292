"""Bounded caches meet real calls: what eviction and the bounds do to clients that are in use.

* A client pushed out of a session's cache (``max_clients``) keeps working for whoever holds it
  and is closed once nobody does.
* Eviction of a key (``max_keys``) never breaks a call in flight in another thread, and the next
  call gets a fresh client, never a closed one; so does a key evicted as idle (``idle_timeout``).
* A key's credentials are forgotten once no session of it remains, so a multi-tenant server
  handed ever new keys keeps no secret it no longer uses.

The bounds themselves, on the pool's tables without a server: ``tests/unit/test_bounds.py``.
"""

from __future__ import annotations

import gc
import os
import threading
import uuid
from typing import Any

import botocore.endpoint
import pytest
from botocore.config import Config

from sessionpool import SessionPool
from tests.support.clock import FakeClock
from tests.support.logs import quiet_botocore
from tests.support.memory import planted_keys, planted_strings
from tests.support.tags import CloseLog
from tests.support.threads import run_together

JOIN_TIMEOUT = 60.0


def config(i: int) -> Config:
    """A Config of its own: a client of its own (configs are keyed by value)."""
    return Config(connect_timeout=1 + i / 1000)


@pytest.fixture
def closed_endpoints(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    closed: list[Any] = []
    original = botocore.endpoint.Endpoint.close

    def close(self: Any) -> None:
        closed.append(self)
        original(self)

    monkeypatch.setattr(botocore.endpoint.Endpoint, "close", close)
    return closed


def make_bucket(pool: SessionPool, **key_args: Any) -> str:
    name = f"bounds-{uuid.uuid4().hex[:20]}"
    pool.client("s3", **key_args).create_bucket(Bucket=name)
    return name


# -- a session's clients ---------------------------------------------------------------------------


@pytest.mark.compat
def test_a_client_pushed_out_works_for_its_holder_and_closes_when_let_go(
    aws_env: object, closed_endpoints: list[Any]
) -> None:
    with SessionPool(max_clients=2) as pool, quiet_botocore():
        held = pool.client("s3", config=config(0))
        endpoint = held._endpoint
        for i in range(1, 5):
            pool.client("s3", config=config(i))
        assert pool.client("s3", config=config(0)) is not held  # it left the cache
        assert endpoint not in closed_endpoints  # held: not closed under its holder
        assert "Buckets" in held.list_buckets()
        del held
        gc.collect()
        assert endpoint in closed_endpoints


# -- keys ------------------------------------------------------------------------------------------


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


@pytest.mark.compat
def test_credentials_are_forgotten_when_no_session_of_their_key_remains(
    aws_env_apart: object,
) -> None:
    """Each tenant's keys used in a worker thread that then ends: no secret stays behind."""
    with SessionPool() as pool, quiet_botocore():
        for i in range(20):
            run_together(1, lambda _, i=i: pool.client("s3", **planted_keys(i)).list_buckets())
        # An ended thread's table may be freed only by a collection (a cycle through its
        # frames); then any slow path settles what it dropped, and nothing holds the keys.
        gc.collect()
        pool.stats()
        gc.collect()
        holders: dict[str, list[str]] = {}
        assert planted_strings(holders) == set(), holders
        assert pool.stats()["sessions"] == 0
