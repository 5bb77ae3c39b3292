"""The pool: each thread of each process gets its own boto3 Session per key, with cached clients.

Structure (after SQLAlchemy's ``ThreadLocalRegistry`` and httpcore's pool):

* ``self._local`` is a ``threading.local`` whose one attribute, ``slot``, is this thread's
  :class:`ThreadSlot`: its sessions by key, and ``fast``, a table from the current scope (the
  ``with pool.session(...)`` key, or None) to that session's service -> client dict. A warm
  ``pool.client("s3")`` is therefore one thread-local read, one context-variable read and two dict
  lookups, and takes no lock.
* Everything shared between threads (the set of live slots, counters, the closed flag) is
  guarded by ``self._lock``. Nothing calls boto3 or botocore while holding it: sessions and
  clients are built outside the lock and published afterwards (creation takes milliseconds).
* A thread's slot is released when the thread ends (the ``threading.local`` drops it, which is
  deterministic reference counting, not a garbage-collection pass): :meth:`ThreadSlot.__del__`
  closes that thread's clients.
* Fork: :mod:`._fork` calls :meth:`SessionPool._after_fork_in_child` in a forked child, which
  replaces the lock and the thread-local and forgets every inherited session without closing it.
  Slow paths also compare the pid, for forks that bypass Python's hooks.
"""

from __future__ import annotations

import contextvars
import itertools
import logging
import math
import os
import pickle
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from botocore.credentials import Credentials
from botocore.exceptions import UnknownServiceError

from . import _botocore, _expiry, _fork, _received
from ._bounds import KeyBounds
from ._credential_cache import credential_cache_at
from ._credentials import (
    DEFAULT_RESOLVE_TIMEOUT,
    CredentialCells,
    credential_sources,
)
from ._errors import InvalidArgumentError, PoolClosedError
from ._keys import KEY_ARGUMENTS, NO_SERVICE, SessionKey, bind_call
from ._owners import OwnerLocal, check_scopefunc, new_local
from ._secrets import SECRET_NAMES, mask_secrets
from ._session import PooledSession, _check_service, close_clients
from ._thread_slots import Block, Counters, Scope, ThreadSlot, usage

if TYPE_CHECKING:  # typed like boto3.client when boto3-stubs (or types-boto3) are installed
    from ._typed import ClientFactory, ResourceFactory

__all__ = ["SessionPool"]

log = logging.getLogger("sessionpool")
_pool_ids = itertools.count(1)
# Every pool alive in this process (weakly): SessionPool.clear_all() and the pytest plugin walk it.
_live_pools: weakref.WeakSet[SessionPool] = weakref.WeakSet()
# Positional arguments after service_name that never carry a secret (boto3's order: region_name,
# api_version, use_ssl, verify, endpoint_url, aws_access_key_id): calls with more are not memoised.
_SAFE_POSITIONS = 6


class SessionPool:
    """A registry of boto3 Sessions: one per (key, thread, process), with cached clients.

    Parameters:
        profile, profile_name: the default profile for every key (two spellings of one field).
        region, region_name: the default region; like boto3's explicit ``region_name``, it wins
            over a profile's region.
        aws_access_key_id, aws_secret_access_key, aws_session_token: default explicit
            credentials. A pool with these pickles with them; without them it holds no secret.
        max_keys: evict the least recently used key beyond this many (closing its clients).
        idle_timeout: evict keys unused for this many seconds (checked on slow paths and by
            :meth:`prune`; the pool starts no thread).
        retry_expired: when a call fails because AWS rejected the credentials (an expired token,
            or a key it does not know, as after a rotation), renew the key's credentials and
            retry the call once. (Without it the credentials are still renewed for the next
            call, unless they are explicit keys.)
        resolve_timeout: seconds a thread waits for another thread resolving the same key's
            credentials before raising :class:`CredentialWaitTimeout` (default 660: botocore's
            slowest default source, AssumeRole with its retries, plus a margin).
        credential_cache: a directory for temporary credentials from assume-role, web identity
            and SSO, shared by every process on the machine that uses the same directory
            (botocore's file cache, as the AWS CLI uses): 8 spawned workers make 1 AssumeRole
            instead of 8. The credentials are then on disk: the directory is made owner-only
            (0700) and each file 0600; a directory others can write to is refused. None (the
            default): nothing is written.
        scopefunc: who owns a session: ``"thread"`` (the default: each OS thread; under gevent
            or eventlet monkey patching the greenlets of one OS thread share its sessions and
            clients), ``"greenlet"`` (each greenlet its own), or a callable returning a hashable
            owner id (then call :meth:`release` when an owner is done).
        clock: the monotonic clock used for idle times (tests pass a fake one).

    Arguments given at a call win over a ``with pool.session(...)`` block's, which win over the
    pool's. A closed pool raises :class:`PoolClosedError` when used again.
    """

    def __init__(
        self,
        *,
        max_keys: int | None = None,
        idle_timeout: float | None = None,
        retry_expired: bool = False,
        resolve_timeout: float = DEFAULT_RESOLVE_TIMEOUT,
        credential_cache: str | os.PathLike[str] | None = None,
        scopefunc: str | Callable[[], Hashable] = "thread",
        clock: Callable[[], float] = time.monotonic,
        **defaults: str | None,
    ) -> None:
        defaults, _ = mask_secrets(defaults)  # first: no frame below may hold a bare secret
        self._defaults = SessionKey.build(defaults)
        self._bounds_config = (max_keys, idle_timeout)
        KeyBounds(max_keys, idle_timeout)  # validates
        if not callable(clock):
            raise InvalidArgumentError(
                f"clock must be a callable returning seconds, such as time.monotonic, "
                f"not {clock!r}."
            )
        self._clock = clock
        self._config: dict[str, Any] = {k: v for k, v in defaults.items() if v is not None}
        if max_keys is not None:
            self._config["max_keys"] = max_keys
        if idle_timeout is not None:
            self._config["idle_timeout"] = idle_timeout
        if not isinstance(retry_expired, bool):
            raise InvalidArgumentError(
                f"retry_expired must be True or False, not {retry_expired!r}."
            )
        self._retry_expired = retry_expired
        if retry_expired:
            self._config["retry_expired"] = True
        if (
            isinstance(resolve_timeout, bool)
            or not isinstance(resolve_timeout, (int, float))
            or not math.isfinite(resolve_timeout)
            or resolve_timeout <= 0
        ):
            raise InvalidArgumentError(
                f"resolve_timeout must be a positive number of seconds, not {resolve_timeout!r}."
            )
        if resolve_timeout != DEFAULT_RESOLVE_TIMEOUT:
            self._config["resolve_timeout"] = resolve_timeout
        self._file_cache = None
        if credential_cache is not None:
            self._file_cache = credential_cache_at(credential_cache)
            self._config["credential_cache"] = self._file_cache.directory  # absolute
        self._scopefunc = check_scopefunc(scopefunc)
        if scopefunc != "thread":
            self._config["scopefunc"] = scopefunc
        self._id = next(_pool_ids)
        # Names this pool across pickles: every task that carries it into a worker process
        # finds the same pool there (see _rebuild), so sessions and credentials are reused.
        self._pickle_token = uuid.uuid4().hex
        _received.register(self._pickle_token, self)
        scope: contextvars.ContextVar[Block | None] = contextvars.ContextVar(
            f"sessionpool-{self._id}-scope", default=None
        )
        self._scope = scope
        self._current_scope = scope.get  # bound once: warm paths call it
        # Ids of the live Blocks of `with pool.session()`: while empty, no context anywhere has
        # a scope, and the hot path needs no look at the scope variable. Kept across fork.
        self._blocks: set[int] = set()
        self._credentials = CredentialCells(resolve_timeout)
        self._forks_seen = 0
        self._init_process_state()
        _fork.register(self)
        _live_pools.add(self)

    def _init_process_state(self) -> None:
        # Mutable state shared by threads, guarded by _lock: _slots, _counters, _closed,
        # _bounds (key recency), _evictions.
        # _local is per thread and needs no lock; it is replaced wholesale on close and fork.
        self._lock = threading.Lock()
        self._local = new_local(self._scopefunc)
        self._slots: weakref.WeakSet[ThreadSlot] = weakref.WeakSet()
        self._counters = Counters(self._lock)
        self._retired_hits = 0
        self._hits_reported = 0
        self._bounds = KeyBounds(*self._bounds_config)
        self._evictions = 0
        self._closed = False
        self._pid = os.getpid()

    # -- the hot path ------------------------------------------------------------------------

    def _client(self, service_name: str = NO_SERVICE, /, *args: Any, **kwargs: Any) -> Any:
        """This thread's cached client for ``service_name``, in the current key.

        Takes boto3's call forms: ``pool.client("s3")``, ``pool.client("s3", "us-west-2")``
        (boto3's positional order: ``region_name, api_version, use_ssl, verify, endpoint_url,
        aws_access_key_id, aws_secret_access_key, aws_session_token, config``) and
        ``pool.client(service_name="s3")``; equivalent forms give the same client.

        Parameters:
            service_name: the service, as in ``boto3.client``.
            *args: boto3's positional arguments after the service name.
            **kwargs: key arguments (``profile``/``profile_name``, ``region``/``region_name``,
                ``aws_access_key_id``, ``aws_secret_access_key``, ``aws_session_token``) choose
                the session; the rest (``endpoint_url``, ``config``, ``api_version``,
                ``use_ssl``, ``verify``) go to ``Session.client`` and are part of the cache key.
        """
        if not (args or kwargs):
            try:
                if not self._blocks:
                    # The hot path: no `with` block anywhere. One thread-local read, one dict
                    # lookup, and a C-level getter that returns the client and counts the hit.
                    return self._local.hot[service_name]()
                block = self._current_scope()
                scope = None if block is None else block.scope
                return self._local.fast[scope]._by_name[service_name]()
            except (AttributeError, KeyError):
                pass
            memo_key: tuple[Any, ...] | None = None
        elif len(args) <= _SAFE_POSITIONS and SECRET_NAMES.isdisjoint(kwargs):
            # The same arguments again in this thread: skip rebuilding the key (microseconds).
            memo_key = (self._scope_now(), service_name, args, *kwargs.items())
            try:
                session, client, generation = self._local.slot.by_args[memo_key]
            except (AttributeError, KeyError):
                pass
            except TypeError:  # an unhashable argument: no memo for this call
                memo_key = None
            else:
                if session.generation == generation:  # else: handlers changed since
                    session._hits += 1
                    return client
        else:
            memo_key = None  # calls carrying a secret are never memoised
        kwargs, args = mask_secrets(kwargs, args)  # first: no frame below holds a bare secret
        return self._client_slow(service_name, args, kwargs, memo_key)

    def _client_slow(
        self,
        service_name: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        memo_key: tuple[Any, ...] | None,
    ) -> Any:
        service_name, kwargs = bind_call("client", service_name, args, kwargs)
        key_args, client_args = _split(kwargs)
        session, client = self._from_tracked_session(
            key_args,
            lambda s: s.client(service_name, **client_args),
            publish_fast=not kwargs,
        )
        if memo_key is not None:
            self._slot().remember(memo_key, session, client)
        return client

    def _from_tracked_session(
        self, key_args: Mapping[str, Any], make: Callable[[Any], Any], publish_fast: bool = False
    ) -> tuple[PooledSession, Any]:
        """(session, ``make(session)``) for a session the pool still tracks afterwards.

        If another thread evicted the key while ``make`` ran, the eviction may have missed what
        it made: close that (nobody has it yet) and make it again on a tracked session.
        """
        while True:
            session = self._session_for(key_args, publish_fast=publish_fast)
            made = make(session)
            if not session.retired:
                return session, made
            close_clients([getattr(getattr(made, "meta", None), "client", made)])

    def _resource(self, service_name: str = NO_SERVICE, /, *args: Any, **kwargs: Any) -> Any:
        """This thread's cached resource for ``service_name``, in the current key.

        Parameters:
            service_name: the service, as in ``boto3.resource``.
            *args: as for :meth:`client`.
            **kwargs: as for :meth:`client`; resources are never shared between threads.
        """
        kwargs, args = mask_secrets(kwargs, args)  # first: no frame below holds a bare secret
        service_name, kwargs = bind_call("resource", service_name, args, kwargs)
        key_args, resource_args = _split(kwargs)
        _, resource = self._from_tracked_session(
            key_args, lambda s: s.resource(service_name, **resource_args)
        )
        return resource

    # Type checkers see boto3-stubs' overloads for every service (sessionpool/_typed.pyi, typed
    # like boto3.client); at run time the names are the functions above, with no extra call.
    if TYPE_CHECKING:
        client: ClientFactory
        resource: ResourceFactory
    else:
        client = _client
        resource = _resource

    # -- sessions and scopes -----------------------------------------------------------------

    def get_session(self, **key_args: Any) -> PooledSession:
        """This thread's Session for a key, without entering a scope.

        Parameters:
            **key_args: key arguments, as for :meth:`client`; unnamed fields come from the
                enclosing ``with pool.session()`` block, then from the pool.
        """
        key_args, _ = mask_secrets(key_args)
        return self._session_for(key_args)

    @contextmanager
    def session(self, **key_args: Any) -> Iterator[PooledSession]:
        """Enter a scope: yield this thread's Session for a key, and make it the default key.

        Inside the block, ``pool.client()``, ``pool.resource()`` and ``pool.session()`` calls
        that name no key use the block's key. Blocks nest; the scope is per thread and per
        asyncio task. Leaving the block neither closes nor drops the session.

        Parameters:
            **key_args: key arguments, as for :meth:`client`.
        """
        key_args, _ = mask_secrets(key_args)
        session = self._session_for(key_args)
        token = self._scope.set(Block(self._slot().scope_for(session), self._blocks))
        try:
            yield session
        finally:
            self._scope.reset(token)

    def _scope_now(self) -> Scope | None:
        """The scope of the innermost ``with pool.session()`` block here, or None."""
        block = self._current_scope()
        return None if block is None else block.scope

    def _key_for(self, key_args: Mapping[str, Any]) -> SessionKey:
        scope = self._scope_now()
        base = self._defaults if scope is None else scope.key
        return SessionKey.build(key_args, base) if key_args else base

    def _session_for(
        self, key_args: Mapping[str, Any], publish_fast: bool = False
    ) -> PooledSession:
        key = self._key_for(key_args)
        while True:
            self._check_usable()
            slot = self._slot()
            session = slot.sessions.get(key)
            if session is None:
                made = self._new_session(key)  # no lock held: this takes milliseconds
                # setdefault: a greenlet of this thread may have made one meanwhile (it can
                # switch while credentials resolve); the first published wins, unused losers go.
                session = slot.sessions.setdefault(key, made)
                if session is made:
                    with self._lock:
                        self._counters.sessions_created += 1
            if self._bounds.active:
                self._apply_bounds(key)
            scope = self._scope_now()
            if publish_fast:
                slot.fast[scope] = session
                if scope is None:
                    self._local.hot = session._by_name  # the hot path's table: this session's
            # Another thread's eviction may have dropped the session since it was looked up.
            # A session handed out (or left in the fast table) after that would be untracked:
            # never evicted, closed or counted (HAZARDS E1). So check *after* publishing: a drop
            # that comes later pops the key first and then clears the fast entries itself (and
            # empties the session's table, which the hot path then misses).
            if slot.sessions.get(key) is session:
                return session
            if publish_fast and slot.fast.get(scope) is session:
                slot.fast.pop(scope, None)
                if getattr(self._local, "hot", None) is session._by_name:
                    del self._local.hot

    def _slot(self) -> ThreadSlot:
        local = self._local
        try:
            slot: ThreadSlot = local.slot
            return slot
        except AttributeError:
            pass
        slot = ThreadSlot(self._counters)
        local.slot = slot
        local.fast = slot.fast
        with self._lock:
            self._slots.add(slot)
        return slot

    def _new_session(self, key: SessionKey) -> PooledSession:
        core, events = _botocore.new_watched_session(key.profile)
        explicit = key.static_keys is not None
        file_cache = self._file_cache  # the closure below must not hold the pool (a cycle)

        def resolve() -> Any:
            if key.static_keys is not None:
                k = key.static_keys
                return Credentials(
                    k.access_key_id, k.secret_access_key, k.session_token, "explicit"
                )
            # A botocore session of its own, so that renewing later walks the chain afresh.
            # Raises ProfileNotFound for an unknown profile, naming it.
            resolver = _botocore.new_core_session(key.profile)
            if file_cache is not None:
                _botocore.use_file_cache(resolver, file_cache.for_profile(key.profile))
            return resolver.get_credentials()

        source = None if explicit else credential_sources()
        credentials = self._credentials.get(
            key,
            resolve,
            renewable=not explicit,
            source=source,
            machine_lock=None
            if self._file_cache is None or explicit
            else self._file_cache.lock_for(key.profile, self._credentials.timeout),
        )
        if credentials is not None and source is not None:
            # A new session after the shared files or the environment changed resolves afresh,
            # as a new boto3 Session would (rotated keys, HAZARDS C1): once, for every thread.
            credentials.check_source(source)
        session = PooledSession(
            key, core, self._counters, profile_name=key.profile, region_name=key.region
        )
        # Handing every thread the same object is what makes resolution happen once per key.
        _botocore.set_credentials(core, credentials)
        if credentials is not None:
            # Clients copy the session's event handlers when they are created, so this covers
            # every client of the session.
            _expiry.install(core, credentials, self._retry_expired)
        session.watch(events)  # from here on, a handler change drops the session's clients
        log.debug(
            "created session for %s in thread %s", key.describe(), threading.current_thread().name
        )
        return session

    def warm(
        self,
        services: Iterable[str] = ("s3", "sqs", "dynamodb"),
        profiles: Iterable[str | None] | None = None,
    ) -> dict[str, int]:
        """Load models, handlers and credentials now, typically in a parent before it forks.

        Children forked afterwards share the parsed models' memory copy-on-write instead of each
        parsing them again, and start with a copy of the credentials resolved here (in new
        objects with new locks), so they make no AssumeRole or metadata call of their own until
        those need refreshing.

        Parameters:
            services: the services whose models to load; an unknown name raises
                botocore's ``UnknownServiceError``.
            profiles: the profiles whose sessions and credentials to prepare in this thread;
                None for the pool's default key only.

        Returns: counts of what was prepared: ``services`` and ``sessions``.
        """
        names = [_check_service(name) for name in services]
        keys = [None] if profiles is None else list(profiles)
        sessions = 0
        for profile in keys:
            session: Any = self.get_session(**({} if profile is None else {"profile": profile}))
            sessions += 1
            loader = session.botocore_session.get_component("data_loader")
            known = set(loader.list_available_services("service-2"))
            for name in names:
                if name not in known:
                    raise UnknownServiceError(
                        service_name=name, known_service_names=", ".join(sorted(known))
                    )
            _botocore.warm_loader(loader, names)
            for name in names:
                # Builds (and caches) this thread's client: service model, endpoint rules.
                session.client(name)
        return {"services": len(names), "sessions": sessions}

    # -- bounds --------------------------------------------------------------------------------

    def _apply_bounds(self, key: SessionKey | None) -> None:
        now = self._clock()
        with self._lock:
            new = key is not None and self._bounds.touch(key, now)
            over = self._bounds.max_keys is not None and len(self._bounds) > self._bounds.max_keys
            if not (new and over) and not self._bounds.idle_check_due(now):
                return
            slots = list(self._slots)
        used = usage(slots)  # reads other threads' tables without the lock: counts only
        with self._lock:
            victims = self._bounds.victims(used, now, keep=key)
            self._evictions += len(victims)
        self._evict(victims, slots)

    def _evict(self, victims: list[Any], slots: list[ThreadSlot]) -> None:
        if not victims:
            return
        clients: list[Any] = []
        for victim in victims:
            # Forget everything that holds the key (and so any explicit secret in it): its
            # credentials, and each thread's session, scope, memo and fast entries.
            self._credentials.forget(victim)
            for slot in slots:
                clients.extend(slot.drop(victim))
            log.debug("evicted %s", victim.describe())
        close_clients(clients)

    def release(self) -> int:
        """Release the current owner's sessions now (this thread's, greenlet's, or scope
        function's owner's): close their clients; the next call makes new ones.

        Threads and greenlets release theirs when they end; an owner chosen by a scope function
        does not end as far as the pool can see, so call this when it is done.

        Returns: how many clients were closed.
        """
        self._check_pid_only()
        local = self._local
        slot = getattr(local, "slot", None)
        if slot is None:
            return 0
        if isinstance(local, OwnerLocal):
            local.release()
        else:
            for name in ("slot", "fast", "hot"):
                try:
                    delattr(local, name)
                except AttributeError:
                    pass
        clients = slot.release()
        close_clients(clients)
        return len(clients)

    def prune(self) -> int:
        """Evict idle keys (and keys past ``max_keys``) now; return how many were evicted.

        The pool has no background thread: it prunes on its slow paths, at most once per
        ``idle_timeout / 4``. Call this from your own loop to prune on a schedule.
        """
        self._check_usable()
        now = self._clock()
        with self._lock:
            slots = list(self._slots)
        used = usage(slots)
        with self._lock:
            victims = self._bounds.victims(used, now)
            self._evictions += len(victims)
        self._evict(victims, slots)
        return len(victims)

    # -- lifecycle -----------------------------------------------------------------------------

    def _check_usable(self) -> None:
        self._check_pid_only()
        if self._closed:
            raise PoolClosedError(
                "this SessionPool was closed; create a new SessionPool to make more clients."
            )

    def clear(self) -> int:
        """Forget every session of every thread in this process, and every key's credentials;
        close their clients. The pool stays usable: the next call makes new sessions, which read
        the environment, the shared files and botocore's handlers (moto's mocks) as they are then.

        Returns: how many clients were closed.
        """
        self._check_usable()
        with self._lock:
            slots = list(self._slots)
            self._slots = weakref.WeakSet()
            # As in close(): the old thread-local goes after the lock is released.
            old_local, self._local = self._local, new_local(self._scopefunc)
            self._bounds.clear()
        del old_local
        self._credentials.forget()
        clients: list[Any] = []
        for slot in slots:
            clients.extend(slot.release())
        close_clients(clients)
        log.debug("pool cleared: %d client(s) closed", len(clients))
        return len(clients)

    @staticmethod
    def clear_all() -> int:
        """:meth:`clear` every open pool in this process (the default pool included).

        Returns: how many clients were closed.
        """
        return sum(pool.clear() for pool in list(_live_pools) if not pool.closed)

    def close(self) -> None:
        """Close every client this process's pool made, forget every session, and refuse reuse."""
        with self._lock:
            self._closed = True
            slots = list(self._slots)
            self._slots = weakref.WeakSet()
            # Keep the old thread-local alive until the lock is released: dropping it releases
            # every thread's slot, whose __del__ closes clients, which must not happen under it.
            old_local, self._local = self._local, new_local(self._scopefunc)
        del old_local
        clients: list[Any] = []
        for slot in slots:
            clients.extend(slot.release())
        close_clients(clients)
        log.debug("pool closed: %d client(s) closed", len(clients))

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed

    def __enter__(self) -> SessionPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _after_fork_in_child(self) -> None:
        # Assign only (see _fork). The parent's sessions, clients and credentials are dropped
        # without closing: their sockets are the parent's. Old slots notice the pid in __del__.
        self._forks_seen += 1
        closed = self._closed
        self._credentials._after_fork_in_child()
        self._init_process_state()
        self._closed = closed

    # -- introspection -------------------------------------------------------------------------

    def stats(self) -> dict[str, int]:
        """Counts for this process: sessions, clients and resources created, hits, misses, forks."""
        self._check_pid_only()
        with self._lock:
            slots = list(self._slots)
            c = self._counters
            result = {
                "sessions_created": c.sessions_created,
                "clients_created": c.clients_created,
                "resources_created": c.resources_created,
                "misses": c.clients_created + c.resources_created,
                "credential_resolutions": self._credentials.resolutions,
                "forks_seen": self._forks_seen,
                "evictions": self._evictions,
                "threads": len(slots),
                "sessions": sum(len(s.sessions) for s in slots),
                "clients": sum(x.client_count for s in slots for x in list(s.sessions.values())),
            }
            self._retired_hits += c.take_retired_hits()
            retired = self._retired_hits
        live = sum(s.total_hits() for s in slots)
        with self._lock:
            # A session dropped while this ran (thread exit, eviction) may be in neither sum
            # for a moment; never report less than before: every count here only grows.
            self._hits_reported = max(self._hits_reported, retired + live)
            result["hits"] = self._hits_reported
        return result

    def _check_pid_only(self) -> None:
        if self._pid != os.getpid():
            # A fork that bypassed Python's fork hooks (HAZARDS F6). The hot path does not
            # look (a getpid() costs more than the rest of it); the next slow path does.
            self._after_fork_in_child()

    def __repr__(self) -> str:
        if "_closed" not in self.__dict__:  # __init__ failed part way (tracebacks show locals)
            return "<SessionPool (not initialised)>"
        s = self.stats()
        state = " closed" if self._closed else ""
        return (
            f"<SessionPool pid={os.getpid()} sessions={s['sessions']} clients={s['clients']}"
            f" threads={s['threads']}{state}>"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # A pool travels as its configuration, never its sessions or clients (HAZARDS X2).
        scopefunc = self._config.get("scopefunc")
        if callable(scopefunc):
            try:
                pickle.dumps(scopefunc)
            except Exception as exc:  # noqa: BLE001 - which error depends on the callable
                raise TypeError(
                    f"this SessionPool's scopefunc {scopefunc!r} cannot be pickled, so neither "
                    f"can the pool; use a module-level function, or 'thread' or 'greenlet'."
                ) from exc
        return (_rebuild, (self._pickle_token, self._config))


def _rebuild(token: str, config: dict[str, Any]) -> SessionPool:
    """Unpickle a pool: the one this process already has under ``token``, or a new one."""

    def make() -> SessionPool:
        pool = SessionPool(**config)
        pool._pickle_token = token
        return pool

    return _received.find_or_make(token, make)


def _split(kwargs: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split call arguments into key arguments and client arguments."""
    key_args: dict[str, Any] = {}
    other: dict[str, Any] = {}
    for name, value in kwargs.items():
        (key_args if name in KEY_ARGUMENTS else other)[name] = value
    return key_args, other
