r"""An exact test that two index-form fields are equal, in time about linear in their size.

A field is :math:`x = \sum_m c_m\,m` over monomials :math:`m` in the nested
atoms (contractions, reductions, …); :mod:`~modeq.algebra.collecting` reads
the pieces of each monomial off without multiplying out the scalar sums. Two
fields are equal when every :math:`c_m` of their difference is zero. Each
coefficient is a rational function of *generators*: the symbols (the
hyperparameters, :math:`g`, :math:`\theta`, :math:`t`), functions applied to
an argument (:math:`\eta(t)`, its derivatives, :math:`\cos(\pi t/T)`), powers
with a symbolic exponent (:math:`\beta^n`, one generator per term of the
exponent) and radicals :math:`r = B^{1/q}` (:math:`\sqrt{g^2+\varepsilon}`,
:math:`|g| = \sqrt{g^2}`). In the sparse polynomial ring
:math:`\mathbb{Q}[\text{generators}]` a coefficient is written

.. math:: c_m = \sum_p \frac{n_p}{\prod_b b^{e_{p,b}}}
          = \frac{\sum_p n_p \prod_b b^{E_b - e_{p,b}}}{\prod_b b^{E_b}},
          \qquad E_b = \max_p e_{p,b},

over denominator bases :math:`b` (polynomials, monic; a monomial base is
split into its generators), without any greatest common divisor. Its
numerator is reduced modulo the relations :math:`r^q = B` of the radicals
whose radicand :math:`B` is a polynomial: with each radical before the
generators of its radicand in the lexicographic order, the leading terms
:math:`r^q` are coprime, so the relations are a Gröbner basis and the
remainder is the unique one of degree :math:`< q` in each :math:`r`.

A zero remainder for every monomial is a **proof** that the fields are equal
(wherever both are defined: the denominators are the fields' own; one that
the relations send to zero, or a float, an infinity or ``nan``, and nothing
is proved). A non-zero one proves nothing: relations the test does
not know (:math:`\sqrt a\sqrt b = \sqrt{ab}`, a monomial atom written in two
forms) may still make the difference vanish, so the caller then takes a
slower, more complete route. Every step is a dictionary operation on the
distinct subexpressions, the sums multiplied out once in the ring: no
``expand`` or ``factor`` of the whole difference.
"""

from __future__ import annotations

from typing import AbstractSet, Iterable

import sympy
from sympy.polys.domains import QQ
from sympy.polys.orderings import lex
from sympy.polys.rings import PolyElement, PolyRing

from . import collecting

__all__ = ["equal"]


class _Declined(Exception):
    """A form the test does not read (a float, a function of a nested atom)."""


def equal(a: sympy.Expr, b: sympy.Expr, nested: AbstractSet[sympy.Symbol]) -> bool:
    r"""Whether ``a`` and ``b`` are proved equal: every coefficient of
    :math:`a - b` over the monomials in the ``nested`` atoms reduces to the
    zero polynomial. ``False`` means *not proved* (see the module's notes)."""
    seen: dict = {}
    groups: dict[sympy.Expr, list[tuple[int, tuple[sympy.Expr, ...]]]] = {}
    monomials: dict[tuple[sympy.Expr, ...], sympy.Expr] = {}
    for sign, x in ((1, a), (-1, b)):
        pieces = collecting.pieces(x, nested, seen)
        if pieces is None:
            return False
        for factors, coefficient in pieces:
            monomial = monomials.get(factors)
            if monomial is None:
                monomial = monomials[factors] = sympy.Mul(*factors)
            groups.setdefault(monomial, []).append((sign, coefficient))
    try:
        ring = _Ring(factor for group in groups.values() for _, factors in group for factor in factors)
        return all(ring.vanishes(group) for group in groups.values())
    except _Declined:
        return False


class _Ring:
    """The polynomial ring of the coefficients' generators, and each
    coefficient factor as a fraction in it (``numerator``, ``{base: exponent}``)."""

    def __init__(self, factors: Iterable[sympy.Expr]) -> None:
        leaves: dict[sympy.Expr, None] = {}
        radicals: dict[tuple[sympy.Expr, int], None] = {}
        _generators(factors, leaves, radicals, set())
        # a radical before the radicals of its radicand, and all of them before the other generators
        # (a radicand holding another radical is the larger tree)
        order = sorted(radicals, key=lambda key: -_size(key[0]))
        symbols = sympy.symbols(f"r0:{len(order)}", cls=sympy.Dummy) + sympy.symbols(f"x0:{len(leaves)}", cls=sympy.Dummy)
        self.ring = PolyRing(symbols, QQ, lex) if symbols else PolyRing(sympy.symbols("x0:1", cls=sympy.Dummy), QQ, lex)
        gens = self.ring.gens
        self.radicals = {key: gens[i] for i, key in enumerate(order)}
        self.leaves = {leaf: gens[len(order) + i] for i, leaf in enumerate(leaves)}
        self.one = self.ring.one
        #: the denominator bases, each once: polynomial -> its key
        self.bases: dict[PolyElement, int] = {}
        self.base_polys: list[PolyElement] = []
        self.memo: dict[sympy.Expr, tuple[PolyElement, dict[int, int]]] = {}
        self.products: dict[tuple[sympy.Expr, ...], tuple[PolyElement, dict[int, int]]] = {}
        self.relations = []
        for (radicand, q), r in self.radicals.items():
            numerator, denominator = self.fraction(radicand)
            if not denominator:
                self.relations.append(r**q - numerator)

    # -- fractions ----------------------------------------------------------------------

    def fraction(self, x: sympy.Expr) -> tuple[PolyElement, dict[int, int]]:
        """``x`` as :math:`n / \\prod_b b^{e_b}`."""
        found = self.memo.get(x)
        if found is None:
            found = self.memo[x] = self._fraction(x)
        return found

    def _fraction(self, x: sympy.Expr) -> tuple[PolyElement, dict[int, int]]:
        if x.is_Rational:
            return self.one * QQ(int(x.p), int(x.q)), {}
        leaf = self.leaves.get(x)
        if leaf is not None:
            return leaf, {}
        if x.is_Mul:
            return self.product(x.args)
        if x.is_Add:
            return self.sum([(1, (arg,)) for arg in x.args])
        if x.is_Pow:
            return self._power(*x.args)
        raise _Declined(x)  # every other leaf was found by _generators

    def _power(self, base: sympy.Expr, exponent: sympy.Expr) -> tuple[PolyElement, dict[int, int]]:
        if exponent.is_Integer:
            n, d = self.fraction(base)
            k = int(exponent)
            if k >= 0:
                return n**k, {b: e * k for b, e in d.items()}
            numerator = self.one
            for b, e in d.items():
                numerator = numerator * self.base_polys[b] ** (e * -k)
            constant, denominator = self._denominator(n)
            return numerator * constant**k, {b: e * -k for b, e in denominator.items()}
        if exponent.is_Rational:
            r = self.radicals[(base, int(exponent.q))]
            p = int(exponent.p)
            if p > 0:
                return r**p, {}
            return self.one, {self._base(r): -p}
        # symbolic exponent: base^(c + k m + ...) = base^c (base^m)^k ...
        numerator, denominator = self.one, {}
        for term in sympy.Add.make_args(exponent):
            k, m = term.as_coeff_Mul()
            if m is sympy.S.One:
                n, d = self._power(base, k)
            else:
                if not k.is_Integer:
                    k, m = sympy.S.One, term
                generator = self.leaves[sympy.Pow(base, m, evaluate=False)]
                n, d = (generator ** int(k), {}) if k >= 0 else (self.one, {self._base(generator): -int(k)})
            numerator = numerator * n
            for b, e in d.items():
                denominator[b] = denominator.get(b, 0) + e
        return numerator, denominator

    def _denominator(self, n: PolyElement) -> tuple[object, dict[int, int]]:
        r"""The polynomial ``n`` as :math:`c \prod_b b^{e_b}` with monic bases
        (a monomial split into its generators): ``(c, {b: e_b})``."""
        if not n:
            raise _Declined("a division by zero")
        if len(n) == 1:
            ((monomial, c),) = n.items()
            return c, {self._base(self.ring.gens[i]): e for i, e in enumerate(monomial) if e}
        c = n.LC
        return c, {self._base(n.quo_ground(c)): 1}

    def _base(self, poly: PolyElement) -> int:
        key = self.bases.get(poly)
        if key is None:
            key = self.bases[poly] = len(self.base_polys)
            self.base_polys.append(poly)
        return key

    def product(self, factors: tuple[sympy.Expr, ...]) -> tuple[PolyElement, dict[int, int]]:
        """The product of ``factors`` (many pieces share their scalar factors)."""
        found = self.products.get(factors)
        if found is None:
            numerator, denominator = self.one, {}
            for factor in factors:
                n, d = self.fraction(factor)
                numerator = numerator * n
                for b, e in d.items():
                    denominator[b] = denominator.get(b, 0) + e
            found = self.products[factors] = (numerator, denominator)
        return found

    def sum(self, terms: list[tuple[int, tuple[sympy.Expr, ...]]]) -> tuple[PolyElement, dict[int, int]]:
        r""":math:`\sum_p s_p \prod f_{p}` over one common denominator (each base
        to its largest power among the terms)."""
        fractions = []
        for sign, factors in terms:
            numerator, denominator = self.product(factors)
            fractions.append((numerator if sign == 1 else -numerator, denominator))
        common: dict[int, int] = {}
        for _, d in fractions:
            for b, e in d.items():
                if e > common.get(b, 0):
                    common[b] = e
        total = self.ring.zero
        multipliers: dict[tuple, PolyElement] = {}
        for n, d in fractions:
            missing = tuple(sorted((b, e - d.get(b, 0)) for b, e in common.items() if e != d.get(b, 0)))
            multiplier = multipliers.get(missing)
            if multiplier is None:
                multiplier = self.one
                for b, e in missing:
                    multiplier = multiplier * self.base_polys[b] ** e
                multipliers[missing] = multiplier
            total += n * multiplier
        return total, common

    def vanishes(self, terms: list[tuple[int, tuple[sympy.Expr, ...]]]) -> bool:
        """Whether :math:`\\sum_p s_p \\prod f_p` reduces to zero modulo the radicals' relations."""
        numerator, denominator = self.sum(terms)
        if numerator and self.relations:
            numerator = numerator.rem(self.relations)
        if numerator:
            return False
        # the common denominator is the fields' own: a base the relations send to zero (sqrt(x)^2 - x)
        # would divide by zero, and proves nothing
        if self.relations and any(not self.base_polys[b].rem(self.relations) for b in denominator):
            raise _Declined("a denominator that vanishes")
        return True


def _size(x: sympy.Expr) -> int:
    return sum(1 for _ in sympy.preorder_traversal(x))


def _generators(factors: Iterable[sympy.Expr], leaves: dict, radicals: dict, seen: set) -> None:
    """Find the generators of ``factors``: ``leaves`` (symbols, function
    applications, powers with a symbolic exponent, by the term of the exponent)
    and ``radicals`` (``(radicand, q)`` for :math:`B^{p/q}`), each in order of appearance."""
    stack = list(factors)
    while stack:
        x = stack.pop()
        if x in seen:
            continue
        seen.add(x)
        if x.is_Rational:
            continue
        if x.is_Float or x.is_Atom and x.is_number and x.is_finite is not True:
            raise _Declined(x)  # a float, an infinity, nan: not an element of the ring
        if x.is_Symbol or not (x.is_Add or x.is_Mul or x.is_Pow):
            leaves.setdefault(x, None)  # a function application, a derivative, pi
        elif x.is_Pow and not x.exp.is_Rational:
            for term in sympy.Add.make_args(x.exp):
                k, m = term.as_coeff_Mul()
                if m is not sympy.S.One:
                    leaves.setdefault(sympy.Pow(x.base, m if k.is_Integer else term, evaluate=False), None)
                elif not k.is_Rational:
                    raise _Declined(x)
                elif not k.is_Integer:
                    radicals.setdefault((x.base, int(k.q)), None)
            stack.append(x.base)
        elif x.is_Pow and not x.exp.is_Integer:
            radicals.setdefault((x.base, int(x.exp.q)), None)
            stack.append(x.base)
        else:
            stack.extend(x.args)
