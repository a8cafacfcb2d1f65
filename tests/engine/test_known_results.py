"""The engine reproduces the known modified equations of DESIGN.md §1.5,
derived independently by hand in the literature."""

import sympy
from sympy import Rational, sqrt

from modeq import derive, derive_components
from modeq.algebra import D, S, g
from modeq.algebra import ATOMS
from modeq.optimizers import adam, gd, heavy_ball, heavy_ball_ema, rmsprop

beta, rho = sympy.symbols("beta rho", nonnegative=True)
eps = sympy.Symbol("eps", positive=True)


def assert_same(a, b):
    assert ATOMS.collect(a - b) == 0, f"{a}\n   !=\n{b}"


def test_gd_matches_hairer_lubich_wanner_series():
    """f = F - (h/2) F'F + h^2 (F''(F,F)/12 + F'F'F/3) + O(h^3), F = -grad E.

    In index form F'F = D_1[g], F''(F,F) = -D_2[g,g], F'F'F = -D_1[D_1[g]].
    (Higher orders are checked on the quadratic below and numerically by
    the convergence tests.)"""
    expected = [-g, -D(g) / 2, Rational(1, 12) * (-D(g, g)) + Rational(1, 3) * (-D(D(g)))]
    terms = derive(gd, order=3).terms
    for k in range(3):
        assert_same(terms[k], expected[k])
    assert len(terms) == 4 and terms[3] != 0


def test_gd_on_quadratic_is_log_series_through_order_8():
    lam = sympy.Symbol("lambda", positive=True)
    x = sympy.Symbol("x", real=True)
    field = derive(gd, order=8).materialize(lam * x**2 / 2, [x])
    for k, (term,) in enumerate(field.terms):
        # f = ln(1 - h lam)/h * x = -lam x sum_k (h lam)^k/(k+1)
        assert sympy.expand(term + lam ** (k + 1) * x / (k + 1)) == 0


def test_heavy_ball_polyak_form_matches_ghosh_et_al():
    f0, f1 = derive(heavy_ball, order=1).terms
    assert_same(f0, -g / (1 - beta))
    # -(1+beta)(1-beta)^{-3} grad ||grad E||^2 / 4, with grad_j ||grad E||^2 = 2 D_1[g]
    assert_same(f1, -(1 + beta) / (1 - beta) ** 3 * 2 * D(g) / 4)


def test_heavy_ball_ema_form_is_a_gradient_flow_with_penalty():
    f0, f1 = derive(heavy_ball_ema, order=1).terms
    assert_same(f0, -g)
    assert_same(f1, -(1 + beta) / (4 * (1 - beta)) * 2 * D(g))


def test_adam_first_order_is_paper_equation_4_in_any_dimension():
    f0, f1 = derive(adam, order=1).terms
    R = sqrt(g**2 + eps)
    assert_same(f0, -g / R)
    # -(g + bias)/R with bias = (h/2){(1+b)/(1-b) - (1+r)/(1-r) + (1+r)/(1-r) eps/R^2} grad_j ||grad E||_{1,eps},
    # grad_j ||grad E||_{1,eps} = sum_i H_ji g_i / R_i = D_1[g/R].
    bracket = (1 + beta) / (1 - beta) - (1 + rho) / (1 - rho) + (1 + rho) / (1 - rho) * eps / R**2
    assert_same(f1, -bracket * D(g / R) / (2 * R))


def test_rmsprop_is_adam_with_beta_zero():
    for eps_inside in (True, False):
        adam_terms = derive(adam(eps_inside=eps_inside), order=2, values={"beta": 0}).terms
        rms_terms = derive(rmsprop(eps_inside=eps_inside), order=2).terms
        for a, b in zip(adam_terms, rms_terms):
            assert_same(a, b)


def test_adam_limits_are_the_columns_of_table_1():
    """Small eps: sign-descent preconditioned penalty of ||grad E||_1;
    large eps: gradient descent on E + h(1+beta)/(4(1-beta) sqrt(eps)) ||grad E||^2."""
    x, y = sympy.symbols("x y", real=True)
    loss = (Rational(3, 2) - 2 * x * y) ** 2 / 2 + x**4 / 4
    point = {x: Rational(13, 10), y: Rational(-7, 10)}
    b, r = Rational(9, 10), Rational(95, 100)
    grad = [sympy.diff(loss, v) for v in (x, y)]
    hess = [[sympy.diff(loss, u, v) for v in (x, y)] for u in (x, y)]
    at = lambda e: float(e.subs(point))  # noqa: E731
    for j in range(2):
        # small eps: f_1 -> -(1/2){(1+b)/(1-b) - (1+r)/(1-r)} sum_i H_ji sign(g_i) / |g_j|
        small = derive(adam, order=1, values={"beta": b, "rho": r, "eps": Rational(1, 10**12)}).materialize(loss, (x, y))
        sign_sum = sum(at(hess[j][i]) * (1 if at(grad[i]) > 0 else -1) for i in range(2))
        expected = -0.5 * float((1 + b) / (1 - b) - (1 + r) / (1 - r)) * sign_sum / abs(at(grad[j]))
        assert abs(at(small.terms[1][j]) - expected) < 1e-6 * abs(expected)
        # large eps: eps * f_1 -> -(1+b)/(2(1-b)) sum_i H_ji g_i
        big_eps = Rational(10**10)
        large = derive(adam, order=1, values={"beta": b, "rho": r, "eps": big_eps}).materialize(loss, (x, y))
        expected = -float((1 + b) / (2 * (1 - b))) * sum(at(hess[j][i]) * at(grad[i]) for i in range(2))
        assert abs(float(big_eps) * at(large.terms[1][j]) - expected) < 1e-6 * abs(expected)


def test_sam_correction_is_the_gradient_norm_penalty():
    from modeq.optimizers import sam

    c = sympy.Symbol("c", positive=True)
    f0, f1 = derive(sam, order=1).terms
    assert_same(f0, -g)
    # grad E(theta + c h g/||g||) = g + c h D_1[g]/||g||, and the explicit-Euler -D_1[g]/2
    assert_same(f1, -D(g) / 2 - c * D(g) / sqrt(S(g**2)))


def test_component_derivation_agrees_exactly_on_gd():
    x, y = sympy.symbols("x y", real=True)
    loss = x**3 * y / 3 + (x - y) ** 2
    index = derive(gd, order=3).materialize(loss, (x, y))
    direct = derive_components(gd, loss, (x, y), order=3)
    for a, b in zip(index.terms, direct.terms):
        for u, v in zip(a, b):
            assert sympy.expand(u - v) == 0
