"""A lazily created, process-wide default pool, like boto3's module-level ``client()``.

Unlike boto3's default session (an unlocked global: a 32-thread burst built 19 of them where 1
was meant, HAZARDS T2), the default pool is created once under a lock, and everything it hands
out is per thread anyway.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from . import _fork
from ._keys import NO_SERVICE
from ._pool import SessionPool
from ._secrets import mask_secrets
from ._session import PooledSession

if TYPE_CHECKING:
    from ._typed import ClientFactory, ResourceFactory

__all__ = ["client", "default_pool", "resource", "session", "set_default_pool"]

_default: SessionPool | None = None
_default_lock = _fork.Lock()


def default_pool() -> SessionPool:
    """The process-wide default pool, created on first use."""
    pool = _default
    if pool is not None:
        return pool
    # Made outside the lock (nothing of the user's, a log record included, runs under it), and
    # published under it: two threads may make one each at once; the first published wins.
    made = SessionPool()
    with _default_lock:
        if _default is None:
            set_default_pool(made)
        chosen = _default
    assert chosen is not None
    if chosen is not made:
        made.close()
    return chosen


def set_default_pool(pool: SessionPool | None) -> None:
    """Replace the default pool (None: create a fresh one on next use). The old one is not closed.

    Parameters:
        pool: the pool that ``sessionpool.client()`` and friends should use from now on.
    """
    global _default
    _default = pool


def _client(service_name: str = NO_SERVICE, /, *args: Any, **kwargs: Any) -> Any:
    """``default_pool().client(...)``: this thread's cached client, in boto3's call forms.

    Parameters:
        service_name: the service, as in ``boto3.client``.
        *args: boto3's positional arguments after the service name.
        **kwargs: key arguments and client arguments, as for :meth:`SessionPool.client`.
    """
    if kwargs or args:
        kwargs, args = mask_secrets(kwargs, args)
    return default_pool().client(service_name, *args, **kwargs)


def _resource(service_name: str = NO_SERVICE, /, *args: Any, **kwargs: Any) -> Any:
    """``default_pool().resource(...)``: this thread's cached resource, in boto3's call forms.

    Parameters:
        service_name: the service, as in ``boto3.resource``.
        *args: boto3's positional arguments after the service name.
        **kwargs: key arguments and resource arguments, as for :meth:`SessionPool.resource`.
    """
    kwargs, args = mask_secrets(kwargs, args)
    return default_pool().resource(service_name, *args, **kwargs)


# Typed like boto3.client for every service boto3-stubs knows (see sessionpool/_typed.pyi).
if TYPE_CHECKING:
    client: ClientFactory
    resource: ResourceFactory
else:
    client = _client
    resource = _resource
    client.__name__, resource.__name__ = "client", "resource"


def session(**key_args: Any) -> AbstractContextManager[PooledSession]:
    """``with default_pool().session(...)``: a block on the default pool (see
    :meth:`SessionPool.session`).

    Parameters:
        **key_args: key arguments, as for :meth:`SessionPool.session`.
    """
    key_args, _ = mask_secrets(key_args)
    return default_pool().session(**key_args)
