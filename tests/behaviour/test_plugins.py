"""Plugins and hooks behave as in boto3 (HAZARDS P1, P2).

* A plugin that edits botocore's built-in handlers after a pool was used (moto appends its
  ``before-send`` interceptor when imported) reaches every session made afterwards, in any pool,
  and every client an existing session makes afterwards: what a plain boto3 session made at that
  moment would carry. Checked with moto itself in a fresh interpreter whose requests may go to
  loopback only (an audit hook refuses anything else), and with a handler of our own.
* A handler registered or unregistered on a pooled session's ``events`` applies to every client
  the session hands out afterwards; clients handed out before are unaffected, as in boto3.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.client
import botocore.handlers
import pytest

import sessionpool
from sessionpool import SessionPool

pytestmark = pytest.mark.compat  # in the matrix's floor cell too (tasks.py matrix)

MOTO_AFTER_USE = r"""
import json, os, socket, sys, threading

refused = []
LOCAL = ("127.0.0.1", "::1", "localhost")


def guard(event, args):
    if event == "socket.connect":
        address = args[1]
        if isinstance(address, tuple) and address and address[0] not in LOCAL:
            refused.append(str(address[0]))
            raise ConnectionRefusedError(f"refused: {address[0]} is not loopback")
    elif event == "socket.getaddrinfo" and args[0] not in LOCAL and args[0] is not None:
        refused.append(str(args[0]))
        raise socket.gaierror(f"refused: {args[0]} is not loopback")


sys.addaudithook(guard)

import botocore.config
import sessionpool
from sessionpool import SessionPool

fast_fail = botocore.config.Config(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=2)
early = SessionPool()
early.client("s3")                 # used before moto is imported: sessions and a client exist
sessionpool.client("s3")           # the default pool too

import moto  # appends its before-send handler to botocore's BUILTIN_HANDLERS

results = {}


def attempt(name, call):
    try:
        call()
        results[name] = "mocked"
    except Exception as exc:
        results[name] = f"{type(exc).__name__}: {exc}"[:200]


def in_thread(call):
    t = threading.Thread(target=call)
    t.start()
    t.join()


with moto.mock_aws():
    attempt("new pool", lambda: SessionPool().client("s3", config=fast_fail).list_buckets())
    attempt("early pool, new client", lambda: early.client("sqs", config=fast_fail).list_queues())
    in_thread(lambda: attempt(
        "early pool, new thread", lambda: early.client("s3", config=fast_fail).list_buckets()
    ))
    attempt(
        "default pool, new client",
        lambda: sessionpool.client("sns", config=fast_fail).list_topics(),
    )
    attempt(
        "early pool, resource",
        lambda: list(early.resource("s3", config=fast_fail).buckets.all()),
    )
print(json.dumps({"results": results, "refused": refused}))
"""


def test_moto_imported_after_a_pool_was_used_still_mocks_new_pools_and_clients(
    tmp_path: Any,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID="AKIAPLUGINEXAMPLE001",
        AWS_SECRET_ACCESS_KEY="plugin-secret-EXAMPLE",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
    )
    done = subprocess.run(
        [sys.executable, "-c", MOTO_AFTER_USE],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["refused"] == [], out  # nothing tried to leave the machine
    assert set(out["results"].values()) == {"mocked"}, out["results"]
    assert len(out["results"]) == 5


# -- a plugin of our own ---------------------------------------------------------------------

EVENT = "before-parameter-build.s3.ListBuckets"


@pytest.fixture
def plugin() -> Iterator[list[str]]:
    """Appends a recording handler to BUILTIN_HANDLERS (as moto does); removes it after."""
    seen: list[str] = []

    def recording_handler(**kwargs: Any) -> None:
        seen.append(threading.current_thread().name)

    spec = (EVENT, recording_handler)
    yield_value = seen
    botocore.handlers.BUILTIN_HANDLERS.append(spec)
    try:
        yield yield_value
    finally:
        if spec in botocore.handlers.BUILTIN_HANDLERS:
            botocore.handlers.BUILTIN_HANDLERS.remove(spec)


def test_a_builtin_handler_added_later_reaches_new_sessions_and_new_clients(
    aws_env: Any,
) -> None:
    with SessionPool() as pool:
        session = pool.get_session()
        cached = pool.client("s3")
        seen: list[str] = []

        def handler(**kwargs: Any) -> None:
            seen.append("called")

        spec = (EVENT, handler)
        botocore.handlers.BUILTIN_HANDLERS.append(spec)
        try:
            plain = boto3.session.Session().client("s3")
            plain.list_buckets()
            assert seen == ["called"]  # what a plain session made now carries
            seen.clear()
            cached.list_buckets()
            assert seen == []  # a client made before: as in boto3, unaffected
            other_region = session.client("s3", region_name="eu-west-1")
            other_region.list_buckets()
            assert seen == ["called"]  # the same session's next new client carries it
            seen.clear()
            fresh = pool.client("s3")  # and the change dropped what the session had cached
            assert fresh is not cached
            fresh.list_buckets()
            assert seen == ["called"]
            seen.clear()
            with SessionPool() as other:
                other.client("s3").list_buckets()
            assert seen == ["called"]  # a session made afterwards carries it
            seen.clear()
        finally:
            botocore.handlers.BUILTIN_HANDLERS.remove(spec)
        west = session.client("s3", region_name="us-west-2")  # a new client: takes the change in
        west.list_buckets()
        after = session.client("s3")
        assert after is not fresh
        after.list_buckets()
        assert seen == []  # removed from the built-ins: no longer carried


# -- session hooks -----------------------------------------------------------------------------


def test_a_handler_registered_on_a_session_reaches_its_next_clients(pool: SessionPool) -> None:
    calls: list[str] = []

    def handler(**kwargs: Any) -> None:
        calls.append("before-call")

    with pool.session() as s:
        old = s.client("s3")
        assert pool.client("s3") is old
        s.events.register("before-call.s3.ListBuckets", handler)
        new = s.client("s3")
        assert new is not old
        assert pool.client("s3") is new  # the hot path agrees
        assert s.client("s3") is new  # and caches again
        new.list_buckets()
        assert calls == ["before-call"]
        old.list_buckets()  # handed out before: unaffected, as in boto3
        assert calls == ["before-call"]

        s.events.unregister("before-call.s3.ListBuckets", handler)
        newer = s.client("s3")
        assert newer is not new
        newer.list_buckets()
        assert calls == ["before-call"]


def test_a_creating_client_class_handler_runs_for_the_next_client(pool: SessionPool) -> None:
    class Extra:
        def sessionpool_extra(self) -> str:
            return "extra"

    def add_base(base_classes: list[Any], **kwargs: Any) -> None:
        base_classes.insert(0, Extra)

    s = pool.get_session()
    before = s.client("sqs")
    s.events.register("creating-client-class.sqs", add_base)
    after = s.client("sqs")
    assert isinstance(after, Extra) and not isinstance(before, Extra)
    assert after.sessionpool_extra() == "extra"


def test_memoised_calls_with_arguments_see_the_handler_change(pool: SessionPool) -> None:
    s = pool.get_session()
    first = pool.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
    assert pool.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"]) is first
    s.events.register("before-call.s3.ListBuckets", lambda **kwargs: None)
    second = pool.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
    assert second is not first


def test_clients_superseded_by_a_handler_change_are_still_closed_with_the_pool(
    aws_env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed: list[Any] = []
    original = botocore.client.BaseClient.close

    def close(self: Any) -> None:
        closed.append(self)
        original(self)

    monkeypatch.setattr(botocore.client.BaseClient, "close", close)
    pool = SessionPool()
    s = pool.get_session()
    old = s.client("s3")
    s.events.register("before-call.s3.ListBuckets", lambda **kwargs: None)
    new = s.client("s3")
    pool.close()
    assert any(c is old for c in closed) and any(c is new for c in closed)


def test_the_default_pool_follows_session_hooks_too(aws_env: Any) -> None:
    with sessionpool.session() as s:
        old = sessionpool.client("s3")
        s.events.register("before-call.s3.ListBuckets", lambda **kwargs: None)
        assert sessionpool.client("s3") is not old
