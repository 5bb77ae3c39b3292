"""Credentials cross processes once: forked children reuse the parent's current credentials
(and resolve afresh when those need refreshing), and spawned workers on one machine can share
them through a file cache (opt in) that only its owner can write.

Counted at moto's server: AssumeRole calls for the conftest's ``role`` profile (a role assumed
from the ``dev`` profile's keys).
"""

from __future__ import annotations

import multiprocessing
import os
import stat
import threading
from pathlib import Path
from typing import Any

import pytest

from sessionpool import InvalidArgumentError, SessionPool
from sessionpool._credentials import _Flight
from tests.support.servers import MotoServer

pytestmark = [
    pytest.mark.compat,
    pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning"),
]
JOIN = 120.0


def _aws_env() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if name.startswith("AWS_")}


def use_role(pool: SessionPool, env: dict[str, str] | None, barrier: Any = None) -> None:
    if env is not None:
        for name in [n for n in os.environ if n.startswith("AWS_")]:
            del os.environ[name]
        os.environ.update(env)
    if barrier is not None:
        barrier.wait(JOIN)
    pool.client("s3").list_buckets()  # signing needs the role's credentials
    stats = pool.stats()
    if stats["sessions_created"] != 1:
        raise SystemExit(f"unexpected stats {stats}")


def run_children(ctx: Any, pool: SessionPool, n: int, env: dict[str, str] | None) -> list[int]:
    barrier = ctx.Barrier(n) if ctx.get_start_method() != "fork" else None
    children = [ctx.Process(target=use_role, args=(pool, env, barrier)) for _ in range(n)]
    for child in children:
        child.start()
    for child in children:
        child.join(JOIN)
        if child.is_alive():
            child.kill()
            child.join()
    return [c.exitcode for c in children]


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork")
def test_a_parent_and_4_forked_children_make_one_assume_role(aws_env: MotoServer) -> None:
    before = aws_env.log.count("AssumeRole")
    with SessionPool(profile="role") as pool:
        pool.client("s3").list_buckets()
        assert aws_env.log.count("AssumeRole") - before == 1
        codes = run_children(multiprocessing.get_context("fork"), pool, 4, None)
    assert codes == [0, 0, 0, 0]
    assert aws_env.log.count("AssumeRole") - before == 1


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork")
def test_a_child_forked_while_the_parent_refreshes_resolves_on_its_own(
    aws_env: MotoServer,
) -> None:
    before = aws_env.log.count("AssumeRole")
    with SessionPool(profile="role") as pool:
        pool.client("s3").list_buckets()
        shared = pool.get_session().get_credentials()
        held, release = threading.Event(), threading.Event()

        def refreshing() -> None:  # a refresh in flight in this thread, as a slow one is
            flight = _Flight()
            shared._flight = flight
            held.set()
            release.wait(JOIN)
            shared._flight = None
            flight.finish(None)

        t = threading.Thread(target=refreshing)
        t.start()
        held.wait(JOIN)
        try:
            codes = run_children(multiprocessing.get_context("fork"), pool, 2, None)
        finally:
            release.set()
            t.join(JOIN)
    assert codes == [0, 0]  # never waited on the parent's refresh
    assert aws_env.log.count("AssumeRole") - before == 3  # the parent's, and one per child


def test_a_childs_copy_refreshes_by_resolving_afresh_not_through_the_parent(
    aws_env: MotoServer,
) -> None:
    with SessionPool(profile="role") as pool:
        pool.client("s3").list_buckets()
        shared = pool.get_session().get_credentials()
        child = shared.copy_for_child()
        assert child is not None and child is not shared
        assert child._state is not shared._state
        assert child.get_frozen_credentials() == shared.get_frozen_credentials()
        before = aws_env.log.count("AssumeRole")
        metadata = child.inner._refresh_using()  # what the child runs when its keys near expiry
        assert aws_env.log.count("AssumeRole") - before == 1
        assert metadata["access_key"].startswith("ASIA")


@pytest.mark.parametrize("cached", [True, False], ids=["with cache", "without"])
def test_8_spawned_workers_make_one_assume_role_with_a_credential_cache(
    aws_env: MotoServer, tmp_path: Path, cached: bool
) -> None:
    cache = tmp_path / "credential-cache"
    options = {"credential_cache": str(cache)} if cached else {}
    before = aws_env.log.count("AssumeRole")
    with SessionPool(profile="role", **options) as pool:
        codes = run_children(multiprocessing.get_context("spawn"), pool, 8, _aws_env())
    assert codes == [0] * 8
    assert aws_env.log.count("AssumeRole") - before == (1 if cached else 8)
    if cached:
        assert stat.S_IMODE(cache.stat().st_mode) == 0o700
        files = [p for p in cache.rglob("*.json")]
        assert len(files) == 1
        assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in files)


def test_a_credential_cache_others_can_write_to_is_refused(aws_env: Any, tmp_path: Path) -> None:
    shared_dir = tmp_path / "shared"
    shared_dir.mkdir()
    shared_dir.chmod(0o777)
    with pytest.raises(InvalidArgumentError, match="other users"):
        SessionPool(credential_cache=str(shared_dir))
    with pytest.raises(InvalidArgumentError, match="credential_cache"):
        SessionPool(credential_cache=42)  # type: ignore[arg-type]
