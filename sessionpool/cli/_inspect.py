"""``sessionpool inspect``: how a profile's credentials resolve, as the pool resolves them.

It builds a :class:`SessionPool` for the profile and region, takes this thread's session, and
reads the credentials the pool published for that key (a ``SharedCredentials`` whose ``inner`` is
botocore's object). Reading the key id resolves them, so a role profile makes its AssumeRole call
here, once. It gathers the facts once (:func:`facts`: which profile and region apply and where
each came from, what the pool's key fixes, the credential source, refreshability and expiry, the
access key id masked to its last 4 characters) and prints them as aligned text or, with
``--json``, as one JSON object. Never the secret key or the session token.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
from typing import Any

from botocore.credentials import RefreshableCredentials
from botocore.exceptions import BotoCoreError, ClientError, ProfileNotFound

from .. import SessionPool
from .._botocore import expiry_time
from ._output import aware, describe_expiry, fail, mask, print_rows

__all__ = ["facts", "run"]

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
# Where botocore takes a profile's name from when none is passed, in its order.
_PROFILE_VARIABLES = ("AWS_DEFAULT_PROFILE", "AWS_PROFILE")


def run(args: argparse.Namespace) -> int:
    """Print how ``args.profile``'s credentials resolve; return the exit status.

    Parameters:
        args: the parsed ``inspect`` arguments (``profile``, ``region``, ``json``).
    """
    pool = SessionPool(profile=args.profile, region=args.region)
    try:
        found = facts(pool, args.profile, args.region)
    except ProfileNotFound as exc:
        name = getattr(exc, "kwargs", {}).get("profile") or _profile_name(args.profile)
        source = _profile_source(args.profile, name)
        way_out = (
            "pass another --profile"
            if args.profile is not None
            else f"set {source} to another profile, or unset it"
            if source in _PROFILE_VARIABLES
            else "pass --profile"
        )
        return fail(
            f"profile {name!r} ({_SOURCE_WORDS[source]}) was not found in "
            f"{_config_files()}; list the profiles with 'aws configure list-profiles', "
            f"or {way_out}.",
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
    if args.json:
        print(json.dumps(found, indent=2))
    else:
        print_rows(_rows(found))
    return 0 if found["credentials"]["found"] else 1


def facts(pool: SessionPool, profile: str | None, region: str | None) -> dict[str, Any]:
    """What ``inspect`` reports about ``pool``'s session in this thread, as plain data.

    Parameters:
        pool: a pool made with ``profile`` and ``region``.
        profile: the ``--profile`` given, or None.
        region: the ``--region`` given, or None.
    """
    session = pool.get_session()
    name = session.profile_name
    settings = _scoped_config(session)
    resolved_region = session.region_name
    key = session.pool_key
    found: dict[str, Any] = {
        "profile": {
            "name": name,
            "source": _profile_source(profile, name),
            "in_config_files": name in session.available_profiles,
            "settings": {
                setting: str(settings[setting])
                for setting in _SHOWN_SETTINGS
                if setting in settings
            },
        },
        "region": {
            "name": resolved_region,
            "source": _region_source(resolved_region, region, settings.get("region")),
        },
        "pool_key": {"profile": key.profile, "region": key.region},
    }
    shared = session.get_credentials()
    if shared is None:
        found["credentials"] = {"found": False}
        return found
    inner = getattr(shared, "inner", shared)  # botocore's object inside the pool's wrapper
    frozen = shared.get_frozen_credentials()  # resolves deferred credentials (AssumeRole, SSO)
    refreshable = isinstance(inner, RefreshableCredentials)
    expiry = aware(expiry_time(inner)) if refreshable else None
    now = datetime.datetime.now(datetime.timezone.utc)
    found["credentials"] = {
        "found": True,
        "method": str(shared.method or "unknown"),
        "refreshable": refreshable,
        "expires": None if expiry is None else expiry.isoformat(timespec="seconds"),
        "expires_in_seconds": None if expiry is None else int((expiry - now).total_seconds()),
        "access_key_id": mask(frozen.access_key),
        "session_token": bool(frozen.token),
        "account_id": getattr(inner, "account_id", None) or None,
    }
    return found


# -- where the profile and the region come from -----------------------------------------------

# How the text output and the messages say where a name came from (the JSON has the keys).
_SOURCE_WORDS = {
    "--profile": "from --profile",
    "--region": "from --region",
    "AWS_PROFILE": "from the AWS_PROFILE variable",
    "AWS_DEFAULT_PROFILE": "from the AWS_DEFAULT_PROFILE variable",
    "AWS_DEFAULT_REGION": "from the AWS_DEFAULT_REGION variable",
    "AWS_REGION": "from the AWS_REGION variable",
    "default": "none named by --profile, AWS_PROFILE or AWS_DEFAULT_PROFILE",
    "botocore": "from botocore's configuration",
}


def _profile_name(given: str | None) -> str:
    if given is not None:
        return given
    for variable in _PROFILE_VARIABLES:
        if os.environ.get(variable):
            return os.environ[variable]
    return "default"


def _profile_source(given: str | None, name: str | None) -> str:
    """``--profile``, the variable botocore took ``name`` from, or ``default``."""
    if given is not None:
        return "--profile"
    for variable in _PROFILE_VARIABLES:
        if name is not None and os.environ.get(variable) == name:
            return variable
    return "default" if name in (None, "default") else "botocore"


def _region_source(resolved: str | None, given: str | None, profile_region: Any) -> str | None:
    """Where botocore's region came from: ``--region``, a variable, the profile, or None."""
    if resolved is None:
        return None
    if given is not None:
        return "--region"
    if os.environ.get("AWS_DEFAULT_REGION") == resolved:
        return "AWS_DEFAULT_REGION"
    if profile_region == resolved:
        return "profile"
    if os.environ.get("AWS_REGION") == resolved:  # botocore releases that read it
        return "AWS_REGION"
    return "botocore"


def _scoped_config(session: Any) -> dict[str, Any]:
    try:
        config = session.botocore_session.get_scoped_config()
    except (ProfileNotFound, AttributeError):
        return {}
    return dict(config) if isinstance(config, dict) else {}


# -- text --------------------------------------------------------------------------------------


def _label(profile: str | None) -> str:
    if profile is not None:
        return profile
    name = _profile_name(None)
    source = _profile_source(None, name)
    if source in _PROFILE_VARIABLES:
        return f"profile {name} ({_SOURCE_WORDS[source]})"
    return "(default chain)"


def _rows(found: dict[str, Any]) -> list[tuple[str, str]]:
    profile, region, key = found["profile"], found["region"], found["pool_key"]
    where = _SOURCE_WORDS[profile["source"]]
    if not profile["in_config_files"]:
        where += "; not in the config files, so no setting of its applies"
    rows = [("profile", f"{profile['name'] or 'default'} ({where})")]
    rows += [(f"  {name}", value) for name, value in profile["settings"].items()]
    if region["name"] is None:
        rows.append(
            ("region", "none (pass --region, or set AWS_DEFAULT_REGION or the profile's region)")
        )
    else:
        source = region["source"]
        words = (
            f"from profile {profile['name'] or 'default'}'s region setting"
            if source == "profile"
            else _SOURCE_WORDS[source]
        )
        rows.append(("region", f"{region['name']} ({words})"))
    creds = found["credentials"]
    if not creds["found"]:
        rows.append(("credentials", "none found: botocore's chain returned nothing"))
    else:
        rows.append(("credentials", creds["method"]))
        rows.append(
            (
                "  refreshable",
                "yes (botocore renews them before they expire)"
                if creds["refreshable"]
                else "no (static: they never renew themselves)",
            )
        )
        if creds["expires"] is None:
            expires = "never (no expiry is known)" if not creds["refreshable"] else "unknown"
        else:
            expires = describe_expiry(
                datetime.datetime.fromisoformat(creds["expires"]),
                datetime.datetime.now(datetime.timezone.utc),
            )
        rows.append(("  expires", expires))
        rows.append(("  access key id", creds["access_key_id"]))
        rows.append(("  secret key", "(never shown)"))
        rows.append(
            ("  session token", "present (never shown)" if creds["session_token"] else "none")
        )
        if creds["account_id"]:
            rows.append(("  account id", str(creds["account_id"])))
    rows.append(("pool key", _key_story(key)))
    return rows


def _key_story(key: dict[str, Any]) -> str:
    """The pool's key, and which of profile and region it leaves to each session."""
    text = f"profile={key['profile']!r}, region={key['region']!r}"
    open_ = [name for name in ("profile", "region") if key[name] is None]
    if not open_:
        return f"{text}: the pool fixes both"
    return f"{text}: each session resolves the {' and the '.join(open_)} as above"


def _config_files() -> str:
    config = os.environ.get("AWS_CONFIG_FILE", os.path.join("~", ".aws", "config"))
    credentials = os.environ.get(
        "AWS_SHARED_CREDENTIALS_FILE", os.path.join("~", ".aws", "credentials")
    )
    return f"{config} or {credentials}"
