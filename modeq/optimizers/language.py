r"""The optimizer description language.

An optimizer is described once, as the *update direction* :math:`U_n` of

.. math:: \theta_{n+1} = \theta_n + h\,U_n ,

written as a SymPy expression built from the primitives below, hyperparameter
symbols and ordinary (smooth) SymPy functions. The same expression drives the
symbolic expansion (:mod:`modeq.solver`) and the compiled discrete iteration,
so a variant is validated by writing it once.

Primitives (all elementwise in the parameter index :math:`j` unless said;
each is one class in :mod:`modeq.primitives`, which carries its expansion,
its lowering to compiled statements and its memory):

``grad(shift=0)``
    :math:`\nabla_j E_n(\theta_n + \text{shift})`, the gradient of the step's
    loss (the full loss, or the step's mini-batch loss), possibly at a shifted
    point. The shift must be :math:`O(h)` (Nesterov look-ahead, SAM with radius
    :math:`r = c\,h`).
``theta``
    The current iterate :math:`\theta_n` (weight decay).
``lag(x, k, init=None)``
    The value of the quantity ``x`` at step :math:`n-k` (Polyak momentum uses
    ``lag(theta, 1)``). Before the start the value is ``init`` or, when ``init``
    is ``None``, the first value :math:`x_0`.
``ema(x, decay, init=0, bias_correction=False)``
    The exponential moving average :math:`m_{n+1} = \beta m_n + (1-\beta)x_n`,
    :math:`m_0 = \text{init}`, divided by :math:`1-\beta^{n+1}` when
    ``bias_correction`` is true. Its value at step :math:`n` includes
    :math:`x_n`.
``loss(shift=0)``
    The value :math:`E_n(\theta_n + \text{shift})` of the step's loss, a
    scalar (Polyak steps); :math:`L_f E = \sum_i \nabla_i E\, f_i`.
``state(update, init=0, name="s")``
    A recurrent state :math:`s_{n+1} = \text{update}(s_n)`,
    :math:`s_0 = \text{init}`, whose value at step :math:`n` is
    :math:`s_{n+1}`: *fast* (contracting at a fixed rate, eliminated through
    its invariant manifold; an affine update is an ``ema``) or *slow*
    (increment :math:`O(h)`: a coordinate beside :math:`\theta`, printed
    ``name``, with an equation of its own from :math:`s(0) = \text{init}`);
    other states are refused with how to rescale.
``states(update, init, names)``
    Several states updated together, :math:`s_{n+1} = \Phi(s_n, \dots)`,
    whose previous values may also move the points of ``grad(shift)`` and
    ``loss(shift)`` (a map made of several inner steps, as Lookahead's
    cycle): ``update(*previous)`` returns the new values, then any readouts
    of the step; one node each. They must contract together (a constant
    rate matrix of spectral radius < 1 at :math:`h = 0`).
``hvp(v)``
    The exact Hessian-vector product :math:`\nabla^2 E_n(\theta_n)\,v`
    (the atom :math:`D_1[v]`).
``reduce_sum(x)``
    The scalar :math:`\sum_i x_i`; ``norm(x)`` is :math:`\sqrt{\sum_i x_i^2}`.
``block_sum(x)``
    :math:`\sum_{i \in B(j)} x_i` over the parameter block (layer) of
    component :math:`j` (:mod:`modeq.blocks`); ``block_norm(x)`` is the
    layer's norm. With plain parameters there is one block.
``newton_schulz(x)``, ``msign(x, eps=0)``, ``shape_scale(rule)``
    Muon's maps of the matrix block of component :math:`j` (:mod:`modeq.primitives.matrix`).
``gram(x, side="small", part=0)``, ``kronecker_root(x, left, right=None, eps=0)``
    Shampoo's packed Gram statistics of the block and its inverse-root direction
    (:mod:`modeq.primitives.kronecker`).
``smooth_sign(x, delta)``
    :math:`x/\sqrt{x^2+\delta}`: the true sign has no useful expansion in
    :math:`h`, so sign-based methods are described with this smooth stand-in.
``h``
    The step size.
``t``
    The time :math:`t_n = nh` of the step: schedules are smooth functions of
    it (:mod:`modeq.optimizers.schedules`), and the modified equation is then
    non-autonomous, :math:`f_k(\theta, t)`.

Elementwise functions are SymPy's (``sqrt``, ``exp``, ``log``, ``tanh``, powers,
division). Non-smooth ones (``sign``, ``Abs``, ``Max``, ``Min``, ``Piecewise``,
``Heaviside``, ``floor``) are rejected by :func:`check_smooth` with an error that
names the smooth replacement.
"""

from __future__ import annotations

import sympy

from ..description import RESERVED_NAMES, DescriptionError, h, t, theta
from ..primitives import *  # noqa: F403 - the primitives and their constructors
from ..primitives import Primitive
from ..primitives import __all__ as _PRIMITIVES

__all__ = ["h", "theta", "t", *_PRIMITIVES, "smooth_sign", "check_smooth", "DescriptionError", "MATRIX_ADVICE"]


def smooth_sign(x, delta) -> sympy.Expr:
    r"""The smooth sign :math:`x/\sqrt{x^2+\delta}` (:math:`\delta > 0`)."""
    x = sympy.sympify(x)
    return x / sympy.sqrt(x**2 + delta)


_NON_SMOOTH = {
    sympy.sign: "sign() has no useful expansion in h; use smooth_sign(x, delta) = x/sqrt(x**2 + delta) with a small delta > 0",
    sympy.Abs: "Abs() is not smooth at 0; use sqrt(x**2 + delta) with a small delta > 0",
    sympy.Max: "Max() is not smooth; write a smooth surrogate (for example a softplus)",
    sympy.Min: "Min() is not smooth; write a smooth surrogate (for example a softplus)",
    sympy.Piecewise: "Piecewise() is not smooth; write a smooth surrogate",
    sympy.Heaviside: "Heaviside() is not smooth; use a smooth step such as (1 + tanh(x/delta))/2",
    sympy.floor: "floor() is not smooth and has no expansion in h",
    sympy.ceiling: "ceiling() is not smooth and has no expansion in h",
}


#: Why a SymPy matrix in an update is refused, and what to write instead.
MATRIX_ADVICE = ("the description language is elementwise: grad() is one component of the gradient, so a SymPy "
                 "matrix of grad() multiplies components, not gradient blocks; describe the update of one component "
                 "(layer-wise reductions: block_sum, block_norm over parameter blocks such as params={'W': (3, 2)})")


def check_smooth(expr: sympy.Expr, what: str = "the update") -> None:
    """Raise :class:`DescriptionError` if ``expr`` uses a non-smooth operation
    or an undefined value (a primitive says which arguments to read:
    the ``init`` slot of :class:`Lag` may hold ``nan``)."""
    stack, seen = [sympy.sympify(expr)], set()
    while stack:
        node = stack.pop()
        try:  # each distinct subexpression once: a tree may repeat one many times (Lookahead's nested inner points)
            if node in seen:
                continue
            seen.add(node)
        except TypeError:  # a mutable matrix, refused below
            pass
        for kind, advice in _NON_SMOOTH.items():
            if isinstance(node, kind):
                if node.has(t):
                    advice += (f"; a schedule must be smooth in the time t: see modeq.optimizers.schedules "
                               "(smooth_ramp for a linear warm-up, cosine, inverse_time, inverse_sqrt)")
                raise DescriptionError(f"{what} uses {kind.__name__}: {advice}")
        if isinstance(node, (sympy.MatrixBase, sympy.MatrixExpr)):
            raise DescriptionError(f"{what} contains a SymPy matrix ({type(node).__name__}); {MATRIX_ADVICE}")
        if node in (sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
            raise DescriptionError(f"{what} contains an undefined or infinite value ({node}); check for a division by zero")
        stack.extend(node.smooth_args() if isinstance(node, Primitive) else node.args)
