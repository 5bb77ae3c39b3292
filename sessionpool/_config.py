"""A pool's configuration: every option validated once, in one frozen object, which is also what
the pool pickles as (after requests' ``Session.__attrs__``: one list says what travels).

A new option is one field here, with its check in :meth:`PoolConfig.build`; nothing else has to
copy it into a pickled state by hand. Explicit keys given as defaults travel with the pool (the
only secrets a pickled pool can hold, and only when the user gave them); the clock does not (it
is a process-local test hook).
"""

from __future__ import annotations

import math
import pickle
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from typing import Any

from ._credential_cache import credential_cache_at
from ._credentials import DEFAULT_RESOLVE_TIMEOUT
from ._errors import InvalidArgumentError
from ._keys import SessionKey
from ._owners import ScopeFunc, check_scopefunc
from ._secrets import mask_secrets

__all__ = ["DEFAULT_MAX_CLIENTS", "DEFAULT_MAX_KEYS", "PoolConfig"]

# A bound no ordinary application meets (a handful of profiles and regions), and that a
# multi-tenant server handed a new key per tenant and rotation stays within.
DEFAULT_MAX_KEYS = 128
# The most clients (and, separately, resources) a session caches: a thread that makes clients
# for ever new endpoints, configs or regions keeps this many (least recently used out).
DEFAULT_MAX_CLIENTS = 64


@dataclass(frozen=True)
class PoolConfig:
    """What a :class:`~sessionpool.SessionPool` was made with, checked (see its docstring for
    what each option means). Build it with :meth:`build`."""

    defaults: SessionKey = field(default_factory=SessionKey)
    max_keys: int | None = DEFAULT_MAX_KEYS
    max_clients: int = DEFAULT_MAX_CLIENTS
    idle_timeout: float | None = None
    retry_expired: bool = False
    resolve_timeout: float = DEFAULT_RESOLVE_TIMEOUT
    credential_cache: str | None = None  # an absolute path
    scopefunc: ScopeFunc = "thread"
    strict: bool = False
    clock: Callable[[], float] = field(default=time.monotonic, compare=False)

    @classmethod
    def build(
        cls,
        *,
        max_keys: object = DEFAULT_MAX_KEYS,
        max_clients: object = DEFAULT_MAX_CLIENTS,
        idle_timeout: object = None,
        retry_expired: object = False,
        resolve_timeout: object = DEFAULT_RESOLVE_TIMEOUT,
        credential_cache: object = None,
        scopefunc: object = "thread",
        clock: object = time.monotonic,
        strict: object = False,
        **defaults: Any,
    ) -> PoolConfig:
        """Check every option; raise :class:`~sessionpool.InvalidArgumentError` (or, for the
        key arguments, what :meth:`SessionKey.build` raises) naming the first bad one.

        Parameters:
            **defaults: the pool's default key arguments (``profile``, ``region``, keys).
            (the others): as for :class:`~sessionpool.SessionPool`.
        """
        defaults, _ = mask_secrets(defaults)  # first: no frame below may hold a bare secret
        return cls(
            defaults=SessionKey.build(defaults),
            max_keys=_positive_int("max_keys", max_keys, none_ok=True),
            max_clients=_positive_int("max_clients", max_clients),  # type: ignore[arg-type]
            idle_timeout=_seconds("idle_timeout", idle_timeout, none_ok=True),
            retry_expired=_flag("retry_expired", retry_expired),
            resolve_timeout=_seconds("resolve_timeout", resolve_timeout),  # type: ignore[arg-type]
            credential_cache=(
                None
                if credential_cache is None
                else credential_cache_at(credential_cache).directory
            ),
            scopefunc=check_scopefunc(scopefunc),
            strict=_flag("strict", strict),
            clock=_callable_clock(clock),
        )

    def picklable(self) -> PoolConfig:
        """This configuration as it travels: the clock left behind; a scope function that does
        not pickle named in a clear error (rather than pickle's)."""
        if callable(self.scopefunc):
            try:
                pickle.dumps(self.scopefunc)
            except Exception as exc:  # noqa: BLE001 - which error depends on the callable
                raise TypeError(
                    f"this SessionPool's scopefunc {self.scopefunc!r} cannot be pickled, so "
                    f"neither can the pool; use a module-level function, or 'thread' or "
                    f"'greenlet'."
                ) from exc
        return replace(self, clock=time.monotonic)

    def __reduce__(self) -> tuple[Any, ...]:
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "clock"}
        return (_restore, (values,))


def _restore(values: dict[str, Any]) -> PoolConfig:
    return PoolConfig(**values)


def _positive_int(name: str, value: object, none_ok: bool = False) -> int | None:
    if value is None and none_ok:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        allowed = "a positive whole number or None" if none_ok else "a positive whole number"
        raise InvalidArgumentError(f"{name} must be {allowed}, not {value!r}.")
    return value


def _seconds(name: str, value: object, none_ok: bool = False) -> float | None:
    if value is None and none_ok:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        allowed = "a positive number of seconds" + (" or None" if none_ok else "")
        raise InvalidArgumentError(f"{name} must be {allowed}, not {value!r}.")
    return value


def _flag(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidArgumentError(f"{name} must be True or False, not {value!r}.")
    return value


def _cache_directory(path: object) -> str | None:
    """The absolute path of a credential cache (checked, and made if missing), or None."""
    return None if path is None else credential_cache_at(path).directory


def _callable_clock(clock: object) -> Callable[[], float]:
    if not callable(clock):
        raise InvalidArgumentError(
            f"clock must be a callable returning seconds, such as time.monotonic, not {clock!r}."
        )
    return clock
