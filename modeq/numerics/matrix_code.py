r"""Compiled code for the matrix maps of a field (Muon's Newton–Schulz steps).

A materialized field reads a matrix map :math:`D^kF(X_B)[Y_{1,B}..Y_{k,B}]`
through the symbols of a :class:`~modeq.components.MatrixStage`. Here each
stage becomes statements of the field's function — the components of its
arguments into arrays, then one call per block of the traced function
:math:`D^kF` (:mod:`modeq.algebra.matrix_trace`) — before the terms that read
its outputs. One CSE runs across the stages and the terms: the stages'
arguments share the gradient, its norms and Hessian products (a CSE per stage
wrote them again in each of the 17 stages of Muon's order-2 field, half of
its 2600 lines).
"""

from __future__ import annotations

from typing import Sequence

import sympy

from ..algebra.matrix_trace import JET_FUNCTIONS, derivative_function, function_name, source
from ..components import MatrixStage
from .printer import Section

__all__ = ["stage_section", "map_functions"]


def map_functions(stages: Sequence[MatrixStage], jit: str) -> list[str]:
    """The numba functions the ``stages`` call, each once."""
    needed = dict.fromkeys((s.map, len(s.args) - 1) for s in stages)
    functions = (JET_FUNCTIONS if needed else []) + [derivative_function(fmap, k) for fmap, k in needed]
    return [source(f, jit) for f in functions]


def stage_section(stage: MatrixStage, number: int, names: dict[sympy.Symbol, str]) -> Section:
    """The statements computing ``stage`` into the array ``r<number>``: its
    arguments' components as assignments (for one CSE with the rest of the
    field, :func:`~modeq.numerics.printer.cse_sections`), the calls after
    them; its output symbols are added to ``names`` (as ``r<number>[j]``)."""
    p = len(stage.outputs)
    arrays = [f"m{number}_{a}" for a in range(len(stage.args))]
    before = [f"{name} = np.empty({p})" for name in arrays] + [f"r{number} = np.empty({p})"]
    exprs = [x for arg in stage.args for x in arg]
    targets = [f"{name}[{j}]" for name in arrays for j in range(p)]
    function = function_name(stage.map, len(stage.args) - 1)
    calls = []
    for _, (rows, cols), positions in stage.layout:
        index = f"{positions[0]}:{positions[-1] + 1}" if list(positions) == list(range(positions[0], positions[-1] + 1)) \
            else f"np.array({list(positions)!r})"
        blocks = ", ".join(f"np.ascontiguousarray({name}[{index}]).reshape({rows}, {cols})" for name in arrays)
        calls.append(f"r{number}[{index}] = {function}({blocks}).ravel()")
    names.update({s: f"r{number}[{j}]" for j, s in enumerate(stage.outputs)})
    return Section(exprs, targets, before, calls)
