"""A pytest plugin that makes boto3 hand out pooled sessions: boto3's own suite against the pool.

``run.py`` loads it with ``-p sessionpool_boto3_suite`` (this directory on ``PYTHONPATH``) into
both of its runs of boto3's unit and functional tests. What it does depends on
``SESSIONPOOL_BOTO3_SUITE``:

* ``pooled``: at load time, before boto3's test modules are imported (they bind
  ``from boto3.session import Session`` at import), ``boto3.session.Session`` and ``boto3.Session``
  are replaced by :class:`PooledSessionFactory`. Calling it hands out
  ``POOL.get_session(**arguments)``: this thread's :class:`sessionpool.PooledSession` for the key
  the arguments name (profile, region, explicit keys, ``aws_account_id``), from one
  ``SessionPool`` with no defaults, so that the call takes what a plain ``Session()`` would (the
  environment's profile and region). ``boto3.setup_default_session()``, and so
  ``boto3.DEFAULT_SESSION``, ``boto3.client()`` and ``boto3.resource()``, go through the same
  name and are pooled too. Two cases stay plain, because a pool cannot honour them: a
  ``botocore_session=`` argument (a session built on the caller's botocore session), and
  subclasses of ``Session`` defined by the code under test (their methods must run on their
  class). ``isinstance(x, boto3.session.Session)`` keeps its meaning for both kinds.
  sessionpool's own plugin (entry point ``sessionpool``) clears the pool around each test, so
  each test starts from new sessions, as each test of plain boto3 does.
* ``plain``: nothing is replaced.

In both modes every test records, as junit properties, how many sessions it asked for that the
pool answered (``pooled_sessions``) and that were built plainly (``plain_sessions``); in plain
mode both stay 0 (nothing is counted there), in pooled mode they show which tests exercised the
pool at all. Both modes refuse connections to anything but loopback (``NetworkGuard``) and
record the refusals (``refused_connections``): boto3's unit and functional tests need no
network, and a request a pooled session sent towards AWS shows in the summary.
"""

from __future__ import annotations

import inspect
import ipaddress
import os
import socket
import threading
from collections.abc import Generator
from typing import Any

import boto3
import boto3.session
import pytest

__all__ = [
    "MODE_VARIABLE",
    "NetworkGuard",
    "PooledSessionFactory",
    "install",
    "pytest_configure",
    "pytest_runtest_call",
    "pytest_runtest_setup",
    "uninstall",
]

MODE_VARIABLE = "SESSIONPOOL_BOTO3_SUITE"
ORIGINAL = boto3.session.Session
_SIGNATURE = inspect.signature(ORIGINAL)


class _Counts:
    """Sessions asked for, and connections refused, in any thread, since the current test's
    setup started."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.pooled = 0
        self.plain = 0
        self.refused = 0

    def add(self, kind: str) -> None:
        with self._lock:
            setattr(self, kind, getattr(self, kind) + 1)

    def reset(self) -> None:
        with self._lock:
            self.pooled = self.plain = self.refused = 0


COUNTS = _Counts()
POOL: Any = None  # the SessionPool, made by install()


class _Redirect(type):
    """The metaclass of :class:`PooledSessionFactory`: calling the class hands out a pooled
    session; ``isinstance``/``issubclass`` answer as for boto3's own ``Session``."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        if cls is not PooledSessionFactory or POOL is None:
            # A subclass the code under test defined: built as boto3 builds it.
            COUNTS.add("plain")
            return super().__call__(*args, **kwargs)
        arguments = _SIGNATURE.bind(*args, **kwargs).arguments
        if arguments.get("botocore_session") is not None:
            COUNTS.add("plain")
            return ORIGINAL(*args, **kwargs)
        COUNTS.add("pooled")
        key_args = {name: value for name, value in arguments.items() if value is not None}
        return POOL.get_session(**key_args)

    def __instancecheck__(cls, instance: object) -> bool:
        return isinstance(instance, ORIGINAL)

    def __subclasscheck__(cls, subclass: type) -> bool:
        return issubclass(subclass, ORIGINAL)


class PooledSessionFactory(ORIGINAL, metaclass=_Redirect):  # type: ignore[misc]
    """Stands in for ``boto3.session.Session``: calling it returns a pooled session.

    Parameters:
        *args, **kwargs: ``boto3.session.Session``'s arguments, in its order.
    """


def install() -> None:
    """Make ``boto3.Session`` and ``boto3.session.Session`` hand out pooled sessions."""
    global POOL
    import sessionpool  # imported here: plain mode never imports it

    if POOL is None:
        POOL = sessionpool.SessionPool()
    boto3.session.Session = PooledSessionFactory  # type: ignore[misc]
    boto3.Session = PooledSessionFactory  # type: ignore[misc]


def uninstall() -> None:
    """Put boto3's own ``Session`` back and close the pool."""
    global POOL
    boto3.session.Session = ORIGINAL  # type: ignore[misc]
    boto3.Session = ORIGINAL  # type: ignore[misc]
    if POOL is not None:
        POOL.close()
        POOL = None


class NetworkGuard:
    """Refuses ``socket.connect`` to any address but loopback (and Unix sockets), and counts
    the refusals in ``COUNTS.refused`` (botocore turns the error into its own and may retry it,
    so a test could still pass: the count is what the summary reports)."""

    def __init__(self) -> None:
        self._connect = socket.socket.connect
        self._connect_ex = socket.socket.connect_ex

    @staticmethod
    def _check(address: Any) -> None:
        if not isinstance(address, tuple):
            return  # a Unix socket path
        host = address[0]
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if not loopback:
            COUNTS.add("refused")
            raise ConnectionRefusedError(f"boto3 suite harness: no connection off loopback: {host}")

    def start(self) -> None:
        """Guard every socket from now on."""
        connect, connect_ex, check = self._connect, self._connect_ex, self._check

        def guarded_connect(sock: socket.socket, address: Any) -> None:
            check(address)
            connect(sock, address)

        def guarded_connect_ex(sock: socket.socket, address: Any) -> int:
            check(address)
            return connect_ex(sock, address)

        socket.socket.connect = guarded_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = guarded_connect_ex  # type: ignore[method-assign]

    def stop(self) -> None:
        """Put the real ``connect`` back."""
        socket.socket.connect = self._connect  # type: ignore[method-assign]
        socket.socket.connect_ex = self._connect_ex  # type: ignore[method-assign]


def pytest_configure(config: pytest.Config) -> None:
    """Start the guard, and in pooled mode redirect ``Session`` before test modules import it.

    Parameters:
        config: pytest's configuration.
    """
    mode = os.environ.get(MODE_VARIABLE, "")
    if mode not in ("pooled", "plain"):
        raise pytest.UsageError(f"set {MODE_VARIABLE} to 'pooled' or 'plain', not {mode!r}")
    NetworkGuard().start()
    if mode == "pooled":
        install()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Start counting the sessions this test asks for (its fixtures' included).

    Parameters:
        item: the test about to be set up.
    """
    COUNTS.reset()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, Any]:
    """Record the sessions the test asked for (setup and call) as junit properties.

    Parameters:
        item: the test being run.
    """
    try:
        return (yield)
    finally:
        item.user_properties.append(("pooled_sessions", COUNTS.pooled))
        item.user_properties.append(("plain_sessions", COUNTS.plain))
        item.user_properties.append(("refused_connections", COUNTS.refused))
