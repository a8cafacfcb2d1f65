r"""The field-algebra interface the derivation runs on.

The derivation (:mod:`modeq.solver`) only ever adds, multiplies, applies
elementwise functions, reduces, contracts with derivatives of the loss and takes
Lie derivatives :math:`L_{f_k}` along the terms :math:`f_k` of the modified
field. A :class:`FieldAlgebra` provides exactly those operations for one
representation of vector fields:

* :class:`~modeq.algebra.index.IndexAlgebra` — dimension-free expressions for
  component :math:`j`;
* :class:`~modeq.algebra.component.ComponentAlgebra` — :math:`p` explicit
  expressions in :math:`\theta_1, \dots, \theta_p`.

The algebra also owns the terms of the modified field: ``f_0, …, f_{k-1}`` are
known while ``f_k`` is being solved for, and stands in the expansion as a
placeholder value (:meth:`FieldAlgebra.begin_order`). The placeholder enters the
order-:math:`h^{k+1}` residual linearly; :meth:`FieldAlgebra.solve` reads
off :math:`f_k` from it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Generic, Sequence, TypeVar

import sympy

__all__ = ["FieldAlgebra", "ImplicitUpdateError"]

V = TypeVar("V")


class ImplicitUpdateError(ValueError):
    """The update depends on the unknown correction in a way that is not an
    elementwise linear equation (it would need a derivative of the unknown)."""


class FieldAlgebra(ABC, Generic[V]):
    """Operations on fields (and scalars, broadcast as constant fields)."""

    def __init__(self) -> None:
        self.terms: list[V] = []
        self._lie_cache: dict[tuple[V, int], V] = {}

    # -- values ---------------------------------------------------------------

    @property
    @abstractmethod
    def zero(self) -> V: ...

    @abstractmethod
    def constant(self, scalar: sympy.Expr) -> V:
        """A scalar (an expression in hyperparameters) as a value."""

    @abstractmethod
    def theta(self) -> V:
        r"""The iterate :math:`\theta`."""

    @abstractmethod
    def grad(self) -> V:
        r"""The gradient :math:`\nabla E` of the step's loss."""

    @abstractmethod
    def contract(self, args: Sequence[V]) -> V:
        r""":math:`D_k[X_1,\dots,X_k]_j = \sum_{i_1..i_k} \nabla_{j i_1 \dots i_k} E\, X_{1,i_1}\cdots X_{k,i_k}`."""

    @abstractmethod
    def reduce_sum(self, x: V) -> V:
        r"""The scalar :math:`\sum_i x_i`, broadcast."""

    @abstractmethod
    def add(self, a: V, b: V) -> V: ...

    @abstractmethod
    def mul(self, a: V, b: V) -> V: ...

    @abstractmethod
    def apply(self, phi: sympy.Lambda, x: V) -> V:
        r"""The elementwise function :math:`\phi(x)`."""

    @abstractmethod
    def is_zero(self, x: V) -> bool:
        """Exact test (may expand)."""

    @abstractmethod
    def is_trivially_zero(self, x: V) -> bool:
        """Cheap structural test; ``False`` may still be zero."""

    @abstractmethod
    def is_finite(self, x: V) -> bool:
        """No infinite or undefined value (a singular Taylor coefficient)."""

    @abstractmethod
    def canonical(self, x: V) -> V:
        """A cheap canonical form (expanded; no ``simplify``)."""

    # -- the modified field -----------------------------------------------------

    @abstractmethod
    def placeholder(self) -> V:
        """The unknown term :math:`f_k` while it is solved for."""

    @abstractmethod
    def solve(self, residual: V) -> V:
        r"""Solve ``residual = a·F + b = 0`` for the placeholder ``F``
        (``a`` elementwise, free of ``F``)."""

    def begin_order(self, k: int) -> None:
        """Start solving for :math:`f_k`: terms ``0..k-1`` must be known."""
        if len(self.terms) != k:
            raise RuntimeError(f"terms f_0..f_{len(self.terms) - 1} are known; cannot start order {k}")

    def fix(self, value: V) -> None:
        """Record the solved term :math:`f_k`."""
        self.terms.append(self.canonical(value))

    def term(self, i: int) -> V:
        """:math:`f_i`, or the placeholder for the term being solved."""
        if i < len(self.terms):
            return self.terms[i]
        if i == len(self.terms):
            return self.placeholder()
        raise ImplicitUpdateError(f"f_{i} is needed before f_{len(self.terms)} is known")

    def lie(self, x: V, i: int) -> V:
        r""":math:`L_{f_i} x = \nabla x \cdot f_i`.

        Memoized along known terms (they never change). Along the term being
        solved for, the result holds the placeholder (e.g. :math:`L_F\theta = F`,
        :math:`L_F g = D_1[F]`) and is not cached; :meth:`solve` rejects a
        placeholder that ends up inside a contraction."""
        if i > len(self.terms):
            raise ImplicitUpdateError(f"f_{i} is needed before f_{len(self.terms)} is known")
        if i == len(self.terms):
            return self._lie(x, i)
        key = (x, i)
        if key not in self._lie_cache:
            self._lie_cache[key] = self._lie(x, i)
        return self._lie_cache[key]

    @abstractmethod
    def _lie(self, x: V, i: int) -> V: ...
