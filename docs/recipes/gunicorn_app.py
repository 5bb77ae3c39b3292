"""gunicorn: one module-level SessionPool for every worker process and thread.

    export BUCKET=my-bucket
    gunicorn --preload --workers 4 gunicorn_app:app
    gunicorn --preload --workers 4 --worker-class gthread --threads 8 gunicorn_app:app

With ``--preload`` the master imports this module, and so makes the pool, once, then forks the
workers. Each worker drops what it inherited and builds its own sessions on first use: one per
worker thread, with credentials resolved once per worker process.

With ``--worker-class gevent``, leave out ``--preload`` (gevent must patch the standard library
before boto3 is imported). The greenlets of a worker's OS thread then share that thread's session
and clients; ``SessionPool(scopefunc="greenlet")`` gives each greenlet its own instead.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

from sessionpool import SessionPool

pool = SessionPool()
BUCKET = os.environ["BUCKET"]


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """``PUT /<key>`` stores the request body under ``key``; ``GET /<key>`` returns it."""
    key = environ["PATH_INFO"].lstrip("/")
    s3 = pool.client("s3")  # this worker thread's client
    if environ["REQUEST_METHOD"] == "PUT":
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        s3.put_object(Bucket=BUCKET, Key=key, Body=body)
        start_response("201 Created", [("Content-Length", "0")])
        return [b""]
    try:
        body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    except s3.exceptions.NoSuchKey:
        start_response("404 Not Found", [("Content-Length", "0")])
        return [b""]
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]
