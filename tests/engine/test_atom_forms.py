"""Each atom once, in one form: the arguments of an equation's contraction atoms are
component factors that SymPy keeps apart in forms of equal value. NAdam (|g| and ε in
every denominator) at order 2: with ε = 1/6, 1/(20|g| + 10/3) and 1/(42|g| + 7) are
1/(|g| + 1/6) up to a number, and a coefficient with numeric hyperparameters is
expanded, so |g|(|g| + 1/6)² arrives as g²|g| + g²/3 + |g|/36; with a symbolic ε,
g²/((ε + |g|)²|g|) is |g|/(ε + |g|)². Duplicates are found here numerically (each
argument at random points, up to a constant factor), not by the canonical form."""

import random

import pytest
import sympy

import modeq
from modeq.algebra.index import Contraction, Gradient
from modeq.optimizers import BUILTIN

NADAM = BUILTIN["nadam"]
#: Every hyperparameter at an exact value in its domain (as the regression cases set them).
VALUES = {"beta1": sympy.Rational(1, 3), "beta2": sympy.Rational(1, 2), "eps": sympy.Rational(1, 6),
          "momentum_decay": sympy.Rational(1, 7), "weight_decay": sympy.Rational(1, 8)}


def _contractions(equation) -> dict[sympy.Symbol, Contraction]:
    atoms = equation.atoms
    return {s: d for s, d in atoms._definitions.items() if isinstance(d, Contraction)}


def _signature(arg: sympy.Expr, points: list[dict]) -> tuple:
    """``arg``'s values at ``points``, divided by the first of them (a constant factor drops out)."""
    values = [complex(arg.xreplace(p).evalf(30)) for p in points]
    first = values[0]
    assert abs(first) > 1e-12, arg
    return tuple(round((v / first).real, 9) for v in values)


def _duplicates(equation) -> list[tuple[str, str]]:
    """The pairs of contraction atoms whose arguments are the same up to constant factors."""
    definitions = _contractions(equation)
    free = set().union(*(a.free_symbols for d in definitions.values() for a in d.args))
    rng = random.Random(1)
    points = [{s: sympy.Rational(rng.randint(2, 40), rng.randint(3, 17)) * rng.choice((1, -1)) for s in free}
              for _ in range(4)]
    seen: dict[tuple, sympy.Symbol] = {}
    out = []
    for symbol, definition in definitions.items():
        key = (definition.loss, tuple(sorted(_signature(a, points) for a in definition.args)))
        if key in seen:
            out.append((str(seen[key]), str(symbol)))
        seen.setdefault(key, symbol)
    return out


def test_no_two_contraction_atoms_differ_by_a_constant_factor_at_numeric_values():
    equation = modeq.derive(NADAM, order=2, values=VALUES)
    assert len(_contractions(equation)) > 5
    assert _duplicates(equation) == []


def _mixed_powers(expr: sympy.Expr, g: sympy.Symbol) -> list[sympy.Expr]:
    """The products in ``expr`` holding both a power g^n (|n| >= 2) and a radical (g^2)^r."""
    found = []
    for mul in expr.atoms(sympy.Mul):
        factors = sympy.Mul.make_args(mul)
        even = any(f.is_Pow and f.base == g and abs(f.exp) >= 2 for f in factors)
        radical = any(f.is_Pow and f.base == g**2 for f in factors)
        if even and radical:
            found.append(mul)
    return found


@pytest.mark.parametrize("values", [None, VALUES], ids=["symbolic", "numeric"])
def test_a_power_of_g_and_a_radical_of_g_squared_are_one_power_of_abs_g(values):
    equation = modeq.derive(NADAM, order=2, values=values)
    g = next(s for s, d in equation.atoms._definitions.items() if isinstance(d, Gradient) and d.loss is None)
    mixed = [m for d in _contractions(equation).values() for a in d.args for m in _mixed_powers(a, g)]
    assert mixed == []
    eps = NADAM.symbols["eps"] if values is None else VALUES["eps"]
    absolute = sympy.sqrt(g**2)
    # the derivative of g/(|g| + eps) is 1/(|g| + eps) - |g|/(|g| + eps)^2: its second part along D_1[theta]
    arguments = [set(sympy.Mul.make_args(a)) for d in _contractions(equation).values() for a in d.args]
    assert any({absolute, (absolute + eps) ** -2} <= factors for factors in arguments)
