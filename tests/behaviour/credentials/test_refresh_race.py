"""Shared credentials are read atomically during a refresh, on every botocore (HAZARDS C2).

botocore before ~1.43.127 publishes a refreshed expiry before the refreshed keys: between the two,
a thread reading a shared ``RefreshableCredentials`` sees "no refresh needed" and signs with the
old keys (31 of 32 threads did, through the pool, on botocore 1.34.0). The window is forced open
here as botocore's own race tests do, by stopping the refreshing thread at a point inside the
refresh: the debug record botocore writes right after publishing the new expiry. While it is
stopped, 31 other threads read the key's credentials through the pool. In the mandatory refresh
window every one of them must get the new keys (waiting for the refresh), never the old ones, and
the refresh must happen once. Runs in the compatibility matrix on the floor and the newest.
"""

from __future__ import annotations

import datetime
import logging
import threading

import botocore.credentials
import pytest

from sessionpool import SessionPool
from tests.support.waits import blocked_in, wait_until

pytestmark = pytest.mark.compat

THREADS = 32


class _Stop(logging.Filter):
    """Stops the thread that logs the refreshed expiry until released (a hang guard of 60 s)."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = threading.Event()
        self.release = threading.Event()
        self.thread: threading.Thread | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        if "will expire at" in str(record.msg) and not self.inside.is_set():
            self.thread = threading.current_thread()
            self.inside.set()
            self.release.wait(60)
        return True


def test_threads_reading_during_a_mandatory_refresh_all_get_the_new_keys(
    pool: SessionPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    refreshes: list[int] = []

    def refresh() -> dict[str, str]:
        refreshes.append(1)
        expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
        return {
            "access_key": "AKIAEXAMPLEREFRESHED",
            "secret_key": "refreshed-secret-EXAMPLE",
            "token": "refreshed-token-EXAMPLE",
            "expiry_time": expires.isoformat(),
        }

    soon = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=5)
    old = botocore.credentials.RefreshableCredentials.create_from_metadata(
        {
            "access_key": "AKIAEXAMPLEOLDKEY000",
            "secret_key": "old-secret-EXAMPLE",
            "token": "old-token-EXAMPLE",
            "expiry_time": soon.isoformat(),  # inside the 10-minute mandatory window
        },
        refresh_using=refresh,
        method="test-refreshable",
    )
    monkeypatch.setattr(
        botocore.credentials.CredentialResolver, "load_credentials", lambda self: old
    )
    shared = pool.get_session(profile="prod").get_credentials()  # resolved once, shared

    stop = _Stop()
    logger = logging.getLogger("botocore.credentials")
    logger.addFilter(stop)
    monkeypatch.setattr(logger, "level", logging.DEBUG)
    barrier = threading.Barrier(THREADS)
    keys: list[str | None] = [None] * THREADS

    def read(i: int) -> None:
        barrier.wait()
        credentials = pool.get_session(profile="prod").get_credentials()
        assert credentials is shared
        keys[i] = credentials.get_frozen_credentials().access_key

    threads = [threading.Thread(target=read, args=(i,), name=f"reader-{i}") for i in range(THREADS)]
    try:
        for t in threads:
            t.start()
        assert stop.inside.wait(60), "no thread refreshed"
        others = [t for t in threads if t is not stop.thread]
        # Every other reader has either finished (read something) or is waiting for the refresh.
        wait_until(
            lambda: all(
                not t.is_alive() or blocked_in(t, "_read_slow", "_refresh", "_protected_refresh")
                for t in others
            ),
            what="the other readers to finish or wait for the refresh",
        )
    finally:
        stop.release.set()
        for t in threads:
            t.join(60)
        logger.removeFilter(stop)
    assert keys == ["AKIAEXAMPLEREFRESHED"] * THREADS, sorted(set(map(str, keys)))
    assert len(refreshes) == 1
