"""joblib with the loky backend: pass the pool to the tasks; each loky worker keeps one pool.

loky's workers outlive a ``Parallel`` call and are reused by the next; every task that carries
the pool finds the same pool in its worker, so credentials are resolved once per worker process.
"""

from __future__ import annotations

from joblib import Parallel, delayed

from sessionpool import SessionPool


def upload(pool: SessionPool, bucket: str, key: str, text: str) -> str:
    """Store ``text`` under ``key``; return what reads back."""
    s3 = pool.client("s3")
    s3.put_object(Bucket=bucket, Key=key, Body=text.encode())
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()


def upload_all(
    pool: SessionPool, bucket: str, items: list[tuple[str, str]], n_jobs: int = 2
) -> dict[str, str]:
    """Store every (key, text) item from loky workers; return what they read back."""
    texts = Parallel(n_jobs=n_jobs, backend="loky")(
        delayed(upload)(pool, bucket, key, text) for key, text in items
    )
    return dict(zip([key for key, _ in items], texts, strict=True))
