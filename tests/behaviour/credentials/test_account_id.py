"""``aws_account_id``: accepted wherever boto3 accepts it (boto3 1.35+), carried by the shared
credentials; a clear error on a boto3 that lacks it."""

from __future__ import annotations

import inspect

import boto3.session
import botocore.exceptions
import pytest

import sessionpool
from sessionpool import InvalidArgumentError, SessionPool

pytestmark = pytest.mark.compat  # the floor cell checks the error

SUPPORTED = "aws_account_id" in inspect.signature(boto3.session.Session).parameters
KEYS = {
    "aws_access_key_id": "AKIAACCOUNTEXAMPLE01",
    "aws_secret_access_key": "account-secret-EXAMPLE",
}


@pytest.mark.skipif(not SUPPORTED, reason="boto3 < 1.35 has no aws_account_id")
def test_an_account_id_given_with_keys_is_carried_by_the_credentials(pool: SessionPool) -> None:
    client = pool.client("s3", aws_account_id="123456789012", **KEYS)
    session = pool.get_session(aws_account_id="123456789012", **KEYS)
    assert session.get_credentials().account_id == "123456789012"
    frozen = client._request_signer._credentials.get_frozen_credentials()
    assert (frozen.access_key, frozen.account_id) == (KEYS["aws_access_key_id"], "123456789012")
    assert "Buckets" in client.list_buckets()


@pytest.mark.skipif(not SUPPORTED, reason="boto3 < 1.35 has no aws_account_id")
def test_an_account_id_is_part_of_the_key(pool: SessionPool) -> None:
    a = pool.get_session(aws_account_id="123456789012", **KEYS)
    b = pool.get_session(aws_account_id="210987654321", **KEYS)
    assert a is not b
    assert pool.get_session(**KEYS) is not a


@pytest.mark.skipif(not SUPPORTED, reason="boto3 < 1.35 has no aws_account_id")
def test_a_pool_default_account_id_applies_to_its_keys(aws_env: object) -> None:
    with SessionPool(aws_account_id="123456789012", **KEYS) as pool:
        assert pool.get_session().get_credentials().account_id == "123456789012"
        assert sessionpool.SessionPool.__reduce__(pool)  # still pickles as its configuration


@pytest.mark.skipif(not SUPPORTED, reason="boto3 < 1.35 has no aws_account_id")
def test_an_account_id_without_keys_is_refused_as_boto3_refuses_it(pool: SessionPool) -> None:
    with pytest.raises(botocore.exceptions.NoCredentialsError, match="aws_account_id"):
        pool.client("s3", aws_account_id="123456789012")
    with pytest.raises(botocore.exceptions.NoCredentialsError):
        boto3.session.Session(aws_account_id="123456789012")


@pytest.mark.skipif(SUPPORTED, reason="this boto3 takes aws_account_id")
def test_an_account_id_on_an_old_boto3_says_which_boto3_it_needs(pool: SessionPool) -> None:
    with pytest.raises(InvalidArgumentError, match=r"boto3 1\.35 or newer.*boto3 1\.34"):
        pool.client("s3", aws_account_id="123456789012", **KEYS)
