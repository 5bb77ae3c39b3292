"""``sessionpool inspect`` fails with one line, never a traceback, when a source misbehaves
(as text and with ``--json``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from sessionpool.__main__ import main


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (f"{sys.executable} -c \"print('this is not json')\"", "did not print JSON"),
        (f"{sys.executable} -c \"print('{{')\"", "did not print JSON"),
        ("/no/such/credential/helper --token hunter2-EXAMPLE", "could not be run"),
    ],
    ids=["text", "broken-json", "missing-command"],
)
@pytest.mark.parametrize("output", [[], ["--json"]], ids=["as-text", "as-json"])
def test_a_misbehaving_credential_process_gives_one_line_and_exit_1(
    aws_env: Any,
    aws_files: tuple[Path, Path],
    capsys: Any,
    command: str,
    expected: str,
    output: list[str],
) -> None:
    config, _ = aws_files
    config.write_text(
        config.read_text()
        + f"\n[profile broken]\nregion = us-east-1\ncredential_process = {command}\n"
    )
    assert main(["inspect", "--profile", "broken", *output]) == 1
    out, err = capsys.readouterr()
    assert out == ""  # with --json too: no half-made object on stdout, the exit status says why
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("sessionpool: resolving credentials for broken failed")
    assert expected in lines[0]
    assert "Traceback" not in out + err
    assert "hunter2" not in out + err  # the command line may carry a token: never shown
