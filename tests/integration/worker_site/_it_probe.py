"""The integration tests' eyes inside framework processes: a loopback guard and a pool observer.

* The guard is an audit hook (``sys.addaudithook``) that refuses any ``socket.connect`` or
  ``socket.sendto`` to an address outside 127.0.0.0/8 and ::1, and any ``socket.getaddrinfo`` of a
  name other than localhost (a DNS query leaves the machine too; an address needs no lookup and
  is checked when connected to). A refusal raises in the caller *and* is written to
  ``violations-PID.txt`` in the test's directory, so a framework that swallows the error still
  fails the test. The few probes a framework makes on its own (``EXPECTED_PROBES``) are refused
  all the same but written to ``expected-probes-PID.txt`` instead.
* The observer wraps ``SessionPool.client`` and ``SessionPool.resource`` once ``sessionpool`` is
  imported (lazily: importing boto3 early would change what gevent and moto see). After every
  call it appends one JSON line to ``calls-PID.jsonl``: the pid, the calling thread
  (``threading.get_ident()``, which gevent makes per greenlet, and the OS thread's native id), the
  pool object's id, a per-process sequence number and ``pool.stats()``, taken together under one
  lock so the record with the highest sequence number holds the process's final counts. The
  call itself is the library's, unchanged.

Only the standard library is imported here, at start-up of every process.
"""

from __future__ import annotations

import functools
import importlib.abc
import ipaddress
import json
import os
import sys
import threading
from typing import Any

__all__ = ["LeftTheMachine", "install", "install_guard", "is_loopback"]

LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}


class LeftTheMachine(RuntimeError):
    """Raised (not an OSError, so no network library retries it) for a non-loopback address."""


def is_loopback(host: object) -> bool:
    """Whether ``host`` (an address or a name, as given to connect or getaddrinfo) stays here."""
    if host is None:
        return True  # getaddrinfo(None, port): the wildcard for binding
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    if host == "" or host.lower() in LOCAL_NAMES:
        return True
    address = _ip(host)
    return address is not None and (address.is_loopback or address.is_unspecified)


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


# Probes that frameworks make on their own and that the guard refuses without failing the test
# (nothing leaves: the refusal happens before any packet). By (module path suffix, host).
EXPECTED_PROBES = {
    # Ray's always-started API server runs UsageStatsHead, which asks the cloud metadata
    # services which cloud it is on before it checks whether usage stats are enabled at all.
    ("ray/_common/usage/usage_lib.py", "169.254.169.254"),
    ("ray/_common/usage/usage_lib.py", "metadata.google.internal"),
}


def _expected_probe(host: str) -> bool:
    frame = sys._getframe(2)
    while frame is not None:
        path = frame.f_code.co_filename.replace(os.sep, "/")
        if any(path.endswith(module) and host == h for module, h in EXPECTED_PROBES):
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


_guard_installed = False


def install_guard(record: Any, expected: Any = None) -> None:
    """Install the audit hook once per process; ``record(text)`` is called for each refusal,
    ``expected(text)`` (if given) instead for a refusal of one of the ``EXPECTED_PROBES``."""
    global _guard_installed
    if _guard_installed:
        return
    _guard_installed = True

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event in ("socket.connect", "socket.sendto"):
            address = args[1]
            if not isinstance(address, tuple):
                return  # AF_UNIX paths and the like: local by construction
            host = address[0]
        elif event == "socket.getaddrinfo":
            host = args[0]
            if isinstance(host, str) and _ip(host) is not None:
                return  # an address, not a name: no lookup; connecting to it is checked
        else:
            return
        if is_loopback(host):
            return
        text = f"{event} {host!r} refused in pid {os.getpid()}"
        if expected is not None and _expected_probe(str(host)):
            expected(text)
        else:
            record(text)
        raise LeftTheMachine(text)

    sys.addaudithook(hook)


class _Observer:
    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.seq = 0
        os.register_at_fork(after_in_child=self._after_fork_in_child)

    def _after_fork_in_child(self) -> None:
        self.__dict__.pop("lock", None)  # another thread may have held it at fork time

    def _lock(self) -> Any:
        # Made on first use, not at start-up: under gevent, threading.Lock is patched by then,
        # so a greenlet that waits for it yields instead of blocking its OS thread.
        return self.__dict__.setdefault("lock", threading.Lock())

    def record(self, pool: Any) -> None:
        with self._lock():
            stats = pool.stats()
            self.seq += 1
            line = {
                "pid": os.getpid(),
                "thread": threading.get_ident(),
                "native_thread": threading.get_native_id(),
                "pool": id(pool),
                "seq": self.seq,
                "stats": stats,
            }
            path = os.path.join(self.directory, f"calls-{os.getpid()}.jsonl")
            with open(path, "a", encoding="utf-8") as f:
                f.write(json.dumps(line) + "\n")

    def wrap(self, cls: Any) -> None:
        for name in ("client", "resource"):
            original = getattr(cls, name)
            if getattr(original, "_it_observed", False):
                continue

            def observed(pool: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
                result = _original(pool, *args, **kwargs)
                self.record(pool)
                return result

            functools.update_wrapper(observed, original)
            observed._it_observed = True  # type: ignore[attr-defined]
            setattr(cls, name, observed)


class _WrapWhenImported(importlib.abc.MetaPathFinder):
    """Lets ``sessionpool`` import normally, then wraps its ``SessionPool`` once it has run."""

    def __init__(self, observer: _Observer) -> None:
        self.observer = observer

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != "sessionpool":
            return None
        spec = None
        for finder in sys.meta_path:
            if finder is not self and hasattr(finder, "find_spec"):
                spec = finder.find_spec(fullname, path, target)
                if spec is not None:
                    break
        if spec is None or spec.loader is None:
            return None
        loader = spec.loader
        run = loader.exec_module

        def exec_module(module: Any) -> None:
            run(module)
            self.observer.wrap(module.SessionPool)

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def install(directory: str) -> None:
    """Guard this process and observe its pools, writing into ``directory``."""

    def writer(name: str) -> Any:
        def write(text: str) -> None:
            path = os.path.join(directory, f"{name}-{os.getpid()}.txt")
            with open(path, "a", encoding="utf-8") as f:
                f.write(text + "\n")

        return write

    install_guard(writer("violations"), writer("expected-probes"))
    observer = _Observer(directory)
    if "sessionpool" in sys.modules:
        observer.wrap(sys.modules["sessionpool"].SessionPool)
    else:
        sys.meta_path.insert(0, _WrapWhenImported(observer))
