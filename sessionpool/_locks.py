"""The package's locks, and the rule that comes with them: no user code runs while one is held.

Code of the user's can run on any thread between any two bytecodes: a signal handler, a garbage
collector's finalizer, a logging handler that ships records through the pool. If such code
re-enters the pool while the thread holds one of its locks, a plain lock deadlocks the thread on
itself; and if the pool logs (or calls botocore, which logs) while holding a lock, a handler on
another thread that holds its own lock and waits for the pool's makes a deadlock of two. So
(``docs/internals/locks.md`` has the whole account):

1. Every lock in the package is a :class:`Lock` from here: re-entrant (the thread that holds it
   gets in again; CPython's logging uses an RLock for the same reason), and replaced in a forked
   child (another thread may hold it at the fork, and that thread does not exist there).
2. Critical sections only read and assign Python objects: no botocore call, no callback, no
   logging. A record the package emits while the thread holds one of these locks is queued by
   :func:`log` and emitted by the release that leaves the thread holding none.
3. Every wait on another thread is bounded (``resolve_timeout`` for credentials); a lock is held
   only for the assignments of a critical section, so waiting for one is short.

A critical section may be entered again on the same thread before it finished (rule 1): each is
written so that any prefix of it leaves the state consistent.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import threading
import weakref
from collections.abc import Iterator
from typing import Any, TypeVar

K = TypeVar("K")
V = TypeVar("V")

__all__ = ["Lock", "log", "snapshot"]

_locks: weakref.WeakSet[Lock] = weakref.WeakSet()
_held = threading.local()  # .depth: how many package locks this thread holds
# Records waiting for their thread to release its last lock: (thread ident, logger, level, args).
_pending: collections.deque[tuple[int, logging.Logger, int, tuple[Any, ...], bool]] = (
    collections.deque()
)


class Lock:
    """A re-entrant lock that counts what its thread holds, and is new in a forked child."""

    __slots__ = ("__weakref__", "_lock")

    def __init__(self) -> None:
        self._lock = threading.RLock()
        _locks.add(self)  # iterated only in a forked child, which has one thread

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        got = self._lock.acquire(blocking, timeout)
        if got:
            _held.depth = getattr(_held, "depth", 0) + 1
        return got

    def release(self) -> None:
        depth = getattr(_held, "depth", 1) - 1
        _held.depth = depth
        self._lock.release()
        if depth == 0 and _pending:
            _flush()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    def _after_fork_in_child(self) -> None:
        self._lock = threading.RLock()


def held() -> bool:
    """Whether this thread holds any of the package's locks (or is in :func:`deferring`)."""
    return getattr(_held, "depth", 0) > 0


@contextlib.contextmanager
def deferring() -> Iterator[None]:
    """Hold back this thread's records, as a lock does, for the duration: around credential
    work (a resolution, a refresh), whose records could reach a handler that signs with the very
    key being fetched. They are emitted when it ends."""
    depth = getattr(_held, "depth", 0)
    try:  # the count is restored, not decremented: right whatever interrupts this
        _held.depth = depth + 1
        yield
    finally:
        _held.depth = depth
        if depth == 0 and _pending:
            _flush()


def log(logger: logging.Logger, level: int, *args: Any, exc_info: bool = False) -> None:
    """``logger.log(level, *args)`` now, or, while this thread holds a package lock, when it
    releases the last one (rule 2)."""
    if not held():
        logger.log(level, *args, exc_info=exc_info)
        return
    _pending.append((threading.get_ident(), logger, level, args, exc_info))


def snapshot(table: dict[K, V]) -> list[tuple[K, V]]:
    """The items of a dict that another thread may change meanwhile, without a lock.

    ``list(d.items())`` runs in C, but it allocates, and an allocation can start a garbage
    collection whose finalizers or ``gc.callbacks`` run Python code, during which another thread
    (or the callback itself) may change the dict: the copy then raises RuntimeError (HAZARDS I11).
    A change means someone made progress, so copying again succeeds soon.
    """
    while True:
        try:
            return list(table.items())
        except RuntimeError:
            continue


def _flush() -> None:
    me = threading.get_ident()
    for _ in range(len(_pending)):
        try:
            record = _pending.popleft()
        except IndexError:
            return
        if record[0] != me:
            _pending.append(record)  # another thread's: it flushes it when it releases
            continue
        _, logger, level, args, exc_info = record
        logger.log(level, *args, exc_info=exc_info)


def _after_fork_in_child() -> None:
    _held.__dict__.clear()  # the forking thread's count: its locks are all new now
    _pending.clear()
    for lock in list(_locks):
        lock._after_fork_in_child()


if hasattr(os, "register_at_fork"):  # absent on Windows, where there is no fork
    os.register_at_fork(after_in_child=_after_fork_in_child)
