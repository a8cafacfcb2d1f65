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

from typing import Iterable, Mapping

import sympy
from sympy.core.add import _addsort

__all__ = ["Terms", "terms", "accumulate", "build"]

#: A sum :math:`\sum_t c_t m_t` as the map :math:`m_t \mapsto c_t` (numeric :math:`c_t`).
Terms = dict[sympy.Expr, sympy.Number]

_ONE = sympy.S.One


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
            total[m] = total.get(m, 0) + c * scale


def build(total: Mapping[sympy.Expr, sympy.Number] | Iterable) -> sympy.Expr:
    r""":math:`\sum_t c_t m_t` as SymPy's canonical ``Add`` (zero terms dropped)."""
    items = total.items() if isinstance(total, Mapping) else total
    constant = sympy.S.Zero
    out = []
    for m, c in items:
        if c == 0:
            continue
        if m is _ONE:
            constant += c
        elif c is _ONE or c == 1:
            out.append(m)
        elif m.is_Mul:
            out.append(m._new_rawargs(c, *m.args))
        elif (m.is_Symbol or m.is_Function or m.is_Pow) and not m.is_number:
            out.append(sympy.Mul._from_args((c, m), True))
        else:
            out.append(c * m)
    if constant != 0:
        if not out:
            return constant
        _addsort(out)
        out.insert(0, constant)
        return sympy.Add._from_args(out, True)
    if not out:
        return sympy.S.Zero
    if len(out) == 1:
        return out[0]
    _addsort(out)
    return sympy.Add._from_args(out, True)
