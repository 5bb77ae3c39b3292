"""What a demo worker counts and measures: its threads' tally, RSS, and set-up bursts.

:class:`Tally` holds the rounds, operations and errors a worker's threads share, and the phase
its progress messages show. :func:`burst` measures a set-up the way the benchmarks' startup
figure does: N new threads released together, each taking an s3, sqs and dynamodb client; the
wall time until every one has them, and the RSS growth read while every thread still holds
them (read after they end, freed memory would flatter the figure). :func:`pool_burst` runs it
on the pool (the warm figure, after the run), :func:`boto3_burst` on boto3's documented
pattern (a ``boto3.session.Session()`` and three clients per thread).
"""

from __future__ import annotations

import gc
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from ... import SessionPool
from ._plan import SERVICES, describe

__all__ = ["Tally", "boto3_burst", "burst", "growth", "pool_burst", "rss"]


class Tally:
    """Counts shared by one worker's threads, under one lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rounds = 0
        self.ops = 0
        self.errors = 0
        self.samples: list[str] = []
        self.phase = "cold set-up"

    def add(self, ops: int, error: BaseException | None = None) -> None:
        with self.lock:
            self.rounds += 1
            self.ops += ops
            if error is not None:
                self.errors += 1
                if len(self.samples) < 3:
                    self.samples.append(describe(error))

    def set_phase(self, phase: str) -> None:
        with self.lock:
            self.phase = phase


def rss() -> int | None:
    """This process's resident set size in bytes (Linux), or None where /proc is missing."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def growth(before: int | None, after: int | None) -> int | None:
    return None if before is None or after is None else after - before


def burst(
    n: int, take: Callable[[], Callable[[], None]], label: str, tally: Tally | None = None
) -> dict[str, Any]:
    """Time and RSS growth of ``n`` new threads each running ``take`` (released together).

    Parameters:
        n: how many threads.
        take: what each thread does; returns what it runs once the RSS has been read (a
            clean-up), so that everything ``take`` made is alive when it is read.
        label: the phase shown while it runs, as ``"label k/n"``.
        tally: where to show that phase, if given.
    """
    finished = [0]
    ready, made = threading.Barrier(n + 1), threading.Barrier(n + 1)
    release = threading.Event()
    errors: list[str] = []

    def thread() -> None:
        ready.wait()
        clean_up: Callable[[], None] | None = None
        try:
            clean_up = take()
        except Exception as exc:  # noqa: BLE001 - reported beside the figures
            errors.append(describe(exc))
        if tally is not None:
            with tally.lock:
                finished[0] += 1
                tally.phase = f"{label} {finished[0]}/{n}"
        made.wait()
        release.wait()  # keep what it made alive until RSS is read
        if clean_up is not None:
            clean_up()

    if tally is not None:
        tally.set_phase(f"{label} 0/{n}")
    threads = [threading.Thread(target=thread, name=f"{label}-{i}") for i in range(n)]
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


def pool_burst(pool: SessionPool, n: int, tally: Tally | None = None) -> dict[str, Any]:
    """Set-up cost of ``n`` new threads taking their three clients from ``pool``.

    Parameters:
        pool: the worker's pool, already warm (its models parsed, its credentials resolved).
        n: how many threads.
        tally: where to show progress ("warm k/n") while it runs, if given.
    """

    def take() -> Callable[[], None]:
        for service in SERVICES:
            pool.client(service)
        return lambda: None  # the pool closes a thread's clients when the thread ends

    return burst(n, take, "warm", tally)


def boto3_burst(
    n: int, profile: str | None, region: str | None, tally: Tally | None = None
) -> dict[str, Any]:
    """Set-up cost of boto3's documented pattern: a Session and three clients per thread.

    Parameters:
        n: how many threads (each makes its own Session).
        profile, region: the Session's arguments, as the pool's key has them.
        tally: where to show progress ("boto3 k/n") while it runs, if given.
    """
    import boto3.session

    def take() -> Callable[[], None]:
        session = boto3.session.Session(profile_name=profile, region_name=region)
        clients = [session.client(service) for service in SERVICES]  # type: ignore[call-overload]

        def close() -> None:
            for c in clients:
                c.close()

        return close

    return burst(n, take, "boto3", tally)
