r"""Truncated power series in the step size :math:`h` with field coefficients.

A :class:`Series` holds the coefficients :math:`c_0, \dots, c_N` of
:math:`c_0 + h c_1 + \dots + h^N c_N + O(h^{N+1})`; each coefficient is a value
of a :class:`~modeq.algebra.FieldAlgebra` (an index-form expression or a
component tuple), so the same series code serves every representation.

Products are Cauchy products truncated at the lower order; elementwise
functions compose by Taylor expansion around :math:`c_0`,

.. math:: \phi(c_0 + \Delta) = \sum_{m=0}^{N} \frac{\phi^{(m)}(c_0)}{m!}\,\Delta^m,
          \qquad \Delta = \sum_{i\ge1} h^i c_i,

and the Lie-series helper :meth:`Series.flow_moments` gives
:math:`\sum_r \frac{h^r}{r!} w_r\,L_f^r u` — the value of :math:`u` along the
modified flow averaged with weights whose moments are :math:`w_r`
(DESIGN.md §1.2). No ``simplify`` anywhere: coefficients stay exact and are
canonicalized cheaply by the algebra.
"""

from __future__ import annotations

from math import factorial
from typing import Callable, Sequence

import sympy

from .algebra.base import TIME, FieldAlgebra

__all__ = ["Series"]


class Series:
    """:math:`\\sum_{i=0}^{N} h^i c_i + O(h^{N+1})` over a field algebra."""

    __slots__ = ("algebra", "coeffs")

    def __init__(self, algebra: FieldAlgebra, coeffs: Sequence):
        if not coeffs:
            raise ValueError("a series needs at least one coefficient")
        self.algebra = algebra
        self.coeffs = tuple(coeffs)

    # -- construction -------------------------------------------------------

    @classmethod
    def constant(cls, algebra: FieldAlgebra, value, order: int) -> "Series":
        """The series :math:`value + 0h + \\dots` known to ``order``."""
        return cls(algebra, (value,) + (algebra.zero,) * order)

    @classmethod
    def step(cls, algebra: FieldAlgebra, order: int) -> "Series":
        """The series of :math:`h` itself."""
        return cls(algebra, [algebra.constant(sympy.Integer(int(i == 1))) for i in range(order + 1)])

    @property
    def order(self) -> int:
        return len(self.coeffs) - 1

    def truncate(self, order: int) -> "Series":
        if order > self.order:
            raise ValueError(f"cannot extend a series known to order {self.order} to order {order}")
        return Series(self.algebra, self.coeffs[: order + 1])

    # -- arithmetic -----------------------------------------------------------

    def __add__(self, other: "Series") -> "Series":
        n = min(self.order, other.order)
        add = self.algebra.add
        return Series(self.algebra, [add(a, b) for a, b in zip(self.coeffs[: n + 1], other.coeffs[: n + 1])])

    def __neg__(self) -> "Series":
        return self.scale(sympy.Integer(-1))

    def __sub__(self, other: "Series") -> "Series":
        return self + (-other)

    def __mul__(self, other: "Series") -> "Series":
        n = min(self.order, other.order)
        alg = self.algebra
        out = []
        for m in range(n + 1):
            pairs = ((self.coeffs[i], other.coeffs[m - i]) for i in range(m + 1))
            out.append(alg.sum([alg.mul(a, b) for a, b in pairs
                                if not (alg.is_trivially_zero(a) or alg.is_trivially_zero(b))]))
        return Series(alg, out)

    def scale(self, scalar: sympy.Expr) -> "Series":
        """Multiply by a scalar (hyperparameter) expression."""
        c = self.algebra.constant(scalar)
        return Series(self.algebra, [self.algebra.mul(c, a) for a in self.coeffs])

    def shift(self, power: int) -> "Series":
        """Multiply by :math:`h^{power}` (a series known to order :math:`N`
        becomes known to order :math:`N + power`); a negative power divides,
        which needs the dropped leading coefficients to vanish."""
        alg = self.algebra
        if power >= 0:
            return Series(alg, (alg.zero,) * power + self.coeffs)
        dropped = self.coeffs[:-power]
        if not all(alg.is_zero(c) for c in dropped):
            raise ZeroDivisionError(f"dividing by h^{-power} a quantity that does not vanish to order h^{-power}")
        return Series(alg, self.coeffs[-power:])

    def power(self, exponent: int) -> "Series":
        """Integer power :math:`\\ge 0` by repeated multiplication."""
        result = Series.constant(self.algebra, self.algebra.constant(sympy.Integer(1)), self.order)
        for _ in range(exponent):
            result = result * self
        return result

    def map(self, op: Callable) -> "Series":
        """Apply a linear map (e.g. a reduction) to every coefficient."""
        return Series(self.algebra, [op(a) for a in self.coeffs])

    def compose(self, phi: sympy.Lambda) -> "Series":
        r"""The elementwise function :math:`\phi` of this series (Taylor around :math:`c_0`)."""
        alg = self.algebra
        (x,) = phi.variables
        delta = Series(alg, (alg.zero,) + self.coeffs[1:])
        result = Series.constant(alg, alg.zero, self.order)
        delta_power = Series.constant(alg, alg.constant(sympy.Integer(1)), self.order)
        derivative = phi.expr
        for m in range(self.order + 1):
            coefficient = sympy.Lambda(x, derivative / factorial(m))
            result = result + delta_power.map(lambda d, c=alg.apply(coefficient, self.coeffs[0]): alg.mul(c, d))
            derivative = sympy.diff(derivative, x)
            delta_power = delta_power * delta
        return result

    # -- the flow -------------------------------------------------------------

    def lie(self, field: "Series") -> "Series":
        r""":math:`L_F` of this series, :math:`(L_F u)_m = \sum_{i+j=m} L_{F_i} u_j`.

        ``field`` is the series :math:`F = \sum_i h^i F_i` (known at least to
        order :math:`N`) of a flow on :math:`(\theta, t)` with :math:`\dot t = 1`,
        e.g. the modified field (:meth:`modeq.unknowns.Unknowns.field`):
        :math:`\partial_t` joins :math:`L_{F_0}` (:data:`~modeq.algebra.base.TIME`)."""
        alg = self.algebra
        out = []
        for m in range(self.order + 1):
            pairs = [(self.coeffs[j], field.coeffs[m - j]) for j in range(m + 1)
                     if not alg.is_trivially_zero(self.coeffs[j])]
            if not alg.is_trivially_zero(self.coeffs[m]):
                pairs.append((self.coeffs[m], TIME))
            out.append(alg.lie_sum(pairs))
        return Series(alg, out)

    def flow_moments(self, moment: Callable[[int], sympy.Expr], field: "Series") -> "Series":
        r""":math:`\sum_{r=0}^{N} \frac{h^r}{r!}\,w_r\,L_F^r u` with :math:`w_r` = ``moment(r)``.

        With :math:`w_r = t^r` this is :math:`u(\varphi^F_{th}(\theta))`; an average
        over past steps :math:`\sum_k a_k\,u(\theta_{n-k})` along one field has
        :math:`w_r = \sum_k a_k (-k)^r`."""
        alg = self.algebra
        columns = [[(sympy.sympify(moment(0)), c)] for c in self.coeffs]
        derived = self
        for r in range(1, self.order + 1):
            derived = derived.truncate(self.order - r).lie(field)
            weight = sympy.sympify(moment(r) / factorial(r))
            if weight != 0:
                for i, c in enumerate(derived.coeffs):
                    columns[i + r].append((weight, c))
        return Series(alg, [alg.combine(column) for column in columns])
