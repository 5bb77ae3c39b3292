#!/usr/bin/env python3
"""Set-up and run, with nothing but Python and pip: ``python3 tasks.py COMMAND [args...]``.

Each command creates ``.venv`` beside this file if it is missing, installs sessionpool (editable)
with the extras it needs, and runs:

* ``test``     ruff check, ruff format --check, mypy --strict, then pytest -n auto (extra
               arguments go to pytest). The README's test command.
* ``package``  builds the sdist and wheel, checks them with twine, installs the wheel into a fresh
               venv and runs ``python -m sessionpool --help`` and an import smoke test there;
               then copies the two checked files into ``dist/``.
* ``demo``     the demo (extra arguments go to ``sessionpool demo``).
* ``integration``  the integration suite (``tests/integration``): gunicorn, Celery with a Redis
               broker, PySpark, Ray, joblib/loky, multiprocessing, moto and Stubber, each started
               for real on 127.0.0.1 against moto's server, running the recipes in
               ``docs/recipes``. Installs the integration extra and, when ``redis-server`` is not
               on PATH, Debian's redis-server package (apt-get, non-interactive); ruff over the
               suite and the recipes; extra arguments go to pytest.
* ``matrix``   the suite on every Python 3.10+ found here (pyenv's versions, python3.X on PATH;
               one per minor version), each with the newest boto3/botocore (upgraded at every
               run), and on the declared floor (boto3==1.34.0, botocore==1.34.0). The oldest and
               newest Python run the whole suite, the others and the floor the tests marked
               ``compat``. Each cell has its own venv under ``.matrix/`` (installed while the
               cell before it runs its tests) and an import smoke test; the whole-suite cells run
               mypy too. Prints a summary table and fails if any cell failed.
               ``--cells py3.12,floor`` picks cells; other arguments go to pytest.
* ``docs``     builds the docs site (Sphinx, furo, MyST; the API reference from the docstrings)
               into ``docs/_build/html`` from scratch, with warnings as errors (``-W
               --keep-going``); extra arguments go to sphinx-build.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import venv
import zipfile
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from xml.etree import ElementTree

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv"


def bin_dir(env: Path) -> Path:
    return env / ("Scripts" if os.name == "nt" else "bin")


def python_in(env: Path) -> Path:
    return bin_dir(env) / ("python.exe" if os.name == "nt" else "python")


PY = python_in(VENV)
# The pytest plugin: a top-level module beside the package (loading it must not import boto3).
PLUGIN = ("_sessionpool_pytest.py",)
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
        ("ruff", "check", "sessionpool", *PLUGIN, "tests", "benchmarks", "tasks.py"),
        ("ruff", "format", "--check", "sessionpool", *PLUGIN, "tests", "benchmarks", "tasks.py"),
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
            "from importlib.metadata import entry_points\n"
            "plugins = {ep.name: ep.value for ep in entry_points(group='pytest11')}\n"
            "assert plugins.get('sessionpool') == '_sessionpool_pytest', plugins\n"
            "print('import smoke test passed:', sessionpool.__version__)\n"
        )
        must(run(python_in(fresh), "-c", smoke, cwd=Path(tmp)))
        must(run(python_in(fresh), "-m", "sessionpool", "--help", cwd=Path(tmp)))
        # Checked, so kept: the README installs the wheel from dist/ (which .gitignore covers).
        kept = HERE / "dist"
        kept.mkdir(exist_ok=True)
        for path in built:
            shutil.copy2(path, kept / path.name)
            print(f"kept {(kept / path.name).relative_to(HERE)}")
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
    wanted += PLUGIN
    return sorted(name for name in wanted if name not in shipped)


def docs(args: list[str]) -> int:
    setup("docs")
    out = HERE / "docs" / "_build"
    shutil.rmtree(out, ignore_errors=True)  # from scratch: a cached page would hide its warnings
    return run(
        PY, "-m", "sphinx", "-W", "--keep-going", "-b", "html", *args, HERE / "docs", out / "html"
    )


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


# -- matrix: the suite on every Python found, on boto3's declared floor, on the newest boto3 ------

MATRIX = HERE / ".matrix"
MIN_PYTHON = (3, 10)
# pyproject declares boto3>=1.34: the floor cell pins exactly that release of boto3 and botocore.
FLOOR_PINS = ("boto3==1.34.0", "botocore==1.34.0")
# botocore 1.34.0 declares Python 3.8-3.12: the floor runs on the oldest found Python in 3.10-3.12.
FLOOR_NEWEST_PYTHON = (3, 12)
# The whole suite runs on the oldest and the newest Python found. The Pythons between them and the
# floor run only the tests marked compat (credentials, threads, fork, the loader, the emitter:
# what touches botocore's internals and the interpreter's threading and fork), so that the
# matrix fits its ~15 minute budget on 2 cores (a whole-suite cell takes ~4 minutes with its
# install, a compat cell ~2).
SUBSET = "compat"
# Every cell runs the soak test with a 5 s measured phase (the test command runs the full 30 s).
MATRIX_SOAK_SECONDS = "5"
CELL_TIMEOUT = 10 * 60  # a cell's pytest that hangs fails that cell, not the whole run

_PROBE = (  # valid Python 2 too, so that a python2 found is named and skipped, not a crash
    "import json, os, sys\n"
    "exe = getattr(sys, '_base_executable', None) or sys.executable\n"
    "info = {'version': list(sys.version_info[:3]), 'executable': os.path.realpath(exe)}\n"
    "if sys.version_info >= (3, 10):\n"
    "    import importlib.util\n"
    "    info['venv'] = all(importlib.util.find_spec(m) for m in ('venv', 'ensurepip'))\n"
    "print(json.dumps(info))\n"
)

_MATRIX_SMOKE = (
    "import sys, boto3, botocore\n"
    "import sessionpool, sessionpool._botocore, sessionpool.cli, sessionpool.cli.demo\n"
    "pool = sessionpool.SessionPool(region='us-east-1', aws_access_key_id='AKIASMOKEEXAMPLE0001',"
    " aws_secret_access_key='smoke-secret-EXAMPLE')\n"
    "s3 = pool.client('s3')\n"
    "assert pool.client('s3') is s3 and s3.meta.region_name == 'us-east-1'\n"
    "assert pool.stats()['sessions_created'] == 1\n"
    "pool.close()\n"
    "print('import smoke test passed: Python', sys.version.split()[0], 'boto3', boto3.__version__,"
    " 'botocore', botocore.__version__)\n"
)


@dataclass(frozen=True)
class Interpreter:
    found: Path  # where it was found
    executable: str  # its real path (the base interpreter, if what was found is a venv's)
    version: tuple[int, ...]

    @property
    def minor(self) -> str:
        return f"{self.version[0]}.{self.version[1]}"

    @property
    def release(self) -> str:
        return ".".join(str(n) for n in self.version)


@dataclass
class Cell:
    name: str
    python: Interpreter
    pins: tuple[str, ...] = ()
    upgrade: bool = False  # upgrade boto3 and botocore to the newest on PyPI at every run
    subset: str | None = None  # a pytest -m expression: the cell runs only what it selects
    why: str = ""


@dataclass
class Outcome:
    cell: Cell
    boto3: str = "?"
    botocore: str = "?"
    problems: list[str] = field(default_factory=list)  # steps that failed
    counts: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    steps: dict[str, float] = field(default_factory=dict)  # seconds per step
    seconds: float = 0.0  # the cell's own time: install, smoke test, mypy, pytest


def _pyenv_root() -> Path | None:
    pyenv = shutil.which("pyenv")
    if pyenv:
        try:
            out = subprocess.run(
                [pyenv, "root"], capture_output=True, text=True, timeout=60, check=True
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            out = ""
        if out:
            return Path(out)
    root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    return Path(root) if Path(root).is_dir() else None


def _candidate_pythons() -> list[Path]:
    """This interpreter, every pyenv version's python3 (python, for a Python 2), and every
    python3 / python3.X on PATH, in that order, each path once."""
    found = [Path(sys.executable)]
    root = _pyenv_root()
    if root is not None:
        for version_dir in sorted((root / "versions").glob("*")):
            for name in ("python3", "python"):
                if (version_dir / "bin" / name).is_file():
                    found.append(version_dir / "bin" / name)
                    break
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        try:
            names = sorted(os.listdir(directory or "."))
        except OSError:
            continue
        for name in names:
            path = Path(directory) / name
            if re.fullmatch(r"python3(\.\d+)?", name) and os.access(path, os.X_OK):
                found.append(path)
    return list(dict.fromkeys(found))


def find_pythons() -> tuple[list[Interpreter], list[tuple[str, str]]]:
    """One interpreter per Python 3.10+ minor version found here (its newest patch release),
    oldest first, and (what, why) for every other candidate."""
    skipped: list[tuple[str, str]] = []
    seen: dict[str, Path] = {}  # real executable -> where first found
    usable: list[Interpreter] = []
    for path in _candidate_pythons():
        try:
            probe = subprocess.run(
                [str(path), "-c", _PROBE], capture_output=True, text=True, timeout=60
            )
        except (OSError, subprocess.SubprocessError) as e:
            skipped.append((str(path), f"does not run ({e})"))
            continue
        if probe.returncode != 0:
            lines = probe.stderr.strip().splitlines() or [f"exit code {probe.returncode}"]
            skipped.append((str(path), f"does not run: {lines[0]}"))
            continue
        info = json.loads(probe.stdout.strip().splitlines()[-1])
        found = Interpreter(path, info["executable"], tuple(info["version"]))
        label = f"{path} (Python {found.release})"
        if found.executable in seen:
            if seen[found.executable] != path:
                skipped.append((label, f"the same interpreter as {seen[found.executable]}"))
            continue
        seen[found.executable] = path
        if found.version < MIN_PYTHON:
            skipped.append((label, "below 3.10 (pyproject: requires-python >=3.10)"))
        elif not info.get("venv"):
            skipped.append((label, "has no venv/ensurepip module (e.g. Debian's python3-venv)"))
        else:
            usable.append(found)
    chosen: dict[str, Interpreter] = {}
    for interp in sorted(usable, key=lambda i: i.version, reverse=True):
        newer = chosen.setdefault(interp.minor, interp)
        if newer is not interp:
            skipped.append(
                (
                    f"{interp.found} (Python {interp.release})",
                    f"one cell per minor version: {newer.found} (Python {newer.release}) is newer",
                )
            )
    return sorted(chosen.values(), key=lambda i: i.version), skipped


def matrix_cells(pythons: list[Interpreter]) -> list[Cell]:
    cells = [
        Cell(
            f"py{p.minor}",
            p,
            upgrade=True,
            subset=None if p in (pythons[0], pythons[-1]) else SUBSET,
            why="pip install --upgrade boto3 botocore at every run: the newest on PyPI",
        )
        for p in pythons
    ]
    if pythons:
        supported = [p for p in pythons if p.version[:2] <= FLOOR_NEWEST_PYTHON]
        floor_python = (supported or pythons)[0]
        why = (
            f"Python {floor_python.minor}: the oldest found of the Pythons botocore 1.34.0 "
            f"declares (3.8-{FLOOR_NEWEST_PYTHON[0]}.{FLOOR_NEWEST_PYTHON[1]})"
            if supported
            else f"Python {floor_python.minor}: none found that botocore 1.34.0 declares"
        )
        cells.append(Cell("floor", floor_python, FLOOR_PINS, subset=SUBSET, why=why))
    return cells


# The matrix's background install (venv, pip) running now, so that Ctrl-C or SIGTERM can stop it
# at once instead of waiting for it to finish; once stopping is set, no further step starts.
_installing: set[subprocess.Popen[bytes]] = set()
_stop_installing = threading.Event()


def _logged(log: IO[str], *cmd: str | Path) -> int:
    log.write("+ " + " ".join(str(c) for c in cmd) + "\n")
    log.flush()
    if _stop_installing.is_set():
        log.write("(not started: the matrix was interrupted)\n")
        return 1
    proc = subprocess.Popen(
        [str(c) for c in cmd],
        cwd=HERE,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    _installing.add(proc)
    try:
        return proc.wait()
    finally:
        _installing.discard(proc)


def _stop_background_installs() -> None:
    _stop_installing.set()
    for proc in list(_installing):
        try:
            if os.name == "posix":
                os.killpg(proc.pid, signal.SIGKILL)
            else:
                proc.kill()
        except (ProcessLookupError, PermissionError):
            pass


def _install_cell(cell: Cell, env_dir: Path, log: IO[str]) -> bool:
    """Create the cell's venv and install sessionpool[test] (and the pins) once per pyproject
    change or interpreter change; upgrade boto3 and botocore at every run if the cell asks."""
    py = python_in(env_dir)
    stamp = env_dir / ".installed"
    signature = json.dumps(
        {"python": cell.python.executable, "version": cell.python.release, "pins": cell.pins}
    )
    same = stamp.is_file() and stamp.read_text() == signature and py.exists()
    if not same:
        if _logged(log, cell.python.executable, "-m", "venv", "--clear", env_dir) != 0:
            return False
    current = same and stamp.stat().st_mtime >= (HERE / "pyproject.toml").stat().st_mtime
    if not current:
        stamp.unlink(missing_ok=True)
        if _logged(log, py, *PIP, "--no-compile", "-e", ".[test]", *cell.pins) != 0:
            return False
        stamp.write_text(signature)
    if cell.upgrade:
        return _logged(log, py, *PIP, "--no-compile", "--upgrade", "boto3", "botocore") == 0
    return True


@dataclass
class Prepared:
    ok: bool
    seconds: float
    log: Path
    versions: tuple[str, str] = ("?", "?")  # boto3, botocore


def prepare_cell(cell: Cell) -> Prepared:
    """The cell's venv and install, its output in .matrix/logs/: the matrix prepares each cell in
    the background while the cell before it runs its tests (pip is mostly one core of CPU)."""
    start = time.monotonic()
    logs = MATRIX / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log_path = logs / f"{cell.name}-install.log"
    with open(log_path, "w") as log:
        ok = _install_cell(cell, MATRIX / cell.name, log)
    prepared = Prepared(ok, time.monotonic() - start, log_path)
    if ok:
        prepared.versions = _installed_versions(python_in(MATRIX / cell.name))
    return prepared


def _installed_versions(py: Path) -> tuple[str, str]:
    out = subprocess.run(
        [
            str(py),
            "-c",
            "from importlib.metadata import version as v; print(v('boto3'), v('botocore'))",
        ],
        capture_output=True,
        text=True,
    ).stdout.split()
    return (out[0], out[1]) if len(out) == 2 else ("?", "?")


def _call(cmd: list[str | Path], env: dict[str, str], timeout: float) -> int | None:
    """Run cmd in its own process group; None (and the group killed) if it outlives timeout."""
    print("+", " ".join(str(c) for c in cmd), flush=True)
    proc = subprocess.Popen([str(c) for c in cmd], cwd=HERE, env=env, start_new_session=True)
    try:
        return proc.wait(timeout)
    except BaseException:  # the timeout, or Ctrl-C: leave nothing running behind
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
        proc.wait()
        if sys.exc_info()[0] is subprocess.TimeoutExpired:
            return None
        raise


def _junit_results(path: Path) -> tuple[dict[str, int], list[str]]:
    """Counts (passed, failed, errors, skipped) and 'test id: first line of message' per
    failure, from pytest's junit XML (a file this run just wrote)."""
    counts = {"passed": 0, "failed": 0, "errors": 0, "skipped": 0}
    failures: list[str] = []
    if not path.is_file():
        return counts, failures
    root = ElementTree.parse(path).getroot()  # noqa: S314 (our own pytest's output)
    for case in root.iter("testcase"):
        outcome = "passed"
        for child in case:
            if child.tag in ("failure", "error"):
                outcome = "failed" if child.tag == "failure" else "errors"
                where = case.get("classname", "").replace(".", "/") + ".py::" + case.get("name", "")
                message = (child.get("message") or "").strip().splitlines()
                failures.append(f"{where} ({child.tag}): {message[0][:300] if message else ''}")
            elif child.tag == "skipped" and outcome == "passed":
                outcome = "skipped"
        counts[outcome] += 1
    return counts, failures


def run_cell(cell: Cell, preparing: Future[Prepared], pytest_args: list[str]) -> Outcome:
    outcome = Outcome(cell)
    env_dir = MATRIX / cell.name
    py = python_in(env_dir)
    pins = " ".join(cell.pins) or "newest boto3/botocore"
    print(
        f"\n== matrix cell {cell.name}: Python {cell.python.release} ({cell.python.executable}),"
        f" {pins}",
        flush=True,
    )
    if cell.subset:
        print(
            f"== {cell.name} runs a SUBSET of the suite: only the tests marked {cell.subset!r}"
            f" (pytest -m {cell.subset})",
            flush=True,
        )
    prepared = preparing.result()
    start = time.monotonic()  # the cell's time: its install, then what runs from here
    outcome.seconds = prepared.seconds
    outcome.steps["install"] = prepared.seconds
    print(
        f"== {cell.name}: venv and install {prepared.seconds:.0f}s, log {prepared.log}", flush=True
    )
    if not prepared.ok:
        print("".join(prepared.log.read_text().splitlines(keepends=True)[-40:]), flush=True)
        outcome.problems.append("install")
        return outcome
    outcome.boto3, outcome.botocore = prepared.versions
    print(f"== {cell.name}: boto3 {outcome.boto3}, botocore {outcome.botocore}", flush=True)
    wanted = tuple(pin.split("==")[1] for pin in cell.pins)
    if wanted and (outcome.boto3, outcome.botocore) != wanted:
        outcome.problems.append("versions")
    env = dict(os.environ)
    env.setdefault("SESSIONPOOL_SOAK_SECONDS", MATRIX_SOAK_SECONDS)
    # The smoke test uses explicit dummy keys and no config file: nothing of this machine's.
    smoke_env = {k: v for k, v in env.items() if not k.startswith("AWS_")}
    smoke_env.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    step = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="sessionpool-matrix-") as tmp:
        print("+", py, "-c", "<import smoke test>", flush=True)
        if subprocess.call([str(py), "-c", _MATRIX_SMOKE], cwd=tmp, env=smoke_env) != 0:
            outcome.problems.append("smoke")
    outcome.steps["smoke"], step = time.monotonic() - step, time.monotonic()
    # mypy checks as Python 3.10 (pyproject) against the same stubs in every cell: the cells that
    # run the whole suite run it, the subset cells save its ~20-30 s.
    if cell.subset:
        print(f"== {cell.name}: mypy runs in the whole-suite cells only", flush=True)
    elif run(py, "-m", "mypy", "--cache-dir", env_dir / ".mypy_cache") != 0:
        outcome.problems.append("mypy")
    outcome.steps["mypy"], step = time.monotonic() - step, time.monotonic()
    junit = env_dir / "junit.xml"
    junit.unlink(missing_ok=True)
    selection = ["-m", cell.subset] if cell.subset else []
    code = _call(
        [py, "-m", "pytest", "-n", "auto", f"--junitxml={junit}", *selection, *pytest_args],
        env,
        CELL_TIMEOUT,
    )
    outcome.steps["pytest"] = time.monotonic() - step
    outcome.counts, outcome.failures = _junit_results(junit)
    if code is None:
        outcome.problems.append(f"pytest timed out after {CELL_TIMEOUT}s")
    elif code == 5:
        outcome.problems.append("pytest collected no tests")
    elif code != 0:
        outcome.problems.append(f"pytest exit {code}")
    outcome.seconds += time.monotonic() - start
    steps = ", ".join(f"{name} {seconds:.0f}s" for name, seconds in outcome.steps.items())
    print(f"== {cell.name}: {steps}", flush=True)
    return outcome


def _minutes(seconds: float) -> str:
    return f"{int(seconds // 60)}m{int(seconds % 60):02d}s"


def _terminated(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # so that _call kills the running cell's process group


def matrix(args: list[str]) -> int:
    start = time.monotonic()
    signal.signal(signal.SIGTERM, _terminated)
    only: list[str] = []
    if args[:1] == ["--cells"]:
        if len(args) < 2:
            print("usage: python3 tasks.py matrix [--cells NAME,NAME] [pytest args...]")
            return 2
        only, args = args[1].split(","), args[2:]
    pythons, skipped = find_pythons()
    print("matrix: Python interpreters found (one cell each):")
    for p in pythons:
        print(
            f"  {p.release:<9} {p.found}"
            + (f" -> {p.executable}" if str(p.found) != p.executable else "")
        )
    print("matrix: skipped:")
    for what, why in skipped:
        print(f"  {what}: {why}")
    cells = matrix_cells(pythons)
    if not cells:
        print("matrix: no Python 3.10+ interpreter found", file=sys.stderr)
        return 1
    if only:
        unknown = sorted(set(only) - {c.name for c in cells})
        if unknown:
            print(f"matrix: no cell {unknown}; cells: {[c.name for c in cells]}", file=sys.stderr)
            return 2
        cells = [c for c in cells if c.name in only]
    print("matrix: cells:")
    for c in cells:
        what = " ".join(c.pins) or "newest boto3/botocore"
        scope = f"only tests marked {c.subset}" if c.subset else "the whole suite"
        print(f"  {c.name:<8} Python {c.python.release}, {what}; {scope} ({c.why})")
    # One thread installs the cells in order, each while the cell before it runs its tests.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="matrix-install") as installer:
        preparing = [installer.submit(prepare_cell, cell) for cell in cells]
        try:
            outcomes = [
                run_cell(cell, future, args) for cell, future in zip(cells, preparing, strict=True)
            ]
        finally:
            for future in preparing:
                future.cancel()  # on Ctrl-C or SIGTERM: no more installs
            if sys.exc_info()[0] is not None:  # and stop the one running now
                _stop_background_installs()

    print(
        f"\nmatrix summary ({_minutes(time.monotonic() - start)} in all; a cell's time is its"
        " own install, which ran while the cell before it was testing, and its checks):"
    )
    header = ("cell", "python", "boto3 / botocore", "tests", "result", "passed", "failed", "time")
    rows = [header]
    for o in outcomes:
        failed = o.counts.get("failed", 0) + o.counts.get("errors", 0)
        rows.append(
            (
                o.cell.name,
                o.cell.python.release,
                f"{o.boto3} / {o.botocore}",
                f"-m {o.cell.subset} (subset)" if o.cell.subset else "all",
                "FAILED: " + ", ".join(o.problems) if o.problems else "passed",
                str(o.counts.get("passed", 0)),
                str(failed),
                _minutes(o.seconds),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        line = "  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True))
        print("  " + line.rstrip())
    for o in outcomes:
        for failure in o.failures:
            print(f"  {o.cell.name}: {failure}")
    subsets = [o.cell.name for o in outcomes if o.cell.subset]
    if subsets:
        print(f"  note: {', '.join(subsets)} ran a subset of the suite (see the tests column)")
    return 1 if any(o.problems for o in outcomes) else 0


COMMANDS: dict[str, Callable[[list[str]], int]] = {
    "test": test,
    "package": package,
    "demo": demo,
    "integration": integration,
    "matrix": matrix,
    "docs": docs,
}


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        print(f"usage: python3 {Path(__file__).name} {{{'|'.join(COMMANDS)}}} [args...]")
        print(__doc__)
        return 2
    return COMMANDS[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
