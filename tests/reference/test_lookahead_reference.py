"""Lookahead around Adam against ``pytorch_optimizer.Lookahead(torch.optim.Adam(...))``
in float64 to 1e-12 over 100 Adam steps: modeq's map is one cycle of k steps with
h = k * lr (modeq.optimizers.lookahead), so its iterates are the reference's
every k-th step (the slow weights, which the model holds after each
synchronization)."""

import numpy as np
import pytest
import pytorch_optimizer as po
import torch

import modeq
from modeq.optimizers import lookahead

from torch_reference import LOSS, PARAMS, STEPS, THETA0, TOLERANCE, reference_iterates

LR = 0.01


@pytest.mark.parametrize("k, alpha, betas, eps", [(5, 0.5, (0.8, 0.95), 1e-3), (4, 0.8, (0.9, 0.999), 1e-8)])
def test_lookahead_iterates_equal_pytorch_optimizer(k, alpha, betas, eps, cache):
    values = {"beta": betas[0], "rho": betas[1], "eps": eps, "alpha": alpha}
    got = modeq.iterates(lookahead(k=k), LOSS, PARAMS, THETA0, k * LR, STEPS // k, values, cache_dir=cache)
    want = reference_iterates(
        lambda p: po.Lookahead(torch.optim.Adam(p, lr=LR, betas=betas, eps=eps), k=k, alpha=alpha), steps=STEPS)
    assert np.abs(want[-1] - want[0]).max() > 1e-1
    np.testing.assert_allclose(got, want[::k], rtol=0, atol=TOLERANCE)


def test_the_pull_back_matters():
    """Between synchronizations the reference's weights are Adam's fast weights, not modeq's iterates:
    the comparison above is at the synchronizations only, and alpha = 1 would be plain Adam."""
    fast = reference_iterates(lambda p: po.Lookahead(torch.optim.Adam(p, lr=LR), k=5, alpha=0.5), steps=10)
    adam = reference_iterates(lambda p: torch.optim.Adam(p, lr=LR), steps=10)
    np.testing.assert_array_equal(fast[:5], adam[:5])
    assert np.abs(fast[5] - adam[5]).max() > 1e-3
