"""``python -m sessionpool`` and the ``sessionpool`` console script: see ``sessionpool --help``."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from ._cli import run

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit status.

    Parameters:
        argv: the arguments after the program name, e.g. ``["inspect", "--profile", "prod"]``.
    """
    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
