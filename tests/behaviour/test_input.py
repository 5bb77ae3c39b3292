"""Bad input: one clear error at the call that names the bad value, and a pool that keeps
working afterwards (each case followed by a real round trip).

Profiles that do not exist, services that do not exist, both spellings of an argument with
different values, wrong types and empty strings; client arguments (a config that is not a
botocore ``Config``, a garbage ``endpoint_url``, a malformed region, an unknown API version);
broken configuration files; a scope function that returns something unhashable. The error is
sessionpool's, or botocore's where botocore is closer to the cause. Options refused when a pool
is made: ``tests/unit/test_config.py``.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import (
    ConfigParseError,
    DataNotFoundError,
    InvalidRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    UnknownServiceError,
)

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


def works(pool: SessionPool, **key_args: Any) -> None:
    """A real round trip through the pool."""
    s3 = pool.client("s3", **key_args)
    bucket = f"bad-input-{uuid.uuid4().hex[:16]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"still working")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"still working"


# -- unknown profile -------------------------------------------------------------------------------


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


# -- unknown service -------------------------------------------------------------------------------


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


# -- conflicting spellings -------------------------------------------------------------------------


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


def test_both_spellings_with_one_value_are_fine(pool: SessionPool) -> None:
    assert pool.client("s3", profile="prod", profile_name="prod") is pool.client(
        "s3", profile="prod"
    )


def test_pool_keeps_working_after_a_conflict(pool: SessionPool, bucket: str) -> None:
    with pytest.raises(ConflictingArgumentError):
        pool.client("s3", profile="prod", profile_name="dev")
    still_works(pool, bucket)


# -- wrong types and empty strings -----------------------------------------------------------------


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


# -- the pool's own options ------------------------------------------------------------------------


def test_the_pool_keeps_working_after_refusing_bad_options(pool: SessionPool) -> None:
    for kwargs in ({"max_keys": 0}, {"idle_timeout": "1"}, {"retry_expired": "no"}):
        with pytest.raises(InvalidArgumentError):
            SessionPool(**kwargs)
    works(pool)
    with SessionPool(max_keys=2, idle_timeout=60, retry_expired=True) as good:
        works(good)


# -- client arguments ------------------------------------------------------------------------------


def test_a_config_that_is_not_a_botocore_config_is_refused_naming_it(pool: SessionPool) -> None:
    for call in (
        lambda: pool.client("s3", config={"retries": {"max_attempts": 1}}),
        lambda: pool.resource("s3", config={"retries": {"max_attempts": 1}}),
        lambda: pool.get_session().client("s3", config="fast"),
    ):
        with pytest.raises(InvalidArgumentError, match="config"):
            call()
    works(pool)


@pytest.mark.parametrize("url", ["not a url", "", "http://exa mple.com"])
def test_a_garbage_endpoint_url_raises_botocores_value_error_naming_it(
    pool: SessionPool, url: str
) -> None:
    # botocore names a malformed URL; the pool itself refuses an empty one, naming the argument.
    expected = "Invalid endpoint" if url else "endpoint_url is an empty string"
    with pytest.raises(ValueError, match=expected):
        pool.client("s3", endpoint_url=url)
    with pytest.raises(ValueError, match=expected):  # again: nothing half-made cached
        pool.client("s3", endpoint_url=url)
    assert pool.stats()["clients_created"] == 0
    works(pool)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("endpoint_url", 5),
        ("endpoint_url", b"http://127.0.0.1:1"),
        ("api_version", 5),
        ("verify", ["/etc/ssl/certs"]),
        ("verify", 123),
        ("use_ssl", "yes"),
    ],
)
def test_a_client_argument_of_the_wrong_type_raises_an_error_naming_it(
    pool: SessionPool, name: str, value: Any
) -> None:
    # boto3 documents endpoint_url and api_version as strings, use_ssl as a bool, verify as a
    # bool or a path. Passed through unchecked, they fail deep inside botocore ("'int' object is
    # not iterable"), or inside the pool's cache key ("unhashable type: 'list'"), or not at all.
    with pytest.raises((TypeError, ValueError), match=name):
        pool.client("s3", **{name: value})
    works(pool)


def test_a_malformed_region_raises_botocores_invalid_region_error_naming_it(
    pool: SessionPool,
) -> None:
    with pytest.raises(InvalidRegionError, match="not a region!"):
        pool.client("s3", region="not a region!")
    works(pool)


def test_a_well_formed_unknown_region_is_accepted_as_boto3_accepts_it(pool: SessionPool) -> None:
    # botocore cannot know regions launched after its release, so it accepts any well-formed
    # name; so does the pool (the call reaches the endpoint, which is where it would fail).
    moon = pool.client("s3", region="moon-1")
    assert moon.meta.region_name == "moon-1"
    assert isinstance(moon.list_buckets()["Buckets"], list)  # a real call
    works(pool)


def test_an_unknown_api_version_raises_botocores_error_naming_it(pool: SessionPool) -> None:
    with pytest.raises(DataNotFoundError, match="1999-01-01"):
        pool.client("s3", api_version="1999-01-01")
    works(pool)


# -- configuration files ---------------------------------------------------------------------------


def test_a_malformed_config_file_raises_botocores_error_naming_the_file(
    pool: SessionPool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    works(pool)  # a key made before the file broke
    broken = tmp_path / "broken-config"
    broken.write_text("[default]\nregion = us-east-1\n[profile prod\nregion = eu-west-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(broken))

    with pytest.raises(ConfigParseError, match="broken-config"):
        pool.client("s3", profile="prod")
    with pytest.raises(ConfigParseError, match="broken-config"):
        SessionPool().client("s3")
    assert pool.stats()["sessions_created"] == 1  # nothing half-made was kept

    works(pool)  # the session made before is unaffected


def test_the_pool_recovers_once_a_malformed_config_file_is_fixed(
    pool: SessionPool, aws_files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    config, _ = aws_files
    good = config.read_text()
    config.write_text("this is not an ini file\n")
    with pytest.raises(ConfigParseError, match=str(config)):
        pool.client("s3", profile="prod")
    config.write_text(good)
    works(pool, profile="prod")


def test_a_profile_with_a_key_id_but_no_secret_raises_a_partial_credentials_error(
    pool: SessionPool, aws_files: tuple[Path, Path]
) -> None:
    _, credentials = aws_files
    with credentials.open("a") as f:
        f.write("\n[half]\naws_access_key_id = AKIAHALFEXAMPLE00001\n")
    with pytest.raises(PartialCredentialsError, match="aws_secret_access_key"):
        pool.client("s3", profile="half")
    with pytest.raises(PartialCredentialsError):  # not cached as "no credentials"
        pool.get_session(profile="half")
    works(pool)
    works(pool, profile="prod")


# -- scope functions -------------------------------------------------------------------------------


def test_a_scopefunc_returning_an_unhashable_owner_is_an_invalid_argument(aws_env: Any) -> None:
    with SessionPool(scopefunc=lambda: ["request", 1]) as pool:
        with pytest.raises(InvalidArgumentError, match="scopefunc") as caught:
            pool.client("s3")
        assert "hashable" in str(caught.value)
        assert "list" in str(caught.value)
        with pytest.raises(InvalidArgumentError, match="scopefunc"):
            pool.release()


def test_a_type_error_inside_the_scopefunc_is_the_users_own(aws_env: Any) -> None:
    def owner() -> str:
        raise TypeError("a bug in the scope function")

    with SessionPool(scopefunc=owner) as pool:
        with pytest.raises(TypeError, match="a bug in the scope function"):
            pool.client("s3")
