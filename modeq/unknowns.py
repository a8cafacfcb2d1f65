r"""The solver's unknowns, apart from the values they are made of.

A :class:`~modeq.algebra.FieldAlgebra` does value arithmetic and Lie
derivatives. What the order-by-order solve (:mod:`modeq.solver`) has found so
far, and what it is solving for, lives here:

* the terms :math:`f_0, \dots, f_{k-1}` of the modified field, known while
  :math:`f_k` is solved for; :math:`f_k` stands in the expansion as an unknown
  value of the algebra (:meth:`~modeq.algebra.FieldAlgebra.unknown`,
  :math:`f_k^{(n-m)}` at :math:`m` steps back in the exact regime) and enters
  the order-:math:`h^{k+1}` residual linearly;
* the invariant manifolds :math:`\sigma_h = \sigma_0 + h\sigma_1 + \dots` of
  fast optimizer states (:mod:`modeq.primitives.state`): at order :math:`k`,
  :math:`(1-A)\sigma_k` is known from :math:`\sigma_{<k}` and
  :math:`f_{<k}`, so a manifold is extended one coefficient at a time as the
  terms become known.
"""

from __future__ import annotations

from typing import Callable, Generic, Hashable, Sequence, TypeVar

from .algebra.base import FieldAlgebra, ImplicitUpdateError
from .series import Series

__all__ = ["Unknowns"]

V = TypeVar("V")


class Unknowns(Generic[V]):
    """The terms :math:`f_k` and the state manifolds :math:`\\sigma` of one solve."""

    def __init__(self, algebra: FieldAlgebra[V], known: Sequence[V] = ()) -> None:
        """``known``: terms already solved for (e.g. the fields of an earlier
        step, :mod:`modeq.stepwise`)."""
        self.algebra = algebra
        self.terms: list[V] = list(known)
        self._manifolds: dict[Hashable, list[V]] = {}

    # -- the terms of the modified field ----------------------------------------------

    def begin_order(self, k: int) -> None:
        """Start solving for :math:`f_k`: terms ``0..k-1`` must be known."""
        if len(self.terms) != k:
            raise RuntimeError(f"terms f_0..f_{len(self.terms) - 1} are known; cannot start order {k}")

    def fix(self, value: V) -> None:
        """Record the solved term :math:`f_k`."""
        self.terms.append(self.algebra.canonical(value))

    def unknown(self, offset: int = 0) -> V:
        r"""The term being solved for, :math:`f_k^{(n - offset)}`."""
        return self.algebra.unknown(len(self.terms), offset)

    def term(self, i: int) -> V:
        """:math:`f_i`, or the unknown for the term being solved."""
        if i < len(self.terms):
            return self.terms[i]
        if i == len(self.terms):
            return self.unknown()
        raise ImplicitUpdateError(f"f_{i} is needed before f_{len(self.terms)} is known")

    def field(self, order: int) -> Series:
        r"""The modified field :math:`f_0 + \dots + h^{order} f_{order}` as a series."""
        return Series(self.algebra, [self.term(i) for i in range(order + 1)])

    def flow_field(self, order: int) -> Series:
        r"""The modified field that moves a series known to ``order`` along the
        flow (:meth:`~modeq.series.Series.flow_moments` differentiates it at
        most to order ``order - 1``)."""
        return self.field(max(order - 1, 0))

    def linear_parts(self, residual: V) -> tuple[V, V, V]:
        r"""``(a, b, c)`` with ``residual`` :math:`= a f_k^{(n)} + b f_k^{(n-1)} + c`."""
        (a, b), c = self.algebra.linear_parts(residual, [self.unknown(0), self.unknown(1)],
                                              f"f_{len(self.terms)}")
        return a, b, c

    # -- the invariant manifolds of fast states ----------------------------------------

    def manifold(self, key: Hashable, order: int, coefficient: Callable[[list[V], int], V]) -> Series:
        r""":math:`\sigma_0 + \dots + h^{order}\sigma_{order}` of the state ``key``;
        missing coefficients come from ``coefficient(known, k)`` (which may use
        :math:`f_0..f_{k-1}`: :math:`\sigma_k` is needed first at order
        :math:`k` of the update, where :math:`f_k` is the unknown)."""
        known = self._manifolds.setdefault(key, [])
        while len(known) <= min(order, len(self.terms)):
            known.append(self.algebra.canonical(coefficient(known, len(known))))
        coeffs = list(known[: order + 1])
        while len(coeffs) <= order:  # beyond the known terms: holds the unknown f_k, not kept
            coeffs.append(coefficient(coeffs, len(coeffs)))
        return Series(self.algebra, coeffs)
