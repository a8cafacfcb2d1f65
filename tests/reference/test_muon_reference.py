"""Muon (issue 16) against ``torch.optim.Muon`` itself in float64: 50 steps on
a two-layer linear network ½‖W₂W₁ − A‖² (two matrix blocks, 3×2 and 2×3, so
both orientations of the Newton–Schulz steps run), to 1e-12; the exact form
(``orthogonalizer="msign"``) against the same code with torch.linalg.svd's
:math:`UV^\\top` in place of the Newton–Schulz steps.

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
import torch
import torch.optim._muon as torch_muon

import modeq
from modeq.optimizers import muon

from two_layer import STEPS, THETA0, sympy_loss, torch_iterates

H = 0.02


def reference(h, cast=False, **options):
    """torch.optim.Muon's iterates; without ``cast`` its bfloat16 cast is a float64 copy."""
    original = torch.Tensor.bfloat16
    if not cast:
        torch.Tensor.bfloat16 = lambda self, *args, **kwargs: self.clone()
    try:
        return torch_iterates(lambda params: torch.optim.Muon(params, lr=h, **options))
    finally:
        torch.Tensor.bfloat16 = original


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


def svd_polar_factor(grad, ns_coefficients, ns_steps, eps):
    """U Vᵀ of the block by torch.linalg.svd (float64), in place of torch's Newton–Schulz steps."""
    u, _, vh = torch.linalg.svd(grad, full_matrices=False)
    return u @ vh


def test_muon_msign_equals_torch_muon_with_the_exact_polar_factor(cache, monkeypatch):
    """The exact form (orthogonalizer="msign") against torch.optim.Muon whose
    ``_zeropower_via_newtonschulz`` is replaced by the SVD's U Vᵀ: 50 steps to 1e-12."""
    monkeypatch.setattr(torch_muon, "_zeropower_via_newtonschulz", svd_polar_factor)
    expected = reference(H)
    loss, params = sympy_loss()
    got = modeq.iterates(muon(orthogonalizer="msign"), loss, params, THETA0, H, STEPS, cache_dir=cache)
    assert np.abs(expected[-1] - THETA0).max() > 0.3
    assert np.abs(got - expected).max() < 1e-12


def test_a_zero_gradient_block_is_refused_by_the_compiled_optimizer(cache):
    """From W1 = W2 = 0 both gradient blocks vanish: the compiled msign step names the first."""
    loss, params = sympy_loss()
    with pytest.raises(ValueError, match=r"the matrix block 1 of the parameters \(3x2\) is rank-deficient here.*"
                                         r"msign\(x, eps=1e-8\)"):
        modeq.iterates(muon(orthogonalizer="msign"), loss, params, np.zeros(12), H, 3, cache_dir=cache)
