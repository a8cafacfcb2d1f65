r"""How long a derivation or a verification will take, before it starts.

A long job is refused up front, with its estimate, when the estimate is above
a limit (``max_seconds``; ``None`` means no limit; the command line's
``--force``). The estimates come from a model calibrated on this project's
reference machine (2 shared cores, Python 3.11) by ``benchmarks/cost.py``;
they are meant to be right within a factor of about 3, which is what a guard
needs: it has to tell a minute from an hour.

**Derivation** (:func:`derive_seconds`). Solving order :math:`k` costs about
:math:`a\,r^k` seconds: the expressions of :math:`f_k` grow geometrically
with :math:`k`, by a factor :math:`r` that depends on the optimizer (3 for
gradient descent, 4–9 for the adaptive methods; more with symbolic
hyperparameters than with numbers). The per-order CPU times of every built-in
are measured in both modes (symbolic hyperparameters, numeric ones) through
the progress hook of :func:`modeq.solver.solve_terms` (:data:`DERIVE`); an
order beyond the measured ones is extrapolated with the last measured ratio.
An optimizer that is not a built-in is costed like the measured built-in
closest to it in memory (its moving averages and lags), then in the size of
its update; the exact regime, where not measured, as the stationary one times
the median measured ratio of the two.

**Step-by-step fields** (:func:`steps_seconds`): step :math:`s` expands every
moving average over the :math:`s` earlier steps (Horner form,
:mod:`modeq.stepwise`), and its expressions grow with :math:`s`: it costs
about :math:`c\,(s+1)^\gamma`, fitted on the measured steps (:data:`STEPS`;
:math:`\gamma \approx 1` with numeric hyperparameters, 2–3 with symbolic
ones), so :math:`N` steps cost :math:`O(N^{\gamma+1})`.

**Materializing and compiling for a loss** (:func:`compile_seconds`): the
component expressions of the field, their code and numba's compilation grow
with the number of coupled parameter pairs of the loss (:func:`coupled`, the
Hessian's pattern: :math:`3p` for a chain, :math:`p^2` for a dense loss):
interpolated in the measurements of both kinds (:data:`COMPILE`) and
extrapolated as :math:`t_0 + c\,n^{\alpha}` with the exponent measured at the
largest sizes (:math:`\alpha \approx 1.1`), scaled by the derivation cost
for other optimizers and orders.

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
import math
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

__all__ = [
    "CostError", "DEFAULT_MAX_SECONDS", "DEFAULT", "check", "limit", "derive_seconds", "steps_seconds",
    "compile_seconds", "coupled", "describe", "order_seconds",
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


def check(seconds: float, max_seconds: Any, what: str) -> None:
    """Refuse (:class:`CostError`) when ``seconds`` is above the limit.

    With ``max_seconds`` left at :data:`DEFAULT` inside :func:`limit`, the
    enclosing job's limit applies, to the estimate plus the time the enclosing
    job still needs after this step, and the refusal names the enclosing job."""
    outer = _LIMIT.get()
    if isinstance(max_seconds, _Default) and outer is not None:
        seconds, max_seconds, what = seconds + outer.extra, outer.max_seconds, outer.what
    max_seconds = _resolve(max_seconds)
    if max_seconds is not None and seconds > max_seconds:
        raise CostError(what, seconds, max_seconds)


@contextlib.contextmanager
def limit(max_seconds: Any, what: str, extra: float = 0.0) -> Iterator[None]:
    """Inside, derivations called with the default ``max_seconds`` are checked
    against ``max_seconds`` (their estimate plus ``extra``) and named ``what``."""
    token = _LIMIT.set(_Limit(_resolve(max_seconds), extra, what))
    try:
        yield
    finally:
        _LIMIT.reset(token)



# -- calibration (benchmarks/cost.py; CPU seconds on the reference machine) -------------------------

#: Derivation, CPU seconds of each order 0, 1, ... (until an order took 6 s, or 18 s
#: of wall time passed without one: measured on a loaded machine after the
#: kernel's speedups of issue 17, ``benchmarks/cost.py --only derive --budget 6``):
#: ``(optimizer, "symbolic" | "numeric", regime) -> seconds``.
DERIVE: dict[tuple[str, str, str], tuple[float, ...]] = {
    ('gd', 'symbolic', 'stationary'): (0.0838, 0.0051, 0.0095, 0.0187, 0.021, 0.0393, 0.1152, 0.2956, 1.0624),
    ('gd', 'numeric', 'stationary'): (0.0498, 0.0038, 0.0035, 0.0076, 0.0117, 0.0255, 0.0718, 0.2593, 0.6999),
    ('heavy_ball', 'symbolic', 'stationary'): (0.0657, 0.0206, 0.0323, 0.1205, 0.4271, 2.0878),
    ('heavy_ball', 'numeric', 'stationary'): (0.0733, 0.0111, 0.0092, 0.0124, 0.0269, 0.0553, 0.1272, 0.3538, 1.2229),
    ('heavy_ball_ema', 'symbolic', 'stationary'): (0.0619, 0.0211, 0.0539, 0.1427, 0.5625, 1.8905),
    ('heavy_ball_ema', 'numeric', 'stationary'): (0.0697, 0.0188, 0.023, 0.0392, 0.0779, 0.1354, 0.2672, 0.563),
    ('nesterov', 'symbolic', 'stationary'): (0.0986, 0.0324, 0.057, 0.2565, 0.9506),
    ('nesterov', 'numeric', 'stationary'): (0.0782, 0.0117, 0.0109, 0.017, 0.0331, 0.0609, 0.1766, 0.5112, 1.2178),
    ('rmsprop', 'symbolic', 'stationary'): (0.1022, 0.0597, 0.1556, 0.7619),
    ('rmsprop', 'numeric', 'stationary'): (0.0683, 0.0439, 0.0796, 0.6771),
    ('adam', 'symbolic', 'stationary'): (0.0712, 0.0515, 0.343, 3.125),
    ('adam', 'numeric', 'stationary'): (0.0729, 0.0539, 0.1323, 0.9778),
    ('adamw', 'symbolic', 'stationary'): (0.116, 0.1166, 0.7493),
    ('adamw', 'numeric', 'stationary'): (0.1055, 0.0719, 0.3046),
    ('sam', 'symbolic', 'stationary'): (0.0596, 0.0222, 0.0198, 0.063, 0.2208, 1.0074),
    ('sam', 'numeric', 'stationary'): (0.0759, 0.0235, 0.0294, 0.0623, 0.209, 0.9061),
    ('usam', 'symbolic', 'stationary'): (0.0723, 0.0126, 0.0184, 0.0486, 0.1593, 0.5192, 2.1712),
    ('usam', 'numeric', 'stationary'): (0.0716, 0.0036, 0.0094, 0.0097, 0.0172, 0.0303, 0.0782, 0.2616, 0.9995),
    ('signum', 'symbolic', 'stationary'): (0.0847, 0.0387, 0.187, 0.8352),
    ('signum', 'numeric', 'stationary'): (0.1044, 0.0598, 0.1383, 0.9168),
    ('lion', 'symbolic', 'stationary'): (0.1306, 0.1145, 0.6653),
    ('lion', 'numeric', 'stationary'): (0.14, 0.0631, 0.1252, 1.0676),
    # Lookahead (k = 5) nests its inner steps: costed like no other built-in (``--names lookahead``)
    ('lookahead', 'symbolic', 'stationary'): (0.449, 0.2755, 8.9406),
    ('lookahead', 'numeric', 'stationary'): (0.4191, 0.1156, 0.3564, 2.2598),
    ('heavy_ball', 'symbolic', 'exact'): (0.139, 0.2277),
    ('heavy_ball', 'numeric', 'exact'): (0.1067, 0.0933, 0.708, 1.919),
    ('rmsprop', 'symbolic', 'exact'): (0.8581,),
    ('rmsprop', 'numeric', 'exact'): (0.1283,),
    ('adam', 'numeric', 'exact'): (0.1927, 0.5769),
}
#: Step-by-step fields of ``derive_steps`` (3 batches), CPU seconds of each
#: step 0, 1, ...: ``(optimizer, "symbolic" | "numeric", order) -> seconds``.
STEPS: dict[tuple[str, str, int], tuple[float, ...]] = {
    ('heavy_ball', 'numeric', 1): (
        0.05, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.02, 0.01, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02,
        0.02, 0.02, 0.01, 0.01, 0.01, 0.02, 0.02, 0.02, 0.02, 0.01, 0.02, 0.03, 0.02, 0.02, 0.02, 0.02, 0.01,
        0.02, 0.02, 0.02, 0.01, 0.02, 0.02, 0.01, 0.02, 0.01, 0.02, 0.01, 0.01, 0.01, 0.01, 0.01, 0.02, 0.01,
        0.01, 0.01, 0.02, 0.01, 0.01, 0.02, 0.03, 0.02, 0.02, 0.01, 0.02, 0.02, 0.02
    ),
    ('heavy_ball', 'symbolic', 1): (
        0.07, 0.02, 0.03, 0.06, 0.08, 0.13, 0.18, 0.16, 0.18, 0.23, 0.27, 0.68, 0.56, 0.48, 0.75, 0.74, 0.76,
        1.03, 1.15, 0.78, 1.7, 1.61, 1.04
    ),
    ('heavy_ball', 'numeric', 2): (
        0.08, 0.02, 0.07, 0.13, 0.1, 0.14, 0.11, 0.12, 0.11, 0.1, 0.09, 0.16, 0.1, 0.12, 0.13, 0.13, 0.12, 0.14,
        0.16, 0.16, 0.11, 0.12, 0.12, 0.11, 0.13, 0.16, 0.16, 0.12, 0.16, 0.1, 0.14, 0.15, 0.21, 0.11, 0.13,
        0.15, 0.13, 0.15, 0.15, 0.12, 0.14, 0.14, 0.11, 0.11, 0.12, 0.15, 0.16, 0.16, 0.13, 0.12, 0.15, 0.16,
        0.13, 0.16, 0.12, 0.17, 0.14, 0.16, 0.14, 0.14, 0.12, 0.12, 0.13, 0.14
    ),
    ('heavy_ball', 'symbolic', 2): (0.1, 0.08, 0.26, 0.58, 1.1, 1.77),
    ('adam', 'numeric', 1): (
        0.09, 0.08, 0.25, 0.34, 0.35, 0.45, 0.58, 0.7, 0.61, 0.73, 0.83, 0.82, 0.95, 0.92, 1.1, 1.1, 0.99, 1.3,
        1.35, 1.42, 1.59, 1.61, 1.58
    ),
    ('adam', 'symbolic', 1): (0.14, 0.59),
}
#: Materializing, generating and compiling the field for a loss whose Hessian
#: pattern has ``coupled`` entries (numeric defaults):
#: ``(optimizer, order, coupled) -> seconds``.
COMPILE: dict[tuple[str, int, int], float] = {
    ("gd", 1, 12): 1.34, ("gd", 1, 48): 1.79, ("gd", 1, 192): 4.08,  # chain
    ("gd", 1, 16): 1.55, ("gd", 1, 64): 1.91, ("gd", 1, 256): 3.62, ("gd", 1, 1024): 14.69,  # dense
    ("gd", 1, 4096): 71.0,  # dense, p = 64
    ("adam", 1, 16): 1.65, ("adam", 1, 64): 2.19, ("adam", 1, 256): 3.42,  # dense
    ("gd", 2, 16): 1.84, ("gd", 2, 64): 2.12, ("gd", 2, 256): 5.74,  # dense
}

#: Growth per order assumed beyond the measured ones when fewer than two were measured.
_GROWTH = 4.0


def _features(optimizer) -> tuple[int, int]:
    """(moving averages and lags, operations) of the update: what the cost grows with."""
    import sympy

    from .optimizers.language import EMA, Lag

    update = optimizer.update()
    return len(update.atoms(EMA, Lag)), int(sympy.count_ops(update))


def _builtin(optimizer) -> str | None:
    """The name of the built-in ``optimizer`` is, unchanged (same description), else None.
    The built-in itself, or a copy with its options, is it without hashing the
    description (Lookahead's takes a second); a copy with other options, which
    change the form of the update, is not."""
    from .optimizers.library import BUILTIN

    same = BUILTIN.get(optimizer.name)
    if same is None:
        return None
    if same.build is optimizer.build and same.hyperparameters == optimizer.hyperparameters:
        return optimizer.name if dict(same.options) == dict(optimizer.options) else None
    return optimizer.name if same.key() == optimizer.key() else None


def _nearest(optimizer, names) -> str:
    """The measured built-in closest to ``optimizer`` in memory, then description size."""
    from .optimizers.library import BUILTIN

    memory, size = _features(optimizer)

    def distance(name):
        m, s = _features(BUILTIN[name])
        return (abs(m - memory), abs(math.log((s + 1) / (size + 1))))

    return min(names, key=distance)


def _mode(optimizer, values: Mapping[str, Any] | None) -> str:
    given = set(values or ())
    return "numeric" if all(hp.name in given for hp in optimizer.hyperparameters) else "symbolic"


def _extrapolate(measured: tuple[float, ...], count: int) -> list[float]:
    """``count`` per-order (or per-step) seconds: the measured ones, then the
    last one times the last measured ratio per order (at least 1.5)."""
    times = list(measured[:count])
    ratio = max(measured[-1] / measured[-2], 1.5) if len(measured) >= 2 and measured[-2] > 0 else _GROWTH
    while len(times) < count:
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
    times = _extrapolate(DERIVE[key], order + 1)
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


def steps_seconds(optimizer, steps: int, order: int, values: Mapping[str, Any] | None = None) -> float:
    r"""Estimated CPU seconds of ``derive_steps(optimizer, steps, order, ...)``.

    Step :math:`s` costs about :math:`c\,(s+1)^\gamma` (it expands every
    moving average over the :math:`s` earlier steps; :math:`\gamma \approx 1`
    with numeric hyperparameters, 2–3 with symbolic ones), fitted on the
    measured steps of the nearest measured case (same mode, then the closest
    optimizer, then the closest order) and scaled by the ratio of the
    one-field derivation costs when the optimizer or the order differ."""
    from .optimizers.library import BUILTIN

    mode = _mode(optimizer, values)
    cases = [k for k in STEPS if k[1] == mode] or list(STEPS)
    name = _builtin(optimizer)
    if name not in {k[0] for k in cases}:
        name = _nearest(optimizer, {k[0] for k in cases})
    key = min((k for k in cases if k[0] == name), key=lambda k: (abs(k[2] - order), -k[2]))
    c, gamma = _power([(s + 1, t) for s, t in enumerate(STEPS[key]) if s >= 1 and t > 0], default=2.0)
    scale = 1.0
    if (name, key[2]) != (_builtin(optimizer), order):
        reference = BUILTIN[name]
        scale = (derive_seconds(optimizer, order, values=values)
                 / derive_seconds(reference, key[2], values=reference.defaults() if key[1] == "numeric" else None))
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
    as many fields): interpolated in the measurements of :data:`COMPILE` (per optimizer and
    order) and extrapolated as :math:`t_0 + c\,\text{coupled}^{\alpha}`
    (:func:`_interpolate`); another optimizer or order is
    scaled from the nearest measured one by the ratio of their derivation costs."""
    from .optimizers.library import BUILTIN

    measured = sorted({(k[0], k[1]) for k in COMPILE})
    name = _builtin(optimizer)
    if name not in {m for m, _ in measured}:
        name = _nearest(optimizer, {m for m, _ in measured})
    order_measured = min((k for m, k in measured if m == name), key=lambda k: (abs(k - order), -k))
    points = sorted((n, t) for (m, k, n), t in COMPILE.items() if m == name and k == order_measured)
    seconds = _interpolate(points, max(coupling, 1))
    scale = 1.0
    if (name, order_measured) != (_builtin(optimizer), order):
        reference = BUILTIN[name]
        scale = max(1.0, derive_seconds(optimizer, order, values=values)
                    / derive_seconds(reference, order_measured, values=reference.defaults()))
    return max(1, fields) * seconds * scale


def _interpolate(points: list[tuple[int, float]], n: int) -> float:
    r"""Seconds at ``n`` coupled pairs: :math:`t_0 + (t - t_0)` interpolated
    log-log between the measured points (:math:`t_0`, 80% of the cheapest,
    is what any field costs), beyond them extrapolated with the growth
    exponent measured at the largest sizes (:func:`_asymptotic_exponent`)."""
    fixed = 0.8 * min(t for _, t in points)
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
    fixed = 0.8 * min(t for (m, k, _), t in COMPILE.items() if (m, k) == case)
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
