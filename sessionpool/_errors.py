"""Every error sessionpool raises, rooted in :class:`SessionPoolError`.

Where botocore already has an error for the cause (an unknown profile or service), botocore's
error is raised as it is, at the call that names the bad value. Messages are one sentence: the
state, the offending value, the way out. No message ever interpolates a secret key or session token.
"""

from __future__ import annotations

__all__ = [
    "ConflictingArgumentError",
    "CredentialResolutionError",
    "CredentialWaitTimeout",
    "InvalidArgumentError",
    "KeyRequiredError",
    "PoolClosedError",
    "SessionPoolError",
]


class SessionPoolError(Exception):
    """Base class of every error sessionpool raises itself."""


class InvalidArgumentError(SessionPoolError, ValueError):
    """An argument has a wrong type or an unusable value (an empty string, a lone key id)."""


class ConflictingArgumentError(SessionPoolError, TypeError):
    """Two spellings of one field (``region`` and ``region_name``) were given different values."""


class PoolClosedError(SessionPoolError, RuntimeError):
    """The pool was closed with :meth:`SessionPool.close` and was used again."""


class CredentialResolutionError(SessionPoolError):
    """Resolving a key's credentials failed in a way botocore has no error for, or in another
    thread (then it is the cause chained to the waiting thread's own copy of the error)."""


class CredentialWaitTimeout(CredentialResolutionError, TimeoutError):
    """A thread waited longer than ``resolve_timeout`` for another thread resolving the same key."""


class KeyRequiredError(SessionPoolError, RuntimeError):
    """A strict pool (``SessionPool(strict=True)``) was called outside any block without naming a
    profile or keys."""
