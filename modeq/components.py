r"""The component path as an evaluation backend: :class:`ComponentBackend`.

Its values are SymPy expressions in the parameters :math:`\theta_1..\theta_p`
of a concrete loss: a vector is a tuple of :math:`p` component expressions, a
scalar one expression. Evaluating an equation's terms on it with the generic
:class:`~modeq.evaluation.Evaluator` (which walks the atom definitions of the
equation's table children first, each distinct atom once) *materializes*
them: :math:`E_b`, :math:`\nabla E_b` and the contractions
:math:`D_k[X_1..X_k]_j = \sum_{i_1..i_k} \partial_{j i_1..i_k} E_b\, X_{1,i_1}\cdots X_{k,i_k}`
come from the :class:`~modeq.algebra.ComponentAlgebra` (its cached partial
derivatives), :math:`S[X] = \sum_i X_i` (and its sums over parameter blocks), and an elementwise expression is
substituted component by component. Symbols no table defines (hyperparameters
left symbolic, the step :math:`n` of exact-regime fields) stay symbols, and so
does the time :math:`t` of non-autonomous fields (every table defines it).

A matrix map of parameter blocks (:mod:`modeq.algebra.matrix_maps`:
Newton–Schulz) is not written out: its entries are polynomials of degree
:math:`5^5` whose trees SymPy cannot even build. Its value is a fresh symbol
per component, defined by a :class:`MatrixStage` (the map, the blocks, the
component expressions of its arguments), which the code generator turns into
a call of the map's compiled derivative on each block before the terms that
read it.

This is the backend of compiled fields: :mod:`modeq.numerics.codegen` turns
what it produces into cached numba modules, and those run without SymPy. The
other backends evaluate at numeric points with the same evaluator
(:class:`~modeq.evaluation.NumpyBackend`, :mod:`modeq.torch`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import sympy

from .algebra import ComponentAlgebra
from .algebra.matrix_maps import check_blocks
from .algebra.base import TIME_SYMBOL
from .evaluation import Backend, Evaluator

#: ``Basic.free_symbols`` (the union over the arguments): a class that keeps it
#: has no bound variables, so :func:`free_symbols` may walk its arguments itself.
_UNION = sympy.Basic.free_symbols

__all__ = ["ComponentBackend", "MatrixStage", "materialize", "free_symbols"]

Components = tuple[sympy.Expr, ...]


@dataclass(frozen=True)
class MatrixStage:
    r"""``outputs[j]`` := component :math:`j` of :math:`D^kF(X_B)[Y_{1,B}..Y_{k,B}]`
    with ``args`` :math:`(X, Y_1..Y_k)` given by their components (which may
    read earlier stages' outputs); ``layout`` is :func:`modeq.blocks.block_layout`."""

    map: Any
    layout: tuple
    args: tuple[Components, ...]
    outputs: tuple[sympy.Symbol, ...]


class ComponentBackend(Backend[Any]):
    r"""Values as component expressions of the loss(es) of ``algebra``; a point
    is the tuple of parameters :math:`(\theta_1..\theta_p)`."""

    def __init__(self, algebra: ComponentAlgebra) -> None:
        self.algebra = algebra
        #: The matrix stages made so far, in evaluation order.
        self.stages: list[MatrixStage] = []

    @property
    def dimension(self) -> int:
        return self.algebra.dimension

    def theta(self, point):
        return tuple(point)

    def grad(self, point, loss):
        return self.algebra.grad(loss)

    def value(self, point, loss):
        return self.algebra.derivative((), loss)

    def contract(self, point, args, loss):
        return self.algebra.contract([self._vector(x) for x in args], loss)

    def reduce(self, x):
        return sympy.Add(*self._vector(x))

    def elementwise(self, expr, inputs) -> Callable[..., Any]:
        def apply(*values):
            if not any(isinstance(v, tuple) for v in values):
                return expr.xreplace(dict(zip(inputs, values)))
            vectors = [self._vector(v) for v in values]
            return tuple(expr.xreplace({s: v[j] for s, v in zip(inputs, vectors)}) for j in range(self.dimension))

        return apply

    def block_reduce(self, x):
        return self.algebra.block_sum(self._vector(x))

    def matrix_map(self, point, fmap, args):
        check_blocks(self.algebra.layout, fmap)
        number = len(self.stages)
        outputs = tuple(sympy.Dummy(f"{fmap.name}{number}_{j}", real=True) for j in range(self.dimension))
        layout = tuple((name, shape, tuple(positions)) for name, shape, positions in self.algebra.layout)
        self.stages.append(MatrixStage(fmap, layout, tuple(self._vector(a) for a in args), outputs))
        return outputs

    def block_scale(self, point, rule):
        return self.algebra.block_scale(rule)

    def block_size(self, point):
        return tuple(sympy.Integer(len(members)) for members in self.algebra.block_members)

    def state(self, point, key, name):
        return self.algebra.state_value(key, name)

    def broadcast(self, value, point):
        return self._vector(value)

    def constant(self, value: sympy.Expr) -> sympy.Expr:
        return value

    def free_symbol(self, symbol: sympy.Symbol) -> sympy.Symbol:
        return symbol

    def time(self, t) -> sympy.Expr:
        return TIME_SYMBOL if t is None else sympy.sympify(t)

    def _vector(self, value) -> Components:
        return value if isinstance(value, tuple) else (value,) * self.dimension


def materialize(terms: Sequence[sympy.Expr], atoms, algebra: ComponentAlgebra,
                stages: list[MatrixStage] | None = None) -> tuple[Components, ...]:
    """Index-form ``terms`` (their atoms defined in the table ``atoms``) as
    component expressions for the loss(es) of ``algebra``; the matrix stages
    their symbols need are appended to ``stages`` (refused without it)."""
    if not terms:
        return ()
    backend = ComponentBackend(algebra)
    out = tuple(Evaluator(terms, atoms, backend)(algebra.theta()))
    if backend.stages and stages is None:
        raise ValueError("the terms apply a matrix map to parameter blocks, whose values are stages of compiled code; "
                         "materialize them with ModifiedEquation.materialize")
    if stages is not None:
        stages.extend(backend.stages)
    return out


def free_symbols(exprs) -> set:
    r"""The free symbols of ``exprs``, each distinct subexpression visited once.

    Materialized terms are DAGs: an atom's value is shared by every term that
    reads it, so the tree that SymPy's recursive ``free_symbols`` walks (it
    caches nothing) can be :math:`10^4` times the DAG (LAMB's order-2 field on
    the two-layer network: 5153 distinct nodes, :math:`1.9\cdot 10^8` tree
    nodes). Same result as :math:`\bigcup_e` ``e.free_symbols``: a node whose
    class defines its own ``free_symbols`` (bound variables) answers for itself."""
    found: set = set()
    seen: set = set()
    stack = list(exprs)
    while stack:
        expr = stack.pop()
        if expr in seen:
            continue
        seen.add(expr)
        if type(expr).free_symbols is _UNION:
            stack.extend(expr.args)
        else:
            found |= expr.free_symbols
    return found
