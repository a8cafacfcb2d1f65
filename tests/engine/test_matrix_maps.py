"""Matrix maps of parameter blocks (issue 16, part 3: Muon): Newton–Schulz as one
operator node, its Fréchet derivatives by jets, the derivation's atoms, errors.

The jets are checked against finite differences of the plain NumPy map, and
the map against the polar factor it approximates (SVD), neither of which
shares code with the jets."""

import numpy as np
import pytest
import sympy

import modeq
from modeq.algebra.index import IndexAlgebra, MatrixDerivative
from modeq.algebra.matrix_maps import NewtonSchulz, Jet
from modeq.description import DescriptionError
from modeq.optimizers import muon
from modeq.optimizers.language import grad, newton_schulz, shape_scale

NS = NewtonSchulz()
RNG = np.random.default_rng(3)
X = RNG.normal(size=(2, 3))
X /= np.linalg.norm(X)
Y, Z = RNG.normal(size=(2, 3)), RNG.normal(size=(2, 3))


def test_newton_schulz_approximates_the_polar_factor():
    u, s, vt = np.linalg.svd(X, full_matrices=False)
    out = NS(X)
    singular = np.linalg.svd(out, compute_uv=False)
    assert np.all((singular > 0.6) & (singular < 1.3))  # Muon's steps leave singular values in about [0.7, 1.2]
    # the same singular vectors as the polar factor U V^T
    assert np.allclose(u.T @ out @ vt.T, np.diag(np.diag(u.T @ out @ vt.T)), atol=1e-12)


def test_tall_and_wide_blocks_are_the_same_map():
    assert np.allclose(NS(X.T), NS(X).T, atol=1e-13)


def test_first_derivative_matches_finite_differences():
    e = 1e-6
    expected = (NS(X + e * Y) - NS(X - e * Y)) / (2 * e)
    assert np.abs(NS.derivative(X, [Y]) - expected).max() < 1e-6 * np.abs(expected).max()


def mixed_difference(e):
    return (NS(X + e * Y + e * Z) - NS(X + e * Y - e * Z) - NS(X - e * Y + e * Z) + NS(X - e * Y - e * Z)) / (4 * e * e)


def test_second_derivative_matches_finite_differences():
    # the map has degree 5^5: its fourth derivatives are large, so extrapolate (Richardson, error O(e^4))
    expected = (4 * mixed_difference(1e-4) - mixed_difference(2e-4)) / 3
    got = NS.derivative(X, [Y, Z])
    assert np.abs(got - expected).max() < 1e-5 * np.abs(expected).max()
    assert np.allclose(got, NS.derivative(X, [Z, Y]), atol=1e-12)  # symmetric


def test_jets_run_on_sympy_matrices_exactly():
    exact = sympy.Matrix(2, 2, [sympy.Rational(1, 2), 0, sympy.Rational(1, 4), sympy.Rational(1, 3)])
    direction = sympy.Matrix(2, 2, [1, 2, 0, -1])
    two = NewtonSchulz(steps=2)
    value = two.derivative(exact, [direction])
    assert all(v.is_Rational for v in value)
    numeric = two.derivative(np.array(exact, dtype=float), [np.array(direction, dtype=float)])
    assert np.allclose(np.array(value, dtype=float), numeric, atol=1e-14)
    assert isinstance(two(Jet({frozenset(): exact}, (2, 2))), Jet)


@pytest.fixture(scope="module")
def first_order():
    return modeq.derive(muon, order=1)


def test_the_derivation_keeps_newton_schulz_as_one_node(first_order):
    kinds = {len(d.directions) for d in (first_order.atoms.definition(s) for s in first_order.atoms.atoms(first_order.terms))
             if isinstance(d, MatrixDerivative)}
    assert kinds == {0, 1}  # NS(X) in f_0, DNS(X)[Y] in f_1: never the polynomial
    assert all(len(str(t)) < 3000 for t in first_order.terms)


def test_directions_are_linear_over_block_constants():
    alg = IndexAlgebra()
    g, scale = alg.grad(), alg.block_scale("original")
    norm = alg.block_sum(g**2)
    base = g / sympy.sqrt(norm)
    assert alg.matrix_map(NS, base, [3 * scale * norm * g]) == 3 * scale * norm * alg.matrix_map(NS, base, [g])
    assert alg.matrix_map(NS, base, [g, alg.theta()]) == alg.matrix_map(NS, base, [alg.theta(), g])
    assert alg.is_zero(alg.lie_along(alg.matrix_map(NS, base), alg.zero))


def test_lie_derivative_of_a_matrix_map_is_the_chain_rule():
    alg = IndexAlgebra()
    g, f = alg.grad(), alg.theta()
    lie = alg.lie_along(alg.matrix_map(NS, g), f)
    assert lie == alg.matrix_map(NS, g, [alg.contract([f])])


@pytest.mark.parametrize("params, message", [
    ("W:2x3,b:2", "newton_schulz acts on matrix blocks, but the block b has shape (2,)"),
    ("x,y", "the parameters are plain symbols (no matrix block)"),
])
def test_matrix_operations_need_matrix_blocks(tmp_path, params, message):
    loss = "sum(W**2)/2 + sum(b**2)" if "W" in params else "x**2 + y**2"
    theta0 = [0.1] * (8 if "W" in params else 2)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        modeq.iterates(muon, loss, params, theta0, 0.01, 3, cache_dir=tmp_path)


def test_language_errors_are_one_line():
    with pytest.raises(DescriptionError, match="steps must be a whole number from 1 to 99"):
        newton_schulz(grad(), steps=0)
    with pytest.raises(DescriptionError, match="coefficients must be three numbers"):
        newton_schulz(grad(), coefficients=(1, 2))
    with pytest.raises(DescriptionError, match="the rule must be one of original, match_rms_adamw"):
        shape_scale("none")
    with pytest.raises(DescriptionError, match="adjust_lr_fn must be one of"):
        muon(adjust_lr_fn="bad").update()


def test_traced_jet_code_equals_the_jets():
    """The compiled derivative (traced programs run by the block driver, here as plain
    NumPy) equals the Python jets, on a wide and a tall block side by side."""
    from modeq.algebra import matrix_trace

    namespace = {"np": np, "numba": type("numba", (), {"njit": staticmethod(lambda **_: (lambda f: f))})}
    exec("\n".join(matrix_trace.constants(NS)) + "".join(matrix_trace.source(f, "@numba.njit()")
                                                         for f in matrix_trace.JET_FUNCTIONS), namespace)
    shape = X.shape
    layout = [("A", shape, list(range(X.size))), ("B", shape[::-1], list(range(X.size, 2 * X.size)))]
    index, blocks = matrix_trace.layout_arrays(layout)
    for k in (0, 1, 2):
        args = np.array([np.concatenate([m.ravel(), m.T.ravel()]) for m in [X, Y, Z][:k + 1]])
        out = np.full(2 * X.size, np.nan)
        exec(matrix_trace.call(NS, "args", "out", "index", "blocks"),
             {**namespace, "args": args, "out": out, "index": np.array(index), "blocks": np.array(blocks)})
        for part, block, directions in ((out[:X.size], X, [Y, Z][:k]), (out[X.size:], X.T, [Y.T, Z.T][:k])):
            expected = NS.derivative(block, directions)
            assert np.abs(part.reshape(block.shape) - expected).max() < 1e-12 * max(1, np.abs(expected).max())


def test_the_terms_print_in_matrix_notation(first_order):
    text = str(first_order)
    assert "NS[(∇_i E/√(Σ_{k∈B(i)} |∇_k E|² + ε²))]_j·s(B(j))" in text
    assert "DNS[" in text
    latex = first_order.latex()
    assert r"D \operatorname{NS}\left[\frac{\nabla_{i} E}" in latex and r"s_{B(j)}" in latex
    assert r"\operatorname{NS}\left[\frac{\nabla E}" in first_order.latex(notation="vector")
