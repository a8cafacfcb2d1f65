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

from typing import Mapping, NamedTuple, Sequence

import sympy
from sympy.printing.pycode import PythonCodePrinter

__all__ = ["NumbaPrinter", "cse_lines", "Section", "cse_sections"]


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
    return cse_sections([Section(exprs, targets)], names, prefix)


class Section(NamedTuple):
    """Assignments ``targets[i] = exprs[i]`` framed by statements: ``before`` them
    (e.g. allocations) and ``after`` them (e.g. a call that defines symbols
    later sections read)."""

    exprs: Sequence[sympy.Expr]
    targets: Sequence[str]
    before: Sequence[str] = ()
    after: Sequence[str] = ()


def cse_sections(sections: Sequence[Section], names: Mapping[sympy.Symbol, str], prefix: str = "c_") -> list[str]:
    """The sections' statements in order, with one CSE across all of them: a
    shared subexpression is computed once, just before the first section that
    needs it (a section may read symbols that an earlier one's ``after``
    defines; ``names`` must name them)."""
    exprs = [e for section in sections for e in section.exprs]
    replacements, reduced = sympy.cse(exprs, symbols=sympy.numbered_symbols("__cse"), order="none")
    index = {symbol: k for k, (symbol, _) in enumerate(replacements)}
    uses = [[index[s] for s in value.free_symbols if s in index] for _, value in replacements]
    names, lines, done, start = dict(names), [], set(), 0
    for section in sections:
        part = reduced[start:start + len(section.exprs)]
        start += len(section.exprs)
        needed = {index[s] for e in part for s in e.free_symbols if s in index} - done
        stack = list(needed)
        while stack:
            for u in uses[stack.pop()]:
                if u not in done and u not in needed:
                    needed.add(u)
                    stack.append(u)
        for k in sorted(needed):
            lines.append(f"{prefix}{k} = {NumbaPrinter(names).doprint(replacements[k][1])}")
            names[replacements[k][0]] = f"{prefix}{k}"
        done |= needed
        printer = NumbaPrinter(names)
        lines += [*section.before, *(f"{t} = {printer.doprint(e)}" for t, e in zip(section.targets, part)), *section.after]
    return lines
