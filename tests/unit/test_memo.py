"""Calls with arguments are memoised per thread, and the memo never outlives what it points to.

``pool.client("s3", region="eu-west-1")`` must build and normalise a key before it can look the
client up (microseconds); the memo answers a repeat of the same call from a per-thread table.
"""

from __future__ import annotations

from typing import Any

from botocore.config import Config

from sessionpool import SessionPool
from sessionpool._memo import MEMO_LIMIT
from tests.support.threads import run_together


def test_a_repeated_call_with_arguments_is_answered_from_the_memo(pool: SessionPool) -> None:
    first = pool.client("s3", region="eu-west-1")
    before = pool.stats()
    again = [pool.client("s3", region="eu-west-1") for _ in range(5)]
    after = pool.stats()
    assert all(c is first for c in again)
    assert after["hits"] - before["hits"] == 5
    assert after["clients_created"] == before["clients_created"]
    assert first.meta.region_name == "eu-west-1"


def test_the_memo_is_per_thread(pool: SessionPool) -> None:
    clients = run_together(8, lambda i: pool.client("s3", region="eu-west-1"))
    assert len({id(c) for c in clients}) == 8
    assert all(pool.client("s3", region="eu-west-1") is not c for c in clients)


def test_the_memo_respects_the_with_block_scope(pool: SessionPool) -> None:
    outside = pool.client("s3", endpoint_url="http://127.0.0.1:9")
    with pool.session(region="us-west-2"):
        inside = pool.client("s3", endpoint_url="http://127.0.0.1:9")
    assert inside is not outside
    assert inside.meta.region_name == "us-west-2"
    assert pool.client("s3", endpoint_url="http://127.0.0.1:9") is outside


def test_an_evicted_key_is_never_answered_from_the_memo(aws_env: Any) -> None:
    now = [0.0]
    with SessionPool(max_keys=1, clock=lambda: now[0]) as pool:
        a = pool.client("s3", region="eu-west-1")
        now[0] = 1.0
        pool.client("s3", region="us-west-2")  # evicts eu-west-1, closing its client
        assert pool.stats()["evictions"] == 1
        now[0] = 2.0
        fresh = pool.client("s3", region="eu-west-1")
        assert fresh is not a
        assert fresh.meta.region_name == "eu-west-1"


def test_calls_with_secrets_are_not_memoised(pool: SessionPool) -> None:
    keys = {"aws_access_key_id": "AKIAEXAMPLEMEMO00001", "aws_secret_access_key": "memo-EXAMPLE"}
    first = pool.client("s3", **keys)
    assert pool.client("s3", **keys) is first  # still cached, by the full path
    slot = pool._local.slot
    assert all("memo-EXAMPLE" not in repr(k) for k in slot.memo)
    assert not any(k[3:] == tuple(keys.items()) for k in slot.memo)


def test_the_memo_stays_bounded_when_every_call_brings_a_new_config(pool: SessionPool) -> None:
    clients = [pool.client("s3", config=Config(retries={"max_attempts": 2})) for _ in range(300)]
    # Held, and compared with `is`: a set of ids of clients dropped as they came could hold one
    # id for 300 different clients, each freed before the next took its address.
    assert all(c is clients[0] for c in clients)  # equal configs: one client, whatever the object
    assert len(pool._local.slot.memo) <= MEMO_LIMIT
    session = pool.get_session()
    for _ in range(300):
        session.client("s3", config=Config(retries={"max_attempts": 3}))
    assert len(pool._local.slot.memo) <= MEMO_LIMIT  # the owner's one memo
