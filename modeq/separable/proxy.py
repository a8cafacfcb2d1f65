"""Epoch-level models of incremental Adam: the per-epoch recurrence and its ``β2 → 1`` proxy.

**Per-epoch recurrence.** Incremental Adam processes samples ``0, …, N-1``
cyclically. If ``w`` moves little during an epoch and the moment estimates
are stationary, the step that processes sample ``i`` (epoch ``k``, ``ε = 0``,
indices mod ``N``) uses

    m = (1-β1)/(1-β1^N) Σ_{l<N} β1^l ∇L_{i-l}(w_k),   v = (1-β2)/(1-β2^N) Σ_{l<N} β2^l ∇L_{i-l}(w_k)²,

(geometric sums over the periodic history), so one epoch is

    w_{k+1} = w_k - η_k C_inc(β1, β2) Σ_{i<N} (Σ_{l<N} β1^l ∇L_{i-l}(w_k)) / sqrt(Σ_{l<N} β2^l ∇L_{i-l}(w_k)²),
    C_inc(β1, β2) = (1-β1)/(1-β1^N) · sqrt((1-β2^N)/(1-β2)).

**Proxy.** As ``β2 → 1`` every denominator tends to ``sqrt(Σ_i ∇L_i(w)²)`` and
the numerators sum to ``(1-β1^N)/(1-β1) · N ∇L(w)``, so up to a constant the
epoch is one step of

    w_{t+1} = w_t - η_t δ(w_t),   δ(w) = ∇L(w) / sqrt(Σ_i ∇L_i(w)²)   (coordinate-wise).

Its limit direction is predicted by :mod:`modeq.separable.fixed_point`.
"""

from __future__ import annotations

from .optimizers import Optimizer

__all__ = ["adam_proxy", "c_inc", "incremental_adam_epochs"]


def c_inc(beta1: float, beta2: float, n: int) -> float:
    """``C_inc(β1, β2) = (1-β1)/(1-β1^N) · sqrt((1-β2^N)/(1-β2))`` for ``N = n`` samples."""
    if not (0.0 <= beta1 < 1.0 and 0.0 <= beta2 < 1.0):
        raise ValueError(f"beta1 and beta2 must lie in [0, 1), got {beta1}, {beta2}")
    if int(n) != n or n < 1:
        raise ValueError(f"n must be a positive integer, got {n}")
    return (1.0 - beta1) / (1.0 - beta1**n) * ((1.0 - beta2**n) / (1.0 - beta2)) ** 0.5


def incremental_adam_epochs(lr: float = 0.1, decay: float = 0.5, beta1: float = 0.9,
                            beta2: float = 0.99) -> Optimizer:
    """The per-epoch recurrence above; one step of the returned optimizer is one epoch."""
    return Optimizer(f"incremental Adam epochs (β1={beta1:g}, β2={beta2:g})", "adam_epoch", lr, decay, beta1, beta2)


def adam_proxy(lr: float = 0.1, decay: float = 0.5) -> Optimizer:
    """The ``β2 → 1`` proxy ``w_{t+1} = w_t - η_t ∇L/sqrt(Σ_i ∇L_i²)`` (full batch)."""
    return Optimizer("Adam proxy", "proxy", lr, decay)
