"""Fork awareness: reset live pools in a forked child before anything can use them.

The protocol, after CPython's ``logging`` and redis-py's connection pool:

* Every object that holds per-process state (sessions, clients, credentials, locks) registers
  itself here; we keep it in a ``WeakSet`` so registration never keeps a pool alive.
* ``os.register_at_fork(after_in_child=...)`` calls each live object's ``_after_fork_in_child()``
  in the child, which must only *assign*: it replaces locks (another thread may have held the old
  one at fork time, and that thread does not exist in the child) and drops inherited sessions and
  clients without closing them (their sockets belong to the parent; HAZARDS F1, F2, F4).
* A fork that bypasses Python's hooks (a C extension calling ``fork()``) is caught by
  :func:`forked`, a pid comparison the objects make on their slow paths; the hot path relies on the
  hook, because ``os.getpid()`` costs a system call (~250 ns here) and the hot path is ~100 ns.
"""

from __future__ import annotations

import os
import threading
import weakref
from typing import Protocol

__all__ = ["ForkAware", "current_pid", "forks_seen", "register"]


class ForkAware(Protocol):
    def _after_fork_in_child(self) -> None: ...


_live: weakref.WeakSet[ForkAware] = weakref.WeakSet()
_live_lock = threading.Lock()
_pid = os.getpid()
_forks_seen = 0


def register(obj: ForkAware) -> None:
    """Track ``obj`` so that a forked child resets it before first use."""
    with _live_lock:
        _live.add(obj)


def current_pid() -> int:
    """The pid the module last saw; equal to ``os.getpid()`` unless a hook-less fork happened."""
    return _pid


def forks_seen() -> int:
    """How many forks this process descends from, as seen by the hook (0 in the original parent)."""
    return _forks_seen


def _reset_after_fork_in_child() -> None:
    global _live_lock, _pid, _forks_seen
    # The child has one thread. The lock may have been held by a thread that no longer exists,
    # so replace it before anything else; iterate over a copy since resets may add entries.
    _live_lock = threading.Lock()
    _pid = os.getpid()
    _forks_seen += 1
    for obj in list(_live):
        obj._after_fork_in_child()


if hasattr(os, "register_at_fork"):  # absent on Windows, where there is no fork
    os.register_at_fork(after_in_child=_reset_after_fork_in_child)
