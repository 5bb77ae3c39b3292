"""Credentials follow the files: rotated keys are picked up without a restart (HAZARDS C1).

Against moto's server with IAM authentication on (``INITIAL_NO_AUTH_ACTION_COUNT``): a user's
first access key is written to the shared credentials file and used through the pool by threads
that keep their sessions; then a second key is created, written to the file, and the first is
deleted. Old threads (their sessions made before the rotation) may see one rejected call each
(``InvalidAccessKeyId``), which marks the key's shared credentials stale, and then succeed; with
``retry_expired=True`` they see none; new threads (new sessions after the file changed) see none.
Explicit keys are never replaced.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from sessionpool import SessionPool
from tests.support.aws import DUMMY_KEY_ID, DUMMY_SECRET, isolate_aws_env

pytestmark = pytest.mark.compat  # in the matrix's floor cell too (tasks.py matrix)

SERVER = r"""
import sys, threading
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()  # until the test closes our stdin
server.stop()
"""
BOOTSTRAP_ACTIONS = 3  # create_user, put_user_policy, create_access_key: before auth starts
ROTATION_ERRORS = ("InvalidAccessKeyId", "InvalidClientTokenId", "SignatureDoesNotMatch")


@pytest.fixture
def iam_server() -> Iterator[str]:
    """A moto server in its own process that enforces IAM authentication after the bootstrap."""
    env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": str(BOOTSTRAP_ACTIONS)}
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        yield f"http://127.0.0.1:{port}"
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def admin_client(service: str, url: str, key: dict[str, str] | None = None) -> Any:
    """A plain boto3 client (not the pool's), for setting up and rotating keys."""
    creds = key or {"aws_access_key_id": DUMMY_KEY_ID, "aws_secret_access_key": DUMMY_SECRET}
    return boto3.session.Session(region_name="us-east-1", **creds).client(service, endpoint_url=url)


def as_creds(access_key: dict[str, Any]) -> dict[str, str]:
    return {
        "aws_access_key_id": access_key["AccessKeyId"],
        "aws_secret_access_key": access_key["SecretAccessKey"],
    }


def write_credentials(path: Path, key: dict[str, str]) -> None:
    path.write_text(
        "[default]\n"
        f"aws_access_key_id = {key['aws_access_key_id']}\n"
        f"aws_secret_access_key = {key['aws_secret_access_key']}\n"
    )


class Rotation:
    def __init__(self, url: str, credentials: Path, secrets: set[str]) -> None:
        self.url = url
        self.credentials = credentials
        self.secrets = secrets
        iam = admin_client("iam", url)
        iam.create_user(UserName="rotating")
        iam.put_user_policy(
            UserName="rotating",
            PolicyName="everything",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
                }
            ),
        )
        self.key = as_creds(iam.create_access_key(UserName="rotating")["AccessKey"])
        secrets.add(self.key["aws_secret_access_key"])
        write_credentials(credentials, self.key)
        self.bucket = f"rot-{uuid.uuid4().hex[:16]}"
        admin_client("s3", url, self.key).create_bucket(Bucket=self.bucket)

    def rotate(self) -> None:
        """Create a second key, write it to the file, delete the first (as IAM rotation does)."""
        old = self.key
        iam = admin_client("iam", self.url, old)
        new = as_creds(iam.create_access_key(UserName="rotating")["AccessKey"])
        self.secrets.add(new["aws_secret_access_key"])
        write_credentials(self.credentials, new)
        admin_client("iam", self.url, new).delete_access_key(
            UserName="rotating", AccessKeyId=old["aws_access_key_id"]
        )
        self.key = new


@pytest.fixture
def rotation(
    iam_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, secrets_to_scan: set[str]
) -> Rotation:
    config = tmp_path / "config"
    config.write_text("[default]\nregion = us-east-1\n")
    credentials = tmp_path / "credentials"
    isolate_aws_env(monkeypatch, config, credentials, iam_server)
    # The keys must come from the file, not the environment.
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    return Rotation(iam_server, credentials, secrets_to_scan)


class Threads:
    """Long-lived worker threads that each keep their own sessions across phases."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.go = [threading.Event() for _ in range(n)]
        self.done = threading.Barrier(n + 1)
        self.work: Any = None
        self.results: list[Any] = [None] * n
        self.stop = False
        self.threads = [threading.Thread(target=self._loop, args=(i,)) for i in range(n)]
        for t in self.threads:
            t.start()

    def _loop(self, i: int) -> None:
        while True:
            self.go[i].wait()
            self.go[i].clear()
            if self.stop:
                return
            try:
                self.results[i] = self.work(i)
            except BaseException as exc:  # noqa: BLE001 - reported to the test
                self.results[i] = exc
            self.done.wait()

    def run(self, work: Any) -> list[Any]:
        self.work = work
        for event in self.go:
            event.set()
        self.done.wait()
        return list(self.results)

    def close(self) -> None:
        self.stop = True
        for event in self.go:
            event.set()
        for t in self.threads:
            t.join(60)


def calls(pool: SessionPool, bucket: str, n: int) -> Any:
    """n put/get round trips; returns the error codes of the failed calls, in order."""

    def work(i: int) -> list[str]:
        failures: list[str] = []
        s3 = pool.client("s3")
        for j in range(n):
            key, body = f"t{i}-{uuid.uuid4().hex}", f"{i}-{j}".encode()
            try:
                s3.put_object(Bucket=bucket, Key=key, Body=body)
                assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == body
            except ClientError as exc:
                failures.append(exc.response["Error"]["Code"])
        return failures

    return work


@pytest.mark.parametrize("retry", [False, True], ids=["no-retry", "retry_expired"])
def test_rotated_keys_are_picked_up_with_at_most_one_failed_call_per_thread(
    rotation: Rotation, retry: bool
) -> None:
    with SessionPool(retry_expired=retry) as pool:
        old = Threads(4)
        try:
            before = old.run(calls(pool, rotation.bucket, 2))
            assert before == [[]] * 4, before
            rotation.rotate()
            after = old.run(calls(pool, rotation.bucket, 5))
        finally:
            old.close()
        new = Threads(4)
        try:
            fresh = new.run(calls(pool, rotation.bucket, 5))
        finally:
            new.close()
        stats = pool.stats()
    for failures in after:
        assert not isinstance(failures, BaseException), failures
        assert len(failures) <= (0 if retry else 1), after
        assert set(failures) <= set(ROTATION_ERRORS), failures
    assert fresh == [[]] * 4, fresh
    assert stats["sessions_created"] == 8  # nobody needed a new session to recover
    assert stats["credential_resolutions"] == 1  # renewed in place, not re-resolved per thread


def test_a_new_session_after_the_file_changed_resolves_afresh_without_any_failure(
    rotation: Rotation,
) -> None:
    with SessionPool() as pool:
        first = Threads(2)
        try:
            assert first.run(calls(pool, rotation.bucket, 1)) == [[], []]
        finally:
            first.close()  # those threads end: their sessions go
        rotation.rotate()
        later = Threads(4)
        try:
            assert later.run(calls(pool, rotation.bucket, 3)) == [[]] * 4
        finally:
            later.close()


def test_explicit_keys_are_never_replaced_by_the_rotated_file(rotation: Rotation) -> None:
    explicit = dict(rotation.key)
    with SessionPool(**explicit) as pool:
        pool.client("s3").head_bucket(Bucket=rotation.bucket)
        rotation.rotate()  # deletes the key the pool was given
        for _ in range(2):
            with pytest.raises(ClientError) as failure:
                pool.client("s3").head_bucket(Bucket=rotation.bucket)
            assert failure.value.response["Error"]["Code"] in ("403", *ROTATION_ERRORS)
        frozen = pool.get_session().get_credentials().get_frozen_credentials()
        assert frozen.access_key == explicit["aws_access_key_id"]
