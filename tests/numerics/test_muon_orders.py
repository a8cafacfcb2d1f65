"""Muon (issue 16): orders 0-2 of its modified equation confirmed against its
iterates on the two-layer linear network ½‖W₂W₁ − A‖² of the reference test
(tests/reference/two_layer.py: W₁ 3×2, W₂ 2×3, both orientations of the
Newton–Schulz steps) and on the rank-one matrix-sensing loss of the
layer-wise tests, for torch's Newton–Schulz steps and for the exact polar
factor (msign); slopes asserted. Momentum 0.5 (torch's 0.95 would need
h ≪ 0.05); the normalization's ε and the weight decay are torch's defaults.

The step sizes are small: five Newton–Schulz steps have slope up to
a⁵ ≈ 488 at small singular values, so the expansion in h holds only for
small h (at h = 0.02..0.005 over T = 0.5 the errors of orders 1 and 2
exceeded 10% of the trajectory: out of range)."""

import sys
from pathlib import Path

import pytest

import modeq
from modeq.optimizers import muon

from test_layerwise_orders import sensing

sys.path.insert(0, str(Path(__file__).parents[1] / "reference"))
from two_layer import THETA0, sympy_loss  # noqa: E402  (the reference tests' shared helper)

VALUES = {"momentum": 0.5}
HS = (0.0025, 0.00125, 0.000625)
T = 0.1


def network():
    return sympy_loss() + (THETA0,)


@pytest.mark.slow  # derivation, compilation of the order-2 field (17 Newton-Schulz stages) and of the optimizer, runs: 27 s (network) and 11 s (sensing) of CPU, cold; the msign form 24 s and 19 s
@pytest.mark.parametrize("form", ["newton_schulz", "msign"])
@pytest.mark.parametrize("problem", [network, sensing], ids=["network", "sensing"])
def test_orders_0_to_2_confirmed(problem, form, cache):
    loss, params, theta0 = problem()
    report = modeq.verify(muon(orthogonalizer=form), loss, params, theta0, order=2, values=VALUES, hs=HS, T=T, cache_dir=cache,
                          max_seconds=None)
    assert report.passed, report.table()
    for k, result in enumerate(report.orders):
        assert result.status == "confirmed" and abs(result.fitted - (k + 1)) < 0.3, report.table()
