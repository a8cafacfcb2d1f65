r"""Expansion of an optimizer's update as a power series in :math:`h`.

:class:`Expander` walks the description (:mod:`modeq.optimizers.language`) and
turns every node into a :class:`~modeq.series.Series` whose coefficients are
fields at the current point :math:`\theta_n`, given the known terms of the
modified field (held by the solve's :class:`~modeq.unknowns.Unknowns`):

* ``h`` is the series :math:`0 + 1\cdot h`; hyperparameter expressions and
  ``theta`` are constant series;
* a primitive (``grad``, ``lag``, ``ema``, ``reduce_sum``, ``hvp``, …) expands
  itself (:meth:`modeq.primitives.Primitive.expand`): the expander never
  lists their types;
* sums and products are series arithmetic; powers of :math:`h` shift the
  series (division by :math:`h` needs the dropped terms to vanish);
  elementwise functions compose by Taylor expansion around the leading term.
"""

from __future__ import annotations

import sympy

from .description import DescriptionError, h, theta
from .primitives import Primitive
from .regimes import Regime
from .series import Series
from .unknowns import Unknowns

__all__ = ["Expander"]


class Expander:
    r"""Expands description nodes to a given order, memoized per node.

    ``unknowns`` holds the known terms of the modified field (and the
    manifolds of fast states); ``algebra`` is its field algebra.
    ``loss`` labels the batch loss :math:`E_b` that ``grad`` differentiates
    (``None``: the full loss). ``offset`` evaluates a memoryless update at the
    displaced point :math:`\theta + \delta` (a series with :math:`\delta_0 = 0`),
    as when composing the steps of an epoch. ``bindings`` give the series of
    bound symbols (a state's previous value inside its update,
    :mod:`modeq.primitives.state`)."""

    def __init__(self, unknowns: Unknowns, regime: Regime, loss: int | None = None,
                 offset: Series | None = None, bindings: dict[sympy.Symbol, Series] | None = None) -> None:
        self.unknowns = unknowns
        self.algebra = unknowns.algebra
        self.regime = regime
        self.loss = loss
        self.offset = offset
        self.bindings = dict(bindings or {})
        self._variables = (h, theta, Primitive, *self.bindings)
        self._cache: dict[tuple[sympy.Basic, int], Series] = {}

    def bind(self, symbol: sympy.Symbol, series: Series) -> "Expander":
        """An expander in which ``symbol`` stands for ``series`` (its own memo)."""
        return Expander(self.unknowns, self.regime, self.loss, self.offset, {**self.bindings, symbol: series})

    def expand(self, node: sympy.Expr, order: int) -> Series:
        """The series of ``node`` known to ``order``."""
        key = (node, order)
        if key not in self._cache:
            self._cache[key] = self._expand(node, order)
        return self._cache[key]

    def constant(self, value, order: int) -> Series:
        """The constant series of a value of the algebra."""
        return Series.constant(self.algebra, value, order)

    def _expand(self, node, order):
        if node in self.bindings:
            return self.bindings[node].truncate(order)
        if node == h:
            return Series.step(self.algebra, order)
        if node == theta:
            position = self.constant(self.algebra.theta(), order)
            return position if self.offset is None else position + self.offset.truncate(order)
        if not node.has(*self._variables):
            return self.constant(self.algebra.constant(node), order)
        if isinstance(node, Primitive):
            return node.expand(self, order)
        if isinstance(node, sympy.Add):
            terms = [self.expand(a, order) for a in node.args]
            result = terms[0]
            for t in terms[1:]:
                result = result + t
            return result
        if isinstance(node, sympy.Mul) or (isinstance(node, sympy.Pow) and node.args[0] == h):
            return self._mul(node, order)
        if isinstance(node, sympy.Pow):
            return self._pow(node, order)
        if isinstance(node, sympy.Abs):
            # SymPy writes sqrt(u**2) of a real u as Abs(u) (a decay of 0 in front of a state u**2 under a
            # root): expand the root, whose derivatives are u/sqrt(u**2), ..., not Abs's, which are those of a
            # complex modulus (re, im and their derivatives) when the argument is a symbol of the field algebra
            return self._pow(sympy.Pow(node.args[0] ** 2, sympy.S.Half, evaluate=False), order)
        if isinstance(node, sympy.Function) and len(node.args) == 1:
            x = sympy.Dummy("x")
            return self._compose(node.args[0], sympy.Lambda(x, node.func(x)), order, str(node.func))
        raise DescriptionError(f"modeq cannot expand {node} (type {type(node).__name__}) in powers of h")

    def _mul(self, node, order):
        h_power, scalars, others = 0, [], []
        for factor in sympy.Mul.make_args(node):
            base, exponent = factor.as_base_exp()
            if base == h:
                if not exponent.is_Integer:
                    raise DescriptionError(f"the update contains {factor}: only integer powers of the step size h have a power series")
                h_power += int(exponent)
            elif factor.has(*self._variables):
                others.append(factor)
            else:
                scalars.append(factor)
        inner_order = order - h_power
        if inner_order < 0:
            return self.constant(self.algebra.zero, order)
        result = self.constant(self.algebra.constant(sympy.Mul(*scalars)), inner_order)
        for factor in others:
            result = result * self.expand(factor, inner_order)
        try:
            return result.shift(h_power)
        except ZeroDivisionError:
            raise DescriptionError(
                f"{node} is not O(1) as h -> 0: the factor h^{h_power} divides a quantity that does not vanish "
                f"to order h^{-h_power}"
            ) from None

    def _pow(self, node, order):
        base, exponent = node.args
        if exponent.has(*self._variables):
            return self.expand(sympy.exp(exponent * sympy.log(base)), order)
        if exponent.is_Integer and exponent > 0:
            return self.expand(base, order).power(int(exponent))
        x = sympy.Dummy("x")
        return self._compose(base, sympy.Lambda(x, x**exponent), order, f"the power {exponent}")

    def _compose(self, arg, phi, order, what):
        result = self.expand(arg, order).compose(phi)
        if not all(self.algebra.is_finite(c) for c in result.coeffs):
            raise DescriptionError(
                f"{what} is applied to {arg}, where it is not smooth (typically because the argument vanishes "
                "as h -> 0); the update has no expansion in powers of h there (add a positive constant such as eps)"
            )
        return result
