"""Who owns a session: an OS thread (greenlets of a thread share it), a greenlet, or a scope
function of the user's (``SessionPool(scopefunc=...)``, after SQLAlchemy's ``scopefunc``).

The pool keeps each owner's slot in an object with ``threading.local``'s interface, made here:

* ``"thread"`` (the default): one slot per OS thread. Under gevent's or eventlet's monkey
  patching, ``threading.local`` is per greenlet (500 greenlets made 501 sessions, HAZARDS G1), so
  the original, unpatched ``_thread._local`` is used: the greenlets of one OS thread run one at a
  time and switch only on I/O, and share that thread's sessions and clients.
* ``"greenlet"``: one slot per greenlet (gevent's or eventlet's local, as patched); per thread
  where nothing is patched.
* a callable returning a hashable owner id (a request id, a task id): one slot per id. Nothing
  ends such an owner for us: call :meth:`SessionPool.release` when it is done.

The choice is made again whenever the pool's per-process state is (construction, fork, close),
so a pool created before ``monkey.patch_all()`` (gunicorn ``--preload`` with gevent workers)
still gets per-OS-thread slots in the patched worker.
"""

from __future__ import annotations

import importlib
import logging
import sys
import threading
from collections.abc import Callable, Hashable
from typing import Any

from ._errors import InvalidArgumentError

__all__ = ["OwnerLocal", "ScopeFunc", "check_scopefunc", "new_local"]

log = logging.getLogger("sessionpool")

ScopeFunc = str | Callable[[], Hashable]


def check_scopefunc(scopefunc: object) -> ScopeFunc:
    if scopefunc == "thread" or scopefunc == "greenlet":
        return str(scopefunc)
    if callable(scopefunc):
        return scopefunc
    raise InvalidArgumentError(
        f"scopefunc must be 'thread', 'greenlet' or a callable returning a hashable owner id, "
        f"not {scopefunc!r}."
    )


def _os_thread_local() -> Any:
    """``_thread._local`` as it was before any monkey patching."""
    gevent_monkey: Any = sys.modules.get("gevent.monkey")
    if gevent_monkey is not None:
        try:
            if gevent_monkey.is_module_patched("threading"):
                return gevent_monkey.get_original("_thread", "_local")
        except Exception:  # noqa: BLE001 - an unknown gevent: try the others
            log.debug("cannot ask gevent for the unpatched thread-local", exc_info=True)
    patcher: Any = sys.modules.get("eventlet.patcher")
    if patcher is not None:
        try:
            if patcher.is_monkey_patched("thread"):
                return getattr(patcher.original("_thread"), "_local")  # noqa: B009
        except Exception:  # noqa: BLE001 - an unknown eventlet
            log.debug("cannot ask eventlet for the unpatched thread-local", exc_info=True)
    return threading.local


def _greenlet_local() -> Any:
    if "gevent" in sys.modules:
        return importlib.import_module("gevent.local").local
    return threading.local  # eventlet patches it to be per greenthread; else per thread


class OwnerLocal:
    """``threading.local``'s interface, keyed by a scope function's owner id."""

    __slots__ = ("_by_owner", "_owner")

    def __init__(self, owner: Callable[[], Hashable]) -> None:
        object.__setattr__(self, "_owner", owner)
        object.__setattr__(self, "_by_owner", {})

    # The owner id is looked up as it is; only when that fails with TypeError is it examined,
    # so a good scope function costs what it did. The scope function is called outside the
    # try: a TypeError of its own stays the user's.

    def __getattr__(self, name: str) -> Any:
        owner = self._owner()
        try:
            return self._by_owner[owner][name]
        except KeyError:
            raise AttributeError(name) from None
        except TypeError:
            raise self._unhashable(owner) from None

    def __setattr__(self, name: str, value: Any) -> None:
        owner = self._owner()
        try:
            values = self._by_owner.setdefault(owner, {})
        except TypeError:
            raise self._unhashable(owner) from None
        values[name] = value

    def release(self) -> None:
        """Forget the current owner's values (its slot, whose clients close when it goes)."""
        owner = self._owner()
        try:
            self._by_owner.pop(owner, None)
        except TypeError:
            raise self._unhashable(owner) from None

    def _unhashable(self, owner: object) -> InvalidArgumentError:
        return InvalidArgumentError(
            f"scopefunc must return a hashable owner id (a str, an int, a tuple of those), but "
            f"{self._owner!r} returned a {type(owner).__name__}, which is not hashable."
        )


def new_local(scopefunc: ScopeFunc) -> Any:
    """A fresh per-owner store for ``scopefunc``."""
    if scopefunc == "thread":
        return _os_thread_local()()
    if scopefunc == "greenlet":
        return _greenlet_local()()
    assert callable(scopefunc)
    return OwnerLocal(scopefunc)
