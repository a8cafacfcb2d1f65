r"""Long sums of SymPy terms, accumulated in a map and built once.

The index-form derivation spends its time in sums of many terms
:math:`\sum_t c_t\,m_t` (numeric :math:`c_t`, monomials :math:`m_t`): Lie
derivatives of long fields, the coefficients of truncated series, rational
multiples of both. SymPy's ``Add`` flattens, merges and sorts its arguments
on every construction, and re-multiplies every coefficient into its monomial
with the whole ``Mul`` machinery; adding two long sums, or scaling one,
therefore costs as much as building it. Here a sum is a plain map
:math:`m_t \mapsto c_t` (:func:`terms`, :func:`accumulate`), merged with
dictionary operations, and turned into a SymPy expression once
(:func:`build`), which produces exactly the ``Add`` that ``sympy.Add`` would
(same arguments, same order), without its per-term ``Mul`` rebuild. An
unevaluated product of a number and a sum, :math:`c\,(a + b)`, is distributed.
"""

from __future__ import annotations

from functools import lru_cache
from math import gcd
from typing import Iterable, Mapping

import sympy
from sympy.core.add import _addsort
from sympy.core.basic import Basic, ordering_of_classes

__all__ = ["Terms", "plus", "times", "terms", "accumulate", "add_terms", "build", "sort_key"]

#: A sum :math:`\sum_t c_t m_t` as the map :math:`m_t \mapsto c_t` (numeric :math:`c_t`).
Terms = dict[sympy.Expr, sympy.Number]

_ONE = sympy.S.One
_ZERO = sympy.S.Zero


def plus(a: sympy.Number, b: sympy.Number) -> sympy.Number:
    """``a + b``; for two rationals from their numerators and denominators
    directly (half of SymPy's time: no sympification, one gcd), with SymPy's
    singletons for 0, 1 and -1."""
    if not (a.is_Rational and b.is_Rational):
        return a + b
    ap, aq, bp, bq = a.p, a.q, b.p, b.q
    if aq == bq:
        p, q = ap + bp, aq
    else:
        p, q = ap * bq + bp * aq, aq * bq
    return _rational(p, q)


def times(a: sympy.Number, b: sympy.Number) -> sympy.Number:
    """``a * b``, as :func:`plus` does it."""
    if not (a.is_Rational and b.is_Rational):
        return a * b
    return _rational(a.p * b.p, a.q * b.q)


def _rational(p: int, q: int) -> sympy.Rational:
    """:math:`p/q` for :math:`q > 0`, reduced."""
    g = gcd(p, q)
    if g != 1:
        p //= g
        q //= g
    return sympy.Integer(p) if q == 1 else sympy.Rational.from_coprime_ints(p, q)


def terms(x: sympy.Expr, scale: sympy.Number = _ONE) -> Terms:
    """``scale * x`` as a map monomial -> numeric coefficient."""
    out: Terms = {}
    accumulate(out, x, scale)
    return out


def accumulate(total: Terms, x: sympy.Expr, scale: sympy.Number = _ONE) -> None:
    """Add ``scale * x`` into ``total`` (in place)."""
    for term in sympy.Add.make_args(x):
        c, m = term.as_coeff_Mul()
        if m.is_Add:  # an unevaluated c*(sum): distributed
            accumulate(total, m, c * scale)
        else:
            c = c if scale is _ONE else times(c, scale)
            old = total.get(m)
            total[m] = c if old is None else plus(old, c)


def add_terms(total: Terms, other: Terms, scale: sympy.Number = _ONE) -> None:
    """Add ``scale`` times the sum ``other`` into ``total`` (in place): its
    monomials are already monomials, so no term is taken apart again. (A new
    monomial takes its coefficient as it is: SymPy's ``0 + c`` costs as much
    as any sum of rationals.)"""
    get = total.get
    if scale is _ONE:
        for m, c in other.items():
            old = get(m)
            total[m] = c if old is None else plus(old, c)
        return
    rational = scale.is_Rational
    for m, c in other.items():
        old = get(m)
        if old is None:
            total[m] = scale if c is _ONE else times(c, scale)
        elif rational and c.is_Rational and old.is_Rational:  # old + c*scale with one reduction
            q = c.q * scale.q
            total[m] = _rational(old.p * q + c.p * scale.p * old.q, old.q * q)
        else:
            total[m] = plus(old, times(c, scale))


def build(total: Mapping[sympy.Expr, sympy.Number] | Iterable) -> sympy.Expr:
    r""":math:`\sum_t c_t m_t` as SymPy's canonical ``Add`` (zero terms dropped).

    The terms are sorted by their keys (:func:`sort_key`); the key of a term
    :math:`c\,m` is made from the remembered key of its monomial :math:`m`
    (the same monomials recur in every sum) and that of :math:`c`."""
    items = total.items() if isinstance(total, Mapping) else total
    constant = sympy.S.Zero
    out = []
    keys = []
    for m, c in items:
        if c is _ZERO or not c.is_Rational and c == 0:  # a rational zero is SymPy's singleton
            continue
        if m is _ONE:
            constant += c
        elif c is _ONE or not c.is_Rational and c == 1:
            out.append(m)
            keys.append(_cached_key(m))
        elif m.is_Mul:
            out.append(m._new_rawargs(c, *m.args))
            keys.append((_MUL, len(m.args) + 1, (_cached_key(c),) + _cached_key(m)[2]))
        elif (m.is_Symbol or m.is_Function or m.is_Pow) and not m.is_number:
            out.append(sympy.Mul._from_args((c, m), True))
            keys.append((_MUL, 2, (_cached_key(c), _cached_key(m))))
        else:
            term = c * m
            out.append(term)
            keys.append(_key(term))
    if not out:
        return constant
    if len(out) > 1:
        out = _sorted(out, keys)
    if constant != 0:
        return sympy.Add._from_args([constant] + out, True)
    return out[0] if len(out) == 1 else sympy.Add._from_args(out, True)


def _sorted(out: list[sympy.Expr], keys: list[tuple]) -> list[sympy.Expr]:
    r"""The terms of an ``Add`` in SymPy's order (``Basic.compare``), by their
    keys: a comparison is one of tuples instead of a walk of two expressions."""
    try:
        order = sorted(range(len(out)), key=keys.__getitem__)
    except TypeError:  # contents that tuples do not order as Basic.compare does: SymPy's own sort
        out = list(out)
        _addsort(out)
        return out
    return [out[i] for i in order]


_UNKNOWN = len(ordering_of_classes) + 1


def sort_key(e: Basic) -> tuple:
    """A key ordering expressions as ``Basic.compare`` (SymPy's order of the
    arguments of ``Add`` and ``Mul``), remembered per expression."""
    return _cached_key(e)


@lru_cache(maxsize=None)
def _rank(cls: type) -> tuple[int, str]:
    """The place of a class in ``Basic.compare``: its index in SymPy's
    ``ordering_of_classes``, after them by name."""
    try:
        return ordering_of_classes.index(cls.__name__), ""
    except ValueError:
        return _UNKNOWN, cls.__name__


def _key(e: Basic) -> tuple:
    r"""A key ordering expressions as ``Basic.compare`` does: the class, the
    length of the hashable content, then its items (expressions by their keys)."""
    content = e._hashable_content()
    return _rank(type(e)), len(content), tuple(map(_item, content))


@lru_cache(maxsize=1 << 18)
def _cached_key(e: Basic) -> tuple:
    return _key(e)


_MUL = _rank(sympy.Mul)


def _item(x):
    if isinstance(x, Basic):
        return _cached_key(x)
    if isinstance(x, frozenset):
        return _cached_key(Basic(*x))
    return x
