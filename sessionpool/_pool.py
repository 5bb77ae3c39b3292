"""The pool: each owner (thread, by default) of each process gets its own boto3 Session per key.

:class:`SessionPool` is a facade over the pieces that each keep one protocol:

* :class:`~._config.PoolConfig`: the options, checked once; what the pool pickles as.
* :class:`~._registry.Registry`: the owner tables and the lookup protocol (publish then check,
  pop first), counts, and the hot path's tables.
* :class:`~._factory.SessionFactory`: sessions for a key, with credentials shared per key.
* :class:`~._blocks.BlockVar`: which ``with pool.session(...)`` block the running code is in.
* :class:`~._bounds.KeyBounds`: which keys to evict.

State: ``_config``, the block variable and the fork marks live as long as the pool; everything
else is per process (``_init_process_state``), replaced in a forked child, where nothing the
parent made is used or closed (HAZARDS F1-F4). ``_lock`` (a :class:`~._locks.Lock`: re-entrant,
never held while user code runs) guards the registry's shared parts, the bounds and the counts.
Nothing calls boto3 or botocore while holding it.
"""

from __future__ import annotations

import itertools
import logging
import os
import sys
import threading
import uuid
import weakref
from collections.abc import Callable, Hashable, Iterable, Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.exceptions import UnknownServiceError

from . import _botocore, _fork, _locks, _received
from ._blocks import Block, BlockKey, BlockVar, applicable
from ._bounds import KeyBounds
from ._config import DEFAULT_MAX_CLIENTS, DEFAULT_MAX_KEYS, PoolConfig
from ._credentials import DEFAULT_RESOLVE_TIMEOUT
from ._errors import KeyRequiredError, PoolClosedError
from ._factory import SessionFactory
from ._keys import KEY_ARGUMENTS, NO_SERVICE, SessionKey, bind_call
from ._locks import snapshot
from ._memo import SAFE_POSITIONS
from ._registry import OwnerSlot, Registry
from ._secrets import SECRET_NAMES, mask_secrets
from ._session import PooledSession, _check_service, close_clients

if TYPE_CHECKING:  # typed like boto3.client with the installed stubs (boto3-stubs or types-boto3)
    import os as _os

    from ._typed import ClientFactory, ResourceFactory

__all__ = ["SessionPool"]

log = logging.getLogger("sessionpool")
T = TypeVar("T")
_pool_ids = itertools.count(1)
# Every pool alive in this process (weakly): SessionPool.clear_all() and the pytest plugin walk it.
_live_pools: weakref.WeakSet[SessionPool] = weakref.WeakSet()
# Serialises the reset of pools after a fork nobody told them about (see _reset_if_forked).
_reset_lock = _fork.Lock()
_RESET_WAIT = 5.0
# The key arguments that name who signs: in strict mode a call outside any block needs one.
_IDENTITY = ("profile", "profile_name", "aws_access_key_id")


class SessionPool:
    """A registry of boto3 Sessions: one per (key, owner, process), with cached clients.

    Parameters:
        profile, profile_name: the default profile for every key (two spellings of one field).
        region, region_name: the default region; like boto3's explicit ``region_name``, it wins
            over a profile's region.
        aws_access_key_id, aws_secret_access_key, aws_session_token, aws_account_id: default
            explicit credentials. A pool with these pickles with them; without them it holds no
            secret.
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
        resolve_timeout: seconds a thread waits for another thread resolving or refreshing the
            same key's credentials before raising :class:`CredentialWaitTimeout`, counted from
            when it asked (default 660: botocore's slowest default source, AssumeRole with its
            retries, plus a margin).
        credential_cache: a directory for temporary credentials from assume-role, web identity
            and SSO, shared by every process on the machine that uses the same directory
            (botocore's file cache, as the AWS CLI uses): 8 spawned workers make 1 AssumeRole
            instead of 8. The credentials are then on disk: the directory is made owner-only
            (0700) and each file 0600; anything below it that another user could have planted
            is refused. A relative path is made absolute when the pool is made. None (the
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
        credential_cache: str | _os.PathLike[str] | None = None,
        scopefunc: str | Callable[[], Hashable] = "thread",
        clock: Callable[[], float] | None = None,
        strict: bool = False,
        **defaults: str | None,
    ) -> None:
        defaults, _ = mask_secrets(defaults)  # first: no frame below may hold a bare secret
        options: dict[str, Any] = {} if clock is None else {"clock": clock}
        config = PoolConfig.build(
            max_keys=max_keys,
            max_clients=max_clients,
            idle_timeout=idle_timeout,
            retry_expired=retry_expired,
            resolve_timeout=resolve_timeout,
            credential_cache=credential_cache,
            scopefunc=scopefunc,
            strict=strict,
            **options,
            **defaults,
        )
        self._setup(config, uuid.uuid4().hex)
        _received.register(self._pickle_token, self)

    def _setup(self, config: PoolConfig, token: str) -> None:
        self._config = config
        self._id = next(_pool_ids)
        # Names this pool across pickles: every task that carries it into a worker process
        # finds the same pool there (see _rebuild), so sessions and credentials are reused.
        self._pickle_token = token
        # The innermost `with pool.session()` block of the running code (see _blocks).
        self._block_var = BlockVar(f"sessionpool-{self._id}-block")
        self._raw_block = self._block_var.get  # bound once: warm paths call it
        # Ids of the live Blocks: while empty, no context anywhere holds a block, and the hot
        # path needs no look at the block variable. Kept across fork.
        self._live_blocks = self._block_var.live
        # Negated idents of the threads forking now (see _before_fork).
        self._forking: set[int] = set()
        self._forks_seen = 0
        self._factory = SessionFactory(config)
        self._init_process_state()
        _fork.register(self)
        _live_pools.add(self)

    def _init_process_state(self) -> None:
        # Per process. Guarded by _lock: the registry's shared parts, _bounds, _evictions, the
        # hit totals, _closed. The registry's per-owner store is replaced wholesale on close,
        # clear and fork; _local is the same object, for the hot path.
        self._lock = _locks.Lock()
        self._registry = Registry(self._config.scopefunc, self._lock)
        self._local = self._registry.local
        self._bounds = KeyBounds(self._config.max_keys, self._config.idle_timeout)
        self._evictions = 0
        self._retired_hits = 0
        self._hits_reported = 0
        self._closed = False
        self._pid = os.getpid()  # last: a pid that matches means the rest is this process's

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
                ``aws_access_key_id``, ``aws_secret_access_key``, ``aws_session_token``,
                ``aws_account_id``) choose the session; the rest (``endpoint_url``, ``config``,
                ``api_version``, ``use_ssl``, ``verify``) go to ``Session.client`` and are part
                of the cache key.
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
                    block_key = None if block is None else block.block_key
                    return self._local.fast[block_key].by_name[service_name]()
            except (AttributeError, KeyError):
                pass
            memo_key: tuple[Any, ...] | None = None
        elif self._forking:
            memo_key = None  # a fork is under way: the slow path compares the pid
        elif len(args) <= SAFE_POSITIONS and SECRET_NAMES.isdisjoint(kwargs):
            # The same arguments again in this owner: skip rebuilding the key (microseconds).
            # Memo.find and Memo.key, inlined: this path is hot too (see _memo).
            memo_key = (self._block_var.key(), service_name, args, *kwargs.items())
            try:
                session, client_ref, epoch, meter = self._local.slot.memo[memo_key]
            except (AttributeError, KeyError):  # no slot yet, or not remembered
                pass
            except TypeError:  # an unhashable argument: no memo for this call
                memo_key = None
            else:
                if session.epoch == epoch:
                    client = client_ref()
                    if client is not None:
                        meter()  # counts the hit, and marks the client used
                        return client
        else:
            memo_key = None  # a secret among the arguments: never remembered
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
        session, (client, meter) = self._from_tracked_session(
            key_args,
            lambda s: s.metered_client(service_name, (), client_args),
            publish_fast=not kwargs,
        )
        if memo_key is not None:
            self._registry.remember(self._registry.slot(), memo_key, session, client, meter)
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
            client = made[0] if isinstance(made, tuple) else made.meta.client  # a client, metered
            close_clients([client])

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

    # Type checkers see the installed stubs' overloads for every service (sessionpool/_typed.pyi,
    # typed like boto3.client); at run time the names are the functions above, no extra call.
    if TYPE_CHECKING:
        client: ClientFactory
        resource: ResourceFactory
    else:
        client = _client
        resource = _resource

    # -- keys, sessions and blocks -------------------------------------------------------------

    def get_session(self, **key_args: Any) -> PooledSession:
        """This thread's Session for a key, without entering a block.

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
        block_key: BlockKey | None
        if key_args:
            session = self._session_for(key_args)
            block_key = self._registry.slot().block_key(session)
        else:
            block_key = self._block_var.key()
            if block_key is None:
                self._require_key(key_args, "bind")
        block_var = self._block_var

        def bound(*args: Any, **kwargs: Any) -> T:
            return block_var.run(block_key, fn, args, kwargs)

        bound.__wrapped__ = fn  # type: ignore[attr-defined]
        bound.__name__ = getattr(fn, "__name__", "bound")
        bound.__doc__ = getattr(fn, "__doc__", None)
        return bound

    def _key_for(self, key_args: Mapping[str, Any]) -> SessionKey:
        block_key = self._block_var.key()
        if block_key is None:
            self._require_key(key_args, "call")
            base = self._config.defaults
        else:
            base = block_key.session_key
        return SessionKey.build(key_args, base) if key_args else base

    def _require_key(self, key_args: Mapping[str, Any], what: str) -> None:
        """In strict mode, refuse a call outside any block that names neither profile nor keys."""
        if not self._config.strict or any(key_args.get(name) is not None for name in _IDENTITY):
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
            self._check_usable()  # first: after a fork, it makes a new registry
            registry = self._registry
            if registry.counters.dropped:
                self._settle()
            slot = registry.slot()
            session = registry.find_or_make(slot, key, self._factory.make)
            if self._bounds.active:
                self._apply_bounds(key)
            if registry.publish(slot, key, session, self._block_var.key(), publish_fast):
                return session
            # Dropped meanwhile (an eviction, clear()): look again.

    def _settle(self) -> None:
        """Forget the credentials of explicit keys no session has any more (see Registry)."""
        for key in self._registry.settle():
            with self._lock:
                self._bounds.forget(key)
            self._factory.forget(key)

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
        now = self._config.clock()
        with self._lock:
            new = key is not None and self._bounds.touch(key, now)
            over = self._bounds.max_keys is not None and len(self._bounds) > self._bounds.max_keys
            if not (new and over) and not self._bounds.idle_check_due(now):
                return
            slots = list(self._registry.slots)
        used = self._registry.usage(slots)  # other owners' tables, copied without the lock
        with self._lock:
            victims = self._bounds.victims(used, now, keep=key)
            self._evictions += len(victims)
        self._evict(victims, slots)

    def _evict(self, victims: list[Any], slots: list[OwnerSlot]) -> None:
        if not victims:
            return
        clients: list[Any] = []
        for victim in victims:
            # Forget everything that holds the key (and so any explicit secret in it): its
            # credentials, and each owner's session, block key, memo and fast entries.
            self._factory.forget(victim)
            clients.extend(self._registry.drop_everywhere(victim, slots))
            log.debug("evicted %s", victim.describe())
        close_clients(clients)

    def prune(self) -> int:
        """Evict idle keys (and keys past ``max_keys``) now; return how many were evicted.

        The pool has no background thread: it prunes on its slow paths, at most once per
        ``idle_timeout / 4``. Call this from your own loop to prune on a schedule.
        """
        self._check_usable()
        if self._registry.counters.dropped:
            self._settle()
        now = self._config.clock()
        slots = self._registry.live_slots()
        used = self._registry.usage(slots)
        with self._lock:
            victims = self._bounds.victims(used, now)
            self._evictions += len(victims)
        self._evict(victims, slots)
        return len(victims)

    # -- lifecycle -----------------------------------------------------------------------------

    def release(self) -> int:
        """Release the current owner's sessions now (this thread's, greenlet's, or scope
        function's owner's): close their clients; the next call makes new ones.

        Threads and greenlets release theirs when they end; an owner chosen by a scope function
        does not end as far as the pool can see, so call this when it is done.

        Returns: how many clients were closed.
        """
        self._reset_if_forked()
        clients = self._registry.release_current()
        close_clients(clients)
        return len(clients)

    def _check_usable(self) -> None:
        self._reset_if_forked()
        if self._closed:
            raise PoolClosedError(
                "this SessionPool was closed; create a new SessionPool to make more clients."
            )

    def _replace_registry(self, closing: bool) -> list[Any]:
        """Start every owner afresh (a new registry), and hand back the old one's clients."""
        with self._lock:
            if closing:
                self._closed = True
            old = self._registry
            slots = list(old.slots)
            # The old per-owner store goes after the lock is released: dropping it releases
            # every owner's slot, whose __del__ closes clients, which must not happen under it.
            self._registry = Registry(self._config.scopefunc, self._lock)
            self._registry.key_sessions = old.key_sessions  # drops still settle against it
            self._registry.counters = old.counters
            self._local = self._registry.local
            self._bounds.clear()
        del old
        clients: list[Any] = []
        for slot in slots:
            clients.extend(slot.release())
        close_clients(clients)
        return clients

    def clear(self) -> int:
        """Forget every session of every thread in this process, and every key's credentials;
        close their clients. The pool stays usable: the next call makes new sessions, which read
        the environment, the shared files and botocore's handlers (moto's mocks) as they are then.

        Returns: how many clients were closed.
        """
        self._check_usable()
        clients = self._replace_registry(closing=False)
        self._factory.forget()
        log.debug("pool cleared: %d client(s) closed", len(clients))
        return len(clients)

    @staticmethod
    def clear_all() -> int:
        """:meth:`clear` every open pool in this process (the default pool included).

        Returns: how many clients were closed.
        """
        total = 0
        for pool in list(_live_pools):
            try:
                total += pool.clear()
            except PoolClosedError:  # closed, perhaps by another thread since it was listed
                continue
        return total

    def close(self) -> None:
        """Close every client this process's pool made, forget every session and every key's
        credentials, and refuse reuse."""
        clients = self._replace_registry(closing=True)
        self._factory.forget()
        log.debug("pool closed: %d client(s) closed", len(clients))

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed

    def __enter__(self) -> SessionPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- fork ----------------------------------------------------------------------------------

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
            # Before dropping them: freeing a client must not wait for a lock a parent thread
            # held at the fork (HAZARDS F8).
            _botocore.unlock_inherited()
            closed = self._closed
            self._factory._after_fork_in_child()
            self._init_process_state()
            self._closed = closed
        for mark in list(self._forking):
            self._live_blocks.discard(mark)
        self._forking.clear()

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
        # lock is re-entrant, for a signal handler that calls the pool during a reset.
        got = _reset_lock.acquire(timeout=_RESET_WAIT)
        try:
            if self._pid != os.getpid():
                self._after_fork_in_child()
        finally:
            if got:
                _reset_lock.release()

    # -- introspection -------------------------------------------------------------------------

    def stats(self) -> dict[str, int]:
        """Counts for this process: sessions, clients and resources created, hits, misses, forks."""
        self._reset_if_forked()
        registry = self._registry
        if registry.counters.dropped:
            self._settle()
        with self._lock:
            slots = list(registry.slots)
            c = registry.counters
            result = {
                "sessions_created": c.sessions_created,
                "clients_created": c.clients_created,
                "resources_created": c.resources_created,
                "misses": c.clients_created + c.resources_created,
                "credential_resolutions": self._factory.credentials.resolutions,
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
        return (_rebuild, (self._pickle_token, self._config.picklable()))


def _rebuild(token: str, config: PoolConfig) -> SessionPool:
    """Unpickle a pool: the one this process already has under ``token``, or a new one."""

    def make() -> SessionPool:
        pool = SessionPool.__new__(SessionPool)
        pool._setup(config, token)
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
        block_key = pool._registry.slot().block_key(session)
        self._block = pool._block_var.enter(block_key, sys._getframe(1))
        return session

    def __exit__(self, *exc_info: object) -> None:
        block, self._block = self._block, None
        if block is not None:
            self._pool._block_var.leave(block)


def _split(kwargs: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split call arguments into key arguments and client arguments."""
    key_args: dict[str, Any] = {}
    other: dict[str, Any] = {}
    for name, value in kwargs.items():
        (key_args if name in KEY_ARGUMENTS else other)[name] = value
    return key_args, other
