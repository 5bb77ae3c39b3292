"""Sphinx configuration for the sessionpool docs site (built by ``python3 tasks.py docs``).

Pages are Markdown (MyST); the API reference is generated from the package's docstrings
(autodoc, with napoleon reading their ``Parameters:`` blocks). The build runs with ``-W
--keep-going``: every warning fails it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from docutils import nodes

import sessionpool

if TYPE_CHECKING:
    from sphinx.application import Sphinx

project = "sessionpool"
author = "sessionpool contributors"
copyright = "sessionpool contributors"
release = sessionpool.__version__
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]

# MyST: ``{include}`` of CHANGELOG.md and CONTRIBUTING.md, anchors for headings (README-style
# links such as ``concepts.md#credentials``), and ``:::`` fences for notes.
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# The API reference: the public names of ``sessionpool.__all__`` (docs/api.md lists them; a test
# checks that every public name is there).
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
napoleon_google_docstring = True
napoleon_numpy_docstring = False

html_theme = "furo"
html_title = f"sessionpool {release}"
html_static_path = ["_static"]
html_css_files = ["sessionpool.css"]

# A table whose cells average more characters than this is prose (the guarantees, the
# contributing commands): on a phone, its rows become stacked cards (_static/sessionpool.css).
PROSE_CELL_CHARS = 120


def _escape_combined_star_args(
    app: Sphinx, what: str, name: str, obj: Any, options: Any, lines: list[str]
) -> None:
    """Escape ``*args, **kwargs:`` entries before napoleon reads them.

    napoleon escapes a lone ``*args`` or ``**kwargs`` parameter name, but not the second name of
    a combined entry (``*args, **kwargs: ...``, valid Google style), which docutils then reads as
    an unclosed ``**strong**`` start (a warning, so a failed build). Escaped here, napoleon
    splits the entry into two parameters as it means to.
    """
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        if stripped.startswith("*args, **kwargs:"):
            indent = line[: len(line) - len(stripped)]
            lines[i] = indent + r"\*args, \*\*kwargs:" + stripped[len("*args, **kwargs:") :]


def _mark_prose_tables(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Mark the tables of prose ``prose-table`` and lead each of their body cells with its
    column's name (shown only where the stylesheet stacks the cells, on a phone)."""
    for table in doctree.findall(nodes.table):
        cells = list(table.findall(nodes.entry))
        if not cells or sum(len(c.astext()) for c in cells) / len(cells) <= PROSE_CELL_CHARS:
            continue
        table["classes"].append("prose-table")
        head = next(table.findall(nodes.thead), None)
        if head is None:
            continue
        names = [entry.astext() for entry in head.findall(nodes.entry)]
        for body in table.findall(nodes.tbody):
            for row in body.findall(nodes.row):
                for name, entry in zip(names, row.findall(nodes.entry), strict=False):
                    first = next(entry.findall(nodes.paragraph), None)
                    if first is not None:
                        first.insert(0, nodes.inline("", f"{name}: ", classes=["cell-label"]))


def setup(app: Sphinx) -> dict[str, Any]:
    # Before napoleon (priority 500), which turns Google-style sections into fields.
    app.connect("autodoc-process-docstring", _escape_combined_star_args, priority=400)
    app.connect("doctree-resolved", _mark_prose_tables)
    return {"parallel_read_safe": True}
