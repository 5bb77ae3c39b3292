"""Key separation: what makes two sessions, or two clients, the same or different.

Profiles, regions and explicit credentials choose the session (``SessionKey``); every argument
that changes a client chooses the client (its cache key). Profiles and keys come from the
``aws_env`` fixture: prod is in eu-west-1, dev in us-west-2, each with its own dummy key id.
Which key a client signs with is read off the client: no request is made (a round trip with
explicit keys is in ``tests/behaviour/test_round_trips.py``).
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import DataNotFoundError

from sessionpool import (
    ConflictingArgumentError,
    InvalidArgumentError,
    SessionKey,
    SessionPool,
    SessionPoolError,
)

PROD_KEY_ID = "AKIAPRODEXAMPLE00001"
DEV_KEY_ID = "AKIADEVEXAMPLE000002"
KEY_ID = "AKIAEXAMPLEEXPLICIT1"
SECRET_A = "explicit-secret-A-EXAMPLE-not-real-000000"
SECRET_B = "explicit-secret-B-EXAMPLE-not-real-000000"


@pytest.fixture
def profile_regions(aws_env: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Profiles' regions in effect: ``AWS_DEFAULT_REGION`` would win over them, as in boto3."""
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    return aws_env


def frozen(session: Any) -> Any:
    return session.get_credentials().get_frozen_credentials()


def signing_key_id(client: Any) -> str:
    key_id: str = client._request_signer._credentials.get_frozen_credentials().access_key
    return key_id


def signing_secret_matches(client: Any, secret: str) -> bool:
    frozen = client._request_signer._credentials.get_frozen_credentials()
    return bool(frozen.secret_key == secret)


# -- profiles ------------------------------------------------------------------------------------


def test_profiles_get_different_sessions(pool: SessionPool) -> None:
    prod, dev = pool.get_session(profile="prod"), pool.get_session(profile="dev")
    assert prod is not dev
    assert (prod.profile_name, dev.profile_name) == ("prod", "dev")
    assert pool.get_session(profile="prod") is prod


def test_profiles_get_different_clients(pool: SessionPool) -> None:
    prod, dev = pool.client("s3", profile="prod"), pool.client("s3", profile="dev")
    assert prod is not dev
    assert pool.client("s3", profile="prod") is prod
    assert pool.client("s3") is not prod and pool.client("s3") is not dev


@pytest.mark.usefixtures("profile_regions")
def test_each_profile_uses_its_own_region(pool: SessionPool) -> None:
    assert pool.get_session(profile="prod").region_name == "eu-west-1"
    assert pool.get_session(profile="dev").region_name == "us-west-2"
    assert pool.client("sqs", profile="prod").meta.region_name == "eu-west-1"
    assert pool.client("sqs", profile="dev").meta.region_name == "us-west-2"


def test_each_profile_signs_with_its_own_key_id(pool: SessionPool) -> None:
    assert signing_key_id(pool.client("s3", profile="prod")) == PROD_KEY_ID
    assert signing_key_id(pool.client("s3", profile="dev")) == DEV_KEY_ID


def test_default_region_env_wins_over_a_profiles_region_as_in_boto3(pool: SessionPool) -> None:
    # aws_env sets AWS_DEFAULT_REGION=us-east-1, which boto3 prefers to a profile's region.
    assert pool.get_session(profile="prod").region_name == "us-east-1"
    assert (
        pool.get_session(profile="prod").region_name
        == boto3.Session(profile_name="prod").region_name
    )


def test_profile_and_profile_name_are_one_key(pool: SessionPool) -> None:
    assert pool.get_session(profile="prod") is pool.get_session(profile_name="prod")
    assert pool.client("s3", profile_name="dev") is pool.client("s3", profile="dev")


# -- regions -------------------------------------------------------------------------------------


def test_region_and_region_name_are_one_key(pool: SessionPool) -> None:
    assert pool.get_session(region="eu-central-1") is pool.get_session(region_name="eu-central-1")
    assert pool.client("s3", region="eu-central-1") is pool.client("s3", region_name="eu-central-1")


def test_different_regions_get_different_sessions(pool: SessionPool) -> None:
    a, b = pool.get_session(region="eu-central-1"), pool.get_session(region="ap-south-1")
    assert a is not b
    assert (a.region_name, b.region_name) == ("eu-central-1", "ap-south-1")
    assert pool.client("sqs", region="ap-south-1").meta.region_name == "ap-south-1"


@pytest.mark.usefixtures("profile_regions")
def test_region_overrides_the_profiles_region_at_the_call(pool: SessionPool) -> None:
    s = pool.get_session(profile="prod", region="ap-south-1")
    assert (s.profile_name, s.region_name) == ("prod", "ap-south-1")
    assert s is not pool.get_session(profile="prod")


# -- explicit credentials ------------------------------------------------------------------------


def test_keys_differing_only_in_the_secret_get_different_sessions(pool: SessionPool) -> None:
    a = pool.get_session(aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET_A)
    b = pool.get_session(aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET_B)
    assert a is not b
    assert a is pool.get_session(aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET_A)
    assert frozen(a).secret_key == SECRET_A
    assert frozen(b).secret_key == SECRET_B


def test_clients_sign_with_the_explicit_keys_they_were_given(pool: SessionPool) -> None:
    a = pool.client("s3", aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET_A)
    b = pool.client("s3", aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET_B)
    assert a is not b
    assert signing_key_id(a) == KEY_ID and signing_key_id(b) == KEY_ID
    assert signing_secret_matches(a, SECRET_A)
    assert signing_secret_matches(b, SECRET_B)


def test_session_token_is_part_of_the_key(pool: SessionPool) -> None:
    base = {"aws_access_key_id": KEY_ID, "aws_secret_access_key": SECRET_A}
    a = pool.get_session(**base, aws_session_token="token-one")
    b = pool.get_session(**base, aws_session_token="token-two")
    assert a is not b and a is not pool.get_session(**base)
    assert frozen(b).token == "token-two"


# -- pool defaults -------------------------------------------------------------------------------


def test_pool_region_overrides_the_profiles_region(profile_regions: Any) -> None:
    with SessionPool(region="us-east-1") as pool:
        assert pool.get_session(profile="prod").region_name == "us-east-1"
        assert pool.client("sqs", profile="prod").meta.region_name == "us-east-1"


def test_pool_profile_is_the_default_key(profile_regions: Any) -> None:
    with SessionPool(profile="prod") as pool:
        s = pool.get_session()
        assert (s.profile_name, s.region_name) == ("prod", "eu-west-1")
        assert signing_key_id(pool.client("s3")) == PROD_KEY_ID


def test_call_arguments_win_over_the_pools(profile_regions: Any) -> None:
    with SessionPool(profile="prod", region="us-east-1") as pool:
        s = pool.get_session(region="ap-south-1")
        assert (s.profile_name, s.region_name) == ("prod", "ap-south-1")
        dev = pool.get_session(profile="dev")
        assert (dev.profile_name, dev.region_name) == ("dev", "us-east-1")  # not dev's us-west-2
        assert signing_key_id(pool.client("s3", profile="dev")) == DEV_KEY_ID


def test_call_keys_win_over_the_pools_keys(aws_env: Any) -> None:
    with SessionPool(aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET_A) as pool:
        assert signing_secret_matches(pool.client("s3"), SECRET_A)
        other = pool.client(
            "s3", aws_access_key_id="AKIAEXAMPLEOTHER0002", aws_secret_access_key=SECRET_B
        )
        assert signing_key_id(other) == "AKIAEXAMPLEOTHER0002"
        assert signing_secret_matches(other, SECRET_B)


# -- client cache keys ---------------------------------------------------------------------------


def test_client_region_name_is_part_of_the_client_key(pool: SessionPool) -> None:
    s = pool.get_session()
    eu = s.client("sqs", region_name="eu-west-1")
    assert eu is not s.client("sqs")
    assert eu is s.client("sqs", region_name="eu-west-1")
    assert eu.meta.region_name == "eu-west-1"


def test_client_region_equal_to_the_sessions_is_the_plain_client(pool: SessionPool) -> None:
    s = pool.get_session()
    assert s.client("sqs", region_name=s.region_name) is s.client("sqs")


def test_endpoint_url_is_part_of_the_client_key(pool: SessionPool, aws_env: Any) -> None:
    s = pool.get_session()
    at_server = s.client("s3", endpoint_url=aws_env.url)
    assert at_server is not s.client("s3")
    assert at_server is s.client("s3", endpoint_url=aws_env.url)
    assert at_server is not s.client("s3", endpoint_url=aws_env.url + "/")


def test_equal_configs_give_the_same_client(pool: SessionPool) -> None:
    s = pool.get_session()
    a = s.client("s3", config=Config(retries={"max_attempts": 3}))
    assert s.client("s3", config=Config(retries={"max_attempts": 3})) is a
    assert pool.client("s3", config=Config(retries={"max_attempts": 3})) is a


def test_equal_nested_configs_in_another_order_give_the_same_client(pool: SessionPool) -> None:
    s = pool.get_session()
    a = s.client("s3", config=Config(retries={"max_attempts": 3, "mode": "standard"}))
    assert s.client("s3", config=Config(retries={"mode": "standard", "max_attempts": 3})) is a


def test_different_configs_give_different_clients(pool: SessionPool) -> None:
    s = pool.get_session()
    three = s.client("s3", config=Config(retries={"max_attempts": 3}))
    five = s.client("s3", config=Config(retries={"max_attempts": 5}))
    assert three is not five
    assert three is not s.client("s3")
    assert s.client("s3", config=Config(max_pool_connections=32)) is not three


@pytest.mark.parametrize(
    "arguments",
    [{"use_ssl": False}, {"verify": False}, {"verify": "/nonexistent/ca-bundle.pem"}],
    ids=["use_ssl", "verify", "verify-path"],
)
def test_connection_arguments_are_part_of_the_client_key(
    pool: SessionPool, arguments: dict[str, Any]
) -> None:
    s = pool.get_session()
    c = s.client("s3", **arguments)
    assert c is not s.client("s3")
    assert c is s.client("s3", **arguments)


def test_use_ssl_true_is_the_default_client(pool: SessionPool) -> None:
    s = pool.get_session()
    assert s.client("s3", use_ssl=True) is s.client("s3")


def test_api_version_is_part_of_the_client_key(pool: SessionPool) -> None:
    s = pool.get_session()
    versioned = s.client("s3", api_version="2006-03-01")
    assert versioned is s.client("s3", api_version="2006-03-01")
    assert versioned.meta.service_model.api_version == "2006-03-01"


def test_an_unknown_api_version_is_not_served_from_the_cache(pool: SessionPool) -> None:
    s = pool.get_session()
    s.client("s3")
    with pytest.raises(DataNotFoundError, match="1999-01-01"):
        s.client("s3", api_version="1999-01-01")


def test_client_credential_overrides_are_part_of_the_client_key(pool: SessionPool) -> None:
    s = pool.get_session()
    a = s.client("s3", aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET_A)
    b = s.client("s3", aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET_B)
    assert a is not b and a is not s.client("s3")
    assert a is s.client("s3", aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET_A)
    assert signing_secret_matches(b, SECRET_B)


def test_positional_and_keyword_client_arguments_are_one_key(pool: SessionPool) -> None:
    s = pool.get_session()
    assert s.client("sqs", "eu-west-1") is s.client("sqs", region_name="eu-west-1")


# -- SessionKey.build ----------------------------------------------------------------------------


def test_build_folds_boto3_spellings_into_ours() -> None:
    ours = SessionKey.build({"profile": "prod", "region": "eu-west-1"})
    boto = SessionKey.build({"profile_name": "prod", "region_name": "eu-west-1"})
    assert ours == boto and hash(ours) == hash(boto)
    assert (ours.profile, ours.region) == ("prod", "eu-west-1")


def test_build_accepts_both_spellings_with_one_value() -> None:
    key = SessionKey.build({"region": "eu-west-1", "region_name": "eu-west-1"})
    assert key.region == "eu-west-1"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"profile": "prod", "profile_name": "dev"},
        {"region": "eu-west-1", "region_name": "us-east-1"},
    ],
    ids=["profile", "region"],
)
def test_build_refuses_two_spellings_with_different_values(kwargs: dict[str, str]) -> None:
    with pytest.raises(ConflictingArgumentError) as info:
        SessionKey.build(kwargs)
    assert isinstance(info.value, TypeError)
    assert isinstance(info.value, SessionPoolError)
    for value in kwargs.values():
        assert value in str(info.value)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"profile": 5},
        {"region": ["eu-west-1"]},
        {"profile_name": b"prod"},
        {"profile": ""},
        {"region": "   "},
        {"region_name": ""},
        {"aws_access_key_id": KEY_ID, "aws_secret_access_key": ""},
        {"aws_access_key_id": 1234, "aws_secret_access_key": SECRET_A},
    ],
)
def test_build_refuses_wrong_types_and_empty_strings(kwargs: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        SessionKey.build(kwargs)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, SessionPoolError)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"aws_access_key_id": KEY_ID},
        {"aws_secret_access_key": SECRET_A},
        {"aws_session_token": "token-only"},
        {"aws_access_key_id": KEY_ID, "aws_session_token": "token"},
    ],
    ids=["key-id-only", "secret-only", "token-only", "key-id-and-token"],
)
def test_build_refuses_incomplete_explicit_keys(kwargs: dict[str, str]) -> None:
    with pytest.raises(InvalidArgumentError):
        SessionKey.build(kwargs)


def test_build_refuses_unknown_arguments() -> None:
    with pytest.raises(InvalidArgumentError, match="regoin"):
        SessionKey.build({"regoin": "eu-west-1"})


def test_build_layers_arguments_over_defaults() -> None:
    defaults = SessionKey.build({"profile": "prod", "region": "eu-west-1"})
    key = SessionKey.build({"region": "ap-south-1"}, defaults)
    assert (key.profile, key.region) == ("prod", "ap-south-1")
    assert SessionKey.build({}, defaults) == defaults


def test_build_inherits_default_keys_unless_given_new_ones() -> None:
    defaults = SessionKey.build({"aws_access_key_id": KEY_ID, "aws_secret_access_key": SECRET_A})
    inherited = SessionKey.build({"region": "eu-west-1"}, defaults)
    assert inherited.credentials_fingerprint == defaults.credentials_fingerprint
    replaced = SessionKey.build(
        {"aws_access_key_id": KEY_ID, "aws_secret_access_key": SECRET_B}, defaults
    )
    assert replaced.credentials_fingerprint != defaults.credentials_fingerprint


def test_keys_differing_only_in_the_secret_are_unequal() -> None:
    a = SessionKey.build({"aws_access_key_id": KEY_ID, "aws_secret_access_key": SECRET_A})
    b = SessionKey.build({"aws_access_key_id": KEY_ID, "aws_secret_access_key": SECRET_B})
    again = SessionKey.build({"aws_access_key_id": KEY_ID, "aws_secret_access_key": SECRET_A})
    assert a != b
    assert a == again and hash(a) == hash(again)
    assert len({a, b, again}) == 2


def test_keys_with_and_without_credentials_are_unequal() -> None:
    plain = SessionKey.build({"profile": "prod"})
    keyed = SessionKey.build(
        {"profile": "prod", "aws_access_key_id": KEY_ID, "aws_secret_access_key": SECRET_A}
    )
    assert plain != keyed
