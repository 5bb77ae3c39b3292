"""The owner tables of one pool in one process, and the lookup protocol that keeps them honest.

An *owner* is whoever a session belongs to: a thread by default, a greenlet, or a scope
function's id (see :mod:`._owners`). Each owner has an :class:`OwnerSlot`, kept in a per-owner
store (``Registry.local``, a ``threading.local`` for threads), so a thread's slot goes when the
thread ends: by reference counting, not a garbage-collection pass (HAZARDS R2).

**The tables**, all in the slot (the truth is ``sessions``; the rest point into it):

* ``sessions``: key -> this owner's session for it.
* ``fast``: the current block's :class:`~._blocks.BlockKey` (None outside any block) -> the
  session calls naming no key use. ``local.fast`` is the same dict, and ``local.hot`` is the
  no-block session's own ``service -> client getter`` table: the hot path is
  ``local.hot[service]()`` (see ``SessionPool.client``).
* ``memo``: calls with arguments (see :mod:`._memo`).
* ``block_keys``: the owner's interned :class:`~._blocks.BlockKey` per key.

**The protocol.** Only the owner adds to its slot; any thread may drop from it (eviction,
``close()``, ``clear()``). An entry published to a derived table must never outlive the session
in ``sessions`` (an untracked session would never be evicted, closed or counted: HAZARDS E1):

* *publish, then check* (:meth:`Registry.publish`, :meth:`Registry.remember`): the owner writes
  the derived entry first, then checks that the session is still in ``sessions``, and withdraws
  the entry if not;
* *pop first* (:meth:`OwnerSlot.drop`): a dropper pops the key from ``sessions`` first, then
  removes the derived entries and empties the session's own tables (which the hot path then
  misses).
Either the owner's check sees the pop, or the dropper sees the entry. A reader that meets a
half-dropped slot misses and takes the slow path, which looks again.

**Counts.** Hits are counted where they happen, without a lock: every cached client has a meter
(see ``PooledSession._meter``), which the hot path, the memo and cache hits call; a dropped
session's hits move to ``Counters.retired_hits``.
Sessions per key (``key_sessions``, under the pool's lock) say when a key has no session left;
drops reach it through the lock-free ``Counters.dropped`` deque, settled on the next slow path.

Locks: the pool's lock (given) guards ``slots``, the counters and ``key_sessions``; the slots'
tables take none (one writer, and readers in other threads copy them with
:func:`~._locks.snapshot`).
"""

from __future__ import annotations

import collections
import os
import threading
import weakref
from collections.abc import Callable
from typing import Any

from ._blocks import BlockKey
from ._keys import SessionKey
from ._locks import Lock, snapshot
from ._memo import Memo
from ._owners import ScopeFunc, new_local
from ._session import PooledSession, close_clients

__all__ = ["Counters", "OwnerSlot", "Registry"]


class Counters:
    """Counts shared by a pool's owners, guarded by the pool's lock (which it is given)."""

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
        # Hits of sessions that were dropped, and the keys of those sessions: appended to without
        # a lock, from a slot's __del__ too (which may run wherever the last reference goes);
        # deque.append and popleft are atomic.
        self.retired_hits: collections.deque[int] = collections.deque()
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


class OwnerSlot:
    """One owner's sessions in one pool, and the tables that point into them (see the module
    docstring for the tables and the protocol)."""

    __slots__ = (
        "__weakref__",
        "block_keys",
        "counters",
        "fast",
        "memo",
        "pid",
        "sessions",
        "owner_name",
    )

    def __init__(self, counters: Counters) -> None:
        self.sessions: dict[SessionKey, PooledSession] = {}
        self.fast: dict[BlockKey | None, PooledSession] = {}
        self.memo = Memo()
        self.block_keys: dict[SessionKey, BlockKey] = {}
        self.pid = os.getpid()
        self.owner_name = threading.current_thread().name
        self.counters = counters

    def total_hits(self) -> int:
        return sum(s.hits for _, s in snapshot(self.sessions))

    def block_key(self, session: PooledSession) -> BlockKey:
        """The interned :class:`BlockKey` of ``session``'s key in this slot (made on first use)."""
        key = session.pool_key
        found = self.block_keys.get(key)
        if found is None:
            found = self.block_keys.setdefault(key, BlockKey(key))
            if self.sessions.get(key) is not session:  # dropped meanwhile: do not keep it
                self.block_keys.pop(key, None)
        return found

    def drop(self, key: SessionKey) -> list[Any]:
        """Forget the session for ``key`` (popped first: see the protocol); return its clients
        for the caller to close, outside any lock."""
        session = self.sessions.pop(key, None)
        if session is None:
            return []
        self.memo.clear()
        self.block_keys.pop(key, None)
        for block_key, fast in snapshot(self.fast):
            if fast is session:
                self.fast.pop(block_key, None)
        self.counters.retired_hits.append(session.hits)
        self.counters.dropped.append(key)
        return session.forget()

    def release(self) -> list[Any]:
        """Forget every session; return their clients for the caller to close (outside locks)."""
        clients: list[Any] = []
        for key in list(self.sessions):
            clients.extend(self.drop(key))
        self.fast.clear()
        self.memo.clear()
        self.block_keys.clear()
        return clients

    def __del__(self) -> None:
        # The owner ended (or the pool dropped its per-owner store). In a forked child these are
        # the parent's clients, whose sockets the parent still uses: leave them alone
        # (HAZARDS F4). Nothing is logged: at thread exit the thread is already gone from
        # threading's table, and a log record would register a _DummyThread for it that is never
        # removed.
        if self.pid != os.getpid():
            return
        clients = self.release()
        if clients:
            close_clients(clients, quiet=True)


class Registry:
    """A pool's owner tables in this process (see the module docstring).

    Parameters:
        scopefunc: who owns a session (``"thread"``, ``"greenlet"`` or a callable).
        lock: the pool's lock, which guards the shared parts.
    """

    def __init__(self, scopefunc: ScopeFunc, lock: Lock) -> None:
        self.lock = lock
        self.local: Any = new_local(scopefunc)  # per owner: .slot, .fast, .hot
        self.slots: weakref.WeakSet[OwnerSlot] = weakref.WeakSet()
        self.counters = Counters(lock)
        self.key_sessions: collections.Counter[SessionKey] = collections.Counter()

    def slot(self) -> OwnerSlot:
        """The current owner's slot, made on first use."""
        local = self.local
        try:
            slot: OwnerSlot = local.slot
            return slot
        except AttributeError:
            pass
        slot = OwnerSlot(self.counters)
        local.slot = slot
        local.fast = slot.fast
        with self.lock:
            self.slots.add(slot)
        return slot

    def find_or_make(
        self,
        slot: OwnerSlot,
        key: SessionKey,
        make: Callable[[SessionKey, Memo, Counters], PooledSession],
    ) -> PooledSession:
        """``slot``'s session for ``key``, made by ``make(key, memo, counters)`` (outside any
        lock) if it has none. Counted for its key before it exists, so that settling a drop
        meanwhile never forgets the credentials it is about to use."""
        session = slot.sessions.get(key)
        if session is not None:
            return session
        with self.lock:
            self.key_sessions[key] += 1
        try:
            made = make(key, slot.memo, self.counters)
        except BaseException:
            self.counters.dropped.append(key)
            raise
        # setdefault: another greenlet of this thread may have made one meanwhile (it can switch
        # while credentials resolve); the first published wins, and the loser is not counted.
        session = slot.sessions.setdefault(key, made)
        if session is made:
            with self.lock:
                self.counters.sessions_created += 1
        else:
            self.counters.dropped.append(key)
        return session

    def publish(
        self,
        slot: OwnerSlot,
        key: SessionKey,
        session: PooledSession,
        block_key: BlockKey | None,
        fast: bool,
    ) -> bool:
        """Publish ``session`` as what calls naming no key use under ``block_key`` (if ``fast``),
        then check that it is still tracked; False (and nothing left published) if another
        thread dropped it meanwhile: the caller looks again."""
        if fast:
            slot.fast[block_key] = session
            if block_key is None:
                self.local.hot = session.by_name  # the hot path's table: this session's
        if slot.sessions.get(key) is session:
            return True
        if fast and slot.fast.get(block_key) is session:
            slot.fast.pop(block_key, None)
            if getattr(self.local, "hot", None) is session.by_name:
                del self.local.hot
        return False

    def remember(
        self,
        slot: OwnerSlot,
        memo_key: tuple[Any, ...],
        session: PooledSession,
        client: Any,
        meter: Callable[[], Any],
    ) -> None:
        """Remember a call with arguments, if its session is still tracked (publish, check)."""
        slot.memo.remember(memo_key, session, client, meter)
        if slot.sessions.get(session.pool_key) is not session:
            slot.memo.pop(memo_key, None)

    def settle(self) -> list[SessionKey]:
        """Count the sessions owners dropped (ends, evictions, releases); return the keys of
        explicit credentials that no session has any more (the caller forgets them). A key whose
        credentials the chain resolved stays until it is evicted, so that owners that come and
        go resolve it once."""
        gone: list[SessionKey] = []
        dropped = self.counters.dropped
        with self.lock:
            while dropped:
                try:
                    key = dropped.popleft()
                except IndexError:
                    break
                left = self.key_sessions[key] - 1
                if left > 0:
                    self.key_sessions[key] = left
                    continue
                del self.key_sessions[key]
                if key.static_keys is not None:
                    gone.append(key)
        return gone

    def live_slots(self) -> list[OwnerSlot]:
        with self.lock:
            return list(self.slots)

    def drop_everywhere(self, key: SessionKey, slots: list[OwnerSlot]) -> list[Any]:
        """Drop ``key``'s session from every slot; return the clients to close."""
        clients: list[Any] = []
        for slot in slots:
            clients.extend(slot.drop(key))
        return clients

    def release_current(self) -> list[Any]:
        """Forget the current owner's slot; return its clients to close."""
        local = self.local
        slot = getattr(local, "slot", None)
        if slot is None:
            return []
        if hasattr(local, "release"):  # an OwnerLocal (a scope function's owners)
            local.release()
        else:
            for name in ("slot", "fast", "hot"):
                try:
                    delattr(local, name)
                except AttributeError:
                    pass
        clients: list[Any] = slot.release()
        return clients

    def usage(self, slots: list[OwnerSlot]) -> dict[SessionKey, int]:
        """Each key's cache hits across owners: it changes whenever an owner uses the key on a
        path that does not record the use itself (the hot path, cached ``s.client()`` calls)."""
        usage: dict[SessionKey, int] = {}
        for slot in slots:
            for key, session in snapshot(slot.sessions):
                usage[key] = usage.get(key, 0) + session.hits
        return usage
