"""The README's recipes are the files the integration suite runs: each block marked
``<!-- recipe: docs/recipes/NAME.py -->`` must appear verbatim in that file, and every recipe file
must have a block in the README, except the web framework recipes (``PAGE_ONLY_RECIPES``), which
their docs pages show whole."""

from __future__ import annotations

import re

import pytest

from tests.integration import _support

README = _support.REPO / "README.md"
BLOCK = re.compile(r"<!-- recipe: (\S+) -->\n+```python\n(.*?)```", re.S)
BLOCKS = BLOCK.findall(README.read_text(encoding="utf-8"))


def test_every_recipe_file_has_a_readme_block() -> None:
    files = sorted(p.relative_to(_support.REPO).as_posix() for p in _support.RECIPES.glob("*.py"))
    shown = [path for path in files if path not in _support.PAGE_ONLY_RECIPES]
    assert sorted({path for path, _ in BLOCKS}) == shown


@pytest.mark.parametrize("path", sorted(_support.PAGE_ONLY_RECIPES))
def test_a_page_only_recipe_is_shown_whole_on_a_recipe_page(path: str) -> None:
    name = path.rpartition("/")[2]
    pages = [
        page.name
        for page in _support.RECIPES.glob("*.md")
        if f"```{{literalinclude}} {name}\n" in page.read_text(encoding="utf-8")
    ]
    assert (_support.REPO / path).is_file(), f"{path} is listed but does not exist"
    assert pages, f"no page in docs/recipes shows {name} with literalinclude"


@pytest.mark.parametrize(
    ("path", "code"), BLOCKS, ids=[f"{p}#{i}" for i, (p, _) in enumerate(BLOCKS)]
)
def test_readme_block_is_verbatim_in_its_recipe_file(path: str, code: str) -> None:
    assert code.strip(), f"empty README block for {path}"
    assert code in (_support.REPO / path).read_text(encoding="utf-8"), (
        f"the README's block for {path} is not in that file as written: update one or the other"
    )
