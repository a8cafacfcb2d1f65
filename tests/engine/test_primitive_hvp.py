"""The hvp(v) primitive (issue 13's demonstration that a primitive lives in one
file): derivation checked by hand, compiled iterates checked against NumPy."""

import numpy as np
import sympy

import modeq
from modeq.algebra import D, g
from modeq.numerics import compile_optimizer
from modeq.optimizers import ema, grad, hvp, optimizer, positive

x, y = sympy.symbols("x y", real=True)
LOSS = x**4 / 4 + x * y + (x - 2 * y) ** 2 / 2 + y**3 / 3


@optimizer()
def hessian_descent():
    r""":math:`\theta_{n+1} = \theta_n - h\,\nabla^2E\,\nabla E` (gradient descent on :math:`\|\nabla E\|^2/2`)."""
    return -hvp(grad())


@optimizer(c=positive(0.5, "c"))
def damped(c):
    """GD plus a Hessian term along a moving average of the gradient."""
    return -grad() - c * hvp(ema(grad(), sympy.Rational(1, 2)))


def test_index_form_is_the_atom_d1():
    equation = modeq.derive(hessian_descent, order=0)
    assert equation.terms[0] == -D(g)


def test_orders_0_to_2_equal_the_one_step_formula_by_hand():
    r"""A one-step map :math:`\theta + hF` has :math:`f = F - \frac h2 F'F +
    h^2(\frac1{12}F''(F,F) + \frac13 F'F'F)` (Hairer-Lubich-Wanner IX.1), here
    with :math:`F = -\nabla^2E\,\nabla E` computed in components with SymPy."""
    params = (x, y)
    gradient = sympy.Matrix([sympy.diff(LOSS, s) for s in params])
    F = -gradient.jacobian(params) * gradient
    J = F.jacobian(params)
    second = sympy.Matrix([(F.T * sympy.hessian(F[i], params) * F)[0] for i in range(2)])
    expected = [F, -J * F / 2, second / 12 + J * J * F / 3]
    terms = modeq.derive(hessian_descent, order=2).materialize(LOSS, params).terms
    for k in range(3):
        for j in range(2):
            assert sympy.expand(terms[k][j] - expected[k][j]) == 0, (k, j)


def test_with_memory_stationary_order_1_by_hand():
    r"""With :math:`m = \mathrm{ema}(g, 1/2)`, stationary:
    :math:`m = g - h\,c_1 D_1[f_0] + O(h^2)`, :math:`c_1 = 1`, so
    :math:`U = -g - c D_1[g] + h c D_1[D_1[f_0]]`, and
    :math:`f_1 = [U]_1 - \frac12 L_{f_0} f_0`."""
    c = sympy.Symbol("c", positive=True)
    f0 = -g - c * D(g)
    equation = modeq.derive(damped, order=1)
    assert sympy.expand(equation.terms[0] - f0) == 0
    lie = -(D(f0) + c * (D(g, f0) + D(D(f0))))  # L_{f0} f0 = D_1[f0]-linear: L(-g) = -D_1[f0], L(D_1[g]) = D_2[g, f0] + D_1[D_1[f0]]
    expected = c * D(D(f0)) - sympy.expand(lie) / 2
    params = (x, y)
    got = equation.materialize(LOSS, params).terms[1]
    want = modeq.ModifiedEquation(damped, 0, "", {}, (expected,)).materialize(LOSS, params).terms[0]
    for j in range(2):
        assert sympy.expand(got[j] - want[j]) == 0


def test_compiled_iterates_equal_numpy(tmp_path):
    def gradient(t):
        a, b = t
        return np.array([a**3 + b + (a - 2 * b), a - 2 * (a - 2 * b) + b**2])

    def hessian(t):
        a, b = t
        return np.array([[3 * a**2 + 1, 1 - 2], [1 - 2, 4 + 2 * b]])

    h, c, theta = 0.05, 0.5, np.array([0.7, -0.4])
    compiled = compile_optimizer(damped, LOSS, (x, y), values={"c": c}, cache_dir=tmp_path)
    got = compiled.run(theta, h, 30)
    m = np.zeros(2)
    expected = [theta.copy()]
    for _ in range(30):
        m = 0.5 * m + 0.5 * gradient(theta)
        theta = theta + h * (-gradient(theta) - c * hessian(theta) @ m)
        expected.append(theta.copy())
    np.testing.assert_allclose(got, np.array(expected), rtol=1e-13, atol=1e-13)
