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
"""

from __future__ import annotations

import sympy
from sympy.core.mul import _keep_coeff
from sympy.polys import polyoptions
from sympy.polys.polytools import _factors_product, _symbolic_factor_list

__all__ = ["factor"]


def factor(c: sympy.Expr) -> sympy.Expr:
    """``sympy.factor(c)``, faster on sums of products of powers."""
    together = _over_common_factor(c)
    if together is None:
        return sympy.factor(c)
    options = polyoptions.build_options((), {})
    options["fraction"] = True
    coefficient, factors = _symbolic_factor_list(together, options, "factor")
    return _keep_coeff(coefficient, _factors_product(factors))


def _over_common_factor(c: sympy.Expr) -> sympy.Expr | None:
    r"""``c`` as :math:`(\sum_t c_t \prod_b b^{e_{t,b} - m_b}) \prod_b b^{m_b}`,
    or ``None`` where the exponent bookkeeping does not apply."""
    rows = []
    for term in sympy.Add.make_args(c):
        coefficient, rest = term.as_coeff_Mul()
        powers: dict[sympy.Expr, sympy.Rational] = {}
        for f in sympy.Mul.make_args(rest):
            base, exponent = f.as_base_exp()
            if (not exponent.is_Rational or base.is_number or (not exponent.is_Integer and not base.is_Add)
                    or _has_radical(base)):
                return None
            powers[base] = powers.get(base, 0) + exponent
        rows.append((coefficient, powers))
    bases = set().union(*(powers for _, powers in rows))
    common = {b: min(powers.get(b, 0) for _, powers in rows) for b in bases}
    numerator = sympy.Add(*(coefficient * sympy.Mul(*(b ** (powers.get(b, 0) - m) for b, m in common.items()))
                            for coefficient, powers in rows))
    return sympy.Mul(numerator, *(b**m for b, m in common.items() if m != 0))


def _has_radical(x: sympy.Expr) -> bool:
    return any(not p.exp.is_Integer for p in x.atoms(sympy.Pow))
