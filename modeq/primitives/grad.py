r"""``grad(shift)``: :math:`\nabla_j E_n(\theta_n + \text{shift})`, the gradient of
the step's loss (the full loss or the step's batch loss) at a point shifted by
:math:`O(h)` (Nesterov look-ahead, SAM with radius :math:`r = c\,h`).

Expansion: the Taylor series
:math:`\sum_r \frac{1}{r!} D_r[\delta, \dots, \delta]` of the gradient at the
shifted point, :math:`\delta = O(h)` (plus the displacement of an epoch's
composed steps). Lowering: the gradient of the step's loss, generated from the
loss with CSE, at the shifted point.
"""

from __future__ import annotations

from collections import Counter
from itertools import combinations_with_replacement
from math import factorial, prod

import sympy

from ..description import DescriptionError
from ..series import Series
from .base import Primitive

__all__ = ["Grad", "grad"]


class Grad(Primitive):
    r"""``Grad(shift)``: :math:`\nabla_j E_n(\theta_n + \text{shift})`."""

    nargs = 1

    def expand(self, expander, order):
        alg, loss = expander.algebra, expander.loss
        return at_shift(expander, self.args[0], order, "grad(shift)", alg.grad(loss),
                        lambda directions: alg.contract(directions, loss))

    def lower(self, out, name, args):
        out.function("_grad", _gradient_functions)
        out.setup(f"{name} = np.empty(p)", f"point_{name} = np.empty(p)")
        out.step("for j in range(p):", f"    point_{name}[j] = th[j] + {out.code(args[0])}",
                 f"_grad(point_{name}, b, {name})")


def displacement(expander, shift, order: int, what: str) -> Series | None:
    r"""The displacement :math:`\delta` of a shifted point (``shift`` plus the
    displacement of an epoch's composed steps) as a series with
    :math:`\delta_0 = 0`, or ``None`` at the unshifted point."""
    if shift == 0 and expander.offset is None:
        return None
    delta = expander.expand(shift, order)
    if expander.offset is not None:
        delta = delta + expander.offset.truncate(order)
    if not expander.algebra.is_zero(delta.coeffs[0]):
        raise DescriptionError(
            f"{what} needs a shift that vanishes as h -> 0 (O(h)); the shift {shift} does not; "
            "write the radius proportional to h, e.g. r = c*h"
        )
    return delta


def at_shift(expander, shift, order: int, what: str, value, derivative) -> Series:
    r"""The series of :math:`F(\theta_n + \delta)` for a function :math:`F` of the point,

    .. math:: F(\theta_n + \delta) = F + \sum_{r \ge 1} \frac{1}{r!}\,F^{(r)}[\delta, \dots, \delta],

    from ``value`` :math:`F(\theta_n)` and ``derivative(directions)``
    :math:`F^{(r)}[X_1, \dots, X_r]` (:func:`taylor_terms`); :math:`\delta` is the
    :func:`displacement` of ``shift``, and without one the series is the constant ``value``."""
    alg = expander.algebra
    delta = displacement(expander, shift, order, what)
    if delta is None:
        return expander.constant(value, order)
    coeffs = [value] + [alg.zero] * order
    for indices, power, weight in taylor_terms(order):
        term = derivative([delta.coeffs[i] for i in indices])
        coeffs[power] = alg.add(coeffs[power], alg.mul(alg.constant(weight), term))
    return Series(alg, coeffs)


def taylor_terms(order: int):
    r"""The terms of :math:`\sum_r \frac{1}{r!} T[\delta, \dots, \delta]` for
    :math:`\delta = \sum_{i \ge 1} h^i \delta_i` and a symmetric multilinear
    :math:`T`, up to :math:`h^{order}`: ``(indices, power, weight)`` for
    :math:`h^{power} \cdot weight \cdot T[\delta_{i_1}, \dots, \delta_{i_r}]`
    (each multiset of indices once, weight :math:`1/\prod_m m!`)."""
    for r in range(1, order + 1):
        for indices in combinations_with_replacement(range(1, order + 1), r):
            power = sum(indices)
            if power <= order:
                yield indices, power, sympy.Rational(1, prod(factorial(m) for m in Counter(indices).values()))


def _gradient_functions(out) -> None:
    """``_grad_<b>(x, out)`` for each loss (0 the full loss, 1..m the batches)
    and the dispatcher ``_grad(x, b, out)``."""
    params = out.params
    names = {s: f"a{i}" for i, s in enumerate(params)}
    for b, loss in enumerate(out.losses):
        lines = [f"a{i} = x[{i}]" for i in range(len(params))]
        lines += out.cse([sympy.diff(loss, s) for s in params], [f"out[{j}]" for j in range(len(params))], names)
        out.define(f"_grad_{b}", "x, out", lines)
    branches = []
    for b in range(len(out.losses)):
        branches += [f"{'if' if b == 0 else 'elif'} b == {b}:", f"    _grad_{b}(x, out)"]
    out.define("_grad", "x, b, out", branches)


def grad(shift=0) -> sympy.Expr:
    r""":math:`\nabla_j E_n(\theta_n + \text{shift})`; ``shift`` must be :math:`O(h)`."""
    return Grad(sympy.sympify(shift))
