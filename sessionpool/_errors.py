"""Every error sessionpool raises, rooted in :class:`SessionPoolError`.

Where botocore already has an error for the cause (no credentials, no region, an unknown
profile, half a pair of keys), sessionpool raises a subclass of botocore's with a message that
names the fix, so ``except botocore.exceptions.NoCredentialsError:`` keeps working. Messages are
one sentence: the state, the offending value, the way out. No message ever interpolates a secret
key or session token.
"""

from __future__ import annotations

import botocore.exceptions

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


class _Explained(botocore.exceptions.BotoCoreError):
    """A botocore error with our explanation: botocore formats its errors from keyword arguments
    (``fmt``); these take ``message=`` and keep botocore's own fields where it has them (so they
    pickle as botocore's do). Where botocore's message is a fixed sentence ("Unable to locate
    credentials"), it comes first and ours follows it, so code and logs that look for botocore's
    text still find it."""

    fmt = "{message}"

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        botocores = next(
            base for base in cls.__mro__[1:] if base.__module__ == "botocore.exceptions"
        )
        fixed = getattr(botocores, "fmt", "")
        if fixed and "{" not in fixed:
            cls.fmt = fixed.rstrip(".") + ": {message}"

    def __init__(self, **kwargs: object) -> None:
        # Explicitly botocore's: ValueError (of InvalidArgumentError) comes first in some MROs.
        botocore.exceptions.BotoCoreError.__init__(self, **kwargs)


class NoCredentialsError(_Explained, SessionPoolError, botocore.exceptions.NoCredentialsError):
    """botocore's ``NoCredentialsError``, naming the key and where to look."""


class NoRegionError(_Explained, SessionPoolError, botocore.exceptions.NoRegionError):
    """botocore's ``NoRegionError``, naming the ways to give a region."""


class ProfileNotFound(_Explained, SessionPoolError, botocore.exceptions.ProfileNotFound):
    """botocore's ``ProfileNotFound``, naming the profile, who named it and the files read."""


class PartialCredentialsError(
    _Explained, InvalidArgumentError, botocore.exceptions.PartialCredentialsError
):
    """botocore's ``PartialCredentialsError``: explicit keys given without their other half."""
