"""sessionpool: boto3 sessions that are safe and cheap in many threads and many processes.

Every thread of every process gets its own ``boto3.session.Session`` per key (profile, region,
credentials), with clients and resources cached per session; sessions share botocore's loaded
models and, per key, one credentials object, so making them is cheap.
"""

from __future__ import annotations

from ._default import client, default_pool, resource, session, set_default_pool
from ._diagnostics import diagnostics
from ._errors import (
    ConflictingArgumentError,
    CredentialResolutionError,
    CredentialWaitTimeout,
    InvalidArgumentError,
    KeyRequiredError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    PoolClosedError,
    ProfileNotFound,
    SessionPoolError,
)
from ._keys import SessionKey
from ._pool import SessionPool
from ._received import set_received_limit
from ._session import PooledSession
from ._version import __version__

__all__ = [
    "ConflictingArgumentError",
    "CredentialResolutionError",
    "CredentialWaitTimeout",
    "InvalidArgumentError",
    "KeyRequiredError",
    "NoCredentialsError",
    "NoRegionError",
    "PartialCredentialsError",
    "PoolClosedError",
    "ProfileNotFound",
    "PooledSession",
    "SessionKey",
    "SessionPool",
    "SessionPoolError",
    "__version__",
    "client",
    "default_pool",
    "diagnostics",
    "resource",
    "session",
    "set_default_pool",
    "set_received_limit",
]
