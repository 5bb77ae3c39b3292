"""Errors that name the fix, without changing their types: code that catches botocore's
exceptions keeps working, and the message says what to do."""

from __future__ import annotations

from pathlib import Path

import botocore.exceptions
import pytest

import sessionpool
from sessionpool import SessionPool

DUMMY_KEYS = {"aws_access_key_id": "AKIAERRORSEXAMPLE001", "aws_secret_access_key": "x-EXAMPLE"}


def test_no_region_names_the_ways_to_give_one(
    aws_env: object, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.write_text("")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    with SessionPool() as pool:
        for call in (lambda: pool.client("sqs"), lambda: pool.resource("dynamodb")):
            with pytest.raises(botocore.exceptions.NoRegionError) as caught:
                call()
            assert isinstance(caught.value, sessionpool.SessionPoolError)
            message = str(caught.value)
            assert "SessionPool(region=" in message and "AWS_DEFAULT_REGION" in message
            assert message.startswith("You must specify a region: ")  # botocore's sentence first
        assert pool.client("sqs", region="eu-west-1").meta.region_name == "eu-west-1"


def test_an_unknown_profile_from_the_environment_is_named_with_its_source(
    aws_env: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_PROFILE", "nope")
    with SessionPool() as pool:
        with pytest.raises(botocore.exceptions.ProfileNotFound) as caught:
            pool.client("s3")
        message = str(caught.value)
        assert "'nope'" in message and "AWS_PROFILE" in message and "config" in message
        assert caught.value.kwargs["profile"] == "nope"


def test_an_unknown_profile_named_in_the_call_is_named(pool: SessionPool) -> None:
    with pytest.raises(botocore.exceptions.ProfileNotFound, match="'no-such'.*named in the call"):
        pool.client("s3", profile="no-such")


def test_half_a_pair_of_keys_is_botocores_partial_credentials_error(pool: SessionPool) -> None:
    with pytest.raises(botocore.exceptions.PartialCredentialsError) as caught:
        pool.client("s3", aws_access_key_id="AKIAHALFEXAMPLE00001")
    assert isinstance(caught.value, sessionpool.InvalidArgumentError)
    assert "aws_secret_access_key" in str(caught.value)


def test_no_credentials_names_the_key_and_sessionpool_inspect(
    aws_env: object, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.write_text("")
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    with SessionPool() as pool:
        with pytest.raises(botocore.exceptions.NoCredentialsError) as caught:
            pool.client("s3", profile="prod").list_buckets()
        message = str(caught.value)
        assert message.startswith("Unable to locate credentials: ")  # botocore's sentence first
        assert "profile='prod'" in message
        assert "sessionpool inspect --profile prod" in message
        assert "AWS_ACCESS_KEY_ID" in message


def test_resource_names_itself_in_its_type_errors(pool: SessionPool) -> None:
    with pytest.raises(
        TypeError, match=r"^resource\(\) got an unexpected keyword argument 'regoin'"
    ):
        pool.resource("s3", regoin="eu-west-1")
    with pytest.raises(TypeError, match=r"^client\(\) got an unexpected keyword argument 'regoin'"):
        pool.client("s3", regoin="eu-west-1")


def test_the_explained_errors_pickle_as_botocores_do(pool: SessionPool) -> None:
    import pickle

    with pytest.raises(botocore.exceptions.ProfileNotFound) as caught:
        pool.client("s3", profile="no-such")
    again = pickle.loads(pickle.dumps(caught.value))
    assert type(again) is type(caught.value) and str(again) == str(caught.value)
