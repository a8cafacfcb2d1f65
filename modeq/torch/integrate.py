r"""A fixed-step high-order integrator on torch tensors.

The modified flow :math:`\dot{\tilde\theta} = f_h(\tilde\theta, t)` is integrated
with the explicit 8th-order Runge–Kutta scheme of Dormand and Prince (the
propagating solution of DOP853, 12 stages) — the scheme of the compiled path
(:mod:`modeq.numerics.integrate`), here on tensors of any dtype and device.
As there, the field may depend on the time (schedules): the flow starts at
:math:`(\theta_0, t_0)` and each stage of a step from :math:`t` sees its own
time :math:`t + c_i\,\delta`.

Why this and not ``torchdiffeq``: the verification needs the flow at given
times with an error that is controlled by refinement (:math:`\delta \to
\delta/2`), not by a tolerance, and every stage is one field evaluation —
the expensive part on a network; a fixed step makes their number known in
advance. ``torchdiffeq``'s fixed-step methods stop at 4th order (its
``dopri8`` is adaptive), and it would be one more dependency for twenty lines.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import torch

__all__ = ["flow", "STAGES"]

#: Stages of the DOP853 propagating solution.
STAGES = 12


#: A field :math:`(\theta, t) \mapsto f_h(\theta, t)`.
Field = Callable[[torch.Tensor, float], torch.Tensor]


def _tableau() -> tuple[list[list[float]], list[float], list[float]]:
    """DOP853's 8th-order Butcher tableau (``A``, ``B``, ``C``), read from SciPy."""
    from scipy.integrate._ivp import dop853_coefficients as tableau

    a = [[float(tableau.A[i, j]) for j in range(i)] for i in range(STAGES)]
    return a, [float(b) for b in tableau.B[:STAGES]], [float(c) for c in tableau.C[:STAGES]]


_A, _B, _C = _tableau()


def _step(field: Field, y: torch.Tensor, t: float, dt: float) -> torch.Tensor:
    stages: list[torch.Tensor] = []
    for i in range(STAGES):
        point = y
        for a, k in zip(_A[i], stages):
            if a:
                point = point + (dt * a) * k
        stages.append(field(point, t + _C[i] * dt))
    out = y
    for b, k in zip(_B, stages):
        if b:
            out = out + (dt * b) * k
    return out


def flow(field: Field, theta0: torch.Tensor, times: Sequence[float], max_step: float,
         t0: float = 0.0) -> list[torch.Tensor]:
    r"""The flow of ``field`` from ``theta0`` at the time ``t0``, after the durations
    ``times`` (all :math:`\ge 0` or all :math:`\le 0`; any order), with equal DOP853
    steps of at most ``max_step`` between consecutive times. A non-finite state
    makes the rest NaN."""
    if not times:
        return []
    if not (math.isfinite(max_step) and max_step > 0):
        raise ValueError(f"max_step must be a positive number, got {max_step!r}")
    signs = {math.copysign(1.0, t) for t in times if t != 0}
    if len(signs) > 1:
        raise ValueError("flow times must be all forward (>= 0) or all backward (<= 0)")
    order = sorted(range(len(times)), key=lambda i: abs(times[i]))
    out: list[torch.Tensor | None] = [None] * len(times)
    y, now = theta0, 0.0
    for i in order:
        span = times[i] - now
        steps = max(1, math.ceil(abs(span) / max_step - 1e-9)) if span else 0
        for s in range(steps):
            y = _step(field, y, t0 + now + s * span / steps, span / steps)
        if not bool(torch.isfinite(y).all()):
            y = torch.full_like(y, math.nan)
        out[i], now = y, times[i]
    return out  # type: ignore[return-value]
