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

from botocore.credentials import Credentials
from botocore.exceptions import NoCredentialsError

from ._keys import SessionKey

__all__ = ["EXPIRED_TOKEN_CODES", "CredentialCells", "SharedCredentials"]

# Error codes AWS returns when a request was signed with credentials that have expired.
EXPIRED_TOKEN_CODES = frozenset({"ExpiredToken", "ExpiredTokenException", "RequestExpired"})


class SharedCredentials(Credentials):
    """The one credentials object every session of a key shares, in one process.

    It delegates to the credentials botocore resolved (static or ``RefreshableCredentials``, which
    refresh themselves under their own lock). :meth:`expire` marks them stale, for credentials
    that cannot know their own expiry (an explicit session token, ``credential_process`` output
    with no ``Expiration``, HAZARDS R5): the next read resolves the chain again, once, for every
    session of the key at the same time. Explicit keys cannot be renewed this way and are kept.

    It never shows or pickles a secret (HAZARDS X1).
    """

    def __init__(self, inner: Any, resolve: Callable[[], Any], renewable: bool) -> None:
        # Deliberately not calling Credentials.__init__: every field is delegated.
        self._inner = inner
        self._resolver = resolve
        self._renewable = renewable
        self._stale = False
        self._renew_lock = threading.Lock()
        self.renewals = 0

    def _current(self) -> Any:
        if self._stale:
            with self._renew_lock:
                if self._stale:  # the first reader renews; the others find it done
                    fresh = self._resolver()
                    if fresh is None:
                        raise NoCredentialsError()
                    self._inner = fresh
                    self.renewals += 1
                    self._stale = False
        return self._inner

    def expire(self, signed_with: int | None = None) -> bool:
        """Mark the credentials stale; True if they can be renewed (they are not explicit keys).

        Parameters:
            signed_with: the :attr:`generation` that signed the rejected request. A rejection
                of credentials that have been renewed since does not renew them again: with
                many requests in flight at expiry, the first rejection renews, the rest retry.
        """
        if self._renewable and (signed_with is None or signed_with == self.generation):
            self._stale = True
        return self._renewable

    @property
    def generation(self) -> int:
        """How many times these credentials were renewed; tags a request with what signed it."""
        return self.renewals

    def get_frozen_credentials(self) -> Any:
        return self._current().get_frozen_credentials()

    @property  # botocore declares a plain attribute
    def access_key(self) -> Any:  # type: ignore[override]
        return self._current().access_key

    @property  # botocore declares a plain attribute
    def secret_key(self) -> Any:  # type: ignore[override]
        return self._current().secret_key

    @property  # botocore declares a plain attribute
    def token(self) -> Any:  # type: ignore[override]
        return self._current().token

    @property  # botocore declares a plain attribute
    def method(self) -> Any:  # type: ignore[override]
        return self._inner.method

    @property
    def account_id(self) -> Any:
        return getattr(self._inner, "account_id", None)

    @property
    def inner(self) -> Any:
        """The credentials object botocore resolved (refreshable or static)."""
        return self._inner

    def __repr__(self) -> str:
        return f"<SharedCredentials method={self.method!r} renewals={self.renewals}>"

    def __reduce__(self) -> Any:
        raise TypeError(
            "credentials do not pickle (they would carry the secret); pickle the SessionPool, "
            "which travels as its configuration."
        )


class _Cell:
    __slots__ = ("done", "error", "value")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None


class CredentialCells:
    """Per-process registry: key -> the one :class:`SharedCredentials` its sessions share."""

    def __init__(self) -> None:
        # Mutable state: _cells (key -> _Cell) and resolutions, guarded by _lock.
        self._lock = threading.Lock()
        self._cells: dict[SessionKey, _Cell] = {}
        self.resolutions = 0
        # Not registered with _fork: the owning pool resets it, also after a hook-less fork.

    def get(self, key: SessionKey, resolve: Callable[[], Any], renewable: bool = True) -> Any:
        """The shared credentials for ``key``, calling ``resolve()`` only if none are published.

        Parameters:
            key: the session key the credentials belong to.
            resolve: resolves the chain for that key and returns a botocore credentials object
                or None; called at most once at a time per key, without any lock held, and
                again when the credentials are renewed after :meth:`SharedCredentials.expire`.
            renewable: False for explicit keys, which resolving again cannot change.
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
            inner = resolve()
            cell.value = None if inner is None else SharedCredentials(inner, resolve, renewable)
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
        """Drop the credentials of ``key`` (or of every key): the next use resolves anew."""
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
        self.resolutions = 0  # counts are per process, like the pool's
