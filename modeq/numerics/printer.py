r"""SymPy expressions as numba-compilable Python statements.

Two rules measured on this code base (DESIGN.md §4):

* common-subexpression elimination first (:func:`sympy.cse`): a field of a few
  thousand operations compiles in seconds with it and in minutes without;
* the ``math``-module printer, not NumPy's (``numpy.select`` and
  ``functools.reduce`` do not compile in numba).

Every symbol is printed through an explicit name map, so generated code never
contains a user's name: a parameter called ``out`` or ``math`` cannot clash
with the generator's own variables. Numbers are printed as float literals
(exact rationals would be Python ``int`` arithmetic, which overflows in numba
beyond 64 bits); integer exponents stay integers.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import sympy
from sympy.printing.pycode import PythonCodePrinter

__all__ = ["NumbaPrinter", "cse_lines"]


class NumbaPrinter(PythonCodePrinter):
    """Prints with the ``math`` module and a fixed map ``symbol -> code``."""

    def __init__(self, names: Mapping[sympy.Symbol, str]) -> None:
        super().__init__({"fully_qualified_modules": True, "standard": "python3"})
        self.names = dict(names)

    def _print_Symbol(self, expr: sympy.Symbol) -> str:
        try:
            return self.names[expr]
        except KeyError:
            raise ValueError(
                f"the expression still contains the symbol {expr}; give it a numeric value (values={{'{expr}': ...}})"
            ) from None

    _print_Dummy = _print_Symbol

    def _print_Rational(self, expr: sympy.Rational) -> str:
        return repr(float(expr))

    def _print_Integer(self, expr: sympy.Integer) -> str:
        return repr(float(expr))

    def _print_Pow(self, expr: sympy.Pow, rational: bool = False) -> str:
        base, exponent = expr.args
        if exponent.is_Integer and abs(int(exponent)) <= 64:
            if exponent == -1:
                return f"1.0/{self.parenthesize(base, 100)}"
            return f"{self.parenthesize(base, 100)}**{int(exponent)}"
        return super()._print_Pow(expr, rational)


def cse_lines(
    exprs: Sequence[sympy.Expr], targets: Sequence[str], names: Mapping[sympy.Symbol, str], prefix: str = "c_"
) -> list[str]:
    """Statements computing ``targets[i] = exprs[i]`` with shared
    subexpressions assigned once to local variables ``<prefix><k>``."""
    temporaries = sympy.numbered_symbols("__cse")
    replacements, reduced = sympy.cse(list(exprs), symbols=temporaries, order="none")
    names = dict(names)
    lines = []
    for k, (symbol, value) in enumerate(replacements):
        printer = NumbaPrinter(names)
        lines.append(f"{prefix}{k} = {printer.doprint(value)}")
        names[symbol] = f"{prefix}{k}"
    printer = NumbaPrinter(names)
    lines += [f"{target} = {printer.doprint(value)}" for target, value in zip(targets, reduced)]
    return lines
