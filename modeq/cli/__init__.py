"""The ``modeq`` command line.

Each sub-command lives in its own module with a ``register(subparsers)``
function that adds its parser and sets ``func`` (a callable taking the parsed
arguments and returning the exit status).
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import threading
import warnings

from ..numerics.cache import CacheWarning
from .options import ArgumentParser
from .progress import end_line, line_open
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
    command = ["modeq"]
    main_thread = threading.current_thread() is threading.main_thread()  # only there can a handler be set
    previous = signal.signal(signal.SIGINT, lambda signum, frame: _interrupted(command[0])) if main_thread else None
    with warnings.catch_warnings():
        warnings.showwarning = _one_line(warnings.showwarning)
        try:
            args = build_parser().parse_args(argv)
            command[0] = f"modeq {args.command}"
            return int(args.func(args) or 0)
        except (ValueError, TypeError, ArithmeticError) as error:
            end_line()
            print(f"{command[0]}: error: {for_cli(str(error))}", file=sys.stderr)
            return 2
        finally:
            if main_thread:
                signal.signal(signal.SIGINT, previous)


def _interrupted(command: str) -> None:
    """Ctrl-C: one line and exit status 130, at once. A KeyboardInterrupt would
    not do: raised inside a destructor (numba's compiler runs many), Python
    prints it as "Exception ignored" and carries on."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # a write was under way when the signal came
            pass
    os.write(2, f"{chr(10) if line_open() else ''}{command}: interrupted\n".encode())
    os._exit(INTERRUPTED)


def _one_line(show):
    """``warnings.showwarning`` printing a :class:`CacheWarning` as one line (no source location),
    each warning on a line of its own (a progress bar's line is ended first)."""
    def showwarning(message, category, filename, lineno, file=None, line=None):
        end_line()  # a warning starts on its own line, not after a progress bar
        if issubclass(category, CacheWarning):
            print(f"modeq: warning: {message}", file=sys.stderr)
        else:
            show(message, category, filename, lineno, file, line)
    return showwarning


if __name__ == "__main__":
    sys.exit(main())
