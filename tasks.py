#!/usr/bin/env python3
"""Set-up and run, with nothing but Python and pip: ``python3 tasks.py COMMAND [args...]``.

Each command creates ``.venv`` beside this file if it is missing, installs sessionpool (editable)
with the extras it needs, and runs:

* ``test``     ruff check, ruff format --check, mypy --strict, then pytest -n auto (extra
               arguments go to pytest). The README's test command.
* ``package``  builds the sdist and wheel, checks them with twine, installs the wheel into a fresh
               venv and runs ``python -m sessionpool --help`` and an import smoke test there.
* ``demo``     the demo (extra arguments go to ``sessionpool demo``).
* ``integration``  the integration suite (``tests/integration``): gunicorn, Celery with a Redis
               broker, PySpark, Ray, joblib/loky, multiprocessing, moto and Stubber, each started
               for real on 127.0.0.1 against moto's server, running the recipes in
               ``docs/recipes``. Installs the integration extra and, when ``redis-server`` is not
               on PATH, Debian's redis-server package (apt-get, non-interactive); ruff over the
               suite and the recipes; extra arguments go to pytest.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import venv
import zipfile
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv"


def bin_dir(env: Path) -> Path:
    return env / ("Scripts" if os.name == "nt" else "bin")


def python_in(env: Path) -> Path:
    return bin_dir(env) / ("python.exe" if os.name == "nt" else "python")


PY = python_in(VENV)
PIP = ("-m", "pip", "install", "--quiet", "--disable-pip-version-check")


def run(*cmd: str | Path, cwd: Path = HERE, env: dict[str, str] | None = None) -> int:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.call([str(c) for c in cmd], cwd=cwd, env=env)


def must(code: int) -> None:
    if code != 0:
        sys.exit(code)


def setup(extras: str) -> None:
    """Create .venv if needed; install sessionpool[extras] into it once per pyproject change."""
    if not PY.exists():
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    stamp = VENV / f".installed-{extras.replace(',', '-')}"
    mtime = (HERE / "pyproject.toml").stat().st_mtime
    if stamp.exists() and stamp.stat().st_mtime >= mtime:
        return
    must(run(PY, *PIP, "-e", f".[{extras}]"))
    stamp.touch()


def pytest(args: list[str], *defaults: str) -> int:
    code = run(PY, "-m", "pytest", *defaults, *args)
    if code == 5:
        print("pytest collected no tests: that is a failure here.", file=sys.stderr)
        return 1
    return code


def test(args: list[str]) -> int:
    setup("test")
    for check in (
        ("ruff", "check", "sessionpool", "tests", "benchmarks", "tasks.py"),
        ("ruff", "format", "--check", "sessionpool", "tests", "benchmarks", "tasks.py"),
        ("mypy",),  # --strict on the package and the typed-client examples
    ):
        code = run(PY, "-m", *check)
        if code != 0:
            return code
    return pytest(args, "-n", "auto")


def package(args: list[str]) -> int:
    setup("package")
    with tempfile.TemporaryDirectory(prefix="sessionpool-package-") as tmp:
        dist = Path(tmp) / "dist"
        must(run(PY, "-m", "build", "--outdir", dist, HERE))
        built = sorted(dist.iterdir())
        must(run(PY, "-m", "twine", "check", "--strict", *built))
        wheel = next(p for p in built if p.suffix == ".whl")
        missing = _missing_from_wheel(wheel)
        if missing:
            print(f"the wheel is missing {missing}", file=sys.stderr)
            return 1
        fresh = Path(tmp) / "venv"
        venv.EnvBuilder(with_pip=True).create(fresh)
        must(run(python_in(fresh), *PIP, wheel))
        # From a directory that is not the checkout, so the installed wheel is what gets imported.
        smoke = (
            "import pathlib, sessionpool, sessionpool.cli, sessionpool.cli.demo\n"
            "import sessionpool._botocore\n"
            "root = pathlib.Path(sessionpool.__file__).parent\n"
            "assert 'site-packages' in str(root), root\n"
            "assert (root / 'py.typed').is_file(), 'py.typed missing from the wheel'\n"
            "pool = sessionpool.SessionPool(region='us-east-1')\n"
            "assert pool.stats()['sessions_created'] == 0\n"
            "pool.close()\n"
            "print('import smoke test passed:', sessionpool.__version__)\n"
        )
        must(run(python_in(fresh), "-c", smoke, cwd=Path(tmp)))
        must(run(python_in(fresh), "-m", "sessionpool", "--help", cwd=Path(tmp)))
    return 0


def _missing_from_wheel(wheel: Path) -> list[str]:
    """Package files (modules, stubs, py.typed) in the source tree but not in the wheel."""
    with zipfile.ZipFile(wheel) as zf:
        shipped = set(zf.namelist())
    source = HERE / "sessionpool"
    wanted = [
        p.relative_to(HERE).as_posix()
        for p in source.rglob("*")
        if p.suffix in (".py", ".pyi") or p.name == "py.typed"
    ]
    return sorted(name for name in wanted if name not in shipped)


def demo(args: list[str]) -> int:
    setup("demo")
    return run(PY, "-m", "sessionpool", "demo", *args)


def integration(args: list[str]) -> int:
    setup("test,integration")
    code = _ensure_redis_server()
    if code != 0:
        return code
    for check in (
        ("ruff", "check", "tests/integration", "docs/recipes"),
        ("ruff", "format", "--check", "tests/integration", "docs/recipes"),
    ):
        code = run(PY, "-m", *check)
        if code != 0:
            return code
    return pytest(args, "tests/integration")


def _ensure_redis_server() -> int:
    """The Celery tests start their own redis-server; install Debian's package if it is missing.

    Nothing is started here: the package's service is not used (and where policy-rc.d forbids
    starting services, as in containers, none starts)."""
    import shutil

    if shutil.which("redis-server"):
        return 0
    apt = shutil.which("apt-get")
    if apt is None:
        print("redis-server is not on PATH, and no apt-get to install it", file=sys.stderr)
        return 1
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (
        (*sudo, apt, "update", "-qq"),
        (*sudo, apt, "install", "-y", "-qq", "--no-install-recommends", "redis-server"),
    ):
        code = run(*cmd, env=env)
        if code != 0:
            return code
    return 0 if shutil.which("redis-server") else 1


COMMANDS: dict[str, Callable[[list[str]], int]] = {
    "test": test,
    "package": package,
    "demo": demo,
    "integration": integration,
}


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        print(f"usage: python3 {Path(__file__).name} {{{'|'.join(COMMANDS)}}} [args...]")
        print(__doc__)
        return 2
    return COMMANDS[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
