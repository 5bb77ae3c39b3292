"""moto's ``mock_aws`` as a fixture (it starts during setup, before the fixtures that use it)."""

from __future__ import annotations

import app
import pytest


@pytest.fixture
def us_west_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")


def test_a_bucket_follows_a_region_set_by_a_fixture(
    us_west_2: None, aws: None, bucket_name: str
) -> None:
    app.create_bucket(bucket_name)
    assert app.bucket_region(bucket_name) == "us-west-2"


def test_a_queue_is_made_in_the_region_of_the_environment(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-southeast-2")
    url = app.create_queue("alerts")
    assert ".ap-southeast-2." in url, url
    app.notify(url, "hello")
    assert app.pending(url) == ["hello"]


@pytest.fixture
def reports(aws: None, bucket_name: str) -> str:
    """A bucket made during setup, through the application's pool, inside the mock."""
    app.create_bucket(bucket_name)
    app.save(bucket_name, "index.txt", "index")
    return bucket_name


def test_a_bucket_made_by_a_fixture_is_there_in_the_test(reports: str) -> None:
    assert app.load(reports, "index.txt") == "index"
    app.save(reports, "more.txt", "more")
    assert app.load(reports, "more.txt") == "more"
