"""Ray: pass the pool to tasks and actors; each Ray worker process keeps one pool.

A Ray worker process runs task after task; every task that carries the pool finds the same pool
there, so credentials are resolved once per worker process. An actor keeps the pool it was given
for its whole life.
"""

from __future__ import annotations

import ray

from sessionpool import SessionPool


@ray.remote
def upload(pool: SessionPool, bucket: str, key: str, text: str) -> str:
    """Store ``text`` under ``key``; return what reads back."""
    s3 = pool.client("s3")
    s3.put_object(Bucket=bucket, Key=key, Body=text.encode())
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()


def upload_all(pool: SessionPool, bucket: str, items: list[tuple[str, str]]) -> dict[str, str]:
    """Store every (key, text) item from Ray tasks; return what they read back."""
    refs = [upload.remote(pool, bucket, key, text) for key, text in items]
    return dict(zip([key for key, _ in items], ray.get(refs), strict=True))


@ray.remote
class Archiver:
    """An actor that writes to one bucket with the pool it was given."""

    def __init__(self, pool: SessionPool, bucket: str) -> None:
        self.pool = pool
        self.bucket = bucket

    def upload(self, key: str, text: str) -> str:
        s3 = self.pool.client("s3")
        s3.put_object(Bucket=self.bucket, Key=key, Body=text.encode())
        return s3.get_object(Bucket=self.bucket, Key=key)["Body"].read().decode()


def archive_all(pool: SessionPool, bucket: str, items: list[tuple[str, str]]) -> dict[str, str]:
    """The same through one actor."""
    archiver = Archiver.remote(pool, bucket)
    refs = [archiver.upload.remote(key, text) for key, text in items]
    return dict(zip([key for key, _ in items], ray.get(refs), strict=True))
