"""Fork: a child never uses its parent's sessions, clients, credentials or locks (HAZARDS F1-F6).

Children are made with ``os.fork()`` (Python's fork hooks run) and judged by their exit status;
a child that fails writes its traceback to a pipe, which the parent puts in the assertion message.
Every wait on a child is bounded, and a child still running at the bound is killed, so a deadlocked
child fails the test instead of hanging the suite.
"""

from __future__ import annotations

import multiprocessing
import os
import select
import shlex
import signal
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import pytest
from botocore.credentials import RefreshableCredentials

from sessionpool import SessionPool
from tests.support.threads import run_together

pytestmark = [
    pytest.mark.compat,  # in the matrix's floor cell too (tasks.py matrix)
    pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork"),
    # Python 3.12+ warns when a multi-threaded process forks; the moto server's threads live in
    # this process, so every fork here is one. The pool's own thread-safety across fork is what
    # these tests check.
    pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning"),
]

CHILD_TIMEOUT = 60.0
CALLS = 30


def _child_main(fn: Callable[[], None], write_fd: int) -> NoReturn:
    """Run ``fn`` in a forked child and leave by ``os._exit``: 0 if it returned, 1 if it raised."""
    code = 1
    try:
        fn()
        code = 0
    except BaseException:  # noqa: BLE001 - reported to the parent through the pipe
        try:
            os.write(write_fd, traceback.format_exc().encode("utf-8", "replace")[-16000:])
        except BaseException:  # noqa: BLE001
            pass
    finally:
        os._exit(code)


def _wait_for_exit(pid: int, timeout: float) -> int | None:
    """The child's exit code, or None if it did not exit within ``timeout`` (it is then killed)."""
    if hasattr(os, "pidfd_open"):
        fd = os.pidfd_open(pid)
        try:
            ready, _, _ = select.select([fd], [], [], timeout)
        finally:
            os.close(fd)
        if ready:
            return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    else:  # pragma: no cover - kernels without pidfd: poll, bounded by the same deadline
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return os.waitstatus_to_exitcode(status)
            time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return None


class Child:
    """A forked child running ``fn``; :meth:`result` waits (bounded) for its exit code."""

    def __init__(self, fn: Callable[[], None]) -> None:
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            _child_main(fn, write_fd)
        os.close(write_fd)
        self.pid = pid
        self._read_fd = read_fd

    def result(self, timeout: float = CHILD_TIMEOUT) -> tuple[int | None, str]:
        try:
            code = _wait_for_exit(self.pid, timeout)
            chunks = []
            while chunk := os.read(self._read_fd, 65536):
                chunks.append(chunk)
        finally:
            os.close(self._read_fd)
        report = b"".join(chunks).decode("utf-8", "replace")
        if code is None:
            report = f"child {self.pid} did not exit within {timeout}s (killed)\n{report}"
        return code, report


def _put_get_many(s3: Any, bucket: str, prefix: str) -> dict[str, bytes]:
    """Put and read back CALLS objects with distinct keys and bodies; raise on any mismatch."""
    written = {}
    for i in range(CALLS):
        key = f"{prefix}/{i}"
        body = f"{prefix} object {i} {uuid.uuid4().hex}".encode()
        s3.put_object(Bucket=bucket, Key=key, Body=body)
        got = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        if got != body:
            raise AssertionError(f"{key}: read {got[:80]!r}, wrote {body[:80]!r}")
        written[key] = body
    return written


# -- a child and its parent on one warmed pool ---------------------------------------------------


def test_forked_child_and_parent_both_use_a_warmed_pool_with_bodies_matching_their_keys(
    pool: SessionPool, bucket: str
) -> None:
    parent_s3 = pool.client("s3")
    parent_s3.head_bucket(Bucket=bucket)  # a keep-alive connection now sits in its pool
    parent_s3_id = id(parent_s3)  # parent_s3 stays referenced, so this id cannot be reused
    prefix = uuid.uuid4().hex

    def child() -> None:
        stats = pool.stats()
        assert stats["forks_seen"] == 1, stats
        assert (stats["sessions_created"], stats["clients_created"], stats["hits"]) == (0, 0, 0), (
            stats
        )
        s3 = pool.client("s3")
        assert id(s3) != parent_s3_id and s3 is not parent_s3
        _put_get_many(s3, bucket, f"{prefix}/child")
        stats = pool.stats()
        assert (stats["sessions_created"], stats["clients_created"]) == (1, 1), stats

    forked = Child(child)
    try:
        assert pool.client("s3") is parent_s3
        parent_written = _put_get_many(parent_s3, bucket, f"{prefix}/parent")
    finally:
        code, report = forked.result()
    assert code == 0, report

    assert pool.client("s3") is parent_s3
    assert pool.stats()["forks_seen"] == 0
    listed = parent_s3.list_objects_v2(Bucket=bucket, Prefix=f"{prefix}/child/")["KeyCount"]
    assert listed == CALLS  # the child's calls really reached the server
    for key, body in parent_written.items():
        assert parent_s3.get_object(Bucket=bucket, Key=key)["Body"].read() == body


# -- locks held by another thread at fork time ---------------------------------------------------


@contextmanager
def held_by_another_thread(lock: Any) -> Iterator[None]:
    """Hold ``lock`` in a helper thread for the duration of the block.

    The lock is released at the end of the block, before any assertion: a failure report calls
    ``repr(pool)``, which takes the pool's lock.
    """
    held, release = threading.Event(), threading.Event()

    def target() -> None:
        with lock:
            held.set()
            release.wait(CHILD_TIMEOUT * 2)

    thread = threading.Thread(target=target, name="lock-holder")
    thread.start()
    try:
        assert held.wait(CHILD_TIMEOUT), "the helper thread never got the lock"
        yield
    finally:
        release.set()
        thread.join(CHILD_TIMEOUT)
    assert not thread.is_alive()


def test_fork_while_another_thread_holds_the_pool_lock_gives_the_child_a_working_client(
    pool: SessionPool, bucket: str
) -> None:
    pool.client("s3").head_bucket(Bucket=bucket)
    key = f"locked-{uuid.uuid4().hex}"

    def child() -> None:
        s3 = pool.client("s3")
        s3.put_object(Bucket=bucket, Key=key, Body=b"from the child")
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"from the child"
        assert pool.stats()["sessions_created"] == 1

    with held_by_another_thread(pool._lock):
        code, report = Child(child).result()
    assert code == 0, report


CREDENTIAL_PROCESS = """\
import datetime, json
expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=5)
print(json.dumps({
    "Version": 1,
    "AccessKeyId": "AKIAPROCESSEXAMPLE01",
    "SecretAccessKey": "process-secret-EXAMPLE-not-real-000000",
    "SessionToken": "process-token-EXAMPLE",
    "Expiration": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
}))
"""


@pytest.fixture
def process_profile(aws_env: Any, aws_files: tuple[Path, Path], tmp_path: Path) -> str:
    """A profile whose ``credential_process`` returns credentials inside botocore's mandatory
    refresh window (5 minutes left of 10): every use refreshes, blocking on the refresh lock."""
    script = tmp_path / "credential_process.py"
    script.write_text(CREDENTIAL_PROCESS)
    config, _ = aws_files
    command = f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}"
    with config.open("a") as f:
        f.write(f"\n[profile proc]\nregion = us-east-1\ncredential_process = {command}\n")
    return "proc"


def test_fork_while_another_thread_holds_the_credential_refresh_lock_gives_the_child_credentials(
    process_profile: str, bucket: str
) -> None:
    with SessionPool(profile=process_profile) as pool:
        pool.client("s3").head_bucket(Bucket=bucket)
        credentials = pool.get_session().get_credentials()
        # The pool may wrap what botocore resolved; the refresh lock is botocore's own.
        refreshable = getattr(credentials, "inner", credentials)
        assert isinstance(refreshable, RefreshableCredentials)
        assert refreshable.refresh_needed(refreshable._mandatory_refresh_timeout)
        key = f"refreshing-{uuid.uuid4().hex}"

        def child() -> None:
            s3 = pool.client("s3")
            s3.put_object(Bucket=bucket, Key=key, Body=b"fresh credentials")
            assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"fresh credentials"
            child_credentials = pool.get_session().get_credentials()
            assert child_credentials is not credentials
            assert getattr(child_credentials, "inner", child_credentials) is not refreshable

        # As if that thread were inside a refresh when this one forks.
        with held_by_another_thread(refreshable._refresh_lock):
            code, report = Child(child).result()
        assert code == 0, report


# -- a fork that bypasses Python's hooks ---------------------------------------------------------


def test_a_pid_change_without_fork_hooks_gives_a_new_session(
    pool: SessionPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = pool.get_session()
    assert pool.stats()["forks_seen"] == 0
    real_pid = os.getpid()
    monkeypatch.setattr(os, "getpid", lambda: real_pid + 1_000_000)

    after = pool.get_session()

    assert after is not before
    stats = pool.stats()
    assert stats["forks_seen"] == 1
    assert stats["sessions_created"] == 1
    assert pool.get_session() is after


# -- no threads of its own -----------------------------------------------------------------------


def test_the_pool_starts_no_background_threads(aws_env: Any) -> None:
    # No requests are made, so the moto server starts no handler threads meanwhile.
    before = set(threading.enumerate())
    pool = SessionPool()

    def use(i: int) -> None:
        pool.client("s3")
        pool.resource("s3")
        pool.get_session(profile="prod").get_credentials()

    run_together(4, use)
    use(0)
    pool.stats()
    pool.close()

    started = [t.name for t in threading.enumerate() if t not in before]
    assert started == []


# -- counts in a child ---------------------------------------------------------------------------

STATS_CHILD_TIMEOUT = 120.0


def test_a_forked_childs_stats_count_only_its_own_credential_resolutions(
    aws_env: Any, tmp_path: Path
) -> None:
    # stats() are "counts for this process": sessions_created starts again at 0 in a child, and
    # so must credential_resolutions, or "one resolution per key per process" cannot be read off
    # the stats in a worker process. (No requests: making clients resolves credentials only.)
    report = tmp_path / "child.txt"
    with SessionPool() as pool:
        pool.client("s3")
        pool.client("s3", profile="prod")
        assert pool.stats()["credential_resolutions"] == 2

        def child() -> None:
            pool.client("s3", profile="dev")
            s = pool.stats()
            counts = {k: s[k] for k in ("sessions_created", "credential_resolutions")}
            if counts != {"sessions_created": 1, "credential_resolutions": 1}:
                report.write_text(f"child stats: {counts}")
                raise SystemExit(1)

        process = multiprocessing.get_context("fork").Process(target=child)
        process.start()
        process.join(STATS_CHILD_TIMEOUT)
        if process.is_alive():
            process.kill()
            process.join(STATS_CHILD_TIMEOUT)
        assert process.exitcode == 0, report.read_text() if report.exists() else process.exitcode
