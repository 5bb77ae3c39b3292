"""Bad input: clear errors at the call that names the bad value, and a pool that keeps working."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ProfileNotFound, UnknownServiceError

from sessionpool import (
    ConflictingArgumentError,
    InvalidArgumentError,
    SessionPool,
    SessionPoolError,
)


def still_works(pool: SessionPool, bucket: str) -> None:
    s3 = pool.client("s3")
    s3.put_object(Bucket=bucket, Key="after", Body=b"still working")
    assert s3.get_object(Bucket=bucket, Key="after")["Body"].read() == b"still working"
    assert pool.get_session(profile="prod").profile_name == "prod"


# -- unknown profile -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda p: p.client("s3", profile="no-such-profile"),
        lambda p: p.client("s3", profile_name="no-such-profile"),
        lambda p: p.resource("s3", profile="no-such-profile"),
        lambda p: p.get_session(profile="no-such-profile"),
        lambda p: p.session(profile="no-such-profile").__enter__(),
    ],
    ids=["client", "client-profile_name", "resource", "get_session", "session"],
)
def test_unknown_profile_raises_profile_not_found_naming_it(pool: SessionPool, call: Any) -> None:
    with pytest.raises(ProfileNotFound, match="no-such-profile"):
        call(pool)


def test_unknown_profile_raises_again_on_every_call(pool: SessionPool) -> None:
    for _ in range(3):
        with pytest.raises(ProfileNotFound, match="no-such-profile"):
            pool.client("s3", profile="no-such-profile")
    assert pool.stats()["sessions_created"] == 0


def test_pool_keeps_working_after_an_unknown_profile(pool: SessionPool, bucket: str) -> None:
    with pytest.raises(ProfileNotFound):
        pool.client("s3", profile="no-such-profile")
    still_works(pool, bucket)


def test_unknown_pool_profile_raises_at_first_use(aws_env: Any) -> None:
    with SessionPool(profile="no-such-profile") as pool:
        with pytest.raises(ProfileNotFound, match="no-such-profile"):
            pool.client("s3")
        assert pool.get_session(profile="dev").profile_name == "dev"


def test_unknown_profile_in_a_block_leaves_the_scope_untouched(pool: SessionPool) -> None:
    default = pool.get_session()
    with pytest.raises(ProfileNotFound), pool.session(profile="no-such-profile"):
        pass  # pragma: no cover - never entered
    assert pool.get_session() is default


# -- unknown service -----------------------------------------------------------------------------


def test_unknown_service_raises_unknown_service_error(pool: SessionPool) -> None:
    with pytest.raises(UnknownServiceError, match="no-such-service"):
        pool.client("no-such-service")


def test_unknown_service_raises_on_a_session_too(pool: SessionPool) -> None:
    with pytest.raises(UnknownServiceError, match="no-such-service"):
        pool.get_session().client("no-such-service")


def test_unknown_service_raises_after_the_same_thread_made_other_clients(
    pool: SessionPool,
) -> None:
    pool.client("s3")  # a warm fast path must not turn an unknown name into something else
    with pytest.raises(UnknownServiceError, match="no-such-service"):
        pool.client("no-such-service")
    with pytest.raises(UnknownServiceError, match="no-such-service"):
        pool.client("no-such-service", region="eu-west-1")


def test_pool_keeps_working_after_an_unknown_service(pool: SessionPool, bucket: str) -> None:
    with pytest.raises(UnknownServiceError):
        pool.client("no-such-service")
    still_works(pool, bucket)
    assert pool.stats()["clients_created"] == 1  # only the one s3 client


# -- conflicting spellings -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda p: p.client("s3", profile="prod", profile_name="dev"),
        lambda p: p.client("s3", region="eu-west-1", region_name="us-east-1"),
        lambda p: p.resource("s3", region="eu-west-1", region_name="us-east-1"),
        lambda p: p.get_session(profile="prod", profile_name="dev"),
        lambda p: p.session(region="eu-west-1", region_name="us-east-1").__enter__(),
    ],
    ids=["client-profile", "client-region", "resource", "get_session", "session"],
)
def test_both_spellings_with_different_values_conflict(pool: SessionPool, call: Any) -> None:
    with pytest.raises(ConflictingArgumentError) as info:
        call(pool)
    assert isinstance(info.value, TypeError)
    assert isinstance(info.value, SessionPoolError)


def test_pool_defaults_with_conflicting_spellings_are_refused(aws_env: Any) -> None:
    with pytest.raises(ConflictingArgumentError, match="region"):
        SessionPool(region="eu-west-1", region_name="us-east-1")


def test_both_spellings_with_one_value_are_fine(pool: SessionPool) -> None:
    assert pool.client("s3", profile="prod", profile_name="prod") is pool.client(
        "s3", profile="prod"
    )


def test_pool_keeps_working_after_a_conflict(pool: SessionPool, bucket: str) -> None:
    with pytest.raises(ConflictingArgumentError):
        pool.client("s3", profile="prod", profile_name="dev")
    still_works(pool, bucket)


# -- wrong types and empty strings ---------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda p: p.client("s3", profile=""),
        lambda p: p.client("s3", region="  "),
        lambda p: p.client("s3", region_name=""),
        lambda p: p.client("s3", profile=42),
        lambda p: p.client("s3", region=["eu-west-1"]),
        lambda p: p.client("s3", aws_access_key_id="AKIAEXAMPLE000000001"),
        lambda p: p.client("s3", aws_secret_access_key="secret-without-key-id"),
        lambda p: p.client(""),
        lambda p: p.client("   "),
        lambda p: p.client(42),
        lambda p: p.client(None),
        lambda p: p.resource(""),
        lambda p: p.get_session(profile=""),
        lambda p: p.get_session().client(""),
        lambda p: p.session(region=3).__enter__(),
    ],
    ids=[
        "empty-profile",
        "blank-region",
        "empty-region_name",
        "int-profile",
        "list-region",
        "key-id-without-secret",
        "secret-without-key-id",
        "empty-service",
        "blank-service",
        "int-service",
        "none-service",
        "resource-empty-service",
        "get_session-empty-profile",
        "session-client-empty-service",
        "session-int-region",
    ],
)
def test_bad_values_raise_invalid_argument_error(pool: SessionPool, call: Any) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        call(pool)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, SessionPoolError)


@pytest.mark.parametrize(
    "defaults",
    [{"profile": ""}, {"region": 7}, {"aws_access_key_id": "AKIAEXAMPLE000000001"}],
    ids=["empty-profile", "int-region", "key-id-without-secret"],
)
def test_bad_pool_defaults_are_refused_at_construction(aws_env: Any, defaults: Any) -> None:
    with pytest.raises(InvalidArgumentError):
        SessionPool(**defaults)


def test_pool_keeps_working_after_bad_values(pool: SessionPool, bucket: str) -> None:
    for bad in ({"profile": ""}, {"region": 5}, {"aws_access_key_id": "AKIAEXAMPLE000000001"}):
        with pytest.raises(InvalidArgumentError):
            pool.client("s3", **bad)
    with pytest.raises(InvalidArgumentError):
        pool.client("")
    still_works(pool, bucket)


def test_bad_input_in_a_block_does_not_change_the_blocks_key(pool: SessionPool) -> None:
    with pool.session(profile="prod") as prod:
        with pytest.raises(InvalidArgumentError):
            pool.client("s3", region="")
        with pytest.raises(ProfileNotFound):
            pool.client("s3", profile="no-such-profile")
        assert pool.get_session() is prod
