"""The environment changes under a running process: a profile switch, credentials that appear late.

A session already handed out never changes identity when ``AWS_PROFILE`` changes: sessions made
afterwards follow the new profile, with that profile's own credentials. A session made while no
credentials could be found looks again when it is used, and signs as soon as they exist.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import botocore.exceptions
import pytest
from botocore import UNSIGNED
from botocore.config import Config

import sessionpool
from sessionpool import SessionPool
from tests.support.threads import run_together

pytestmark = pytest.mark.compat  # in the matrix's floor cell too

PROD = "AKIAPRODEXAMPLE00001"
DEV = "AKIADEVEXAMPLE000002"


def signer(client: Any) -> str:
    key_id: str = client._request_signer._credentials.get_frozen_credentials().access_key
    return key_id


@pytest.fixture
def profiles_only(aws_env: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """No keys in the environment: the profile named by AWS_PROFILE decides the credentials."""
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.delenv("AWS_DEFAULT_REGION")


# -- a profile switch ------------------------------------------------------------------------------


def test_a_profile_switch_reaches_new_sessions_and_never_changes_one_handed_out(
    profiles_only: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    with SessionPool() as pool:
        monkeypatch.setenv("AWS_PROFILE", "dev")
        before = pool.client("s3")
        assert (signer(before), before.meta.region_name) == (DEV, "us-west-2")
        monkeypatch.setenv("AWS_PROFILE", "prod")
        [after] = run_together(1, lambda i: pool.client("sqs"))
        assert (signer(after), after.meta.region_name) == (PROD, "eu-west-1")
        # The session handed out before keeps its profile: its cached client, and a new one.
        assert pool.client("s3") is before
        assert signer(before) == DEV
        new_client = pool.client("dynamodb")
        assert (signer(new_client), new_client.meta.region_name) == (DEV, "us-west-2")
        assert pool.get_session().profile_name == "dev"
        assert pool.stats()["credential_resolutions"] == 2


def test_the_default_key_never_merges_two_profiles_credentials(
    profiles_only: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Threads started under each profile in turn: each signs with its own profile's keys,
    before and after the others, and each profile is resolved once."""
    with SessionPool() as pool:
        seen: dict[str, list[str]] = {"dev": [], "prod": []}
        started = []
        for profile in ("dev", "prod", "dev", "prod"):
            monkeypatch.setenv("AWS_PROFILE", profile)
            ready, go = threading.Event(), threading.Event()

            def worker(name: str = profile, ready: Any = ready, go: Any = go) -> None:
                client = pool.client("s3")
                seen[name].append(signer(client))
                ready.set()
                go.wait(60)
                seen[name].append(signer(client))

            thread = threading.Thread(target=worker)
            thread.start()
            ready.wait(60)
            started.append((thread, go))
        for thread, go in started:
            go.set()
            thread.join()
        assert seen == {"dev": [DEV] * 4, "prod": [PROD] * 4}
        assert pool.stats()["credential_resolutions"] == 2


def test_an_explicit_profile_is_not_renewed_by_a_switch_of_aws_profile(
    profiles_only: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    with SessionPool() as pool:
        monkeypatch.setenv("AWS_PROFILE", "dev")
        prod = pool.client("s3", profile="prod")
        monkeypatch.setenv("AWS_PROFILE", "prod")
        run_together(1, lambda i: pool.client("s3", profile="prod"))
        assert signer(prod) == PROD
        assert pool.get_session(profile="prod").get_credentials().renewals == 0


# -- credentials that appear late ------------------------------------------------------------------


@pytest.fixture
def no_credentials(aws_env: object, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Nothing in the chain: no keys, empty files, no metadata services."""
    empty = tmp_path / "empty"
    empty.write_text("")
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))


def test_a_client_made_before_credentials_exist_signs_once_they_do(
    no_credentials: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    with SessionPool() as pool:
        client = pool.client("s3")
        for _ in range(2):  # it keeps failing, with the fix named, while there are none
            with pytest.raises(botocore.exceptions.NoCredentialsError, match="sessionpool inspect"):
                client.list_buckets()
        assert pool.get_session().get_credentials() is None
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIALATEEXAMPLE00001")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "late-secret-EXAMPLE")
        assert pool.client("s3") is client
        assert "Buckets" in client.list_buckets()
        found = pool.stats()["credential_resolutions"]
        assert signer(client) == "AKIALATEEXAMPLE00001"
        assert pool.get_session().get_credentials().access_key == "AKIALATEEXAMPLE00001"
        # Every thread, new or old, signs with them, and nobody looks for them again.
        assert run_together(4, lambda i: signer(pool.client("sqs"))) == ["AKIALATEEXAMPLE00001"] * 4
        client.list_buckets()
        assert pool.stats()["credential_resolutions"] == found


def test_the_default_pool_recovers_from_a_credential_outage_at_import_time(
    no_credentials: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    sessionpool.set_default_pool(None)
    try:
        s3 = sessionpool.client("s3")  # as at import time in CI, before the keys are set
        with pytest.raises(botocore.exceptions.NoCredentialsError):
            s3.list_buckets()
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIALATEEXAMPLE00002")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "late-secret-EXAMPLE")
        for name in ("s3", "sqs", "dynamodb"):
            assert signer(sessionpool.client(name)) == "AKIALATEEXAMPLE00002"
        assert "Buckets" in s3.list_buckets()
    finally:
        sessionpool.default_pool().close()
        sessionpool.set_default_pool(None)


def test_an_unsigned_client_never_looks_for_credentials(no_credentials: None) -> None:
    with SessionPool() as pool:
        client = pool.client("s3", config=Config(signature_version=UNSIGNED))
        bucket_missing = botocore.exceptions.ClientError
        made = pool.stats()["credential_resolutions"]  # the session's look (and botocore's)
        for _ in range(3):
            with pytest.raises(bucket_missing):
                client.head_bucket(Bucket="no-such-bucket-sessionpool")
        assert pool.stats()["credential_resolutions"] == made


def test_credentials_found_are_not_looked_for_again(aws_env: object) -> None:
    with SessionPool() as pool:
        client = pool.client("s3")
        for _ in range(3):
            client.list_buckets()
        run_together(4, lambda i: pool.client("s3").list_buckets())
        assert pool.stats()["credential_resolutions"] == 1
