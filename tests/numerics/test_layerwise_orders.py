"""Layer-wise optimizers (issue 16): orders 0-2 of their modified equations
confirmed against their iterates on a two-layer linear network
½‖W₂W₁ − 1‖² and on a matrix-sensing loss ½Σ_k(⟨A_k, UV⟩ − y_k)², each with
two parameter blocks; slopes asserted."""

import pytest
import sympy

import modeq
from modeq.blocks import as_blocks
from modeq.optimizers import lamb, lars, sam


def network():
    return modeq.parse_loss("sum((W2 @ W1 - 1)**2)/2", "W1:2x2,W2:1x2") + ([0.5, -0.3, 0.2, 0.8, 0.7, -0.4],)


def sensing():
    """Rank-one sensing of a 2x2 matrix M = UV from two measurements."""
    blocks = as_blocks({"U": (2, 1), "V": (1, 2)})
    M = blocks.values["U"] @ blocks.values["V"]
    measurements = [(sympy.Matrix([[1, 0], [0, 1]]), 1), (sympy.Matrix([[0, 1], [2, 0]]), sympy.Rational(-1, 2))]
    loss = sum((sum(a * m for a, m in zip(A, M)) - y) ** 2 for A, y in measurements) / 2
    return loss, blocks.params, [0.9, -0.4, 0.6, 0.7]


LARGE = (0.02, 0.01, 0.005)
SMALL = (0.005, 0.0025, 0.00125)
SMALLER = (0.0025, 0.00125, 0.000625)
CASES = [
    ("lars-network", lars, {"momentum": 0.5, "trust": 1.0, "weight_decay": 0.1}, network, LARGE, 0.5),
    ("lars-sensing", lars, {"momentum": 0.5, "trust": 0.3, "weight_decay": 0.1}, sensing, LARGE, 0.5),
    ("lamb-network", lamb, {"beta1": 0.5, "beta2": 0.6, "eps": 0.1}, network, SMALLER, 0.25),
    ("lamb-sensing", lamb, {"beta1": 0.5, "beta2": 0.6, "eps": 0.1}, sensing, SMALL, 0.25),
    ("sam-per-layer-network", sam(per_layer=True), {"c": 1.0}, network, LARGE, 0.5),
    ("sam-per-layer-sensing", sam(per_layer=True), {"c": 1.0}, sensing, LARGE, 0.5),
]


@pytest.mark.slow  # a verification at order 2 with numba compilation: 30 s to 4 min each on a loaded 2-core machine
@pytest.mark.parametrize("name,opt,values,problem,hs,T", CASES, ids=[c[0] for c in CASES])
def test_orders_0_to_2_confirmed(name, opt, values, problem, hs, T):
    loss, params, theta0 = problem()
    report = modeq.verify(opt, loss, params, theta0, order=2, values=values, hs=hs, T=T)
    assert report.passed, report.table()
    for k, result in enumerate(report.orders):
        assert result.status == "confirmed" and abs(result.fitted - (k + 1)) < 0.3, report.table()
