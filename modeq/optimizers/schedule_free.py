r"""Schedule-free SGD and AdamW (Defazio, Yang, Mehta, Mishchenko, Khaled &
Cutkosky, "The Road Less Scheduled", 2024), as the ``schedulefree`` package
runs them (``SGDScheduleFree``, ``AdamWScheduleFree`` with ``lr`` = h, no
warm-up and ``r = 0``, so the averaging weight is :math:`c_{n+1} = 1/(n+1)`).

The method keeps a base sequence :math:`z`, its running average :math:`x`, and
takes the gradient at their interpolation :math:`y`:

.. math:: z_{n+1} = z_n - h\,d_n, \qquad
          x_{n+1} = (1 - c_{n+1})\,x_n + c_{n+1} z_{n+1}, \qquad
          y_{n+1} = \beta x_{n+1} + (1-\beta) z_{n+1},

:math:`z_0 = x_0 = y_0 = \theta_0`, with :math:`d_n = \nabla E(y_n) + \lambda y_n`
(SGD) or :math:`d_n = \nabla E(y_n)/(\sqrt{\hat v_{n+1}} + \varepsilon) + \lambda y_n`
(AdamW; :math:`\hat v` the bias-corrected average of :math:`\nabla E(y)^2`).
The iterate is :math:`\theta = y`, the point where the gradient is taken (the
parameters the package leaves in the model while training).

**Time as a slow state.** With :math:`t_n = t_0 + nh` the weight is
:math:`c_{n+1} = h/(t_n + h)`: the average moves by :math:`O(h)` per step, a
slow state whose rate depends on the time. The time is itself the slow state
:math:`\tau_{n+1} = \tau_n + h`, :math:`\tau_0 = t_0` (its modified equation is
exactly :math:`\dot\tau = 1`); its value at step :math:`n` is
:math:`\tau = t_n + h`, so :math:`c_{n+1} = h/\tau`. ``t0`` = 0 is the package
(:math:`c_1 = 1`); ``t0`` > 0 starts the same recursion later, as if the
average had already seen :math:`t_0/h` steps — the modified equation is the
same, and it is smooth only away from :math:`t = 0`, where the average's own
equation :math:`\dot x = (z - x)/t` is singular, so its orders are verified
from a :math:`t_0 > 0`.

**The offset state.** :math:`x_0 = z_0 = \theta_0` differ per component while
state initial values are scalars, so the description carries
:math:`w = z - y` (:math:`w_0 = 0`); the three recursions are equivalent to

.. math:: w_{n+1} = (1 - c_{n+1})(w_n - h\beta d_n), \qquad
          \theta_{n+1} = \theta_n + c_{n+1} w_n - h\big(1 - \beta(1 - c_{n+1})\big) d_n,

which is the package's own implementation (``y.lerp_(z, c)``;
``y += lr(β(1-c) - 1) d``; ``z -= lr d``). The modified equation is one for
:math:`(\tilde\theta, \tilde\tau, \tilde w)`.
"""

from __future__ import annotations

from sympy import sqrt

from .base import decay, nonnegative, optimizer, positive
from .language import ema, grad, h, lag, state, theta

__all__ = ["schedule_free_sgd", "schedule_free_adamw"]

_T0 = nonnegative(0.0, "t_0", "time at which the averaging starts (0: the schedulefree package)")


def _schedule_free(d, beta, t0):
    r""":math:`U_n` of schedule-free averaging with the direction :math:`d_n` (module docs)."""
    tau = state(lambda s: s + h, init=t0, name="tau")
    w = state(lambda w: (tau - h) / tau * (w - h * beta * d), name="w")
    return lag(w, 1, init=0) / tau - (1 - beta * (tau - h) / tau) * d


@optimizer(beta=decay(0.9, r"\beta", "weight of the average x in y (schedulefree: momentum)"),
           weight_decay=nonnegative(0.0, r"\lambda", "L2 penalty added to the gradient at y"), t0=_T0)
def schedule_free_sgd(beta, weight_decay, t0):
    r"""Schedule-free SGD (``schedulefree.SGDScheduleFree``, ``lr`` = h, ``momentum`` = β):
    :math:`d_n = \nabla E(y_n) + \lambda y_n`, :math:`c_{n+1} = h/(t_n + h)` (module docs)."""
    return _schedule_free(grad() + weight_decay * theta, beta, t0)


@optimizer(beta1=decay(0.9, r"\beta_1", "weight of the average x in y (schedulefree: betas[0])"),
           beta2=decay(0.999, r"\beta_2", "second-moment decay (schedulefree: betas[1])"),
           eps=positive(1e-8, r"\varepsilon", "added to the root of the second moment (outside the root)"),
           weight_decay=nonnegative(0.0, r"\lambda", "weight decay, applied at y"), t0=_T0)
def schedule_free_adamw(beta1, beta2, eps, weight_decay, t0):
    r"""Schedule-free AdamW (``schedulefree.AdamWScheduleFree``, ``lr`` = h, no warm-up):
    :math:`d_n = \nabla E(y_n)/(\sqrt{\hat v_{n+1}} + \varepsilon) + \lambda y_n`, :math:`\hat v` the
    bias-corrected average of :math:`\nabla E(y)^2` (module docs)."""
    g = grad()
    v = ema(g**2, beta2, bias_correction=True)
    return _schedule_free(g / (sqrt(v) + eps) + weight_decay * theta, beta1, t0)
