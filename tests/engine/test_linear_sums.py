"""``modeq.algebra.linear`` builds exactly the ``Add`` SymPy builds (same
arguments in the same order), on sums of the kinds of terms the index form
has: atoms, powers of sums, products, functions, numbers, and numeric
coefficients that cancel."""

import random

import sympy

from modeq.algebra import linear

a, b, c, eps = sympy.symbols("a b c eps")
X = sympy.Symbol("D_1[g]")
FACTORS = [a, b, c, X, a**2, sympy.sqrt(eps + a**2), (eps + a**2) ** sympy.Rational(-3, 2), sympy.sin(b),
           sympy.sqrt(2), 1 / (b - 1)]
COEFFICIENTS = [sympy.Integer(1), sympy.Integer(-1), sympy.Rational(1, 2), sympy.Rational(-3, 7), sympy.Integer(5)]


def _random_term(rng: random.Random) -> sympy.Expr:
    factors = rng.sample(FACTORS, rng.randint(0, 3))
    return rng.choice(COEFFICIENTS) * sympy.Mul(*factors)


def test_build_is_sympy_add():
    rng = random.Random(17)
    for _ in range(300):
        parts = [sympy.Add(*(_random_term(rng) for _ in range(rng.randint(0, 6)))) for _ in range(rng.randint(1, 4))]
        scale = rng.choice(COEFFICIENTS)
        total: linear.Terms = {}
        for p in parts:
            linear.accumulate(total, p, scale)
        expected = sympy.Add(*(scale * p for p in parts))
        got = linear.build(total)
        assert got == expected and got.args == expected.args, (parts, scale)


def test_cancelling_and_constant_terms():
    assert linear.build(linear.terms(a - a)) == 0
    assert linear.build(linear.terms(3 + a, sympy.Rational(1, 3))).args == (1 + a / 3).args
    assert linear.build({sympy.S.One: sympy.Integer(2)}) == 2
    assert linear.build({a: sympy.Integer(1)}) is a


def test_unevaluated_multiple_of_a_sum_is_distributed():
    nested = sympy.Mul(2, a + c, evaluate=False) + X
    got = linear.build(linear.terms(nested, sympy.Rational(1, 2)))
    assert got.args == (a + c + X / 2).args


def test_rational_arithmetic_is_sympys():
    """``plus`` and ``times`` equal SymPy's ``+`` and ``*``, singletons included (``build`` drops a zero by identity)."""
    rng = random.Random(5)
    numbers = [sympy.Rational(rng.randint(-9, 9), rng.randint(1, 9)) for _ in range(60)] + [sympy.Float(0.5)]
    for x in numbers:
        for y in numbers:
            assert linear.plus(x, y) == x + y and type(linear.plus(x, y)) is type(x + y)
            assert linear.times(x, y) == x * y and type(linear.times(x, y)) is type(x * y)
    assert linear.plus(sympy.Rational(1, 3), sympy.Rational(-1, 3)) is sympy.S.Zero
    assert linear.times(sympy.Rational(-2, 3), sympy.Rational(3, 2)) is sympy.S.NegativeOne


def test_adding_a_scaled_sum():
    """``add_terms`` with a scale equals adding ``scale * other`` term by term."""
    rng = random.Random(11)
    for _ in range(100):
        total = linear.terms(sympy.Add(*(_random_term(rng) for _ in range(4))))
        other = linear.terms(sympy.Add(*(_random_term(rng) for _ in range(4))))
        scale = rng.choice(COEFFICIENTS + [sympy.Float(0.25)])
        expected = linear.build(total) + scale * linear.build(other)
        linear.add_terms(total, other, scale)
        assert linear.build(total) == expected
