"""Per-process sharing of what botocore rebuilds for every client (issue 12).

Making a client repeats work whose result is the same for every client of a service: generating
the client class (a method object per operation, ~17% of a new client's time) and parsing the
endpoint rule set into rule objects (~17%). Here both are built once per process and shared:

* **Client classes** (switch ``client_class_cache``): per (service, API version, service model
  data, botocore's built-in handlers) for sessions whose handlers are exactly what the pool set up
  (``boto3``'s defaults and the built-ins). A session where the user registered or unregistered
  a handler builds its classes botocore's way, so a ``creating-client-class`` handler runs for
  every client made after it is registered. A class holds no per-client state.
* **Endpoint rule providers** (switch ``shared_endpoint_rules``): per (rule set, partitions) data
  of the shared loader. An ``EndpointProvider`` is immutable once built; its resolution cache is
  botocore's thread-safe ``lru_cache``.

Both hook botocore by wrapping, once per process, a private name it looks up while making a
client (``ClientCreator._create_client_class``, ``botocore.regions.EndpointProvider``). The
wrappers act only while a pooled session is making a client (:func:`~.scope.pooled`, a
thread-local mark); any other client in the process, plain boto3's included, takes botocore's
own path unchanged. :mod:`.scope` runs :func:`install` once; the caches publish with
``setdefault``.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Hashable
from typing import Any

import botocore.client
import botocore.regions
from botocore.docs.docstring import LazyLoadedDocstring
from botocore.hooks import BaseEventHooks, HierarchicalEmitter

from . import scope
from .guard import SURPRISES, Switch

__all__ = [
    "class_cache",
    "close_when_unused",
    "closing",
    "endpoint_rules",
    "forked",
    "install",
    "unlock_inherited",
    "watch_for_fork",
]

class_cache = Switch(
    "client_class_cache",
    "generate each service's client class once per process; off: once per client",
)
endpoint_rules = Switch(
    "shared_endpoint_rules",
    "parse each service's endpoint rule set once per process; off: once per client",
)

closing = Switch(
    "close_evicted_clients",
    "close the connections of a client pushed out of a session's cache as soon as nobody "
    "holds it; off: when the garbage collector frees it",
)

forked = Switch(
    "fork_safe_connections",
    "in a forked child, give the connection pools of clients inherited from the parent new "
    "locks, so freeing them cannot wait for a lock a parent thread held at the fork; off: "
    "a child forked at that moment can hang when it frees them, as with plain boto3",
)

_classes: dict[Hashable, type] = {}
_providers: dict[tuple[int, int, int], tuple[Any, Any, Any, Any]] = {}
_NEUTRAL = HierarchicalEmitter()  # renders shared classes' docstrings: no handlers, no session


@scope.on_first_use
def install() -> None:
    """Wrap botocore's two factories (run once per process by :mod:`.scope`)."""
    creator: Any = botocore.client.ClientCreator
    regions: Any = botocore.regions
    if class_cache.active:
        try:
            original_class = creator._create_client_class
            assert callable(original_class), "ClientCreator._create_client_class is not callable"
            creator._create_client_class = _class_factory(original_class)
        except SURPRISES as exc:
            class_cache.off("wrapping ClientCreator._create_client_class failed", exc)
    if endpoint_rules.active:
        try:
            original_provider = regions.EndpointProvider
            assert isinstance(original_provider, type), "regions.EndpointProvider is not a class"
            regions.EndpointProvider = _provider_factory(original_provider)
        except SURPRISES as exc:
            endpoint_rules.off("wrapping botocore.regions.EndpointProvider failed", exc)


def _class_factory(original: Any) -> Any:
    def _create_client_class(self: Any, service_name: str, service_model: Any) -> Any:
        shareable = scope.shareable()
        if shareable is None or not class_cache.active:
            return original(self, service_name, service_model)
        try:
            metadata = service_model.metadata
            key = (service_name, service_model.api_version, id(metadata), shareable)
        except SURPRISES as exc:
            class_cache.off("reading a service model's identity failed", exc)
            return original(self, service_name, service_model)
        found = _classes.get(key)
        if found is not None and found.__dict__.get("_sessionpool_model") is metadata:
            return found
        built = original(self, service_name, service_model)
        try:
            _detach(built)
        except SURPRISES as exc:
            class_cache.off("detaching a client class from its session failed", exc)
            return built
        built._sessionpool_model = metadata  # keeps the id above meaning this model
        return _classes.setdefault(key, built)

    _create_client_class.__wrapped__ = original  # type: ignore[attr-defined]
    return _create_client_class


def _detach(cls: type) -> None:
    """Point the lazy docstrings of a generated client class at a neutral emitter.

    botocore gives each method's docstring the emitter of the session that made the class, to
    render it later. A class shared by the process must not keep that session alive (with its
    handlers, credentials and, for explicit keys, secrets: the eviction test scans for them).
    """
    for attribute in list(cls.__dict__.values()):
        found = getattr(attribute, "__doc__", None)
        if isinstance(found, LazyLoadedDocstring):
            doc: Any = found  # private fields, not in botocore's stubs
            kwargs = doc._gen_kwargs
            assert isinstance(kwargs, dict), "a lazy docstring's _gen_kwargs is not a dict"
            if "event_emitter" in kwargs:
                kwargs["event_emitter"] = _NEUTRAL
            assert not any(
                isinstance(v, BaseEventHooks) and v is not _NEUTRAL for v in doc._gen_args
            ), "a lazy docstring holds an emitter positionally"


def _provider_factory(original: Any) -> Any:
    init: Any = original.__init__

    class SharedEndpointProvider(original):  # type: ignore[misc]
        """botocore's EndpointProvider, shared per rule set while a pooled client is made."""

        def __new__(
            cls, ruleset_data: Any = None, partition_data: Any = None, **kwargs: Any
        ) -> Any:
            if not scope.making() or not endpoint_rules.active:
                return super().__new__(cls)
            try:  # other arguments (excluded_params on newer botocore) are part of the key
                extra = tuple(
                    sorted(
                        (k, frozenset(v) if isinstance(v, set) else v) for k, v in kwargs.items()
                    )
                )
                key = (id(ruleset_data), id(partition_data), hash(extra))
            except TypeError:
                return super().__new__(cls)
            entry = _providers.get(key)
            if (
                entry is not None
                and entry[0] is ruleset_data
                and entry[1] is partition_data
                and entry[2] == extra
            ):
                return entry[3]
            provider = super().__new__(cls)
            init(provider, ruleset_data=ruleset_data, partition_data=partition_data, **kwargs)
            provider._sessionpool_ready = True
            # The data are held with the provider, so their ids keep meaning them.
            entry = (ruleset_data, partition_data, extra, provider)
            return _providers.setdefault(key, entry)[3]

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            if self.__dict__.get("_sessionpool_ready"):
                return  # a shared provider, built once
            init(self, *args, **kwargs)

    SharedEndpointProvider.__name__ = original.__name__
    SharedEndpointProvider.__qualname__ = original.__qualname__
    return SharedEndpointProvider


def close_when_unused(client: Any) -> None:
    """Close ``client``'s connections once nobody holds it (a client another thread is using
    keeps working until then). Through its endpoint, which the finalizer holds instead of the
    client: ``BaseClient.close`` is ``self._endpoint.close()``.

    Parameters:
        client: a botocore client that left a session's cache.
    """
    if not closing.active:
        return
    try:
        close = client._endpoint.close
        assert callable(close), "a client's _endpoint.close is not callable"
    except SURPRISES as exc:
        closing.off("reading a client's endpoint failed", exc)
        return
    weakref.finalize(client, close)


_watched: weakref.WeakSet[Any] = weakref.WeakSet()  # every client the pools made, while alive
_unlocked_in: list[int] = [os.getpid()]  # the process whose inherited clients were unlocked


def watch_for_fork(client: Any) -> None:
    """Note a client the pool made, so that a forked child can unlock its connection pools
    (:func:`unlock_inherited`) whether or not the pool still holds it: a retired session's
    clients, and a client evicted while its user still holds it, are in no pool's tables.

    Parameters:
        client: a botocore client just made by a pooled session (held weakly).
    """
    if forked.active:
        _watched.add(client)


def unlock_inherited() -> None:
    """In a forked child: new locks for the connection pools of every client that the parent's
    pools made and that is still alive here; once per process.

    urllib3 closes a connection pool's connections when the pool is freed (a
    ``weakref.finalize``, also run at exit), taking the lock of the pool's queue; a pool manager
    takes its own lock to reach its pools. A parent thread inside either at the moment of the fork
    leaves that lock held in the child by a thread the child does not have, and the child then
    hangs when it frees the client (HAZARDS F8). Run from an at-fork hook, the child's one thread
    is running this, so replacing the locks is safe; run later (a fork that bypassed the hooks,
    from a pool's reset), a client the child made meanwhile may be among them, and a lock that is
    free when replaced is harmless. Closing the child's copies of the sockets afterwards leaves
    the parent's connections open.
    """
    if not forked.active or _unlocked_in[0] == os.getpid():
        return
    _unlocked_in[0] = os.getpid()
    while True:  # a WeakSet another thread adds to while it is copied raises (HAZARDS I11)
        try:
            clients = list(_watched)
            break
        except RuntimeError:
            continue
    try:
        for client in clients:
            http = client._endpoint.http_session
            for manager in (http._manager, *http._proxy_managers.values()):
                pools = manager.pools
                pools.lock = threading.RLock()
                for pool in list(pools._container.values()):
                    queue = pool.pool
                    if queue is None:  # a closed pool
                        continue
                    queue.mutex = threading.Lock()
                    queue.not_empty = threading.Condition(queue.mutex)
                    queue.not_full = threading.Condition(queue.mutex)
                    queue.all_tasks_done = threading.Condition(queue.mutex)
    except SURPRISES as exc:
        forked.off("a client's connection pools are not laid out as expected", exc)


if hasattr(os, "register_at_fork"):  # absent on Windows, where there is no fork
    os.register_at_fork(after_in_child=unlock_inherited)
