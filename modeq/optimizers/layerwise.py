r"""Layer-wise optimizers: per-block trust ratios (LARS, LAMB).

Each block :math:`B` (a layer, :mod:`modeq.blocks`) gets its own step length
from block norms :math:`\|x\|_B = \sqrt{\sum_{i\in B} x_i^2}`
(:func:`~modeq.primitives.block_norm`); the rest is elementwise. The updates
follow ``pytorch-optimizer`` (4.1), whose iterates they equal in float64
(``tests/reference``), with the learning rate as :math:`h`:

* ``lars`` (You et al. 2017): :math:`d = \eta\|\theta\|_B(g + \lambda\theta)/(\|g\|_B + \lambda\|\theta\|_B)`,
  momentum buffer :math:`b_{n+1} = \mu b_n + d_n` (:math:`b_0 = 0`),
  :math:`\theta_{n+1} = \theta_n - h b_{n+1}`; here :math:`b = \mathrm{ema}(d, \mu)/(1-\mu)`.
* ``lamb`` (You et al. 2020, as ``pytorch-optimizer``'s ``Lamb`` with its
  defaults): :math:`m, v` the moving averages of :math:`g, g^2` (no bias
  correction inside), :math:`u = m/(\sqrt v + \varepsilon)`, decoupled decay
  :math:`\theta' = (1-h\lambda)\theta`, trust ratio
  :math:`\|\theta'\|_B/(\|u\|_B+\varepsilon)`, and the step
  :math:`\theta_{n+1} = \theta' - h\,\mathrm{trust}\cdot u/(1-\beta_1^{n+1})`.
  The factor :math:`1-\beta_1^{n+1}` is ``ema(1, beta1)``, the moving average
  of the constant 1 (1 in the stationary regime).

Smooth forms. The references branch where the modified equation cannot:
LARS and LAMB take the trust ratio 1 when :math:`\|\theta\|_B = 0` or the
denominator is 0, and LAMB clamps :math:`\|\theta\|_B` to :math:`[0, 10]`.
modeq keeps the generic branch (:math:`\|\theta\|_B > 0`, :math:`\|g\|_B > 0`,
:math:`\|\theta\|_B < 10`), where the update is smooth and the references take
it too; a trajectory that reaches a branch point leaves the modified equation's
domain. ``pytorch-optimizer``'s LARS leaves scalars and vectors (biases)
unscaled; modeq's ``lars`` scales every block, as the paper does: compare on
matrix blocks, or give the biases to plain SGD.

``sam(per_layer=True)`` (:mod:`modeq.optimizers.library`) is the per-layer
radius of SAM.
"""

from __future__ import annotations

from sympy import sqrt

from .base import decay, nonnegative, optimizer, positive
from .language import block_norm, ema, grad, h, theta

__all__ = ["lars", "lamb"]


@optimizer(momentum=decay(0.9, r"\mu", "momentum"), trust=positive(1e-3, r"\eta", "trust coefficient"),
           weight_decay=nonnegative(0.0, r"\lambda", "weight decay (added to the gradient)"))
def lars(momentum, trust, weight_decay):
    r"""LARS: momentum over the layer-scaled step
    :math:`d = \eta\|\theta\|_B(\nabla E + \lambda\theta)/(\|\nabla E\|_B + \lambda\|\theta\|_B)`,
    :math:`b_{n+1} = \mu b_n + d_n`, :math:`\theta_{n+1} = \theta_n - h b_{n+1}`."""
    g, weights = grad(), block_norm(theta)
    step = trust * weights * (g + weight_decay * theta) / (block_norm(g) + weight_decay * weights)
    return -ema(step, momentum) / (1 - momentum)


@optimizer(beta1=decay(0.9, r"\beta_1", "first-moment decay"), beta2=decay(0.999, r"\beta_2", "second-moment decay"),
           eps=positive(1e-6, r"\varepsilon", "numerical stability constant"),
           weight_decay=nonnegative(0.0, r"\lambda", "decoupled weight decay"))
def lamb(beta1, beta2, eps, weight_decay):
    r"""LAMB: the Adam direction :math:`u = m/(\sqrt v + \varepsilon)` scaled per layer by
    :math:`\|\theta'\|_B/(\|u\|_B + \varepsilon)`, :math:`\theta' = (1-h\lambda)\theta`,
    :math:`\theta_{n+1} = \theta' - h\,\mathrm{trust}\cdot u/(1-\beta_1^{n+1})`."""
    g = grad()
    direction = ema(g, beta1) / (sqrt(ema(g**2, beta2)) + eps)
    decayed = (1 - h * weight_decay) * theta
    trust = block_norm(decayed) / (block_norm(direction) + eps)
    return -weight_decay * theta - trust * direction / ema(1, beta1)
