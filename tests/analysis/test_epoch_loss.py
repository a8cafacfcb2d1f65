"""Modified losses of mini-batch equations: Smith et al. (2021) for shuffled
epochs, by value on concrete batch losses, and the non-gradient part of a
fixed (cyclic) order, by an independent two-step Taylor expansion and the
asymmetry of its Jacobian."""

import sympy
from sympy import Rational

import modeq
from modeq.algebra import ComponentAlgebra
from modeq.cli import main
from modeq.components import materialize
from modeq.optimizers import gd
from modeq.optimizers.language import h
from modeq.quantities import LOSS, atoms_of, loss

x, y = sympy.symbols("x y", real=True)
PARAMS = (x, y)
BATCHES = [x**4 / 4 + x * y + y**2, (x - 2 * y) ** 2 / 2 + x**3 * y / 3, y**4 / 4 - x * y**2 + x**2]
POINT = {x: Rational(2, 5), y: Rational(-3, 4)}


def gradient(f):
    return sympy.Matrix([sympy.diff(f, v) for v in PARAMS])


def scalar_value(expr, equation, batches):
    """A scalar of a modified loss (E, E_b, reductions) at POINT for concrete batch losses."""
    values = {LOSS: sum(batches) / len(batches)} | {loss(b + 1): e for b, e in enumerate(batches)}
    expr = expr.xreplace(values)
    algebra = ComponentAlgebra(None, PARAMS, batches)
    return sympy.nsimplify(materialize([expr], atoms_of(equation), algebra)[0][0].xreplace(POINT))


def field_value(expr, equation, batches):
    algebra = ComponentAlgebra(None, PARAMS, batches)
    return sympy.Matrix(materialize([expr], atoms_of(equation), algebra)[0])


def test_shuffled_epoch_is_smith_et_al_by_value():
    """E~ = E + h/(4m) sum_k |grad E_k|^2 (Smith et al. 2021), m = 3, at a point."""
    equation = modeq.derive_epoch(gd, 3, order=1)
    modified = equation.modified_loss()
    assert modified and modified.preconditioner == 1
    smith = sum(BATCHES) / 3 + h / 12 * sum(gradient(e).dot(gradient(e)) for e in BATCHES)
    ours = scalar_value(modified.potential, equation, BATCHES)
    assert sympy.expand(ours - smith.xreplace(POINT)) == 0


def test_cyclic_epoch_has_a_non_gradient_part():
    """Two GD steps on E_1 then E_2, expanded by hand, against the flow of
    f_0 + h f_1 over 2h: f_1 = -grad E~_1 + N_1 with N_1 = (H_2 grad E_1 - H_1 grad E_2)/4,
    whose Jacobian is not symmetric."""
    batches = BATCHES[:2]
    equation = modeq.derive_epoch(gd, 2, order=1, schedule="cyclic")
    modified = equation.modified_loss()
    assert not modified and "not a gradient" in modified.reason and modified.remainder[1] != 0
    # independent: theta_2 = theta - h g_1(theta) - h g_2(theta - h g_1(theta)), flow: theta + 2h f_0 + h^2 (2 f_1 + 2 J f_0 f_0)
    g1, g2 = gradient(batches[0]), gradient(batches[1])
    shifted = g2.xreplace({x: x - h * g1[0], y: y - h * g1[1]})
    step = (-h * g1 - h * shifted).applyfunc(lambda e: sympy.series(e, h, 0, 3).removeO())
    f0 = -(g1 + g2) / 2
    jf0 = f0.jacobian(PARAMS)
    f1 = ((step.applyfunc(lambda e: e.coeff(h, 2)) - 2 * jf0 * f0) / 2).xreplace(POINT)
    ours = -gradient(scalar_value_expr(modified.terms[1], equation, batches)) + field_value(modified.remainder[1], equation, batches)
    assert (ours.xreplace(POINT) - f1).applyfunc(sympy.simplify) == sympy.zeros(2, 1)
    # the remainder is no gradient: its Jacobian at the point is not symmetric
    n1 = field_value(modified.remainder[1], equation, batches)
    jacobian = n1.jacobian(PARAMS).xreplace(POINT)
    assert sympy.simplify(jacobian[0, 1] - jacobian[1, 0]) != 0
    # LaTeX says the flow is not a gradient flow and names N_1
    assert r"= -\nabla_{j}\tilde{E} + h N_{1},\quad N_{1} = - \frac{1}{4} \sum_{i} \nabla_{ij} E_{1}" in modified.latex()
    # and the gradient part is the shuffled one (averaging over orders cancels N_1)
    shuffled = modeq.derive_epoch(gd, 2, order=1).modified_loss()
    assert sympy.expand(modified.potential - shuffled.potential) == 0


def scalar_value_expr(expr, equation, batches):
    """A scalar of a modified loss as an expression in the parameters."""
    values = {LOSS: sum(batches) / len(batches)} | {loss(b + 1): e for b, e in enumerate(batches)}
    algebra = ComponentAlgebra(None, PARAMS, batches)
    return materialize([expr.xreplace(values)], atoms_of(equation), algebra)[0][0]


def test_concrete_steps_with_batches():
    """Step 1 of GD with batches 1, 2 in turn: the GD result for E_2 alone,
    E_2 + (h/4)|grad E_2|^2 (Barrett & Dherin)."""
    steps = modeq.derive_steps(gd, 2, order=1, batches=2)
    modified = steps.at(1).modified_loss()
    assert modified
    expected = BATCHES[1] + h / 4 * gradient(BATCHES[1]).dot(gradient(BATCHES[1]))
    assert sympy.expand(scalar_value(modified.potential, steps.at(1), BATCHES[:2]) - expected.xreplace(POINT)) == 0


def test_cli_prints_the_epoch_loss(capsys):
    assert main(["derive", "gd", "--batches", "2", "--epoch"]) == 0
    out = capsys.readouterr().out
    assert "Ẽ = E + h/8 ‖∇E₁‖² + h/8 ‖∇E₂‖²" in out  # h/(4m) with m = 2
    assert main(["derive", "gd", "--batches", "2", "--epoch", "--schedule", "cyclic"]) == 0
    out = capsys.readouterr().out
    assert "not a gradient flow: dθ̃_j/dt = -∇_j Ẽ + h N_1" in out
    assert "N_1 = -1/4 Σ_i ∇_{ji}E₁·∇_i E₂ + 1/4 Σ_i ∇_{ji}E₂·∇_i E₁" in out
