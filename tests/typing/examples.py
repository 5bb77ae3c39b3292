"""Checked by mypy in the test command (``python3 tasks.py test``), never executed.

With boto3-stubs installed for s3, sqs, dynamodb, ec2 and lambda, what the pool hands out is
typed as the service's client or resource, exactly as ``boto3.client`` is, for every service the
installed stubs know (``sessionpool/_typed.pyi``); a service whose stub package is not installed
is ``Any``, never an error. ``assert_type`` fails the mypy run if that ever regresses.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from mypy_boto3_dynamodb import DynamoDBClient
from mypy_boto3_dynamodb.service_resource import DynamoDBServiceResource, Table
from mypy_boto3_ec2 import EC2Client
from mypy_boto3_ec2.service_resource import EC2ServiceResource
from mypy_boto3_lambda import LambdaClient
from mypy_boto3_s3 import S3Client
from mypy_boto3_s3.service_resource import S3ServiceResource
from mypy_boto3_sqs import SQSClient
from typing_extensions import assert_type

import sessionpool
from sessionpool import PooledSession, SessionPool


def examples(pool: SessionPool) -> None:
    assert_type(pool.client("s3"), S3Client)
    assert_type(pool.client("sqs", region="eu-west-1"), SQSClient)
    assert_type(pool.client("dynamodb", profile="prod"), DynamoDBClient)
    assert_type(pool.client("ec2"), EC2Client)
    assert_type(pool.client("lambda", "eu-west-1"), LambdaClient)  # boto3's positional form
    assert_type(pool.client(service_name="ec2", region="us-west-2"), EC2Client)
    assert_type(pool.client("s3", endpoint_url="http://127.0.0.1:5000", config=Config()), S3Client)
    assert_type(pool.client("acm"), Any)  # no stubs installed for it: Any, never an error
    assert_type(pool.resource("dynamodb"), DynamoDBServiceResource)
    assert_type(pool.resource("ec2"), EC2ServiceResource)
    assert_type(pool.resource("s3", "eu-west-1"), S3ServiceResource)
    assert_type(pool.resource("dynamodb").Table("jobs"), Table)

    with pool.session(profile="prod") as s:
        assert_type(s, PooledSession)
        assert isinstance(s, boto3.session.Session)
        assert_type(s.client("s3"), S3Client)
        assert_type(s.client("sqs"), SQSClient)
        s.client("s3").list_buckets()

    assert_type(sessionpool.client("s3"), S3Client)
    assert_type(sessionpool.client("ec2", "eu-west-1"), EC2Client)
    assert_type(sessionpool.client("lambda", profile="prod"), LambdaClient)
    assert_type(sessionpool.resource("dynamodb"), DynamoDBServiceResource)
    with sessionpool.session() as s2:
        assert_type(s2.client("dynamodb"), DynamoDBClient)


def mistakes(pool: SessionPool) -> None:
    # A wrong keyword type is an error, as with boto3.client (checked: the ignore must be used).
    pool.client("s3", region=5)  # type: ignore[call-overload]
