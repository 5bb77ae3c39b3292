"""``sessionpool demo`` as a subprocess: two processes on local moto, exit codes, plain or rich
output and 80 columns, read-only by default, and never a secret in its error output.

The demo runs as ``python -m sessionpool demo`` with tiny settings, its stdout a pipe (so it
chooses plain text unless told ``--rich``) or, to check its choice on a terminal, a
pseudo-terminal of a given width; one test hides rich to check the fallback. Against the
fixture's server (``--endpoint-url``) the server's request log gives exact counts of what the
demo did. The tables' layout is checked without running the demo, with the largest figures a
long run could show, at 80 columns.
"""

from __future__ import annotations

import argparse
import fcntl
import io
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import time
from typing import Any

import pytest

from sessionpool import SessionPool
from sessionpool.cli._parser import build_parser
from sessionpool.cli.demo import _rich
from sessionpool.cli.demo._plan import Target
from sessionpool.cli.demo._report import PlainUI, Progress
from sessionpool.cli.demo._rich import RichUI, wants_plain
from tests.support.aws import DUMMY_SECRET
from tests.support.servers import MotoServer

DEMO_TIMEOUT = 300.0


def demo(
    *args: str,
    output: str | None = "--plain",
    hide_rich: bool = False,
    env: dict[str, str] | None = None,
) -> Any:
    """Run the demo in a subprocess, its stdout a pipe (``output=None``: let it choose)."""
    argv = [*([output] if output else []), *args]
    if hide_rich:
        # A None entry in sys.modules makes "import rich" raise ImportError.
        code = (
            "import sys; sys.modules['rich'] = None\n"
            "from sessionpool.__main__ import main\n"
            f"sys.exit(main(['demo', *{argv!r}]))\n"
        )
        cmd = [sys.executable, "-c", code]
    else:
        cmd = [sys.executable, "-m", "sessionpool", "demo", *argv]
    return subprocess.run(
        cmd, capture_output=True, text=True, timeout=DEMO_TIMEOUT, env={**os.environ, **(env or {})}
    )


def row(out: str, process: int) -> list[str]:
    """The work table's row for a process, as cells after the first ('#N')."""
    match = re.search(rf"^#{process}\s+(\d[\d,]*\s.*)$", out, re.M)
    assert match, out
    return match.group(1).split()


def test_demo_runs_two_processes_on_local_moto_and_exits_0(aws_env: MotoServer) -> None:
    result = demo("--processes", "2", "--threads", "4", "--duration", "2")
    assert result.returncode == 0, result.stdout + result.stderr
    for process in (1, 2):
        ops, _rate, errors, sessions, clients, resolutions = row(result.stdout, process)
        assert int(ops.replace(",", "")) > 0
        assert (errors, sessions, clients, resolutions) == ("0", "4", "12", "1")
    # The set-up table: per process, the pool cold and warm beside the boto3 pattern.
    figures = r"\S+ m?s\s+[\d.,]+x\s+[+-][\d,]+ MiB\s+[\d.,]+x$"
    for setup in ("sessionpool, cold", "sessionpool, warm"):
        assert len(re.findall(rf"^#[12]\s+{setup}\s+{figures}", result.stdout, re.M)) == 2
    boto3 = r"^#[12]\s+boto3 pattern\s+\S+ m?s\s+[+-][\d,]+ MiB$"
    assert len(re.findall(boto3, result.stdout, re.M)) == 2
    assert "OK: no errors." in result.stdout


def test_demo_falls_back_to_plain_text_without_rich(aws_env: MotoServer) -> None:
    result = demo(
        "--processes",
        "1",
        "--threads",
        "2",
        "--ops",
        "1",
        "--no-baseline",
        output="--rich",
        hide_rich=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "pip install 'sessionpool[demo]'" in result.stderr
    assert "Work per process" in result.stdout
    assert "┃" not in result.stdout  # no rich table
    assert row(result.stdout, 1)[2:6] == ["0", "2", "6", "1"]


SMALL_RUN = ("--processes", "1", "--threads", "2", "--ops", "1", "--no-baseline")


def assert_fits_80_columns_uncut(out: str) -> None:
    assert "…" not in out and "..." not in out  # nothing cut by rich (or anyone)
    long = [line for line in out.splitlines() if len(line) > 80]
    assert not long, long
    for header in ("operations", "sessions", "clients", "credential", "resolutions", "growth"):
        assert re.search(rf"(^|\s){header}(\s|$)", out, re.M), header


def test_demo_piped_chooses_plain_output_by_itself(aws_env: MotoServer) -> None:
    result = demo(*SMALL_RUN, output=None, env={"COLUMNS": "200"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "┃" not in result.stdout and "━" not in result.stdout  # no rich table or bar
    assert result.stderr == ""  # and no word about rich: plain was chosen, not fallen back to
    assert row(result.stdout, 1)[2:6] == ["0", "2", "6", "1"]


def test_demo_at_80_columns_cuts_no_header_plain_or_rich(aws_env: MotoServer) -> None:
    for output in ("--plain", "--rich"):
        result = demo(*SMALL_RUN, output=output, env={"COLUMNS": "80"})
        assert result.returncode == 0, result.stdout + result.stderr
        assert ("┃" in result.stdout) == (output == "--rich")
        assert_fits_80_columns_uncut(result.stdout)


def demo_on_a_terminal(columns: int) -> str:
    """Run a small demo with a pseudo-terminal as its stdout, ``columns`` wide; its output."""
    main_fd, child_fd = pty.openpty()
    fcntl.ioctl(child_fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "sessionpool", "demo", *SMALL_RUN],
        stdout=child_fd,
        stderr=subprocess.PIPE,
        env={**env, "TERM": "xterm-256color"},
    )
    os.close(child_fd)
    chunks: list[bytes] = []
    deadline = time.monotonic() + DEMO_TIMEOUT
    while time.monotonic() < deadline:  # read until the child closes the terminal
        try:
            chunk = os.read(main_fd, 65536)
        except OSError:  # EIO: the child's end is closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main_fd)
    assert proc.wait(timeout=60) == 0
    return b"".join(chunks).decode("utf-8", "replace")


def test_demo_on_a_wide_terminal_uses_rich_and_on_a_narrow_one_plain(aws_env: MotoServer) -> None:
    wide = demo_on_a_terminal(120)
    assert "┃" in wide and "━" in wide  # rich's table and progress bar
    narrow = demo_on_a_terminal(79)
    assert "┃" not in narrow and "━" not in narrow
    assert "Work per process" in narrow


@pytest.mark.parametrize(
    ("choice", "is_terminal", "columns", "plain"),
    [
        (None, False, 200, True),  # piped or redirected
        (None, True, 79, True),  # a terminal narrower than the tables
        (None, True, 80, False),
        ("plain", True, 200, True),
        ("rich", False, 40, False),
    ],
)
def test_demo_output_choice(
    choice: str | None, is_terminal: bool, columns: int, plain: bool
) -> None:
    assert wants_plain(choice, is_terminal, columns) is plain


def finished(index: int, **figures: Any) -> Progress:
    """A worker's state after it reported, with the largest figures a long run could show."""
    result = {
        "pid": 4242,
        "rounds": 1_234_567,
        "ops": 12_345_678,
        "errors": 12_345,
        "samples": [],
        "stats": {"sessions_created": 1024, "clients_created": 3072, "credential_resolutions": 1},
        "run_seconds": 600.0,
        "cold": {"seconds": 12.34, "rss": 1234 * 2**20},
        "warm": {"seconds": 0.001, "rss": 1 * 2**20, "errors": []},
        "baseline": {"seconds": 123.4, "rss": 12_345 * 2**20, "errors": []},
        **figures,
    }
    return Progress(index, phase="done", result=result)


def demo_args(**overrides: Any) -> argparse.Namespace:
    args = build_parser().parse_args(["demo", "--threads", "1024"])
    for name, value in overrides.items():
        setattr(args, name, value)
    return args


def test_the_plain_tables_fit_80_columns_with_the_largest_figures(capsys: Any) -> None:
    states = [finished(i) for i in range(12)] + [Progress(12, phase="failed", failure="lost")]
    PlainUI().report(states, demo_args(), Target())
    assert_fits_80_columns_uncut(capsys.readouterr().out)


def test_the_rich_tables_fit_80_columns_with_the_largest_figures() -> None:
    import rich.console
    import rich.progress
    import rich.table

    ui = RichUI({"console": rich.console, "progress": rich.progress, "table": rich.table})
    ui.console = rich.console.Console(file=io.StringIO(), width=80)
    states = [finished(i) for i in range(12)] + [Progress(12, phase="failed", failure="lost")]
    ui.report(states, demo_args(), Target())
    out = ui.console.file.getvalue()
    assert "┃" in out
    assert_fits_80_columns_uncut(out)


def test_the_rich_timer_runs_through_every_phase_until_done(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import rich.console
    import rich.progress
    import rich.table

    now = [1000.0]
    monkeypatch.setattr(_rich.time, "monotonic", lambda: now[0])
    ui = RichUI({"console": rich.console, "progress": rich.progress, "table": rich.table})
    ui.console = rich.console.Console(file=io.StringIO(), width=80)
    states = [Progress(0)]
    ui.start(states, demo_args(duration=2.0))
    ui.progress.stop()  # no live refresh thread: fields are read directly

    def shown(at: float, phase: str) -> str:
        now[0] = 1000.0 + at
        states[0].phase = phase
        ui.update(states)
        return str(ui.progress.tasks[0].fields["elapsed"])

    states[0].running_since = 1000.0
    assert shown(1, "running") == "0:01"
    assert shown(5, "warm 3/1024") == "0:05"  # the bar is full from here on; the timer runs
    assert shown(9, "boto3 7/1024") == "0:09"
    assert shown(75, "boto3 1024/1024") == "1:15"
    states[0].finished_at = 1000.0 + 80
    assert shown(300, "done") == "1:20"  # stopped when the process delivered its result
    ui.progress = None


def test_the_plain_progress_line_fits_80_columns(capsys: Any) -> None:
    ui = PlainUI()
    ui.start([], demo_args())
    states = [Progress(i, phase="boto3 1000/1024", ops=12_345_678, errors=12) for i in range(5)]
    ui.update(states)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 5 and all(len(line) <= 80 for line in lines)
    assert all(f"#{i + 1} boto3 1000/1024, 12,345,678 ops, 12 errors" in lines[i] for i in range(5))


def test_demo_with_an_endpoint_is_read_only(aws_env: MotoServer) -> None:
    log = aws_env.log
    # Counted by operation name, whichever protocol botocore speaks (SQS: query on 1.34, JSON
    # later); S3 writes by HTTP method.
    writes = ("PUT", "DELETE", "SendMessage", "CreateQueue", "PutItem", "CreateTable")
    before = {w: log.count(w) for w in writes}
    lists = log.count("ListTables")
    result = demo(
        "--endpoint-url",
        aws_env.url,
        "--region",
        "us-east-1",
        "--processes",
        "1",
        "--threads",
        "2",
        "--ops",
        "3",
        "--no-baseline",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "read-only" in result.stdout
    assert log.count("ListTables") - lists == 2 * 3  # the log sees the demo's calls
    assert {w: log.count(w) for w in writes} == before


def test_demo_with_write_creates_uses_and_deletes_its_resources(
    aws_env: MotoServer, pool: SessionPool
) -> None:
    log = aws_env.log
    counted = ("PutItem", "DeleteTable", "DeleteQueue")  # by operation, whatever the protocol
    before = {c: log.count(c) for c in counted}
    result = demo(
        "--endpoint-url",
        aws_env.url,
        "--region",
        "us-east-1",
        "--write",
        "--processes",
        "1",
        "--threads",
        "2",
        "--ops",
        "3",
        "--no-baseline",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert {c: log.count(c) - before[c] for c in counted} == {
        "PutItem": 2 * 3,
        "DeleteTable": 1,
        "DeleteQueue": 1,
    }
    buckets = [b["Name"] for b in pool.client("s3").list_buckets().get("Buckets", [])]
    assert not [b for b in buckets if b.startswith("sessionpool-demo-")]


def test_demo_exits_1_when_operations_fail(aws_env: MotoServer, refused_port: int) -> None:
    result = demo(
        "--endpoint-url",
        f"http://127.0.0.1:{refused_port}",  # bound, never listening: refused
        "--region",
        "us-east-1",
        "--processes",
        "1",
        "--threads",
        "2",
        "--ops",
        "1",
        "--no-baseline",
        env={"AWS_MAX_ATTEMPTS": "1"},
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert row(result.stdout, 1)[2] == "2"  # one failed round per thread
    assert "FAILED: 2 error(s)." in result.stdout


def test_demo_error_output_never_shows_the_secret(aws_env: MotoServer, refused_port: int) -> None:
    result = demo(
        "--endpoint-url",
        f"http://127.0.0.1:{refused_port}",  # bound, never listening: refused
        "--region",
        "us-east-1",
        "--processes",
        "1",
        "--threads",
        "2",
        "--ops",
        "1",
        env={"AWS_MAX_ATTEMPTS": "1"},
    )
    assert "EndpointConnectionError" in result.stdout  # the errors were shown
    assert DUMMY_SECRET not in result.stdout + result.stderr
