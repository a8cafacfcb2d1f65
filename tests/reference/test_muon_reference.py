"""Muon (issue 16) against ``torch.optim.Muon`` itself in float64: 50 steps on
a two-layer linear network ½‖W₂W₁ − A‖² (two matrix blocks, 3×2 and 2×3, so
both orientations of the Newton–Schulz steps run), to 1e-12.

torch casts each block to bfloat16 before its Newton–Schulz steps
(``_zeropower_via_newtonschulz``: ``grad.bfloat16()``); the comparison runs
torch's own code with only that cast replaced by a copy (``Tensor.bfloat16``
patched for the run), and a test shows that the cast is there.

torch normalizes by :math:`\\max(\\|M\\|_F, \\varepsilon)`; modeq by the smooth
:math:`\\sqrt{\\|M\\|_F^2+\\varepsilon^2}` (:mod:`modeq.optimizers.muon`). With
:math:`\\varepsilon = 10^{-30}` the two are the same float; with torch's
default :math:`10^{-7}` they differ by a relative :math:`\\varepsilon^2/(2\\|M\\|_F^2)`
per step, which the slow case bounds."""

import numpy as np
import pytest
import sympy
import torch

import modeq
from modeq.optimizers import muon

SHAPES = {"W1": (3, 2), "W2": (2, 3)}
A = np.array([[1.0, -0.5], [0.5, 2.0]])
W1 = np.array([[0.6, -0.4], [0.3, 0.9], [-0.7, 0.2]])
W2 = np.array([[0.5, 0.1, -0.3], [0.8, -0.6, 0.4]])
THETA0 = np.concatenate([W1.ravel(), W2.ravel()])
STEPS = 50
H = 0.02


def sympy_loss():
    blocks = modeq.blocks.as_blocks(SHAPES)
    w1, w2 = blocks.values["W1"], blocks.values["W2"]
    residual = w2 @ w1 - sympy.Matrix(2, 2, [sympy.Rational(repr(float(a))) for a in A.ravel()])
    return sum(r**2 for r in residual) / 2, blocks.params


def reference(h, cast=False, **options):
    """torch.optim.Muon's iterates; without ``cast`` its bfloat16 cast is a float64 copy."""
    w1 = torch.tensor(W1, requires_grad=True)
    w2 = torch.tensor(W2, requires_grad=True)
    opt = torch.optim.Muon([w1, w2], lr=h, **options)
    rows = [THETA0.copy()]
    original = torch.Tensor.bfloat16
    if not cast:
        torch.Tensor.bfloat16 = lambda self, *args, **kwargs: self.clone()
    try:
        for _ in range(STEPS):
            opt.zero_grad()
            loss = ((w2 @ w1 - torch.tensor(A)) ** 2).sum() / 2
            loss.backward()
            opt.step()
            rows.append(np.concatenate([w1.detach().numpy().ravel(), w2.detach().numpy().ravel()]))
    finally:
        torch.Tensor.bfloat16 = original
    return np.array(rows)


@pytest.fixture(scope="module")
def ours(cache):
    loss, params = sympy_loss()
    return modeq.iterates(muon, loss, params, THETA0, H, STEPS, values={"eps": 1e-30}, cache_dir=cache)


def test_muon_equals_torch_muon(ours):
    expected = reference(H, eps=1e-30)
    assert np.abs(expected[-1] - THETA0).max() > 0.3  # the run moves
    assert np.abs(ours - expected).max() < 1e-12


def test_torch_muon_computes_newton_schulz_in_bfloat16(ours):
    assert np.abs(reference(H, cast=True, eps=1e-30) - ours).max() > 1e-4


@pytest.mark.slow  # a second compiled optimizer (about 40 s on a loaded machine); the default eps and the options
@pytest.mark.parametrize("values, options, torch_options, tolerance", [
    ({}, {}, {}, 1e-9),
    ({"momentum": 0.9, "weight_decay": 0.0, "eps": 1e-30}, {"nesterov": False, "adjust_lr_fn": "match_rms_adamw"},
     {"momentum": 0.9, "weight_decay": 0.0, "eps": 1e-30, "nesterov": False, "adjust_lr_fn": "match_rms_adamw"}, 1e-12),
], ids=["default-eps", "options"])
def test_muon_options_equal_torch_muon(cache, values, options, torch_options, tolerance):
    loss, params = sympy_loss()
    got = modeq.iterates(muon(**options), loss, params, THETA0, H, STEPS, values=values, cache_dir=cache)
    assert np.abs(got - reference(H, **torch_options)).max() < tolerance
