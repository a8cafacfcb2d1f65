"""Errors raised by the library name API arguments (``regime='exact'``); on the
command line the same advice must name the flags (``--regime exact``).

:func:`for_cli` rewrites the API phrases that can reach a command-line user;
each entry is a message the library raises somewhere, so the table is tested
against those messages (``tests/numerics/test_cli_wording.py``)."""

from __future__ import annotations

import re

__all__ = ["for_cli"]

_PHRASES: tuple[tuple[str, str], ...] = (
    (r"max_seconds=None \(no limit\) or a larger max_seconds", "--force"),
    (r"regime='(\w+)'", r"--regime \1"),
    (r"method='(\w+)'", r"--method \1"),
    (r"modeq\.derive_steps\(optimizer, steps=N\)", "modeq derive --steps N"),
    (r"modeq\.derive_epoch\(optimizer, batches, schedule='shuffled'\)",
     "modeq derive OPTIMIZER --epoch --batches M --schedule shuffled"),
    (r"\(e\.g\. T=([\d.]+), hs=([\d.,]+)\)", r"(e.g. --T \1 --hs \2)"),
    (r"values=\{[^}]*\}", "--set NAME=VALUE"),
    (r"derive with order=(\d+)", r"use --order \1"),
    (r"the blocks' shapes in params", "the blocks' shapes in --params"),
)


def for_cli(message: str) -> str:
    """``message`` with API arguments replaced by the command-line flags."""
    for pattern, replacement in _PHRASES:
        message = re.sub(pattern, replacement, message)
    return message
