"""The project's sessions, run by nox (``python3 tasks.py SESSION [args...]`` bootstraps it).

* ``test``: ruff check, ruff format --check, mypy --strict, then pytest -n auto, in ``.venv``
  (which developers use as ``.venv/bin/python``); extra arguments go to pytest. The README's
  test command.
* ``package``: builds the sdist and wheel, ``twine check --strict``, checks the wheel holds
  every module (and the pytest plugin), installs it with pip into a fresh venv and runs an
  import smoke test and ``python -m sessionpool --help`` there, outside the checkout; keeps the
  checked files in ``dist/``.
* ``demo``: the demo, in ``.venv`` too (extra arguments go to ``sessionpool demo``).
* ``integration``: ``tests/integration`` (gunicorn, Celery with a Redis it starts, PySpark, Ray,
  joblib/loky, multiprocessing, moto and Stubber, FastAPI, Flask, Django, a sample user project
  under pytest) with the integration extra, and Debian's
  redis-server installed when it is not on PATH; ruff over the suite and ``docs/recipes``.
* ``matrix(CELL)``: one cell per Python 3.10+ found here (``py3.X``, newest boto3/botocore,
  upgraded at every run) and ``floor`` (boto3==1.34.0, botocore==1.34.0). The oldest and newest
  Python run the whole suite and mypy, the others and the floor the tests marked ``compat``;
  every cell runs an import smoke test; a cell's pytest is killed after ``CELL_TIMEOUT``. A
  table of the cells run ends the output.
* ``typing``: the typing check with types-boto3 instead of boto3-stubs (``tests/typing/check.py``,
  mypy and pyright); ``python3 tasks.py matrix`` runs it after the cells.
* ``docs``: the docs site into ``docs/_build/html``, from scratch, ``sphinx -W --keep-going``.

The other sessions have their own venvs under ``.nox/``. uv makes and fills every venv; nox
reuses them (``nox.options.reuse_venv``), and a session installs again only when pyproject.toml
has changed, except that the newest-boto3 cells ask the index for boto3 and botocore every run.
A pytest that collects nothing fails its session.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nox

__all__ = ["demo", "docs", "integration", "matrix", "package", "test", "typing"]

HERE = Path(__file__).resolve().parent

nox.options.default_venv_backend = "uv"
nox.options.download_python = "never"  # only the Pythons that exist here, never a download
nox.options.reuse_venv = "yes"
nox.options.sessions = ["test"]

# SIGTERM (a CI timeout, `kill`) is handled as Ctrl-C: nox then stops the command it is running
# (terminate, then kill) instead of leaving it behind.
signal.signal(signal.SIGTERM, signal.default_int_handler)

# The pytest plugin is a top-level module beside the package (loading it must not import boto3).
PLUGIN = "_sessionpool_pytest.py"
LINTED = ("sessionpool", PLUGIN, "tests", "benchmarks", "tasks.py", "noxfile.py")


def install(session: nox.Session, *args: str, venv: Path | None = None) -> None:
    """uv pip install args into the session's venv (or ``venv``), skipped while a stamp there
    says they were installed from this very pyproject.toml: a reused venv is not re-resolved."""
    where = venv or Path(session.virtualenv.location)
    stamp = where / f".installed-{hashlib.sha256(repr(args).encode()).hexdigest()[:12]}"
    key = hashlib.sha256((HERE / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.is_file() and stamp.read_text() == key:
        return
    if venv is None:
        session.install(*args)
    else:
        session.run(sys.executable, "-m", "uv", "pip", "install", "--python", str(venv), *args)
    stamp.write_text(key)


def dot_venv(session: nox.Session, extra: str) -> str:
    """.venv beside this file, with sessionpool (editable) and ``extra``; its python. The test
    and demo sessions use it rather than a venv of nox's: developers and the docs use
    .venv/bin/python (and its pip, which ``--seed`` installs)."""
    venv = HERE / ".venv"
    python = str(venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python"))
    if not Path(python).exists():
        session.run(sys.executable, "-m", "uv", "venv", "--seed", "-p", sys.executable, str(venv))
    install(session, "-e", f".[{extra}]", venv=venv)
    return python


def run_pytest(
    session: nox.Session,
    *args: str,
    python: str = "python",
    timeout: int | None = None,
    env: dict[str, str] | None = None,
) -> None:
    """pytest, where collecting nothing is a failure; past ``timeout`` seconds coreutils'
    ``timeout`` stops its whole process group (xdist's workers and what they started)."""
    command = [python, "-m", "pytest", *args]
    if timeout is not None:
        if shutil.which("timeout"):
            command = ["timeout", "--kill-after=60", str(timeout), *command]
        else:
            session.warn("no `timeout` (GNU coreutils) on PATH: pytest runs without a limit")
    try:
        session.run(*command, env=env, external=True)
    except nox.command.CommandFailed as failed:
        if failed.return_code == 5:
            session.error("pytest collected no tests: that is a failure here")
        if timeout is not None and failed.return_code in (124, 137):
            session.error(f"pytest timed out after {timeout} s and was stopped")
        raise


@nox.session(venv_backend="none")
def test(session: nox.Session) -> None:
    """ruff, mypy --strict and pytest -n auto in .venv (pytest gets the extra arguments)."""
    py = dot_venv(session, "test")
    session.run(py, "-m", "ruff", "check", *LINTED)
    session.run(py, "-m", "ruff", "format", "--check", *LINTED)
    session.run(py, "-m", "mypy")  # --strict on the package and the typed-client examples
    run_pytest(session, "-n", "auto", *session.posargs, python=py)


@nox.session
def package(session: nox.Session) -> None:
    """Build the sdist and wheel, check them, install the wheel into a fresh venv, smoke-test."""
    install(session, "-e", ".[package]")
    with tempfile.TemporaryDirectory(prefix="sessionpool-package-") as tmp:
        dist = Path(tmp) / "dist"
        session.run("python", "-m", "build", "--outdir", str(dist), str(HERE))
        built = sorted(dist.iterdir())
        session.run("python", "-m", "twine", "check", "--strict", *map(str, built))
        wheel = next(p for p in built if p.suffix == ".whl")
        with zipfile.ZipFile(wheel) as zf:
            shipped = set(zf.namelist())
        wanted = [
            p.relative_to(HERE).as_posix()
            for p in (HERE / "sessionpool").rglob("*")
            if p.suffix in (".py", ".pyi") or p.name == "py.typed"
        ]
        missing = sorted(name for name in [*wanted, PLUGIN] if name not in shipped)
        if missing:
            session.error(f"the wheel is missing {missing}")
        # pip into a plain venv, as a user would install it.
        fresh = Path(tmp) / "venv"
        session.run("python", "-m", "venv", str(fresh))
        py = str(fresh / "bin" / "python")
        session.run(py, "-m", "pip", "install", "--quiet", str(wheel), external=True)
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
        # From a directory that is not the checkout, so the installed wheel is what gets imported.
        with session.chdir(tmp):
            session.log(f"{py} -c <the import smoke test>")
            session.run(py, "-c", smoke, external=True, log=False)
            session.run(py, "-m", "sessionpool", "--help", external=True)
        # Checked, so kept: the README installs the wheel from dist/ (which .gitignore covers).
        kept = HERE / "dist"
        kept.mkdir(exist_ok=True)
        for path in built:
            shutil.copy2(path, kept / path.name)
            session.log(f"kept dist/{path.name}")


@nox.session(venv_backend="none")
def demo(session: nox.Session) -> None:
    """The demo in .venv: moto on 127.0.0.1, 2 processes x 32 threads (arguments go to it)."""
    session.run(dot_venv(session, "demo"), "-m", "sessionpool", "demo", *session.posargs)


@nox.session(venv_backend="none")
def boto3suite(session: nox.Session) -> None:
    """boto3's own unit and functional tests, plainly and with pooled sessions, compared
    (tests/boto3_suite/run.py, in its own venv .boto3suite/venv; arguments go to it)."""
    session.run(sys.executable, "tests/boto3_suite/run.py", *session.posargs)


@nox.session
def integration(session: nox.Session) -> None:
    """The integration suite, tests/integration, under the real frameworks."""
    install(session, "-e", ".[test,integration]")
    if not shutil.which("redis-server"):  # the Celery tests start their own redis-server
        install_redis_server(session)
    session.run("ruff", "check", "tests/integration", "docs/recipes")
    session.run("ruff", "format", "--check", "tests/integration", "docs/recipes")
    run_pytest(session, "tests/integration", *session.posargs)


def install_redis_server(session: nox.Session) -> None:
    """Debian's redis-server package, non-interactive. Nothing is started here: the package's
    service is not used (and where policy-rc.d forbids starting services, none starts)."""
    apt = shutil.which("apt-get")
    if apt is None:
        session.error("redis-server is not on PATH, and there is no apt-get to install it")
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    session.run(*sudo, apt, "update", "-qq", env=env, external=True)
    install = ("install", "-y", "-qq", "--no-install-recommends", "redis-server")
    session.run(*sudo, apt, *install, env=env, external=True)
    if not shutil.which("redis-server"):
        session.error("apt-get installed redis-server, but it is not on PATH")


@nox.session
def docs(session: nox.Session) -> None:
    """The docs site, from scratch, warnings as errors (arguments go to sphinx-build)."""
    install(session, "-e", ".[docs]")
    out = HERE / "docs" / "_build"
    shutil.rmtree(out, ignore_errors=True)  # from scratch: a cached page would hide its warnings
    sphinx = ("python", "-m", "sphinx", "-W", "--keep-going", "-b", "html")
    session.run(*sphinx, *session.posargs, "docs", str(out / "html"))


# -- the matrix: every Python found, the newest boto3, and boto3's declared floor ---------------

MIN_PYTHON = (3, 10)
# pyproject declares boto3>=1.34: the floor cell pins exactly that release of boto3 and botocore,
# on the oldest Python found that botocore 1.34.0 declares (3.8-3.12).
FLOOR_PINS = ("boto3==1.34.0", "botocore==1.34.0")
FLOOR_NEWEST_PYTHON = (3, 12)
# The Pythons between the oldest and the newest, and the floor, run only the tests marked compat
# (credentials, threads, fork, the loader, the emitter), so that the matrix fits its budget.
SUBSET = "compat"
# A hung pytest fails its cell instead of hanging the run. Not a speed limit: the whole suite's
# pytest took 12.5 minutes here under a load of 14 on 2 cores.
CELL_TIMEOUT = 20 * 60
MATRIX_SOAK_SECONDS = "5"  # the soak test's measured phase (the test session runs 30 s)

# The version and the real interpreter (a venv's base); Python 2 runs it too, so that a
# python2 found is named and skipped.
PROBE = (
    "import os, sys; exe = getattr(sys, '_base_executable', None) or sys.executable;"
    " sys.stdout.write('%d.%d.%d ' % sys.version_info[:3] + os.path.realpath(exe))"
)
VERSIONS = "from importlib.metadata import version as v; print(v('boto3'), v('botocore'))"
SMOKE = (
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
class Python:
    path: str  # the real executable, not a shim or a venv's link: the cell's venv is made from it
    version: tuple[int, ...]

    @property
    def release(self) -> str:
        return ".".join(map(str, self.version))


@dataclass(frozen=True)
class Cell:
    name: str
    python: Python
    pins: tuple[str, ...] = ()  # none: the newest boto3 and botocore, upgraded at every run
    whole: bool = False  # the whole suite and mypy, else only the tests marked SUBSET


def probe(path: Path) -> tuple[str, str]:
    """(version, real executable) of the Python at path, or ("", why it does not run)."""
    try:
        out = subprocess.run([path, "-S", "-c", PROBE], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as e:
        return "", str(e)
    if out.returncode != 0 or " " not in out.stdout:
        return "", (out.stderr.strip().splitlines() or [f"exit code {out.returncode}"])[0]
    release, real = out.stdout.split(" ", 1)
    return release, real


def find_pythons() -> tuple[list[Python], list[str]]:
    """The newest patch release of each Python 3.10+ minor version found (pyenv's versions,
    python3 and python3.X on PATH, this interpreter), oldest first; and why each other candidate
    was skipped."""
    candidates: list[Path] = []
    skipped: list[str] = []
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    for bin_dir in sorted(pyenv.glob("versions/*/bin")):
        candidates += [p for p in (bin_dir / "python3", bin_dir / "python") if p.is_file()][:1]
    for directory in map(Path, filter(None, os.environ.get("PATH", "").split(os.pathsep))):
        if directory == pyenv / "shims":  # each runs one of the versions above, slowly
            skipped.append(f"{directory}: pyenv's shims (its versions are read directly)")
        elif directory.is_dir():
            names = sorted(directory.glob("python3*"))
            candidates += [p for p in names if re.fullmatch(r"python3(\.\d+)?", p.name)]
    candidates.append(Path(sys.executable))
    candidates = list(dict.fromkeys(candidates))
    with ThreadPoolExecutor(max_workers=8) as threads:  # each probe is mostly waiting
        probes = list(threads.map(probe, candidates))
    found_at: dict[str, Path] = {}  # real executable -> where it was first found
    usable: list[Python] = []
    for path, (release, real) in zip(candidates, probes, strict=True):
        if not release:
            skipped.append(f"{path}: does not run: {real}")
            continue
        version = tuple(map(int, release.split(".")))
        if found_at.setdefault(real, path) != path:
            skipped.append(f"{path}: the same interpreter as {found_at[real]}")
        elif version < MIN_PYTHON:
            skipped.append(f"{path} ({release}): below 3.10 (requires-python >=3.10)")
        else:
            usable.append(Python(real, version))
    newest: dict[tuple[int, ...], Python] = {}  # one per minor version: its newest patch release
    for python in sorted(usable, key=lambda p: p.version, reverse=True):
        kept = newest.setdefault(python.version[:2], python)
        if kept is not python:
            skipped.append(f"{python.path} ({python.release}): one per minor version, {kept.path}")
    return sorted(newest.values(), key=lambda p: p.version), skipped


def matrix_cells(pythons: list[Python]) -> list[Cell]:
    """py3.X per Python found (the oldest and newest whole), then the floor."""
    ends = pythons[:1] + pythons[-1:]
    cells = [Cell(f"py{p.version[0]}.{p.version[1]}", p, whole=p in ends) for p in pythons]
    if pythons:
        supported = [p for p in pythons if p.version[:2] <= FLOOR_NEWEST_PYTHON]
        cells.append(Cell("floor", (supported or pythons)[0], FLOOR_PINS))
    return cells


PYTHONS, SKIPPED = find_pythons()
CELLS = matrix_cells(PYTHONS)
RESULTS: list[dict[str, Any]] = []  # one row per cell run by this nox process, for the table
# uv would trust its cached answer from the index for minutes, and keep what is installed.
NEWEST = [f"--{o}-package={n}" for o in ("upgrade", "refresh") for n in ("boto3", "botocore")]


@nox.session
@nox.parametrize(
    "python,cell",
    [nox.param(c.python.path, c, id=c.name) for c in CELLS] or [nox.param(None, None, id="none")],
)
def matrix(session: nox.Session, cell: Cell | None) -> None:
    """One cell of the compatibility matrix (arguments go to pytest)."""
    if not RESULTS:  # the first cell of this run says what was found
        session.log("Pythons found: " + ", ".join(f"{p.release} {p.path}" for p in PYTHONS))
        for why in SKIPPED:
            session.log(f"skipped {why}")
    if cell is None:
        session.error("no Python 3.10+ found (pyenv's versions, python3.X on PATH)")
    subset = () if cell.whole else ("-m", SUBSET)
    scope = "the whole suite and mypy" if cell.whole else f"only the tests marked {SUBSET}"
    session.log(
        f"{cell.name}: Python {cell.python.release}, {' '.join(cell.pins) or 'newest'}; {scope}"
    )
    row: dict[str, Any] = {"cell": cell.name, "python": cell.python.release, "boto3": "?"}
    row.update(botocore="?", tests=" ".join(subset) or "all", result="failed: install")
    RESULTS.append(row)
    started = time.monotonic()
    try:
        run_cell(session, cell, subset, row)
    except KeyboardInterrupt:  # Ctrl-C, or CI's SIGTERM
        row["result"] = "interrupted"
        raise
    finally:
        row["seconds"] = time.monotonic() - started


def run_cell(
    session: nox.Session, cell: Cell, subset: tuple[str, ...], row: dict[str, Any]
) -> None:
    """Install, smoke test, mypy (whole cells), pytest; row["result"] names the step running."""
    install(session, "-e", ".[test]", *cell.pins)
    if not cell.pins:  # the newest boto3 and botocore, asked of the index at every run
        session.install("boto3", "botocore", *NEWEST)
    row["boto3"], row["botocore"] = str(session.run("python", "-c", VERSIONS, silent=True)).split()
    if cell.pins and (row["boto3"], row["botocore"]) != tuple(p.split("==")[1] for p in cell.pins):
        row["result"] = "failed: versions"
        session.error(
            f"installed boto3 {row['boto3']}, botocore {row['botocore']}: not {cell.pins}"
        )
    row["result"] = "failed: smoke test"
    # Explicit dummy keys and no config file: nothing of this machine's.
    clean: dict[str, str | None] = {k: None for k in os.environ if k.startswith("AWS_")}
    clean.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    with tempfile.TemporaryDirectory(prefix="sessionpool-matrix-") as tmp, session.chdir(tmp):
        session.log("python -c <the import smoke test>")
        session.run("python", "-c", SMOKE, env=clean, log=False)
    if cell.whole:  # mypy checks as Python 3.10 whatever runs it: the subset cells skip it
        row["result"] = "failed: mypy"
        cache = f"{session.virtualenv.location}/.mypy_cache"
        session.run("python", "-m", "mypy", "--cache-dir", cache)
    row["result"] = "failed: pytest"
    soak = os.environ.get("SESSIONPOOL_SOAK_SECONDS", MATRIX_SOAK_SECONDS)
    env = {"SESSIONPOOL_SOAK_SECONDS": soak}
    run_pytest(session, "-n", "auto", *subset, *session.posargs, timeout=CELL_TIMEOUT, env=env)
    row["result"] = "passed"


@nox.session
def typing(session: nox.Session) -> None:
    """sessionpool's calls typed with types-boto3 (the test sessions have boto3-stubs): mypy and
    pyright on tests/typing/examples.py, each call the class boto3's own call gets."""
    stubs = "types-boto3[s3,sqs,dynamodb,ec2,lambda]"
    install(session, "-e", ".[typing]", stubs)
    check = ("python", "tests/typing/check.py", "--family", "types-boto3", "--pyright", "require")
    session.run(*check)


@atexit.register
def matrix_table() -> None:
    """After nox's own summary: the cells run, with their Python, boto3 and result."""
    if not RESULTS:
        return
    head = ("cell", "python", "boto3 / botocore", "tests", "result", "time")
    rows = [head] + [
        (
            r["cell"],
            r["python"],
            f"{r['boto3']} / {r['botocore']}",
            r["tests"],
            r["result"],
            f"{r['seconds'] // 60:.0f}m{r['seconds'] % 60:02.0f}s",
        )
        for r in RESULTS
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    print("\nmatrix:", flush=True)
    for row in rows:
        print("  " + "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
