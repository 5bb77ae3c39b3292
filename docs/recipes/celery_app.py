"""Celery: one module-level SessionPool per worker process, a session per worker thread.

    celery -A celery_app worker --pool prefork --concurrency 4
    celery -A celery_app worker --pool threads --concurrency 8

With the prefork pool, the parent imports this module (and makes the pool) and forks the
children; each child builds its own session on first use and resolves credentials once. With the
threads pool, one process runs the tasks on several threads: a session per thread, and one
credential resolution for them all. Task arguments stay JSON: the pool is not passed, it is there.
"""

from __future__ import annotations

import os

from celery import Celery

from sessionpool import SessionPool

app = Celery(
    "celery_app",
    broker=os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0"),
    backend=os.environ.get("CELERY_RESULT_BACKEND", "redis://127.0.0.1:6379/1"),
)
pool = SessionPool()


@app.task
def upload(bucket: str, key: str, text: str) -> str:
    """Store ``text`` under ``key``."""
    pool.client("s3").put_object(Bucket=bucket, Key=key, Body=text.encode())
    return key


@app.task
def download(bucket: str, key: str) -> str:
    """Read back what is stored under ``key``."""
    return pool.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode()
