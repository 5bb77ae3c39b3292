"""The README's recipes are the files the integration suite runs: each block marked
``<!-- recipe: docs/recipes/NAME.py -->`` must appear verbatim in that file, and every recipe file
must have a block in the README."""

from __future__ import annotations

import re

import pytest

from tests.integration import _support

README = _support.REPO / "README.md"
BLOCK = re.compile(r"<!-- recipe: (\S+) -->\n+```python\n(.*?)```", re.S)
BLOCKS = BLOCK.findall(README.read_text(encoding="utf-8"))


def test_every_recipe_file_has_a_readme_block() -> None:
    files = sorted(p.relative_to(_support.REPO).as_posix() for p in _support.RECIPES.glob("*.py"))
    assert sorted({path for path, _ in BLOCKS}) == files


@pytest.mark.parametrize(
    ("path", "code"), BLOCKS, ids=[f"{p}#{i}" for i, (p, _) in enumerate(BLOCKS)]
)
def test_readme_block_is_verbatim_in_its_recipe_file(path: str, code: str) -> None:
    assert code.strip(), f"empty README block for {path}"
    assert code in (_support.REPO / path).read_text(encoding="utf-8"), (
        f"the README's block for {path} is not in that file as written: update one or the other"
    )
