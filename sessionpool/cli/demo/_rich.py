"""The demo's output with rich: one progress bar per worker process, and tables.

:func:`make_ui` picks it unless ``--plain`` was given or rich is missing, in which case it falls
back to :class:`~._report.PlainUI`. rich is imported there, when the demo runs, never when
this module is imported.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from .._output import DEMO_EXTRA
from ._plan import Target
from ._report import PlainUI, Progress, tables, verdict

__all__ = ["RichUI", "make_ui"]


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
        self.progress = p.Progress(
            p.TextColumn("[bold]{task.description}"),
            p.BarColumn(),
            p.TextColumn("{task.fields[phase]:<13}"),
            p.TextColumn("{task.fields[ops]:>9} ops"),
            p.TextColumn("{task.fields[errors]} errors"),
            p.TimeElapsedColumn(),
            console=self.console,
        )
        self.tasks = [
            self.progress.add_task(
                f"process #{s.index + 1}", total=self.total, phase=s.phase, ops="0", errors=0
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
            if s.phase == "done" or s.phase.startswith("boto3"):
                done = self.total
            self.progress.update(
                task, completed=done, phase=s.phase, ops=f"{s.ops:,}", errors=s.errors
            )

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None

    def report(self, states: list[Progress], args: argparse.Namespace, target: Target) -> int:
        Table = self.rich["table"].Table
        sections, errors, notes = tables(states, args)
        for title, headers, rows in sections:
            table = Table(title=title, title_justify="left")
            for i, h in enumerate(headers):
                table.add_column(h, justify="left" if i == 0 else "right")
            for r in rows:
                table.add_row(*r)
            self.console.print(table)
        for n in notes:
            self.console.print(f"  ! {n}", style="yellow", highlight=False, markup=False)
        self.console.print(verdict(errors), style="bold green" if errors == 0 else "bold red")
        return errors


def make_ui(plain: bool) -> PlainUI:
    if plain:
        return PlainUI()
    try:
        import rich.console
        import rich.progress
        import rich.table
    except ImportError:
        print(f"(plain output: {DEMO_EXTRA} for a progress bar and tables)", file=sys.stderr)
        return PlainUI()
    return RichUI({"console": rich.console, "progress": rich.progress, "table": rich.table})
