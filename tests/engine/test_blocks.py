"""Parameter blocks (issue 16, part 1): named shaped blocks, losses written with
them as matrices, per-block reductions in the language, and their clear errors.

Independent checks: the block spec against NumPy's row-major flattening, the
parsed matrix loss against the same loss written entry by entry, the compiled
iterates against a NumPy loop written here, the index form against the
component derivation, one block against the global reduction, and the orders
of the modified flow against the iterates."""

import json
import subprocess
import sys

import numpy as np
import pytest
import sympy
from sympy import sqrt

import modeq
from modeq.blocks import Block, Entry, as_blocks, block_ids, parse_blocks
from modeq.cli import main
from modeq.optimizers import DescriptionError, block_norm, block_sum, grad, optimizer, positive, reduce_sum
from modeq.parsing import ExpressionError

SPEC = "W1:2x2,W2:1x2"
LOSS = "sum((W2 @ W1 - 1)**2)/2"  # two-layer linear network, target the all-ones row
THETA0 = [0.5, -0.3, 0.2, 0.8, 0.7, -0.4]
EPS = 0.1


@optimizer(eps=positive(0.1, r"\varepsilon"))
def layer_gd(eps):
    """Gradient descent normalized per layer: -g/sqrt(|g_B|^2 + eps)."""
    g = grad()
    return -g / sqrt(block_sum(g**2) + eps)


@optimizer(eps=positive(0.1, r"\varepsilon"))
def global_gd(eps):
    g = grad()
    return -g / sqrt(reduce_sum(g**2) + eps)


def test_blocks_flatten_row_major_like_numpy():
    blocks = parse_blocks("W1:3x2,b:2,c")
    assert [b.shape for b in blocks.blocks] == [(3, 2), (2,), ()]
    names = [s.name for s in blocks.params]
    expected = [f"W1[{a},{b}]" for a, b in np.ndindex(3, 2)] + ["b[0]", "b[1]", "c"]
    assert names == expected
    assert block_ids(blocks.params) == (0,) * 6 + (1, 1, 2)
    assert as_blocks({"W1": (3, 2), "b": 2, "c": ()}) == blocks
    # an entry is its own symbol: not the plain symbol of the same name
    assert Entry("W1", (0, 0), (3, 2)) != sympy.Symbol("W1[0,0]", real=True)


@pytest.mark.parametrize("spec,message", [
    ("W1:3y2", "the shape of W1 must be sizes such as 3x2"),
    ("W1:0x2", "one or two positive sizes"),
    ("W1:2x2,W1:3", "must be distinct names"),
    ("W1:2x2,sqrt:2", "is a function name"),
])
def test_bad_block_specs_are_one_clear_line(spec, message):
    with pytest.raises(ExpressionError, match=message):
        parse_blocks(spec)


def test_a_matrix_loss_is_the_loss_written_by_entries():
    loss, params = modeq.parse_loss(LOSS, SPEC)
    a, b, c, d, p, q = params
    by_hand = ((p * a + q * c - 1) ** 2 + (p * b + q * d - 1) ** 2) / 2
    assert sympy.expand(loss - by_hand) == 0
    trace_form, _ = modeq.parse_loss("trace((W2 @ W1 - 1).T @ (W2 @ W1 - 1))/2", SPEC)
    assert sympy.expand(trace_form - by_hand) == 0


@pytest.mark.parametrize("text,message", [
    ("sum((W1 @ W2 - 1)**2)", "multiplies a 2x2 by a 1x2 matrix"),
    ("sum(W1 + W2)", "combines a 2x2 and a 1x2 matrix"),
    ("W2 @ W1", "is a 1x2 matrix, not a number; reduce it"),
    ("trace(W2)", "the trace needs a square matrix"),
])
def test_shapes_that_do_not_match_the_loss_are_one_clear_line(text, message):
    with pytest.raises(ExpressionError, match=message):
        modeq.parse_loss(text, SPEC)


def test_a_sympy_matrix_of_grad_is_refused_with_the_fix():
    @optimizer()
    def matrix_step():
        G = sympy.Matrix([[grad(), grad()]])
        return -G * G.T * G

    @optimizer()
    def inside():
        G = sympy.ImmutableMatrix([[grad()]])
        return -(G * G.T)[0, 0] * sympy.MatrixSymbol("X", 1, 1)[0, 0]

    for bad in (matrix_step, inside):
        with pytest.raises(DescriptionError, match="SymPy matrix.*block_norm"):
            modeq.derive(bad, order=1)


def test_one_block_is_the_global_reduction():
    x, y = sympy.symbols("x y", real=True)
    loss = (x * y - 1) ** 2 / 2 + x**2 / 10
    blocked = modeq.derive(layer_gd, order=2).materialize(loss, (x, y))
    plain = modeq.derive(global_gd, order=2).materialize(loss, (x, y))
    point = {x: sympy.Rational(1, 3), y: sympy.Rational(-2, 5), sympy.Symbol("eps", positive=True): EPS}
    for k in range(3):
        for a, b in zip(blocked.terms[k], plain.terms[k]):
            assert abs(float((a - b).xreplace(point))) < 1e-12


def test_the_index_form_agrees_with_the_component_derivation_on_blocks():
    loss, params = modeq.parse_loss("sum((W2 @ W1 - 1)**2)/2 + sum(W1**4)/4", "W1:1x2,W2:1x1")
    index = modeq.derive(layer_gd, order=2, values={"eps": EPS}).materialize(loss, params)
    component = modeq.derive_components(layer_gd, loss, params, order=2, values={"eps": EPS})
    point = dict(zip(params, map(sympy.Rational, ["1/2", "-3/10", "7/10"])))
    for k in range(3):
        values = [float(t.xreplace(point)) for t in index.terms[k]]
        direct = [float(t.xreplace(point)) for t in component.terms[k]]
        assert np.allclose(values, direct, rtol=1e-12, atol=1e-14), k
    # the blocks matter: the global normalization gives another field
    other = modeq.derive(global_gd, order=0, values={"eps": EPS}).materialize(loss, params)
    assert not np.allclose([float(t.xreplace(point)) for t in other.terms[0]],
                           [float(t.xreplace(point)) for t in index.terms[0]])


def _numpy_layer_gd(theta, h, steps):
    """The same optimizer written with NumPy: gradient of 1/2|W2 W1 - 1|^2 by hand."""
    out = [np.array(theta, dtype=float)]
    for _ in range(steps):
        W1, W2 = out[-1][:4].reshape(2, 2), out[-1][4:].reshape(1, 2)
        R = W2 @ W1 - 1
        grads = [W2.T @ R, R @ W1.T]  # dE/dW1, dE/dW2
        step = [-G / np.sqrt((G**2).sum() + EPS) for G in grads]
        out.append(out[-1] + h * np.concatenate([s.ravel() for s in step]))
    return np.array(out)


def test_iterates_equal_a_numpy_loop():
    for params in (SPEC, {"W1": (2, 2), "W2": (1, 2)}):
        run = modeq.iterates(layer_gd, LOSS, params, THETA0, h=0.1, steps=20, values={"eps": EPS})
        assert np.abs(run - _numpy_layer_gd(THETA0, 0.1, 20)).max() < 1e-13


def test_orders_0_to_2_confirmed_on_a_two_layer_network():
    report = modeq.verify(layer_gd, LOSS, SPEC, THETA0, order=2, values={"eps": EPS}, hs=(0.04, 0.02, 0.01), T=0.5)
    assert report.passed, report.table()
    for k, result in enumerate(report.orders):
        assert result.status == "confirmed" and abs(result.fitted - (k + 1)) < 0.2


def test_block_sums_print_over_the_block():
    eq = modeq.derive(layer_gd, order=0)
    assert "Σ_{i∈B(j)} |∇_i E|²" in str(eq) and "B(j) the parameter block" in str(eq)
    assert r"\sum_{i \in B(j)} \left\lvert \nabla_{i} E\right\rvert^{2}" in eq.latex()
    assert r"\operatorname{sum}_{B}" in eq.latex(notation="vector")
    assert "Σ_i sums over all parameters" not in str(eq)


def _first_correction(eq) -> list[float]:
    loss, params = modeq.parse_loss(LOSS, SPEC)
    field = eq.materialize(loss, params)
    return [float(t.xreplace(dict(zip(params, THETA0)))) for t in field.terms[1]]


def test_saved_block_equation_loads_equal_in_a_fresh_process(tmp_path):
    eq = modeq.derive(layer_gd, order=1, values={"eps": EPS})
    path = tmp_path / "eq.json"
    eq.save(path)
    script = (f"import sys, modeq\nLOSS, SPEC, THETA0 = {LOSS!r}, {SPEC!r}, {THETA0!r}\n"
              "loss, params = modeq.parse_loss(LOSS, SPEC)\n"
              "field = modeq.load(sys.argv[1]).materialize(loss, params)\n"
              "print(repr([float(t.xreplace(dict(zip(params, THETA0)))) for t in field.terms[1]]))\n")
    out = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, check=True).stdout
    loaded = json.loads(out.strip())
    assert np.allclose(loaded, _first_correction(eq), rtol=1e-13, atol=0)


def test_cli_verify_names_the_flag_for_mismatched_shapes(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("MODEQ_CACHE_DIR", str(tmp_path / "cache"))
    argv = ["verify", "gd", "--loss", "sum((W1 @ W2 - 1)**2)", "--params", SPEC, "--theta0", "1,1,1,1,1,1"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "multiplies a 2x2 by a 1x2 matrix" in err and "--params" in err
    argv = ["verify", "gd", "--loss", LOSS, "--params", SPEC, "--theta0", "1,1,1"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "W1:2x2, W2:1x2" in err and "row-major" in err
