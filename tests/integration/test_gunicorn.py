"""gunicorn, for real: ``docs/recipes/gunicorn_app.py`` served on 127.0.0.1 by 2 workers.

The test makes the listening socket (so the port is its own) and hands it to gunicorn as
``fd://N``. Eight client threads PUT then GET 48 distinct keys; every response must be a
success and every body must read back as written. The workers' pool calls are observed from
inside them (``worker_site/``): each worker process made one session and one S3 client per
thread that served a request, and resolved credentials once, which moto's server confirms by
counting exactly one AssumeRole per worker.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.integration import _support
from tests.integration.conftest import FrameworkEnv
from tests.support.servers import MotoServer
from tests.support.waits import wait_until

pytest.importorskip("gunicorn")

WORKERS = 2
KEYS = 48


@contextmanager
def gunicorn(env: FrameworkEnv, *options: str) -> Iterator[tuple[int, Path]]:
    """Serve the recipe; yield (port, log file); stop gracefully and require exit code 0."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    listener.set_inheritable(True)
    port = listener.getsockname()[1]
    log = env.dir / "gunicorn.log"
    cmd = [
        sys.executable, "-m", "gunicorn", *options, "--workers", str(WORKERS),
        "--bind", f"fd://{listener.fileno()}", "--chdir", str(_support.RECIPES),
        "--graceful-timeout", "30", "gunicorn_app:app",
    ]  # fmt: skip
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            cmd,
            env={**env.vars, "BUCKET": env.bucket},
            pass_fds=(listener.fileno(),),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    listener.close()  # gunicorn holds it now
    try:
        wait_until(
            lambda: proc.poll() is not None or len(booted(log)) >= WORKERS,
            timeout=120,
            what=f"gunicorn to boot {WORKERS} workers",
        )
        assert proc.poll() is None, f"gunicorn exited early:\n{log.read_text()[-3000:]}"
        yield port, log
    finally:
        code = _support.stop(proc, signal.SIGTERM)
    assert code == 0, f"gunicorn exited with {code}:\n{log.read_text()[-3000:]}"


def booted(log: Path) -> list[int]:
    return [int(p) for p in re.findall(r"Booting worker with pid: (\d+)", log.read_text())]


def round_trip(port: int, key: str) -> tuple[int, int, bytes, bytes]:
    body = f"body of {key}".encode()
    statuses = []
    for method, payload in (("PUT", body), ("GET", None)):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            conn.request(method, f"/{key}", body=payload)
            response = conn.getresponse()
            statuses.append(response.status)
            got = response.read()
        finally:
            conn.close()
    return statuses[0], statuses[1], body, got


def serve_keys(port: int) -> None:
    keys = [f"gunicorn/{i:03d}" for i in range(KEYS)]
    with ThreadPoolExecutor(8) as clients:
        results = list(clients.map(lambda key: round_trip(port, key), keys))
    errors = [(k, r[:2]) for k, r in zip(keys, results) if r[:2] != (201, 200)]
    assert errors == []
    assert [r[3] for r in results] == [r[2] for r in results]


def check_counts(
    env: FrameworkEnv, moto: MotoServer, assume_roles_before: int, log: Path
) -> dict[int, _support.Worker]:
    workers = _support.observed_workers(env.dir)
    assert set(workers) <= set(booted(log))  # only gunicorn's workers called the pool
    _support.assert_a_session_per_thread(workers, test_pid=os.getpid())
    assert moto.log.count("AssumeRole") - assume_roles_before == len(workers)
    return workers


@pytest.mark.parametrize(
    "options",
    [
        pytest.param(("--worker-class", "sync"), id="sync"),
        pytest.param(("--worker-class", "gthread", "--threads", "4"), id="gthread"),
    ],
)
def test_preloaded_app_gets_a_session_per_worker_thread(
    options: tuple[str, ...], framework_env: FrameworkEnv, moto: MotoServer
) -> None:
    before = moto.log.count("AssumeRole")
    with gunicorn(framework_env, "--preload", *options) as (port, log):
        serve_keys(port)
    workers = check_counts(framework_env, moto, before, log)
    # --preload: the master made the pool and forked the workers, which each saw one fork.
    assert all(w.stats["forks_seen"] == 1 for w in workers.values())
    if options[1] == "sync":
        assert all(len(w.threads) == 1 for w in workers.values())


def test_gevent_workers_share_one_session_per_os_thread(
    framework_env: FrameworkEnv, moto: MotoServer
) -> None:
    before = moto.log.count("AssumeRole")
    # No --preload: gevent must patch the standard library before boto3 is imported (HAZARDS G1).
    with gunicorn(framework_env, "--worker-class", "gevent", "--worker-connections", "64") as (
        port,
        log,
    ):
        serve_keys(port)
    workers = _support.observed_workers(framework_env.dir)
    assert workers and set(workers) <= set(booted(log))
    text = _support.describe(workers.values())
    for w in workers.values():
        assert len(w.pools) == 1, text
        assert w.stats["credential_resolutions"] == 1, text
    assert moto.log.count("AssumeRole") - before == len(workers)
    # Greenlets of one OS thread share that thread's session and client (HAZARDS G1).
    for w in workers.values():
        assert w.stats["sessions_created"] <= len(w.native_threads), text
        assert w.stats["clients_created"] <= len(w.native_threads), text
