"""A scan for secrets: no secret key or session token in anything sessionpool produces (HAZARDS X1).

One lifecycle with explicit keys and a session token, given to a pool and to calls, including
failures (an unknown profile, an unknown service, bad arguments, a closed pool). Every logger is
at DEBUG except botocore's and urllib3's wire logs, which print signed request headers (and so the
session token) by design; those are botocore's output, not ours.
"""

from __future__ import annotations

import logging
import pickle
import traceback
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ProfileNotFound, UnknownServiceError

from sessionpool import (
    ConflictingArgumentError,
    InvalidArgumentError,
    PoolClosedError,
    SessionKey,
    SessionPool,
)
from tests.support.aws import DUMMY_SECRET

WIRE_LOGGERS = ("botocore.auth", "botocore.endpoint", "botocore.parsers", "urllib3")

POOL_KEY_ID = "AKIAPOOLEXAMPLE00001"
CALL_KEY_ID = "AKIACALLEXAMPLE00002"


class Secrets:
    def __init__(self) -> None:
        tag = uuid.uuid4().hex
        self.pool_secret = f"pool-secret-{tag}"
        self.pool_token = f"pool-token-{tag}"
        self.call_secret = f"call-secret-{tag}"
        self.call_token = f"call-token-{tag}"

    def all(self) -> tuple[str, ...]:
        return (self.pool_secret, self.pool_token, self.call_secret, self.call_token)

    def leaked_in(self, text: str) -> list[str]:
        """Which kinds of secret appear in ``text`` (names only, never the values)."""
        names = ("pool secret", "pool token", "call secret", "call token")
        return [name for name, value in zip(names, self.all()) if value in text]


@pytest.fixture
def secrets() -> Secrets:
    return Secrets()


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    # set_level also sets the capture handler's level, so the DEBUG calls come last.
    for name in WIRE_LOGGERS:
        caplog.set_level(logging.INFO, logger=name)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sessionpool")
    return caplog


def failure_text(call: Callable[[], Any], expected: type[BaseException]) -> list[str]:
    """Run a call that must fail; return its message, repr and formatted traceback."""
    try:
        call()
    except expected as exc:
        return [str(exc), repr(exc), traceback.format_exc()]
    raise AssertionError(f"expected {expected.__name__}")


def lifecycle(pool: SessionPool, secrets: Secrets, bucket: str) -> list[str]:
    """Use the pool every way we know, including failures; return every text it produced."""
    call_keys = {
        "aws_access_key_id": CALL_KEY_ID,
        "aws_secret_access_key": secrets.call_secret,
        "aws_session_token": secrets.call_token,
    }
    texts: list[str] = []
    s3 = pool.client("s3")
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    keyed = pool.client("s3", **call_keys)
    keyed.get_object(Bucket=bucket, Key="k")["Body"].read()
    pool.resource("s3", **call_keys).Object(bucket, "k").load()
    session = pool.get_session(**call_keys)
    session.client("sqs", aws_access_key_id=CALL_KEY_ID, aws_secret_access_key=secrets.pool_secret)
    with pool.session(profile="dev", **call_keys) as scoped:
        pool.client("s3").list_buckets()
        texts += [repr(scoped), str(scoped)]
    for s in (pool.get_session(), session):
        texts += [repr(s), str(s), repr(s.pool_key), str(s.pool_key), s.pool_key.describe()]
    for kwargs in ({}, call_keys, {"profile": "dev", **call_keys}):
        key = SessionKey.build(kwargs, pool.get_session().pool_key)
        texts += [repr(key), str(key), key.describe(), repr(key.static_keys)]

    texts += failure_text(
        lambda: pool.client("s3", profile="no-such", **call_keys), ProfileNotFound
    )
    texts += failure_text(lambda: pool.client("no-such-service", **call_keys), UnknownServiceError)
    texts += failure_text(
        lambda: pool.client("s3", region="eu-west-1", region_name="us-east-1", **call_keys),
        ConflictingArgumentError,
    )
    texts += failure_text(
        lambda: pool.client("s3", aws_secret_access_key=secrets.call_secret), InvalidArgumentError
    )
    texts += failure_text(
        lambda: pool.client(
            "s3",
            aws_access_key_id=CALL_KEY_ID,
            aws_secret_access_key=secrets.call_secret,
            aws_session_token="",
        ),
        InvalidArgumentError,
    )
    texts += [repr(pool), str(pool), str(pool.stats())]
    pool.close()
    texts += failure_text(lambda: pool.client("s3", **call_keys), PoolClosedError)
    texts += failure_text(lambda: pool.get_session(), PoolClosedError)
    texts += [repr(pool), str(pool), str(pool.stats())]
    return texts


@pytest.fixture
def keyed_pool(aws_env: Any, secrets: Secrets) -> SessionPool:
    return SessionPool(
        aws_access_key_id=POOL_KEY_ID,
        aws_secret_access_key=secrets.pool_secret,
        aws_session_token=secrets.pool_token,
    )


@pytest.fixture
def keyed_bucket(keyed_pool: SessionPool) -> str:
    name = f"b-{uuid.uuid4().hex[:20]}"
    keyed_pool.client("s3").create_bucket(Bucket=name)
    return name


def test_no_secret_in_reprs_stats_or_error_text(
    keyed_pool: SessionPool, keyed_bucket: str, secrets: Secrets, debug_logs: Any
) -> None:
    texts = lifecycle(keyed_pool, secrets, keyed_bucket)
    leaks = [(i, secrets.leaked_in(t)) for i, t in enumerate(texts) if secrets.leaked_in(t)]
    assert leaks == []


def test_no_secret_in_log_records(
    keyed_pool: SessionPool, keyed_bucket: str, secrets: Secrets, debug_logs: Any
) -> None:
    lifecycle(keyed_pool, secrets, keyed_bucket)
    records = debug_logs.records
    assert any(r.name == "sessionpool" for r in records)  # the scan saw our DEBUG output
    leaks = []
    for record in records:
        text = record.getMessage()
        if record.exc_info:
            text += "".join(traceback.format_exception(*record.exc_info))
        if secrets.leaked_in(text):
            leaks.append((record.name, record.levelname, secrets.leaked_in(text)))
    assert leaks == []


def test_no_secret_in_the_captured_log_text(
    keyed_pool: SessionPool, keyed_bucket: str, secrets: Secrets, debug_logs: Any
) -> None:
    lifecycle(keyed_pool, secrets, keyed_bucket)
    assert secrets.leaked_in(debug_logs.text) == []


def test_the_scan_would_see_a_leak(secrets: Secrets) -> None:
    # The detector itself: a text holding a secret is reported, by name only.
    assert secrets.leaked_in(f"oops {secrets.call_token}") == ["call token"]


def test_pickled_pool_without_explicit_keys_holds_no_secret(pool: SessionPool, bucket: str) -> None:
    pool.client("s3").head_bucket(Bucket=bucket)  # credentials resolved from the environment
    with pool.session(profile="prod"):
        pool.client("s3")
    data = pickle.dumps(pool)
    assert DUMMY_SECRET.encode() not in data
    assert b"prod-secret-EXAMPLE" not in data


def test_pickled_fresh_pool_holds_no_secret(aws_env: Any) -> None:
    data = pickle.dumps(SessionPool())
    assert DUMMY_SECRET.encode() not in data


def test_pickled_pool_with_a_region_holds_no_secret(aws_env: Any) -> None:
    with SessionPool(profile="dev", region="eu-west-1") as pool:
        pool.client("s3")
        data = pickle.dumps(pool)
    assert DUMMY_SECRET.encode() not in data
    assert b"dev-secret-EXAMPLE" not in data
    restored = pickle.loads(data)
    assert restored.get_session().profile_name == "dev"
    restored.close()
