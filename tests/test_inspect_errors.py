"""``sessionpool inspect`` fails with one line, never a traceback, when a source misbehaves."""

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
def test_a_misbehaving_credential_process_gives_one_line_and_exit_1(
    aws_env: Any, aws_files: tuple[Path, Path], capsys: Any, command: str, expected: str
) -> None:
    config, _ = aws_files
    config.write_text(
        config.read_text()
        + f"\n[profile broken]\nregion = us-east-1\ncredential_process = {command}\n"
    )
    assert main(["inspect", "--profile", "broken"]) == 1
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("sessionpool: resolving credentials for broken failed")
    assert expected in lines[0]
    assert "Traceback" not in out + err
    assert "hunter2" not in out + err  # the command line may carry a token: never shown
