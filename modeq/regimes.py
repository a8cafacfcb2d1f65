r"""Regimes: how an optimizer's memory is summed along the modified flow.

On the modified trajectory past iterates are flows of the present one, so every
history quantity becomes a Lie series at the current point :math:`\theta_n`.

*Stationary* (:math:`n \to \infty`, DESIGN.md §1.2). One autonomous field
:math:`f`; :math:`\theta_{n-k} = \varphi_{-kh}(\theta_n)`; a weighted history
sum :math:`\sum_k a_k\,u(\theta_{n-k})` is
:math:`\sum_r \frac{h^r}{r!} w_r L_f^r u` with the moments
:math:`w_r = \sum_k a_k (-k)^r`. For an EMA,
:math:`a_k = (1-\beta)\beta^k` (:math:`k \ge 0`) and
:math:`w_r = (-1)^r c_r(\beta)`, :math:`c_r(\beta) = (1-\beta)\,\mathrm{Li}_{-r}(\beta)`
(:math:`c_1 = \beta/(1-\beta)`, :math:`c_2 = \beta(1+\beta)/(1-\beta)^2`, …);
initial states and bias corrections no longer matter.

*Exact* (every step :math:`n \ge 0`, the paper's Theorem 3.1). One field
:math:`f^{(n)}` per step (a piecewise ODE), from EMAs that start at their
initial state, with or without bias correction. The history is the backward
composition of the step flows,
:math:`u(\theta_{n-k}) = e^{-hL_{f^{(n-1)}}} \cdots e^{-hL_{f^{(n-k)}}} u\,(\theta_n)`,
which is exact to every order for a fixed lag :math:`k`. An EMA sums
:math:`n+1` such terms with weights :math:`a_k = (1-\beta)\beta^k`
(:math:`k \le n`), plus :math:`\beta^{n+1}` times its initial state, all over
:math:`1-\beta^{n+1}` with bias correction; to first order

.. math:: \sum_{k=0}^{n} a_k\Big[x_0^{(n-k)} + h\Big(x_1^{(n-k)}
          - \sum_{l=1}^{k} L_{f_0^{(n-l)}} x_0^{(n-k)}\Big)\Big],

whose coefficients are closed-form sums in :math:`n`, :math:`\beta^n` when every
step dependence is a scalar factor (``FieldAlgebra.separate``), e.g.
:math:`c(\beta,n) = \beta(1-(n+1)\beta^n+n\beta^{n+1})/((1-\beta)(1-\beta^{n+1}))`.
Closed forms take the generic branch (decays different from each other and
from 1). Polyak-type updates give at each order a linear recurrence
:math:`F^{(n)} = \lambda F^{(n-1)} + d^{(n)}` with :math:`F^{(-1)} = 0` (the
velocity starts at zero), solved in closed form.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy

from .algebra.base import STEP, NotSeparableError
from .optimizers.language import DescriptionError
from .series import Series

__all__ = ["Regime", "Stationary", "Exact", "ema_moment", "closed_sum", "REGIMES", "get_regime", "STEP"]

_x = sympy.Symbol("x")
_k = sympy.Symbol("k", integer=True, nonnegative=True)
_l = sympy.Symbol("l", integer=True, nonnegative=True)


@lru_cache(maxsize=None)
def _polylog_neg(r: int) -> sympy.Expr:
    r""":math:`\mathrm{Li}_{-r}(x) = \sum_{k\ge0} k^r x^k = (x\,d/dx)^r\,\frac{1}{1-x}` (with :math:`0^0 = 1`)."""
    expr = 1 / (1 - _x)
    for _ in range(r):
        expr = sympy.factor(_x * sympy.diff(expr, _x))
    return expr


def ema_moment(decay: sympy.Expr, r: int) -> sympy.Expr:
    r""":math:`c_r(\beta) = (1-\beta)\sum_{k \ge 0} k^r \beta^k`, exact."""
    return sympy.factor(((1 - _x) * _polylog_neg(r)).xreplace({_x: decay})) if r else sympy.Integer(1)


def _generic_branch(expr: sympy.Expr) -> sympy.Expr:
    """The last (generic) branch of every ``Piecewise`` that SymPy's
    summation returns for special values of the decays."""
    return expr.replace(lambda e: isinstance(e, sympy.Piecewise), lambda e: e.args[-1].expr)


def tidy(expr: sympy.Expr) -> sympy.Expr:
    """A step-dependent scalar with powers :math:`\\beta^{n+1}` written
    :math:`\\beta\\,\\beta^n`, so that equal factors cancel, then factored."""
    return sympy.factor(sympy.expand_power_exp(expr))


@lru_cache(maxsize=None)
def closed_sum(summand: sympy.Expr, var: sympy.Symbol, lower, upper) -> sympy.Expr:
    """:math:`\\sum_{var=lower}^{upper}` summand in closed form (generic branch)."""
    return tidy(_generic_branch(sympy.summation(summand, (var, lower, upper))))


@dataclass(frozen=True)
class Regime:
    """How history nodes (``lag``, ``ema``) expand; ``name`` selects it."""

    name: str
    description: str

    def lag(self, expander, x, k: int, init, order: int) -> Series:
        raise NotImplementedError

    def ema(self, expander, x, decay, init, bias_correction: bool, order: int) -> Series:
        raise NotImplementedError

    def solve_recurrence(self, algebra, a, b, c):
        raise DescriptionError(f"the {self.name} regime has no step-to-step recurrence")


@dataclass(frozen=True)
class Stationary(Regime):
    name: str = "stationary"
    description: str = (
        "stationary regime (n -> infinity): moving averages have forgotten their initial state, "
        "bias corrections are 1, and the history is the modified flow run backwards"
    )

    def lag(self, expander, x, k, init, order):
        return expander.expand(x, order).flow_moments(lambda r: sympy.Integer(-k) ** r)

    def ema(self, expander, x, decay, init, bias_correction, order):
        return expander.expand(x, order).flow_moments(lambda r: (-1) ** r * ema_moment(decay, r))


@dataclass(frozen=True)
class Exact(Regime):
    name: str = "exact"
    description: str = (
        "exact regime: one field f^(n) per step n >= 0 (a piecewise ODE), with moving averages "
        "started from their initial state and summed over the n+1 steps so far"
    )

    # -- lags: exact to every order --------------------------------------------------

    def lag(self, expander, x, k, init, order):
        alg = expander.algebra
        if init is not sympy.nan and init != 0:
            raise DescriptionError(
                "the exact regime supports lag(x, k) whose value before the start is the first value (init=None) "
                "or zero"
            )
        series = expander.expand(x, order).map(lambda v: alg.shift_step(v, k))
        # u(theta_{n-k}) = exp(-h L_{f^(n-1)}) ... exp(-h L_{f^(n-k)}) u: innermost first
        for back in range(k, 0, -1):
            field = Series(alg, [alg.shift_step(alg.term(i), back) for i in range(order)] or [alg.zero])
            series = series.flow_moments(lambda r: sympy.Integer(-1) ** r, field)
        return series

    # -- moving averages ------------------------------------------------------------------

    def ema(self, expander, x, decay, init, bias_correction, order):
        alg = expander.algebra
        series = expander.expand(x, order)
        # a_k, k = 0..n (over 1 - decay^(n+1) with bias correction, so that the sums cancel it)
        normalization = 1 / (1 - decay ** (STEP + 1)) if bias_correction else sympy.Integer(1)
        weight = (1 - decay) * decay**_k * normalization
        if order >= 2:
            result = self._ema_one_field(alg, series, weight, order)
        else:
            result = self._ema_first_order(alg, series, weight, order)
        if init != 0:
            result = result + Series.constant(alg, alg.constant(tidy(init * decay ** (STEP + 1) * normalization)), order)
        return result

    def _separate(self, alg, value, what):
        try:
            return alg.separate(value)
        except NotSeparableError as error:
            raise DescriptionError(
                f"exact regime: {what}: {error}. Closed forms in n need every step dependence to be a scalar "
                "factor (e.g. with bias correction); modeq.derive_steps(optimizer, steps=N) gives the fields of "
                "concrete steps 0..N-1 with the sums evaluated step by step, or use the stationary regime"
            ) from None

    def _history(self, alg, value, weight, what):
        r""":math:`\sum_{k=0}^{n} a_k\,x^{(n-k)}` for a separable ``value``."""
        total = alg.zero
        for scalar, field in self._separate(alg, value, what):
            coefficient = closed_sum(weight * scalar.xreplace({STEP: STEP - _k}), _k, 0, STEP)
            total = alg.add(total, alg.mul(alg.constant(coefficient), field))
        return total

    def _ema_first_order(self, alg, series, weight, order):
        coeffs = [self._history(alg, series.coeffs[0], weight, "the averaged quantity")]
        if order == 1:
            drift = alg.zero
            f0 = self._separate(alg, alg.term(0), "the order-0 field")
            for s_x, x0 in self._separate(alg, series.coeffs[0], "the averaged quantity"):
                for s_f, y in f0:
                    inner = closed_sum(s_f.xreplace({STEP: STEP - _l}), _l, 1, _k)
                    coefficient = closed_sum(weight * s_x.xreplace({STEP: STEP - _k}) * inner, _k, 0, STEP)
                    drift = alg.add(drift, alg.mul(alg.constant(coefficient), alg.lie_along(x0, y)))
            first = self._history(alg, series.coeffs[1], weight, "the averaged quantity")
            coeffs.append(alg.add(first, alg.mul(alg.constant(-1), drift)))
        return Series(alg, coeffs)

    def _ema_one_field(self, alg, series, weight, order):
        """Orders >= 2: only when nothing depends on the step (one autonomous
        flow, finite moments); otherwise the ordered products of step flows
        would be needed."""
        stepped = [c for c in list(series.coeffs) + [alg.term(i) for i in range(order)]
                   if any(s != 1 for s, _ in self._separate(alg, c, "the expansion"))]
        if stepped:
            raise DescriptionError(
                f"exact regime: order {order} of a moving average over step-dependent fields needs ordered "
                "products of the step flows, which modeq does not expand; the exact regime is available to "
                "first order for optimizers with memory; modeq.derive_steps(optimizer, steps=N, order=k) gives "
                "every order for concrete steps 0..N-1, the stationary regime every order for late steps"
            )
        return series.flow_moments(lambda r: closed_sum(weight * (-_k) ** r, _k, 0, STEP))

    # -- Polyak-type recurrences ---------------------------------------------------

    def solve_recurrence(self, algebra, a, b, c):
        r""":math:`aF^{(n)} + bF^{(n-1)} + c = 0`, :math:`F^{(-1)} = 0`:
        :math:`F^{(n)} = \sum_{m=0}^{n} \lambda^{n-m} d^{(m)}` with
        :math:`\lambda = -b/a`, :math:`d = -c/a`."""
        a_s, b_s = algebra.as_scalar(a), algebra.as_scalar(b)
        if a_s is None or b_s is None or STEP in (a_s.free_symbols | b_s.free_symbols):
            raise DescriptionError("exact regime: the step-to-step recurrence of this update does not have constant scalar coefficients")
        ratio = -b_s / a_s
        total = algebra.zero
        for scalar, field in self._separate(algebra, c, "the recurrence"):
            coefficient = closed_sum(ratio ** (STEP - _k) * (-scalar / a_s).xreplace({STEP: _k}), _k, 0, STEP)
            total = algebra.add(total, algebra.mul(algebra.constant(coefficient), field))
        return total


REGIMES = {regime.name: regime for regime in (Stationary(), Exact())}


def get_regime(name: str | Regime) -> Regime:
    if isinstance(name, Regime):
        return name
    try:
        return REGIMES[name]
    except KeyError:
        raise ValueError(f"unknown regime {name!r}; the regimes are: {', '.join(REGIMES)}") from None
