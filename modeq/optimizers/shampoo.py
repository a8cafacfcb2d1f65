r"""Shampoo: Kronecker-factored inverse-root preconditioning of each weight matrix.

As ``pytorch_optimizer.Shampoo`` (4.1, ``preconditioning_compute_steps=1``,
``momentum=0``), whose iterates :func:`shampoo`'s equal in float64
(``tests/reference/test_shampoo_reference.py``): with base rate :math:`\eta`
and, for each matrix block :math:`W` (:mod:`modeq.blocks`, :math:`m\times n`)
with gradient block :math:`G_n` (plus :math:`\lambda W_n`: weight decay added
to the gradient, the reference's default ``weight_decouple=False``),

.. math::
   L_{n+1} = L_n + G_nG_n^\top,\quad R_{n+1} = R_n + G_n^\top G_n,\quad
   L_0 = R_0 = \epsilon I,\qquad
   W_{n+1} = W_n - \eta\,L_{n+1}^{-1/4}\,G_n\,R_{n+1}^{-1/4}

(the exponent is :math:`-1/(2\cdot\mathrm{order})`, ``order`` = 2 for a matrix;
the reference's SVD of the symmetric :math:`L` is its eigendecomposition; the
statistics include the step's own gradient before the root is taken, and
:math:`\epsilon` (``matrix_eps``) enters only as the start :math:`\epsilon I`).

One-sided (``sides="one"``): only the smaller side is preconditioned, with the
root that keeps the step's scale, :math:`W_{n+1} = W_n - \eta L_{n+1}^{-1/2}G_n`
for :math:`m \le n` (:math:`G_nR_{n+1}^{-1/2}` for :math:`m > n`): the
Kronecker-factored full-matrix AdaGrad of one side, as practitioners use it
for a layer whose other side is too large to precondition (Gupta et al. 2018;
Anil et al. 2020). ``pytorch_optimizer`` has no one-sided option; the
reference test runs this formula in a float64 torch loop.

**The scaling (a slow state, DESIGN.md §5.1).** The sums grow by
:math:`O(1)` per step and do not contract: no modified equation in the
variables above (:func:`~modeq.primitives.state.classify` refuses such a
state). As for :func:`~modeq.optimizers.library.adagrad`, take the step size
:math:`h = \eta^2` and the statistics :math:`L' = hL`, :math:`R' = hR`: then
:math:`L'_{n+1} = L'_n + hG_nG_n^\top` moves by :math:`O(h)` (a slow state, a
coordinate of the modified equation beside :math:`\theta`), and since
:math:`L^{-1/4} = h^{1/4}L'^{-1/4}`,

.. math::
   \eta\,L^{-1/4}GR^{-1/4} = \eta h^{1/2}\,L'^{-1/4}GR'^{-1/4} = h\,L'^{-1/4}GR'^{-1/4},
   \qquad \eta\,L^{-1/2}G = \eta h^{1/2}L'^{-1/2}G = h\,L'^{-1/2}G .

The start becomes :math:`L'_0 = R'_0 = h\epsilon I = \varepsilon I`: ``eps``
here is :math:`\eta^2` times the reference's ``matrix_eps`` (as AdaGrad's
:math:`V_0`); it must keep the field smooth at :math:`t = 0`, where the
scale of the step is :math:`\varepsilon^{-1/2}|G|` (expansion needs
:math:`h \ll \sqrt\varepsilon/|G|` there), hence the default 0.1.

**The moving-average form** (:func:`shampoo_ema`, as distributed Shampoo and
SOAP accumulate): :math:`L_{n+1} = \beta_2L_n + (1-\beta_2)G_nG_n^\top` from
:math:`L_0 = 0` (likewise :math:`R`), :math:`W_{n+1} = W_n - \eta
(L_{n+1}+\epsilon I)^{-1/4}G_n(R_{n+1}+\epsilon I)^{-1/4}`. The statistics
contract at the rate :math:`\beta_2`: fast states (``ema`` of the packed
Gram matrices), so :math:`h = \eta` unscaled and the modified equation is one
for :math:`\theta` alone, the statistics on their invariant manifold
:math:`L = GG^\top + O(h)`. The reference test runs the formula in a float64
torch loop (``pytorch_optimizer.ScalableShampoo`` grafts, blocks and delays its
preconditioning by default; it was not compared).

**Matrix-shaped states.** :math:`L'` is :math:`m\times m` and :math:`R'` is
:math:`n\times n`, while modeq's states are vectors of the parameters' shape:
each statistic is stored packed into its block (:mod:`modeq.algebra.kronecker`:
:math:`L'E`, :math:`E` the rectangular identity), so it is an ordinary slow
state ``state(lambda s: s + h*gram(g), name="L")`` whose increment is a matrix
map of :math:`G`. The smaller side's statistic always fits; on a non-square
block two-sided Shampoo stores the larger one in ``parts`` :math:`k \ge
\lceil\max(m,n)/\min(m,n)\rceil` states :math:`L'E_c` (states ``L0..L{k-1}``,
``R0..R{k-1}``; :math:`k = 1`, the default, the states ``L, R`` of square
blocks; too few parts are refused in one line naming the number needed). The state holds
:math:`L' - \varepsilon I` (states start at 0) and :math:`\varepsilon I` is
added inside the root.

**The direction** :math:`L'^{-1/4}GR'^{-1/4}` is one matrix map of three
blocks (:class:`~modeq.algebra.kronecker.KroneckerRoot`): the derivation sees
its Fréchet derivatives :math:`D^k\operatorname{Sh}(G, L, R)[(Y_1, A_1, B_1), \dots]`
as opaque atoms, and their values are jets of the inverse roots
(:mod:`modeq.algebra.spectral`: Daleckii–Krein / Sylvester recursions in the
eigenbasis, the ``INVERSE_ROOT`` instruction in compiled code), the same
machinery as Muon's ``msign``.

Momentum. With ``momentum > 0`` the reference lerps the gradient with its
previous *preconditioned* step (its buffer is the output of the root), a
state that enters the preconditioner's own argument; modeq's states may not
(:func:`~modeq.primitives.state.classify`), so only ``momentum=0`` (the
reference's default) is described.
"""

from __future__ import annotations

from .base import decay, nonnegative, optimizer
from ..algebra.kronecker import MAX_PARTS
from .language import DescriptionError, ema, grad, gram, h, kronecker_root, state, theta

__all__ = ["shampoo", "shampoo_ema", "SHAMPOO_SIDES"]

#: Shampoo's forms: both statistics (in ``parts`` states each on non-square blocks), or the smaller side's only.
SHAMPOO_SIDES = ("both", "one")


@optimizer(weight_decay=nonnegative(0.0, r"\lambda", "weight decay (added to the gradient)"))
def shampoo(weight_decay, *, sides="both", eps=0.1, parts=1):
    r"""Shampoo with :math:`h = \eta^2` and scaled statistics (slow states :math:`L, R`):
    :math:`L_{n+1} = L_n + hGG^\top`, :math:`R_{n+1} = R_n + hG^\top G` from :math:`\varepsilon I`,
    :math:`W_{n+1} = W_n - hL_{n+1}^{-1/4}GR_{n+1}^{-1/4}`; ``sides="one"``:
    :math:`W_{n+1} = W_n - hL_{n+1}^{-1/2}G` on the smaller side. ``parts`` :math:`k`: each
    statistic in :math:`k` states (non-square blocks need :math:`\lceil\max(m,n)/\min(m,n)\rceil`)."""
    g = grad() + weight_decay * theta
    return -_direction("shampoo", g, lambda side, name, part: state(lambda s: s + h * gram(g, side, part), name=name),
                       sides, eps, parts)


@optimizer(beta2=decay(0.99, r"\beta_2", "decay of the statistics' moving averages"),
           weight_decay=nonnegative(0.0, r"\lambda", "weight decay (added to the gradient)"))
def shampoo_ema(beta2, weight_decay, *, sides="both", eps=1e-6, parts=1):
    r"""Shampoo with moving averages of the statistics (fast states, :math:`h = \eta`):
    :math:`L_{n+1} = \beta_2L_n + (1-\beta_2)GG^\top`, :math:`R` likewise, from 0,
    :math:`W_{n+1} = W_n - h(L_{n+1}+\epsilon I)^{-1/4}G(R_{n+1}+\epsilon I)^{-1/4}`;
    ``sides="one"``: :math:`(L_{n+1}+\epsilon I)^{-1/2}G` on the smaller side; ``parts`` as :func:`shampoo`'s."""
    g = grad() + weight_decay * theta
    return -_direction("shampoo_ema", g, lambda side, name, part: ema(gram(g, side, part), beta2), sides, eps, parts)


def _direction(name: str, g, statistic, sides: str, eps, parts: int):
    r"""Shampoo's direction of ``g`` from ``statistic(side, name, part)`` (a state summing, or a
    moving average of, the packed Gram matrix of ``side``, its part ``part``): both sides, or the
    smaller one; ``parts`` states for each statistic of both sides."""
    if sides not in SHAMPOO_SIDES:
        raise DescriptionError(f"{name}: sides must be one of {', '.join(SHAMPOO_SIDES)}, got {sides!r}")
    if isinstance(parts, bool) or not isinstance(parts, int) or not 1 <= parts <= MAX_PARTS:
        raise DescriptionError(f"{name}: parts must be an integer 1..{MAX_PARTS}, got {parts!r}")
    if sides == "one":
        if parts != 1:
            raise DescriptionError(f"{name}: parts is for sides='both' (the one-sided statistic always fits its block)")
        return kronecker_root(g, statistic("small", "L", 0), eps=eps)
    if parts == 1:
        return kronecker_root(g, statistic("left", "L", 0), statistic("right", "R", 0), eps=eps)
    left, right = ([statistic(side, f"{side[0].upper()}{c}", c) for c in range(parts)] for side in ("left", "right"))
    return kronecker_root(g, left, right, eps=eps)
