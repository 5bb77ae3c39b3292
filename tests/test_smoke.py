from __future__ import annotations

import boto3
import pytest

from sessionpool import SessionPool

pytestmark = pytest.mark.compat  # in the matrix's floor cell too (tasks.py matrix)


def test_client_round_trip_through_moto(pool: SessionPool, bucket: str) -> None:
    s3 = pool.client("s3")
    s3.put_object(Bucket=bucket, Key="k", Body=b"hello")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"hello"
    assert s3 is pool.client("s3")
    with pool.session() as s:
        assert isinstance(s, boto3.session.Session)
        assert s.client("s3") is s3
