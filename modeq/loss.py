"""Losses given as text (command line, notebooks, configuration files).

The text is parsed by :mod:`modeq.parsing` -- a whitelist over Python's syntax
tree that builds SymPy objects directly -- and is never executed. Its names
are the parameters (``E``, ``I``, ``beta``, ``lambda`` included) and the
constant ``pi`` (unless ``pi`` is a parameter).
"""

from __future__ import annotations

from typing import Sequence

import sympy

from .optimizers.language import check_smooth
from .parsing import ExpressionError, parse_expression, parse_names

__all__ = ["ExpressionError", "parse_loss", "parse_params"]


def parse_params(text: str | Sequence[str]) -> tuple[sympy.Symbol, ...]:
    """``"x,y"`` or ``["x", "y"]`` as real symbols, with a clear error."""
    return tuple(sympy.Symbol(name, real=True) for name in parse_names(text))


def parse_loss(text: str, params: str | Sequence[str] | Sequence[sympy.Symbol]) -> tuple[sympy.Expr, tuple[sympy.Symbol, ...]]:
    """Parse ``text`` as a loss in the parameters ``params``.

    Returns ``(loss, params)`` with the parameters as real symbols. Errors
    (:class:`ExpressionError`, a :class:`ValueError`) name the problem: a
    construct that is not allowed, an unknown name or function, a loss that
    does not depend on the parameters or is not smooth."""
    if not isinstance(text, str):
        raise ExpressionError(f"the loss must be text such as 'x**2 + y**2', got {type(text).__name__}; "
                              "pass a SymPy expression directly where a loss expression is accepted")
    if params and not isinstance(params, str) and all(isinstance(s, sympy.Symbol) for s in params):
        symbols = tuple(params)
    else:
        symbols = parse_params(params)
    names = ", ".join(map(str, symbols))
    loss = parse_expression(text, {s.name: s for s in symbols}, what=f"the loss {text!r}",
                            unknown=f"it is not a parameter ({names}); add it to the parameters or replace it by a number")
    if not loss.free_symbols:
        raise ExpressionError(f"the loss {text!r} does not depend on the parameters {names}")
    check_smooth(loss, f"the loss {text!r}")  # modified equations need a smooth loss
    return loss, symbols
