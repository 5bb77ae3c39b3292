"""Secrets: how a secret key or session token is held, masked and compared, and never shown.

* :class:`SecretStr` wraps every secret argument as it enters sessionpool, so no frame's locals,
  container repr or botocore ``ReadOnlyCredentials`` repr downstream can show one.
* :func:`mask_secrets` does that wrapping for a call's keyword (and boto3-ordered positional)
  arguments.
* :class:`StaticKeys` holds explicit credentials for building sessions; its repr is masked.
* :func:`fingerprint` is a keyed, per-process-salted digest, so keys can compare credentials
  without holding or showing them.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from typing import Any

__all__ = [
    "SECRET_FIELDS",
    "SECRET_NAMES",
    "SecretBytes",
    "SecretStr",
    "StaticKeys",
    "fingerprint",
    "mask_secrets",
]

# A fresh salt per process: fingerprints are only ever compared within one process (keys are
# rebuilt from configuration on the other side of a pickle), and a salted digest of a secret
# is useless to anyone who reads it in a log.
_SALT = os.urandom(16)

# The arguments that carry credentials, and of those, the ones that are secret.
SECRET_FIELDS = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token")


class SecretStr(str):
    """A secret key or session token: a ``str`` in every way but ``repr``, which is masked.

    Secret arguments are wrapped as soon as they enter sessionpool, so no frame's locals (as
    printed by ``traceback``'s ``capture_locals``, error trackers or ``pytest --showlocals``),
    no container's repr, and no botocore ``ReadOnlyCredentials`` repr downstream can show one.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "'***'"

    def __reduce__(self) -> tuple[Any, ...]:
        return (SecretStr, (str.__str__(self),))


class SecretBytes(bytes):
    """A session token as request header bytes: ``bytes`` in every way but ``repr``, masked."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "b'***'"


_TOKEN_HEADER = "X-Amz-Security-Token"  # noqa: S105 - a header name, not a secret


def mask_request_token(request: Any = None, **_: Any) -> None:
    """A botocore ``before-send`` handler: mask the session token header's repr, same bytes.

    botocore turns header values into bytes as it prepares a request, so the masked ``str`` of
    the credentials is lost there; this puts a :class:`SecretBytes` of the same value back, so
    that the request's repr and urllib3's header dicts (frame locals on a network failure) show
    it masked. What goes on the wire is byte for byte the same. The raw request bytes that
    ``http.client`` builds from the headers are beyond reach (docs/guarantees.md, Secrets).
    """
    headers = getattr(request, "headers", None)
    if headers is None:
        return
    value = headers.get(_TOKEN_HEADER)
    if type(value) is bytes:
        headers[_TOKEN_HEADER] = SecretBytes(value)
    elif type(value) is str:
        headers[_TOKEN_HEADER] = SecretStr(value)


SECRET_NAMES = frozenset({"aws_secret_access_key", "aws_session_token"})
# Where boto3's client() and resource() take the secrets positionally (after service_name).
_SECRET_POSITIONS = (6, 7)


def _mask(value: Any) -> Any:
    return SecretStr(value) if type(value) is str else value


def mask_secrets(
    kwargs: Mapping[str, Any], args: tuple[Any, ...] = ()
) -> tuple[dict[str, Any], tuple[Any, ...]]:
    """Copies of ``kwargs`` (and boto3-ordered ``args``) with secrets wrapped in SecretStr.

    Parameters:
        kwargs: keyword arguments, any of which may be a secret key or session token.
        args: positional arguments after ``service_name``, in boto3's client() order.
    """
    masked = {k: _mask(v) if k in SECRET_NAMES else v for k, v in kwargs.items()}
    if any(i < len(args) for i in _SECRET_POSITIONS):
        args = tuple(_mask(v) if i in _SECRET_POSITIONS else v for i, v in enumerate(args))
    return masked, args


def fingerprint(*parts: str | None) -> str:
    """A keyed, salted digest of ``parts``: equal inputs give equal output in this process only."""
    digest = hashlib.blake2b(key=_SALT, digest_size=12)
    for part in parts:
        digest.update(b"\x00" if part is None else b"\x01" + part.encode("utf-8") + b"\x00")
    return digest.hexdigest()


class StaticKeys:
    """Explicit credentials, held for building sessions and never shown."""

    __slots__ = ("access_key_id", "account_id", "secret_access_key", "session_token")

    def __init__(
        self,
        access_key_id: str,
        secret_access_key: str,
        session_token: str | None,
        account_id: str | None = None,
    ) -> None:
        self.access_key_id = access_key_id
        self.secret_access_key = secret_access_key
        self.session_token = session_token
        self.account_id = account_id

    def __repr__(self) -> str:
        # Key ids are not secret by AWS's rules, but they are an identity: show only the tail.
        return f"<StaticKeys access_key_id='…{self.access_key_id[-4:]}' secret=*** >"

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled only when the user configured explicit keys (documented in docs/faq.md).
        return (
            StaticKeys,
            (self.access_key_id, self.secret_access_key, self.session_token, self.account_id),
        )
