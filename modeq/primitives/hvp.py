r"""``hvp(v)``: the exact Hessian-vector product :math:`(\nabla^2 E_n(\theta_n)\,v)_j`
of the step's loss (Sophia- and Newton-like methods).

In index form this is already an atom: :math:`\sum_i \nabla_{ji} E\, v_i = D_1[v]`.
Expansion: :math:`D_1` is linear, so each coefficient of :math:`v` maps to its
contraction; with the displacement :math:`\delta` of an epoch's composed
steps the Hessian is taken at :math:`\theta + \delta`:
:math:`\sum_r \frac{1}{r!} D_{r+1}[v, \delta, \dots, \delta]`. Lowering: the
Hessian of the step's loss, generated with CSE, applied to ``v`` at
:math:`\theta_n`.

This primitive is the demonstration of issue 13: it lives in this file and
its tests only.
"""

from __future__ import annotations

import sympy

from ..series import Series
from .base import Primitive
from .grad import taylor_terms

__all__ = ["HVP", "hvp"]


class HVP(Primitive):
    r"""``HVP(v)``: :math:`\sum_i \nabla_{ji} E_n(\theta_n)\, v_i`."""

    nargs = 1

    def expand(self, expander, order):
        alg = expander.algebra
        v = expander.expand(self.args[0], order).coeffs
        delta = expander.offset.truncate(order).coeffs if expander.offset is not None else (alg.zero,)
        coeffs = [alg.zero] * (order + 1)
        for indices, power, weight in [((), 0, sympy.Integer(1)), *taylor_terms(order)]:  # r factors of delta
            for i0 in range(order + 1 - power):
                args = [v[i0]] + [delta[i] if i < len(delta) else alg.zero for i in indices]
                if any(alg.is_trivially_zero(a) for a in args):
                    continue
                term = alg.contract(args, expander.loss)
                coeffs[i0 + power] = alg.add(coeffs[i0 + power], alg.mul(alg.constant(weight), term))
        return Series(alg, coeffs)

    def lower(self, out, name, args):
        out.function("_hvp", _hessian_functions)
        out.setup(f"{name} = np.empty(p)", f"vector_{name} = np.empty(p)")
        out.step("for j in range(p):", f"    vector_{name}[j] = {out.code(args[0])}", f"_hvp(th, b, vector_{name}, {name})")


def _hessian_functions(out) -> None:
    """``_hvp_<b>(x, v, out)`` for each loss and the dispatcher ``_hvp(x, b, v, out)``."""
    params = out.params
    names = {s: f"a{i}" for i, s in enumerate(params)}
    vector = sympy.symbols(f"v0:{len(params)}", cls=sympy.Dummy)
    names.update({s: f"v[{i}]" for i, s in enumerate(vector)})
    for b, loss in enumerate(out.losses):
        gradient = [sympy.diff(loss, s) for s in params]
        products = [sympy.Add(*(sympy.diff(gj, s) * vi for s, vi in zip(params, vector))) for gj in gradient]
        lines = [f"a{i} = x[{i}]" for i in range(len(params))]
        lines += out.cse(products, [f"out[{j}]" for j in range(len(params))], names)
        out.define(f"_hvp_{b}", "x, v, out", lines)
    branches = []
    for b in range(len(out.losses)):
        branches += [f"{'if' if b == 0 else 'elif'} b == {b}:", f"    _hvp_{b}(x, v, out)"]
    out.define("_hvp", "x, b, v, out", branches)


def hvp(v) -> sympy.Expr:
    r"""The exact Hessian-vector product :math:`\nabla^2 E_n(\theta_n)\,v` (component :math:`j`)."""
    return HVP(sympy.sympify(v))
