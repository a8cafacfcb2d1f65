"""Plain text in the papers' notation (``print(eq)``, ``modeq derive``, ``modeq list``).

The expected lines are the published results written out by hand in the text
notation (Barrett & Dherin; Hairer–Lubich–Wanner IX.1; Ghosh et al. 2023;
"On the Implicit Bias of Adam" eq. (4); Smith et al. 2021), not output of the
printer."""

import dataclasses
import re

import pytest
import sympy

import modeq
from modeq.cli import main
from modeq.optimizers import BUILTIN, adam, gd, heavy_ball, heavy_ball_ema
from modeq.printing.text import TextPrinter, decimal, plain_docstring, plain_math, product


def lines(equation) -> dict[str, str]:
    """``{"f_0": text, ...}`` and the legend, from the printed equation."""
    out = {}
    for line in str(equation).splitlines()[2:]:
        name, _, body = line.strip().partition(" = ") if line.strip().startswith("f_") else line.strip().partition(": ")
        out[name] = body
    return out


def test_gradient_descent_is_barrett_dherin_and_hairer_lubich_wanner():
    text = lines(modeq.derive(gd, order=2))
    assert text["f_0"] == "-∇_j E"
    assert text["f_1"] == "-1/4 ∇_j‖∇E‖²"  # -(h/4) grad |grad E|^2
    # (1/3) F'F'F + (1/12) F''(F, F) with F = -grad E
    assert text["f_2"] == "-1/3 Σ_i ∇_{ji}E·Σ_k ∇_{ik}E·∇_k E - 1/12 Σ_{i,k} ∇_{jik}E·∇_i E·∇_k E"


def test_heavy_ball_is_ghosh_et_al():
    text = lines(modeq.derive(heavy_ball, order=1))
    assert text["f_0"] == "-1/(1-β) ∇_j E"
    assert text["f_1"] == "-(1+β)/(4(1-β)³) ∇_j‖∇E‖²"
    # EMA form at beta = 1/2: -(1 + beta)/(4 (1 - beta)) = -3/4
    assert lines(modeq.derive(heavy_ball_ema, order=1, values={"beta": 0.5}))["f_1"] == "-3/4 ∇_j‖∇E‖²"


def test_adam_is_equation_4_of_the_paper():
    text = lines(modeq.derive(adam, order=1))
    assert text["f_0"] == "-∇_j E/√(|∇_j E|² + ε)"
    # (h/2){(1+β)/(1-β) - (1+ρ)/(1-ρ) + (1+ρ)/(1-ρ) ε/R²} ∇_j‖∇E‖_{1,ε} / R, (1+β)/(1-β) - (1+ρ)/(1-ρ) = 2(β-ρ)/((1-β)(1-ρ))
    assert text["f_1"] == "-(2(β-ρ)/((1-β)(1-ρ)) + (1+ρ)/(1-ρ)·ε/(|∇_j E|² + ε))/(2√(|∇_j E|² + ε)) ∇_j‖∇E‖₁,ε"
    assert "‖∇E‖₁,c = Σ_i √(|∇_i E|² + c)" in text["notation"]


def test_shuffled_epoch_is_smith_et_al():
    # E + h/(4m) Σ_k ‖∇E_k‖² with m = 2
    text = lines(modeq.derive_epoch(gd, 2, order=1))
    assert text["f_0"] == "-(∇_j E₁ + ∇_j E₂)/2"
    assert text["f_1"] == "-1/8 ∇_j‖∇E₁‖² - 1/8 ∇_j‖∇E₂‖²"
    assert "E_b the loss of batch b" in text["notation"]


def test_header_values_and_legend_name_only_what_is_used():
    out = str(modeq.derive(adam, order=1, values={"beta": 0.9, "eps": 1e-8})).splitlines()
    assert out[0] == "modified equation of adam (stationary regime, order 1, β = 0.9, ε = 1e-8):"
    assert out[1] == "  dθ̃_j/dt = f_0 + h f_1"
    assert "‖∇E‖_{1,1e-8}" in out[3]
    first = lines(modeq.derive(gd, order=1))["notation"]
    assert "‖∇E‖² = Σ_i |∇_i E|²" in first and "∇_{ji}E" not in first and "Σ_i sums" not in first
    second = lines(modeq.derive(gd, order=2))["notation"]
    assert "∇_{ji}E = ∂²E/∂θ_j∂θ_i" in second and "Σ_i sums over all parameters" in second
    assert str(modeq.derive(gd, order=3)).count("\n  notation: ") == 1


@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_no_sympy_syntax_in_the_text(name):
    text = str(modeq.derive(BUILTIN[name], order=1))
    for raw in ("D_1[", "S[", "sqrt", "**", "Abs", "g_", "*", "theta", "beta", "eps", "rho"):
        assert raw not in text, (raw, text)


def test_user_hyperparameter_names_and_the_ademamix_like_example():
    """The issue's example: the (1+α) of f_0 is printed, λθ̃_j is one term."""
    from sympy import sqrt

    from modeq.optimizers.base import nonnegative, optimizer, positive
    from modeq.optimizers.language import ema, grad, theta

    @optimizer(alpha=positive(5.0, r"\alpha"), eps=positive(1e-8, r"\varepsilon"), wd=nonnegative(0.0, r"\lambda"),
               k=positive(1.0, r"\mathfrak{k}_{\text{big}}"))
    def ademamix_like(alpha, eps, wd, k):
        g = grad()
        return -((1 + alpha) * g / (sqrt(ema(g**2, 0)) + eps) + wd * theta) * k

    text = lines(modeq.derive(ademamix_like, order=0))["f_0"]
    assert "(1+α)∇_j E/(|∇_j E| + ε)" in text and "λθ̃_j" in text
    assert "k" in text and "mathfrak" not in text  # a name with no short Unicode form is kept as it is


def test_plain_math():
    assert plain_math(r"\hat m_{n+1}/\sqrt{\hat\nu_{n+1}+\varepsilon}") == "m̂_{n+1}/√(ν̂_{n+1}+ε)"
    assert plain_math(r"\beta_1") == "β₁"
    assert plain_math(r"\frac{1}{1-\beta^{n+1}}") == "1/(1-βⁿ⁺¹)"
    assert plain_math(r"\|\nabla E\|^2 \to 0") == "‖∇E‖² → 0"
    assert plain_math(r"\left\lvert x\right\rvert_{1,\varepsilon}") == "|x|_{1,ε}"


def test_decimals_stay_decimals():
    assert [decimal(sympy.Rational(x)) for x in ("1/100000000", "9/10", "999/1000", "100000000", "3/4", "19")] == [
        "1e-8", "0.9", "0.999", "1e8", None, None]


def test_docstrings_as_text():
    doc = r"""Adam: :math:`\theta_{n+1} = \theta_n - h\,\hat m_{n+1}/\sqrt{\hat\nu_{n+1}+\varepsilon}`
    with :func:`~modeq.optimizers.language.ema` and ``bias_correction``.

    * first item,
      continued
    * second

    .. math:: \tilde E = E + \frac{h}{4}\|\nabla E\|^2
    """
    text = plain_docstring(doc, width=60)
    assert ":math:" not in text and "\\" not in text and "``" not in text
    assert "θ_{n+1} = θ_n - h m̂_{n+1}/√(ν̂_{n+1}+ε)" in text  # a formula is never broken over lines
    assert "with ema()" in text and "bias_correction." in text
    assert "• first item, continued\n• second" in text
    assert "\n    E\u0303 = E + h/4 ‖∇E‖²" in text


def test_modeq_list_reads_as_text(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert ":math:" not in out and "\\" not in out and "``" not in out
    # whole docstrings, not their first lines
    assert "ν̂ = ν/(1-ρⁿ⁺¹)" in out and "m_{n+1} = β₂ m_n + (1-β₂)∇E (m₀ = 0)." in out
    assert "    beta = β in [0, 1), default 0.9: momentum / first-moment decay" in out
    # prose wraps at 88 columns; a formula is never broken, so a line may run a little longer
    assert max(len(line) for line in out.splitlines()) <= 110
    # a math directive: each equation on its own line (Adan's seven)
    adan = out[out.index("\nadan\n"):]
    assert "\n        D_n = √(v_{n+1}/(1-β₃ⁿ⁺¹)) + ε,\n" in adan and "(m̂_{n+1} + β₂ d̂_{n+1})/D_n" in adan


def test_the_printer_takes_the_atoms_of_the_equation():
    """Atom lookups go through the equation's table (modeq.quantities.atoms_of)."""
    from modeq.algebra import ATOMS, g

    class Table:
        def __init__(self):
            self.looked_up = []

        def __getattr__(self, name):
            return getattr(ATOMS, name)

        def definition(self, symbol):
            self.looked_up.append(symbol)
            return ATOMS.definition(symbol)

    table = Table()
    assert TextPrinter(gd, table).doprint(-g) == "-∇_j E" and g in table.looked_up


def test_exact_regime_powers_read_as_powers():
    """Heavy ball from rest: f_0^(n) = -(Σ_{k≤n} β^k) ∇_j E = -(1-β^(n+1))/(1-β) ∇_j E, with
    β·β^n combined into βⁿ⁺¹ and like terms collected."""
    text = lines(modeq.derive(heavy_ball, order=1, regime="exact"))
    assert text["f_0"] == "-(1-βⁿ⁺¹)/(1-β) ∇_j E"
    assert "β^" not in text["f_1"] and "ββ" not in text["f_1"]


def test_sums_read_one_minus_beta():
    """AdaBelief's leading term holds sqrt(-1/(-1 + β₂)) in SymPy's form; the text reads 1/(1-β₂)."""
    f0 = lines(modeq.derive(BUILTIN["adabelief"], order=0))["f_0"]
    assert "-1+" not in f0 and ("√(1/(1-β₂))" in f0 or "1/√(1-β₂)" in f0), f0


def test_a_schedule_is_a_named_function_of_time_and_words_do_not_run_together():
    """The warm-up cosine schedule prints as η(t), η'(t) with its definition on a line of its own;
    a word beside a function name reads floor·cos(πt/T), not floorcos."""
    equation = modeq.derive(BUILTIN["adam_warmup_cosine"], order=1)
    text = str(equation)
    assert "η'(t)" in text and "\n  where η(t) = " in text and "cos(" not in text.split("where")[0]
    assert product(["floor", "cos(πt/T)"]) == "floor·cos(πt/T)"
    assert "λθ̃_j" in str(modeq.derive(BUILTIN["adamw"], order=0))  # single letters still side by side


@pytest.mark.parametrize("name, symbol, word, used", [("adam_warmup_cosine", "η_{min}", "floor", "(1-η_{min})·"),
                                                      ("ademamix_warmup", "T_{αβ₃}", "warmup", "/T_{αβ₃}·")])
def test_a_subscripted_hyperparameter_prints_as_its_symbol(name, symbol, word, used):
    """η_{min} (the cosine's floor) and T_{αβ₃} (AdEMAMix's warm-up time) are one symbol each, in the
    equation, its definitions of functions of time and the written-out form: not their Python names."""
    equation = modeq.derive(BUILTIN[name], order=1)
    for text in (str(equation), str(dataclasses.replace(equation, time_functions=None))):
        assert symbol in text and word not in text.split("\n", 1)[1], text
    assert used in str(equation)  # one symbol: no parentheses under a fraction bar
