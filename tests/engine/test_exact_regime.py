"""The exact regime: step-dependent fields f^(n) from EMAs started at zero."""

import pytest
import sympy
from sympy import Rational, sqrt

from modeq import derive
from modeq.algebra import ATOMS, D, g
from modeq.optimizers import DescriptionError, adam, gd, heavy_ball, heavy_ball_ema, nesterov, rmsprop, sam
from modeq.regimes import STEP as n

beta, rho = sympy.symbols("beta rho", nonnegative=True)
eps = sympy.Symbol("eps", positive=True)


def assert_same(a, b):
    assert ATOMS.collect(a - b) == 0, f"{a}\n   !=\n{b}"


def c(decay):
    """c(beta, n) of DESIGN.md §1.2: bias-corrected first moment of the EMA weights."""
    return decay * (1 - (n + 1) * decay**n + n * decay ** (n + 1)) / ((1 - decay) * (1 - decay ** (n + 1)))


def test_c_is_the_bias_corrected_first_moment():
    for b in (Rational(1, 2), Rational(9, 10)):
        for step in (0, 1, 5):
            direct = (1 - b) / (1 - b ** (step + 1)) * sum(k * b**k for k in range(step + 1))
            assert c(b).subs(n, step) == direct


@pytest.mark.parametrize("eps_inside", [True, False])
def test_adam_exact_bias_corrected_first_order_closed_form(eps_inside):
    f0, f1 = derive(adam(eps_inside=eps_inside), order=1, regime="exact").terms
    R = sqrt(g**2 + eps) if eps_inside else sqrt(g**2) + eps
    ratio = g**2 / R**2 if eps_inside else sqrt(g**2) / R
    assert_same(f0, -g / R)
    assert_same(f1, -(c(beta) + Rational(1, 2) - (c(rho) + Rational(1, 2)) * ratio) * D(g / R) / R)


def test_heavy_ball_ema_without_bias_correction_starts_slow():
    f0, _ = derive(heavy_ball_ema, order=1, regime="exact").terms
    assert_same(f0, -(1 - beta ** (n + 1)) * g)


def test_polyak_velocity_recurrence_starts_from_rest():
    f0, _ = derive(heavy_ball, order=1, regime="exact").terms
    # f_0^(n) = beta f_0^(n-1) - g with f_0^(-1) = 0
    assert_same(f0, -(1 - beta ** (n + 1)) / (1 - beta) * g)


def test_memoryless_methods_have_the_stationary_field_to_every_order():
    for opt in (gd, sam):
        exact, stationary = derive(opt, order=3, regime="exact"), derive(opt, order=3)
        for a, b in zip(exact.terms, stationary.terms):
            assert_same(a, b)


@pytest.mark.parametrize("opt", [adam, adam(eps_inside=False), heavy_ball, heavy_ball_ema, nesterov,
                                 rmsprop(bias_correction=True)], ids=lambda o: o.name + str(o.options))
def test_exact_fields_tend_to_the_stationary_ones(opt):
    values = {k: v for k, v in {"beta": Rational(4, 5), "rho": Rational(9, 10), "eps": Rational(1, 10)}.items()
              if k in opt.symbols}
    x, y = sympy.symbols("x y", real=True)
    loss = (Rational(3, 2) - 2 * x * y) ** 2 / 2
    exact = derive(opt, order=1, regime="exact", values=values).materialize(loss, (x, y))
    stationary = derive(opt, order=1, values=values).materialize(loss, (x, y))
    point = {x: Rational(7, 5), y: Rational(-1, 3)}
    for k in range(2):
        for e, s in zip(exact.terms[k], stationary.terms[k]):
            gaps = [abs(float((e.subs(n, step) - s).subs(point))) for step in (10, 100, 400)]
            assert gaps[-1] < 1e-5 * (1 + abs(float(s.subs(point))))
            assert gaps[0] >= gaps[1] >= gaps[2]


def test_non_separable_step_dependence_is_a_clear_error():
    with pytest.raises(DescriptionError, match="exact regime: .*step index n sits inside.*bias correction"):
        derive(rmsprop, order=1, regime="exact")


def test_higher_orders_with_memory_name_the_limitation():
    with pytest.raises(DescriptionError, match="available to first order for optimizers with memory"):
        derive(adam, order=2, regime="exact")
