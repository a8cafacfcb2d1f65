"""``modeq.algebra.factoring.factor`` returns exactly ``sympy.factor``'s
result, on coefficients of the shapes the index form collects (fractional
powers of sums, several denominators) and on those it hands back to SymPy
(radicals of symbols, symbolic exponents)."""

import pytest
import sympy

from modeq.algebra.factoring import factor, factor_polynomials
from modeq.algebra.index import distribute

beta, rho, eps, g, n = sympy.symbols("beta rho eps g n")
R = eps + g**2

CASES = [
    beta / ((beta - 1) * sympy.sqrt(R)) - g**2 * rho / (R ** sympy.Rational(3, 2) * (rho - 1))
    + g**2 / (2 * R ** sympy.Rational(3, 2)) - 1 / (2 * sympy.sqrt(R)),
    (beta + 1) / (2 * (beta - 1) ** 3) + beta / (beta - 1) ** 2 - sympy.Rational(1, 3),
    3 * eps**2 * g / (8 * (beta - 1) ** 2 * R ** sympy.Rational(5, 2) * (rho - 1)) - eps * g / (2 * (beta - 1) * R ** sympy.Rational(3, 2)),
    2 * beta * g + 4 * beta**2 * g,
    sympy.sqrt(eps) / (sympy.sqrt(eps) * sympy.sqrt(1 / (1 - rho)) + eps) + eps / (1 - rho),
    beta * beta**n / (1 - beta * beta**n) + 1 / (beta - 1),
]


@pytest.mark.parametrize("expr", CASES)
def test_same_as_sympy(expr):
    expected = sympy.factor(expr)
    got = factor(expr)
    assert got == expected
    point = {beta: sympy.Rational(1, 3), rho: sympy.Rational(2, 5), eps: sympy.Rational(1, 7), g: sympy.Rational(3, 2), n: 4}
    assert abs(sympy.N(got.xreplace(point) - expr.xreplace(point), 30)) < 1e-25


def _random_coefficient(rng) -> sympy.Expr:
    """A sum of products of powers of the index form's bases, as collected
    coefficients are: fractional powers of ``eps + g**2`` only."""
    bases = [beta, rho, beta - 1, rho - 1, eps, g, R, beta + 1]
    terms = []
    for _ in range(rng.randint(2, 4)):
        term = sympy.Rational(rng.choice([-9, -4, -1, 1, 2, 7]), rng.randint(1, 12))
        for b in rng.sample(bases, rng.randint(1, 3)):
            term *= b ** (sympy.Rational(2 * rng.randint(-3, 2) + 1, 2) if b == R else rng.randint(-3, 3))
        terms.append(term)
    return sympy.Add(*terms)


def test_same_as_sympy_on_random_coefficients():
    """The numerator multiplied out in a polynomial ring, factored as the
    ``Poly`` SymPy would build: the same result as ``sympy.factor``."""
    import random

    rng = random.Random(17)
    for _ in range(8):
        expr = _random_coefficient(rng)
        assert factor(expr) == sympy.factor(expr), expr


def test_factor_polynomials_depends_on_the_value_only():
    """A coefficient with its polynomial sums kept whole, as
    ``modeq.algebra.collecting`` groups it, factors to what SymPy's own
    ``factor`` makes of the distributed sum (the reference route of
    ``collect``), or is declined (``None``: radicals with no common whole
    shift, which the reference route takes)."""
    import random

    rng = random.Random(5)
    answered = 0
    for _ in range(12):
        pieces = [term * rng.choice([beta + 1, rho - beta, (beta * rho - 1) ** 2, (g**2 - 2 * rho) * (eps + 3), 1])
                  for term in sympy.Add.make_args(_random_coefficient(rng))]
        got = factor_polynomials([sympy.Add(*pieces)])
        if got is not None:
            answered += 1
            assert got[0] == sympy.factor(sympy.Add(*(distribute(p) for p in pieces))), pieces
    assert answered >= 4


def test_factor_polynomials_declines_radicals():
    """A radical of a symbol is a generator SymPy picks from the form: no form-free answer."""
    assert factor_polynomials([CASES[1], CASES[4]]) is None
    assert factor_polynomials([CASES[1]]) == [sympy.factor(CASES[1])]
