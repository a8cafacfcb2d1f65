"""Linearly separable binary data sets for logistic regression.

A data set is ``N`` samples ``x_i ∈ R^d`` with labels ``y_i ∈ {-1, +1}``.
Everything downstream only needs the *signed samples* ``z_i = y_i x_i``: the
per-sample logistic loss is ``L_i(w) = log(1 + exp(-<w, z_i>))`` and the data
are separable (through the origin, no bias term) when some ``w`` has
``<w, z_i> > 0`` for all ``i``. A bias can be modelled by a constant feature.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "SeparableData",
    "from_arrays",
    "from_csv",
    "gaussian_clusters",
    "generalized_rademacher",
    "shifted_diagonal",
]


@dataclass(frozen=True)
class SeparableData:
    """Samples ``x`` (shape ``(N, d)``), labels ``y`` in ``{-1, +1}`` and a name.

    Separability is checked where it matters (:func:`modeq.separable.max_margin`);
    this class only checks shapes, finiteness, labels, and that no sample is
    zero (``⟨w, 0⟩ = 0`` for every ``w``: such data are never
    separable through the origin).
    """

    x: np.ndarray
    y: np.ndarray
    name: str = "data"

    def __post_init__(self) -> None:
        x = np.array(self.x, dtype=np.float64)
        y = np.array(self.y, dtype=np.float64).reshape(-1)
        if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
            raise ValueError(f"samples must be a non-empty 2-d array (N, d), got shape {x.shape}")
        if y.shape[0] != x.shape[0]:
            raise ValueError(f"got {x.shape[0]} samples but {y.shape[0]} labels; give one label per sample")
        if not np.all(np.isfinite(x)):
            raise ValueError("samples contain NaN or infinity; remove or impute those entries")
        if not np.all(np.isin(y, (-1.0, 1.0))):
            raise ValueError(f"labels must be -1 or +1, got the values {sorted(set(y.tolist()))[:6]}")
        zero = np.flatnonzero(~x.any(axis=1))
        if zero.size:
            which = "every sample has" if zero.size == x.shape[0] else f"sample {zero[0]} has"
            raise ValueError(f"{which} all-zero features, so no direction separates the data through the origin; "
                             "remove such samples, or add a constant feature column if a bias is intended")
        x.setflags(write=False)
        y.setflags(write=False)
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "y", y)

    @property
    def z(self) -> np.ndarray:
        """The signed samples ``z_i = y_i x_i`` (shape ``(N, d)``)."""
        return np.ascontiguousarray(self.y[:, None] * self.x)

    @property
    def n_samples(self) -> int:
        return self.x.shape[0]

    @property
    def dim(self) -> int:
        return self.x.shape[1]


def from_arrays(x, y, name: str = "data") -> SeparableData:
    """User data; labels may be ``{-1, +1}`` or ``{0, 1}`` (0 becomes -1)."""
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    if np.all(np.isin(y, (0.0, 1.0))):
        y = 2.0 * y - 1.0
    return SeparableData(x, y, name)


def from_csv(path: str | Path, label_column: int = -1) -> SeparableData:
    """A CSV file of numbers, one sample per row, labels in ``label_column``.

    A first row that is not numeric is taken as a header and skipped.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no such CSV file: {path}")
    with path.open(newline="") as handle:
        rows = [row for row in csv.reader(handle) if row and any(cell.strip() for cell in row)]
    if rows and not _numeric(rows[0]):
        rows = rows[1:]
    if not rows:
        raise ValueError(f"{path} has no data rows")
    widths = {len(row) for row in rows}
    if len(widths) != 1 or widths.pop() < 2:
        raise ValueError(f"{path}: every row needs the same number (at least 2) of columns: features and a label")
    for number, row in enumerate(rows, start=1):
        if not _numeric(row):
            raise ValueError(f"{path}: data row {number} is not all numbers: {row}")
    table = np.array(rows, dtype=np.float64)
    width = table.shape[1]
    if isinstance(label_column, bool) or not isinstance(label_column, (int, np.integer)) \
            or not -width <= label_column < width:
        raise ValueError(f"label_column={label_column!r} is not a column of {path}, which has {width} columns; "
                         f"give 0..{width - 1}, or -1 for the last")
    labels = table[:, label_column]
    features = np.delete(table, label_column % table.shape[1], axis=1)
    return from_arrays(features, labels, name=path.stem)


def _numeric(row: list[str]) -> bool:
    try:
        [float(cell) for cell in row]
    except ValueError:
        return False
    return True


def gaussian_clusters(n: int = 40, d: int = 50, separation: float = 1.0, seed: int = 0) -> SeparableData:
    """Two Gaussian clusters ``x_i ~ N(y_i μ, I_d)``, balanced labels.

    The mean ``μ`` has i.i.d. exponential entries scaled to ``‖μ‖₂ = separation``,
    so that the ℓ2 and ℓ∞ max-margin directions differ (an isotropic or
    constant mean would make them nearly equal). With ``n ≤ d`` the data are
    separable with probability one.
    """
    _check_arguments(n, d, seed)
    rng = np.random.default_rng(seed)
    mu = rng.exponential(size=d)
    mu *= separation / np.linalg.norm(mu)
    y = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)
    x = y[:, None] * mu[None, :] + rng.standard_normal((n, d))
    return SeparableData(x, y, f"gaussian(n={n}, d={d}, seed={seed})")


def generalized_rademacher(n: int = 30, d: int = 20, seed: int = 1) -> SeparableData:
    """Samples ``x_i = a_i s_i`` with ``s_i ∈ {±1}^d`` and magnitudes ``a_i > 0``.

    Every coordinate of a sample has the same magnitude ``a_i``, so every
    per-sample gradient ``∇L_i(w) = -σ(-<w, z_i>) z_i`` has equal-magnitude
    coordinates and the per-sample Adam preconditioner is a multiple of the
    identity: incremental Adam then follows the ℓ2 geometry (Baek, Song, Yun).
    Signs are uniform, ``a_i`` uniform in ``[1, 2]``, and the labels are
    planted, ``y_i = sign<w°, s_i>`` for a Gaussian ``w°``, so the data are
    separable for any ``n``. (The sign patterns make the ℓ∞ maximiser a face
    rather than a point for some draws; :class:`~modeq.separable.MaxMargin`
    reports ``unique``. The default draw has a unique one.)
    """
    _check_arguments(n, d, seed)
    rng = np.random.default_rng(seed)
    s = rng.choice((-1.0, 1.0), size=(n, d))
    a = rng.uniform(1.0, 2.0, size=n)
    planted = rng.standard_normal(d)
    y = np.where(s @ planted >= 0, 1.0, -1.0)
    return SeparableData(a[:, None] * s, y, f"generalized-rademacher(n={n}, d={d}, seed={seed})")


def shifted_diagonal(n: int = 6, d: int = 8, shift: float = 0.5, seed: int = 0) -> SeparableData:
    """Samples ``x_i = a_i e_i + shift·𝟙`` (``i < n ≤ d``), all labelled ``+1``.

    A diagonal data set shifted along the all-ones vector; the magnitudes
    ``a_i`` are uniform in ``[1, 3]``. All ``z_ij ≥ 0``, so ``𝟙`` maximises
    every margin over the ℓ∞ ball: the ℓ∞ direction is ``𝟙`` with one support
    vector (generically), and so is the Adam proxy's prediction
    (:mod:`modeq.separable.fixed_point`), while the ℓ2 direction differs.
    """
    _check_arguments(n, d, seed)
    if n > d:
        raise ValueError(f"the shifted diagonal family needs n ≤ d, got n={n}, d={d}")
    if shift < 0:
        raise ValueError(f"shift must be ≥ 0 for the data to be separable, got {shift}")
    rng = np.random.default_rng(seed)
    x = np.full((n, d), float(shift))
    x[np.arange(n), np.arange(n)] += rng.uniform(1.0, 3.0, size=n)
    return SeparableData(x, np.ones(n), f"shifted-diagonal(n={n}, d={d}, shift={shift:g})")


def _check_arguments(n: int, d: int, seed: int) -> None:
    if int(n) != n or int(d) != d or n < 1 or d < 1:
        raise ValueError(f"n and d must be positive integers, got n={n}, d={d}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer (NumPy's generators take 0, 1, 2, ...), got {seed!r}")
