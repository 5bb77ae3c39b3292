"""Processes: a pool crosses process boundaries as its configuration (HAZARDS F5, X2).

The same module-level worker runs under each multiprocessing start method and in
``ProcessPoolExecutor`` workers. A ``forkserver`` child descends from a server process that an
earlier test may have started with another environment, and a ``spawn`` child sees the environment
as it was at spawn time, so every worker is handed the AWS environment it needs explicitly and
installs it before first use of the pool. Children are judged by exit code (or by the values they
return), and the parent reads back what they wrote.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import pickle
import subprocess
import sys
import uuid
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pytest

from sessionpool import SessionPool
from tests.support.tags import tag

pytestmark = [
    pytest.mark.compat,  # in the matrix's floor cell too (tasks.py matrix)
    # Python 3.12+ warns when a multi-threaded process forks (the moto server's threads live in
    # this process); what the pool does across the fork is what is tested here.
    pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning"),
]

START_METHODS = [
    pytest.param(
        method,
        marks=pytest.mark.skipif(
            method not in multiprocessing.get_all_start_methods(), reason=f"no {method} here"
        ),
    )
    for method in ("fork", "forkserver", "spawn")
]
# A fork child inherits the pool (its hook has run once); the others unpickle a new one.
FORKS_SEEN = {"fork": 1, "forkserver": 0, "spawn": 0}
TIMEOUT = 60.0


def _aws_env() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if name.startswith("AWS_")}


def _install_env(env: dict[str, str]) -> None:
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        del os.environ[name]
    os.environ.update(env)


def round_trip_worker(
    pool: SessionPool, env: dict[str, str], bucket: str, key: str, body: bytes, forks_seen: int
) -> None:
    """Write and read back one object through ``pool``; raise (exit code 1) on any surprise."""
    _install_env(env)
    s3 = pool.client("s3")
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    got = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    if got != body:
        raise AssertionError(f"read {got!r} for {key}, wrote {body!r}")
    stats = pool.stats()
    expected = {"forks_seen": forks_seen, "sessions_created": 1, "clients_created": 1}
    actual = {name: stats[name] for name in expected}
    if actual != expected:
        raise AssertionError(f"stats {actual}, expected {expected}")


def executor_task(
    pool: SessionPool, env: dict[str, str], bucket: str, key: str, body: bytes
) -> tuple[int, bytes, str]:
    """Write and read back one object through ``pool``; return (pid, body read, client's tag)."""
    _install_env(env)
    s3 = pool.client("s3")
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    got = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    return os.getpid(), got, tag(s3)


@pytest.mark.parametrize("method", START_METHODS)
def test_a_pool_passed_to_a_child_process_writes_and_reads_s3(
    method: str, pool: SessionPool, bucket: str
) -> None:
    pool.client("s3").head_bucket(Bucket=bucket)  # warm: a fork child inherits a used pool
    ctx = multiprocessing.get_context(method)
    key = f"{method}-{uuid.uuid4().hex}"
    body = f"written by a {method} child {uuid.uuid4().hex}".encode()
    child = ctx.Process(
        target=round_trip_worker,
        args=(pool, _aws_env(), bucket, key, body, FORKS_SEEN[method]),
    )
    child.start()
    child.join(TIMEOUT)
    if child.is_alive():
        child.kill()
        child.join()
        pytest.fail(f"the {method} child did not finish within {TIMEOUT}s")
    assert child.exitcode == 0
    assert pool.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read() == body
    assert pool.stats()["forks_seen"] == 0


@pytest.mark.parametrize("method", START_METHODS)
def test_process_pool_executor_tasks_use_a_pool_passed_as_an_argument(
    method: str, pool: SessionPool, bucket: str
) -> None:
    parent_s3 = pool.client("s3")  # referenced until the end: a fork worker inherits it, alive
    parent_tag = tag(parent_s3)  # before any worker exists: a fork worker's copy carries it too
    env = _aws_env()
    run = uuid.uuid4().hex
    items = {f"{method}-{run}-{i}": f"task {i} of {run}".encode() for i in range(8)}
    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context(method)) as ex:
        futures = {
            key: ex.submit(executor_task, pool, env, bucket, key, body)
            for key, body in items.items()
        }
        results = {key: future.result(timeout=TIMEOUT) for key, future in futures.items()}

    for key, (pid, got, client_tag) in results.items():
        assert pid != os.getpid()
        assert got == items[key]
        assert client_tag != parent_tag  # the worker's own client, never the parent's copy
    for key, body in items.items():
        assert parent_s3.get_object(Bucket=bucket, Key=key)["Body"].read() == body


# -- pickling ------------------------------------------------------------------------------------

# Unpickles (pool, expected) from stdin in a fresh interpreter, which has never seen the pool, and
# exits 0 if the pool there has no sessions and the expected configuration, else 1 with a message
# that names the check (never a credential value).
CHECK_UNPICKLED = """
import pickle, sys
pool, expected = pickle.loads(sys.stdin.buffer.read())
stats = pool.stats()
made = (stats["sessions_created"], stats["clients_created"], stats["hits"])
if made != (0, 0, 0):
    sys.exit(f"the unpickled pool arrived with (sessions, clients, hits) = {made}")
session = pool.get_session()
if (session.profile_name, session.region_name) != (expected["profile"], expected["region"]):
    sys.exit(f"profile/region {(session.profile_name, session.region_name)}, expected "
             f"{(expected['profile'], expected['region'])}")
if "credentials" in expected:
    frozen = session.get_credentials().get_frozen_credentials()
    if (frozen.access_key, frozen.secret_key, frozen.token) != tuple(expected["credentials"]):
        sys.exit("the unpickled pool's credentials differ from the explicit keys it was made with")
pool.client("s3")
if pool.stats()["sessions_created"] != 1:
    sys.exit("the unpickled pool did not make its own session")
"""


def _check_in_fresh_interpreter(data: bytes) -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHECK_UNPICKLED],
        input=data,
        capture_output=True,
        timeout=TIMEOUT,
        env=os.environ.copy(),
    )
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")[-4000:]


class _RecordingUnpickler(pickle.Unpickler):
    """Unpickles, recording the module of every class or function the pickle refers to."""

    def __init__(self, data: bytes) -> None:
        super().__init__(io.BytesIO(data))
        self.modules: set[str] = set()

    def find_class(self, module: str, name: str) -> Any:
        self.modules.add(module)
        return super().find_class(module, name)


@pytest.mark.parametrize(
    "config",
    [
        {"profile": "prod", "region": "ap-south-1"},
        {"profile_name": "prod", "region_name": "ap-south-1"},
    ],
)
def test_an_unpickled_pool_has_the_same_configuration_and_no_sessions(
    aws_env: Any, config: dict[str, str]
) -> None:
    with SessionPool(**config) as original:
        original.client("s3")
        data = pickle.dumps((original, {"profile": "prod", "region": "ap-south-1"}))
    _check_in_fresh_interpreter(data)


def test_a_used_pool_pickles_small_without_boto_objects_or_secrets(
    pool: SessionPool, bucket: str
) -> None:
    pool.client("s3").head_bucket(Bucket=bucket)
    pool.resource("s3")
    pool.get_session(profile="prod").client("sqs")
    secret = os.environ["AWS_SECRET_ACCESS_KEY"]
    assert pool.get_session().get_credentials().get_frozen_credentials().secret_key == secret

    data = pickle.dumps(pool)

    assert len(data) < 1024
    assert b"botocore" not in data and b"boto3" not in data
    assert secret.encode() not in data
    unpickler = _RecordingUnpickler(data)
    assert isinstance(unpickler.load(), SessionPool)
    assert {m for m in unpickler.modules if m.split(".")[0] in {"botocore", "boto3"}} == set()
    _check_in_fresh_interpreter(pickle.dumps((pool, {"profile": "default", "region": "us-east-1"})))


def test_a_pool_with_explicit_keys_round_trips_them(aws_env: Any) -> None:
    keys = {
        "aws_access_key_id": "AKIAEXPLICITEXAMPLE1",
        "aws_secret_access_key": "explicit-secret-EXAMPLE-not-real-00000",
        "aws_session_token": "explicit-token-EXAMPLE",
    }
    with SessionPool(region="eu-west-1", **keys) as original:
        original.client("s3")
        expected = {"profile": "default", "region": "eu-west-1", "credentials": list(keys.values())}
        data = pickle.dumps((original, expected))
    _check_in_fresh_interpreter(data)
