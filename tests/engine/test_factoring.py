"""``modeq.algebra.factoring.factor`` returns exactly ``sympy.factor``'s
result, on coefficients of the shapes the index form collects (fractional
powers of sums, several denominators) and on those it hands back to SymPy
(radicals of symbols, symbolic exponents)."""

import pytest
import sympy

from modeq.algebra.factoring import factor

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
