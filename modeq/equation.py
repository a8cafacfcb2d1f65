r"""The result of a derivation: :class:`ModifiedEquation` (index form) and
:class:`ComponentField` (materialized for a concrete loss).

The modified equation is the ODE

.. math:: \dot{\tilde\theta} = f_0(\tilde\theta) + h f_1(\tilde\theta) + \dots + h^N f_N(\tilde\theta)

whose flow passes through the iterates up to :math:`O(h^{N+1})` on bounded
time intervals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import sympy

from .algebra import ATOMS, ComponentAlgebra
from .optimizers.base import Optimizer
from .optimizers.language import h

__all__ = ["ModifiedEquation", "ComponentField"]


@dataclass(frozen=True)
class ComponentField:
    r"""A modified field in components: ``terms[k][j]`` is :math:`f_{k,j}`."""

    loss: sympy.Expr
    params: tuple[sympy.Symbol, ...]
    terms: tuple[tuple[sympy.Expr, ...], ...]

    @property
    def order(self) -> int:
        return len(self.terms) - 1

    def field(self, order: int | None = None) -> tuple[sympy.Expr, ...]:
        r""":math:`\sum_{k \le N} h^k f_k` as component expressions."""
        order = self.order if order is None else order
        return tuple(sympy.Add(*(h**k * self.terms[k][j] for k in range(order + 1))) for j in range(len(self.params)))

    @property
    def free_symbols(self) -> set[sympy.Symbol]:
        """Symbols other than the parameters (hyperparameters left symbolic)."""
        symbols = set().union(*(t.free_symbols for term in self.terms for t in term))
        return symbols - set(self.params)


@dataclass(frozen=True)
class ModifiedEquation:
    r"""The modified equation of an optimizer, terms :math:`f_0..f_N` in index form."""

    optimizer: Optimizer
    order: int
    regime: str
    values: dict[str, Any]
    terms: tuple[sympy.Expr, ...]
    regime_description: str = ""
    assumptions: tuple[str, ...] = field(
        default=(
            "the loss is smooth (as many derivatives as the order needs)",
            "the step size h is small against the time scales of the hyperparameters (h << 1 - beta for a decay beta)",
            "elementwise functions are smooth at the leading term (e.g. eps > 0 under a square root)",
        )
    )

    def field(self, order: int | None = None) -> sympy.Expr:
        r""":math:`\sum_{k \le N} h^k f_k` (component :math:`j`, index form)."""
        order = self.order if order is None else order
        if not 0 <= order <= self.order:
            raise ValueError(f"this equation has terms up to order {self.order}, not {order}")
        return sympy.Add(*(h**k * self.terms[k] for k in range(order + 1)))

    def materialize(self, loss: sympy.Expr | None, params: Sequence[sympy.Symbol],
                    batches: Sequence[sympy.Expr] | None = None) -> ComponentField:
        """The terms as component expressions for a concrete loss (and the
        batch losses :math:`E_1..E_m` of mini-batch equations; the loss then
        defaults to their mean)."""
        algebra = ComponentAlgebra(loss, params, batches)
        return ComponentField(algebra.loss, algebra.params, tuple(algebra.materialize(t, ATOMS) for t in self.terms))

    def latex(self, notation: str = "index", symbols: dict[str, str] | None = None, standalone: bool = False) -> str:
        r"""The equation in LaTeX, in the papers' notation (:mod:`modeq.printing`).

        ``notation`` is ``"index"`` (:math:`\nabla_j E`, :math:`\sum_i \nabla_{ij} E \dots`)
        or ``"vector"`` (:math:`\nabla^2 E\,\nabla E`); ``symbols`` renames symbols,
        e.g. ``{"h": r"\eta", "beta": r"\beta_1"}``; ``standalone`` gives a
        complete document."""
        from .printing import equation_latex

        return equation_latex(self, notation, symbols, standalone)

    def modified_loss(self, order: int | None = None):
        r""":math:`\dot{\tilde\theta} = -P\nabla\tilde E` through ``order``, or the
        reason there is no modified loss (:func:`modeq.analysis.modified_loss`)."""
        from .analysis import modified_loss

        return modified_loss(self, order)

    def __str__(self) -> str:
        """The equation in the papers' notation, in Unicode, with a legend (:mod:`modeq.printing.text`)."""
        from .printing.text import equation_text

        return equation_text(self)
