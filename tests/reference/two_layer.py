"""The two-layer linear network ½‖W₂W₁ − A‖² of the matrix-block reference
tests (two matrix blocks, 3×2 and 2×3, held by torch as two parameter tensors):
the loss for modeq, and a torch run of a reference optimizer on it."""

from collections.abc import Callable

import numpy as np
import sympy
import torch

import modeq

SHAPES = {"W1": (3, 2), "W2": (2, 3)}
A = np.array([[1.0, -0.5], [0.5, 2.0]])
W1 = np.array([[0.6, -0.4], [0.3, 0.9], [-0.7, 0.2]])
W2 = np.array([[0.5, 0.1, -0.3], [0.8, -0.6, 0.4]])
THETA0 = np.concatenate([W1.ravel(), W2.ravel()])
STEPS = 50


def sympy_loss():
    """The loss and its parameters, for :func:`modeq.iterates`."""
    blocks = modeq.blocks.as_blocks(SHAPES)
    w1, w2 = blocks.values["W1"], blocks.values["W2"]
    residual = w2 @ w1 - sympy.Matrix(2, 2, [sympy.Rational(repr(float(a))) for a in A.ravel()])
    return sum(r**2 for r in residual) / 2, blocks.params


def torch_iterates(make: Callable[[list[torch.Tensor]], torch.optim.Optimizer],
                   observe: Callable[[torch.Tensor, torch.Tensor], None] = lambda w1, w2: None) -> np.ndarray:
    """θ₀ and the ``STEPS`` iterates of the optimizer ``make([W1, W2])`` (float64);
    ``observe(W1, W2)`` sees the blocks, their gradients set, before each step."""
    w1 = torch.tensor(W1, requires_grad=True)
    w2 = torch.tensor(W2, requires_grad=True)
    opt = make([w1, w2])
    rows = [THETA0.copy()]
    for _ in range(STEPS):
        opt.zero_grad()
        loss = ((w2 @ w1 - torch.tensor(A)) ** 2).sum() / 2
        loss.backward()
        observe(w1, w2)
        opt.step()
        rows.append(np.concatenate([w1.detach().numpy().ravel(), w2.detach().numpy().ravel()]))
    return np.array(rows)
