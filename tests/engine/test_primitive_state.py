"""``state(update, init)``: the general recurrent state (issue 14).

* an affine fast state is a moving average: its terms are ``ema``'s, and the
  general invariant-manifold recursion ((1 - A) sigma_k = known) reproduces
  the closed-form moment series c_r(beta) bit for bit (two derivations that
  share no code beyond the expander);
* a fast state with an O(h) nonlinearity: ``modeq.verify`` confirms orders
  0-2 against the compiled iterates (slow: three numba compilations);
* concrete steps: the state's recursion from ``init`` equals ``ema``'s Horner
  sums, and a slow state (AdaGrad's sum) has per-step fields by hand (its
  stationary modified equation on (theta, V): test_slow_states.py);
* the compiled iterates follow the recursion as written (checked against a
  NumPy loop);
* states that are neither fast nor slow are refused with how to rescale.
"""

import numpy as np
import pytest
import sympy

import modeq
from modeq.optimizers import heavy_ball_ema, rmsprop
from modeq.optimizers.base import decay, optimizer, positive, real
from modeq.optimizers.language import DescriptionError, grad, h, state
from modeq.primitives.state import State

x, y = sympy.symbols("x y", real=True)
BILINEAR = (sympy.Rational(3, 2) - 2 * x * y) ** 2 / 2


@optimizer(beta=decay(0.9))
def momentum_state(beta):
    return -state(lambda m: beta * m + (1 - beta) * grad())


@optimizer(rho=decay(0.9), eps=positive(0.1))
def rmsprop_state(rho, eps):
    return -grad() / sympy.sqrt(state(lambda v: rho * v + (1 - rho) * grad() ** 2) + eps)


@optimizer(beta=decay(0.5), c=real(0.5))
def cubic(beta, c):
    return -state(lambda m: beta * m + (1 - beta) * grad() - c * h * m**3)


def test_affine_state_is_an_ema():
    for order in range(4):
        assert modeq.derive(momentum_state, order=order).terms == modeq.derive(heavy_ball_ema, order=order).terms


@pytest.mark.parametrize("opt, reference, order", [(momentum_state, heavy_ball_ema, 3), (rmsprop_state, rmsprop, 2)])
def test_manifold_recursion_reproduces_the_moment_series(monkeypatch, opt, reference, order):
    monkeypatch.setattr(State, "as_ema", lambda self: None)  # force the general recursion
    assert modeq.derive(opt, order=order).terms == modeq.derive(reference, order=order).terms


def test_manifold_of_a_nonlinear_fast_state_by_hand():
    # m = beta m_prev + (1 - beta) g - c h m_prev^3; order 1 by hand: sigma_0 = g,
    # sigma_1 = [beta (-L_f0 g) - c g^3]/(1 - beta), f_0 = -g, L_f0 g = -D_1[g];
    # f_1 = -sigma_1 - (1/2) L_f0 f0 = -(beta D_1[g] - c g^3)/(1 - beta) - D_1[g]/2
    from modeq.algebra import D, g

    beta, c = cubic.symbols["beta"], cubic.symbols["c"]
    f1 = modeq.derive(cubic, order=1).terms[1]
    expected = -(beta * D(g) - c * g**3) / (1 - beta) - D(g) / 2
    assert sympy.expand(sympy.together(f1 - expected)) == 0


@pytest.mark.slow
def test_nonlinear_fast_state_orders_confirmed(tmp_path):
    report = modeq.verify(cubic, BILINEAR, (x, y), [1.0, 0.5], order=2, values=dict(beta=0.5, c=0.5),
                          hs=(0.00625, 0.003125, 0.0015625), cache_dir=tmp_path)
    assert report.passed, report.table()
    for r in report.orders:
        assert abs(r.fitted - (r.order + 1)) < 0.1, report.table()


def test_concrete_steps_follow_the_recursion_from_init():
    values = dict(beta=sympy.Rational(1, 2))
    a = modeq.derive_steps(momentum_state, 3, order=1, values=values).terms
    b = modeq.derive_steps(heavy_ball_ema, 3, order=1, values=values).terms
    assert a == b

    @optimizer(beta=decay(0.9))
    def started(beta):
        return -state(lambda m: beta * m + (1 - beta) * grad(), init=1)

    first = modeq.derive_steps(started, 1, order=0, values=values).terms[0][0]
    assert sympy.expand(first - (-(sympy.Rational(1, 2) + sympy.Rational(1, 2) * modeq.algebra.g))) == 0


def test_compiled_iterates_follow_the_recursion(tmp_path):
    beta, c, hh = 0.5, 0.5, 0.01
    got = modeq.iterates(cubic, BILINEAR, (x, y), [1.0, 0.5], h=hh, steps=30, values=dict(beta=beta, c=c),
                         cache_dir=tmp_path)
    th, m = np.array([1.0, 0.5]), np.zeros(2)
    for n in range(30):
        r = 1.5 - 2 * th[0] * th[1]
        g = np.array([-2 * th[1] * r, -2 * th[0] * r])
        m = beta * m + (1 - beta) * g - c * hh * m**3
        th = th - hh * m
        np.testing.assert_allclose(got[n + 1], th, rtol=1e-13, atol=0)


@pytest.mark.parametrize("update, words", [
    (lambda v: v + grad() ** 2, ["rescale", "h = eta^2", "V' = h*V"]),
    (lambda v: 2 * v + grad(), ["rate 2", "does not contract"]),
    (lambda v: v**2 / 2 + grad(), ["not affine", "rescale"]),
    (lambda v: (v - grad()) / h, ["not defined at h = 0"]),
    (lambda v: grad(h * v), ["previous value may not enter a primitive"]),
])
def test_states_that_are_neither_fast_nor_slow_are_refused(update, words):
    @optimizer()
    def bad():
        return -state(update)

    with pytest.raises(DescriptionError) as error:
        modeq.derive(bad, order=1)
    for word in words:
        assert word in str(error.value)


def test_slow_state_per_step_fields():
    @optimizer(eps=positive(0.1))
    def adagrad_like(eps):
        return -grad() / sympy.sqrt(state(lambda v: v + h * grad() ** 2) + eps)

    # concrete steps: V_(n+1) = (n+1) h g^2 + O(h^2), so f^(n) = -g/sqrt(eps) + h((n+1) g^3/(2 eps^(3/2)) - D_1[g]/(2 eps))
    from modeq.algebra import D, g

    eps = adagrad_like.symbols["eps"]
    for n, (f0, f1) in enumerate(modeq.derive_steps(adagrad_like, 2, order=1).terms):
        assert sympy.expand(f0 + g / sympy.sqrt(eps)) == 0
        assert sympy.expand(f1 - ((n + 1) * g**3 / (2 * eps ** sympy.Rational(3, 2)) - D(g) / (2 * eps))) == 0
