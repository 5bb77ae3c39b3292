"""Threads: each thread gets its own Session, clients and resources per key (HAZARDS T1-T3).

Every test starts 32 threads on a Barrier, so the first calls race; a second Barrier inside the
workers makes every thread ask again only after every other thread has made its objects.
"""

from __future__ import annotations

import threading
from typing import Any

import boto3
import pytest

import sessionpool
from sessionpool import SessionPool
from tests.support.threads import run_together

pytestmark = pytest.mark.compat  # in the matrix's floor cell too (tasks.py matrix)

N = 32


def _distinct(objects: list[Any]) -> bool:
    return len({id(o) for o in objects}) == len(objects)


def test_each_thread_gets_one_session_of_its_own(pool: SessionPool) -> None:
    again = threading.Barrier(N)

    def work(i: int) -> tuple[Any, list[Any]]:
        first = pool.get_session()
        seen = [first, pool.get_session()]
        again.wait()  # every thread has its session; ask again while the others hold theirs
        seen.append(pool.get_session())
        with pool.session() as s:
            seen.append(s)
            seen.append(pool.get_session())
        seen.append(pool.get_session())
        return first, seen

    results = run_together(N, work)
    for first, seen in results:
        assert all(s is first for s in seen)
        assert isinstance(first, boto3.session.Session)
    assert _distinct([first for first, _ in results])


def test_32_threads_create_exactly_32_sessions(pool: SessionPool) -> None:
    run_together(N, lambda i: (pool.client("s3"), pool.get_session()))
    assert pool.stats()["sessions_created"] == N


def test_32_threads_resolve_credentials_once(pool: SessionPool) -> None:
    run_together(N, lambda i: pool.client("s3"))
    assert pool.stats()["credential_resolutions"] == 1


def test_32_threads_on_one_profile_resolve_its_credentials_once(pool: SessionPool) -> None:
    run_together(N, lambda i: pool.client("s3", profile="prod"))
    stats = pool.stats()
    assert stats["credential_resolutions"] == 1
    assert stats["sessions_created"] == N


def test_threads_share_one_credentials_object_per_key(pool: SessionPool) -> None:
    creds = run_together(N, lambda i: pool.get_session().get_credentials())
    assert all(c is creds[0] for c in creds)


def test_each_thread_gets_its_own_client_and_keeps_it(pool: SessionPool) -> None:
    again = threading.Barrier(N)

    def work(i: int) -> Any:
        c = pool.client("s3")
        again.wait()
        assert pool.client("s3") is c
        assert pool.get_session().client("s3") is c
        with pool.session() as s:
            assert s.client("s3") is c
            assert pool.client("s3") is c
        return c

    clients = run_together(N, work)
    assert _distinct(clients)


def test_threads_put_and_get_their_own_objects(pool: SessionPool, bucket: str) -> None:
    def work(i: int) -> tuple[bytes, bytes]:
        body = f"body of thread {i} ".encode() * (i + 1)
        s3 = pool.client("s3")
        s3.put_object(Bucket=bucket, Key=f"thread-{i}", Body=body)
        got = s3.get_object(Bucket=bucket, Key=f"thread-{i}")["Body"].read()
        return body, got

    for body, got in run_together(N, work):
        assert got == body
    keys = pool.client("s3").list_objects_v2(Bucket=bucket)["KeyCount"]
    assert keys == N


def test_resource_is_per_thread(pool: SessionPool) -> None:
    again = threading.Barrier(N)

    def work(i: int) -> Any:
        r = pool.resource("s3")
        again.wait()
        assert pool.resource("s3") is r
        assert pool.get_session().resource("s3") is r
        return r

    resources = run_together(N, work)
    assert _distinct(resources)
    assert pool.stats()["resources_created"] == N


def test_resources_do_real_work_per_thread(pool: SessionPool, bucket: str) -> None:
    def work(i: int) -> bytes:
        obj = pool.resource("s3").Object(bucket, f"res-{i}")
        obj.put(Body=f"resource {i}".encode())
        return bytes(obj.get()["Body"].read())

    assert run_together(N, work) == [f"resource {i}".encode() for i in range(N)]


def test_pool_never_touches_boto3_default_session(
    pool: SessionPool, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("sessionpool touched boto3's default session")

    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    monkeypatch.setattr(boto3, "setup_default_session", refuse)
    monkeypatch.setattr(boto3, "_get_default_session", refuse)

    def work(i: int) -> bytes:
        pool.client("s3").put_object(Bucket=bucket, Key=f"d-{i}", Body=b"x")
        pool.resource("s3").Object(bucket, f"d-{i}").load()
        with pool.session(profile="dev") as s:
            s.client("sqs")
        sessionpool.client("s3")
        sessionpool.resource("dynamodb")
        return bytes(pool.client("s3").get_object(Bucket=bucket, Key=f"d-{i}")["Body"].read())

    assert run_together(N, work) == [b"x"] * N
    assert boto3.DEFAULT_SESSION is None
    sessionpool.default_pool().close()
