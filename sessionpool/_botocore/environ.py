"""A token that names the current contents of ``os.environ``, cheap to check (issue 20).

botocore reads the environment over and over while it makes a client: the proxy variables (two
scans of every variable per client) and ~140 configuration variables. An answer computed from
the environment can be shared as long as the environment is the same; :func:`token` says when
it is, without decoding the environment: it compares ``os.environ``'s underlying dict (bytes to
bytes on POSIX, a C-level comparison of mostly identical objects, ~1 us for 50 variables) with
the snapshot taken when the current token was made. Any change made through ``os.environ``
(which is what botocore and urllib read) gives a new token; changing it back gives yet another,
so a token never names two different environments.

This relies on CPython's ``os._Environ`` keeping its contents in ``_data``; if it does not, the
caller's switch goes off (:func:`token` raises one of :data:`~.guard.SURPRISES`). If the user
replaced ``os.environ`` by another mapping (a test double), :func:`token` returns None and
callers take botocore's path for as long as that lasts.

Races: another thread may change the environment while a client is being made; botocore reads
it piecemeal then, and an answer shared here was read as a whole, before or after the change.
``_state`` is replaced, never mutated; two threads that both see a change each make a token
(one is kept), which only costs a cache miss.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["token"]

_Environ: Any = getattr(os, "_Environ", None)
# (snapshot of os.environ's underlying dict, the token naming it), or None before first use.
_state: tuple[dict[Any, Any], object] | None = None


def token() -> object | None:
    """An object naming the environment's current contents, or None if it cannot be named.

    Equal contents give the same object until the contents change; a token is never reused for
    other contents. Raises AttributeError or AssertionError if CPython's ``os.environ`` is not
    shaped as expected.
    """
    global _state
    env: Any = os.environ
    if _Environ is None or type(env) is not _Environ:
        if _Environ is None:
            raise AttributeError("os has no _Environ")
        return None  # replaced by the user: nothing to fingerprint
    data = env._data
    state = _state
    if state is not None and state[0] == data:
        return state[1]
    assert type(data) is dict, "os.environ._data is not a dict"
    fresh = (dict(data), object())
    _state = fresh
    return fresh[1]
