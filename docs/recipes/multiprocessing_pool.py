"""multiprocessing.Pool: hand the pool over once, in the initializer.

With ``maxtasksperchild`` the Pool replaces each worker after that many tasks; every new worker
runs the initializer again, gets the pool, and resolves credentials once on its first call.
"""

from __future__ import annotations

import multiprocessing

from sessionpool import SessionPool

_pool: SessionPool


def init(pool: SessionPool) -> None:
    global _pool
    _pool = pool


def upload(item: tuple[str, str, str]) -> str:
    """Store (bucket, key, text); return what reads back."""
    bucket, key, text = item
    s3 = _pool.client("s3")
    s3.put_object(Bucket=bucket, Key=key, Body=text.encode())
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()


def upload_all(pool: SessionPool, bucket: str, items: list[tuple[str, str]]) -> dict[str, str]:
    """Store every (key, text) item from 2 worker processes, each replaced after 4 tasks."""
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2, initializer=init, initargs=(pool,), maxtasksperchild=4) as workers:
        texts = workers.map(upload, [(bucket, key, text) for key, text in items], chunksize=1)
    return dict(zip([key for key, _ in items], texts, strict=True))
