#!/usr/bin/env python3
"""Set-up and run, with nothing but Python and pip: ``python3 tasks.py test`` or ``demo``.

Each command creates ``.venv`` beside this file if it is missing, installs sessionpool with the
extras it needs (editable), and runs. Extra arguments go to pytest (test) or the demo.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")


def run(*cmd: str | Path) -> int:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.call([str(c) for c in cmd], cwd=HERE)


def setup(extras: str) -> None:
    if not PY.exists():
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    stamp = VENV / f".installed-{extras}"
    mtime = (HERE / "pyproject.toml").stat().st_mtime
    if stamp.exists() and stamp.stat().st_mtime >= mtime:
        return
    code = run(PY, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
               "-e", f".[{extras}]")
    if code != 0:
        sys.exit(code)
    stamp.touch()


def test(args: list[str]) -> int:
    setup("test")
    # Types first: mypy --strict on the package and on the typed-client examples.
    code = run(PY, "-m", "mypy")
    if code != 0:
        return code
    code = run(PY, "-m", "pytest", "-n", "auto", *args)
    if code == 5:
        print("pytest collected no tests: that is a failure here.", file=sys.stderr)
        return 1
    return code


def demo(args: list[str]) -> int:
    setup("demo")
    return run(PY, "-m", "sessionpool", "demo", *args)


def main() -> int:
    commands = {"test": test, "demo": demo}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(f"usage: python3 {Path(__file__).name} {{{'|'.join(commands)}}} [args...]")
        return 2
    return commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
