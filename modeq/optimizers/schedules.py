r"""Schedules: smooth functions of the time :math:`t = nh`.

A schedule :math:`\eta(t)` multiplies a step or a hyperparameter. It is an
ordinary SymPy expression in the description symbol ``t``, so it expands like
any other coefficient and the modified equation becomes non-autonomous,
:math:`\dot{\tilde\theta} = f_0(\tilde\theta, t) + h f_1(\tilde\theta, t) + \dots`,
with :math:`\partial_t` in the Lie derivative (:mod:`modeq.algebra.base`): at
first order a schedule adds :math:`-\tfrac{h}{2}\,\eta'(t)\,U_0` to the
constant-step correction :math:`-\tfrac{h}{2}\eta^2 \nabla U_0\, U_0`.

Time, not steps. Schedules in training code count steps :math:`n`; here they
are functions of :math:`t = nh`, so a time scale of :math:`N` steps is
:math:`T = Nh` (a warm-up of 1000 steps at learning rate :math:`10^{-3}` is
:math:`T_w = 1`). Held at a fixed time scale :math:`T`, the schedule has an
expansion in :math:`h`; held at a fixed number of steps it would shrink to a
jump at :math:`t = 0` as :math:`h \to 0` and has none (NAdam's momentum
schedule, :func:`modeq.optimizers.library.nadam`, is the case in point).

The schedules (each a :class:`Schedule`, whose hyperparameters join the
optimizer's with :func:`scheduled`):

* :data:`warmup` — linear warm-up to 1 at :math:`T_w`, its corner rounded:
  :math:`r(x) = (m(x) - m(0))/(1 - m(0))`, :math:`x = t/T_w`, with the smooth
  minimum :math:`m(x) = \tfrac12\big(x + 1 - \sqrt{(x-1)^2 + \delta^2}\big)` of
  :math:`x` and 1, so :math:`r(0) = 0`, :math:`r \to 1`, and :math:`r` is linear
  away from a corner of width :math:`\sim\delta T_w`. The piecewise-linear
  warm-up (``min(1, t/T_w)``) has a kink: no expansion across it;
* :data:`cosine` — :math:`\eta_{min} + (1-\eta_{min})(1+\cos(\pi t/T))/2`;
* :data:`warmup_cosine` — the product of the two (the usual recipe);
* :data:`inverse_time` — :math:`1/(1 + t/\tau)`;
* :data:`inverse_sqrt` — :math:`1/\sqrt{1 + t/\tau}`.

``min``, ``max``, ``Piecewise`` or ``Heaviside`` in a schedule are refused by
:func:`~modeq.optimizers.language.check_smooth` with a pointer here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

import sympy

from .base import HyperParameter, Optimizer, nonnegative, positive
from .language import DescriptionError, t

__all__ = ["Schedule", "schedule", "scheduled", "smooth_ramp", "warmup", "cosine", "warmup_cosine", "inverse_time",
           "inverse_sqrt", "SCHEDULES"]


def smooth_ramp(x, delta) -> sympy.Expr:
    r"""The linear ramp :math:`\min(\max(x, 0), 1)` for :math:`x \ge 0`, smooth:
    :math:`(m(x) - m(0))/(1 - m(0))` with the smooth minimum
    :math:`m(x) = \tfrac12(x + 1 - \sqrt{(x-1)^2 + \delta^2})` of :math:`x` and 1."""
    x, delta = sympy.sympify(x), sympy.sympify(delta)

    def smooth_min(y):
        return (y + 1 - sympy.sqrt((y - 1) ** 2 + delta**2)) / 2

    return (smooth_min(x) - smooth_min(0)) / (1 - smooth_min(0))


@dataclass(frozen=True)
class Schedule:
    r"""A schedule :math:`\eta(t)`: its name, hyperparameters and build function
    (keyword arguments: the hyperparameter symbols; returns an expression in ``t``)."""

    name: str
    build: Callable[..., sympy.Expr] = field(repr=False)
    hyperparameters: tuple[HyperParameter, ...]
    description: str = ""

    def expression(self) -> sympy.Expr:
        r""":math:`\eta(t)` with the hyperparameter symbols."""
        return sympy.sympify(self.build(**{hp.name: hp.symbol for hp in self.hyperparameters}))


def schedule(**hyperparameters: HyperParameter) -> Callable[[Callable[..., sympy.Expr]], Schedule]:
    """Declare a schedule from its build function (arguments: the hyperparameters)."""

    def wrap(build: Callable[..., sympy.Expr]) -> Schedule:
        specs = tuple(replace(spec, name=name) for name, spec in hyperparameters.items())
        return Schedule(build.__name__, build, specs, (build.__doc__ or "").strip())

    return wrap


_WARMUP = positive(0.1, r"T_w", "warm-up time (warm-up steps times h)")
_CORNER = positive(0.1, r"\delta", "width of the warm-up's rounded corner, relative to the warm-up time")
_HORIZON = positive(1.0, r"T", "decay time (decay steps times h)")
_FLOOR = nonnegative(0.0, r"\eta_{min}", "the cosine schedule's final factor")
_TAU = positive(1.0, r"\tau", "time scale of the decay (steps times h)")


@schedule(warmup=_WARMUP, corner=_CORNER)
def warmup(warmup, corner):
    r"""Linear warm-up from 0 to 1 over :math:`T_w`, corner rounded (:func:`smooth_ramp`)."""
    return smooth_ramp(t / warmup, corner)


@schedule(horizon=_HORIZON, floor=_FLOOR)
def cosine(horizon, floor):
    r"""Cosine decay :math:`\eta_{min} + (1-\eta_{min})(1+\cos(\pi t/T))/2`."""
    return floor + (1 - floor) * (1 + sympy.cos(sympy.pi * t / horizon)) / 2


@schedule(warmup=_WARMUP, corner=_CORNER, horizon=_HORIZON, floor=_FLOOR)
def warmup_cosine(warmup, corner, horizon, floor):
    r"""Linear warm-up over :math:`T_w` times cosine decay over :math:`T`."""
    return smooth_ramp(t / warmup, corner) * (floor + (1 - floor) * (1 + sympy.cos(sympy.pi * t / horizon)) / 2)


@schedule(tau=_TAU)
def inverse_time(tau):
    r""":math:`1/(1 + t/\tau)`."""
    return 1 / (1 + t / tau)


@schedule(tau=_TAU)
def inverse_sqrt(tau):
    r""":math:`1/\sqrt{1 + t/\tau}`."""
    return 1 / sympy.sqrt(1 + t / tau)


SCHEDULES = {s.name: s for s in (warmup, cosine, warmup_cosine, inverse_time, inverse_sqrt)}


def scheduled(optimizer: Optimizer, schedule: Schedule, name: str | None = None) -> Optimizer:
    r"""``optimizer`` with its step multiplied by ``schedule``:
    :math:`\theta_{n+1} = \theta_n + h\,\eta(t_n)\,U_n`. The schedule's
    hyperparameters join the optimizer's (their names must differ); the
    optimizer's options are kept."""
    own = {hp.name for hp in optimizer.hyperparameters}
    clash = own & {hp.name for hp in schedule.hyperparameters}
    if clash:
        raise DescriptionError(f"the schedule {schedule.name} and {optimizer.name} both have the hyperparameters "
                               f"{', '.join(sorted(clash))}; rename one of them")
    inner, names = optimizer.build, tuple(hp.name for hp in schedule.hyperparameters)

    def build(**arguments):
        rate = schedule.build(**{n: arguments.pop(n) for n in names})
        return rate * inner(**arguments)

    doc = (f"{optimizer.name} with its step multiplied by the schedule {schedule.name}: "
           f"{schedule.description}\n\n{optimizer.description}")
    return Optimizer(name or f"{optimizer.name}_{schedule.name}", build,
                     optimizer.hyperparameters + schedule.hyperparameters, dict(optimizer.options), doc)
