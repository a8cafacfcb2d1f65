"""The two-layer linear network ½‖W₂W₁ − A‖² of the matrix-block reference
tests (two matrix blocks, 3×2 and 2×3, held by torch as two parameter tensors;
``SQUARE``: 2×2 and 2×2, for two-sided Shampoo): the loss for modeq, and a
torch run of a reference optimizer on it."""

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
#: The square network's start (W₁, W₂ both 2×2), and its θ₀.
SQUARE = (np.array([[0.6, -0.4], [0.3, 0.9]]), np.array([[0.5, 0.1], [0.8, -0.6]]))
SQUARE_THETA0 = np.concatenate([w.ravel() for w in SQUARE])


def sympy_loss(square: bool = False):
    """The loss and its parameters, for :func:`modeq.iterates` (``square``: the 2×2 blocks)."""
    blocks = modeq.blocks.as_blocks({"W1": (2, 2), "W2": (2, 2)} if square else SHAPES)
    w1, w2 = blocks.values["W1"], blocks.values["W2"]
    residual = w2 @ w1 - sympy.Matrix(2, 2, [sympy.Rational(repr(float(a))) for a in A.ravel()])
    return sum(r**2 for r in residual) / 2, blocks.params


def torch_iterates(make: Callable[[list[torch.Tensor]], torch.optim.Optimizer],
                   observe: Callable[[torch.Tensor, torch.Tensor], None] = lambda w1, w2: None,
                   start: tuple[np.ndarray, np.ndarray] = (W1, W2)) -> np.ndarray:
    """θ₀ and the ``STEPS`` iterates of the optimizer ``make([W1, W2])`` (float64) from
    ``start`` (e.g. ``SQUARE``); ``observe(W1, W2)`` sees the blocks, their gradients set,
    before each step."""
    w1 = torch.tensor(start[0], requires_grad=True)
    w2 = torch.tensor(start[1], requires_grad=True)
    opt = make([w1, w2])
    rows = [np.concatenate([w.ravel() for w in start])]
    for _ in range(STEPS):
        opt.zero_grad()
        loss = ((w2 @ w1 - torch.tensor(A)) ** 2).sum() / 2
        loss.backward()
        observe(w1, w2)
        opt.step()
        rows.append(np.concatenate([w1.detach().numpy().ravel(), w2.detach().numpy().ravel()]))
    return np.array(rows)
