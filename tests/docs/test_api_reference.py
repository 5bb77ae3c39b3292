"""The API reference lists every public name: each name of ``sessionpool.__all__`` has its
autodoc directive in ``docs/api.md`` (or, for ``__version__``, its data entry)."""

from __future__ import annotations

import re
from pathlib import Path

import sessionpool

API = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def documented() -> set[str]:
    text = API.read_text()
    names = re.findall(r"^\.\. auto(?:class|function|exception|data):: (\w+)", text, flags=re.M)
    names += re.findall(r"^\.\. py:data:: (\w+)", text, flags=re.M)
    return set(names)


def test_every_public_name_is_in_the_api_reference() -> None:
    assert set(sessionpool.__all__) - documented() == set()


def test_the_api_reference_documents_only_public_names() -> None:
    assert documented() - set(sessionpool.__all__) == set()
