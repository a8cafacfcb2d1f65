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
from .progress import end_line
from .wording import for_cli

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


#: Exit status after Ctrl-C (128 + SIGINT), as shells report it.
INTERRUPTED = 130


def main(argv: list[str] | None = None) -> int:
    """Run the command line; errors in the user's input become one clear line
    (worded with the command line's flags), and Ctrl-C stops any stage — a
    derivation, a numba compilation, a run — with one line and status 130."""
    command = "modeq"
    with warnings.catch_warnings():
        warnings.showwarning = _one_line(warnings.showwarning)
        try:
            args = build_parser().parse_args(argv)
            command = f"modeq {args.command}"
            return int(args.func(args) or 0)
        except (ValueError, TypeError, ArithmeticError) as error:
            end_line()
            print(f"{command}: error: {for_cli(str(error))}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            end_line()
            print(f"{command}: interrupted", file=sys.stderr)
            return INTERRUPTED


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
