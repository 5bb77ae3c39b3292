#!/usr/bin/env python3
"""boto3's own unit and functional tests, run plainly and with pooled sessions, compared.

``python3 tasks.py boto3suite [--boto3 VERSION] [--source PATH] [--plain-again] [pytest args]``
(or this file run directly, with any Python 3.10+):

1. A venv of its own (``.boto3suite/venv``, beside the checkout; reused): boto3 (``==VERSION``
   if given), pytest, pytest-xdist and this checkout of sessionpool (editable).
2. boto3's ``tests/`` for exactly the boto3 installed there, into ``.boto3suite/suite-VERSION``
   (kept). From ``--source`` (or ``SESSIONPOOL_BOTO3_SOURCE``): a git clone of
   github.com/boto/boto3 (its tag VERSION is exported), a directory or a ``.tar.gz`` of boto3's
   source whose ``boto3/__init__.py`` is that version. Without one, boto3's sdist from the
   package index (``pip download --no-binary :all: boto3==VERSION``), if it holds ``tests/``:
   1.43.78's and 1.44.8's do not (their MANIFEST.in ships ``boto3/`` and its data only), so a
   source is needed. Nothing is fetched from anywhere but the package index. When
   ``--boto3`` is not given, the version is the newest release tag of a git source, the
   version of a source directory or archive, or else the newest boto3 on the index.
3. pytest over ``unit`` and ``functional`` twice, from the suite's ``tests`` directory (as
   boto3's CI does, so that the installed boto3 is what is tested), with no AWS variables, no
   config or credentials files and the instance metadata service off; connections off loopback
   are refused in both runs (``sessionpool_boto3_suite.NetworkGuard``):

   * plain: boto3 as it is, sessionpool's own pytest plugin off;
   * pooled: ``sessionpool_boto3_suite`` makes ``boto3.Session``, ``boto3.session.Session`` and
     the default session hand out pooled sessions, and sessionpool's pytest plugin clears the
     pool around each test, as it does in users' suites.

   The plain run's results are kept and reused while the venv, the suite, the plugin and the
   pytest arguments are the same (they do not depend on sessionpool); ``--plain-again`` reruns
   it.
4. Compares the two junit reports and writes ``summary.md`` and ``summary.json`` into
   ``.boto3suite/results-VERSION``: counts for both runs, how many tests asked for a session,
   and every test that passed plainly but not pooled, with the reason for it from
   ``known_differences.py`` or, when it is not listed there, the failure's first line.

Exit status 0 when every test that passed plainly passed pooled, or failed pooled for a reason
listed in ``known_differences.py``; 1 when some loss is unexplained, a listed difference is gone
(then delete its entry; those marked order-dependent may come and go), or the pooled run tried
to leave the machine; 2 for a usage or set-up error. Extra arguments go to both pytest
runs (``-k session``, ``-x``); without ``-n``, ``-n auto`` is added.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import platform
import re
import runpy
import shutil
import subprocess
import sys
import tarfile
import tempfile
import venv
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
WORK = REPO / ".boto3suite"
PLUGIN = "sessionpool_boto3_suite"
DIRECTORIES = ("unit", "functional")
SOURCE_VARIABLE = "SESSIONPOOL_BOTO3_SOURCE"
# Outcomes, worst first: a test whose call failed and whose teardown erred counts as failed.
OUTCOMES = ("failed", "error", "skipped", "passed")

# Read from its file, so that this module imports the same run as a script or from the tests.
_KNOWN_FILE = runpy.run_path(str(HERE / "known_differences.py"))
KNOWN: dict[str, tuple[str, str]] = _KNOWN_FILE["KNOWN"]
ORDER_DEPENDENT: frozenset[str] = _KNOWN_FILE["ORDER_DEPENDENT"]
__all__ = ["Result", "compare", "main", "read_junit", "summarise"]


class SetupError(Exception):
    """The venv, the suite or the source could not be prepared; the message says why."""


def _run(*cmd: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> int:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.call([str(c) for c in cmd], cwd=cwd, env=env)


def _output(*cmd: str | Path, cwd: Path | None = None) -> str:
    return subprocess.run(
        [str(c) for c in cmd], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


def _python(env_dir: Path) -> Path:
    return env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


# -- 1. the venv -----------------------------------------------------------------------------


def prepare_venv(work: Path, version: str | None) -> Path:
    """The harness venv with boto3 (``==version``, or the newest), pytest, xdist and sessionpool.

    Installed again only when the requested version or pyproject.toml changed."""
    env_dir = work / "venv"
    python = _python(env_dir)
    if not python.exists():
        venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    wanted = f"boto3=={version}" if version else "boto3"
    project = hashlib.sha256((REPO / "pyproject.toml").read_bytes()).hexdigest()[:16]
    stamp = env_dir / ".installed"
    if stamp.exists() and stamp.read_text() == f"{wanted} {project}":
        return python
    pip = ("-m", "pip", "install", "--quiet", "--disable-pip-version-check")
    if _run(python, *pip, wanted, "pytest", "pytest-xdist", "-e", REPO) != 0:
        raise SetupError(f"installing {wanted}, pytest, pytest-xdist and sessionpool failed")
    stamp.write_text(f"{wanted} {project}")
    return python


def installed_versions(python: Path) -> dict[str, str]:
    """Versions of what the tests exercise, as installed in the harness venv."""
    names = ("boto3", "botocore", "s3transfer", "pytest", "pytest-xdist", "sessionpool")
    script = (
        "import json, sys; from importlib.metadata import version as v;"
        f" print(json.dumps({{n: v(n) for n in {names!r}}}))"
    )
    versions: dict[str, str] = json.loads(_output(python, "-c", script))
    versions["python"] = _output(python, "-c", "import platform; print(platform.python_version())")
    versions["python"] = versions["python"].strip()
    return versions


# -- 2. boto3's tests ------------------------------------------------------------------------


def _is_git(path: Path) -> bool:
    return path.is_dir() and (
        subprocess.run(
            ["git", "-C", str(path), "rev-parse", "--git-dir"], capture_output=True, check=False
        ).returncode
        == 0
    )


def _release_tags(repo: Path) -> list[str]:
    tags = _output("git", "-C", repo, "tag", "--list").split()
    return sorted((t for t in tags if re.fullmatch(r"\d+\.\d+\.\d+", t)), key=_version_key)


def _source_version_from_text(text: str) -> str:
    match = re.search(r"^__version__ = ['\"]([^'\"]+)['\"]", text, re.MULTILINE)
    if match is None:
        raise SetupError("boto3/__init__.py names no __version__")
    return match.group(1)


def source_version(source: Path) -> str:
    """The boto3 version a source holds: a git clone's newest release tag, else its
    ``boto3/__init__.py``."""
    if _is_git(source):
        tags = _release_tags(source)
        if not tags:
            raise SetupError(f"{source} is a git repository with no release tags (1.2.3)")
        return tags[-1]
    if source.is_dir():
        return _source_version_from_text((source / "boto3" / "__init__.py").read_text())
    with tarfile.open(source) as archive:
        for member in archive.getmembers():
            if member.name.split("/", 1)[-1] == "boto3/__init__.py":
                extracted = archive.extractfile(member)
                if extracted is not None:
                    return _source_version_from_text(extracted.read().decode())
    raise SetupError(f"{source} holds no boto3/__init__.py")


def _extract_tests(archive: tarfile.TarFile, into: Path) -> bool:
    """Extract ``<top>/tests/**`` and ``<top>/pyproject.toml`` into ``into``; True if tests."""
    found = False
    for member in archive.getmembers():
        top, _, rest = member.name.partition("/")
        if not (rest == "pyproject.toml" or rest.startswith("tests/")):
            continue
        if not (member.isfile() or member.isdir()) or ".." in Path(rest).parts:
            continue
        target = into / rest
        if member.isdir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        found = found or rest.startswith("tests/")
        target.parent.mkdir(parents=True, exist_ok=True)
        extracted = archive.extractfile(member)
        if extracted is not None:
            target.write_bytes(extracted.read())
    return found


def prepare_suite(work: Path, python: Path, version: str, source: Path | None) -> Path:
    """``work/suite-VERSION`` holding boto3's ``tests/`` (and its pyproject.toml) for version."""
    suite = work / f"suite-{version}"
    done = suite / ".complete"
    if done.exists():
        return suite
    shutil.rmtree(suite, ignore_errors=True)
    suite.mkdir(parents=True)
    if source is None:
        origin = _tests_from_sdist(python, version, suite)
    elif _is_git(source):
        if version not in _release_tags(source):
            newest = (_release_tags(source) or ["none"])[-1]
            raise SetupError(
                f"{source} has no tag {version} (its newest release tag is {newest}); "
                f"pass --boto3 {newest} to test that release, or a source that has {version}"
            )
        files = ["tests"]
        listed = _output("git", "-C", source, "ls-tree", "--name-only", version).split()
        files += [name for name in ("pyproject.toml",) if name in listed]
        tar = subprocess.run(
            ["git", "-C", str(source), "archive", "--prefix=boto3/", version, *files],
            check=True,
            capture_output=True,
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
            _extract_tests(archive, suite)
        origin = f"git {source} tag {version}"
    else:
        found = source_version(source)
        if found != version:
            raise SetupError(f"{source} holds boto3 {found}, not {version}")
        if source.is_dir():
            shutil.copytree(source / "tests", suite / "tests")
            if (source / "pyproject.toml").exists():
                shutil.copy(source / "pyproject.toml", suite / "pyproject.toml")
        else:
            with tarfile.open(source) as archive:
                _extract_tests(archive, suite)
        origin = str(source)
    if not (suite / "tests" / "unit").is_dir():
        raise SetupError(f"no tests/unit in {origin}")
    done.write_text(origin + "\n")
    return suite


def _tests_from_sdist(python: Path, version: str, suite: Path) -> str:
    with tempfile.TemporaryDirectory(prefix="boto3-sdist-") as tmp:
        download = ("-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:")
        if _run(python, *download, f"boto3=={version}", "-d", tmp) != 0:
            raise SetupError(f"pip could not download boto3 {version}'s sdist")
        (sdist,) = Path(tmp).glob("boto3-*.tar.gz")
        with tarfile.open(sdist) as archive:
            if not _extract_tests(archive, suite):
                raise SetupError(
                    f"boto3 {version}'s sdist on the package index holds no tests/ (its "
                    f"MANIFEST.in ships only boto3/ and its data): pass --source (or set "
                    f"{SOURCE_VARIABLE}) to a clone of https://github.com/boto/boto3, which "
                    f"has the tag {version}, or to its tag's .tar.gz"
                )
    return f"sdist boto3-{version}.tar.gz"


# -- 3. the two runs -------------------------------------------------------------------------


def run_pytest(python: Path, suite: Path, mode: str, junit: Path, args: list[str]) -> int:
    """pytest over boto3's unit and functional tests in ``mode`` (plain or pooled)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.pop("PYTEST_ADDOPTS", None)
    env.update(
        AWS_CONFIG_FILE=str(suite / "no-such-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(suite / "no-such-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        SESSIONPOOL_BOTO3_SUITE=mode,
        PYTHONPATH=os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH")])),
        PYTHONDONTWRITEBYTECODE="1",
    )
    # boto3's own pytest settings, and never sessionpool's (pytest would otherwise climb from
    # .boto3suite to the checkout's pyproject.toml: filterwarnings=error and its addopts).
    config = suite / "pyproject.toml"
    if not config.exists():
        config = suite / "pytest.ini"
        config.write_text("[pytest]\n")
    options = ["-c", str(config), "--rootdir", str(suite), "-p", PLUGIN, "-p", "no:cacheprovider"]
    if mode == "plain":
        options += ["-p", "no:sessionpool"]
    if not any(a == "-n" or a.startswith(("-n", "--numprocesses")) for a in args):
        options += ["-n", "auto"]
    junit.unlink(missing_ok=True)
    command = [python, "-m", "pytest", *options, f"--junitxml={junit}", "-q", *args, *DIRECTORIES]
    return _run(*command, cwd=suite / "tests", env=env)


# -- 4. the comparison -----------------------------------------------------------------------


@dataclass
class Result:
    """One test's outcome in one run."""

    outcome: str
    message: str = ""
    properties: dict[str, str] = field(default_factory=dict)


def read_junit(path: Path) -> dict[str, Result]:
    """Test id (``classname::name``) -> its outcome, first failure line and properties."""
    results: dict[str, Result] = {}
    for case in ElementTree.parse(path).getroot().iter("testcase"):
        test_id = f"{case.get('classname', '')}::{case.get('name', '')}"
        outcome, message = "passed", ""
        for kind in OUTCOMES[:3]:
            tag = "failure" if kind == "failed" else kind
            element = case.find(tag)
            if element is not None:
                outcome = kind
                text = element.get("message") or element.text or ""
                message = text.strip().splitlines()[0] if text.strip() else ""
                break
        properties = {
            p.get("name", ""): p.get("value", "") for p in case.iter("property") if p.get("name")
        }
        earlier = results.get(test_id)
        if earlier is None or OUTCOMES.index(outcome) < OUTCOMES.index(earlier.outcome):
            results[test_id] = Result(outcome, message, properties)
    return results


@dataclass
class Comparison:
    """What the two runs disagree on."""

    lost: dict[str, Result]  # passed plainly, not pooled
    gained: dict[str, Result]  # passed pooled, not plainly
    only_plain: list[str]
    only_pooled: list[str]
    gone: list[str]  # listed in KNOWN (not order-dependent), ran, and passed pooled
    unseen: list[str]  # order-dependent, ran, and passed pooled this time


def compare(plain: dict[str, Result], pooled: dict[str, Result]) -> Comparison:
    """Tests whose outcome differs between the plain and the pooled run.

    Parameters:
        plain: the plain run's results.
        pooled: the pooled run's results.
    """
    both = plain.keys() & pooled.keys()
    lost = {
        t: pooled[t]
        for t in sorted(both)
        if plain[t].outcome == "passed" and pooled[t].outcome != "passed"
    }
    gained = {
        t: plain[t]
        for t in sorted(both)
        if pooled[t].outcome == "passed" and plain[t].outcome != "passed"
    }
    passed = sorted(t for t in KNOWN if t in both and t not in lost)
    return Comparison(
        lost,
        gained,
        sorted(plain.keys() - pooled.keys()),
        sorted(pooled.keys() - plain.keys()),
        [t for t in passed if t not in ORDER_DEPENDENT],
        [t for t in passed if t in ORDER_DEPENDENT],
    )


def _counts(results: dict[str, Result]) -> dict[str, int]:
    counts = {"collected": len(results)}
    counts.update({kind: 0 for kind in OUTCOMES})
    for result in results.values():
        counts[result.outcome] += 1
    return counts


def summarise(
    plain: dict[str, Result], pooled: dict[str, Result], versions: dict[str, str], origin: str
) -> tuple[str, dict[str, object], bool]:
    """The summary (markdown), the same as data, and whether the check passed.

    Parameters:
        plain: the plain run's results.
        pooled: the pooled run's results.
        versions: what was installed (boto3, botocore, python...).
        origin: where boto3's tests came from.
    """
    diff = compare(plain, pooled)
    counts = {"plain": _counts(plain), "pooled": _counts(pooled)}
    asked = {t: int(r.properties.get("pooled_sessions", "0")) for t, r in pooled.items()}
    built = {t: int(r.properties.get("plain_sessions", "0")) for t, r in pooled.items()}
    refused = {
        name: sum(int(r.properties.get("refused_connections", "0")) for r in results.values())
        for name, results in (("plain", plain), ("pooled", pooled))
    }
    exercised = sum(1 for n in asked.values() if n)
    unexplained = [t for t in diff.lost if t not in KNOWN]
    ok = not unexplained and not diff.gone and not diff.only_plain and not refused["pooled"]
    lines = [
        f"# boto3 {versions['boto3']}'s unit and functional tests, plain and pooled",
        "",
        f"boto3 {versions['boto3']}, botocore {versions['botocore']}, s3transfer "
        f"{versions['s3transfer']}, sessionpool {versions['sessionpool']}, Python "
        f"{versions['python']}, pytest {versions['pytest']} ({platform.system()}); "
        f"tests from {origin}.",
        "",
        "| | plain | pooled |",
        "|---|---|---|",
        *(
            f"| {kind} | {counts['plain'][kind]} | {counts['pooled'][kind]} |"
            for kind in ("collected", *OUTCOMES)
        ),
        "",
        f"In the pooled run {exercised} tests asked `boto3.Session(...)` (or the default session)"
        f" for {sum(asked.values())} sessions, all handed out by the pool; "
        f"{sum(built.values())} sessions were built plainly (`botocore_session=`, subclasses).",
        f"Connections refused off loopback: {refused['plain']} plain, {refused['pooled']} pooled.",
        "",
        f"Passed plain, not pooled: {len(diff.lost)} ({len(diff.lost) - len(unexplained)} "
        f"explained in known_differences.py, {len(unexplained)} unexplained).",
        "",
    ]
    for test_id, result in diff.lost.items():
        known = KNOWN.get(test_id)
        why = f"{known[0]}: {known[1]}" if known else "UNEXPLAINED"
        lines.append(f"- `{test_id}` ({result.outcome}): {why}")
        lines.append(f"  - pooled: {result.message[:300]}")
    if diff.gained:
        lines += ["", f"Passed pooled, not plain: {len(diff.gained)}.", ""]
        lines += [f"- `{t}` (plain {r.outcome}): {r.message[:300]}" for t, r in diff.gained.items()]
    if diff.gone:
        lines += ["", "Listed in known_differences.py but passed pooled (delete them):", ""]
        lines += [f"- `{t}`" for t in diff.gone]
    if diff.unseen:
        lines += ["", "Listed as order-dependent and passed pooled in this run:", ""]
        lines += [f"- `{t}`" for t in diff.unseen]
    for name, missing in (("plain", diff.only_plain), ("pooled", diff.only_pooled)):
        if missing:
            lines += ["", f"Only in the {name} run: {len(missing)}", ""]
            lines += [f"- `{t}`" for t in missing[:50]]
    lines += ["", f"Result: {'passed' if ok else 'FAILED'}."]
    data: dict[str, object] = {
        "versions": versions,
        "origin": origin,
        "counts": counts,
        "tests_asking_for_sessions": exercised,
        "pooled_sessions": sum(asked.values()),
        "plain_sessions": sum(built.values()),
        "lost": {
            t: {
                "outcome": r.outcome,
                "message": r.message,
                "known": list(KNOWN[t]) if t in KNOWN else None,
            }
            for t, r in diff.lost.items()
        },
        "gained": {t: r.outcome for t, r in diff.gained.items()},
        "known_but_passed": diff.gone,
        "order_dependent_not_seen": diff.unseen,
        "refused_connections": refused,
        "only_plain": diff.only_plain,
        "only_pooled": diff.only_pooled,
        "passed": ok,
    }
    return "\n".join(lines) + "\n", data, ok


# -- the command -----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run the check; the module docstring says what it does.

    Parameters:
        argv: the command line arguments (default: ``sys.argv[1:]``).
    """
    parser = argparse.ArgumentParser(
        description="boto3's unit and functional tests, plain and with pooled sessions."
    )
    parser.add_argument("--boto3", metavar="VERSION", help="the boto3 release to test")
    parser.add_argument(
        "--source",
        type=Path,
        default=os.environ.get(SOURCE_VARIABLE) or None,
        help=f"boto3's source: a git clone, a directory or a .tar.gz (${SOURCE_VARIABLE})",
    )
    parser.add_argument("--work", type=Path, default=WORK, help=f"work directory ({WORK})")
    parser.add_argument("--plain-again", action="store_true", help="rerun the plain run")
    options, pytest_args = parser.parse_known_args(argv)
    source: Path | None = None if options.source is None else Path(options.source).resolve()
    try:
        version = options.boto3 or (source_version(source) if source else None)
        work: Path = options.work.resolve()
        work.mkdir(parents=True, exist_ok=True)
        python = prepare_venv(work, version)
        versions = installed_versions(python)
        if version is not None and versions["boto3"] != version:
            raise SetupError(f"asked for boto3 {version}, the venv has {versions['boto3']}")
        suite = prepare_suite(work, python, versions["boto3"], source)
    except (SetupError, OSError, subprocess.CalledProcessError, tarfile.TarError) as exc:
        print(f"boto3suite: {exc}", file=sys.stderr)
        return 2
    origin = (suite / ".complete").read_text().strip()
    results = work / f"results-{versions['boto3']}"
    results.mkdir(exist_ok=True)
    plugin = hashlib.sha256((HERE / f"{PLUGIN}.py").read_bytes()).hexdigest()[:16]
    plain_key = json.dumps(
        {k: v for k, v in versions.items() if k != "sessionpool"}
        | {"args": pytest_args, "plugin": plugin}
    )
    plain_junit, plain_stamp = results / "plain.xml", results / "plain.key"
    if (
        options.plain_again
        or not plain_junit.exists()
        or not plain_stamp.exists()
        or plain_stamp.read_text() != plain_key
    ):
        plain_stamp.unlink(missing_ok=True)
        code = run_pytest(python, suite, "plain", plain_junit, pytest_args)
        if code not in (0, 1) or not plain_junit.exists():
            print(f"boto3suite: the plain run failed to run (pytest exit {code})", file=sys.stderr)
            return 2
        plain_stamp.write_text(plain_key)
    else:
        print(f"boto3suite: reusing the plain run in {plain_junit} (--plain-again reruns it)")
    pooled_junit = results / "pooled.xml"
    code = run_pytest(python, suite, "pooled", pooled_junit, pytest_args)
    if code not in (0, 1) or not pooled_junit.exists():
        print(f"boto3suite: the pooled run failed to run (pytest exit {code})", file=sys.stderr)
        return 2
    text, data, ok = summarise(read_junit(plain_junit), read_junit(pooled_junit), versions, origin)
    (results / "summary.md").write_text(text)
    (results / "summary.json").write_text(json.dumps(data, indent=2) + "\n")
    print("\n" + text + f"\n(written to {results / 'summary.md'} and summary.json)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
