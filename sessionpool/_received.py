"""Pools by pickle token: the ones this process made, and the ones it received by unpickling.

A pool pickles as its token and configuration (HAZARDS X2). Unpickling looks the token up here,
so every task that carries one pool into a worker process finds *the same* pool there (Dask,
executors and loky hand the same pool to task after task), and sessions and credentials are
reused across tasks instead of being rebuilt per task.

* ``_made``: token -> pool, weakly: pools made in this process belong to their owners.
* ``_received``: token -> pool, strongly: a task drops its arguments when it ends, and the next
  task carrying the same pool must still find it.

Both are guarded by ``_lock``, which :mod:`._fork` replaces in a forked child.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Protocol, TypeVar

from . import _fork

__all__ = ["find_or_make", "register"]


class _Pool(Protocol):
    @property
    def closed(self) -> bool: ...


P = TypeVar("P", bound=_Pool)

_made: weakref.WeakValueDictionary[str, _Pool] = weakref.WeakValueDictionary()
_received: dict[str, _Pool] = {}
_lock = _fork.Lock()


def register(token: str, pool: _Pool) -> None:
    """Record a pool made in this process under its token (weakly)."""
    with _lock:
        _made[token] = pool


def find_or_make(token: str, make: Callable[[], P]) -> P:
    """The live pool this process has under ``token``, or a new one from ``make()``, kept.

    Parameters:
        token: the token the pool was pickled with.
        make: builds the pool from its configuration (outside the lock: a new pool registers
            itself). Two threads unpickling one token at once both build; the first to publish
            wins and the other's pool is dropped unused.
    """
    with _lock:
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
        return new


def _live(token: str) -> _Pool | None:
    for table in (_made, _received):
        pool = table.get(token)
        if pool is not None and not pool.closed:
            return pool
    return None
