"""``modeq.algebra.compacting`` sums the terms of one monomial that differ in
their hyperparameter factors, keeping the value, and leaves every other
factor (atoms, radicals, functions) in the monomial."""

import sympy

from modeq.algebra import linear
from modeq.algebra.compacting import Compactor

beta, rho, eps = sympy.symbols("beta rho eps")
X, Y, g = sympy.Symbol("D_1[g]"), sympy.Symbol("D_2[g, g]"), sympy.Symbol("g")
ATOMS = {X, Y, g}


def _compactor() -> Compactor:
    compactor = Compactor(lambda s: s not in ATOMS)
    compactor.active = True
    return compactor


def _value(total: linear.Terms) -> sympy.Expr:
    return sympy.Add(*(c * m for m, c in total.items()))


def test_terms_of_one_monomial_become_one():
    total = linear.terms(beta * X / (beta - 1) ** 3 + (beta + 1) * X / (2 * (beta - 1)) - X
                         + rho * beta**2 * g * Y + g * Y / (rho - 1) + 3 * Y)
    out = _compactor().compact(total)
    assert len(out) == 3  # X, g*Y and Y: one term each
    assert sympy.cancel(_value(out) - _value(total)) == 0


def test_other_factors_stay_in_the_monomial():
    root, wave = sympy.sqrt(eps + g**2), sympy.sin(beta)
    total = linear.terms(beta * X * root + X * root / (beta - 1) + beta * X * wave + X / root)
    out = _compactor().compact(total)
    assert len(out) == 3  # X*root merged; X*sin(beta) and X/root apart
    assert sympy.cancel(_value(out) - _value(total)) == 0
    assert any(m.has(wave) for m in out) and sum(m.has(eps) for m in out) == 2


def test_cancelling_terms_vanish():
    total = linear.terms(beta * X / (beta - 1) + X / (1 - beta) - X)
    assert _compactor().compact(total) == {}


def test_inactive_compactor_and_a_sum_it_does_not_read():
    total = linear.terms(beta * X + X)
    compactor = Compactor(lambda s: s not in ATOMS)
    assert compactor.compact(total) is total
    assert compactor.add([beta, sympy.sin(beta)]) is None
    assert compactor.add([beta / (beta - 1), 1 / (beta - 1)]) == (beta + 1) / (beta - 1)
