"""Flask: each request signs with its tenant's profile.

    export BUCKET=my-bucket TENANTS=acme,globex   # the profiles requests may name
    waitress-serve --threads 8 flask_app:app

The block goes around the view, in a decorator (``with_tenant``): entered and left in one
frame, so it ends when the view returns or raises, whatever other code does, and nests with
any block inside the view. Not in a ``before_request``/``teardown_request`` pair
(``flask_pitfalls.py``). A streamed body runs after the view has returned: its generator
enters its own block. ``strict=True`` turns any call that no block reached into a
``KeyRequiredError`` (an HTTP 500) instead of a call signed with the default key.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from flask import Flask, Response, abort, request

from sessionpool import SessionPool

F = TypeVar("F", bound=Callable[..., Any])

pool = SessionPool(strict=True)  # no block, no key named: an error, never the default key
BUCKET = os.environ["BUCKET"]
TENANTS = frozenset(os.environ["TENANTS"].split(","))
app = Flask(__name__)


def tenant_profile() -> str:
    """The profile this request signs with. A header here; in your app, ask your
    authentication, never the client."""
    tenant = request.headers.get("X-Tenant", "")
    if tenant not in TENANTS:
        abort(403)
    return tenant


def with_tenant(view: F) -> F:
    """Run ``view`` inside its request's block."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with pool.session(profile=tenant_profile()):
            return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def store(form: str) -> str:
    """One signed call: whichever key the calling code is inside signs it."""
    key = f"{form}/{uuid.uuid4().hex}"
    pool.client("s3").put_object(Bucket=BUCKET, Key=key, Body=form.encode())
    return key


@app.post("/store")
@with_tenant
def store_view() -> dict[str, str]:
    return {"key": store("store")}


@app.post("/stream")
def stream_view() -> Response:
    profile = tenant_profile()

    def body() -> Iterator[str]:
        # Runs as the server sends the response, after the view returned: its own block.
        with pool.session(profile=profile):
            yield store("stream")

    return Response(body(), mimetype="text/plain")
