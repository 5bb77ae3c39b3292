"""Fork stress: children forked from a busy pool, mid-refresh, all work and exit 0 (HAZARDS F2,
F3, F5).

Twenty forks, each from a worker thread, while 16 threads use the pool and one thread is inside a
slow credential refresh: a ``credential_process`` that, when run for this test process, sleeps
until the test releases it, while the refreshing thread holds the key's shared-credentials lock.
Every child must complete its S3 calls (including on the key being refreshed in the parent) and
exit 0 within a generous timeout. The pool itself must start no thread.

The server runs in a process of its own (``MotoProcess``, ``tests/support/servers.py``), so
every thread in this
process is one the test started, and the thread census is exact.
"""

from __future__ import annotations

import faulthandler
import logging
import multiprocessing
import os
import shlex
import sys
import threading
import traceback
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sessionpool import SessionPool
from tests.support.aws import isolate_aws_env
from tests.support.logs import quiet_botocore
from tests.support.servers import MotoProcess

pytestmark = [
    pytest.mark.compat,  # in the matrix's floor cell too (tasks.py matrix)
    pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork"),
    # Python 3.12+ warns when a multi-threaded process forks. Forking while 16 threads run is
    # the point of this module; the warning would come from the test's own threads (the pool
    # starts none, as test_the_pool_started_no_thread_during_the_stress checks).
    pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning"),
]

FORKS = 20
USERS = 16
CHILD_TIMEOUT = 120.0
JOIN_TIMEOUT = 120.0

SLOW_SCRIPT = """\
import json, os, sys, time
runs, release, test_pid = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(runs, "a") as f:
    f.write(f"{os.getppid()}\\n")
# A slow refresh, only when the test process itself asks (a forked child never waits): sleep
# until the test creates the release file (bounded, so nothing can hang forever).
if os.getppid() == test_pid and os.path.exists(release + ".armed"):
    deadline = time.monotonic() + 300
    while not os.path.exists(release) and time.monotonic() < deadline:
        time.sleep(0.02)
print(json.dumps({
    "Version": 1,
    "AccessKeyId": "AKIASLOWEXAMPLE00001",
    "SecretAccessKey": "slow-secret-EXAMPLE-not-real-0000000000",
    "SessionToken": "slow-token-EXAMPLE-not-real",
}))
"""


class Stress:
    """What the stress run observed."""

    def __init__(self) -> None:
        self.exit_codes: list[int | None] = []
        self.child_reports: list[str] = []
        self.user_errors: list[BaseException] = []
        self.user_calls = 0
        self.calls_between_forks = 0
        self.stray_threads: list[str] = []
        self.refresh_was_in_progress_at_every_fork = True
        self.refresher_finished = False
        self.process_runs_by_test_pid = 0


@pytest.fixture(scope="module")
def stress(own_server: MotoProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stress]:
    home = tmp_path_factory.mktemp("fork-stress")
    script = home / "slow_process.py"
    script.write_text(SLOW_SCRIPT)
    runs, release = home / "runs.txt", home / "release"
    runs.touch()
    command = " ".join(
        shlex.quote(str(p)) for p in (sys.executable, script, runs, release, os.getpid())
    )
    (home / "config").write_text(
        "[default]\nregion = us-east-1\n\n[profile prod]\nregion = eu-west-1\n\n"
        f"[profile slow]\nregion = us-east-1\ncredential_process = {command}\n"
    )
    (home / "credentials").write_text(
        "[prod]\naws_access_key_id = AKIAPRODEXAMPLE00001\n"
        "aws_secret_access_key = prod-secret-EXAMPLE-not-real-0000000000\n"
    )
    with pytest.MonkeyPatch.context() as mp:
        isolate_aws_env(mp, home / "config", home / "credentials", own_server.url)
        with SessionPool() as pool, quiet_botocore():  # thousands of requests: see there
            # No logging while the threads run and the forks happen: a thread writing a record
            # to a buffered file (pytest's log file is one) at the moment of a fork leaves the
            # file's buffer lock held in the child, whose first record then waits for ever
            # (HAZARDS F9: CPython's, as with plain boto3; seen here once in the py3.10 cell).
            logging.disable(logging.CRITICAL)
            try:
                yield run_stress(pool, home, runs, release)
            finally:
                logging.disable(logging.NOTSET)
                release.touch()  # never leave a refresher sleeping


def run_stress(pool: SessionPool, home: Path, runs: Path, release: Path) -> Stress:
    out = Stress()
    lock = threading.Lock()
    bucket = f"fork-{uuid.uuid4().hex[:20]}"
    pool.client("s3").create_bucket(Bucket=bucket)
    slow = pool.get_session(profile="slow").get_credentials()  # run 1: not slow yet
    assert slow.get_frozen_credentials().access_key == "AKIASLOWEXAMPLE00001"
    before = set(threading.enumerate())
    mine: set[threading.Thread] = set()

    # -- the refresher: inside a slow renewal, holding the key's shared-credentials lock ------
    entered = threading.Event()
    resolve = slow._resolver

    def entering_resolve() -> Any:
        entered.set()
        return resolve()

    slow._resolver = entering_resolve
    (release.parent / (release.name + ".armed")).touch()
    assert slow.expire()

    def refresher() -> None:
        slow.get_frozen_credentials()  # renews: runs the script, which sleeps until released
        out.refresher_finished = True

    # -- 16 users ------------------------------------------------------------------------------
    stop = threading.Event()
    started = threading.Barrier(USERS + 1)
    progress = threading.Condition()
    total_calls = [0]

    def user(i: int) -> None:
        key_args = {} if i % 2 == 0 else {"profile": "prod"}
        calls = 0
        try:
            started.wait(JOIN_TIMEOUT)
            s3 = pool.client("s3", **key_args)
            while not stop.is_set():
                key = f"user-{i}/{calls}"
                body = f"{key} {uuid.uuid4().hex}".encode()
                s3.put_object(Bucket=bucket, Key=key, Body=body)
                got = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
                if got != body:
                    raise AssertionError(f"{key}: read {got[:60]!r}")
                calls += 1
                with progress:
                    total_calls[0] += 1
                    progress.notify_all()
        except BaseException as exc:
            with lock:
                out.user_errors.append(exc)
        with lock:
            out.user_calls += calls

    # -- the forker: a worker thread that forks 20 times -----------------------------------
    ctx = multiprocessing.get_context("fork")

    def child(n: int, report: str) -> None:
        # A child that hangs writes every thread's stack into its report before the parent
        # kills it, so that a failure says where it hung.
        hang_log = open(report + ".hang", "w")  # noqa: SIM115 (open until the child exits)
        faulthandler.dump_traceback_later(CHILD_TIMEOUT - 15, exit=True, file=hang_log)
        try:
            s3 = pool.client("s3")
            key = f"child-{n}/{os.getpid()}"
            s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
            assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == key.encode()
            prod = pool.client("s3", profile="prod")
            assert prod.head_object(Bucket=bucket, Key=key)["ContentLength"] == len(key)
            # The key whose refresh is in progress in the parent: the child resolves its own.
            session = pool.get_session(profile="slow")
            frozen = session.get_credentials().get_frozen_credentials()
            assert frozen.access_key == "AKIASLOWEXAMPLE00001"
            session.client("s3").head_bucket(Bucket=bucket)
            stats = pool.stats()
            assert stats["forks_seen"] >= 1
            assert stats["sessions_created"] == 3  # only the child's own
        except BaseException:
            Path(report).write_text(traceback.format_exc())
            raise

    def forker() -> None:
        last = 0
        for n in range(FORKS):
            with progress:  # the users are really working: a call completed since the last fork
                progress.wait_for(lambda: total_calls[0] > last, JOIN_TIMEOUT)
                if total_calls[0] > last:
                    out.calls_between_forks += 1
                last = total_calls[0]
            if not (entered.is_set() and not out.refresher_finished):
                out.refresh_was_in_progress_at_every_fork = False
            report = home / f"child-{n}.txt"
            process = ctx.Process(target=child, args=(n, str(report)))
            process.start()
            process.join(CHILD_TIMEOUT)
            if process.is_alive():
                process.kill()
                process.join(CHILD_TIMEOUT)
                out.child_reports.append(f"child {n} did not exit within {CHILD_TIMEOUT}s")
            out.exit_codes.append(process.exitcode)
            if report.exists():
                out.child_reports.append(report.read_text())
            hang = Path(f"{report}.hang")
            if hang.exists() and hang.read_text():
                out.child_reports.append(f"child {n}'s threads when it hung:\n{hang.read_text()}")
            stray = set(threading.enumerate()) - before - mine
            out.stray_threads.extend(t.name for t in stray)

    refresh_thread = threading.Thread(target=refresher, name="refresher")
    users = [threading.Thread(target=user, args=(i,), name=f"user-{i}") for i in range(USERS)]
    fork_thread = threading.Thread(target=forker, name="forker")
    mine.update([refresh_thread, fork_thread, *users])
    refresh_thread.start()
    assert entered.wait(JOIN_TIMEOUT)  # the refresher holds the lock and is in the script
    for t in users:
        t.start()
    started.wait(JOIN_TIMEOUT)  # the users are running
    fork_thread.start()
    fork_thread.join(JOIN_TIMEOUT * FORKS)
    stop.set()
    for t in users:
        t.join(JOIN_TIMEOUT)
    release.touch()
    refresh_thread.join(JOIN_TIMEOUT)
    out.stray_threads.extend(t.name for t in set(threading.enumerate()) - before - mine)
    out.process_runs_by_test_pid = runs.read_text().split().count(str(os.getpid()))
    return out


def test_every_child_forked_during_the_stress_completes_its_calls_and_exits_0(
    stress: Stress,
) -> None:
    assert stress.exit_codes == [0] * FORKS, "\n".join(stress.child_reports)


def test_the_forks_happened_while_a_refresh_was_in_progress_and_16_threads_made_calls(
    stress: Stress,
) -> None:
    assert stress.refresh_was_in_progress_at_every_fork
    assert stress.refresher_finished  # and it completed once released
    assert stress.process_runs_by_test_pid == 2  # the first resolution and the one refresh
    assert stress.user_errors == []
    assert stress.calls_between_forks == FORKS  # users completed calls before every fork


def test_the_pool_started_no_thread_during_the_stress(stress: Stress) -> None:
    print(f"user calls during the stress: {stress.user_calls}")
    assert stress.stray_threads == []
