"""Parsing loss expressions given as text (command line, notebooks)."""

from __future__ import annotations

from tokenize import TokenError
from typing import Sequence

import sympy
from sympy.parsing.sympy_parser import parse_expr, standard_transformations

from .optimizers.language import check_smooth

__all__ = ["parse_loss", "parse_params"]


def parse_params(text: str | Sequence[str]) -> tuple[sympy.Symbol, ...]:
    """``"x,y"`` or ``["x", "y"]`` as real symbols, with a clear error."""
    names = [n.strip() for n in (text.split(",") if isinstance(text, str) else text)]
    if not names or not all(n.isidentifier() for n in names):
        raise ValueError(f"parameters must be comma-separated names such as 'x,y', got {text!r}")
    if len(set(names)) != len(names):
        raise ValueError(f"parameter names must be distinct, got {text!r}")
    return tuple(sympy.Symbol(n, real=True) for n in names)


def parse_loss(text: str, params: str | Sequence[str] | Sequence[sympy.Symbol]) -> tuple[sympy.Expr, tuple[sympy.Symbol, ...]]:
    """Parse ``text`` as a loss in the parameters ``params``.

    Returns ``(loss, params)`` with the parameters as real symbols. Errors
    name the problem: a syntax error, an unknown name, a loss that does not
    depend on the parameters or is not smooth."""
    if params and all(isinstance(s, sympy.Symbol) for s in params):
        symbols = tuple(params)
    else:
        symbols = parse_params(params)
    namespace = {s.name: s for s in symbols}
    try:
        loss = parse_expr(text, local_dict=namespace, transformations=standard_transformations)
    except (SyntaxError, TypeError, TokenError) as error:
        raise ValueError(f"cannot parse the loss {text!r}: {error}") from None
    if not isinstance(loss, sympy.Expr):
        raise ValueError(f"the loss {text!r} is not a scalar expression")
    unknown = loss.free_symbols - set(symbols)
    if unknown:
        names = ", ".join(sorted(map(str, unknown)))
        raise ValueError(f"the loss {text!r} uses {names}, which are not parameters ({', '.join(map(str, symbols))}); "
                         "add them to the parameters or replace them by numbers")
    if not loss.free_symbols:
        raise ValueError(f"the loss {text!r} does not depend on the parameters {', '.join(map(str, symbols))}")
    check_smooth(loss, f"the loss {text!r}")  # modified equations need a smooth loss
    return loss, symbols

