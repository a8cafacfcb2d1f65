r"""Grouping a field by monomials in nested atoms, its scalar sums kept whole.

:meth:`~modeq.algebra.index.AtomRegistry.collect` writes a field as
:math:`x = \sum_m c_m\,m` over monomials :math:`m` in the *nested* atoms
(contractions, reductions, …; a :math:`\theta`- or :math:`g`-dependence stays
in the coefficient), each coefficient :math:`c_m` in a canonical form. The
reference route distributes every product over every sum of the numerators
(:func:`~modeq.algebra.index.distribute`) and adds each monomial's pieces,
so a coefficient such as :math:`(\beta+1)(\rho-1)/(\beta-1)^2` is multiplied
out only for the factoring to take it apart again: Adam's order-4 term had
1697 summands, 14281 pieces after distributing, and collecting it was 85 % of
the derivation.

Here only the sums that hold a nested atom are distributed — a monomial has
to be read off every piece — and a sum of scalars stays one factor of its
piece's coefficient:

.. math:: x = \sum_p \Big(\prod_{f \in C_p} f\Big)\Big(\prod_{f \in M_p} f\Big),
          \qquad c_m = \sum_{p:\ \prod M_p = m}\ \prod_{f \in C_p} f,

with :math:`M_p` the nested atoms and powers of sums holding them, and
:math:`C_p` the factors free of nested atoms. :math:`c_m` has the value of the
reference coefficient, not its form; :mod:`modeq.algebra.index` decides where
the canonical form depends only on the value (module ``collect``).
"""

from __future__ import annotations

from functools import lru_cache
from typing import AbstractSet

import sympy

from .factoring import Rows, rational_polynomial, whole_power

__all__ = ["group", "rows", "pieces"]

#: One piece of a field: its factors holding nested atoms, and the others.
Piece = tuple[tuple[sympy.Expr, ...], tuple[sympy.Expr, ...]]


def group(x: sympy.Expr, nested: AbstractSet[sympy.Symbol]) -> dict[sympy.Expr, list[sympy.Expr]] | None:
    r"""``x`` as the map :math:`m \mapsto [\prod C_p]` of each monomial to its
    pieces' coefficients (a sum of them is :math:`c_m`); ``None`` when a factor
    holds a nested atom without being one, a power of one, or a sum (a function
    of a reduction, say: the reference route decides how it merges)."""
    found = pieces(x, nested, {})
    if found is None:
        return None
    products: dict[tuple[sympy.Expr, ...], sympy.Expr] = {}  # the same factors recur in many pieces
    groups: dict[sympy.Expr, list[sympy.Expr]] = {}
    for factors, coefficient in found:
        monomial = products.get(factors)
        if monomial is None:
            monomial = products[factors] = sympy.Mul(*factors)
        product = products.get(coefficient)
        if product is None:
            product = products[coefficient] = sympy.Mul(*coefficient)
        groups.setdefault(monomial, []).append(product)
    return groups


def rows(x: sympy.Expr, nested: AbstractSet[sympy.Symbol]) -> dict[sympy.Expr, Rows] | None:
    r"""``x`` as the map :math:`m \mapsto` the rows of :math:`c_m` (its terms
    :math:`\sum_t c_t \prod_b b^{e_{t,b}}`, :mod:`~modeq.algebra.factoring`),
    read off the pieces without building a SymPy product or sum: pieces with
    the same powers add their numbers, and a zero row is dropped. ``None``
    where :func:`group` is, or where a coefficient factor is not a rational
    number or a whole power of a symbol or of a polynomial with rational
    coefficients (radicals, functions, symbolic exponents: their forms are
    SymPy's to decide)."""
    found = pieces(x, nested, {})
    if found is None:
        return None
    monomials: dict[tuple[sympy.Expr, ...], sympy.Expr] = {}
    readings: dict[tuple[sympy.Expr, ...], tuple | None] = {}
    sums: dict[sympy.Expr, dict[frozenset, sympy.Rational]] = {}
    for factors, coefficient in found:
        monomial = monomials.get(factors)
        if monomial is None:
            monomial = monomials[factors] = sympy.Mul(*factors)
        if coefficient in readings:
            reading = readings[coefficient]
        else:
            reading = readings[coefficient] = _reading(coefficient)
        if reading is None:
            return None
        number, powers = reading
        row = sums.setdefault(monomial, {})
        old = row.get(powers)
        row[powers] = number if old is None else old + number
    return {m: [(c, dict(powers)) for powers, c in row.items() if c != 0] for m, row in sums.items()}


def _reading(factors: tuple[sympy.Expr, ...]) -> tuple[sympy.Rational, frozenset] | None:
    """The product of a piece's coefficient factors as its number and the
    exponent of each base, or ``None`` (:func:`rows`)."""
    number = sympy.S.One
    powers: dict[sympy.Expr, int] = {}
    for f in factors:
        if f.is_Rational:
            number *= f
            continue
        power = _power(f)
        if power is None:
            return None
        base, exponent = power
        powers[base] = powers.get(base, 0) + exponent
    return number, frozenset((b, sympy.Integer(e)) for b, e in powers.items() if e)


#: :func:`~modeq.algebra.factoring.whole_power`, remembered (the same factors recur in every piece).
_power = lru_cache(maxsize=1 << 16)(whole_power)


def pieces(x: sympy.Expr, nested: AbstractSet[sympy.Symbol], seen: dict) -> list[Piece] | None:
    """The pieces of ``x``: every sum distributed as
    :func:`~modeq.algebra.index.distribute` does (whole powers of it too),
    except a polynomial free of nested atoms, kept as one factor. ``seen``
    holds the pieces of the subexpressions met so far (a field repeats its
    scalar sums in many terms)."""
    if x in seen:
        return seen[x]
    if _power_of_sum(x):
        parts = [x.base] * int(x.exp)
    elif x.is_Add or x.is_Mul:
        parts = list(x.args)
    elif nested.isdisjoint(x.free_symbols):
        return [((), (x,))]
    elif x in nested or x.is_Pow:
        return [((x,), ())]
    else:
        return None
    found = [pieces(a, nested, seen) for a in parts]
    if any(f is None for f in found):
        out = None
    elif not x.is_Mul and all(not m for f in found for m, _ in f) and _whole(x):
        out = [((), (x,))]
    elif x.is_Add:
        out = [piece for f in found for piece in f]
    else:
        out = [((), ())]
        for f in found:
            out = [(m + n, c + d) for m, c in out for n, d in f]
    seen[x] = out
    return out


def _power_of_sum(x: sympy.Expr) -> bool:
    return x.is_Pow and x.exp.is_Integer and x.exp > 1 and x.base.is_Add


@lru_cache(maxsize=1 << 16)
def _whole(x: sympy.Expr) -> bool:
    r"""Whether a scalar factor stays whole: not a product or a sum (or a whole
    power of one), unless a polynomial with rational coefficients, which the
    factoring multiplies out in its ring (:mod:`~modeq.algebra.factoring`)."""
    base = x.base if _power_of_sum(x) else x
    if base.is_Add:
        return rational_polynomial(base)
    return not base.is_Mul
