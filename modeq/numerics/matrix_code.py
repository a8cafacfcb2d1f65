r"""Compiled code for the matrix maps of a field (Muon's Newton–Schulz steps).

A materialized field reads a matrix map :math:`D^kF(X_B)[Y_{1,B}..Y_{k,B}]`
through the symbols of a :class:`~modeq.components.MatrixStage`. Here each
stage becomes statements of the field's function — the components of its
arguments into rows of an array, then one call of the block driver running
the map's traced program (:mod:`modeq.algebra.matrix_trace`; the programs and
the blocks' index arrays are module-level constants) — before the terms that
read its outputs. One CSE runs across the stages and the terms: the stages'
arguments share the gradient, its norms and Hessian products (a CSE per stage
wrote them again in each of the 17 stages of Muon's order-2 field, half of
its 2600 lines).
"""

from __future__ import annotations

import hashlib
from typing import Sequence

import sympy

from ..algebra.matrix_trace import call, functions, constants, layout_arrays, source
from ..components import MatrixStage
from .printer import Section

__all__ = ["stage_sections", "map_functions"]


def _layout_names(layout) -> tuple[str, str]:
    digest = hashlib.sha256(repr(layout_arrays(layout)).encode()).hexdigest()[:10]
    return f"_INDEX_{digest}", f"_BLOCKS_{digest}"


def map_functions(stages: Sequence[MatrixStage], jit: str) -> list[str]:
    """The module-level code the ``stages`` need: the interpreter and its block
    driver (once), each map's programs and each layout's index arrays (once each)."""
    if not stages:
        return []
    lines = []
    for fmap in dict.fromkeys(s.map for s in stages):
        lines += constants(fmap)
    for layout in {_layout_names(s.layout): s.layout for s in stages}.values():
        (index, blocks), (index_name, blocks_name) = layout_arrays(layout), _layout_names(layout)
        lines += [f"{index_name} = np.array({index!r}, dtype=np.int64)",
                  f"{blocks_name} = np.array({blocks!r}, dtype=np.int64).reshape({len(blocks)}, 4)"]
    generated = {f[0]: f for s in stages for f in functions(s.map)}
    return ["\n\n" + "\n".join(lines) + "\n"] + [source(f, jit) for f in generated.values()]


def stage_sections(stages: Sequence[MatrixStage], names: dict[sympy.Symbol, str]) -> list[Section]:
    """The statements computing the ``stages``: the components of every
    stage's arguments :math:`X, Y_1..Y_k` into rows of one array
    ``stage_args`` (assignments, for one CSE with the rest of the field,
    :func:`~modeq.numerics.printer.cse_sections`), then one call of the block
    driver writing row ``s`` of ``stage_out``; the outputs are added to
    ``names`` (as ``stage_out[s, j]``). Two arrays for all stages, not a few
    per stage: numba gives every array variable a struct, and LLVM's SROA pass
    on a field of 17 stages with 73 of them took most of its compile time."""
    if not stages:
        return []
    p = len(stages[0].outputs)
    rows = sum(len(stage.args) for stage in stages)
    sections, row = [], 0
    for number, stage in enumerate(stages):
        k1 = len(stage.args)
        before = [f"stage_args = np.empty(({rows}, {p}))", f"stage_out = np.empty(({len(stages)}, {p}))"] \
            if number == 0 else []
        exprs = [x for arg in stage.args for x in arg]
        targets = [f"stage_args[{row + a}, {j}]" for a in range(k1) for j in range(p)]
        index, blocks = _layout_names(stage.layout)
        calls = [call(stage.map, f"stage_args[{row}:{row + k1}]", f"stage_out[{number}]", index, blocks)]
        names.update({s: f"stage_out[{number}, {j}]" for j, s in enumerate(stage.outputs)})
        sections.append(Section(exprs, targets, before, calls))
        row += k1
    return sections
