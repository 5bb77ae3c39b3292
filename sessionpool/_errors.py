"""Every error sessionpool raises, rooted in :class:`SessionPoolError`.

Where botocore already has an error for the cause (an unknown profile or service), ours
subclasses it, so ``except ProfileNotFound:`` keeps working. Messages are one sentence: the state,
the offending value, the way out. No message ever interpolates a secret key or session token.
"""

from __future__ import annotations

from botocore.exceptions import ProfileNotFound

__all__ = [
    "ConflictingArgumentError",
    "InvalidArgumentError",
    "PoolClosedError",
    "SessionPoolError",
    "UnknownProfileError",
]


class SessionPoolError(Exception):
    """Base class of every error sessionpool raises itself."""


class InvalidArgumentError(SessionPoolError, ValueError):
    """An argument has a wrong type or an unusable value (an empty string, a lone key id)."""


class ConflictingArgumentError(SessionPoolError, TypeError):
    """Two spellings of one field (``region`` and ``region_name``) were given different values."""


class PoolClosedError(SessionPoolError, RuntimeError):
    """The pool was closed with :meth:`SessionPool.close` and was used again."""


class UnknownProfileError(SessionPoolError, ProfileNotFound):
    """The named profile is in no config or credentials file (a :class:`ProfileNotFound`)."""

    def __init__(self, profile: str) -> None:
        # ProfileNotFound formats "The config profile (NAME) could not be found".
        super().__init__(profile=profile)
