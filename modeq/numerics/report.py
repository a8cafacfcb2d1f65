r"""The result of :func:`modeq.verify`: errors against :math:`h`, slopes, verdicts.

For each truncation order :math:`N` the error :math:`e(h)` should fall like
:math:`h^{p}` with :math:`p = N+1` (global error) or :math:`N+2` (local
defect). The slope is fitted by least squares on :math:`\log e` against
:math:`\log h` over the smallest (at most four) *usable* step sizes, and its spread is the range of the
slopes between consecutive usable step sizes. A point is not usable when the
run diverged there, when the error is at the rounding level (floored), or when
the error is as large as the trajectory itself (the step size is outside the
range where an expansion in :math:`h` means anything); the status of an order
says which, instead of fitting nonsense.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

__all__ = ["OrderResult", "VerificationReport", "assess", "MIN_POINTS"]

#: Usable step sizes needed for a slope.
MIN_POINTS = 3
#: The slope is fitted on at most this many of the smallest usable step sizes
#: (the asymptotic end; the largest h is often pre-asymptotic).
FIT_POINTS = 4

CONFIRMED, EXCEEDS, FAILED = "confirmed", "exceeds", "FAILED"
DIVERGED, ROUNDING, OUT_OF_RANGE, NO_DECREASE = "DIVERGED", "ROUNDING", "OUT OF RANGE", "NO DECREASE"


@dataclass(frozen=True)
class OrderResult:
    """One truncation order: errors per step size, slopes and the verdict."""

    order: int
    expected: int
    errors: tuple[float, ...]
    usable: tuple[bool, ...]
    slopes: tuple[float, ...]
    fitted: float | None
    status: str
    note: str = ""

    @property
    def passed(self) -> bool:
        return self.status in (CONFIRMED, EXCEEDS)

    @property
    def spread(self) -> tuple[float, float] | None:
        finite = [s for s in self.slopes if np.isfinite(s)]
        return (min(finite), max(finite)) if finite else None


def assess(order: int, expected: int, hs: Sequence[float], errors: Sequence[float], floors: Sequence[float],
           scales: Sequence[float], tolerance: float) -> OrderResult:
    """Classify the points, fit the slope and decide (see the module docs)."""
    errors = np.asarray(errors, dtype=float)
    diverged = ~np.isfinite(errors)
    rounding = ~diverged & (errors <= np.asarray(floors))
    too_large = ~diverged & (errors > 0.1 * np.asarray(scales))
    usable = ~(diverged | rounding | too_large)
    log_h, log_e = np.log(np.asarray(hs, dtype=float)), np.log(np.where(usable, errors, 1.0))
    index = np.flatnonzero(usable)
    slopes = tuple(float((log_e[b] - log_e[a]) / (log_h[b] - log_h[a])) for a, b in zip(index[:-1], index[1:])
                   if b == a + 1)
    hs_text = lambda mask: ", ".join(f"{h:.3g}" for h, m in zip(hs, mask) if m)  # noqa: E731
    if index.size < MIN_POINTS:
        if diverged.any():
            status, note = DIVERGED, f"non-finite or exploding values at h = {hs_text(diverged)}"
        elif rounding.any():
            status, note = ROUNDING, (f"errors at the rounding level at h = {hs_text(rounding)}; "
                                      "use larger step sizes or a longer time T")
        else:
            status, note = OUT_OF_RANGE, (f"errors as large as the trajectory at h = {hs_text(too_large)}; "
                                          "the step sizes are too large for an expansion in h")
        return OrderResult(order, expected, tuple(errors), tuple(usable), slopes, None, status, note)
    asymptotic = index[-FIT_POINTS:]
    fitted = float(np.polyfit(log_h[asymptotic], log_e[asymptotic], 1)[0])
    skipped = []
    for mask, why in ((diverged, "diverged"), (rounding, "at rounding level"), (too_large, "too large")):
        if mask.any():
            skipped.append(f"h = {hs_text(mask)} {why}")
    note = "not fitted: " + "; ".join(skipped) if skipped else ""
    if fitted < 0.5:
        status = NO_DECREASE
        note = "; ".join(filter(None, ["the errors do not decrease with h", note]))
    elif fitted < expected - tolerance:
        status = FAILED
    elif fitted > expected + tolerance:
        status = EXCEEDS
        note = "; ".join(filter(None, [f"higher than h^{expected}: the next term vanishes here", note]))
    else:
        status = CONFIRMED
    return OrderResult(order, expected, tuple(errors), tuple(usable), slopes, fitted, status, note)


METHODS = {
    "global": "global error on the grid nh <= T, optimizer started at theta0",
    "history": ("global error on the grid nh <= T, optimizer started from a history-consistent state "
                "(past iterates sampled backwards on the modified flow and replayed)"),
    "defect": ("local defect of one step from a history-consistent state "
               "(past iterates sampled backwards on the modified flow), against the flow over h"),
}


@dataclass(frozen=True)
class VerificationReport:
    """Errors of the truncated modified flows against the optimizer's iterates."""

    optimizer: str
    regime: str
    method: str
    values: dict
    theta0: tuple[float, ...]
    T: float
    hs: tuple[float, ...]
    orders: tuple[OrderResult, ...]
    tolerance: float
    integration_error: float
    notes: tuple[str, ...] = field(default=())

    @property
    def passed(self) -> bool:
        """Every order confirmed."""
        return all(r.passed for r in self.orders)

    def table(self) -> str:
        """The text table: errors per step size, slopes, expected slopes, status."""
        values = ", ".join(f"{k}={v:g}" for k, v in self.values.items())
        head = [f"verify {self.optimizer} ({self.regime} regime{', ' + values if values else ''}), "
                f"theta0 = {list(self.theta0)}, T = {self.T:g}",
                f"method: {self.method} - {METHODS[self.method]}",
                f"integration error (sub-step refinement): at most {self.integration_error:.1e} of the measured errors"]
        width = 12
        cols = [f"order {r.order}".rjust(width) for r in self.orders]
        lines = ["h".ljust(10) + "".join(cols)]
        for i, h in enumerate(self.hs):
            cells = []
            for r in self.orders:
                e = r.errors[i]
                text = "diverged" if not np.isfinite(e) else f"{e:.3e}" + ("" if r.usable[i] else "*")
                cells.append(text.rjust(width))
            lines.append(f"{h:<10.4g}" + "".join(cells))
        fmt = lambda x: "-" if x is None else f"{x:.2f}"  # noqa: E731
        lines.append("slope".ljust(10) + "".join(fmt(r.fitted).rjust(width) for r in self.orders))
        lines.append("spread".ljust(10) + "".join(
            ("-" if r.spread is None else f"{r.spread[0]:.2f}..{r.spread[1]:.2f}").rjust(width) for r in self.orders))
        lines.append("expected".ljust(10) + "".join(str(r.expected).rjust(width) for r in self.orders))
        lines.append("status".ljust(10) + "".join(r.status.rjust(width) for r in self.orders))
        tail = [f"order {r.order}: {r.note}" for r in self.orders if r.note]
        if any(not all(r.usable) for r in self.orders):
            tail.append("* not used in the fit")
        verdict = "all orders confirmed" if self.passed else "NOT CONFIRMED: " + ", ".join(
            f"order {r.order} ({r.status})" for r in self.orders if not r.passed)
        return "\n".join(head + lines + tail + list(self.notes) + [verdict])

    __str__ = table

    def plot(self, path=None):
        """Log-log errors against h with reference slopes; saved to ``path`` if given.
        Returns the Matplotlib figure."""
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 4.5))
        hs = np.asarray(self.hs)
        for r in self.orders:
            errors = np.asarray(r.errors)
            line, = ax.loglog(hs, errors, "o-", label=f"order {r.order}: slope {'-' if r.fitted is None else f'{r.fitted:.2f}'}"
                              f" (expected {r.expected})")
            finite = np.flatnonzero(np.isfinite(errors) & (errors > 0))
            if finite.size:
                anchor = finite[-1]
                ax.loglog(hs, errors[anchor] * (hs / hs[anchor]) ** r.expected, ":", color=line.get_color(), lw=1)
        ax.set_xlabel("step size h")
        ax.set_ylabel("local defect" if self.method == "defect" else "max global error on nh <= T")
        ax.set_title(f"{self.optimizer}, {self.regime} regime ({self.method})")
        ax.legend(fontsize=8)
        fig.tight_layout()
        if path is not None:
            fig.savefig(path, dpi=120)
        return fig
