r"""The optimizer description language.

An optimizer is described once, as the *update direction* :math:`U_n` of

.. math:: \theta_{n+1} = \theta_n + h\,U_n ,

written as a SymPy expression built from the primitives below, hyperparameter
symbols and ordinary (smooth) SymPy functions. The same expression drives the
symbolic expansion (:mod:`modeq.solver`) and the compiled discrete iteration,
so a variant is validated by writing it once.

Primitives (all elementwise in the parameter index :math:`j` unless said):

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
``reduce_sum(x)``
    The scalar :math:`\sum_i x_i`; ``norm(x)`` is :math:`\sqrt{\sum_i x_i^2}`.
``smooth_sign(x, delta)``
    :math:`x/\sqrt{x^2+\delta}`: the true sign has no useful expansion in
    :math:`h`, so sign-based methods are described with this smooth stand-in.
``h``
    The step size.

Elementwise functions are SymPy's (``sqrt``, ``exp``, ``log``, ``tanh``, powers,
division). Non-smooth ones (``sign``, ``Abs``, ``Max``, ``Min``, ``Piecewise``,
``Heaviside``, ``floor``) are rejected by :func:`check_smooth` with an error that
names the smooth replacement.
"""

from __future__ import annotations

import sympy

__all__ = [
    "h",
    "theta",
    "Grad",
    "Lag",
    "EMA",
    "ReduceSum",
    "grad",
    "lag",
    "ema",
    "reduce_sum",
    "norm",
    "smooth_sign",
    "check_smooth",
    "DescriptionError",
]

#: The step size :math:`h`.
h = sympy.Symbol("h", positive=True)

#: The current iterate :math:`\theta_n` (component :math:`j`).
theta = sympy.Symbol("theta", real=True)

RESERVED_NAMES = frozenset({"h", "theta"})


class DescriptionError(ValueError):
    """An optimizer description that modeq cannot expand or run."""


class _Primitive(sympy.Function):
    """Base of the primitives: real-valued state, never a number (even
    ``Grad(0)``, which has no free symbols), so SymPy neither evaluates nor
    compares them."""

    is_number = False

    def _eval_is_extended_real(self):
        return True


class Grad(_Primitive):
    r"""``Grad(shift)``: :math:`\nabla_j E_n(\theta_n + \text{shift})`."""

    nargs = 1


class Lag(_Primitive):
    r"""``Lag(x, k, init)``: the value of ``x`` at step :math:`n-k`.

    ``init`` is ``sympy.nan`` for "the first value :math:`x_0`"."""

    nargs = 3


class EMA(_Primitive):
    r"""``EMA(x, decay, init, bias_correction)``: exponential moving average."""

    nargs = 4


class ReduceSum(_Primitive):
    r"""``ReduceSum(x)``: :math:`\sum_i x_i`, a scalar."""

    nargs = 1


#: The primitives that carry optimizer state or history.
PRIMITIVES = (Grad, Lag, EMA, ReduceSum)


def grad(shift=0) -> sympy.Expr:
    r""":math:`\nabla_j E_n(\theta_n + \text{shift})`; ``shift`` must be :math:`O(h)`."""
    return Grad(sympy.sympify(shift))


def lag(x, k: int = 1, init=None) -> sympy.Expr:
    r"""The value of ``x`` at step :math:`n-k` (``init`` before the start)."""
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise DescriptionError(f"lag(x, k) needs a whole number k >= 1 of steps back, got {k!r}")
    return Lag(sympy.sympify(x), sympy.Integer(k), sympy.nan if init is None else sympy.sympify(init))


def ema(x, decay, init=0, bias_correction: bool = False) -> sympy.Expr:
    r"""Exponential moving average :math:`m_{n+1} = \beta m_n + (1-\beta) x_n`."""
    return EMA(sympy.sympify(x), sympy.sympify(decay), sympy.sympify(init), sympy.true if bias_correction else sympy.false)


def reduce_sum(x) -> sympy.Expr:
    r"""The scalar :math:`\sum_i x_i`."""
    return ReduceSum(sympy.sympify(x))


def norm(x) -> sympy.Expr:
    r"""The Euclidean norm :math:`\|x\| = \sqrt{\sum_i x_i^2}`."""
    return sympy.sqrt(reduce_sum(sympy.sympify(x) ** 2))


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


def check_smooth(expr: sympy.Expr, what: str = "the update") -> None:
    """Raise :class:`DescriptionError` if ``expr`` uses a non-smooth operation
    or an undefined value (the ``init`` slot of :class:`Lag` may hold ``nan``)."""
    stack = [sympy.sympify(expr)]
    while stack:
        node = stack.pop()
        for kind, advice in _NON_SMOOTH.items():
            if isinstance(node, kind):
                raise DescriptionError(f"{what} uses {kind.__name__}: {advice}")
        if node in (sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
            raise DescriptionError(f"{what} contains an undefined or infinite value ({node}); check for a division by zero")
        stack.extend(node.args[:2] if isinstance(node, Lag) else node.args)
