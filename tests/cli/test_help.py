"""The command line's help and usage, and what it imports: ``--help`` for each command at 80
columns, each command listed once, the demo's help and its set-up table telling the same story,
usage and exit 2 without a command, and neither moto nor rich imported by the command line.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from sessionpool.__main__ import main
from sessionpool.cli.demo import _report


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--help"], ["demo", "inspect"]),
        (["demo", "--help"], ["--threads", "--processes", "--duration", "--write", "read-only"]),
        (["inspect", "--help"], ["--profile", "--region", "--json", "never"]),
    ],
)
def test_help_exits_0_and_describes_the_options(
    capsys: Any, monkeypatch: pytest.MonkeyPatch, argv: list[str], expected: list[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    assert main(argv) == 0
    out = capsys.readouterr().out
    for word in expected:
        assert word in out
    assert [line for line in out.splitlines() if len(line) > 80] == []


def test_help_lists_each_command_once(capsys: Any) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("demo", "inspect"):
        listed = [line for line in out.splitlines() if line.split()[:1] == [command]]
        assert len(listed) == 1, out
    assert "positional arguments" not in out


def test_demo_help_and_the_set_up_table_say_the_same_about_cold_and_warm(capsys: Any) -> None:
    assert main(["demo", "--help"]) == 0
    help_text = " ".join(capsys.readouterr().out.split())
    for said in (
        "sessionpool, cold at the start of the worker process, before any other work",
        "sessionpool, warm after the run",
        "boto3 pattern after the run",
        "figure (b)",
    ):
        assert said in help_text
    legend = " ".join(" ".join(_report.SETUP_LEGEND).split())
    for said in (
        "cold: at the start of each worker process, before any other work",
        "warm: after the run",
        "boto3 pattern: after the run",
        "figure (b)",
    ):
        assert said in legend


def test_no_command_prints_usage_and_exits_2(capsys: Any) -> None:
    assert main([]) == 2
    assert "usage: sessionpool" in capsys.readouterr().err


def test_the_cli_imports_neither_moto_nor_rich() -> None:
    code = (
        "import sys\n"
        "import sessionpool.__main__, sessionpool.cli, sessionpool.cli.demo\n"
        "import sessionpool.cli._inspect\n"
        "loaded = sorted(m for m in ('moto', 'rich') if m in sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
