"""Max-margin directions of separable data, with support vectors and dual weights.

For signed samples ``z_i = y_i x_i`` and a norm ``‖·‖`` the max-margin
direction solves

    γ = max_{‖w‖ ≤ 1} min_i <w, z_i>,

and the dual weights ``λ ∈ Δ_N`` (the probability simplex) are the Lagrange
multipliers of the margin constraints: ``λ_i > 0`` only on support vectors and,
for the ℓ2 norm, ``w ∝ Σ_i λ_i z_i``. Solvers:

* ℓ2: the hard-margin SVM without bias, ``min ½‖w‖² s.t. <w, z_i> ≥ 1``,
  through one non-negative least-squares problem (Lawson–Hanson active set,
  :func:`scipy.optimize.nnls`, finite termination): minimise
  ``‖Σ_i μ_i z_i‖² + (1 - Σ_i μ_i)²`` over ``μ ≥ 0``. Its KKT conditions read
  ``<z_i, v> ≥ s`` with equality where ``μ_i > 0``, ``v = Σ μ_i z_i``,
  ``s = 1 - Σ μ_i``, and ``‖v‖² = s(1 - s)`` gives ``0 < s < 1`` for separable
  data; so ``w = v/s`` and ``α = μ/s`` satisfy the SVM's KKT conditions exactly.
* Mahalanobis ``‖w‖_M = sqrt(Σ_j M_j w_j²)`` for a positive diagonal ``M``: the
  ℓ2 problem for ``u = M^{1/2} w`` on the samples ``M^{-1/2} z_i``.
* ℓ∞ and ℓ1: linear programs solved by HiGHS (:func:`scipy.optimize.linprog`);
  the dual weights are its constraint marginals. These norms are not strictly
  convex, so the maximiser may be a whole face: ``unique`` reports it, checked
  by minimising and maximising a random linear function over the optimal face.

Separability (through the origin) is decided by the ℓ∞ program: a margin
``γ∞ ≤ 1e-9·max|z|`` raises :class:`NotSeparableError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.optimize import linprog, nnls

from .datasets import SeparableData

__all__ = ["MaxMargin", "NotSeparableError", "Norm", "NORMS", "max_margin", "cosine"]

Norm = Literal["l2", "linf", "l1", "mahalanobis"]
NORMS: tuple[str, ...] = ("l2", "linf", "l1", "mahalanobis")

_SEPARABILITY_TOL = 1e-9
_ACTIVE_TOL = 1e-7


class NotSeparableError(ValueError):
    """The data cannot be separated by a hyperplane through the origin."""


@dataclass(frozen=True)
class MaxMargin:
    """A max-margin direction.

    ``direction`` has unit norm in ``norm``; ``margin`` is
    ``γ = min_i <direction, z_i>``; ``dual`` are the weights ``λ ∈ Δ_N``;
    ``support`` the indices of the samples on the margin
    (``<direction, z_i> ≤ γ(1 + 1e-7)``); ``metric`` the diagonal ``M`` for the
    Mahalanobis norm; ``unique`` whether the maximiser is a single point.
    """

    norm: str
    direction: np.ndarray
    margin: float
    dual: np.ndarray
    support: np.ndarray
    unique: bool
    metric: np.ndarray | None = None


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean cosine similarity ``<a, b>/(‖a‖‖b‖)``."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def max_margin(data: SeparableData, norm: Norm = "l2", metric: np.ndarray | None = None) -> MaxMargin:
    """The max-margin direction of ``data`` in ``norm`` (see the module docstring).

    ``metric`` is the positive diagonal ``M`` (shape ``(d,)``) of the
    Mahalanobis norm and must be given exactly when ``norm="mahalanobis"``.
    """
    if norm not in NORMS:
        raise ValueError(f"unknown norm {norm!r}; choose one of {', '.join(NORMS)}")
    if (metric is None) != (norm != "mahalanobis"):
        raise ValueError("give metric=M (a positive diagonal, shape (d,)) exactly when norm='mahalanobis'")
    z = data.z
    scale = float(np.abs(z).max())
    linf = _lp_margin(z / scale, "linf")
    if linf[1] <= _SEPARABILITY_TOL:
        raise NotSeparableError(
            f"{data.name} is not linearly separable through the origin (best ℓ∞ margin "
            f"{linf[1] * scale + 0.0:.3g} ≤ 0), so no max-margin direction exists; remove conflicting "
            "samples, or add a constant feature if a bias is intended")
    if norm == "linf":
        w, _, dual, unique = linf
    elif norm == "l1":
        w, _, dual, unique = _lp_margin(z / scale, "l1")
    elif norm == "l2":
        w, dual = _svm(z)
        unique = True
    else:
        m = _check_metric(metric, data.dim)
        u, dual = _svm(z / np.sqrt(m))
        w, unique = u / np.sqrt(m), True
    w = w / _norm(w, norm, metric)
    margins = z @ w
    margin = float(margins.min())
    support = np.flatnonzero(margins <= margin * (1 + _ACTIVE_TOL))
    return MaxMargin(norm, w, margin, dual, support, unique, None if metric is None else np.asarray(metric, float))


def _norm(w: np.ndarray, norm: str, metric: np.ndarray | None) -> float:
    if norm == "linf":
        return float(np.abs(w).max())
    if norm == "l1":
        return float(np.abs(w).sum())
    if norm == "l2":
        return float(np.linalg.norm(w))
    return float(np.sqrt(np.sum(metric * w * w)))


def _check_metric(metric, d: int) -> np.ndarray:
    m = np.asarray(metric, dtype=np.float64)
    if m.shape != (d,) or not np.all(np.isfinite(m)) or np.any(m <= 0):
        raise ValueError(f"the Mahalanobis metric must be {d} positive finite numbers (the diagonal of M)")
    return m


def _svm(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hard-margin SVM without bias by NNLS: the margin-1 ``w`` and ``λ = α/Σα``."""
    scale = float(np.abs(z).max())
    zs = z / scale
    n = zs.shape[0]
    a = np.vstack([zs.T, np.ones((1, n))])
    b = np.zeros(a.shape[0])
    b[-1] = 1.0
    mu, _ = nnls(a, b, maxiter=50 * max(n, a.shape[0]))
    s = 1.0 - mu.sum()
    if s <= _SEPARABILITY_TOL:
        raise NotSeparableError("the samples' convex hull contains the origin: the data are not separable")
    w = zs.T @ mu / s / scale
    return w, mu / mu.sum()


def _lp_margin(z: np.ndarray, norm: str) -> tuple[np.ndarray, float, np.ndarray, bool]:
    """``max γ s.t. <w, z_i> ≥ γ, ‖w‖ ≤ 1`` for ℓ∞ or ℓ1: ``(w, γ, λ, unique)``."""
    n, d = z.shape
    if norm == "linf":
        # variables (w, γ)
        a_ub = np.hstack([-z, np.ones((n, 1))])
        b_ub = np.zeros(n)
        bounds = [(-1.0, 1.0)] * d + [(None, None)]
    else:
        # variables (u, v, γ) with w = u - v, u, v ≥ 0, Σ(u + v) ≤ 1
        a_ub = np.vstack([np.hstack([-z, z, np.ones((n, 1))]),
                          np.hstack([np.ones(2 * d), [0.0]])])
        b_ub = np.concatenate([np.zeros(n), [1.0]])
        bounds = [(0.0, None)] * (2 * d) + [(None, None)]
    cost = np.zeros(a_ub.shape[1])
    cost[-1] = -1.0
    res = linprog(cost, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
    if res.status != 0:
        raise RuntimeError(f"the {norm} max-margin linear program failed: {res.message}")
    gamma = -res.fun
    w = res.x[:d] if norm == "linf" else res.x[:d] - res.x[d:2 * d]
    dual = np.maximum(-res.ineqlin.marginals[:n], 0.0)
    dual = dual / dual.sum() if dual.sum() > 0 else dual
    unique = gamma <= _SEPARABILITY_TOL or _face_is_point(cost, a_ub, b_ub, bounds, gamma, norm, d)
    return w, gamma, dual, unique


def _face_is_point(cost, a_ub, b_ub, bounds, gamma, norm, d) -> bool:
    """Whether ``w`` is constant on the optimal face: extremise a random linear function on it."""
    rng = np.random.default_rng(0)
    c = np.zeros_like(cost)
    c[:d] = rng.standard_normal(d)
    if norm == "l1":
        c[d:2 * d] = -c[:d]
    bounds = list(bounds[:-1]) + [(gamma * (1 - 1e-9), None)]
    lo = linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
    hi = linprog(-c, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
    if lo.status != 0 or hi.status != 0:
        raise RuntimeError(f"the {norm} optimal-face check failed: {lo.message} / {hi.message}")
    spread = -hi.fun - lo.fun
    return bool(spread <= 1e-6 * (np.abs(c[:d]).sum()))
