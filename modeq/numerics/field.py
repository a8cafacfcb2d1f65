r"""A compiled modified field, loaded from its generated module (no SymPy).

.. math:: \dot{\tilde\theta} = f^{(n)}_h(\tilde\theta, t) = \sum_{k \le N} h^k f^{(n)}_k(\tilde\theta, t)

on :math:`[nh, (n+1)h)`; autonomous fields ignore :math:`n` and :math:`t`
(the time of schedules, :math:`t = nh` on the grid). Inputs are
checked here, so a wrong shape or order is a clear ``ValueError`` and never a
numba typing error.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..truncation import truncation
from .cache import load_module, lookup

__all__ = ["CompiledField", "load_field"]


class CompiledField:
    """The field of a generated module: :meth:`__call__`, :meth:`batch`,
    :meth:`terms` and the integrator :meth:`flow`."""

    def __init__(self, path: str | os.PathLike, key: str | None = None) -> None:
        self.path = Path(path)
        self.key = key
        self._module = load_module(self.path)
        self.params: tuple[str, ...] = self._module.PARAMS
        self.order: int = self._module.ORDER
        self.step_dependent: bool = self._module.STEP_DEPENDENT
        self.time_dependent: bool = self._module.TIME_DEPENDENT

    def __repr__(self) -> str:
        kind = ("step-dependent" if self.step_dependent else "time-dependent" if self.time_dependent
                else "autonomous")
        return f"CompiledField(params={self.params}, order={self.order}, {kind}, path={str(self.path)!r})"

    # -- input checks -------------------------------------------------------------

    def _point(self, theta, what: str = "theta") -> np.ndarray:
        array = np.ascontiguousarray(theta, dtype=np.float64)
        if array.ndim != 1 or array.shape[0] != len(self.params):
            raise ValueError(f"{what} must have {len(self.params)} values ({', '.join(self.params)}), got shape {array.shape}")
        return array

    def _order(self, order: int | None) -> int:
        return truncation(order, self.order)

    @staticmethod
    def _step(n) -> int:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"the step index n must be a whole number >= 0, got {n!r}")
        return int(n)

    @staticmethod
    def _time(t, default: float) -> float:
        if t is None:
            return default
        if isinstance(t, bool) or not isinstance(t, (int, float, np.integer, np.floating)) or not np.isfinite(t):
            raise ValueError(f"the time t must be a finite number, got {t!r}")
        return float(t)

    # -- evaluation ------------------------------------------------------------------

    def terms(self, theta, n: int = 0, t: float | None = None) -> np.ndarray:
        r"""All terms :math:`f^{(n)}_k(\theta, t)` (default :math:`t = 0`), shape ``(order + 1, p)``."""
        return self._module.terms(self._point(theta), self._step(n), self._time(t, 0.0))

    def __call__(self, theta, h: float, order: int | None = None, n: int = 0, t: float | None = None) -> np.ndarray:
        r""":math:`\sum_{k\le order} h^k f^{(n)}_k(\theta, t)` (default :math:`t = nh`)."""
        n = self._step(n)
        return self._module.field(self._point(theta), float(h), self._order(order), n, self._time(t, n * float(h)))

    def batch(self, thetas, h: float, order: int | None = None, n: int = 0, t: float | None = None) -> np.ndarray:
        """The field at every row of ``thetas`` (shape ``(m, p)``)."""
        array = np.ascontiguousarray(thetas, dtype=np.float64)
        if array.ndim != 2 or array.shape[1] != len(self.params):
            raise ValueError(f"thetas must have shape (m, {len(self.params)}), got {array.shape}")
        n = self._step(n)
        return self._module.field_batch(array, float(h), self._order(order), n, self._time(t, n * float(h)))

    def flow(self, theta0, h: float, steps: int, order: int | None = None, substeps: int = 4,
             backward: bool = False, n0: int = 0, t0: float | None = None) -> np.ndarray:
        r"""The modified flow on the grid :math:`t = t_0 + sh`, :math:`s = 0..steps`
        (``backward``: :math:`t = t_0 - sh`, not for step-dependent fields), from
        the time :math:`t_0` (default :math:`n_0 h`); shape ``(steps + 1, p)``.
        Rows after a non-finite state are NaN."""
        if not (isinstance(h, (int, float, np.floating)) and np.isfinite(h) and h > 0):
            raise ValueError(f"the step size h must be a positive number, got {h!r}")
        if backward and self.step_dependent:
            raise ValueError("a step-dependent field has no backward flow before step 0; use an autonomous field")
        steps = self._step(steps)
        if isinstance(substeps, bool) or not isinstance(substeps, (int, np.integer)) or substeps < 1:
            raise ValueError(f"substeps must be a whole number >= 1, got {substeps!r}")
        n0 = self._step(n0)
        return self._module.flow(self._point(theta0, "theta0"), float(h), self._order(order), n0,
                                 self._time(t0, n0 * float(h)), steps, int(substeps), -1 if backward else 1)


def load_field(key_or_path: str | os.PathLike, cache_dir: str | os.PathLike | None = None) -> CompiledField:
    """A compiled field from the cache, by the key of :func:`modeq.numerics.derived_field`
    (``field.key``) or by its module path. Does not import SymPy."""
    path = Path(key_or_path)
    if path.suffix == ".py":
        return CompiledField(path)
    found = lookup(str(key_or_path), cache_dir)
    if found is None:
        raise ValueError(f"no cached field with key {key_or_path!r}; derive and compile it first (modeq.numerics.derived_field)")
    return CompiledField(found, str(key_or_path))
