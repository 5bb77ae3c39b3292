"""The memo: calls with arguments, remembered per owner, so the same call again skips building
the key and normalising its arguments (microseconds each).

One memo per owner (thread, greenlet or scope function's id), shared by the two kinds of call
that take arguments: the pool's (``pool.client("s3", region="eu-west-1")``, remembered under the
block the call ran in) and a pooled session's own (``s.client("s3", config=...)``, remembered
under the session). An entry is ``(session, client, the session's epoch, the client's meter)``:

* the client is held weakly: one that left its session's cache (the ``max_clients`` bound)
  belongs to whoever still holds it, not to the memo;
* a hit calls the client's meter (a counting getter written in C, see
  ``PooledSession._meter``), which counts the hit and tells the session's bound it was used;
* the session's ``epoch`` changes whenever a client leaves its cache (handlers changed, the bound,
  the session dropped), and an entry from an older epoch is a miss;
* calls with more positional arguments than :data:`SAFE_POSITIONS`, or carrying a secret, are never
  remembered (the memo key would hold the secret); unhashable arguments are simply not remembered;
* at :data:`MEMO_LIMIT` entries the memo starts over (a caller building a new ``Config`` per call
  would otherwise grow it without end).

Only the owner adds entries; another thread that drops one of the owner's sessions empties the
memo (see ``_registry.OwnerSlot.drop``), and so does a session whose bound pushes a client out.
The pool's own calls are hot enough that ``SessionPool.client`` inlines :meth:`Memo.key` and
:meth:`Memo.find` (the rule is theirs, and ``SAFE_POSITIONS`` with it).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from typing import Any

from ._secrets import SECRET_NAMES

__all__ = ["MEMO_LIMIT", "SAFE_POSITIONS", "Memo"]

# The most entries a memo keeps before it starts over.
MEMO_LIMIT = 256
# Positional arguments after service_name that never carry a secret (boto3's order: region_name,
# api_version, use_ssl, verify, endpoint_url, aws_access_key_id); the 7th and 8th do.
SAFE_POSITIONS = 6


class Memo(dict[tuple[Any, ...], tuple[Any, "weakref.ref[Any]", int, Callable[[], Any]]]):
    """An owner's memo: memo key -> (session, client weakly, session's epoch, client's meter)."""

    __slots__ = ()

    @staticmethod
    def key(
        who: object, service: object, args: tuple[Any, ...], kwargs: Mapping[str, Any]
    ) -> tuple[Any, ...] | None:
        """The memo key of a call, or None if it must not be remembered (too many positional
        arguments, or a secret among them)."""
        if len(args) > SAFE_POSITIONS or not SECRET_NAMES.isdisjoint(kwargs):
            return None
        return (who, service, args, *kwargs.items())

    def find(self, key: tuple[Any, ...]) -> Any:
        """The client remembered under ``key`` and still current, else None. Raises TypeError
        for a key with an unhashable argument (the caller then does not remember it either)."""
        entry = self.get(key)
        if entry is None:
            return None
        session, client_ref, epoch, meter = entry
        if session.epoch != epoch:
            return None
        client = client_ref()
        if client is not None:
            meter()  # counts the hit, and marks the client used for its session's bound
        return client

    def remember(
        self, key: tuple[Any, ...], session: Any, client: Any, meter: Callable[[], Any]
    ) -> None:
        """Remember ``client`` under ``key`` (starting over at :data:`MEMO_LIMIT`)."""
        if len(self) >= MEMO_LIMIT:
            self.clear()
        self[key] = (session, weakref.ref(client), session.epoch, meter)
