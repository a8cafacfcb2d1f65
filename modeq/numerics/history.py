r"""History-consistent starts (DESIGN.md §1.6).

An optimizer with memory started from empty moving averages is not on the
modified trajectory for its first :math:`\sim 1/(1-\beta)` steps, which costs
an :math:`O(h^2)` global error whatever the order of the stationary field. On
the modified trajectory the past iterates are
:math:`\theta_{-k} = \varphi_{-kh}(\theta_0)`; replaying them through the
optimizer (:meth:`~modeq.numerics.discrete.CompiledOptimizer.run` with
``history``) fills its moving averages and lags as if it had always followed
the modified flow. The replay starts :math:`K` steps back with
:math:`\beta^K` below rounding for the slowest decay, so the unknown state
before that (and the bias correction :math:`1-\beta^{K}`) is invisible.
"""

from __future__ import annotations

import numpy as np
import sympy

from ..primitives import Primitive
from .field import CompiledField

__all__ = ["history_length", "consistent_history"]

def history_length(update: sympy.Expr) -> int:
    r"""Replayed steps :math:`K` for the primitives of ``update``: each says how
    many fill its state (:math:`\beta^K \le 10^{-18}` for an EMA, :math:`k+1`
    for a lag), and at least 2."""
    return max([2, *(node.replay_steps() for node in update.atoms(Primitive))])


def consistent_history(field: CompiledField, theta0: np.ndarray, h: float, order: int, steps: int,
                       substeps: int, t0: float = 0.0) -> np.ndarray:
    r"""Rows :math:`\theta_{-K}, \dots, \theta_{-1}` of the truncated modified
    flow through :math:`\theta_0` at time :math:`t_0` (oldest first; a
    time-dependent field is run back to :math:`t_0 - Kh`)."""
    backward = field.flow(theta0, h, steps, order=order, substeps=substeps, backward=True, t0=t0)
    if not np.all(np.isfinite(backward)):
        raise ValueError(
            "the modified flow run backwards to build the optimizer's history left the finite range; "
            "use smaller step sizes or another starting point"
        )
    return np.ascontiguousarray(backward[:0:-1])
