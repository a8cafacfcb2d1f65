"""LaTeX export: golden files (reviewed by hand against the papers), the
correspondence of Adam's output with eqs. (3)-(4) of "On the Implicit Bias of
Adam", and standalone documents that compile."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import sympy
from sympy import Rational, sqrt

import modeq
from modeq.algebra import S, g
from modeq.cli import main
from modeq.optimizers import adam, gd, heavy_ball, rmsprop
from modeq.printing import arrange
from modeq.quantities import gradient_of

GOLDEN = Path(__file__).parent / "golden"
CASES = {
    "gd_order1": (gd, 1), "gd_order2": (gd, 2), "gd_order3": (gd, 3), "heavy_ball": (heavy_ball, 1),
    "rmsprop": (rmsprop, 1), "adam_eps_inside": (adam, 1), "adam_eps_outside": (adam(eps_inside=False), 1),
}
beta, rho = sympy.symbols("beta rho", nonnegative=True)
eps = sympy.Symbol("eps", positive=True)


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("notation", ["index", "vector"])
def test_golden(name, notation):
    opt, order = CASES[name]
    suffix = "" if notation == "index" else "_vector"
    expected = (GOLDEN / f"{name}{suffix}.tex").read_text().strip()
    assert modeq.derive(opt, order=order).latex(notation=notation) == expected


def test_gd_order_3_golden_is_the_modified_equation_of_explicit_euler():
    """The golden GD field (index form f_0..f_3) matches the GD step to O(h^5)
    through the Lie series of its flow on a 2-d loss: independent of the solver."""
    h = modeq.optimizers.language.h
    x, y = sympy.symbols("x y", real=True)
    loss = x**3 * y / 3 + (x - 2 * y) ** 2 / 2 + y**4 / 4
    terms = modeq.derive(gd, order=3).materialize(loss, (x, y)).terms
    # polynomials in (x, y, h) with rational coefficients: exact, and fast to multiply
    field = [sympy.Poly(sum(h**k * terms[k][i] for k in range(4)), x, y, h) for i in range(2)]

    def truncate(u):  # drop h^5 and higher
        return sympy.Poly.from_dict({m: c for m, c in u.as_dict().items() if m[2] <= 4}, x, y, h)

    def lie(u):
        return truncate(sum((u.diff(v) * f for v, f in zip((x, y), field)), sympy.Poly(0, x, y, h)))

    for i, v in enumerate((x, y)):
        total = current = sympy.Poly(v, x, y, h)
        for r in range(1, 5):
            current = lie(current)
            total += current * sympy.Poly(h**r / sympy.factorial(r), x, y, h)
        step = sympy.Poly(v - h * sympy.diff(loss, v), x, y, h)
        assert truncate(total) == step


def test_adam_order_1_is_the_papers_equations_3_and_4_term_by_term():
    """(3): f = -(grad_j E + bias_j)/R_j, (4): bias_j = (h/2){(1+b)/(1-b) - (1+r)/(1-r)
    + (1+r)/(1-r) eps/R_j^2} grad_j ||grad E||_{1,eps}, R_j = sqrt(|grad_j E|^2 + eps)."""
    equation = modeq.derive(adam, order=1)
    groups = arrange(equation.terms, equation.atoms)
    R = sqrt(g**2 + eps)
    assert [group.power for group in groups] == [0, 1]
    (leading,), (bias,) = groups[0].blocks, groups[1].blocks
    assert leading.quantity == 1 and sympy.simplify(leading.value() + g / R) == 0
    assert bias.quantity == gradient_of(S(R))  # grad_j ||grad E||_{1,eps}
    paper = -(Rational(1, 2) * ((1 + beta) / (1 - beta) - (1 + rho) / (1 - rho) + (1 + rho) / (1 - rho) * eps / R**2)) / R
    assert sympy.simplify(bias.value() / bias.quantity - paper) == 0
    # the printed text holds exactly these pieces, once each
    text = equation.latex()
    assert text.startswith(r"\dot{\tilde{\theta}}_{j} = - \frac{\nabla_{j} E}{\sqrt{\left\lvert \nabla_{j} E\right\rvert^{2} + \varepsilon}}")
    assert text.count(r"\nabla_{j}\lVert \nabla E\rVert_{1,\varepsilon}") == 1
    assert r"\frac{\varepsilon}{\left\lvert \nabla_{j} E\right\rvert^{2} + \varepsilon}" in text


def test_layout_preserves_every_term():
    from modeq.quantities import name_gradients

    for opt, order in list(CASES.values()) + [(modeq.optimizers.adamw, 1), (modeq.optimizers.sam, 1)]:
        equation = modeq.derive(opt, order=order)
        for group in arrange(equation.terms, equation.atoms):
            assert sympy.simplify(group.value() - name_gradients(equation.terms[group.power], equation.atoms)) == 0


def test_gradients_of_powers_of_named_scalars_are_named():
    """SAM's (c/2) grad|grad E|^2 / |grad E| is c grad|grad E| (chain rule), in both notations."""
    from modeq.quantities import name_gradients

    equation = modeq.derive(modeq.optimizers.sam, order=1)
    c = modeq.optimizers.sam.hyperparameter("c").symbol
    norm = S(g**2) ** Rational(1, 2)
    assert name_gradients(equation.terms[1], equation.atoms) == -gradient_of(S(g**2)) / 4 - c * gradient_of(norm)
    assert r"c \nabla_{j}\lVert \nabla E\rVert\right)" in equation.latex()
    assert r"c \nabla \lVert \nabla E\rVert\right)" in equation.latex(notation="vector")


def test_symbol_names_and_determinism():
    equation = modeq.derive(adam, order=1)
    text = equation.latex(symbols={"h": r"\eta", "beta": r"\beta_1", "rho": r"\beta_2"})
    assert r"\eta" in text and r"\beta_1" in text and r"\beta_2" in text and r"\rho" not in text
    assert text == modeq.derive(adam, order=1).latex(symbols={"h": r"\eta", "beta": r"\beta_1", "rho": r"\beta_2"})


def test_vector_notation_of_contractions():
    text = modeq.derive(gd, order=2).latex(notation="vector")
    assert r"\nabla^{2} E\, \nabla^{2} E\, \nabla E" in text
    assert r"\nabla^{3} E\left[\nabla E, \nabla E\right]" in text


def test_bad_input_names_the_problem():
    equation = modeq.derive(gd, order=1)
    with pytest.raises(ValueError, match="unknown notation 'tensor'.*index, vector, matrix"):
        equation.latex(notation="tensor")
    with pytest.raises(ValueError, match="unknown symbol name 'beta' for gd.*h, theta"):
        equation.latex(symbols={"beta": r"\beta_1"})


def test_cli_latex(capsys):
    assert main(["derive", "heavy_ball", "--latex", "--symbol", r"h=\eta"]) == 0
    assert capsys.readouterr().out.strip() == (GOLDEN / "heavy_ball.tex").read_text().strip().replace("h ", r"\eta ")
    assert main(["derive", "gd", "--vector"]) == 2
    assert "only apply with --latex" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["gd_order3", "adam_eps_inside", "adam_eps_outside"])
@pytest.mark.parametrize("notation", ["index", "vector"])
def test_standalone_document_compiles(name, notation, tmp_path):
    engine = shutil.which("pdflatex")
    if engine is None:
        if os.environ.get("MODEQ_REQUIRE_LATEX") == "1":
            pytest.fail("MODEQ_REQUIRE_LATEX=1 but pdflatex is not installed (apt-get install texlive-latex-base)")
        pytest.skip("pdflatex not installed")
    opt, order = CASES[name]
    (tmp_path / "eq.tex").write_text(modeq.derive(opt, order=order).latex(notation=notation, standalone=True))
    result = subprocess.run([engine, "-interaction=nonstopmode", "-halt-on-error", "eq.tex"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-2000:]
    assert (tmp_path / "eq.pdf").stat().st_size > 0


def test_a_slow_state_in_a_denominator_and_a_plain_sum_read_as_written():
    r"""Schedule-free SGD: the quantity 1/tau_j joins its coefficient's denominator,
    \frac{1}{2 \tilde\tau_j}(...) and (...)/(2τ̃_j), not (...)/2 1/τ̃_j; a block that is a plain sum is
    added without parentheses of its own, -(beta grad_j E + beta lambda theta_j + w_j/tau_j)
    (not -((beta grad_j E + beta lambda theta_j) + ...)); both still read back as derived."""
    from modeq.optimizers import BUILTIN
    from modeq.printing.reader import round_trip

    equation = modeq.derive(BUILTIN["schedule_free_sgd"], order=1)
    text, plain = equation.latex(), str(equation)
    tau = r"\tilde{\tau}_{j}"
    assert rf"\frac{{1}}{{2 {tau}}}\left(\beta \nabla_{{j}} E + \beta \lambda \tilde{{\theta}}_{{j}}\right)" in text
    assert rf"\frac{{1}}{{{tau}}}" not in text and " 1/τ̃_j" not in plain and "(β∇_j E + βλθ̃_j)/(2τ̃_j)" in plain
    assert (r"\dot{\tilde{w}_{j}} = - \left(\beta \nabla_{j} E + \beta \lambda \tilde{\theta}_{j} + "
            rf"\frac{{\tilde{{w}}_{{j}}}}{{{tau}}}\right) + h") in text
    assert round_trip(equation, "index") == [] and round_trip(equation, "vector") == []


def test_more_nested_sums_than_ten_letters():
    """Twelve nested contractions take twelve summation indices (shampoo_ema's order 3 nests more than
    the ten letters there were, and its index notation failed); the text reads back as written."""
    from modeq.algebra import D, g
    from modeq.printing import parse_latex
    from modeq.printing.equation import printer_for

    nested = g
    for _ in range(12):
        nested = D(nested)
    text = printer_for(gd).doprint(nested)
    assert text.count(r"\sum_") == 12 and parse_latex(text) == nested
