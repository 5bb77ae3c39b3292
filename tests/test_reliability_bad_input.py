"""Bad input, beyond tests/test_bad_input.py (issue 4): the pool's own options, client arguments,
broken configuration files. Each gets one clear error naming the bad value (sessionpool's, or
botocore's where botocore is closer to the cause), and the pool keeps working afterwards.
"""

from __future__ import annotations

import math
import uuid
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import (
    ConfigParseError,
    DataNotFoundError,
    InvalidRegionError,
    PartialCredentialsError,
)

from sessionpool import InvalidArgumentError, SessionPool


def works(pool: SessionPool, **key_args: Any) -> None:
    """A real round trip through the pool."""
    s3 = pool.client("s3", **key_args)
    bucket = f"bad-input-{uuid.uuid4().hex[:16]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"still working")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"still working"


# -- the pool's own options ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("max_keys", "2"),
        ("max_keys", 0),
        ("max_keys", -1),
        ("max_keys", 2.5),
        ("max_keys", True),
        ("idle_timeout", "60"),
        ("idle_timeout", 0),
        ("idle_timeout", -5),
        ("idle_timeout", math.nan),
        ("idle_timeout", math.inf),
        ("idle_timeout", True),
        ("retry_expired", "yes"),
        ("retry_expired", 1),
        ("retry_expired", None),
        ("clock", 42),
        ("clock", "monotonic"),
    ],
)
def test_a_bad_pool_option_is_refused_at_construction_naming_it(
    aws_env: Any, name: str, value: Any
) -> None:
    with pytest.raises(InvalidArgumentError, match=name) as info:
        SessionPool(**{name: value})
    assert repr(value) in str(info.value) or str(value) in str(info.value)


@pytest.mark.parametrize("name", ["config", "endpoint_url", "foo"])
def test_an_unknown_pool_argument_is_refused_naming_it(aws_env: Any, name: str) -> None:
    with pytest.raises(InvalidArgumentError, match=name):
        SessionPool(**{name: Config() if name == "config" else "x"})


def test_the_pool_keeps_working_after_refusing_bad_options(pool: SessionPool) -> None:
    for kwargs in ({"max_keys": 0}, {"idle_timeout": "1"}, {"retry_expired": "no"}):
        with pytest.raises(InvalidArgumentError):
            SessionPool(**kwargs)
    works(pool)
    with SessionPool(max_keys=2, idle_timeout=60, retry_expired=True) as good:
        works(good)


# -- client arguments ----------------------------------------------------------------------------


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


# -- configuration files -------------------------------------------------------------------------


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
