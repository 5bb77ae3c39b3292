"""The pytest plugin (``_sessionpool_pytest``, entry point ``sessionpool``): every pool starts each
test empty, fixtures' clients and Stubbers reach the test, and a suite that never imports
sessionpool does not import it (or boto3) because of the plugin.

Each case runs a small test file in a pytest of its own (a subprocess: clearing pools in this
process would clear this suite's), in file order, without xdist.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from importlib.metadata import entry_points
from pathlib import Path

import pytest

USES_POOLS = """
import pytest
from botocore.stub import Stubber

import sessionpool
from sessionpool import SessionPool

pool = SessionPool()
made_at_import = pool.client("s3")
made_in_a_test = []


def test_a_client_made_at_import_is_not_handed_to_a_test():
    assert pool.stats()["clients"] == 0
    assert pool.client("s3") is not made_at_import


def test_a_test_makes_clients():
    made_in_a_test.append(pool.client("s3"))
    made_in_a_test.append(sessionpool.client("sqs"))


def test_the_next_test_gets_new_clients_from_every_pool():
    assert pool.stats()["clients"] == 0
    assert sessionpool.default_pool().stats()["clients"] == 0
    assert pool.client("s3") is not made_in_a_test[0]
    assert sessionpool.client("sqs") is not made_in_a_test[1]


@pytest.fixture
def s3_stub():
    with Stubber(pool.client("s3")) as stub:
        yield stub


def test_a_stubber_activated_by_a_fixture_is_on_the_tests_client(s3_stub):
    s3_stub.add_response("list_buckets", {"Buckets": [{"Name": "stubbed"}]})
    assert [b["Name"] for b in pool.client("s3").list_buckets()["Buckets"]] == ["stubbed"]
"""

# Records what the pools still hold once the session is over (after the last test's teardown).
COUNTS_LEFT = """
import sys
from pathlib import Path


def pytest_sessionfinish(session):
    module = sys.modules["test_file"]
    left = module.pool.stats()["clients"] + module.sessionpool.default_pool().stats()["clients"]
    Path("clients-left.txt").write_text(str(left))
"""

NEVER_IMPORTS = """
import sys


def test_nothing_imported_sessionpool_or_boto3(request):
    assert request.config.pluginmanager.get_plugin("sessionpool") is not None
    assert "sessionpool" not in sys.modules
    assert "boto3" not in sys.modules
"""


def run_pytest(tmp_path: Path, source: str, *options: str, conftest: str = "") -> tuple[int, str]:
    """Run ``source`` as a test file in a pytest of its own; return (exit code, output)."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n")  # tmp_path is the rootdir
    (tmp_path / "conftest.py").write_text(textwrap.dedent(conftest))
    (tmp_path / "test_file.py").write_text(textwrap.dedent(source))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
         "-p", "no:xdist", *options, "test_file.py"],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    return done.returncode, done.stdout[-4000:] + done.stderr[-2000:]


def test_the_entry_point_names_the_plugin_module() -> None:
    plugins = {ep.name: ep.value for ep in entry_points(group="pytest11")}
    assert plugins.get("sessionpool") == "_sessionpool_pytest"


def test_this_suite_runs_with_the_plugin(request: pytest.FixtureRequest) -> None:
    assert request.config.pluginmanager.get_plugin("sessionpool") is not None


def test_every_pool_starts_each_test_empty(aws_env: object, tmp_path: Path) -> None:
    code, output = run_pytest(tmp_path, USES_POOLS, conftest=COUNTS_LEFT)
    assert code == 0, output
    assert "4 passed" in output, output
    # The last test's clients were closed after its teardown, not left to the end of the process.
    assert (tmp_path / "clients-left.txt").read_text() == "0"


def test_without_the_plugin_clients_cross_tests(aws_env: object, tmp_path: Path) -> None:
    # The same file fails where it checks isolation: the proof that it checks something.
    code, output = run_pytest(tmp_path, USES_POOLS, "-p", "no:sessionpool", conftest=COUNTS_LEFT)
    assert code == 1, output
    assert (tmp_path / "clients-left.txt").read_text() == "2"  # an S3 and an SQS client
    assert "2 failed, 2 passed" in output, output
    assert "FAILED test_file.py::test_a_client_made_at_import_is_not_handed_to_a_test" in output
    assert "FAILED test_file.py::test_the_next_test_gets_new_clients_from_every_pool" in output


def test_a_suite_that_never_imports_sessionpool_does_not_import_it(tmp_path: Path) -> None:
    code, output = run_pytest(tmp_path, NEVER_IMPORTS)
    assert code == 0, output
    assert "1 passed" in output, output


def test_the_library_does_not_import_pytest() -> None:
    # The plugin is imported only by pytest; the library must not drag pytest into a program.
    code = "import sys, sessionpool; assert 'pytest' not in sys.modules, 'pytest imported'"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
