r"""Linear history sums :math:`\sum_{k \ge 0} a_k\,x_{n-k}`: the common part of
``lag`` (:math:`a_k = \delta_{kK}`) and ``ema``
(:math:`a_k = (1-\beta)\beta^k`).

On the modified trajectory :math:`x_{n-k} = x(\varphi_{-kh}(\theta_n))`, so in
the stationary regime every history sum is the Lie series
:math:`\sum_r \frac{h^r}{r!} w_r L_f^r x` with the moments
:math:`w_r = \sum_k a_k (-k)^r` of its weights (DESIGN.md §1.2): a subclass
gives :meth:`History.moment`. The exact regime (closed forms in the step
:math:`n`) and concrete steps (:mod:`modeq.stepwise`) depend on how the sum
starts, so each weight family implements ``_exact`` and ``_steps`` itself.
"""

from __future__ import annotations

import sympy

from .base import Primitive

__all__ = ["History"]


class History(Primitive):
    """A linear history sum of its first argument; the regime picks the
    method ``_<regime.method>``."""

    memory = True

    def moment(self, r: int) -> sympy.Expr:
        r""":math:`w_r = \sum_k a_k (-k)^r` (stationary regime)."""
        raise NotImplementedError

    def expand(self, expander, order):
        self.refuse_in_epoch(expander, "lag or ema")
        return getattr(self, f"_{expander.regime.method}")(expander, order)

    def _stationary(self, expander, order):
        return expander.expand(self.args[0], order).flow_moments(self.moment, expander.unknowns.flow_field(order))
