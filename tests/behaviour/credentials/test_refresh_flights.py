"""A refresh is one flight: one thread fetches, the others wait for it with their own deadlines,
and share its result or its failure.

* A failed refresh fails once for everyone waiting on it, and the next call tries again.
* A hung credential source blocks no thread past ``resolve_timeout``, first read or refresh.
* Only the fetching thread takes the machine-wide lock of the credential cache, and only for
  credentials the cache holds: the waiters' deadlines run from when they asked.

These work on :class:`SharedCredentials` directly, with botocore credentials whose refresh the
test controls (it counts calls, fails, or blocks until released).
"""

from __future__ import annotations

import contextlib
import datetime
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.credentials import Credentials, DeferredRefreshableCredentials

from sessionpool import CredentialResolutionError, CredentialWaitTimeout
from sessionpool._credentials import SharedCredentials
from tests.support.waits import blocked_in, wait_until

pytestmark = pytest.mark.compat

JOIN = 120.0  # a hang guard for joins, never reached when the code is right


class Source:
    """A credential source: counts fetches; fails, or blocks until released, when told to."""

    def __init__(self, fail: bool = False, block: bool = False) -> None:
        self.fail = fail
        self.release = threading.Event()
        if not block:
            self.release.set()
        self.started = threading.Event()
        self.calls = 0
        self.lock = threading.Lock()

    def __call__(self) -> dict[str, Any]:
        with self.lock:
            self.calls += 1
        self.started.set()
        self.release.wait(JOIN)
        if self.fail:
            raise RuntimeError("the credential endpoint answered 500")
        expiry = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
        return {
            "access_key": "ASIAFLIGHTEXAMPLE001",
            "secret_key": "flight-secret-EXAMPLE",
            "token": "flight-token-EXAMPLE",
            "expiry_time": expiry.isoformat(),
        }


def deferred(source: Source, timeout: float = 600.0, **options: Any) -> SharedCredentials:
    """Shared credentials whose first read fetches (as AssumeRole, web identity and SSO do)."""
    inner = DeferredRefreshableCredentials(refresh_using=source, method="assume-role")
    return SharedCredentials(inner, lambda: None, renewable=True, timeout=timeout, **options)


def read_in_threads(shared: SharedCredentials, n: int) -> tuple[list[threading.Thread], list[Any]]:
    """Start ``n`` threads together, each reading once; results (keys or exceptions) by index."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def read(i: int) -> None:
        barrier.wait()
        try:
            results[i] = shared.get_frozen_credentials()
        except Exception as exc:  # noqa: BLE001 - the result under test
            results[i] = exc

    threads = [threading.Thread(target=read, args=(i,), name=f"reader-{i}") for i in range(n)]
    for t in threads:
        t.start()
    return threads, results


def join(threads: list[threading.Thread]) -> None:
    for t in threads:
        t.join(JOIN)
    assert not any(t.is_alive() for t in threads), "a reader never returned"


def in_flight_wait(thread: threading.Thread) -> bool:
    """Whether ``thread`` is waiting for a flight's result (``_Flight.wait``)."""
    frame = sys._current_frames().get(thread.ident or -1)
    while frame is not None:
        code = frame.f_code
        if code.co_name == "wait" and code.co_filename.endswith("_credentials.py"):
            return True
        frame = frame.f_back
    return False


def waiting_on_the_flight(threads: list[threading.Thread], waiters: int) -> bool:
    return sum(in_flight_wait(t) for t in threads) == waiters


# -- a failure is shared ---------------------------------------------------------------------


def test_a_failed_fetch_fails_once_for_every_thread_waiting_on_it(aws_env: object) -> None:
    source = Source(fail=True, block=True)
    shared = deferred(source)
    threads, results = read_in_threads(shared, 32)
    source.started.wait(JOIN)
    wait_until(lambda: waiting_on_the_flight(threads, 31), what="31 waiters")
    source.release.set()
    join(threads)
    assert source.calls == 1  # one fetch for 32 threads (a gate per thread: 32 or more)
    assert all(isinstance(r, RuntimeError) for r in results), results
    assert len({id(r) for r in results}) == 32  # each thread its own copy of the error
    waiters = [r for r in results if isinstance(r.__cause__, CredentialResolutionError)]
    assert len(waiters) == 31
    # The next call tries again.
    source.fail = False
    assert shared.get_frozen_credentials().access_key == "ASIAFLIGHTEXAMPLE001"
    assert source.calls == 2


# -- a hung source -----------------------------------------------------------------------------


def test_a_hung_first_fetch_blocks_no_waiter_past_resolve_timeout(aws_env: object) -> None:
    source = Source(block=True)
    shared = deferred(source, timeout=0.5)
    threads, results = read_in_threads(shared, 16)
    try:
        source.started.wait(JOIN)
        fetching = next(t for t in threads if blocked_in(t, "__call__"))
        others = [t for t in threads if t is not fetching]
        join(others)  # every waiter gave up at its deadline, while the fetch still hangs
        assert all(isinstance(results[threads.index(t)], CredentialWaitTimeout) for t in others)
        assert fetching.is_alive()
    finally:
        source.release.set()
        join(threads)
    assert results[threads.index(fetching)].access_key == "ASIAFLIGHTEXAMPLE001"
    assert source.calls == 1


def test_a_hung_refresh_blocks_no_waiter_past_resolve_timeout(aws_env: object) -> None:
    """A refresh in botocore's mandatory window: the credentials expire in 5 minutes."""
    source = Source(block=True)
    soon = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=5)
    from botocore.credentials import RefreshableCredentials

    inner = RefreshableCredentials.create_from_metadata(
        {
            "access_key": "ASIAOLDEXAMPLE000001",
            "secret_key": "old-secret-EXAMPLE",
            "token": "old-token-EXAMPLE",
            "expiry_time": soon.isoformat(),
        },
        refresh_using=source,
        method="assume-role",
    )
    shared = SharedCredentials(inner, lambda: None, renewable=True, timeout=0.5)
    threads, results = read_in_threads(shared, 16)
    try:
        source.started.wait(JOIN)
        fetching = next(t for t in threads if blocked_in(t, "__call__"))
        others = [t for t in threads if t is not fetching]
        join(others)
        assert all(isinstance(results[threads.index(t)], CredentialWaitTimeout) for t in others)
    finally:
        source.release.set()
        join(threads)
    assert shared.get_frozen_credentials().access_key == "ASIAFLIGHTEXAMPLE001"
    assert source.calls == 1


# -- the machine-wide lock -------------------------------------------------------------------------


class MachineLock:
    """A credential cache's lock that another process holds: whoever takes it waits, until the
    test lets its deadline pass."""

    def __init__(self) -> None:
        self.taken = 0
        self.lock = threading.Lock()
        self.deadline_passed = threading.Event()

    @contextlib.contextmanager
    def __call__(self, deadline: float) -> Iterator[None]:
        with self.lock:
            self.taken += 1
        self.deadline_passed.wait(JOIN)
        raise CredentialWaitTimeout("another process holds the cache's lock")
        yield  # pragma: no cover - never reached


def test_only_the_fetching_thread_waits_for_the_machine_lock(aws_env: object) -> None:
    """Six threads, the cache's lock held by another process: one waits for it, the other five
    wait for that one, each until its own deadline: not one after another, each waiting its
    own full timeout for the lock in turn."""
    machine = MachineLock()
    shared = deferred(Source(), timeout=600.0, machine_lock=machine)
    threads, results = read_in_threads(shared, 6)
    wait_until(lambda: machine.taken == 1, what="the fetching thread to take the lock")
    wait_until(lambda: waiting_on_the_flight(threads, 5), what="five to wait on the flight")
    machine.deadline_passed.set()
    join(threads)
    assert machine.taken == 1
    assert all(isinstance(r, CredentialWaitTimeout) for r in results), results
    assert sum(isinstance(r.__cause__, CredentialResolutionError) for r in results) == 5


def test_credentials_the_cache_never_holds_never_take_its_lock(aws_env: object) -> None:
    machine = MachineLock()
    env_keys = Credentials("AKIAENVEXAMPLE000001", "env-secret-EXAMPLE", method="env")
    shared = SharedCredentials(env_keys, lambda: None, renewable=True, machine_lock=machine)
    threads, results = read_in_threads(shared, 6)
    join(threads)
    assert [r.access_key for r in results] == ["AKIAENVEXAMPLE000001"] * 6
    assert machine.taken == 0
