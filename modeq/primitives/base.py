r"""The base of the description language's primitives.

A primitive is a SymPy function node of an optimizer's update that carries
its whole meaning in its own class, as SymPy's printers dispatch on
``_print_<Class>``: the rest of modeq calls these methods and never lists the
primitive types.

* :meth:`Primitive.expand` — its power series in :math:`h` along the modified
  flow (:class:`~modeq.expansion.Expander`); history primitives dispatch on the
  regime (``_stationary``, ``_exact``, ``_steps``);
* :meth:`Primitive.lower` — its state and statements in the compiled discrete
  optimizer (:mod:`modeq.numerics.discrete`, at generation time: the loaded
  module never sees SymPy);
* :attr:`Primitive.memory` and :meth:`Primitive.replay_steps` — whether it
  carries state between steps, and how many past steps fill that state
  (history-consistent starts, :mod:`modeq.numerics.history`);
* :attr:`Primitive.scalar` — its value is the same in every component;
* :meth:`Primitive.smooth_args` — the arguments the smoothness check reads.

Adding a primitive is one new file here (and its tests).
"""

from __future__ import annotations

import functools
from typing import Any, ClassVar

import sympy

from ..description import DescriptionError
from ..series import Series

__all__ = ["Primitive", "Lowering"]


class Lowering:
    """What :meth:`Primitive.lower` may use (the code generator,
    :mod:`modeq.numerics.discrete`, implements it).

    ``code(expr)`` is the component-``j`` code of an expression in lowered
    nodes; ``scalar(expr, what)`` the code of a component-free one;
    ``number(value, what)`` a float or a clear error; ``setup``/``step``
    collect statements (``step`` runs with ``it``, the step counter, ``b``, the
    batch label, ``th``, the iterate, ``p``, the dimension); ``function(name,
    make)`` calls ``make(self)`` once per module, which adds module-level
    functions with ``define(name, signature, lines)`` (module-level assignments, e.g.
    constant arrays numba freezes into the code, with ``constants(name,
    lines)``) and may generate them
    from ``losses`` (0 the full loss, 1..m the batches) and ``params`` with
    ``cse(exprs, targets, names)``; ``name(symbol, code)`` prints a bound
    symbol (bound symbols print as ``prev_<symbol>[j]`` unless named);
    ``once(key, make)`` adds shared statements once; ``block_ids`` numbers each parameter's block (:mod:`modeq.blocks`)."""

    losses: tuple
    params: tuple
    block_ids: tuple

    def code(self, expr: sympy.Expr) -> str: ...

    def scalar(self, expr: sympy.Expr, what: str) -> str: ...

    def number(self, value: sympy.Expr, what: str) -> float: ...

    def setup(self, *lines: str) -> None: ...

    def step(self, *lines: str) -> None: ...

    def cse(self, exprs, targets, names) -> list[str]: ...

    def function(self, name: str, make) -> None: ...

    def define(self, name: str, signature: str, lines) -> None: ...

    def constants(self, name: str, lines) -> None: ...

    def name(self, symbol: sympy.Symbol, code: str) -> None:
        """Print the bound ``symbol`` as ``code`` (a state's previous value)."""

    def once(self, key: str, make) -> None:
        """Call ``make(self)`` once per module for ``key`` (statements that
        several nodes share, such as the update of states kept together)."""


class Primitive(sympy.Function):
    """Base of the primitives: real-valued, never a number (even ``Grad(0)``,
    which has no free symbols), so SymPy neither evaluates nor compares them."""

    is_number = False

    #: Whether the primitive carries state from one step to the next.
    memory: ClassVar[bool] = False
    #: Whether the value is the same in every component (a reduction).
    scalar: ClassVar[bool] = False
    #: Symbols bound inside the node (a state's previous value), not free.
    bound: ClassVar[tuple] = ()

    def _eval_is_extended_real(self):
        return True

    def expand(self, expander: Any = None, order: int | None = None, **hints) -> Series:
        """The series of this node known to ``order``; ``expander`` is the
        :class:`~modeq.expansion.Expander` (above this module: it calls this
        method), which gives ``unknowns`` (the known terms :math:`f_i` and
        state manifolds), ``algebra``, ``regime``, ``loss``, ``offset``,
        ``expand(node, order)`` and ``constant(value, order)``.

        Called without an order it is SymPy's :meth:`sympy.Expr.expand`, which
        the name shadows and SymPy itself calls on subexpressions (see
        :meth:`__init_subclass__`)."""
        if order is None:
            return _sympy_expand(self, expander, hints)
        raise NotImplementedError

    def __init_subclass__(cls, **kwargs):
        """A primitive's own ``expand(expander, order)`` also answers SymPy's
        ``expand()`` (no order): SymPy's assumptions expand subexpressions, and
        ``sqrt((g + beta g)**2 + eps)`` raised "Grad.expand() missing 2 required
        positional arguments" while the description was being written."""
        super().__init_subclass__(**kwargs)
        series = cls.__dict__.get("expand")
        if series is None or getattr(series, "answers_sympy", False):
            return

        @functools.wraps(series)
        def expand(self, expander=None, order=None, **hints):
            if order is None:
                return _sympy_expand(self, expander, hints)
            return series(self, expander, order)

        expand.answers_sympy = True
        cls.expand = expand

    def refuse_in_epoch(self, expander: Any, memory: str) -> None:
        """An epoch composes the steps of one memoryless update
        (``expander.offset`` set): a node with ``memory`` has no place in it."""
        if expander.offset is not None:
            raise DescriptionError(
                f"composing the steps of an epoch needs a memoryless update (no {memory}): with memory, "
                "use the exact regime's per-step fields"
            )

    def lower(self, out: Lowering, name: str, args: tuple) -> None:
        """Statements computing this node (lowered ``args``) into ``name``
        (an array ``name[j]``, or a float for a scalar primitive)."""
        raise NotImplementedError

    def replay_steps(self) -> int:
        """Past steps to replay so that this node's state is that of a long run
        (0 without memory)."""
        return 0

    def smooth_args(self) -> tuple:
        """The arguments checked for smoothness (all of them by default)."""
        return self.args


def _sympy_expand(node: Primitive, deep: Any, hints: dict) -> sympy.Expr:
    """SymPy's ``expand`` of a primitive node (its arguments expanded)."""
    return sympy.Expr.expand(node, *(() if deep is None else (deep,)), **hints)
