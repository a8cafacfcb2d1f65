"""Optimizers on the logistic loss of separable data, compiled with numba.

Notation (Baek, Song, Yun): signed samples ``z_i = y_i x_i``, per-sample loss
``L_i(w) = ℓ(<w, z_i>)`` with ``ℓ(u) = log(1 + e^{-u})``, full loss
``L = (1/N) Σ_i L_i``, batch loss ``L_B = (1/|B|) Σ_{i∈B} L_i``, step sizes
``η_t = η₀/(t+1)^a`` for ``t = 0, 1, …`` (``a = decay ∈ [0, 1]``).

* GD / SGD: ``w_{t+1} = w_t - η_t ∇L_{B_t}(w_t)``; normalized:
  ``w_{t+1} = w_t - η_t ∇L_{B_t}/‖∇L_{B_t}‖₂`` (same ℓ2 bias, much faster in
  direction than GD's ``1/log t``).
* Adam (bias-corrected, ``ε`` inside the root):
  ``m_{t+1} = β1 m_t + (1-β1) ∇L_{B_t}``, ``v_{t+1} = β2 v_t + (1-β2) ∇L_{B_t}²``,
  ``w_{t+1} = w_t - η_t (m_{t+1}/(1-β1^{t+1})) / sqrt(v_{t+1}/(1-β2^{t+1}) + ε)``.
  Full batch ``B_t = [N]``; incremental Adam takes one sample per step in the
  fixed cyclic order ``B_t = {t mod N}``; mini-batch Adam draws batches of any
  size without replacement (a new random order every epoch) or with replacement.
  ``ε = 0`` is allowed and is the default: with ``ε > 0`` every Adam variant
  turns into GD once ``∇L² ≪ ε``, so on separable data its late-time bias is ℓ2.
  Coordinates whose second moment is exactly zero are not moved.
* Signum: ``m_{t+1} = β m_t + (1-β) ∇L_{B_t}``, ``w_{t+1} = w_t - η_t sign(m_{t+1})``.

The epoch recurrence of incremental Adam and its ``β2 → 1`` proxy are in
:mod:`modeq.separable.proxy`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from . import _loops
from .datasets import SeparableData

__all__ = [
    "DivergenceError",
    "Optimizer",
    "Trajectory",
    "Sampling",
    "adam",
    "gd",
    "incremental_adam",
    "log_steps",
    "sgd",
    "signum",
]

Sampling = Literal["full", "cyclic", "shuffle", "replace"]

_RULES = {"gd": _loops.GD, "normalized_gd": _loops.NORMALIZED_GD, "adam": _loops.ADAM,
          "signum": _loops.SIGNUM, "proxy": _loops.PROXY, "adam_epoch": _loops.ADAM_EPOCH}
_SAMPLINGS = {"full": _loops.FULL, "cyclic": _loops.CYCLIC, "shuffle": _loops.SHUFFLE, "replace": _loops.REPLACE}


class DivergenceError(FloatingPointError):
    """An optimizer produced a non-finite iterate."""


@dataclass(frozen=True)
class Trajectory:
    """Iterates ``weights[k] = w_{steps[k]}`` of one run (``steps`` counts updates)."""

    optimizer: "Optimizer"
    steps: np.ndarray
    weights: np.ndarray

    @property
    def final(self) -> np.ndarray:
        return self.weights[-1]

    def cosines(self, direction: np.ndarray) -> np.ndarray:
        """``cos(w_t, direction)`` at every recorded step (NaN where ``w_t = 0``)."""
        direction = np.asarray(direction, dtype=np.float64)
        norms = np.linalg.norm(self.weights, axis=1) * np.linalg.norm(direction)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(norms > 0, self.weights @ direction / np.where(norms > 0, norms, 1.0), np.nan)

    def first_step_above(self, direction: np.ndarray, level: float = 0.99) -> int | None:
        """The first recorded step from which ``cos(w_t, direction) ≥ level`` holds to the end, or ``None``."""
        below = np.flatnonzero(~(self.cosines(direction) >= level))
        start = 0 if below.size == 0 else below[-1] + 1
        return None if start >= self.steps.size else int(self.steps[start])


@dataclass(frozen=True)
class Optimizer:
    """A configured update rule; build one with :func:`gd`, :func:`adam`, … and call :meth:`run`.

    ``batch_size=None`` means the full batch. ``rule`` is one of ``gd``,
    ``normalized_gd``, ``adam``, ``signum``, ``proxy``, ``adam_epoch``.
    """

    name: str
    rule: str
    lr: float
    decay: float
    beta1: float = 0.0
    beta2: float = 0.0
    eps: float = 0.0
    batch_size: int | None = None
    sampling: Sampling = "full"
    seed: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        if self.rule not in _RULES:
            raise ValueError(f"unknown rule {self.rule!r}; choose one of {', '.join(_RULES)}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"{self.name}: the step size lr must be a positive number, got {self.lr}")
        if not (0.0 <= self.decay <= 1.0):
            raise ValueError(f"{self.name}: decay a in η_t = lr/(t+1)^a must lie in [0, 1], got {self.decay}")
        momentum = "beta" if self.rule == "signum" else "beta1"
        for label, beta in ((momentum, self.beta1), ("beta2", self.beta2)):
            if not (0.0 <= beta < 1.0):
                raise ValueError(f"{self.name}: {label} must lie in [0, 1), got {beta}")
        if not (math.isfinite(self.eps) and self.eps >= 0):
            raise ValueError(f"{self.name}: eps must be ≥ 0 (0 is the separable-data analysis), got {self.eps}")
        if self.sampling not in _SAMPLINGS:
            raise ValueError(f"{self.name}: sampling must be one of {', '.join(_SAMPLINGS)}, got {self.sampling!r}")
        if (self.batch_size is None) != (self.sampling == "full"):
            raise ValueError(f"{self.name}: give a batch_size exactly when sampling is not 'full'")
        if self.batch_size is not None and (int(self.batch_size) != self.batch_size or self.batch_size < 1):
            raise ValueError(f"{self.name}: batch_size must be a positive integer, got {self.batch_size}")

    def run(self, data: SeparableData, steps: int, record: np.ndarray | None = None,
            w0: np.ndarray | None = None) -> Trajectory:
        """Run ``steps`` updates from ``w0`` (default 0), keeping ``w`` at the ``record`` steps.

        ``record`` defaults to :func:`log_steps` ``(steps)``; it is sorted and
        must lie in ``[0, steps]`` and include ``steps``.
        """
        if int(steps) != steps or steps < 1:
            raise ValueError(f"steps must be a positive integer, got {steps}")
        record = log_steps(steps) if record is None else np.unique(np.asarray(record, dtype=np.int64))
        if record.size == 0 or record[0] < 0 or record[-1] != steps:
            raise ValueError(f"record must be step counts in [0, {steps}] that include {steps}")
        if self.batch_size is not None and self.batch_size > data.n_samples:
            raise ValueError(f"{self.name}: batch_size {self.batch_size} exceeds the {data.n_samples} samples")
        w0 = np.zeros(data.dim) if w0 is None else np.array(w0, dtype=np.float64).reshape(-1)
        if w0.shape != (data.dim,) or not np.all(np.isfinite(w0)):
            raise ValueError(f"w0 must be {data.dim} finite numbers")
        weights, failed = _loops.run_loop(
            data.z, w0, _RULES[self.rule], float(self.lr), float(self.decay), float(self.beta1),
            float(self.beta2), float(self.eps), int(self.batch_size or data.n_samples),
            _SAMPLINGS[self.sampling], int(self.seed), record)
        if failed:
            raise DivergenceError(
                f"{self.name} diverged on {data.name}: the iterate became non-finite by step {failed}; "
                f"lower lr (now {self.lr:g}) or raise decay (now {self.decay:g})")
        return Trajectory(self, record, weights)


def log_steps(steps: int, points: int = 80) -> np.ndarray:
    """About ``points`` step counts from 1 to ``steps``, evenly spaced in ``log t``."""
    return np.unique(np.geomspace(1, steps, points).astype(np.int64))


def gd(lr: float = 0.1, decay: float = 0.5, normalized: bool = False) -> Optimizer:
    """Full-batch gradient descent (ℓ2 bias); ``normalized`` divides steps by ``‖∇L‖₂``."""
    return Optimizer("normalized GD" if normalized else "GD", "normalized_gd" if normalized else "gd", lr, decay)


def sgd(lr: float = 0.1, decay: float = 0.5, batch_size: int = 1, sampling: Sampling = "shuffle",
        normalized: bool = False, seed: int = 0) -> Optimizer:
    """Mini-batch SGD (ℓ2 bias for any batch size); optionally normalized."""
    name = _label("normalized SGD" if normalized else "SGD", batch_size, sampling)
    return Optimizer(name, "normalized_gd" if normalized else "gd", lr, decay,
                     batch_size=batch_size, sampling=sampling, seed=seed)


def adam(lr: float = 0.1, decay: float = 0.5, beta1: float = 0.9, beta2: float = 0.99, eps: float = 0.0,
         batch_size: int | None = None, sampling: Sampling | None = None, seed: int = 0) -> Optimizer:
    """Adam, full batch by default; with ``batch_size``, mini-batch Adam
    (``sampling="shuffle"`` without replacement by default, or ``"replace"``, ``"cyclic"``)."""
    sampling = ("full" if batch_size is None else "shuffle") if sampling is None else sampling
    name = _label("Adam", batch_size, sampling, β1=beta1, β2=beta2, ε=eps)
    return Optimizer(name, "adam", lr, decay, beta1, beta2, eps, batch_size, sampling, seed)


def incremental_adam(lr: float = 0.1, decay: float = 0.5, beta1: float = 0.9, beta2: float = 0.99,
                     eps: float = 0.0) -> Optimizer:
    """Incremental Adam: one sample per step, in the fixed cyclic order ``0, 1, …, N-1, 0, …``."""
    return Optimizer(_label("incremental Adam", None, "full", β1=beta1, β2=beta2, ε=eps), "adam", lr, decay, beta1, beta2, eps, 1, "cyclic")


def signum(lr: float = 0.1, decay: float = 0.5, beta: float = 0.9, batch_size: int | None = None,
           sampling: Sampling | None = None, seed: int = 0) -> Optimizer:
    """Signum (sign of the momentum), full batch or mini-batch of any size (ℓ∞ bias for β near 1)."""
    sampling = ("full" if batch_size is None else "shuffle") if sampling is None else sampling
    name = _label("Signum", batch_size, sampling, β=beta)
    return Optimizer(name, "signum", lr, decay, beta1=beta, batch_size=batch_size, sampling=sampling, seed=seed)


def _label(base: str, batch_size: int | None, sampling: str, **hyper: float) -> str:
    """A readable name such as ``Adam (batch 5, shuffle; β1=0.9, β2=0.99)``; ``ε = 0`` is left out."""
    parts = [] if batch_size is None else [f"batch {batch_size}" + ("" if sampling == "shuffle" else f", {sampling}")]
    values = ", ".join(f"{key}={value:g}" for key, value in hyper.items() if not (key == "ε" and value == 0))
    inner = "; ".join(part for part in (", ".join(parts), values) if part)
    return f"{base} ({inner})" if inner else base
