r"""The compiled integrator of the modified ODE (source template).

The modified equation :math:`\dot{\tilde\theta} = f^{(n)}_h(\tilde\theta)` is
piecewise in time: on :math:`[nh, (n+1)h)` the field of step :math:`n`
(autonomous fields are the case :math:`f^{(n)} = f`), and may depend on the
time :math:`t` itself (schedules: each stage sees its own time). It is integrated with the
explicit 8th-order Runge–Kutta scheme of Dormand and Prince (the propagating
solution of DOP853, 12 stages) at a *fixed* sub-step :math:`\delta = h/s`, with
:math:`s` sub-steps per optimizer step, so every interval boundary is a grid
point and the output is the grid :math:`t = nh`. The local error per sub-step
is :math:`O(\delta^9)`, the global :math:`O(T\delta^8)`; callers check that it
is negligible by comparing :math:`s` with :math:`2s`
(:mod:`modeq.numerics.verify`).

The integrator is generated into the same module as the field and calls it
directly: an integrator taking the field as an argument would be recompiled
in every process (numba cannot cache it), and the direct call is inlined.
"""

from __future__ import annotations

__all__ = ["integrator_source", "STAGES"]

#: Stages of the DOP853 propagating solution.
STAGES = 12


def _coefficients() -> tuple[list[list[float]], list[float], list[float]]:
    """The Butcher tableau (``A``, ``B``, ``C``) of DOP853's 8th-order solution,
    read from SciPy at generation time only."""
    from scipy.integrate._ivp import dop853_coefficients as tableau

    a = [[float(tableau.A[i, j]) for j in range(STAGES)] for i in range(STAGES)]
    return a, [float(b) for b in tableau.B[:STAGES]], [float(c) for c in tableau.C[:STAGES]]


_TEMPLATE = '''
_RK_A = np.array({a!r})
_RK_B = np.array({b!r})
_RK_C = np.array({c!r})


@numba.njit(cache=True, error_model="numpy")
def flow(theta0, h, order, n0, t0, steps, substeps, direction):
    """The modified flow from theta0 at time t0 (step n0) over `steps` steps of
    size direction*h (direction = +1 forward, -1 backward), `substeps` DOP853
    sub-steps per step; rows are the grid points. The field of step n is used
    on [nh, (n+1)h) (backward: the field of step n0); a stage at time
    t + c_i dt sees that time. A non-finite state ends the run; the remaining
    rows are NaN."""
    p = theta0.shape[0]
    out = np.full((steps + 1, p), np.nan)
    y = theta0.copy()
    out[0] = y
    stage = np.empty(({stages}, p))
    point = np.empty(p)
    work = np.empty((ORDER + 1, p))
    dt = direction * h / substeps
    for s in range(steps):
        n = n0 + s if direction > 0 else n0
        for q in range(substeps):
            time = t0 + direction * h * (s + q / substeps)
            for i in range({stages}):
                for j in range(p):
                    acc = 0.0
                    for l in range(i):
                        acc += _RK_A[i, l] * stage[l, j]
                    point[j] = y[j] + dt * acc
                _terms(point, n, time + _RK_C[i] * dt, work)
                for j in range(p):
                    acc = work[order, j]
                    for k in range(order - 1, -1, -1):
                        acc = acc * h + work[k, j]
                    stage[i, j] = acc
            for j in range(p):
                acc = 0.0
                for i in range({stages}):
                    acc += _RK_B[i] * stage[i, j]
                y[j] += dt * acc
        for j in range(p):
            if not math.isfinite(y[j]):
                return out
        out[s + 1] = y
    return out
'''


def integrator_source() -> str:
    r"""Source of ``flow`` for a module that defines ``ORDER`` and
    ``_terms(theta, n, t, out)`` (``out`` has ``ORDER + 1`` rows); the field
    :math:`\sum_k h^k f_k` of each stage is summed here (Horner in :math:`h`)
    rather than by a call of ``_field``: every compiled caller of the terms
    links and optimizes their code again, and the terms are most of a large
    module's compile time."""
    a, b, c = _coefficients()
    return _TEMPLATE.format(a=a, b=b, c=c, stages=STAGES)
