#!/usr/bin/env python3
"""Set-up and run, with nothing but Python 3.10+ and pip: ``python3 tasks.py SESSION [args...]``.

Creates the venv ``.nox-runner`` beside this file on first use, installs nox (with uv) into it,
and runs that session of ``noxfile.py``, which says what each one does; the other arguments go
to the session (pytest's, sphinx-build's or the demo's). The sessions:

* ``test``         ruff, mypy --strict, pytest -n auto, in ``.venv`` (the README's command).
* ``package``      builds the sdist and wheel, checks them, installs and smoke-tests the wheel.
* ``demo``         the demo.
* ``integration``  the integration suite (``tests/integration``) under the real frameworks.
* ``matrix``       the compatibility matrix, then the typing check with types-boto3;
                   ``--cells py3.12,floor`` runs some of its cells (and no typing check).
* ``docs``         the docs site into ``docs/_build/html``, warnings as errors.
* ``boto3suite``   boto3's own tests, plainly and with pooled sessions, compared (needs
                   ``--source``, a clone of boto/boto3: see CONTRIBUTING.md).

``.nox-runner/bin/nox -l`` lists the sessions and the matrix's cells found here.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV = HERE / ".nox-runner"  # nox and uv only: .venv holds what the test session installs
NOX = "nox[uv]==2026.10.20"  # what noxfile.py is written for
SESSIONS = ("test", "package", "demo", "integration", "matrix", "docs", "boto3suite")


def main() -> int:
    args = sys.argv[1:]
    if not args or args[0] not in SESSIONS:
        print(__doc__)
        return 2
    sessions, rest = [args[0]], args[1:]
    if args[0] == "matrix":
        sessions.append("typing")
    if args[0] == "matrix" and rest[:1] == ["--cells"]:
        if len(rest) < 2:
            print("usage: python3 tasks.py matrix [--cells NAME,NAME] [pytest args...]")
            return 2
        sessions, rest = [f"matrix({name})" for name in rest[1].split(",")], rest[2:]
    python = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    stamp = VENV / ".nox-installed"  # holds NOX once it is installed
    if not (python.exists() and stamp.is_file() and stamp.read_text() == NOX):
        if not python.exists():
            venv.EnvBuilder(with_pip=False).create(VENV)
        # This Python's pip installs into the venv (pip >= 22.3): ensurepip would add a minute
        # on a loaded machine. Without such a pip, the venv gets its own.
        pip = ("install", "--quiet", "--disable-pip-version-check", NOX)
        if subprocess.run([sys.executable, "-m", "pip", "--python", python, *pip]).returncode:
            subprocess.run([python, "-m", "ensurepip", "--default-pip"], check=True)
            subprocess.run([python, "-m", "pip", *pip], check=True)
        stamp.write_text(NOX)
    command = [str(python), "-m", "nox", "-f", str(HERE / "noxfile.py"), "-s", *sessions]
    command += ["--", *rest]
    if os.name != "posix":
        return subprocess.call(command)
    os.execv(command[0], command)  # noqa: S606 (nox in our place: our signals reach it)


if __name__ == "__main__":
    sys.exit(main())
