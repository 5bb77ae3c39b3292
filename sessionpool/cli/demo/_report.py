"""What the demo shows: per-worker progress as the parent knows it, and the tables at the end.

:class:`Progress` is what the parent knows about one worker, from its messages. :func:`tables`
turns the finished workers into the work table and the set-up table (sessionpool cold and warm
beside the boto3 pattern), each with the legend that says what its figures are, the total error
count, and notes (failures, sample errors). :class:`PlainUI` prints them as plain text, with a
progress line now and then; ``_rich`` draws them with rich.

Everything printed is laid out to fit ``WIDTH`` (80) columns: short headers (two lines where a
word is long), no column whose values grow without bound, and legends wrapped to fit.
"""

from __future__ import annotations

import argparse
import textwrap
import time
from dataclasses import dataclass, field
from typing import Any

from .._output import WIDTH
from ._plan import SERVICES, Target

__all__ = ["PlainUI", "Progress", "Table", "clock", "plain_table", "tables", "verdict", "wrap"]


@dataclass
class Progress:
    """What the parent knows about one worker."""

    index: int
    phase: str = "starting"
    rounds: int = 0
    ops: int = 0
    errors: int = 0
    running_since: float | None = None
    finished_at: float | None = None  # when it delivered its result or was found failed
    result: dict[str, Any] | None = None
    failure: str | None = None
    dead_since: float | None = None


@dataclass
class Table:
    """A titled table: headers (``\\n`` splits one over two lines), rows, and a legend."""

    title: str
    headers: list[str]
    rows: list[list[str]]
    left: int = 1  # how many leading columns are text (left-aligned); the rest are figures
    legend: list[str] = field(default_factory=list)


def tables(states: list[Progress], args: argparse.Namespace) -> tuple[list[Table], int, list[str]]:
    """The work and set-up tables, the total error count, and notes (failures, samples)."""
    work, setup, errors, notes = _rows(states)
    if args.ops is not None:
        how_long = f"{args.ops} round(s) per thread"
    else:
        how_long = f"{args.duration:g} s of rounds per thread"
    return (
        [
            Table(f"Work per process: {how_long}", WORK_HEADERS, work, legend=WORK_LEGEND),
            Table(
                f"Set-up: {args.threads} new threads, each taking an "
                f"{', '.join(SERVICES[:-1])} and {SERVICES[-1]} client",
                SETUP_HEADERS,
                setup,
                left=2,
                legend=SETUP_LEGEND,
            ),
        ],
        errors,
        notes,
    )


def verdict(errors: int) -> str:
    return "OK: no errors." if errors == 0 else f"FAILED: {errors} error(s)."


def clock(seconds: float) -> str:
    """``seconds`` as ``M:SS`` (``H:MM:SS`` from an hour), for the progress timer."""
    s = int(seconds)
    if s >= 3600:
        return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"
    return f"{s // 60}:{s % 60:02d}"


def _seconds(value: float | None) -> str:
    if value is None:
        return "n/a"
    return (
        f"{value * 1000:.0f} ms"
        if value < 1
        else f"{value:.2f} s"
        if value < 10
        else f"{value:.1f} s"
    )


def _mib(value: int | None) -> str:
    return "n/a" if value is None else f"{value / 2**20:+,.0f} MiB"


def _times(boto3: float | int | None, ours: float | int | None) -> str:
    """How many times the boto3 pattern's figure is this one's."""
    if boto3 is None or ours is None or ours <= 0:
        return "-"
    return f"{boto3 / ours:,.1f}x"


def _rows(states: list[Progress]) -> tuple[list[list[str]], list[list[str]], int, list[str]]:
    """The work table, the set-up table, the total error count, and notes (failures, samples)."""
    work: list[list[str]] = []
    setup: list[list[str]] = []
    errors = 0
    notes: list[str] = []
    for s in states:
        label = f"#{s.index + 1}"
        r = s.result
        if r is None:
            errors += 1
            work.append([label, "failed", "-", "-", "-", "-", "-"])
            notes.append(f"process {label}: {s.failure}")
            continue
        st = r["stats"]
        errors += r["errors"]
        rate = r["ops"] / r["run_seconds"] if r["run_seconds"] > 0 else 0.0
        work.append(
            [
                label,
                f"{r['ops']:,}",
                f"{rate:,.0f}",
                f"{r['errors']:,}",
                str(st["sessions_created"]),
                str(st["clients_created"]),
                str(st["credential_resolutions"]),
            ]
        )
        b = r["baseline"] or {}
        for name, ours in (("sessionpool, cold", r["cold"]), ("sessionpool, warm", r["warm"])):
            setup.append(
                [
                    label,
                    name,
                    _seconds(ours["seconds"]),
                    _times(b.get("seconds"), ours["seconds"]),
                    _mib(ours["rss"]),
                    _times(b.get("rss"), ours["rss"]),
                ]
            )
        if r["baseline"] is None:
            setup.append([label, "boto3 pattern", "skipped", "-", "-", "-"])
        else:
            setup.append([label, "boto3 pattern", _seconds(b["seconds"]), "", _mib(b["rss"]), ""])
        for e in r["warm"]["errors"]:
            notes.append(f"process {label}, warm set-up: {e}")
        for e in b.get("errors", []):
            notes.append(f"process {label}, boto3 pattern: {e}")
        for sample in r["samples"]:
            notes.append(f"process {label}: {sample}")
    return work, setup, errors, notes


WORK_HEADERS = [
    "#",
    "operations",
    "ops/s",
    "errors",
    "sessions",
    "clients",
    "credential\nresolutions",
]
WORK_LEGEND = [
    "operations: S3, SQS and DynamoDB calls, every answer checked. sessions, clients, "
    "credential resolutions: the pool's own counts (pool.stats()), made in that process.",
]
SETUP_HEADERS = ["#", "set-up", "time", "x less", "RSS\ngrowth", "x less"]
SETUP_LEGEND = [
    "cold: at the start of each worker process, before any other work; the pool also "
    "parses each service model and resolves the credentials here, once per process.",
    "warm: after the run, new threads beside the run's (still alive): what a long-running "
    "process pays for a new thread. The README's and docs' startup figures are warm ones "
    "(docs/performance.md, figure (b); its (b') is cold).",
    "boto3 pattern: after the run, a boto3.session.Session() and three clients per "
    "thread; each Session parses the models again, so warm or cold costs it about the same.",
    "x less: the boto3 pattern's figure divided by the row's. Times vary more than in the "
    "benchmark, which measures one process at a time: here the processes measure at once, "
    "beside the moto server and each other's work.",
]


def wrap(text: str, width: int = WIDTH) -> list[str]:
    """A legend paragraph as lines of at most ``width`` columns, continued lines indented."""
    return textwrap.wrap(text, width, subsequent_indent="  ", break_on_hyphens=False)


def plain_table(table: Table) -> list[str]:
    """``table`` as lines of aligned plain text (no line longer than its content needs)."""
    header_lines = [h.split("\n") for h in table.headers]
    depth = max(len(lines) for lines in header_lines)
    header_lines = [[""] * (depth - len(lines)) + lines for lines in header_lines]
    widths = [
        max(*(len(line) for line in lines), *(len(r[i]) for r in table.rows))
        for i, lines in enumerate(header_lines)
    ]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.ljust(w) if i < table.left else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    out = [table.title]
    out += [line([lines[d] for lines in header_lines]) for d in range(depth)]
    out.append("  ".join("-" * w for w in widths))
    out += [line(r) for r in table.rows]
    return out


class PlainUI:
    """Plain text output: a progress line now and then, and aligned tables."""

    def __init__(self) -> None:
        self._last = 0.0
        self._started = time.monotonic()

    def note(self, text: str) -> None:
        print(text, flush=True)

    def start(self, states: list[Progress], args: argparse.Namespace) -> None:
        self._started = time.monotonic()

    def update(self, states: list[Progress]) -> None:
        now = time.monotonic()
        if now - self._last < 2.0:
            return
        self._last = now
        stamp = f"[{clock(now - self._started)}]"
        parts = [f"#{s.index + 1} {s.phase}, {s.ops:,} ops, {s.errors} errors" for s in states]
        # As many processes per line as fit; the next lines are indented under the first.
        groups: list[list[str]] = [[]]
        used = len(stamp)
        for part in parts:
            if groups[-1] and used + 3 + len(part) > WIDTH:
                groups.append([])
                used = len(stamp)
            used += (3 if groups[-1] else 1) + len(part)
            groups[-1].append(part)
        for i, group in enumerate(groups):
            print((stamp if i == 0 else " " * len(stamp)) + " " + " | ".join(group), flush=True)

    def stop(self) -> None:
        pass

    def report(self, states: list[Progress], args: argparse.Namespace, target: Target) -> int:
        sections, errors, notes = tables(states, args)
        for table in sections:
            print()
            print("\n".join(plain_table(table)))
            for paragraph in table.legend:
                print("\n".join(wrap(paragraph)))
        for n in notes:
            print(f"  ! {n}")
        print()
        print(verdict(errors), flush=True)
        return errors
