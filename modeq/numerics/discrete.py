r"""The discrete optimizer, compiled from its description.

The update direction :math:`U_n` of :math:`\theta_{n+1} = \theta_n + hU_n`
(:mod:`modeq.optimizers.language`) is walked once; every primitive becomes
state and statements of one generated loop:

* ``EMA(x, β, init, bc)`` — a state array :math:`m` (:math:`m_0 = init`),
  :math:`m_{n+1} = \beta m_n + (1-\beta)x_n`, value :math:`m_{n+1}`, divided by
  :math:`1-\beta^{n+1}` when bias-corrected;
* ``Lag(x, k, init)`` — a ring buffer of the last :math:`k` values of
  :math:`x`, filled at step 0 with ``init`` or (``init = nan``) with
  :math:`x_0`;
* ``Grad(shift)`` — the gradient of the step's loss (the full loss or the
  batch :math:`E_{b(n)}` of the schedule) at :math:`\theta_n + shift`,
  generated from the loss with CSE;
* ``ReduceSum(x)`` — the scalar :math:`\sum_i x_i`.

Nodes are computed children first, so every quantity is that of step
:math:`n`. The loop can *replay* a given history
:math:`\theta_{-K}, \dots, \theta_{-1}` before :math:`\theta_0`: the states are
updated along it but the iterate is forced, which gives the optimizer a
history-consistent state (:mod:`modeq.numerics.history`). The step counter of
bias corrections and lag fills starts at the first replayed step; the batch
of step :math:`n` (negative while replaying) is ``schedule[n mod len]``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import sympy

from ..algebra.component import check_loss
from ..optimizers.base import Optimizer
from ..optimizers.language import EMA, DescriptionError, Grad, Lag, ReduceSum, h as H, theta as THETA
from .cache import digest, load_module, lookup, record, write_module
from .codegen import HEADER, JIT
from .printer import NumbaPrinter, cse_lines

__all__ = ["CompiledOptimizer", "compile_optimizer", "optimizer_source"]


@dataclass
class _Node:
    kind: type
    symbol: sympy.Symbol
    args: tuple
    name: str


@dataclass
class _Lowering:
    """Primitives of the update as numbered nodes, children first."""

    nodes: list[_Node] = field(default_factory=list)
    seen: dict = field(default_factory=dict)

    def lower(self, expr: sympy.Expr) -> sympy.Expr:
        """``expr`` with every primitive replaced by its node's symbol."""
        if expr in self.seen:
            return self.seen[expr]
        if isinstance(expr, (Grad, Lag, EMA, ReduceSum)):
            lowered_args = (self.lower(expr.args[0]),) + tuple(expr.args[1:])
            name = f"q{len(self.nodes)}"
            node = _Node(type(expr), sympy.Symbol(name), lowered_args, name)
            self.nodes.append(node)
            result = node.symbol
        elif expr.args:
            result = expr.func(*(self.lower(a) for a in expr.args))
        else:
            result = expr
        self.seen[expr] = result
        return result


def _number(value: sympy.Expr, what: str) -> float:
    if value.free_symbols:
        raise DescriptionError(f"{what} must be a number to compile the optimizer, got {value}")
    return float(value)


class _Emitter:
    """Statements of one step, given the node symbols' code names."""

    def __init__(self, lowering: _Lowering) -> None:
        self.scalars = {n.symbol for n in lowering.nodes if n.kind is ReduceSum}
        self.names = {THETA: "th[j]", H: "h"}
        for n in lowering.nodes:
            self.names[n.symbol] = n.name if n.symbol in self.scalars else f"{n.name}[j]"

    def code(self, expr: sympy.Expr) -> str:
        return NumbaPrinter(self.names).doprint(expr)

    def scalar(self, expr: sympy.Expr, what: str) -> str:
        if THETA in expr.free_symbols or any(s in self.names and s not in self.scalars and s != H
                                             for s in expr.free_symbols):
            raise DescriptionError(f"{what} must not depend on the component (got {expr})")
        return self.code(expr)


def _step_lines(lowering: _Lowering, update: sympy.Expr) -> tuple[list[str], list[str]]:
    """``(setup, step)`` statements; ``step`` runs with ``it`` (counter), ``b`` (batch)."""
    emit = _Emitter(lowering)
    setup, step = [], []
    for node in lowering.nodes:
        x, name = node.args[0], node.name
        if node.kind is ReduceSum:
            step += [f"{name} = 0.0", "for j in range(p):", f"    {name} += {emit.code(x)}"]
            continue
        setup.append(f"{name} = np.empty(p)")
        if node.kind is Grad:
            step += ["for j in range(p):", f"    point[j] = th[j] + {emit.code(x)}", f"_grad(point, b, {name})"]
        elif node.kind is EMA:
            decay, init, bias = node.args[1:]
            beta = emit.scalar(decay, "an EMA decay")
            init_value = _number(init, "the initial state of an EMA")
            setup.append(f"m_{name} = np.full(p, {init_value!r})")
            scale = f" / (1.0 - ({beta})**(it + 1))" if bias == sympy.true else ""
            step += ["for j in range(p):",
                     f"    m_{name}[j] = ({beta}) * m_{name}[j] + (1.0 - ({beta})) * ({emit.code(x)})",
                     f"    {name}[j] = m_{name}[j]{scale}"]
        elif node.kind is Lag:
            k, init = int(node.args[1]), node.args[2]
            setup.append(f"buf_{name} = np.empty(({k}, p))")
            fill = "value" if init is sympy.nan else repr(_number(init, "the value of a lag before the start"))
            step += ["for j in range(p):",
                     f"    value = {emit.code(x)}",
                     "    if it == 0:",
                     f"        buf_{name}[:, j] = {fill}",
                     f"    {name}[j] = buf_{name}[it % {k}, j]",
                     f"    buf_{name}[it % {k}, j] = value"]
    step += ["for j in range(p):", f"    direction[j] = {emit.code(update)}"]
    return setup, step


def _gradient_function(index: int, loss: sympy.Expr, params: Sequence[sympy.Symbol]) -> str:
    names = {s: f"a{i}" for i, s in enumerate(params)}
    lines = [f"a{i} = x[{i}]" for i in range(len(params))]
    lines += cse_lines([sympy.diff(loss, s) for s in params], [f"out[{j}]" for j in range(len(params))], names)
    return f"\n\n{JIT}\ndef _grad_{index}(x, out):\n" + "".join(f"    {line}\n" for line in lines)


_LOOP = '''

{jit}
def run(theta0, h, steps, schedule, history):
    """Iterates theta_0..theta_steps after replaying `history` (rows theta_-K..theta_-1);
    rows after a non-finite iterate are NaN."""
    p = theta0.shape[0]
    replay = history.shape[0]
    out = np.full((steps + 1, p), np.nan)
    out[0] = theta0
    th = history[0].copy() if replay > 0 else theta0.copy()
    point = np.empty(p)
    direction = np.empty(p)
{setup}
    for it in range(replay + steps):
        b = schedule[(it - replay) % schedule.shape[0]]
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
    """The module source: ``_grad_<b>`` for each loss (0 = the full loss,
    1..m the batches), a dispatcher ``_grad(x, b, out)`` and the loop ``run``."""
    lowering = _Lowering()
    lowered = lowering.lower(update)
    extra = lowered.free_symbols - {THETA, H} - {n.symbol for n in lowering.nodes}
    for n in lowering.nodes:
        for a in n.args:
            extra |= a.free_symbols - {THETA, H} - {m.symbol for m in lowering.nodes}
    if extra:
        names = ", ".join(sorted(map(str, extra)))
        raise DescriptionError(f"the update still contains {names}; give numeric values for them (values={{...}})")
    setup, step = _step_lines(lowering, lowered)
    parts = [HEADER.format(kind="optimizer")]
    parts += [_gradient_function(b, loss, params) for b, loss in enumerate(losses)]
    branches = "".join(f"    {'if' if b == 0 else 'elif'} b == {b}:\n        _grad_{b}(x, out)\n" for b in range(len(losses)))
    parts.append(f"\n\n{JIT}\ndef _grad(x, b, out):\n{branches}")
    parts.append(_LOOP.format(jit=JIT, setup="".join(f"    {s}\n" for s in setup),
                              step="".join(f"        {s}\n" for s in step)))
    return "".join(parts)


class CompiledOptimizer:
    """A generated optimizer loop: :meth:`run` gives the iterates."""

    def __init__(self, path, params: Sequence[str], batches: int) -> None:
        self._module = load_module(path)
        self.path, self.params, self.batches = path, tuple(params), batches

    def run(self, theta0, h: float, steps: int, schedule: Sequence[int] | None = None,
            history: np.ndarray | None = None) -> np.ndarray:
        r"""Iterates :math:`\theta_0..\theta_{steps}` (shape ``(steps+1, p)``).

        ``schedule`` lists batch labels 1..m (step :math:`n` uses
        ``schedule[n mod len]``; default cyclic ``1..m``); ``history`` rows are
        replayed past iterates :math:`\theta_{-K}..\theta_{-1}`."""
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
        return self._module.run(theta0, float(h), int(steps), np.ascontiguousarray(labels, dtype=np.int64), history)


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
    key = digest("optimizer", optimizer.key(values), sympy.srepr(loss), [s.name for s in params],
                 [sympy.srepr(b) for b in batches])
    path = lookup(key, cache_dir)
    if path is None:
        path = write_module(optimizer_source(optimizer.update(values), [loss, *batches], params), "optimizer", cache_dir)
        record(key, path, cache_dir)
    return CompiledOptimizer(path, [s.name for s in params], len(batches))
