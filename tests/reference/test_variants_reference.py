"""The built-in variants against the reference implementations of their
papers (``pytorch-optimizer``, ``lion-pytorch``), in float64.

Each reference is configured to the description's conventions; the flags that
select them are spelled out in each case (rectification, AMS bounds and
warm-up schedulers off; the weight-decay form named)."""

import lion_pytorch
import numpy as np
import pytest
import pytorch_optimizer as po
import torch

import modeq
from modeq.optimizers import adabelief, adan, ademamix, lion, qhadam, qhm

from torch_reference import LOSS, PARAMS, STEPS, THETA0, TOLERANCE, reference_iterates

H = 0.01


def _qhadam_float64(opt):
    """QHAdam keeps its bias-correction sums 1 + beta + beta^2 + ... in float32;
    start them in float64 (its state is created only when empty)."""
    for p in opt.param_groups[0]["params"]:
        opt.state[p] = {"beta1_weight": torch.zeros(1, dtype=torch.float64),
                        "beta2_weight": torch.zeros(1, dtype=torch.float64),
                        "exp_avg": torch.zeros_like(p), "exp_avg_sq": torch.zeros_like(p)}
    return opt

CASES = [
    ("adabelief-eps-1e-3-wd", adabelief, {"beta1": 0.9, "beta2": 0.99, "eps": 1e-3, "weight_decay": 0.1},
     lambda p: po.AdaBelief(p, lr=H, betas=(0.9, 0.99), eps=1e-3, weight_decay=0.1, weight_decouple=True,
                            fixed_decay=False, rectify=False, ams_bound=False)),
    ("adabelief-defaults", adabelief, {},
     lambda p: po.AdaBelief(p, lr=H, rectify=False, ams_bound=False)),
    ("adan-proximal-wd", adan, {"weight_decay": 0.1},
     lambda p: po.Adan(p, lr=H, weight_decay=0.1, weight_decouple=False, max_grad_norm=0.0)),
    ("adan-no-prox", adan(no_prox=True), {"beta1": 0.9, "beta2": 0.8, "beta3": 0.95, "weight_decay": 0.1},
     lambda p: po.Adan(p, lr=H, betas=(0.9, 0.8, 0.95), weight_decay=0.1, weight_decouple=True)),
    ("ademamix-wd", ademamix, {"beta3": 0.99, "alpha": 3.0, "weight_decay": 0.1},
     lambda p: po.AdEMAMix(p, lr=H, betas=(0.9, 0.999, 0.99), alpha=3.0, t_alpha_beta3=None, weight_decay=0.1,
                           weight_decouple=True, fixed_decay=False)),
    ("qhadam", qhadam, {"beta1": 0.9, "beta2": 0.99, "nu1": 0.7, "nu2": 0.9},
     lambda p: _qhadam_float64(po.QHAdam(p, lr=H, betas=(0.9, 0.99), nus=(0.7, 0.9)))),
    ("qhm", qhm, {"beta": 0.9, "nu": 0.7}, lambda p: po.QHM(p, lr=H, momentum=0.9, nu=0.7)),
]


@pytest.mark.parametrize("name,opt,values,make", CASES, ids=[c[0] for c in CASES])
def test_iterates_equal_the_reference_implementation(name, opt, values, make, cache):
    want = reference_iterates(make)
    got = modeq.iterates(opt, LOSS, PARAMS, THETA0, H, STEPS, values=values, cache_dir=cache)
    assert np.abs(want[-1] - want[0]).max() > 1e-2  # the iterates move: the comparison is not vacuous
    np.testing.assert_allclose(got, want, rtol=0, atol=TOLERANCE)


def test_lion_with_a_vanishing_smooth_sign_is_the_reference(cache):
    # x/sqrt(x^2 + delta) rounds to sign(x) in float64 once delta << x^2 for every component met
    got = modeq.iterates(lion, LOSS, PARAMS, THETA0, H, STEPS, {"beta1": 0.9, "beta2": 0.99, "delta": 1e-30},
                         cache_dir=cache)
    want = reference_iterates(lambda p: lion_pytorch.Lion(p, lr=H, betas=(0.9, 0.99)))
    np.testing.assert_allclose(got, want, rtol=0, atol=TOLERANCE)
    smooth = modeq.iterates(lion, LOSS, PARAMS, THETA0, H, STEPS, {"beta1": 0.9, "beta2": 0.99, "delta": 1e-2},
                            cache_dir=cache)
    assert np.abs(smooth - want).max() > 1e-3  # at a delta used for modified equations, they differ
