"""Waiting without sleeping as synchronisation: poll a condition under a deadline, and look at
where a thread's stack is to know that it is blocked."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import TypeVar

__all__ = ["blocked_in", "wait_until"]

T = TypeVar("T")

# Polling starts at a millisecond (a thread reaching a lock is there in microseconds) and backs
# off to this, so a probe that is dear (walking /proc) or slow to come true (a server starting)
# does not spin.
MAX_INTERVAL = 0.05


def wait_until(
    probe: Callable[[], T | None], *, timeout: float = 60.0, what: str = "a condition"
) -> T:
    """Call ``probe`` until it returns something other than None or False, and return that.

    A hang guard, not a timing assertion: nothing relies on how soon the condition holds. The
    pause between probes is a polling interval, never synchronisation.

    Parameters:
        probe: called with no arguments; None or False means "not yet".
        timeout: seconds after which :class:`TimeoutError` is raised, naming ``what``.
        what: what is awaited, for the error message.
    """
    deadline = time.monotonic() + timeout
    interval = 0.001
    while True:
        result = probe()
        if result is not None and result is not False:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what} after {timeout:g} s")
        time.sleep(interval)
        interval = min(interval * 2, MAX_INTERVAL)


def blocked_in(thread: threading.Thread, *functions: str) -> bool:
    """True if ``thread`` is inside a frame of one of ``functions`` (code names, e.g. "wait").

    Parameters:
        thread: a live thread of this process.
        functions: code names (``co_name``) to look for anywhere on its stack.
    """
    frame = sys._current_frames().get(thread.ident or -1)
    while frame is not None:
        if frame.f_code.co_name in functions:
            return True
        frame = frame.f_back
    return False
