"""The approaches the benchmark compares, each used the way its documentation recommends.

Every approach answers three questions the same way, so the measurements can treat them alike:

* ``thread_clients(services)``: what a thread does the first time it needs its clients;
* ``client(service)``: what a warm thread does to get a client again (the hot path);
* ``credentials(clients)``: the credentials object that thread's default-chain resolution produced
  (what signs its requests), or None when the chain found nothing.

``make(name, profile=..., role_arn=...)`` builds one, in the process that measures it. A
competitor that cannot be imported raises ``Unavailable`` with the reason; the runner turns that
into "n/a" in the table.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

__all__ = ["APPROACHES", "BASELINE", "NOTES", "Unavailable", "make"]

BASELINE = "documented"

# Order of the table rows.
APPROACHES = (
    "sessionpool",
    "documented",
    "threading.local",
    "boto-session-manager",
    "boto3-refresh-session",
)

NOTES = {
    "sessionpool": "one SessionPool() shared by all threads; pool.client(name) in each thread",
    "documented": "boto3.session.Session() per thread, then session.client(name) (boto3 docs)",
    "threading.local": "hand-rolled: a Session and a {name: client} dict in a threading.local",
    "boto-session-manager": (
        "BotoSesManager() per thread (held in a threading.local), bsm.get_client(name); its docs "
        "say nothing about threads and it wraps one boto3 Session, so one per thread"
    ),
    "boto3-refresh-session": (
        "RefreshableSession(method='sts', assume_role_kwargs={RoleArn}) per thread (in a "
        "threading.local), session.client(name) (its own client cache); its docs say nothing "
        "about threads and it subclasses boto3.Session, so one per thread. It has no plain "
        "default-chain mode: each session also builds its own STS client and assumes its role "
        "itself (lazily: no STS call until credentials are read)"
    ),
}

DUMMY_ROLE_ARN = "arn:aws:iam::123456789012:role/bench"


class Unavailable(Exception):
    """The approach cannot run here (not installed, import failed); the message says why."""


def _signer_credentials(client: Any) -> Any:
    return client._request_signer._credentials


class SessionPoolApproach:
    def __init__(self, profile: str | None, role_arn: str | None) -> None:
        from sessionpool import SessionPool

        self.pool = SessionPool(profile=profile) if profile else SessionPool()
        self.client = self.pool.client  # bound once: the hot path calls it

    def thread_clients(self, services: Sequence[str]) -> list[Any]:
        return [self.pool.client(name) for name in services]

    def credentials(self, clients: Sequence[Any]) -> Any:
        return _signer_credentials(clients[0])


class DocumentedApproach:
    """``boto3.session.Session()`` in each thread. It caches nothing: a call makes a new client."""

    def __init__(self, profile: str | None, role_arn: str | None) -> None:
        import boto3.session

        self._session_class = boto3.session.Session
        self.profile = profile
        self.local = threading.local()

    def thread_clients(self, services: Sequence[str]) -> list[Any]:
        session = self._session_class(profile_name=self.profile)
        self.local.session = session
        return [session.client(name) for name in services]

    def client(self, service: str) -> Any:
        return self.local.session.client(service)

    def credentials(self, clients: Sequence[Any]) -> Any:
        return _signer_credentials(clients[0])


class ThreadingLocalApproach:
    """The cache people write by hand: a Session and a dict of clients per thread."""

    def __init__(self, profile: str | None, role_arn: str | None) -> None:
        import boto3.session

        self._session_class = boto3.session.Session
        self.profile = profile
        self.local = threading.local()

    def client(self, service: str) -> Any:
        local = self.local
        try:
            return local.clients[service]
        except AttributeError:
            local.session = self._session_class(profile_name=self.profile)
            local.clients = {}
        except KeyError:
            pass
        client = local.clients[service] = local.session.client(service)
        return client

    def thread_clients(self, services: Sequence[str]) -> list[Any]:
        return [self.client(name) for name in services]

    def credentials(self, clients: Sequence[Any]) -> Any:
        return _signer_credentials(clients[0])


class BotoSessionManagerApproach:
    def __init__(self, profile: str | None, role_arn: str | None) -> None:
        try:
            from boto_session_manager.api import BotoSesManager
        except Exception as exc:  # noqa: BLE001 - any import failure means "n/a"
            raise Unavailable(f"boto-session-manager: {type(exc).__name__}: {exc}") from exc
        self._manager_class = BotoSesManager
        self.kwargs = {"profile_name": profile} if profile else {}
        self.local = threading.local()

    def _manager(self) -> Any:
        try:
            return self.local.bsm
        except AttributeError:
            bsm = self.local.bsm = self._manager_class(**self.kwargs)
            return bsm

    def client(self, service: str) -> Any:
        return self._manager().get_client(service)

    def thread_clients(self, services: Sequence[str]) -> list[Any]:
        return [self.client(name) for name in services]

    def credentials(self, clients: Sequence[Any]) -> Any:
        return _signer_credentials(clients[0])


class RefreshSessionApproach:
    def __init__(self, profile: str | None, role_arn: str | None) -> None:
        try:
            from boto3_refresh_session import RefreshableSession
        except Exception as exc:  # noqa: BLE001 - any import failure means "n/a"
            raise Unavailable(f"boto3-refresh-session: {type(exc).__name__}: {exc}") from exc
        self._session_class = RefreshableSession
        self.kwargs: dict[str, Any] = {
            "method": "sts",
            "assume_role_kwargs": {
                "RoleArn": role_arn or DUMMY_ROLE_ARN,
                "RoleSessionName": "sessionpool-bench",
            },
        }
        if profile:
            self.kwargs["profile_name"] = profile  # the source credentials for AssumeRole
        self.local = threading.local()

    def _session(self) -> Any:
        try:
            return self.local.session
        except AttributeError:
            session = self.local.session = self._session_class(**self.kwargs)
            return session

    def client(self, service: str) -> Any:
        return self._session().client(service)

    def thread_clients(self, services: Sequence[str]) -> list[Any]:
        return [self.client(name) for name in services]

    def credentials(self, clients: Sequence[Any]) -> Any:
        # Its service clients hold the (deferred) assumed-role credentials; the default chain is
        # what its own STS client resolved.
        return _signer_credentials(self._session()._sts_client)


_CLASSES: dict[str, Any] = {
    "sessionpool": SessionPoolApproach,
    "documented": DocumentedApproach,
    "threading.local": ThreadingLocalApproach,
    "boto-session-manager": BotoSessionManagerApproach,
    "boto3-refresh-session": RefreshSessionApproach,
}


# sessionpool with one optimisation switched off, for the "what each shared piece saves" rows:
# "sessionpool -<switch>" (see sessionpool.diagnostics()).
WITHOUT = "sessionpool -"


def make(name: str, profile: str | None = None, role_arn: str | None = None) -> Any:
    """Build approach ``name``; raises :class:`Unavailable` if it cannot run here.

    Parameters:
        name: one of :data:`APPROACHES`, or ``"sessionpool -<switch>"``.
        profile: the profile every session uses (for boto3-refresh-session: the source profile).
        role_arn: the role boto3-refresh-session assumes (others take it from the profile).
    """
    if name.startswith(WITHOUT):
        import sessionpool
        from sessionpool._botocore import guard

        switch = name[len(WITHOUT) :]
        if switch not in sessionpool.diagnostics()["optimisations"]:
            raise Unavailable(f"no optimisation named {switch!r}")
        guard._switches[switch].active = False  # quietly: this is a measurement, not a surprise
        return SessionPoolApproach(profile, role_arn)
    return _CLASSES[name](profile, role_arn)
