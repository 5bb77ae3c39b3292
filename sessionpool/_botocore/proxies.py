"""The proxies the environment sets for an endpoint, worked out once per environment (issue 20).

For every client botocore asks ``botocore.utils.get_environ_proxies(endpoint_url)``, which on
Linux scans every environment variable twice (``urllib.request.getproxies_environment``, once
to find ``*_proxy`` and once more for ``no_proxy``): ~8% of a new thread's client time. The
answer depends only on the URL and the environment, so it is kept per (environment token, URL)
(:mod:`.environ`) and each client gets its own copy of the dict. A new environment (any variable
set or unset through ``os.environ``) starts a new table, so a changed ``HTTPS_PROXY`` or
``NO_PROXY`` is honoured by the next client exactly as botocore would honour it.

Only where urllib takes proxies from the environment alone (not macOS or Windows, whose system
settings can change without the environment changing) and only while botocore's
``botocore.utils`` still uses urllib's own ``getproxies`` and ``proxy_bypass`` (a test that
patches them gets botocore's path). The wrapper replaces ``botocore.endpoint.get_environ_proxies``
(the name ``EndpointCreator._get_proxies`` looks up) and acts only while a pooled session makes a
client (:mod:`.scope`). Switch ``shared_proxy_answers``.
"""

from __future__ import annotations

import urllib.request
from typing import Any

import botocore.endpoint
import botocore.utils

from . import environ, scope
from .guard import SURPRISES, Switch

__all__ = ["answers", "install"]

answers = Switch(
    "shared_proxy_answers",
    "read the proxy settings from the environment once per environment and endpoint; "
    "off: two scans of os.environ per client",
)

# (environment token, {url: proxies}). A new token replaces the pair; under the same token
# entries are only added, each computed from that environment, so readers always agree.
_table: tuple[object, dict[str, dict[str, str]]] = (None, {})
_MAX_URLS = 256


def _environment_only() -> bool:
    utils: Any = botocore.utils
    request: Any = urllib.request  # proxy_bypass_environment is not in typeshed's stubs
    return (
        request.getproxies is request.getproxies_environment
        and utils.getproxies is request.getproxies_environment
        and utils.proxy_bypass is request.proxy_bypass_environment
    )


@scope.on_first_use
def install() -> None:
    """Wrap ``botocore.endpoint.get_environ_proxies`` (run once per process by :mod:`.scope`)."""
    if not answers.active:
        return
    endpoint: Any = botocore.endpoint
    if urllib.request.getproxies is not urllib.request.getproxies_environment:
        answers.unavailable("urllib reads this platform's proxy settings outside the environment")
        return
    try:
        original = endpoint.get_environ_proxies
        assert callable(original), "botocore.endpoint.get_environ_proxies is not callable"
        environ.token()  # fails now, not inside a client, if os.environ is not as expected
        endpoint.get_environ_proxies = _wrap(original)
    except SURPRISES as exc:
        answers.off("wrapping botocore.endpoint.get_environ_proxies failed", exc)


def _wrap(original: Any) -> Any:
    def get_environ_proxies(url: str) -> Any:
        global _table
        if not answers.active or not scope.making() or not _environment_only():
            return original(url)
        try:
            token = environ.token()
        except SURPRISES as exc:
            answers.off("naming the environment failed", exc)
            return original(url)
        if token is None or type(url) is not str:
            return original(url)
        table = _table
        if table[0] is token:
            found = table[1].get(url)
            if found is not None:
                return dict(found)
        result = original(url)
        # Keep it only if the environment did not change while botocore read it.
        if type(result) is dict and environ.token() is token:
            known = table[1] if table[0] is token and len(table[1]) < _MAX_URLS else {}
            known[url] = dict(result)
            _table = (token, known)
        return result

    get_environ_proxies.__wrapped__ = original  # type: ignore[attr-defined]
    return get_environ_proxies
