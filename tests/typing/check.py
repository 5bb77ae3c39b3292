"""Check that what the pool hands out is typed as boto3's own calls are, under mypy and pyright.

    python tests/typing/check.py [--family auto|boto3-stubs|types-boto3|none]
                                 [--pyright auto|require|skip]

Runs in the current environment (this interpreter's site-packages), from the checkout, and
builds nothing: it runs ``python -m mypy`` and, if installed, pyright on
``tests/typing/examples.py`` as a user's code is checked (``--follow-imports=silent``: errors
inside sessionpool or the stubs are not the user's), and reads every ``reveal_type`` there.
Each reveals a pair, (sessionpool's call, boto3's own call); the check fails unless

* every pair was revealed, by each checker;
* with stubs installed (boto3-stubs or types-boto3, the "family"): the two halves are the same
  type, and it is the service's class (mypy names its module: ``mypy_boto3_s3...`` or
  ``types_boto3_s3...``), not ``Any``; on lines marked ``# expect: Any`` both are ``Any``;
* with no stubs: sessionpool's half is ``Any`` (pyright: ``Unknown``);
* there is no error, except, with no stubs, what plain boto3 gets without them: mypy's
  ``import-untyped`` for boto3 and botocore, and errors inside boto3's half of a pair.

``--family`` says which family must be installed (the default, ``auto``, takes what is); both at
once is refused, since they install the same ``boto3-stubs/`` directory. Exit status 0 when
every check passed, 1 otherwise, 2 when the environment is not what was asked for.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import importlib.metadata
import importlib.util
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
EXAMPLES = HERE / "examples.py"
# The services examples.py expects stubs for, and each family's service package prefix.
SERVICES = ("s3", "sqs", "dynamodb", "ec2", "lambda")
FAMILIES = {"boto3-stubs": "mypy_boto3_", "types-boto3": "types_boto3_"}
ANY = {"Any", "Unknown"}


@dataclass
class Pair:
    """One ``reveal_type((ours, boto3's))`` call in examples.py."""

    first: int  # lines, 1-based, of the whole call
    last: int
    boto3_half: tuple[tuple[int, int], tuple[int, int]]  # (line, col) start and end, col 0-based
    expect_any: bool


@dataclass
class Result:
    checker: str
    revealed: dict[int, str] = field(default_factory=dict)  # pair's first line -> type text
    errors: list[tuple[int, int, str]] = field(default_factory=list)  # line, col (0-based), text


def pairs() -> list[Pair]:
    """Every reveal_type call in examples.py, from its syntax tree and comments."""
    source = EXAMPLES.read_text()
    lines = source.splitlines()
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "reveal_type"
        ):
            continue
        pair = node.args[0]
        assert isinstance(pair, ast.Tuple) and len(pair.elts) == 2, ast.unparse(node)
        theirs = pair.elts[1]
        assert theirs.end_lineno is not None and theirs.end_col_offset is not None
        last = node.end_lineno or node.lineno
        found.append(
            Pair(
                first=node.lineno,
                last=last,
                boto3_half=(
                    (theirs.lineno, theirs.col_offset),
                    (theirs.end_lineno, theirs.end_col_offset),
                ),
                expect_any=any("# expect: Any" in line for line in lines[node.lineno - 1 : last]),
            )
        )
    return sorted(found, key=lambda p: p.first)


def installed(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def detect_family(wanted: str) -> str:
    """The stub family installed here ("none" for neither); exit 2 if it is not ``wanted``."""
    present = [name for name in FAMILIES if installed(name)]
    if len(present) > 1:
        sys.exit(
            "both boto3-stubs and types-boto3 are installed: they write the same boto3-stubs/"
            " directory (the last installed wins, uninstalling either deletes it); keep one"
        )
    family = present[0] if present else "none"
    if wanted != "auto" and wanted != family:
        print(f"asked to check {wanted}, but this environment has {family}", file=sys.stderr)
        sys.exit(2)
    if family != "none":
        prefix = FAMILIES[family].replace("_", "-")
        missing = [s for s in SERVICES if not installed(f"{prefix}{s}")]
        if missing:
            print(
                f"{family} is installed without {', '.join(missing)}: "
                f"pip install '{family}[{','.join(SERVICES)}]'",
                file=sys.stderr,
            )
            sys.exit(2)
    return family


def run_mypy() -> Result:
    # A cache per environment, kept in the checkout's (ignored) .mypy_cache.
    tag = hashlib.sha256(sys.prefix.encode()).hexdigest()[:12]
    cmd = [
        sys.executable,
        "-m",
        "mypy",
        "--config-file",
        str(ROOT / "pyproject.toml"),
        "--strict",
        "--follow-imports=silent",
        "--show-column-numbers",
        "--no-pretty",
        "--no-color-output",
        "--cache-dir",
        str(ROOT / ".mypy_cache" / f"typing-check-{tag}"),
        str(EXAMPLES.relative_to(ROOT)),
    ]
    print("+", " ".join(cmd[1:]), flush=True)
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    result = Result("mypy")
    line_re = re.compile(
        r"^(?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<kind>\w+): (?P<msg>.*)$"
    )
    for raw in out.stdout.splitlines():
        m = line_re.match(raw)
        if not m or Path(m["file"]).name != EXAMPLES.name:
            continue
        line, col = int(m["line"]), int(m["col"]) - 1
        revealed = re.fullmatch(r'Revealed type is "(.*)"', m["msg"])
        if m["kind"] == "note" and revealed:
            result.revealed[line] = revealed[1]
        elif m["kind"] == "error":
            result.errors.append((line, col, m["msg"]))
    if out.returncode not in (0, 1) or "error:" in out.stderr:
        result.errors.append((0, 0, f"mypy exited {out.returncode}: {out.stderr.strip()}"))
    return result


def pyright_command() -> list[str] | None:
    if importlib.util.find_spec("pyright") is not None:  # the PyPI wrapper
        return [sys.executable, "-m", "pyright"]
    found = shutil.which("pyright")
    return [found] if found else None


def run_pyright(command: list[str]) -> Result:
    cmd = [*command, "--outputjson", "--pythonpath", sys.executable, str(EXAMPLES)]
    print("+", " ".join(cmd), flush=True)
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    result = Result("pyright")
    try:
        report = json.loads(out.stdout[out.stdout.index("{") :])
    except ValueError:
        result.errors.append((0, 0, f"pyright printed no report: {out.stdout}{out.stderr}"))
        return result
    for diag in report.get("generalDiagnostics", []):
        start = diag["range"]["start"]
        line, col = start["line"] + 1, start["character"]
        revealed = re.fullmatch(r'Type of ".*" is "(.*)"', diag["message"], re.DOTALL)
        if diag["severity"] == "information" and revealed:
            result.revealed[line] = revealed[1]
        elif diag["severity"] == "error":
            result.errors.append((line, col, f"{diag['message']} ({diag.get('rule', '')})"))
    return result


def halves(text: str) -> tuple[str, str] | None:
    """``tuple[A, B]`` -> (A, B), splitting at the comma outside brackets."""
    if not (text.startswith("tuple[") and text.endswith("]")):
        return None
    inner, depth = text[len("tuple[") : -1], 0
    for i, ch in enumerate(inner):
        depth += ch == "["
        depth -= ch == "]"
        if ch == "," and depth == 0:
            return inner[:i].strip(), inner[i + 1 :].strip()
    return None


def judge(result: Result, family: str, expected: list[Pair]) -> list[str]:
    """What is wrong with one checker's result (nothing: an empty list)."""
    problems = []
    by_line = {}
    for pair in expected:
        for line in range(pair.first, pair.last + 1):
            if line in result.revealed:
                by_line[pair.first] = result.revealed[line]
                break
    for pair in expected:
        where = f"{result.checker}: examples.py:{pair.first}"
        text = by_line.get(pair.first)
        split = halves(text) if text is not None else None
        if split is None:
            problems.append(f"{where}: no pair revealed (got {text!r})")
            continue
        ours, theirs = split
        if family == "none":
            if ours not in ANY and "Unknown" not in ours:
                problems.append(f"{where}: without stubs sessionpool's half is {ours}, not Any")
            continue
        if ours != theirs:
            problems.append(f"{where}: sessionpool gives {ours}, boto3 gives {theirs}")
        elif pair.expect_any and ours not in ANY:
            problems.append(f"{where}: expected Any (no stubs for that service), got {ours}")
        elif not pair.expect_any and ours in ANY:
            problems.append(f"{where}: {ours}, not the service's class")
        elif (
            not pair.expect_any
            and result.checker == "mypy"
            and not ours.startswith(FAMILIES[family])
        ):
            problems.append(f"{where}: {ours} is not from {family} ({FAMILIES[family]}*)")
    for line, col, message in result.errors:
        if family == "none" and allowed_without_stubs(line, col, message, expected):
            continue
        problems.append(f"{result.checker}: examples.py:{line}:{col + 1}: error: {message}")
    return problems


def allowed_without_stubs(line: int, col: int, message: str, expected: list[Pair]) -> bool:
    """An error plain boto3 code gets too when no stubs are installed."""
    if "[import-untyped]" in message and re.search(r'"(boto3|botocore)[."]', message):
        return True
    for pair in expected:
        (l0, c0), (l1, c1) = pair.boto3_half
        if (l0, c0) <= (line, col) < (l1, c1):
            return True
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--family", default="auto", choices=["auto", "none", *FAMILIES])
    parser.add_argument("--pyright", default="auto", choices=["auto", "require", "skip"])
    args = parser.parse_args()
    family = detect_family(args.family)
    versions = ", ".join(
        f"{dist} {installed(dist)}"
        for dist in ("boto3", "mypy", "pyright", *FAMILIES)
        if installed(dist)
    )
    print(f"typing check: stubs: {family}; {versions}", flush=True)
    expected = pairs()
    results = [run_mypy()]
    command = pyright_command()
    if args.pyright == "skip":
        print("pyright: skipped (--pyright skip)", flush=True)
    elif command is not None:
        results.append(run_pyright(command))
    elif args.pyright == "require":
        print("pyright is required (--pyright require) but not installed", file=sys.stderr)
        return 2
    else:
        print("pyright: not installed, skipped", flush=True)
    problems = [p for result in results for p in judge(result, family, expected)]
    for problem in problems:
        print(problem)
    checked = " and ".join(r.checker for r in results)
    if problems:
        print(f"typing check FAILED: {len(problems)} problems ({checked}, stubs: {family})")
        return 1
    print(f"typing check passed: {len(expected)} pairs under {checked} (stubs: {family})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
