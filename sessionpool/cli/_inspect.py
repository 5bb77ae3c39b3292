"""``sessionpool inspect``: how a profile's credentials resolve, as the pool resolves them.

It builds a :class:`SessionPool` for the profile and region, takes this thread's session, and
reads the credentials the pool published for that key (a ``SharedCredentials`` whose ``inner`` is
botocore's object). Reading the key id resolves them, so a role profile makes its AssumeRole call
here, once. It prints the source, refreshability and expiry, the access key id masked to its
last 4 characters, the region and the pool's key; never the secret key or the session token.
"""

from __future__ import annotations

import argparse
import datetime
import os
from typing import Any

from botocore.credentials import RefreshableCredentials
from botocore.exceptions import BotoCoreError, ClientError, ProfileNotFound

from .. import SessionPool
from .._botocore import expiry_time
from ._output import fail, mask

__all__ = ["run"]

# Profile settings worth showing: they say where credentials come from and hold no secret.
# (credential_process is left out: its command line may carry a token.)
_SHOWN_SETTINGS = (
    "role_arn",
    "source_profile",
    "credential_source",
    "role_session_name",
    "mfa_serial",
    "web_identity_token_file",
    "sso_session",
    "sso_start_url",
    "sso_account_id",
    "sso_role_name",
)


def run(args: argparse.Namespace) -> int:
    """Print how ``args.profile``'s credentials resolve; return the exit status."""
    pool = SessionPool(profile=args.profile, region=args.region)
    try:
        return _report(pool, args.profile, args.region)
    except ProfileNotFound:
        return fail(
            f"profile {args.profile!r} was not found in {_config_files()}; "
            f"list the profiles with 'aws configure list-profiles' or pass another --profile.",
            2,
        )
    except (BotoCoreError, ClientError) as exc:
        # botocore's messages name the failing step and never carry a secret.
        return fail(f"resolving credentials for {_label(args.profile)} failed: {exc}", 1)
    except ValueError as exc:  # a credential_process that printed something that is not JSON
        return fail(
            f"resolving credentials for {_label(args.profile)} failed: its credential_process "
            f"did not print JSON ({type(exc).__name__}: {exc}); run it by hand to see its output.",
            1,
        )
    except OSError as exc:  # a credential_process that cannot be started
        # strerror only: the exception's filename is the command, which may carry a token.
        return fail(
            f"resolving credentials for {_label(args.profile)} failed: its credential_process "
            f"could not be run ({exc.strerror or type(exc).__name__}).",
            1,
        )
    finally:
        pool.close()


def _report(pool: SessionPool, profile: str | None, region: str | None) -> int:
    session = pool.get_session()
    shared = session.get_credentials()
    rows: list[tuple[str, str]] = [("profile", _label(profile))]
    rows.append(("region", _region(session.region_name, region)))
    for name in _SHOWN_SETTINGS:
        value = _profile_setting(session, name)
        if value is not None:
            rows.append((f"  {name}", str(value)))
    if shared is None:
        rows.append(("credentials", "none found: botocore's chain returned nothing"))
        rows.append(("pool key", repr(session.pool_key)))
        _print(rows)
        return 1
    inner = getattr(shared, "inner", shared)  # botocore's object inside the pool's wrapper
    frozen = shared.get_frozen_credentials()  # resolves deferred credentials (AssumeRole, SSO)
    refreshable = isinstance(inner, RefreshableCredentials)
    rows.append(("credentials", str(shared.method or "unknown")))
    rows.append(
        (
            "  refreshable",
            "yes (botocore renews them before they expire)"
            if refreshable
            else "no (static: they never renew themselves)",
        )
    )
    rows.append(("  expires", _expiry(inner if refreshable else None)))
    rows.append(("  access key id", mask(frozen.access_key)))
    rows.append(("  secret key", "(never shown)"))
    rows.append(("  session token", "present (never shown)" if frozen.token else "none"))
    account = getattr(inner, "account_id", None)
    if account:
        rows.append(("  account id", str(account)))
    rows.append(("pool key", repr(session.pool_key)))
    _print(rows)
    return 0


def _label(profile: str | None) -> str:
    if profile is not None:
        return profile
    env = os.environ.get("AWS_PROFILE") or os.environ.get("AWS_DEFAULT_PROFILE")
    return f"(default chain; AWS_PROFILE={env})" if env else "(default chain)"


def _region(resolved: str | None, given: str | None) -> str:
    if resolved is None:
        return "none configured (pass --region or set one in the profile)"
    return f"{resolved} (--region)" if given else resolved


def _profile_setting(session: Any, name: str) -> Any:
    try:
        return session.botocore_session.get_scoped_config().get(name)
    except (ProfileNotFound, AttributeError):
        return None


def _expiry(credentials: Any) -> str:
    if credentials is None:
        return "never (no expiry is known)"
    expiry = expiry_time(credentials)
    if expiry is None:
        return "unknown"
    now = datetime.datetime.now(expiry.tzinfo or datetime.timezone.utc)
    minutes = (expiry - now).total_seconds() / 60
    when = expiry.isoformat(timespec="seconds")
    return f"{when} (in {minutes:.0f} min)" if minutes >= 0 else f"{when} (expired)"


def _config_files() -> str:
    config = os.environ.get("AWS_CONFIG_FILE", os.path.join("~", ".aws", "config"))
    credentials = os.environ.get(
        "AWS_SHARED_CREDENTIALS_FILE", os.path.join("~", ".aws", "credentials")
    )
    return f"{config} or {credentials}"


def _print(rows: list[tuple[str, str]]) -> None:
    width = max(len(name) for name, _ in rows) + 2
    for name, value in rows:
        print(f"{name:<{width}}{value}")
