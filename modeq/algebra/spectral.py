r"""Inverse roots of a symmetric positive definite matrix jet (spectral operator nodes).

The exact polar factor :math:`\operatorname{msign}(X) = (XX^\top)^{-1/2}X`
(Muon's limit of infinitely many Newton–Schulz steps) and Shampoo's
preconditioners need :math:`B = (A + \varepsilon I)^{-1/2^q}` of a symmetric
matrix :math:`A`, and its mixed derivatives along directions
:math:`1..k` (a :class:`~modeq.algebra.matrix_maps.Jet`: one matrix
:math:`\partial_S A` per subset :math:`S`). They follow from two recursions on
subsets, each in the eigenbasis :math:`A_0 + \varepsilon I = Q\Lambda Q^\top`
of the value, where every matrix is written as :math:`\tilde X = Q^\top XQ`:

* square root :math:`X = A^{1/2}`: from :math:`\partial_S(XX) = \partial_S A`
  (Leibniz), :math:`X_0\partial_S X + \partial_S X\,X_0 = R_S`,
  :math:`R_S = \partial_S A - \sum_{\emptyset\ne T\subsetneq S}\partial_T X\,\partial_{S\setminus T}X`,
  a Sylvester equation that is diagonal in the eigenbasis:
  :math:`(\partial_S\tilde X)_{ij} = (\tilde R_S)_{ij}/(\mu_i + \mu_j)`,
  :math:`\tilde X_0 = \operatorname{diag}(\mu)`, :math:`\mu = \lambda^{1/2}`
  (the first-order case is the Daleckii–Krein formula for :math:`x^{1/2}`);
  :math:`q` times for the :math:`2^q`-th root (the eigenbasis stays the same);
* inverse :math:`Z = X^{-1}`: from :math:`\partial_S(XZ) = 0`,
  :math:`\partial_S\tilde Z = -\tilde Z_0\sum_{\emptyset\ne T\subseteq S}\partial_T\tilde X\,\partial_{S\setminus T}\tilde Z`,
  :math:`\tilde Z_0 = \operatorname{diag}(1/\nu)`.

Subsets are taken in the order of their bit masks (every proper subset of
:math:`S` comes before :math:`S`); the cost is :math:`O(3^k n^3)` for
:math:`n\times n` blocks. A singular argument (:math:`\lambda_{\min} \le
10^{-13}\lambda_{\max}`: a zero or rank-deficient momentum or gradient block)
has no inverse root: refused with :class:`SingularBlock`, whose message
suggests the regularized form.

:func:`inverse_root` is the NumPy implementation (the reference path and
:class:`~modeq.evaluation.NumpyBackend`); :data:`KERNEL_FUNCTIONS` is the same
recursion as numba source for the interpreter of traced programs
(:mod:`modeq.algebra.matrix_trace`), with a cyclic Jacobi eigensolver in plain
loops (blocks are small; no LAPACK in the compiled module).
"""

from __future__ import annotations

import numpy as np

__all__ = ["SingularBlock", "inverse_root", "singular_message", "KERNEL_FUNCTIONS", "RELATIVE_TOLERANCE"]

#: An argument with :math:`\lambda_{\min} \le` this times :math:`\lambda_{\max}` is singular.
RELATIVE_TOLERANCE = 1e-13

#: What to do about a singular block (the numba kernel spells the same words).
ADVICE = ("use the regularized form msign(x, eps=1e-8) = (X X^T + eps I)^(-1/2) X (Shampoo: eps > 0, "
          "its statistics' start eps I), or start where the momentum block has full rank")


def singular_message(where: str) -> str:
    """The one line refusing an inverse root at a singular matrix, ``where`` naming the block."""
    return (f"msign / inverse root at a singular matrix: {where} is rank-deficient here "
            f"(a zero or low-rank momentum or gradient block, or Shampoo's statistic of it); {ADVICE}")


class SingularBlock(ValueError):
    """An inverse root of a singular matrix was asked for."""


def inverse_root(parts: dict, q: int, eps: float) -> dict:
    r"""The jet of :math:`(A + \varepsilon I)^{-1/2^q}` of a symmetric jet ``parts``
    (``{frozenset(S): ∂_S A}``, absent subsets zero; the value under ``frozenset()``)."""
    a0 = np.asarray(parts[frozenset()], dtype=float)
    n = a0.shape[0]
    lam, basis = np.linalg.eigh((a0 + a0.T) / 2 + eps * np.eye(n))
    if not lam[-1] > 0 or lam[0] <= RELATIVE_TOLERANCE * lam[-1]:
        raise SingularBlock(singular_message("the block"))
    directions = sorted(set().union(*parts))
    masks = {frozenset(d for b, d in enumerate(directions) if m >> b & 1): m for m in range(1 << len(directions))}
    x = np.zeros((1 << len(directions), n, n))
    for subset, value in parts.items():
        if subset:
            x[masks[subset]] = basis.T @ np.asarray(value, dtype=float) @ basis
    mu = lam
    for _ in range(q):
        mu = np.sqrt(mu)
        x[0] = np.diag(mu)
        for s in range(1, len(x)):
            x[s] = (x[s] - sum(x[t] @ x[s ^ t] for t in _proper(s))) / (mu[:, None] + mu[None, :])
    z = np.zeros_like(x)
    z[0] = np.diag(1 / mu)
    for s in range(1, len(z)):
        z[s] = -(x[s] @ z[0] + sum(x[t] @ z[s ^ t] for t in _proper(s))) / mu[:, None]
    return {subset: basis @ z[m] @ basis.T for subset, m in masks.items()}


def _proper(s: int):
    """The nonempty proper subsets of the bit mask ``s``."""
    t = (s - 1) & s
    while t:
        yield t
        t = (t - 1) & s


#: The numba source of the recursion: ``_jacobi(a, n)`` diagonalizes the
#: symmetric ``a[:n, :n]`` in place (eigenvalues on its diagonal) and returns
#: the eigenvectors (columns); ``_jet_inverse_root(work, a, r, n, parts, q, eps)``
#: writes the jet of :math:`(A + \varepsilon I)^{-1/2^q}`, :math:`A` the
#: :math:`n\times n` jet in register ``a`` of the interpreter's ``work``, into
#: register ``r``, and returns False (writing nothing) if :math:`A` is singular.
KERNEL_FUNCTIONS = [
    ("_jacobi", "a, n", [
        "v = np.zeros((n, n))",
        "for p in range(n):",
        "    v[p, p] = 1.0",
        "for sweep in range(60):",
        "    off, total = 0.0, 0.0",
        "    for p in range(n):",
        "        for m in range(n):",
        "            total += a[p, m] * a[p, m]",
        "            if p != m:",
        "                off += a[p, m] * a[p, m]",
        "    if off <= 1e-32 * total:",
        "        break",
        "    for p in range(n - 1):",
        "        for r in range(p + 1, n):",
        "            if a[p, r] != 0.0:",
        "                theta = (a[r, r] - a[p, p]) / (2.0 * a[p, r])",
        "                t = 1.0 / (abs(theta) + np.sqrt(theta * theta + 1.0)) if abs(theta) < 1e150 else 0.5 / abs(theta)",
        "                if theta < 0.0:",
        "                    t = -t",
        "                c = 1.0 / np.sqrt(t * t + 1.0)",
        "                s = t * c",
        "                for m in range(n):",
        "                    x, y = a[m, p], a[m, r]",
        "                    a[m, p], a[m, r] = c * x - s * y, s * x + c * y",
        "                for m in range(n):",
        "                    x, y = a[p, m], a[r, m]",
        "                    a[p, m], a[r, m] = c * x - s * y, s * x + c * y",
        "                for m in range(n):",
        "                    x, y = v[m, p], v[m, r]",
        "                    v[m, p], v[m, r] = c * x - s * y, s * x + c * y",
        "return v",
    ]),
    ("_jet_inverse_root", "work, a, r, n, parts, q, eps", [
        "value = np.empty((n, n))",
        "for i in range(n):",
        "    for j in range(n):",
        "        value[i, j] = 0.5 * (work[a, 0, i, j] + work[a, 0, j, i])",
        "    value[i, i] += eps",
        "basis = _jacobi(value, n)",
        "mu = np.empty(n)",
        "low, high = np.inf, -np.inf",
        "for i in range(n):",
        "    mu[i] = value[i, i]",
        "    low, high = min(low, mu[i]), max(high, mu[i])",
        f"if not high > 0.0 or low <= {RELATIVE_TOLERANCE!r} * high:",
        "    return False",
        "x = np.zeros((parts, n, n))",
        "tmp = np.zeros((n, n))",
        "for s in range(1, parts):",  # x[s] = Q^T A_s Q
        "    for i in range(n):",
        "        for j in range(n):",
        "            total = 0.0",
        "            for m in range(n):",
        "                total += work[a, s, i, m] * basis[m, j]",
        "            tmp[i, j] = total",
        "    for i in range(n):",
        "        for j in range(n):",
        "            total = 0.0",
        "            for m in range(n):",
        "                total += basis[m, i] * tmp[m, j]",
        "            x[s, i, j] = total",
        "for level in range(q):",
        "    for i in range(n):",
        "        mu[i] = np.sqrt(mu[i])",
        "        for j in range(n):",
        "            x[0, i, j] = mu[i] if i == j else 0.0",
        "    for s in range(1, parts):",
        "        t = (s - 1) & s",
        "        while t:",
        "            for i in range(n):",
        "                for m in range(n):",
        "                    y = x[t, i, m]",
        "                    for j in range(n):",
        "                        x[s, i, j] -= y * x[s ^ t, m, j]",
        "            t = (t - 1) & s",
        "        for i in range(n):",
        "            for j in range(n):",
        "                x[s, i, j] /= mu[i] + mu[j]",
        "z = np.zeros((parts, n, n))",
        "for i in range(n):",
        "    z[0, i, i] = 1.0 / mu[i]",
        "for s in range(1, parts):",
        "    t = s",
        "    while t:",
        "        for i in range(n):",
        "            for m in range(n):",
        "                y = x[t, i, m]",
        "                for j in range(n):",
        "                    z[s, i, j] -= y * z[s ^ t, m, j]",
        "        t = (t - 1) & s",
        "    for i in range(n):",
        "        for j in range(n):",
        "            z[s, i, j] /= mu[i]",
        "for s in range(parts):",  # back: Q z Q^T
        "    for i in range(n):",
        "        for j in range(n):",
        "            total = 0.0",
        "            for m in range(n):",
        "                total += basis[i, m] * z[s, m, j]",
        "            tmp[i, j] = total",
        "    for i in range(n):",
        "        for j in range(n):",
        "            total = 0.0",
        "            for m in range(n):",
        "                total += tmp[i, m] * basis[j, m]",
        "            work[r, s, i, j] = total",
        "return True",
    ]),
]
