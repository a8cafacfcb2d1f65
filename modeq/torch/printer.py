r"""Elementwise SymPy expressions as torch code, translated once at compile time.

SymPy ships a PyTorch printer (:class:`sympy.printing.pytorch.TorchPrinter`,
SymPy ≥ 1.13); :class:`ElementwisePrinter` specializes it for fields:

* every symbol is printed through an explicit name map (the atoms' printed
  names such as ``D_1[g/sqrt(eps + g**2)]`` are not identifiers, and a user's
  name can never clash with the generated code's own);
* numbers are float literals at full precision (``repr``), so a constant
  subexpression never reaches ``torch.sqrt`` as a Python number and
  ``(rho - 1)`` with ``rho = 0.999`` is the double nearest to it;
* integer powers are Python's ``**`` (one multiplication for squares).

:func:`elementwise_function` applies common-subexpression elimination
(:func:`sympy.cse`) and returns a plain Python function of tensors (0-d
tensors broadcast), so evaluating a field never touches SymPy. Each common
subexpression is deleted after its last use: on a network every one is a
vector of the model's size, and Adam's order-2 expression has eight.
"""

from __future__ import annotations

from typing import Callable, Sequence

import sympy
from sympy.printing.pytorch import TorchPrinter

__all__ = ["ElementwisePrinter", "elementwise_function"]


class ElementwisePrinter(TorchPrinter):
    """torch code for an elementwise expression over named inputs."""

    def __init__(self, names: dict[sympy.Symbol, str]) -> None:
        super().__init__({"fully_qualified_modules": True})
        self.names = dict(names)

    def _print_Symbol(self, expr: sympy.Symbol) -> str:
        try:
            return self.names[expr]
        except KeyError:
            raise ValueError(f"the expression still contains the symbol {expr}; give it a value") from None

    _print_Dummy = _print_Symbol

    def _print_Number(self, expr: sympy.Expr) -> str:
        return repr(float(expr))

    _print_Float = _print_Rational = _print_Integer = _print_NumberSymbol = _print_Number

    def _print_Pow(self, expr: sympy.Pow, rational: bool = False) -> str:
        base, exponent = expr.args
        if not expr.free_symbols:
            return repr(float(expr))
        if exponent.is_Integer and abs(int(exponent)) <= 64:
            if exponent == -1:
                return f"(1.0/{self.parenthesize(base, 100)})"
            return f"{self.parenthesize(base, 100)}**{int(exponent)}"
        if exponent == sympy.S.Half:
            return f"torch.sqrt({self._print(base)})"
        if exponent == -sympy.S.Half:
            return f"torch.rsqrt({self._print(base)})"
        return f"torch.pow({self._print(base)}, {self._print(exponent)})"

    def _print_Function(self, expr: sympy.Expr) -> str:
        if not expr.free_symbols:
            return repr(float(expr))
        if type(expr) not in self.mapping:
            raise ValueError(f"the function {type(expr).__name__} has no torch translation")
        return super()._print_Function(expr)


def elementwise_function(expr: sympy.Expr, inputs: Sequence[sympy.Symbol]) -> Callable[..., object]:
    """``expr`` as a Python function of torch tensors, one argument per input."""
    import torch

    arguments = [f"x{i}" for i in range(len(inputs))]
    names = dict(zip(inputs, arguments))
    replacements, (reduced,) = sympy.cse([expr], symbols=sympy.numbered_symbols("_cse"), order="none")
    uses = [value.free_symbols for _, value in replacements] + [reduced.free_symbols]
    lines = []
    for k, (symbol, value) in enumerate(replacements):
        lines.append(f"    c{k} = {ElementwisePrinter(names).doprint(value)}")
        names[symbol] = f"c{k}"
        dead = [names[s] for s, _ in replacements[:k + 1] if s in uses[k] and not any(s in u for u in uses[k + 1:])]
        if dead:
            lines.append(f"    del {', '.join(dead)}")
    lines.append(f"    return {ElementwisePrinter(names).doprint(reduced)}")
    source = f"def elementwise({', '.join(arguments)}):\n" + "\n".join(lines) + "\n"
    namespace: dict[str, object] = {"torch": torch}
    exec(compile(source, "<modeq.torch elementwise>", "exec"), namespace)  # our own generated source
    function = namespace["elementwise"]
    function.source = source  # type: ignore[attr-defined]
    return function  # type: ignore[return-value]
