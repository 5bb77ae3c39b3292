"""SVG charts of a benchmark run, drawn from the JSON that ``run.py --json`` writes.

    python benchmarks/run.py --json results.json          # measure (about 10 minutes)
    python benchmarks/charts.py results.json              # draw into docs/images/
    python benchmarks/charts.py results.json --out DIR    # draw elsewhere

Three charts, each drawn only from figures present in the JSON (a ``--figures`` subset draws
what it can and says what it skipped):

* ``thread-scaling.svg``: figure (b), startup wall time and RSS growth against the number of
  threads, one line per approach, both axes logarithmic;
* ``memory.svg``: what a new thread costs in memory per approach (figure (a)) and the RSS
  growth of 32 threads (figure (b)), logarithmic;
* ``pieces.svg``: figure (f), a new thread's three clients with each shared piece switched off
  in turn, time and memory.

Every number comes from the JSON; nothing is typed in. The SVGs are deterministic for the same
input (fixed ids, no timestamp), so a rebuild from the same run changes nothing in git.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

MiB = 1024 * 1024
HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE.parent / "docs" / "images"
COLOURS = {
    "sessionpool": "#1b7837",
    "documented": "#b2182b",
    "threading.local": "#ef8a62",
    "boto-session-manager": "#67a9cf",
    "boto3-refresh-session": "#8073ac",
}
SVG_METADATA = {"Date": None, "Creator": None}


def _style() -> None:
    plt.rcParams.update(
        {
            "svg.hashsalt": "sessionpool-benchmarks",  # stable ids: rebuilds diff cleanly
            "svg.fonttype": "none",  # text stays text (smaller, selectable, the page's font)
            "font.size": 10,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "figure.dpi": 100,
        }
    )


def _caption(data: dict[str, Any]) -> str:
    machine = next((h for h in data.get("header", []) if h.startswith("machine:")), "")
    return f"benchmarks/run.py, {data.get('run', '?')} run {data.get('date', '?')}; {machine}"


def _save(fig: Any, path: Path) -> None:
    fig.savefig(path, format="svg", metadata=SVG_METADATA, bbox_inches="tight")
    plt.close(fig)
    print(f"wrote {path}")


def thread_scaling(data: dict[str, Any], path: Path) -> bool:
    startup = data.get("b") or {}
    if not startup:
        return False
    counts = sorted(int(n) for n in startup)
    fig, (wall, rss) = plt.subplots(1, 2, figsize=(9, 4.2), layout="constrained")
    approaches = list(data.get("approaches", COLOURS))
    for name in approaches:
        points = [(n, startup[str(n)].get(name)) for n in counts]
        points = [(n, r) for n, r in points if r]
        if not points:
            continue
        xs = [n for n, _ in points]
        style = {
            "color": COLOURS.get(name),
            "marker": "o",
            "linewidth": 2.4 if name == "sessionpool" else 1.4,
            "label": name,
        }
        wall.plot(xs, [r["wall_s"] for _, r in points], **style)
        rss.plot(xs, [max(r["rss_b"], 1) / MiB for _, r in points], **style)
    for ax, title, unit in (
        (wall, "Startup wall time", "seconds"),
        (rss, "RSS growth, every thread alive", "MiB"),
    ):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(counts, [str(n) for n in counts])
        ax.set_xlabel("threads, each making s3 + dynamodb + sqs clients")
        ax.set_ylabel(unit)
        ax.set_title(title)
    wall.legend(loc="upper left", fontsize=7.5, frameon=False)  # lines rise to the right
    fig.suptitle("Thread scaling: N Barrier-started threads in a warm process (figure b)")
    fig.supxlabel(_caption(data), fontsize=7, color="#555555")
    _save(fig, path)
    return True


def memory(data: dict[str, Any], path: Path) -> bool:
    cold = data.get("a") or {}
    startup32 = (data.get("b") or {}).get("32") or {}
    if not cold and not startup32:
        return False
    panels = [p for p in ((cold, "total_b", "A new thread (figure a)"),) if p[0]]
    if startup32:
        panels.append((startup32, "rss_b", "32 threads' startup (figure b)"))
    fig, axes = plt.subplots(
        len(panels), 1, figsize=(8, 2.3 * len(panels) + 0.8), squeeze=False, layout="constrained"
    )
    for ax, (results, field, title) in zip(axes[:, 0], panels, strict=True):
        names = [n for n in data.get("approaches", COLOURS) if results.get(n)]
        values = [max(results[n][field], 1) / MiB for n in names]
        bars = ax.barh(names, values, color=[COLOURS.get(n, "#999999") for n in names])
        ax.bar_label(
            bars, [f"{v:.2f} MiB" if v < 10 else f"{v:.0f} MiB" for v in values], padding=3
        )
        ax.set_xscale("log")
        ax.set_xlim(min(values) / 2, max(values) * 6)  # room for the labels
        ax.invert_yaxis()
        ax.set_title(title, loc="left")
        ax.grid(axis="y", visible=False)
    axes[-1, 0].set_xlabel("RSS growth, MiB (log scale)")
    fig.suptitle("Memory: what the threads' sessions and clients cost")
    fig.supxlabel(_caption(data), fontsize=7, color="#555555")
    _save(fig, path)
    return True


def pieces(data: dict[str, Any], path: Path) -> bool:
    rows = {k: v for k, v in (data.get("f") or {}).items() if v}
    if "sessionpool" not in rows:
        return False
    names = list(rows)
    labels = [
        "everything on"
        if n == "sessionpool"
        else "none (documented)"
        if n == "documented"
        # "sessionpool -shared_loader" -> "shared_loader off"
        else f"{n.split(' -', 1)[1]} off"
        for n in names
    ]
    fig, (time_ax, mem_ax) = plt.subplots(
        1, 2, figsize=(9.5, 0.36 * len(names) + 1.6), layout="constrained"
    )
    colours = [
        COLOURS["sessionpool"]
        if n == "sessionpool"
        else COLOURS["documented"]
        if n == "documented"
        else "#9e9ac8"
        for n in names
    ]
    for ax, field, scale, unit, fmt in (
        (time_ax, "total_s", 1e3, "ms (log scale)", "{:.1f}"),
        (mem_ax, "total_b", 1 / MiB, "MiB (log scale)", "{:.2f}"),
    ):
        values = [rows[n][field] * scale for n in names]
        bars = ax.barh(labels, values, color=colours)
        ax.bar_label(bars, [fmt.format(v) for v in values], padding=3, fontsize=8)
        ax.set_xscale("log")
        ax.set_xlim(min(values) / 2, max(values) * 4)  # room for the labels
        ax.invert_yaxis()
        ax.set_xlabel(unit)
        ax.grid(axis="y", visible=False)
    mem_ax.set_yticklabels([])
    time_ax.set_title("time")
    mem_ax.set_title("memory")
    fig.suptitle(
        "What each shared piece saves: a new thread's three clients with one piece off (figure f)"
    )
    fig.supxlabel(_caption(data), fontsize=7, color="#555555")
    _save(fig, path)
    return True


CHARTS = {"thread-scaling.svg": thread_scaling, "memory.svg": memory, "pieces.svg": pieces}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", help="the JSON file written by run.py --json")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="directory for the SVG files")
    args = parser.parse_args(argv)
    data = json.loads(Path(args.results).read_text())
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    _style()
    skipped = [name for name, draw in CHARTS.items() if not draw(data, out / name)]
    for name in skipped:
        print(f"skipped {name}: its figures are not in {args.results}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
