"""moto's server on 127.0.0.1, reached through ``AWS_ENDPOINT_URL``: one per test, and one for
the session with a bucket made at session set-up."""

from __future__ import annotations

import app
import boto3


def test_saved_text_reads_back_through_the_server(moto_server: str, bucket_name: str) -> None:
    app.create_bucket(bucket_name)
    app.save(bucket_name, "2026/11.txt", "eleven")
    assert app.load(bucket_name, "2026/11.txt") == "eleven"


def test_a_notification_goes_through_the_server(moto_server: str) -> None:
    url = app.create_queue("server-jobs")
    app.notify(url, "hello")
    assert app.pending(url) == ["hello"]


def test_the_server_holds_the_bucket_the_code_made(moto_server: str, bucket_name: str) -> None:
    app.create_bucket(bucket_name)
    names = [b["Name"] for b in boto3.session.Session().client("s3").list_buckets()["Buckets"]]
    assert bucket_name in names  # a plain boto3 client follows the environment: this server


def test_the_session_bucket_holds_its_seed(shared_moto: str, seeded_bucket: str) -> None:
    assert app.load(seeded_bucket, "seed.txt") == "seed"
