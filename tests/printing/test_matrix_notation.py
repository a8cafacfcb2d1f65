r"""Matrix notation (issue 16): each parameter block W as a matrix, G = \nabla_W E, H[X],
\|X\|_F, <A, B>, msign(X), D msign(X)[Y], s_W. Read by the independent reader as
hand-written meanings, and the round trip of the optimizers on parameter blocks."""

import dataclasses

import pytest
import sympy

import modeq
from modeq.algebra import ATOMS, D, g, theta
from modeq.algebra.index import BlockScale, Gradient, SlowState
from modeq.algebra.kronecker import GramStatistic, KroneckerRoot
from modeq.algebra.matrix_maps import NewtonSchulz, PolarFactor
from modeq.cli import main
from modeq.optimizers import BUILTIN, adam, muon, shampoo, shampoo_ema
from modeq.optimizers.layerwise import lamb, lars
from modeq.printing import parse_latex
from modeq.printing.reader import LatexReadError, round_trip, same_field

SB = ATOMS.block_reduction
s_W = ATOMS.intern(BlockScale("original"))
msign = muon(orthogonalizer="msign")


def truncated(equation, order):
    states = tuple(dataclasses.replace(s, terms=s.terms[: order + 1]) for s in equation.states)
    return dataclasses.replace(equation, order=order, terms=equation.terms[: order + 1], states=states)


def polar(base, *directions):
    return ATOMS.matrix_derivative(PolarFactor(), base, directions)


@pytest.mark.parametrize("text, expected", [
    (r"- G", -g),
    (r"G_{2} + \tilde{W}", ATOMS.intern(Gradient(2)) + theta),
    (r"H\left[G\right]", D(g)),
    (r"H\left[H\left[\tilde{W}\right]\right] + \nabla^{3} E\left[G, G\right]", D(D(theta)) + D(g, g)),
    # the Frobenius norm is the square root of the block sum of squares; its powers multiply
    (r"\left\lVert G\right\rVert_{F}", sympy.sqrt(SB(g**2))),
    (r"\frac{G}{\left\lVert G\right\rVert_{F}^{3}}", g / SB(g**2) ** sympy.Rational(3, 2)),
    (r"\left\lVert \frac{G}{\tilde{W}}\right\rVert_{F}^{2}", SB(g**2 / theta**2)),
    # <A, B> = tr(A^T B), the block sum of the elementwise product
    (r"\left\langle G, \tilde{W}\right\rangle", SB(g * theta)),
    (r"\left\langle H\left[G\right], 2 G\right\rangle", 2 * SB(D(g) * g)),
    (r"- \operatorname{msign}\left(G\right) s_{W}", -polar(g) * s_W),
    (r"D \operatorname{msign}\left(G\right)\left[H\left[\tilde{W}\right]\right]", polar(g, D(theta))),
    (r"D^{2} \operatorname{msign}\left(G\right)\left[G, \tilde{W}\right]", polar(g, g, theta)),
    (r"\dot{\tilde{W}} = - \operatorname{msign}\left(G\right) s^{\mathrm{match\_rms\_adamw}}_{W}",
     -polar(g) * ATOMS.intern(BlockScale("match_rms_adamw"))),
])
def test_matrix_notation_reads_as_written(text, expected):
    assert same_field(parse_latex(text, msign, "matrix"), expected)
    if text.startswith(r"\dot"):  # the left-hand side \dot{\tilde{W}} tells the notation
        assert same_field(parse_latex(text, msign), expected)


def test_newton_schulz_reads_in_matrix_notation():
    text = r"\operatorname{NS}\left(\frac{G}{\left\lVert G\right\rVert_{F}}\right)"
    assert same_field(parse_latex(text, muon, "matrix"), ATOMS.matrix_derivative(NewtonSchulz(), g / sympy.sqrt(SB(g**2)), []))


@pytest.mark.parametrize("notation, text, problem", [
    ("vector", r"\nabla^{2} E\, \nabla E + G", "not modeq's LaTeX"),  # G is no name outside matrix notation
    ("vector", r"\operatorname{msign}\left(\nabla E\right)", "matrix notation"),
    ("vector", r"\left\langle \nabla E, \tilde{\theta}\right\rangle", "matrix notation"),
    ("vector", r"\operatorname{msign}\left[\nabla E\right] s_{W}", "only there"),
    ("matrix", r"\operatorname{msign}\left(G\right) s_{B}", "only there"),
    ("matrix", r"D \operatorname{msign}\left(G\right)", "takes 1 direction"),
])
def test_unreadable_matrix_notation_names_the_problem(notation, text, problem):
    with pytest.raises(LatexReadError, match=problem):
        parse_latex(text, msign, notation)


def test_exact_muon_order_1_prints_in_matrix_notation():
    r"""f_1 of exact Muon: D msign(G)[H[msign(G) s_W]] s_W, the Hessian applied to the step."""
    text = modeq.derive(msign, order=1, values={"weight_decay": 0}).latex(notation="matrix")
    assert text.startswith(r"\dot{\tilde{W}} = - \operatorname{msign}\left(G\right) s_{W}")
    assert r"D \operatorname{msign}\left(G\right)\left[H\left[\operatorname{msign}\left(G\right) s_{W}\right]\right]" in text
    assert r"\nabla" not in text and "sum" not in text


def test_block_sums_print_as_norms_and_inner_products():
    text = modeq.derive(lars, order=1).latex(notation="matrix")
    assert r"\left\lVert \tilde{W}\right\rVert_{F}" in text and r"\left\langle G, \tilde{W}\right\rangle" in text
    assert r"\operatorname{sum}" not in text


#: The optimizers on parameter blocks, each round-tripped at orders 0-2 in matrix notation.
ON_BLOCKS = [muon, msign, lars, lamb, BUILTIN["sam"](per_layer=True), shampoo_ema, shampoo_ema(sides="one")]


@pytest.mark.parametrize("opt", ON_BLOCKS, ids=["muon", "muon-msign", "lars", "lamb", "sam-per_layer", "shampoo_ema",
                                                "shampoo_ema-one"])
def test_optimizers_on_blocks_round_trip_in_matrix_notation(opt):
    equation = modeq.derive(opt, order=2)
    for order in range(3):
        failures = round_trip(truncated(equation, order), "matrix")
        assert failures == [], str(failures[0])


def test_round_trip_with_renamed_symbols_in_matrix_notation():
    equation = modeq.derive(lars, order=1)
    symbols = {"theta": "X", "h": r"\eta", "trust": r"\tau"}
    assert r"\dot{\tilde{X}} =" in equation.latex(notation="matrix", symbols=symbols)
    assert round_trip(equation, "matrix", symbols) == []


def test_a_norm_printed_without_its_square_is_caught(monkeypatch):
    r"""\|X\|_F^2 printed as \|X\|_F: LARS's f_0 reads back as something else."""
    from modeq.printing.latex import MatrixLatexPrinter

    original = MatrixLatexPrinter._frobenius
    monkeypatch.setattr(MatrixLatexPrinter, "_frobenius", lambda self, root, exponent: original(self, root, exponent / 2))
    equation = modeq.derive(lars, order=0)
    (failure,) = round_trip(equation, "matrix")
    assert failure.order == 0


def test_a_matrix_map_printed_with_its_arguments_swapped_is_caught(monkeypatch):
    from modeq.printing import latex as printers

    equation = modeq.derive(msign, order=1)
    original = printers._matrix_head

    def swapped(definition, args, *rest):
        return original(definition, [args[1], args[0], *args[2:]] if definition.directions else args, *rest)

    monkeypatch.setattr(printers, "_matrix_head", swapped)
    (failure,) = round_trip(equation, "matrix")
    assert failure.order == 1


def test_matrix_notation_is_refused_without_parameter_blocks():
    with pytest.raises(ValueError, match="matrix notation is for optimizers on parameter blocks.*adam"):
        modeq.derive(adam, order=1).latex(notation="matrix")


def test_standalone_document_explains_the_matrix_notation():
    """The legend says what each piece printed means, and only those printed."""
    document = modeq.derive(lars, order=1).latex(notation="matrix", standalone=True)
    assert "Frobenius" in document and r"\operatorname{tr}(A^\top B)" in document and r"$G = \nabla_{W} E$" in document
    assert "msign" not in document
    document = modeq.derive(msign, order=1).latex(notation="matrix", standalone=True, symbols={"theta": "X"})
    assert r"\operatorname{msign}(V)" in document and r"$H[V]$ the $X$ block" in document and "Frobenius" not in document


def test_cli_matrix(capsys):
    assert main(["derive", "muon", "--order", "1", "--option", "orthogonalizer=msign", "--latex", "--matrix", "--check"]) == 0
    out = capsys.readouterr()
    assert out.out.startswith(r"\dot{\tilde{W}}") and "matrix notation" in out.err
    assert main(["derive", "adam", "--order", "1", "--latex", "--matrix"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "parameter blocks" in line
    assert main(["derive", "lars", "--order", "0", "--matrix"]) == 2
    assert "--matrix" in capsys.readouterr().err


def sh(base, *directions):
    """Shampoo's two-sided direction at (G, L, R) with the default eps, the reader's map without an atom table."""
    return ATOMS.matrix_derivative(KroneckerRoot(2, sympy.Rational(1, 10)), sympy.Tuple(*base), directions)


@pytest.mark.parametrize("text, expected", [
    (r"- \operatorname{Sh}\left(G, \tilde{L}, \tilde{R}\right)", lambda L, R: -sh((g, L, R))),
    (r"D \operatorname{Sh}\left(G, \tilde{L}, \tilde{R}\right)\left[\left(H\left[G\right], 0, "
     r"\operatorname{Gram}_{R}\left(G\right)\right)\right]",
     lambda L, R: sh((g, L, R), sympy.Tuple(D(g), 0, ATOMS.matrix_derivative(GramStatistic("right"), g, ())))),
])
def test_shampoo_reads_as_written(text, expected):
    states = {name: ATOMS.intern(SlowState(f"s_{name}", name)) for name in "LR"}
    assert same_field(parse_latex(text, shampoo, "matrix", states=states), expected(*states.values()))


@pytest.mark.parametrize("text, problem", [
    (r"D \operatorname{Sh}\left(G, \tilde{L}, \tilde{R}\right)\left[G\right]", "each direction of .* is a tuple of 3 blocks"),
    (r"\operatorname{Sh}\left(G\right)", "a map of 3 block"),
    (r"2 \left(G, G, G\right)", "not a factor"),
])
def test_unreadable_shampoo_names_the_problem(text, problem):
    states = {name: ATOMS.intern(SlowState(f"s_{name}", name)) for name in "LR"}
    with pytest.raises(LatexReadError, match=problem):
        parse_latex(text, shampoo, "matrix", states=states)


@pytest.mark.parametrize("opt", [shampoo, shampoo(sides="one"), shampoo(parts=2)],
                         ids=["two-sided", "one-sided", "two-sided-parts"])
def test_shampoo_round_trips_with_its_states_in_every_notation(opt):
    """The equation for (θ, L, R) at orders 0-2: the direction Sh(G, L, R) of three blocks, its
    derivatives along tuples of directions, the statistics' own equations; in parts (non-square
    blocks), Sh(G, L_0, L_1, R_0, R_1) and the parts' statistics Gram_{L,1}, Gram_{R,1}."""
    equation = modeq.derive(opt, order=2)
    text = equation.latex(notation="matrix")
    point = r"\left(G + \tilde{W} \lambda\right), \tilde{L"  # the gradient with its weight decay, the statistics
    assert text.startswith(rf"\dot{{\tilde{{W}}}} = - \operatorname{{Sh}}\left({point}")
    assert (r"\dot{\tilde{L_{1}}} =" in text) == (opt.options.get("parts") == 2)
    for order in range(3):
        for notation in ("matrix", "vector", "index"):
            failures = round_trip(truncated(equation, order), notation)
            assert failures == [], str(failures[0])
    document = equation.latex(notation="matrix", standalone=True)
    assert "Shampoo's direction" in document and "Shampoo's statistics" in document
    if opt.options.get("parts") == 2:  # the parts' equations in order (the derivation holds L1, R1, L0, R0)
        names = ("L0", "L1", "R0", "R1")
        for printed in (text, document):
            at = [printed.index(rf"\dot{{\tilde{{{n[0]}_{{{n[1]}}}}}}} =") for n in names]
            assert at == sorted(at)
        at = [str(equation).index(f"d{n}\u0303_j/dt") for n in names]
        assert at == sorted(at)


def test_numbered_states_print_in_order_in_the_places_of_numbered_states():
    """Parts of a statistic (a stem and a number) by stem, then number (L10 after L9); a state
    without a number stays where the equation holds it (schedule-free's w, tau keep their order)."""
    from types import SimpleNamespace

    from modeq.printing.notation import printed_states

    names = ["w", "R1", "tau", "L10", "L9", "R0", "L0"]
    pairs = printed_states([SimpleNamespace(name=n) for n in names], [f"terms of {n}" for n in names])
    assert [(state.name, own) for state, own in pairs] == [
        (n, f"terms of {n}") for n in ["w", "L0", "tau", "L9", "L10", "R0", "R1"]]
