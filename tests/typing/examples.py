"""Checked by mypy in the test command (``python3 tasks.py test``), never executed.

With boto3-stubs installed for s3, sqs and dynamodb, what the pool hands out is typed as the
service's client or resource; ``assert_type`` fails the mypy run if that ever regresses.
"""

from __future__ import annotations

from typing import Any

import boto3
from mypy_boto3_dynamodb import DynamoDBClient
from mypy_boto3_dynamodb.service_resource import DynamoDBServiceResource, Table
from mypy_boto3_s3 import S3Client
from mypy_boto3_sqs import SQSClient
from typing_extensions import assert_type

import sessionpool
from sessionpool import PooledSession, SessionPool


def examples(pool: SessionPool) -> None:
    assert_type(pool.client("s3"), S3Client)
    assert_type(pool.client("sqs", region="eu-west-1"), SQSClient)
    assert_type(pool.client("dynamodb", profile="prod"), DynamoDBClient)
    assert_type(pool.client("ec2"), Any)  # no stubs installed for it: Any, never an error
    assert_type(pool.resource("dynamodb"), DynamoDBServiceResource)
    assert_type(pool.resource("dynamodb").Table("jobs"), Table)

    with pool.session(profile="prod") as s:
        assert_type(s, PooledSession)
        assert isinstance(s, boto3.session.Session)
        assert_type(s.client("s3"), S3Client)
        assert_type(s.client("sqs"), SQSClient)
        s.client("s3").list_buckets()

    assert_type(sessionpool.client("s3"), S3Client)
    assert_type(sessionpool.resource("dynamodb"), DynamoDBServiceResource)
    with sessionpool.session() as s2:
        assert_type(s2.client("dynamodb"), DynamoDBClient)
