"""moto's ``mock_aws`` and botocore's ``Stubber`` with a pooled client, as users' tests use them.

``docs/recipes/test_with_moto.py`` is a user's test file: it runs here under pytest in a process of
its own, with dummy keys, no endpoint override and the loopback guard, so a request that escaped
the mock would be refused and reported rather than sent. Its pytest report must show every test
passed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.integration import _support

RECIPE = _support.RECIPES / "test_with_moto.py"
PLUGINS = Path(__file__).resolve().parent / "plugins"


def run_recipe_tests(tmp_path: Path, *options: str) -> tuple[dict[str, int], list[str], str]:
    """Run the recipe's tests under pytest; return (junit counts, guard refusals, output)."""
    it_dir = tmp_path / "it"
    it_dir.mkdir()
    empty = tmp_path / "empty"
    empty.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTHONPATH"))}
    env.update(
        AWS_CONFIG_FILE=str(empty),
        AWS_SHARED_CREDENTIALS_FILE=str(empty),
        AWS_EC2_METADATA_DISABLED="true",
        PYTHONPATH=os.pathsep.join([str(_support.WORKER_SITE), str(PLUGINS)]),
        **{_support.MARKER: str(it_dir)},
    )
    report = tmp_path / "report.xml"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", f"--junitxml={report}", *options, str(RECIPE)],
        cwd=_support.REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = proc.stdout[-4000:] + proc.stderr[-2000:]
    assert _support.processes_marked(it_dir) == []
    suite = ET.parse(report).getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    assert suite is not None, output
    counts = {k: int(suite.get(k, "0")) for k in ("tests", "failures", "errors", "skipped")}
    counts["exit"] = proc.returncode
    return counts, _support.violations(it_dir), output


def test_mock_aws_and_stubber_recipe_passes(tmp_path: Path) -> None:
    counts, refused, output = run_recipe_tests(tmp_path)
    assert refused == [], output
    assert counts == {"tests": 2, "failures": 0, "errors": 0, "skipped": 0, "exit": 0}, output


class EscapedTheMock(AssertionError):
    """The recipe's mock_aws test failed, or a request tried to leave the machine."""


# HAZARDS P1: a pool used before moto is imported must still build sessions that mock_aws
# intercepts (the prototype follows botocore's BUILTIN_HANDLERS).
def test_mock_aws_works_when_a_pool_was_used_before_moto_was_imported(tmp_path: Path) -> None:
    counts, refused, output = run_recipe_tests(tmp_path, "-p", "pool_used_before_moto")
    if refused or counts != {"tests": 2, "failures": 0, "errors": 0, "skipped": 0, "exit": 0}:
        raise EscapedTheMock(f"{counts} {refused}\n{output}")
