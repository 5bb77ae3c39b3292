"""The views: each makes one signed call with whichever key its request's block chose."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

from django.http import HttpRequest, JsonResponse, StreamingHttpResponse

from .aws import BUCKET, pool


def put(form: str) -> str:
    key = f"{form}/{uuid.uuid4().hex}"
    pool.client("s3").put_object(Bucket=BUCKET, Key=key, Body=form.encode())
    return key


def store(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"key": put("store")})


def stream(request: HttpRequest) -> StreamingHttpResponse:
    profile = request.headers["X-Tenant"]

    def body() -> Iterator[str]:
        # Runs as the server sends the response, after the middleware's block ended: its own.
        with pool.session(profile=profile):
            yield put("stream")

    return StreamingHttpResponse(body(), content_type="text/plain")


def fails(request: HttpRequest) -> JsonResponse:
    put("fails")
    raise RuntimeError("the view failed after its call")
