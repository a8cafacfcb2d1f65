"""A plain progress bar on stderr for long derivations and verifications."""

from __future__ import annotations

import sys
import time
from typing import Sequence

__all__ = ["ProgressBar", "end_line", "line_open"]

_OPEN = {"line": False}  # a bar is drawn and its line not ended


def line_open() -> bool:
    """Whether a bar's line is drawn and not ended."""
    return _OPEN["line"]


def end_line() -> None:
    """End a bar's line (before an error or an interrupt message)."""
    if _OPEN["line"]:
        sys.stderr.write("\n")
        sys.stderr.flush()
        _OPEN["line"] = False


class ProgressBar:
    """``progress(done, total)`` callback drawing ``label [####....] unit done/total``.

    Shown once the work has taken ``delay`` seconds. ``weights[i]`` is the
    expected share of unit ``i`` of the work (e.g. the cost model's seconds per
    order, which grow geometrically), so the bar fills as time passes rather
    than as units are counted."""

    def __init__(self, label: str, unit: str = "", weights: Sequence[float] | None = None, width: int = 30,
                 delay: float = 1.0) -> None:
        self.label, self.unit, self.width, self.delay = label, unit, width, delay
        self.weights = list(weights) if weights else None
        self.start, self.shown = time.monotonic(), False

    def fraction(self, done: int, total: int) -> float:
        if self.weights and len(self.weights) == total and sum(self.weights) > 0:
            return sum(self.weights[:done]) / sum(self.weights)
        return done / max(total, 1)

    def __call__(self, done: int, total: int) -> None:
        if not self.shown and time.monotonic() - self.start < self.delay and done < total:
            return
        if not self.shown and done >= total:
            return  # finished before the delay: nothing to show
        self.shown = True
        filled = round(self.width * self.fraction(done, total))
        unit = f" {self.unit}" if self.unit else ""
        _OPEN["line"] = True  # before writing: Ctrl-C may arrive during the write
        sys.stderr.write(f"\r{self.label} [{'#' * filled}{'.' * (self.width - filled)}]{unit} {done}/{total}")
        if done >= total:
            end_line()
        sys.stderr.flush()
