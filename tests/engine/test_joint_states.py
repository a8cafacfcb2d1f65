"""States updated together (modeq.primitives.joint_state), through Lookahead
around Adam, against independent routes:

* Lookahead with alpha = 1 *is* Adam, its map being k Adam steps (of rate h/k)
  with nothing pulled back: ``adam(eps_inside=False)`` at step h/k passes the
  same iterates at the same times, so f_j(lookahead) = f_j(adam) / k^j (the
  joint manifolds, the readout and the nested shifted gradients against the
  moment series of ``ema``); per concrete step, with bias correction, k = 1
  has Adam's per-step fields (the factor states P, Q against ``ema``'s
  1 - beta^(n+1));
* coupled states (a rate matrix that is not diagonal) against a moving
  average of a moving average, and their compiled iterates against a plain
  NumPy loop;
* the classification refuses what has no invariant manifold, saying why."""

import numpy as np
import pytest
import sympy
from sympy import Rational

import modeq
from modeq.optimizers import DescriptionError, adam, grad, h, lookahead, optimizer, states, ema, theta

x, y = sympy.symbols("x y", real=True)
LOSS = (Rational(3, 2) - 2 * x * y) ** 2 / 2 + x**4 / 4
POINTS = [(Rational(1, 3), Rational(-2, 7)), (Rational(-5, 4), Rational(3, 2))]
ADAM = {"beta": Rational(1, 2), "rho": Rational(3, 4), "eps": Rational(1, 10)}


def _components(equation):
    return [[c for c in term] for term in equation.materialize(LOSS, (x, y)).terms]


def _assert_scaled(got, expected, scale):
    assert len(got) == len(expected)
    for k, (a, b) in enumerate(zip(got, expected)):
        for u, v in zip(a, b):
            for point in POINTS:
                difference = (u - scale(k) * v).xreplace(dict(zip((x, y), point))).evalf(40)
                assert abs(difference) < 1e-30, (k, point)


@pytest.mark.parametrize("k, order", [(1, 2), (2, 2), (3, 1)])
def test_lookahead_with_alpha_1_is_adam_at_the_inner_step(k, order):
    got = modeq.derive(lookahead(k=k), order=order, values={**ADAM, "alpha": 1})
    expected = modeq.derive(adam(eps_inside=False), order=order, values=ADAM)
    _assert_scaled(_components(got), _components(expected), lambda j: Rational(1, k) ** j)


def test_lookahead_pulls_back_by_alpha_at_order_0_and_not_beyond():
    """f_0 is Adam's times alpha; f_1 is not Adam's times alpha (the pull-back changes the correction)."""
    got = _components(modeq.derive(lookahead(k=2), order=1, values={**ADAM, "alpha": Rational(1, 2)}))
    adam_terms = _components(modeq.derive(adam(eps_inside=False), order=1, values=ADAM))
    _assert_scaled(got[:1], adam_terms[:1], lambda j: Rational(1, 2))
    difference = (got[1][0] - adam_terms[1][0] / 2 / 2).xreplace(dict(zip((x, y), POINTS[0]))).evalf(30)
    assert abs(difference) > 1e-3


def test_per_step_fields_with_bias_correction_are_adams_for_one_inner_step():
    got = modeq.derive_steps(lookahead(k=1), steps=2, order=1, values={**ADAM, "alpha": 1})
    expected = modeq.derive_steps(adam(eps_inside=False), steps=2, order=1, values=ADAM)
    for step in range(2):
        _assert_scaled(_components(got.at(step)), _components(expected.at(step)), lambda j: 1)


@optimizer()
def coupled():
    """Two states whose rates at h = 0 form the non-diagonal matrix [[1/2, 1/4], [1/3, 0]], a readout,
    and a gradient at a point shifted by the previous values."""
    def update(a, b):
        g = grad(-h * (a + b) / 2)
        return a / 2 + b / 4 + g, a / 3 + g**2 / (1 + g**2), g * b
    a, b, out = states(update, init=(Rational(1, 5), 0), names=("a", "b"))
    return -(a + b) / 4 - out / 10 - theta / 5


def test_coupled_states_compile_to_their_recursion():
    h_value, steps, theta0 = 0.05, 40, np.array([1.2, -0.7])
    got = modeq.iterates(coupled, LOSS, (x, y), theta0, h_value, steps)

    def gradient(p):
        X, Y = p
        return np.array([-2 * Y * (1.5 - 2 * X * Y) + X**3, -2 * X * (1.5 - 2 * X * Y)])

    th, a, b = theta0.copy(), np.full(2, 0.2), np.zeros(2)
    for n in range(steps):
        g = gradient(th - h_value * (a + b) / 2)
        a, b, out = a / 2 + b / 4 + g, a / 3 + g**2 / (1 + g**2), g * b
        th = th + h_value * (-(a + b) / 4 - out / 10 - th / 5)
        np.testing.assert_allclose(got[n + 1], th, rtol=0, atol=1e-13)


@pytest.mark.parametrize("order", [0, 1, 2])
def test_triangular_rates_are_a_moving_average_of_a_moving_average(order):
    """b_{n+1} = rho b_n + (1 - rho) a_{n+1}, written with the previous a_n: the rates
    [[beta, 0], [(1 - rho) beta, rho]] are not diagonal, and b is ema(ema(g, beta), rho)."""
    beta, rho = Rational(1, 2), Rational(3, 4)

    @optimizer()
    def joint():
        def update(a, b):
            g = grad()
            return beta * a + (1 - beta) * g, rho * b + (1 - rho) * (beta * a + (1 - beta) * g)
        return -states(update, init=(0, 0), names=("a", "b"))[1]

    @optimizer()
    def nested():
        return -ema(ema(grad(), beta), rho)

    _assert_scaled(_components(modeq.derive(joint, order=order)), _components(modeq.derive(nested, order=order)),
                   lambda j: 1)


@pytest.mark.parametrize("update, words", [
    (lambda a, b: (a + b, b / 2), ["spectral", "radius", "contract"]),
    (lambda a, b: (a + h * grad(), b / 2), ["O(h)", "slow", "state(update)"]),
    (lambda a, b: (a * b / 2, b / 2), ["affine"]),
    (lambda a, b: (ema(grad() * a, Rational(1, 2)), b / 2), ["shift of grad"]),
])
def test_states_without_an_invariant_manifold_are_refused(update, words):
    with pytest.raises(DescriptionError) as error:
        states(update, init=(0, 0), names=("a", "b"))
    assert all(w in str(error.value) for w in words), str(error.value)


def test_the_exact_regime_says_what_to_use():
    with pytest.raises(DescriptionError, match="derive_steps"):
        modeq.derive(lookahead(k=1), order=0, regime="exact")
