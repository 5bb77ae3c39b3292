"""Fixtures for every suite under ``tests/``: a moto server on loopback, an isolated AWS
environment per test, the close log, and the scan of every test's log records for secrets.

Every test that asks for ``aws_env`` (or ``pool``) gets its own config and credentials files,
dummy keys, IMDS disabled and ``AWS_ENDPOINT_URL`` pointing at the moto server, so nothing
reaches any address but 127.0.0.1. The server is per xdist worker (its port is picked by the
OS); its requests are counted by action, which is how tests assert exact STS call counts across
threads and processes. ``aws_env_apart`` is the same with moto in a process of its own, for the
tests that scan this process's memory for secrets. ``tests/unit`` gives ``aws_env`` no server at
all (its conftest).

The helpers these fixtures are made of live in ``tests/support``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import sessionpool
from tests.support.aws import CONFIG, CREDENTIALS, KNOWN_SECRETS, isolate_aws_env
from tests.support.clock import FakeClock
from tests.support.logs import WIRE_LOGGERS, SecretScan
from tests.support.servers import MotoProcess, MotoServer, moto_process
from tests.support.servers import refused_port as _refused_port
from tests.support.tags import CloseLog, install_close_log


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """moto's server in this process, one per xdist worker, its requests counted."""
    server = MotoServer()
    yield server
    server.stop()


@pytest.fixture
def aws_files(tmp_path: Path) -> tuple[Path, Path]:
    """This test's AWS config and credentials files (profiles default, prod, dev and role)."""
    config = tmp_path / "config"
    config.write_text(CONFIG)
    credentials = tmp_path / "credentials"
    credentials.write_text(CREDENTIALS)
    return config, credentials


@pytest.fixture
def aws_env(
    monkeypatch: pytest.MonkeyPatch, aws_files: tuple[Path, Path], moto_server: MotoServer
) -> MotoServer:
    """An isolated AWS environment pointed at the moto server; returns the server."""
    config, credentials = aws_files
    isolate_aws_env(monkeypatch, config, credentials, moto_server.url)
    # A shared default pool from another test must not leak into this one.
    sessionpool.set_default_pool(None)
    return moto_server


@pytest.fixture
def aws_env_apart(
    monkeypatch: pytest.MonkeyPatch, aws_files: tuple[Path, Path]
) -> Iterator[MotoProcess]:
    """As ``aws_env``, but moto runs in a process of its own: for tests that scan this
    process's memory for secrets. moto in this process still holds the last request it
    answered (its headers, with the session token) for a moment after the answer reaches
    the client, and a scan would find that copy, which is the server's, not the pool's."""
    config, credentials = aws_files
    with moto_process() as server:
        isolate_aws_env(monkeypatch, config, credentials, server.url)
        sessionpool.set_default_pool(None)
        yield server


@pytest.fixture
def pool(aws_env: object) -> Iterator[sessionpool.SessionPool]:
    """A pool in the test's AWS environment, closed after the test."""
    p = sessionpool.SessionPool()
    yield p
    p.close()


@pytest.fixture
def bucket(pool: sessionpool.SessionPool) -> str:
    """A new S3 bucket on the moto server."""
    name = f"b-{uuid.uuid4().hex[:20]}"
    pool.client("s3").create_bucket(Bucket=name)
    return name


@pytest.fixture
def refused_port() -> Iterator[int]:
    """A loopback port of this test's that refuses connections (bound, never listening)."""
    with _refused_port() as port:
        yield port


@pytest.fixture
def close_log(monkeypatch: pytest.MonkeyPatch) -> CloseLog:
    """Counts every ``BaseClient.close`` during the test, per client."""
    return install_close_log(monkeypatch)


@pytest.fixture
def clock() -> FakeClock:
    """A clock only the test moves, for pools made with ``clock=``."""
    return FakeClock()


@pytest.fixture
def bounded(aws_env: object, clock: FakeClock) -> Iterator[Callable[..., sessionpool.SessionPool]]:
    """Makes pools on the test's clock (``bounded(max_keys=2)``), all closed after the test."""
    pools: list[sessionpool.SessionPool] = []

    def make(**kwargs: Any) -> sessionpool.SessionPool:
        pool = sessionpool.SessionPool(clock=clock, **kwargs)
        pools.append(pool)
        return pool

    yield make
    for pool in pools:
        pool.close()


@pytest.fixture
def secrets_to_scan() -> set[str]:
    """Add any secret or token a test invents, so the log scan looks for it too."""
    return set(KNOWN_SECRETS)


@pytest.fixture(autouse=True)
def _debug_logs_hold_no_secrets(secrets_to_scan: set[str]) -> Iterator[None]:
    root = logging.getLogger()
    scan = SecretScan(secrets_to_scan)
    saved = {name: logging.getLogger(name).level for name in ("", "sessionpool", *WIRE_LOGGERS)}
    root.addHandler(scan)
    root.setLevel(logging.DEBUG)
    logging.getLogger("sessionpool").setLevel(logging.DEBUG)
    for name in WIRE_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO)
    try:
        yield
    finally:
        root.removeHandler(scan)
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)
    assert not scan.leaks, f"a secret reached the logs via {sorted(set(scan.leaks))}"
