"""Property-based: random interleavings of pool operations keep the pool's invariants.

A hypothesis state machine drives one pool from four threads (three long-lived workers fed
through queues, plus the test's own thread) with every way of reaching a client: call arguments,
``with pool.session()`` blocks (nested too), ``get_session().client()``, resources; and it closes
and re-creates the pool, and fakes forks (``os.getpid`` patched: the pool's pid check resets it,
exactly as after a fork that bypasses Python's hooks). After every step:

* one session per (key, thread, process): the same object every time for a triple, never the
  same object for two triples;
* every client (and every resource's client) signs with its own key's access key id;
* ``stats()`` adds up: sessions, clients, resources, live threads, hits and misses, evictions and
  credential resolutions (one per key per process and eviction) match a model of what was asked;
* nothing evicted is handed out again, and every session a thread can reach through its fast
  table or memo is one the pool tracks (HAZARDS E1).

Client creation makes no network call, so no server is involved. A separate, smaller test
interleaves real forks (from a worker thread) with random operations.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import threading
import traceback
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from sessionpool import PoolClosedError, SessionPool
from tests.support.tracking import untracked

EXPLICIT_KEY_ID = "AKIAPROPERTYEXAMPLE1"
EXPLICIT_SECRET = "property-secret-EXAMPLE-not-real-000000"
KEYS: dict[str, dict[str, str]] = {
    "default": {},
    "prod": {"profile": "prod"},
    "dev": {"profile": "dev"},
    "explicit": {"aws_access_key_id": EXPLICIT_KEY_ID, "aws_secret_access_key": EXPLICIT_SECRET},
}
ACCESS_KEY_IDS = {
    "default": "AKIAIOSFODNN7EXAMPLE",  # conftest's environment keys
    "prod": "AKIAPRODEXAMPLE00001",
    "dev": "AKIADEVEXAMPLE000002",
    "explicit": EXPLICIT_KEY_ID,
}
SERVICES = ("s3", "sqs", "dynamodb")
WORKERS = 3
MAIN = WORKERS  # thread index of the test's own thread
TIMEOUT = 60.0
STYLES = st.sampled_from(["arguments", "block", "session"])
# Closing the pool and (fake) forking reset everything; let each epoch build up some state first.
RESET_AFTER = 6


class Workers:
    """A fixed set of threads, each running the functions it is handed, one at a time."""

    def __init__(self, n: int) -> None:
        self.queues: list[queue.Queue[Any]] = [queue.Queue() for _ in range(n)]
        self.threads = [
            threading.Thread(target=self._loop, args=(q,), name=f"prop-{i}", daemon=True)
            for i, q in enumerate(self.queues)
        ]
        for t in self.threads:
            t.start()

    @staticmethod
    def _loop(q: queue.Queue[Any]) -> None:
        while True:
            item = q.get()
            if item is None:
                return
            fn, box, done = item
            try:
                box.append((True, fn()))
            except BaseException as exc:
                box.append((False, exc))
            done.set()

    def run(self, index: int, fn: Callable[[], Any]) -> Any:
        if index == len(self.queues):
            return fn()
        box: list[tuple[bool, Any]] = []
        done = threading.Event()
        self.queues[index].put((fn, box, done))
        assert done.wait(TIMEOUT), f"worker {index} did not finish"
        ok, value = box[0]
        if not ok:
            raise value
        return value

    def close(self) -> None:
        for q in self.queues:
            q.put(None)
        for t in self.threads:
            t.join(TIMEOUT)


def signer_key_id(client: Any) -> str:
    return str(client._request_signer._credentials.get_frozen_credentials().access_key)


class Model:
    """What one pool in one (real or fake) process should contain."""

    def __init__(self, resolutions_before: int) -> None:
        self.sessions: dict[tuple[str, int], Any] = {}
        self.clients: dict[tuple[str, int, str], Any] = {}
        self.resources: dict[tuple[str, int, str], Any] = {}
        self.client_calls = 0
        self.resource_calls = 0
        # Cumulative: they survive evictions, which only forget the live tables above.
        self.created = {"sessions": 0, "clients": 0, "resources": 0}
        self.threads: set[int] = set()
        self.resolved_keys: set[str] = set()
        self.live_keys: set[str] = set()  # keys with sessions since the last eviction
        self.resolutions = resolutions_before
        self.evictions = 0

    def remember(self, table: dict[Any, Any], index: Any, obj: Any) -> None:
        known = table.get(index)
        if known is None:
            assert all(obj is not other for other in table.values()), f"{index} reuses an object"
            table[index] = obj
            kind = {id(self.sessions): "sessions", id(self.clients): "clients"}
            self.created[kind.get(id(table), "resources")] += 1
        else:
            assert obj is known, f"{index}: a second object for one (key, thread, ...)"

    def used_key(self, key: str, thread: int) -> None:
        self.threads.add(thread)
        self.live_keys.add(key)
        if key not in self.resolved_keys:
            self.resolved_keys.add(key)
            self.resolutions += 1


def make_machine(workers: Workers) -> type[RuleBasedStateMachine]:
    real_getpid = os.getpid

    class PoolMachine(RuleBasedStateMachine):
        @initialize()
        def start(self) -> None:
            self.fake_forks = 0  # ever, for distinct fake pids
            self.forks_in_pool = 0
            self.now = [0.0]
            self.pool = self._new_pool()
            self.model = Model(0)
            self.retired: list[Any] = []  # objects of earlier epochs: never handed out again
            self.steps_in_epoch = 0

        def _new_pool(self) -> SessionPool:
            # Idle eviction on a clock only the evict rule moves: nothing else ever evicts.
            return SessionPool(idle_timeout=60, clock=lambda: self.now[0])

        def teardown(self) -> None:
            os.getpid = real_getpid  # type: ignore[assignment]
            pool = getattr(self, "pool", None)
            if pool is not None:
                pool.close()

        # -- operations ------------------------------------------------------------------------

        def _check_fresh(self, obj: Any) -> None:
            assert all(obj is not old for old in self.retired), "an object of an earlier epoch"

        def _session(self, thread: int, key: str, session: Any) -> None:
            self._check_fresh(session)
            self.model.remember(self.model.sessions, (key, thread), session)
            self.model.used_key(key, thread)

        def _client(self, thread: int, key: str, service: str, client: Any) -> None:
            self._check_fresh(client)
            self.model.remember(self.model.clients, (key, thread, service), client)
            self.model.client_calls += 1
            assert signer_key_id(client) == ACCESS_KEY_IDS[key]

        def _call_client(self, thread: int, key: str, service: str, style: str) -> None:
            pool = self.pool

            def call() -> tuple[Any, Any]:
                if style == "arguments":  # the default key with no arguments: the hot path
                    return pool.client(service, **KEYS[key]), pool.get_session(**KEYS[key])
                if style == "block":
                    with pool.session(**KEYS[key]) as s:
                        return pool.client(service), s
                s = pool.get_session(**KEYS[key])
                return s.client(service), s

            client, session = workers.run(thread, call)
            self._session(thread, key, session)
            self._client(thread, key, service, client)
            self.steps_in_epoch += 1

        @rule(
            thread=st.integers(0, MAIN),
            key=st.sampled_from(sorted(KEYS)),
            service=st.sampled_from(SERVICES),
            style=STYLES,
        )
        def client(self, thread: int, key: str, service: str, style: str) -> None:
            self._call_client(thread, key, service, style)

        @precondition(lambda self: bool(self.model.clients))
        @rule(data=st.data(), style=STYLES)
        def client_again(self, data: st.DataObject, style: str) -> None:
            # The same (key, thread, service) as an earlier call, by any route: a cache hit.
            key, thread, service = data.draw(st.sampled_from(sorted(self.model.clients)))
            self._call_client(thread, key, service, style)

        @rule(
            thread=st.integers(0, MAIN),
            outer=st.sampled_from(["prod", "dev"]),
            inner=st.sampled_from(["prod", "dev"]),
            service=st.sampled_from(SERVICES),
        )
        def nested_blocks(self, thread: int, outer: str, inner: str, service: str) -> None:
            pool = self.pool

            def call() -> list[Any]:
                with pool.session(**KEYS[outer]) as so:
                    with pool.session(**KEYS[inner]) as si:
                        ci = pool.client(service)
                    co = pool.client(service)  # back in the outer block's key
                return [so, si, ci, co]

            so, si, ci, co = workers.run(thread, call)
            self._session(thread, outer, so)
            self._session(thread, inner, si)
            self._client(thread, inner, service, ci)
            self._client(thread, outer, service, co)
            self.steps_in_epoch += 1

        @rule(
            thread=st.integers(0, MAIN),
            key=st.sampled_from(sorted(KEYS)),
            service=st.sampled_from(SERVICES),
        )
        def resource(self, thread: int, key: str, service: str) -> None:
            pool = self.pool
            resource, session = workers.run(
                thread,
                lambda: (pool.resource(service, **KEYS[key]), pool.get_session(**KEYS[key])),
            )
            self._check_fresh(resource)
            self._session(thread, key, session)
            self.model.remember(self.model.resources, (key, thread, service), resource)
            self.model.resource_calls += 1
            self.steps_in_epoch += 1
            assert signer_key_id(resource.meta.client) == ACCESS_KEY_IDS[key]

        @rule(thread=st.integers(0, MAIN), key=st.sampled_from(sorted(KEYS)))
        def get_session(self, thread: int, key: str) -> None:
            pool = self.pool
            session = workers.run(thread, lambda: pool.get_session(**KEYS[key]))
            self._session(thread, key, session)
            self.steps_in_epoch += 1

        @precondition(lambda self: self.steps_in_epoch >= RESET_AFTER)
        @rule()
        def close_and_recreate(self) -> None:
            old = self.pool
            old.close()
            with pytest.raises(PoolClosedError):
                old.client("s3")
            self._retire()
            self.pool = self._new_pool()
            self.forks_in_pool = 0
            self.model = Model(0)

        @precondition(lambda self: self.steps_in_epoch >= RESET_AFTER)
        @rule()
        def fake_fork(self) -> None:
            # A fork that bypassed Python's hooks: only the pid changes. The pool notices on its
            # next slow path; stats() is one, and resets it before counting.
            self.fake_forks += 1
            self.forks_in_pool += 1
            offset = 1_000_000 + self.fake_forks
            os.getpid = lambda: real_getpid() + offset  # type: ignore[assignment]
            stats = self.pool.stats()
            assert stats["sessions_created"] == 0
            self._retire()
            carried = self.model.resolved_keys  # a child reuses the parent's current credentials
            self.model = Model(stats["credential_resolutions"])
            self.model.resolved_keys = set(carried)

        @precondition(lambda self: bool(self.model.sessions))
        @rule()
        def evict_idle(self) -> None:
            # Two prunes a timeout apart: the first sees the hot-path use since the last look
            # (counted as use now), the second finds every key idle and evicts it.
            m = self.model
            for _ in range(2):
                self.now[0] += 61
                self.pool.prune()
            # Eviction forgets the evicted keys' credentials: their next use resolves again.
            # (Credentials a forked child carried over for a key it has not used are kept.)
            m.evictions += len(m.live_keys)
            m.resolved_keys -= m.live_keys
            m.live_keys.clear()
            self._retire(new_epoch=False)
            m.sessions.clear()
            m.clients.clear()
            m.resources.clear()

        def _retire(self, new_epoch: bool = True) -> None:
            if new_epoch:
                self.steps_in_epoch = 0
            m = self.model
            self.retired.extend([*m.sessions.values(), *m.clients.values()])
            self.retired.extend(m.resources.values())

        # -- invariants ------------------------------------------------------------------------

        @invariant()
        def stats_add_up(self) -> None:
            m = self.model
            s = self.pool.stats()
            created = m.created
            expected = {
                "sessions_created": created["sessions"],
                "sessions": len(m.sessions),
                # boto3 builds each resource on a client of its own, through the session.
                "clients_created": created["clients"] + created["resources"],
                "clients": len(m.clients) + len(m.resources),
                "resources_created": created["resources"],
                "misses": created["clients"] + 2 * created["resources"],
                "hits": m.client_calls
                - created["clients"]
                + m.resource_calls
                - created["resources"],
                "threads": len(m.threads),
                "credential_resolutions": m.resolutions,
                "forks_seen": self.forks_in_pool,
                "evictions": m.evictions,
            }
            assert {name: s[name] for name in expected} == expected

        @invariant()
        def nothing_untracked(self) -> None:
            assert untracked(self.pool) == []

    return PoolMachine


@pytest.fixture
def workers() -> Any:
    w = Workers(WORKERS)
    yield w
    w.close()


@pytest.fixture
def explicit_secret(secrets_to_scan: set[str]) -> None:
    secrets_to_scan.add(EXPLICIT_SECRET)


def test_random_interleavings_keep_the_pool_invariants(
    aws_env: Any, workers: Workers, explicit_secret: None
) -> None:
    run_state_machine_as_test(
        make_machine(workers),
        settings=settings(
            max_examples=50,
            stateful_step_count=40,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )


# -- real forks ----------------------------------------------------------------------------------

operations = st.lists(
    st.tuples(st.integers(0, MAIN), st.sampled_from(sorted(KEYS)), st.sampled_from(SERVICES)),
    min_size=1,
    max_size=8,
)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
@settings(
    max_examples=6,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(before=operations, in_child=operations, fork_from=st.integers(0, MAIN))
def test_random_operations_around_a_real_fork_keep_one_session_per_key_thread_and_process(
    aws_env: Any,
    workers: Workers,
    explicit_secret: None,
    tmp_path: Path,
    before: list[tuple[int, str, str]],
    in_child: list[tuple[int, str, str]],
    fork_from: int,
) -> None:
    # (Python 3.12+ warns about forking with threads: the workers and moto's are the test's.)
    pool = SessionPool()
    try:
        parent_objects: list[Any] = []
        for thread, key, service in before:
            parent_objects.extend(
                workers.run(
                    thread,
                    lambda k=key, s=service: [
                        pool.get_session(**KEYS[k]),
                        pool.client(s, **KEYS[k]),
                    ],
                )
            )
        report = tmp_path / f"child-{uuid.uuid4().hex}.txt"

        def child() -> None:
            try:
                sessions: dict[str, Any] = {}
                for _, key, service in in_child:  # the child has one thread
                    session = pool.get_session(**KEYS[key])
                    client = pool.client(service, **KEYS[key])
                    assert all(session is not o and client is not o for o in parent_objects)
                    assert sessions.setdefault(key, session) is session
                    assert signer_key_id(client) == ACCESS_KEY_IDS[key]
                stats = pool.stats()
                assert stats["sessions_created"] == len(sessions)
                assert stats["forks_seen"] == 1
            except BaseException:
                report.write_text(traceback.format_exc())
                raise

        def fork() -> int | None:
            process = multiprocessing.get_context("fork").Process(target=child)
            process.start()
            process.join(TIMEOUT)
            if process.is_alive():
                process.kill()
                process.join(TIMEOUT)
            return process.exitcode

        code = workers.run(fork_from, fork)
        assert code == 0, report.read_text() if report.exists() else f"exit code {code}"
        # The parent is untouched: its sessions are still its own.
        assert pool.stats()["forks_seen"] == 0
    finally:
        pool.close()
