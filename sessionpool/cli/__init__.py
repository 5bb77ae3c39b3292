"""The command line: ``sessionpool demo`` and ``sessionpool inspect``, parsed with argparse.

The library never imports this package. Importing it imports only the standard library and
sessionpool; the demo's optional dependencies (moto, rich) are imported when it runs, so
``sessionpool inspect`` and ``--help`` work on a bare ``pip install sessionpool``.

Modules: ``_parser`` (the argument parser), ``_output`` (printing helpers), ``_inspect`` (the
``inspect`` command) and ``demo`` (the ``demo`` command, a subpackage). Arrows point one way:
this module -> ``_parser`` -> ``_output``; the commands import ``_output`` and the library.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from ._parser import build_parser

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default: ``sys.argv[1:]``) and run the command; return the exit status.

    Parameters:
        argv: the arguments after the program name, e.g. ``["inspect", "--profile", "prod"]``.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors: report, do not exit
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    try:
        return _dispatch(parser, args)
    except BrokenPipeError:
        # The reader went away ("sessionpool inspect | head -1"): stop quietly, and point
        # stdout at devnull so that the interpreter's own flush at exit does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


def _dispatch(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.command == "demo":
        from . import demo

        return demo.run(args)
    if args.command == "inspect":
        from . import _inspect

        return _inspect.run(args)
    parser.print_help(sys.stderr)
    return 2
