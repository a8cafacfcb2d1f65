r"""Factoring a collected coefficient quickly, with SymPy's result.

A coefficient of the index form is a sum of products of powers,
:math:`\sum_t c_t \prod_b b^{e_{t,b}}`, over a handful of bases :math:`b`
(hyperparameters, :math:`\beta - 1`, :math:`g`, :math:`\varepsilon + g^2`) with
rational exponents. ``sympy.factor`` first puts it over a common denominator
with ``together``, whose pairwise ``gcd_terms`` costs most of a derivation
(Adam order 3: 6.7 s of factoring, 60 % of it in ``together``). Here the
common factor is read off the exponents,

.. math:: \sum_t c_t \prod_b b^{e_{t,b}}
          = \Big(\sum_t c_t \prod_b b^{e_{t,b} - m_b}\Big) \prod_b b^{m_b},
          \qquad m_b = \min_t e_{t,b},

and SymPy's factorization runs on the pieces (its ``together`` skipped: the
expression is already one product). The result is SymPy's own
``factor(expr)``. Where a base carries a radical that SymPy would treat as a
generator of its own (``sqrt(eps)`` next to ``eps``), or an exponent is
symbolic (:math:`\beta^n` in the exact regime), the bookkeeping could choose
other generators than ``together`` does, so ``sympy.factor`` runs unchanged.

The numerator :math:`\sum_t c_t \prod_b b^{e_{t,b} - m_b}` is, when every base
is a polynomial in symbols and every shifted exponent a whole number, a
polynomial that SymPy would get by ``expand``-ing the expression term by term
(then ``factor`` spent most of its time there: Adam order 4, 70 %). It is
multiplied out instead in a sparse polynomial ring over :math:`\mathbb{Q}`
(each base's powers once) and handed to SymPy's ``factor_list`` as the
``Poly`` SymPy would have built: the same generators in the same order, the
same domain.
"""

from __future__ import annotations

from functools import lru_cache

import sympy
from sympy.core.mul import _keep_coeff
from sympy.polys import polyoptions
from sympy.polys.constructor import construct_domain
from sympy.polys.domains import QQ
from sympy.polys.polytools import Poly, _factors_product, _symbolic_factor_list
from sympy.polys.polyutils import _sort_gens
from sympy.polys.rings import PolyRing

__all__ = ["factor", "factor_rows", "whole_power", "factor_partly", "factor_polynomials", "polynomial_bases", "prepare", "factor_prepared",
           "rational_polynomial"]

_ZERO = sympy.S.Zero

#: A coefficient's terms: the numeric factor and the exponent of each base.
Rows = list[tuple[sympy.Rational, dict[sympy.Expr, sympy.Rational]]]


def factor(c: sympy.Expr) -> sympy.Expr:
    """``sympy.factor(c)``, faster on sums of products of powers."""
    rows = _rows(c)
    if rows is None:
        return sympy.factor(c)
    return factor_rows(rows)


def factor_rows(rows: Rows) -> sympy.Expr:
    r"""``sympy.factor`` of the sum :math:`\sum_t c_t \prod_b b^{e_{t,b}}` the
    ``rows`` stand for (bases symbols or sums, rational exponents), without
    building the sum."""
    common, options = _common(rows)
    numerator = _numerator_poly(rows, common, options)
    if numerator is None:
        together = sympy.Mul(_numerator(rows, common), *(b**m for b, m in common.items() if m != 0))
        coefficient, factors = _symbolic_factor_list(together, options, "factor")
        return _keep_coeff(coefficient, _factors_product(factors))
    return _product(numerator, common, options)


def factor_partly(c: sympy.Expr, inner: frozenset[sympy.Symbol]) -> sympy.Expr:
    r"""``c`` as a product, factored short of its multivariate core: with
    :math:`x` the ``inner`` symbols (the time and functions of it) and
    :math:`y` the others, the numerator :math:`N(x, y)` over the common factor
    is split into its contents and primitive part,

    .. math:: N = \operatorname{cont}_x(N)\,\operatorname{cont}_y(N)\,P,

    where :math:`\operatorname{cont}_x(N)` (a polynomial in :math:`y`) is the
    greatest common divisor of :math:`N`'s coefficients as a polynomial in
    :math:`x`, and :math:`\operatorname{cont}_y(N)` the one in :math:`x`. The
    contents are factored (they are small: :math:`(1-\beta)^2`,
    :math:`2 - u`), :math:`P` is left as it is. Polynomial greatest common
    divisors cost little next to the multivariate factoring of :math:`N`
    (Wang's algorithm), which a scheduled optimizer's coefficients, mixed
    polynomials in hyperparameters and functions of the time, made cost more
    than the derivation. Radicals, functions and constants are symbols here
    (:math:`b^{p/q} = v^p`, :math:`v = b^{1/q}`); where the exponents do not
    give a polynomial numerator, :func:`factor` decides."""
    x, back = _opaque(c)
    number, rest = _partly(x, inner)
    return _keep_coeff(number, rest.xreplace(back))


def _opaque(c: sympy.Expr) -> tuple[sympy.Expr, dict[sympy.Symbol, sympy.Expr]]:
    r"""``c`` with each radical :math:`b^{p/q}` as :math:`v^p` (one symbol
    :math:`v = b^{1/q}` per base and root), each other power with a symbolic
    exponent, function and named constant as a symbol; and the map back."""
    symbols: dict[tuple[sympy.Expr, sympy.Expr], sympy.Symbol] = {}
    replace: dict[sympy.Expr, sympy.Expr] = {}

    def symbol(key: tuple[sympy.Expr, sympy.Expr]) -> sympy.Symbol:
        return symbols.setdefault(key, _symbol(key))

    def walk(e: sympy.Expr) -> None:
        if e in replace:
            return
        if e.is_Pow and e.exp.is_Rational and not e.exp.is_Integer and e.base.free_symbols:
            replace[e] = symbol((e.base, sympy.Rational(1, e.exp.q))) ** e.exp.p
        elif (e.is_Pow and not e.exp.is_Rational) or isinstance(e, sympy.Function) or e.is_NumberSymbol:
            replace[e] = symbol((e, sympy.Integer(1)))
        else:
            for a in e.args:
                walk(a)

    walk(c)
    return c.xreplace(replace), {v: b**x for (b, x), v in symbols.items()}


@lru_cache(maxsize=None)
def _symbol(key: tuple[sympy.Expr, sympy.Expr]) -> sympy.Symbol:
    """One symbol per radical or function, the same on every call (so that
    :func:`_partly` finds the factors it has seen)."""
    return sympy.Dummy("v")


@lru_cache(maxsize=8192)
def _partly(c: sympy.Expr, inner: frozenset[sympy.Symbol]) -> tuple[sympy.Rational, sympy.Expr]:
    """:func:`factor_partly` of ``c`` (radicals and functions already
    symbols) as its number and the rest (kept apart: SymPy distributes a
    number over a lone sum, :math:`(1+\beta)/2 = 1/2 + \beta/2`)."""
    c = sympy.Add(*(sympy.Mul(*map(_over_denominator, sympy.Mul.make_args(t))) for t in sympy.Add.make_args(c)))
    rows = _rows(c, constants=True)
    if rows is None:
        return factor(c).as_coeff_Mul()
    if len(rows) == 1:  # a product: its sums, each on its own
        number, powers = rows[0]
        rest = []
        for b, e in powers.items():
            if b.is_Add and e.is_Integer:
                n, b = _partly(b, inner)
                number *= n**e
            rest.append(b**e)
        return number, sympy.Mul(*rest)
    common, _ = _common(rows)
    numerator = _numerator_element(rows, common)
    if numerator is None:
        return factor(c).as_coeff_Mul()
    number, factors = _factor_limited(numerator, inner)
    return number, sympy.Mul(*(b**m for b, m in common.items() if m != 0), *factors)


#: Polynomials in one group of symbols of at most this many terms are factored
#: completely (a few milliseconds); see :func:`_factor_limited`.
SMALL = 64
#: The same for polynomials that mix both groups (whose factoring grows fastest).
SMALL_MIXED = 4


def _factor_limited(p, inner: frozenset[sympy.Symbol]) -> tuple[sympy.Rational, list[sympy.Expr]]:
    r"""``(number, factors)`` of the ring element ``p``: if it mixes ``inner``
    symbols and others, its irreducible factors if it is small
    (:data:`SMALL_MIXED`), else its contents in each group, factored the same
    way, and its primitive part, unfactored; if it does not, its irreducible
    factors if it is small (:data:`SMALL`), else itself."""
    ring = p.ring
    to_sympy = ring.domain.to_sympy
    split = [i for i, s in enumerate(ring.symbols) if s in inner and any(m[i] for m in p.monoms())]
    used = [i for i in range(ring.ngens) if any(m[i] for m in p.monoms())]
    mixed = bool(split) and len(split) < len(used)
    if len(p) <= (SMALL_MIXED if mixed else SMALL):
        unit, pieces = p.factor_list()
        return to_sympy(unit), [f.as_expr() ** k for f, k in pieces]
    contents = []
    if mixed:
        for part in (split, [i for i in used if i not in split]):
            coefficients: dict[tuple[int, ...], object] = {}
            for monomial, coefficient in p.items():
                key = tuple(monomial[i] for i in part)
                other = tuple(0 if i in part else e for i, e in enumerate(monomial))
                coefficients[key] = coefficients.get(key, ring.zero) + ring({other: coefficient})
            content = ring.zero
            for polynomial in coefficients.values():
                content = content.gcd(polynomial)
                if content == ring.one:
                    break
            if content != ring.one:
                p = p.exquo(content)
                contents.append(content)
    number, primitive = p.primitive()
    number, factors = to_sympy(number), [primitive.as_expr()]
    for content in contents:
        unit, pieces = _factor_limited(content, inner)
        number, factors = number * unit, factors + pieces
    return number, factors


def _over_denominator(f: sympy.Expr) -> sympy.Expr:
    r"""A factor :math:`b^k` whose base is a sum of fractions as
    :math:`(n/d)^k`, :math:`n` a polynomial (:math:`t/T - 1 = (t - T)/T`), so
    that the sum's terms are products of polynomial bases."""
    base, exponent = f.as_base_exp()
    if base.is_Add and exponent.is_Integer and not base.is_polynomial():
        return sympy.together(base) ** exponent
    return f


def factor_polynomials(coefficients: list[sympy.Expr]) -> list[sympy.Expr] | None:
    r"""``sympy.factor`` of each coefficient where it is read off the unique
    factorization of the coefficient as a rational function of its symbols,
    whatever form it is written in (the numerator a polynomial of two terms or
    more in a ring, the common factor powers of polynomial bases); ``None`` if
    that fails for any of them (SymPy's own generators — a radical, a
    function — would decide, and they depend on the form). Every numerator
    is built before the first is factored, so a refusal costs little."""
    prepared = prepare(coefficients)
    return None if prepared is None else factor_prepared(prepared)


def polynomial_bases(coefficients: list[sympy.Expr]) -> bool:
    """Whether every coefficient is a sum of products of powers of bases whose
    exponents differ from term to term by whole numbers (what
    :func:`factor_polynomials` needs, short of the numerators' own shape)."""
    return prepare(coefficients) is not None


def prepare(coefficients: list[sympy.Expr]) -> list | None:
    """The coefficients read as rows over their common factors, or ``None``
    unless :func:`polynomial_bases` holds; :func:`factor_prepared` factors
    them (one reading for both questions)."""
    all_rows = [_rows(c, constants=True) for c in coefficients]
    if any(rows is None for rows in all_rows):
        return None
    commons = [_common(rows) for rows in all_rows]
    if not all(e.is_Integer for rows, (common, _) in zip(all_rows, commons)
               for _, powers in rows for b, m in common.items() for e in [powers.get(b, _ZERO) - m]):
        return None
    return list(zip(all_rows, commons))


def factor_prepared(prepared: list) -> list[sympy.Expr] | None:
    """:func:`factor_polynomials` of coefficients read by :func:`prepare`."""
    numerators = [_numerator_poly(rows, common, options) for rows, (common, options) in prepared]
    if any(n is None for n in numerators):
        return None
    return [_product(n, common, options) for n, (_, (common, options)) in zip(numerators, prepared)]


def _common(rows: Rows) -> tuple[dict[sympy.Expr, sympy.Rational], polyoptions.Options]:
    """The common factor's exponents :math:`m_b`, and SymPy's options of ``factor``."""
    bases = set().union(*(powers for _, powers in rows))
    common = {b: min(powers.get(b, _ZERO) for _, powers in rows) for b in bases}
    options = polyoptions.build_options((), {})
    options["fraction"] = True
    return common, options


def _product(numerator: Poly, common: dict[sympy.Expr, sympy.Rational], options) -> sympy.Expr:
    """The factored numerator times the factored common factor, as SymPy's ``factor`` writes it."""
    coefficient, factors = _symbolic_factor_list(sympy.Mul(*(b**m for b, m in common.items() if m != 0)),
                                                 options, "factor")
    numerator_coefficient, numerator_factors = numerator.factor_list()
    merged: dict = {}
    for f, k in numerator_factors + factors:  # as SymPy collects the factors of each argument in turn
        merged[f] = merged.get(f, 0) + k
    return _keep_coeff(coefficient * numerator_coefficient, _factors_product(list(merged.items())))


def _rows(c: sympy.Expr, constants: bool = False) -> Rows | None:
    """``c``'s terms as numbers and exponents of bases, or ``None`` where the
    exponent bookkeeping does not apply (with ``constants``, a number term is
    a row without bases; :func:`factor` leaves such sums to SymPy)."""
    rows = []
    for term in sympy.Add.make_args(c):
        coefficient, rest = term.as_coeff_Mul()
        powers: dict[sympy.Expr, sympy.Rational] = {}
        for f in () if constants and rest is sympy.S.One else sympy.Mul.make_args(rest):
            base, exponent = f.as_base_exp()
            if (not exponent.is_Rational or base.is_number or (not exponent.is_Integer and not base.is_Add)
                    or _has_radical(base)):
                return None
            powers[base] = powers.get(base, 0) + exponent
        rows.append((coefficient, powers))
    return rows


def _numerator(rows: Rows, common: dict[sympy.Expr, sympy.Rational]) -> sympy.Expr:
    return sympy.Add(*(coefficient * sympy.Mul(*(b ** (powers.get(b, 0) - m) for b, m in common.items()))
                       for coefficient, powers in rows))


def _numerator_poly(rows: Rows, common: dict[sympy.Expr, sympy.Rational], options) -> Poly | None:
    r"""The numerator as the ``Poly`` that SymPy's ``factor`` would make of its
    expansion, or ``None`` unless it is a polynomial of two terms or more in
    symbols (bases polynomial in symbols, whole shifted exponents)."""
    total = _numerator_element(rows, common)
    return None if total is None else _poly(total, options)


def _numerator_element(rows: Rows, common: dict[sympy.Expr, sympy.Rational]):
    """The numerator as an element of a sparse polynomial ring over the
    rationals, or ``None`` (as :func:`_numerator_poly`)."""
    symbols: set[sympy.Symbol] = set()
    for b in common:
        if not (b.is_Symbol or (b.is_Add and rational_polynomial(b))):
            return None
        symbols |= b.free_symbols
    shifted = [(coefficient, {b: powers.get(b, _ZERO) - m for b, m in common.items()}) for coefficient, powers in rows]
    if any(not e.is_Integer for _, powers in shifted for e in powers.values()):
        return None
    ring = PolyRing(sorted(symbols, key=sympy.default_sort_key), QQ)
    total = ring.zero
    for coefficient, powers in shifted:
        term = ring(QQ.from_sympy(coefficient))
        for b, e in powers.items():
            if e:
                term *= _ring_power(ring, b, int(e))
        total += term
    return total if len(total) >= 2 else None


@lru_cache(maxsize=1 << 14)
def _ring_power(ring: PolyRing, b: sympy.Expr, e: int):
    """:math:`b^e` in ``ring`` (the same bases' powers recur in every
    coefficient of a field, and of the next order's; never changed in place)."""
    return ring.from_expr(b) ** e


def _poly(total, options) -> Poly:
    """The ring element ``total`` as the ``Poly`` SymPy's ``factor`` builds."""
    ring = total.ring
    used = [i for i in range(ring.ngens) if any(monomial[i] for monomial in total)]
    gens = _sort_gens([ring.symbols[i] for i in used], opt=options)
    position = [ring.symbols.index(s) for s in gens]
    rep = {tuple(monomial[i] for i in position): QQ.to_sympy(c) for monomial, c in total.items()}
    monomials, coefficients = zip(*rep.items())
    domain, coefficients = construct_domain(list(coefficients), opt=options)
    return Poly._from_dict(dict(zip(monomials, coefficients)), options.clone({"gens": tuple(gens), "domain": domain}))


def whole_power(f: sympy.Expr, plain=None) -> tuple[sympy.Expr, int] | None:
    """``f`` as ``(base, whole exponent)`` with the base a symbol or a
    polynomial in symbols with rational coefficients (symbols for which
    ``plain(symbol)`` holds, when given), or ``None``."""
    base, exponent = f.as_base_exp()
    if not exponent.is_Integer:
        return None
    symbols = [base] if base.is_Symbol else base.free_symbols if base.is_Add else ()
    if not symbols or plain is not None and not all(plain(s) for s in symbols):
        return None
    if base.is_Add and not (all(a.is_Symbol or a.is_Rational for a in base.atoms()) and rational_polynomial(base)):
        return None
    return base, int(exponent)


@lru_cache(maxsize=1 << 16)
def rational_polynomial(b: sympy.Expr) -> bool:
    """Whether the sum ``b`` is a polynomial in its symbols with rational
    coefficients (one the polynomial ring multiplies out; asked of the same
    few bases again and again, so remembered)."""
    return b.is_polynomial() and all(t.as_coeff_Mul()[0].is_Rational for t in b.args)


@lru_cache(maxsize=1 << 16)
def _has_radical(x: sympy.Expr) -> bool:
    return any(not p.exp.is_Integer for p in x.atoms(sympy.Pow))
