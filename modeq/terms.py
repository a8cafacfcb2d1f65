r"""The data of a derivation's result: :class:`EquationTerms` (index form) and
:class:`ComponentField` (materialized for a concrete loss).

The modified equation is the ODE

.. math:: \dot{\tilde\theta} = f_0(\tilde\theta) + h f_1(\tilde\theta) + \dots + h^N f_N(\tilde\theta)

whose flow passes through the iterates up to :math:`O(h^{N+1})` on bounded
time intervals. With slow optimizer states :math:`V` (:mod:`modeq.primitives.state`)
it is a system for :math:`(\tilde\theta, \tilde V)`: each state adds
:math:`\dot{\tilde V} = f^V_0 + h f^V_1 + \dots` (:class:`SlowStateTerms`) from
:math:`\tilde V(0) = V_0`, and the terms :math:`f_k` hold the atom :math:`V_j`.

This module is low in the layers: printers and analyses read these classes
(:mod:`modeq.printing`, :mod:`modeq.analysis`) and know nothing above them;
the user-facing :class:`~modeq.equation.ModifiedEquation` adds the
convenience methods that call them (``latex``, ``modified_loss``, ``str``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import sympy

from .algebra import ATOMS, ComponentAlgebra
from .algebra.base import STEP
from .algebra.index import AtomRegistry
from .components import free_symbols, materialize
from .optimizers.base import Optimizer
from .optimizers.language import h

__all__ = ["EquationTerms", "ComponentField", "SlowStateTerms", "OpaqueTime"]


@dataclass(frozen=True)
class ComponentField:
    r"""A modified field in components: ``terms[k][j]`` is :math:`f_{k,j}`."""

    loss: sympy.Expr
    params: tuple[sympy.Symbol, ...]
    terms: tuple[tuple[sympy.Expr, ...], ...]
    #: Matrix maps of parameter blocks the terms read (:class:`~modeq.components.MatrixStage`):
    #: their outputs are symbols of the terms, computed first by compiled code.
    stages: tuple = ()

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
        symbols = free_symbols(t for term in self.terms for t in term)  # the terms share subexpressions
        return symbols - set(self.params) - {s for stage in self.stages for s in stage.outputs}


@dataclass(frozen=True)
class SlowStateTerms:
    r"""A slow state's part of the modified equation: its coordinate ``value``
    (the atom :math:`V_j`, printed ``name``), its initial value ``init`` (in the
    hyperparameters and :math:`h`) and its terms :math:`f^V_0..f^V_N`."""

    name: str
    value: sympy.Symbol
    init: sympy.Expr
    terms: tuple[sympy.Expr, ...]


@dataclass(frozen=True)
class OpaqueTime:
    r"""The terms as derived, before their functions of time were written out
    (:mod:`modeq.time_functions`): each opaque :math:`\eta_i(t)` with its
    definition (an expression in :math:`t` and the hyperparameters), the terms
    :math:`f_k` and each slow state's terms in :math:`\eta_i, \eta_i', \dots`,
    and the terms they restore to (the equation's own, checked before use).

    Printers lay these out and define each :math:`\eta_i` beside the
    equation: written out, a schedule's derivatives make coefficients of
    thousands of operations whose layout cost many times the derivation."""

    functions: tuple[tuple[sympy.Expr, sympy.Expr], ...]
    terms: tuple[sympy.Expr, ...]
    states: tuple[tuple[sympy.Expr, ...], ...]
    #: The restored terms, then each slow state's: what this form stands for.
    restored: tuple[tuple[sympy.Expr, ...], ...]


@dataclass(frozen=True)
class EquationTerms:
    r"""The terms :math:`f_0..f_N` of a modified equation in index form and what they were
    derived from (the data half of :class:`~modeq.equation.ModifiedEquation`)."""

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
    #: The atom table the terms' atoms are defined in — the derivation's own
    #: (query it by structure, e.g. ``eq.atoms.contractions(eq.terms[1], order=1)``,
    #: never by name); ``None`` (an equation written by hand) means the default
    #: table :data:`~modeq.algebra.ATOMS` of the helpers ``D``, ``S``. Not part of
    #: equality: equal atoms of two tables are equal symbols.
    atoms: AtomRegistry = field(default=None, compare=False, repr=False)  # type: ignore[assignment]
    #: The slow states, each a coordinate beside :math:`\theta` with terms of its own.
    states: tuple[SlowStateTerms, ...] = ()
    #: The terms with the update's functions of time opaque (:class:`OpaqueTime`;
    #: ``None``: none, or not kept). Read it through :meth:`opaque_time`.
    time_functions: OpaqueTime | None = field(default=None, compare=False, repr=False)

    def opaque_time(self) -> OpaqueTime | None:
        """The terms with opaque functions of time, if they are this equation's
        (an equation made from another with new terms, e.g. by
        ``dataclasses.replace``, has none)."""
        form = self.time_functions
        if form is None or form.restored != (self.terms, *(s.terms for s in self.states)):
            return None
        return form

    def __post_init__(self) -> None:
        if self.atoms is None:
            object.__setattr__(self, "atoms", ATOMS)

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
        known = set(self.optimizer.symbols.values()) | {STEP, self.atoms.dimension}
        for term in self.terms:
            for symbol in term.free_symbols - known:
                if self.atoms.definition(symbol) is None:
                    raise ValueError(f"the term {term} holds {symbol}, which the equation's atom table does not define; "
                                     "build an equation from another's terms with atoms=<that equation>.atoms")
        algebra = ComponentAlgebra(loss, params, batches)
        stages: list = []
        if not self.states:
            terms = materialize(self.terms, self.atoms, algebra, stages)
            return ComponentField(algebra.loss, algebra.params, terms, tuple(stages))
        # the augmented system on (theta, V, ...): the states' components follow the parameters
        order = len(self.terms)
        flat = materialize(list(self.terms) + [t for state in self.states for t in state.terms], self.atoms, algebra,
                           stages)
        blocks = [flat[i * order:(i + 1) * order] for i in range(len(self.states) + 1)]
        coordinates = [algebra.state_value(self.atoms.definition(s.value).key, s.name) for s in self.states]
        terms = tuple(sum((block[k] for block in blocks), ()) for k in range(order))
        return ComponentField(algebra.loss, algebra.params + sum(coordinates, ()), terms, tuple(stages))
