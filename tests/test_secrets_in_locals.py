"""Tracebacks formatted with local variables show no secret (issue 4, HAZARDS X1).

``traceback.TracebackException(..., capture_locals=True)`` (and tools built on it: error
trackers, rich tracebacks, pytest's ``--showlocals``) print ``repr()`` of every local of every
frame. sessionpool wraps secret arguments in a string whose repr is masked as soon as they enter
it, so no frame of its own, nor boto3's or botocore's below it, can show one.
"""

from __future__ import annotations

import pickle
import traceback
from collections.abc import Callable
from typing import Any

import pytest

import sessionpool
from sessionpool import SessionPool

SECRET = "locals-secret-EXAMPLE-0123456789abcdefghij"
TOKEN = "locals-token-EXAMPLE-9876543210zyxwvutsrq"
KEYS = {
    "aws_access_key_id": "AKIAEXAMPLELOCALS001",
    "aws_secret_access_key": SECRET,
    "aws_session_token": TOKEN,
}


def _with_locals(call: Callable[[], Any]) -> str:
    with pytest.raises(Exception) as info:
        call()
    exc = info.value
    text = "".join(traceback.TracebackException.from_exception(exc, capture_locals=True).format())
    return text + str(exc) + repr(exc)


CASES: dict[str, Callable[[SessionPool], Any]] = {
    "pool defaults with a bad option": lambda p: SessionPool(clock=42, **KEYS),
    "pool defaults with a conflict": lambda p: SessionPool(region="a", region_name="b", **KEYS),
    "call with an unknown service": lambda p: p.client("no-such-service", **KEYS),
    "call with a conflict": lambda p: p.client("s3", region="a", region_name="b", **KEYS),
    "call with a bad endpoint type": lambda p: p.client("s3", endpoint_url=5, **KEYS),
    "resource with an unknown service": lambda p: p.resource("no-such-service", **KEYS),
    "session with an unknown profile": lambda p: p.get_session(profile="no-such-profile", **KEYS),
    "key id without its secret": lambda p: p.client(
        "s3", aws_access_key_id="AKIAEXAMPLELOCALS002", aws_session_token=TOKEN
    ),
    "session client with a bad argument": lambda p: p.get_session().client(
        "s3", aws_access_key_id="AKIAEXAMPLELOCALS003", aws_secret_access_key=SECRET, verify=[1]
    ),
    "session client with an unknown service": lambda p: p.get_session().client(
        "no-such-service", aws_access_key_id="AKIAEXAMPLELOCALS004", aws_secret_access_key=SECRET
    ),
    "default pool function": lambda p: sessionpool.client("no-such-service", **KEYS),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_traceback_with_locals_shows_no_secret(
    case: str, pool: SessionPool, secrets_to_scan: set[str]
) -> None:
    secrets_to_scan.update({SECRET, TOKEN})
    text = _with_locals(lambda: CASES[case](pool))
    assert SECRET not in text
    assert TOKEN not in text
    pool.client("s3").list_buckets()  # and the pool still works


def test_a_pool_with_explicit_keys_still_signs_with_them_and_pickles_them(
    aws_env: Any, secrets_to_scan: set[str]
) -> None:
    secrets_to_scan.update({SECRET, TOKEN})
    with SessionPool(**KEYS) as pool:
        frozen = pool.get_session().get_credentials().get_frozen_credentials()
        assert (frozen.access_key, frozen.secret_key, frozen.token) == (
            KEYS["aws_access_key_id"],
            SECRET,
            TOKEN,
        )
        assert SECRET not in repr(frozen)  # botocore's namedtuple shows its fields' reprs
        # Explicit keys travel with the pool (documented): the other side needs them.
        assert SECRET.encode() in pickle.dumps(pool)
        pool.client("s3").list_buckets()
