"""Everything sessionpool does with botocore's private internals, behind plain functions.

A reader who wants to know what breaks when botocore changes opens this folder: no module outside
it touches a private botocore (or boto3) name, and ``tests/test_layout.py`` enforces that by
scanning the source. Each use here is an optimisation or a convenience with a public fallback:

* :mod:`.loader`: one data loader per process (``Loader`` subclassed; ``_DedupList`` for its
  ``search_paths``).
* :mod:`.emitter`: a copy-on-write event emitter (``botocore.hooks._PrefixTrie``'s node layout),
  and one cache of event-name aliases per process (``EventAliaser._alias_name_cache``).
* :mod:`.sessions`: new botocore sessions that copy a prototype emitter and share the endpoint
  resolver and exceptions factory (``Session._register_internal_component``).
* :mod:`.credentials`: reading refreshable credentials' expiry (``credential_snapshot``), and
  handing the credential file cache to the providers that take one.
* :mod:`.clients`: client classes and endpoint rule providers shared per process
  (``client_class_cache``, ``shared_endpoint_rules``).
* :mod:`.models`: which operation of a service discovers endpoints, per service model
  (``shared_discovery_answers``).
* :mod:`.proxies`: the proxies the environment sets for an endpoint, per environment
  (``shared_proxy_answers``; :mod:`.environ` names the environment's contents).
* :mod:`.tls`: one TLS context for clients with the same certificate settings
  (``shared_tls_context``).
* :mod:`.configfiles`: the AWS config file parsed once per content (``shared_config_files``).
* :mod:`.settings`: botocore's configuration answers, shared while their inputs agree
  (``shared_config_answers``).
* :mod:`.emitter` also remembers which handlers accept ``**kwargs`` (``handler_check_memo``).
* :mod:`.scope`: the thread-local mark that limits all of these to the pool's own clients.
* this module: the options of a ``Config`` (``config_by_value``).

:mod:`.guard` holds the switches; ``sessionpool.diagnostics()`` reports them.
"""

from __future__ import annotations

from typing import Any

from botocore.config import Config

# Imported for their installers (each registers with .scope, run before the first pooled client).
from . import clients, configfiles, models, proxies, settings, tls  # noqa: F401
from .clients import close_when_unused, unlock_inherited, watch_for_fork
from .credentials import expiry_time, use_file_cache
from .guard import SURPRISES, Switch, diagnostics
from .loader import warm as warm_loader
from .scope import pooled
from .sessions import (
    env_profile,
    new_core_session,
    new_watched_session,
    set_credentials,
    sync_builtins,
)

by_value = Switch(
    "config_by_value",
    "key clients by the options of their Config, so equal Configs share a client; "
    "off: by the Config object's identity",
)

__all__ = [
    "close_when_unused",
    "config_options",
    "diagnostics",
    "env_profile",
    "expiry_time",
    "new_core_session",
    "new_watched_session",
    "pooled",
    "set_credentials",
    "sync_builtins",
    "unlock_inherited",
    "use_file_cache",
    "warm_loader",
    "watch_for_fork",
]


def config_options(config: Any) -> dict[str, Any] | None:
    """The options a user passed to ``botocore.config.Config(...)``, or None if they cannot be
    read (not a Config, or the ``config_by_value`` switch is off): then key the client by the
    Config object's identity instead.

    Parameters:
        config: the object passed as a client's ``config``.
    """
    if not by_value.active:
        return None
    try:
        options = config._user_provided_options
        assert isinstance(options, dict), "Config._user_provided_options is not a dict"
    except SURPRISES as exc:
        if isinstance(config, Config):
            by_value.off("reading a Config's options failed", exc)
        return None
    return options
