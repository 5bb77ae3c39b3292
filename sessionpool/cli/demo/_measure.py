"""What a demo worker counts and measures: its threads' tally, RSS, and boto3's set-up cost.

:class:`Tally` holds the rounds, operations and errors a worker's threads share, and the phase
its progress messages show. :func:`boto3_pattern` measures the documented boto3 pattern (a
``boto3.session.Session()`` and three clients per thread) the way the worker measures the pool's
set-up: threads released together, wall time until every one has its clients, and RSS growth.
"""

from __future__ import annotations

import gc
import os
import threading
import time
from typing import Any

from ._plan import describe

__all__ = ["Tally", "boto3_pattern", "growth", "rss"]


class Tally:
    """Counts shared by one worker's threads, under one lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rounds = 0
        self.ops = 0
        self.errors = 0
        self.samples: list[str] = []
        self.phase = "set-up"

    def add(self, ops: int, error: BaseException | None = None) -> None:
        with self.lock:
            self.rounds += 1
            self.ops += ops
            if error is not None:
                self.errors += 1
                if len(self.samples) < 3:
                    self.samples.append(describe(error))


def rss() -> int | None:
    """This process's resident set size in bytes (Linux), or None where /proc is missing."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def growth(before: int | None, after: int | None) -> int | None:
    return None if before is None or after is None else after - before


def boto3_pattern(
    n: int, profile: str | None, region: str | None, tally: Tally | None = None
) -> dict[str, Any]:
    """Set-up cost of boto3's documented pattern: a Session and three clients per thread.

    Parameters:
        n: how many threads (each makes its own Session).
        profile, region: the Session's arguments, as the pool's key has them.
        tally: where to show progress ("boto3 k/n") while it runs, if given.
    """
    import boto3.session

    finished = [0]

    def count() -> None:
        if tally is not None:
            with tally.lock:
                finished[0] += 1
                tally.phase = f"boto3 {finished[0]}/{n}"

    ready, made = threading.Barrier(n + 1), threading.Barrier(n + 1)
    release = threading.Event()
    errors: list[str] = []

    def thread() -> None:
        ready.wait()
        clients: list[Any] = []
        try:
            session = boto3.session.Session(profile_name=profile, region_name=region)
            clients = [session.client("s3"), session.client("sqs"), session.client("dynamodb")]
        except Exception as exc:  # noqa: BLE001 - reported beside the figures
            errors.append(describe(exc))
        count()
        made.wait()
        release.wait()  # keep the sessions alive until RSS is read
        for c in clients:
            c.close()

    threads = [threading.Thread(target=thread, name=f"boto3-{i}") for i in range(n)]
    gc.collect()
    rss_before = rss()
    for t in threads:
        t.start()
    ready.wait()
    t0 = time.perf_counter()
    made.wait()
    seconds = time.perf_counter() - t0
    rss_after = rss()
    release.set()
    for t in threads:
        t.join()
    return {"seconds": seconds, "rss": growth(rss_before, rss_after), "errors": errors[:3]}
