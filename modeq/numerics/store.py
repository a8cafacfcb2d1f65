r"""Derived and compiled fields, cached by what was derived.

:func:`derived_field` derives the modified equation of an optimizer,
materializes it for a loss and compiles it — once. Its key is a hash of the
optimizer's description (:meth:`~modeq.optimizers.base.Optimizer.key`, which
covers the update with the hyperparameter values substituted), the order, the
regime, the loss, the parameter names, the batch losses and schedule; a
second call (in any process) finds the generated module through the cache
index and neither re-derives nor re-generates.

With batch losses :math:`E_1..E_m` a *memoryless* optimizer (no ``ema``, no
``lag``) has one field per batch — the modified field of one step on
:math:`E_b` — and step :math:`n` uses the field of its batch
:math:`b(n) = schedule[n \bmod len]`: the per-step maps compose exactly as the
per-step flows do. Optimizers with memory have step-dependent mini-batch
fields: in the exact regime they are derived step by step
(:func:`modeq.derive_steps`) for the first ``steps`` steps, and step :math:`n`
uses :math:`f^{(n)}`.
"""

from __future__ import annotations

import os
from typing import Any, Mapping, Sequence

import sympy

from ..algebra.component import check_loss
from ..blocks import param_key
from ..optimizers.base import Optimizer
from ..primitives import Primitive
from ..solver import check_order, derive
from ..stepwise import derive_steps
from .cache import digest, lookup, record
from .codegen import compile_field
from .field import CompiledField

__all__ = ["derived_field", "has_memory"]


def has_memory(optimizer: Optimizer, values: Mapping[str, Any] | None = None) -> bool:
    """Whether the update carries state between steps (a primitive with memory, e.g. ``ema`` or ``lag``)."""
    return any(node.memory for node in optimizer.update(values).atoms(Primitive))


def derived_field(
    optimizer: Optimizer,
    loss: sympy.Expr | None,
    params: Sequence[sympy.Symbol],
    order: int,
    regime: str = "stationary",
    values: Mapping[str, Any] | None = None,
    batches: Sequence[sympy.Expr] | None = None,
    schedule: Sequence[int] | None = None,
    cache_dir: str | os.PathLike | None = None,
    steps: int | None = None,
) -> CompiledField:
    """The compiled modified field of ``optimizer`` on ``loss`` to ``order``
    (cached; see the module docs). ``field.key`` loads it again with
    :func:`modeq.numerics.load_field`. ``steps`` is the number of per-step
    fields of a mini-batch optimizer with memory (exact regime)."""
    order = check_order(order)
    if loss is None and not batches:
        raise ValueError("give a loss or a list of batch losses")
    if loss is not None:
        loss, params = check_loss(loss, params)
    batches = [check_loss(b, params)[0] for b in (batches or ())]
    labels = list(schedule) if schedule is not None else list(range(1, len(batches) + 1))
    if batches and (not labels or not all(isinstance(b, int) and 1 <= b <= len(batches) for b in labels)):
        raise ValueError(f"the schedule must list batch labels 1..{len(batches)}, got {schedule!r}")
    stepwise = bool(batches) and has_memory(optimizer, values)
    if stepwise and regime != "exact":
        raise ValueError(
            f"mini-batch fields of {optimizer.name} (an optimizer with memory) depend on the step: use "
            "regime='exact', which derives them step by step")
    if stepwise and (isinstance(steps, bool) or not isinstance(steps, int) or steps < 1):
        raise ValueError(f"give the number of steps whose fields are needed (a whole number >= 1), got {steps!r}")
    key = digest("field", optimizer.key(values), order, regime, sympy.srepr(loss), param_key(params),
                 [sympy.srepr(b) for b in batches], labels if batches else None, steps if stepwise else None)
    path = lookup(key, cache_dir)
    if path is not None:
        return CompiledField(path, key)
    if stepwise:
        derived = derive_steps(optimizer, steps, order, batches=len(batches), schedule=labels, values=values)
        compiled = compile_field(derived.materialize(None, params, batches), cache_dir=cache_dir)
        record(key, compiled.path, cache_dir)
        return CompiledField(compiled.path, key)
    equation = derive(optimizer, order=order, regime=regime, values=values)
    if batches:
        fields = [equation.materialize(b, params) for b in batches]
        compiled = compile_field(fields, cycle=[b - 1 for b in labels], cache_dir=cache_dir)
    else:
        compiled = compile_field(equation.materialize(loss, params), cache_dir=cache_dir)
    record(key, compiled.path, cache_dir)
    return CompiledField(compiled.path, key)
