"""The distributed form of fields with numeric coefficients
(:mod:`modeq.algebra.distributed`): the value is kept, numerators are
multiplied out, denominators and radicals are not, and the SymPy expression
built directly is the one SymPy's own ``Add``/``Mul`` would build."""

import pytest
import sympy

from modeq import derive_steps
from modeq.algebra import distributed
from modeq.algebra.index import AtomRegistry, Gradient
from modeq.optimizers import adam

ATOMS = AtomRegistry()
G1, G2 = ATOMS.intern(Gradient(1)), ATOMS.intern(Gradient(2))
THETA = ATOMS.theta
V = sympy.Rational(1, 3) * G1**2 + sympy.Rational(2, 3) * G2**2 + sympy.Rational(1, 1000)


def _known(s):
    return ATOMS.definition(s) is not None


def _form(x):
    d = distributed.distribute(x, _known)
    assert d is not None
    return distributed.build(d.polynomial, d.bases)


def _reference(x):
    """The same sum built term by term by SymPy."""
    d = distributed.distribute(x, _known)
    return sympy.Add(*(sympy.Mul(sympy.Rational(q.numerator, q.denominator),
                                 *(d.bases[i] ** sympy.Rational(n, e) for i, n, e in m))
                       for m, q in d.polynomial.items()))


@pytest.mark.parametrize("x", [
    (G1 + 2 * G2) * (G1 - THETA / 3) / sympy.sqrt(V),
    (G1 + G2) ** 2 * V ** sympy.Rational(-3, 2) - G1 * G2 / (V * sympy.sqrt(V)),
    G1 / (sympy.sqrt(V) + sympy.Rational(1, 6)) * (3 * G1 - G2) ** 3,
    sympy.sign(G1) * (G1 + G2) / (4 * (sympy.sqrt(V) + sympy.Rational(1, 6))),
])
def test_value_kept_numerators_distributed_denominators_whole(x):
    got = _form(x)
    assert sympy.expand(got - x) == 0
    assert got == _reference(x)  # built directly, SymPy's own canonical Add and Mul
    assert not any(p.base.is_Add and p.exp.is_Integer and p.exp > 0 for p in got.atoms(sympy.Pow))


def test_powers_of_one_base_merge_and_bases_are_distributed():
    assert _form(G1 / sympy.sqrt(V) / V) == G1 * V ** sympy.Rational(-3, 2)
    squared = sympy.Pow((G1 + THETA / 9) ** 2, sympy.S.Half, evaluate=False)
    assert _form(G1 / (squared + 1)) == G1 / (sympy.sqrt(sympy.expand((G1 + THETA / 9) ** 2)) + 1)


@pytest.mark.parametrize("x", [
    sympy.Symbol("beta") * G1,  # a hyperparameter: not an atom
    sympy.sqrt(2) * G1,  # a numeric radical
    sympy.Float(0.5) * G1,
    G1 ** sympy.Symbol("k"),
])
def test_what_is_outside_the_form_is_declined(x):
    assert distributed.distribute(x, _known) is None


def test_a_merged_whole_power_of_a_sum_is_declined():
    x = sympy.Mul(sympy.sqrt(V), G1 + sympy.sqrt(V), evaluate=False)  # sqrt(V)*sqrt(V) meets only when distributing
    assert distributed.distribute(x, _known) is None


def test_step_fields_are_distributed_and_collected():
    """derive_steps keeps V^(3/2) whole (``expand`` used to multiply it out into
    a sum of g_b^2 sqrt(V) terms, one copy per coefficient)."""
    eq = derive_steps(adam, 3, order=1, batches=2, values={"beta": 0.9, "rho": 0.95, "eps": 1e-3})
    f1 = eq.terms[-1][1]
    powers = {p.exp for p in f1.atoms(sympy.Pow) if p.base.is_Add}
    assert sympy.Rational(-3, 2) in powers
    assert all(not (p.base.is_Add and p.exp.is_Integer and p.exp > 0) for p in f1.atoms(sympy.Pow))
    assert eq.atoms.collect(f1) == f1  # the form is canonical: collecting again changes nothing
