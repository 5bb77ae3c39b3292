"""Every cache the pool keeps is bounded by default, and walking other threads' tables is safe.

* A session's cached clients: at most ``max_clients`` (64), least recently used out; a client
  pushed out keeps working for whoever holds it and is closed once nobody does.
* Keys: at most ``max_keys`` (128 by default); a key's credentials are forgotten once no session
  of it remains, so a multi-tenant server handed ever new keys keeps no secret it no longer uses.
* The bounds and ``stats()`` read other threads' tables without a lock; a garbage collection in
  the middle of that (finalizers, ``gc.callbacks``) may change them: never a ``RuntimeError``.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from typing import Any

import botocore.endpoint
import pytest
from botocore.config import Config

from sessionpool import SessionPool
from tests.support.logs import quiet_botocore
from tests.support.memory import planted_keys, planted_strings
from tests.support.threads import run_together

pytestmark = pytest.mark.compat


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


# -- a session's clients --------------------------------------------------------------------------


def test_a_session_caches_at_most_max_clients(aws_env: object) -> None:
    with SessionPool(max_clients=8) as pool, quiet_botocore():
        for i in range(40):
            pool.client("s3", config=config(i))
        assert pool.stats()["clients"] == 8
        assert pool.get_session().client_count == 8


def test_the_default_bound_is_64_clients(aws_env: object) -> None:
    with SessionPool() as pool, quiet_botocore():
        for i in range(100):
            pool.client("s3", config=config(i))
        assert pool.stats()["clients"] == 64


def test_a_client_in_constant_use_stays_while_others_come_and_go(aws_env: object) -> None:
    with SessionPool(max_clients=4) as pool, quiet_botocore():
        hot = pool.client("s3")
        with_args = pool.client("sqs", region="eu-west-1")
        for i in range(20):
            assert pool.client("s3") is hot  # the hot path
            assert pool.client("sqs", region="eu-west-1") is with_args  # the memo path
            pool.client("dynamodb", config=config(i))
        assert pool.client("s3") is hot and pool.client("sqs", region="eu-west-1") is with_args


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


def test_resources_are_bounded_too(aws_env: object) -> None:
    with SessionPool(max_clients=3) as pool, quiet_botocore():
        for i in range(10):
            pool.resource("s3", config=config(i))
        assert len(pool.get_session()._resources) == 3


@pytest.mark.parametrize("bad", [0, -1, 1.5, "64", True])
def test_max_clients_must_be_a_positive_whole_number(aws_env: object, bad: Any) -> None:
    from sessionpool import InvalidArgumentError

    with pytest.raises(InvalidArgumentError, match="max_clients"):
        SessionPool(max_clients=bad)


# -- keys and their credentials -----------------------------------------------------------------


def test_the_default_bound_keeps_at_most_128_keys(aws_env: object) -> None:
    with SessionPool() as pool, quiet_botocore():
        for i in range(150):
            pool.client("s3", **planted_keys(i))
        assert pool.stats()["sessions"] == 128
        assert pool.stats()["evictions"] == 150 - 128


def test_max_keys_none_is_unbounded_and_pickles_as_such(aws_env: object) -> None:
    import pickle

    with SessionPool(max_keys=None) as pool, quiet_botocore():
        for i in range(130):
            pool.client("s3", **planted_keys(i))
        assert pool.stats()["sessions"] == 130
        assert pickle.loads(pickle.dumps(pool)) is pool
        assert pool._config.max_keys is None


def test_credentials_are_forgotten_when_no_session_of_their_key_remains(
    aws_env: object,
) -> None:
    """Each tenant's keys used in a worker thread that then ends: no secret stays behind."""
    with SessionPool() as pool, quiet_botocore():
        for i in range(20):
            run_together(1, lambda _, i=i: pool.client("s3", **planted_keys(i)).list_buckets())
        pool.stats()  # any slow path settles what ended threads dropped
        gc.collect()
        assert planted_strings() == set()
        assert pool.stats()["sessions"] == 0


def test_credentials_of_a_key_in_use_elsewhere_are_kept(aws_env: object) -> None:
    with SessionPool() as pool, quiet_botocore():
        pool.client("s3", **planted_keys(1))  # this thread keeps a session of the key
        run_together(2, lambda _: pool.client("s3", **planted_keys(1)))
        resolutions = pool.stats()["credential_resolutions"]
        run_together(1, lambda _: pool.client("s3", **planted_keys(1)))
        assert pool.stats()["credential_resolutions"] == resolutions


# -- walking other threads' tables ----------------------------------------------------------------


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
