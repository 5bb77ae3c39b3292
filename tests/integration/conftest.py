"""Fixtures for the integration suite: real frameworks, on 127.0.0.1 only, against moto's server.

Each test gets its own moto server (so its request counts are its own), its own AWS files, and a
directory (``it_dir``) that names it in every process it starts: the framework processes get
``FrameworkEnv.vars`` (the AWS settings, ``PYTHONPATH`` with ``worker_site/`` and the recipes,
and ``SESSIONPOOL_IT_DIR``), so each of them runs the loopback guard and the pool observer from
``worker_site/``. After the test, no process carrying that directory may be alive and no
process may have tried to leave the machine.

This process guards itself with the same audit hook, installed on import (an audit hook cannot
be removed; nothing in this suite has any business off the machine).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import sessionpool
from tests.integration import _support
from tests.integration.worker_site import _it_probe
from tests.support.aws import CONFIG, CREDENTIALS
from tests.support.servers import MotoServer
from tests.support.waits import wait_until

# A user's project with its own conftest.py and pytest.ini: test_user_project.py runs it as its
# users would, in a pytest of its own; it is not part of this suite.
collect_ignore = ["user_project"]

_refused_here: list[str] = []
_it_probe.install_guard(_refused_here.append)


@pytest.fixture(scope="session", autouse=True)
def _resource_trackers() -> None:
    """Start multiprocessing's and loky's resource trackers before any test changes the
    environment. They are helper processes that live as long as this one (started by the first
    user otherwise, they would carry that test's environment and outlive it)."""
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()
    try:
        from joblib.externals.loky.backend import resource_tracker as loky_tracker
    except ImportError:
        return
    loky_tracker.ensure_running()


@pytest.fixture(autouse=True)
def _this_process_stays_on_the_machine() -> Iterator[None]:
    before = len(_refused_here)
    yield
    assert _refused_here[before:] == [], "the test process tried to leave the machine"


@pytest.fixture
def moto() -> Iterator[MotoServer]:
    """A moto server of this test's own on 127.0.0.1, counting requests by action."""
    server = MotoServer()
    yield server
    server.stop()


@dataclass
class FrameworkEnv:
    """The environment handed to a test's framework processes, and where they report."""

    vars: dict[str, str]
    dir: Path
    bucket: str

    def apply(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Make this process's environment the same (frameworks started in-process inherit it)."""
        for name in list(os.environ):
            if name.startswith("AWS_"):
                monkeypatch.delenv(name)
        for name, value in self.vars.items():
            monkeypatch.setenv(name, value)


@pytest.fixture
def framework_env(
    tmp_path: Path, moto: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FrameworkEnv]:
    """Isolated AWS settings (profile ``role``: an AssumeRole per credential resolution, counted
    at the moto server) for the framework processes, and this process set up the same way, with
    a bucket made. Checks at teardown that every process it marked is gone, ending any that is
    not, and that none of them tried to leave the machine."""
    it_dir = tmp_path / "it"
    it_dir.mkdir()
    (tmp_path / "config").write_text(CONFIG)
    (tmp_path / "credentials").write_text(CREDENTIALS)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTHONPATH"))}
    aws = {
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
        "AWS_PROFILE": "role",  # dev's dummy keys assume a role at moto's STS
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": moto.url,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    env = FrameworkEnv(
        vars={
            **base,
            **aws,
            "PYTHONPATH": os.pathsep.join([str(_support.WORKER_SITE), str(_support.RECIPES)]),
            _support.MARKER: str(it_dir),
            "PYTHONUNBUFFERED": "1",
        },
        dir=it_dir,
        bucket=f"it-{uuid.uuid4().hex[:16]}",
    )
    env.apply(monkeypatch)
    monkeypatch.syspath_prepend(str(_support.RECIPES))
    sessionpool.set_default_pool(None)
    with sessionpool.SessionPool() as pool:
        pool.client("s3").create_bucket(Bucket=env.bucket)
    try:
        yield env
    finally:
        strays = _end_strays(it_dir)
        refused = _support.violations(it_dir)
    assert strays == [], f"processes outlived the test and were killed: {strays}"
    assert refused == [], f"framework processes tried to leave the machine: {refused}"


def _end_strays(it_dir: Path) -> list[int]:
    """Give marked processes a few seconds to finish exiting; kill and report what is left."""
    try:
        wait_until(
            lambda: not _support.processes_marked(it_dir), timeout=15, what="workers to exit"
        )
        return []
    except TimeoutError:
        left = _support.processes_marked(it_dir)
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return left


@pytest.fixture(scope="session")
def redis_server_binary() -> str:
    path = shutil.which("redis-server")
    if path is None:
        pytest.fail("redis-server is not on PATH: `python3 tasks.py integration` installs it")
    return path


@pytest.fixture
def redis_url(redis_server_binary: str, tmp_path: Path) -> Iterator[str]:
    """A redis server of this test's own on 127.0.0.1 (a free port; retried if it was taken)."""
    data = tmp_path / "redis"
    data.mkdir()
    log = data / "redis.log"
    for _attempt in range(5):
        port = _support.free_port()
        proc = subprocess.Popen(
            [redis_server_binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "",
             "--appendonly", "no", "--dir", str(data), "--logfile", str(log)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            wait_until(
                lambda: proc.poll() is not None or _support.port_accepts(port),
                timeout=30,
                what="redis-server to accept connections",
            )
        except BaseException:
            _support.stop(proc)
            raise
        if proc.poll() is None:
            break
        output = log.read_text(errors="replace") if log.exists() else ""
        if "Address already in use" not in output:
            pytest.fail(f"redis-server exited with {proc.returncode}: {output[-2000:]}")
    else:
        pytest.fail("no free port for redis-server after 5 tries")
    try:
        yield f"redis://127.0.0.1:{port}"
    finally:
        code = _support.stop(proc)
    # redis exits 0 on SIGTERM (it saves nothing: --save "")
    assert code == 0, f"redis-server exited with {code}"
