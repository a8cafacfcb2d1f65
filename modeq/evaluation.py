r"""Evaluating index-form fields at a point: backends and the generic evaluator.

A term :math:`f_k` of a :class:`~modeq.equation.ModifiedEquation` is a SymPy
expression for component :math:`j` in *atoms* (:mod:`modeq.algebra.index`):
:math:`\theta_j`, :math:`\nabla_j E_b`, contractions
:math:`D_k[X_1..X_k] = \sum_{i_1..i_k} \nabla_{j i_1\dots i_k} E_b\, X_{1,i_1}\cdots X_{k,i_k}`,
reductions :math:`S[X] = \sum_i X_i`, the dimension :math:`p`, and
hyperparameters. Every atom is a derivative of a loss contracted with vectors
that are themselves fields known at the point, so a term can be evaluated
without materializing components (DESIGN.md §5.4) by any representation that
provides

* :meth:`Backend.theta`, :meth:`Backend.grad` — :math:`\theta`, :math:`\nabla E_b`;
* :meth:`Backend.value` — the loss value :math:`E_b(\theta)`, a scalar;
* :meth:`Backend.contract` — :math:`D_k[X_1..X_k]` for vectors :math:`X_i`
  evaluated first and held fixed;
* :meth:`Backend.reduce` — :math:`S[X]`, a scalar;
* :meth:`Backend.elementwise` — an elementwise SymPy expression translated
  *once* into a function of its inputs' values (no SymPy at call time).

That is the *value* half of the field algebra (:class:`~modeq.algebra.FieldAlgebra`
without the solver's unknowns). :class:`Evaluator` is the one generic
evaluator: at construction it walks the atom definitions children first and
builds a plan — a list of nodes in dependency order, one per distinct atom and
per distinct elementwise expression, so common subexpressions across terms and
inside contraction arguments are evaluated once per point (the atoms are
interned symbols: equal atoms are the same symbol). Calling it runs the plan
for the nodes the requested order needs.

Memory: a value is dropped right after its last use (liveness over the plan,
computed once per order when the evaluator is built), so at any time only
the values that later nodes still read are held, not every atom of every
term; :meth:`Evaluator.combination` also adds each term :math:`h^k f_k` to
the sum as soon as it is known instead of holding :math:`f_0..f_N`
(:meth:`Evaluator.sums`, the one mechanism of the terms and of their sums,
with slow states or without; on a
network the order-2 field of Adam held 8 gradients' worth of memory without
this, see ``benchmarks/torch_fields.py``). On a backend that :attr:`~Backend.sums_parts`, a term that
is a sum is itself added in parts: its summands grouped by their latest input
in the plan, so that a contraction is dropped once its part is added rather
than held until the whole term can be evaluated (Adam's :math:`f_3` reads 39
vectors). The order of evaluation is :func:`modeq.evaluation_order.evaluation_order`'s:
each part is completed in turn, its inputs computed just before it, the part
chosen being the one that leaves the fewest vectors alive, so that few are
held where memory peaks, at the contractions of two or more directions
(Adam's order-3 field: at most 5 vectors beside a :math:`D_2` where the
previous order, every such contraction first, had up to 11; AdamW's, 7
against 29). A backend that can share work
between the gradient and the contractions of a loss at a point (the torch
backend keeps the gradient's autograd graph and differentiates it again for
every :math:`D_1`) says so with :attr:`Backend.linearizes`: the plan then has
one node per loss for that shared state (:meth:`Backend.linearize`), whose
value is dropped, like any other, after the last contraction that needs it.
A contraction of two or more directions (:math:`D_2[X, Y]`, ...) does not use
it: on the torch backend it differentiates a graph of the graph, the largest
transient of an evaluation (4.9 gradients' worth on the 10⁶-parameter MLP of
``benchmarks/torch_fields.py``), and the shared state kept beside it only
adds to that peak, so it builds its own, consumed by the call; the shared
state lives only between such contractions: in each run of nodes between
two of them that contracts with :math:`D_1`, it is computed before its first
user, and a gradient (or loss value) computed before is taken again from it
rather than kept across the contraction; a run without :math:`D_1` computes
its gradients on their own. Adam's order-2 field on that MLP: a peak of 12.6
parameter vectors (:math:`D_2[X, X]` beside :math:`X` alone), against 18.0
with one shared state for the whole plan.

Atom definitions are read from the equation's own atom table
(:func:`atom_table`: ``eq.atoms``; the default table
:data:`~modeq.algebra.ATOMS` for a bare list of hand-written terms) and
recognised by their definition classes, never by their printed names.

The backends: :class:`~modeq.components.ComponentBackend` (values are
component expressions of a concrete loss: evaluating on it materializes the
terms, which :mod:`modeq.numerics.codegen` compiles — the numba path),
:class:`NumpyBackend` below, and :mod:`modeq.torch`'s ``torch.func`` backend.
A backend implements the operations above; :meth:`Backend.constant` and
:meth:`Backend.free_symbol` say how numbers and symbols without a value
enter (numeric backends: floats, and an error naming the missing value).

:class:`NumpyBackend` is the reference backend: a concrete SymPy loss whose
derivative tensors :math:`\nabla^k E` are generated by SymPy (exact) and
evaluated with NumPy; contractions are tensor contractions. It is meant for
small :math:`p` — tests and cross-checks of other backends
(:mod:`modeq.torch` is the one for networks).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, replace
from typing import Any, Callable, Generic, Mapping, Sequence, TypeVar

import numpy as np
import sympy

from .algebra import ATOMS
from .algebra.base import STEP
from .algebra.component import check_loss
from .algebra.index import (BlockReduction, BlockScale, BlockSize, Contraction, Gradient, LossValue, MatrixDerivative,
                            Reduction, SlowState)
from .algebra.matrix_maps import MatrixMap, check_blocks, on_blocks, scale_of
from .blocks import block_labels, block_layout
from .truncation import truncation
from .evaluation_order import CONTRACTION_COST, evaluation_order

__all__ = ["Backend", "Evaluator", "NumpyBackend", "atom_table", "constants_for"]

Value = TypeVar("Value")


def atom_table(equation: Any):
    """The atom table that defines the atoms of ``equation``'s terms."""
    return getattr(equation, "atoms", ATOMS)


def constants_for(equation: Any, values: Mapping[str, Any] | None = None) -> dict[sympy.Symbol, float]:
    r"""``{symbol: number}`` for the hyperparameters left symbolic in
    ``equation``: the given ``values`` (by name), the optimizer's defaults for
    the rest. Validated by the optimizer (names, domains)."""
    optimizer = equation.optimizer
    merged = {**optimizer.defaults(), **dict(values or {})}
    return {symbol: float(value) for symbol, value in optimizer.substitutions(merged).items()}


class Backend(ABC, Generic[Value]):
    r"""The operations an index-form field needs at a point :math:`\theta`.

    ``Value`` is the backend's vector type (length :math:`p`); scalars
    (:meth:`reduce`) are 0-dimensional values of the same type that broadcast
    against vectors."""

    @property
    @abstractmethod
    def dimension(self) -> int:
        """The number of parameters :math:`p`."""

    @abstractmethod
    def theta(self, point: Value) -> Value:
        r""":math:`\theta` (the point itself, as a vector)."""

    @abstractmethod
    def grad(self, point: Value, loss: int | None) -> Value:
        r""":math:`\nabla E(\theta)` (``loss`` None) or :math:`\nabla E_b(\theta)` (``loss`` = b)."""

    @abstractmethod
    def value(self, point: Value, loss: int | None) -> Value:
        r""":math:`E(\theta)` (``loss`` None) or :math:`E_b(\theta)`, a scalar."""

    @abstractmethod
    def contract(self, point: Value, args: Sequence[Value], loss: int | None) -> Value:
        r""":math:`D_k[X_1..X_k]_j = \sum_{i_1..i_k} \nabla_{j i_1..i_k} E_b(\theta)\, X_{1,i_1}\cdots X_{k,i_k}`."""

    @abstractmethod
    def reduce(self, x: Value) -> Value:
        r""":math:`S[X] = \sum_i X_i` (a scalar)."""

    @abstractmethod
    def elementwise(self, expr: sympy.Expr, inputs: Sequence[sympy.Symbol]) -> Callable[..., Value]:
        """Translate ``expr`` (numbers and the symbols ``inputs`` only) once into a
        function of the inputs' values, applied elementwise with broadcasting."""

    @abstractmethod
    def broadcast(self, value: Value, point: Value) -> Value:
        """``value`` (a scalar or a vector) as a vector shaped like ``point``."""

    #: Whether :meth:`grad`, :meth:`value` and :meth:`contract` of a loss share
    #: state computed once per point (:meth:`linearize`).
    linearizes: bool = False
    #: Whether a term that is a sum is evaluated in parts, each added to the
    #: result (:meth:`accumulate`) as soon as its inputs are known, so that they
    #: are not all held until the end (vector backends on large models).
    sums_parts: bool = False

    def linearize(self, point: Value, loss: int | None, contracted: bool) -> Any:
        r"""State that :meth:`grad`, :meth:`value` and :meth:`contract` of
        ``loss`` at ``point`` share, for backends that :attr:`linearize <linearizes>`:
        the evaluator computes it once per point and loss, passes it to them as
        ``linearization=``, and drops it after its last use; the contraction
        that is its last use also gets ``release=True`` (the backend may consume
        the state during that call). ``contracted``: some :math:`D_k` of this
        loss will be evaluated at the point."""
        raise NotImplementedError(f"{type(self).__name__} shares no state between atoms")

    def accumulate(self, total: Value | None, value: Value, coefficient: float, point: Value) -> Value:
        r""":math:`\mathrm{total} + c\,\mathrm{value}` as a vector (``total`` None: the
        first term). ``total`` is the evaluator's own: backends may update it in place."""
        term = coefficient * self.broadcast(value, point)
        return term if total is None else total + term

    def constant(self, value: sympy.Expr) -> Any:
        """A number of the terms (no free symbols) as a value: a float here;
        symbolic backends keep it exact."""
        return float(value)

    def block_reduce(self, x: Value) -> Value:
        r""":math:`\sum_{i \in B(j)} X_i` over the parameter block of each component
        (:mod:`modeq.blocks`); backends that do not partition the parameters refuse."""
        raise ValueError("the field reduces over parameter blocks, which this backend does not partition; "
                         "verify it on a loss with blocks: modeq.verify(..., params={'W': (3, 2)})")

    def block_size(self, point: Value) -> Value:
        r"""The size :math:`|B(j)|` of the parameter block of each component."""
        return self.block_reduce(point)

    def matrix_map(self, point: Value, fmap: MatrixMap, args: Sequence[Value]) -> Value:
        r""":math:`D^kF(X_B)[Y_{1,B}..Y_{k,B}]` for ``args`` :math:`(X, Y_1..Y_k)`, on each
        matrix block (:mod:`modeq.algebra.matrix_maps`)."""
        raise ValueError(f"the field applies {fmap.name} to parameter blocks, which this backend does not partition; "
                         "verify it on a loss with matrix blocks: modeq.verify(..., params={'W': (3, 2)})")

    def block_scale(self, point: Value, rule: str) -> Value:
        r"""The scale :math:`s(m, k)` of the rule for the block of each component."""
        raise ValueError("the field scales by parameter-block shapes, which this backend does not partition; "
                         "verify it on a loss with matrix blocks: modeq.verify(..., params={'W': (3, 2)})")

    def state(self, point: Value, key: str, name: str) -> Value:
        r"""The coordinate :math:`V` of a slow state (:mod:`modeq.primitives.state`):
        symbolic backends give its component symbols; numeric ones evaluate
        :math:`\theta` only."""
        raise ValueError(f"the field has the slow state {name} (a coordinate beside theta), which this backend does "
                         "not evaluate; use the compiled field (modeq.verify, modeq.numerics.derived_field)")

    def time(self, t) -> Any:
        """The time :math:`t` of a non-autonomous field (``t`` as given to the
        evaluator): a float here; symbolic backends keep the symbol when ``t``
        is None."""
        if t is None:
            raise ValueError("the field depends on the time t (a schedule); give the time: evaluator(point, order, t=...)")
        if isinstance(t, bool) or not isinstance(t, (int, float, np.integer, np.floating)) or not np.isfinite(t):
            raise ValueError(f"the time t must be a finite number, got {t!r}")
        return float(t)

    def free_symbol(self, symbol: sympy.Symbol) -> Any:
        """The value of a symbol that is no atom and has no constant (a
        hyperparameter left symbolic, the step :math:`n`): numeric backends
        have none and say what to give; symbolic ones keep the symbol."""
        if symbol == STEP:
            raise ValueError("the field depends on the step n (exact regime); evaluate a stationary equation, "
                             "derived with regime='stationary'")
        raise ValueError(f"the field leaves the symbol {symbol} without a value; "
                         f"give it one (values={{'{symbol}': ...}})")


# -- the plan: one node per distinct atom or elementwise expression --------------


@dataclass(frozen=True)
class _Theta:
    inputs: tuple[int, ...] = ()

    def run(self, backend: Backend, point, slots: list) -> Any:
        return backend.theta(point)


def _shared(node, slots: list) -> dict[str, Any]:
    """``linearization=`` for a node whose last input is its loss's linearization."""
    return {"linearization": slots[node.inputs[-1]]} if node.linearized else {}


@dataclass(frozen=True)
class _Linearize:
    loss: int | None
    contracted: bool = False
    inputs: tuple[int, ...] = ()

    def run(self, backend: Backend, point, slots: list) -> Any:
        return backend.linearize(point, self.loss, self.contracted)


@dataclass(frozen=True)
class _Grad:
    loss: int | None
    inputs: tuple[int, ...] = ()
    linearized: bool = False

    def run(self, backend: Backend, point, slots: list) -> Any:
        return backend.grad(point, self.loss, **_shared(self, slots))


@dataclass(frozen=True)
class _Value:
    loss: int | None
    inputs: tuple[int, ...] = ()
    linearized: bool = False

    def run(self, backend: Backend, point, slots: list) -> Any:
        return backend.value(point, self.loss, **_shared(self, slots))


@dataclass(frozen=True)
class _Contract:
    inputs: tuple[int, ...]
    loss: int | None
    linearized: bool = False
    #: The linearization is not used after this node (set per schedule).
    releases: bool = False

    @property
    def directions(self) -> int:
        """:math:`k` of :math:`D_k`."""
        return len(self.inputs) - self.linearized

    def run(self, backend: Backend, point, slots: list) -> Any:
        args = self.inputs[:-1] if self.linearized else self.inputs
        shared = {**_shared(self, slots), "release": True} if self.releases else _shared(self, slots)
        return backend.contract(point, [slots[a] for a in args], self.loss, **shared)


@dataclass(frozen=True)
class _Reduce:
    inputs: tuple[int]

    def run(self, backend: Backend, point, slots: list) -> Any:
        return backend.reduce(slots[self.inputs[0]])


@dataclass(frozen=True)
class _BlockReduce:
    inputs: tuple[int]

    def run(self, backend: Backend, point, slots: list) -> Any:
        return backend.block_reduce(slots[self.inputs[0]])


@dataclass(frozen=True)
class _BlockSize:
    inputs: tuple[int, ...] = ()

    def run(self, backend: Backend, point, slots: list) -> Any:
        return backend.block_size(point)


@dataclass(frozen=True)
class _MatrixMap:
    map: MatrixMap
    inputs: tuple[int, ...]

    def run(self, backend: Backend, point, slots: list) -> Any:
        return backend.matrix_map(point, self.map, [slots[a] for a in self.inputs])


@dataclass(frozen=True)
class _BlockScale:
    rule: str
    inputs: tuple[int, ...] = ()

    def run(self, backend: Backend, point, slots: list) -> Any:
        return backend.block_scale(point, self.rule)


@dataclass(frozen=True)
class _State:
    key: str
    name: str
    inputs: tuple[int, ...] = ()

    def run(self, backend: Backend, point, slots: list) -> Any:
        return backend.state(point, self.key, self.name)


def _state_input(states: Mapping[str, Any], name: str) -> Any:
    """The coordinate of the slow state ``name`` given to the evaluator."""
    try:
        return states[name]
    except KeyError:
        raise ValueError(f"the field has the slow state {name}, but the states given are "
                         f"{', '.join(states) or 'none'}") from None


@dataclass(frozen=True)
class _Elementwise:
    function: Callable[..., Any]
    inputs: tuple[int, ...]

    def run(self, backend: Backend, point, slots: list) -> Any:
        return self.function(*(slots[i] for i in self.inputs))


@dataclass(frozen=True)
class _Time:
    """The time :math:`t` of the call (:meth:`Evaluator.__call__` fills its slot)."""

    inputs: tuple[int, ...] = ()


_TIME = _Time()


@dataclass(frozen=True)
class _Constant:
    value: Any
    inputs: tuple[int, ...] = ()

    def run(self, backend: Backend, point, slots: list) -> Any:
        return self.value


def _private(node) -> bool:
    """A contraction of two or more directions: on a backend that linearizes, it
    builds and consumes its own linearization (see the module docs)."""
    return isinstance(node, _Contract) and node.directions > 1


def _vector(node, vectors: set[int]) -> bool:
    """Whether ``node``'s value is a vector (its vector inputs among ``vectors``): not a scalar (a
    reduction, a loss value, a number, the time) nor an elementwise expression of scalars."""
    if isinstance(node, _Elementwise):
        return not vectors.isdisjoint(node.inputs)
    return not isinstance(node, (_Reduce, _Value, _Constant, _Time, _Linearize))


def _unshared(node):
    """A gradient or loss value computed without its loss's linearization."""
    return replace(node, inputs=node.inputs[:-1], linearized=False)


class Evaluator(Generic[Value]):
    r"""The terms :math:`f_0..f_N` of an index-form field on a backend.

    ``terms`` are expressions in the atoms of ``atoms`` (an atom table, see
    :func:`atom_table`); ``constants`` give every other symbol a number
    (hyperparameters; :math:`p` is the backend's dimension). The plan is built
    once, here; ``evaluator(point, order)`` evaluates :math:`f_0..f_{order}`,
    each node the order needs once."""

    def __init__(self, terms: Sequence[sympy.Expr], atoms, backend: Backend[Value],
                 constants: Mapping[sympy.Symbol, float] | None = None) -> None:
        self.backend = backend
        self.atoms = atoms
        self._constants = {atoms.dimension: sympy.Integer(backend.dimension)}
        for symbol, value in (constants or {}).items():
            self._constants[symbol] = sympy.Float(float(value)) if not isinstance(value, sympy.Basic) else value
        self._nodes: list = []
        self._slots: dict[Any, int] = {}
        #: The nodes whose values add up to each term (one, unless the backend :attr:`~Backend.sums_parts`).
        self._outputs = [self._term(sympy.sympify(t).xreplace(self._constants)) for t in terms]
        #: Per order, the nodes it needs in evaluation order (:meth:`_closure`, made when first needed).
        self._needed: dict[int, list[int]] = {}
        self._schedules: dict[int, list[tuple[int, Any, tuple[int, ...]]]] = {}

    @property
    def order(self) -> int:
        return len(self._outputs) - 1

    @property
    def size(self) -> int:
        """Nodes in the plan (distinct atoms and elementwise expressions)."""
        return len(self._nodes)

    def nodes(self, order: int | None = None) -> list:
        """The plan's nodes :math:`f_0..f_{order}` needs, in evaluation order."""
        return [self._nodes[i] for i in self._closure(self._order(order))]

    def __call__(self, point: Value, order: int | None = None, t=None,
                 states: Mapping[str, Value] | None = None) -> list[Value]:
        """:math:`[f_0(\\theta, t), \\dots, f_{order}(\\theta, t)]` at ``point``, each a
        vector; ``t`` is the time of a non-autonomous field (schedules), read
        by :meth:`Backend.time`; ``states`` gives the coordinates of slow
        states by name (inputs beside :math:`\\theta`; without them the
        backend's :meth:`Backend.state` is asked)."""
        order = self._order(order)
        return self.sums(point, [(k, 1.0) for k in range(order + 1)], t, states)

    def combination(self, point: Value, coefficients: Sequence[float], t=None,
                    states: Mapping[str, Value] | None = None) -> Value:
        r""":math:`\sum_k c_k f_k(\theta)` over the terms :math:`k` < ``len(coefficients)``
        (:math:`c_k = h^k`: the truncated field), a vector. Each term is added
        as soon as it is computed and dropped after its last use (:meth:`sums`)."""
        return self.sums(point, [(0, c) for c in coefficients], t, states)[0]

    def sums(self, point: Value, weights: Sequence[tuple[int, float]], t=None,
             states: Mapping[str, Value] | None = None) -> list[Value]:
        r"""Sums of terms, ``weights[k] = (s, c)`` adding :math:`c f_k` to the sum :math:`s`, for
        the terms :math:`k` < ``len(weights)``: the list of the sums, each a vector. Each
        part of a term is added (:meth:`Backend.accumulate`) as soon as it is
        computed and then dropped after its last use, so that the terms are never
        held whole; a sum of one part with :math:`c = 1` is that part's value.
        The terms themselves (:meth:`__call__`: :math:`f_k` alone in sum :math:`k`), the
        truncated field (:meth:`combination`: all in one), and, with slow states,
        whose terms interleave the fields of :math:`\theta` and of each state
        (:math:`f_0, f^{s}_0, f_1, \dots`), the truncated field of each
        (:class:`modeq.torch.TorchField`) are such sums."""
        order = self._order(len(weights) - 1)
        parts = [0] * (max(s for s, _ in weights) + 1)
        for k, (s, _) in enumerate(weights):
            parts[s] += len(self._outputs[k])
        totals: list = [None] * len(parts)

        def add(index: int, value: Value) -> None:
            for k, outputs in enumerate(self._outputs[: order + 1]):
                if index in outputs:
                    s, c = weights[k]
                    totals[s] = value if parts[s] == 1 and c == 1 else \
                        self.backend.accumulate(totals[s], value, c, point)

        self._run(point, order, add, t, states)
        return [self.backend.broadcast(total, point) for total in totals]

    def _run(self, point: Value, order: int, consume: Callable[[int, Value], None], t=None,
             states: Mapping[str, Value] | None = None) -> None:
        """Run the plan for ``order`` at the time ``t`` (and the slow states' coordinates ``states``);
        ``consume(index, value)`` sees each value when it is computed (the slots do not keep the outputs)."""
        slots: list = [None] * len(self._nodes)
        for i, node, dead in self._schedule(order):
            if node is _TIME:
                slots[i] = self.backend.time(t)
            elif states is not None and isinstance(node, _State):
                slots[i] = _state_input(states, node.name)
            else:
                slots[i] = node.run(self.backend, point, slots)
            consume(i, slots[i])
            for j in dead:
                slots[j] = None

    def _schedule(self, order: int) -> list[tuple[int, Any, tuple[int, ...]]]:
        """``[(index, node, nodes dead after it), ...]`` in evaluation order: liveness
        over the plan for ``order`` (an index computed again, a gradient taken
        again from a later linearization, starts a new value). The contraction
        after which its linearization is dead :attr:`~_Contract.releases` it."""
        key = order
        if key not in self._schedules:
            steps = [(i, self._nodes[i]) for i in self._closure(order)]
            if self.backend.linearizes:
                steps = self._segmented(steps)
            current: dict[int, int] = {}
            last: dict[int, int] = {}
            for position, (i, node) in enumerate(steps):
                for j in node.inputs:
                    last[current[j]] = position
                current[i] = last[position] = position
            dead: list[list[int]] = [[] for _ in steps]
            for computed, position in last.items():
                dead[position].append(steps[computed][0])
            self._schedules[key] = [(i, self._releasing(node, d), tuple(d)) for (i, node), d in zip(steps, dead)]
        return self._schedules[key]

    def _order(self, order: int | None) -> int:
        return truncation(order, self.order)

    def _releasing(self, node, dead: Sequence[int]):
        """``node``, marked as the last user of its linearization if that is in ``dead``."""
        if isinstance(node, _Contract) and node.linearized and node.inputs[-1] in dead:
            return replace(node, releases=True)
        return node

    # -- building the plan, children first ------------------------------------------

    def _add(self, key: sympy.Basic, node) -> int:
        self._nodes.append(node)
        self._slots[key] = len(self._nodes) - 1
        return self._slots[key]

    def _term(self, expr: sympy.Expr) -> tuple[int, ...]:
        """The nodes whose values add up to the term ``expr``: one, or, if the backend
        :attr:`~Backend.sums_parts`, one per group of the summands whose latest
        input (in plan order) is the same node (each an output of the plan that
        :meth:`_closure` orders)."""
        summands = sympy.Add.make_args(expr)
        if not self.backend.sums_parts or len(summands) == 1:
            return (self._slot(expr),)
        groups: dict[int, list[sympy.Expr]] = {}
        for summand in summands:
            latest = max((self._atom(s) for s in summand.free_symbols), default=-1)
            groups.setdefault(latest, []).append(summand)
        if len(groups) == 1:
            return (self._slot(expr),)
        parts = tuple(self._slot(sympy.Add(*group)) for _, group in sorted(groups.items()))
        return parts

    def _slot(self, expr: sympy.Expr) -> int:
        """The node computing ``expr`` (constants already substituted)."""
        if expr in self._slots:
            return self._slots[expr]
        if isinstance(expr, sympy.Symbol):
            return self._atom(expr)
        if not expr.free_symbols:
            return self._add(expr, _Constant(self.backend.constant(expr)))
        inputs = sorted(expr.free_symbols, key=sympy.default_sort_key)
        slots = tuple(self._atom(s) for s in inputs)
        return self._add(expr, _Elementwise(self.backend.elementwise(expr, inputs), slots))

    def _atom(self, symbol: sympy.Symbol) -> int:
        if symbol in self._slots:
            return self._slots[symbol]
        definition = self.atoms.definition(symbol)
        if definition == "theta":
            node = _Theta()
        elif isinstance(definition, Gradient):
            node = _Grad(definition.loss, *self._linearization(definition.loss))
        elif isinstance(definition, LossValue):
            node = _Value(definition.loss, *self._linearization(definition.loss))
        elif isinstance(definition, Contraction):
            args = tuple(self._slot(a.xreplace(self._constants)) for a in definition.args)
            shared, linearized = self._linearization(definition.loss) if len(args) == 1 else ((), False)
            node = _Contract(args + shared, definition.loss, linearized)
        elif isinstance(definition, Reduction):
            node = _Reduce((self._slot(definition.arg.xreplace(self._constants)),))
        elif isinstance(definition, BlockReduction):
            node = _BlockReduce((self._slot(definition.arg.xreplace(self._constants)),))
        elif isinstance(definition, BlockSize):
            node = _BlockSize()
        elif isinstance(definition, SlowState):
            node = _State(definition.key, definition.name)
        elif isinstance(definition, MatrixDerivative):
            args = definition.arguments
            node = _MatrixMap(definition.map, tuple(self._slot(a.xreplace(self._constants)) for a in args))
        elif isinstance(definition, BlockScale):
            node = _BlockScale(definition.rule)
        elif definition == "time":
            node = _TIME
        elif definition is None:
            node = _Constant(self.backend.free_symbol(symbol))
        else:
            raise ValueError(f"the atom {symbol} ({type(definition).__name__}) cannot be evaluated at a point")
        return self._add(symbol, node)

    def _linearization(self, loss: int | None) -> tuple[tuple[int, ...], bool]:
        """``(inputs, linearized)`` for a node of ``loss``: the slot of the loss's
        linearization if the backend :attr:`~Backend.linearizes`, else none."""
        if not self.backend.linearizes:
            return (), False
        key = ("linearization", loss)
        if key not in self._slots:
            self._add(key, _Linearize(loss))
        return (self._slots[key],), True

    def _closure(self, order: int) -> list[int]:
        """Indices of the nodes :math:`f_0..f_{order}` depend on, in evaluation order
        (:func:`modeq.evaluation_order.evaluation_order`: few vectors alive at the contractions;
        the linearizations first, :meth:`_segmented` places them)."""
        if order not in self._needed:
            outputs = {i for parts in self._outputs[: order + 1] for i in parts}
            needed: set[int] = set()
            stack = list(outputs)
            while stack:
                i = stack.pop()
                if i not in needed:
                    needed.add(i)
                    stack.extend(self._nodes[i].inputs)
            shared = sorted(i for i in needed if isinstance(self._nodes[i], _Linearize))
            inputs = {i: [j for j in self._nodes[i].inputs if j not in shared] for i in needed if i not in shared}
            vectors = set()
            for i in sorted(inputs):  # children first
                if _vector(self._nodes[i], vectors):
                    vectors.add(i)
            costs = {i: CONTRACTION_COST * node.directions for i in inputs
                     if isinstance(node := self._nodes[i], _Contract)}
            self._needed[order] = shared + evaluation_order(inputs, outputs, vectors, costs)
        return self._needed[order]

    def _segmented(self, steps: list[tuple[int, Any]]) -> list[tuple[int, Any]]:
        """``steps`` with each loss's linearization alive only between the
        contractions of two or more directions (which build their own): in each
        run of steps between them that has a :math:`D_1` of the loss, the
        linearization is computed before its first user, and a gradient or loss
        value computed in an earlier run is taken again from it; in a run
        without, gradients and values are computed without one."""
        linearizations = {i: node for i, node in steps if isinstance(node, _Linearize)}
        runs: list[list[tuple[int, Any]]] = [[]]
        for step in steps:
            if _private(step[1]):
                runs[-1].append(step)
                runs.append([])
            elif step[0] not in linearizations:
                runs[-1].append(step)
        shared = [(i, node) for i, node in steps if getattr(node, "linearized", False)]
        out: list[tuple[int, Any]] = []
        for run in runs:
            for lin, node in linearizations.items():
                users = {i for i, n in run if getattr(n, "linearized", False) and n.inputs[-1] == lin}
                if not any(isinstance(n, _Contract) for i, n in run if i in users):
                    run = [(i, _unshared(n) if i in users else n) for i, n in run]
                    continue
                done = {i for i, _ in out}
                again = [(i, n) for i, n in shared if i in done and n.inputs[-1] == lin and not isinstance(n, _Contract)
                         and any(i in m.inputs for _, m in run)]
                taken = {i for i, _ in again}
                first = next(k for k, (i, n) in enumerate(run) if i in users or not taken.isdisjoint(n.inputs))
                run = run[:first] + [(lin, replace(node, contracted=True)), *again] + run[first:]
            out.extend(run)
        return out

# -- the NumPy reference backend ----------------------------------------------------------


class NumpyBackend(Backend[np.ndarray]):
    r"""A concrete SymPy loss in ``params`` (and batch losses :math:`E_1..E_m`,
    labels 1..m; the loss defaults to their mean), evaluated with NumPy.

    The derivative tensors :math:`\nabla^k E` are differentiated by SymPy when
    first needed and translated to NumPy functions (exact up to rounding);
    :math:`D_k[X_1..X_k]` contracts :math:`\nabla^{k+1} E` with the
    :math:`X_i`. Memory and time grow like :math:`p^{k+1}`: a reference for
    small :math:`p`."""

    def __init__(self, loss: sympy.Expr | None, params: Sequence[sympy.Symbol],
                 batches: Sequence[sympy.Expr] | None = None) -> None:
        if loss is None:
            if not batches:
                raise ValueError("give a loss or a list of batch losses")
            loss = sympy.Add(*batches) / len(batches)
        loss, self.params = check_loss(loss, params)
        self.losses: dict[int | None, sympy.Expr] = {None: loss}
        for label, batch in enumerate(batches or (), start=1):
            self.losses[label] = check_loss(batch, self.params)[0]
        self._arrays: dict[tuple[int | None, int], sympy.Array] = {}
        self._functions: dict[tuple[int | None, int | str], Callable[..., Any]] = {}

    @property
    def dimension(self) -> int:
        return len(self.params)

    def _tensor(self, loss: int | None, k: int) -> sympy.Array:
        if loss not in self.losses:
            raise ValueError(f"no batch loss E_{loss}: this backend has batch losses 1..{len(self.losses) - 1}")
        key = (loss, k)
        if key not in self._arrays:
            self._arrays[key] = (sympy.Array(self.losses[loss]) if k == 0
                                 else sympy.derive_by_array(self._tensor(loss, k - 1), self.params))
        return self._arrays[key]

    def derivative(self, point: np.ndarray, loss: int | None, k: int) -> np.ndarray:
        r""":math:`\nabla^k E_b(\theta)`, shape ``(p,) * k``."""
        key = (loss, k)
        if key not in self._functions:
            tensor = self._tensor(loss, k)
            self._functions[key] = sympy.lambdify(self.params, tensor.tolist(), modules="numpy")
        shape = (self.dimension,) * k
        return np.broadcast_to(np.asarray(self._functions[key](*point), dtype=float), shape)

    def theta(self, point):
        return np.asarray(point, dtype=float)

    def grad(self, point, loss):
        return self.derivative(point, loss, 1)

    def value(self, point, loss):
        self._tensor(loss, 1)  # the clear error for a missing batch loss
        key = (loss, "value")
        if key not in self._functions:
            self._functions[key] = sympy.lambdify(self.params, self.losses[loss], modules="numpy")
        return np.asarray(float(self._functions[key](*point)))

    def contract(self, point, args, loss):
        tensor = self.derivative(point, loss, len(args) + 1)
        for x in args:
            tensor = tensor @ np.broadcast_to(x, (self.dimension,))
        return tensor

    def reduce(self, x):
        return np.asarray(np.sum(x))

    def block_reduce(self, x):
        x = np.broadcast_to(np.asarray(x, dtype=float), (self.dimension,))
        out = np.empty(self.dimension)
        for _, _, positions in block_layout(self.params):
            out[positions] = x[positions].sum()
        return out

    def matrix_map(self, point, fmap, args):
        vectors = [np.broadcast_to(np.asarray(a, dtype=float), (self.dimension,)) for a in args]
        check_blocks(block_layout(self.params), fmap)
        return np.array(on_blocks(fmap.evaluate, block_layout(self.params), vectors,
                                  lambda values, shape: np.array(values).reshape(shape), np.ravel, fmap.name))

    def block_scale(self, point, rule):
        scales = {name: float(scale_of(rule, shape, name)) for name, shape, _ in block_layout(self.params)}
        return np.array([scales[label] for label in block_labels(self.params)])

    def elementwise(self, expr, inputs):
        arguments = sympy.symbols(f"x0:{len(inputs)}")
        return sympy.lambdify(arguments, expr.xreplace(dict(zip(inputs, arguments))), modules="numpy")

    def broadcast(self, value, point):
        return np.broadcast_to(np.asarray(value, dtype=float), np.shape(point)).copy()
