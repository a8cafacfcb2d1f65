r"""How long a derivation or a verification will take, before it starts.

A long job is refused up front, with its estimate, when the estimate is above
a limit (``max_seconds``; ``None`` means no limit; the command line's
``--force``). The estimates come from a model calibrated on this project's
reference machine (2 shared cores, Python 3.11) by ``benchmarks/cost.py``;
they are meant to be right within a factor of about 3, which is what a guard
needs: it has to tell a minute from an hour.

**Derivation** (:func:`derive_seconds`). The per-order CPU times of every
built-in (those on parameter blocks too) are measured in both modes (symbolic
hyperparameters, numeric ones) through the progress hook of
:func:`modeq.solver.solve_terms` (:data:`DERIVE`, in :mod:`modeq.cost.tables`),
until an order takes the calibration's budget. Beyond the measured orders the
cost is extrapolated, and the measurements say how: the ratio per order
:math:`r_k = t_k/t_{k-1}` is not constant but grows, by a factor :math:`q`
per order — about 1–1.5 for gradient descent, heavy ball and SAM (their
:math:`f_k` grow like the number of trees), 1.5–2 for the adaptive methods with
symbolic hyperparameters and 2.5–4 with numeric ones (each order multiplies
the rational coefficients' sizes as well as the terms); the last calibration
ran up to 12 orders for the cheap methods. A constant ratio (the first model)
estimated an order past the measured ones up to 6x too low (leaving each
row's last order out: 10 of 52 rows beyond a factor 3), and the built-ins it
did not measure, costed like a neighbour, 10-100x too low (AdEMAMix's order 3:
5.8 s estimated, 505 s measured). So :math:`r_{k+1} = q\,r_k`, :math:`t_{k+1} = r_{k+1}
t_k` from the last measured order, with :math:`q` the geometric mean of the
row's last two ratio growths (a quadratic fit of :math:`\log t_k` in
:math:`k` through the last four orders), clamped to
:math:`[1, 3]`; a row with a single measured ratio takes the median
:math:`q` of its mode (:func:`_growth`: 1.5 symbolic, 1.6 numeric). Order 0 is
left out of the ratios: it carries the fixed costs of a first call. Leaving
each row's last order out (``tests/test_cost_model.py``), 52 of 53 rows are
predicted within a factor 3 (the worst 3.2, median 1.4); a validation run apart
from the calibration, every built-in at orders 1-3 (4 where cheap), within
0.52-2.1x; issue 17's high orders (``benchmarks/derive.py``: GD 12, heavy ball 8,
Adam 5) within 0.92-1.6x; and the longest order-3 derivations measured by
``benchmarks/latex.py`` before the kernel's last speedups (AdEMAMix 505 s,
Lookahead 632 s, ...) within 0.62-1.23x.

Extrapolation cannot see a change of regime it has not measured (an order
past the calibration, an optimizer costed like a neighbour), so
:func:`modeq.derive` does not rely on the up-front estimate alone: the
**adaptive guard** (:class:`Guard`) re-checks before each order with this
run's own pace (its CPU time so far against the estimate of the orders done),
and refuses before an order that would take the total over the limit, naming
the order reached. An optimizer that is not a built-in is costed like the
measured built-in closest to it (matrix maps or not, then its moving
averages, lags and slow states, then the size of its update); the exact
regime, where not measured, as the stationary one times the median measured
ratio of the two.

**Step-by-step fields** (:func:`steps_seconds`): step :math:`s` expands every
moving average over the :math:`s` earlier steps (Horner form,
:mod:`modeq.stepwise`), and its expressions grow with :math:`s`: it costs
about :math:`c\,(s+1)^\gamma`, fitted on the measured steps (:data:`STEPS`;
:math:`\gamma \approx 1` with numeric hyperparameters, 2–3 with symbolic
ones), so :math:`N` steps cost :math:`O(N^{\gamma+1})`. An optimizer whose
steps were not measured takes the nearest measured one's, unscaled (Adan's
and Polyak's 16 and 32 numeric steps at order 1 are estimated 0.6–2.2x).

**Materializing and compiling for a loss** (:func:`compile_seconds`): the
component expressions of the field, their code and numba's compilation at
the first calls (most of the time for the larger fields) grow with the
number of coupled parameter pairs of the loss (:func:`coupled`, the
Hessian's pattern: :math:`3p` for a chain, :math:`p^2` for a dense loss):
interpolated in the measurements of both kinds (:data:`COMPILE`) and
extrapolated as :math:`t_0 + c\,n^{\alpha}` with the exponent measured at the
largest sizes. Matrix maps (Muon's Newton–Schulz stages, Shampoo's inverse
roots of the Kronecker factors) are measured on their own, on the two-layer
network's blocks: 2–5x a plain field of the same coupling (Shampoo's order 2
on 2x2 blocks, 23 s, was estimated 3.6 s from gradient descent's). Another
optimizer or order takes the nearest measured one's (matrix maps or not
first), its part above the fixed cost scaled by the ratio of their
derivation costs.

**Runs** (:func:`modeq.numerics.verify.run_seconds`): measured on the spot,
after compiling — one short flow and one short optimizer run are timed and
scaled by the number of steps, sub-steps and refinements.

All times are CPU seconds of one process (``time.process_time``), so a
loaded machine does not inflate the calibration; on a free core they are wall
seconds. The guard's limit is compared with the sum of the estimates.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import math
import time
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

from .tables import COMPILE, DERIVE, STEPS

__all__ = [
    "CostError", "DEFAULT_MAX_SECONDS", "DEFAULT", "Guard", "check", "limit", "derive_seconds", "steps_seconds",
    "compile_seconds", "coupled", "describe", "order_seconds", "DERIVE", "STEPS", "COMPILE",
]

#: The limit when none is given: jobs estimated above it are refused.
DEFAULT_MAX_SECONDS = 600.0


class _Default:
    """``max_seconds`` not given: the enclosing :func:`limit`, else :data:`DEFAULT_MAX_SECONDS`."""

    def __repr__(self) -> str:
        return "DEFAULT"


DEFAULT: Any = _Default()

_LIMIT: contextvars.ContextVar = contextvars.ContextVar("modeq_cost_limit", default=None)


@dataclass(frozen=True)
class _Limit:
    max_seconds: float | None
    extra: float  # seconds the caller will spend after the guarded step (e.g. compiling what is derived)
    what: str  # how the caller names the job


class CostError(ValueError):
    """A job whose estimated cost is above the limit (``max_seconds``)."""

    def __init__(self, what: str, seconds: float, max_seconds: float) -> None:
        self.what, self.seconds, self.max_seconds = what, seconds, max_seconds
        super().__init__(self.message("max_seconds=None (no limit) or a larger max_seconds"))

    def message(self, override: str) -> str:
        """The refusal, with ``override`` saying how to run it anyway."""
        return (f"{self.what} is estimated to take {describe(self.seconds)}, above the limit of "
                f"{describe(self.max_seconds)}; pass {override} to run it anyway")


def describe(seconds: float) -> str:
    """``95`` as ``"about 2 min"``."""
    if seconds < 90:
        return f"about {max(1, round(seconds))} s"
    if seconds < 5400:
        return f"about {round(seconds / 60)} min"
    if seconds < 2 * 86400:
        return f"about {seconds / 3600:.1f} h"
    if seconds < 365 * 86400:
        return f"about {round(seconds / 86400)} days"
    return "more than a year"


def _resolve(max_seconds: Any) -> float | None:
    if isinstance(max_seconds, _Default):
        return DEFAULT_MAX_SECONDS
    if max_seconds is None:
        return None
    if isinstance(max_seconds, bool) or not isinstance(max_seconds, (int, float)) or not max_seconds > 0:
        raise ValueError(f"max_seconds must be a positive number of seconds or None (no limit), got {max_seconds!r}")
    return float(max_seconds)


def check(seconds: float, max_seconds: Any, what: str, reached: str = "") -> None:
    """Refuse (:class:`CostError`) when ``seconds`` is above the limit.

    With ``max_seconds`` left at :data:`DEFAULT` inside :func:`limit`, the
    enclosing job's limit applies, to the estimate plus the time the enclosing
    job still needs after this step, and the refusal names the enclosing job
    (followed by ``reached``: how far a running job got)."""
    outer = _LIMIT.get()
    if isinstance(max_seconds, _Default) and outer is not None:
        seconds, max_seconds, what = seconds + outer.extra, outer.max_seconds, outer.what
    max_seconds = _resolve(max_seconds)
    if max_seconds is not None and seconds > max_seconds:
        raise CostError(what + reached, seconds, max_seconds)


class Guard:
    r"""Re-checks a running derivation before each order (the *adaptive guard*).

    Built with the estimated seconds :math:`e_0..e_N` of its orders; after
    order :math:`k` (:meth:`done`) the rest is projected from this run's CPU
    time so far, :math:`T_k`: the remaining estimates scaled by
    :math:`s = T_k / (e_0 + \dots + e_k)` once :math:`T_k` is
    :data:`_MEASURABLE` seconds or more (before, fixed costs dominate and the
    model's figures stand), and the job is refused when :math:`T_k +
    s\,(e_{k+1} + \dots + e_N)` is above the limit — before order
    :math:`k+1` starts, naming the order reached."""

    def __init__(self, estimates: list[float], max_seconds: Any, what: str) -> None:
        self.estimates, self.max_seconds, self.what = estimates, max_seconds, what
        self.start = time.process_time()

    def done(self, k: int) -> None:
        """Order ``k`` is solved: refuse (:class:`CostError`) if the rest would
        take the total above the limit."""
        if k + 1 >= len(self.estimates):
            return
        spent = time.process_time() - self.start
        scale = spent / sum(self.estimates[: k + 1]) if spent >= _MEASURABLE else 1.0
        projected = spent + scale * sum(self.estimates[k + 1:])
        check(projected, self.max_seconds, self.what, f", stopped after order {k} of the derivation ({describe(spent)} so far),")


#: CPU seconds a running derivation must have taken before its own pace
#: replaces the model's (:class:`Guard`).
_MEASURABLE = 0.5


@contextlib.contextmanager
def limit(max_seconds: Any, what: str, extra: float = 0.0) -> Iterator[None]:
    """Inside, derivations called with the default ``max_seconds`` are checked
    against ``max_seconds`` (their estimate plus ``extra``) and named ``what``."""
    token = _LIMIT.set(_Limit(_resolve(max_seconds), extra, what))
    try:
        yield
    finally:
        _LIMIT.reset(token)



# -- the model ----------------------------------------------------------------------------------------

#: Ratio per order assumed after the first measured order when no ratio was measured.
_GROWTH = 4.0
#: Bounds of the ratio per order (at least) and of its growth per order (at most) in the extrapolation.
_MIN_RATIO, _MAX_GROWTH = 1.5, 3.0


def _library() -> dict:
    """Every built-in by name: those on any parameter vector and those on blocks."""
    from ..optimizers.library import BLOCKWISE, BUILTIN

    return {**BUILTIN, **BLOCKWISE}


def _features(optimizer) -> tuple[bool, bool, int, int]:
    """(matrix maps, layer-wise sums such as block norms, moving averages, lags and slow states,
    operations) of the update: what the cost grows with."""
    import sympy

    from ..optimizers.language import EMA, Lag
    from ..primitives.block_sum import BlockSum
    from ..primitives.matrix import BlockMap
    from ..primitives.state import State

    update = optimizer.update()
    return (bool(update.atoms(BlockMap)), bool(update.atoms(BlockSum)), len(update.atoms(EMA, Lag, State)),
            int(sympy.count_ops(update)))


@functools.cache
def _library_features(name: str) -> tuple[bool, bool, int, int]:
    """:func:`_features` of the built-in ``name``, computed once per process (every
    estimate for an optimizer that is not a built-in compares it with all of them)."""
    return _features(_library()[name])


def _builtin(optimizer) -> str | None:
    """The name of the built-in ``optimizer`` is, unchanged (same description), else None.
    The built-in itself, or a copy with its options, is it without hashing the
    description (Lookahead's takes a second); a copy with other options, which
    change the form of the update, is not."""
    same = _library().get(optimizer.name)
    if same is None:
        return None
    if same.build is optimizer.build and same.hyperparameters == optimizer.hyperparameters:
        return optimizer.name if dict(same.options) == dict(optimizer.options) else None
    return optimizer.name if same.key() == optimizer.key() else None


def _nearest(optimizer, names) -> str:
    """The measured built-in closest to ``optimizer``: with matrix maps if it has them, then with
    layer-wise sums (LARS's, LAMB's block norms: their terms share deep subexpressions) if it has
    them, then in memory, then in description size."""
    maps, sums, memory, size = _features(optimizer)

    def distance(name):
        m, b, k, s = _library_features(name)
        return (m != maps, b != sums, abs(k - memory), abs(math.log((s + 1) / (size + 1))))

    return min(names, key=distance)


def _mode(optimizer, values: Mapping[str, Any] | None) -> str:
    given = set(values or ())
    return "numeric" if all(hp.name in given for hp in optimizer.hyperparameters) else "symbolic"


def _ratios(measured: tuple[float, ...]) -> list[float]:
    """Ratios per order :math:`t_k/t_{k-1}` from order 1 on (order 0 carries the fixed costs)."""
    return [b / a for a, b in zip(measured[1:], measured[2:]) if a > 0]


def _growths(measured: tuple[float, ...]) -> list[float]:
    """Growth per order of the ratio, :math:`r_k/r_{k-1}`, over the last three measured ratios."""
    ratios = _ratios(measured)[-3:]
    return [b / a for a, b in zip(ratios, ratios[1:])]


def _growth(mode: str, table: Mapping = DERIVE) -> float:
    """Median growth of the ratio (:func:`_growths`, each row's geometric mean) over the
    rows of ``table`` in ``mode`` that measured two ratios or more: the growth assumed
    for a row that measured fewer."""
    rows = sorted(_geometric_mean(g) for (_, m, _), t in table.items() if m == mode and (g := _growths(t)))
    return _clamp_growth(rows[len(rows) // 2]) if rows else 1.5


def _geometric_mean(values: list[float]) -> float:
    return math.exp(sum(map(math.log, values)) / len(values))


def _clamp_growth(q: float) -> float:
    """``q`` between 1 and :data:`_MAX_GROWTH`."""
    return min(max(q, 1.0), _MAX_GROWTH)


def _extrapolate(measured: tuple[float, ...], count: int, growth: float) -> list[float]:
    r"""``count`` per-order seconds: the measured ones, then each the last times a
    ratio :math:`r` that grows by :math:`q` per order, :math:`r_{k+1} = q\,r_k`
    (:math:`r` the last measured ratio, at least :data:`_MIN_RATIO`; :math:`q` the
    geometric mean of this row's :func:`_growths`, between 1 and :data:`_MAX_GROWTH`,
    else ``growth``)."""
    times = list(measured[:count])
    ratios, growths = _ratios(measured), _growths(measured)
    ratio = max(ratios[-1], _MIN_RATIO) if ratios else _GROWTH / growth
    q = _clamp_growth(_geometric_mean(growths)) if growths else growth
    while len(times) < count:
        ratio *= q
        times.append(times[-1] * ratio)
    return times


def order_seconds(optimizer, order: int, regime: str = "stationary", values: Mapping[str, Any] | None = None
                  ) -> list[float]:
    """Estimated CPU seconds of each order 0..``order`` of :func:`modeq.derive`."""
    mode = _mode(optimizer, values)
    name = _builtin(optimizer)
    key = (name, mode, regime)
    if name is None or key not in DERIVE:
        measured = [k for k in DERIVE if k[1] == mode and k[2] == regime] or [k for k in DERIVE if k[1] == mode]
        name = name if name is not None and (name, mode, "stationary") in DERIVE else _nearest(
            optimizer, {k[0] for k in measured})
        key = (name, mode, regime) if (name, mode, regime) in DERIVE else (name, mode, "stationary")
    times = _extrapolate(DERIVE[key], order + 1, _growth(mode))
    if key[2] != regime:  # the exact regime, not measured for this optimizer: the measured ratio of the two
        times = [t * _exact_factor(mode) for t in times]
    return times


def _exact_factor(mode: str) -> float:
    """Median ratio of exact to stationary derivation time (over the orders
    measured in both) for the optimizers measured in both regimes."""
    ratios = []
    for name, m, regime in DERIVE:
        stationary = DERIVE.get((name, m, "stationary"))
        if m == mode and regime == "exact" and stationary:
            n = min(len(stationary), len(DERIVE[(name, m, regime)]))
            ratios.append(sum(DERIVE[(name, m, regime)][:n]) / sum(stationary[:n]))
    ratios.sort()
    return ratios[len(ratios) // 2] if ratios else 2.0


def derive_seconds(optimizer, order: int, regime: str = "stationary", values: Mapping[str, Any] | None = None
                   ) -> float:
    """Estimated CPU seconds of ``derive(optimizer, order, regime, values)``."""
    return sum(order_seconds(optimizer, order, regime, values))


def _work(optimizer, order: int, values: Mapping[str, Any] | None) -> float:
    """Estimated seconds of the orders 1..``order`` of a derivation (order 0 alone at order 0):
    what scales with the size of the terms, without the fixed costs of a first call
    (0.02-0.6 s at order 0, however large the terms), for scaling one optimizer's
    measured costs to another's."""
    times = order_seconds(optimizer, order, values=values)
    return sum(times[1:]) or times[0]


def steps_seconds(optimizer, steps: int, order: int, values: Mapping[str, Any] | None = None) -> float:
    r"""Estimated CPU seconds of ``derive_steps(optimizer, steps, order, ...)``.

    Step :math:`s` costs about :math:`c\,(s+1)^\gamma` (it expands every
    moving average over the :math:`s` earlier steps; :math:`\gamma \approx 1`
    with numeric hyperparameters, 2–3 with symbolic ones), fitted on the
    measured steps of the nearest measured case (same mode, then the closest
    optimizer, then the closest order), scaled by the ratio of that optimizer's
    one-field derivation costs at the two orders when the orders differ. Not by
    the ratio of two optimizers' derivation costs: it does not carry over to
    the steps (AdaBelief's order 1 derives as fast as Adam's, its 32 numeric
    steps take 9 s, Adam's 1.5 s: the squared deviation :math:`(g - m)^2`
    expands into products of the :math:`s` earlier steps)."""
    mode = _mode(optimizer, values)
    cases = [k for k in STEPS if k[1] == mode] or list(STEPS)
    name = _builtin(optimizer)
    if name not in {k[0] for k in cases}:
        name = _nearest(optimizer, {k[0] for k in cases})
    key = min((k for k in cases if k[0] == name), key=lambda k: (abs(k[2] - order), -k[2]))
    c, gamma = _power([(s + 1, t) for s, t in enumerate(STEPS[key]) if s >= 1 and t > 0], default=2.0)
    scale = 1.0
    if key[2] != order:
        reference = _library()[name]
        numbers = reference.defaults() if key[1] == "numeric" else None
        scale = _work(reference, order, numbers) / _work(reference, key[2], numbers)
    return scale * (STEPS[key][0] + sum(c * (s + 1) ** gamma for s in range(1, steps)))


def coupled(loss, params) -> int:
    r"""Entries of the Hessian's sparsity pattern: pairs :math:`(i, j)` of
    parameters that appear together in a term of ``loss`` (its terms are the
    summands of the unexpanded expression). The materialized field contracts
    derivatives of :math:`E`, so its size grows with this count, not with
    :math:`p` alone (a chain loss in 200 parameters is small, a dense one is not)."""
    position = {p: i for i, p in enumerate(params)}
    pairs: set[tuple[int, int]] = set()
    body = loss.as_coeff_Mul()[1]  # E/2 has the terms of E
    terms = body.args if body.is_Add else (body,)
    for term in terms:
        members = sorted(position[s] for s in term.free_symbols if s in position)
        pairs.update((i, j) for i in members for j in members)
    return len(pairs)


def compile_seconds(optimizer, order: int, coupling: int, fields: int = 1,
                    values: Mapping[str, Any] | None = None) -> float:
    r"""Estimated CPU seconds of materializing, generating and compiling the
    field of ``optimizer`` to ``order`` for a loss with ``coupling`` entries in
    its Hessian's pattern (:func:`coupled`; ``fields`` batch losses count as
    as many fields), numba's compilation at the first calls included:
    interpolated in the measurements of :data:`COMPILE` (per optimizer and
    order) and extrapolated as :math:`t_0 + c\,\text{coupled}^{\alpha}`
    (:func:`_interpolate`); another optimizer or order takes the nearest
    measured one's (matrix maps or not first: Muon's and Shampoo's stages cost
    2-5x a plain field's), its part above the fixed cost :math:`t_0` scaled by
    the ratio of their derivation costs (:func:`_work`, at least 1)."""
    measured = sorted({(k[0], k[1]) for k in COMPILE})
    name = _builtin(optimizer)
    if name not in {m for m, _ in measured}:
        name = _nearest(optimizer, {m for m, _ in measured})
    order_measured = min((k for m, k in measured if m == name), key=lambda k: (abs(k - order), -k))
    points = sorted((n, t) for (m, k, n), t in COMPILE.items() if m == name and k == order_measured)
    fixed = _fixed(points)
    scale = 1.0
    if (name, order_measured) != (_builtin(optimizer), order):
        reference = _library()[name]
        scale = max(1.0, _work(optimizer, order, values) / _work(reference, order_measured, reference.defaults()))
    return fixed + max(1, fields) * scale * (_interpolate(points, max(coupling, 1)) - fixed)


def _fixed(points: list[tuple[int, float]]) -> float:
    """What any field costs (imports, numba's start): 80% of the cheapest measured."""
    return 0.8 * min(t for _, t in points)


def _interpolate(points: list[tuple[int, float]], n: int) -> float:
    r"""Seconds at ``n`` coupled pairs: :math:`t_0 + (t - t_0)` interpolated
    log-log between the measured points (:math:`t_0`, 80% of the cheapest,
    is what any field costs), beyond them extrapolated with the growth
    exponent measured at the largest sizes (:func:`_asymptotic_exponent`)."""
    fixed = _fixed(points)
    if n >= points[-1][0]:
        last, seconds = points[-1]
        return fixed + (seconds - fixed) * (n / last) ** _asymptotic_exponent()
    if n <= points[0][0]:
        return points[0][1]
    (n0, t0), (n1, t1) = next((a, b) for a, b in zip(points, points[1:]) if a[0] <= n <= b[0])
    weight = math.log(n / n0) / math.log(n1 / n0)
    return fixed + math.exp((1 - weight) * math.log(t0 - fixed) + weight * math.log(t1 - fixed))


def _asymptotic_exponent() -> float:
    """Growth exponent of the compile time between the two largest measured
    sizes of the case measured furthest (small sizes are dominated by fixed costs)."""
    case = max({(m, k) for m, k, _ in COMPILE}, key=lambda c: max(n for m, k, n in COMPILE if (m, k) == c))
    (n0, t0), (n1, t1) = sorted((n, t) for (m, k, n), t in COMPILE.items() if (m, k) == case)[-2:]
    fixed = _fixed([(n, t) for (m, k, n), t in COMPILE.items() if (m, k) == case])
    return math.log((t1 - fixed) / (t0 - fixed)) / math.log(n1 / n0)


def _power(points: list[tuple[float, float]], default: float = 2.0) -> tuple[float, float]:
    """Least-squares ``log t = log c + alpha log x`` through ``(x, t)``; with one
    point, ``alpha = default``."""
    xs, ys = [math.log(x) for x, _ in points], [math.log(t) for _, t in points]
    n = len(points)
    if n < 2:
        return (math.exp(ys[0]) / points[0][0] ** default if ys else 1.0), default
    mx, my = sum(xs) / n, sum(ys) / n
    alpha = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    return math.exp(my - alpha * mx), alpha
