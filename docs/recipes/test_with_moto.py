"""Unit tests of code that uses a pool, with moto's ``mock_aws`` and botocore's ``Stubber``.

Run them with pytest, as your own tests. Make the pool inside ``mock_aws()`` (the fixture below):
its sessions and clients are then built while the mock is active. A ``Stubber`` wraps one client,
and ``pool.client("s3")`` hands that same client back in the same thread, so the code under test
meets the stub; another thread would get its own, unstubbed, client.

moto may be imported at any time, even after a pool was used: sessions and clients made
afterwards carry its interceptor, as plain boto3's do. A client made *before* ``import moto`` does
not (in boto3 either), so make the pool inside the mock, as the fixture below does.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from botocore.stub import Stubber
from moto import mock_aws

from sessionpool import SessionPool


def archive(pool: SessionPool, bucket: str, key: str, text: str) -> None:
    """The code under test."""
    pool.client("s3").put_object(Bucket=bucket, Key=key, Body=text.encode())


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dummy credentials, so that no test can ever find real ones."""
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture
def pool(aws_credentials: None) -> Iterator[SessionPool]:
    with mock_aws(), SessionPool() as pool:
        yield pool


def test_archive_writes_the_object(pool: SessionPool) -> None:
    pool.client("s3").create_bucket(Bucket="reports")
    archive(pool, "reports", "2026/11.txt", "eleven")
    got = pool.client("s3").get_object(Bucket="reports", Key="2026/11.txt")["Body"].read()
    assert got == b"eleven"


def test_archive_sends_one_put_object(aws_credentials: None) -> None:
    with SessionPool() as pool:
        s3 = pool.client("s3")
        with Stubber(s3) as stub:
            expected = {"Bucket": "reports", "Key": "2026/11.txt", "Body": b"eleven"}
            stub.add_response("put_object", {"ETag": '"1"'}, expected)
            archive(pool, "reports", "2026/11.txt", "eleven")  # meets the stub: same client
            stub.assert_no_pending_responses()
