"""``loss()``: the loss value E as a scalar atom with L_f E = S[g f] (issue 14).

Checked against what does not use that rule: the component derivation on a
concrete loss (E is the loss expression, differentiated by SymPy), the order-1
term by hand (a memoryless update: f_1 = -(1/2) L_{f_0} f_0), a NumPy loop for
the compiled iterates, and ``verify`` for Polyak's step (slow: numba compiles
the order-2 field)."""

import numpy as np
import pytest
import sympy

import modeq
from modeq.algebra import D, S, g
from modeq.algebra.index import ATOMS, LossValue
from modeq.evaluation import Evaluator, NumpyBackend, atom_table, constants_for
from modeq.optimizers import polyak
from modeq.optimizers.base import optimizer, positive
from modeq.optimizers.language import grad, h, loss

x, y = sympy.symbols("x y", real=True)
PARAMS = (x, y)
#: Minimum 0 at the origin, non-quadratic; Polyak's step with E* = 0 stays bounded near it.
LOSS = x**4 / 4 + x**2 / 2 + (x - 2 * y) ** 2 / 2 + x**2 * y**2 / 2

E = ATOMS.intern(LossValue())


@optimizer(c=positive(0.5))
def shifted(c):
    """The loss value at a point shifted by O(h): exercises the Taylor series of loss(shift)."""
    return -loss(c * h * grad()) * grad()


def test_polyak_terms_by_hand():
    eq = modeq.derive(polyak, order=1)
    star = polyak.symbols["E_star"]
    f0 = -(E - star) * g / S(g**2)
    assert sympy.expand(eq.terms[0] - f0) == 0
    # f_1 = -(1/2) L_{f0} f0 with L_F E = S[g F], L_F g = D_1[F]
    lie_f0 = (S(g * f0) * g / S(g**2) + (E - star) * D(f0) / S(g**2)
              - (E - star) * g * S(2 * g * D(f0)) / S(g**2) ** 2)
    assert sympy.expand(eq.terms[1] - (-sympy.Rational(1, 2)) * (-lie_f0)) == 0


@pytest.mark.parametrize("opt, values", [(polyak, {"E_star": sympy.Rational(1, 3)}), (shifted, {"c": sympy.Rational(1, 2)})],
                         ids=["polyak", "shifted"])
def test_index_form_equals_the_component_derivation(opt, values):
    order = 2
    index = modeq.derive(opt, order=order, values=values).materialize(LOSS, PARAMS)
    direct = modeq.derive_components(opt, LOSS, PARAMS, order=order, values=values)
    point = {x: sympy.Rational(7, 10), y: sympy.Rational(-3, 10)}
    for a, b in zip(index.terms, direct.terms):
        for u, v in zip(a, b):
            assert abs(float((u - v).xreplace(point).evalf(30))) < 1e-20


def test_numpy_backend_evaluates_the_loss_atom():
    eq = modeq.derive(polyak, order=2)
    values = {"E_star": 0.25}
    got = Evaluator(eq.terms, atom_table(eq), NumpyBackend(LOSS, PARAMS), constants_for(eq, values))(np.array([0.7, -0.3]))
    star = sympy.Rational(1, 4)
    components = eq.materialize(LOSS, PARAMS).terms
    at = {x: sympy.Rational(7, 10), y: sympy.Rational(-3, 10), polyak.symbols["E_star"]: star}
    for a, term in zip(got, components):
        np.testing.assert_allclose(a, [float(c.xreplace(at)) for c in term], rtol=1e-10)


def test_printed_with_the_loss_value():
    eq = modeq.derive(polyak, order=0)
    assert r"\frac{E}{\lVert \nabla E\rVert^{2}}" in eq.latex()
    assert "E" in str(eq)


def test_saved_and_loaded(tmp_path):
    eq = modeq.derive(polyak, order=1)
    eq.save(tmp_path / "polyak.json")
    assert modeq.load(tmp_path / "polyak.json").terms == eq.terms


def test_compiled_iterates_are_polyak_steps(tmp_path):
    hh, star = 0.1, 0.05
    got = modeq.iterates(polyak, LOSS, PARAMS, [1.0, 0.5], h=hh, steps=20, values={"E_star": star}, cache_dir=tmp_path)
    value = sympy.lambdify(PARAMS, LOSS)
    gradient = sympy.lambdify(PARAMS, [sympy.diff(LOSS, s) for s in PARAMS])
    th = np.array([1.0, 0.5])
    for n in range(20):
        gr = np.array(gradient(*th))
        th = th - hh * (value(*th) - star) / gr.dot(gr) * gr
        np.testing.assert_allclose(got[n + 1], th, rtol=1e-13)


@pytest.mark.slow
def test_polyak_orders_confirmed(tmp_path):
    report = modeq.verify(polyak, LOSS, PARAMS, [1.0, 0.5], order=2, values={"E_star": 0}, cache_dir=tmp_path)
    assert report.passed, report.table()
    for r in report.orders:
        assert abs(r.fitted - (r.order + 1)) < 0.1, report.table()
