"""What boto3's own suite found when its sessions were pooled (tests/boto3_suite).

Each test states, with the pool alone, what one of boto3's tests checks: for the artefacts listed
in ``known_differences.py``, what the pool does instead (and equally); for the two
incompatibilities the suite found and that are fixed (they were listed there until then), that a
pooled session now behaves as boto3's does. An incompatibility found later gets its entry there
and an ``xfail(strict=True)`` test here until it is fixed.
"""

from __future__ import annotations

import inspect

import boto3.session
import botocore.exceptions
import pytest

from sessionpool import SessionPool
from tests.support.aws import DUMMY_KEY_ID, DUMMY_SECRET
from tests.support.servers import MotoServer

KEYS = {"aws_access_key_id": DUMMY_KEY_ID, "aws_secret_access_key": DUMMY_SECRET}
ACCOUNT = {"aws_session_token": "token-EXAMPLE", "aws_account_id": "123456789012"}
needs_account_id = pytest.mark.skipif(
    "aws_account_id" not in inspect.signature(boto3.session.Session).parameters,
    reason="boto3 < 1.35 has no aws_account_id",
)


@needs_account_id
def test_explicit_keys_reach_a_pooled_session_as_they_reach_a_plain_one(
    pool: SessionPool,
) -> None:
    # boto3's test_credentials_can_be_set(_with_account_id) assert a call of the mocked botocore
    # session's set_credentials(); the pool hands its botocore session one shared credentials
    # object per key instead. What the session signs with is the same.
    plain = boto3.session.Session(**KEYS, **ACCOUNT).get_credentials()
    pooled = pool.get_session(**KEYS, **ACCOUNT).get_credentials()
    assert pooled.get_frozen_credentials() == plain.get_frozen_credentials()
    assert pooled.account_id == plain.account_id == "123456789012"


@needs_account_id
def test_no_credentials_error_keeps_botocores_message(pool: SessionPool) -> None:
    with pytest.raises(botocore.exceptions.NoCredentialsError) as plain:
        boto3.session.Session(aws_account_id="123456789012")
    with pytest.raises(botocore.exceptions.NoCredentialsError) as pooled:
        pool.get_session(aws_account_id="123456789012")
    assert str(plain.value) in str(pooled.value)


def test_a_session_held_across_clears_gives_each_test_new_clients(
    pool: SessionPool, aws_env: MotoServer
) -> None:
    # As boto3's functional test_table does through boto3.DEFAULT_SESSION, with the pytest plugin
    # clearing every pool between tests: a Stubber or handler one test put on the client then
    # reaches the next test.
    session = pool.get_session()  # held, as boto3.DEFAULT_SESSION holds it
    pool.clear()  # the end of the test that made it
    first = session.client("s3")  # the next test
    first_table = session.resource("dynamodb").Table("t")
    pool.clear()  # its end
    assert session.client("s3") is not first  # the test after: a new client, as boto3 makes
    assert session.resource("dynamodb").Table("t").meta.client is not first_table.meta.client
