"""The optimizer compiled from its description against plain NumPy loops."""

import numpy as np
import pytest
import sympy

from modeq.numerics import compile_optimizer
from modeq.optimizers import adam, gd, heavy_ball, nesterov, sam

x, y = sympy.symbols("x y", real=True)
BILINEAR = (sympy.Rational(3, 2) - 2 * x * y) ** 2 / 2


def bilinear_grad(t):
    r = 2 * t[0] * t[1] - 1.5
    return np.array([2 * t[1] * r, 2 * t[0] * r])


def reference(step, theta0, steps):
    thetas, state = [np.array(theta0, float)], {}
    for n in range(steps):
        thetas.append(step(thetas, n, state))
    return np.array(thetas)


def adam_step(h, beta, rho, eps):
    def step(thetas, n, s):
        t = thetas[-1]
        g = bilinear_grad(t)
        s["m"] = beta * s.get("m", 0.0) + (1 - beta) * g
        s["v"] = rho * s.get("v", 0.0) + (1 - rho) * g**2
        m_hat, v_hat = s["m"] / (1 - beta ** (n + 1)), s["v"] / (1 - rho ** (n + 1))
        return t - h * m_hat / np.sqrt(v_hat + eps)
    return step


def heavy_ball_step(h, beta):
    def step(thetas, n, s):
        t, before = thetas[-1], thetas[-2] if len(thetas) > 1 else thetas[-1]
        return t - h * bilinear_grad(t) + beta * (t - before)
    return step


def nesterov_step(h, beta):
    def step(thetas, n, s):
        t, before = thetas[-1], thetas[-2] if len(thetas) > 1 else thetas[-1]
        return t + beta * (t - before) - h * bilinear_grad(t + beta * (t - before))
    return step


def sam_step(h, c):
    def step(thetas, n, s):
        t = thetas[-1]
        g = bilinear_grad(t)
        return t - h * bilinear_grad(t + c * h * g / np.linalg.norm(g))
    return step


CASES = [
    (adam, dict(beta=0.9, rho=0.95, eps=1e-3), adam_step(0.01, 0.9, 0.95, 1e-3)),
    (heavy_ball, dict(beta=0.7), heavy_ball_step(0.01, 0.7)),
    (nesterov, dict(beta=0.7), nesterov_step(0.01, 0.7)),
    (sam, dict(c=0.5), sam_step(0.01, 0.5)),
]


@pytest.mark.parametrize("opt,values,step", CASES, ids=[c[0].name for c in CASES])
def test_compiled_optimizer_matches_numpy(opt, values, step, cache):
    compiled = compile_optimizer(opt, BILINEAR, (x, y), values, cache_dir=cache)
    got = compiled.run([1.2, 0.8], 0.01, 200)
    want = reference(step, [1.2, 0.8], 200)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13)


def test_adam_without_bias_correction_and_eps_outside(cache):
    compiled = compile_optimizer(adam(bias_correction=False, eps_inside=False), BILINEAR, (x, y),
                                 dict(beta=0.8, rho=0.9, eps=1e-2), cache_dir=cache)
    t, m, v, want = np.array([1.2, 0.8]), 0.0, 0.0, [np.array([1.2, 0.8])]
    for _ in range(100):
        g = bilinear_grad(t)
        m, v = 0.8 * m + 0.2 * g, 0.9 * v + 0.1 * g**2
        t = t - 0.02 * m / (np.sqrt(v) + 1e-2)
        want.append(t)
    np.testing.assert_allclose(compiled.run([1.2, 0.8], 0.02, 100), np.array(want), rtol=1e-12, atol=1e-13)


def test_minibatch_cyclic_adam(cache):
    """Step n uses batch schedule[n mod len]; the moving averages run across batches."""
    batches = [(x - 1) ** 2 / 2 + y**2 / 4, (x + y - 1) ** 2 / 2, (2 * x - y) ** 2 / 2]
    grads = [lambda t: np.array([t[0] - 1, t[1] / 2]),
             lambda t: np.array([t[0] + t[1] - 1, t[0] + t[1] - 1]),
             lambda t: np.array([2 * (2 * t[0] - t[1]), -(2 * t[0] - t[1])])]
    schedule = [3, 1, 2, 2]
    compiled = compile_optimizer(adam, None, (x, y), dict(beta=0.9, rho=0.95, eps=1e-3), batches, cache_dir=cache)
    t, m, v, want = np.array([0.3, -0.4]), 0.0, 0.0, [np.array([0.3, -0.4])]
    for n in range(50):
        g = grads[schedule[n % 4] - 1](t)
        m, v = 0.9 * m + 0.1 * g, 0.95 * v + 0.05 * g**2
        t = t - 0.01 * (m / (1 - 0.9 ** (n + 1))) / np.sqrt(v / (1 - 0.95 ** (n + 1)) + 1e-3)
        want.append(t)
    np.testing.assert_allclose(compiled.run([0.3, -0.4], 0.01, 50, schedule), np.array(want), rtol=1e-12, atol=1e-13)


def test_replayed_history_sets_the_polyak_velocity(cache):
    compiled = compile_optimizer(heavy_ball, BILINEAR, (x, y), dict(beta=0.7), cache_dir=cache)
    history = np.array([[1.5, 0.2], [1.3, 0.5], [1.25, 0.7]])
    got = compiled.run([1.2, 0.8], 0.01, 3, history=history)
    t, before = np.array([1.2, 0.8]), history[-1]
    for row in got[1:]:
        t, before = t - 0.01 * bilinear_grad(t) + 0.7 * (t - before), t
        np.testing.assert_allclose(row, t, rtol=1e-14)


def test_gd_minibatch_and_bad_inputs(cache):
    compiled = compile_optimizer(gd, None, (x, y), None, [x**2 / 2, y**2 / 2], cache_dir=cache)
    got = compiled.run([1.0, 1.0], 0.5, 3)  # batches 1, 2, 1
    np.testing.assert_allclose(got, [[1, 1], [0.5, 1], [0.5, 0.5], [0.25, 0.5]])
    with pytest.raises(ValueError, match="labels 1..2"):
        compiled.run([1.0, 1.0], 0.5, 3, schedule=[1, 3])
    with pytest.raises(ValueError, match="2 values"):
        compiled.run([1.0], 0.5, 3)
    with pytest.raises(ValueError, match="numeric values"):
        compile_optimizer(adam, BILINEAR, (x, y), dict(beta=0.9), cache_dir=cache)
