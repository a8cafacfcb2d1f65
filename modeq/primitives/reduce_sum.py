r"""``reduce_sum(x)``: the scalar :math:`\sum_i x_i` (``norm(x)`` is
:math:`\sqrt{\sum_i x_i^2}`).

Expansion: the reduction :math:`S[\cdot]` of each coefficient. Lowering: a
float accumulated over the components.
"""

from __future__ import annotations

import sympy

from .base import Primitive

__all__ = ["ReduceSum", "reduce_sum", "norm"]


class ReduceSum(Primitive):
    r"""``ReduceSum(x)``: :math:`\sum_i x_i`, a scalar."""

    nargs = 1
    scalar = True

    def expand(self, expander, order):
        return expander.expand(self.args[0], order).map(expander.algebra.reduce_sum)

    def lower(self, out, name, args):
        out.step(f"{name} = 0.0", "for j in range(p):", f"    {name} += {out.code(args[0])}")


def reduce_sum(x) -> sympy.Expr:
    r"""The scalar :math:`\sum_i x_i`."""
    return ReduceSum(sympy.sympify(x))


def norm(x) -> sympy.Expr:
    r"""The Euclidean norm :math:`\|x\| = \sqrt{\sum_i x_i^2}`."""
    return sympy.sqrt(reduce_sum(sympy.sympify(x) ** 2))
