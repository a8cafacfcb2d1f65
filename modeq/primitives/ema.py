r"""``ema(x, decay, init=0, bias_correction=False)``: the exponential moving
average :math:`m_{n+1} = \beta m_n + (1-\beta)x_n`, :math:`m_0 = \text{init}`,
divided by :math:`1-\beta^{n+1}` with bias correction; its value at step
:math:`n` includes :math:`x_n`.

A history sum with weights :math:`a_k = (1-\beta)\beta^k`:

* stationary moments :math:`w_r = (-1)^r c_r(\beta)`,
  :math:`c_r(\beta) = (1-\beta)\,\mathrm{Li}_{-r}(\beta)` (initial state and
  bias correction forgotten);
* exact regime: :math:`n+1` terms plus :math:`\beta^{n+1}` times the initial
  state, over :math:`1-\beta^{n+1}` with bias correction; to first order
  :math:`\sum_{k=0}^{n} a_k[x_0^{(n-k)} + h(x_1^{(n-k)} - \sum_{l=1}^{k} L_{F_0^{(n-l)}} x_0^{(n-k)})]`
  with closed-form sums in :math:`n`, :math:`\beta^n` (:mod:`modeq.regimes`);
  :math:`L_{F_0} = L_{f_0} + \partial_t` along the flow on :math:`(\theta, t)`;
* concrete steps: the sum in Horner form
  :math:`a_0 u_s + B_{s-1}(a_1 u_{s-1} + B_{s-2}(\dots))`, :math:`B_t = e^{-hL_{f^{(t)}}}`,
  built as the recurrence :math:`A_s = (1-\beta)u_s + \beta B_{s-1}(A_{s-1})` with
  the sums of earlier steps kept, so that :math:`N` steps cost :math:`O(N)` flows.

A *scheduled* decay :math:`\beta(t)` (an expression in the time :math:`t`,
possibly also in :math:`h`, such as AdEMAMix's :math:`\beta_3` warm-up or the
product of NAdam's momentum schedule) is evaluated at the step's own time:
:math:`m_{n+1} = \beta(t_n) m_n + (1-\beta(t_n)) x_n`. Its weights are no longer
powers of one :math:`\beta`, but the invariant manifold :math:`m_{n+1} = \sigma(\theta_n, t_n)`
is fixed by :math:`\sigma = \beta\,\sigma\circ\varphi_{-h} + (1-\beta)x`, i.e.

.. math:: \sigma = x + \frac{\beta}{1-\beta}\big(\sigma\circ\varphi_{-h} - \sigma\big),
          \qquad \sigma\circ\varphi_{-h} = \sum_r \frac{(-h)^r}{r!} L_F^r \sigma,

where :math:`\beta` is only needed at the current time and the bracket is
:math:`O(h)`: each pass of this fixed-point iteration fixes one more order
(stationary regime; for a constant :math:`\beta` it reproduces the moments
:math:`c_r(\beta)`). Bias correction by :math:`1-\beta^{n+1}` has no meaning
for a varying decay and is refused; the exact regime and concrete steps need
closed forms or per-step values of the decay and refuse it too.

Lowering: a state array updated every step.
"""

from __future__ import annotations

import math

import sympy

from ..algebra.base import STEP, TIME
from ..description import DescriptionError, h, t as TIME_SYMBOL
from ..regimes import INNER_INDEX as _l, SUM_INDEX as _k, closed_sum, ema_moment, separate, tidy
from ..series import Series
from .history import History

__all__ = ["EMA", "ema", "FORGOTTEN"]

#: Weight :math:`\beta^K` below which the state before a replay is invisible.
FORGOTTEN = 1e-18
#: Times :math:`t = k/4` at which a scheduled decay is sampled for the length of
#: a replay (:math:`0 \le t \le 8`: a replay never reaches before the optimizer's
#: start, :mod:`modeq.numerics.verify`, where a schedule may leave :math:`[0, 1)`).
SCHEDULE_SAMPLES = range(0, 33)


class EMA(History):
    r"""``EMA(x, decay, init, bias_correction)``: exponential moving average."""

    nargs = 4

    @property
    def decay(self) -> sympy.Expr:
        return self.args[1]

    def moment(self, r):
        return (-1) ** r * ema_moment(self.decay, r)

    @property
    def scheduled(self) -> bool:
        """Whether the decay varies with the time :math:`t`."""
        return self.decay.has(TIME_SYMBOL)

    def expand(self, expander, order):
        if self.scheduled and expander.offset is None:
            if expander.regime.method != "stationary":
                raise DescriptionError(
                    f"an ema whose decay varies with the time t ({self.decay}) has no closed form over the steps; "
                    "it is expanded in the stationary regime only (regime='stationary')")
            return self._scheduled(expander, order)
        return super().expand(expander, order)

    def _scheduled(self, expander, order):
        r"""The fixed point :math:`\sigma = x + \tfrac{\beta}{1-\beta}(\sigma\circ\varphi_{-h} - \sigma)`
        (see the module docs), one order per pass."""
        x = expander.expand(self.args[0], order)
        ratio = expander.expand(self.decay / (1 - self.decay), order)
        if not all(expander.algebra.is_finite(c) for c in ratio.coeffs):
            raise DescriptionError(f"the decay {self.decay} of an ema reaches 1 as h -> 0, where the average has "
                                   "no expansion in h; a decay must stay below 1")
        sigma = x
        for _ in range(order):
            back = sigma.flow_moments(lambda r: sympy.Integer(-1) ** r, expander.unknowns.flow_field(order))
            sigma = x + ratio * (back - sigma)
        return sigma

    def replay_steps(self):
        decay = self.decay.xreplace({h: 0})
        if decay.free_symbols == {TIME_SYMBOL}:  # the slowest decay over the times a replay may visit
            values = [decay.xreplace({TIME_SYMBOL: sympy.Rational(k, 4)}).evalf() for k in SCHEDULE_SAMPLES]
            decay = max((v for v in values if v.is_real and v.is_finite), default=sympy.nan)
        if decay.free_symbols or decay is sympy.nan:
            return 0
        beta = float(decay)
        return math.ceil(math.log(FORGOTTEN) / math.log(beta)) if 0 < beta < 1 else 0

    # -- exact regime ------------------------------------------------------------------

    def _exact(self, expander, order):
        alg = expander.algebra
        x, decay, init, bias_correction = self.args
        series = expander.expand(x, order)
        # a_k, k = 0..n (over 1 - decay^(n+1) with bias correction, so that the sums cancel it)
        normalization = 1 / (1 - decay ** (STEP + 1)) if bool(bias_correction) else sympy.Integer(1)
        weight = (1 - decay) * decay**_k * normalization
        if order >= 2:
            result = _one_field(expander.unknowns, series, weight, order)
        else:
            result = _first_order(expander.unknowns, series, weight, order)
        if init != 0:
            result = result + Series.constant(alg, alg.constant(tidy(init * decay ** (STEP + 1) * normalization)), order)
        return result

    # -- concrete steps ------------------------------------------------------------------

    def _steps(self, expander, order):
        regime, alg = expander.regime, expander.algebra
        x, decay, init, bias_correction = self.args
        s, derivation = regime.step, regime.derivation
        normalization = 1 / (1 - decay ** (s + 1)) if bool(bias_correction) else sympy.Integer(1)
        acc = self._horner(expander.expand(x, order), derivation, s, order).scale(normalization)
        if init != 0:
            acc = acc + Series.constant(alg, alg.constant(init * decay ** (s + 1) * normalization), order)
        return acc

    def _horner(self, u, derivation, t, order):
        r""":math:`A_t = (1-\beta) u_t + \beta B_{t-1}(A_{t-1})`, the unnormalized
        average at step :math:`t` (``u`` its quantity there), the Horner form
        :math:`\sum_{k \le t} (1-\beta)\beta^{t-k} P_k u_k`; the sums of the known
        steps are kept in ``derivation.memo``, so step :math:`s` costs one flow,
        not :math:`s`."""
        x, decay = self.args[0], self.args[1]
        result = u.scale(1 - decay)
        if t > 0:
            key = (self, t - 1, order)
            if key not in derivation.memo:
                derivation.memo[key] = self._horner(derivation.expander(t - 1).expand(x, order), derivation, t - 1, order)
            result = result + derivation.pull_back(derivation.memo[key], t - 1, t).scale(decay)
        return result

    # -- compiled iterates -----------------------------------------------------------------

    def lower(self, out, name, args):
        x, (decay, init, bias) = args[0], self.args[1:]
        beta = out.scalar(decay, "an EMA decay")
        init_value = out.number(init, "the initial state of an EMA")
        out.setup(f"{name} = np.empty(p)", f"m_{name} = np.full(p, {init_value!r})")
        scale = f" / (1.0 - ({beta})**(it + 1))" if bias == sympy.true else ""
        out.step("for j in range(p):",
                 f"    m_{name}[j] = ({beta}) * m_{name}[j] + (1.0 - ({beta})) * ({out.code(x)})",
                 f"    {name}[j] = m_{name}[j]{scale}")


def _history(alg, value, weight, what):
    r""":math:`\sum_{k=0}^{n} a_k\,x^{(n-k)}` for a separable ``value``."""
    total = alg.zero
    for scalar, field in separate(alg, value, what):
        coefficient = closed_sum(weight * scalar.xreplace({STEP: STEP - _k}), _k, 0, STEP)
        total = alg.add(total, alg.mul(alg.constant(coefficient), field))
    return total


def _first_order(unknowns, series, weight, order):
    alg = unknowns.algebra
    coeffs = [_history(alg, series.coeffs[0], weight, "the averaged quantity")]
    if order == 1:
        drift = alg.zero
        f0 = separate(alg, unknowns.term(0), "the order-0 field")
        for s_x, x0 in separate(alg, series.coeffs[0], "the averaged quantity"):
            for s_f, y in f0:
                inner = closed_sum(s_f.xreplace({STEP: STEP - _l}), _l, 1, _k)
                coefficient = closed_sum(weight * s_x.xreplace({STEP: STEP - _k}) * inner, _k, 0, STEP)
                drift = alg.add(drift, alg.mul(alg.constant(coefficient), alg.lie_along(x0, y)))
            elapsed = alg.lie_along(x0, TIME)  # the time component of F_0 is 1 at every step: sum_l 1 = k
            if not alg.is_trivially_zero(elapsed):
                coefficient = closed_sum(weight * s_x.xreplace({STEP: STEP - _k}) * _k, _k, 0, STEP)
                drift = alg.add(drift, alg.mul(alg.constant(coefficient), elapsed))
        first = _history(alg, series.coeffs[1], weight, "the averaged quantity")
        coeffs.append(alg.add(first, alg.mul(alg.constant(-1), drift)))
    return Series(alg, coeffs)


def _one_field(unknowns, series, weight, order):
    """Orders >= 2: only when nothing depends on the step (one autonomous
    flow, finite moments); otherwise the ordered products of step flows
    would be needed."""
    alg = unknowns.algebra
    stepped = [c for c in list(series.coeffs) + [unknowns.term(i) for i in range(order)]
               if any(s != 1 for s, _ in separate(alg, c, "the expansion"))]
    if stepped:
        raise DescriptionError(
            f"exact regime: order {order} of a moving average over step-dependent fields needs ordered "
            "products of the step flows, which modeq does not expand; the exact regime is available to "
            "first order for optimizers with memory; modeq.derive_steps(optimizer, steps=N, order=k) gives "
            "every order for concrete steps 0..N-1, the stationary regime every order for late steps"
        )
    return series.flow_moments(lambda r: closed_sum(weight * (-_k) ** r, _k, 0, STEP), unknowns.flow_field(order))


def check_decay(decay: sympy.Expr) -> None:
    r"""A decay :math:`\beta` must be fixed as :math:`h \to 0` and in :math:`[0, 1)`;
    otherwise the average does not forget at a rate independent of :math:`h`
    and its moment series :math:`c_r(\beta)` is not an expansion in :math:`h`.
    A scheduled decay :math:`\beta(t)` may hold :math:`h` through a step count
    (:math:`\beta(t+h)`, the decay of step :math:`k = n+1`): it is expanded as a
    series, and refused if it reaches 1 as :math:`h \to 0`."""
    if decay.has(TIME_SYMBOL):
        if decay.xreplace({h: 0}) == 1:
            raise DescriptionError(f"the scheduled decay {decay} tends to 1 as h -> 0: the average does not forget "
                                   "at a rate independent of h; write it as a slow state")
        return
    if decay.has(h):
        raise DescriptionError(
            f"the decay {decay} depends on the step size h, so the average is not fast (it forgets at a rate that "
            "vanishes with h) and its expansion would put h into the derived terms; write it as a slow state, "
            "e.g. state(lambda m: m + c*h*(x - m)), or use a decay fixed as h -> 0"
        )
    if decay.is_number:
        if decay == 1:
            raise DescriptionError(
                "a decay of 1 never forgets: that is a running sum, not a moving average; write it as a slow state "
                "with the step size, e.g. AdaGrad's state(lambda v: v + h*grad()**2) (h = eta^2, V' = h V)"
            )
        if not (decay.is_real and 0 <= decay < 1):
            raise DescriptionError(f"the decay {decay} is outside [0, 1): the average would not converge")


def ema(x, decay, init=0, bias_correction: bool = False) -> sympy.Expr:
    r"""Exponential moving average :math:`m_{n+1} = \beta m_n + (1-\beta) x_n`
    (the decay may be scheduled, :math:`\beta(t_n)`; see the module docs)."""
    decay = sympy.sympify(decay)
    check_decay(decay)
    if bias_correction and decay.has(TIME_SYMBOL):
        raise DescriptionError(
            f"ema(x, {decay}, bias_correction=True): a decay that varies with the time t has no bias correction "
            "1 - beta^(n+1); divide by the product of the decays yourself (an ema of 0 with init=1 and the same "
            "decay is that product)")
    return EMA(sympy.sympify(x), decay, sympy.sympify(init), sympy.true if bias_correction else sympy.false)
