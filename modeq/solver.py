r"""The order-by-order solve for the modified field.

Look for :math:`f_h = f_0 + h f_1 + \dots + h^N f_N` whose flow
:math:`\varphi_t` passes through the iterates. With
:math:`\mathrm{RHS}(h) = h\,U` (the update expanded along the modified flow,
:mod:`modeq.expansion`) and
:math:`\mathrm{LHS}(h) = \varphi_h(\theta) - \theta = \sum_{r\ge1} \frac{h^r}{r!} L_f^{r-1} f`,

.. math:: [h^{k+1}]\,(\mathrm{RHS} - \mathrm{LHS}) = 0

is, with :math:`f_0..f_{k-1}` known, an equation for :math:`f_k` alone: it enters
the LHS as :math:`h^{k+1} f_k` and the RHS at :math:`h^{k+1}` at most linearly
(Polyak-type updates :math:`\beta(\theta_n - \theta_{n-1})` give it the
coefficient :math:`\beta`). So :math:`f_k` is read off — a triangular recursion,
no guessing, no hand-written formulas — by :func:`solve_linear` from the
unknown's coefficients (:class:`~modeq.unknowns.Unknowns`). The recursion is the same for every
representation (:mod:`modeq.algebra`).

*Slow states* (:mod:`modeq.primitives.state`) make the map one on
:math:`(\theta, V)`: :math:`V_{n+1} = \Phi(V_n, \theta_n, G_n)`,
:math:`\theta_{n+1} = \theta_n + hU`. Backward error analysis of that map
looks for an augmented field :math:`F = (f, f^V)` and matches every coordinate,

.. math:: [h^{k+1}]\,\big(\Phi - V - \textstyle\sum_{r\ge1} \frac{h^r}{r!} L_F^{r-1} f^V\big) = 0,

beside the equation for :math:`f_k`: the same triangular recursion, one
unknown part per coordinate, and :math:`L_F` differentiates in :math:`V` too
(:class:`~modeq.algebra.base.Augmented`). The initial value of :math:`V` is
the state's ``init``: a one-step map on :math:`(\theta, V)` has no transient.
"""

from __future__ import annotations

import numbers
from typing import Any, Callable, Mapping, Sequence

import sympy

from . import cost
from .algebra import ComponentAlgebra, IndexAlgebra
from .algebra.base import ImplicitUpdateError
from .equation import ComponentField, ModifiedEquation
from .terms import SlowStateTerms
from .expansion import Expander
from .optimizers.base import Optimizer
from .optimizers.language import DescriptionError, h
from .primitives.state import slow_states
from .regimes import Regime, get_regime
from .series import Series
from .time_functions import TimeFunctions
from .unknowns import Unknowns

__all__ = ["derive", "derive_components", "solve_terms", "MAX_ORDER"]

#: Orders above this are refused: the expressions grow combinatorially.
MAX_ORDER = 12


def check_order(order: Any) -> int:
    """``order`` as an ``int``: any integer (also NumPy's), not a bool or a float."""
    if isinstance(order, bool) or not isinstance(order, numbers.Integral):
        raise TypeError(f"order must be a whole number such as 2, got {order!r} ({type(order).__name__})")
    order = int(order)
    if not 0 <= order <= MAX_ORDER:
        raise ValueError(f"order must be between 0 and {MAX_ORDER}, got {order}")
    return order


def solve_terms(
    increment: Callable[[int], Series], unknowns: Unknowns, regime: Regime, order: int, steps: int = 1,
    progress: Callable[[int], None] | None = None, state_increments: Callable[[int], list[Series]] | None = None,
) -> list:
    r"""The terms :math:`f_0..f_N` of the modified field, solved into ``unknowns``.

    ``increment(k)`` is the series of one map's displacement (:math:`hU` for an
    optimizer step) known to order :math:`h^{k+1}`, computed with
    :math:`f_0..f_{k-1}` known; the map is matched with the flow over ``steps``
    steps, :math:`\varphi_{steps\cdot h}(\theta) - \theta
    = \sum_{r\ge1} \frac{(steps\,h)^r}{r!} L_f^{r-1} f`.
    ``progress(k)`` is called once :math:`f_k` is known. With slow states in
    ``unknowns``, ``state_increments(k)`` gives their increments
    :math:`\Phi - V` (in the order of ``unknowns.slow``), known to :math:`h^{k+1}`."""
    algebra = unknowns.algebra
    for k in range(order + 1):
        unknowns.begin_order(k)
        increments = [increment(k)] + (state_increments(k) if unknowns.slow else [])
        field = unknowns.field(k)
        solved = []
        for part, rhs, f in zip([None, *unknowns.slow], increments, unknowns.coordinates(field), strict=True):
            lhs = f.flow_moments(lambda s: sympy.Integer(steps) ** s / (s + 1), field).shift(1).scale(steps)
            residual = algebra.add(rhs.coeffs[k + 1], algebra.mul(algebra.constant(-1), lhs.coeffs[k + 1]))
            what = f"f_{k}" + ("" if part is None else f"^{unknowns.slow[part][1]} (the slow state's part)")
            try:
                term = solve_linear(unknowns, regime, residual, part)
            except ImplicitUpdateError as error:
                raise DescriptionError(f"order {k}: {error}") from None
            if algebra.contains(term, h):
                raise DescriptionError(
                    f"order {k}: the term {what} contains the step size h, so the expansion in powers of h is not "
                    "one (a hyperparameter or a decay of the update depends on h); write the h-dependence explicitly "
                    "as powers of h in the update, or as a slow state"
                )
            solved.append(term)
        unknowns.fix(solved[0], solved[1:])
        if progress is not None:
            progress(k)
    return list(unknowns.terms)


def step_increment(update: sympy.Expr, unknowns: Unknowns, regime: Regime) -> Callable[[int], Series]:
    """:math:`hU` of one optimizer step, expanded along the modified flow."""
    return lambda k: Expander(unknowns, regime).expand(update, k).shift(1)


def state_increments(unknowns: Unknowns, regime: Regime) -> Callable[[int], list[Series]]:
    r""":math:`\Phi - V` of each slow state of ``unknowns``, known to :math:`h^{k+1}`."""
    def increments(k: int) -> list[Series]:
        expander = Expander(unknowns, regime)
        return [expander.expand(node, k + 1) - expander.constant(value, k + 1)
                for value, _, node in unknowns.slow.values()]
    return increments


def _solve(update: sympy.Expr, unknowns: Unknowns, regime: Regime, order: int,
           progress: Callable[[int], None] | None = None) -> list:
    """The terms of one optimizer step's modified field, its slow states made coordinates first."""
    for node in slow_states(update):
        unknowns.add_slow(node.key, node.name, node)
    return solve_terms(step_increment(update, unknowns, regime), unknowns, regime, order, progress=progress,
                       state_increments=state_increments(unknowns, regime))


def slow_terms(unknowns: Unknowns, restore: Callable[[sympy.Expr], sympy.Expr] = lambda x: x
               ) -> tuple[SlowStateTerms, ...]:
    """The slow states' parts of a solved equation (``restore``: the terms' opaque
    functions of time written out, :meth:`~modeq.time_functions.TimeFunctions.restore`)."""
    return tuple(SlowStateTerms(name, value, node.init, tuple(map(restore, unknowns.state_terms[key])))
                 for key, (value, name, node) in unknowns.slow.items())


def solve_linear(unknowns: Unknowns, regime: Regime, residual, part: str | None = None):
    r"""Solve :math:`aF^{(n)} + bF^{(n-1)} + c = 0` for the unknown term:
    :math:`F = -c/a` when :math:`b = 0` (always in the stationary regime),
    else the regime's recurrence."""
    algebra = unknowns.algebra
    a, b, c = unknowns.linear_parts(residual, part)
    if not algebra.is_zero(b):
        return regime.solve_recurrence(algebra, a, b, c)
    if algebra.is_zero(a):
        raise ImplicitUpdateError("the update does not determine its correction (its coefficient vanishes)")
    x = sympy.Dummy("x")
    return algebra.mul(algebra.apply(sympy.Lambda(x, -1 / x), a), c)


def derive(
    optimizer: Optimizer,
    order: int = 1,
    regime: str | Regime = "stationary",
    values: Mapping[str, Any] | None = None,
    *,
    max_seconds: float | None = cost.DEFAULT,
    progress: Callable[[int, int], None] | None = None,
) -> ModifiedEquation:
    r"""The modified equation of ``optimizer`` to ``order`` in index form.

    ``values`` fixes some hyperparameters to numbers (exact rationals are kept:
    ``0.9`` becomes ``9/10``); the others stay symbols. A derivation estimated
    (:mod:`modeq.cost`) to take longer than ``max_seconds`` (default 600;
    ``None``: no limit) is refused before it starts, and again before each
    order if this run's pace so far projects the total above the limit
    (:class:`modeq.cost.Guard`); ``progress(done, total)`` is called after each order.

    >>> from modeq import derive, optimizers
    >>> derive(optimizers.gd, order=1).terms
    (-g, -D_1[g]/2)
    """
    order = check_order(order)
    regime = get_regime(regime)
    update = TimeFunctions(optimizer.update(values))
    what = f"deriving {optimizer.name} to order {order}"
    estimates = cost.order_seconds(optimizer, order, regime.name, values)
    cost.check(sum(estimates), max_seconds, what)
    guard = cost.Guard(estimates, max_seconds, what)

    def report(k: int) -> None:
        if progress is not None:
            progress(k + 1, order + 1)
        guard.done(k)

    unknowns = Unknowns(IndexAlgebra())
    terms = _solve(update.update, unknowns, regime, order, report)
    opaque = update.opaque(terms, [unknowns.state_terms[key] for key in unknowns.slow])
    restored = tuple(terms) if opaque is None else opaque.restored[0]
    return ModifiedEquation(optimizer, order, regime.name, dict(values or {}), restored, regime.description,
                            atoms=unknowns.algebra.atoms, states=slow_terms(unknowns, update.restore),
                            time_functions=opaque)


def derive_components(
    optimizer: Optimizer,
    loss: sympy.Expr,
    params: Sequence[sympy.Symbol],
    order: int = 1,
    regime: str | Regime = "stationary",
    values: Mapping[str, Any] | None = None,
) -> ComponentField:
    """The modified field derived directly in components for a concrete loss —
    the same recursion on the component algebra; an independent check of the
    index form."""
    order = check_order(order)
    algebra = ComponentAlgebra(loss, params)
    regime = get_regime(regime)
    unknowns = Unknowns(algebra)
    terms = _solve(optimizer.update(values), unknowns, regime, order)
    return ComponentField(algebra.loss, algebra.params, tuple(terms))
