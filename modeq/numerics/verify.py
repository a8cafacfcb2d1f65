r"""Push-button verification of a modified equation against the optimizer.

For step sizes :math:`h_1 > h_2 > \dots` and every truncation
:math:`f_h^{[N']} = \sum_{k\le N'} h^k f_k` (:math:`N' = 0..N`):

* ``"global"`` — run the optimizer from :math:`\theta_0` for :math:`T/h`
  steps, integrate :math:`f^{[N']}` from :math:`\theta_0`, error
  :math:`\max_{nh\le T}\|\theta_n - \tilde\theta(nh)\|_\infty = O(h^{N'+1})`.
  Right for memoryless optimizers, and for the exact regime (its fields start
  at step 0);
* ``"history"`` — the same from a history-consistent state
  (:mod:`modeq.numerics.history`): past iterates are sampled backwards on the
  flow of :math:`f^{[N']}` and replayed, so moving averages and lags hold what
  they would hold on the modified trajectory. Removes the :math:`O(h^2)`
  transient of empty moving averages (DESIGN.md §1.6); the default for
  optimizers with memory in the stationary regime;
* ``"defect"`` — one step from that state against the flow over :math:`h`:
  :math:`O(h^{N'+2})`.

With slow optimizer states (:mod:`modeq.primitives.state`, e.g. AdaGrad's
sum) the modified equation is a system for :math:`(\theta, V)`: its flow starts
from :math:`(\theta_0, V_0)` with the state's own initial value (evaluated at
each :math:`h`), and the error is measured on :math:`\theta`. A one-step map
on :math:`(\theta, V)` has no transient, so ``"auto"`` is ``"global"`` (moving
averages beside a slow state start empty: their transient is noted).

Updates that depend on the time (schedules) have non-autonomous fields
:math:`f_k(\theta, t)`: the optimizer's step :math:`n` runs at time
:math:`t_0 + nh` and the flow is integrated from :math:`(\theta_0, t_0)`; the
history method samples the past on the same non-autonomous flow run backwards,
but never before :math:`t = 0`. A time-dependent optimizer starts at
:math:`t = 0`: before it, its schedules are extrapolations (NAdam's momentum
:math:`\beta_1(1 - \tfrac12 0.96^{\psi t})` falls below :math:`-10^{30}` at
:math:`t = -500`, AdEMAMix's :math:`\beta_3` warm-up has a pole just below
:math:`t = 0`), and a replay of :math:`K` steps (41 000 for
:math:`\beta_2 = 0.999`) reaching there diverged. So the replay is
:math:`\min(K, \lfloor t_0/h\rfloor)` steps: the optimizer's own run from
:math:`t = 0` along the modified flow, whose start transient
(:math:`\beta^{t_0/h}`, beyond all orders at a fixed :math:`t_0 > 0`) is noted
when the replay is cut; choose :math:`t_0 \ge Kh` to remove it below rounding.
Autonomous optimizers replay all :math:`K` steps whatever :math:`t_0`.

The integrator's sub-steps are refined (:math:`s \to 2s`) wherever
each measured error is above the rounding level, until the flow moves by
less than 1% of the error; the report gives the worst remaining ratio.
"""

from __future__ import annotations

import math
import os
import time
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import sympy

from .. import cost
from ..blocks import describe_params
from ..loss import parse_loss, parse_params
from ..description import t as TIME
from ..optimizers.base import Domain, Optimizer
from ..optimizers.language import h as H
from ..primitives import Lag, Primitive, ReduceSum
from ..primitives.state import slow_states
from ..optimizers.library import resolve
from ..solver import check_order
from .discrete import compile_optimizer
from .history import consistent_history, history_length
from .report import VerificationReport, assess, classify, refine
from .store import derived_field

__all__ = ["verify", "default_step_sizes", "run_seconds"]

#: Largest sub-step of the integrator (DOP853: global error ~ T * delta^8).
MAX_SUBSTEP = 0.01
#: Mini-batch optimizers with memory get one derived field per step; their
#: derivation and compilation grow quickly with the number of steps.
MAX_STEPWISE_STEPS = 64
#: An iterate this much larger than the start counts as diverged.
EXPLODED = 1e6
#: Most doublings of the integrator's sub-steps per measured error.
REFINEMENTS = 7


def default_step_sizes(optimizer: Optimizer, values: Mapping[str, float], count: int = 5) -> tuple[float, ...]:
    r""":math:`h_0 2^{-k}`, :math:`k < count`, with :math:`h_0 = \min(0.05, (1-\beta)/20)`
    over the decay hyperparameters (DESIGN.md §1.6: :math:`h \ll 1-\beta`)."""
    h0 = 0.05
    for hp in optimizer.hyperparameters:
        if hp.domain is Domain.UNIT_INTERVAL:
            h0 = min(h0, (1 - values[hp.name]) / 20)
    return tuple(h0 * 0.5**k for k in range(count))


def _check_hs(hs: Sequence[float], T: float) -> tuple[float, ...]:
    hs = tuple(float(h) for h in hs)
    if len(hs) < 3:
        raise ValueError(f"give at least 3 step sizes to fit a slope, got {len(hs)}")
    if not all(math.isfinite(h) and 0 < h <= T for h in hs):
        raise ValueError(f"step sizes must be positive and at most T = {T}, got {hs}")
    if len(set(hs)) != len(hs):
        raise ValueError(f"step sizes must be distinct, got {hs}")
    return tuple(sorted(hs, reverse=True))


def _theta0(theta0, params) -> np.ndarray:
    try:
        array = np.asarray(theta0, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"theta0 must be {len(params)} numbers, got {theta0!r}") from None
    if array.shape != (len(params),):
        raise ValueError(f"theta0 must have {len(params)} values, one per parameter ({describe_params(params)}), "
                         f"got {array.size}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"theta0 must be finite, got {theta0!r}")
    return array


def _point(params: Sequence[sympy.Symbol], start: np.ndarray) -> dict:
    """theta0 as exact rationals (the floats' binary values)."""
    return {p: sympy.Rational(float(v)) for p, v in zip(params, start)}


def _singular_loss(losses: Sequence[sympy.Expr], params: Sequence[sympy.Symbol], start: np.ndarray) -> None:
    """Refuse a start where a loss or its gradient is not finite (e.g. ``1/x``
    at ``x = 0``), evaluated exactly; polynomials are finite everywhere."""
    point = _point(params, start)
    at = ", ".join(f"{p} = {v:g}" for p, v in zip(params, start))
    for loss in losses:
        if loss.is_polynomial(*params):
            continue
        for what, expr in [("the loss", loss)] + [(f"its derivative in {p}", sympy.diff(loss, p)) for p in params]:
            value = expr.xreplace(point)
            if value.is_finite is False or value.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
                raise ValueError(f"the loss is singular at theta0 ({what} is not finite at {at}); "
                                 "start where the loss and its gradient are finite")


def _singular_field(field, optimizer: Optimizer, update: sympy.Expr, losses: Sequence[sympy.Expr],
                    params: Sequence[sympy.Symbol], start: np.ndarray, h: float | None = None,
                    t0: float = 0.0) -> None:
    """Refuse a start where the modified field is not finite: e.g. SAM, whose
    update divides by the gradient's norm, at a stationary point (with slow
    states: at their initial values for the step size ``h``; at the start time
    ``t0``)."""
    if np.all(np.isfinite(field.terms(start, t=t0) if h is None else field.terms(start, h, t=t0))):
        return
    point = _point(params, start)
    stationary = any(all(sympy.diff(loss, p).xreplace(point) == 0 for p in params) for loss in losses)
    divides = any(p.exp.is_negative and p.base.has(ReduceSum) for p in update.atoms(sympy.Pow))
    if divides and stationary:
        raise ValueError(f"{optimizer.name}'s 1/‖∇E‖ is singular at a stationary point, and theta0 is one "
                         "(∇E = 0 there); start where the gradient is not zero")
    raise ValueError(f"the modified field of {optimizer.name} is not finite at theta0"
                     f"{' (a stationary point, ∇E = 0)' if stationary else ''}; start elsewhere")


class _SlowStates:
    r"""A compiled field on :math:`(\theta, V, \dots)` seen as one on :math:`\theta`:
    flows start from :math:`(\theta_0, V_0(h))` and give the :math:`\theta` rows."""

    def __init__(self, field, inits: Sequence[sympy.Expr], p: int) -> None:
        self.field, self.p = field, p
        self._inits = [sympy.lambdify(H, init, "math") for init in inits]

    def start(self, theta0: np.ndarray, h: float) -> np.ndarray:
        return np.concatenate([theta0] + [np.full(self.p, float(init(h))) for init in self._inits])

    def terms(self, theta0: np.ndarray, h: float, t: float | None = None) -> np.ndarray:
        return self.field.terms(self.start(theta0, h), t=t)

    def flow(self, theta0, h, steps, order=None, substeps=4, **options):
        return self.field.flow(self.start(theta0, h), h, steps, order=order, substeps=substeps, **options)[:, :self.p]


def _method(method: str, regime: str, memory: bool, slow: bool = False) -> str:
    if slow and method in ("history", "defect"):
        raise ValueError("an optimizer with slow states (a coordinate beside theta, e.g. AdaGrad's sum) is verified "
                         "from its initial state: use method='global' (or 'auto')")
    if slow and method == "auto":
        return "global"
    if method == "auto":
        return "history" if memory and regime == "stationary" else "global"
    if method not in ("global", "history", "defect"):
        raise ValueError(f"unknown method {method!r}; use auto, global, history or defect")
    if method != "global" and regime != "stationary":
        raise ValueError(f"the {regime} regime starts at step 0: use method='global' (or 'auto')")
    return method


def _replay_steps(replay: int, h: float, t0: float) -> int:
    r"""The replayed steps of a time-dependent optimizer: at most :math:`K` =
    ``replay``, none before its start :math:`t = 0` (the module docs)."""
    return max(0, min(replay, math.floor(t0 / h * (1 + 1e-12))))


def _steps(method: str, h: float, T: float) -> int:
    return 1 if method == "defect" else max(1, round(T / h))


def _substeps(h: float) -> int:
    return max(2, math.ceil(h / MAX_SUBSTEP))


def run_seconds(field, stepper, start, hs, T, order, method, replay, schedule, t0=0.0) -> float:
    r"""CPU seconds of the runs, measured on the spot: a short flow and a short
    optimizer run are timed (after a call that compiles or loads them) and
    scaled by the work of :func:`verify` — per step size and order, the flow at
    :math:`s`, :math:`2s` and :math:`4s` sub-steps (two refinements, the usual
    case; up to :data:`REFINEMENTS` can happen), the backward flow and replay
    of the history, and the optimizer's run."""
    probe, h = 32, hs[-1]
    sub = _substeps(h)
    field.flow(start, h, 1, order=order, substeps=sub, t0=t0)
    stepper.run(start, h, 1, schedule, t0=t0)
    began = time.process_time()
    field.flow(start, h, probe, order=order, substeps=sub, t0=t0)
    per_substep = (time.process_time() - began) / (probe * sub)
    began = time.process_time()
    stepper.run(start, h, probe, schedule, t0=t0)
    per_step = (time.process_time() - began) / probe
    total = 0.0
    for h in hs:
        steps, sub = _steps(method, h, T), _substeps(h)
        history = 0.0 if method == "global" else replay * sub * per_substep + (replay + steps) * per_step
        total += (order + 1) * (7 * steps * sub * per_substep + history) + steps * per_step
    return total


def verify(
    optimizer: Optimizer | str,
    loss: sympy.Expr | str | None,
    params: Sequence[sympy.Symbol] | Sequence[str] | str,
    theta0: Sequence[float],
    order: int = 1,
    values: Mapping[str, Any] | None = None,
    hs: Sequence[float] | None = None,
    T: float = 1.0,
    regime: str = "stationary",
    batches: Sequence[sympy.Expr | str] | None = None,
    schedule: Sequence[int] | None = None,
    method: str = "auto",
    tolerance: float = 0.3,
    cache_dir: str | os.PathLike | None = None,
    progress: Callable[[int, int], None] | None = None,
    max_seconds: float | None = cost.DEFAULT,
    t0: float = 0.0,
) -> VerificationReport:
    """Check the modified equation of ``optimizer`` to ``order`` against its
    iterates on ``loss`` (see the module docs for the methods).

    ``params`` are names, symbols or blocks with shapes (``"W1:3x2,b:2"``,
    ``{"W1": (3, 2)}``: ``theta0`` lists their entries row-major);
    ``values`` fixes hyperparameters (defaults for the others); ``hs`` are the
    step sizes (default :func:`default_step_sizes`); ``batches`` are batch
    losses used by step :math:`n` as ``schedule[n mod len]`` (labels 1..m);
    ``progress(done, total)`` is called after every unit of work; ``t0`` is
    the time of the first step (schedules; stationary regime only).

    A verification estimated (:mod:`modeq.cost`) to take longer than
    ``max_seconds`` (default 600; ``None``: no limit) is refused: the
    derivation and compilation before they start (unless the field is cached),
    the runs after compiling, when their cost can be measured."""
    optimizer = resolve(optimizer)
    order = check_order(order)
    if regime not in ("stationary", "exact"):
        raise ValueError(f"unknown regime {regime!r}; the regimes are: stationary, exact")
    if not (isinstance(T, (int, float)) and math.isfinite(T) and T > 0):
        raise ValueError(f"the time T must be a positive number, got {T!r}")
    if isinstance(t0, bool) or not (isinstance(t0, (int, float)) and math.isfinite(t0)):
        raise ValueError(f"the start time t0 must be a finite number, got {t0!r}")
    if t0 != 0 and regime != "stationary":
        raise ValueError(f"the {regime} regime starts at step 0 (t = 0): use t0=0 or the stationary regime")
    if isinstance(params, (str, Mapping)) or (params and isinstance(params[0], str)):
        params = parse_params(params)
    params = tuple(params)
    if isinstance(loss, str):
        loss, params = parse_loss(loss, params)
    batches = [parse_loss(b, params)[0] if isinstance(b, str) else b for b in batches] if batches else None
    start = _theta0(theta0, params)
    values = optimizer.numbers(values)
    update = optimizer.update(values)
    slow = slow_states(update)
    # memory other than the slow states (and lags of them, exact from the start): moving averages, fast states
    memory = any(node.memory for node in update.atoms(Primitive)
                 if node not in slow and not (isinstance(node, Lag) and node.args[0] in slow))
    method = _method(method, regime, memory, bool(slow))
    hs = _check_hs(hs if hs is not None else default_step_sizes(optimizer, values), T)

    steps = None
    if batches and memory and regime == "exact":
        steps = max(1, round(T / hs[-1]))
        if steps > MAX_STEPWISE_STEPS:
            raise ValueError(
                f"mini-batch {optimizer.name} needs one derived field per step, and T/h = {steps} steps is more than "
                f"{MAX_STEPWISE_STEPS}; give a shorter T or larger step sizes (e.g. T=0.2, hs=0.05,0.025,0.0125)")
    losses = [loss] if loss is not None else batches
    _singular_loss(losses, params, start)
    what = f"verifying {optimizer.name} to order {order}"
    extra = cost.compile_seconds(optimizer, order, max(cost.coupled(b, params) for b in losses), len(losses), values)
    with cost.limit(max_seconds, what, extra=extra):
        field = derived_field(optimizer, loss, params, order, regime, values, batches, schedule, cache_dir, steps)
    stepper = compile_optimizer(optimizer, loss, params, values, batches, cache_dir)
    replay = history_length(update)
    timed = update.has(TIME)
    if slow:
        field = _SlowStates(field, [node.init for node in slow], len(params))
    _singular_field(field, optimizer, update, losses, params, start, hs[0] if slow else None, t0)
    estimate = run_seconds(field, stepper, start, hs, T, order, method, replay, schedule, t0)
    cost.check(estimate, max_seconds, f"{what} (the runs: {len(hs)} step sizes down to h = {hs[-1]:.3g}, T = {T:g})")

    shape = (order + 1, len(hs))
    errors, floors, scales = np.full(shape, np.nan), np.zeros(shape), np.ones(shape)
    ratios, diverged = np.zeros(shape), np.zeros(shape, dtype=bool)
    total, done = (order + 1) * len(hs), 0
    notes = []
    plain = None
    for i, h in enumerate(hs):
        steps, substeps = _steps(method, h, T), _substeps(h)
        if method == "global":
            plain = stepper.run(start, h, steps, schedule, t0=t0)
        back = _replay_steps(replay, h, t0) if timed else replay
        if method != "global" and back < replay:
            notes.append(f"h = {h:.3g}: the history is the optimizer's run from t = 0, {back} steps (its moving "
                         f"averages need {replay}): its start transient remains; start at t0 >= {replay * h:.3g}")
        for k in range(order + 1):
            done += 1
            try:
                history = (consistent_history(field, start, h, k, back, substeps, t0)
                           if method != "global" and back else None)
            except ValueError as error:
                notes.append(f"order {k}, h = {h:.3g}: {error}")
                diverged[k, i] = True
                if progress is not None:
                    progress(done, total)
                continue
            iterates = plain if method == "global" else stepper.run(start, h, steps, schedule, history, t0)
            flow = field.flow(start, h, steps, order=k, substeps=substeps, t0=t0)
            finite = iterates[np.isfinite(iterates)]
            scales[k, i] = max(float(np.abs(finite).max()) if finite.size else 0.0, np.finfo(float).tiny)
            exploded = finite.size < iterates.size or np.abs(iterates).max() > EXPLODED * (1 + np.abs(start).max())
            if exploded:
                diverged[k, i] = True
                notes.append(f"order {k}, h = {h:.3g}: the optimizer's iterates diverged "
                             f"(non-finite or > {EXPLODED:g} x |theta0|)")
            elif not np.all(np.isfinite(flow)):
                errors[k, i] = np.inf
                notes.append(f"order {k}, h = {h:.3g}: the modified flow left the finite range")
            else:
                errors[k, i] = np.abs(iterates - flow).max()
            floors[k, i] = 64 * np.finfo(float).eps * scales[k, i] * math.sqrt(steps)
            errors[k, i], ratios[k, i] = refine(
                lambda r: field.flow(start, h, steps, order=k, substeps=substeps * 2**r, t0=t0), flow, errors[k, i],
                floors[k, i], lambda a, b: float(np.abs(a - b).max()), lambda c: float(np.abs(iterates - c).max()),
                REFINEMENTS)
            if progress is not None:
                progress(done, total)
    expected_shift = 2 if method == "defect" else 1
    results = []
    for k in range(order + 1):
        reasons = classify(errors[k], floors[k], scales[k], ratios[k], diverged[k])
        results.append(assess(k, k + expected_shift, hs, errors[k], reasons, tolerance))
    fitted = [ratios[k, i] for k, r in enumerate(results) for i, u in enumerate(r.usable) if u]
    integration = max(fitted, default=0.0)
    if memory and method == "global" and regime == "stationary":
        notes.append("note: started with empty moving averages, the stationary field has an O(h^2) transient "
                     "(the history method removes it)")
    return VerificationReport(optimizer.name, regime, method, values, tuple(map(float, start)), float(T), hs,
                              tuple(results), tolerance, integration, tuple(dict.fromkeys(notes)),
                              str(loss) if loss is not None else "; ".join(f"E_{i + 1} = {b}" for i, b in enumerate(batches)))
