"""botocore's ``Stubber`` on the client the code under test gets from the pool."""

from __future__ import annotations

from collections.abc import Iterator

import app
import pytest
from botocore.stub import Stubber

import sessionpool

QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/jobs"


def test_a_bucket_outside_us_east_1_names_its_region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    with Stubber(app.pool.client("s3")) as stub:
        expected = {
            "Bucket": "reports",
            "CreateBucketConfiguration": {"LocationConstraint": "eu-central-1"},
        }
        stub.add_response("create_bucket", {"Location": "/reports"}, expected)
        app.create_bucket("reports")
        stub.assert_no_pending_responses()


def test_a_notification_is_one_send_message() -> None:
    with Stubber(sessionpool.client("sqs")) as stub:
        expected = {"QueueUrl": QUEUE, "MessageBody": "hello"}
        stub.add_response("send_message", {"MessageId": "m-1"}, expected)
        assert app.notify(QUEUE, "hello") == "m-1"
        stub.assert_no_pending_responses()


@pytest.fixture
def s3_stub() -> Iterator[Stubber]:
    """A Stubber activated during setup on the application's S3 client."""
    with Stubber(app.pool.client("s3")) as stub:
        yield stub
        stub.assert_no_pending_responses()


def test_saving_is_one_put_object(s3_stub: Stubber) -> None:
    expected = {"Bucket": "reports", "Key": "a.txt", "Body": b"text"}
    s3_stub.add_response("put_object", {"ETag": '"1"'}, expected)
    app.save("reports", "a.txt", "text")
