r"""History-consistent starts for ``torch.optim`` optimizers (DESIGN.md §1.6).

An optimizer with memory started with empty buffers is off the modified
trajectory for its first :math:`\sim 1/(1-\beta)` steps, an :math:`O(h^2)`
global error whatever the order. The compiled path (:mod:`modeq.numerics.history`)
replays :math:`K` past iterates, :math:`\beta^K \le 10^{-18}`, sampled
backwards on the modified flow — :math:`K \approx 41\,000` for
:math:`\beta = 0.999`, i.e. 41 000 gradients and a long backward integration
per start: fine for ten parameters, too slow for a network.

Here the buffers are **set directly**. Every buffer of these optimizers is a
moving sum over the past steps,

.. math:: s = \sum_{k\ge1} c\,d^{\,k-1}\, q(\theta_{-k}), \qquad \theta_{-k} = \varphi_{-kh}(\theta_0),

of a per-step quantity :math:`q` (the gradient as torch sees it,
:math:`g = \pm\nabla E + \lambda\theta`, or its square). Along the flow
:math:`k \mapsto q(\varphi_{-kh}(\theta_0))` is smooth on the scale
:math:`1/h`, so the sum is computed by **Gauss quadrature for the discrete
measure** :math:`w_k = c\,d^{k-1}` on :math:`k = 1..K`: ``NODES`` nodes
:math:`k_i` (not integers: the flow is sampled between grid points) and
weights :math:`W_i` from the Lanczos process on the measure, exact for
polynomials of degree :math:`2\cdot` ``NODES`` :math:`- 1` in :math:`k`. Its
error is of the order of the :math:`(2\cdot\mathrm{NODES})`-th derivative of
:math:`q` along the flow, :math:`O((h/(1-d))^{2\cdot\mathrm{NODES}})`, far
below the truncation errors measured. Cost: one backward integration to the
furthest node (:math:`\approx 9.4\,h/(1-d)` for four nodes) and one gradient
per node, instead of :math:`K` of each.

The step counter is set to :math:`K` (bias corrections :math:`1-\beta^K = 1`:
the stationary regime). Per optimizer (torch's own state names):

* ``SGD``: ``momentum_buffer`` :math:`= \sum_k \mu^{k-1} g_{-k}` (``nesterov`` too);
* ``Adam``, ``AdamW``: ``exp_avg`` :math:`= \sum_k (1-\beta_1)\beta_1^{k-1} g_{-k}`,
  ``exp_avg_sq`` with :math:`\beta_2` and :math:`g^2`;
* ``RMSprop``: ``square_avg`` (:math:`\alpha`, :math:`g^2`), ``grad_avg``
  when centered (:math:`\alpha`, :math:`g`). With momentum its buffer sums
  the past *normalized* steps, whose normalizers are themselves past states;
  that nested history is refused (use ``method="global"``).

The buffers are installed by one step with learning rate 0 (so torch creates
its state with its own dtypes) followed by in-place copies.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np
import torch

__all__ = ["gauss_nodes", "Buffer", "buffers", "install", "REPLAYED", "NODES"]

#: Nodes of the quadrature per decay.
NODES = 4
#: Past steps the measure covers (and the step counter): :math:`d^K \le 10^{-18}`.
FORGOTTEN = 1e-18


def history_steps(decay: float) -> int:
    return max(2, math.ceil(math.log(FORGOTTEN) / math.log(decay))) if 0 < decay < 1 else 1


#: The step counter installed in optimizers with bias correction.
REPLAYED = 10**9


def gauss_nodes(decay: float, count: int = NODES) -> tuple[np.ndarray, np.ndarray]:
    r"""Nodes :math:`k_i` and weights :math:`W_i` (summing to 1) of the Gauss
    quadrature for :math:`w_k \propto d^{k-1}`, :math:`k = 1..K`: the Lanczos
    process on the discrete measure, with full re-orthogonalization."""
    if not 0 <= decay < 1:
        raise ValueError(f"a decay must lie in [0, 1), got {decay!r}")
    steps = history_steps(decay)
    k = np.arange(1, steps + 1, dtype=float)
    weights = decay ** (k - 1)
    weights /= weights.sum()
    count = min(count, steps)
    scale = 1.0 / (1.0 - decay)
    x = k / scale  # O(1) values: better conditioned
    q = np.sqrt(weights)
    basis = [q]
    alpha, beta = [], []
    for j in range(count):
        v = x * basis[-1]
        alpha.append(float(v @ basis[-1]))
        for b in basis:
            v -= (v @ b) * b
        for b in basis:
            v -= (v @ b) * b
        norm = float(np.linalg.norm(v))
        if j + 1 == count or norm < 1e-14:
            break
        beta.append(norm)
        basis.append(v / norm)
    jacobi = np.diag(alpha) + np.diag(beta, 1) + np.diag(beta, -1)
    nodes, vectors = np.linalg.eigh(jacobi)
    return nodes * scale, vectors[0] ** 2


@dataclass(frozen=True)
class Buffer:
    r"""A state buffer :math:`s = \sum_k` ``weight`` :math:`\cdot d^{k-1} q(\theta_{-k})`:
    ``quantity`` maps (gradient as torch sees it) to :math:`q`."""

    name: str
    decay: float
    weight: float
    quantity: Callable[[torch.Tensor], torch.Tensor]


def _square(g: torch.Tensor) -> torch.Tensor:
    return g * g


def _same(g: torch.Tensor) -> torch.Tensor:
    return g


def buffers(kind: str, settings: Mapping) -> list[Buffer]:
    """The moving-sum buffers of a torch optimizer class ``kind`` with its
    parameter-group ``settings``."""
    if kind == "SGD":
        mu = float(settings.get("momentum", 0.0))
        return [Buffer("momentum_buffer", mu, 1.0, _same)] if mu else []
    if kind in ("Adam", "AdamW"):
        beta1, beta2 = (float(b) for b in settings["betas"])
        return [Buffer("exp_avg", beta1, 1 - beta1, _same), Buffer("exp_avg_sq", beta2, 1 - beta2, _square)]
    if kind == "RMSprop":
        alpha = float(settings["alpha"])
        if float(settings.get("momentum", 0.0)):
            raise ValueError("a history-consistent start for RMSprop with momentum needs the past normalized steps, "
                             "each with its own past second moment; use method='global' (or momentum=0)")
        out = [Buffer("square_avg", alpha, 1 - alpha, _square)]
        if settings.get("centered"):
            out.append(Buffer("grad_avg", alpha, 1 - alpha, _same))
        return out
    raise ValueError(f"no history-consistent start for torch.optim.{kind}; use method='global'")


def torch_gradient(loss_grad: Callable[[torch.Tensor], torch.Tensor], kind: str, settings: Mapping):
    r"""The per-step gradient as torch's update sees it: :math:`\pm\nabla E + \lambda\theta`
    (coupled weight decay only)."""
    sign = -1.0 if settings.get("maximize") else 1.0
    decay = float(settings.get("weight_decay", 0.0))
    coupled = decay and not (kind == "AdamW" or settings.get("decoupled_weight_decay"))

    def gradient(theta: torch.Tensor) -> torch.Tensor:
        g = sign * loss_grad(theta)
        return g + decay * theta if coupled else g

    return gradient


def install(optimizer: torch.optim.Optimizer, parameter: torch.Tensor, values: Mapping[str, torch.Tensor]) -> None:
    """Create ``optimizer``'s state for ``parameter`` (a step with learning rate 0
    and a zero gradient) and overwrite the buffers ``values`` and the step counter."""
    group = optimizer.param_groups[0]
    lr = group["lr"]
    group["lr"] = 0.0
    parameter.grad = torch.zeros_like(parameter)
    before = parameter.detach().clone()
    optimizer.step()
    group["lr"] = lr
    with torch.no_grad():
        parameter.copy_(before)
    state = optimizer.state[parameter]
    for name, value in values.items():
        state[name].copy_(value)
    if "step" in state:
        step = state["step"]
        if isinstance(step, torch.Tensor):
            step.fill_(REPLAYED)
        else:
            state["step"] = REPLAYED
