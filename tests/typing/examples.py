"""What the pool hands out is typed exactly as boto3's own calls are: checked, never executed.

``tests/typing/check.py`` runs mypy (and pyright, if installed) on this file, as a user's code
is checked against an installed sessionpool. Each ``reveal_type`` shows a pair: sessionpool's
call, then boto3's own. The check requires the two halves to be the same type, and that type to
be the service's client or resource class from the installed stubs (``mypy_boto3_s3`` with
boto3-stubs, ``types_boto3_s3`` with types-boto3), except on lines marked ``# expect: Any``
(no stub package installed for that service). With no stubs at all, sessionpool's half must be
``Any`` and the file must still type-check.

The file names no stub package, so the same file checks every family.
"""

from __future__ import annotations

import boto3
from boto3.session import Session
from botocore.config import Config
from typing_extensions import reveal_type

import sessionpool
from sessionpool import PooledSession, SessionPool


def clients(pool: SessionPool, boto: Session) -> None:
    reveal_type((pool.client("s3"), boto.client("s3")))
    reveal_type((pool.client("sqs", region="eu-west-1"), boto.client("sqs")))
    reveal_type((pool.client("dynamodb", profile="prod"), boto.client("dynamodb")))
    reveal_type((pool.client("ec2"), boto.client("ec2")))
    # boto3's positional form (region_name) and the keyword form of the service name.
    reveal_type((pool.client("lambda", "eu-west-1"), boto.client("lambda", "eu-west-1")))
    reveal_type((pool.client(service_name="ec2", region="us-west-2"), boto.client("ec2")))
    reveal_type(
        (
            pool.client("s3", endpoint_url="http://127.0.0.1:5000", config=Config()),
            boto.client("s3", endpoint_url="http://127.0.0.1:5000", config=Config()),
        )
    )
    reveal_type((pool.client("acm"), boto.client("acm")))  # expect: Any


def resources(pool: SessionPool, boto: Session) -> None:
    reveal_type((pool.resource("dynamodb"), boto.resource("dynamodb")))
    reveal_type((pool.resource("ec2"), boto.resource("ec2")))
    reveal_type((pool.resource("s3", "eu-west-1"), boto.resource("s3", "eu-west-1")))
    reveal_type((pool.resource("dynamodb").Table("jobs"), boto.resource("dynamodb").Table("j")))


def sessions(pool: SessionPool, boto: Session) -> None:
    with pool.session(profile="prod") as s:
        assert isinstance(s, PooledSession)
        assert isinstance(s, Session)
        reveal_type((s.client("s3"), boto.client("s3")))
        reveal_type((s.client("sqs"), boto.client("sqs")))
        s.client("s3").list_buckets()


def default_pool() -> None:
    reveal_type((sessionpool.client("s3"), boto3.client("s3")))
    reveal_type((sessionpool.client("sqs"), boto3.client("sqs")))
    reveal_type((sessionpool.client("ec2", "eu-west-1"), boto3.client("ec2", "eu-west-1")))
    reveal_type((sessionpool.client("lambda", profile="prod"), boto3.client("lambda")))
    reveal_type((sessionpool.resource("dynamodb"), boto3.resource("dynamodb")))
    with sessionpool.session() as s:
        reveal_type((s.client("dynamodb"), boto3.client("dynamodb")))


def mistakes(pool: SessionPool) -> None:
    # A wrong keyword type is an error, with or without stubs (the ignore must be used: mypy
    # --strict reports an unused one).
    pool.client("s3", region=5)  # type: ignore[call-overload]
    sessionpool.resource("sqs", profile=["prod"])  # type: ignore[call-overload]
