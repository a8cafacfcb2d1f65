"""The ``modeq`` command line.

Each sub-command lives in its own module with a ``register(subparsers)``
function that adds its parser and sets ``func`` (a callable taking the parsed
arguments and returning the exit status).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings

from ..numerics.cache import CacheWarning
from .options import ArgumentParser

#: Modules of :mod:`modeq.cli` that define sub-commands, in help order.
COMMANDS = ("list_", "derive", "separable", "verify", "cache")


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="modeq",
        description="Modified equations (backward error analysis) of optimization algorithms.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in COMMANDS:
        importlib.import_module(f"{__name__}.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; errors in the user's input become one clear line."""
    args = build_parser().parse_args(argv)
    with warnings.catch_warnings():
        warnings.showwarning = _one_line(warnings.showwarning)
        try:
            return int(args.func(args) or 0)
        except (ValueError, TypeError, ArithmeticError) as error:
            print(f"modeq {args.command}: error: {error}", file=sys.stderr)
            return 2


def _one_line(show):
    """``warnings.showwarning`` printing a :class:`CacheWarning` as one line (no source location)."""
    def showwarning(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, CacheWarning):
            print(f"modeq: warning: {message}", file=sys.stderr)
        else:
            show(message, category, filename, lineno, file, line)
    return showwarning


if __name__ == "__main__":
    sys.exit(main())
