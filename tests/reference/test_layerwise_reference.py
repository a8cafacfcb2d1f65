"""LARS and LAMB (issue 16) against ``pytorch-optimizer``'s in float64: 50 steps
on a two-layer linear network ½‖W₂W₁ − A‖² (two matrix blocks, as torch holds
them: two parameter tensors), to 1e-12.

Both references branch (trust ratio 1 at a zero norm; LAMB clamps the weight
norm to 10): the runs stay where the branch is the generic one, which is the
smooth form modeq describes (:mod:`modeq.optimizers.layerwise`); the test
asserts it."""

import numpy as np
import pytest
import pytorch_optimizer as po
import torch

import modeq
from modeq.optimizers import lamb, lars

from two_layer import STEPS, THETA0, sympy_loss, torch_iterates

TOLERANCE = 1e-12


def reference(make, h):
    """The reference's iterates, and the norms of the blocks and their gradients before each step."""
    norms = []
    rows = torch_iterates(lambda params: make(params, h),
                          lambda w1, w2: norms.append([float(torch.linalg.norm(t.detach()))
                                                       for t in (w1, w2, w1.grad, w2.grad)]))
    return rows, np.array(norms)


CASES = [
    pytest.param("lars", lars, {"momentum": 0.9, "trust": 0.02, "weight_decay": 0.0}, 0.5,
     lambda p, h: po.LARS(p, lr=h, momentum=0.9, trust_coefficient=0.02, weight_decay=0.0), id="lars"),
    pytest.param("lars-wd", lars, {"momentum": 0.8, "trust": 0.05, "weight_decay": 0.1}, 0.3,
     lambda p, h: po.LARS(p, lr=h, momentum=0.8, trust_coefficient=0.05, weight_decay=0.1),
                 marks=pytest.mark.slow, id="lars-wd"),
    pytest.param("lamb", lamb, {}, 0.01, lambda p, h: po.Lamb(p, lr=h), id="lamb"),
    pytest.param("lamb-wd", lamb, {"beta1": 0.8, "beta2": 0.95, "eps": 1e-3, "weight_decay": 0.1}, 0.02,
     lambda p, h: po.Lamb(p, lr=h, betas=(0.8, 0.95), eps=1e-3, weight_decay=0.1),
                 marks=pytest.mark.slow, id="lamb-wd"),
]


@pytest.mark.parametrize("name,opt,values,h,make", CASES)
def test_iterates_equal_pytorch_optimizer(name, opt, values, h, make, cache):
    want, norms = reference(make, h)
    assert norms.min() > 1e-3 and norms[:, :2].max() < 10  # the generic branch all along
    loss, params = sympy_loss()
    got = modeq.iterates(opt, loss, params, THETA0, h, STEPS, values=values, cache_dir=cache)
    assert np.abs(want[-1] - want[0]).max() > 1e-2  # the iterates move
    np.testing.assert_allclose(got, want, rtol=0, atol=TOLERANCE)
