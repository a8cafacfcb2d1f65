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
  terms become known;
* the slow states :math:`V` (:mod:`modeq.primitives.state`), which join
  :math:`\theta`: each is a coordinate of the algebra
  (:meth:`~modeq.algebra.FieldAlgebra.state_value`), and each term has a part
  :math:`f^{V}_k` beside :math:`f_k`, solved at the same order from the
  state's own residual. With slow states the field that moves quantities along
  the flow is :class:`~modeq.algebra.base.Augmented` (:meth:`Unknowns.term`).
"""

from __future__ import annotations

from typing import Callable, Generic, Hashable, Sequence, TypeVar

from .algebra.base import Augmented, FieldAlgebra, ImplicitUpdateError
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
        #: The slow states: ``key -> (coordinate, name, node)``, and their parts :math:`f^V_k`.
        self.slow: dict[str, tuple[V, str, Hashable]] = {}
        self.state_terms: dict[str, list[V]] = {}

    # -- the terms of the modified field ----------------------------------------------

    def begin_order(self, k: int) -> None:
        """Start solving for :math:`f_k`: terms ``0..k-1`` must be known."""
        if len(self.terms) != k:
            raise RuntimeError(f"terms f_0..f_{len(self.terms) - 1} are known; cannot start order {k}")

    def fix(self, value: V, states: Sequence[V] = ()) -> None:
        """Record the solved term :math:`f_k` (and its slow-state parts, in the
        order of :attr:`slow`)."""
        for key, part in zip(self.slow, states, strict=True):
            self.state_terms[key].append(self.algebra.canonical(part))
        self.terms.append(self.algebra.canonical(value))

    def unknown(self, offset: int = 0, part: str | None = None) -> V:
        r"""The term being solved for, :math:`f_k^{(n - offset)}` (its part of the slow state ``part``)."""
        return self.algebra.unknown(len(self.terms), offset, part)

    def term(self, i: int):
        r""":math:`f_i`, or the unknown for the term being solved; with slow
        states, the :class:`~modeq.algebra.base.Augmented` field :math:`(f_i, f^V_i, \dots)`."""
        if i > len(self.terms):
            raise ImplicitUpdateError(f"f_{i} is needed before f_{len(self.terms)} is known")
        theta = self.terms[i] if i < len(self.terms) else self.unknown()
        if not self.slow:
            return theta
        parts = tuple((value, self.state_terms[key][i] if i < len(self.terms) else self.unknown(part=key))
                      for key, (value, _, _) in self.slow.items())
        return Augmented(theta, parts)

    # -- slow states ----------------------------------------------------------------------

    def add_slow(self, key: str, name: str, node: Hashable) -> V:
        """Make the slow state ``key`` a coordinate (before the solve starts:
        every field of the solve must carry its part), printed ``name`` (with a
        digit appended when another state has it)."""
        if self.terms:
            raise RuntimeError("slow states join the solve before its first order")
        if key not in self.slow:
            taken = {n for _, n, _ in self.slow.values()}
            unique = name if name not in taken else next(f"{name}{i}" for i in range(2, len(taken) + 3)
                                                         if f"{name}{i}" not in taken)
            self.slow[key] = (self.algebra.state_value(key, unique), unique, node)
            self.state_terms[key] = []
        return self.slow[key][0]

    def coordinates(self, field: Series) -> list[Series]:
        r"""The series of each coordinate's part of a field series from
        :meth:`field`: :math:`f`, then :math:`f^V` of each slow state."""
        if not self.slow:
            return [field]
        parts = [Series(self.algebra, [c.theta for c in field.coeffs])]
        for value, _, _ in self.slow.values():
            parts.append(Series(self.algebra, [dict(c.states)[value] for c in field.coeffs]))
        return parts

    def coordinate(self, key: str) -> V:
        """The coordinate of the slow state ``key``, or an error naming what supports slow states."""
        if key not in self.slow:
            raise ImplicitUpdateError("a slow state (increment O(h)) is a coordinate of the stationary regime's "
                                      "modified equation (modeq.derive); this derivation has none")
        return self.slow[key][0]

    def field(self, order: int) -> Series:
        r"""The modified field :math:`f_0 + \dots + h^{order} f_{order}` as a series."""
        return Series(self.algebra, [self.term(i) for i in range(order + 1)])

    def flow_field(self, order: int) -> Series:
        r"""The modified field that moves a series known to ``order`` along the
        flow (:meth:`~modeq.series.Series.flow_moments` differentiates it at
        most to order ``order - 1``)."""
        return self.field(max(order - 1, 0))

    def linear_parts(self, residual: V, part: str | None = None) -> tuple[V, V, V]:
        r"""``(a, b, c)`` with ``residual`` :math:`= a f_k^{(n)} + b f_k^{(n-1)} + c`
        (for the part of the slow state ``part``: :math:`f^V_k`; the equation of
        one part may not hold another's unknown)."""
        own = [self.unknown(0, part), self.unknown(1, part)]
        others = [self.unknown(0, key) for key in [None, *self.slow] if key != part]
        what = f"f_{len(self.terms)}" + ("" if part is None else f"^{self.slow[part][1]}")
        (a, b, *cross), c = self.algebra.linear_parts(residual, own + others, what)
        if not all(self.algebra.is_zero(x) for x in cross):
            raise ImplicitUpdateError(f"the equation for {what} holds the unknown part of another coordinate "
                                      "(theta and a slow state are coupled at the order being solved)")
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

    def joint_manifold(self, key: Hashable, order: int, size: int,
                       coefficient: Callable[[list[list[V]], int], list[V]]) -> list[Series]:
        r"""As :meth:`manifold` for ``size`` states solved together
        (:mod:`modeq.primitives.joint_state`): ``coefficient(known, k)`` gives
        the vector :math:`(\sigma^1_k, \dots, \sigma^S_k)`; one series per state."""
        known = self._manifolds.setdefault(key, [])
        while len(known) <= min(order, len(self.terms)):
            known.append([self.algebra.canonical(v) for v in coefficient(known, len(known))])
        vectors = list(known[: order + 1])
        while len(vectors) <= order:  # beyond the known terms: holds the unknown f_k, not kept
            vectors.append(coefficient(vectors, len(vectors)))
        return [Series(self.algebra, [vector[i] for vector in vectors]) for i in range(size)]
