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
  :math:`\sum_{k=0}^{n} a_k[x_0^{(n-k)} + h(x_1^{(n-k)} - \sum_{l=1}^{k} L_{f_0^{(n-l)}} x_0^{(n-k)})]`
  with closed-form sums in :math:`n`, :math:`\beta^n` (:mod:`modeq.regimes`);
* concrete steps: the sum in Horner form
  :math:`a_0 u_s + B_{s-1}(a_1 u_{s-1} + B_{s-2}(\dots))`, :math:`B_t = e^{-hL_{f^{(t)}}}`,
  built as the recurrence :math:`A_s = (1-\beta)u_s + \beta B_{s-1}(A_{s-1})` with
  the sums of earlier steps kept, so that :math:`N` steps cost :math:`O(N)` flows.

Lowering: a state array updated every step.
"""

from __future__ import annotations

import math

import sympy

from ..algebra.base import STEP
from ..description import DescriptionError, h
from ..regimes import INNER_INDEX as _l, SUM_INDEX as _k, closed_sum, ema_moment, separate, tidy
from ..series import Series
from .history import History

__all__ = ["EMA", "ema", "FORGOTTEN"]

#: Weight :math:`\beta^K` below which the state before a replay is invisible.
FORGOTTEN = 1e-18


class EMA(History):
    r"""``EMA(x, decay, init, bias_correction)``: exponential moving average."""

    nargs = 4

    @property
    def decay(self) -> sympy.Expr:
        return self.args[1]

    def moment(self, r):
        return (-1) ** r * ema_moment(self.decay, r)

    def replay_steps(self):
        if self.decay.free_symbols:
            return 0
        beta = float(self.decay)
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
    and its moment series :math:`c_r(\beta)` is not an expansion in :math:`h`."""
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
    r"""Exponential moving average :math:`m_{n+1} = \beta m_n + (1-\beta) x_n`."""
    check_decay(sympy.sympify(decay))
    return EMA(sympy.sympify(x), sympy.sympify(decay), sympy.sympify(init), sympy.true if bias_correction else sympy.false)
