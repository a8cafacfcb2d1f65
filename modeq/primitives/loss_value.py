r"""``loss(shift=0)``: the value :math:`E_n(\theta_n + \text{shift})` of the
step's loss, a scalar (Polyak and stochastic Polyak steps, ALIG).

In index form the value is the scalar atom :math:`E` with
:math:`L_f E = S[g\,f]` (:mod:`modeq.algebra.index`). Expansion: at a shifted
point (a shift :math:`\delta = O(h)`, plus the displacement of an epoch's
composed steps) the Taylor series

.. math:: E(\theta + \delta) = E + \sum_{r \ge 1} \frac{1}{r!}\,\nabla^r E[\delta, \dots, \delta],
          \qquad \nabla^r E[X_1, \dots, X_r] = S\big[X_1\, D_{r-1}[X_2, \dots, X_r]\big]

(:math:`D_0 = g`). Lowering: the step's loss generated with CSE, evaluated
at the shifted point.
"""

from __future__ import annotations

import sympy

from .base import Primitive
from .grad import at_shift

__all__ = ["Loss", "loss"]


class Loss(Primitive):
    r"""``Loss(shift)``: :math:`E_n(\theta_n + \text{shift})`, a scalar."""

    nargs = 1
    scalar = True

    def expand(self, expander, order):
        alg, loss = expander.algebra, expander.loss

        def derivative(directions):  # ∇^r E[X_1, ..., X_r] = S[X_1 D_{r-1}[X_2, ..., X_r]], D_0 = g
            first, *rest = directions
            return alg.reduce_sum(alg.mul(first, alg.contract(rest, loss) if rest else alg.grad(loss)))

        return at_shift(expander, self.args[0], order, "loss(shift)", alg.loss_value(loss), derivative)

    def lower(self, out, name, args):
        out.function("_loss", _loss_functions)
        out.setup(f"point_{name} = np.empty(p)")
        out.step("for j in range(p):", f"    point_{name}[j] = th[j] + {out.code(args[0])}",
                 f"{name} = _loss(point_{name}, b)")


def _loss_functions(out) -> None:
    """``_loss_<b>(x)`` for each loss (0 the full loss, 1..m the batches) and
    the dispatcher ``_loss(x, b)``."""
    params = out.params
    names = {s: f"a{i}" for i, s in enumerate(params)}
    for b, value in enumerate(out.losses):
        lines = [f"a{i} = x[{i}]" for i in range(len(params))]
        lines += out.cse([value], ["value"], names) + ["return value"]
        out.define(f"_loss_{b}", "x", lines)
    branches = []
    for b in range(len(out.losses)):
        branches += [f"{'if' if b == 0 else 'elif'} b == {b}:", f"    return _loss_{b}(x)"]
    out.define("_loss", "x, b", branches + ["return math.nan"])


def loss(shift=0) -> sympy.Expr:
    r"""The value :math:`E_n(\theta_n + \text{shift})` of the step's loss (a scalar);
    ``shift`` must be :math:`O(h)`."""
    return Loss(sympy.sympify(shift))
