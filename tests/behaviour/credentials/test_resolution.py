"""Credentials are resolved once per key per process and shared by every thread's session.

HAZARDS T4 (refreshable credentials are safe to share through ``get_frozen_credentials``),
T5 (per-thread resolution amplifies STS, ``credential_process`` and IMDS traffic) and S4
(credential state keyed by full identity, never by role ARN alone).
"""

from __future__ import annotations

import collections
import datetime
import json
import os
import shlex
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import botocore.credentials
import pytest

from sessionpool import PooledSession, SessionPool
from tests.support.threads import run_together

pytestmark = pytest.mark.compat  # in the matrix's floor cell too (tasks.py matrix)

ROLE_ARN = "arn:aws:iam::123456789012:role/worker"


# -- assume-role through moto's STS ----------------------------------------------------------


@pytest.mark.parametrize("threads", [16, 64])
def test_threads_racing_on_an_assume_role_key_make_one_assume_role_call(
    pool: SessionPool, aws_env: Any, bucket: str, threads: int
) -> None:
    before = aws_env.log.count("AssumeRole")
    resolutions_before = pool.stats()["credential_resolutions"]  # the bucket fixture's key

    def work(i: int) -> PooledSession:
        session = pool.get_session(profile="role")
        session.client("s3").head_bucket(Bucket=bucket)
        return session

    sessions = run_together(threads, work)

    assert aws_env.log.count("AssumeRole") - before == 1
    assert len({id(s) for s in sessions}) == threads  # every thread has its own Session
    shared = sessions[0].get_credentials()
    assert shared is not None
    assert all(s.get_credentials() is shared for s in sessions)
    assert pool.stats()["credential_resolutions"] - resolutions_before == 1


def test_same_role_from_different_source_credentials_is_never_shared(
    pool: SessionPool, aws_env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config-same-role"
    config.write_text(
        "[default]\nregion = us-east-1\n\n"
        f"[profile via-dev]\nrole_arn = {ROLE_ARN}\nsource_profile = dev\n\n"
        f"[profile via-prod]\nrole_arn = {ROLE_ARN}\nsource_profile = prod\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    before = aws_env.log.count("AssumeRole")

    def work(i: int) -> tuple[Any, Any]:
        via_dev = pool.get_session(profile="via-dev").get_credentials()
        via_prod = pool.get_session(profile="via-prod").get_credentials()
        return via_dev, via_prod

    results = run_together(8, work)
    via_dev, via_prod = results[0]

    assert via_dev is not via_prod
    assert all(d is via_dev and p is via_prod for d, p in results)
    dev_frozen = via_dev.get_frozen_credentials()
    prod_frozen = via_prod.get_frozen_credentials()
    assert dev_frozen.access_key != prod_frozen.access_key
    assert aws_env.log.count("AssumeRole") - before == 2


# -- credential_process ----------------------------------------------------------------------

CREDENTIAL_SCRIPT = """\
import datetime, json, os, sys
with open(sys.argv[1], "a") as runs:
    runs.write(f"{os.getpid()}\\n")
expiration = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
print(json.dumps({
    "Version": 1,
    "AccessKeyId": "AKIAPROCESSEXAMPLE01",
    "SecretAccessKey": "process-secret-EXAMPLE-not-real-0000000",
    "SessionToken": "process-token-EXAMPLE-not-real",
    "Expiration": expiration.strftime("%Y-%m-%dT%H:%M:%SZ"),
}))
"""


def test_credential_process_runs_once_for_32_threads(
    pool: SessionPool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = tmp_path / "credential_process.py"
    script.write_text(CREDENTIAL_SCRIPT)
    runs = tmp_path / "runs.txt"
    runs.touch()
    command = " ".join(shlex.quote(str(p)) for p in (sys.executable, script, runs))
    config = tmp_path / "config-process"
    config.write_text(f"[profile proc]\nregion = us-east-1\ncredential_process = {command}\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))

    def work(i: int) -> Any:
        credentials = pool.get_session(profile="proc").get_credentials()
        assert credentials.get_frozen_credentials().access_key == "AKIAPROCESSEXAMPLE01"
        return credentials

    results = run_together(32, work)

    assert len(runs.read_text().splitlines()) == 1
    assert all(c is results[0] for c in results)


# -- a fake instance metadata service on loopback --------------------------------------------

IMDS_ROLE = "fake-instance-role"
IMDS_TOKEN = "fake-imds-token"


class FakeIMDS:
    """IMDSv2 enough for botocore's InstanceMetadataFetcher; counts every request.

    With ``limit_per_second``, a request that would make more than that many in the last second
    gets 429 (botocore makes one attempt, then gives up on the instance role: no credentials).
    """

    def __init__(self, limit_per_second: int | None = None) -> None:
        self.limit = limit_per_second
        self.lock = threading.Lock()
        self.requests: collections.Counter[str] = collections.Counter()
        self.throttled = 0
        self._recent: collections.deque[float] = collections.deque()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                fake._serve(self)

            def do_GET(self) -> None:
                fake._serve(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def total(self) -> int:
        with self.lock:
            return sum(self.requests.values())

    def _admit(self) -> bool:
        if self.limit is None:
            return True
        now = time.monotonic()
        with self.lock:
            while self._recent and now - self._recent[0] >= 1.0:
                self._recent.popleft()
            if len(self._recent) >= self.limit:
                self.throttled += 1
                return False
            self._recent.append(now)
            return True

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        with self.lock:
            self.requests[f"{handler.command} {handler.path}"] += 1
        if not self._admit():
            self._reply(handler, 429, "Too Many Requests")
            return
        base = "/latest/meta-data/iam/security-credentials/"
        if handler.command == "PUT" and handler.path == "/latest/api/token":
            self._reply(handler, 200, IMDS_TOKEN)
        elif handler.command == "GET" and handler.path == base:
            self._reply(handler, 200, IMDS_ROLE)
        elif handler.command == "GET" and handler.path == base + IMDS_ROLE:
            expiration = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
            body = {
                "Code": "Success",
                "LastUpdated": datetime.datetime.now(datetime.timezone.utc).strftime(
                    "%Y-%m-%dT%H:%M:%SZ"
                ),
                "Type": "AWS-HMAC",
                "AccessKeyId": "AKIAIMDSEXAMPLE00001",
                "SecretAccessKey": "imds-secret-EXAMPLE-not-real-000000000",
                "Token": "imds-token-EXAMPLE-not-real",
                "Expiration": expiration.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
            self._reply(handler, 200, json.dumps(body))
        else:
            self._reply(handler, 404, "Not Found")

    @staticmethod
    def _reply(handler: BaseHTTPRequestHandler, status: int, body: str) -> None:
        data = body.encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "text/plain")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)


def _imds_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, url: str) -> None:
    """Only the instance role can supply credentials: no keys, empty files, IMDS at ``url``."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    empty_config = tmp_path / "empty-config"
    empty_config.write_text("")
    empty_credentials = tmp_path / "empty-credentials"
    empty_credentials.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty_config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty_credentials))
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", url)
    # botocore's default is 1 s and one attempt; a loaded CI machine must not fake a failure.
    monkeypatch.setenv("AWS_METADATA_SERVICE_TIMEOUT", "10")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("no_proxy", "127.0.0.1")


@pytest.fixture
def imds(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeIMDS]:
    fake = FakeIMDS()
    _imds_environment(monkeypatch, tmp_path, fake.url)
    yield fake
    fake.stop()


@pytest.fixture
def throttled_imds(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeIMDS]:
    fake = FakeIMDS(limit_per_second=20)
    _imds_environment(monkeypatch, tmp_path, fake.url)
    yield fake
    fake.stop()


def test_imds_is_asked_at_most_three_times_for_32_threads(imds: FakeIMDS) -> None:
    with SessionPool() as pool:
        credentials = run_together(32, lambda i: pool.get_session().get_credentials())

    assert all(c is not None for c in credentials)
    assert all(c is credentials[0] for c in credentials)
    assert credentials[0].get_frozen_credentials().access_key == "AKIAIMDSEXAMPLE00001"
    assert imds.total <= 3, imds.requests


def test_throttled_imds_leaves_no_session_without_credentials(throttled_imds: FakeIMDS) -> None:
    with SessionPool() as pool:
        credentials = run_together(32, lambda i: pool.get_session().get_credentials())

    missing = sum(c is None for c in credentials)
    assert missing == 0, (missing, throttled_imds.requests, throttled_imds.throttled)
    assert throttled_imds.throttled == 0


def test_control_plain_sessions_amplify_imds_requests(imds: FakeIMDS) -> None:
    # The hazard the two tests above guard against: one resolution per Session, not per key.
    def work(i: int) -> Any:
        return boto3.session.Session().get_credentials()

    run_together(32, work)

    assert imds.total >= 32, imds.requests


# -- refreshable credentials, shared ---------------------------------------------------------


class _Clock:
    """A settable clock for RefreshableCredentials, so expiry needs no waiting."""

    def __init__(self) -> None:
        self.now = datetime.datetime.now(datetime.timezone.utc)

    def __call__(self) -> datetime.datetime:
        return self.now


def test_shared_refreshable_credentials_refresh_once_per_expiry_under_32_threads(
    pool: SessionPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The credentials a profile resolves to are injected where botocore's chain produces them,
    # CredentialResolver.load_credentials; the pool still resolves, publishes and hands them out
    # (possibly wrapped), and every read goes through get_frozen_credentials().
    clock = _Clock()
    lock = threading.Lock()
    refreshes: list[int] = []
    loads: list[int] = []

    def refresher() -> dict[str, str]:
        with lock:
            refreshes.append(1)
            n = len(refreshes)
        return {
            "access_key": f"AKIAEXAMPLEREFRESH{n:02d}",
            "secret_key": f"refreshed-secret-{n}",
            "token": f"refreshed-token-{n}",
            "expiry_time": (clock.now + datetime.timedelta(hours=1)).isoformat(),
        }

    near_expiry = botocore.credentials.RefreshableCredentials(
        access_key="AKIAEXAMPLEINITIAL00",
        secret_key="initial-secret",
        token="initial-token",
        expiry_time=clock.now + datetime.timedelta(minutes=1),  # inside the mandatory window
        refresh_using=refresher,
        method="test-refreshable",
        time_fetcher=clock,
    )

    def load_credentials(self: Any) -> Any:
        with lock:
            loads.append(1)
        return near_expiry

    monkeypatch.setattr(
        botocore.credentials.CredentialResolver, "load_credentials", load_credentials
    )

    def read(i: int) -> tuple[Any, str]:
        credentials = pool.get_session(profile="prod").get_credentials()
        return credentials, credentials.get_frozen_credentials().access_key

    first = run_together(32, read)

    assert len(loads) == 1
    assert all(c is first[0][0] for c, _ in first)  # one object (the pool may wrap botocore's)
    assert len(refreshes) == 1
    assert {key for _, key in first} == {"AKIAEXAMPLEREFRESH01"}

    # 55 minutes later the refreshed credentials are inside the mandatory window again.
    clock.now += datetime.timedelta(minutes=55)
    second = run_together(32, read)

    assert len(loads) == 1
    assert all(c is first[0][0] for c, _ in second)
    assert len(refreshes) == 2
    assert {key for _, key in second} == {"AKIAEXAMPLEREFRESH02"}
