"""The index algebra reads an order's residual as :math:`a U + b U' + c`
term by term; the result is SymPy's ``diff`` and ``xreplace``, and an
unknown that enters nonlinearly is refused."""

import pytest
import sympy

from modeq.algebra import IndexAlgebra
from modeq.algebra.base import ImplicitUpdateError


@pytest.fixture
def algebra():
    return IndexAlgebra()


def test_slopes_and_rest_as_sympy_reads_them(algebra):
    beta = sympy.Symbol("beta")
    u, v = algebra.unknown(2), algebra.unknown(2, 1)
    g = algebra.grad()
    d = algebra.contract([g])
    residual = sympy.Add(beta * u, -u / 2, 3 * g * u, beta * v / (1 - beta), d * g / 4, -g / sympy.sqrt(g**2 + beta))
    slopes, rest = algebra.linear_parts(residual, [u, v], "f_2")
    assert slopes == [sympy.diff(residual, u), sympy.diff(residual, v)]
    assert slopes[0] == beta - sympy.Rational(1, 2) + 3 * g
    assert rest == d * g / 4 - g / sympy.sqrt(g**2 + beta)


@pytest.mark.parametrize("power", [lambda u: u**2, lambda u: sympy.sqrt(1 + u), lambda u: u * (1 + u)])
def test_nonlinear_unknown_refused(algebra, power):
    u, v = algebra.unknown(1), algebra.unknown(1, 1)
    with pytest.raises(ImplicitUpdateError, match="not linear"):
        algebra.linear_parts(power(u) + algebra.grad(), [u, v], "f_1")


def test_unknown_inside_a_scaled_sum(algebra):
    """A momentum term :math:`\\beta (X + U)` left unexpanded."""
    beta = sympy.Symbol("beta")
    u, v = algebra.unknown(1), algebra.unknown(1, 1)
    g = algebra.grad()
    inner = sympy.Add(-g / (2 * (beta - 1) ** 2), u, g * v)
    residual = sympy.Mul(beta, inner, evaluate=False) + 3 * u - g
    slopes, rest = algebra.linear_parts(residual, [u, v], "f_1")
    assert slopes == [sympy.diff(residual, u), sympy.diff(residual, v)] == [beta + 3, beta * g]
    assert sympy.expand(rest - residual.xreplace({u: 0, v: 0})) == 0
