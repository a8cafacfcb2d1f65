r"""Expressions with rational coefficients distributed as sparse maps.

A field whose hyperparameters are all numbers (the step-by-step fields of
:func:`modeq.derive_steps`) is a sum of products of atoms, rationals, and
powers of sums such as :math:`(v + \varepsilon)^{-1/2}`. Its *distributed*
form is

.. math:: x = \sum_t q_t \prod_b b^{e_{t,b}},

distinct products over *bases* :math:`b` with rational :math:`q_t` and
:math:`e_{t,b}`: every product over a sum in a numerator (a positive integer
power of a sum included) multiplied out, the powers of one base merged
(:math:`b^{-1/2}\,b^{-1} = b^{-3/2}`), the powers of sums that remain — the
denominators and radicals — kept whole, each with its base in this form
itself. Unlike :func:`sympy.expand`, a denominator is never multiplied out:
:math:`V^{3/2}` stays one factor instead of becoming
:math:`\sum_b c_b g_b^2\sqrt V + c\sqrt V`, whose every coefficient repeats
the whole sum :math:`V`.

The map :math:`\prod_b b^{e_b} \mapsto q` is built with dictionary operations
and Python fractions (:func:`distribute`), SymPy's ``Mul`` and ``Add``
machinery only for the result (:func:`build`): distributing a step field
through SymPy cost a quadratic share of ``derive_steps``. Inputs outside the
form — a symbol that is not an atom (a hyperparameter), a non-rational number
(a float, :math:`\sqrt 2`, :math:`\pi`), a symbolic exponent, a sum whose
merged powers come back to a positive integer power — are declined
(``None``), for the caller's general route.
"""

from __future__ import annotations

from fractions import Fraction
from math import gcd
from typing import AbstractSet, Callable

import sympy

from . import linear

__all__ = ["Distributed", "distribute", "build", "grouped"]

#: A product of powers: ``(base index, numerator, denominator)`` of each exponent, sorted
#: (indices into :attr:`Distributed.bases`; plain integers hash and add faster than fractions).
Monomial = tuple[tuple[int, int, int], ...]
#: A sum :math:`\sum_t q_t m_t` as the map :math:`m_t \mapsto q_t`.
Polynomial = dict[Monomial, Fraction]


_ONE = Fraction(1)


class _Declined(Exception):
    """The expression is outside the distributed form."""


class Distributed:
    """One distributed expression: its map and the table of its bases."""

    def __init__(self, known: Callable[[sympy.Symbol], bool], bases: dict[sympy.Expr, sympy.Expr]) -> None:
        self._known = known
        #: canonical form of a sum already met as a base (shared by the caller across expressions)
        self._canonical = bases
        self.bases: list[sympy.Expr] = []
        self._is_sum: list[bool] = []
        self._index: dict[sympy.Expr, int] = {}
        self._memo: dict[sympy.Expr, Polynomial] = {}
        #: the expression's map (set by :func:`distribute`)
        self.polynomial: Polynomial = {}

    def expand(self, x: sympy.Expr) -> Polynomial:
        found = self._memo.get(x)
        if found is None:
            found = self._memo[x] = self._expand(x)
        return found

    def _base(self, b: sympy.Expr) -> int:
        i = self._index.get(b)
        if i is None:
            i = self._index[b] = len(self.bases)
            self.bases.append(b)
            self._is_sum.append(b.is_Add)
        return i

    def _expand(self, x: sympy.Expr) -> Polynomial:
        if x.is_Rational:
            return {(): Fraction(x.p, x.q)} if x else {}
        if x.is_Symbol:
            if not self._known(x):
                raise _Declined
            return {((self._base(x), 1, 1),): _ONE}
        if x.is_Add:
            total: Polynomial = {}
            for a in x.args:
                _add(total, self.expand(a))
            return total
        if x.is_Mul:
            out: Polynomial = {(): _ONE}
            for a in x.args:
                out = self._multiply(out, self.expand(a))
            return out
        if x.is_Pow:
            base, exponent = x.args
            if not exponent.is_Rational or base.is_number:
                raise _Declined  # symbolic exponents, numeric radicals
            if base.is_Add and exponent.is_Integer and exponent > 0:
                out = {(): _ONE}
                for _ in range(int(exponent)):
                    out = self._multiply(out, self.expand(base))
                return out
            if base.is_Symbol:
                if not self._known(base):
                    raise _Declined
            elif base.is_Add or base.is_Mul or base.is_Pow:
                base = self._canonical_sum(base)
            else:
                self._check_opaque(base)
            return {((self._base(base), int(exponent.p), int(exponent.q)),): _ONE}
        if x.is_number:
            raise _Declined  # a float, a constant such as pi
        self._check_opaque(x)  # a function such as sign(g): one base of its own
        return {((self._base(x), 1, 1),): _ONE}

    def _check_opaque(self, x: sympy.Expr) -> None:
        if not all(self._known(s) for s in x.free_symbols):
            raise _Declined

    def _canonical_sum(self, b: sympy.Expr) -> sympy.Expr:
        """A base under a power in distributed form itself, which must be a sum
        (remembered by the caller's table): :math:`\\sqrt{(g + \\theta)^2}` is
        :math:`\\sqrt{g^2 + 2g\\theta + \\theta^2}`."""
        found = self._canonical.get(b)
        if found is None:
            inner = Distributed(self._known, self._canonical)
            found = build(inner.expand(b), inner.bases)
            if not found.is_Add:
                raise _Declined  # the sum collapsed: its power would take another form
            self._canonical[b] = found
        return found

    def _multiply(self, a: Polynomial, b: Polynomial) -> Polynomial:
        if len(a) == 1 and () in a:
            q = a[()]
            return dict(b) if q == 1 else {m: q * c for m, c in b.items()}
        if len(b) == 1 and () in b:
            return self._multiply(b, a)
        out: Polynomial = {}
        for m, p in a.items():
            for n, q in b.items():
                key = self._product(m, n)
                old = out.get(key)
                if old is None:
                    out[key] = p * q
                else:
                    c = old + p * q
                    if c:
                        out[key] = c
                    else:
                        del out[key]
        return out

    def _product(self, m: Monomial, n: Monomial) -> Monomial:
        if not m:
            return n
        if not n:
            return m
        merged = {i: (a, b) for i, a, b in m}
        for i, a, b in n:
            old = merged.get(i)
            if old is None:
                merged[i] = (a, b)
                continue
            c, d = old
            num, den = a * d + c * b, b * d
            if not num:
                del merged[i]
                continue
            g = gcd(num, den)
            num, den = num // g, den // g
            if den == 1 and num > 0 and self._is_sum[i]:
                raise _Declined  # a sum back to a positive integer power would have to be multiplied out
            merged[i] = (num, den)
        return tuple(sorted((i, a, b) for i, (a, b) in merged.items()))


def _add(total: Polynomial, other: Polynomial) -> None:
    for m, q in other.items():
        old = total.get(m)
        if old is None:
            total[m] = q
        else:
            c = old + q
            if c:
                total[m] = c
            else:
                del total[m]


def distribute(x: sympy.Expr, known: Callable[[sympy.Symbol], bool],
               bases: dict[sympy.Expr, sympy.Expr] | None = None) -> Distributed | None:
    """``x`` distributed (with ``known(s)`` true of every symbol it may hold),
    or ``None`` when it is outside the form. ``bases`` remembers the canonical
    form of sums under powers across calls."""
    d = Distributed(known, {} if bases is None else bases)
    try:
        d.polynomial = d.expand(x)
    except _Declined:
        return None
    return d


def _power(base: sympy.Expr, n: int, d: int) -> sympy.Expr:
    return base if n == d == 1 else sympy.Pow(base, sympy.Rational(n, d))


def _rational(q: Fraction) -> sympy.Rational:
    return sympy.Rational(q.numerator, q.denominator)


def _product(powers: list[sympy.Expr]) -> sympy.Expr:
    """``sympy.Mul(*powers)`` of powers of distinct bases (nothing merges, so
    only SymPy's order of the factors is to be found)."""
    if len(powers) == 1:
        return powers[0]
    try:
        powers.sort(key=linear.sort_key)
    except TypeError:  # contents that tuples do not order as Basic.compare does
        return sympy.Mul(*powers)
    return sympy.Mul._from_args(powers, True)


def build(poly: Polynomial, bases: list[sympy.Expr]) -> sympy.Expr:
    """The SymPy sum of a map (no grouping): the ``Add`` that ``sympy.Add`` of
    the products would give (:func:`modeq.algebra.linear.build`)."""
    return linear.build({_product([_power(bases[i], n, d) for i, n, d in m]) if m else sympy.S.One: _rational(q)
                         for m, q in poly.items()})


def grouped(d: Distributed, outer: Callable[[sympy.Expr], bool]) -> dict[sympy.Expr, sympy.Expr]:
    r"""The distributed sum grouped as :math:`\sum_m m\,c_m`: each product
    split into the powers for which ``outer(power)`` holds (the monomial
    :math:`m`) and the others, which with the rational make the terms of
    :math:`c_m`; the map :math:`m \mapsto c_m`."""
    powers: dict[tuple[int, int, int], tuple[sympy.Expr, bool]] = {}
    groups: dict[tuple, linear.Terms] = {}
    for m, q in d.polynomial.items():
        inner, key = [], []
        for factor in m:
            found = powers.get(factor)
            if found is None:
                power = _power(d.bases[factor[0]], factor[1], factor[2])
                found = powers[factor] = (power, outer(power))
            (key.append(factor) if found[1] else inner.append(found[0]))
        # distinct products have distinct inner parts within a group: no two terms merge
        groups.setdefault(tuple(key), {})[_product(inner) if inner else sympy.S.One] = _rational(q)
    return {_product([powers[f][0] for f in key]) if key else sympy.S.One: linear.build(c)
            for key, c in groups.items()}
