"""Slow states (increment O(h)) join theta: the modified equation of a one-step
map on (theta, V) (issue 14, DESIGN.md §5.1).

* AdaGrad's terms to order 2 equal the textbook backward error analysis of
  the map (theta, V) -> (theta - h g/sqrt(V + h g^2 + eps), V + h g^2),
  derived here with plain SymPy (Taylor coefficients d_k of the map, then
  f_0 = d_1, f_1 = d_2 - J(f_0) f_0 / 2, f_2 = d_3 - (J(f_0) f_1 + J(f_1) f_0) / 2
  - J(J(f_0) f_0) f_0 / 6 on the augmented coordinates), on a non-quadratic
  loss in one and in two dimensions;
* printing names the state (V_j in text and LaTeX);
* a slow state in the exact regime, or without a coordinate (a hand-made
  derivation), is refused in one line.
"""

import pytest
import sympy

import modeq
from modeq.optimizers import get
from modeq.optimizers.language import DescriptionError

x, y = sympy.symbols("x y", real=True)
eps, hh = sympy.symbols("eps h", positive=True)


def _jacobian(u, z):
    return sympy.Matrix(u).jacobian(sympy.Matrix(z))


def _textbook(loss, params, order=2):
    """Backward error analysis of AdaGrad's map on (theta, V), by hand."""
    vs = sympy.symbols([f"V_{p}" for p in params], real=True)
    z = list(params) + list(vs)
    g = [sympy.diff(loss, p) for p in params]
    step = [-hh * gi / sympy.sqrt(v + hh * gi**2 + eps) for gi, v in zip(g, vs)] + [hh * gi**2 for gi in g]
    d = [[sympy.diff(s, hh, k).subs(hh, 0) / sympy.factorial(k) for s in step] for k in range(1, order + 2)]
    f0 = sympy.Matrix(d[0])
    f1 = sympy.Matrix(d[1]) - _jacobian(f0, z) * f0 / 2
    f2 = (sympy.Matrix(d[2]) - (_jacobian(f0, z) * f1 + _jacobian(f1, z) * f0) / 2
          - _jacobian(_jacobian(f0, z) * f0, z) * f0 / 6)
    return z, [f0, f1, f2][: order + 1]


@pytest.fixture(scope="module")
def adagrad_order2():
    return modeq.derive(get("adagrad"), order=2)


@pytest.mark.parametrize("loss, params", [(x**3 / 3 + x**2 + sympy.sin(x) / 2, (x,)),
                                          (x**4 / 4 + x * y + sympy.cos(y), (x, y))], ids=["1d", "2d"])
def test_adagrad_terms_equal_textbook_backward_error_analysis(adagrad_order2, loss, params):
    z, want = _textbook(loss, params)
    got = adagrad_order2.materialize(loss, params)
    assert [str(s) for s in got.params] == [str(s) for s in z]  # (theta, V) in this order
    rename = dict(zip(got.params, z)) | {get("adagrad").symbols["eps"]: eps}
    for point in ({x: sympy.Rational(7, 10), y: sympy.Rational(-1, 3), eps: sympy.Rational(1, 50)},
                  {x: sympy.Rational(-6, 5), y: sympy.Rational(2, 7), eps: sympy.Rational(3, 10)}):
        point |= {v: sympy.Rational(1, 4 + i) for i, v in enumerate(z[len(params):])}
        for k in range(3):
            for j in range(len(z)):
                difference = (got.terms[k][j].xreplace(rename) - want[k][j]).xreplace(point)
                assert abs(difference.evalf(30)) < 1e-25, (k, j)


def test_adagrad_prints_its_state(adagrad_order2):
    text = str(adagrad_order2)
    V = "V\u0303"  # V with a combining tilde, as θ̃
    assert f"{V}_j" in text and f"d{V}_j/dt = f^V_0 + h f^V_1 + h² f^V_2" in text and f"{V}(0) = V₀" in text
    assert "f^V_0 = |∇_j E|²" in text
    latex = adagrad_order2.latex()
    assert r"\tilde{V}_{j}" in latex and r"\dot{\tilde{V}_{j}}" in latex
    assert r"\tilde{V}(0) = V_0" in adagrad_order2.latex(standalone=True)


def test_slow_state_refusals():
    with pytest.raises(DescriptionError, match="exact regime") as error:
        modeq.derive(get("adagrad"), order=1, regime="exact")
    assert "\n" not in str(error.value)
    with pytest.raises(DescriptionError, match="name"):
        modeq.optimizers.language.state(lambda v: v + modeq.optimizers.language.h, name="h")


def test_an_equation_with_a_slow_state_saves_and_loads(adagrad_order2, tmp_path):
    adagrad_order2.save(tmp_path / "adagrad.json")
    back = modeq.load(tmp_path / "adagrad.json")
    assert back == adagrad_order2 and back.states == adagrad_order2.states
    assert str(back) == str(adagrad_order2)


def test_schedule_free_sgd_order_0_is_the_papers_continuous_limit():
    """Defazio et al.: x' = (z - x)/t, z' = -grad E(y), y = beta x + (1 - beta) z; with w = z - y
    = beta (z - x): y' = w/t - (1 - beta) grad E(y), w' = -beta grad E(y) - w/t, and the time tau' = 1
    exactly (its higher terms vanish)."""
    opt = get("schedule_free_sgd")
    eq = modeq.derive(opt, order=2, values={"weight_decay": 0})
    loss = x**4 / 4 + x * y + sympy.cos(y)
    field = eq.materialize(loss, (x, y))
    assert [str(s) for s in field.params] == ["x", "y", "w_x", "w_y", "tau_x", "tau_y"]
    beta = opt.symbols["beta"]
    w, tau = field.params[2:4], field.params[4:6]
    g = [sympy.diff(loss, s) for s in (x, y)]
    want = ([w[j] / tau[j] - (1 - beta) * g[j] for j in range(2)] + [-beta * g[j] - w[j] / tau[j] for j in range(2)]
            + [1, 1])
    assert all(sympy.expand(a - b) == 0 for a, b in zip(field.terms[0], want))
    assert [state.terms[1:] for state in eq.states if state.name == "tau"] == [(0, 0)]
