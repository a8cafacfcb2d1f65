r"""The dual fixed point that predicts the limit direction of the Adam proxy.

**Derivation.** Write ``q_i(w) = σ(-<w, z_i>) = -ℓ'(<w, z_i>) > 0`` so that
``∇L_i(w) = -q_i z_i`` and ``∇L(w) = -(1/N) Σ_i q_i z_i``. Normalise the weights
to the simplex, ``λ_i = q_i / Σ_k q_k``. The proxy direction is homogeneous of
degree 0 in ``q``, hence a function of ``λ`` alone:

    δ_j(w) = ∇_j L / sqrt(Σ_i (∇_j L_i)²) = -(1/N) (Σ_i λ_i z_ij) / sqrt(Σ_i λ_i² z_ij²),

i.e. ``δ = -(1/N) P(λ) Zᵀλ`` with the diagonal preconditioner
``P(λ) = M(λ)^{-1}``,

    M(λ)_j = sqrt(Σ_i λ_i² z_ij²).

Suppose ``w_t/‖w_t‖ → ŵ`` and ``λ(w_t) → λ*``. Then ``‖w_t‖ → ∞`` like
``Σ_s η_s``, every ``q_i`` decays like ``exp(-<w_t, z_i>)``, and ``λ*`` lives
on the samples of smallest margin ``<ŵ, z_i>`` (the support set ``S``). The
increments average to ``-δ ∝ M(λ*)^{-1} Zᵀλ*``, so

    ŵ ∝ M*^{-1} Σ_{i∈S} λ*_i z_i,   <ŵ, z_i> = γ on S,   <ŵ, z_i> > γ off S,   λ* ≥ 0:

exactly the KKT conditions of the Mahalanobis max-margin problem
``min ½ wᵀM* w s.t. <w, z_i> ≥ 1`` (the metric in which the proxy is plain
gradient descent: ``w = M*^{-1/2} u`` turns the preconditioned flow into GD on
``u``, whose bias is ℓ2 in ``u``), with dual weights proportional to ``λ*``.
The dual weights ``α(M)`` of that problem satisfy ``α(cM) = c α(M)`` and
``M(cλ) = c M(λ)``, so the condition is scale-free and reads, on the simplex
``Δ_N``,

    λ = F(λ),   F(λ) = α(M(λ)) / ‖α(M(λ))‖₁.                                  (★)

The predicted direction is the ``‖·‖_{M(λ)}`` max-margin direction at a
solution of (★). When all samples are "generalized Rademacher"
(``|z_ij| = a_i`` for all ``j``), ``M(λ) ∝ I`` for every ``λ`` and the
prediction is the ℓ2 direction; when a single support vector ``k`` carries
all weight, ``M = |z_k|`` and the prediction is ``sign(z_k)``.

**Solving.** (★) is solved by the damped iteration
``λ ← (1-τ)λ + τ F(λ)`` from the ℓ2 dual weights; each ``F`` is one exact
NNLS solve (:mod:`modeq.separable.margins`). The returned residual is
``‖F(λ) - λ‖₁``. (★) may have several solutions; the iteration finds one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .datasets import SeparableData
from .margins import MaxMargin, max_margin

__all__ = ["FixedPointError", "ProxyPrediction", "proxy_metric", "solve_fixed_point"]


class FixedPointError(ArithmeticError):
    """The dual fixed-point iteration did not converge."""


@dataclass(frozen=True)
class ProxyPrediction:
    """A solution ``λ`` of (★), its metric ``M(λ)``, and the predicted direction.

    ``margin`` holds the ``‖·‖_M`` max-margin problem at ``λ`` (its
    ``direction`` is the prediction); ``residual = ‖F(λ) - λ‖₁``.
    """

    dual: np.ndarray
    metric: np.ndarray
    margin: MaxMargin
    residual: float
    iterations: int

    @property
    def direction(self) -> np.ndarray:
        return self.margin.direction


def proxy_metric(data: SeparableData, dual: np.ndarray) -> np.ndarray:
    """``M(λ)_j = sqrt(Σ_i λ_i² z_ij²)``, the diagonal metric of the proxy at weights ``λ``."""
    lam = np.asarray(dual, dtype=np.float64)
    if lam.shape != (data.n_samples,) or np.any(lam < 0) or not np.isclose(lam.sum(), 1.0):
        raise ValueError(f"dual weights must be {data.n_samples} non-negative numbers summing to 1")
    return np.sqrt((lam[:, None] ** 2 * data.z**2).sum(axis=0))


def solve_fixed_point(data: SeparableData, damping: float = 0.5, tol: float = 1e-10,
                      max_iter: int = 500) -> ProxyPrediction:
    """Solve (★) for ``data`` and return the proxy's predicted limit direction."""
    if not (0.0 < damping <= 1.0):
        raise ValueError(f"damping τ must lie in (0, 1], got {damping}")
    lam = max_margin(data, "l2").dual
    for iteration in range(1, max_iter + 1):
        margin = _mahalanobis(data, lam)
        residual = float(np.abs(margin.dual - lam).sum())
        if residual <= tol:
            return ProxyPrediction(lam, margin.metric, margin, residual, iteration)
        lam = (1.0 - damping) * lam + damping * margin.dual
    raise FixedPointError(
        f"the dual fixed point of {data.name} did not converge in {max_iter} iterations "
        f"(residual {residual:.2e} > {tol:g}); try a smaller damping (now {damping:g}) or more iterations")


def _mahalanobis(data: SeparableData, lam: np.ndarray) -> MaxMargin:
    metric = proxy_metric(data, lam)
    zero = np.flatnonzero(metric <= 0)
    if zero.size:
        raise FixedPointError(
            f"the proxy metric M(λ) vanishes in coordinates {zero[:8].tolist()}: those features are zero on "
            "every sample with dual weight, so the proxy does not control them; drop those features")
    return max_margin(data, "mahalanobis", metric=metric)
