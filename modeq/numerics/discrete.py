r"""The discrete optimizer, compiled from its description.

The update direction :math:`U_n` of :math:`\theta_{n+1} = \theta_n + hU_n`
(:mod:`modeq.optimizers.language`) is walked once; every primitive becomes
state and statements of one generated loop, written by the primitive itself
(:meth:`modeq.primitives.Primitive.lower`: an EMA's state array, a lag's ring
buffer, the gradient of the step's loss at a shifted point, a reduction, a
Hessian-vector product); this module only numbers the nodes, gives them code
names and assembles the module. Lowering runs at generation time: the
generated module imports NumPy, math and numba only.

Nodes are computed children first, so every quantity is that of step
:math:`n`. The loop can *replay* a given history
:math:`\theta_{-K}, \dots, \theta_{-1}` before :math:`\theta_0`: the states are
updated along it but the iterate is forced, which gives the optimizer a
history-consistent state (:mod:`modeq.numerics.history`). The step counter of
bias corrections and lag fills starts at the first replayed step; the batch
of step :math:`n` (negative while replaying) is ``schedule[n mod len]``; its
time is :math:`t_n = t_0 + nh` (``t0`` = 0 unless a run starts later in a
schedule).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import sympy

from ..algebra.component import check_loss
from ..blocks import block_ids, param_key
from ..optimizers.base import Optimizer
from ..description import DescriptionError, h as H, t as TIME, theta as THETA
from ..primitives import Lowering, Primitive
from .cache import digest, load_module, lookup, record, write_module
from .codegen import HEADER, JIT
from .printer import NumbaPrinter, cse_lines

__all__ = ["CompiledOptimizer", "compile_optimizer", "optimizer_source"]


@dataclass
class _Node:
    primitive: Primitive
    symbol: sympy.Symbol
    args: tuple
    name: str


@dataclass
class _Nodes:
    """Primitives of the update as numbered nodes, children first."""

    nodes: list[_Node] = field(default_factory=list)
    seen: dict = field(default_factory=dict)

    def lower(self, expr: sympy.Expr) -> sympy.Expr:
        """``expr`` with every primitive replaced by its node's symbol."""
        if expr in self.seen:
            return self.seen[expr]
        if isinstance(expr, Primitive):
            args = tuple(self.lower(a) for a in expr.args)  # children first
            name = f"q{len(self.nodes)}"
            node = _Node(expr, sympy.Symbol(name), args, name)
            self.nodes.append(node)
            result = node.symbol
        elif expr.args:
            result = expr.func(*(self.lower(a) for a in expr.args))
        else:
            result = expr
        self.seen[expr] = result
        return result


class _Module(Lowering):
    """The statements and functions of one generated optimizer module."""

    def __init__(self, nodes: _Nodes, losses: Sequence[sympy.Expr], params: Sequence[sympy.Symbol]) -> None:
        self.losses, self.params = tuple(losses), tuple(params)
        self.block_ids = block_ids(self.params)
        self.scalars = {n.symbol for n in nodes.nodes if n.primitive.scalar}
        self.names = {THETA: "th[j]", H: "h", TIME: "t"}
        for n in nodes.nodes:
            self.names[n.symbol] = n.name if n.symbol in self.scalars else f"{n.name}[j]"
            for symbol in n.primitive.bound:  # a previous value, read by the node's children before it is lowered
                self.names.setdefault(symbol, f"prev_{symbol.name}[j]")
        self.setup_lines: list[str] = []
        self.step_lines: list[str] = []
        self.functions: dict[str, str] = {}
        self.shared: set[str] = set()

    def code(self, expr):
        return NumbaPrinter(self.names).doprint(expr)

    def scalar(self, expr, what):
        if THETA in expr.free_symbols or any(s in self.names and s not in self.scalars and s not in (H, TIME)
                                             for s in expr.free_symbols):
            raise DescriptionError(f"{what} must not depend on the component (got {expr})")
        return self.code(expr)

    def number(self, value, what):
        if value.free_symbols:
            raise DescriptionError(f"{what} must be a number to compile the optimizer, got {value}")
        return float(value)

    def setup(self, *lines):
        self.setup_lines += lines

    def step(self, *lines):
        self.step_lines += lines

    def cse(self, exprs, targets, names):
        return cse_lines(exprs, targets, names)

    def function(self, name, make):
        if name not in self.functions:
            self.functions[name] = ""  # reserved: make() may define helpers first
            make(self)

    def once(self, key, make):
        if key not in self.shared:
            self.shared.add(key)
            make(self)

    def name(self, symbol, code):
        self.names[symbol] = code

    def define(self, name, signature, lines):
        self.functions[name] = f"\n\n{JIT}\ndef {name}({signature}):\n" + "".join(f"    {line}\n" for line in lines)

    def constants(self, name, lines):
        self.functions[name] = "\n\n" + "".join(f"{line}\n" for line in lines)


_LOOP = '''

{jit}
def run(theta0, h, steps, schedule, history, t0):
    """Iterates theta_0..theta_steps after replaying `history` (rows theta_-K..theta_-1),
    step n at time t0 + n*h; rows after a non-finite iterate are NaN."""
    p = theta0.shape[0]
    replay = history.shape[0]
    out = np.full((steps + 1, p), np.nan)
    out[0] = theta0
    th = history[0].copy() if replay > 0 else theta0.copy()
    direction = np.empty(p)
{setup}
    for it in range(replay + steps):
        b = schedule[(it - replay) % schedule.shape[0]]
        t = t0 + (it - replay) * h
{step}
        if it + 1 < replay:
            th[:] = history[it + 1]
        elif it + 1 == replay:
            th[:] = theta0
        else:
            for j in range(p):
                th[j] += h * direction[j]
                if not math.isfinite(th[j]):
                    return out
            out[it + 1 - replay] = th
    return out
'''


def optimizer_source(update: sympy.Expr, losses: Sequence[sympy.Expr], params: Sequence[sympy.Symbol]) -> str:
    """The module source: the functions the primitives need (e.g. ``_grad_<b>``
    for each loss, 0 = the full loss, 1..m the batches) and the loop ``run``."""
    nodes = _Nodes()
    lowered = nodes.lower(update)
    symbols = {n.symbol for n in nodes.nodes}
    bound = {s for n in nodes.nodes for s in n.primitive.bound}  # previous values, also in the shifts of children
    extra = lowered.free_symbols - {THETA, H, TIME} - symbols
    for n in nodes.nodes:
        for a in n.args:
            extra |= a.free_symbols - {THETA, H, TIME} - symbols - bound
    if extra:
        names = ", ".join(sorted(map(str, extra)))
        raise DescriptionError(f"the update still contains {names}; give numeric values for them (values={{...}})")
    module = _Module(nodes, losses, params)
    for n in nodes.nodes:
        n.primitive.lower(module, n.name, n.args)
    module.step("for j in range(p):", f"    direction[j] = {module.code(lowered)}")
    parts = [HEADER.format(kind="optimizer"), *module.functions.values()]
    parts.append(_LOOP.format(jit=JIT, setup="".join(f"    {s}\n" for s in module.setup_lines),
                              step="".join(f"        {s}\n" for s in module.step_lines)))
    return "".join(parts)


class CompiledOptimizer:
    """A generated optimizer loop: :meth:`run` gives the iterates."""

    def __init__(self, path, params: Sequence[str], batches: int) -> None:
        self._module = load_module(path)
        self.path, self.params, self.batches = path, tuple(params), batches

    def run(self, theta0, h: float, steps: int, schedule: Sequence[int] | None = None,
            history: np.ndarray | None = None, t0: float = 0.0) -> np.ndarray:
        r"""Iterates :math:`\theta_0..\theta_{steps}` (shape ``(steps+1, p)``).

        ``schedule`` lists batch labels 1..m (step :math:`n` uses
        ``schedule[n mod len]``; default cyclic ``1..m``); ``history`` rows are
        replayed past iterates :math:`\theta_{-K}..\theta_{-1}`; step :math:`n`
        is at time :math:`t_0 + nh` (schedules)."""
        p = len(self.params)
        theta0 = np.ascontiguousarray(theta0, dtype=np.float64)
        if theta0.shape != (p,):
            raise ValueError(f"theta0 must have {p} values ({', '.join(self.params)}), got shape {theta0.shape}")
        if not (np.isfinite(h) and h > 0):
            raise ValueError(f"the step size h must be a positive number, got {h!r}")
        if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
            raise ValueError(f"steps must be a whole number >= 0, got {steps!r}")
        if self.batches:
            labels = np.arange(1, self.batches + 1) if schedule is None else np.asarray(schedule, dtype=np.int64)
            if labels.ndim != 1 or labels.size == 0 or labels.min() < 1 or labels.max() > self.batches:
                raise ValueError(f"the schedule must list batch labels 1..{self.batches}, got {schedule!r}")
        else:
            if schedule is not None:
                raise ValueError("a schedule needs batch losses (batches=[E_1, ..., E_m])")
            labels = np.zeros(1, dtype=np.int64)
        history = np.zeros((0, p)) if history is None else np.ascontiguousarray(history, dtype=np.float64)
        if history.ndim != 2 or history.shape[1] != p:
            raise ValueError(f"history must have shape (K, {p}), got {history.shape}")
        if isinstance(t0, bool) or not isinstance(t0, (int, float, np.integer, np.floating)) or not np.isfinite(t0):
            raise ValueError(f"the start time t0 must be a finite number, got {t0!r}")
        return self._module.run(theta0, float(h), int(steps), np.ascontiguousarray(labels, dtype=np.int64), history,
                                float(t0))


def compile_optimizer(
    optimizer: Optimizer,
    loss: sympy.Expr | None,
    params: Sequence[sympy.Symbol],
    values: dict | None = None,
    batches: Sequence[sympy.Expr] | None = None,
    cache_dir: str | os.PathLike | None = None,
) -> CompiledOptimizer:
    """The optimizer's loop for ``loss`` (or the batch losses ``batches``; the
    full loss is then their mean), cached by the description's key."""
    if loss is None:
        if not batches:
            raise ValueError("give a loss or a list of batch losses")
        loss = sympy.Add(*batches) / len(batches)
    loss, params = check_loss(loss, params)
    batches = [check_loss(b, params)[0] for b in (batches or ())]
    key = digest("optimizer", optimizer.key(values), sympy.srepr(loss), param_key(params),
                 [sympy.srepr(b) for b in batches])
    path = lookup(key, cache_dir)
    if path is None:
        path = write_module(optimizer_source(optimizer.update(values), [loss, *batches], params), "optimizer", cache_dir)
        record(key, path, cache_dir)
    return CompiledOptimizer(path, [s.name for s in params], len(batches))
