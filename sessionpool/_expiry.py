"""Rejected credentials: renew them once, and (opt-in) retry the call that found out.

Two ways AWS rejects credentials that the pool resolved once and shares:

* **Expired**: credentials that cannot know their own expiry (an explicit session token,
  ``credential_process`` output without ``Expiration``; HAZARDS R5) are static.
* **Unknown key**: static keys from the shared files, rotated on disk and deleted in IAM
  (HAZARDS C1): ``InvalidAccessKeyId``, ``InvalidClientTokenId``,
  ``UnrecognizedClientException``, ``SignatureDoesNotMatch``, ``AuthFailure``.

Either way the key's :class:`~._credentials.SharedCredentials` are marked stale, so the next read
resolves the chain again, once for every thread. With ``retry_expired`` the rejected call is
retried once, immediately: botocore signs every attempt afresh, so the retry carries the renewed
credentials. Explicit keys are never renewed: their calls keep failing with botocore's error.

Two botocore events carry this, registered on each new session before it makes a client
(clients copy the session's handlers): ``before-sign`` tags each attempt's context with the
generation of the credentials that sign it, so that a late rejection of credentials renewed
since does not renew them again; ``needs-retry`` sees the rejection.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ._credentials import EXPIRED_TOKEN_CODES, REJECTED_KEY_CODES, SharedCredentials
from ._secrets import mask_request_token

__all__ = ["install"]

log = logging.getLogger("sessionpool")


def install(core: Any, credentials: SharedCredentials, retry: bool) -> None:
    """Register the expiry handlers (and the token-masking and held-warnings ones) on a
    botocore session.

    Parameters:
        core: the botocore session, before it has made any client.
        credentials: the key's shared credentials, which the handlers expire.
        retry: whether to retry a rejected call once with renewed credentials.
    """
    events = core.get_component("event_emitter")
    events.register("before-send", mask_request_token)
    events.register("before-sign", _tag_generation(credentials))
    events.register_first("needs-retry", _expired_token_handler(credentials, retry))


def _tag_generation(credentials: SharedCredentials) -> Callable[..., None]:
    """A ``before-sign`` handler noting which renewal of the credentials signs each attempt."""

    def before_sign(request: Any = None, **_: Any) -> None:
        context = getattr(request, "context", None)
        if isinstance(context, dict):
            context["sessionpool_generation"] = credentials.generation

    return before_sign


def _expired_token_handler(credentials: SharedCredentials, retry: bool) -> Callable[..., Any]:
    """A ``needs-retry`` handler: expire the credentials AWS rejected, maybe retry."""

    def on_needs_retry(response: Any = None, request_dict: Any = None, **_: Any) -> int | None:
        if response is None:
            return None
        parsed = response[1] if isinstance(response, tuple) and len(response) > 1 else {}
        code = parsed.get("Error", {}).get("Code") if isinstance(parsed, dict) else None
        if code not in EXPIRED_TOKEN_CODES and code not in REJECTED_KEY_CODES:
            return None
        context = request_dict.get("context", {}) if isinstance(request_dict, dict) else {}
        renewable = credentials.expire(context.get("sessionpool_generation"))
        log.debug("%s: credentials rejected (%s)", "renewing" if renewable else "explicit", code)
        if not (retry and renewable) or context.get("sessionpool_retried"):
            return None
        context["sessionpool_retried"] = True
        return 0  # retry now: every attempt is signed afresh, with the renewed credentials

    return on_needs_retry
