"""Helpers for the integration tests: processes, ports and what the workers observed.

Nothing here sleeps to synchronise: processes are judged by their exit codes, and waits poll a
condition until a deadline (``wait_until`` in ``tests/support/waits.py``, shared by every suite).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
RECIPES = REPO / "docs" / "recipes"
WORKER_SITE = Path(__file__).resolve().parent / "worker_site"
MARKER = "SESSIONPOOL_IT_DIR"  # names a test's directory in every process it starts
# The web framework recipes: each is served whole by its own integration test (test_fastapi.py,
# test_flask.py; test_django.py serves the project in django_app/, which no glob of *.py meets),
# so the docs test (tests/docs/test_examples.py) has no driver for them. Every other recipe file
# also runs there, called by a driver against moto's server.
SERVED_RECIPES = frozenset(
    {
        "docs/recipes/fastapi_app.py",
        "docs/recipes/fastapi_pitfalls.py",
        "docs/recipes/flask_app.py",
        "docs/recipes/flask_pitfalls.py",
    }
)


def port_accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def free_port() -> int:
    """A port free on 127.0.0.1 now (callers that cannot take a socket retry on a bind error)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop(proc: subprocess.Popen[Any], sig: int = signal.SIGTERM, timeout: float = 60) -> int:
    """Send ``sig`` and wait for the exit code; kill (and report -9) if it does not exit in time."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return -signal.SIGKILL
    return proc.returncode


def processes_marked(directory: Path) -> list[int]:
    """Live processes (but this one) started with ``MARKER=directory`` in their environment."""
    wanted = f"{MARKER}={directory}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue  # gone, or not ours to read
        if wanted in environ:
            found.append(int(entry.name))
    return found


@dataclass
class Worker:
    """What one worker process's pool calls showed: its threads, pools and final counts."""

    pid: int
    threads: set[int] = field(default_factory=set)
    native_threads: set[int] = field(default_factory=set)
    pools: set[int] = field(default_factory=set)
    calls: int = 0
    seq: int = -1
    stats: dict[str, int] = field(default_factory=dict)


def observed_workers(directory: Path) -> dict[int, Worker]:
    """Every process that called ``pool.client``/``resource`` under the observer, by pid."""
    workers: dict[int, Worker] = {}
    for path in sorted(directory.glob("calls-*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            w = workers.setdefault(record["pid"], Worker(record["pid"]))
            w.threads.add(record["thread"])
            w.native_threads.add(record["native_thread"])
            w.pools.add(record["pool"])
            w.calls += 1
            if record["seq"] > w.seq:  # the latest snapshot holds the process's final counts
                w.seq, w.stats = record["seq"], record["stats"]
    return workers


def violations(directory: Path) -> list[str]:
    return [
        line
        for path in sorted(directory.glob("violations-*.txt"))
        for line in path.read_text(encoding="utf-8").splitlines()
    ]


def describe(workers: Iterable[Worker]) -> str:
    keep = ("sessions_created", "clients_created", "credential_resolutions", "forks_seen")
    return "; ".join(
        f"pid {w.pid}: {len(w.threads)} threads ({len(w.native_threads)} OS), "
        f"{len(w.pools)} pools, {w.calls} calls, "
        + ", ".join(f"{k}={w.stats.get(k)}" for k in keep)
        for w in workers
    )


def assert_a_session_per_thread(workers: dict[int, Worker], *, test_pid: int) -> None:
    """Each worker process: one pool, a session and an S3 client per thread that did work, and
    one credential resolution (one key)."""
    assert workers, "no worker process called the pool (is the observer installed?)"
    assert test_pid not in workers
    text = describe(workers.values())
    print(text)  # shown with -rP: the counts behind the assertions
    for w in workers.values():
        assert len(w.pools) == 1, text
        assert w.stats["sessions_created"] == len(w.threads), text
        assert w.stats["clients_created"] == len(w.threads), text
        assert w.stats["credential_resolutions"] == 1, text
