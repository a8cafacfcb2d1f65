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
#: of wall time passed without one, or order 12: ``benchmarks/cost.py --only derive
#: --budget 6``, measured on the loaded shared machine on 2026-12-01 after the
#: kernel's speedups of issue 17, GD, heavy ball (both regimes), its EMA form,
#: Nesterov and USAM again with orders up to 12; the earlier table was about 5x
#: too high at GD order 8, 6x at order 12):
#: ``(optimizer, "symbolic" | "numeric", regime) -> seconds``.
DERIVE: dict[tuple[str, str, str], tuple[float, ...]] = {
    ('gd', 'symbolic', 'stationary'): (0.0215, 0.0011, 0.0011, 0.0015, 0.0027, 0.0062, 0.0128, 0.0378, 0.1639, 0.328,
                                       1.3281, 4.2179),
    ('gd', 'numeric', 'stationary'): (0.0206, 0.0011, 0.0009, 0.0014, 0.0026, 0.0058, 0.013, 0.0352, 0.1908, 0.3521,
                                      1.3752, 4.9394),
    ('heavy_ball', 'symbolic', 'stationary'): (0.0241, 0.008, 0.0065, 0.0164, 0.0591, 0.2375, 0.9239, 4.3936),
    ('heavy_ball', 'numeric', 'stationary'): (0.0208, 0.0013, 0.0017, 0.0025, 0.0039, 0.0088, 0.0189, 0.0537, 0.1812,
                                              0.4768, 1.6981, 5.4565),
    ('heavy_ball_ema', 'symbolic', 'stationary'): (0.0188, 0.0081, 0.0136, 0.0214, 0.0556, 0.1694, 0.6784, 3.236),
    ('heavy_ball_ema', 'numeric', 'stationary'): (0.0194, 0.0063, 0.007, 0.0096, 0.0194, 0.0237, 0.0444, 0.0897,
                                                  0.2619, 0.6841, 2.2442, 7.4977),
    ('nesterov', 'symbolic', 'stationary'): (0.0212, 0.0077, 0.0083, 0.0232, 0.0889, 0.431, 1.8923),
    ('nesterov', 'numeric', 'stationary'): (0.023, 0.0022, 0.0024, 0.0036, 0.0075, 0.0136, 0.0298, 0.0815, 0.2957,
                                            1.093, 4.6701),
    ('rmsprop', 'symbolic', 'stationary'): (0.0344, 0.0176, 0.043, 0.1387, 1.0547),
    ('rmsprop', 'numeric', 'stationary'): (0.0265, 0.0129, 0.0285, 0.2203, 4.316),
    ('adam', 'symbolic', 'stationary'): (0.0324, 0.0216, 0.0648, 0.3758, 3.7177),
    ('adam', 'numeric', 'stationary'): (0.0272, 0.0141, 0.0328, 0.2425, 4.5169),
    ('adamw', 'symbolic', 'stationary'): (0.0329, 0.0264, 0.17, 2.1611),
    ('adamw', 'numeric', 'stationary'): (0.0328, 0.0183, 0.0689, 1.2265),
    ('sam', 'symbolic', 'stationary'): (0.0252, 0.0079, 0.0099, 0.0218, 0.0626, 0.2809, 1.5436),
    ('sam', 'numeric', 'stationary'): (0.0239, 0.0108, 0.0075, 0.0133, 0.0413, 0.1769, 1.2909),
    ('usam', 'symbolic', 'stationary'): (0.0193, 0.0025, 0.0032, 0.0074, 0.021, 0.0742, 0.347, 1.5671, 8.1832),
    ('usam', 'numeric', 'stationary'): (0.0205, 0.0013, 0.0012, 0.0021, 0.0032, 0.0081, 0.0156, 0.0418, 0.1712,
                                        0.3365, 1.363, 4.6789),
    ('signum', 'symbolic', 'stationary'): (0.0314, 0.0155, 0.0353, 0.0993, 0.6744, 5.5645),
    ('signum', 'numeric', 'stationary'): (0.0289, 0.0153, 0.0338, 0.2403),
    ('lion', 'symbolic', 'stationary'): (0.0419, 0.0352, 0.2304, 1.871),
    ('lion', 'numeric', 'stationary'): (0.0395, 0.0166, 0.0372, 0.2758),
    # Lookahead (k = 5) nests its inner steps: costed like no other built-in (``--names lookahead``);
    # its symbolic order 2 (10.3 s) measured alone, the benchmark's wall limit cut it on the loaded machine
    ('lookahead', 'symbolic', 'stationary'): (0.3021, 0.2972, 10.3398),
    ('lookahead', 'numeric', 'stationary'): (0.2937, 0.1513, 0.4741, 3.0602),
    ('heavy_ball', 'symbolic', 'exact'): (0.0367, 0.0569, 0.8881),
    ('heavy_ball', 'numeric', 'exact'): (0.0337, 0.0285, 0.1965, 0.6692, 5.3007),
    ('rmsprop', 'symbolic', 'exact'): (0.3592,),
    ('rmsprop', 'numeric', 'exact'): (0.0468,),
    ('adam', 'symbolic', 'exact'): (0.5911, 0.7744),
    ('adam', 'numeric', 'exact'): (0.0824, 0.2411),
}
#: Step-by-step fields of ``derive_steps`` (3 batches), CPU seconds of each
#: step 0, 1, ... (``benchmarks/cost.py --only steps --budget 6``, 2026-12-01, numeric
#: fields in the distributed form): ``(optimizer, "symbolic" | "numeric", order) -> seconds``.
STEPS: dict[tuple[str, str, int], tuple[float, ...]] = {
    ('heavy_ball', 'numeric', 1): (
        0.0207, 0.0019, 0.0026, 0.0025, 0.0023, 0.0026, 0.0034, 0.0023, 0.0031, 0.0025, 0.0025, 0.0023, 0.0024, 0.003,
        0.0024, 0.0037, 0.0031, 0.0028, 0.004, 0.0039, 0.0026, 0.0028, 0.0027, 0.0024, 0.0029, 0.0027, 0.0023, 0.0027,
        0.0025, 0.0026, 0.0023, 0.0026, 0.0024, 0.0026, 0.0025, 0.0035, 0.0025, 0.0026, 0.0023, 0.0027, 0.0026, 0.0025,
        0.0026, 0.0026, 0.0024, 0.0026, 0.0026, 0.0026, 0.0025, 0.0025, 0.0025, 0.0027, 0.0036, 0.0036, 0.0037, 0.0028,
        0.0026, 0.0027, 0.003, 0.0061, 0.0031, 0.0027, 0.0026, 0.0026
    ),
    ('heavy_ball', 'symbolic', 1): (
        0.0207, 0.008, 0.0104, 0.0135, 0.0141, 0.023, 0.0218, 0.0278, 0.0341, 0.0406, 0.0455, 0.0738, 0.0697, 0.0799,
        0.1053, 0.1006, 0.1109, 0.1794, 0.1639, 0.1298, 0.1874, 0.1661, 0.2047, 0.3644, 0.2238, 0.2904, 0.3679, 0.34,
        0.3638, 1.5505, 0.5148, 0.5253, 0.5926, 0.4666, 0.5329, 1.1263, 0.6224, 0.6796, 0.9138, 0.71, 0.9533, 4.5071,
        0.928, 1.1279, 2.0181, 1.2729, 1.2749, 3.0825, 1.4733, 1.5841, 2.1363, 1.9707, 1.9512, 3.6442, 2.0291, 2.137,
        3.4341, 2.5914, 2.3944
    ),
    ('heavy_ball', 'numeric', 2): (
        0.0227, 0.0057, 0.0118, 0.0113, 0.0125, 0.0112, 0.0112, 0.0122, 0.0119, 0.0115, 0.0129, 0.0139, 0.0129, 0.0153,
        0.0145, 0.0629, 0.0124, 0.0124, 0.0139, 0.011, 0.0116, 0.0119, 0.0147, 0.0123, 0.0139, 0.0127, 0.0153, 0.0118,
        0.013, 0.0123, 0.017, 0.0132, 0.014, 0.0132, 0.0133, 0.0161, 0.0145, 0.0131, 0.0125, 0.0163, 0.0148, 0.0132,
        0.0146, 0.0137, 0.0154, 0.0134, 0.0144, 0.0137, 0.0172, 0.014, 0.0136, 0.0142, 0.0137, 0.0168, 0.0142, 0.0139,
        0.0136, 0.0174, 0.0138, 0.0135, 0.0137, 0.0134, 0.1063, 0.0132
    ),
    ('heavy_ball', 'symbolic', 2): (
        0.0264, 0.0197, 0.0541, 0.0896, 0.158, 0.2466, 0.2665, 0.3455, 0.3683, 0.521, 0.7218, 0.746, 0.8757, 1.1459,
        1.1739, 1.3664, 1.6896, 1.6451, 1.9057, 2.1395, 2.4674, 2.9471, 3.5459, 3.7575, 3.9129, 4.6643, 4.539, 5.5995,
        6.5373
    ),
    ('adam', 'numeric', 1): (
        0.0336, 0.0189, 0.0262, 0.0216, 0.0266, 0.016, 0.0254, 0.0286, 0.0209, 0.0307, 0.0856, 0.0232, 0.0313, 0.0341,
        0.0253, 0.0376, 0.0398, 0.0297, 0.0442, 0.0535, 0.0371, 0.0466, 0.124, 0.0375, 0.0489, 0.0508, 0.0421, 0.0528,
        0.0567, 0.0482, 0.1582, 0.0558, 0.049, 0.0614, 0.0666, 0.1784, 0.0645, 0.0714, 0.0586, 0.068, 0.2247, 0.0679,
        0.08, 0.082, 0.2227, 0.0729, 0.0751, 0.0629, 0.2636, 0.0839, 0.0755, 0.1094, 0.103, 0.3049, 0.0955, 0.1002,
        0.0861, 0.3689, 0.1064, 0.1001, 0.1072, 0.1106, 0.363, 0.1102
    ),
    ('adam', 'symbolic', 1): (0.0451, 0.1229, 0.3714, 0.9755, 1.7687, 2.4576, 5.1707, 7.3),
    ('adam', 'numeric', 2): (
        0.0407, 0.0694, 0.371, 0.7513, 1.0794, 1.1713, 2.0905, 2.9274, 2.7741, 3.894, 5.567, 4.4965, 6.6681
    ),
    ('adam', 'symbolic', 2): (0.0556, 2.6097),
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
