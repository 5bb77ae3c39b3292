"""Faults: when the server stops and restarts in the middle of a run, calls fail with botocore's
errors while it is down, and the same pool and clients recover by themselves, losing nothing.

A moto server in a process of its own (``MotoProcess``, ``tests/support/servers.py``) is stopped
(listening socket and every open connection closed) and started again on the same port, three times,
while four long-lived threads use one pool. Moto keeps its data in that process, so what was written
before a fault is still there after it. The run happens once per module; each test checks one
promise."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import botocore.exceptions
import pytest
from botocore.config import Config

from sessionpool import SessionPool
from tests.support.aws import isolate_aws_env
from tests.support.probes import fd_count
from tests.support.servers import moto_process

THREADS = 4
OBJECTS_PER_CYCLE = 5
CYCLES = 3
TIMEOUT = 60.0
# Fail fast while the server is down: one attempt, short connect timeout (loopback refuses at once
# anyway; the timeout only bounds a pathological case).
CONFIG = Config(
    connect_timeout=2, read_timeout=10, retries={"mode": "standard", "total_max_attempts": 1}
)


@dataclass
class Outcome:
    errors_while_down: list[list[BaseException]] = field(default_factory=list)  # per cycle
    unexpected_successes: int = 0
    same_client_after_restart: list[bool] = field(default_factory=list)
    written: dict[str, bytes] = field(default_factory=dict)
    read_back: dict[str, bytes] = field(default_factory=dict)
    fds_baseline: int = 0
    fds_down: list[int] = field(default_factory=list)
    fds_recovered: list[int] = field(default_factory=list)
    new_client_while_down: bool = False
    failure: BaseException | None = None


@pytest.fixture(scope="module")
def fault_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outcome]:
    home = tmp_path_factory.mktemp("faults")
    (home / "config").write_text("[default]\nregion = us-east-1\n")
    (home / "credentials").write_text("")
    with pytest.MonkeyPatch.context() as mp, moto_process() as server:
        isolate_aws_env(mp, home / "config", home / "credentials", server.url)
        with SessionPool() as pool:
            yield run_faults(pool, server)


def run_faults(pool: SessionPool, server: Any) -> Outcome:
    out = Outcome()
    lock = threading.Lock()
    bucket = f"faults-{uuid.uuid4().hex[:20]}"
    pool.client("s3", config=CONFIG).create_bucket(Bucket=bucket)
    # Phases, each ended by every worker and this thread meeting at the barrier:
    # write -> (server stopped) -> fail -> (server started) -> recover.
    step = threading.Barrier(THREADS + 1)

    def worker(i: int) -> None:
        try:
            s3 = pool.client("s3", config=CONFIG)
            mine: dict[str, bytes] = {}
            for cycle in range(CYCLES):
                for j in range(OBJECTS_PER_CYCLE):
                    key = f"c{cycle}/t{i}/o{j}"
                    mine[key] = f"{key} {uuid.uuid4().hex}".encode()
                    s3.put_object(Bucket=bucket, Key=key, Body=mine[key])
                step.wait(TIMEOUT)  # written; the server is stopped now
                step.wait(TIMEOUT)
                errors: list[BaseException] = []
                for key in list(mine)[-2:]:
                    try:
                        s3.get_object(Bucket=bucket, Key=key)["Body"].read()
                        with lock:
                            out.unexpected_successes += 1
                    except Exception as exc:
                        errors.append(exc)
                try:
                    s3.put_object(Bucket=bucket, Key=f"down/{i}", Body=b"lost")
                    with lock:
                        out.unexpected_successes += 1
                except Exception as exc:
                    errors.append(exc)
                with lock:
                    out.errors_while_down[cycle].extend(errors)
                step.wait(TIMEOUT)  # failed; the server is started again now
                step.wait(TIMEOUT)
                again = pool.client("s3", config=CONFIG)
                with lock:
                    out.same_client_after_restart.append(again is s3)
                for key in mine:
                    got = again.get_object(Bucket=bucket, Key=key)["Body"].read()
                    with lock:
                        out.read_back[key] = got
                step.wait(TIMEOUT)  # recovered
            with lock:
                out.written.update(mine)
        except BaseException as exc:
            with lock:
                out.failure = out.failure or exc
            step.abort()

    out.errors_while_down = [[] for _ in range(CYCLES)]
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    try:
        for cycle in range(CYCLES):
            step.wait(TIMEOUT)  # everyone has written this cycle's objects
            if cycle == 0:
                out.fds_baseline = fd_count()
            server.stop()
            step.wait(TIMEOUT)
            step.wait(TIMEOUT)  # everyone has failed
            out.fds_down.append(fd_count())
            if cycle == 0:
                # While it is down the pool still hands out new clients (no network needed).
                out.new_client_while_down = pool.client("sqs", config=CONFIG) is not None
            server.start()
            step.wait(TIMEOUT)
            step.wait(TIMEOUT)  # everyone has read back every object so far
            out.fds_recovered.append(fd_count())
    except threading.BrokenBarrierError:
        pass
    for t in threads:
        t.join(TIMEOUT)
    return out


def test_the_fault_scenario_ran_to_the_end(fault_run: Outcome) -> None:
    assert fault_run.failure is None, repr(fault_run.failure)


def test_calls_fail_with_botocore_connection_errors_while_the_server_is_down(
    fault_run: Outcome,
) -> None:
    assert fault_run.unexpected_successes == 0
    for errors in fault_run.errors_while_down:
        assert len(errors) == THREADS * 3
        unexpected = [e for e in errors if not isinstance(e, botocore.exceptions.ConnectionError)]
        assert unexpected == []


def test_the_same_pool_and_clients_recover_by_themselves_after_a_restart(
    fault_run: Outcome,
) -> None:
    assert fault_run.failure is None
    assert fault_run.same_client_after_restart == [True] * (THREADS * CYCLES)
    assert fault_run.new_client_while_down


def test_every_object_written_before_a_fault_reads_back_intact(fault_run: Outcome) -> None:
    assert len(fault_run.written) == THREADS * OBJECTS_PER_CYCLE * CYCLES
    assert fault_run.read_back == fault_run.written


def test_descriptors_do_not_grow_across_faults(fault_run: Outcome) -> None:
    # While down, connections the server cut are dropped (never more than before); once the
    # clients have reconnected, exactly the baseline again, after every one of the faults. (The
    # sqs client made while down opens no connection: it is never used.)
    assert fault_run.fds_baseline > 0
    assert all(n <= fault_run.fds_baseline for n in fault_run.fds_down), fault_run.fds_down
    assert fault_run.fds_recovered == [fault_run.fds_baseline] * CYCLES
