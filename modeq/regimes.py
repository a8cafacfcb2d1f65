r"""Regimes: how an optimizer's memory is summed along the modified flow.

On the modified trajectory the past iterate is
:math:`\theta_{n-k} = \varphi_{-kh}(\theta_n)`, so a weighted sum over the
history :math:`\sum_k a_k\,u(\theta_{n-k})` is the Lie series
:math:`\sum_r \frac{h^r}{r!} w_r L_f^r u` with the *moments*
:math:`w_r = \sum_k a_k (-k)^r` (:meth:`modeq.series.Series.flow_moments`).
A regime supplies those moments.

*Stationary* (:math:`n \to \infty`): the EMA weights are
:math:`a_k = (1-\beta)\beta^k`, :math:`k \ge 0`, whose moments are
:math:`(-1)^r c_r(\beta)` with :math:`c_r(\beta) = (1-\beta)\,\mathrm{Li}_{-r}(\beta)`
(:math:`c_0 = 1`, :math:`c_1 = \beta/(1-\beta)`,
:math:`c_2 = \beta(1+\beta)/(1-\beta)^2`, …); the initial state and the bias
correction :math:`1/(1-\beta^{n+1})` no longer matter.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy

__all__ = ["Regime", "Stationary", "ema_moment", "REGIMES", "get_regime"]

_x = sympy.Symbol("x")


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


@dataclass(frozen=True)
class Regime:
    """Base of regimes; ``name`` is how users select it."""

    name: str
    description: str

    def ema(self, decay: sympy.Expr, init: sympy.Expr, bias_correction: bool):
        """``(moment, init_weight, scale)``: the EMA is
        ``scale * (flow_moments(x, moment) + init_weight * init)``."""
        raise NotImplementedError

    def lag(self, k: int):
        """The moment function of :math:`u(\\theta_{n-k})`."""
        return lambda r: sympy.Integer(-k) ** r


@dataclass(frozen=True)
class Stationary(Regime):
    name: str = "stationary"
    description: str = (
        "stationary regime (n -> infinity): moving averages have forgotten their initial state, "
        "bias corrections are 1, and the history is the modified flow run backwards"
    )

    def ema(self, decay, init, bias_correction):
        return (lambda r: (-1) ** r * ema_moment(decay, r)), sympy.Integer(0), sympy.Integer(1)


REGIMES = {regime.name: regime for regime in (Stationary(),)}


def get_regime(name: str | Regime) -> Regime:
    if isinstance(name, Regime):
        return name
    try:
        return REGIMES[name]
    except KeyError:
        raise ValueError(f"unknown regime {name!r}; the regimes are: {', '.join(REGIMES)}") from None
