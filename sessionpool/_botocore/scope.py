"""While a pooled session makes a client: the mark every per-process share checks (issue 12, 20).

botocore finds the pieces it builds for a client through names it looks up while making one (a
factory, a module function, a method). The modules of this package wrap those names, once per
process, and their wrappers act only while *this thread* is inside :func:`pooled`: any other
client in the process, plain boto3's included, takes botocore's own path unchanged.

Each module that wraps something registers an installer with :func:`on_first_use`; the first
:func:`pooled` block of the process runs them all (under ``_lock``), so importing sessionpool
changes nothing in botocore until a pool makes its first client.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Hashable, Iterator
from typing import Any

from .. import _fork

__all__ = ["UNSET", "block", "making", "on_first_use", "pooled", "shareable"]

UNSET: Any = object()

_mark = threading.local()  # .key: what pooled() was given (None allowed), or absent; .block
_lock = _fork.Lock()
_installers: list[Callable[[], None]] = []
_installed = False


def on_first_use(installer: Callable[[], None]) -> Callable[[], None]:
    """Run ``installer`` once, before the first :func:`pooled` block of the process.

    Parameters:
        installer: wraps the botocore names one module relies on; never raises (it turns its
            own switch off instead).
    """
    with _lock:
        _installers.append(installer)
    return installer


@contextlib.contextmanager
def pooled(shareable: Hashable | None) -> Iterator[None]:
    """Mark this thread as making a client (or a session) for the pool.

    Parameters:
        shareable: what, besides the service, decides the session's client classes (the
            built-in handlers' signature), or None if the session's handlers were changed by the
            user (then its classes are built botocore's way) or no client is being made.
    """
    if not _installed:
        _install()
    previous = getattr(_mark, "key", UNSET)
    _mark.key = shareable
    _mark.block = getattr(_mark, "block", 0) + 1
    try:
        yield
    finally:
        if previous is UNSET:
            del _mark.key
        else:
            _mark.key = previous


def making() -> bool:
    """True while this thread is inside a :func:`pooled` block."""
    return getattr(_mark, "key", UNSET) is not UNSET


def block() -> int:
    """A number that changes every time this thread enters a :func:`pooled` block, so a
    memo can last for one client's making and no longer."""
    found: int = getattr(_mark, "block", 0)
    return found


def shareable() -> Hashable | None:
    """What the innermost :func:`pooled` block of this thread was given (None outside one)."""
    key: Hashable | None = getattr(_mark, "key", None)
    return key


def _install() -> None:
    global _installed
    with _lock:
        if _installed:
            return
        for installer in _installers:
            installer()
        _installed = True
