r"""The evaluation backend on torch: atoms by ``torch.func`` (DESIGN.md §5.4).

For a loss :math:`E_b` given as a function of a flat parameter tensor:

* :math:`\nabla E_b` is ``torch.func.grad``;
* :math:`D_k[X_1..X_k] = \partial_{X_k}\cdots\partial_{X_1}\nabla E_b` is ``k``
  nested forward-mode derivatives (``torch.func.jvp``) of ``grad``, in the
  directions :math:`X_i`, which the evaluator computes first and holds fixed
  (forward over reverse: one :math:`D_1` costs about two gradients, and memory
  stays that of a gradient);
* :math:`S[X]` is ``X.sum()``, a 0-d tensor that broadcasts;
* elementwise expressions are translated to torch code once
  (:mod:`modeq.torch.printer`).

dtype and device follow the point: everything is computed in the point's
dtype, on its device.
"""

from __future__ import annotations

from typing import Callable, Mapping, Sequence

import sympy
import torch
from torch.func import grad, jvp

from ..evaluation import Backend
from .printer import elementwise_function

__all__ = ["TorchBackend", "Loss"]

#: A loss: flat parameter tensor -> 0-d tensor.
Loss = Callable[[torch.Tensor], torch.Tensor]


class TorchBackend(Backend[torch.Tensor]):
    r"""Atoms of the losses ``losses`` (``None``: :math:`E`; ``b``: :math:`E_b`)
    in ``dimension`` parameters."""

    def __init__(self, losses: Mapping[int | None, Loss], dimension: int) -> None:
        self.losses = dict(losses)
        self._dimension = int(dimension)
        self._gradients = {label: grad(loss) for label, loss in self.losses.items()}

    @property
    def dimension(self) -> int:
        return self._dimension

    def _gradient(self, loss: int | None) -> Callable[[torch.Tensor], torch.Tensor]:
        try:
            return self._gradients[loss]
        except KeyError:
            labels = ", ".join("E" if k is None else f"E_{k}" for k in self.losses)
            raise ValueError(f"the field needs the batch loss E_{loss}, but loss_fn gives only {labels}") from None

    def theta(self, point):
        return point

    def grad(self, point, loss):
        return self._gradient(loss)(point)

    def value(self, point, loss):
        self._gradient(loss)  # the clear error for a missing batch loss
        return self.losses[loss](point)

    def contract(self, point, args, loss):
        derivative = self._gradient(loss)
        for direction in args:
            derivative = _directional(derivative, direction)
        return derivative(point)

    def reduce(self, x):
        return x.sum()

    def elementwise(self, expr: sympy.Expr, inputs: Sequence[sympy.Symbol]):
        return elementwise_function(expr, inputs)

    def broadcast(self, value, point):
        if isinstance(value, torch.Tensor) and value.shape == point.shape:
            return value
        return torch.as_tensor(value, dtype=point.dtype, device=point.device).expand(point.shape).clone()


def _directional(function: Callable[[torch.Tensor], torch.Tensor], direction: torch.Tensor):
    r""":math:`\theta \mapsto \partial_X F(\theta)` for a fixed direction :math:`X`."""
    direction = direction.detach()
    return lambda theta: jvp(function, (theta,), (direction.expand_as(theta),))[1]
