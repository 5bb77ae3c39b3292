"""What the demo shows: per-worker progress as the parent knows it, and the tables at the end.

:class:`Progress` is what the parent knows about one worker, from its messages. :func:`tables`
turns the finished workers into the work table and the set-up table (sessionpool beside the
boto3 pattern), the total error count, and notes (failures, sample errors). :class:`PlainUI`
prints them as plain text, with a progress line now and then; ``_rich`` draws them with rich.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from typing import Any

from ._plan import SERVICES, Target

__all__ = ["PlainUI", "Progress", "tables", "verdict"]

_Table = tuple[str, list[str], list[list[str]]]  # title, headers, rows


@dataclass
class Progress:
    """What the parent knows about one worker."""

    index: int
    phase: str = "starting"
    rounds: int = 0
    ops: int = 0
    errors: int = 0
    running_since: float | None = None
    result: dict[str, Any] | None = None
    failure: str | None = None
    dead_since: float | None = None


def tables(states: list[Progress], args: argparse.Namespace) -> tuple[list[_Table], int, list[str]]:
    """The work and set-up tables, the total error count, and notes (failures, samples)."""
    work, setup, errors, notes = _rows(states)
    return (
        [("Work per process", WORK_HEADERS, work), (_setup_title(args), SETUP_HEADERS, setup)],
        errors,
        notes,
    )


def verdict(errors: int) -> str:
    return "OK: no errors." if errors == 0 else f"FAILED: {errors} error(s)."


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
    return "n/a" if value is None else f"{value / 2**20:+.0f} MiB"


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
            work.append([label, "-", "-", "failed", "-", "-", "-", "-", "-"])
            notes.append(f"process {label}: {s.failure}")
            continue
        label = f"#{s.index + 1} (pid {r['pid']})"
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
                _seconds(r["run_seconds"]),
                _seconds(r["wall"]),
            ]
        )
        b = r["baseline"]
        ours = r["setup"]
        if b is None:
            setup.append([label, _seconds(ours["seconds"]), _mib(ours["rss"]), "skipped", "-", "-"])
        else:
            ratio = b["seconds"] / ours["seconds"] if ours["seconds"] > 0 else 0.0
            setup.append(
                [
                    label,
                    _seconds(ours["seconds"]),
                    _mib(ours["rss"]),
                    _seconds(b["seconds"]),
                    _mib(b["rss"]),
                    f"{ratio:.1f}x",
                ]
            )
            for e in b["errors"]:
                notes.append(f"process {label}, boto3 pattern: {e}")
        for sample in r["samples"]:
            notes.append(f"process {label}: {sample}")
    return work, setup, errors, notes


WORK_HEADERS = [
    "process",
    "operations",
    "ops/s",
    "errors",
    "sessions",
    "clients",
    "credential resolutions",
    "run time",
    "wall time",
]
SETUP_HEADERS = [
    "process",
    "sessionpool time",
    "sessionpool RSS",
    "boto3 time",
    "boto3 RSS",
    "boto3 / sessionpool",
]


def _setup_title(args: argparse.Namespace) -> str:
    return (
        f"Set-up of {args.threads} threads x {len(SERVICES)} clients "
        f"(sessionpool: cold, at the start; boto3.session.Session() per thread: after the run)"
    )


class PlainUI:
    """Plain text output: a progress line now and then, and aligned tables."""

    def __init__(self) -> None:
        self._last = 0.0
        self._total: float = 0.0

    def note(self, text: str) -> None:
        print(text, flush=True)

    def start(self, states: list[Progress], args: argparse.Namespace) -> None:
        self._started = time.monotonic()

    def update(self, states: list[Progress]) -> None:
        now = time.monotonic()
        if now - self._last < 2.0:
            return
        self._last = now
        parts = [f"#{s.index + 1} {s.phase} {s.ops:,} ops {s.errors} errors" for s in states]
        print(f"[{now - self._started:5.1f}s] " + " | ".join(parts), flush=True)

    def stop(self) -> None:
        pass

    def report(self, states: list[Progress], args: argparse.Namespace, target: Target) -> int:
        sections, errors, notes = tables(states, args)
        for title, headers, rows in sections:
            print()
            _plain_table(title, headers, rows)
        for n in notes:
            print(f"  ! {n}")
        print()
        print(verdict(errors), flush=True)
        return errors


def _plain_table(title: str, headers: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    print(title)
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )
