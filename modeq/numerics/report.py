r"""The result of :func:`modeq.verify`: errors against :math:`h`, slopes, verdicts.

For each truncation order :math:`N` the error :math:`e(h)` should fall like
:math:`h^{p}` with :math:`p = N+1` (global error) or :math:`N+2` (local
defect). A verdict must not pass wrongly, so every measured point is first
classified, and only *usable* points enter the fit. A point is not usable when

* the optimizer's iterates diverged (non-finite, or :math:`10^6` times the
  start), or the history-consistent start could not be built (the flow run
  backwards diverged) — ``diverged``;
* the truncated modified flow is non-finite, or its distance to the iterates
  exceeds the trajectory's own size :math:`\max_n\|\theta_n\|_\infty` — the
  field *blows up* (e.g. Adam near a minimum with a tiny :math:`\varepsilon`:
  the terms carry :math:`1/|\nabla E|^k`, and no step size is small enough);
* the error is above 10% of the trajectory's size — *too large*: the step
  sizes are outside the range where an expansion in :math:`h` means anything;
* the error is at the rounding level — *rounding*;
* the integrator's own error (the change when its sub-steps are doubled) is
  above 10% of the measured error — *integration*: the number would measure
  the integrator, not the modified equation.

The slope is fitted by least squares on :math:`\log e` against :math:`\log h`
over the smallest (at most four) usable step sizes; its spread is the range
of the slopes between consecutive usable step sizes. An order is confirmed
only when at least three points are usable, none of the step sizes *smaller*
than the finest usable one diverged, blew up or was too large (errors must not
grow as :math:`h` shrinks), the fitted slope is within the tolerance of the
expected one, and the slope on the finest pair of usable points is not below
it (a slope that sinks at the small end is a lower order taking over).
Otherwise the status names the reason, and the note says where and what to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

__all__ = ["OrderResult", "VerificationReport", "assess", "refine", "MIN_POINTS", "STATUSES"]

#: Usable step sizes needed for a slope.
MIN_POINTS = 3
#: The slope is fitted on at most this many of the smallest usable step sizes
#: (the asymptotic end; the largest h is often pre-asymptotic).
FIT_POINTS = 4
#: An error above this fraction of the trajectory's size is out of range.
LARGE = 0.1
#: The integration error may be at most this fraction of a fitted error.
INTEGRATION = 0.1

CONFIRMED, EXCEEDS = "confirmed", "exceeds"
LOW_ORDER, NO_DECREASE, SLOPE_DRIFTS = "LOW ORDER", "NO DECREASE", "SLOPE DRIFTS"
DIVERGED, BLOWS_UP, OUT_OF_RANGE = "DIVERGED", "FIELD BLOWS UP", "OUT OF RANGE"
ROUNDING, INTEGRATION_ERROR = "ROUNDING", "INTEGRATION"
#: Every status; the first two pass.
STATUSES = (CONFIRMED, EXCEEDS, LOW_ORDER, NO_DECREASE, SLOPE_DRIFTS, DIVERGED, BLOWS_UP, OUT_OF_RANGE, ROUNDING,
            INTEGRATION_ERROR)

#: Why a point is not usable, its status when too few points are left, and the advice; most serious first.
_REASONS = {
    "blows up": (BLOWS_UP, "the truncated modified flow leaves the trajectory (non-finite, or farther from the "
                           "iterates than their own size): the expansion in h does not hold here; use much smaller "
                           "step sizes, a lower order, or a start away from where the field is singular"),
    "diverged": (DIVERGED, "the optimizer's iterates (or the modified flow run backwards to fill its history) "
                           "are non-finite or exploding; use smaller step sizes"),
    "too large": (OUT_OF_RANGE, "the errors exceed 10% of the trajectory's size; the step sizes are too large "
                                "for an expansion in h"),
    "integration": (INTEGRATION_ERROR, "the integrator's error exceeds 10% of the measured errors; use a shorter "
                                       "time T or larger step sizes"),
    "rounding": (ROUNDING, "errors at the rounding level; use larger step sizes or a longer time T"),
}
#: Reasons that must not appear at step sizes smaller than the fitted ones.
_GROWING = ("blows up", "diverged", "too large")


@dataclass(frozen=True)
class OrderResult:
    """One truncation order: errors per step size, why each point is (not)
    used (``reasons``, empty when used), slopes and the verdict."""

    order: int
    expected: int
    errors: tuple[float, ...]
    usable: tuple[bool, ...]
    slopes: tuple[float, ...]
    fitted: float | None
    status: str
    note: str = ""
    reasons: tuple[str, ...] = ()
    finest: float | None = None

    @property
    def passed(self) -> bool:
        return self.status in (CONFIRMED, EXCEEDS)

    @property
    def spread(self) -> tuple[float, float] | None:
        finite = [s for s in self.slopes if np.isfinite(s)]
        return (min(finite), max(finite)) if finite else None


def classify(errors: Sequence[float], floors: Sequence[float], scales: Sequence[float],
             integration: Sequence[float], diverged: Sequence[bool]) -> tuple[str, ...]:
    """The reason each point is not usable ("" when it is), see the module docs.
    ``errors`` are ``inf`` where the modified flow is non-finite; ``scales`` are
    the trajectory's sizes; ``integration`` the integrator's error relative to
    the measured one."""
    reasons = []
    for e, floor, scale, ratio, bad in zip(errors, floors, scales, integration, diverged):
        if bad or np.isnan(e):
            reasons.append("diverged")
        elif not np.isfinite(e) or e > scale:
            reasons.append("blows up")
        elif e > LARGE * scale:
            reasons.append("too large")
        elif e <= floor:
            reasons.append("rounding")
        elif not ratio <= INTEGRATION:
            reasons.append("integration")
        else:
            reasons.append("")
    return tuple(reasons)


def refine(finer: Callable[[int], Any], curve: Any, error: float, floor: float,
           distance: Callable[[Any, Any], float], measure: Callable[[Any], float],
           refinements: int) -> tuple[float, float]:
    r"""Refine a modified flow's integration until it moves by less than 1% of
    the measured error (at most ``refinements`` times), as the *integration*
    check above needs.

    ``curve`` is the flow as first integrated and ``error`` its distance to the
    iterates; ``finer(r)`` integrates again with the step divided by
    :math:`2^r`; ``distance(a, b)`` compares two flows and ``measure(c)`` is a
    flow's distance to the iterates (``inf`` when it is not finite). An error
    at or below ``floor``, or not finite, is not refined. Returns the last
    error and the last change relative to the error (0 when nothing was
    refined)."""
    if not floor < error < np.inf:
        return error, 0.0
    ratio = np.inf
    for r in range(1, refinements + 1):
        flow = finer(r)
        ratio = distance(flow, curve) / error
        curve, error = flow, measure(flow)
        if ratio < 1e-2 or not np.isfinite(error):
            break
    return error, float(ratio)


def assess(order: int, expected: int, hs: Sequence[float], errors: Sequence[float], reasons: Sequence[str],
           tolerance: float) -> OrderResult:
    """Fit the slope on the usable points (``reasons`` from :func:`classify`)
    and decide (see the module docs)."""
    errors = np.asarray(errors, dtype=float)
    usable = np.array([not r for r in reasons])
    log_h, log_e = np.log(np.asarray(hs, dtype=float)), np.log(np.where(usable, errors, 1.0))
    index = np.flatnonzero(usable)
    slopes = tuple(float((log_e[b] - log_e[a]) / (log_h[b] - log_h[a])) for a, b in zip(index[:-1], index[1:])
                   if b == a + 1)
    shown = tuple(float(e) if np.isfinite(e) else float("nan") for e in errors)

    def at(reason: str, after: int = -1) -> str:
        return ", ".join(f"{h:.3g}" for i, (h, r) in enumerate(zip(hs, reasons)) if r == reason and i > after)

    skipped = "; ".join(f"h = {at(r)} {r}" for r in _REASONS if at(r))

    def result(status, note, fitted=None, finest=None):
        return OrderResult(order, expected, shown, tuple(bool(u) for u in usable), slopes, fitted, status, note,
                           tuple(reasons), finest)

    if index.size < MIN_POINTS:
        reason = next(r for r in _REASONS if at(r))
        status, advice = _REASONS[reason]
        return result(status, f"only {index.size} usable step size{'s' * (index.size != 1)} ({skipped}): {advice}")
    growing = next((r for r in _GROWING if at(r, after=index[-1])), None)
    asymptotic = index[-FIT_POINTS:]
    fitted = float(np.polyfit(log_h[asymptotic], log_e[asymptotic], 1)[0])
    a, b = index[-2], index[-1]
    finest = float((log_e[b] - log_e[a]) / (log_h[b] - log_h[a]))
    note = "not fitted: " + skipped if skipped else ""
    if growing is not None:
        status, advice = _REASONS[growing]
        return result(status, f"at h = {at(growing, after=index[-1])}, smaller than the fitted step sizes, the "
                              f"point is {growing}: {advice}", fitted, finest)
    if fitted < 0.5:
        return result(NO_DECREASE, "; ".join(filter(None, ["the errors do not decrease with h", note])), fitted, finest)
    if fitted < expected - tolerance:
        return result(LOW_ORDER, "; ".join(filter(None, [f"slope {fitted:.2f} is below h^{expected}", note])),
                      fitted, finest)
    if finest < expected - tolerance:
        return result(SLOPE_DRIFTS, "; ".join(filter(None, [
            f"the slope on the finest pair (h = {hs[a]:.3g}, {hs[b]:.3g}) is {finest:.2f}, below h^{expected}: "
            "the fit is not in the asymptotic range (a lower order takes over as h shrinks)", note])), fitted, finest)
    if fitted > expected + tolerance:
        return result(EXCEEDS, "; ".join(filter(None, [f"higher than h^{expected}: the next term vanishes here", note])),
                      fitted, finest)
    return result(CONFIRMED, note, fitted, finest)


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
    loss: str = ""

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
                f"integration error (sub-step refinement): at most {self.integration_error:.1e} of the fitted errors"]
        fmt = lambda x: "-" if x is None else f"{x:.2f}"  # noqa: E731
        rows = [["h"] + [f"order {r.order}" for r in self.orders]]
        for i, h in enumerate(self.hs):
            cells = [f"{h:.4g}"]
            for r in self.orders:
                reason = r.reasons[i] if r.reasons else ""
                e = r.errors[i]
                if reason in ("diverged", "blows up") or not np.isfinite(e):
                    cells.append(reason or "diverged")
                else:
                    cells.append(f"{e:.3e}" + ("*" if reason else ""))
            rows.append(cells)
        rows.append(["slope"] + [fmt(r.fitted) for r in self.orders])
        rows.append(["spread"] + ["-" if r.spread is None else f"{r.spread[0]:.2f}..{r.spread[1]:.2f}"
                                  for r in self.orders])
        rows.append(["expected"] + [str(r.expected) for r in self.orders])
        rows.append(["status"] + [r.status for r in self.orders])
        first = max(len(row[0]) for row in rows)
        width = max(len(cell) for row in rows for cell in row[1:])
        lines = [row[0].ljust(first) + "".join("  " + cell.rjust(width) for cell in row[1:]) for row in rows]
        tail = [f"order {r.order}: {r.note}" for r in self.orders if r.note]
        if any(not all(r.usable) for r in self.orders):
            tail.append("* not used in the fit (see the notes)")
        verdict = "all orders confirmed" if self.passed else "NOT CONFIRMED: " + ", ".join(
            f"order {r.order} ({r.status})" for r in self.orders if not r.passed)
        return "\n".join(head + lines + tail + list(self.notes) + [verdict])

    __str__ = table

    def title(self, width: int = 80) -> str:
        """What was verified, in at most three lines: the optimizer and the loss,
        the start and the time, the regime, the method and the hyperparameters."""
        import textwrap

        loss = textwrap.shorten(self.loss, width - len(self.optimizer) - 8, placeholder=" …") if self.loss else ""
        start = ", ".join(f"{v:.7g}" for v in self.theta0)
        values = ", ".join(f"{k}={v:g}" for k, v in self.values.items())
        return "\n".join([f"{self.optimizer}" + (f" on E = {loss}" if loss else ""),
                          f"θ₀ = ({start}), T = {self.T:g}, {self.regime} regime, {self.method} method",
                          textwrap.shorten(values, width, placeholder=" …") if values else "no hyperparameters"])

    def plot(self, path=None):
        """Log-log errors against :math:`h`: filled markers are the points of
        the fit, open ones were left out; dotted lines are the reference slopes
        :math:`h^{p}` through the finest point; the legend gives each order's
        slope and status, the title what was verified. When no run gave a finite
        error the frame says so instead of staying empty. Saved to ``path`` if
        given; returns the Matplotlib figure."""
        import matplotlib.pyplot as plt
        from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator

        fig, ax = plt.subplots(figsize=(6.4, 5.0))
        hs = np.asarray(self.hs)
        drawn = False
        for r in self.orders:
            errors = np.asarray(r.errors, dtype=float)
            finite = np.isfinite(errors) & (errors > 0)
            slope = "-" if r.fitted is None else f"{r.fitted:.2f}"
            label = f"order {r.order}: slope {slope} (expected {r.expected}), {r.status}"
            if not finite.any():
                ax.plot([], [], "o", color=f"C{r.order % 10}", label=f"order {r.order}: no finite error, {r.status}")
                continue
            drawn = True
            color = f"C{r.order % 10}"
            ax.plot(hs[finite], errors[finite], "-", color=color, lw=1, label=label)
            used = finite & np.asarray(r.usable, dtype=bool)
            ax.plot(hs[used], errors[used], "o", color=color)
            ax.plot(hs[finite & ~used], errors[finite & ~used], "o", mfc="white", color=color)
            anchor = np.flatnonzero(used if used.any() else finite)[-1]
            ax.plot(hs, errors[anchor] * (hs / hs[anchor]) ** r.expected, ":", color=color, lw=1)
        fig.suptitle(self.title(), fontsize=9)
        if not drawn:
            ax.set_xticks([])
            ax.set_yticks([])
            statuses = "\n".join(f"order {r.order}: {r.status}" for r in self.orders)
            ax.text(0.5, 0.5, f"no finite errors: every run diverged or blew up\n\n{statuses}\n\n"
                              "(see the notes of the table)", ha="center", va="center", transform=ax.transAxes)
        else:
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.xaxis.set_major_locator(FixedLocator(hs))
            ax.xaxis.set_minor_locator(NullLocator())
            ax.xaxis.set_major_formatter(lambda h, _: f"{h:.3g}")
            ax.yaxis.set_minor_formatter(NullFormatter())
            ax.plot([], [], ":", color="gray", label="reference slopes h^p")
            ax.set_xlabel("step size h")
            ax.set_ylabel("local defect" if self.method == "defect" else "max global error on nh ≤ T")
            ax.legend(fontsize=7, loc="best")
        fig.tight_layout()
        _thin_tick_labels(fig, ax)
        if path is not None:
            fig.savefig(path, dpi=120)
        return fig


def _thin_tick_labels(fig, ax) -> None:
    """Hide tick labels that would overlap the previous visible one (both axes)."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for axis in (ax.xaxis, ax.yaxis):
        low, high = sorted(axis.get_view_interval())
        shown = None
        ticks = sorted((t for t in axis.get_major_ticks() + axis.get_minor_ticks()
                        if t.label1.get_visible() and t.label1.get_text() and low <= t.get_loc() <= high),
                       key=lambda t: t.get_loc())
        for tick in ticks:
            box = tick.label1.get_window_extent(renderer).expanded(1.1, 1.1)
            if shown is not None and box.overlaps(shown):
                tick.label1.set_visible(False)
            else:
                shown = box
