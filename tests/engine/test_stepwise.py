r"""Step-by-step exact fields (:func:`modeq.derive_steps`): the paper's
Theorem 3.1 for mini-batch Adam, agreement with the closed-form exact regime,
and the global order of the piecewise flow against the real iterates.

The references here are written from the mathematics, not from modeq: the
first-order field of mini-batch Adam at step :math:`n` is (with
:math:`a^{(n)}_k = (1-\beta)\beta^{n-k}/(1-\beta^{n+1})`,
:math:`r^{(n)}_k = (1-\rho)\rho^{n-k}/(1-\rho^{n+1})`, batch :math:`b(k)` at step :math:`k`)

.. math::
    M_j = \sum_k a_k \nabla_j E_{b(k)},\quad
    R_j = \Big(\sum_k r_k (\nabla_j E_{b(k)})^2 + \varepsilon\Big)^{1/2},\quad
    L_j = \sum_k a_k \sum_i \nabla_{ij}E_{b(k)} \sum_{l=k}^{n-1} \frac{M^{(l)}_i}{R^{(l)}_i},\quad
    \bar L_j = \sum_k a_k \sum_i \nabla_{ij}E_{b(k)} \frac{M^{(n)}_i}{R^{(n)}_i},

:math:`P_j, \bar P_j` the same with :math:`r_k \nabla_j E_{b(k)}` in place of
:math:`a_k`, and

.. math:: f^{(n)} = -\frac{M}{R} + h\Big(\frac{M(2P + \bar P)}{2R^3} - \frac{2L + \bar L}{2R}\Big).
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy
from scipy.integrate import solve_ivp

import modeq
from modeq.algebra.base import STEP
from modeq.optimizers import adam, heavy_ball, rmsprop
from modeq.optimizers.language import h

x, y = sympy.symbols("x y", real=True)
PARAMS = (x, y)
BETA, RHO, EPS = sympy.Rational(9, 10), sympy.Rational(19, 20), sympy.Rational(1, 1000)
VALUES = dict(beta=0.9, rho=0.95, eps=0.001)
#: Three batch losses with different, non-constant Hessians.
BATCHES = [(x * y - 1) ** 2 / 2, (x + y**2) ** 2 / 2 + x**2 / 4, (x - 2 * y + 1) ** 4 / 8]
POINTS = [(0.7, -0.4), (-1.1, 0.3), (0.2, 0.9)]


def _theorem_3_1(batches, schedule, steps):
    """The reference fields :math:`f^{(0)}, \\dots` of the module docstring, in components."""
    grads = [[sympy.diff(e, v) for v in PARAMS] for e in batches]
    hessians = [[[sympy.diff(e, v, w) for w in PARAMS] for v in PARAMS] for e in batches]
    ratios, fields = [], []
    for n in range(steps):
        a = [(1 - BETA) * BETA ** (n - k) / (1 - BETA ** (n + 1)) for k in range(n + 1)]
        r = [(1 - RHO) * RHO ** (n - k) / (1 - RHO ** (n + 1)) for k in range(n + 1)]
        b = [schedule[k % len(schedule)] - 1 for k in range(n + 1)]
        M = [sum(a[k] * grads[b[k]][j] for k in range(n + 1)) for j in range(2)]
        R = [sympy.sqrt(sum(r[k] * grads[b[k]][j] ** 2 for k in range(n + 1)) + EPS) for j in range(2)]
        ratios.append([M[i] / R[i] for i in range(2)])
        past = [[sum(ratios[l][i] for l in range(k, n)) for i in range(2)] for k in range(n + 1)]
        now = ratios[n]

        def averaged(weights, along, j, times_gradient):
            return sum(weights[k] * (grads[b[k]][j] if times_gradient else 1)
                       * sum(hessians[b[k]][i][j] * along[k][i] for i in range(2)) for k in range(n + 1))

        L = [averaged(a, past, j, False) for j in range(2)]
        Lbar = [averaged(a, [now] * (n + 1), j, False) for j in range(2)]
        P = [averaged(r, past, j, True) for j in range(2)]
        Pbar = [averaged(r, [now] * (n + 1), j, True) for j in range(2)]
        fields.append([(-M[j] / R[j], M[j] * (2 * P[j] + Pbar[j]) / (2 * R[j] ** 3) - (2 * L[j] + Lbar[j]) / (2 * R[j]))
                       for j in range(2)])
    return fields


def _values(exprs, point):
    return np.array([float(sympy.N(e.subs(dict(zip(PARAMS, point))), 30)) for e in exprs])


@pytest.mark.parametrize("schedule", ["cyclic", (2, 3, 1)])
def test_minibatch_adam_first_order_is_theorem_3_1(schedule):
    steps = 5
    derived = modeq.derive_steps(adam, steps, order=1, batches=3, schedule=schedule, values=VALUES)
    fields = derived.materialize(None, PARAMS, BATCHES)
    order = (1, 2, 3) if schedule == "cyclic" else schedule
    reference = _theorem_3_1(BATCHES, order, steps)
    for n in range(steps):
        for k in (0, 1):
            for point in POINTS:
                got = _values(fields[n].terms[k], point)
                want = _values([reference[n][j][k] for j in range(2)], point)
                assert np.allclose(got, want, rtol=1e-12, atol=1e-12), (n, k, point, got, want)


@pytest.mark.parametrize("eps_inside", [True, False])
def test_full_batch_steps_equal_the_closed_form_exact_regime(eps_inside):
    optimizer = adam(eps_inside=eps_inside)
    steps = 5
    loss = BATCHES[0] + BATCHES[1]
    stepwise = modeq.derive_steps(optimizer, steps, order=1, values=VALUES).materialize(loss, PARAMS)
    closed = modeq.derive(optimizer, order=1, regime="exact", values=VALUES).materialize(loss, PARAMS)
    for n in range(steps):
        for k in (0, 1):
            at_n = [t.subs(STEP, n) for t in closed.terms[k]]
            for point in POINTS:
                assert np.allclose(_values(stepwise[n].terms[k], point), _values(at_n, point), rtol=1e-12, atol=1e-12)


# -- global order against the real iterates -------------------------------------------

A = np.array([[1.0, 2.0], [2.0, -1.0], [1.0, -1.0]])
B = np.array([1.0, -0.5, 2.0])
LEAST_SQUARES = [sympy.Rational(1, 2) * (int(a0) * x + int(a1) * y - sympy.nsimplify(b0)) ** 2 for (a0, a1), b0 in zip(A, B)]


def _batch_gradient(theta, k):
    return A[k] * (A[k] @ theta - B[k])


def _adam_iterates(theta, step, n, batch, bias_correction=True):
    """Mini-batch Adam in plain NumPy (the paper's Definition 1.1)."""
    m, v, out = np.zeros(2), np.zeros(2), [theta]
    for k in range(n):
        g = _batch_gradient(theta, batch(k))
        m, v = 0.9 * m + 0.1 * g, 0.95 * v + 0.05 * g * g
        mh, vh = (m / (1 - 0.9 ** (k + 1)), v / (1 - 0.95 ** (k + 1))) if bias_correction else (m, v)
        theta = theta - step * mh / np.sqrt(vh + 1e-3)
        out.append(theta)
    return np.array(out)


def _heavy_ball_iterates(theta, step, n, batch):
    """Mini-batch heavy ball, Polyak form, :math:`\\beta = 1/2`, :math:`\\theta_{-1} = \\theta_0`."""
    previous, out = theta, [theta]
    for k in range(n):
        theta, previous = theta - step * _batch_gradient(theta, batch(k)) + 0.5 * (theta - previous), theta
        out.append(theta)
    return np.array(out)


def _piecewise_flow(theta, step, n, fields):
    """Integrate :math:`f^{(k)}` over :math:`[kh, (k+1)h]`, one field per step."""
    out = [theta]
    for k in range(n):
        rhs = fields[k]
        theta = solve_ivp(lambda t, z: rhs(z[0], z[1], step), (0, step), theta, method="DOP853",
                          rtol=1e-13, atol=1e-15).y[:, -1]
        out.append(theta)
    return np.array(out)


def _slopes(optimizer_iterates, derived, order, T, counts, theta0=(0.5, -0.3)):
    fields = derived.materialize(None, PARAMS, LEAST_SQUARES)
    compiled = [sympy.lambdify((x, y, h), list(f.field(order)), "math", cse=True) for f in fields]
    errors = []
    for n in counts:
        step = T / n
        iterates = optimizer_iterates(np.array(theta0), step, n, lambda k: k % 3)
        errors.append(np.abs(iterates - _piecewise_flow(np.array(theta0), step, n, compiled)).max())
    overall = np.log(errors[0] / errors[-1]) / np.log(counts[-1] / counts[0])
    finest = np.log(errors[-2] / errors[-1]) / np.log(counts[-1] / counts[-2])
    return overall, finest, errors


def test_minibatch_adam_first_order_field_has_global_order_two():
    counts = (4, 8, 16)
    derived = modeq.derive_steps(adam, counts[-1], order=1, batches=3, values=VALUES)
    slope_0, _, _ = _slopes(_adam_iterates, derived, 0, 0.2, counts)
    slope_1, _, errors = _slopes(_adam_iterates, derived, 1, 0.2, counts)
    assert 1.8 < slope_1 < 2.3, (slope_1, errors)
    assert slope_1 > slope_0 + 0.8


def test_minibatch_heavy_ball_gains_an_order_per_term():
    # beta = 1/2: the order-k coefficients grow like (1 - beta)^-(2k+1), and with
    # beta = 0.9 on this problem h would have to be below ~1e-4 to see clean orders
    counts = (8, 16, 32)
    derived = modeq.derive_steps(heavy_ball, counts[-1], order=2, batches=3, values=dict(beta=0.5))
    slopes = [_slopes(_heavy_ball_iterates, derived, k, 0.1, counts)[1] for k in range(3)]
    for k, slope in enumerate(slopes):
        assert abs(slope - (k + 1)) < 0.3, slopes


def test_rmsprop_without_bias_correction_has_no_closed_form_but_steps_work():
    with pytest.raises(modeq.optimizers.DescriptionError, match="derive_steps"):
        modeq.derive(rmsprop, order=1, regime="exact")
    counts = (4, 8, 16)
    derived = modeq.derive_steps(rmsprop, counts[-1], order=1, batches=3, values=dict(rho=0.8, eps=0.001))

    def iterates(theta, step, n, batch):
        v, out = np.zeros(2), [theta]
        for k in range(n):
            g = _batch_gradient(theta, batch(k))
            v = 0.8 * v + 0.2 * g * g
            theta = theta - step * g / np.sqrt(v + 1e-3)
            out.append(theta)
        return np.array(out)

    slope_0, _, errors_0 = _slopes(iterates, derived, 0, 0.2, counts)
    slope_1, _, errors_1 = _slopes(iterates, derived, 1, 0.2, counts)
    assert slope_1 > 1.8 and slope_1 > slope_0 + 0.8, (slope_0, slope_1)
    assert errors_1[-1] < errors_0[-1] / 20


@pytest.mark.parametrize("kwargs, message", [
    (dict(steps=0), "steps must be a whole number"),
    (dict(steps=3, batches=0), "batches must be a whole number"),
    (dict(steps=3, batches=3, schedule=(1, 4, 2)), "sequence of batch labels 1..3"),
    (dict(steps=3, batches=3, schedule="shuffled"), "derive_epoch"),
    (dict(steps=3, order=-1), "order"),
])
def test_bad_input_is_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        modeq.derive_steps(adam, **kwargs)
