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
import sympy
import torch

import modeq
from modeq.optimizers import lamb, lars

SHAPES = {"W1": (3, 2), "W2": (2, 3)}
A = np.array([[1.0, -0.5], [0.5, 2.0]])
W1 = np.array([[0.6, -0.4], [0.3, 0.9], [-0.7, 0.2]])
W2 = np.array([[0.5, 0.1, -0.3], [0.8, -0.6, 0.4]])
THETA0 = np.concatenate([W1.ravel(), W2.ravel()])
STEPS = 50
TOLERANCE = 1e-12


def sympy_loss():
    blocks = modeq.blocks.as_blocks(SHAPES)
    w1, w2 = blocks.values["W1"], blocks.values["W2"]
    residual = w2 @ w1 - sympy.Matrix(2, 2, [sympy.Rational(repr(float(a))) for a in A.ravel()])
    return sum(r**2 for r in residual) / 2, blocks.params


def reference(make, h):
    w1 = torch.tensor(W1, requires_grad=True)
    w2 = torch.tensor(W2, requires_grad=True)
    opt = make([w1, w2], h)
    rows = [THETA0.copy()]
    norms = []
    for _ in range(STEPS):
        opt.zero_grad()
        loss = ((w2 @ w1 - torch.tensor(A)) ** 2).sum() / 2
        loss.backward()
        norms.append([float(torch.linalg.norm(t.detach())) for t in (w1, w2, w1.grad, w2.grad)])
        opt.step()
        rows.append(np.concatenate([w1.detach().numpy().ravel(), w2.detach().numpy().ravel()]))
    return np.array(rows), np.array(norms)


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
