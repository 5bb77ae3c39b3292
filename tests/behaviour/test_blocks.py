"""A ``with pool.session(...)`` block chooses the key for the code inside it: per thread and per
asyncio task, nested blocks restore the outer key (on exceptions too), and leaving a block keeps
its session and clients open. Also the module-level default pool
(``sessionpool.client/resource/session``): made once under a burst, a client per thread.

Where a block reaches beyond that (generators, context-manager generators, executors and
``pool.bind``, strict pools) is pinned without a server in
``tests/unit/test_where_blocks_reach.py``.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

import sessionpool
from sessionpool import SessionPool
from tests.support.threads import run_together

N = 32


def signing_key_id(client: Any) -> str:
    key_id: str = client._request_signer._credentials.get_frozen_credentials().access_key
    return key_id


class Boom(Exception):
    pass


# -- the block's key -----------------------------------------------------------------------------


def test_block_yields_a_boto3_session_for_its_key(pool: SessionPool) -> None:
    with pool.session(profile="prod") as s:
        assert isinstance(s, boto3.session.Session)
        assert s.profile_name == "prod"
        assert s is pool.get_session(profile="prod")


def test_calls_naming_no_key_use_the_blocks_key(pool: SessionPool) -> None:
    prod = pool.get_session(profile="prod")
    default_client = pool.client("s3")
    with pool.session(profile="prod") as s:
        assert s is prod
        assert pool.get_session() is prod
        assert pool.client("s3") is prod.client("s3")
        assert pool.client("s3") is not default_client
        assert pool.resource("s3") is prod.resource("s3")
        with pool.session() as inner:
            assert inner is prod


def test_calls_naming_a_field_layer_it_over_the_blocks_key(pool: SessionPool) -> None:
    with pool.session(profile="prod"):
        s = pool.get_session(region="ap-south-1")
        assert (s.profile_name, s.region_name) == ("prod", "ap-south-1")
        assert pool.get_session(profile="dev").profile_name == "dev"


def test_key_returns_to_the_default_after_the_block(pool: SessionPool) -> None:
    default = pool.get_session()
    default_client = pool.client("s3")  # warms the fast path for the default key
    with pool.session(profile="prod"):
        pool.client("s3")
    assert pool.get_session() is default
    assert pool.client("s3") is default_client


def test_nested_blocks_restore_the_outer_key(pool: SessionPool) -> None:
    with pool.session(profile="prod") as prod:
        with pool.session(profile="dev") as dev:
            assert pool.get_session() is dev
            assert pool.client("s3") is dev.client("s3")
        assert pool.get_session() is prod
        assert pool.client("s3") is prod.client("s3")
    assert pool.get_session().profile_name == "default"  # boto3 names no profile "default"


def test_nested_blocks_restore_the_outer_key_on_exception(pool: SessionPool) -> None:
    with pool.session(profile="prod") as prod:
        with pytest.raises(Boom), pool.session(profile="dev"):
            raise Boom
        assert pool.get_session() is prod
        assert pool.client("s3") is prod.client("s3")
    with pytest.raises(Boom), pool.session(profile="prod"):
        raise Boom
    assert pool.get_session().profile_name == "default"  # boto3 names no profile "default"


def test_leaving_a_block_keeps_the_session_and_its_clients_open(
    pool: SessionPool, bucket: str
) -> None:
    with pool.session(profile="dev") as s:
        c = s.client("s3")
        c.put_object(Bucket=bucket, Key="scope", Body=b"kept")
    assert pool.get_session(profile="dev") is s
    assert pool.client("s3", profile="dev") is c
    assert c.get_object(Bucket=bucket, Key="scope")["Body"].read() == b"kept"
    with pool.session(profile="dev") as again:
        assert again is s
    assert pool.stats()["sessions_created"] == 2  # dev, and the default the bucket fixture used


# -- per thread ----------------------------------------------------------------------------------


def test_scope_is_per_thread(pool: SessionPool) -> None:
    inside = threading.Barrier(3)
    leave = threading.Barrier(3)
    profiles = [None, "prod", "dev"]

    def look() -> tuple[str | None, str]:
        # The client's signing key id tells which key it was made for.
        return pool.get_session().profile_name, signing_key_id(pool.client("s3"))

    def work(i: int) -> tuple[str | None, str]:
        if profiles[i] is None:
            inside.wait()  # both other threads are inside their blocks now
            seen = look()
            leave.wait()
            return seen
        with pool.session(profile=profiles[i]):
            inside.wait()
            seen = look()
            leave.wait()
        return seen

    assert run_together(3, work) == [
        ("default", "AKIAIOSFODNN7EXAMPLE"),
        ("prod", "AKIAPRODEXAMPLE00001"),
        ("dev", "AKIADEVEXAMPLE000002"),
    ]


def test_a_block_in_one_thread_is_invisible_to_32_others(pool: SessionPool) -> None:
    entered = threading.Event()
    done = threading.Event()
    seen: list[str] = []

    def holder() -> None:
        with pool.session(profile="prod"):
            entered.set()
            done.wait(60)

    t = threading.Thread(target=holder)
    t.start()
    try:
        assert entered.wait(60)
        seen = run_together(N, lambda i: pool.get_session().profile_name)
    finally:
        done.set()
        t.join(60)
    assert seen == ["default"] * N


# -- per asyncio task ----------------------------------------------------------------------------


def test_scope_is_per_asyncio_task(pool: SessionPool) -> None:
    async def task(profile: str, me: asyncio.Event, other: asyncio.Event) -> list[str]:
        seen: list[str] = []
        with pool.session(profile=profile) as s:
            me.set()
            await other.wait()  # the other task is inside its own block now
            seen.append(pool.get_session().profile_name)
            await asyncio.sleep(0)
            seen.append(pool.get_session().profile_name)
            seen.append("same-client" if pool.client("s3") is s.client("s3") else "other")
        seen.append(pool.get_session().profile_name)
        return seen

    async def main() -> list[list[str]]:
        a, b = asyncio.Event(), asyncio.Event()
        return list(await asyncio.gather(task("prod", a, b), task("dev", b, a)))

    prod, dev = asyncio.run(main())
    assert prod == ["prod", "prod", "same-client", "default"]
    assert dev == ["dev", "dev", "same-client", "default"]


def test_tasks_in_one_thread_share_that_threads_sessions(pool: SessionPool) -> None:
    async def task(profile: str) -> Any:
        with pool.session(profile=profile) as s:
            await asyncio.sleep(0)
            return s

    async def main() -> list[Any]:
        return list(await asyncio.gather(task("prod"), task("prod"), task("dev")))

    a, b, c = asyncio.run(main())
    assert a is b and a is not c
    assert a is pool.get_session(profile="prod")


# -- the default pool ----------------------------------------------------------------------------


@pytest.fixture
def default_pool(aws_env: Any) -> Iterator[None]:
    """aws_env resets the default pool before the test; close what the test made after it."""
    yield
    sessionpool.default_pool().close()
    sessionpool.set_default_pool(None)


@pytest.mark.usefixtures("default_pool")
def test_module_level_functions_use_the_default_pool() -> None:
    pool = sessionpool.default_pool()
    s3 = sessionpool.client("s3")
    assert s3 is pool.client("s3")
    assert sessionpool.resource("s3") is pool.resource("s3")
    with sessionpool.session(profile="prod") as s:
        assert s is pool.get_session(profile="prod")
        assert sessionpool.client("s3") is s.client("s3")
    assert sessionpool.client("s3") is s3


@pytest.mark.usefixtures("default_pool")
def test_module_level_client_makes_real_calls() -> None:
    name = f"default-{uuid.uuid4().hex[:20]}"
    s3 = sessionpool.client("s3")
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="k", Body=b"default")
    assert sessionpool.resource("s3").Object(name, "k").get()["Body"].read() == b"default"
    s3.delete_object(Bucket=name, Key="k")
    s3.delete_bucket(Bucket=name)


@pytest.mark.usefixtures("default_pool")
def test_default_pool_is_created_once_under_a_thread_burst() -> None:
    pools = run_together(N, lambda i: sessionpool.default_pool())
    assert all(p is pools[0] for p in pools)
    assert sessionpool.default_pool() is pools[0]


@pytest.mark.usefixtures("default_pool")
def test_default_pool_gives_each_thread_its_own_client() -> None:
    clients = run_together(N, lambda i: sessionpool.client("s3"))
    assert len({id(c) for c in clients}) == N
    assert sessionpool.default_pool().stats()["sessions_created"] == N
