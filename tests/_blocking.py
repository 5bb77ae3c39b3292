"""Waiting for threads to block, without sleeping: look at where each thread's stack is."""

from __future__ import annotations

import sys
import threading
import time

__all__ = ["blocked_in", "wait_until"]


def blocked_in(thread: threading.Thread, *functions: str) -> bool:
    """True if ``thread`` is inside a frame of one of ``functions`` (code names, e.g. "wait")."""
    frame = sys._current_frames().get(thread.ident or -1)
    while frame is not None:
        if frame.f_code.co_name in functions:
            return True
        frame = frame.f_back
    return False


def wait_until(condition: object, timeout: float = 60.0, what: str = "a condition") -> None:
    """Poll ``condition()`` until it is true; fail after ``timeout`` seconds (a hang guard, not
    a timing assertion: every caller's condition becomes true in microseconds when correct)."""
    deadline = time.monotonic() + timeout
    event = threading.Event()
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what} after {timeout:g} s")
        event.wait(0.001)
