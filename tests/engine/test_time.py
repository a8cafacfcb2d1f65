r"""Time and schedules: non-autonomous modified equations :math:`f_k(\theta, t)`.

Checks against what the engine did not produce: the textbook modified field
of the non-autonomous Euler method (Hairer–Lubich–Wanner IX), the closed-form
moments :math:`c_r(\beta)` for a constant decay, the step-by-step fields of
:func:`modeq.derive_steps` (an independent code path) for the exact regime's
:math:`\partial_t` drift, the component form derived directly, and the
optimizer's own iterates: schedules of the step and of an EMA decay confirm
orders 0-2 (``verify``)."""

import numpy as np
import pytest
import sympy

import modeq
from modeq.algebra import IndexAlgebra
from modeq.algebra.base import STEP
from modeq.expansion import Expander
from modeq.optimizers import DescriptionError, decay, optimizer, positive
from modeq.optimizers.language import ema, grad, t, theta
from modeq.optimizers.schedules import cosine, inverse_time, smooth_ramp, warmup
from modeq.regimes import get_regime
from modeq.unknowns import Unknowns

X, Y = sympy.symbols("x y", real=True)
PARAMS = (X, Y)
LOSS = (X * Y - 1) ** 2 / 2 + X**4 / 4
POINTS = [(0.7, -0.4, 0.3), (1.2, 0.5, 1.7), (-0.3, 0.9, 2.4)]  # (x, y, t)


@optimizer(T=positive(1.0, "T"))
def gd_cosine(T):
    return -sympy.cos(t / T) * grad()


@optimizer(beta=decay(0.5, r"\beta"))
def momentum_scheduled(beta):
    """Heavy ball (EMA form) with a decay that varies in time."""
    return -ema(grad(), beta * (1 + sympy.sin(t) / 2))


def _numbers(field, point):
    x, y, time = point
    values = {X: x, Y: y, t: time}
    return np.array([float(c.xreplace(values)) for c in field])


def test_gd_with_a_schedule_is_the_non_autonomous_euler_field():
    r"""For :math:`\theta_{n+1} = \theta_n + hF(\theta_n, t_n)` the modified field is
    :math:`f = F - \tfrac h2 (F'F + \partial_t F) + O(h^2)`."""
    eta = sympy.cos(t / 2)
    F = [-eta * sympy.diff(LOSS, p) for p in PARAMS]
    jac = sympy.Matrix(F).jacobian(PARAMS)
    f1 = [-(sum(jac[i, j] * F[j] for j in range(2)) + sympy.diff(F[i], t)) / 2 for i in range(2)]
    derived = modeq.derive(gd_cosine, order=1, values={"T": 2}).materialize(LOSS, PARAMS)
    for point in POINTS:
        np.testing.assert_allclose(_numbers(derived.terms[0], point), _numbers(F, point), rtol=1e-13)
        np.testing.assert_allclose(_numbers(derived.terms[1], point), _numbers(f1, point), rtol=1e-12)


def test_a_scheduled_decay_held_constant_gives_the_moments_c_r():
    r"""The fixed point :math:`\sigma = x + \tfrac{\beta}{1-\beta}(\sigma\circ\varphi_{-h} - \sigma)`
    against the moment series :math:`\sum_r (-h)^r c_r(\beta) L^r x / r!`."""
    beta = sympy.Symbol("beta", positive=True)
    algebra = IndexAlgebra()
    g = algebra.grad()
    known = [-g, -algebra.contract([g]) / 2, algebra.contract([algebra.contract([g])])]
    expander = Expander(Unknowns(algebra, known), get_regime("stationary"))
    node = ema(grad() ** 2 + theta, beta)
    moments, fixed_point = node._stationary(expander, 3), node._scheduled(expander, 3)
    for a, b in zip(moments.coeffs, fixed_point.coeffs):
        assert algebra.is_zero(a - b)


def test_index_and_component_forms_agree_with_a_scheduled_decay():
    values = {"beta": sympy.Rational(1, 2)}
    index = modeq.derive(momentum_scheduled, order=2, values=values).materialize(LOSS, PARAMS)
    direct = modeq.derive_components(momentum_scheduled, LOSS, PARAMS, order=2, values=values)
    for k in range(3):
        for point in POINTS:
            np.testing.assert_allclose(_numbers(index.terms[k], point), _numbers(direct.terms[k], point), rtol=1e-11)


@optimizer(beta=decay(0.5, r"\beta"))
def momentum_cosine(beta):
    return -sympy.cos(t) * ema(grad(), beta, bias_correction=True)


def test_exact_regime_time_drift_matches_the_step_by_step_fields():
    r"""The exact regime's closed form in :math:`n` (with the :math:`\partial_t`
    drift :math:`\sum_k a_k k\,\partial_t x`) against :func:`modeq.derive_steps`,
    which pulls each past gradient back along the step flows."""
    values = {"beta": sympy.Rational(1, 2)}
    steps = 4
    stepwise = modeq.derive_steps(momentum_cosine, steps, order=1, values=values).materialize(LOSS, PARAMS)
    closed = modeq.derive(momentum_cosine, order=1, regime="exact", values=values).materialize(LOSS, PARAMS)
    for n in range(steps):
        for k in (0, 1):
            at_n = [c.subs(STEP, n) for c in closed.terms[k]]
            for point in POINTS:
                np.testing.assert_allclose(_numbers(stepwise[n].terms[k], point), _numbers(at_n, point),
                                           rtol=1e-11, atol=1e-13)


def test_schedules_are_smooth_and_have_their_limits():
    x, delta = sympy.symbols("x delta", positive=True)
    ramp = smooth_ramp(x, sympy.Rational(1, 10))
    assert ramp.subs(x, 0) == 0
    assert abs(float(ramp.subs(x, sympy.Rational(1, 2))) - 0.5) < 0.01  # linear away from the corner
    assert abs(float(ramp.subs(x, 6)) - 1) < 1e-3 and sympy.limit(ramp, x, sympy.oo) == 1
    assert cosine.expression().subs(t, 0) == 1
    assert inverse_time.expression().subs(t, 0) == 1
    assert warmup.expression().subs(t, 0) == 0


@pytest.mark.parametrize("build,message", [
    (lambda: -sympy.Min(1, t) * grad(), "modeq.optimizers.schedules"),
    (lambda: -sympy.Heaviside(t - 1) * grad(), "schedule must be smooth"),
    (lambda: -ema(grad(), sympy.Rational(1, 2) + t / 4, bias_correction=True), "bias correction"),
])
def test_non_smooth_schedules_are_refused_with_advice(build, message):
    def kinked():
        return build()

    with pytest.raises(DescriptionError, match=message):
        optimizer()(kinked).update()


def test_scheduled_decay_is_refused_outside_the_stationary_regime():
    with pytest.raises(DescriptionError, match="stationary regime only"):
        modeq.derive(momentum_scheduled, order=1, regime="exact")


def test_epochs_and_parameter_names_refuse_time():
    with pytest.raises(DescriptionError, match="time t"):
        modeq.derive_epoch(gd_cosine, batches=2, order=1)
    with pytest.raises(ValueError, match="time t = nh"):
        modeq.derive(gd_cosine, order=1).materialize(LOSS.subs(X, t), (t, Y))


# -- against the iterates ---------------------------------------------------------------------------


def test_gd_with_a_cosine_schedule_confirms_orders_0_to_2(cache):
    report = modeq.verify(gd_cosine, "(x*y - 1)**2/2 + x**4/4", "x,y", [1.0, 0.5], order=2, T=1.0,
                          hs=[0.04, 0.02, 0.01, 0.005], cache_dir=cache)
    assert report.passed, report.table()
    assert [round(r.fitted) for r in report.orders] == [1, 2, 3]


@pytest.mark.slow  # a second compiled field and optimizer (~10 s on an idle machine)
def test_scheduled_decay_confirms_orders_0_to_2_from_a_later_start(cache):
    report = modeq.verify(momentum_scheduled, "(x*y - 1)**2/2 + x**2/4", "x,y", [1.0, 0.5], order=2, T=1.0,
                          hs=[0.01, 0.005, 0.0025, 0.00125], t0=0.5, cache_dir=cache)
    assert report.passed, report.table()
