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
from typing import ClassVar

import sympy

from .algebra.base import STEP, NotSeparableError
from .description import DescriptionError

__all__ = ["Regime", "Stationary", "Exact", "ema_moment", "closed_sum", "separate", "tidy", "REGIMES", "get_regime",
           "STEP", "SUM_INDEX", "INNER_INDEX"]

_x = sympy.Symbol("x")
#: The summation indices of history sums (:math:`k` back from step :math:`n`, and :math:`l \le k`).
SUM_INDEX = _k = sympy.Symbol("k", integer=True, nonnegative=True)
INNER_INDEX = _l = sympy.Symbol("l", integer=True, nonnegative=True)


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


def separate(alg, value, what: str):
    r"""``value`` as :math:`\sum_i s_i(n) X_i` (:meth:`~modeq.algebra.FieldAlgebra.separate`),
    or the exact regime's error saying what to use instead."""
    try:
        return alg.separate(value)
    except NotSeparableError as error:
        raise DescriptionError(
            f"exact regime: {what}: {error}. Closed forms in n need every step dependence to be a scalar "
            "factor (e.g. with bias correction); modeq.derive_steps(optimizer, steps=N) gives the fields of "
            "concrete steps 0..N-1 with the sums evaluated step by step, or use the stationary regime"
        ) from None


@dataclass(frozen=True)
class Regime:
    """How history primitives expand: each calls its method
    ``_<method>(expander, order)`` (:mod:`modeq.primitives.history`); ``name``
    selects the regime."""

    name: str
    description: str
    method: ClassVar[str] = ""

    def solve_recurrence(self, algebra, a, b, c):
        raise DescriptionError(f"the {self.name} regime has no step-to-step recurrence")


@dataclass(frozen=True)
class Stationary(Regime):
    name: str = "stationary"
    description: str = (
        "stationary regime (n -> infinity): moving averages have forgotten their initial state, "
        "bias corrections are 1, and the history is the modified flow run backwards"
    )
    method: ClassVar[str] = "stationary"


@dataclass(frozen=True)
class Exact(Regime):
    name: str = "exact"
    description: str = (
        "exact regime: one field f^(n) per step n >= 0 (a piecewise ODE), with moving averages "
        "started from their initial state and summed over the n+1 steps so far"
    )
    method: ClassVar[str] = "exact"

    def solve_recurrence(self, algebra, a, b, c):
        r""":math:`aF^{(n)} + bF^{(n-1)} + c = 0`, :math:`F^{(-1)} = 0`:
        :math:`F^{(n)} = \sum_{m=0}^{n} \lambda^{n-m} d^{(m)}` with
        :math:`\lambda = -b/a`, :math:`d = -c/a`."""
        a_s, b_s = algebra.as_scalar(a), algebra.as_scalar(b)
        if a_s is None or b_s is None or STEP in (a_s.free_symbols | b_s.free_symbols):
            raise DescriptionError("exact regime: the step-to-step recurrence of this update does not have constant scalar coefficients")
        ratio = -b_s / a_s
        total = algebra.zero
        for scalar, field in separate(algebra, c, "the recurrence"):
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
