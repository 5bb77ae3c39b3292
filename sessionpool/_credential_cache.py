"""The on-disk credential cache (``SessionPool(credential_cache=dir)``), safe on a shared machine.

Temporary credentials from assume-role, web identity and SSO are cached the way botocore's
providers use a cache (``key in cache``, then ``cache[key]``; ``cache[key] = response`` after a
fetch), one JSON file per entry, so that the processes on a machine that name one directory make
one AssumeRole per role instead of one each. One subdirectory per profile, so that two profiles
assuming one role from different source identities never share an entry (botocore's cache key
omits the source, HAZARDS S4)::

    <root>/profile-<16 hex digits of the profile name's sha256>/<botocore's cache key>.json
                                                               /.refresh.lock

**No one else can write it** (HAZARDS I8). An entry signs requests: a file another user could
put there is a key of their choosing. So before each use: the root is a directory this user owns
that no one else can write (it may be reached through a link the user named); below it, nothing
is followed through a link (``lstat``, ``O_NOFOLLOW``, then ``fstat`` of what was opened): a
profile directory is a directory this user owns that no one else can write, an entry a regular
file this user owns that no one else can read or write (0600), the refresh lock a regular file
this user owns that no one else can write. Anything else is refused with
:class:`~sessionpool.InvalidArgumentError` naming the path, what is wrong and the way out, and
nothing there is read, written or locked. What the pool makes is 0700 (directories) and 0600
(files); an entry is written to a temporary file and renamed into place, so readers in other
processes never see half of one.

**Damage is a miss.** An entry that is not JSON or lacks what botocore reads from it (truncated
by a crash or a full disk) is treated as absent: botocore fetches afresh and its write replaces
the entry. An entry that cannot be written (a full disk, a quota) leaves the fetched credentials
in use, uncached. Each is one WARNING naming the file, never its content (it holds a secret),
held back until the credential work that met it is over (``_locks.log``): botocore reads and
writes the cache inside a refresh, and a handler may sign with the key being refreshed.

**One refresh per machine**: :meth:`CredentialCache.lock_for` gives an exclusive ``flock`` on
the profile's ``.refresh.lock``, held around a refresh, so one process fetches and the others
read its entry. A waiter gives up at its deadline with :class:`~sessionpool.CredentialWaitTimeout`.
Without ``fcntl`` (Windows) there is no lock, and each process may fetch its own.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import logging
import os
import stat
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager as ContextManager
from typing import Any

from botocore.utils import parse_timestamp

from . import _locks
from ._errors import CredentialWaitTimeout, InvalidArgumentError

__all__ = ["CredentialCache", "CredentialFileCache", "credential_cache_at"]

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # a planted FIFO must not block the open
# Owners and modes mean something on POSIX only (Windows reports synthetic modes).
_POSIX = hasattr(os, "geteuid")
_LOCK_NAME = ".refresh.lock"
# What botocore's CachedCredentialFetcher reads from an entry without checking.
_FIELDS = ("AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration")


def _problem(info: os.stat_result, kind: str) -> str | None:
    """What makes ``info`` unsafe as a ``kind`` (``"directory"``, ``"entry"``, ``"lock"``)."""
    mode = info.st_mode
    if stat.S_ISLNK(mode):
        return "is a symbolic link"
    if kind == "directory" and not stat.S_ISDIR(mode):
        return "is not a directory"
    if kind != "directory" and not stat.S_ISREG(mode):
        return "is not a regular file"
    if not _POSIX:
        return None
    if info.st_uid != os.geteuid():
        return f"belongs to user id {info.st_uid}, not to this process's user ({os.geteuid()})"
    if kind == "entry" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        return f"can be read or written by other users (mode {stat.S_IMODE(mode):04o})"
    if mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"can be written by other users (mode {stat.S_IMODE(mode):04o})"
    return None


log = logging.getLogger("sessionpool")


def _warn(message: str, *args: object) -> None:
    """A WARNING on the ``sessionpool`` logger, held back while this thread holds a package lock
    or does credential work (a handler may sign with the key being refreshed)."""
    _locks.log(log, logging.WARNING, message, *args)


class CredentialCache:
    """A credential cache directory: one :class:`CredentialFileCache` per profile, and the
    machine-wide refresh lock of each.

    Parameters:
        directory: the absolute path of the root, as :func:`credential_cache_at` checked it.
    """

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self._by_profile: dict[str | None, CredentialFileCache] = {}

    def for_profile(self, profile: str | None) -> CredentialFileCache:
        """The cache botocore's providers use for ``profile``'s entries; refuses at once (before
        anything is resolved) if its directory is unsafe.

        Parameters:
            profile: the key's profile (None: the default chain).
        """
        cache = self._by_profile.get(profile)
        if cache is None:
            cache = self._by_profile.setdefault(profile, CredentialFileCache(self, profile))
        with contextlib.suppress(OSError):  # unreadable: the read reports it, as a miss
            self.checked(cache.directory, create=False)
        return cache

    def directory_for(self, profile: str | None) -> str:
        """The path of ``profile``'s directory."""
        name = hashlib.sha256((profile or "").encode("utf-8")).hexdigest()[:16]
        return os.path.join(self.directory, f"profile-{name}")

    def checked(self, directory: str, create: bool) -> bool:
        """Check the root and a profile's ``directory`` below it (made 0700 if missing and
        ``create``); True if it exists. Raises the refusal if either is unsafe.

        Parameters:
            directory: a profile's directory, from :meth:`directory_for`.
            create: make the root and the directory if they are missing.
        """
        try:
            root = os.stat(self.directory)  # the user may name the root through a link
        except FileNotFoundError:
            if not create:
                return False
            os.makedirs(self.directory, mode=0o700, exist_ok=True)
            root = os.stat(self.directory)
        problem = _problem(root, "directory")
        if problem is not None:
            raise self.refusal(self.directory, problem)
        try:
            info = os.lstat(directory)
        except FileNotFoundError:
            if not create:
                return False
            with contextlib.suppress(FileExistsError):  # another process made it: checked below
                os.mkdir(directory, 0o700)
            info = os.lstat(directory)
        problem = _problem(info, "directory")
        if problem is not None:
            raise self.refusal(directory, problem)
        return True

    def refusal(self, path: str, problem: str) -> InvalidArgumentError:
        """The error refusing an unsafe ``path``: what is wrong and the way out.

        Parameters:
            path: the root or a path below it.
            problem: what :func:`_problem` found.
        """
        if path == self.directory:
            return InvalidArgumentError(
                f"credential_cache {path!r} {problem}; temporary credentials there could be "
                f"replaced or read by other users: use a directory only you own and no one "
                f"else can write (chmod 700)."
            )
        return InvalidArgumentError(
            f"credential_cache {self.directory!r}: {path!r} {problem}, so another user could "
            f"have planted credentials there or could read them; the pool does not use it: "
            f"remove it (the pool makes a safe one in its place) or choose another directory."
        )

    def lock_for(
        self, profile: str | None, timeout: float | None = None
    ) -> Callable[..., ContextManager[None]]:
        """A machine-wide lock for ``profile``'s entries: one process refreshes at a time.

        ``lock_for(profile)(deadline)`` is a context manager that waits for the lock until
        ``deadline`` (a :func:`time.monotonic` value), then raises
        :class:`~sessionpool.CredentialWaitTimeout`. ``lock_for(profile, timeout)()`` waits
        ``timeout`` seconds from the moment it is entered (the older form).

        Parameters:
            profile: the key's profile.
            timeout: seconds to wait when the lock is entered without a deadline.
        """
        directory = self.directory_for(profile)

        def lock(deadline: float | None = None) -> ContextManager[None]:
            if deadline is None:
                if timeout is None:
                    raise TypeError("the refresh lock needs a deadline (time.monotonic() seconds)")
                deadline = time.monotonic() + timeout
            return self._locked(directory, deadline)

        return lock

    @contextlib.contextmanager
    def _locked(self, directory: str, deadline: float) -> Iterator[None]:
        try:
            import fcntl
        except ImportError:
            yield
            return
        path = os.path.join(directory, _LOCK_NAME)
        fd = None
        try:
            self.checked(directory, create=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT | _NOFOLLOW | _CLOEXEC, 0o600)
        except OSError as exc:
            if os.path.islink(path):
                raise self.refusal(path, "is a symbolic link") from None
            # Without the lock each process may fetch its own: slower, never wrong.
            _warn(
                "sessionpool: cannot open the credential refresh lock %r (%s); refreshing "
                "without it",
                path,
                exc.strerror or type(exc).__name__,
            )
        if fd is None:
            yield
            return
        try:
            problem = _problem(os.fstat(fd), "lock")
            if problem is not None:
                raise self.refusal(path, problem)
            started = time.monotonic()
            pause = threading.Event()  # never set: a wait on it is a pause that takes no lock
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    now = time.monotonic()
                    if now >= deadline:
                        raise CredentialWaitTimeout(
                            f"waited {now - started:.3g} s, until this call's resolve_timeout "
                            f"ran out, for another process refreshing credentials in "
                            f"{directory!r}; if none is, a process holding {path!r} is stuck: "
                            f"end it, or raise SessionPool(resolve_timeout=...)."
                        ) from None
                    pause.wait(min(0.01, deadline - now))
            yield
        finally:
            os.close(fd)  # releases the lock


class CredentialFileCache:
    """One profile's entries, in the protocol botocore's providers use: ``key in cache``, then
    ``cache[key]``; ``cache[key] = response`` after a fetch.

    ``in`` loads and checks the entry, and ``[]`` right after it hands back what ``in`` loaded
    (per thread), so the two never disagree: botocore does not expect ``[]`` to fail after
    ``in`` said yes (a bare ``KeyError``, before).

    Parameters:
        owner: the cache directory.
        profile: the profile whose entries these are.
    """

    def __init__(self, owner: CredentialCache, profile: str | None) -> None:
        self._owner = owner
        self.directory = owner.directory_for(profile)
        self._loaded = threading.local()  # .entry: (key, value) from the last `in`

    def _path(self, key: str) -> str:
        return os.path.join(self.directory, key + ".json")

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        value = self._load(key)
        self._loaded.entry = None if value is None else (key, value)
        return value is not None

    def __getitem__(self, key: str) -> Any:
        loaded = getattr(self._loaded, "entry", None)
        self._loaded.entry = None  # the secret is not kept past this call
        value = loaded[1] if loaded is not None and loaded[0] == key else self._load(key)
        if value is None:
            raise KeyError(key)
        return value

    def __setitem__(self, key: str, value: Any) -> None:
        path = self._path(key)
        try:
            content = json.dumps(value, default=_jsonable)
        except (TypeError, ValueError):  # never show the value: it holds the secret
            _warn("sessionpool: credentials for %r cannot be cached (not JSON)", path)
            return
        temp = None
        try:
            self._owner.checked(self.directory, create=True)  # a refusal is raised
            fd, temp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")  # mode 0600
            with os.fdopen(fd, "w") as f:
                f.write(content)
                f.flush()
                os.fsync(f.fileno())
            os.replace(temp, path)
        except OSError as exc:
            if temp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(temp)
            _warn(
                "sessionpool: cannot write the credential cache entry %r (%s); the credentials "
                "are used, uncached",
                path,
                exc.strerror or type(exc).__name__,
            )
        except BaseException:
            if temp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(temp)
            raise

    def __delitem__(self, key: str) -> None:
        self._owner.checked(self.directory, create=False)
        try:
            os.unlink(self._path(key))
        except FileNotFoundError:
            raise KeyError(key) from None

    def _load(self, key: str) -> Any:
        """The entry for ``key`` if it is there and whole; None if not (a WARNING if damaged or
        unreadable); the refusal if it, or a directory above it, is unsafe."""
        if not self._owner.checked(self.directory, create=False):
            return None
        path = self._path(key)
        try:
            fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _NONBLOCK | _CLOEXEC)
        except FileNotFoundError:
            return None
        except OSError as exc:
            if os.path.islink(path):
                raise self._owner.refusal(path, "is a symbolic link") from None
            _warn(
                "sessionpool: cannot read the credential cache entry %r (%s); resolving afresh",
                path,
                exc.strerror or type(exc).__name__,
            )
            return None
        with os.fdopen(fd, "rb") as f:
            problem = _problem(os.fstat(f.fileno()), "entry")
            if problem is not None:
                raise self._owner.refusal(path, problem)
            raw = f.read()
        value, damage = _whole(raw)
        if damage is not None:
            _warn(
                "sessionpool: ignoring the damaged credential cache entry %r (%s); resolving "
                "afresh, and the new credentials replace it",
                path,
                damage,
            )
        return value


def _whole(raw: bytes) -> tuple[Any, str | None]:
    """(entry, None) if ``raw`` holds what botocore reads from an entry, else (None, what is
    wrong). The reasons never quote the content."""
    try:
        value = json.loads(raw)
    except UnicodeDecodeError:
        return None, "not UTF-8 text"
    except json.JSONDecodeError as exc:
        return None, f"not JSON: {exc.msg} at character {exc.pos}"
    credentials = value.get("Credentials") if isinstance(value, dict) else None
    if not isinstance(credentials, dict):
        return None, "no Credentials object"
    missing = [f for f in _FIELDS if not isinstance(credentials.get(f), str) or not credentials[f]]
    if missing:
        return None, f"no {', '.join(missing)} in its Credentials"
    try:
        expiry = parse_timestamp(credentials["Expiration"])
    except (ValueError, TypeError, OverflowError, RuntimeError):
        return None, "its Expiration is not a time"
    if not isinstance(expiry, datetime.datetime) or expiry.tzinfo is None:
        return None, "its Expiration has no time zone"  # botocore would fail comparing it
    return value, None


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def credential_cache_at(directory: object) -> CredentialCache:
    """Check (and make, owner-only) a credential cache directory, named by its absolute path.

    Parameters:
        directory: the directory the user chose (relative paths are resolved now, so workers
            started in another directory use the same one).
    """
    path = os.fspath(directory) if isinstance(directory, (str, os.PathLike)) else None
    if not isinstance(path, str) or not path:
        raise InvalidArgumentError(
            f"credential_cache must be a directory path or None, not {directory!r}."
        )
    path = os.path.abspath(os.path.expanduser(path))
    if not os.path.isdir(path):
        if os.path.lexists(path):
            raise InvalidArgumentError(
                f"credential_cache {path!r} is not a directory: name a directory (it is made, "
                f"owner-only, if missing)."
            )
        try:
            os.makedirs(path, mode=0o700, exist_ok=True)
        except OSError as exc:
            raise InvalidArgumentError(
                f"credential_cache {path!r} cannot be made ({exc.strerror or exc}): name a "
                f"directory this user can make, or one that exists."
            ) from None
    cache = CredentialCache(path)
    problem = _problem(os.stat(path), "directory")
    if problem is not None:
        raise cache.refusal(path, problem)
    return cache
