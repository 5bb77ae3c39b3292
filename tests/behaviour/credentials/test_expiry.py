"""Static temporary credentials that expire are renewed once, after the server says so; the
opt-in ``retry_expired`` retries the failed call once; explicit keys are never replaced
(HAZARDS R5).

Credentials that cannot know their own expiry (``credential_process`` output without
``Expiration``, an explicit session token) are simulated expiring with a ``before-send`` handler
on the client: it plays the server and answers 400 with an expired-token error to any request
*signed* with a key id the test has declared expired (read from the ``Authorization`` header),
and lets every other request through to moto. Renewing therefore has to produce new credentials
for a call to succeed. The ``credential_process`` script counts its runs in a file and returns
key id number N on run N.
"""

from __future__ import annotations

import re
import shlex
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError

from sessionpool import SessionPool
from tests.support.threads import run_together

pytestmark = pytest.mark.compat  # in the matrix's floor cell too (tasks.py matrix)

JOIN_TIMEOUT = 60.0
EXPLICIT_KEY_ID = "AKIAEXPLICITEXAMPLE1"
EXPLICIT_SECRET = "explicit-secret-EXAMPLE-not-real-000000"
EXPLICIT_TOKEN = "explicit-token-EXAMPLE-not-real"

SCRIPT = """\
import json, sys
with open(sys.argv[1], "a") as runs:
    runs.write("run\\n")
with open(sys.argv[1]) as runs:
    n = len(runs.read().splitlines())
print(json.dumps({
    "Version": 1,
    "AccessKeyId": f"AKIAEXPIRY{n:010d}",
    "SecretAccessKey": f"expiry-secret-EXAMPLE-run-{n:04d}-00000000",
    "SessionToken": f"expiry-token-EXAMPLE-run-{n:04d}",
}))
"""


def key_id(run: int) -> str:
    return f"AKIAEXPIRY{run:010d}"


class Process:
    """The ``credential_process`` profile ``proc`` and its run counter."""

    def __init__(self, runs: Path) -> None:
        self.runs_file = runs

    @property
    def runs(self) -> int:
        return len(self.runs_file.read_text().splitlines())


@pytest.fixture
def process(
    aws_env: Any, aws_files: tuple[Path, Path], tmp_path: Path, secrets_to_scan: set[str]
) -> Process:
    script = tmp_path / "expiring_process.py"
    script.write_text(SCRIPT)
    runs = tmp_path / "runs.txt"
    runs.touch()
    command = " ".join(shlex.quote(str(p)) for p in (sys.executable, script, runs))
    config, _ = aws_files
    with config.open("a") as f:
        f.write(f"\n[profile proc]\nregion = us-east-1\ncredential_process = {command}\n")
    for n in range(1, 40):
        secrets_to_scan.add(f"expiry-secret-EXAMPLE-run-{n:04d}-00000000")
        secrets_to_scan.add(f"expiry-token-EXAMPLE-run-{n:04d}")
    secrets_to_scan.update({EXPLICIT_SECRET, EXPLICIT_TOKEN})
    return Process(runs)


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


class ExpiringServer:
    """A ``before-send`` handler: requests signed with an expired key id get a 400 error.

    ``hold[thread_name]`` = (signed, release): that thread's next rejected request first sets
    ``signed`` and waits for ``release``, to order a race deterministically.
    """

    def __init__(self, code: str = "ExpiredToken") -> None:
        self.code = code
        self.expired: set[str] = set()
        self.lock = threading.Lock()
        self.rejected: list[str] = []
        self.passed: list[str] = []
        self.hold: dict[str, tuple[threading.Event, threading.Event]] = {}

    def attach(self, client: Any) -> Any:
        client.meta.events.register("before-send.s3", self)
        return client

    def __call__(self, request: Any, **_: Any) -> AWSResponse | None:
        auth = request.headers.get("Authorization", b"")
        auth = auth.decode() if isinstance(auth, bytes) else auth
        match = re.search(r"Credential=([^/]+)/", auth)
        signer = match.group(1) if match else ""
        with self.lock:
            if signer not in self.expired:
                self.passed.append(signer)
                return None
            self.rejected.append(signer)
            held = self.hold.pop(threading.current_thread().name, None)
        if held is not None:
            signed, release = held
            signed.set()
            release.wait(JOIN_TIMEOUT)
        body = (
            f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{self.code}</Code>"
            f"<Message>The security token included in the request is expired</Message>"
            f"<RequestId>{uuid.uuid4()}</RequestId></Error>"
        ).encode()
        return AWSResponse(request.url, 400, {"Content-Type": "application/xml"}, _Raw(body))


@pytest.fixture
def pools(aws_env: Any) -> Iterator[Any]:
    made: list[SessionPool] = []

    def make(**kwargs: Any) -> SessionPool:
        pool = SessionPool(**kwargs)
        made.append(pool)
        return pool

    yield make
    for pool in made:
        pool.close()


@pytest.fixture
def bucket_name(aws_env: Any) -> str:
    name = f"expiry-{uuid.uuid4().hex[:20]}"
    with SessionPool() as setup:
        setup.client("s3").create_bucket(Bucket=name)
    return name


# -- credential_process output without Expiration ------------------------------------------------


def test_credential_process_output_without_expiration_is_static(
    pools: Any, process: Process
) -> None:
    credentials = pools().get_session(profile="proc").get_credentials()
    assert type(credentials.inner).__name__ == "Credentials"  # botocore cannot refresh it
    assert credentials.get_frozen_credentials().access_key == key_id(1)


@pytest.mark.parametrize("code", ["ExpiredToken", "ExpiredTokenException", "RequestExpired"])
def test_retry_renews_expired_process_credentials_once_and_the_call_succeeds(
    pools: Any, process: Process, bucket_name: str, code: str
) -> None:
    pool = pools(retry_expired=True)
    server = ExpiringServer(code)
    s3 = server.attach(pool.client("s3", profile="proc"))
    server.expired.add(key_id(1))

    response = s3.put_object(Bucket=bucket_name, Key="k", Body=b"renewed")

    assert response["ResponseMetadata"]["RetryAttempts"] == 1
    assert process.runs == 2
    assert server.rejected == [key_id(1)] and server.passed == [key_id(2)]
    assert s3.get_object(Bucket=bucket_name, Key="k")["Body"].read() == b"renewed"
    assert process.runs == 2  # renewed once, not on every call


def test_after_a_renewal_every_threads_session_for_the_key_sees_the_new_credentials(
    pools: Any, process: Process, bucket_name: str
) -> None:
    pool = pools(retry_expired=True)
    server = ExpiringServer()
    server.expired.add(key_id(1))
    ready = threading.Barrier(8)
    renewed = threading.Barrier(8)

    def work(i: int) -> tuple[Any, str]:
        session = pool.get_session(profile="proc")
        s3 = server.attach(session.client("s3"))
        ready.wait(JOIN_TIMEOUT)
        if i == 0:
            try:
                s3.put_object(Bucket=bucket_name, Key="k", Body=b"x")
            except BaseException:
                renewed.abort()  # fail the others at once instead of at the timeout
                raise
        renewed.wait(JOIN_TIMEOUT)
        credentials = session.get_credentials()
        return credentials, credentials.get_frozen_credentials().access_key

    results = run_together(8, work)

    assert process.runs == 2
    assert all(c is results[0][0] for c, _ in results)  # one shared object for the key
    assert [k for _, k in results] == [key_id(2)] * 8


def test_a_late_expired_error_for_credentials_already_renewed_does_not_renew_again(
    pools: Any, process: Process, bucket_name: str
) -> None:
    # Two threads sign with run-1 credentials. B's rejection arrives first and renews them (run
    # 2); A's rejection, for the same old credentials, arrives afterwards. The key has been
    # renewed already: A must retry with run 2, not resolve the chain a third time (one more
    # process run, or AssumeRole call, per request that was in flight: HAZARDS T5).
    pool = pools(retry_expired=True)
    server = ExpiringServer()
    server.expired.add(key_id(1))
    a_signed, release_a = threading.Event(), threading.Event()
    server.hold["thread-a"] = (a_signed, release_a)
    errors: list[BaseException] = []

    def call(name: str) -> None:
        try:
            s3 = server.attach(pool.client("s3", profile="proc"))
            s3.put_object(Bucket=bucket_name, Key=name, Body=name.encode())
        except BaseException as exc:
            errors.append(exc)

    pool.get_session(profile="proc").get_credentials()  # run 1, before either thread starts
    a = threading.Thread(target=call, args=("thread-a",), name="thread-a")
    a.start()
    assert a_signed.wait(JOIN_TIMEOUT)  # A's request went out with run-1 credentials
    b = threading.Thread(target=call, args=("thread-b",), name="thread-b")
    b.start()
    b.join(JOIN_TIMEOUT)  # B was rejected, renewed to run 2, and succeeded
    runs_after_b = process.runs
    release_a.set()  # A's (late) rejection arrives now
    a.join(JOIN_TIMEOUT)

    assert errors == []
    assert runs_after_b == 2
    assert server.rejected == [key_id(1), key_id(1)]
    assert process.runs == 2


def test_without_retry_the_call_fails_with_expired_token_and_the_next_call_renews(
    pools: Any, process: Process, bucket_name: str
) -> None:
    pool = pools()
    server = ExpiringServer()
    s3 = server.attach(pool.client("s3", profile="proc"))
    server.expired.add(key_id(1))

    with pytest.raises(ClientError) as info:
        s3.put_object(Bucket=bucket_name, Key="k", Body=b"first")
    assert info.value.response["Error"]["Code"] == "ExpiredToken"
    assert process.runs == 1  # no retry, no renewal yet

    s3.put_object(Bucket=bucket_name, Key="k", Body=b"second")
    assert process.runs == 2
    assert server.passed == [key_id(2)]
    assert s3.get_object(Bucket=bucket_name, Key="k")["Body"].read() == b"second"


def test_an_error_that_is_not_about_expiry_does_not_renew(
    pools: Any, process: Process, bucket_name: str
) -> None:
    pool = pools(retry_expired=True)
    server = ExpiringServer("AccessDenied")
    s3 = server.attach(pool.client("s3", profile="proc"))
    server.expired.add(key_id(1))
    with pytest.raises(ClientError) as info:
        s3.put_object(Bucket=bucket_name, Key="k", Body=b"x")
    assert info.value.response["Error"]["Code"] == "AccessDenied"
    assert len(server.rejected) == 1  # not retried
    pool.get_session(profile="proc").get_credentials().get_frozen_credentials()
    assert process.runs == 1


# -- explicit keys -------------------------------------------------------------------------------


def test_expired_explicit_session_token_fails_clearly_and_is_not_renewed(
    pools: Any, process: Process, bucket_name: str
) -> None:
    pool = pools(retry_expired=True)
    explicit = {
        "aws_access_key_id": EXPLICIT_KEY_ID,
        "aws_secret_access_key": EXPLICIT_SECRET,
        "aws_session_token": EXPLICIT_TOKEN,
    }
    server = ExpiringServer()
    s3 = server.attach(pool.client("s3", **explicit))
    server.expired.add(EXPLICIT_KEY_ID)

    with pytest.raises(ClientError) as info:
        s3.put_object(Bucket=bucket_name, Key="k", Body=b"x")

    assert info.value.response["Error"]["Code"] == "ExpiredToken"
    assert server.rejected == [EXPLICIT_KEY_ID]  # one attempt: nothing to retry with
    credentials = pool.get_session(**explicit).get_credentials()
    assert credentials.renewals == 0
    assert credentials.get_frozen_credentials().access_key == EXPLICIT_KEY_ID
    assert EXPLICIT_SECRET not in str(info.value)


def test_the_pool_keeps_working_after_an_expired_explicit_token(
    pools: Any, process: Process, bucket_name: str
) -> None:
    pool = pools(retry_expired=True)
    explicit = {"aws_access_key_id": EXPLICIT_KEY_ID, "aws_secret_access_key": EXPLICIT_SECRET}
    server = ExpiringServer()
    s3 = server.attach(pool.client("s3", **explicit))
    server.expired.add(EXPLICIT_KEY_ID)
    with pytest.raises(ClientError):
        s3.put_object(Bucket=bucket_name, Key="k", Body=b"x")

    other = pool.client("s3")  # another key
    other.put_object(Bucket=bucket_name, Key="other", Body=b"fine")
    assert other.get_object(Bucket=bucket_name, Key="other")["Body"].read() == b"fine"
    server.expired.clear()  # the user fixed the token server-side: the same client works
    assert pool.client("s3", **explicit) is s3
    s3.put_object(Bucket=bucket_name, Key="k", Body=b"again")
    assert s3.get_object(Bucket=bucket_name, Key="k")["Body"].read() == b"again"
