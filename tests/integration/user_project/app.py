"""The application under test: a module-level pool, and code that uses the default pool.

Files go through ``pool`` (made once, when the module is imported, as an application's
module-level pool is); notifications through ``sessionpool.client()``, the default pool.
"""

from __future__ import annotations

import sessionpool
from sessionpool import SessionPool

pool = SessionPool()


def create_bucket(name: str) -> None:
    """Make a bucket in the client's region (us-east-1 takes no location constraint)."""
    s3 = pool.client("s3")
    region = s3.meta.region_name
    if region == "us-east-1":
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})


def bucket_region(name: str) -> str:
    location = pool.client("s3").get_bucket_location(Bucket=name)["LocationConstraint"]
    return location or "us-east-1"


def save(bucket: str, key: str, text: str) -> None:
    pool.client("s3").put_object(Bucket=bucket, Key=key, Body=text.encode())


def load(bucket: str, key: str) -> str:
    return pool.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode()


def create_queue(name: str) -> str:
    return sessionpool.client("sqs").create_queue(QueueName=name)["QueueUrl"]


def notify(queue_url: str, text: str) -> str:
    """Send one notification; return its message id."""
    return sessionpool.client("sqs").send_message(QueueUrl=queue_url, MessageBody=text)["MessageId"]


def pending(queue_url: str) -> list[str]:
    """The notifications waiting in the queue (up to 10)."""
    got = sessionpool.client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
    return [message["Body"] for message in got.get("Messages", [])]
