"""Real round trips: a pooled client's requests reach moto's server and come back, signed with
the environment's keys or with explicit keys given at the call; the pool's ``with`` block hands
out a plain boto3 Session whose clients are the pool's. The smallest check that the pool works.
"""

from __future__ import annotations

import boto3
import pytest

from sessionpool import SessionPool

KEY_ID = "AKIAEXAMPLEEXPLICIT1"
SECRET_A = "explicit-secret-A-EXAMPLE-not-real-000000"


@pytest.mark.compat  # in the matrix's floor cell too (tasks.py matrix)
def test_client_round_trip_through_moto(pool: SessionPool, bucket: str) -> None:
    s3 = pool.client("s3")
    s3.put_object(Bucket=bucket, Key="k", Body=b"hello")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"hello"
    assert s3 is pool.client("s3")
    with pool.session() as s:
        assert isinstance(s, boto3.session.Session)
        assert s.client("s3") is s3


def test_explicit_keys_make_real_calls(pool: SessionPool, bucket: str) -> None:
    s3 = pool.client("s3", aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET_A)
    s3.put_object(Bucket=bucket, Key="explicit", Body=b"signed by explicit keys")
    assert s3.get_object(Bucket=bucket, Key="explicit")["Body"].read() == b"signed by explicit keys"
