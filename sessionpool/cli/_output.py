"""What every command prints through: the program name, the width it lays text out for,
one-line failures, masked values."""

from __future__ import annotations

import sys

__all__ = ["DEMO_EXTRA", "PROG", "WIDTH", "fail", "mask"]

PROG = "sessionpool"
DEMO_EXTRA = "pip install 'sessionpool[demo]'"
WIDTH = 80  # columns the help texts and the demo's tables and progress lines are laid out for


def mask(value: str | None) -> str:
    """``value`` with every character but the last 4 replaced by ``*`` (None -> ``-``)."""
    if not value:
        return "-"
    if len(value) <= 4:
        return "*" * len(value)
    return "*" * (len(value) - 4) + value[-4:]


def fail(message: str, code: int) -> int:
    """Print ``sessionpool: message`` on stderr and return ``code``."""
    print(f"{PROG}: {message}", file=sys.stderr)
    return code
