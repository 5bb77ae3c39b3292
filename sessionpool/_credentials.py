"""Credentials resolved once per key per process, and shared by every thread's session.

Every new botocore session walks the whole credential chain on its own: 32 threads on an
assume-role profile make 32 AssumeRole calls, and 32 threads on EC2 make ~80 metadata requests,
enough to be throttled into sessions that silently have no credentials (HAZARDS T5). Here the
first session for a key resolves the chain (through its own botocore session, so every source
botocore knows keeps working: environment, shared files, assume-role, SSO, web identity,
``credential_process``, container, IMDS) and publishes the resulting object; every other thread's
session for that key is handed the same object.

Sharing is safe: botocore's ``RefreshableCredentials`` carries its own refresh lock with a
lock-free fast path (HAZARDS T4), and nothing here reads credentials except through
``get_frozen_credentials()``.

Protocol (cachetools' stampede guard): a cell per key; the first caller becomes the resolver and
resolves *outside* any shared lock; the others wait on that cell's event. Resolving one key never
blocks another. A failed resolution wakes the waiters with the same error and removes the cell,
so a later call tries again. A chain that finds nothing (``None``) is not cached either.

Credential state is keyed by the full :class:`SessionKey` (profile, region and the fingerprint of
any explicit keys), never by a role ARN alone (HAZARDS S4). In a forked child the cells are
dropped: a refresh lock held at fork time would deadlock the child (HAZARDS F2).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from . import _fork
from ._keys import SessionKey

__all__ = ["CredentialCells"]


class _Cell:
    __slots__ = ("done", "value", "error")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None


class CredentialCells:
    """Per-process registry: key -> the one credentials object every session for it shares."""

    def __init__(self) -> None:
        # Mutable state: _cells (key -> _Cell) and resolutions, guarded by _lock.
        self._lock = threading.Lock()
        self._cells: dict[SessionKey, _Cell] = {}
        self.resolutions = 0
        _fork.register(self)

    def get(self, key: SessionKey, resolve: Callable[[], Any]) -> Any:
        """The shared credentials for ``key``, calling ``resolve()`` only if none are published.

        Parameters:
            key: the session key the credentials belong to.
            resolve: resolves the chain for that key and returns a botocore credentials object
                or None; called at most once at a time per key, without any lock held.
        """
        cell = self._cells.get(key)
        if cell is not None and cell.done.is_set() and cell.error is None:
            return cell.value
        with self._lock:
            cell = self._cells.get(key)
            owner = cell is None
            if owner:
                cell = self._cells[key] = _Cell()
                self.resolutions += 1
        assert cell is not None
        if not owner:
            cell.done.wait()
            if cell.error is not None:
                raise cell.error
            return cell.value
        try:
            cell.value = resolve()
        except BaseException as exc:
            cell.error = exc
            with self._lock:
                if self._cells.get(key) is cell:
                    del self._cells[key]
            raise
        finally:
            cell.done.set()
        if cell.value is None:
            with self._lock:
                if self._cells.get(key) is cell:
                    del self._cells[key]
        return cell.value

    def forget(self, key: SessionKey | None = None) -> None:
        """Drop the published credentials of ``key`` (or of every key): the next use resolves anew."""
        with self._lock:
            if key is None:
                self._cells.clear()
            else:
                self._cells.pop(key, None)

    def _after_fork_in_child(self) -> None:
        # Assign only: the parent's credential objects, and the refresh locks inside them, may
        # be mid-refresh in a thread that does not exist here.
        self._lock = threading.Lock()
        self._cells = {}
