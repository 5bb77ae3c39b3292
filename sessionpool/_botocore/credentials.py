"""What the pool reads from botocore's credential objects that botocore does not publish.

:func:`refresh_deadlines` turns a ``RefreshableCredentials``' expiry and refresh windows into two
times, so that :class:`~sessionpool._credentials.SharedCredentials` can answer most reads from an
immutable snapshot without calling into botocore (and without botocore's refresh race on releases
before ~1.43.127, HAZARDS C2). Private names: ``_expiry_time``, ``_advisory_refresh_timeout``,
``_mandatory_refresh_timeout``, ``_time_fetcher`` (the snapshot is used only with botocore's own
clock, ``_local_now``). If any is missing or of the wrong type, or the times disagree with
botocore's public ``refresh_needed()``, the ``credential_snapshot`` switch goes off and every read
takes the serialised path, which needs none of them.
"""

from __future__ import annotations

import datetime
import math
import time
from typing import Any

import botocore.credentials
import botocore.exceptions
from botocore.credentials import Credentials, RefreshableCredentials
from botocore.exceptions import UnknownCredentialError

from .guard import SURPRISES, Switch

__all__ = [
    "NEVER",
    "UNKNOWN",
    "expiry_time",
    "inherited_copy",
    "refresh_deadlines",
    "use_file_cache",
]

snapshot = Switch(
    "credential_snapshot",
    "answer credential reads from an immutable snapshot between refreshes; "
    "off: every read of refreshable credentials is serialised",
)

NEVER = (math.inf, math.inf)  # credentials that never refresh
UNKNOWN = (-math.inf, -math.inf)  # ask botocore every time


def expiry_time(credentials: Any) -> datetime.datetime | None:
    """When refreshable credentials expire (botocore keeps no public accessor), or None.

    Parameters:
        credentials: botocore credentials, refreshable or not.
    """
    try:
        expiry = getattr(credentials, "_expiry_time", None)
    except SURPRISES:  # a property that raises: show "unknown"
        return None
    return expiry if isinstance(expiry, datetime.datetime) else None


def refresh_deadlines(credentials: Any) -> tuple[float, float]:
    """(advisory, mandatory): epoch seconds from which botocore wants to refresh ``credentials``.

    Before the first: botocore would not refresh, so a snapshot of them is current. From the
    first: one caller should refresh while others may keep using the snapshot. From the second:
    everyone must wait for the refresh. :data:`NEVER` for credentials that do not refresh,
    :data:`UNKNOWN` when the switch is off (then callers serialise every read).

    Parameters:
        credentials: the botocore credentials, just read under the caller's refresh lock.
    """
    if not isinstance(credentials, RefreshableCredentials):
        return NEVER
    if not snapshot.active:
        return UNKNOWN
    internal: Any = credentials  # private attributes, not in botocore's stubs
    try:
        expiry = internal._expiry_time
        advisory = internal._advisory_refresh_timeout
        mandatory = internal._mandatory_refresh_timeout
        botocore_clock = getattr(botocore.credentials, "_local_now")  # noqa: B009 - for mypy
        if internal._time_fetcher is not botocore_clock:
            return UNKNOWN  # a clock of the caller's own: let botocore consult it every time
        if expiry is None:
            # botocore never refreshes credentials with no known expiry, once loaded.
            return UNKNOWN if credentials.refresh_needed() else NEVER
        assert isinstance(expiry, datetime.datetime), f"_expiry_time is {type(expiry).__name__}"
        assert isinstance(advisory, (int, float)) and isinstance(mandatory, (int, float))
        at = expiry.timestamp()
        deadlines = (at - advisory, at - mandatory)
        # Cross-check against botocore's public answer, so a change of meaning is caught too.
        now = time.time()
        if now < deadlines[0] - 1 and credentials.refresh_needed():
            raise AssertionError("refresh_needed() disagrees with the computed deadline")
        if now > deadlines[0] + 1 and not credentials.refresh_needed():
            raise AssertionError("refresh_needed() disagrees with the computed deadline")
        return deadlines
    except SURPRISES as exc:
        snapshot.off("reading a refreshable credentials' expiry failed", exc)
        return UNKNOWN


def inherited_copy(credentials: Any, resolve: Any) -> Any:
    """Credentials for a forked child: the same current keys in a new object with a new lock,
    which, when they need refreshing, resolve the chain afresh in the child (never through the
    parent's refresher, whose locks and sources belong to the parent). None when the keys cannot
    be copied (no known expiry on refreshable credentials): the child then resolves on its own.

    Parameters:
        credentials: the parent's botocore credentials (their frozen keys are read, no lock taken).
        resolve: resolves the chain for the key, returning botocore credentials or None.
    """
    frozen = (
        credentials.get_frozen_credentials()
        if not isinstance(credentials, RefreshableCredentials)
        else getattr(credentials, "_frozen_credentials", None)
    )
    if frozen is None:
        return None
    method = getattr(credentials, "method", None) or "inherited"
    account_id = getattr(frozen, "account_id", None)
    if not isinstance(credentials, RefreshableCredentials):
        copy: Any = Credentials(frozen.access_key, frozen.secret_key, frozen.token, method)
        if account_id is not None:
            copy.account_id = account_id
        return copy
    expiry = expiry_time(credentials)
    if expiry is None:
        return None

    def refresh() -> dict[str, Any]:
        fresh = resolve()
        if fresh is None:
            raise botocore.exceptions.NoCredentialsError()
        keys = fresh.get_frozen_credentials()
        fresh_expiry = expiry_time(fresh) or (
            datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
        )
        return {
            "access_key": keys.access_key,
            "secret_key": keys.secret_key,
            "token": keys.token,
            "expiry_time": fresh_expiry.isoformat(),
            "account_id": getattr(keys, "account_id", None),
        }

    return RefreshableCredentials.create_from_metadata(
        {
            "access_key": frozen.access_key,
            "secret_key": frozen.secret_key,
            "token": frozen.token,
            "expiry_time": expiry.isoformat(),
            "account_id": account_id,
        },
        refresh_using=refresh,
        method=method,
    )


_CACHED_PROVIDERS = ("assume-role", "assume-role-with-web-identity", "sso")


def use_file_cache(core: Any, cache: Any) -> list[str]:
    """Hand ``cache`` to the providers in ``core``'s chain that take one (``provider.cache``, as
    the AWS CLI does); return their names.

    Parameters:
        core: a botocore session about to resolve credentials.
        cache: the cache to use, in botocore's protocol (``in``, ``[]``, ``[]=``): the pool's
            :class:`~sessionpool._credential_cache.CredentialFileCache`.
    """
    resolver = core.get_component("credential_provider")
    used = []
    for name in _CACHED_PROVIDERS:
        try:
            provider = resolver.get_provider(name)
        except UnknownCredentialError:
            continue
        except SURPRISES:
            continue
        if hasattr(provider, "cache"):
            provider.cache = cache
            used.append(name)
    return used
