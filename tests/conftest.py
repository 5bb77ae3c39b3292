"""Shared fixtures: a real moto server on loopback and an isolated AWS environment per test.

Every test gets its own config and credentials files, dummy keys, IMDS disabled and
``AWS_ENDPOINT_URL`` pointing at the moto server, so nothing reaches any address but 127.0.0.1.
The server is per xdist worker (its port is picked by the OS); its requests are counted by
action, which is how tests assert exact STS call counts across threads and processes.
"""

from __future__ import annotations

import collections
import io
import logging
import os
import re
import threading
import traceback
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from moto.moto_server.threaded_moto_server import ThreadedMotoServer

import sessionpool

DUMMY_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
DUMMY_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def operation_name(name: str) -> str:
    """The operation in an ``X-Amz-Target`` (``AmazonSQS.SendMessage`` -> ``SendMessage``); any
    other name (a query ``Action``, an HTTP method) as it is."""
    return name.rpartition(".")[2]


class RequestLog:
    """Counts requests reaching the server by operation name, whichever wire protocol botocore
    uses for the service: the JSON protocols name the operation in ``X-Amz-Target``
    (``AmazonSQS.SendMessage``, ``DynamoDB_20120810.PutItem``), the query protocol in an
    ``Action=`` parameter of the form body or the URL (``SendMessage``). Both count as
    ``SendMessage``: botocore 1.34 speaks query to SQS, newer releases JSON. REST requests (S3)
    count by HTTP method (``PUT``). ``count()`` takes either spelling.

    Requests are also counted by the access key id they were signed with (the ``Credential=``
    of a SigV4 ``Authorization`` header, or a presigned URL's ``X-Amz-Credential``), per
    operation: ``signers("PUT")`` is a Counter of key ids, so a test can tell exactly which
    key signed how many of its requests. Unsigned requests count under ``""``."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.counts: collections.Counter[str] = collections.Counter()
        self.by_signer: collections.Counter[tuple[str, str]] = collections.Counter()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        action = environ.get("HTTP_X_AMZ_TARGET", "")
        if not action and body[:200].find(b"Action=") >= 0:
            params = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
            action = params.get("Action", [""])[0]
        if not action:
            params = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
            action = params.get("Action", [""])[0]
        operation = operation_name(action) or environ.get("REQUEST_METHOD", "?")
        key_id = signing_key_id(environ)
        with self.lock:
            self.counts[operation] += 1
            self.by_signer[key_id, operation] += 1
        return self.app(environ, start_response)

    def count(self, operation: str) -> int:
        with self.lock:
            return self.counts[operation_name(operation)]

    def signers(self, operation: str) -> collections.Counter[str]:
        """How many ``operation`` requests each access key id signed (a snapshot)."""
        wanted = operation_name(operation)
        with self.lock:
            return collections.Counter(
                {key_id: n for (key_id, op), n in self.by_signer.items() if op == wanted}
            )

    def reset(self) -> None:
        with self.lock:
            self.counts.clear()
            self.by_signer.clear()


_CREDENTIAL = re.compile(r"Credential=([A-Za-z0-9]+)/")


def signing_key_id(environ: dict[str, Any]) -> str:
    """The access key id a request was signed with (SigV4 header or presigned query), or ``""``."""
    found = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    if found is not None:
        return found.group(1)
    query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
    credential = query.get("X-Amz-Credential", [""])[0]
    return credential.partition("/")[0]


class MotoServer:
    def __init__(self) -> None:
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        inner = self._server._server
        assert inner is not None
        self.log = RequestLog(inner.app)
        inner.app = self.log

    def stop(self) -> None:
        self._server.stop()


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    server = MotoServer()
    yield server
    server.stop()


CONFIG = """\
[default]
region = us-east-1

[profile prod]
region = eu-west-1

[profile dev]
region = us-west-2

[profile role]
region = us-east-1
role_arn = arn:aws:iam::123456789012:role/worker
source_profile = dev
"""

CREDENTIALS = f"""\
[default]
aws_access_key_id = {DUMMY_KEY_ID}
aws_secret_access_key = {DUMMY_SECRET}

[prod]
aws_access_key_id = AKIAPRODEXAMPLE00001
aws_secret_access_key = prod-secret-EXAMPLE-not-real-0000000000

[dev]
aws_access_key_id = AKIADEVEXAMPLE000002
aws_secret_access_key = dev-secret-EXAMPLE-not-real-00000000000
"""


@pytest.fixture
def aws_files(tmp_path: Path) -> tuple[Path, Path]:
    config = tmp_path / "config"
    config.write_text(CONFIG)
    credentials = tmp_path / "credentials"
    credentials.write_text(CREDENTIALS)
    return config, credentials


def isolate_aws_env(
    mp: pytest.MonkeyPatch, config: Path, credentials: Path, endpoint_url: str
) -> None:
    """Point every AWS setting at the given files and endpoint, with dummy keys and no IMDS."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            mp.delenv(name)
    mp.setenv("AWS_CONFIG_FILE", str(config))
    mp.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    mp.setenv("AWS_EC2_METADATA_DISABLED", "true")
    mp.setenv("AWS_ENDPOINT_URL", endpoint_url)
    mp.setenv("AWS_DEFAULT_REGION", "us-east-1")
    mp.setenv("AWS_ACCESS_KEY_ID", DUMMY_KEY_ID)
    mp.setenv("AWS_SECRET_ACCESS_KEY", DUMMY_SECRET)


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
def pool(aws_env: MotoServer) -> Iterator[sessionpool.SessionPool]:
    p = sessionpool.SessionPool()
    yield p
    p.close()


@pytest.fixture
def bucket(pool: sessionpool.SessionPool) -> str:
    name = f"b-{uuid.uuid4().hex[:20]}"
    pool.client("s3").create_bucket(Bucket=name)
    return name


# ---------------------------------------------------------------------------------------------
# Every test runs with sessionpool's (and every other non-wire) logger at DEBUG, and every record
# emitted during the test is scanned for known secrets. botocore's wire loggers (auth, endpoint,
# parsers) and urllib3 print signed headers at DEBUG: that is botocore's output, not ours, and
# HAZARDS X1 excludes it, so they stay at INFO.

KNOWN_SECRETS = {
    DUMMY_SECRET,
    "prod-secret-EXAMPLE-not-real-0000000000",
    "dev-secret-EXAMPLE-not-real-00000000000",
}
_WIRE_LOGGERS = ("botocore.auth", "botocore.endpoint", "botocore.parsers", "urllib3", "werkzeug")


class _SecretScan(logging.Handler):
    def __init__(self, secrets: set[str]) -> None:
        super().__init__(level=logging.DEBUG)
        self.secrets = secrets
        self.leaks: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(_WIRE_LOGGERS):
            return
        try:
            text = record.getMessage()
        except Exception:
            text = str(record.msg)
        if record.exc_info:
            text += "".join(traceback.format_exception(*record.exc_info))
        for secret in self.secrets:
            if secret and secret in text:
                # Never the secret itself: say which logger leaked it.
                self.leaks.append(f"{record.name}:{record.levelname}")


@pytest.fixture
def secrets_to_scan() -> set[str]:
    """Add any secret or token a test invents, so the log scan looks for it too."""
    return set(KNOWN_SECRETS)


@pytest.fixture(autouse=True)
def _debug_logs_hold_no_secrets(secrets_to_scan: set[str]) -> Iterator[None]:
    root = logging.getLogger()
    scan = _SecretScan(secrets_to_scan)
    saved = {name: logging.getLogger(name).level for name in ("", "sessionpool", *_WIRE_LOGGERS)}
    root.addHandler(scan)
    root.setLevel(logging.DEBUG)
    logging.getLogger("sessionpool").setLevel(logging.DEBUG)
    for name in _WIRE_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO)
    try:
        yield
    finally:
        root.removeHandler(scan)
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)
    assert not scan.leaks, f"a secret reached the logs via {sorted(set(scan.leaks))}"
