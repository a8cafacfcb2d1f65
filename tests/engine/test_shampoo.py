"""Shampoo (issue 16): its maps of several blocks (modeq.algebra.kronecker) against
finite differences of eigh's roots, which share no code with the jets; the traced
program of compiled code against the jets; the packed statistics; the derived
terms of orders 0-1 against backward error analysis by hand; one-line refusals."""

import numpy as np
import pytest
import sympy

import modeq
from modeq.algebra.kronecker import GramStatistic, KroneckerRoot
from modeq.algebra.matrix_maps import check_blocks, on_blocks
from modeq.algebra.spectral import SingularBlock
from modeq.blocks import as_blocks, block_layout
from modeq.description import DescriptionError
from modeq.optimizers import shampoo, shampoo_ema
from modeq.optimizers.language import grad, gram, kronecker_root

from test_polar_factor import compiled_namespace, derivative_by_differences, root, run_traced

RNG = np.random.default_rng(16)
EPS = sympy.Rational(1, 10)
TWO_SIDED, ONE_SIDED = KroneckerRoot(2, EPS), KroneckerRoot(1, EPS)
IN_PARTS = KroneckerRoot(2, EPS, 2)  # each statistic in two states: any block up to 2:1


def spd(n):
    a = RNG.normal(size=(n, n))
    return a @ a.T + 0.3 * np.eye(n)


def symmetric(n):
    a = RNG.normal(size=(n, n))
    return a + a.T


def pack(m, shape):
    """An m x m (or n x n) statistic in the block's shape, as the paper's E-embedding."""
    out = np.zeros(shape)
    out[:m.shape[0], :m.shape[1]] = m
    return out


def two_sided(x, a, b):
    return root(a + 0.1 * np.eye(len(a)), -0.25) @ x @ root(b + 0.1 * np.eye(len(b)), -0.25)


def test_the_statistics_are_packed_gram_matrices():
    x = RNG.normal(size=(2, 3))
    assert np.abs(GramStatistic("small")(x) - pack(x @ x.T, (2, 3))).max() < 1e-15
    assert np.abs(GramStatistic("small")(x.T) - pack(x @ x.T, (3, 2))).max() < 1e-15  # the tall block's XᵀX
    square = RNG.normal(size=(3, 3))
    assert np.abs(GramStatistic("left")(square) - square @ square.T).max() < 1e-14
    assert np.abs(GramStatistic("right")(square) - square.T @ square).max() < 1e-14


def parts(m, shape, k=2):
    """A statistic in ``k`` parts of the block's shape: columns c·n.. of L (rows c·m.. of R), by slicing."""
    rows, cols = shape
    out = []
    for c in range(k):
        part = np.zeros(shape)
        if len(m) == rows:  # L E_c: the columns c*cols .. c*cols + cols - 1 of L
            block = m[:, c * cols:(c + 1) * cols]
            part[:, :block.shape[1]] = block
        else:  # F_c R: the rows c*rows .. of R
            block = m[c * rows:(c + 1) * rows, :]
            part[:block.shape[0], :] = block
        out.append(part)
    return out


@pytest.mark.parametrize("shape", [(3, 2), (2, 3), (5, 2), (2, 2)])
def test_statistics_in_parts_are_the_gram_matrices_sliced(shape):
    """GramL part c is G Gᵀ E_c (the columns c·n.. of G Gᵀ), GramR part c is F_c GᵀG; they add back up."""
    x = RNG.normal(size=shape)
    k = -(-max(shape) // min(shape))
    for side, m in (("left", x @ x.T), ("right", x.T @ x)):
        got = [GramStatistic(side, c)(x) for c in range(k + 1)]  # one part more than needed: zero
        assert all(np.abs(a - b).max() < 1e-14 for a, b in zip(got, parts(m, shape, k + 1)))
        assert np.abs(got[-1]).max() == 0


@pytest.mark.parametrize("shape", [(3, 2), (2, 3), (2, 2)])
def test_two_sided_in_parts_is_the_two_sided_root(shape):
    x, a, b = RNG.normal(size=shape), spd(shape[0]), spd(shape[1])
    got = IN_PARTS(x, *parts(a, shape), *parts(b, shape))
    assert np.abs(got - two_sided(x, a, b)).max() < 1e-13


def test_two_sided_in_parts_jets_match_differences():
    shape = (3, 2)
    x, a, b = RNG.normal(size=shape), spd(3), spd(2)
    point = (x, *parts(a, shape), *parts(b, shape))
    y, c, d = RNG.normal(size=shape), symmetric(3), symmetric(2)
    direction = (y, *parts(c, shape), *parts(d, shape))
    e = 1e-5
    expected = (two_sided(x + e * y, a + e * c, b + e * d) - two_sided(x - e * y, a - e * c, b - e * d)) / (2 * e)
    got = IN_PARTS.derivative(point, [direction])
    assert np.abs(got - expected).max() < 1e-7 * np.abs(got).max()


@pytest.mark.parametrize("shape", [(2, 3), (3, 2)])
def test_one_sided_roots_the_smaller_side(shape):
    x = RNG.normal(size=shape)
    small = min(shape)
    s = spd(small)
    expected = root(s + 0.1 * np.eye(small), -0.5)
    expected = expected @ x if shape[0] <= shape[1] else x @ expected
    assert np.abs(ONE_SIDED(x, pack(s, shape)) - expected).max() < 1e-13


def test_two_sided_jets_match_differences_of_eigh_in_every_slot():
    x, a, b = RNG.normal(size=(3, 3)), spd(3), spd(3)
    directions = [(RNG.normal(size=(3, 3)), symmetric(3), symmetric(3)) for _ in range(2)]
    assert np.abs(TWO_SIDED(x, a, b) - two_sided(x, a, b)).max() < 1e-13

    def f(point, ds):
        return two_sided(*point) if not ds else TWO_SIDED.derivative(point, ds)

    def shifted(point, d, e):
        return tuple(p + e * q for p, q in zip(point, d))

    for k in (1, 2):
        *first, last = directions[:k]
        e = 1e-5
        expected = (f(shifted((x, a, b), last, e), first) - f(shifted((x, a, b), last, -e), first)) / (2 * e)
        got = TWO_SIDED.derivative((x, a, b), directions[:k])
        assert np.abs(got - expected).max() < 1e-7 * np.abs(got).max()
    # symmetric in the directions, and evaluate() reads the flat blocks in the order flatten() writes them
    swapped = TWO_SIDED.derivative((x, a, b), directions[::-1])
    assert np.abs(TWO_SIDED.derivative((x, a, b), directions) - swapped).max() < 1e-12
    flat = TWO_SIDED.flatten((x, a, b), directions)
    assert np.abs(TWO_SIDED.evaluate(*flat) - swapped).max() < 1e-12


def test_one_sided_jets_match_differences():
    x, s = RNG.normal(size=(2, 3)), pack(spd(2), (2, 3))
    y, c = RNG.normal(size=(2, 3)), pack(symmetric(2), (2, 3))
    expected = derivative_by_differences(lambda z, d: ONE_SIDED(x, z), s, [c])  # along the statistic
    expected += derivative_by_differences(lambda z, d: ONE_SIDED(z, s), x, [y])  # along the block
    got = ONE_SIDED.derivative((x, s), [(y, c)])
    assert np.abs(got - expected).max() < 1e-7 * np.abs(got).max()


@pytest.mark.parametrize("fmap, shapes", [(TWO_SIDED, [(2, 2), (3, 3)]), (ONE_SIDED, [(2, 3), (3, 2)]),
                                          (GramStatistic("small"), [(2, 3), (3, 2)]),
                                          (IN_PARTS, [(3, 2), (2, 3), (2, 2)]),
                                          (GramStatistic("left", 1), [(3, 2), (2, 3)]),
                                          (GramStatistic("right", 1), [(3, 2), (2, 3)])],
                         ids=["two", "one", "gram", "parts", "gram-left-1", "gram-right-1"])
def test_traced_code_equals_the_jets(fmap, shapes):
    """The compiled interpreter with several input blocks and the EYE instruction (shifted for the
    parts), as plain Python."""
    namespace = compiled_namespace(fmap)

    def lane(slot, shape):
        if slot == 0:
            return RNG.normal(size=shape)
        if fmap is IN_PARTS:  # the parts of L (slots 1, 2) and of R (slots 3, 4) at a point or along a direction
            rows, cols = shape
            size = rows if slot <= 2 else cols
            return parts(spd(size), shape)[(slot - 1) % 2]
        return pack(spd(min(shape)) if shape[0] == shape[1] or fmap.arity == 2 else symmetric(min(shape)), shape)

    rows = [[lane(slot, shape) for shape in shapes] for _ in range(3) for slot in range(fmap.arity)]
    a = fmap.arity
    for k in (0, 1, 2):
        got = run_traced(namespace, fmap, rows[:(k + 1) * a])
        for b in range(len(shapes)):
            blocks = [row[b] for row in rows[:(k + 1) * a]]
            expected = fmap.evaluate(*blocks)
            assert np.abs(got[b] - expected).max() < 1e-12 * max(1, np.abs(expected).max())


def test_orders_0_and_1_are_backward_error_analysis_by_hand():
    r"""θ' = θ - h Sh(g, L + h GramL(g), R + h GramR(g)), L' = L + h GramL(g): the map's
    h² coefficient -DSh[(0, GramL, GramR)] minus half the flow's L_F f_0 with
    L_F Sh = DSh[(D_1[f_0], GramL, GramR)], f_0 = -Sh, gives
    f_1 = -½DSh[(0, GramL, 0)] - ½DSh[(0, 0, GramR)] - ½DSh[(D_1[Sh], 0, 0)], and
    f^L_1 = -½ L_F GramL(g) = ½ DGramL(g)[D_1[Sh]]."""
    eq = modeq.derive(shampoo, order=1, values={"weight_decay": 0})
    atoms = eq.atoms
    g, zero = sympy.Symbol("g"), sympy.S.Zero
    left, right = (s.value for s in eq.states)
    fmap = KroneckerRoot(2, sympy.Rational(1, 10))  # the default eps = 0.1
    point = (g, left, right)
    sh = atoms.matrix_derivative(fmap, point, ())
    gram_l = atoms.matrix_derivative(GramStatistic("left"), g, ())
    gram_r = atoms.matrix_derivative(GramStatistic("right"), g, ())
    hess = atoms.contraction([sh])
    expected = -(atoms.matrix_derivative(fmap, point, [(zero, gram_l, zero)])
                 + atoms.matrix_derivative(fmap, point, [(zero, zero, gram_r)])
                 + atoms.matrix_derivative(fmap, point, [(hess, zero, zero)])) / 2
    assert eq.terms[0] == -sh
    assert sympy.expand(eq.terms[1] - expected) == 0
    assert [s.terms[0] for s in eq.states] == [gram_l, gram_r]
    assert sympy.expand(eq.states[0].terms[1] - atoms.matrix_derivative(GramStatistic("left"), g, [hess]) / 2) == 0


@pytest.mark.parametrize("sides, parts, states", [("both", 1, 2), ("one", 1, 1), ("both", 2, 4)])
def test_order_2_derives_in_seconds(sides, parts, states):
    eq = modeq.derive(shampoo(sides=sides, parts=parts), order=2)
    assert len(eq.terms) == 3 and all(t != 0 for t in eq.terms) and len(eq.states) == states


def test_statistics_in_parts_give_each_part_its_own_equation():
    """With parts=2 the direction is Sh(g, L0, L1, R0, R1) and each part moves by its Gram part at order 0."""
    eq = modeq.derive(shampoo(parts=2), order=0, values={"weight_decay": 0})
    g, atoms = sympy.Symbol("g"), eq.atoms
    by_name = {str(s.name): s for s in eq.states}
    assert set(by_name) == {"L0", "L1", "R0", "R1"}
    point = (g, *(by_name[n].value for n in ("L0", "L1", "R0", "R1")))
    assert eq.terms[0] == -atoms.matrix_derivative(IN_PARTS, point, ())
    for name, side, part in (("L0", "left", 0), ("L1", "left", 1), ("R0", "right", 0), ("R1", "right", 1)):
        assert by_name[name].terms[0] == atoms.matrix_derivative(GramStatistic(side, part), g, ())


def test_a_singular_preconditioner_is_refused_with_the_block_named():
    """eps = 0 and a rank-one statistic (the first step's G Gᵀ of a rank-one gradient): the
    NumPy evaluation and the compiled interpreter name the block and suggest eps > 0."""
    exact = KroneckerRoot(2, sympy.Integer(0))
    x = np.array([[1.0, 2.0], [2.0, 4.0]])
    layout = block_layout(as_blocks({"V": (2, 2), "W": (2, 2)}).params)
    vectors = [np.concatenate([RNG.normal(size=4), m.ravel()]) for m in (x, x @ x.T, x.T @ x)]
    vectors[1][:4], vectors[2][:4] = spd(2).ravel(), spd(2).ravel()
    with pytest.raises(SingularBlock, match=r"the matrix block W \(2x2\) is rank-deficient here.*Shampoo: eps > 0"):
        on_blocks(exact.evaluate, layout, vectors, lambda values, shape: np.array(values).reshape(shape), np.ravel, "Sh")
    blocks = [[RNG.normal(size=(2, 2)), x], [spd(2), x @ x.T], [spd(2), x.T @ x]]
    with pytest.raises(ValueError, match=r"the matrix block 2 of the parameters \(2x2\) is rank-deficient.*eps > 0"):
        run_traced(compiled_namespace(exact), exact, blocks)


def test_bad_input_is_one_line():
    with pytest.raises(DescriptionError, match="shampoo: sides must be one of both, one"):
        shampoo(sides="left").update()
    with pytest.raises(DescriptionError, match="shampoo_ema: sides must be one of both, one"):
        shampoo_ema(sides="left").update()
    with pytest.raises(DescriptionError, match="kronecker_root: eps must be a number >= 0"):
        kronecker_root(grad(), grad(), eps=-1)
    with pytest.raises(DescriptionError, match="gram: side must be one of small, left, right"):
        gram(grad(), "up")
    with pytest.raises(ValueError, match=r"the left one of the block W1 \(3x2\) is 3x3, larger than 1 part.*"
                                         r"shampoo\(parts=2\).*sides='one'"):
        check_blocks(block_layout(as_blocks({"W1": (3, 2)}).params), TWO_SIDED)
    with pytest.raises(ValueError, match=r"the right one of the block W \(2x5\) is 5x5.*shampoo\(parts=3\)"):
        check_blocks(block_layout(as_blocks({"W": (2, 5)}).params), IN_PARTS)
    with pytest.raises(DescriptionError, match="shampoo: parts must be an integer 1..8, got 0"):
        shampoo(parts=0).update()
    with pytest.raises(DescriptionError, match="shampoo: parts is for sides='both'"):
        shampoo(sides="one", parts=2).update()
    with pytest.raises(DescriptionError, match="gram: part must be an integer 0..7"):
        gram(grad(), "small", 1)
    with pytest.raises(DescriptionError, match="kronecker_root: the parts of left and right must be two sequences"):
        kronecker_root(grad(), [grad(), grad()], grad())
    with pytest.raises(ValueError, match=r"shampoo \(Sh\) acts on matrix blocks, but the block b has shape \(2,\)"):
        check_blocks(block_layout(as_blocks({"W": (2, 2), "b": (2,)}).params), TWO_SIDED)


def test_the_moving_average_form_is_backward_error_analysis_by_hand():
    r"""L = ema(GramL(g), β) = GramL - β/(1-β) h L_f GramL + O(h²) on its manifold (no slow state), with
    L_f GramL = -DGramL[D_1[Sh]]; so f_1 = -(1+β)/(2(1-β)) DSh[(0, DGramL[D_1 Sh], DGramR[D_1 Sh])] - ½DSh[(D_1 Sh, 0, 0)]."""
    eq = modeq.derive(shampoo_ema, order=1, values={"weight_decay": 0})
    atoms, beta = eq.atoms, shampoo_ema.symbols["beta2"]
    assert eq.states == ()
    g, zero = sympy.Symbol("g"), sympy.S.Zero
    gram_l, gram_r = (atoms.matrix_derivative(GramStatistic(side), g, ()) for side in ("left", "right"))
    fmap = KroneckerRoot(2, sympy.Rational(1, 10**6))  # shampoo_ema's default eps
    point = (g, gram_l, gram_r)
    sh = atoms.matrix_derivative(fmap, point, ())
    hess = atoms.contraction([sh])
    moved = (zero, atoms.matrix_derivative(GramStatistic("left"), g, [hess]),
             atoms.matrix_derivative(GramStatistic("right"), g, [hess]))
    expected = (-(1 + beta) / (2 * (1 - beta)) * atoms.matrix_derivative(fmap, point, [moved])
                - atoms.matrix_derivative(fmap, point, [(hess, zero, zero)]) / 2)
    assert eq.terms[0] == -sh
    assert sympy.simplify(atoms.collect(eq.terms[1] - expected)) == 0


def test_the_command_line_prints_the_directions_of_three_blocks(capsys):
    from modeq.cli import main

    assert main(["derive", "shampoo", "--order", "1", "--set", "weight_decay=0"]) == 0
    out = capsys.readouterr().out
    assert "  f_0 = -Sh[∇_i E, L̃_i, R̃_i]_j\n" in out
    assert "DSh[∇_i E, L̃_i, R̃_i][(0, 0, GramR[∇_k E]_i)]_j" in out and "  f^R_0 = GramR[∇_i E]_j\n" in out
