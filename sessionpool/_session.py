"""The session the pool hands out: a real ``boto3.session.Session`` that caches what it makes.

:class:`PooledSession` subclasses boto3's Session, so ``isinstance(s, boto3.session.Session)``
holds and every library that takes a boto3 session accepts it; everything in boto3's Session
reference works unchanged. It adds one thing: ``client()`` and ``resource()`` return the object
they made before for the same arguments (every argument that changes the client is in the cache
key, see :func:`~sessionpool._keys.client_cache_key`).

A PooledSession belongs to one thread (the pool never hands it to another), so its caches need no
lock. The no-argument case, ``s.client("s3")``, is the hot path: a dict lookup by service name.

Handlers behave as in boto3 (HAZARDS P1, P2): a handler registered or unregistered on the
session's ``events`` applies to every client the session hands out afterwards, so the clients and
resources it cached before are dropped from its cache (not closed: whoever holds one keeps a
working client, as in boto3) and rebuilt on next use; the pool still closes them with the
session. Before making a client, the session also takes in any change to botocore's built-in
handlers since it was made (a plugin such as moto imported later), as a plain session made now
would carry it.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import operator
import os
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import boto3.session
import botocore.exceptions

from . import _botocore
from ._credentials import PendingCredentials
from ._errors import InvalidArgumentError, NoRegionError
from ._keys import SessionKey, client_cache_key
from ._locks import snapshot
from ._memo import Memo
from ._secrets import mask_secrets

__all__ = ["PooledSession", "close_clients"]
# How many times a counting getter can answer (it would take centuries to run out).
_USES = sys.maxsize

log = logging.getLogger("sessionpool")
# boto3's own client(), which the cache wraps (untyped here: its stubs overload it per service).
_boto3_client: Any = boto3.session.Session.client


def _check_service(service_name: object) -> str:
    if not isinstance(service_name, str) or not service_name.strip():
        raise InvalidArgumentError(
            f"service_name must be a non-empty string such as 's3', not {service_name!r}."
        )
    return service_name


class PooledSession(boto3.session.Session):
    """A boto3 Session owned by one thread of one process, with cached clients and resources.

    Do not create one yourself: :meth:`SessionPool.session` and friends hand them out.
    """

    def __init__(
        self,
        key: SessionKey,
        botocore_session: Any,
        counters: Any,
        memo: Memo,
        max_clients: int,
        **kwargs: Any,
    ) -> None:
        super().__init__(botocore_session=botocore_session, **kwargs)
        self._core = botocore_session
        #: The pool's key for this session: profile, region and (by fingerprint only) explicit
        #: credentials. Its repr never shows a secret.
        self.pool_key = key
        self._pid = os.getpid()
        # Owned by one thread: no lock. by_name is the no-argument fast path: service -> a
        # counting getter of the client (see _meter); the pool's hot path uses it directly.
        self.by_name: dict[str, Callable[[], Any]] = {}
        # Cache key -> client, in the order recency was last settled (see _make_room: at most
        # max_clients), and its meter: an iterator whose length counts the client's uses, in C
        # (the by-name getter is the meter's __next__; a memo calls it too).
        self._clients: dict[object, Any] = {}
        self._meters: dict[object, Any] = {}
        self._max_clients = max_clients
        self._seen: dict[object, int] = {}  # each meter's count when recency was last settled
        # The owner's memo (see _memo): this session's calls with arguments are remembered there
        # under the session itself.
        self._memo = memo
        self._resources: dict[object, Any] = {}
        self._counters = counters
        self._hits = 0  # hits not counted by a getter (memo and cache-key hits)
        # Bumped whenever a client leaves the cache (handlers changed, or the bound pushed it
        # out): memos of this session's clients elsewhere compare it.
        self.epoch = 0
        # Set once the pool dropped this session (eviction, clear, close, thread exit); it still
        # works, as a plain boto3 Session: it caches nothing more, since no clear would reach it.
        self.retired = False
        # Bumped whenever the session's handlers change; memos elsewhere compare it.
        self.generation = 0
        self._watched: Any = None
        self._superseded: list[Any] = []  # clients cached before a handler change

    def watch(self, events: Any) -> None:
        """Follow handler changes on ``events`` (the session's watched emitter), from now on."""
        self._watched = events
        events.on_change = self._handlers_changed

    @property
    def hits(self) -> int:
        """How many calls this session answered from its cache, without making anything."""
        meters = snapshot(self._meters)  # may be read from another thread (stats)
        return self._hits + sum(_USES - operator.length_hint(m) for _, m in meters)

    def _fold_meters(self) -> None:
        # Keep the hits of the meters being dropped. Swap the table before storing the total:
        # a reader in another thread (stats) may then count too few for a moment, never too
        # many, and the pool reports the highest count it has seen.
        total = self.hits
        self._meters = {}
        self._seen.clear()
        self._hits = total

    def _handlers_changed(self) -> None:
        self.generation += 1
        self.epoch += 1
        self._memo.clear()
        self._superseded.extend(self._clients.values())
        self._fold_meters()
        self.by_name.clear()
        self._clients.clear()
        self._resources.clear()

    def _make_room(self) -> None:
        """Keep at most ``max_clients`` - 1 clients cached, so one more fits: the least recently
        used leave the cache. Uses are counted by meters, not recorded in order (the hot path
        and the memo must stay a lookup), so recency is settled here: a client whose meter moved
        since the last look was used since, and goes to the young end. A client that leaves is
        closed once nobody holds it."""
        if len(self._clients) < self._max_clients:
            return
        for key, meter in list(self._meters.items()):
            uses = _USES - operator.length_hint(meter)
            if self._seen.get(key) != uses and key in self._clients:
                self._seen[key] = uses
                self._clients[key] = self._clients.pop(key)  # to the young end
        while len(self._clients) >= self._max_clients:
            key = next(iter(self._clients))
            client = self._clients.pop(key)
            meter = self._meters.pop(key, None)
            if meter is not None:
                self._hits += _USES - operator.length_hint(meter)
                self._seen.pop(key, None)
            if self.by_name.get(key[0]) is not None and key == (key[0],):
                del self.by_name[key[0]]
            self.epoch += 1
            _botocore.close_when_unused(client)
        # The owner's memo may hold the meters of what left (and through them the clients): it
        # starts over (rarely: only when the bound is met).
        self._memo.clear()

    def _meter(self, cache_key: object, client: Any) -> Callable[[], Any]:
        """The counting getter of a cached client: the ``__next__`` of ``itertools.repeat(client,
        N)``, whose remaining length says how often it ran, in C. The hot path, the memo and
        cache hits call it; on the pool's hot path it costs less than any Python-level counter."""
        meter = self._meters.get(cache_key)
        if meter is None:
            meter = self._meters[cache_key] = itertools.repeat(client, _USES)
            self._seen[cache_key] = 0  # unused so far: not "used since the last look"
        return meter.__next__

    def _shareable(self) -> Any:
        """What decides this session's client classes besides the service, or None if the user
        changed its handlers (then its classes are built botocore's way, handlers and all)."""
        if self.generation or self._watched is None:
            return None
        return ("builtins", hash(self._watched.builtins))

    def _refresh_builtins(self) -> None:
        if self._watched is not None:
            _botocore.sync_builtins(self._core, self._watched)

    def __repr__(self) -> str:
        return (
            f"<PooledSession {self.pool_key.describe()} pid={self._pid} "
            f"clients={len(self._clients)} resources={len(self._resources)}>"
        )

    # Type checkers see boto3's own (stubbed, overloaded) client() and resource(): the
    # overrides below change caching, not types.
    if not TYPE_CHECKING:

        def client(self, service_name: str, *args: Any, **kwargs: Any) -> Any:
            """This session's client for ``service_name`` and arguments, created on first use.

            Parameters:
                service_name: the service, as in ``boto3.Session.client``.
                *args: boto3's positional client arguments, in its order.
                **kwargs: boto3's client arguments (``region_name``, ``endpoint_url``,
                    ``config``, ...); each distinct combination gets its own cached client.
            """
            if not args and not kwargs:
                getter = self.by_name.get(service_name)
                if getter is not None:
                    return getter()  # counts the hit
                memo_key: tuple[Any, ...] | None = None
            else:
                # The same arguments again: skip normalising them (see _keys.client_cache_key).
                memo_key = Memo.key(self, service_name, args, kwargs)
                if memo_key is not None:
                    try:
                        client = self._memo.find(memo_key)
                    except TypeError:  # an unhashable argument: no memo for this call
                        memo_key = client = None
                    if client is not None:
                        return client  # counted by the memo, with the client's meter
            kwargs, args = mask_secrets(kwargs, args)  # first: no frame below holds a secret
            client, meter = self.metered_client(service_name, args, kwargs)
            if memo_key is not None and not self.retired:
                self._memo.remember(memo_key, self, client, meter)
            return client

    def metered_client(
        self, service_name: str, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[Any, Callable[[], Any]]:
        """This session's cached client for these arguments (made on first use), and its meter
        (which the pool's memo calls to count a hit). The arguments' secrets are already masked
        (``mask_secrets``) by the caller."""
        _check_service(service_name)
        if self.retired:  # a plain Session from now on: nothing is cached that no one clears
            made = self._make_client(service_name, args, kwargs)
            return made, itertools.repeat(made).__next__  # a meter that counts nothing
        cache_key = client_cache_key(service_name, args, kwargs, self.region_name)
        self._refresh_builtins()  # may drop the cache: a plugin changed the built-ins
        client = self._clients.get(cache_key)
        if client is not None:
            self._meter(cache_key, client)()  # counts the hit (and so its recency)
        else:
            made = self._make_client(service_name, args, kwargs)
            self._make_room()
            # setdefault: another greenlet of this thread may have made one meanwhile (it
            # can switch on I/O while this one was made); the first published wins.
            client = self._clients.setdefault(cache_key, made)
            if client is made:
                self._counters.client_created()
                log.debug("created %s client for %s", service_name, self.pool_key.describe())
            else:
                close_clients([made])
        meter = self._meter(cache_key, client)
        if cache_key == (service_name,) and not self.retired:
            self.by_name[service_name] = meter
        return client, meter

    def _make_client(self, service_name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """A new client, made with botocore's shared read-only data, and watched for forks: a
        forked child gives its connection pools new locks (HAZARDS F8), whether or not the
        session still caches it."""
        with _botocore.pooled(self._shareable()), self._explained():
            made = _boto3_client(self, service_name, *args, **kwargs)
        _botocore.watch_for_fork(made)
        return made

    if not TYPE_CHECKING:

        def resource(self, service_name: str, *args: Any, **kwargs: Any) -> Any:
            """This session's resource for ``service_name`` and arguments, created on first use.

            Parameters:
                service_name: the service, as in ``boto3.Session.resource``.
                *args: boto3's positional resource arguments, in its order.
                **kwargs: boto3's resource arguments; each distinct combination is cached.
            """
            _check_service(service_name)
            kwargs, args = mask_secrets(kwargs, args)
            cache_key = client_cache_key(
                service_name, args, kwargs, self.region_name, function="resource"
            )
            if self.retired:  # as in metered_client
                with self._explained():
                    return super().resource(service_name, *args, **kwargs)
            self._refresh_builtins()
            resource = self._resources.get(cache_key)
            if resource is not None:
                self._hits += 1
                return resource
            with self._explained():
                made = super().resource(service_name, *args, **kwargs)
            while len(self._resources) >= self._max_clients:  # the same bound, oldest out
                self._resources.pop(next(iter(self._resources)))
            resource = self._resources.setdefault(cache_key, made)
            if resource is not made:
                return resource
            self._counters.resource_created()
            log.debug("created %s resource for %s", service_name, self.pool_key.describe())
            return resource

        def get_credentials(self) -> Any:
            """The credentials this session signs with, or None if none were found (yet).

            As in boto3, a session made while no credentials could be found looks again here;
            unlike boto3, its clients look again too, on each request, so they sign as soon as
            credentials exist.
            """
            credentials = self._core.get_credentials()
            if isinstance(credentials, PendingCredentials):
                return credentials.found()
            return credentials

    @contextlib.contextmanager
    def _explained(self) -> Iterator[None]:
        """Re-raise botocore's NoRegionError as sessionpool's, which names the ways to fix it."""
        try:
            yield
        except botocore.exceptions.NoRegionError as exc:
            if isinstance(exc, NoRegionError):
                raise
            raise NoRegionError(
                message=f"no region for {self.pool_key.describe()}: pass region=... to the call "
                f"or to SessionPool(region=...), set AWS_DEFAULT_REGION (botocore reads no other "
                f"variable for it), or give the "
                f"profile a region in {os.environ.get('AWS_CONFIG_FILE', '~/.aws/config')}."
            ) from None

    @property
    def botocore_session(self) -> Any:
        """The ``botocore.session.Session`` this Session wraps (boto3 keeps no public handle)."""
        return self._core

    @property
    def client_count(self) -> int:
        return len(self._clients)

    def forget(self) -> list[Any]:
        """Drop every cached client and resource; return the clients, for the caller to close."""
        self.retired = True
        if self._watched is not None:
            self._watched.on_change = None
        clients = [*self._clients.values(), *self._superseded]
        self._superseded.clear()
        self._fold_meters()
        self.by_name.clear()
        self._clients.clear()
        self._resources.clear()
        self.epoch += 1
        return clients


def close_clients(clients: list[Any], quiet: bool = False) -> None:
    """Close clients, returning their pooled connections; never raise.

    Parameters:
        clients: the clients to close.
        quiet: log nothing (for finalizers, which may run where logging is unsafe).
    """
    for client in clients:
        try:
            client.close()
        except Exception:  # noqa: BLE001 - closing is best effort, and must not mask other work
            if not quiet:
                log.debug("closing a %s client failed", type(client).__name__, exc_info=True)
