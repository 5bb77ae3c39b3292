"""A lazily created, process-wide default pool, like boto3's module-level ``client()``.

Unlike boto3's default session (an unlocked global: a 32-thread burst built 19 of them where 1
was meant, HAZARDS T2), the default pool is created once under a lock, and everything it hands
out is per thread anyway.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal, overload

from . import _fork
from ._keys import NO_SERVICE
from ._pool import SessionPool
from ._secrets import mask_secrets
from ._session import PooledSession

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.service_resource import DynamoDBServiceResource
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.service_resource import S3ServiceResource
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.service_resource import SQSServiceResource

__all__ = ["client", "default_pool", "resource", "session", "set_default_pool"]

_default: SessionPool | None = None
_default_lock = _fork.Lock()


def default_pool() -> SessionPool:
    """The process-wide default pool, created on first use."""
    pool = _default
    if pool is not None:
        return pool
    with _default_lock:
        if _default is None:
            set_default_pool(SessionPool())
        assert _default is not None
        return _default


def set_default_pool(pool: SessionPool | None) -> None:
    """Replace the default pool (None: create a fresh one on next use). The old one is not closed.

    Parameters:
        pool: the pool that ``sessionpool.client()`` and friends should use from now on.
    """
    global _default
    _default = pool


@overload
def client(service_name: Literal["s3"], /, *args: Any, **kwargs: Any) -> S3Client: ...
@overload
def client(service_name: Literal["sqs"], /, *args: Any, **kwargs: Any) -> SQSClient: ...
@overload
def client(service_name: Literal["dynamodb"], /, *args: Any, **kwargs: Any) -> DynamoDBClient: ...
@overload
def client(service_name: str = ..., /, *args: Any, **kwargs: Any) -> Any: ...
def client(service_name: str = NO_SERVICE, /, *args: Any, **kwargs: Any) -> Any:
    """``default_pool().client(...)``: this thread's cached client, in boto3's call forms."""
    if kwargs or args:
        kwargs, args = mask_secrets(kwargs, args)
    return default_pool().client(service_name, *args, **kwargs)


@overload
def resource(service_name: Literal["s3"], /, *args: Any, **kwargs: Any) -> S3ServiceResource: ...
@overload
def resource(service_name: Literal["sqs"], /, *args: Any, **kwargs: Any) -> SQSServiceResource: ...
@overload
def resource(
    service_name: Literal["dynamodb"], /, *args: Any, **kwargs: Any
) -> DynamoDBServiceResource: ...
@overload
def resource(service_name: str = ..., /, *args: Any, **kwargs: Any) -> Any: ...
def resource(service_name: str = NO_SERVICE, /, *args: Any, **kwargs: Any) -> Any:
    """``default_pool().resource(...)``: this thread's cached resource, in boto3's call forms."""
    kwargs, args = mask_secrets(kwargs, args)
    return default_pool().resource(service_name, *args, **kwargs)


@contextmanager
def session(**key_args: Any) -> Iterator[PooledSession]:
    """``with default_pool().session(...)``: this thread's Session, as the block's default key."""
    key_args, _ = mask_secrets(key_args)
    with default_pool().session(**key_args) as s:
        yield s
