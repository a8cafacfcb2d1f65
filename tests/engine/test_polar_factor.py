"""The exact polar factor msign (issue 16: Muon's second form) and the inverse
roots behind it (modeq.algebra.spectral): jets against finite differences of
the SVD's U Vᵀ and of eigh's roots (which share no code with the jets), the
first derivative against its closed (Daleckii–Krein) form, the traced program
of compiled code against the jets, singular blocks refused with the block named."""

import numpy as np
import pytest
import sympy

import modeq
from modeq.algebra import matrix_trace
from modeq.algebra.matrix_maps import Jet, PolarFactor, inverse_root
from modeq.algebra.spectral import SingularBlock
from modeq.blocks import as_blocks
from modeq.description import DescriptionError
from modeq.evaluation import Evaluator, NumpyBackend, atom_table, constants_for
from modeq.optimizers import muon
from modeq.optimizers.language import grad, msign

MSIGN = PolarFactor()
RNG = np.random.default_rng(5)


def polar(x):
    u, _, vt = np.linalg.svd(x, full_matrices=False)
    return u @ vt


def root(a, power):
    lam, q = np.linalg.eigh(a)
    return q @ np.diag(lam**power) @ q.T


def derivative_by_differences(f, x, directions, e=1e-5):
    """D^k f(X)[Y_1..Y_k] by central differences of D^{k-1} along the last direction."""
    *first, last = directions
    return (f(x + e * last, first) - f(x - e * last, first)) / (2 * e)


@pytest.mark.parametrize("shape", [(2, 3), (3, 2), (3, 3)])
def test_msign_and_its_jets_match_the_svd(shape):
    x = RNG.normal(size=shape)
    ys = [RNG.normal(size=shape) for _ in range(3)]
    assert np.abs(MSIGN(x) - polar(x)).max() < 1e-14
    assert np.abs(MSIGN(x.T) - MSIGN(x).T).max() < 1e-14
    for k in (1, 2, 3):
        lower = (lambda z, d: polar(z)) if k == 1 else (lambda z, d: MSIGN.derivative(z, d))
        expected = derivative_by_differences(lower, x, ys[:k])
        got = MSIGN.derivative(x, ys[:k])
        assert np.abs(got - expected).max() < 1e-7 * np.abs(got).max()
    assert np.abs(MSIGN.derivative(x, ys[:2]) - MSIGN.derivative(x, ys[1::-1])).max() < 1e-12


@pytest.mark.parametrize("shape", [(3, 3), (4, 2)])
def test_first_derivative_is_the_daleckii_krein_formula(shape):
    """D msign(M)[Y] = U K Vᵀ + (I − UUᵀ) Y V Σ⁻¹ Vᵀ, C = UᵀYV, K_ij = (C_ij − C_ji)/(σ_i + σ_j)."""
    x, y = RNG.normal(size=shape), RNG.normal(size=shape)
    u, s, vt = np.linalg.svd(x, full_matrices=False)
    c = u.T @ y @ vt.T
    expected = u @ ((c - c.T) / (s[:, None] + s[None, :])) @ vt
    expected += (np.eye(shape[0]) - u @ u.T) @ y @ vt.T @ np.diag(1 / s) @ vt
    assert np.abs(MSIGN.derivative(x, [y]) - expected).max() < 1e-13


@pytest.mark.parametrize("q, eps", [(1, 0.0), (2, 0.0), (2, 0.3)])
def test_inverse_roots_and_their_jets(q, eps):
    a = RNG.normal(size=(3, 3))
    a = a @ a.T + 0.2 * np.eye(3)
    b, c = (lambda m: m + m.T)(RNG.normal(size=(3, 3))), (lambda m: m + m.T)(RNG.normal(size=(3, 3)))
    power = -1 / 2**q

    def f(z, directions):
        if not directions:
            return root(z + eps * np.eye(3), power)
        parts = {frozenset(): z, **{frozenset((i,)): d for i, d in enumerate(directions)}}
        return Jet(parts, (3, 3)).inverse_root(q, eps).parts[frozenset(range(len(directions)))]

    assert np.abs(inverse_root(a, q, eps) - f(a, [])).max() < 1e-14
    for directions in ([b], [b, c]):
        got = f(a, directions)
        assert np.abs(got - derivative_by_differences(f, a, directions)).max() < 1e-7 * np.abs(got).max()


def compiled_namespace(fmap):
    """The traced programs and the interpreter's source, run as plain Python (numba's jit a no-op)."""
    namespace = {"np": np, "numba": type("numba", (), {"njit": staticmethod(lambda **_: (lambda f: f))})}
    exec("\n".join(matrix_trace.constants(fmap)) + "".join(matrix_trace.source(f, "@numba.njit()")
                                                           for f in matrix_trace.functions(fmap)), namespace)
    return namespace


def run_traced(namespace, fmap, blocks_of_rows):
    """D^kF of each block of the rows (X, Y_1..Y_k), blocks given as matrices, by the block driver."""
    sizes = [m.size for m in blocks_of_rows[0]]
    starts = np.cumsum([0] + sizes)
    layout = [(f"B{b}", m.shape, list(range(starts[b], starts[b + 1]))) for b, m in enumerate(blocks_of_rows[0])]
    index, blocks = matrix_trace.layout_arrays(layout)
    args = np.array([np.concatenate([m.ravel() for m in row]) for row in blocks_of_rows])
    out = np.full(starts[-1], np.nan)
    exec(matrix_trace.call(fmap, "args", "out", "index", "blocks"),
         {**namespace, "args": args, "out": out, "index": np.array(index), "blocks": np.array(blocks)})
    return [out[starts[b]:starts[b + 1]].reshape(m.shape) for b, m in enumerate(blocks_of_rows[0])]


@pytest.mark.parametrize("fmap", [MSIGN, PolarFactor(sympy.Rational(1, 10))], ids=["exact", "eps"])
def test_traced_code_equals_the_jets(fmap):
    namespace = compiled_namespace(fmap)
    rows = [[RNG.normal(size=(2, 3)), RNG.normal(size=(3, 2))] for _ in range(3)]
    for k in (0, 1, 2):
        got = run_traced(namespace, fmap, rows[:k + 1])
        for b, block in enumerate(rows[0]):
            expected = fmap.derivative(block, [row[b] for row in rows[1:k + 1]])
            assert np.abs(got[b] - expected).max() < 1e-12 * max(1, np.abs(expected).max())


def test_a_singular_block_is_refused_with_the_block_named():
    x = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0]])  # rank one
    with pytest.raises(SingularBlock, match="rank-deficient.*msign\\(x, eps=1e-8\\)"):
        MSIGN(x)
    eps = 1e-8
    expected = root(x @ x.T + eps * np.eye(2), -0.5) @ x  # the regularized form is defined there
    assert np.abs(PolarFactor(sympy.Rational(1, 10**8))(x) - expected).max() < 1e-6 * np.abs(expected).max()
    with pytest.raises(ValueError, match=r"the matrix block 2 of the parameters \(3x2\) is rank-deficient here"):
        run_traced(compiled_namespace(MSIGN), MSIGN, [[RNG.normal(size=(2, 3)), np.zeros((3, 2))]])
    with pytest.raises(ValueError, match="no closed form in the components"):
        MSIGN.derivative(sympy.Matrix([[1, 2], [3, 5]]), [])


def test_a_zero_gradient_block_is_refused_where_the_field_is_evaluated():
    blocks = as_blocks({"W": (2, 2)})
    loss = sum(w**2 for w in blocks.values["W"]) / 2
    eq = modeq.derive(muon(orthogonalizer="msign"), order=0)
    evaluator = Evaluator(eq.terms, atom_table(eq), NumpyBackend(loss, blocks.params), constants_for(eq))
    theta = np.array([1.0, 0.5, 0.0, 2.0])
    (f0,) = evaluator(theta)  # -lambda theta - s U V^T, the gradient theta, lambda = 0.1, s = 1 for a square block
    assert np.abs(f0 - (-0.1 * theta - polar(theta.reshape(2, 2)).ravel())).max() < 1e-14
    with pytest.raises(SingularBlock, match=r"the matrix block W \(2x2\) is rank-deficient here"):
        evaluator(np.zeros(4))


def test_language_errors_are_one_line():
    with pytest.raises(DescriptionError, match="msign: eps must be a number >= 0"):
        msign(grad(), eps=-1)
    with pytest.raises(DescriptionError, match="orthogonalizer must be one of newton_schulz, msign"):
        muon(orthogonalizer="svd").update()
