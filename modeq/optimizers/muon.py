r"""Muon: momentum, then Newton–Schulz orthogonalization of each weight matrix.

As ``torch.optim.Muon`` (torch 2.9+, whose iterates :func:`muon`'s equal in
float64, ``tests/reference/test_muon_reference.py``), with the learning rate
as :math:`h` and, for each matrix block :math:`W` (:mod:`modeq.blocks`) with
gradient block :math:`G_n`:

.. math::
   B_{n+1} = \mu B_n + (1-\mu)G_n,\qquad
   M_n = (1-\mu)G_n + \mu B_{n+1}\ \text{(Nesterov; } M_n = B_{n+1}\text{ without)},

.. math::
   W_{n+1} = W_n - h\lambda W_n - h\,s(m,k)\,
   \operatorname{NS}\!\Big(\frac{M_n}{\sqrt{\|M_n\|_F^2+\varepsilon^2}}\Big),

:math:`B_0 = 0` (so :math:`B` is ``ema(grad(), mu)``), :math:`\operatorname{NS}`
five quintic Newton–Schulz steps with :math:`(a, b, c) = (3.4445, -4.7750,
2.0315)` (:func:`~modeq.primitives.newton_schulz`, never expanded), and
:math:`s(m, k) = \sqrt{\max(1, m/k)}` torch's default ``adjust_lr_fn``
(:func:`~modeq.primitives.shape_scale`).

Exact form. ``muon(orthogonalizer="msign")`` replaces the normalization and
the Newton–Schulz steps by the exact polar factor
:math:`\operatorname{msign}(M_n) = UV^\top` of :math:`M_n = U\Sigma V^\top`
(:func:`~modeq.primitives.msign`), the map the steps approximate (Muon's
idealization in the analyses of Bernstein & Newhouse 2024): it is invariant
under :math:`M \mapsto cM`, :math:`c > 0`, so the normalization (and
:math:`\varepsilon`) drop out. Its iterates equal torch.optim.Muon's with the
Newton–Schulz function replaced by ``torch.linalg.svd``'s :math:`UV^\top`
(``tests/reference/test_muon_reference.py``). It is defined where every
momentum block has full rank; a rank-deficient one is refused with the block
named.

Smooth form. torch divides by :math:`\max(\|M\|_F, \varepsilon)`, which has
a kink; modeq divides by :math:`\sqrt{\|M\|_F^2+\varepsilon^2}`, smooth
everywhere and equal to it up to a relative :math:`\varepsilon^2/(2\|M\|_F^2)`
(:math:`5\cdot10^{-15}` at :math:`\|M\|_F = 1` with torch's
:math:`\varepsilon = 10^{-7}`). torch casts the block to bfloat16 before the
Newton–Schulz steps (a choice for speed on GPUs); modeq computes in the
precision of its iterates (float64), and the reference test compares with
torch's own code with only that cast removed.
"""

from __future__ import annotations

from sympy import sqrt

from ..algebra.matrix_maps import MUON_COEFFICIENTS, SHAPE_RULES
from .base import decay, nonnegative, optimizer, positive
from .language import DescriptionError, block_sum, ema, grad, msign, newton_schulz, shape_scale, theta

__all__ = ["muon", "ORTHOGONALIZERS"]

#: Muon's orthogonalizations: torch's five quintic Newton–Schulz steps, or the exact polar factor.
ORTHOGONALIZERS = ("newton_schulz", "msign")


@optimizer(momentum=decay(0.95, r"\mu", "momentum"), weight_decay=nonnegative(0.1, r"\lambda", "decoupled weight decay"),
           eps=positive(1e-7, r"\varepsilon", "normalization constant"))
def muon(momentum, weight_decay, eps, *, nesterov=True, ns_steps=5, ns_coefficients=MUON_COEFFICIENTS,
         adjust_lr_fn="original", orthogonalizer="newton_schulz"):
    r"""Muon (torch.optim.Muon): :math:`W_{n+1} = (1-h\lambda)W_n - h\,s(m,k)\operatorname{NS}(M_n/\sqrt{\|M_n\|_F^2+\varepsilon^2})`,
    :math:`M_n` the Nesterov blend :math:`(1-\mu)G_n + \mu B_{n+1}` of the gradient block and its
    moving average; ``orthogonalizer="msign"``: :math:`\operatorname{msign}(M_n)`, the exact polar factor."""
    if adjust_lr_fn not in SHAPE_RULES:
        raise DescriptionError(f"muon: adjust_lr_fn must be one of {', '.join(SHAPE_RULES)}, got {adjust_lr_fn!r}")
    if orthogonalizer not in ORTHOGONALIZERS:
        raise DescriptionError(f"muon: orthogonalizer must be one of {', '.join(ORTHOGONALIZERS)}, got {orthogonalizer!r}")
    g = grad()
    average = ema(g, momentum)
    blend = (1 - momentum) * g + momentum * average if nesterov else average
    if orthogonalizer == "msign":
        return -weight_decay * theta - shape_scale(adjust_lr_fn) * msign(blend)
    direction = blend / sqrt(block_sum(blend**2) + eps**2)
    return -weight_decay * theta - shape_scale(adjust_lr_fn) * newton_schulz(direction, ns_steps, ns_coefficients)
