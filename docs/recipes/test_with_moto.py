"""Unit tests of code that uses a pool, with moto's ``mock_aws`` and botocore's ``Stubber``.

Run them with pytest, as your own tests. The code under test keeps its module-level pool:
sessionpool's pytest plugin (loaded wherever sessionpool is installed) clears every pool before
and after each test, so each test's clients follow that test's mock, environment and Stubber.

``@mock_aws`` starts when the test is called, and the pool's clients made then are mocked. A
``Stubber`` wraps one client, and ``pool.client("s3")`` hands that same client to the code under
test in the same thread, so the code meets the stub; another thread would get its own, unstubbed,
client. ``pytest -p no:sessionpool`` switches the plugin off.
"""

from __future__ import annotations

import pytest
from botocore.stub import Stubber
from moto import mock_aws

from sessionpool import SessionPool


@pytest.fixture(autouse=True)
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dummy credentials, so that no test can ever find real ones."""
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


pool = SessionPool()  # the application's module-level pool


def archive(bucket: str, key: str, text: str) -> None:
    """The code under test."""
    pool.client("s3").put_object(Bucket=bucket, Key=key, Body=text.encode())


@mock_aws
def test_archive_writes_the_object() -> None:
    pool.client("s3").create_bucket(Bucket="reports")
    archive("reports", "2026/11.txt", "eleven")
    got = pool.client("s3").get_object(Bucket="reports", Key="2026/11.txt")["Body"].read()
    assert got == b"eleven"


def test_archive_sends_one_put_object() -> None:
    with Stubber(pool.client("s3")) as stub:
        expected = {"Bucket": "reports", "Key": "2026/11.txt", "Body": b"eleven"}
        stub.add_response("put_object", {"ETag": '"1"'}, expected)
        archive("reports", "2026/11.txt", "eleven")  # meets the stub: the same client
        stub.assert_no_pending_responses()
