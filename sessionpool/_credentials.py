"""Credentials resolved once per key per process, shared by every thread's session.

Every new botocore session walks the whole credential chain on its own: 32 threads on an
assume-role profile make 32 AssumeRole calls, and 32 threads on EC2 make ~80 metadata requests,
enough to be throttled into sessions that silently have no credentials (HAZARDS T5). Here the
first session for a key resolves the chain (through its own botocore session, so every source
botocore knows keeps working: environment, shared files, assume-role, SSO, web identity,
``credential_process``, container, IMDS) and publishes the resulting object; every other thread's
session for that key is handed the same :class:`SharedCredentials`.

**Single flight** (:class:`_Flight`, after cachetools' stampede guard), for the first resolution
of a key (:class:`CredentialCells`) and for every refresh or renewal of its credentials
(:class:`SharedCredentials`): the first thread that needs the work does it, *outside* any lock;
the others wait on the flight, each until the deadline ``resolve_timeout`` after it asked, and
then raise :class:`~sessionpool.CredentialWaitTimeout`; a hung source blocks no thread past
that (HAZARDS I10). A flight is always completed, whatever interrupts its thread (the ``try``
starts before it is published). Its result is shared: a failure reaches every thread that waited
on it, each as its own copy of the error (same type, no foreign traceback), chained to a note
naming the thread that failed (HAZARDS C3, I5), and the next call starts a new flight. A thread
interrupted by ``KeyboardInterrupt`` or ``SystemExit`` abandons its flight and the waiters start
their own. The thread doing the work may re-enter the pool from a signal handler, a finalizer or a
logging handler (HAZARDS I4): it is recognised, never made to wait for itself (see
:meth:`CredentialCells.get` and :meth:`SharedCredentials.get_frozen_credentials`).

**Atomic reads** (:class:`SharedCredentials`): reads are answered from an immutable snapshot
(frozen keys plus the times from which botocore wants a refresh), replaced as one reference. Only
near expiry does a reader call into botocore, in the refresh flight, so no thread can see a
refresh half done: botocore before ~1.43.127 publishes a new expiry before the new keys
(HAZARDS C2), which a shared object would otherwise expose. In botocore's advisory window a
refresh runs while the other threads keep the keys they have; in its mandatory window they wait
for it.

**Renewal**: :meth:`SharedCredentials.expire` marks credentials stale after AWS rejected them
(expired token, or a key it does not know: rotated), and :meth:`SharedCredentials.check_source`
when the shared config or credentials files or the credential environment variables changed
since they were resolved (HAZARDS C1); the next read resolves the chain again, in a flight, once
for all threads. Explicit keys are never replaced.

Credential state is keyed by a :class:`~._keys.CredentialKey` (the full session key, and the
profile the environment named), never by a role ARN alone (HAZARDS S4). In a forked child the
flights and locks are dropped (HAZARDS F2). Locks (``docs/internals/locks.md``):
``CredentialCells._lock`` guards the cell table and the count; ``SharedCredentials._state``
guards one key's flight, snapshot, staleness and renewal count. Both are held only for
assignments: nothing calls botocore or logs under them.
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

from . import _locks
from ._botocore.credentials import inherited_copy, refresh_deadlines
from ._errors import CredentialResolutionError, CredentialWaitTimeout
from ._errors import NoCredentialsError as NoCredentialsFound
from ._keys import CredentialKey, SessionKey
from ._secrets import SecretStr, fingerprint

__all__ = [
    "DEFAULT_RESOLVE_TIMEOUT",
    "EXPIRED_TOKEN_CODES",
    "REJECTED_KEY_CODES",
    "CredentialCells",
    "PendingCredentials",
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
    # Not AWS_PROFILE: the profile the environment names is part of the credentials' key
    # (CredentialKey), so switching it resolves that profile's credentials, not these again.
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


# The credential methods whose providers use the file cache (credential_cache=): only their
# refreshes take the machine-wide lock (environment variables, say, are never written there).
_CACHED_METHODS = frozenset({"assume-role", "assume-role-with-web-identity", "sso"})

# Flight states.
_PENDING, _DONE, _FAILED, _ABANDONED = "pending", "done", "failed", "abandoned"
_RETRY: Any = object()


class _Flight:
    """One piece of work several threads want (a resolution, a refresh): the first does it, the
    others wait for its result, each until its own deadline."""

    __slots__ = ("done", "error", "nested", "state", "thread", "thread_name", "value")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.state = _PENDING
        self.value: Any = None
        self.error: Exception | None = None
        self.thread = threading.get_ident()
        self.thread_name = threading.current_thread().name
        self.nested = False  # the working thread re-entered the pool once, and is resolving

    def mine(self) -> bool:
        """Whether the thread asking is the one doing the work (re-entered from a handler)."""
        return self.thread == threading.get_ident()

    def finish(self, failed: BaseException | None) -> None:
        """Complete the flight: done, failed (an error the waiters share) or abandoned (an
        interrupt, which they do not receive)."""
        if self.state is _PENDING:
            if failed is None:
                self.state = _DONE
            elif isinstance(failed, Exception):
                self.error, self.state = failed, _FAILED
            else:
                self.state = _ABANDONED
        self.done.set()

    def wait(self, deadline: float, what: str) -> Any:
        """The flight's value once it is done; :data:`_RETRY` if it was abandoned; its error, as
        this thread's own copy, if it failed; CredentialWaitTimeout past ``deadline``."""
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not self.done.wait(remaining):
            raise CredentialWaitTimeout(
                f"waited the whole resolve_timeout for thread {self.thread_name!r} {what}; check "
                f"the credential source (a credential_process that never exits? an endpoint that "
                f"does not answer?) or raise SessionPool(resolve_timeout=...)."
            )
        if self.state is _ABANDONED:  # its thread was interrupted: start a flight of our own
            return _RETRY
        if self.state is _FAILED:
            assert self.error is not None
            raise _own_copy(self.error) from CredentialResolutionError(
                f"thread {self.thread_name!r} {what} and raised the error below (its traceback "
                f"stays with that thread); this thread waited for it."
            )
        return self.value


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
        machine_lock: with a credential cache, a lock shared by every process on the machine,
            taken until a deadline (a ``time.monotonic()`` value) around a refresh of cached
            credentials, so one process fetches and the others read what it cached.
        timeout: how long a reader waits for another thread's refresh (``resolve_timeout``).
    """

    def __init__(
        self,
        inner: Any,
        resolve: Callable[[], Any],
        renewable: bool,
        source: str | None = None,
        machine_lock: Callable[[float], ContextManager[Any]] | None = None,
        timeout: float = DEFAULT_RESOLVE_TIMEOUT,
    ) -> None:
        # Deliberately not calling Credentials.__init__: every field is delegated.
        self._inner = inner
        self._machine_lock = machine_lock
        self._resolver = resolve
        self._renewable = renewable
        self._source = source
        self._wait_limit = timeout
        # Guarded by _state (assignments only): the refresh in flight, the snapshot, staleness
        # and the renewal count. Readers take the snapshot without it.
        self._state = _locks.Lock()
        self._flight: _Flight | None = None
        self._stale = False
        self._snapshot: _Snapshot | None = None
        self.renewals = 0

    def get_frozen_credentials(self) -> Any:
        snapshot = self._snapshot
        if snapshot is not None and time.time() < snapshot.advisory:
            return snapshot.frozen
        # Records the package logs during credential work wait until it is done and published:
        # a handler may sign with these very credentials (see _locks.deferring).
        with _locks.deferring():
            return self._read_slow(snapshot, time.monotonic() + self._wait_limit)

    def _read_slow(self, seen: _Snapshot | None, deadline: float) -> Any:
        while True:
            flight = mine = _Flight()
            with self._state:
                current = self._snapshot
                if current is not None and current is not seen and time.time() < current.advisory:
                    return current.frozen  # another thread refreshed since this one looked
                if self._flight is None:
                    self._flight = mine
                else:
                    flight = self._flight
            if flight is mine:
                return self._fetch(mine, deadline)
            if flight.mine():
                # This thread is refreshing these credentials and re-entered the pool (a signal
                # handler, finalizer or logging handler): never wait for itself.
                if seen is not None:
                    return seen.frozen  # still valid until expiry, which is past the deadlines
                raise CredentialResolutionError(
                    f"thread {flight.thread_name!r} re-entered the pool while it was fetching "
                    f"these credentials for the first time (from a signal, logging or finalizer "
                    f"handler), and no earlier keys exist to answer it with."
                )
            if seen is not None and time.time() < seen.mandatory:
                return seen.frozen  # advisory window: keep the keys, still valid, meanwhile
            found = flight.wait(deadline, "was refreshing these credentials")
            if found is not _RETRY:
                return found

    def _fetch(self, flight: _Flight, deadline: float) -> Any:
        """Refresh (or renew, if stale) in ``flight``, outside any in-process lock."""
        failed: BaseException | None = None
        try:
            with self._state:
                renewing = self._stale
            inner = self._resolve_again() if renewing else self._inner
            machine: Any = contextlib.nullcontext()
            method = getattr(inner, "method", None)
            if self._machine_lock is not None and method in _CACHED_METHODS:
                machine = self._machine_lock(deadline)
            with machine:
                frozen = _masked(inner.get_frozen_credentials())  # botocore may refresh here
            snapshot = _Snapshot(frozen, *refresh_deadlines(inner))
            with self._state:
                if renewing:
                    self._inner = inner
                    self.renewals += 1
                    self._stale = False  # rejections of the old keys meanwhile are answered
                if not self._stale:
                    # Marked stale during a plain refresh: the next read renews instead.
                    self._snapshot = snapshot
                self._flight = None
            flight.value = frozen
            return frozen
        except BaseException as exc:
            failed = exc
            raise
        finally:
            with self._state:
                if self._flight is flight:
                    self._flight = None
            flight.finish(failed)

    def _resolve_again(self) -> Any:
        fresh = self._resolver()
        if fresh is None:
            raise NoCredentialsError()
        return fresh

    def expire(self, signed_with: int | None = None) -> bool:
        """Mark the credentials stale; True if they can be renewed (they are not explicit keys).

        Parameters:
            signed_with: the :attr:`generation` that signed the rejected request. A rejection
                of credentials that have been renewed since does not renew them again: with
                many requests in flight at expiry, the first rejection renews, the rest retry.
        """
        if not self._renewable:
            return False
        with self._state:
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
        with self._state:
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
        if self._flight is not None or self._stale:
            return None
        seen = self._snapshot
        refreshable = isinstance(self._inner, RefreshableCredentials)
        if refreshable and (seen is None or time.time() >= seen.advisory):
            return None  # never read yet, or due for a refresh: nothing current to carry
        inner = inherited_copy(self._inner, self._resolver)
        if inner is None:
            return None
        child = SharedCredentials(
            inner,
            self._resolver,
            self._renewable,
            self._source,
            self._machine_lock,
            self._wait_limit,
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
        # Through the snapshot: botocore's own property would refresh outside our flight.
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


class PendingCredentials(Credentials):
    """What a session holds while its key's chain finds no credentials (none set yet, or a
    source briefly down): every read looks again, as a botocore session does, and once the chain
    finds some, delegates to the key's shared credentials for good. A session made before
    credentials existed therefore signs as soon as they do, with no cost once they do; a client
    that signs nothing (``signature_version=UNSIGNED``) never looks.

    Parameters:
        look: asks the key's :class:`CredentialCells` again; returns the shared credentials or
            None.
        missing: the message of the :class:`~sessionpool.NoCredentialsError` a read raises while
            none are found.
    """

    def __init__(self, look: Callable[[], SharedCredentials | None], missing: str) -> None:
        # Deliberately not calling Credentials.__init__: every field is delegated.
        self._look = look
        self._missing = missing
        self._found: SharedCredentials | None = None

    def found(self) -> SharedCredentials | None:
        """The key's shared credentials, looking again if none were found yet; or None."""
        found = self._found
        if found is None:
            found = self._found = self._look()
        return found

    def get_frozen_credentials(self) -> Any:
        found = self.found()
        if found is None:
            raise NoCredentialsFound(message=self._missing)
        return found.get_frozen_credentials()

    @property
    def generation(self) -> int:
        found = self._found
        return 0 if found is None else found.generation

    def expire(self, signed_with: int | None = None) -> bool:
        found = self._found
        return False if found is None else found.expire(signed_with)

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
        found = self.found()
        return None if found is None else found.method

    @property
    def account_id(self) -> Any:
        found = self.found()
        return None if found is None else found.account_id

    def __repr__(self) -> str:
        return f"<PendingCredentials found={self._found is not None}>"

    def __reduce__(self) -> Any:
        raise TypeError("credentials do not pickle; pickle the SessionPool instead.")


class CredentialCells:
    """Per-process registry: key -> the one :class:`SharedCredentials` its sessions share.

    Parameters:
        timeout: seconds a thread waits for another thread resolving the same key (or
            refreshing its credentials) before it raises
            :class:`~sessionpool.CredentialWaitTimeout`.
    """

    def __init__(self, timeout: float = DEFAULT_RESOLVE_TIMEOUT) -> None:
        # Mutable state: _cells (key -> the flight that resolved, or is resolving, it) and
        # resolutions, guarded by _lock (assignments only).
        self._lock = _locks.Lock()
        self._cells: dict[CredentialKey, _Flight] = {}
        self.resolutions = 0
        self.timeout = timeout
        # Not registered with _fork: the owning pool resets it, also after a hook-less fork.

    def get(
        self,
        key: CredentialKey,
        resolve: Callable[[], Any],
        renewable: bool = True,
        source: str | None = None,
        machine_lock: Callable[[float], ContextManager[Any]] | None = None,
    ) -> Any:
        """The shared credentials for ``key``, calling ``resolve()`` only if none are published.

        Parameters:
            key: whose credentials.
            resolve: resolves the chain for that key and returns a botocore credentials object
                or None; called at most once at a time per key, without any lock held, and
                again when the credentials are renewed after :meth:`SharedCredentials.expire`.
            renewable: False for explicit keys, which resolving again cannot change.
            source: :func:`credential_sources` before resolving, for :meth:`check_source`.
            machine_lock: a lock shared with other processes, held around refreshes.
        """
        with _locks.deferring():  # records wait until the work is done (see _read_slow)
            return self._get(key, resolve, renewable, source, machine_lock)

    def _get(
        self,
        key: CredentialKey,
        resolve: Callable[[], Any],
        renewable: bool,
        source: str | None,
        machine_lock: Callable[[float], ContextManager[Any]] | None,
    ) -> Any:
        deadline = time.monotonic() + self.timeout

        def share(inner: Any) -> SharedCredentials | None:
            if inner is None:
                return None
            return SharedCredentials(inner, resolve, renewable, source, machine_lock, self.timeout)

        while True:
            cell = self._cells.get(key)
            if cell is not None and cell.state is _DONE:
                return cell.value
            mine = _Flight()
            failed: BaseException | None = None
            # The try starts before the flight can be published: whatever interrupts this thread
            # from here on, the finally completes it, so no waiter is left forever.
            try:
                with self._lock:
                    cell = self._cells.setdefault(key, mine)
                    if cell is mine:
                        self.resolutions += 1
                if cell is not mine:
                    if cell.mine():
                        return self._nested(cell, key, resolve, share)
                    found = cell.wait(deadline, f"was resolving credentials for {key.describe()}")
                    if found is _RETRY:
                        continue
                    return found
                mine.value = share(resolve())
                return mine.value
            except BaseException as exc:
                failed = exc
                raise
            finally:
                self._complete(key, mine, failed)

    def _nested(
        self,
        cell: _Flight,
        key: CredentialKey,
        resolve: Callable[[], Any],
        share: Callable[[Any], SharedCredentials | None],
    ) -> Any:
        """Answer the thread that is resolving ``key`` and re-entered the pool (a signal handler,
        a finalizer, a logging handler shipping records through the pool): resolve once more,
        directly, rather than wait for itself. A second re-entry during that raises at once."""
        if cell.nested:
            raise CredentialResolutionError(
                f"thread {cell.thread_name!r} re-entered the pool twice while resolving "
                f"credentials for {key.describe()} (from a signal, logging or finalizer handler "
                f"that uses the pool); answer such handlers from a pool call made beforehand."
            )
        cell.nested = True
        try:
            with self._lock:
                self.resolutions += 1
            return share(resolve())
        finally:
            cell.nested = False

    def _complete(self, key: CredentialKey, cell: _Flight, failed: BaseException | None) -> None:
        cell.finish(failed)
        if cell.state is not _DONE or cell.value is None:
            # Failed, interrupted, or the chain found nothing: not cached; the next call tries.
            with self._lock:
                if self._cells.get(key) is cell:
                    del self._cells[key]

    def forget(self, key: SessionKey | None = None) -> None:
        """Drop the credentials of ``key`` (whatever profile the environment named for it), or
        of every key: the next use resolves anew."""
        with self._lock:
            if key is None:
                self._cells.clear()
            else:
                for found in [k for k in self._cells if k.key == key]:
                    del self._cells[found]

    def _after_fork_in_child(self) -> None:
        # The parent's credential objects, and the flights and locks inside them, may be mid-way
        # in a thread that does not exist here: never use them. Keys resolved and current at the
        # fork are carried over in new objects with new locks, so a forked worker pool makes no
        # AssumeRole or metadata call of its own until they need refreshing.
        inherited = self._cells
        self._lock = _locks.Lock()
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
                carried = _Flight()
                carried.value = child
                carried.finish(None)
                self._cells[key] = carried


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
