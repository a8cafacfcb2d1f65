r"""SymPy expressions as JSON, decoded through a whitelist.

A saved equation is untrusted text: it is never handed to ``sympify``,
``parse_expr`` or ``eval``. Expressions are written as one shared table of
nodes (a DAG: a common subexpression is written once), each node a list
``[kind, *fields]`` whose children are indices of *earlier* nodes, so a table
cannot describe a cycle. :func:`decode_nodes` rebuilds the table node by node,
accepting only the kinds below and the functions of a fixed table (plus the
ones the caller adds, e.g. the description language's primitives); anything
else is a :class:`DecodeError` naming the node.

=================  ===========================================
kind               fields
=================  ===========================================
``int``            decimal string
``rat``            numerator, denominator (decimal strings)
``float``          ``repr`` of the float, precision in bits
``sym``            name, assumptions (as the symbol was made)
``str``            a name (an identifier) inside a node, e.g. a state's
``const``          one of :data:`CONSTANTS`
``add``/``mul``    children
``pow``            base, exponent
``tuple``          children (states held together, a joint state's)
``fn``             function name (from the table), children
``undef``          name (an identifier), children: an undefined real
                   function (an opaque function of time, :math:`\eta(t)`)
``deriv``          expression, variable, how many times
=================  ===========================================
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import sympy
from sympy.core.function import AppliedUndef
from sympy.core.symbol import Str

__all__ = ["Encoder", "decode_nodes", "DecodeError", "FUNCTIONS", "CONSTANTS"]

#: Elementwise functions a saved expression may call.
FUNCTIONS: dict[str, type] = {
    f.__name__: f
    for f in (
        sympy.exp, sympy.log, sympy.sin, sympy.cos, sympy.tan, sympy.sinh, sympy.cosh, sympy.tanh,
        sympy.asin, sympy.acos, sympy.atan, sympy.asinh, sympy.acosh, sympy.atanh, sympy.erf, sympy.Abs,
        sympy.sign, sympy.polylog,
    )
}

#: Named constants.
CONSTANTS: dict[str, sympy.Basic] = {
    "pi": sympy.pi, "E": sympy.E, "I": sympy.I, "nan": sympy.nan, "oo": sympy.oo, "-oo": -sympy.oo,
    "zoo": sympy.zoo, "true": sympy.true, "false": sympy.false,
}
_CONSTANT_NAMES = {value: name for name, value in CONSTANTS.items()}

#: Largest number of nodes and digits accepted from a file.
MAX_NODES = 5_000_000
MAX_DIGITS = 10_000


class DecodeError(ValueError):
    """A JSON node table that is not one modeq writes."""


class Encoder:
    """Collects expressions into one node table; :meth:`add` gives a root's index.

    ``functions`` adds callable node kinds (name -> class) beyond :data:`FUNCTIONS`."""

    def __init__(self, functions: Mapping[str, type] | None = None) -> None:
        self.functions = {**FUNCTIONS, **(functions or {})}
        self.nodes: list[list] = []
        self._index: dict[sympy.Basic, int] = {}

    def add(self, expr: Any) -> int:
        expr = expr if isinstance(expr, sympy.Basic) else sympy.sympify(expr)
        index = self._index.get(expr)
        if index is None:
            node = self._node(expr)
            index = self._index[expr] = len(self.nodes)
            self.nodes.append(node)
        return index

    def _node(self, expr: sympy.Basic) -> list:
        if expr in _CONSTANT_NAMES:
            return ["const", _CONSTANT_NAMES[expr]]
        if isinstance(expr, sympy.Integer):
            return ["int", str(int(expr))]
        if isinstance(expr, sympy.Rational):
            return ["rat", str(expr.p), str(expr.q)]
        if isinstance(expr, sympy.Float):
            return ["float", repr(float(expr)), int(expr._prec)]
        if isinstance(expr, sympy.Dummy):
            raise ValueError(f"cannot save the dummy symbol {expr}")
        if isinstance(expr, sympy.Symbol):
            # the assumptions as given (so a decoded symbol prints as the original), else all of them
            given = getattr(expr, "_assumptions_orig", None)
            return ["sym", expr.name, dict(sorted((expr.assumptions0 if given is None else given).items()))]
        if isinstance(expr, Str):  # a name inside a node (a state's)
            return ["str", expr.name]
        if isinstance(expr, sympy.Add):
            return ["add", *(self.add(a) for a in expr.args)]
        if isinstance(expr, sympy.Mul):
            return ["mul", *(self.add(a) for a in expr.args)]
        if isinstance(expr, sympy.Pow):
            return ["pow", self.add(expr.base), self.add(expr.exp)]
        if isinstance(expr, sympy.Tuple):  # the states held together in a joint state (Lookahead's)
            return ["tuple", *(self.add(a) for a in expr.args)]
        if isinstance(expr, AppliedUndef) and expr.is_real and expr.func.__name__.isidentifier():
            return ["undef", expr.func.__name__, *(self.add(a) for a in expr.args)]
        if isinstance(expr, sympy.Derivative) and len(expr.variable_count) == 1:
            (variable, count), = expr.variable_count
            return ["deriv", self.add(expr.expr), self.add(variable), str(int(count))]
        name = type(expr).__name__
        if self.functions.get(name) is type(expr):
            return ["fn", name, *(self.add(a) for a in expr.args)]
        raise ValueError(f"cannot save {expr} (a {name}): only numbers, symbols, +, *, ** and the functions "
                         f"{', '.join(sorted(self.functions))} are saved")


def decode_nodes(nodes: Any, functions: Mapping[str, type] | None = None) -> list[sympy.Basic]:
    """Every node of a table written by :class:`Encoder` (same ``functions``), in order."""
    table = {**FUNCTIONS, **(functions or {})}
    if not isinstance(nodes, list) or len(nodes) > MAX_NODES:
        raise DecodeError("the expressions are not a list of nodes of a sensible size")
    out: list[sympy.Basic] = []
    for position, node in enumerate(nodes):
        out.append(_decode(node, out, table, position))
    return out


def _decode(node: Any, done: list, table: Mapping[str, type], position: int) -> sympy.Basic:
    if not isinstance(node, list) or not node or not isinstance(node[0], str):
        raise DecodeError(f"node {position} is not an expression node: {str(node)[:60]}")
    kind, fields = node[0], node[1:]

    def children(items: Sequence) -> list:
        if not all(isinstance(i, int) and not isinstance(i, bool) and 0 <= i < position for i in items):
            raise DecodeError(f"node {position} ({kind}) refers to a node that is not before it")
        return [done[i] for i in items]

    if kind == "int" and len(fields) == 1:
        return sympy.Integer(_whole(fields[0]))
    if kind == "rat" and len(fields) == 2:
        return sympy.Rational(_whole(fields[0]), _whole(fields[1]))
    if kind == "float" and len(fields) == 2 and isinstance(fields[0], str) and type(fields[1]) is int:
        try:
            return sympy.Float(float(fields[0]), precision=fields[1])
        except ValueError:
            raise DecodeError(f"node {position}: not a float: {fields[0][:40]!r}") from None
    if kind == "sym" and len(fields) == 2 and isinstance(fields[0], str) and isinstance(fields[1], dict):
        if not all(isinstance(k, str) and isinstance(v, bool) for k, v in fields[1].items()):
            raise DecodeError(f"node {position}: bad assumptions for symbol {fields[0][:40]!r}")
        try:
            return sympy.Symbol(fields[0], **fields[1])
        except (ValueError, TypeError, AttributeError, KeyError) as error:
            raise DecodeError(f"node {position}: bad assumptions for symbol {fields[0][:40]!r}: {error}") from None
    if kind == "str" and len(fields) == 1 and isinstance(fields[0], str) and fields[0].isidentifier() \
            and len(fields[0]) <= 40:
        return Str(fields[0])
    if kind == "const" and len(fields) == 1 and fields[0] in CONSTANTS:
        return CONSTANTS[fields[0]]
    if kind == "add" and fields:
        return sympy.Add(*children(fields))
    if kind == "mul" and fields:
        return sympy.Mul(*children(fields))
    if kind == "pow" and len(fields) == 2:
        return sympy.Pow(*children(fields))
    if kind == "tuple":
        return sympy.Tuple(*children(fields))
    if kind == "undef" and fields and isinstance(fields[0], str) and fields[0].isidentifier():
        return sympy.Function(fields[0], real=True)(*children(fields[1:]))
    if kind == "deriv" and len(fields) == 3:
        expr, variable = children(fields[:2])
        if not isinstance(variable, sympy.Symbol):
            raise DecodeError(f"node {position}: a derivative with respect to {variable}, not a symbol")
        return sympy.Derivative(expr, (variable, _whole(fields[2])))
    if kind == "fn" and fields and isinstance(fields[0], str) and fields[0] in table:
        return table[fields[0]](*children(fields[1:]))
    raise DecodeError(f"node {position}: unknown or malformed expression node {kind!r}")


def _whole(text: Any) -> int:
    if not isinstance(text, str) or not text.lstrip("-").isdigit() or len(text) > MAX_DIGITS:
        raise DecodeError(f"not a whole number: {str(text)[:40]!r}")
    return int(text)
