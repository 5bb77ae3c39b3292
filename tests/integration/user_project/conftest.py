"""The project's fixtures: dummy credentials, moto as a fixture, moto servers on free ports."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import app
import pytest
from moto import mock_aws
from moto.server import ThreadedMotoServer


@pytest.fixture(scope="session", autouse=True)
def aws_credentials() -> Iterator[None]:
    """Dummy credentials and a region for the whole session, so no test can find real ones."""
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("AWS_PROFILE", raising=False)
        mp.delenv("AWS_ENDPOINT_URL", raising=False)
        mp.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        mp.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
        mp.setenv("AWS_DEFAULT_REGION", "us-east-1")
        mp.setenv("AWS_MAX_ATTEMPTS", "1")  # a failed request fails the test now, not in 15 s
        yield


@pytest.fixture
def aws() -> Iterator[None]:
    """moto as a fixture: the test's AWS calls are answered in this process."""
    with mock_aws():
        yield


@pytest.fixture
def bucket_name() -> str:
    return f"reports-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def moto_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A moto server of this test's own, on a port the OS picks; AWS_ENDPOINT_URL points at it."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    yield url
    server.stop()


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def shared_server() -> Iterator[str]:
    """A moto server for the whole session, in a process of its own: an in-process server shares
    moto's state with ``mock_aws``, which empties it whenever a mock starts or stops."""
    for _attempt in range(5):
        port = _free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while proc.poll() is None and not _accepts(port) and time.monotonic() < deadline:
            time.sleep(0.1)  # polling for the server to listen
        if proc.poll() is None and _accepts(port):
            break
        proc.kill()  # the port was taken meanwhile, or the server never came up: another port
        proc.wait()
    else:
        pytest.fail("no moto server would start")
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(30)


@pytest.fixture(scope="session")
def seeded_bucket(shared_server: str) -> str:
    """A bucket holding ``seed.txt``, made once per session through the application's pool."""
    s3 = app.pool.client("s3", endpoint_url=shared_server)
    name = f"seeded-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="seed.txt", Body=b"seed")
    return name


@pytest.fixture
def shared_moto(shared_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The session's moto server, for this test: AWS_ENDPOINT_URL points at it."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", shared_server)
    return shared_server
