"""moto's ``mock_aws`` as a decorator on each test (it starts when the test is called)."""

from __future__ import annotations

from typing import Any

import app
import pytest
from moto import mock_aws


@mock_aws
def test_saved_text_reads_back(bucket_name: str) -> None:
    app.create_bucket(bucket_name)
    app.save(bucket_name, "2026/11.txt", "eleven")
    assert app.load(bucket_name, "2026/11.txt") == "eleven"


@mock_aws
def test_a_bucket_is_made_in_the_region_of_the_environment(
    bucket_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    app.create_bucket(bucket_name)
    assert app.bucket_region(bucket_name) == "eu-west-1"


@mock_aws
def test_a_notification_waits_in_its_queue() -> None:
    url = app.create_queue("jobs")
    app.notify(url, "hello")
    assert app.pending(url) == ["hello"]


@pytest.fixture
def s3() -> Any:
    """The application's S3 client, made during setup, before the test's mock starts."""
    return app.pool.client("s3")


@mock_aws
def test_the_client_a_fixture_returns_is_the_one_the_code_uses(s3: Any, bucket_name: str) -> None:
    assert app.pool.client("s3") is s3
    app.create_bucket(bucket_name)
    app.save(bucket_name, "a.txt", "from the code")
    assert s3.get_object(Bucket=bucket_name, Key="a.txt")["Body"].read() == b"from the code"
