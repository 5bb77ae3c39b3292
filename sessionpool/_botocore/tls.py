"""One TLS context per process for pooled clients with the same certificate settings (issue 20).

botocore's ``URLLib3Session`` builds a new ``ssl.SSLContext`` for every client (~0.25 ms, ~7% of
a new thread's client time) and hands it to urllib3's pool manager. One client's context is
already shared by all its connections, which many threads use at once (clients are
thread-safe): for every new connection urllib3 sets the context's ``verify_mode``, loads the CA
bundle into it (``load_verify_locations``) and, with a client certificate, loads that. Those
writes depend only on the client's ``verify`` and client certificate; so clients whose
settings are equal write the same values, and sharing a context between them is exactly the
concurrency one client already has. Here such clients share one context, keyed by:

* ``verify``: True (botocore's bundle), False, or a CA bundle path together with the file's
  identity and modification time (a rewritten bundle gets a new context, as a new client would
  load only the new file);
* no client certificate (a client with one keeps its own context).

Only the context of a client's own pool manager is shared (the one requested inside
``URLLib3Session._get_pool_manager_kwargs``); the proxy TLS context, which botocore edits per
proxy (``_setup_proxy_ssl_context``), is always new. The context is reachable only through
private attributes; nothing public can change it for another client.

Private names: ``URLLib3Session._get_ssl_context``, ``_get_pool_manager_kwargs``, ``_verify``,
``_cert_file``, ``_key_file``. Wrapped once per process, acting only while a pooled session makes
a client (:mod:`.scope`). Switch ``shared_tls_context``.
"""

from __future__ import annotations

import os
import ssl
import threading
from collections.abc import Hashable
from typing import Any

import botocore.httpsession

from . import scope
from .guard import SURPRISES, Switch

__all__ = ["contexts", "install"]

contexts = Switch(
    "shared_tls_context",
    "one TLS context per process for clients with the same certificate settings; "
    "off: a new SSLContext per client (~0.25 ms)",
)

_inside = threading.local()  # .session: the URLLib3Session whose pool manager is being set up
_contexts: dict[Hashable, ssl.SSLContext] = {}
_MAX_CONTEXTS = 32


@scope.on_first_use
def install() -> None:
    """Wrap two ``URLLib3Session`` methods (run once per process by :mod:`.scope`)."""
    if not contexts.active:
        return
    session: Any = botocore.httpsession.URLLib3Session
    try:
        original_context = session._get_ssl_context
        original_kwargs = session._get_pool_manager_kwargs
        assert callable(original_context), "URLLib3Session._get_ssl_context is not callable"
        assert callable(original_kwargs), "URLLib3Session._get_pool_manager_kwargs not callable"
        session._get_ssl_context = _wrap_context(original_context)
        session._get_pool_manager_kwargs = _wrap_kwargs(original_kwargs)
    except SURPRISES as exc:
        contexts.off("wrapping URLLib3Session's TLS context failed", exc)


def _wrap_kwargs(original: Any) -> Any:
    def _get_pool_manager_kwargs(self: Any, *args: Any, **kwargs: Any) -> Any:
        previous = getattr(_inside, "session", None)
        _inside.session = self
        try:
            return original(self, *args, **kwargs)
        finally:
            _inside.session = previous

    _get_pool_manager_kwargs.__wrapped__ = original  # type: ignore[attr-defined]
    return _get_pool_manager_kwargs


def _wrap_context(original: Any) -> Any:
    def _get_ssl_context(self: Any) -> Any:
        if (
            not contexts.active
            or getattr(_inside, "session", None) is not self
            or not scope.making()
        ):
            return original(self)
        try:
            key = _key(self)
        except SURPRISES as exc:
            contexts.off("reading a URLLib3Session's certificate settings failed", exc)
            return original(self)
        if key is None:
            return original(self)
        found = _contexts.get(key)
        if found is not None:
            return found
        made = original(self)
        if not isinstance(made, ssl.SSLContext) or len(_contexts) >= _MAX_CONTEXTS:
            return made
        return _contexts.setdefault(key, made)

    _get_ssl_context.__wrapped__ = original  # type: ignore[attr-defined]
    return _get_ssl_context


def _key(session: Any) -> Hashable | None:
    """What the writes to a client's context depend on, or None if it should have its own."""
    verify = session._verify
    if session._cert_file is not None or session._key_file is not None:
        return None
    if verify is True or verify is False:
        return (verify,)
    if type(verify) is not str:
        return None
    try:
        st = os.stat(verify)
    except (OSError, ValueError):
        return None  # botocore will report the missing bundle at the first request
    return (verify, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
