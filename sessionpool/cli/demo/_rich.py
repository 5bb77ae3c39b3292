"""The demo's output with rich: one progress bar per worker process, and tables.

:func:`make_ui` picks rich when stdout is a terminal at least ``WIDTH`` (80) columns
wide (``--rich`` or ``--plain`` decide instead when given) and rich is installed; otherwise
:class:`~._report.PlainUI`. rich is imported there, when the demo runs, never when this module
is imported.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from typing import Any

from .._output import DEMO_EXTRA, WIDTH
from ._plan import Target
from ._report import PlainUI, Progress, clock, tables, verdict, wrap

__all__ = ["RichUI", "make_ui", "wants_plain"]


class RichUI(PlainUI):
    """rich's progress bar (one bar per process) and tables."""

    def __init__(self, rich: Any) -> None:
        super().__init__()
        self.rich = rich
        self.console = rich["console"].Console()
        self.progress: Any = None
        self.tasks: list[Any] = []

    def note(self, text: str) -> None:
        self.console.print(text, highlight=False, markup=False)

    def start(self, states: list[Progress], args: argparse.Namespace) -> None:
        p = self.rich["progress"]
        self.by_ops = args.ops is not None
        self.total = float(args.threads * args.ops) if self.by_ops else float(args.duration)
        self.started = time.monotonic()
        # The timer is ours, not rich's TimeElapsedColumn: that one stops when a bar is full,
        # and a bar is full while its process is still measuring set-ups after the run.
        self.progress = p.Progress(
            p.TextColumn("[bold]{task.description}"),
            p.BarColumn(bar_width=20),
            p.TextColumn("{task.fields[phase]:<13}"),
            p.TextColumn("{task.fields[ops]:>9} ops"),
            p.TextColumn("{task.fields[errors]} errors"),
            p.TextColumn("{task.fields[elapsed]}"),
            console=self.console,
        )
        self.tasks = [
            self.progress.add_task(
                f"process #{s.index + 1}",
                total=self.total,
                phase=s.phase,
                ops="0",
                errors=0,
                elapsed=clock(0),
            )
            for s in states
        ]
        self.progress.start()

    def update(self, states: list[Progress]) -> None:
        now = time.monotonic()
        for task, s in zip(self.tasks, states, strict=True):
            if self.by_ops:
                done = float(s.rounds)
            elif s.running_since is None:
                done = 0.0
            else:
                done = min(self.total, now - s.running_since)
            if s.phase not in ("starting", "cold set-up", "running"):
                done = self.total  # the run is over: measuring, done or failed
            self.progress.update(
                task,
                completed=done,
                phase=s.phase,
                ops=f"{s.ops:,}",
                errors=s.errors,
                elapsed=clock((s.finished_at or now) - self.started),
            )

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None

    def report(self, states: list[Progress], args: argparse.Namespace, target: Target) -> int:
        Table = self.rich["table"].Table
        sections, errors, notes = tables(states, args)
        for section in sections:
            # The title above the table, not rich's own: that one wraps at the table's width.
            self.console.print()
            self.console.print(section.title, style="bold", highlight=False, markup=False)
            table = Table()
            for i, h in enumerate(section.headers):
                table.add_column(h, justify="left" if i < section.left else "right", no_wrap=True)
            for r in section.rows:
                table.add_row(*r)
            self.console.print(table)
            for paragraph in section.legend:
                for line in wrap(paragraph):
                    self.console.print(line, style="dim", highlight=False, markup=False)
        for n in notes:
            self.console.print(f"  ! {n}", style="yellow", highlight=False, markup=False)
        self.console.print()
        self.console.print(verdict(errors), style="bold green" if errors == 0 else "bold red")
        return errors


def wants_plain(choice: str | None, is_terminal: bool, columns: int) -> bool:
    """Whether the demo prints plain text rather than rich's bars and tables.

    Parameters:
        choice: ``"plain"`` or ``"rich"`` when ``--plain`` or ``--rich`` was given, else None.
        is_terminal: whether stdout is a terminal (piped or redirected output is not).
        columns: the terminal's width (``COLUMNS`` when set).
    """
    if choice is not None:
        return choice == "plain"
    return not is_terminal or columns < WIDTH


def make_ui(choice: str | None) -> PlainUI:
    """The demo's output: rich's, unless :func:`wants_plain` says plain or rich is missing.

    Parameters:
        choice: ``"plain"`` or ``"rich"`` when ``--plain`` or ``--rich`` was given, else None.
    """
    try:
        is_terminal = sys.stdout.isatty()
    except (AttributeError, ValueError):  # replaced or closed stdout
        is_terminal = False
    if wants_plain(choice, is_terminal, shutil.get_terminal_size((WIDTH, 24)).columns):
        return PlainUI()
    try:
        import rich.console
        import rich.progress
        import rich.table
    except ImportError:
        print(f"(plain output: {DEMO_EXTRA} for a progress bar and tables)", file=sys.stderr)
        return PlainUI()
    return RichUI({"console": rich.console, "progress": rich.progress, "table": rich.table})
