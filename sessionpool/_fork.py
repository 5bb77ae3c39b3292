"""Fork awareness: reset live pools in a forked child before anything can use them.

The protocol, after CPython's ``logging`` and redis-py's connection pool:

* Every object that holds per-process state (sessions, clients, credentials, locks) registers
  itself here; we keep it in a ``WeakSet`` so registration never keeps a pool alive.
* ``os.register_at_fork(after_in_child=...)`` calls each live object's ``_after_fork_in_child()``
  in the child, which must only *assign*: it replaces locks (another thread may have held the old
  one at fork time, and that thread does not exist in the child) and drops inherited sessions and
  clients without closing them (their sockets belong to the parent; HAZARDS F1, F2, F4).
* Hooks run in the order they were registered, so an ``after_in_child`` hook of the user's
  registered before ``import sessionpool`` runs before ours and may use a pool the child has not
  reset yet. So a pool also takes part *before* the fork (``_before_fork``, which runs first
  among the before-hooks: they run in reverse order): it sends every call to its slow path, which
  compares the pid, until ``_after_fork_in_parent`` (in the parent) or the reset (in the child)
  undoes that. The hot path pays nothing for this (see ``SessionPool._before_fork``).
* A fork that bypasses Python's hooks (a C extension calling ``fork()``) is caught by a pid
  comparison the pool makes on its slow paths; the hot path relies on the hooks, because
  ``os.getpid()`` costs a system call (~250 ns here), more than the whole hot path.
"""

from __future__ import annotations

import os
import weakref
from typing import Protocol

from . import _locks

__all__ = ["ForkAware", "Lock", "register"]


class ForkAware(Protocol):
    def _after_fork_in_child(self) -> None: ...


_live: weakref.WeakSet[ForkAware] = weakref.WeakSet()


def register(obj: ForkAware) -> None:
    """Track ``obj`` so that a forked child resets it before first use."""
    _live.add(obj)  # set.add is atomic; a thread iterating meanwhile retries (_snapshot)


def _snapshot() -> list[ForkAware]:
    """The live objects, without a lock: another thread may register one meanwhile, which a
    WeakSet's iteration reports as a RuntimeError; then look again."""
    while True:
        try:
            return list(_live)
        except RuntimeError:
            continue


def _before_fork() -> None:
    for obj in _snapshot():
        before = getattr(obj, "_before_fork", None)
        if before is not None:
            before()


def _after_fork_in_parent() -> None:
    for obj in _snapshot():
        after = getattr(obj, "_after_fork_in_parent", None)
        if after is not None:
            after()


def _reset_after_fork_in_child() -> None:
    # The child has one thread; iterate over a copy since resets may add entries.
    for obj in list(_live):
        obj._after_fork_in_child()


# The package's locks are new in a forked child too (see _locks); kept here under this name.
Lock = _locks.Lock


if hasattr(os, "register_at_fork"):  # absent on Windows, where there is no fork
    os.register_at_fork(
        before=_before_fork,
        after_in_parent=_after_fork_in_parent,
        after_in_child=_reset_after_fork_in_child,
    )
