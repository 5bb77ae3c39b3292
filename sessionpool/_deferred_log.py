"""Warnings held back until no lock is held, then logged on the ``sessionpool`` logger.

A logging handler is user code, and user code may use the pool: a handler that ships records to
CloudWatch signs a request with the same key. Some of sessionpool's code runs while a lock is
held: botocore reads and writes the credential file cache inside a credentials refresh, under
botocore's own refresh lock and the key's gate. A record logged there would reach that handler,
whose request waits for the lock its own thread holds, forever (HAZARDS I4). So such code calls
:func:`warn_later`, and :func:`emit_pending` logs the records where nothing is held: it is a
``before-send`` handler on every pooled session, which botocore calls after signing (where
credentials are read and refreshed) and before the request goes out.

The queue is a ``deque``: appending and popping are atomic, so it needs no lock of its own, and
any thread may emit another thread's record. It is bounded, in case nothing sends a request for
a long time, and emptied in a forked child (the parent logs its own records).
"""

from __future__ import annotations

import collections
import logging
import os
from typing import Any

__all__ = ["emit_pending", "warn_later"]

log = logging.getLogger("sessionpool")

# (message, args) to log at WARNING; the oldest are dropped beyond maxlen.
_pending: collections.deque[tuple[str, tuple[object, ...]]] = collections.deque(maxlen=64)


def warn_later(message: str, *args: object) -> None:
    """Queue a WARNING for the ``sessionpool`` logger; it is logged once no lock is held.

    Parameters:
        message: a ``%``-style format string (never holding a secret).
        args: its arguments (never a secret).
    """
    _pending.append((message, args))


def emit_pending(**_: Any) -> None:
    """Log the queued warnings; called where the caller holds no lock (a ``before-send``
    handler: it takes botocore's event arguments and ignores them)."""
    while _pending:
        try:
            message, args = _pending.popleft()
        except IndexError:  # another thread emitted the last one
            return
        log.warning(message, *args)


if hasattr(os, "register_at_fork"):  # absent on Windows, where there is no fork
    os.register_at_fork(after_in_child=_pending.clear)
