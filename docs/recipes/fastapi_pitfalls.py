"""FastAPI: the forms a block does not reach, and what each does. Do not copy these.

    uvicorn fastapi_pitfalls:app    # fastapi_app's routes, and these

With the strict pool of ``fastapi_app`` every call below that no block reached raises
``KeyRequiredError`` (the request answers 500, or a background task logs the error); with a
pool that is not strict (``lax``) the same calls sign with the default key, silently. The
integration suite runs each of them and counts both.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Annotated

from fastapi import BackgroundTasks, Depends
from fastapi_app import BUCKET, Tenant, app, pool, store, tenant_block, tenant_profile

from sessionpool import SessionPool

__all__ = ["app"]


def sync_block(profile: Annotated[str, Depends(tenant_profile)]) -> Iterator[str]:
    """Wrong: FastAPI runs a plain ``def`` dependency's code before and after ``yield`` in two
    thread-pool calls, each in a context of its own: this block never reaches the endpoint."""
    with pool.session(profile=profile):
        yield profile


@app.post("/wrong/def-dependency")
def wrong_def_dependency(tenant: Annotated[str, Depends(sync_block)]) -> dict[str, str]:
    return {"key": store("wrong-def-dependency")}  # KeyRequiredError: no block here


@app.post("/wrong/executor")
async def wrong_executor(tenant: Tenant) -> dict[str, str]:
    loop = asyncio.get_running_loop()
    # Wrong: the executor's thread starts with no context, so no block (use pool.bind(store)).
    return {"key": await loop.run_in_executor(None, store, "wrong-executor")}


@app.post("/wrong/background")
def wrong_background(
    tenant: Annotated[str, Depends(tenant_block, scope="function")], tasks: BackgroundTasks
) -> dict[str, str]:
    # Wrong: a dependency with scope="function" ends before the response is sent, so a
    # background task added unbound runs after the block (use pool.bind(store)).
    tasks.add_task(store, "wrong-background")
    return {"queued": "wrong-background"}


@app.post("/fragile/background")
def fragile_background(tenant: Tenant, tasks: BackgroundTasks) -> dict[str, str]:
    # Works, but only because a dependency's default scope ("request") ends after the
    # background tasks: with scope="function" it would not (above). Prefer pool.bind(store).
    tasks.add_task(store, "fragile-background")
    return {"queued": "fragile-background"}


lax = SessionPool()  # not strict: a call no block reached signs with the default key


def lax_sync_block(profile: Annotated[str, Depends(tenant_profile)]) -> Iterator[str]:
    with lax.session(profile=profile):
        yield profile


async def lax_block(profile: Annotated[str, Depends(tenant_profile)]) -> AsyncIterator[str]:
    with lax.session(profile=profile):
        yield profile


def lax_store(form: str) -> str:
    key = f"{form}/{uuid.uuid4().hex}"
    lax.client("s3").put_object(Bucket=BUCKET, Key=key, Body=form.encode())
    return key


@app.post("/lax/def-dependency")
def lax_def_dependency(tenant: Annotated[str, Depends(lax_sync_block)]) -> dict[str, str]:
    return {"key": lax_store("lax-def-dependency")}  # the default key signs, silently


@app.post("/lax/executor")
async def lax_executor(tenant: Annotated[str, Depends(lax_block)]) -> dict[str, str]:
    loop = asyncio.get_running_loop()
    return {"key": await loop.run_in_executor(None, lax_store, "lax-executor")}  # default key
