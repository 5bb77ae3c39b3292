"""Keys: what makes two sessions, or two clients, the same.

A :class:`SessionKey` is (profile, region, explicit credentials), built by one normaliser,
:meth:`SessionKey.build`, that folds boto3's spellings into ours (``profile_name`` -> ``profile``,
``region_name`` -> ``region``), layers call arguments over defaults, and refuses bad values with one
clear error, so nothing downstream has to wonder.

A key never shows a secret: explicit credentials travel in a :class:`~._secrets.StaticKeys`
holder whose repr is masked and which takes no part in equality; the key compares by a keyed
fingerprint of (key id, secret, token), so two keys that differ only in the secret differ.

:func:`client_cache_key` does the same for clients: every argument that changes the client
(region, endpoint, API version, SSL, verify, ``Config`` by value, credential overrides by
fingerprint) goes into one hashable tuple.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
import boto3.session
from botocore.config import Config

from ._botocore import config_options
from ._errors import (
    ConflictingArgumentError,
    InvalidArgumentError,
    NoCredentialsError,
    PartialCredentialsError,
)
from ._secrets import SECRET_FIELDS, SECRET_NAMES, StaticKeys, fingerprint

__all__ = [
    "KEY_ARGUMENTS",
    "NO_SERVICE",
    "CredentialKey",
    "SessionKey",
    "bind_call",
    "client_cache_key",
]

# Our spelling -> boto3's spelling, for the fields that have two.
_SYNONYMS = {"profile": "profile_name", "region": "region_name"}
KEY_ARGUMENTS = frozenset(
    {"profile", "profile_name", "region", "region_name", "aws_account_id", *SECRET_FIELDS}
)
# boto3 takes aws_account_id from 1.35 on (the floor, 1.34, does not).
_ACCOUNT_ID = "aws_account_id" in inspect.signature(boto3.session.Session).parameters


def _check_text(name: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidArgumentError(
            f"{name} must be a string or None, not {type(value).__name__}; pass the name as text."
        )
    if not value.strip():
        raise InvalidArgumentError(
            f"{name} is an empty string; pass a non-empty value or leave it out."
        )
    return value


def _fold(kwargs: Mapping[str, object]) -> dict[str, object]:
    """Fold boto3's spellings into ours; two spellings with different values is an error."""
    unknown = set(kwargs) - KEY_ARGUMENTS
    if unknown:
        raise InvalidArgumentError(
            f"unknown session argument(s) {sorted(unknown)}; use {sorted(KEY_ARGUMENTS)}."
        )
    folded: dict[str, object] = {}
    for ours, boto in _SYNONYMS.items():
        a, b = kwargs.get(ours), kwargs.get(boto)
        if a is not None and b is not None and a != b:
            raise ConflictingArgumentError(
                f"{ours}={a!r} and {boto}={b!r} name the same field with different values; "
                f"pass only one of them."
            )
        folded[ours] = a if a is not None else b
    for name in (*SECRET_FIELDS, "aws_account_id"):
        folded[name] = kwargs.get(name)
    return folded


@dataclass(frozen=True, slots=True)
class SessionKey:
    """What identifies a session: profile, region and (by fingerprint) explicit credentials."""

    profile: str | None = None
    region: str | None = None
    credentials_fingerprint: str | None = None
    static_keys: StaticKeys | None = field(default=None, compare=False, repr=False)

    @classmethod
    def build(cls, kwargs: Mapping[str, object], defaults: SessionKey | None = None) -> SessionKey:
        """Normalise session arguments (ours or boto3's spellings) over ``defaults``.

        Parameters:
            kwargs: any of ``profile``/``profile_name``, ``region``/``region_name``,
                ``aws_access_key_id``, ``aws_secret_access_key``, ``aws_session_token``.
            defaults: the key whose fields apply where ``kwargs`` gives none.
        """
        folded = _fold(kwargs)
        profile = _check_text("profile", folded["profile"])
        region = _check_text("region", folded["region"])
        key_id = _check_text("aws_access_key_id", folded["aws_access_key_id"])
        secret = _check_text("aws_secret_access_key", folded["aws_secret_access_key"])
        token = _check_text("aws_session_token", folded["aws_session_token"])
        account_id = _check_text("aws_account_id", folded["aws_account_id"])
        if account_id is not None and not _ACCOUNT_ID:
            raise InvalidArgumentError(
                f"aws_account_id needs boto3 1.35 or newer, and this is boto3 "
                f"{boto3.__version__}; upgrade boto3, or leave aws_account_id out."
            )
        static: StaticKeys | None = None
        if key_id is not None or secret is not None or token is not None:
            if key_id is None or secret is None:
                missing = "aws_secret_access_key" if key_id is not None else "aws_access_key_id"
                raise PartialCredentialsError(
                    message=f"explicit credentials need both a key id and a secret, and "
                    f"{missing} is missing; pass both or neither.",
                    provider="explicit",
                    cred_var=missing,
                )
            static = StaticKeys(key_id, secret, token, account_id)
        elif account_id is not None:
            raise NoCredentialsError(
                message="aws_account_id was given without keys; pass it with "
                "aws_access_key_id and aws_secret_access_key (as boto3 requires), or leave it out."
            )
        if defaults is not None:
            profile = profile if profile is not None else defaults.profile
            region = region if region is not None else defaults.region
            if static is None:
                static = defaults.static_keys
        return cls(
            profile=profile,
            region=region,
            credentials_fingerprint=(
                None
                if static is None
                else fingerprint(
                    static.access_key_id,
                    static.secret_access_key,
                    static.session_token,
                    static.account_id,
                )
            ),
            static_keys=static,
        )

    def describe(self) -> str:
        """A short, secret-free label for logs and errors."""
        parts = [f"profile={self.profile!r}", f"region={self.region!r}"]
        if self.credentials_fingerprint is not None:
            parts.append(f"credentials=#{self.credentials_fingerprint[:8]}")
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class CredentialKey:
    """Whose credentials these are: a session key, and, for a key that names no profile and no
    keys, the profile the environment named (``AWS_PROFILE``) when they were resolved. A profile
    switch at run time then resolves the new profile's credentials for new sessions, and never
    changes the ones that sessions made before it hold."""

    key: SessionKey
    env_profile: str | None = None

    def describe(self) -> str:
        """A short, secret-free label for logs and errors."""
        if self.env_profile is None:
            return self.key.describe()
        return f"{self.key.describe()} (AWS_PROFILE={self.env_profile!r})"


# ---------------------------------------------------------------------------------------------
# Client cache keys

_CLIENT_ARGUMENTS = (
    "region_name",
    "api_version",
    "use_ssl",
    "verify",
    "endpoint_url",
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "config",
    "aws_account_id",
)
_CLIENT_DEFAULTS: dict[str, object] = {"use_ssl": True}
# The types each client argument accepts (config is checked by _freeze_config).
_CLIENT_TYPES: dict[str, tuple[type, ...]] = {
    "region_name": (str,),
    "api_version": (str,),
    "use_ssl": (bool,),
    "verify": (bool, str),
    "endpoint_url": (str,),
    "aws_access_key_id": (str,),
    "aws_secret_access_key": (str,),
    "aws_session_token": (str,),
    "aws_account_id": (str,),
}


def _check_client_argument(name: str, value: object) -> None:
    types = _CLIENT_TYPES.get(name)
    if types is None or isinstance(value, types):
        if isinstance(value, str) and not value.strip():
            raise InvalidArgumentError(
                f"{name} is an empty string; pass a non-empty value or leave it out."
            )
        return
    # Name the type, never the value, for the arguments that carry secrets.
    shown = type(value).__name__ if name in SECRET_NAMES else repr(value)
    expected = " or ".join(t.__name__ for t in types)
    raise InvalidArgumentError(f"{name} must be {expected} or None, not {shown}.")


def _freeze(value: object) -> object:
    """A hashable, order-independent form of nested dicts, lists and sets."""
    if isinstance(value, Mapping):
        return tuple(sorted(((str(k), _freeze(v)) for k, v in value.items())))
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, (set, frozenset)):
        return frozenset(_freeze(v) for v in value)
    hash(value)  # raises TypeError for anything we cannot key by value
    return value


def _freeze_config(config: object) -> object:
    if not isinstance(config, Config):
        raise InvalidArgumentError(
            f"config must be a botocore.config.Config, not {type(config).__name__}; "
            f"build one with botocore.config.Config(...)."
        )
    options = config_options(config)
    try:
        if options is not None:
            return ("config", _freeze(options))
    except TypeError:
        pass
    # A value we cannot compare by value (a callable, say), or options we cannot read: key by
    # identity. The cache entry holds the client, which holds the config: the id stays its own.
    return ("config-id", id(config))


def client_cache_key(
    service_name: str,
    args: tuple[Any, ...],
    kwargs: Mapping[str, Any],
    session_region: str | None,
    function: str = "client",
) -> object:
    """One hashable key for a ``Session.client()`` / ``resource()`` call.

    Parameters:
        service_name: the service, already checked to be a non-empty string.
        args: positional arguments after the service name, in boto3's order.
        kwargs: keyword arguments, boto3's names.
        session_region: the session's region; an explicit equal ``region_name`` is the same key.
        function: "client" or "resource", for messages.
    """
    if len(args) > len(_CLIENT_ARGUMENTS):
        raise TypeError(
            f"{function}() takes at most {len(_CLIENT_ARGUMENTS) + 1} positional arguments"
        )
    bound: dict[str, Any] = dict(zip(_CLIENT_ARGUMENTS, args, strict=False))
    for name, value in kwargs.items():
        if name not in _CLIENT_ARGUMENTS:
            raise TypeError(f"{function}() got an unexpected keyword argument {name!r}")
        if name in bound:
            raise TypeError(f"{function}() got multiple values for argument {name!r}")
        bound[name] = value
    parts: list[object] = [service_name]
    for name in _CLIENT_ARGUMENTS:
        value = bound.get(name)
        if value is None:
            continue
        _check_client_argument(name, value)
        if value == _CLIENT_DEFAULTS.get(name):
            continue
        if name == "region_name" and value == session_region:
            continue
        if name in SECRET_FIELDS:
            continue  # folded into one fingerprint below
        if name == "config":
            parts.append(_freeze_config(value))
            continue
        parts.append((name, value))
    if any(bound.get(name) is not None for name in SECRET_FIELDS):
        parts.append(("credentials", fingerprint(*(bound.get(n) for n in SECRET_FIELDS))))
    return tuple(parts)


# The default of service_name where it may come by keyword (boto3 accepts service_name="s3").
NO_SERVICE: Any = type("NoService", (), {"__repr__": lambda self: "<no service_name>"})()


def bind_call(
    function: str, service_name: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[Any, dict[str, Any]]:
    """Fold a ``client()`` / ``resource()`` call in any of boto3's forms into keywords.

    ``pool.client("s3", "us-west-2")``, ``pool.client("s3", region_name="us-west-2")`` and
    ``pool.client(service_name="s3", region="us-west-2")`` all become ``("s3", {...})``, so that
    equivalent forms reach the same cached client. Raises TypeError as Python would for a
    missing, duplicated or unexpected argument.

    Parameters:
        function: "client" or "resource", for messages.
        service_name: the first positional argument, or :data:`NO_SERVICE`.
        args: the positional arguments after it, in boto3's order.
        kwargs: the keyword arguments (not modified).
    """
    bound = dict(kwargs)
    if "service_name" in bound:
        if service_name is not NO_SERVICE:
            raise TypeError(f"{function}() got multiple values for argument 'service_name'")
        service_name = bound.pop("service_name")
    if service_name is NO_SERVICE:
        raise TypeError(f"{function}() missing 1 required argument: 'service_name'")
    if len(args) > len(_CLIENT_ARGUMENTS):
        raise TypeError(
            f"{function}() takes at most {len(_CLIENT_ARGUMENTS) + 1} positional arguments "
            f"({len(args) + 1} given)"
        )
    for name, value in zip(_CLIENT_ARGUMENTS, args, strict=False):
        if name in bound:
            raise TypeError(f"{function}() got multiple values for argument {name!r}")
        bound[name] = value
    return service_name, bound
