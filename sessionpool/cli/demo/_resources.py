"""The bucket, queue and table the demo writes to: created before the run, deleted after it.

:func:`create` records each resource in ``made`` as soon as it exists, so that :func:`delete`,
called even on error or Ctrl-C, removes exactly what was made (the bucket emptied first) and
names whatever it could not remove.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from ... import SessionPool
from ._plan import NAME_PREFIX

__all__ = ["create", "delete"]


def create(pool: SessionPool, made: dict[str, str]) -> None:
    name = f"{NAME_PREFIX}{uuid.uuid4().hex[:16]}"
    session = pool.get_session()
    region = session.region_name
    if region is None:
        raise ValueError("no region is configured; pass --region")
    s3 = pool.client("s3")
    if region == "us-east-1":
        s3.create_bucket(Bucket=name)
    else:
        location: Any = {"LocationConstraint": region}
        s3.create_bucket(Bucket=name, CreateBucketConfiguration=location)
    made["bucket"] = name
    made["queue_url"] = pool.client("sqs").create_queue(QueueName=name)["QueueUrl"]
    made["queue"] = name
    ddb = pool.client("dynamodb")
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    made["table"] = name
    ddb.get_waiter("table_exists").wait(
        TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )


def delete(pool: SessionPool, made: dict[str, str]) -> list[str]:
    """Delete the demo's table, queue and bucket (emptied first); return what could not be."""
    leftovers: list[str] = []

    def attempt(label: str, action: Callable[[], Any]) -> None:
        try:
            action()
        except Exception:  # noqa: BLE001 - reported by name, never with a secret
            leftovers.append(label)

    if "table" in made:
        attempt(
            f"table {made['table']}",
            lambda: pool.client("dynamodb").delete_table(TableName=made["table"]),
        )
    if "queue_url" in made:
        attempt(
            f"queue {made['queue']}",
            lambda: pool.client("sqs").delete_queue(QueueUrl=made["queue_url"]),
        )
    if "bucket" in made:
        attempt(f"bucket {made['bucket']}", lambda: _delete_bucket(pool, made["bucket"]))
    return leftovers


def _delete_bucket(pool: SessionPool, bucket: str) -> None:
    s3 = pool.client("s3")
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys: Any = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if keys:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
    s3.delete_bucket(Bucket=bucket)
