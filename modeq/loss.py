"""Losses given as text (command line, notebooks, configuration files).

The text is parsed by :mod:`modeq.parsing` -- a whitelist over Python's syntax
tree that builds SymPy objects directly -- and is never executed. Its names
are the parameters (``E``, ``I``, ``beta``, ``lambda`` included) and the
constant ``pi`` (unless ``pi`` is a parameter).
"""

from __future__ import annotations

from typing import Sequence

import sympy

from .blocks import Blocks, as_blocks, is_block_spec, names_of
from .optimizers.language import check_smooth
from .parsing import ExpressionError, parse_expression, parse_names

__all__ = ["ExpressionError", "parse_loss", "parse_params"]


def parse_params(text) -> tuple[sympy.Symbol, ...]:
    """``"x,y"`` or ``["x", "y"]`` as real symbols, or blocks with shapes
    (``"W1:3x2,b:2"``, ``{"W1": (3, 2), "b": (2,)}``, :class:`~modeq.blocks.Blocks`)
    as their flattened entries, with a clear error."""
    if isinstance(text, Blocks) or is_block_spec(text):
        return (text if isinstance(text, Blocks) else as_blocks(text)).params
    return tuple(sympy.Symbol(name, real=True) for name in parse_names(text))


def _names(params) -> tuple[dict, tuple[sympy.Symbol, ...]]:
    """The names a loss may use (blocks as matrices) and the parameters."""
    if isinstance(params, Blocks) or is_block_spec(params):
        blocks = params if isinstance(params, Blocks) else as_blocks(params)
        return blocks.values, blocks.params
    if params and not isinstance(params, str) and all(isinstance(s, sympy.Symbol) for s in params):
        symbols = tuple(params)
    else:
        symbols = parse_params(params)
    return names_of(symbols), symbols


def parse_loss(text: str, params: str | Sequence[str] | Sequence[sympy.Symbol]) -> tuple[sympy.Expr, tuple[sympy.Symbol, ...]]:
    """Parse ``text`` as a loss in the parameters ``params``.

    Returns ``(loss, params)`` with the parameters as real symbols. With
    blocks (``"W1:3x2,W2:2x3"``, a dict of shapes) the text uses the blocks
    as matrices (``sum((W2 @ W1 - 1)**2)/2``, :mod:`modeq.parsing`) and the
    parameters are their entries (:mod:`modeq.blocks`). Errors
    (:class:`ExpressionError`, a :class:`ValueError`) name the problem: a
    construct that is not allowed, an unknown name or function, a loss that
    does not depend on the parameters or is not smooth."""
    if not isinstance(text, str):
        raise ExpressionError(f"the loss must be text such as 'x**2 + y**2', got {type(text).__name__}; "
                              "pass a SymPy expression directly where a loss expression is accepted")
    values, symbols = _names(params)
    names = ", ".join(values)
    loss = parse_expression(text, values, what=f"the loss {text!r}",
                            unknown=f"it is not a parameter ({names}); add it to the parameters or replace it by a number")
    if not loss.free_symbols:
        raise ExpressionError(f"the loss {text!r} does not depend on the parameters {names}")
    check_smooth(loss, f"the loss {text!r}")  # modified equations need a smooth loss
    return loss, symbols
