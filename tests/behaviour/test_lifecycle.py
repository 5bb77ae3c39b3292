"""Lifecycle: stats, repr, close, ``with SessionPool()``, and clients closed when a thread ends."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from typing import Any

import botocore.client
import pytest

from sessionpool import PoolClosedError, SessionPool
from tests.support.threads import run_together


class CloseLog:
    """Records every botocore client closed while installed, then closes it for real."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.closed: list[Any] = []

    def count(self, client: Any) -> int:
        with self.lock:
            return sum(1 for c in self.closed if c is client)


@pytest.fixture
def close_log(monkeypatch: pytest.MonkeyPatch) -> Iterator[CloseLog]:
    log = CloseLog()
    original = botocore.client.BaseClient.close

    def close(self: Any) -> None:
        with log.lock:
            log.closed.append(self)
        original(self)

    monkeypatch.setattr(botocore.client.BaseClient, "close", close)
    yield log


def connection_pools(client: Any) -> int:
    """How many urllib3 connection pools the client's HTTP session holds open."""
    return len(client._endpoint.http_session._manager.pools)


# -- stats and repr ------------------------------------------------------------------------------


def test_stats_of_a_fresh_pool_are_zero(pool: SessionPool) -> None:
    s = pool.stats()
    for name in (
        "sessions_created",
        "clients_created",
        "resources_created",
        "hits",
        "misses",
        "forks_seen",
    ):
        assert s[name] == 0, name


def test_stats_count_a_known_sequence_exactly(pool: SessionPool) -> None:
    pool.client("s3")  # session 1, client 1: a miss
    pool.client("s3")  # hit 1
    pool.get_session().client("s3")  # hit 2
    pool.client("sqs")  # client 2: a miss
    pool.client("s3", profile="prod")  # session 2, client 3: a miss
    pool.client("s3", profile="prod")  # hit 3
    pool.get_session(profile="dev")  # session 3, no client
    expected = {
        "sessions_created": 3,
        "clients_created": 3,
        "resources_created": 0,
        "hits": 3,
        "misses": 3,
        "forks_seen": 0,
    }
    stats = pool.stats()
    assert {name: stats[name] for name in expected} == expected


def test_stats_count_resources(pool: SessionPool) -> None:
    r = pool.resource("dynamodb")
    assert pool.resource("dynamodb") is r
    s = pool.stats()
    # boto3 builds a resource on a client of its own (its Config says user_agent_extra=Resource).
    assert (s["sessions_created"], s["resources_created"], s["clients_created"]) == (1, 1, 1)
    assert (s["hits"], s["misses"]) == (1, 2)


def test_stats_count_hits_from_every_thread(pool: SessionPool) -> None:
    def work(i: int) -> None:
        for _ in range(10):
            pool.client("s3")

    run_together(8, work)  # each thread: 1 miss, 9 hits; the threads have ended
    s = pool.stats()
    assert (s["sessions_created"], s["clients_created"], s["hits"]) == (8, 8, 72)


def test_repr_shows_pid_and_counts(pool: SessionPool) -> None:
    pool.client("s3")
    pool.client("sqs")
    text = repr(pool)
    assert f"pid={os.getpid()}" in text
    assert "sessions=1" in text
    assert "clients=2" in text
    pool.client("s3", profile="prod")
    assert "sessions=2" in repr(pool) and "clients=3" in repr(pool)


def test_repr_says_closed(pool: SessionPool) -> None:
    pool.close()
    assert "closed" in repr(pool)


# -- close ---------------------------------------------------------------------------------------


def test_close_closes_every_client(pool: SessionPool, close_log: CloseLog) -> None:
    clients = [pool.client("s3"), pool.client("sqs"), pool.client("s3", profile="prod")]
    pool.close()
    assert [close_log.count(c) for c in clients] == [1, 1, 1]


def test_close_returns_the_clients_connections(pool: SessionPool, bucket: str) -> None:
    s3 = pool.client("s3")
    s3.head_bucket(Bucket=bucket)
    assert connection_pools(s3) == 1
    pool.close()
    assert connection_pools(s3) == 0


def test_close_closes_clients_of_other_live_threads(pool: SessionPool, close_log: CloseLog) -> None:
    made = threading.Event()
    finish = threading.Event()
    theirs: list[Any] = []

    def worker() -> None:
        theirs.append(pool.client("s3"))
        made.set()
        finish.wait(60)

    t = threading.Thread(target=worker)
    t.start()
    try:
        assert made.wait(60)
        pool.close()
        assert close_log.count(theirs[0]) == 1
    finally:
        finish.set()
        t.join(60)
    assert close_log.count(theirs[0]) == 1  # and not again when the thread ended


@pytest.mark.parametrize(
    "use",
    [
        lambda p: p.client("s3"),
        lambda p: p.client("s3", profile="prod"),
        lambda p: p.resource("s3"),
        lambda p: p.get_session(),
        lambda p: p.session().__enter__(),
    ],
    ids=["client", "client-with-key", "resource", "get_session", "session"],
)
def test_a_closed_pool_refuses_use(pool: SessionPool, use: Any) -> None:
    pool.client("s3")  # warm the fast path, which must not outlive close()
    pool.close()
    with pytest.raises(PoolClosedError, match="closed"):
        use(pool)


def test_a_closed_pool_refuses_use_in_other_threads(pool: SessionPool) -> None:
    run_together(4, lambda i: pool.client("s3"))
    pool.close()

    def work(i: int) -> bool:
        with pytest.raises(PoolClosedError):
            pool.client("s3")
        return True

    assert run_together(4, work) == [True] * 4


def test_close_twice_is_harmless(pool: SessionPool, close_log: CloseLog) -> None:
    c = pool.client("s3")
    pool.close()
    pool.close()
    assert close_log.count(c) == 1


def test_with_block_closes_the_pool_on_exit(aws_env: Any, close_log: CloseLog) -> None:
    with SessionPool() as p:
        c = p.client("s3")
        c.list_buckets()
    assert close_log.count(c) == 1
    with pytest.raises(PoolClosedError):
        p.client("s3")


def test_with_block_closes_the_pool_on_exception(aws_env: Any, close_log: CloseLog) -> None:
    with pytest.raises(KeyError), SessionPool() as p:
        c = p.client("s3")
        raise KeyError("boom")
    assert close_log.count(c) == 1
    with pytest.raises(PoolClosedError):
        p.get_session()


# -- thread exit ---------------------------------------------------------------------------------


def test_clients_are_closed_when_their_thread_ends(pool: SessionPool, close_log: CloseLog) -> None:
    made: list[Any] = []

    def worker() -> None:
        made.extend([pool.client("s3"), pool.client("sqs"), pool.client("s3", profile="dev")])

    t = threading.Thread(target=worker)
    t.start()
    t.join(60)
    assert not t.is_alive()
    # No gc.collect(): the thread-local slot is freed by reference counting at thread exit.
    assert [close_log.count(c) for c in made] == [1, 1, 1]


def test_thread_exit_closes_only_that_threads_clients(
    pool: SessionPool, close_log: CloseLog
) -> None:
    mine = pool.client("s3")
    made: list[Any] = []
    t = threading.Thread(target=lambda: made.append(pool.client("s3")))
    t.start()
    t.join(60)
    assert close_log.count(made[0]) == 1
    assert close_log.count(mine) == 0
    assert pool.client("s3") is mine


def test_thread_exit_does_not_close_clients_of_32_other_threads(
    pool: SessionPool, close_log: CloseLog
) -> None:
    done = threading.Barrier(32)

    def work(i: int) -> Any:
        c = pool.client("s3")
        done.wait()  # nobody ends before every thread has its client
        assert close_log.count(c) == 0
        return c

    clients = run_together(32, work)
    assert [close_log.count(c) for c in clients] == [1] * 32


# -- clear ---------------------------------------------------------------------------------------


def test_clear_closes_every_threads_clients_and_the_pool_stays_usable(
    pool: SessionPool, close_log: CloseLog
) -> None:
    mine = pool.client("s3")
    made = threading.Barrier(3)
    cleared = threading.Event()
    theirs: list[Any] = []

    def worker() -> None:
        theirs.append(pool.client("sqs"))
        made.wait()
        cleared.wait(60)  # alive (its slot held) until the pool was cleared

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    made.wait()
    try:
        assert pool.clear() == 3
    finally:
        cleared.set()
        for t in threads:
            t.join()
    assert close_log.count(mine) == 1
    assert [close_log.count(c) for c in theirs] == [1, 1]
    assert pool.stats()["clients"] == 0
    fresh = pool.client("s3")
    assert fresh is not mine
    assert pool.client("s3") is fresh


def test_clear_forgets_credentials_so_the_next_session_reads_the_environment(
    pool: SessionPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool.client("s3")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIACLEAREXAMPLE0001")
    pool.clear()
    assert pool.get_session().get_credentials().access_key == "AKIACLEAREXAMPLE0001"


def test_clear_all_clears_every_open_pool(aws_env: object) -> None:
    with SessionPool() as a, SessionPool() as b:
        a.client("s3")
        b.client("s3")
        SessionPool.clear_all()
        assert a.stats()["clients"] == b.stats()["clients"] == 0
