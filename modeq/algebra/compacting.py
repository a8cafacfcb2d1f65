r"""Summing the terms of a sum that differ only in their scalar factors.

A coefficient of a Lie series of the index form (:mod:`modeq.series`) is a
sum :math:`\sum_t c_t\,s_t\,m_t` of numbers :math:`c_t`, scalar factors
:math:`s_t` and monomials :math:`m_t` in the atoms. With symbolic
hyperparameters each :math:`s_t` is a product of the collected coefficients
of the fields it came from (heavy ball:
:math:`(\beta+1)(\beta^2+8\beta+1)/(4(\beta-1)^7)` times another such), so
one monomial recurs with as many scalar factors as there are ways to reach
it, and every later derivative, sum and collect handles each of them: at
order 8 the residual had 30 000 terms over 286 monomials. Here the terms of
one monomial are summed,

.. math:: \sum_t c_t s_t\, m = \Big(\sum_t c_t \prod_b b^{e_{t,b} - \mu_b}\Big)
          \prod_b b^{\mu_b}\; m, \qquad \mu_b = \min_t e_{t,b},

the numerator multiplied out in a polynomial ring over :math:`\mathbb{Q}`
(each base's powers once, as :mod:`~modeq.algebra.factoring` does), when every scalar factor
is a whole power of a hyperparameter or of a polynomial in them with
rational coefficients (a radical, a function or a symbolic exponent stays a
part of the monomial). Only the form of the sum changes, not its value; the
collected fields are factored from their values
(:meth:`~modeq.algebra.index.AtomRegistry.collect`).
"""

from __future__ import annotations

from typing import Callable

import sympy
from sympy.polys.domains import QQ
from sympy.polys.rings import PolyRing

from . import linear

from .factoring import _ring_power, whole_power

__all__ = ["Compactor"]

#: A term's monomial (its factors other than the scalar powers) and the exponent of each scalar base.
Reading = tuple[sympy.Expr, dict[sympy.Expr, sympy.Integer]]


class Compactor:
    """Sums the terms of one monomial (module docs); ``plain(symbol)``: whether
    a symbol is a scalar of the ring (a hyperparameter, not an atom). Remembers
    how it read each term and factor (the same terms recur in every sum of a
    derivation)."""

    def __init__(self, plain: Callable[[sympy.Symbol], bool]) -> None:
        self.plain = plain
        #: Whether :meth:`compact` reads its sums (set once a field is seen to hold a plain
        #: symbol: without one, as for gradient descent, no two terms share a monomial).
        self.active = False
        self._readings: dict[sympy.Expr, Reading] = {}
        self._powers: dict[sympy.Expr, tuple[sympy.Expr, int] | None] = {}
        self._rings: dict[frozenset, PolyRing] = {}

    def compact(self, total: linear.Terms) -> linear.Terms:
        """``total`` with the terms of each monomial summed (``total`` itself when none
        share one, or while the compactor is not :attr:`active`)."""
        if not self.active:
            return total
        groups: dict[sympy.Expr, list[tuple[sympy.Number, dict, sympy.Expr]]] = {}
        shared = False
        for key, c in total.items():
            monomial, powers = self._reading(key)
            group = groups.get(monomial)
            if group is None:
                groups[monomial] = [(c, powers, key)]
            else:
                group.append((c, powers, key))
                shared = True
        if not shared:
            return total
        out: linear.Terms = {}
        for monomial, group in groups.items():
            if len(group) == 1 or any(not c.is_Rational for c, _, _ in group):
                for c, _, key in group:
                    linear.add_terms(out, {key: c})
                continue
            number, scale = self._sum([(c, powers) for c, powers, _ in group])
            if number:
                linear.accumulate(out, sympy.Mul(scale, monomial), number)
        return out

    def add(self, scalars: list[sympy.Expr]) -> sympy.Expr | None:
        r""":math:`\sum_t s_t` of scalar terms as one product (``None`` unless every
        :math:`s_t` is a number times whole powers of plain symbols and polynomials in them)."""
        rows = []
        for s in scalars:
            c, rest = s.as_coeff_Mul()
            monomial, powers = self._reading(rest)
            if monomial is not sympy.S.One or not c.is_Rational:
                return None
            rows.append((c, powers))
        number, scale = self._sum(rows)
        return sympy.Mul(number, scale)

    def _sum(self, rows: list) -> tuple[sympy.Rational, sympy.Expr]:
        r""":math:`\sum_t c_t \prod_b b^{e_{t,b}}` (``rows``) as a number and the
        rest: the numerator's primitive part times the common factor."""
        common: dict[sympy.Expr, int] = {}
        for _, powers in rows:
            for b in powers:
                common[b] = 0
        for _, powers in rows:
            for b, m in common.items():
                e = powers.get(b, 0)
                if e < m:
                    common[b] = e
        ring = self._ring(frozenset().union(*(b.free_symbols for b in common)))
        total = ring.zero
        for c, powers in rows:
            term = ring(QQ.from_sympy(c))
            for b, m in common.items():
                e = int(powers.get(b, 0) - m)
                if e:
                    term *= _ring_power(ring, b, e)
            total += term
        if not total:
            return sympy.S.Zero, sympy.S.One
        number, primitive = total.primitive()
        return QQ.to_sympy(number), sympy.Mul(primitive.as_expr(), *(b**m for b, m in common.items() if m != 0))

    def _ring(self, symbols: frozenset) -> PolyRing:
        ring = self._rings.get(symbols)
        if ring is None:
            ring = self._rings[symbols] = PolyRing(sorted(symbols, key=sympy.default_sort_key) or [sympy.Dummy()], QQ)
        return ring

    def _reading(self, key: sympy.Expr) -> Reading:
        """``key`` as its factors other than scalar powers and the exponent of each scalar base."""
        reading = self._readings.get(key)
        if reading is not None:
            return reading
        powers: dict[sympy.Expr, int] = {}
        rest = []
        for f in sympy.Mul.make_args(key):
            power = self._powers.get(f, False)
            if power is False:
                power = self._powers[f] = whole_power(f, self.plain)
            if power is None:
                rest.append(f)
            else:
                base, exponent = power
                powers[base] = powers.get(base, 0) + exponent
        if not powers:
            reading = key, powers
        else:
            reading = sympy.Mul(*rest), {b: sympy.Integer(e) for b, e in powers.items()}
        self._readings[key] = reading
        return reading
