"""The command line: ``sessionpool inspect`` in-process, ``sessionpool demo`` as a subprocess.

``inspect`` runs through ``main([...])`` against the fixtures' profiles (moto answers the role
profile's AssumeRole). The demo runs as ``python -m sessionpool demo`` with tiny settings, its
stdout a pipe (so it chooses plain text unless told ``--rich``) or, to check its choice on a
terminal, a pseudo-terminal of a given width; one test hides rich to check the fallback. Against
the fixture's server (``--endpoint-url``) the server's request log gives exact counts of what the
demo did. The tables' layout is checked without running the demo, with the largest figures a
long run could show, at 80 columns.
"""

from __future__ import annotations

import argparse
import datetime
import fcntl
import io
import json
import os
import pty
import re
import socket
import struct
import subprocess
import sys
import termios
import time
import uuid
from typing import Any

import pytest

from sessionpool import SessionPool
from sessionpool.__main__ import main
from sessionpool.cli import _inspect
from sessionpool.cli._output import describe_expiry
from sessionpool.cli._parser import build_parser
from sessionpool.cli.demo import _report, _rich
from sessionpool.cli.demo._plan import Target
from sessionpool.cli.demo._report import PlainUI, Progress
from sessionpool.cli.demo._rich import RichUI, wants_plain
from tests.support.aws import CREDENTIALS, DUMMY_KEY_ID, DUMMY_SECRET
from tests.support.servers import MotoServer

PROD_KEY_ID = "AKIAPRODEXAMPLE00001"
SECRETS = [
    line.split("=", 1)[1].strip()
    for line in CREDENTIALS.splitlines()
    if line.startswith("aws_secret_access_key")
]
DEMO_TIMEOUT = 300.0


def inspect(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["inspect", *args])
    out, err = capsys.readouterr()
    return code, out, err


# -- inspect -------------------------------------------------------------------------------------


def test_the_fixture_secrets_are_known_to_this_module() -> None:
    # Guards the secret scans below: they are only as good as this list.
    assert DUMMY_SECRET in SECRETS and len(SECRETS) == 3


def test_inspect_shows_the_credential_source(aws_env: MotoServer, capsys: Any) -> None:
    code, out, _ = inspect(capsys, "--profile", "prod")
    assert code == 0
    assert re.search(r"^credentials\s+shared-credentials-file$", out, re.M)


def test_inspect_masks_the_access_key_id_to_its_last_four(aws_env: MotoServer, capsys: Any) -> None:
    _, out, _ = inspect(capsys, "--profile", "prod")
    assert PROD_KEY_ID not in out
    assert "*" * 16 + "0001" in out


@pytest.mark.parametrize("profile", ["default", "prod", "dev", "role"])
def test_inspect_never_prints_a_secret(aws_env: MotoServer, capsys: Any, profile: str) -> None:
    code, out, err = inspect(capsys, "--profile", profile)
    assert code == 0
    for secret in SECRETS:
        assert secret not in out + err


def test_inspect_resolves_a_role_profile_once_and_shows_it_refreshable_with_expiry(
    aws_env: MotoServer, capsys: Any
) -> None:
    before = aws_env.log.count("AssumeRole")
    code, out, _ = inspect(capsys, "--profile", "role")
    assert code == 0
    assert aws_env.log.count("AssumeRole") - before == 1
    assert re.search(r"^credentials\s+assume-role$", out, re.M)
    assert re.search(r"refreshable\s+yes", out)
    # moto's role credentials last an hour: a date, then how far off it is, in hours/minutes.
    expiry = r"expires\s+\d{4}-\d\d-\d\d \d\d:\d\d UTC \(in (1 h|\d\d? min)\)$"
    assert re.search(expiry, out, re.M)
    assert re.search(r"role_arn\s+arn:aws:iam::123456789012:role/worker", out)
    assert re.search(r"session token\s+present \(never shown\)", out)


def test_inspect_static_credentials_are_not_refreshable(aws_env: MotoServer, capsys: Any) -> None:
    _, out, _ = inspect(capsys, "--profile", "dev")
    assert re.search(r"refreshable\s+no", out)
    assert re.search(r"session token\s+none", out)


def test_inspect_without_a_profile_reports_environment_credentials(
    aws_env: MotoServer, capsys: Any
) -> None:
    code, out, _ = inspect(capsys)
    assert code == 0
    assert re.search(r"^credentials\s+env$", out, re.M)
    assert DUMMY_KEY_ID not in out and DUMMY_KEY_ID[-4:] in out
    assert re.search(r"^profile\s+default \(none named by --profile, AWS_PROFILE", out, re.M)


def test_inspect_names_the_profile_and_the_region_and_where_each_came_from(
    aws_env: MotoServer, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")  # it would win over the profile's region
    _, out, _ = inspect(capsys, "--profile", "prod")
    assert re.search(r"^profile\s+prod \(from --profile\)$", out, re.M)
    assert re.search(r"^region\s+eu-west-1 \(from profile prod's region setting\)$", out, re.M)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ca-central-1")
    monkeypatch.setenv("AWS_PROFILE", "dev")
    _, out, _ = inspect(capsys)
    assert re.search(r"^profile\s+dev \(from the AWS_PROFILE variable\)$", out, re.M)
    region = r"^region\s+ca-central-1 \(from the AWS_DEFAULT_REGION variable\)$"
    assert re.search(region, out, re.M)


@pytest.mark.parametrize(
    ("argv", "env"),
    [
        (["--profile", "prod"], {}),
        (["--profile", "prod"], {"AWS_DEFAULT_REGION": "ca-central-1"}),
        (["--profile", "prod", "--region", "ap-south-1"], {}),
        ([], {"AWS_PROFILE": "dev"}),
        ([], {}),
    ],
)
def test_inspect_tells_one_region_story_the_pool_keeps(
    aws_env: MotoServer,
    capsys: Any,
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    env: dict[str, str],
) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code, out, _ = inspect(capsys, "--json", *argv)
    assert code == 0
    shown = json.loads(out)
    given = dict(zip(argv[::2], argv[1::2], strict=True))
    with SessionPool(profile=given.get("--profile"), region=given.get("--region")) as p:
        session = p.get_session()
        # The region shown is the one the pool's sessions get, and the key shown is the pool's.
        assert shown["region"]["name"] == session.region_name
        assert shown["pool_key"] == {
            "profile": session.pool_key.profile,
            "region": session.pool_key.region,
        }
    # The key names the region exactly when --region gave it; else each session resolves it.
    assert (shown["pool_key"]["region"] is not None) == (shown["region"]["source"] == "--region")
    code, text, _ = inspect(capsys, *argv)
    story = " ".join(text.split())  # the rows wrap at 80 columns
    if shown["pool_key"]["region"] is None:
        assert re.search(r"each session resolves the (profile and the )?region as above", story)
    else:
        assert "region='ap-south-1': the pool fixes both" in story


def test_inspect_unknown_profile_exits_2_with_one_line_naming_it(
    aws_env: MotoServer, capsys: Any
) -> None:
    name = f"nope-{uuid.uuid4().hex[:8]}"
    code, out, err = inspect(capsys, "--profile", name)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert f"profile {name!r} (from --profile) was not found" in err


def test_inspect_names_the_unknown_profile_aws_profile_asked_for(
    aws_env: MotoServer, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_PROFILE", "nope")
    for argv in ([], ["--json"]):
        code, out, err = inspect(capsys, *argv)
        assert code == 2
        assert out == ""
        assert err.count("\n") == 1
        assert "profile 'nope' (from the AWS_PROFILE variable) was not found" in err
        assert "None" not in err


@pytest.mark.parametrize("profile", ["default", "prod", "dev", "role"])
def test_inspect_json_has_the_same_facts_and_no_secret(
    aws_env: MotoServer, capsys: Any, monkeypatch: pytest.MonkeyPatch, profile: str
) -> None:
    seen: list[Any] = []
    original = _inspect.facts

    def keep_what_it_resolved(pool: SessionPool, *args: Any) -> dict[str, Any]:
        found = original(pool, *args)
        seen.append(pool.get_session().get_credentials().get_frozen_credentials())
        return found

    monkeypatch.setattr(_inspect, "facts", keep_what_it_resolved)
    code, out, err = inspect(capsys, "--json", "--profile", profile)
    assert code == 0
    shown = json.loads(out)
    (frozen,) = seen  # the credentials it resolved (for "role", moto's fresh AssumeRole answer)
    for secret in (*SECRETS, frozen.secret_key, frozen.token, frozen.access_key):
        if secret:
            assert secret not in out + err
    creds = shown["credentials"]
    assert creds["access_key_id"] == "*" * (len(frozen.access_key) - 4) + frozen.access_key[-4:]
    assert creds["session_token"] is (profile == "role")
    assert set(creds) == {
        "found",
        "method",
        "refreshable",
        "expires",
        "expires_in_seconds",
        "access_key_id",
        "session_token",
        "account_id",
    }
    assert shown["profile"]["name"] == profile and shown["profile"]["source"] == "--profile"
    # The same facts as the text output (which, for "role", assumes the role afresh).
    _, text, _ = inspect(capsys, "--profile", profile)
    assert re.search(rf"^credentials\s+{re.escape(creds['method'])}$", text, re.M)
    key_id = r"\*{16}\w{4}" if profile == "role" else re.escape(creds["access_key_id"])
    assert re.search(rf"access key id\s+{key_id}$", text, re.M)
    if profile == "role":
        assert creds["refreshable"] is True and 0 < creds["expires_in_seconds"] <= 3600
        assert shown["profile"]["settings"]["role_arn"].endswith(":role/worker")
        assert creds["expires"][:16].replace("T", " ") in text  # the same expiry, to the minute


NOW = datetime.datetime(2026, 11, 29, 16, 7, 30, tzinfo=datetime.timezone.utc)


@pytest.mark.parametrize(
    ("after", "shown"),
    [
        (datetime.timedelta(seconds=42), "2026-11-29 16:08 UTC (in 42 s)"),
        (datetime.timedelta(minutes=37), "2026-11-29 16:44 UTC (in 37 min)"),
        (datetime.timedelta(hours=1), "2026-11-29 17:07 UTC (in 1 h)"),
        (datetime.timedelta(hours=5, minutes=12), "2026-11-29 21:19 UTC (in 5 h 12 min)"),
        (datetime.timedelta(days=1, minutes=5), "2026-11-30 16:12 UTC (in 1 day)"),
        (datetime.timedelta(days=3, hours=4), "2026-12-02 20:07 UTC (in 3 days 4 h)"),
        (datetime.timedelta(days=45, hours=4), "2027-01-13 20:07 UTC (in 45 days)"),
        # The "in 37911955 min":
        (
            datetime.timedelta(minutes=37911955),
            "2098-12-29 10:02 UTC (in 26,327 days (about 72 years))",
        ),
        (-datetime.timedelta(minutes=5), "2026-11-29 16:02 UTC (expired 5 min ago)"),
    ],
)
def test_inspect_expiry_reads_as_a_date_and_days_hours_minutes(
    after: datetime.timedelta, shown: str
) -> None:
    assert describe_expiry(NOW + after, NOW) == shown


def test_inspect_expiry_is_shown_in_utc_whatever_zone_it_comes_in() -> None:
    zone = datetime.timezone(datetime.timedelta(hours=2))
    expiry = datetime.datetime(2026, 11, 29, 19, 0, tzinfo=zone)  # 17:00 UTC
    assert describe_expiry(expiry, NOW) == "2026-11-29 17:00 UTC (in 52 min)"
    naive = datetime.datetime(2026, 11, 29, 17, 0)  # taken as UTC
    assert describe_expiry(naive, NOW) == "2026-11-29 17:00 UTC (in 52 min)"


# -- help and imports ----------------------------------------------------------------------------


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


# -- demo ----------------------------------------------------------------------------------------


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


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # nothing listens there now: connections are refused


def test_demo_exits_1_when_operations_fail(aws_env: MotoServer) -> None:
    result = demo(
        "--endpoint-url",
        closed_port_url(),
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


def test_demo_error_output_never_shows_the_secret(aws_env: MotoServer) -> None:
    result = demo(
        "--endpoint-url",
        closed_port_url(),
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
