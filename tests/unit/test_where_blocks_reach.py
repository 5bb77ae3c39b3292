"""Where a ``with pool.session(...)`` block reaches, and what happens where it does not.

A call signs with the key of the block the calling code is inside, or the key it names, or
fails loudly (strict mode): never with another block's key. Generators keep their blocks,
context-manager generators share them, blocks left out of order or in another context never
raise and never leave code on a key it did not choose, and executors get a block only when it
is carried to them (``pool.bind``, ``asyncio.to_thread``). Each call's key is read off the
client it gets (the key id it signs with): no request is made. The block itself, per thread and
per task: ``tests/behaviour/test_blocks.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import threading
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

import sessionpool
from sessionpool import KeyRequiredError, SessionPool
from tests.support.aws import DUMMY_KEY_ID

PROD = "AKIAPRODEXAMPLE00001"
DEV = "AKIADEVEXAMPLE000002"
DEFAULT = DUMMY_KEY_ID  # the environment's keys: what a call outside any block signs with


def signer(client: Any) -> str:
    """The access key id the client signs its next request with."""
    key_id: str = client._request_signer._credentials.get_frozen_credentials().access_key
    return key_id


# -- generators ----------------------------------------------------------------------------------


def rows(pool: SessionPool, profile: str, n: int) -> Iterator[str]:
    with pool.session(profile=profile):
        for _ in range(n):
            yield signer(pool.client("s3"))


def test_generators_consumed_in_turn_each_sign_with_their_own_key(pool: SessionPool) -> None:
    pairs = list(zip(rows(pool, "prod", 3), rows(pool, "dev", 3), strict=True))
    assert pairs == [(PROD, DEV)] * 3


def test_code_outside_a_suspended_generator_keeps_its_own_key(pool: SessionPool) -> None:
    outside = []
    for _ in rows(pool, "prod", 2):
        outside.append(signer(pool.client("s3")))
    with pool.session(profile="dev"):
        for _ in rows(pool, "prod", 2):
            outside.append(signer(pool.client("s3")))
    assert outside == [DEFAULT, DEFAULT, DEV, DEV]


def test_after_interleaved_generators_end_the_caller_is_on_its_own_key(
    pool: SessionPool,
) -> None:
    prod, dev = rows(pool, "prod", 5), rows(pool, "dev", 5)
    assert next(prod) == PROD and next(dev) == DEV
    prod.close()  # leaves its block while dev's, entered after it, is still open
    assert signer(pool.client("s3")) == DEFAULT
    assert next(dev) == DEV
    dev.close()
    assert signer(pool.client("s3")) == DEFAULT
    assert pool.get_session().profile_name == "default"


def test_a_generator_abandoned_inside_a_block_leaves_nothing_behind(pool: SessionPool) -> None:
    gen = rows(pool, "prod", 5)
    assert next(gen) == PROD
    del gen  # finalised: its block is left from the finaliser
    assert signer(pool.client("s3")) == DEFAULT


def test_async_generators_interleaved_in_one_task_each_keep_their_key(
    pool: SessionPool,
) -> None:
    async def arows(profile: str) -> AsyncIterator[str]:
        with pool.session(profile=profile):
            for _ in range(3):
                yield signer(pool.client("s3"))

    async def main() -> list[tuple[str, str, str]]:
        a, b = arows("prod"), arows("dev")
        out = []
        for _ in range(3):
            out.append((await anext(a), await anext(b), signer(pool.client("s3"))))
        return out

    assert asyncio.run(main()) == [(PROD, DEV, DEFAULT)] * 3


# -- context-manager generators share their block ------------------------------------------------


def test_a_contextmanager_generators_block_reaches_the_with_body(pool: SessionPool) -> None:
    @contextlib.contextmanager
    def tenant(profile: str) -> Iterator[None]:
        with pool.session(profile=profile):
            yield

    with tenant("prod"):
        assert signer(pool.client("s3")) == PROD
        with tenant("dev"):
            assert signer(pool.client("s3")) == DEV
        assert signer(pool.client("s3")) == PROD
    assert signer(pool.client("s3")) == DEFAULT


def test_an_asynccontextmanager_generators_block_reaches_the_with_body(
    pool: SessionPool,
) -> None:
    @contextlib.asynccontextmanager
    async def tenant(profile: str) -> AsyncIterator[None]:
        with pool.session(profile=profile):
            yield

    async def main() -> list[str]:
        seen = []
        async with contextlib.AsyncExitStack() as stack:
            await stack.enter_async_context(tenant("prod"))
            seen.append(signer(pool.client("s3")))
            seen.append(await asyncio.to_thread(lambda: signer(pool.client("s3"))))
        seen.append(signer(pool.client("s3")))
        return seen

    assert asyncio.run(main()) == [PROD, PROD, DEFAULT]


@pytest.fixture
def prod_block(pool: SessionPool) -> Iterator[None]:
    with pool.session(profile="prod"):
        yield


def test_a_pytest_yield_fixtures_block_reaches_the_test(
    pool: SessionPool, prod_block: None
) -> None:
    assert signer(pool.client("s3")) == PROD


# -- leaving out of order, or in another context -------------------------------------------------


def test_blocks_left_out_of_order_raise_nothing_and_leave_nothing(pool: SessionPool) -> None:
    outer, inner = pool.session(profile="prod"), pool.session(profile="dev")
    outer.__enter__()
    inner.__enter__()
    outer.__exit__(None, None, None)  # out of order
    assert signer(pool.client("s3")) == DEV  # still inside dev's block, which is open
    inner.__exit__(None, None, None)
    assert signer(pool.client("s3")) == DEFAULT  # not back on prod: its block ended


def test_a_block_entered_and_left_in_other_contexts_never_raises_or_leaks(
    pool: SessionPool, caplog: pytest.LogCaptureFixture
) -> None:
    """As FastAPI runs a plain-def dependency with yield: enter in one thread-pool call (in a
    copied context), leave in another; the endpoint in between sees no block."""
    block = pool.session(profile="prod")
    with ThreadPoolExecutor(2) as executor:
        entered = executor.submit(contextvars.copy_context().run, block.__enter__).result()
        assert entered.profile_name == "prod"
        endpoint = contextvars.copy_context()
        assert endpoint.run(lambda: signer(pool.client("s3"))) == DEFAULT
        executor.submit(contextvars.copy_context().run, block.__exit__, None, None, None).result()
    assert signer(pool.client("s3")) == DEFAULT
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_block_left_in_another_thread_ends_for_the_thread_that_entered_it(
    pool: SessionPool,
) -> None:
    block = pool.session(profile="prod")
    block.__enter__()
    assert signer(pool.client("s3")) == PROD
    leaving = threading.Thread(target=block.__exit__, args=(None, None, None))
    leaving.start()
    leaving.join()
    assert signer(pool.client("s3")) == DEFAULT


def test_a_block_object_cannot_be_entered_twice_at_once(pool: SessionPool) -> None:
    block = pool.session(profile="prod")
    with block, pytest.raises(RuntimeError, match="in use"):
        block.__enter__()


# -- executors and threads -----------------------------------------------------------------------


def test_run_in_executor_gets_no_block_but_a_bound_function_does(pool: SessionPool) -> None:
    def work() -> str:
        return signer(pool.client("s3"))

    async def request(profile: str) -> tuple[str, str, str]:
        loop = asyncio.get_running_loop()
        with pool.session(profile=profile):
            plain = await loop.run_in_executor(None, work)
            bound = await loop.run_in_executor(None, pool.bind(work))
            copied = await asyncio.to_thread(work)
        return plain, bound, copied

    async def main() -> list[tuple[str, str, str]]:
        return list(await asyncio.gather(request("prod"), request("dev"), request("prod")))

    assert asyncio.run(main()) == [
        (DEFAULT, PROD, PROD),
        (DEFAULT, DEV, DEV),
        (DEFAULT, PROD, PROD),
    ]


def test_a_bound_function_carries_its_key_into_a_thread(pool: SessionPool) -> None:
    seen: list[str] = []
    with pool.session(profile="dev"):
        worker = threading.Thread(target=pool.bind(lambda: seen.append(signer(pool.client("s3")))))
    worker.start()
    worker.join()
    assert seen == [DEV]


def test_bind_can_name_the_key(pool: SessionPool) -> None:
    with ThreadPoolExecutor(1) as executor:
        got = executor.submit(pool.bind(lambda: signer(pool.client("s3")), profile="prod"))
        assert got.result() == PROD


def test_a_bound_function_leaves_nothing_in_the_executors_thread(pool: SessionPool) -> None:
    with ThreadPoolExecutor(1) as executor:
        with pool.session(profile="prod"):
            assert executor.submit(pool.bind(lambda: signer(pool.client("s3")))).result() == PROD
        assert executor.submit(lambda: signer(pool.client("s3"))).result() == DEFAULT


def test_a_bound_function_keeps_the_wrapped_functions_name(pool: SessionPool) -> None:
    def fetch_report() -> None:
        """Fetches."""

    bound = pool.bind(fetch_report)
    assert (bound.__name__, bound.__doc__, bound.__wrapped__) == (  # type: ignore[attr-defined]
        "fetch_report",
        "Fetches.",
        fetch_report,
    )


# -- strict mode ---------------------------------------------------------------------------------


@pytest.fixture
def strict_pool(aws_env: object) -> Iterator[SessionPool]:
    with SessionPool(strict=True) as p:
        yield p


def test_strict_refuses_a_call_that_names_no_key_outside_any_block(
    strict_pool: SessionPool,
) -> None:
    for call in (
        lambda: strict_pool.client("s3"),
        lambda: strict_pool.client("s3", region="eu-west-1"),
        lambda: strict_pool.resource("s3"),
        lambda: strict_pool.get_session(),
        lambda: strict_pool.session().__enter__(),
        lambda: strict_pool.bind(print),
    ):
        with pytest.raises(KeyRequiredError, match="strict"):
            call()
    assert strict_pool.stats()["sessions_created"] == 0


def test_strict_allows_a_named_key_and_calls_inside_a_block(strict_pool: SessionPool) -> None:
    assert signer(strict_pool.client("s3", profile="dev")) == DEV
    with strict_pool.session(profile="prod"):
        assert signer(strict_pool.client("s3")) == PROD
        assert signer(strict_pool.client("s3")) == PROD  # the warm path too

        async def copied() -> str:
            return await asyncio.to_thread(lambda: signer(strict_pool.client("s3")))

        assert asyncio.run(copied()) == PROD


def test_strict_turns_an_executor_that_lost_the_block_into_an_error(
    strict_pool: SessionPool,
) -> None:
    async def request() -> None:
        with strict_pool.session(profile="prod"):
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, lambda: strict_pool.client("s3"))

    with pytest.raises(KeyRequiredError):
        asyncio.run(request())


def test_strict_pickles(strict_pool: SessionPool) -> None:
    import pickle

    copy = pickle.loads(pickle.dumps(strict_pool))
    assert copy is strict_pool  # the same process finds the same pool


# -- the default pool ----------------------------------------------------------------------------


def test_the_default_pools_blocks_follow_the_same_rules(aws_env: object) -> None:
    def drows(profile: str) -> Iterator[str]:
        with sessionpool.session(profile=profile):
            for _ in range(2):
                yield signer(sessionpool.client("s3"))

    try:
        assert list(zip(drows("prod"), drows("dev"), strict=True)) == [(PROD, DEV)] * 2
        assert signer(sessionpool.client("s3")) == DEFAULT
    finally:
        sessionpool.default_pool().close()
        sessionpool.set_default_pool(None)
