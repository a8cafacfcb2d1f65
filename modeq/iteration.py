r"""The optimizer's own iterates, compiled from its description.

:func:`iterates` runs :math:`\theta_{n+1} = \theta_n + hU_n` for a given loss:
the same loop that :func:`modeq.verify` compares with the modified flow
(:mod:`modeq.numerics.discrete`), so comparing it with a reference
implementation (``torch.optim``, ``pytorch-optimizer``, ...) checks the
description that every derivation starts from.

(The module is not called ``iterates`` so that ``modeq.iterates`` stays the
function.)
"""

from __future__ import annotations

import math
import numbers
import os
from typing import Any, Mapping, Sequence

import numpy as np
import sympy

from .loss import parse_loss, parse_params
from .numerics.discrete import compile_optimizer
from .optimizers.base import Optimizer
from .optimizers.library import resolve

__all__ = ["iterates"]


def _params(params) -> tuple[sympy.Symbol, ...]:
    if isinstance(params, (str, Mapping)):
        return parse_params(params)
    params = tuple(params)
    if params and all(isinstance(s, sympy.Symbol) for s in params):
        return params
    if params and all(isinstance(s, str) for s in params):
        return parse_params(params)
    raise ValueError(f"params must be names ('x,y' or ['x', 'y']), SymPy symbols or blocks with shapes "
                     f"('W1:3x2,b:2' or {{'W1': (3, 2), 'b': (2,)}}), got {params!r}")


def _loss(loss, params) -> sympy.Expr:
    if isinstance(loss, str):
        return parse_loss(loss, params)[0]
    if not isinstance(loss, sympy.Expr):
        raise TypeError(f"loss must be a string or a SymPy expression, got {type(loss).__name__}")
    return loss


def iterates(
    optimizer: Optimizer | str,
    loss: sympy.Expr | str | None,
    params: Sequence[sympy.Symbol] | Sequence[str] | str,
    theta0: Sequence[float],
    h: float,
    steps: int,
    values: Mapping[str, Any] | None = None,
    batches: Sequence[sympy.Expr | str] | None = None,
    schedule: Sequence[int] | None = None,
    cache_dir: str | os.PathLike | None = None,
) -> np.ndarray:
    r"""The iterates :math:`\theta_0, \dots, \theta_{steps}` of ``optimizer``
    with step size ``h`` on ``loss``, as a float64 array of shape
    ``(steps + 1, p)``.

    ``params`` are the loss's parameters (``"x,y"``, names or symbols; or
    blocks with shapes, ``"W1:3x2,b:2"`` or ``{"W1": (3, 2), "b": (2,)}``,
    flattened row-major, :mod:`modeq.blocks`) in the order of ``theta0``; ``values`` fixes hyperparameters (the defaults are
    used for the others). With ``batches`` (losses :math:`E_1..E_m`; ``loss``
    may then be ``None``), step :math:`n` uses the gradient of
    :math:`E_{schedule[n \bmod len]}` (default: cyclic :math:`1..m`). Rows
    after an iterate that is not finite are NaN.

    >>> modeq.iterates("heavy_ball", "(x*y - 1)**2/2", "x,y", [1.0, 0.5], h=0.1, steps=3,
    ...                values={"beta": 0.9}).shape  # doctest: +SKIP
    (4, 2)
    """
    optimizer = resolve(optimizer)
    params = _params(params)
    if loss is None and not batches:
        raise ValueError("give a loss, or batch losses with batches=[...]")
    loss = None if loss is None else _loss(loss, params)
    batches = [_loss(b, params) for b in batches] if batches else None
    if isinstance(h, bool) or not isinstance(h, numbers.Real) or not (math.isfinite(h) and h > 0):
        raise ValueError(f"the step size h must be a positive number, got {h!r}")
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 0:
        raise ValueError(f"steps must be a whole number >= 0, got {steps!r}")
    try:
        start = np.asarray(theta0, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"theta0 must be {len(params)} numbers, got {theta0!r}") from None
    if start.shape != (len(params),) or not np.all(np.isfinite(start)):
        raise ValueError(f"theta0 must be {len(params)} finite numbers, one per parameter "
                         f"({', '.join(map(str, params))}), got {theta0!r}")
    compiled = compile_optimizer(optimizer, loss, params, optimizer.numbers(values), batches, cache_dir)
    return compiled.run(start, float(h), int(steps), schedule)
