"""A user's own test suite, run as its users run it: the pytest plugin isolates every pool per test.

``user_project/`` is a small project: an application module with a module-level
``SessionPool`` and code using the default pool (``sessionpool.client()``), and 14 tests that use
``mock_aws`` as a decorator and as a fixture, a ``ThreadedMotoServer`` per test on a free port
reached through a monkeypatched ``AWS_ENDPOINT_URL``, a moto server for the session with a bucket
made through the pool at session set-up, ``Stubber`` in a test and in a fixture, and a
monkeypatched ``AWS_DEFAULT_REGION``. It is copied to a directory of its own (its ``pytest.ini``
makes that the rootdir) and run with ``python -m pytest -n 4 -p randomly --randomly-seed=N`` for
5 seeds, under the loopback guard in every process (``worker_site``): every test must pass, and
no process may connect to or look up a name outside the machine.

Without the plugin (``-p no:sessionpool``) the same project must fail, or it would prove
nothing. That run is in one process: there the first test to get the module pool's S3 client
fixes its region and endpoint for every later test, and the project holds tests that need
different ones (its own moto server's port; eu-west-1 under the mock; us-west-2 under the mock),
so every order fails. Under ``-n 4`` a worker may by chance receive only tests that agree.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration import _support
from tests.support.waits import wait_until

PROJECT = Path(__file__).resolve().parent / "user_project"
TESTS = 14
SEEDS = [1, 2, 3, 4, 5]


@dataclass
class Run:
    counts: dict[str, int]  # junit's tests, failures, errors, skipped; and the exit code
    refused: list[str]  # the loopback guard's refusals, from every process of the run
    header: str  # the start of pytest's output (pytest-randomly names its seed there)
    output: str


def run_project(tmp_path: Path, *options: str) -> Run:
    """Copy the project into ``tmp_path`` and run its tests there under pytest."""
    project = tmp_path / "project"
    shutil.copytree(PROJECT, project, ignore=shutil.ignore_patterns("__pycache__"))
    it_dir = tmp_path / "it"
    it_dir.mkdir()
    empty = tmp_path / "empty"
    empty.write_text("")
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTHONPATH", "PYTEST_"))
    }
    env.update(
        AWS_CONFIG_FILE=str(empty),
        AWS_SHARED_CREDENTIALS_FILE=str(empty),
        AWS_EC2_METADATA_DISABLED="true",
        PYTHONPATH=str(_support.WORKER_SITE),
        **{_support.MARKER: str(it_dir)},
    )
    report = tmp_path / "report.xml"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-rfE", f"--junitxml={report}", *options],
        cwd=project,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = proc.stdout[-6000:] + proc.stderr[-2000:]
    wait_until(
        lambda: not _support.processes_marked(it_dir), timeout=30, what="the run's processes"
    )
    suite = ET.parse(report).getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    assert suite is not None, output
    counts = {k: int(suite.get(k, "0")) for k in ("tests", "failures", "errors", "skipped")}
    counts["exit"] = proc.returncode
    return Run(counts, _support.violations(it_dir), proc.stdout[:2000], output)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_project_passes_with_the_plugin_in_4_workers_and_random_order(
    tmp_path: Path, seed: int
) -> None:
    run = run_project(tmp_path, "-n", "4", "-p", "randomly", f"--randomly-seed={seed}")
    print(run.counts, run.refused)  # shown with -rP
    assert f"Using --randomly-seed={seed}" in run.header, run.header
    assert run.refused == [], run.output
    expected = {"tests": TESTS, "failures": 0, "errors": 0, "skipped": 0, "exit": 0}
    assert run.counts == expected, run.output


def test_the_project_fails_without_the_plugin(tmp_path: Path) -> None:
    run = run_project(tmp_path, "-p", "no:sessionpool", "-p", "randomly", "--randomly-seed=1")
    print(run.counts, run.refused)  # shown with -rP
    assert run.counts["tests"] == TESTS, run.output
    assert run.counts["failures"] + run.counts["errors"] > 0, run.output
    assert run.counts["exit"] == 1, run.output
