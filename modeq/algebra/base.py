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

The solver's bookkeeping — which terms are known, which is being solved for,
the invariant manifolds of fast states — is :class:`modeq.unknowns.Unknowns`;
the algebra only makes an unknown *value* (:meth:`FieldAlgebra.unknown`, a
symbol standing for the term being solved for) and reads the coefficients of
unknowns in a residual (:meth:`FieldAlgebra.linear_parts`).

*Slow states.* An optimizer state whose increment is :math:`O(h)`
(:mod:`modeq.primitives.state`) joins :math:`\theta`: the flow is that of an
augmented field :math:`F = (f, f^{s})` on :math:`(\theta, s)` (an
:class:`Augmented` value), and the state's value is a coordinate of the
algebra (:meth:`FieldAlgebra.state_value`; :math:`s_j` in index form). Its
Lie derivative is
:math:`L_F x = \nabla_\theta x\cdot f + \partial_s x\cdot f^{s}`: the
first part is ``lie_along(x, f)`` (partial in :math:`\theta`, :math:`s`
held fixed), the second ``lie_along(x, Partial(s, f^s))``. The Lie series of
the derivation take an :class:`Augmented` field wherever they took :math:`f`,
so fast states, moving averages and lags over quantities that hold :math:`s`
expand along the augmented flow without knowing about it.

*Time.* Updates may depend on the time :math:`t_n = nh` (schedules), so the
modified field is non-autonomous, :math:`f_k(\theta, t)`. The flow is then that
of the augmented field :math:`F = (f, 1)` on :math:`(\theta, t)`, whose Lie
derivative is :math:`L_F = \nabla(\cdot)\cdot f + \partial_t`. Since
:math:`F = (f_0, 1) + \sum_{k\ge1} h^k (f_k, 0)`, the :math:`\partial_t` belongs to
the order-0 term: :meth:`~modeq.series.Series.lie` adds it at :math:`i = 0`
(the pair :math:`(u_0, \partial_t)` of :meth:`FieldAlgebra.lie_sum`), and ``lie_along`` with the marker
:data:`TIME` is :math:`\partial_t`. Every Lie series of the derivation (the
left-hand side, the history of stationary and exact regimes, the invariant
manifolds of fast states, the pull-backs of ``derive_steps``) runs along the
augmented flow, and an update free of
:math:`t` gives the autonomous results unchanged (:math:`\partial_t` of a
time-free value is zero, found without a walk).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Generic, Sequence, TypeVar

import sympy

__all__ = ["FieldAlgebra", "ImplicitUpdateError", "NotSeparableError", "STEP", "Partial", "Augmented", "TIME", "TIME_SYMBOL"]

#: The step index :math:`n` of step-dependent (exact-regime) fields.
STEP = sympy.Symbol("n", integer=True, nonnegative=True)

#: The time :math:`t = nh` of schedules (non-autonomous fields :math:`f_k(\theta, t)`);
#: every atom table holds it (``atoms.time``), the component form keeps it a symbol.
TIME_SYMBOL = sympy.Symbol("t", real=True)

V = TypeVar("V")

_LIE_SUM = "lie_sum"  # marks memoized sums of Lie derivatives in the Lie cache


@dataclass(frozen=True)
class Partial:
    r"""The direction :math:`v\,\partial_s` of a slow state's coordinate ``state``
    (:meth:`FieldAlgebra.state_value`) with the component values ``value``:
    ``lie_along(x, Partial(s, v))`` is :math:`\partial_s x \cdot v`."""

    state: Any
    value: Any


@dataclass(frozen=True)
class Augmented:
    r"""A field on :math:`(\theta, s_1, \dots)`: ``theta`` (a value) and
    ``states``, pairs of a state's coordinate and its part :math:`f^{s}`."""

    theta: Any
    states: tuple[tuple[Any, Any], ...]


class _TimeDirection:
    r"""The direction :math:`\partial_t` of the augmented flow: ``lie_along(x, TIME)``
    is the partial derivative of ``x`` in the time :math:`t`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "TIME"


#: The marker field of :math:`\partial_t` (see the module docs).
TIME = _TimeDirection()


class ImplicitUpdateError(ValueError):
    """The update depends on the unknown correction in a way that is not an
    elementwise linear equation (it would need a derivative of the unknown)."""


class NotSeparableError(ValueError):
    """A step-dependent field whose step index sits inside a nonlinearity, so
    sums over the history have no closed form."""


class FieldAlgebra(ABC, Generic[V]):
    """Operations on fields (and scalars, broadcast as constant fields)."""

    def __init__(self) -> None:
        self._lie_cache: dict[tuple[V, V], V] = {}  # L_f x by (x, f)

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
    def grad(self, loss: int | None = None) -> V:
        r"""The gradient :math:`\nabla E` (or :math:`\nabla E_b` of batch ``loss`` = b)."""

    @abstractmethod
    def loss_value(self, loss: int | None = None) -> V:
        r"""The loss value :math:`E` (or :math:`E_b` of batch ``loss`` = b), a scalar, broadcast."""

    @abstractmethod
    def contract(self, args: Sequence[V], loss: int | None = None) -> V:
        r""":math:`D_k[X_1,\dots,X_k]_j = \sum_{i_1..i_k} \nabla_{j i_1 \dots i_k} E\, X_{1,i_1}\cdots X_{k,i_k}`
        (of :math:`E_b` for batch ``loss`` = b)."""

    @abstractmethod
    def reduce_sum(self, x: V) -> V:
        r"""The scalar :math:`\sum_i x_i`, broadcast."""

    @abstractmethod
    def block_sum(self, x: V) -> V:
        r""":math:`\sum_{i \in B(j)} x_i` over the parameter block :math:`B(j)` of each component."""

    @abstractmethod
    def matrix_map(self, fmap, base: V, directions: Sequence[V] = ()) -> V:
        r""":math:`D^kF(X_B)[Y_{1,B}..Y_{k,B}]` of the matrix map ``fmap``
        (:mod:`modeq.algebra.matrix_maps`) on the parameter block of each
        component (no directions: :math:`F(X_B)`)."""

    @abstractmethod
    def block_scale(self, rule: str) -> V:
        r"""The scale :math:`s(m, k)` of the rule ``rule`` for the block of each component."""

    @abstractmethod
    def add(self, a: V, b: V) -> V: ...

    def combine(self, pairs: Sequence[tuple[sympy.Expr, V]]) -> V:
        r""":math:`\sum_i w_i v_i` for ``pairs`` :math:`(w_i, v_i)` of scalars and values."""
        return self.sum([self.mul(self.constant(w), v) for w, v in pairs])

    def sum(self, values: Sequence[V]) -> V:
        """The sum of ``values`` at once (a representation may flatten a long
        sum once instead of once per pairwise addition)."""
        total = self.zero
        for v in values:
            total = self.add(total, v)
        return total

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

    def state_value(self, key: str, name: str) -> V:
        r"""The coordinate :math:`s` of the slow state ``key`` (printed ``name``):
        a value whose Lie derivative along :class:`Partial` ``(s, v)`` is ``v``."""
        raise ImplicitUpdateError(f"{type(self).__name__} has no coordinates for slow states")

    # -- unknown values ---------------------------------------------------------------

    @abstractmethod
    def unknown(self, order: int, offset: int = 0, part: str | None = None) -> V:
        r"""A symbolic value standing for the unknown term :math:`f_{order}^{(n - offset)}`
        (the offset is the number of steps back, used by the exact regime);
        ``part`` names a slow state: the unknown is then that state's part
        :math:`f^{s}_{order}` of the augmented field."""

    @abstractmethod
    def linear_parts(self, residual: V, unknowns: Sequence[V], what: str) -> tuple[list[V], V]:
        r"""``([a_1..a_m], c)`` with ``residual`` :math:`= \sum_i a_i U_i + c` for the
        ``unknowns`` :math:`U_i` (values of :meth:`unknown`; each :math:`a_i`
        elementwise and free of unknowns), or :class:`ImplicitUpdateError`
        naming ``what``."""

    @abstractmethod
    def contains(self, x: V, symbol: sympy.Symbol) -> bool:
        """Whether ``symbol`` occurs in ``x`` (inside atoms included)."""

    @abstractmethod
    def as_scalar(self, x: V) -> sympy.Expr | None:
        """``x`` as a scalar expression if it is the same in every component."""

    @abstractmethod
    def separate(self, x: V) -> list[tuple[sympy.Expr, V]]:
        r"""``x`` as :math:`\sum_i s_i(n) X_i` with scalar :math:`s_i` holding all
        dependence on the step :data:`STEP` and fields :math:`X_i` free of it;
        :class:`NotSeparableError` when the step sits inside a nonlinearity."""

    @abstractmethod
    def shift_step(self, x: V, shift) -> V:
        """``x`` at step :math:`n - shift` (unknowns move back too)."""

    def lie_along(self, x: V, field: V) -> V:
        r""":math:`L_F x = \nabla x \cdot F` (memoized on ``(x, F)``);
        :math:`\partial_t x` for ``F`` = :data:`TIME`.

        Along an unknown the result is formal (e.g. :math:`L_F\theta = F`,
        :math:`L_F g = D_1[F]`); :meth:`linear_parts` rejects an unknown that ends up
        inside a contraction. Along an :class:`Augmented` field it is the sum of
        the partial derivatives (module docs)."""
        if isinstance(field, Augmented):
            return self.lie_sum([(x, field)])
        key = (x, field)
        if key not in self._lie_cache:
            self._lie_cache[key] = self._lie(x, field)
        return self._lie_cache[key]

    def lie_sum(self, pairs: Sequence[tuple[V, V]]) -> V:
        r""":math:`\sum_j L_{F_j} u_j` for ``pairs`` :math:`(u_j, F_j)`, memoized on
        the pairs: a coefficient of the Lie derivative of a series, which every
        later order needs again unchanged."""
        key = (_LIE_SUM, tuple(pairs))
        if key not in self._lie_cache:
            self._lie_cache[key] = self._lie_sum(self._directions(pairs))
        return self._lie_cache[key]

    def _directions(self, pairs: Sequence[tuple[V, V]]) -> list[tuple[V, V]]:
        r"""``pairs`` with every :class:`Augmented` field split into its
        directions: :math:`L_F u = L_f u + \sum_s L_{Partial(s, f^s)} u`."""
        out = []
        for u, field in pairs:
            if isinstance(field, Augmented):
                out.append((u, field.theta))
                out += [(u, Partial(s, v)) for s, v in field.states if not self.is_trivially_zero(v)]
            else:
                out.append((u, field))
        return out

    def _lie_sum(self, pairs: Sequence[tuple[V, V]]) -> V:
        return self.sum([self.lie_along(u, field) for u, field in pairs])

    @abstractmethod
    def _lie(self, x: V, field: V) -> V: ...
