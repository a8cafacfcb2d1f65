"""The exact equality test of index-form fields (:mod:`modeq.algebra.exact`): it proves what
differs only in form, and never accepts a field that differs, however large."""

import sympy

import modeq
from modeq.algebra import ATOMS, D, S, g, theta
from modeq.algebra.exact import equal
from modeq.optimizers import BUILTIN

beta, rho, n = sympy.symbols("beta rho n")
eps = sympy.Symbol("eps", positive=True)


def test_forms_of_one_coefficient_are_equal():
    # over (beta^2 - 1) against over (beta + 1): the common denominator is not a gcd, and need not be
    written = (beta - 1) * (rho + 1) / (beta**2 - 1) * D(g) + theta / (1 - beta)
    other = (rho + 1) / (beta + 1) * D(g) - theta / (beta - 1)
    assert equal(written, other, ATOMS.nested())
    assert equal(sympy.expand(written), other, ATOMS.nested())


def test_radicals_satisfy_their_relations():
    r"""|g| = sqrt(g^2): (g - |g|)(g + |g|) = 0, and (g^2 + eps)^{3/2} = (g^2 + eps) sqrt(g^2 + eps)."""
    absolute = sympy.sqrt(g**2)
    assert equal((g - absolute) * (g + absolute) * D(g), sympy.Integer(0), ATOMS.nested())
    root = sympy.sqrt(g**2 + eps)
    assert equal(g / root**3 * S(g**2), g / ((g**2 + eps) * root) * S(g**2), ATOMS.nested())
    assert not equal(g / root**3 * S(g**2), g / ((g**2 + eps) * absolute) * S(g**2), ATOMS.nested())


def test_symbolic_exponents_split_by_terms():
    assert equal(beta ** (n + 1) * D(g), beta * beta**n * D(g), ATOMS.nested())
    assert equal(beta ** (2 * n - 1) * D(g), (beta**n) ** 2 / beta * D(g), ATOMS.nested())
    assert not equal(beta ** (n + 1) * D(g), beta**n * D(g), ATOMS.nested())


def test_monomials_in_nested_atoms_are_kept_apart():
    assert not equal(D(g) * S(g**2), D(g), ATOMS.nested())
    assert not equal(D(g), D(theta), ATOMS.nested())
    assert equal(D(g) * (S(g**2) + 1), D(g) + D(g) * S(g**2), ATOMS.nested())


def _changed(field: sympy.Expr, factor) -> sympy.Expr:
    """``field`` with the numeric coefficient of one of its terms (the middle one) scaled by ``factor``."""
    terms = list(sympy.Add.make_args(field))
    k = len(terms) // 2
    terms[k] = terms[k] * factor
    return sympy.Add(*terms)


def test_a_one_coefficient_change_in_a_large_field_is_not_equal():
    """Adam's f_3 (24 monomials, coefficients of ~100 terms; 2400 operations): equal to itself
    multiplied out, not equal once one monomial's coefficient changes by a little (1 + 10^-30) or
    by a radical."""
    f3 = modeq.derive(BUILTIN["adam"], order=3).terms[3]
    assert sympy.count_ops(f3) > 2000
    assert equal(f3, modeq.algebra.index.distribute(f3), ATOMS.nested())
    assert not equal(f3, _changed(f3, 1 + sympy.Rational(1, 10**30)), ATOMS.nested())
    radical = next(iter(f3.atoms(sympy.Pow) - {x for x in f3.atoms(sympy.Pow) if x.exp.is_Integer}))
    assert not equal(f3, _changed(f3, radical), ATOMS.nested())


def test_floats_and_functions_of_nested_atoms_are_not_proved():
    """The test declines what it does not read (the caller then takes the complete route)."""
    assert not equal(sympy.Float(0.5) * D(g), sympy.Float(0.5) * D(g), ATOMS.nested())
    assert not equal(beta ** (n + sympy.Float(0.5)) * D(g), beta ** (n + sympy.Float(0.5)) * D(g), ATOMS.nested())
    assert not equal(sympy.exp(S(g**2)) * D(g), sympy.exp(S(g**2)) * D(g), ATOMS.nested())
    for infinite in (sympy.zoo, sympy.oo, sympy.nan):
        assert not equal(infinite * D(g), infinite * D(g), ATOMS.nested())
    # a denominator that is zero by a radical's relation divides by zero: nothing is proved
    x = sympy.sqrt(g**2 + eps)
    vanishing = sympy.Mul(x, x, evaluate=False) - g**2 - eps
    assert not equal(D(g) / vanishing, D(g) / vanishing, ATOMS.nested())
    assert equal(D(g) / x**2, D(g) / (g**2 + eps), ATOMS.nested())
