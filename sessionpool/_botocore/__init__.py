"""Everything sessionpool does with botocore's private internals, behind plain functions.

A reader who wants to know what breaks when botocore changes opens this folder: no module outside
it touches a private botocore (or boto3) name, and ``tests/test_layout.py`` enforces that by
scanning the source. Each use here is an optimisation or a convenience with a public fallback:

* :mod:`.loader`: one data loader per process (``Loader`` subclassed; ``_DedupList`` for its
  ``search_paths``).
* :mod:`.emitter`: a copy-on-write event emitter (``botocore.hooks._PrefixTrie``'s node layout).
* :mod:`.sessions`: new botocore sessions that copy a prototype emitter and share the endpoint
  resolver and exceptions factory (``Session._register_internal_component``).
* this module: small accessors for single private attributes, each with a fallback.
"""

from __future__ import annotations

from typing import Any

from .credentials import expiry_time
from .guard import diagnostics
from .loader import warm as warm_loader
from .sessions import new_core_session

__all__ = [
    "config_options",
    "core_session",
    "diagnostics",
    "expiry_time",
    "new_core_session",
    "set_credentials",
    "warm_loader",
]


def core_session(session: Any) -> Any:
    """The botocore session inside a ``boto3.session.Session`` (boto3 keeps it as ``_session``).

    Parameters:
        session: a boto3 Session.
    """
    return session._session


def set_credentials(core: Any, credentials: Any) -> None:
    """Make ``core.get_credentials()`` return ``credentials`` without resolving the chain.

    Parameters:
        core: a botocore session that has not resolved credentials yet.
        credentials: the object its ``get_credentials()`` returns from now on.
    """
    # botocore.session.Session.get_credentials() returns this attribute once it is set.
    core._credentials = credentials


def config_options(config: Any) -> dict[str, Any] | None:
    """The options a user passed to ``botocore.config.Config(...)``, or None if not a Config.

    Parameters:
        config: the object passed as a client's ``config``.
    """
    options = getattr(config, "_user_provided_options", None)
    return options if isinstance(options, dict) else None
