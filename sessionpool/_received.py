"""Pools by pickle token: the ones this process made, and the ones it received by unpickling.

A pool pickles as its token and configuration (HAZARDS X2). Unpickling looks the token up here,
so every task that carries one pool into a worker process finds *the same* pool there (Dask,
executors and loky hand the same pool to task after task), and sessions and credentials are
reused across tasks instead of being rebuilt per task.

* ``_made``: token -> pool, weakly: pools made in this process belong to their owners.
* ``_received``: token -> pool, strongly, least recently used first: a task drops its arguments
  when it ends, and the next task carrying the same pool must still find it. Bounded
  (HAZARDS W1): a long-lived worker handed a new pool per job keeps only the ``limit`` most recently
  received. A pool pushed out is only forgotten here; once no task holds it either, it is freed
  at once (by reference counting) and its threads' clients are closed with it, while a task
  still using it keeps a working pool. The limit is :func:`set_received_limit`, or the
  ``SESSIONPOOL_RECEIVED_POOLS`` environment variable (so spawned workers need no code), default 8.
  A variable that is not a positive whole number fails every unpickle with one error naming it,
  before any pool is made or kept.

``_lock`` guards both tables and the limit; it is a :class:`~sessionpool._fork.Lock`.
"""

from __future__ import annotations

import os
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol, TypeVar

from . import _fork
from ._errors import InvalidArgumentError

__all__ = ["DEFAULT_LIMIT", "find_or_make", "received_count", "register", "set_received_limit"]

DEFAULT_LIMIT = 8
_ENV = "SESSIONPOOL_RECEIVED_POOLS"


class _Pool(Protocol):
    @property
    def closed(self) -> bool: ...


P = TypeVar("P", bound=_Pool)

_made: weakref.WeakValueDictionary[str, _Pool] = weakref.WeakValueDictionary()
_received: OrderedDict[str, _Pool] = OrderedDict()
_lock = _fork.Lock()
_limit: int | None = None  # None: read the environment on first use


def _check(limit: object, source: str) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise InvalidArgumentError(
            f"{source} must be a positive whole number of pools, not {limit!r}."
        )
    return limit


def set_received_limit(limit: int) -> None:
    """Keep at most ``limit`` pools received by unpickling in this process (least recently used
    out; default 8, or the ``SESSIONPOOL_RECEIVED_POOLS`` environment variable).

    Parameters:
        limit: a positive number of pools.
    """
    global _limit
    checked = _check(limit, "the received-pools limit")
    with _lock:
        _limit = checked
        dropped = _trim()
    del dropped  # outside the lock: freeing a pool closes its clients


def _current_limit() -> int:
    # Under the lock. A bad variable raises here, every time it is read, and leaves _limit
    # unset: nothing is kept under a limit no one chose.
    global _limit
    if _limit is None:
        raw = os.environ.get(_ENV)
        _limit = DEFAULT_LIMIT if raw is None else _from_environment(raw)
    return _limit


def _from_environment(raw: str) -> int:
    try:
        limit = int(raw)
    except ValueError:
        limit = 0
    if limit < 1:
        raise InvalidArgumentError(
            f"the environment variable {_ENV} must be a positive whole number of pools (1, 2, "
            f"...; unset: {DEFAULT_LIMIT}), not {raw!r}: a process that unpickles pools keeps "
            f"that many."
        )
    return limit


def _trim() -> list[_Pool]:
    """Under the lock: pop the least recently received pools beyond the limit; the caller
    drops them after releasing it."""
    dropped = []
    while len(_received) > _current_limit():
        dropped.append(_received.popitem(last=False)[1])
    return dropped


def register(token: str, pool: _Pool) -> None:
    """Record a pool made in this process under its token (weakly)."""
    with _lock:
        _made[token] = pool


def received_count() -> int:
    """How many received pools this process holds."""
    with _lock:
        return len(_received)


def find_or_make(token: str, make: Callable[[], P]) -> P:
    """The live pool this process has under ``token``, or a new one from ``make()``, kept.

    Parameters:
        token: the token the pool was pickled with.
        make: builds the pool from its configuration (outside the lock: a new pool registers
            itself). Two threads unpickling one token at once both build; the first to publish
            wins and the other's pool is dropped unused.
    """
    with _lock:
        _current_limit()  # a bad limit fails here, before any pool is made or kept
        found = _live(token)
    if found is not None:
        return found  # type: ignore[return-value]
    new = make()
    with _lock:
        found = _live(token)
        if found is not None:
            return found  # type: ignore[return-value]
        _made[token] = new
        _received[token] = new
        dropped = _trim()
    del dropped
    return new


def _live(token: str) -> _Pool | None:
    # Under the lock. A received pool used again moves to the young end.
    pool = _received.get(token)
    if pool is not None and not pool.closed:
        _received.move_to_end(token)
        return pool
    pool = _made.get(token)
    if pool is not None and not pool.closed:
        return pool
    return None
