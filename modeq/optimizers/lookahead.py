r"""Lookahead around Adam (Zhang, Lucas, Hinton & Ba 2019), as
``pytorch_optimizer.Lookahead(torch.optim.Adam(...), k, alpha)`` runs it
(``pullback_momentum='none'``).

The slow weights :math:`\phi` and the fast weights start equal. Every step is
an Adam step of the fast weights; after every :math:`k`-th step the fast
weights are pulled toward the slow ones and both are set to
:math:`\phi \leftarrow \phi + \alpha(\theta^{fast} - \phi)`. Adam's moments
:math:`m, v` and its step count carry on across the synchronizations (they
are neither reset nor pulled back).

**One cycle is one step of the map.** Between synchronizations the fast
weights are :math:`k` Adam steps from :math:`\phi`, so the method is a one-step
map on :math:`(\phi, m, v)`: with the inner rate :math:`\eta`,
:math:`x_0 = \phi_c` and, for :math:`i = 0, \dots, k-1`,

.. math::
    m_{i+1} = \beta m_i + (1-\beta)\nabla E(x_i), \qquad
    v_{i+1} = \rho v_i + (1-\rho)\nabla E(x_i)^2,

    d_i = \frac{m_{i+1}/(1-\beta^{kc+i+1})}{\sqrt{v_{i+1}/(1-\rho^{kc+i+1})} + \varepsilon}, \qquad
    x_{i+1} = x_i - \eta\,d_i,

    \phi_{c+1} = \phi_c + \alpha(x_k - \phi_c) = \phi_c - \alpha\eta\sum_{i<k} d_i ,

with :math:`m_0, v_0` the moments at the end of the previous cycle (zero at
the start) and torch's ε outside the root. **Time scale:** the step size of
the map is the time of a cycle, :math:`h = k\eta`, so that :math:`t = ch` is
the time :math:`n\eta` of the inner steps, as for ``adam``: the order-0 field
is :math:`-\alpha\,\nabla E/(|\nabla E| + \varepsilon)`, Adam's slowed by
:math:`\alpha` (``modeq.iterates`` runs cycles: ``h`` = k·lr, ``steps`` = cycles,
and its iterates are the slow weights, which are also the model's weights
after each synchronization).

**State.** The inner gradients are taken at
:math:`x_i = \phi + O(h)` shifts that depend on :math:`(m_0, v_0)`, so the
moments are states updated together (:func:`~modeq.primitives.joint_state.states`):
over a cycle they contract by :math:`\beta^k` and :math:`\rho^k`, rates
independent of :math:`h` (fast states of the cycle map, one invariant manifold
each in the stationary regime), and the displacement
:math:`-(1/k)\sum_i d_i` is a readout of the cycle.

**Bias correction** (``bias_correction=True``, as torch runs it) divides by
:math:`1-\beta^{N}` with the global step count :math:`N = kc+i+1`. The factors
:math:`P_c = \beta^{kc}`, :math:`Q_c = \rho^{kc}` are two more states of the
cycle, :math:`P_{c+1} = \beta^k P_c`, :math:`P_0 = 1`, so that
:math:`1-\beta^{kc+i+1} = 1-\beta^{i+1}P_c` in the iterates (which equal
torch's). They contract to 0 (:math:`\beta^{kc} = \beta^{t/\eta}` is no power
series in :math:`h`): the stationary regime, like ``adam``'s, is that of late
steps, where the correction is 1; ``modeq.derive_steps`` follows them from the start.
"""

from __future__ import annotations

from sympy import Integer, sqrt

from .base import decay, optimizer, positive
from .language import grad, h, states

__all__ = ["lookahead"]


@optimizer(beta=decay(0.9, r"\beta", "Adam's first-moment decay (betas[0])"),
           rho=decay(0.999, r"\rho", "Adam's second-moment decay (betas[1])"),
           eps=positive(1e-8, r"\varepsilon", "added to the root of the second moment (outside the root, as torch)"),
           alpha=positive(0.5, r"\alpha", "Lookahead's step toward the fast weights, in (0, 1]"))
def lookahead(beta, rho, eps, alpha, *, k=5, bias_correction=True):
    r"""Lookahead around Adam (``pytorch_optimizer.Lookahead(torch.optim.Adam)``): one step of the map is
    one cycle of :math:`k` Adam steps of rate :math:`\eta = h/k` from the slow weights :math:`\phi`,
    then :math:`\phi \leftarrow \phi + \alpha(x_k - \phi)`:

    .. math::
        m_{i+1} = \beta m_i + (1-\beta)\nabla E(x_i), \quad
        v_{i+1} = \rho v_i + (1-\rho)\nabla E(x_i)^2, \quad
        x_{i+1} = x_i - \frac{h}{k}\,\frac{m_{i+1}/(1-\beta^{kc+i+1})}{\sqrt{v_{i+1}/(1-\rho^{kc+i+1})} + \varepsilon},

    :math:`x_0 = \phi_c`, :math:`\phi_{c+1} = \phi_c + \alpha(x_k - \phi_c)`; the moments carry on across
    cycles (their cycle rates :math:`\beta^k`, :math:`\rho^k`), :math:`t = ch` is the inner steps' time
    (module :mod:`modeq.optimizers.lookahead`)."""
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise ValueError(f"lookahead's k is a whole number >= 1 of inner steps per cycle, got {k!r}")

    def cycle(m, v, P=Integer(0), Q=Integer(0)):  # without bias correction: P = Q = 0, no factor states
        shift, total = Integer(0), Integer(0)
        for i in range(k):
            g = grad(shift)
            m = m + (1 - beta) * (g - m)  # torch's lerp; on the manifold g - m = O(h): terms stay short
            v = v + (1 - rho) * (g**2 - v)
            d = m / (1 - beta ** (i + 1) * P) / (sqrt(v / (1 - rho ** (i + 1) * Q)) + eps)
            shift, total = shift - h / k * d, total + d
        factors = (beta**k * P, rho**k * Q) if bias_correction else ()
        return m, v, *factors, -total / k

    init, names = ((0, 0, 1, 1), ("m", "v", "P", "Q")) if bias_correction else ((0, 0), ("m", "v"))
    *_, displacement = states(cycle, init=init, names=names)
    return alpha * displacement
