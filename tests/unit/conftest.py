"""Unit tests run with no server: ``aws_env`` is the same isolated AWS environment as
elsewhere, but ``AWS_ENDPOINT_URL`` names a loopback port of the test's that refuses
connections, so a request fails at once instead of being answered; asking for moto's server
is an error here. A test that needs an answer belongs in ``tests/behaviour``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

import sessionpool
from tests.support.aws import isolate_aws_env


@dataclass(frozen=True)
class NoServer:
    """What ``aws_env`` returns here: the endpoint requests would go to, where none is served."""

    url: str


@pytest.fixture(scope="session")
def moto_server() -> None:
    pytest.fail("tests/unit runs without a server: a test that needs one is a behaviour test")


@pytest.fixture
def aws_env(
    monkeypatch: pytest.MonkeyPatch, aws_files: tuple[Path, Path], refused_port: int
) -> NoServer:
    """An isolated AWS environment whose endpoint refuses connections."""
    config, credentials = aws_files
    endpoint = NoServer(f"http://127.0.0.1:{refused_port}")
    isolate_aws_env(monkeypatch, config, credentials, endpoint.url)
    sessionpool.set_default_pool(None)  # as the shared aws_env: no pool from another test
    return endpoint
