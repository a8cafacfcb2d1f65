r"""The symbols and the error of the optimizer description language.

The bottom of the description layer: the step size :math:`h`, the iterate
:math:`\theta_n`, the time :math:`t = nh` and :class:`DescriptionError`, used by the primitives
(:mod:`modeq.primitives`), the derivation and the numerics alike;
:mod:`modeq.optimizers.language` re-exports them for users.
"""

from __future__ import annotations

import sympy

__all__ = ["h", "theta", "t", "RESERVED_NAMES", "DescriptionError"]

#: The step size :math:`h`.
h = sympy.Symbol("h", positive=True)

#: The current iterate :math:`\theta_n` (component :math:`j`).
theta = sympy.Symbol("theta", real=True)

#: The time :math:`t_n = nh` of the current step (schedules are smooth functions
#: of it); the modified equation is then non-autonomous, :math:`f_k(\theta, t)`.
t = sympy.Symbol("t", real=True)

RESERVED_NAMES = frozenset({"h", "theta", "t"})


class DescriptionError(ValueError):
    """An optimizer description that modeq cannot expand or run."""
