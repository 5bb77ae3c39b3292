"""Credentials resolved once per key per process, shared by every thread's session.

Every new botocore session walks the whole credential chain on its own: 32 threads on an
assume-role profile make 32 AssumeRole calls, and 32 threads on EC2 make ~80 metadata requests,
enough to be throttled into sessions that silently have no credentials (HAZARDS T5). Here the
first session for a key resolves the chain (through its own botocore session, so every source
botocore knows keeps working: environment, shared files, assume-role, SSO, web identity,
``credential_process``, container, IMDS) and publishes the resulting object; every other thread's
session for that key is handed the same :class:`SharedCredentials`.

**Single flight** (:class:`CredentialCells`, after cachetools' stampede guard): a cell per key;
the first caller resolves *outside* any shared lock, the others wait on the cell, with a bound.
The cell is always completed, whatever interrupts its resolver (the ``try`` starts before the cell
is published). A resolver interrupted by ``KeyboardInterrupt`` or ``SystemExit`` abandons the
cell and the waiters resolve for themselves; a resolver that fails with an error hands each
waiter its own copy of the error (same type, no foreign traceback), chained to a note naming the
thread that failed (HAZARDS C3). Failures and empty chains are not cached.

**Atomic reads** (:class:`SharedCredentials`): reads are answered from an immutable snapshot
(frozen keys plus the times from which botocore wants a refresh), replaced as one reference. Only
near expiry does a reader call into botocore, under the object's gate, so no thread can see a
refresh half done: botocore before ~1.43.127 publishes a new expiry before the new keys (HAZARDS
C2), which a shared object would otherwise expose.

**Renewal**: :meth:`SharedCredentials.expire` marks credentials stale after AWS rejected them
(expired token, or a key it does not know: rotated), and :meth:`SharedCredentials.check_source`
when the shared config or credentials files or the credential environment variables changed
since they were resolved (HAZARDS C1); the next read resolves the chain again, once for all
threads. Explicit keys are never replaced.

Credential state is keyed by the full :class:`~._keys.SessionKey`, never by a role ARN alone
(HAZARDS S4). In a forked child the cells are dropped: a lock held at fork time would deadlock
the child (HAZARDS F2). Locks: ``CredentialCells._lock`` guards the cell table and the count;
``SharedCredentials._gate`` serialises refreshes, renewals and expiry of one key.
"""

from __future__ import annotations

import contextlib
import copy
import os
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager as ContextManager
from typing import Any, NamedTuple

from botocore.credentials import Credentials, RefreshableCredentials
from botocore.exceptions import NoCredentialsError

from ._botocore.credentials import inherited_copy, refresh_deadlines
from ._errors import CredentialResolutionError, CredentialWaitTimeout
from ._keys import SessionKey
from ._secrets import SecretStr, fingerprint

__all__ = [
    "DEFAULT_RESOLVE_TIMEOUT",
    "EXPIRED_TOKEN_CODES",
    "REJECTED_KEY_CODES",
    "CredentialCells",
    "SharedCredentials",
    "credential_sources",
]

# Error codes AWS returns when a request was signed with credentials that have expired.
EXPIRED_TOKEN_CODES = frozenset({"ExpiredToken", "ExpiredTokenException", "RequestExpired"})
# ... and when it does not know the key at all (deleted after a rotation) or the secret is not
# the key's (rotated in the file before it was read).
REJECTED_KEY_CODES = frozenset(
    {
        "InvalidAccessKeyId",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "AuthFailure",
    }
)

# How long a thread waits for another thread resolving the same key. botocore's slowest default
# source is AssumeRole through STS: up to 5 attempts (legacy retry mode) of a 60 s connect and a
# 60 s read timeout, 600 s; plus a margin. A credential_process has no timeout at all.
DEFAULT_RESOLVE_TIMEOUT = 660.0

# The environment variables botocore's chain reads credentials or their location from.
_CREDENTIAL_ENV = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
)


def credential_sources() -> str:
    """A salted digest of what botocore's chain reads: the shared config and credentials files'
    contents and the credential environment variables. Equal digests: nothing changed."""
    parts: list[str | None] = [os.environ.get(name) for name in _CREDENTIAL_ENV]
    for variable, default in (
        ("AWS_CONFIG_FILE", "~/.aws/config"),
        ("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials"),
    ):
        path = os.path.expanduser(os.path.expandvars(os.environ.get(variable, default)))
        try:
            with open(path, "rb") as f:
                parts.append(f.read().decode("utf-8", "replace"))
        except OSError:
            parts.append(None)
    return fingerprint(*parts)


class _Snapshot(NamedTuple):
    frozen: Any  # botocore ReadOnlyCredentials, secrets wrapped in SecretStr
    advisory: float  # epoch seconds from which one reader should refresh
    mandatory: float  # ... from which every reader must wait for the refresh


def _masked(frozen: Any) -> Any:
    """``frozen`` with the secret key and token wrapped in SecretStr (same values on the wire),
    so that header dicts and frame locals downstream show them masked."""
    changes = {
        name: SecretStr(value)
        for name in ("secret_key", "token")
        if type(value := getattr(frozen, name, None)) is str
    }
    return frozen._replace(**changes) if changes else frozen


class SharedCredentials(Credentials):
    """The one credentials object every session of a key shares, in one process.

    It delegates to the credentials botocore resolved (static or ``RefreshableCredentials``) and
    answers reads from a snapshot between refreshes (see the module docstring). It never shows or
    pickles a secret (HAZARDS X1).

    Parameters:
        inner: the credentials botocore resolved.
        resolve: resolves the chain again, for renewal; returns botocore credentials or None.
        renewable: False for explicit keys, which resolving again cannot change.
        source: :func:`credential_sources` when ``inner`` was resolved.
    """

    def __init__(
        self,
        inner: Any,
        resolve: Callable[[], Any],
        renewable: bool,
        source: str | None = None,
        machine_lock: Callable[[], ContextManager[Any]] | None = None,
    ) -> None:
        # Deliberately not calling Credentials.__init__: every field is delegated.
        self._inner = inner
        # With a credential cache: a lock shared by every process on the machine, held while
        # botocore refreshes (and fills the file cache), so one process fetches, the others read.
        self._machine_lock = machine_lock or contextlib.nullcontext
        self._resolver = resolve
        self._renewable = renewable
        self._source = source
        self._stale = False
        self._gate = threading.Lock()
        self._snapshot: _Snapshot | None = None
        self.renewals = 0

    def get_frozen_credentials(self) -> Any:
        snapshot = self._snapshot
        if snapshot is not None and time.time() < snapshot.advisory:
            return snapshot.frozen
        return self._read_slow(snapshot)

    def _read_slow(self, seen: _Snapshot | None) -> Any:
        if seen is not None and time.time() < seen.mandatory:
            # Advisory window: one reader refreshes; the others keep using keys still valid.
            if not self._gate.acquire(blocking=False):
                return seen.frozen
        else:
            self._gate.acquire()
        try:
            current = self._snapshot
            if current is not None and current is not seen and time.time() < current.advisory:
                return current.frozen  # another thread refreshed while this one waited
            with self._machine_lock():
                if self._stale:
                    self._renew()
                frozen = _masked(self._inner.get_frozen_credentials())
            self._snapshot = _Snapshot(frozen, *refresh_deadlines(self._inner))
            return frozen
        finally:
            self._gate.release()

    def _renew(self) -> None:
        # Under the gate. _stale stays set if resolving fails, so the next read tries again.
        fresh = self._resolver()
        if fresh is None:
            raise NoCredentialsError()
        self._inner = fresh
        self.renewals += 1
        self._stale = False

    def expire(self, signed_with: int | None = None) -> bool:
        """Mark the credentials stale; True if they can be renewed (they are not explicit keys).

        Parameters:
            signed_with: the :attr:`generation` that signed the rejected request. A rejection
                of credentials that have been renewed since does not renew them again: with
                many requests in flight at expiry, the first rejection renews, the rest retry.
        """
        if not self._renewable:
            return False
        with self._gate:
            if signed_with is None or signed_with == self.renewals:
                self._stale = True
                self._snapshot = None
        return True

    def check_source(self, source: str) -> bool:
        """Mark the credentials stale if what the chain reads changed since they were resolved.

        Parameters:
            source: :func:`credential_sources` now.

        Returns: True if they were marked stale.
        """
        if not self._renewable or source == self._source:
            return False
        with self._gate:
            if source == self._source:
                return False
            self._source = source
            self._stale = True
            self._snapshot = None
        return True

    def copy_for_child(self) -> SharedCredentials | None:
        """In a forked child: these credentials' current keys in new objects with new locks,
        refreshing on the child's own schedule by resolving afresh; None if the parent was
        renewing or refreshing them at the fork, or they are stale or due for a refresh (the
        child then resolves on its own). Reads only; takes no lock (it runs in the fork hook)."""
        if self._gate.locked() or self._stale:
            return None
        seen = self._snapshot
        refreshable = isinstance(self._inner, RefreshableCredentials)
        if refreshable and (seen is None or time.time() >= seen.advisory):
            return None  # never read yet, or due for a refresh: nothing current to carry
        inner = inherited_copy(self._inner, self._resolver)
        if inner is None:
            return None
        child = SharedCredentials(
            inner, self._resolver, self._renewable, self._source, self._machine_lock
        )
        child.renewals = self.renewals
        return child

    @property
    def generation(self) -> int:
        """How many times these credentials were renewed; tags a request with what signed it."""
        return self.renewals

    @property  # botocore declares a plain attribute
    def access_key(self) -> Any:  # type: ignore[override]
        return self.get_frozen_credentials().access_key

    @property  # botocore declares a plain attribute
    def secret_key(self) -> Any:  # type: ignore[override]
        return self.get_frozen_credentials().secret_key

    @property  # botocore declares a plain attribute
    def token(self) -> Any:  # type: ignore[override]
        return self.get_frozen_credentials().token

    @property  # botocore declares a plain attribute
    def method(self) -> Any:  # type: ignore[override]
        return self._inner.method

    @property
    def account_id(self) -> Any:
        # Through the snapshot: botocore's own property would refresh outside our gate.
        return getattr(self.get_frozen_credentials(), "account_id", None)

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


# Cell states.
_PENDING, _DONE, _FAILED, _ABANDONED = "pending", "done", "failed", "abandoned"


class _Cell:
    __slots__ = ("done", "error", "resolver", "state", "value")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.state = _PENDING
        self.value: Any = None
        self.error: Exception | None = None
        self.resolver = threading.current_thread().name


class CredentialCells:
    """Per-process registry: key -> the one :class:`SharedCredentials` its sessions share.

    Parameters:
        timeout: seconds a thread waits for another thread resolving the same key before it
            raises :class:`~sessionpool.CredentialWaitTimeout`.
    """

    def __init__(self, timeout: float = DEFAULT_RESOLVE_TIMEOUT) -> None:
        # Mutable state: _cells (key -> _Cell) and resolutions, guarded by _lock.
        self._lock = threading.Lock()
        self._cells: dict[SessionKey, _Cell] = {}
        self.resolutions = 0
        self.timeout = timeout
        # Not registered with _fork: the owning pool resets it, also after a hook-less fork.

    def get(
        self,
        key: SessionKey,
        resolve: Callable[[], Any],
        renewable: bool = True,
        source: str | None = None,
        machine_lock: Callable[[], ContextManager[Any]] | None = None,
    ) -> Any:
        """The shared credentials for ``key``, calling ``resolve()`` only if none are published.

        Parameters:
            key: the session key the credentials belong to.
            resolve: resolves the chain for that key and returns a botocore credentials object
                or None; called at most once at a time per key, without any lock held, and
                again when the credentials are renewed after :meth:`SharedCredentials.expire`.
            renewable: False for explicit keys, which resolving again cannot change.
            source: :func:`credential_sources` before resolving, for :meth:`check_source`.
            machine_lock: a lock shared with other processes, held around refreshes.
        """
        while True:
            cell = self._cells.get(key)
            if cell is not None and cell.state is _DONE:
                return cell.value
            mine = _Cell()
            # The try starts before the cell can be published: whatever interrupts this thread
            # from here on, the finally completes the cell, so no waiter is left forever.
            try:
                with self._lock:
                    cell = self._cells.setdefault(key, mine)
                    if cell is mine:
                        self.resolutions += 1
                if cell is not mine:
                    found = self._wait(cell, key)
                    if found is _RETRY:
                        continue
                    return found
                inner = resolve()
                mine.value = (
                    None
                    if inner is None
                    else SharedCredentials(inner, resolve, renewable, source, machine_lock)
                )
                mine.state = _DONE
                return mine.value
            except Exception as exc:
                mine.error = exc
                raise
            finally:
                self._complete(key, mine)

    def _complete(self, key: SessionKey, cell: _Cell) -> None:
        if cell.state is not _DONE or cell.value is None:
            # Failed, interrupted, or the chain found nothing: not cached; the next call tries.
            if cell.state is _PENDING:
                cell.state = _ABANDONED if cell.error is None else _FAILED
            with self._lock:
                if self._cells.get(key) is cell:
                    del self._cells[key]
        cell.done.set()

    def _wait(self, cell: _Cell, key: SessionKey) -> Any:
        if not cell.done.wait(self.timeout):
            raise CredentialWaitTimeout(
                f"waited {self.timeout:g} s for thread {cell.resolver!r} to resolve credentials "
                f"for {key.describe()}; check the credential source (a credential_process that "
                f"never exits?) or raise SessionPool(resolve_timeout=...)."
            )
        if cell.state is _ABANDONED:  # its resolver was interrupted: resolve for ourselves
            return _RETRY
        if cell.state is _FAILED:
            assert cell.error is not None
            raise _own_copy(cell.error) from CredentialResolutionError(
                f"thread {cell.resolver!r} resolving credentials for {key.describe()} raised the "
                f"error below (its traceback stays with that thread); this thread waited for it."
            )
        return cell.value

    def forget(self, key: SessionKey | None = None) -> None:
        """Drop the credentials of ``key`` (or of every key): the next use resolves anew."""
        with self._lock:
            if key is None:
                self._cells.clear()
            else:
                self._cells.pop(key, None)

    def _after_fork_in_child(self) -> None:
        # The parent's credential objects, and the locks inside them, may be mid-refresh in a
        # thread that does not exist here: never use them. Keys resolved and current at the
        # fork are carried over in new objects with new locks, so a forked worker pool makes no
        # AssumeRole or metadata call of its own until they need refreshing.
        inherited = self._cells
        self._lock = threading.Lock()
        self._cells = {}
        self.resolutions = 0  # counts are per process, like the pool's
        for key, cell in list(inherited.items()):
            if cell.state is not _DONE or cell.value is None:
                continue
            try:
                child = cell.value.copy_for_child()
            except Exception:  # noqa: BLE001 - the child resolves on its own instead
                child = None
            if child is not None:
                carried = _Cell()
                carried.value, carried.state = child, _DONE
                carried.done.set()
                self._cells[key] = carried


_RETRY: Any = object()


def _own_copy(error: Exception) -> Exception:
    """A new exception of the same type and message as ``error``, with no traceback or chain."""
    try:
        mine = copy.copy(error)
    except Exception:  # noqa: BLE001 - an exotic exception class: describe it instead
        mine = None
    if mine is None or mine is error or type(mine) is not type(error):
        mine = CredentialResolutionError(f"{type(error).__name__}: {error}")
    mine.__traceback__ = None
    mine.__cause__ = mine.__context__ = None
    return mine
