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

import collections
import contextlib
import itertools
import logging
import math
import os
import pickle
import sys
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, TypeVar

import botocore.exceptions
from botocore.credentials import Credentials
from botocore.exceptions import UnknownServiceError

from . import _botocore, _expiry, _fork, _locks, _received
from ._blocks import Block, BlockVar, Scope, applicable
from ._bounds import KeyBounds
from ._credential_cache import CredentialCache, credential_cache_at
from ._credentials import (
    DEFAULT_RESOLVE_TIMEOUT,
    CredentialCells,
    PendingCredentials,
    credential_sources,
)
from ._errors import InvalidArgumentError, KeyRequiredError, PoolClosedError, ProfileNotFound
from ._keys import KEY_ARGUMENTS, NO_SERVICE, CredentialKey, SessionKey, bind_call
from ._locks import snapshot
from ._owners import OwnerLocal, check_scopefunc, new_local
from ._secrets import SECRET_NAMES, mask_secrets
from ._session import DEFAULT_MAX_CLIENTS, PooledSession, _check_service, close_clients
from ._thread_slots import Counters, ThreadSlot, usage

if TYPE_CHECKING:  # typed like boto3.client when boto3-stubs (or types-boto3) are installed
    from ._typed import ClientFactory, ResourceFactory

__all__ = ["SessionPool"]

log = logging.getLogger("sessionpool")
_pool_ids = itertools.count(1)
T = TypeVar("T")
# The default max_keys: a bound no ordinary application meets (a handful of profiles and
# regions), and a multi-tenant server handed a new key per tenant and rotation stays within.
DEFAULT_MAX_KEYS = 128
# The key arguments that name who signs: in strict mode a call outside any block needs one.
_IDENTITY = ("profile", "profile_name", "aws_access_key_id")
# Every pool alive in this process (weakly): SessionPool.clear_all() and the pytest plugin walk it.
_live_pools: weakref.WeakSet[SessionPool] = weakref.WeakSet()
# Serialises the reset of pools after a fork nobody told them about (see _reset_if_forked).
_reset_lock = _fork.Lock()
_RESET_WAIT = 5.0
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
        max_keys: keep at most this many keys (profile, region, credentials), evicting the
            least recently used beyond it: closing its clients and forgetting its credentials
            (default 128; None for no bound, which a server handed ever new credentials, one key
            each, would grow without end).
        max_clients: the most clients (and, separately, resources) one session (a key in a
            thread) caches, least recently used out; a client pushed out is closed once nobody
            holds it (default 64).
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
        strict: raise :class:`KeyRequiredError` for a call that runs outside any
            ``with pool.session(...)`` block and names neither a profile nor keys, instead of
            using the pool's defaults: a block that did not reach the code (an executor
            thread, a framework that left the block in another context) then fails loudly
            rather than signing with the default key.

    Arguments given at a call win over a ``with pool.session(...)`` block's, which win over the
    pool's. A closed pool raises :class:`PoolClosedError` when used again.
    """

    def __init__(
        self,
        *,
        max_keys: int | None = DEFAULT_MAX_KEYS,
        max_clients: int = DEFAULT_MAX_CLIENTS,
        idle_timeout: float | None = None,
        retry_expired: bool = False,
        resolve_timeout: float = DEFAULT_RESOLVE_TIMEOUT,
        credential_cache: str | os.PathLike[str] | None = None,
        scopefunc: str | Callable[[], Hashable] = "thread",
        clock: Callable[[], float] = time.monotonic,
        strict: bool = False,
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
        if max_keys != DEFAULT_MAX_KEYS:
            self._config["max_keys"] = max_keys
        if isinstance(max_clients, bool) or not isinstance(max_clients, int) or max_clients < 1:
            raise InvalidArgumentError(
                f"max_clients must be a positive whole number, not {max_clients!r}."
            )
        self._max_clients = max_clients
        if max_clients != DEFAULT_MAX_CLIENTS:
            self._config["max_clients"] = max_clients
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
        if not isinstance(strict, bool):
            raise InvalidArgumentError(f"strict must be True or False, not {strict!r}.")
        self._strict = strict
        if strict:
            self._config["strict"] = True
        self._scopefunc = check_scopefunc(scopefunc)
        if scopefunc != "thread":
            self._config["scopefunc"] = scopefunc
        self._id = next(_pool_ids)
        # Names this pool across pickles: every task that carries it into a worker process
        # finds the same pool there (see _rebuild), so sessions and credentials are reused.
        self._pickle_token = uuid.uuid4().hex
        _received.register(self._pickle_token, self)
        # The innermost `with pool.session()` block of the running code (see _blocks).
        self._block_var = BlockVar(f"sessionpool-{self._id}-block")
        self._raw_block = self._block_var.get  # bound once: warm paths call it
        # Ids of the live Blocks: while empty, no context anywhere holds a block, and the hot
        # path needs no look at the block variable. Kept across fork.
        self._live_blocks = self._block_var.live
        self._credentials = CredentialCells(resolve_timeout)
        self._forks_seen = 0
        # Negated idents of the threads forking now (see _before_fork).
        self._forking: set[int] = set()
        self._init_process_state()
        _fork.register(self)
        _live_pools.add(self)

    def _init_process_state(self) -> None:
        # Mutable state shared by threads, guarded by _lock: _slots, _counters, _closed,
        # _bounds (key recency), _evictions.
        # _local is per thread and needs no lock; it is replaced wholesale on close and fork.
        self._lock = _locks.Lock()
        self._local = new_local(self._scopefunc)
        self._slots: weakref.WeakSet[ThreadSlot] = weakref.WeakSet()
        self._counters = Counters(self._lock)
        self._retired_hits = 0
        self._hits_reported = 0
        self._bounds = KeyBounds(*self._bounds_config)
        # How many sessions each key has across threads (under _lock): at 0, explicit keys'
        # credentials are forgotten (see _settle_dropped).
        self._key_sessions: collections.Counter[SessionKey] = collections.Counter()
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
                if not self._live_blocks:
                    # The hot path: no `with` block anywhere. One thread-local read, one dict
                    # lookup, and a C-level getter that returns the client and counts the hit.
                    return self._local.hot[service_name]()
                if not self._forking:
                    block = self._raw_block()
                    if block is not None and block.fragile:
                        block = applicable(block)
                    scope = None if block is None else block.scope
                    return self._local.fast[scope]._by_name[service_name]()
            except (AttributeError, KeyError):
                pass
            memo_key: tuple[Any, ...] | None = None
        elif self._forking:
            memo_key = None  # a fork is under way: the slow path compares the pid
        elif len(args) <= _SAFE_POSITIONS and SECRET_NAMES.isdisjoint(kwargs):
            # The same arguments again in this thread: skip rebuilding the key (microseconds).
            memo_key = (self._block_var.scope(), service_name, args, *kwargs.items())
            try:
                session, client_ref, epoch = self._local.slot.by_args[memo_key]
            except (AttributeError, KeyError):
                pass
            except TypeError:  # an unhashable argument: no memo for this call
                memo_key = None
            else:
                if session.epoch == epoch:  # else: the client left the session's cache since
                    client = client_ref()
                    if client is not None:
                        session._hits += 1
                        session.touch(client)
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

    def session(self, **key_args: Any) -> AbstractContextManager[PooledSession]:
        """A block: ``with pool.session(...) as s`` gives this thread's Session for a key, and
        makes that key the one that calls naming no key use, for the code inside the block.

        Inside the block, ``pool.client()``, ``pool.resource()`` and ``pool.session()`` calls
        that name no key use the block's key. Blocks nest. A block reaches what its body calls,
        asyncio tasks and ``asyncio.to_thread`` calls started inside it, and nothing else: see
        :meth:`bind` for executors and threads, and the concepts page, "Where a block reaches",
        for generators and frameworks. Leaving the block neither closes nor drops the session,
        and never raises, even when a framework leaves it in another context.

        Parameters:
            **key_args: key arguments, as for :meth:`client`.
        """
        key_args, _ = mask_secrets(key_args)
        return _SessionBlock(self, key_args)

    def bind(self, fn: Callable[..., T], /, **key_args: Any) -> Callable[..., T]:
        """``fn``, carrying the current block's key (or the key named here) wherever it runs.

        ``loop.run_in_executor(None, fn)`` and ``threading.Thread(target=fn)`` start ``fn`` with
        no block, so its calls would use the pool's defaults; ``loop.run_in_executor(None,
        pool.bind(fn))`` runs it on the key of the block it was bound in. Each call of the bound
        function runs in a context of its own: nothing it sets stays in the executor's thread.

        Parameters:
            fn: the function to bind.
            **key_args: key arguments layered over the current block's key, as for
                :meth:`client`; none: the current block's key as it is.
        """
        key_args, _ = mask_secrets(key_args)
        scope: Scope | None
        if key_args:
            session = self._session_for(key_args)
            scope = self._slot().scope_for(session)
        else:
            scope = self._block_var.scope()
            if scope is None:
                self._require_key(key_args, "bind")
        block_var = self._block_var

        def bound(*args: Any, **kwargs: Any) -> T:
            return block_var.run(scope, fn, args, kwargs)

        bound.__wrapped__ = fn  # type: ignore[attr-defined]
        bound.__name__ = getattr(fn, "__name__", "bound")
        bound.__doc__ = getattr(fn, "__doc__", None)
        return bound

    def _key_for(self, key_args: Mapping[str, Any]) -> SessionKey:
        scope = self._block_var.scope()
        if scope is None:
            self._require_key(key_args, "call")
            base = self._defaults
        else:
            base = scope.key
        return SessionKey.build(key_args, base) if key_args else base

    def _require_key(self, key_args: Mapping[str, Any], what: str) -> None:
        """In strict mode, refuse a call outside any block that names neither profile nor keys."""
        if not self._strict or any(key_args.get(name) is not None for name in _IDENTITY):
            return
        raise KeyRequiredError(
            f"this SessionPool is strict and this {what} names no profile or keys and runs "
            f"outside any `with pool.session(...)` block (executor threads and new threads do not "
            f"inherit a block): name the key, use pool.bind(fn) or asyncio.to_thread, or enter "
            f"a block in this thread."
        )

    def _session_for(
        self, key_args: Mapping[str, Any], publish_fast: bool = False
    ) -> PooledSession:
        key = self._key_for(key_args)
        while True:
            self._check_usable()
            if self._counters.dropped:
                self._settle_dropped()
            slot = self._slot()
            session = slot.sessions.get(key)
            if session is None:
                # Counted before it exists, so that settling a drop meanwhile never forgets the
                # credentials it is about to use.
                with self._lock:
                    self._key_sessions[key] += 1
                try:
                    made = self._new_session(key)  # no lock held: this takes milliseconds
                except BaseException:
                    self._counters.dropped.append(key)
                    raise
                # setdefault: a greenlet of this thread may have made one meanwhile (it can
                # switch while credentials resolve); the first published wins, unused losers go.
                session = slot.sessions.setdefault(key, made)
                if session is made:
                    with self._lock:
                        self._counters.sessions_created += 1
                else:
                    self._counters.dropped.append(key)
            if self._bounds.active:
                self._apply_bounds(key)
            scope = self._block_var.scope()
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

    def _settle_dropped(self) -> None:
        """Count the sessions threads dropped (thread exits, evictions, releases). A key of
        explicit credentials (a tenant's keys) with no session left is forgotten at once, its
        secrets with it: making them again costs nothing. A key whose credentials the chain
        resolved (a profile, the environment, a role) stays until it is evicted (``max_keys``,
        ``idle_timeout``): threads that come and go then resolve it once, not once each."""
        gone: list[SessionKey] = []
        with self._lock:
            while True:
                try:
                    key = self._counters.dropped.popleft()
                except IndexError:
                    break
                left = self._key_sessions[key] - 1
                if left > 0:
                    self._key_sessions[key] = left
                    continue
                del self._key_sessions[key]
                if key.static_keys is not None:
                    self._bounds.forget(key)
                    gone.append(key)
        for key in gone:
            self._credentials.forget(key)

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
        explicit = key.static_keys is not None
        # A key that names no profile takes the one the environment names now, for good: a later
        # change of AWS_PROFILE reaches sessions made after it, never this one (nor its
        # credentials, which are keyed by that profile too).
        env_profile = None if key.profile is not None else _botocore.env_profile()
        profile = key.profile if key.profile is not None else env_profile
        with _profiles_explained(key, env_profile):
            core, events = _botocore.new_watched_session(key.profile, env_profile)
        owner = CredentialKey(key, None if explicit else env_profile)
        file_cache = self._file_cache
        resolve = _resolver(key, env_profile, None if file_cache is None else file_cache)
        source = None if explicit else credential_sources()
        cells = self._credentials  # the closure below must not hold the pool (a cycle)
        machine_lock = None
        if file_cache is not None and not explicit:
            cache = file_cache

            def machine_lock(deadline: float) -> AbstractContextManager[Any]:
                return cache.lock_for(profile)(deadline)

        options: dict[str, Any] = {
            "renewable": not explicit,
            "source": source,
            "machine_lock": machine_lock,
        }
        credentials: Any = cells.get(owner, resolve, **options)
        if credentials is None:
            # The chain found nothing (not set yet, or a source briefly down): look again at
            # every read until it does, as botocore's session does, instead of for good.
            credentials = PendingCredentials(
                lambda: cells.get(owner, resolve, **options), _no_credentials(owner, profile)
            )
        elif source is not None:
            # A new session after the shared files or the environment changed resolves afresh,
            # as a new boto3 Session would (rotated keys, HAZARDS C1): once, for every thread.
            credentials.check_source(source)
        session = PooledSession(
            key,
            core,
            self._counters,
            self._max_clients,
            profile_name=key.profile,
            region_name=key.region,
        )
        # Handing every thread the same object is what makes resolution happen once per key.
        _botocore.set_credentials(core, credentials)
        # Clients copy the session's event handlers when they are created, so this covers every
        # client of the session.
        _expiry.install(core, credentials, self._retry_expired)
        session.watch(events)  # from here on, a handler change drops the session's clients
        log.debug(
            "created session for %s in thread %s", owner.describe(), threading.current_thread().name
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
        self._reset_if_forked()
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
        if self._counters.dropped:
            self._settle_dropped()
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
        self._reset_if_forked()
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

    def _before_fork(self) -> None:
        # In the forking thread, before the fork (see _fork): until the fork is over, every call
        # takes the slow path, which compares the pid. So a child whose at-fork hooks reach this
        # pool late (a user's hook registered before ours) never gets the parent's clients. The
        # hot path needs no look of its own: a negative id in the live-blocks set sends it to
        # the block path, which reads _forking. Both are sets: add and discard are atomic, and
        # two threads may fork at once.
        mark = -threading.get_ident()
        self._forking.add(mark)
        self._live_blocks.add(mark)

    def _after_fork_in_parent(self) -> None:
        mark = -threading.get_ident()
        self._live_blocks.discard(mark)
        self._forking.discard(mark)

    def _after_fork_in_child(self) -> None:
        # Assign only (see _fork). The parent's sessions, clients and credentials are dropped
        # without closing: their sockets are the parent's. Old slots notice the pid in __del__.
        # A slow path may have reset this pool already, from a hook that ran before ours.
        if self._pid != os.getpid():
            self._forks_seen += 1
            closed = self._closed
            self._credentials._after_fork_in_child()
            self._init_process_state()
            self._closed = closed
        for mark in list(self._forking):
            self._live_blocks.discard(mark)
        self._forking.clear()

    # -- introspection -------------------------------------------------------------------------

    def stats(self) -> dict[str, int]:
        """Counts for this process: sessions, clients and resources created, hits, misses, forks."""
        self._reset_if_forked()
        if self._counters.dropped:
            self._settle_dropped()
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
                "clients": sum(x.client_count for s in slots for _, x in snapshot(s.sessions)),
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

    def _reset_if_forked(self) -> None:
        """Reset this pool if this process is a fork of the one that made its state: a fork
        that bypassed Python's fork hooks (HAZARDS F6), or one whose hooks have not reached this
        pool yet (an at-fork hook registered before ours). The hot path does not look (a getpid()
        costs more than the rest of it); every slow path does."""
        if self._pid == os.getpid():
            return
        # Under a lock, re-checked, as redis-py's _checkpid: two threads of a child may get
        # here at once. A fork that bypassed the hooks may have copied the lock held by a thread
        # the child does not have, so the wait is bounded and the reset then goes ahead; the
        # lock is reentrant, for a signal handler that calls the pool during a reset.
        got = _reset_lock.acquire(timeout=_RESET_WAIT)
        try:
            if self._pid != os.getpid():
                self._after_fork_in_child()
        finally:
            if got:
                _reset_lock.release()

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


class _SessionBlock:
    """What ``pool.session(...)`` returns: a context manager entering a block (see _blocks)."""

    __slots__ = ("_block", "_key_args", "_pool")

    def __init__(self, pool: SessionPool, key_args: dict[str, Any]) -> None:
        self._pool = pool
        self._key_args = key_args
        self._block: Block | None = None

    def __enter__(self) -> PooledSession:
        if self._block is not None:
            raise RuntimeError("this block is in use; call pool.session(...) again for another")
        pool = self._pool
        session = pool._session_for(self._key_args)
        self._block = pool._block_var.enter(pool._slot().scope_for(session), sys._getframe(1))
        return session

    def __exit__(self, *exc_info: object) -> None:
        block, self._block = self._block, None
        if block is not None:
            self._pool._block_var.leave(block)


def _resolver(
    key: SessionKey, env_profile: str | None, file_cache: CredentialCache | None
) -> Callable[[], Any]:
    """A function resolving ``key``'s credentials (again, when renewing): explicit keys as
    given; otherwise botocore's whole chain, through a botocore session of its own that reads the
    profile the environment named when the key's first session was made."""
    static = key.static_keys
    if static is not None:
        # botocore takes account_id from 1.35 on (SessionKey refuses it on older releases).
        extra: dict[str, Any] = {}
        if static.account_id is not None:
            extra["account_id"] = static.account_id

        def explicit() -> Any:
            return Credentials(
                static.access_key_id,
                static.secret_access_key,
                static.session_token,
                "explicit",
                **extra,
            )

        return explicit
    profile = key.profile if key.profile is not None else env_profile

    def chain() -> Any:
        resolver = _botocore.new_core_session(key.profile, env_profile)
        if file_cache is not None:
            _botocore.use_file_cache(resolver, file_cache.for_profile(profile))
        with _profiles_explained(key, env_profile):
            return resolver.get_credentials()

    return chain


@contextlib.contextmanager
def _profiles_explained(key: SessionKey, env_profile: str | None) -> Iterator[None]:
    """Re-raise botocore's ProfileNotFound as sessionpool's, which says who named the profile
    and which files were read."""
    try:
        yield
    except botocore.exceptions.ProfileNotFound as exc:
        if isinstance(exc, ProfileNotFound):
            raise
        name = exc.kwargs.get("profile") or key.profile or env_profile
        if key.profile is not None:
            who = "named in the call or the pool"
        else:
            variable = (
                "AWS_DEFAULT_PROFILE" if os.environ.get("AWS_DEFAULT_PROFILE") else "AWS_PROFILE"
            )
            who = f"named by the {variable} environment variable"
        raise ProfileNotFound(
            message=f"the profile {name!r} ({who}) is in neither {_config_files()}; add it "
            f"there (aws configure --profile {name}), or name a profile that exists.",
            profile=name,
        ) from None


def _no_credentials(owner: CredentialKey, profile: str | None) -> str:
    where = f" --profile {profile}" if profile else ""
    return (
        f"no AWS credentials found for {owner.describe()}: botocore's chain found none in the "
        f"environment, {_config_files()} or the metadata services; set AWS_ACCESS_KEY_ID and "
        f"AWS_SECRET_ACCESS_KEY, pass keys, or name a profile that has credentials (run "
        f"`sessionpool inspect{where}` to see where it looks)."
    )


def _config_files() -> str:
    config = os.environ.get("AWS_CONFIG_FILE", "~/.aws/config")
    credentials = os.environ.get("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials")
    return f"{config} nor {credentials}"


def _split(kwargs: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split call arguments into key arguments and client arguments."""
    key_args: dict[str, Any] = {}
    other: dict[str, Any] = {}
    for name, value in kwargs.items():
        (key_args if name in KEY_ARGUMENTS else other)[name] = value
    return key_args, other
