"""Every lock the package owns survives a fork (HAZARDS F2, F7).

A lock held by another thread at the moment of a fork stays held, forever, in the child: that
thread does not exist there. The test enumerates every lock reachable from sessionpool's modules
(module globals, and, once a pool has been used, every lock inside pools, credential cells,
shared credentials and loaders), holds each one in another thread, forks, and requires the child
to make and use clients (a pool inherited from the parent, the default pool and a new pool)
within an alarm. Two rounds, each in a fresh interpreter: *cold* (nothing built yet, so the child
builds everything itself while the lock is held, where 2 children in 20 deadlocked before the
fix) and *warm*.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

pytestmark = [
    pytest.mark.compat,  # in the matrix's floor cell too (tasks.py matrix)
    pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork"),
]

FORK_WHILE_HELD = r"""
import os, signal, sys, threading


def fork_while_held(lock, child_work):
    # A thread holds the lock, as a parent thread may at the moment of a fork; the child runs
    # child_work under an alarm. Returns the child's exit status (-14: stuck on a lock).
    ready, done = threading.Event(), threading.Event()

    def holder():
        lock.acquire()
        ready.set()
        done.wait()
        lock.release()

    t = threading.Thread(target=holder)
    t.start()
    ready.wait()
    pid = os.fork()
    if pid == 0:
        signal.alarm(30)  # a child stuck on a lock dies of SIGALRM: exit status -14
        try:
            child_work()
        except BaseException as exc:
            sys.stderr.write(f"child failed: {type(exc).__name__}: {exc}\n")
            os._exit(1)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    done.set()
    t.join()
    return os.waitstatus_to_exitcode(status)
"""

SCRIPT = r"""
import importlib, json, os, pkgutil, sys, threading, weakref
warnings_off = __import__("warnings").filterwarnings("ignore", category=DeprecationWarning)
mode = sys.argv[1]
import sessionpool
from sessionpool import SessionPool, _fork

LOCKS = (type(threading.Lock()), type(threading.RLock()), _fork.Lock)


def modules():
    for info in pkgutil.walk_packages(sessionpool.__path__, "sessionpool."):
        if ".cli" not in info.name:
            yield importlib.import_module(info.name)


def enumerate_locks():
    found, seen = {}, set()

    def visit(obj, path, depth):
        if isinstance(obj, LOCKS):
            rank = ("[" in path, len(path))  # a module global's own name names it best
            if id(obj) not in found or rank < ("[" in found[id(obj)][0], len(found[id(obj)][0])):
                found[id(obj)] = (path, obj)
            return
        if depth > 6 or id(obj) in seen:
            return
        seen.add(id(obj))
        if isinstance(obj, (dict, weakref.WeakValueDictionary)):
            items = [(f"{path}[{i}]", v) for i, v in enumerate(list(obj.values()))]
        elif isinstance(obj, (list, tuple, set, frozenset, weakref.WeakSet)):
            items = [(f"{path}[{i}]", v) for i, v in enumerate(list(obj))]
        elif type(obj).__module__.startswith("sessionpool") and not isinstance(obj, type):
            names = list(getattr(obj, "__dict__", {}))
            for cls in type(obj).__mro__:
                names += [n for n in getattr(cls, "__slots__", ()) if n != "__weakref__"]
            items = [(f"{path}.{n}", getattr(obj, n, None)) for n in names]
        else:
            return
        for p, v in items:
            visit(v, p, depth + 1)

    for module in modules():
        if module.__name__ == "sessionpool._locks":
            continue  # its registry holds every lock: name them by their owners instead
        for name, value in list(vars(module).items()):
            if not isinstance(value, type) and not callable(value) or isinstance(value, LOCKS):
                visit(value, f"{module.__name__}.{name}", 0)
    return sorted(found.values(), key=lambda item: item[0])


def child_work():
    if pool is not None:
        pool.client("s3").list_buckets()
    sessionpool.client("sqs").list_queues()
    with SessionPool() as fresh:
        fresh.client("dynamodb").list_tables()
        fresh.get_session(profile="prod").client("s3").list_buckets()


pool = None
if mode == "warm":
    pool = SessionPool()
    pool.client("s3").list_buckets()
    pool.get_session(profile="prod").client("sqs").list_queues()
    sessionpool.client("s3").list_buckets()

results = {path: fork_while_held(lock, child_work) for path, lock in enumerate_locks()}
print(json.dumps(results))
"""

# Locks that must be found (so the enumeration cannot pass by finding nothing).
COLD = {
    "sessionpool._default._default_lock",
    "sessionpool._botocore.sessions._lock",
    "sessionpool._botocore.loader._loaders_lock",
    "sessionpool._botocore.guard._lock",
    "sessionpool._received._lock",
    "sessionpool._pool._reset_lock",
}
WARM_SUFFIXES = ("._lock", ".credentials._lock", "._state", "._load_lock")


def run(script: str, arg: str) -> dict[str, int]:
    """Run ``script`` (after ``fork_while_held``) with ``arg`` in a fresh interpreter; its last
    line of output, as JSON."""
    done = subprocess.run(
        [sys.executable, "-c", FORK_WHILE_HELD + script, arg],
        capture_output=True,
        text=True,
        timeout=600,
        env=dict(os.environ),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results: dict[str, int] = json.loads(done.stdout.strip().splitlines()[-1])
    return results


def test_a_child_forked_while_any_module_lock_is_held_builds_and_uses_clients(
    aws_env: Any,
) -> None:
    results = run(SCRIPT, "cold")
    assert COLD <= set(results), sorted(results)
    stuck = {path: code for path, code in results.items() if code != 0}
    assert not stuck, f"children forked while these locks were held failed: {stuck}"


def test_a_child_forked_while_any_lock_of_a_used_pool_is_held_uses_clients(
    aws_env: Any,
) -> None:
    results = run(SCRIPT, "warm")
    for suffix in WARM_SUFFIXES:
        assert any(path.endswith(suffix) for path in results if "[" in path), (suffix, results)
    stuck = {path: code for path, code in results.items() if code != 0}
    assert not stuck, f"children forked while these locks were held failed: {stuck}"


INHERITED = r"""
import gc, json, sys
__import__("warnings").filterwarnings("ignore", category=DeprecationWarning)
from sessionpool import SessionPool

case = sys.argv[1]
pool = SessionPool()
if case == "pooled":  # the child's only reference is the pool's
    held = None
    client = pool.client("s3")
elif case == "retired":  # the user holds a client of a session the pool has let go
    session = pool.get_session()
    pool.clear()
    held = client = session.client("s3")
else:  # "evicted": the user holds a client the pool had cached, then let go
    held = client = pool.client("s3")
    pool.clear()
client.list_buckets()  # a connection pool with a connection in its queue
manager = client._endpoint.http_session._manager
connections = next(iter(manager.pools._container.values()))
locks = {"queue": connections.pool.mutex, "pool manager": manager.pools.lock}
del client, connections, manager



def child_work():
    global held
    pool.client("s3").list_buckets()  # the reset drops the pool's inherited clients
    if held is not None:  # the user closes theirs (under the pool manager's lock)
        held.close()
    held = None  # and lets go of it
    gc.collect()  # urllib3 closes an inherited connection pool when it is freed


# A parent thread inside urllib3 at the moment of the fork holds one of these.
results = {name: fork_while_held(lock, child_work) for name, lock in locks.items()}
print(json.dumps(results))
"""


@pytest.mark.parametrize("case", ["pooled", "retired", "evicted"])
def test_a_child_frees_inherited_clients_whose_connection_locks_a_parent_thread_held(
    aws_env: Any, case: str
) -> None:
    # urllib3 closes a freed connection pool's connections under its queue's lock (HAZARDS F8):
    # the pool's own clients, a retired session's and an evicted one the user still holds.
    assert run(INHERITED, case) == {"queue": 0, "pool manager": 0}
