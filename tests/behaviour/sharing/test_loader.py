"""One shared botocore data loader per process, and fresh botocore internals per session.

HAZARDS S1 (share the loader, de-duplicate its search paths, serialise cold loads), S2 (never
share an event emitter) and S3 (never wrap one botocore session in many boto3 sessions).
"""

from __future__ import annotations

import os
import threading
from typing import Any

import boto3
import pytest

from sessionpool import PooledSession, SessionPool
from sessionpool._botocore.loader import SharedLoader
from tests.support.threads import run_together

pytestmark = pytest.mark.compat  # in the matrix's floor cell too (tasks.py matrix)


def _loader_of(session: PooledSession) -> Any:
    return session._session.get_component("data_loader")


def _handler_count(session: PooledSession, event: str) -> int:
    # botocore.session.Session._events is an EventAliaser around the HierarchicalEmitter.
    emitter = session._session._events._emitter
    return len(emitter._handlers.prefix_search(event))


def test_every_session_across_threads_and_keys_uses_one_shared_loader(pool: SessionPool) -> None:
    def work(i: int) -> tuple[PooledSession, PooledSession]:
        return pool.get_session(), pool.get_session(profile="prod")

    pairs = run_together(8, work)
    sessions = [s for pair in pairs for s in pair]

    assert len({id(s) for s in sessions}) == 16  # each thread and key has its own Session
    loader = _loader_of(sessions[0])
    assert isinstance(loader, SharedLoader)
    assert all(_loader_of(s) is loader for s in sessions)


def test_search_paths_have_no_duplicates_after_fifty_sessions(aws_env: Any) -> None:
    sessions = []
    for _ in range(50):
        p = SessionPool()
        sessions.append(p.get_session())
        p.close()

    loader = _loader_of(sessions[-1])
    assert all(_loader_of(s) is loader for s in sessions)
    paths = list(loader.search_paths)
    # boto3.Session appended its data path every time it wrapped a session; it is there once.
    boto3_data = os.path.join(os.path.dirname(str(boto3.__file__)), "data")
    assert paths.count(boto3_data) == 1
    assert len(paths) == len(set(paths)), paths


def test_cold_burst_reads_the_s3_model_file_once() -> None:
    loader = SharedLoader()
    original = loader.file_loader.load_file
    lock = threading.Lock()
    reads: list[str] = []

    def counting_load_file(file_path: str, *args: Any, **kwargs: Any) -> Any:
        data = original(file_path, *args, **kwargs)
        parts = os.path.normpath(file_path).split(os.sep)
        if data is not None and parts[-1] == "service-2" and parts[-3] == "s3":
            with lock:
                reads.append(file_path)
        return data

    loader.file_loader.load_file = counting_load_file

    models = run_together(32, lambda i: loader.load_service_model("s3", "service-2"))

    assert len(reads) == 1, reads
    assert all(m is models[0] for m in models)
    assert models[0]["metadata"]["endpointPrefix"] == "s3"


def test_sessions_never_share_an_event_emitter(pool: SessionPool) -> None:
    def work(i: int) -> tuple[PooledSession, PooledSession]:
        return pool.get_session(), pool.get_session(profile="prod")

    sessions = [s for pair in run_together(8, work) for s in pair]

    emitters = {id(s._session.get_component("event_emitter")) for s in sessions}
    assert len(emitters) == len(sessions) == 16


def test_each_pooled_session_wraps_its_own_botocore_session(pool: SessionPool) -> None:
    sessions = run_together(16, lambda i: pool.get_session())

    assert len({id(s._session) for s in sessions}) == 16


@pytest.mark.parametrize("event", ["creating-client-class.s3", "creating-resource-class.s3.Bucket"])
def test_handler_count_does_not_grow_with_the_number_of_sessions(
    pool: SessionPool, event: str
) -> None:
    # Sessions made one after another, each in a new thread (so each is a new Session of one key):
    # if the pool re-wrapped one botocore session, boto3's handlers would pile up on it.
    counts = []
    for _ in range(50):
        session = run_together(1, lambda _: pool.get_session())[0]
        counts.append(_handler_count(session, event))

    assert counts[0] >= 1
    assert counts[-1] == counts[0], counts
