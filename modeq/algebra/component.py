r"""The component form: a field is :math:`p` explicit expressions.

For a concrete loss :math:`E(\theta_1, \dots, \theta_p)` (or a generic
``sympy.Function('E')(θ_1, …, θ_p)``) a field is the tuple of its components,
:math:`L_f u = \sum_i f_i\,\partial_i u` (and :math:`\partial_t u` along
:data:`~modeq.algebra.base.TIME`: the time :math:`t` stays a symbol), and contractions are explicit sums of
partial derivatives. Used to cross-check index-form results by an independent
derivation, and to materialize them for code generation: the evaluation
backend :class:`~modeq.components.ComponentBackend` computes its values with
this algebra's gradient, contractions and cached derivatives.
Parameter blocks travel with the parameters (:mod:`modeq.blocks`): a block
sum adds the components of each block. A slow state :math:`V` is the tuple of
its component symbols :math:`V_{\theta_1}, \dots` (:meth:`ComponentAlgebra.state_value`),
differentiated along :class:`~modeq.algebra.base.Partial` directions.
"""

from __future__ import annotations

import itertools
from typing import Sequence

import sympy

from collections import defaultdict

from .base import STEP, TIME, TIME_SYMBOL, FieldAlgebra, ImplicitUpdateError, NotSeparableError, Partial
from ..blocks import block_ids, block_labels, block_layout
from .index import expand
from .matrix_maps import check_blocks, on_blocks, scale_of

__all__ = ["ComponentAlgebra", "check_loss"]

Field = tuple  # tuple[sympy.Expr, ...] of length p


def check_loss(loss, params) -> tuple[sympy.Expr, tuple[sympy.Symbol, ...]]:
    """Validate a loss and its parameters, with errors that name the fix."""
    if not isinstance(loss, (sympy.Basic, int, float)):  # sympify would evaluate text, also inside a list or tuple
        raise TypeError(f"the loss must be a SymPy expression, got {type(loss).__name__}; "
                        "parse a string with modeq.parse_loss(text, params)")
    loss = sympy.sympify(loss)
    params = tuple(params)
    if not params:
        raise ValueError("give at least one parameter symbol")
    if not all(isinstance(s, sympy.Symbol) for s in params):
        raise TypeError(f"parameters must be SymPy symbols, got {params}")
    if len(set(params)) != len(params):
        raise ValueError(f"parameters must be distinct, got {params}")
    if TIME_SYMBOL in params:
        raise ValueError("a parameter named t would be the time t = nh of schedules; give it another name")
    if not isinstance(loss, sympy.Expr):
        raise TypeError(f"the loss must be a scalar SymPy expression, got {type(loss).__name__}")
    if not any(loss.has(s) for s in params):
        raise ValueError(f"the loss {loss} does not depend on any of the parameters {', '.join(map(str, params))}")
    return loss, params


class ComponentAlgebra(FieldAlgebra[Field]):
    r"""Fields as tuples of expressions in ``params`` for the loss ``loss``.

    ``batches`` are the mini-batch losses :math:`E_1, \dots, E_m` (labels
    1..m); the loss ``loss`` is then their mean unless given."""

    def __init__(self, loss: sympy.Expr | None, params: Sequence[sympy.Symbol],
                 batches: Sequence[sympy.Expr] | None = None) -> None:
        super().__init__()
        if loss is None:
            if not batches:
                raise ValueError("give a loss or a list of batch losses")
            loss = sympy.Add(*batches) / len(batches)
        self.loss, self.params = check_loss(loss, params)
        self.losses: dict[int | None, sympy.Expr] = {None: self.loss}
        for label, batch in enumerate(batches or (), start=1):
            self.losses[label] = check_loss(batch, params)[0]
        self.dimension = len(self.params)
        ids = block_ids(self.params)
        self.layout = block_layout(self.params)
        #: The components of the block of each component.
        self.block_members: tuple[tuple[int, ...], ...] = tuple(
            tuple(i for i, b in enumerate(ids) if b == ids[j]) for j in range(self.dimension))
        self._derivatives: dict[tuple, sympy.Expr] = {}
        self._placeholders: dict[tuple[int, int, str | None], Field] = {}

    def derivative(self, indices: Sequence[int], loss: int | None = None) -> sympy.Expr:
        r""":math:`\partial_{i_1 \dots i_k} E` (of :math:`E_b` for ``loss`` = b; cached on the sorted indices)."""
        if loss not in self.losses:
            raise ValueError(f"no batch loss E_{loss}: this materialization has batches 1..{len(self.losses) - 1}")
        key = (loss, tuple(sorted(indices)))
        if key not in self._derivatives:
            self._derivatives[key] = (sympy.diff(self.derivative(key[1][:-1], loss), self.params[key[1][-1]])
                                      if key[1] else self.losses[loss])
        return self._derivatives[key]

    @property
    def zero(self):
        return (sympy.Integer(0),) * self.dimension

    def constant(self, scalar):
        return (sympy.sympify(scalar),) * self.dimension

    def theta(self):
        return self.params

    def grad(self, loss=None):
        return tuple(self.derivative((j,), loss) for j in range(self.dimension))

    def loss_value(self, loss=None):
        return (self.derivative((), loss),) * self.dimension

    def contract(self, args, loss=None):
        out = []
        for j in range(self.dimension):
            total = []
            for indices in itertools.product(range(self.dimension), repeat=len(args)):
                weight = sympy.Mul(*(x[i] for x, i in zip(args, indices)))
                if weight != 0:
                    total.append(self.derivative((j, *indices), loss) * weight)
            out.append(sympy.Add(*total))
        return tuple(out)

    def reduce_sum(self, x):
        return (sympy.Add(*x),) * self.dimension

    def block_sum(self, x):
        sums: dict[tuple[int, ...], sympy.Expr] = {}
        for members in self.block_members:
            if members not in sums:
                sums[members] = sympy.Add(*(x[i] for i in members))
        return tuple(sums[members] for members in self.block_members)

    def matrix_map(self, fmap, base, directions=()):
        check_blocks(self.layout, fmap)
        return tuple(on_blocks(fmap.evaluate, self.layout, fmap.flatten(base, directions),
                               lambda values, shape: sympy.ImmutableMatrix(*shape, values), list, fmap.name))

    def block_scale(self, rule):
        scales = {name: scale_of(rule, shape, name) for name, shape, _ in self.layout}
        return tuple(scales[label] for label in block_labels(self.params))

    def add(self, a, b):
        return tuple(u + v for u, v in zip(a, b))

    def sum(self, values):
        values = list(values)
        return tuple(sympy.Add(*column) for column in zip(*values)) if values else self.zero

    def mul(self, a, b):
        return tuple(u * v for u, v in zip(a, b))

    def apply(self, phi, x):
        return tuple(phi(u) for u in x)

    def is_zero(self, x):
        return all(expand(u) == 0 for u in x)

    def is_trivially_zero(self, x):
        return all(u == 0 for u in x)

    def is_finite(self, x):
        return not any(u.has(sympy.zoo, sympy.oo, -sympy.oo, sympy.nan) for u in x)

    def canonical(self, x):
        # Expanding explicit components multiplies out nested square roots and
        # quotients into huge sums; the unexpanded tree is smaller and exact.
        return x

    def unknown(self, order, offset=0, part=None):
        return self._placeholder_at(order, offset, part)

    def state_value(self, key, name):
        return tuple(sympy.Symbol(f"{name}_{param}", real=True) for param in self.params)

    def _unknown_symbols(self) -> set:
        return set().union(*self._placeholders.values())

    def linear_parts(self, residual, unknowns, what):
        slopes, rest = [[] for _ in unknowns], []
        for j, r in enumerate(residual):
            own = {u[j] for u in unknowns}
            component_slopes = [sympy.diff(r, u[j]) for u in unknowns]
            if (any(a.has(*own) for a in component_slopes)
                    or not (self._unknown_symbols() - own).isdisjoint(r.free_symbols)):
                raise ImplicitUpdateError(f"component {j} of the equation for {what} is not an elementwise linear equation")
            for column, a in zip(slopes, component_slopes):
                column.append(a)
            rest.append(r.xreplace({u[j]: 0 for u in unknowns}))
        return [tuple(column) for column in slopes], tuple(rest)

    def contains(self, x, symbol):
        return symbol in self._free(x)

    def as_scalar(self, x):
        first = x[0]
        if all(u == first for u in x) and not set(self.params) & first.free_symbols:
            return first
        return None

    def separate(self, x):
        parts: dict[sympy.Expr, list] = defaultdict(lambda: [sympy.Integer(0)] * self.dimension)
        for j, u in enumerate(x):
            for term in sympy.Add.make_args(sympy.expand(u, deep=False)):
                stepped, rest = [], []
                for factor in sympy.Mul.make_args(term):
                    if STEP in factor.free_symbols:
                        if not set(self.params).isdisjoint(factor.free_symbols):
                            raise NotSeparableError(
                                f"the step index n sits inside {factor}, so sums over the history have no closed form"
                            )
                        stepped.append(factor)
                    else:
                        rest.append(factor)
                parts[sympy.Mul(*stepped)][j] += sympy.Mul(*rest)
        return [(s, tuple(v)) for s, v in parts.items()]

    def shift_step(self, x, shift):
        mapping = {STEP: STEP - shift}
        for (order, offset, part), symbols in list(self._placeholders.items()):
            if not set(symbols).isdisjoint(self._free(x)):
                if not isinstance(shift, int):
                    raise NotSeparableError("an unknown correction would be summed over the history")
                key_symbols = self._placeholder_at(order, offset + shift, part)
                mapping.update(zip(symbols, key_symbols))
        return tuple(u.xreplace(mapping) for u in x)

    def _placeholder_at(self, order, offset, part=None):
        key = (order, offset, part)
        if key not in self._placeholders:
            label = "" if part is None else f"^{part}"
            self._placeholders[key] = tuple(sympy.Dummy(f"F{order}{label}_{j}(n-{offset})") for j in range(self.dimension))
        return self._placeholders[key]

    def _lie(self, x, field):
        if not self._unknown_symbols().isdisjoint(self._free(x)):
            raise ImplicitUpdateError("the derivative of the unknown correction is needed before it is known")
        if isinstance(field, Partial):
            return tuple(sympy.Add(*(v * sympy.diff(u, s) for v, s in zip(field.value, field.state) if v != 0)) for u in x)
        if field is TIME:
            return tuple(sympy.diff(u, TIME_SYMBOL) for u in x)
        return tuple(
            sympy.Add(*(fl * sympy.diff(u, theta_l) for fl, theta_l in zip(field, self.params) if fl != 0)) for u in x
        )

    @staticmethod
    def _free(x) -> set:
        return set().union(*(u.free_symbols for u in x))
