"""Limits in eps, modified losses, verdicts and Table 1 against the known
results of DESIGN.md §1.5 and Table 1 of "On the Implicit Bias of Adam"."""

import numpy as np
import pytest
import sympy
from sympy import Rational, sqrt

import modeq
from modeq.algebra import ATOMS, D, S, g
from modeq.analysis import NotAGradient, classify, eps_limit, modified_loss
from modeq.optimizers import adam, gd, heavy_ball, heavy_ball_ema, nesterov, rmsprop, sam, usam
from modeq.optimizers.language import h
from modeq.quantities import LOSS
from modeq.reports import table1

beta, rho = sympy.symbols("beta rho", nonnegative=True)
eps = sympy.Symbol("eps", positive=True)
c = sympy.Symbol("c", positive=True)


def same(a, b):
    return sympy.simplify(ATOMS.collect(a - b)) == 0


def test_adam_eps_limits_are_table_1():
    equation = modeq.derive(adam, order=1)
    small = eps_limit(equation, 0)
    assert same(small.terms[0], -sympy.sign(g))
    bracket = Rational(1, 2) * ((1 + beta) / (1 - beta) - (1 + rho) / (1 - rho))
    assert same(small.terms[1], -bracket * D(sympy.sign(g)) / sympy.Abs(g))
    large = eps_limit(equation, "inf")
    assert same(large.terms[0], -g / sqrt(eps))
    assert same(large.terms[1], -(1 + beta) / (2 * (1 - beta)) * D(g) / eps)


def test_limit_errors_name_the_fix():
    with pytest.raises(ValueError, match="gd has no epsilon hyperparameter"):
        eps_limit(modeq.derive(gd), 0)
    with pytest.raises(ValueError, match="eps was fixed to .* derive with eps symbolic"):
        eps_limit(modeq.derive(adam, values={"eps": 1e-8}), 0)
    with pytest.raises(ValueError, match="goes to 0 or to infinity"):
        eps_limit(modeq.derive(adam), 5)


@pytest.mark.parametrize("opt, preconditioner, penalty", [
    (gd, 1, h / 4 * S(g**2)),
    (heavy_ball, 1 / (1 - beta), h * (1 + beta) / (4 * (1 - beta) ** 2) * S(g**2)),
    (heavy_ball_ema, 1, h * (1 + beta) / (4 * (1 - beta)) * S(g**2)),
    (sam, 1, h * (S(g**2) / 4 + c * sqrt(S(g**2)))),
])
def test_known_modified_losses(opt, preconditioner, penalty):
    loss = modified_loss(modeq.derive(opt, order=1))
    assert loss.is_gradient
    assert sympy.simplify(loss.preconditioner - preconditioner) == 0
    assert sympy.simplify(loss.potential - LOSS - penalty) == 0


def test_adam_small_eps_modified_loss_is_the_one_norm_under_sign_preconditioner():
    loss = modified_loss(eps_limit(modeq.derive(adam, order=1), 0))
    assert sympy.simplify(loss.preconditioner - 1 / sympy.Abs(g)) == 0
    expected = h / 2 * ((1 + beta) / (1 - beta) - (1 + rho) / (1 - rho)) * S(sympy.Abs(g))
    assert sympy.simplify(loss.potential - LOSS - expected) == 0
    assert loss.latex().startswith(r"\tilde{E} = E + \frac{h \left(\beta - \rho\right)}{\left(1 - \beta\right) \left(1 - \rho\right)} \lVert \nabla E\rVert_{1}")


def test_heavy_ball_latex():
    text = modified_loss(modeq.derive(heavy_ball, order=1)).latex(symbols={"h": r"\eta"})
    assert text == (r"\tilde{E} = E + \frac{\eta \left(1 + \beta\right)}{4 \left(1 - \beta\right)^{2}} \lVert \nabla E\rVert^{2}, "
                    r"\qquad \dot{\tilde{\theta}}_{j} = -P_{j}\nabla_{j}\tilde{E},\quad P_{j} = \frac{1}{1 - \beta}")


@pytest.mark.parametrize("opt, order, values", [(gd, 2, {}), (adam, 1, {}), (heavy_ball, 2, {})])
def test_non_gradients_are_reported_with_the_reason(opt, order, values):
    loss = modified_loss(modeq.derive(opt, order=order, values=values))
    assert not loss and "not a gradient field" in loss.reason and "Jacobian is not symmetric" in loss.reason
    with pytest.raises(NotAGradient):
        loss.potential


def _field_of(equation, k, values, loss, params):
    """-f_k / P as numbers: a callable theta -> vector."""
    P = modified_loss(equation, 0).preconditioner
    expr = sympy.cancel(-equation.terms[k] / P)
    numbers = {equation.optimizer.hyperparameter(n).symbol: v for n, v in values.items()}
    fields = modeq.ModifiedEquation(equation.optimizer, 0, equation.regime, {}, (expr,),
                                    atoms=equation.atoms).materialize(loss, params)
    return sympy.lambdify([params], [f.xreplace(numbers) for f in fields.terms[0]], "numpy")


@pytest.mark.parametrize("opt, order, values", [
    (gd, 1, {}), (gd, 2, {}), (heavy_ball, 1, {"beta": Rational(7, 10)}), (heavy_ball, 2, {"beta": Rational(7, 10)}),
    (nesterov, 1, {"beta": Rational(1, 2)}), (usam, 1, {"c": Rational(3, 2)}), (sam, 1, {"c": Rational(1, 3)}),
    (adam, 1, {"beta": Rational(9, 10), "rho": Rational(99, 100), "eps": Rational(1, 10)}),
    (rmsprop, 1, {"rho": Rational(9, 10), "eps": Rational(1, 5)}),
])
def test_gradient_detection_agrees_with_numeric_jacobian_symmetry(opt, order, values):
    """Independent check: on random cubic/quartic losses in 3 variables the finite-difference
    Jacobian of the correction is symmetric exactly when the detector finds a potential."""
    equation = modeq.derive(opt, order=order, values=values)
    verdict = modified_loss(equation, order).is_gradient
    rng = np.random.default_rng(order + len(values))
    params = sympy.symbols("x0:3", real=True)
    for trial in range(2):
        monomials = [params[i] * params[j] * params[k] for i in range(3) for j in range(i, 3) for k in range(j, 3)]
        coefficients = rng.integers(-3, 4, len(monomials))
        loss = sum(int(a) * m for a, m in zip(coefficients, monomials)) + sum(p**4 for p in params) / 4
        field = _field_of(equation, order, values, loss, params)
        point = rng.uniform(-1, 1, 3)
        step = 1e-5
        jac = np.array([(np.array(field(point + step * e)) - np.array(field(point - step * e))) / (2 * step)
                        for e in np.eye(3)]).T
        asymmetry = np.max(np.abs(jac - jac.T)) / (np.max(np.abs(jac)) + 1e-300)
        if verdict:
            assert asymmetry < 1e-6, (trial, asymmetry)
        elif asymmetry > 1e-4:
            return
    assert verdict, "the detector says 'not a gradient' but no asymmetric Jacobian was found"


def test_classification_symbolic_and_numeric():
    small = eps_limit(modeq.derive(adam, order=1), 0)
    (verdict,) = classify(small)
    assert verdict.text == "penalizes ‖∇E‖₁ when β > ρ; anti-penalizes it when ρ > β"
    assert classify(small, {"beta": 0.9, "rho": 0.999})[0].text == "anti-penalizes ‖∇E‖₁"
    assert classify(small, {"beta": 0.9, "rho": 0.5})[0].text == "penalizes ‖∇E‖₁"
    # the coefficient c of E~ = E + h c ||grad E||_1: (beta - rho)/((1 - beta)(1 - rho))
    assert classify(small, {"beta": 0.5, "rho": 0.75})[0].coefficient == Rational(-2)
    assert sympy.simplify(verdict.coefficient - (beta - rho) / ((1 - beta) * (1 - rho))) == 0
    assert classify(eps_limit(modeq.derive(rmsprop, order=1), 0))[0].text == "anti-penalizes ‖∇E‖₁"
    assert [v.text for v in classify(modeq.derive(heavy_ball, order=1))] == ["penalizes ‖∇E‖²"]
    with pytest.raises(NotAGradient, match="take a limit"):
        classify(modeq.derive(adam, order=1))


def test_table_1_is_regenerated_from_the_engine():
    markdown = table1("markdown").splitlines()
    assert len(markdown) == 2 + 7
    adam_small, adam_large = markdown[2], markdown[3]
    assert r"$\varepsilon \to 0$" in adam_small and r"\lVert \nabla E\rVert_{1}" in adam_small
    assert r"penalizes $\lVert \nabla E\rVert_{1}$ when $\beta > \rho$; anti-penalizes it when $\rho > \beta$" in adam_small
    assert r"\frac{h \left(1 + \beta\right)}{4 \sqrt{\varepsilon} \left(1 - \beta\right)}" in adam_large
    text = table1("text")
    assert "heavy_ball " in text and "penalizes ‖∇E‖²" in text
    assert "anti-penalizes it when ρ > β" in text
    # the text cells read like `modeq derive`, not like SymPy's repr (Cattaneo et al., Table 1, ε → 0)
    assert "ε → 0  1/|∇_j E|" in text and "E + h(β-ρ)/((1-β)(1-ρ)) ‖∇E‖₁" in text
    assert not any(word in text for word in ("Abs", "sqrt", "beta", "**"))
    latex = table1("latex")
    assert latex.startswith(r"\begin{tabular}") and r"when $\rho > \beta$" in latex and "when beta >" not in latex
    with pytest.raises(ValueError, match="unknown table format"):
        table1("html")


def _nadam():
    from modeq.optimizers.base import decay, optimizer, positive
    from modeq.optimizers.language import ema, grad

    @optimizer(beta1=decay(0.9, r"\beta_1"), beta2=decay(0.999, r"\beta_2"), eps=positive(1e-8, r"\varepsilon"))
    def nadam(beta1, beta2, eps):
        g = grad()
        m, v = ema(g, beta1), ema(g**2, beta2)
        return -(beta1 * m + (1 - beta1) * g) / sqrt(v + eps)

    return nadam


def test_conditions_are_written_as_a_person_would():
    """NAdam (Nesterov momentum in Adam), eps -> 0: the sign of the one-norm's
    coefficient is that of beta1^2/(1-beta1) - beta2/(1-beta2), written
    beta1^2(1-beta2) > beta2(1-beta1), not as expanded polynomials."""
    nadam = _nadam()
    small = eps_limit(modeq.derive(nadam, order=1), 0)
    (verdict,) = classify(small)
    assert verdict.text == "penalizes ‖∇E‖₁ when β₁²(1-β₂) > β₂(1-β₁); anti-penalizes it when β₂(1-β₁) > β₁²(1-β₂)"
    assert [v.text for v in classify(small)] == [verdict.text]  # deterministic
    b1, b2 = nadam.hyperparameter("beta1").symbol, nadam.hyperparameter("beta2").symbol
    a, b = verdict.sides
    assert sympy.expand(a - b - verdict.condition) == 0
    # by value: the side that wins decides the sign of the coefficient classify finds with numbers
    rng = np.random.default_rng(7)
    for x, y in rng.uniform(0.01, 0.99, (20, 2)):
        x, y = Rational(round(x, 3)).limit_denominator(1000), Rational(round(y, 3)).limit_denominator(1000)
        difference = (a - b).xreplace({b1: x, b2: y})
        if difference != 0:
            sign = classify(small, {"beta1": x, "beta2": y})[0].sign
            assert sign == (1 if difference > 0 else -1), (x, y)
    # and the latex table form uses the same sides
    assert verdict.describe("Q", lambda p, q: f"{sympy.latex(p)} > {sympy.latex(q)}").startswith(
        r"penalizes Q when \beta_{1}^{2} \left(1 - \beta_{2}\right) > \beta_{2} \left(1 - \beta_{1}\right)")
