"""Making a pooled session for a key: a cheap botocore session, the key's shared credentials, and
the handlers that renew them.

:class:`SessionFactory` holds what every session of one pool in one process shares: the
credential cells (one :class:`~._credentials.SharedCredentials` per key, resolved once) and the
file cache (``credential_cache=``). A session is made outside any lock: it takes milliseconds,
and resolving credentials may call out (AssumeRole, the metadata service).

A key that names no profile takes the one the environment names (``AWS_PROFILE``) when its
session is made, and keeps it; its credentials are keyed by that profile too
(:class:`~._keys.CredentialKey`). So a profile switch at run time reaches sessions made after it,
and never changes one handed out before (HAZARDS I7).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import botocore.exceptions
from botocore.credentials import Credentials

from . import _botocore, _expiry
from ._config import PoolConfig
from ._credential_cache import CredentialCache, credential_cache_at
from ._credentials import CredentialCells, PendingCredentials, credential_sources
from ._errors import ProfileNotFound
from ._keys import CredentialKey, SessionKey
from ._memo import Memo
from ._session import PooledSession

__all__ = ["SessionFactory"]

log = logging.getLogger("sessionpool")


class SessionFactory:
    """Makes a pool's sessions in one process, sharing credentials per key.

    Parameters:
        config: the pool's configuration.
    """

    def __init__(self, config: PoolConfig) -> None:
        self._config = config
        self.credentials = CredentialCells(config.resolve_timeout)
        self._file_cache: CredentialCache | None = None
        if config.credential_cache is not None:
            self._file_cache = credential_cache_at(config.credential_cache)

    def make(self, key: SessionKey, memo: Memo, counters: Any) -> PooledSession:
        """A new session for ``key``, its credentials shared with every other session of the key.

        Parameters:
            key: the session's key.
            memo: its owner's memo (see _memo).
            counters: the pool's counters (a session counts the clients and resources it makes).
        """
        explicit = key.static_keys is not None
        env_profile = None if key.profile is not None else _botocore.env_profile()
        profile = key.profile if key.profile is not None else env_profile
        with _profiles_explained(key, env_profile):
            core, events = _botocore.new_watched_session(key.profile, env_profile)
        owner = CredentialKey(key, None if explicit else env_profile)
        credentials = self._credentials_for(owner, profile)
        session = PooledSession(
            key,
            core,
            counters,
            memo,
            self._config.max_clients,
            profile_name=key.profile,
            region_name=key.region,
        )
        # Handing every session of the key the same object is what makes resolution happen once.
        _botocore.set_credentials(core, credentials)
        # Clients copy the session's event handlers when they are made: this covers all of them.
        _expiry.install(core, credentials, self._config.retry_expired)
        session.watch(events)  # from here on, a handler change drops the session's clients
        log.debug(
            "created session for %s in thread %s", owner.describe(), threading.current_thread().name
        )
        return session

    def _credentials_for(self, owner: CredentialKey, profile: str | None) -> Any:
        key = owner.key
        explicit = key.static_keys is not None
        resolve = _resolver(key, owner.env_profile, self._file_cache)
        source = None if explicit else credential_sources()
        machine_lock = None
        cache = self._file_cache
        if cache is not None and not explicit:
            found = cache

            def machine_lock(deadline: float) -> AbstractContextManager[Any]:
                return found.lock_for(profile)(deadline)

        cells = self.credentials  # the closure below must not hold the factory or the pool
        options: dict[str, Any] = {
            "renewable": not explicit,
            "source": source,
            "machine_lock": machine_lock,
        }
        credentials: Any = cells.get(owner, resolve, **options)
        if credentials is None:
            # The chain found nothing (not set yet, or a source briefly down): look again at
            # every read until it does, as botocore's session does, instead of for good.
            return PendingCredentials(
                lambda: cells.get(owner, resolve, **options), _no_credentials(owner, profile)
            )
        if source is not None:
            # A new session after the shared files or the environment changed resolves afresh,
            # as a new boto3 Session would (rotated keys, HAZARDS C1): once, for every thread.
            credentials.check_source(source)
        return credentials

    def forget(self, key: SessionKey | None = None) -> None:
        """Forget ``key``'s credentials (every key's, with None): the next use resolves anew."""
        self.credentials.forget(key)

    def _after_fork_in_child(self) -> None:
        self.credentials._after_fork_in_child()


def _resolver(
    key: SessionKey, env_profile: str | None, file_cache: CredentialCache | None
) -> Callable[[], Any]:
    """A function resolving ``key``'s credentials (again, when renewing): explicit keys as
    given; otherwise botocore's whole chain, through a botocore session of its own that reads the
    profile the environment named when the key's first session was made."""
    static = key.static_keys
    if static is not None:
        # botocore takes account_id from 1.35 on (SessionKey refuses it on older releases).
        extra: dict[str, Any] = {}
        if static.account_id is not None:
            extra["account_id"] = static.account_id

        def explicit() -> Any:
            return Credentials(
                static.access_key_id,
                static.secret_access_key,
                static.session_token,
                "explicit",
                **extra,
            )

        return explicit
    profile = key.profile if key.profile is not None else env_profile

    def chain() -> Any:
        resolver = _botocore.new_core_session(key.profile, env_profile)
        if file_cache is not None:
            _botocore.use_file_cache(resolver, file_cache.for_profile(profile))
        with _profiles_explained(key, env_profile):
            return resolver.get_credentials()

    return chain


@contextlib.contextmanager
def _profiles_explained(key: SessionKey, env_profile: str | None) -> Iterator[None]:
    """Re-raise botocore's ProfileNotFound as sessionpool's, which says who named the profile
    and which files were read."""
    try:
        yield
    except botocore.exceptions.ProfileNotFound as exc:
        if isinstance(exc, ProfileNotFound):
            raise
        name = exc.kwargs.get("profile") or key.profile or env_profile
        if key.profile is not None:
            who = "named in the call or the pool"
        else:
            variable = (
                "AWS_DEFAULT_PROFILE" if os.environ.get("AWS_DEFAULT_PROFILE") else "AWS_PROFILE"
            )
            who = f"named by the {variable} environment variable"
        raise ProfileNotFound(
            message=f"the profile {name!r} ({who}) is in neither {_config_files()}; add it "
            f"there (aws configure --profile {name}), or name a profile that exists.",
            profile=name,
        ) from None


def _no_credentials(owner: CredentialKey, profile: str | None) -> str:
    where = f" --profile {profile}" if profile else ""
    return (
        f"no AWS credentials found for {owner.describe()}: botocore's chain found none in the "
        f"environment, {_config_files()} or the metadata services; set AWS_ACCESS_KEY_ID and "
        f"AWS_SECRET_ACCESS_KEY, pass keys, or name a profile that has credentials (run "
        f"`sessionpool inspect{where}` to see where it looks)."
    )


def _config_files() -> str:
    config = os.environ.get("AWS_CONFIG_FILE", "~/.aws/config")
    credentials = os.environ.get("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials")
    return f"{config} nor {credentials}"
