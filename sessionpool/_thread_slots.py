"""Per-thread state of a pool: a thread's slot, the scope tokens, and the shared counters.

A :class:`ThreadSlot` holds one thread's sessions in one pool. The pool keeps it in a
``threading.local``, so it is released when the thread ends, by reference counting rather than
a garbage-collection pass, and :meth:`ThreadSlot.__del__` then closes that thread's clients
(HAZARDS R2). Only the owning thread adds to a slot; the pool may drop entries from another
thread (close, eviction), and a concurrent reader then misses and takes the slow path.
"""

from __future__ import annotations

import collections
import os
import threading
import weakref
from typing import Any

from ._blocks import Scope
from ._keys import SessionKey
from ._locks import Lock, snapshot
from ._session import MEMO_LIMIT, PooledSession, close_clients

__all__ = ["Counters", "ThreadSlot", "usage"]


class Counters:
    """Counts shared by a pool's threads, guarded by the pool's lock (which it is given)."""

    __slots__ = (
        "clients_created",
        "dropped",
        "lock",
        "resources_created",
        "retired_hits",
        "sessions_created",
    )

    def __init__(self, lock: Lock) -> None:
        self.lock = lock
        self.sessions_created = 0
        self.clients_created = 0
        self.resources_created = 0
        # Hits of sessions that were released. Appended to without a lock from a slot's __del__
        # (which may run while any lock is held); deque.append and popleft are atomic.
        self.retired_hits: collections.deque[int] = collections.deque()
        # Keys whose session some thread dropped (thread exit, eviction, release), likewise
        # appended to without a lock: the pool settles them on its next slow path.
        self.dropped: collections.deque[SessionKey] = collections.deque()

    def take_retired_hits(self) -> int:
        total = 0
        while True:
            try:
                total += self.retired_hits.popleft()
            except IndexError:
                return total

    def client_created(self) -> None:
        with self.lock:
            self.clients_created += 1

    def resource_created(self) -> None:
        with self.lock:
            self.resources_created += 1


class ThreadSlot:
    """One thread's sessions in one pool, and the fast table that points into them.

    ``fast`` maps the current scope (None outside any ``with`` block) to the session calls that
    name no key use; the thread-local holds it too, so the hot path skips this object.
    Only the owning thread adds entries; :meth:`drop` and :meth:`release` may run in another
    thread (close, eviction), and a concurrent reader then misses and takes the slow path.
    """

    __slots__ = (
        "__weakref__",
        "by_args",
        "counters",
        "fast",
        "pid",
        "scopes",
        "sessions",
        "thread_name",
    )

    def __init__(self, counters: Counters) -> None:
        self.sessions: dict[SessionKey, PooledSession] = {}
        self.fast: dict[Scope | None, PooledSession] = {}
        # (scope, service, *call arguments) -> (session, client (weakly), session's epoch), for
        # calls with arguments;
        # emptied whenever a session is dropped, and when it grows past MEMO_LIMIT (a caller
        # that builds a new Config per call would otherwise grow it without end).
        self.by_args: dict[tuple[Any, ...], tuple[PooledSession, weakref.ref[Any], int]] = {}
        self.scopes: dict[SessionKey, Scope] = {}  # interned scopes of this thread's keys
        self.pid = os.getpid()
        self.thread_name = threading.current_thread().name
        self.counters = counters

    def total_hits(self) -> int:
        return sum(s.hits for _, s in snapshot(self.sessions))

    def remember(self, memo_key: tuple[Any, ...], session: PooledSession, client: Any) -> None:
        """Memoise a call with arguments (see ``by_args``), if its session is still tracked."""
        if len(self.by_args) >= MEMO_LIMIT:
            self.by_args.clear()
        # The client weakly: one pushed out of the session's cache is the holder's alone.
        self.by_args[memo_key] = (session, weakref.ref(client), session.epoch)
        # As for the fast table: check after publishing (drop pops the key, then clears memos).
        if self.sessions.get(session.pool_key) is not session:
            self.by_args.pop(memo_key, None)

    def scope_for(self, session: PooledSession) -> Scope:
        """The interned scope of ``session``'s key in this thread (made on first use)."""
        key = session.pool_key
        scope = self.scopes.get(key)
        if scope is None:
            scope = self.scopes.setdefault(key, Scope(key))
            if self.sessions.get(key) is not session:  # dropped meanwhile: do not keep it
                self.scopes.pop(key, None)
        return scope

    def drop(self, key: SessionKey) -> list[Any]:
        """Forget the session for ``key``; return its clients for the caller to close.

        The key is popped *first*: the owning thread publishes to ``fast`` and ``by_args`` and
        then checks that its session is still in ``sessions``, so either it sees the pop and
        withdraws the entry, or this sees the entry and removes it.
        """
        session = self.sessions.pop(key, None)
        if session is None:
            return []
        self.by_args.clear()
        self.scopes.pop(key, None)
        for scope, fast in snapshot(self.fast):
            if fast is session:
                self.fast.pop(scope, None)
        self.counters.retired_hits.append(session.hits)
        self.counters.dropped.append(key)
        return session.forget()

    def release(self) -> list[Any]:
        """Forget every session; return their clients for the caller to close (outside locks)."""
        clients: list[Any] = []
        for key in list(self.sessions):
            clients.extend(self.drop(key))
        self.fast.clear()
        self.by_args.clear()
        self.scopes.clear()
        return clients

    def __del__(self) -> None:
        # The thread ended (or the pool dropped its thread-local). In a forked child these are the
        # parent's clients, whose sockets the parent still uses: leave them alone (HAZARDS F4).
        # No lock is taken here: this may run wherever the last reference goes. Nor is anything
        # logged: at thread exit the thread is already gone from threading's table, and a log
        # record would register a _DummyThread for it that is never removed.
        if self.pid != os.getpid():
            return
        clients = self.release()
        if clients:
            close_clients(clients, quiet=True)


def usage(slots: list[ThreadSlot]) -> dict[SessionKey, int]:
    """Each key's cache hits across threads: changes whenever a thread uses the key on a path
    that does not itself record the use (the hot path, and cached ``s.client()`` calls)."""
    usage: dict[SessionKey, int] = {}
    for slot in slots:
        for key, session in snapshot(slot.sessions):
            usage[key] = usage.get(key, 0) + session.hits
    return usage
