"""FastAPI: each request signs with its tenant's profile, in sync and async endpoints alike.

    export BUCKET=my-bucket TENANTS=acme,globex   # the profiles requests may name
    uvicorn fastapi_app:app --workers 4

The block goes in an ``async def`` dependency with ``yield``: FastAPI enters it in the
request's task, and it reaches the endpoint (a plain ``def`` endpoint runs in a thread that
gets a copy of the task's context), ``asyncio.to_thread`` calls and background tasks. A plain
``def`` dependency's block does not reach the endpoint (``fastapi_pitfalls.py``). Executors
copy no context: hand them ``pool.bind(fn)``. ``strict=True`` turns any call that a block did
not reach into a ``KeyRequiredError`` (an HTTP 500) instead of a call signed with the default
key.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Annotated

from fastapi import BackgroundTasks, Depends, FastAPI, Header, HTTPException

from sessionpool import SessionPool

pool = SessionPool(strict=True)  # no block, no key named: an error, never the default key
BUCKET = os.environ["BUCKET"]
TENANTS = frozenset(os.environ["TENANTS"].split(","))
app = FastAPI()


def tenant_profile(x_tenant: Annotated[str, Header()]) -> str:
    """The profile this request signs with. A header here; in your app, ask your
    authentication, never the client."""
    if x_tenant not in TENANTS:
        raise HTTPException(403, "unknown tenant")
    return x_tenant


async def tenant_block(profile: Annotated[str, Depends(tenant_profile)]) -> AsyncIterator[str]:
    """The request's block: an ``async def`` dependency, so it reaches the endpoint."""
    with pool.session(profile=profile):
        yield profile


Tenant = Annotated[str, Depends(tenant_block)]


def store(form: str) -> str:
    """One signed call (blocking): whichever key the calling code is inside signs it."""
    key = f"{form}/{uuid.uuid4().hex}"
    pool.client("s3").put_object(Bucket=BUCKET, Key=key, Body=form.encode())
    return key


@app.post("/sync")
def sync_endpoint(tenant: Tenant) -> dict[str, str]:
    return {"key": store("sync")}  # runs in the thread pool, inside the block


@app.post("/async/to-thread")
async def async_to_thread(tenant: Tenant) -> dict[str, str]:
    return {"key": await asyncio.to_thread(store, "to-thread")}  # to_thread copies the block


@app.post("/async/executor")
async def async_executor(tenant: Tenant) -> dict[str, str]:
    loop = asyncio.get_running_loop()
    # run_in_executor copies no context: bind the function to the block's key.
    return {"key": await loop.run_in_executor(None, pool.bind(store), "executor")}


def tenant_name(profile: Annotated[str, Depends(tenant_profile)]) -> Iterator[str]:
    """A plain ``def`` dependency runs in the thread pool, apart from the endpoint: yield the
    profile's name (not a block, not a session) and let the endpoint name it."""
    yield profile


@app.post("/sync/named")
def sync_named(profile: Annotated[str, Depends(tenant_name)]) -> dict[str, str]:
    key = f"named/{uuid.uuid4().hex}"
    pool.client("s3", profile=profile).put_object(Bucket=BUCKET, Key=key, Body=b"named")
    return {"key": key}


@app.post("/background")
def background(tenant: Tenant, tasks: BackgroundTasks) -> dict[str, str]:
    tasks.add_task(pool.bind(store), "background")  # bound now, inside the block
    return {"queued": "background"}


async def store_later(profile: str, form: str) -> None:
    """An ``async def`` background task: enter its own block from the profile it is given."""
    with pool.session(profile=profile):
        await asyncio.to_thread(store, form)


@app.post("/background/async")
async def background_async(tenant: Tenant, tasks: BackgroundTasks) -> dict[str, str]:
    tasks.add_task(store_later, tenant, "background-async")
    return {"queued": "background-async"}
