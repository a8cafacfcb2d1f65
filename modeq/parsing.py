r"""Untrusted text as SymPy expressions, without ever running it.

A loss, a batch loss, a hyperparameter value or a starting point typed on the
command line, pasted from a paper or read from a shared configuration is
*data*. :func:`sympy.sympify` and :func:`sympy.parsing.sympy_parser.parse_expr`
call :func:`eval` on their input (``0*__import__('os').system(...)`` runs the
command), so they never see user text (DESIGN.md §5.5). This module parses the
text with :func:`ast.parse` (which only builds a syntax tree) and walks the tree
with a whitelist, building SymPy objects directly:

* numbers: integer and decimal literals, kept exact (``0.1`` is ``1/10``, as in
  :func:`modeq.optimizers.base.exact_number`);
* names: the caller's names (the loss's parameters) and the constant ``pi``;
* ``+ - * / **``, unary ``-`` and ``+``, parentheses;
* calls of the functions in :data:`SMOOTH` (and of those in :data:`NON_SMOOTH`,
  which are built only so that :func:`modeq.optimizers.language.check_smooth`
  can give its advice on a smooth replacement).

Matrices. A caller's name may stand for a matrix (a parameter block,
:mod:`modeq.blocks`; a vector block is a column). Then ``A @ B`` is the
matrix product, ``A.T`` the transpose, ``sum(A)`` the sum of the entries and
``trace(A)`` the trace; ``+ - * / **`` and the functions act entry by entry
with numbers broadcast, as in NumPy. The result must be a number (or a 1x1
matrix): a matrix loss is refused with the advice to reduce it.

Everything else -- attributes, indexing, lambdas, comprehensions, keyword or
starred arguments, strings, f-strings, comparisons, ``and``/``or``, ``:=``,
``%``, ``//``, ``^`` ... -- is refused with an :class:`ExpressionError` that names
the construct. Names are decided by the caller's list only: ``E``, ``I``, ``S``,
``N``, ``O``, ``Q``, ``beta``, ``gamma`` are ordinary names (never SymPy's
:math:`e`, :math:`\sqrt{-1}`, singleton registry or function classes), and
Python keywords that are names in the list (``lambda``) are renamed at the
token level before parsing.

Constants. ``pi`` is :math:`\pi` unless it is one of the caller's names. ``e``
and ``E`` are *not* Euler's number: in a loss they are at least as often a
parameter or a typo, so an unknown ``e`` is an error that says to write
``exp(1)``. There is no imaginary unit, no ``nan`` and no infinity: a result
that is not a finite real expression (``1/0``, ``log(0)``, ``sqrt(-1)``) is
refused where it appears.

Size. A hostile string must not hang or exhaust memory: the text is at most
:data:`MAX_LENGTH` characters, nested at most :data:`MAX_DEPTH` deep, every
exact number has at most :data:`MAX_BITS` bits, and a numeric exponent is at
most :data:`MAX_EXPONENT` in absolute value (``x**99999999``, ``9**9**9``).
Each step's inputs are bounded, so each step's cost is bounded before its
result is checked.
"""

from __future__ import annotations

import ast
import io
import keyword
import math
import re
import tokenize
import warnings
from typing import Callable, Mapping, Sequence

import sympy

__all__ = [
    "ExpressionError", "SMOOTH", "NON_SMOOTH", "MATRIX_FUNCTIONS", "MAX_LENGTH", "MAX_DEPTH", "MAX_BITS", "MAX_EXPONENT",
    "parse_expression", "parse_number", "parse_numbers", "parse_names",
]

#: The longest text accepted (characters).
MAX_LENGTH = 10_000
#: The deepest nesting of operations accepted.
MAX_DEPTH = 100
#: The largest exact number accepted (bits of numerator plus denominator).
MAX_BITS = 4096
#: The largest numeric exponent accepted, in absolute value.
MAX_EXPONENT = 100


class ExpressionError(ValueError):
    """Text that is not an expression modeq accepts; the message says why."""


def _sigmoid(x: sympy.Expr) -> sympy.Expr:
    return 1 / (1 + sympy.exp(-x))


def _softplus(x: sympy.Expr) -> sympy.Expr:
    return sympy.log(1 + sympy.exp(x))


#: Smooth functions of one argument: name -> SymPy builder. ``sigmoid`` is
#: :math:`1/(1+e^{-x})` and ``softplus`` is :math:`\log(1+e^x)`, the usual smooth
#: surrogates of a step and of ``relu``.
SMOOTH: Mapping[str, Callable[[sympy.Expr], sympy.Expr]] = {
    "sqrt": sympy.sqrt, "exp": sympy.exp, "log": sympy.log,
    "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan,
    "sinh": sympy.sinh, "cosh": sympy.cosh, "tanh": sympy.tanh,
    "asin": sympy.asin, "acos": sympy.acos, "atan": sympy.atan,
    "asinh": sympy.asinh, "acosh": sympy.acosh, "atanh": sympy.atanh,
    "erf": sympy.erf, "sigmoid": _sigmoid, "softplus": _softplus,
}


def _relu(x: sympy.Expr) -> sympy.Expr:
    return sympy.Max(0, x)


#: Non-smooth functions: name -> (number of arguments or None for two or
#: more, SymPy builder). They are parsed so that the smoothness check can name
#: them and say what to use instead; a modified equation needs a smooth loss.
NON_SMOOTH: Mapping[str, tuple[int | None, Callable[..., sympy.Expr]]] = {
    "abs": (1, sympy.Abs), "Abs": (1, sympy.Abs), "sign": (1, sympy.sign),
    "max": (None, sympy.Max), "Max": (None, sympy.Max), "min": (None, sympy.Min), "Min": (None, sympy.Min),
    "relu": (1, _relu), "floor": (1, sympy.floor), "ceil": (1, sympy.ceiling), "ceiling": (1, sympy.ceiling),
    "heaviside": (1, sympy.Heaviside), "Heaviside": (1, sympy.Heaviside),
}

_CONSTANTS: Mapping[str, sympy.Expr] = {"pi": sympy.pi}
_NOT_FINITE = frozenset({"nan", "NaN", "inf", "Inf", "infinity", "Infinity", "oo", "zoo"})
_HINTS = {
    "I": "there is no imaginary unit: the expression must be real",
    "j": "there is no imaginary unit: the expression must be real",
    "E": "E is not Euler's number here; write exp(1) for it",
    "e": "e is not Euler's number here; write exp(1) for it",
}
_BAD_VALUES = (sympy.zoo, sympy.nan, sympy.oo, -sympy.oo)  # -oo is Mul(-1, oo): has(oo) finds it too

_OPERATORS: Mapping[type, str] = {
    ast.Mod: "the operator % (remainder)", ast.FloorDiv: "the operator // (floor division)",
    ast.LShift: "the operator <<", ast.RShift: "the operator >>",
    ast.BitOr: "the operator |", ast.BitAnd: "the operator &",
    ast.BitXor: "the operator ^ (it is not a power here; write ** for powers, e.g. x**2)",
    ast.Invert: "the operator ~", ast.Not: "the operator not",
}
_CONSTRUCTS: Mapping[type, str] = {
    ast.Attribute: "an attribute access", ast.Subscript: "indexing or slicing", ast.Lambda: "a lambda",
    ast.ListComp: "a comprehension", ast.SetComp: "a comprehension", ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a generator expression", ast.Starred: "a starred argument", ast.NamedExpr: "an assignment (:=)",
    ast.JoinedStr: "an f-string", ast.FormattedValue: "an f-string", ast.Compare: "a comparison",
    ast.BoolOp: "and/or", ast.IfExp: "a conditional expression (if/else)", ast.List: "a list", ast.Tuple: "a tuple",
    ast.Set: "a set", ast.Dict: "a dict", ast.Await: "await", ast.Yield: "yield", ast.YieldFrom: "yield",
    ast.Slice: "a slice",
}


def _functions() -> str:
    return f"{', '.join(SMOOTH)} (and, not smooth, {', '.join(dict.fromkeys(n.lower() for n in NON_SMOOTH))})"


def _allowed() -> str:
    return (f"numbers, names, + - * / **, parentheses and the functions {_functions()} "
            "(on matrix blocks also @, .T, sum and trace)")


def _excerpt(node: ast.AST) -> str:
    text = ast.unparse(node)
    return text if len(text) <= 40 else text[:37] + "..."


#: Reductions of a matrix to a number: name -> builder.
MATRIX_FUNCTIONS: Mapping[str, Callable[[sympy.MatrixBase], sympy.Expr]] = {
    "sum": lambda m: sympy.Add(*m), "trace": lambda m: m.trace(),
}


def _shape(value) -> str:
    return "x".join(map(str, value.shape))


class _Builder:
    """Walks a whitelisted syntax tree and builds the SymPy expression."""

    def __init__(self, names: Mapping[str, sympy.Expr], renamed: Mapping[str, str], what: str, unknown: str) -> None:
        self.names, self.renamed, self.what, self.unknown = names, renamed, what, unknown

    def fail(self, problem: str) -> ExpressionError:
        return ExpressionError(f"{self.what} {problem}")

    def build(self, node: ast.AST) -> sympy.Expr:
        method = getattr(self, f"_{type(node).__name__}", None)
        if method is None:
            construct = _CONSTRUCTS.get(type(node), f"a {type(node).__name__} expression")
            raise self.fail(f"uses {construct} ({_excerpt(node)}), which is not allowed; use only {_allowed()}")
        result = method(node)
        self.check(result, node)
        return result

    def check(self, result: sympy.Expr, node: ast.AST) -> None:
        """Refuse a value that is not finite and real, or a number too large.

        Only a power or a function can turn finite real numbers into ``zoo``,
        ``nan`` or a complex number (a division by zero is refused before it
        happens), or bury a large number inside its result (SymPy writes
        ``(1/62500)**(1/4000)`` as ``(4*10**2000)**(1/2000)/10``), so the whole
        result is searched there; elsewhere its top-level parts are checked
        for the size of their numbers."""
        if isinstance(result, sympy.MatrixBase):
            for entry in result:
                self.check(entry, node)
            return
        parts = (result, *result.args)
        if isinstance(node, (ast.Call, ast.BinOp)) and (isinstance(node, ast.Call) or isinstance(node.op, ast.Pow)):
            if result.has(*_BAD_VALUES):
                raise self.fail(f"is undefined or infinite at {_excerpt(node)}; "
                                "write an expression that is finite")
            if _not_real(result):
                raise self.fail(f"is not real at {_excerpt(node)}; write a real expression")
            parts = sympy.preorder_traversal(result)
        for part in parts:
            if isinstance(part, sympy.Rational) and int(part.p).bit_length() + int(part.q).bit_length() > MAX_BITS:
                raise self.fail(f"has a number larger than {MAX_BITS} bits at {_excerpt(node)}; use smaller numbers")

    def _Expression(self, node: ast.Expression) -> sympy.Expr:
        return self.build(node.body)

    def _Constant(self, node: ast.Constant) -> sympy.Expr:
        value = node.value
        if isinstance(value, bool) or value is None or value is Ellipsis:
            raise self.fail(f"uses {value!r}, which is not a number; use only {_allowed()}")
        if isinstance(value, int):
            if value.bit_length() > MAX_BITS:
                raise self.fail(f"has an integer larger than {MAX_BITS} bits; use smaller numbers")
            return sympy.Integer(value)
        if isinstance(value, float):
            if not math.isfinite(value):
                raise self.fail(f"has the number {_excerpt(node)}, too large for a float; use smaller numbers")
            return sympy.Rational(repr(value))
        if isinstance(value, complex):
            raise self.fail(f"uses the complex number {_excerpt(node)}; the expression must be real")
        kind = "a string" if isinstance(value, str) else "bytes" if isinstance(value, bytes) else type(value).__name__
        raise self.fail(f"uses {kind} ({_excerpt(node)}), which is not allowed; use only {_allowed()}")

    def _Name(self, node: ast.Name) -> sympy.Expr:
        name = self.renamed.get(node.id, node.id)
        if name in self.names:
            return self.names[name]
        if name in _CONSTANTS:
            return _CONSTANTS[name]
        if name.startswith("__"):
            raise self.fail(f"uses the name {name}, which is not allowed (no dunder names); use only {_allowed()}")
        if name in SMOOTH or name in NON_SMOOTH:
            raise self.fail(f"uses the function {name} without calling it; write {name}(...)")
        if name in _NOT_FINITE:
            raise self.fail(f"uses {name}, which is not a finite number; the expression must be finite")
        hint = f" ({_HINTS[name]})" if name in _HINTS else ""
        raise self.fail(f"uses the name {name}{hint}; {self.unknown}")

    def _Attribute(self, node: ast.Attribute) -> sympy.Expr:
        if node.attr == "T":
            value = self.build(node.value)
            if isinstance(value, sympy.MatrixBase):
                return value.T
            raise self.fail(f"transposes {_excerpt(node.value)}, which is a number, not a matrix; "
                            "only matrix blocks (W:3x2) have a transpose")
        raise self.fail(f"uses an attribute access ({_excerpt(node)}), which is not allowed; use only {_allowed()}")

    def _UnaryOp(self, node: ast.UnaryOp) -> sympy.Expr:
        if isinstance(node.op, ast.USub):
            return -self.build(node.operand)
        if isinstance(node.op, ast.UAdd):
            return self.build(node.operand)
        raise self.fail(f"uses {_OPERATORS[type(node.op)]} ({_excerpt(node)}), which is not allowed; use only {_allowed()}")

    def _BinOp(self, node: ast.BinOp) -> sympy.Expr:
        # a + b - c + ... is a left spine of BinOps as deep as it is long:
        # fold it in a loop, so that a long sum does not recurse
        spine = [node]
        while _group(spine[-1].left) is not None and _group(spine[-1].left) == _group(node):
            spine.append(spine[-1].left)
        for link in spine:
            if type(link.op) in _OPERATORS:
                raise self.fail(f"uses {_OPERATORS[type(link.op)]} ({_excerpt(link)}), which is not allowed; "
                                f"use only {_allowed()}")
        if _group(node) == "+":  # one Add: a long sum costs linear time (Add is associative and canonical)
            terms = [self.build(spine[-1].left)]
            # a - b is Add(a, -b), as SymPy's own subtraction builds it: b * (-1) would evaluate differently
            # ((1/2)**x * (-1) becomes -2**(-x), so 0.5**x - 0.5**x did not cancel and a division by it passed)
            terms += [self.build(link.right) if isinstance(link.op, ast.Add) else -self.build(link.right)
                      for link in reversed(spine)]
            if not any(isinstance(t, sympy.MatrixBase) for t in terms):
                return sympy.Add(*terms)
            result = terms[0]
            for term in terms[1:]:
                result = self.entrywise(node, result, term, lambda a, b: a + b)
            return result
        result = self.build(spine[-1].left)
        for link in reversed(spine):  # one by one, as Python would: Mul(2, x + 1) distributes
            result = self.combine(link, result, self.build(link.right))
            self.check(result, link)
        return result

    def entrywise(self, node: ast.BinOp, left, right, operation) -> sympy.Expr:
        """``operation`` entry by entry, a number broadcast against a matrix."""
        if isinstance(left, sympy.MatrixBase) and isinstance(right, sympy.MatrixBase):
            if left.shape != right.shape:
                raise self.fail(f"combines a {_shape(left)} and a {_shape(right)} matrix at {_excerpt(node)}; "
                                "entrywise operations need equal shapes (check the blocks' shapes in params)")
            return sympy.ImmutableMatrix(left.rows, left.cols, [operation(a, b) for a, b in zip(left, right)])
        if isinstance(left, sympy.MatrixBase):
            return left.applyfunc(lambda a: operation(a, right))
        if isinstance(right, sympy.MatrixBase):
            return right.applyfunc(lambda b: operation(left, b))
        return operation(left, right)

    def combine(self, node: ast.BinOp, left: sympy.Expr, right: sympy.Expr) -> sympy.Expr:
        if isinstance(node.op, ast.MatMult):
            if not (isinstance(left, sympy.MatrixBase) and isinstance(right, sympy.MatrixBase)):
                raise self.fail(f"uses the operator @ (matrix product) on a number at {_excerpt(node)}; "
                                "@ multiplies matrix blocks (W:3x2); use * for numbers")
            if left.cols != right.rows:
                raise self.fail(f"multiplies a {_shape(left)} by a {_shape(right)} matrix at {_excerpt(node)}; "
                                "the inner sizes must agree (check the blocks' shapes in params)")
            return sympy.ImmutableMatrix(left @ right)
        if isinstance(left, sympy.MatrixBase) or isinstance(right, sympy.MatrixBase):
            if isinstance(node.op, ast.Div) and (right == 0 if not isinstance(right, sympy.MatrixBase) else any(b == 0 for b in right)):
                raise self.fail(f"divides by zero at {_excerpt(node)}; write an expression that is finite")
            if isinstance(node.op, ast.Pow):
                exponents = right if isinstance(right, sympy.MatrixBase) else [right]
                if any(e.is_number and (abs(e) > MAX_EXPONENT) is not sympy.false for e in exponents):
                    raise self.fail(f"has an exponent larger than {MAX_EXPONENT} at {_excerpt(node)}")
            operation = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
                         ast.Div: lambda a, b: a / b, ast.Pow: lambda a, b: a**b}[type(node.op)]
            return self.entrywise(node, left, right, operation)
        if isinstance(node.op, ast.Add):
            return left + right
        if isinstance(node.op, ast.Sub):
            return left - right
        if isinstance(node.op, ast.Mult):
            return left * right
        if isinstance(node.op, ast.Div):
            if right == 0:
                raise self.fail(f"divides by zero at {_excerpt(node)}; write an expression that is finite")
            return left / right
        if right.is_number and (abs(right) > MAX_EXPONENT) is not sympy.false:
            raise self.fail(f"has the exponent {right} at {_excerpt(node)}; numeric exponents are limited to "
                            f"{MAX_EXPONENT} in absolute value")
        if left == 0 and right.is_negative:
            raise self.fail(f"divides by zero at {_excerpt(node)}; write an expression that is finite")
        return left**right

    def _Call(self, node: ast.Call) -> sympy.Expr:
        if not isinstance(node.func, ast.Name):
            raise self.fail(f"calls {_excerpt(node.func)}, which is not allowed; the functions are {_functions()}")
        name = self.renamed.get(node.func.id, node.func.id)
        if node.keywords:
            raise self.fail(f"passes keyword arguments to {name} ({_excerpt(node)}), which is not allowed; "
                            "pass the arguments by position")
        if name in self.names:
            raise self.fail(f"calls {name}, which is a name, not a function; write {name}*(...) for a product")
        if name.startswith("__"):
            raise self.fail(f"calls {name}, which is not allowed (no dunder names); the functions are {_functions()}")
        if name in MATRIX_FUNCTIONS:
            args = [self.build(arg) for arg in node.args]
            if len(args) != 1:
                raise self.fail(f"calls {name} with {len(args)} arguments; {name} takes one matrix")
            (value,) = args
            if not isinstance(value, sympy.MatrixBase):
                raise self.fail(f"calls {name} on a number ({_excerpt(node)}); {name} reduces a matrix block "
                                "(W:3x2)")
            if name == "trace" and value.rows != value.cols:
                raise self.fail(f"takes the trace of a {_shape(value)} matrix at {_excerpt(node)}; "
                                "the trace needs a square matrix")
            return MATRIX_FUNCTIONS[name](value)
        if name in SMOOTH:
            arity, function = 1, SMOOTH[name]
        elif name in NON_SMOOTH:
            arity, function = NON_SMOOTH[name]
        else:
            raise self.fail(f"calls the unknown function {name}; the functions are {_functions()}")
        args = [self.build(arg) for arg in node.args]
        if (arity is None and len(args) < 2) or (arity is not None and len(args) != arity):
            wanted = "at least 2 arguments" if arity is None else f"{arity} argument" + "s" * (arity != 1)
            raise self.fail(f"calls {name} with {len(args)} argument{'s' * (len(args) != 1)}; {name} takes {wanted}")
        matrices = [a for a in args if isinstance(a, sympy.MatrixBase)]
        if matrices and len(args) == 1:
            return matrices[0].applyfunc(function)
        if matrices:
            raise self.fail(f"calls {name} on a matrix with other arguments ({_excerpt(node)}); "
                            "apply it to numbers or to one matrix")
        try:
            return function(*args)
        except (ValueError, TypeError) as error:  # e.g. Max of a number SymPy cannot order
            raise self.fail(f"cannot evaluate {_excerpt(node)} ({error}); write a real, finite expression") from None


def _not_real(value: sympy.Expr) -> bool:
    """Whether ``value`` is certainly not real: it holds ``I``, or it is a
    number that SymPy knows to be non-real or, where SymPy cannot tell (as for
    ``(-1)**(pi/2)``), whose 30-digit value has an imaginary part."""
    if value.has(sympy.I):
        return True
    if not value.is_number or value.is_real:
        return False
    if value.is_real is False:
        return True
    return value.evalf(30, chop=True).as_real_imag()[1] != 0


def _group(node: ast.AST) -> str | None:
    """``"+"`` for a sum or difference, ``"*"`` for a product or quotient."""
    if isinstance(node, ast.BinOp):
        return "+" if isinstance(node.op, (ast.Add, ast.Sub)) else "*" if isinstance(node.op, (ast.Mult, ast.Div)) else None
    return None


def _depth(tree: ast.AST) -> int:
    """The nesting depth of ``tree``, a chain ``a + b - c + ...`` (or of
    products) counting once; iterative, so that deep trees do not recurse."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        for child in ast.iter_child_nodes(node):
            chained = isinstance(node, ast.BinOp) and child is node.left and _group(child) is not None \
                and _group(child) == _group(node)
            stack.append((child, depth if chained else depth + 1))
    return deepest


def _rename_keywords(text: str, names: Sequence[str]) -> tuple[str, dict[str, str]]:
    """Replace the Python keywords among ``names`` (``lambda``) by fresh
    identifiers, token by token; returns the new text and ``{new: old}``."""
    wanted = [n for n in names if keyword.iskeyword(n)]
    if not wanted or not any(re.search(rf"\b{n}\b", text) for n in wanted):
        return text, {}
    fresh = {}
    for name in wanted:
        candidate, k = f"{name}_", 0
        while re.search(rf"\b{candidate}\b", text) or candidate in names:
            k += 1
            candidate = f"{name}_{k}"
        fresh[name] = candidate
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    pieces, last = [], 0
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.NAME and token.string in fresh:
                start = offsets[token.start[0] - 1] + token.start[1]
                pieces += [text[last:start], fresh[token.string]]
                last = start + len(token.string)
    except (tokenize.TokenError, SyntaxError):
        return text, {}  # ast.parse reports the syntax error
    pieces.append(text[last:])
    return "".join(pieces), {new: old for old, new in fresh.items()}


def parse_expression(
    text: str,
    names: Mapping[str, sympy.Expr] | None = None,
    *,
    what: str = "the expression",
    unknown: str = "it is not one of the known names",
) -> sympy.Expr:
    r"""Parse ``text`` into a SymPy expression without executing it.

    ``names`` maps the allowed names to their values (the parameters' symbols);
    any other name is an error whose message ends with ``unknown`` (how to fix
    it). ``what`` starts every error message (``"the loss 'x**2+q'"``).
    Raises :class:`ExpressionError` and nothing else."""
    names = dict(names or {})
    if not isinstance(text, str):
        raise ExpressionError(f"{what} must be text, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"{what} is {len(text)} characters long; the limit is {MAX_LENGTH}")
    source, renamed = _rename_keywords(text.strip(), list(names))
    if not source:
        raise ExpressionError(f"{what} is empty; write an expression such as x**2")
    try:
        with warnings.catch_warnings():  # "invalid decimal literal" and the like: the error says it
            warnings.simplefilter("ignore")
            tree = ast.parse(source, mode="eval")
    except SyntaxError as error:
        where = f" at column {error.offset}" if error.offset and "\n" not in source else ""
        raise ExpressionError(f"{what} is not a valid expression ({error.msg}{where})") from None
    except (RecursionError, MemoryError):  # how CPython's parser reports a too deep nesting
        raise ExpressionError(f"{what} is nested too deeply to read; write it more simply") from None
    except (ValueError, OverflowError) as error:
        raise ExpressionError(f"{what} cannot be read: {str(error)[:80]}") from None
    if _depth(tree) > MAX_DEPTH:
        raise ExpressionError(f"{what} is nested more than {MAX_DEPTH} levels deep; write it more simply")
    builder = _Builder(names, renamed, what, unknown)
    try:
        result = builder.build(tree)
    except (RecursionError, MemoryError, OverflowError) as error:
        raise ExpressionError(f"{what} is too large to build ({type(error).__name__})") from None
    if isinstance(result, sympy.MatrixBase):
        if result.shape != (1, 1):
            raise ExpressionError(f"{what} is a {_shape(result)} matrix, not a number; reduce it, "
                                  "e.g. sum(M**2)/2 or trace(M.T @ M)/2")
        result = result[0, 0]
    if result.has(*_BAD_VALUES) or result.has(sympy.I):
        raise ExpressionError(f"{what} is not a finite real expression ({result}); write one that is")
    return result


def parse_number(text: str, what: str = "the value") -> sympy.Expr:
    """An exact real number from text such as ``0.9``, ``1/10``, ``-1e-8``,
    ``sqrt(2)/2`` or ``pi/4``; no names other than ``pi``."""
    value = parse_expression(text, what=f"{what} {text!r}" if isinstance(text, str) else what,
                             unknown="a number may use only digits, + - * / **, pi and functions such as sqrt")
    if value.free_symbols or not value.is_real:
        raise ExpressionError(f"{what} {text!r} is not a real number")
    return value


def parse_numbers(text: str, what: str = "the values") -> list[sympy.Expr]:
    """Comma-separated exact numbers (``"-1, 1/2, 3e-2"``)."""
    if not isinstance(text, str):
        raise ExpressionError(f"{what} must be text, got {type(text).__name__}")
    items = text.split(",")
    if not text.strip() or any(not item.strip() for item in items):
        raise ExpressionError(f"{what} must be comma-separated numbers such as 1,-2.5, got {text!r}")
    return [parse_number(item.strip(), f"{what}: the entry") for item in items]


def parse_names(text: str | Sequence[str], what: str = "the parameters") -> tuple[str, ...]:
    """Distinct names from ``"x,y"`` or ``["x", "y"]``: identifiers that are not
    dunder names, function names, ``True``/``False``/``None``. Python keywords
    such as ``lambda`` are ordinary names here."""
    if isinstance(text, str):
        if len(text) > MAX_LENGTH:
            raise ExpressionError(f"{what} are {len(text)} characters long; the limit is {MAX_LENGTH}")
        items = text.split(",")
    else:
        items = list(text)
        if not all(isinstance(item, str) for item in items):
            raise ExpressionError(f"{what} must be names (strings) such as 'x', 'y', got {text!r}")
    names = tuple(item.strip() for item in items)
    bad = [n for n in names if not n.isidentifier() or n in ("True", "False", "None")]
    if not names or bad:
        shown = f" ({', '.join(map(repr, bad))} is not a name)" if bad else ""
        raise ExpressionError(f"{what} must be comma-separated names such as x,y, got {text!r}{shown}")
    for name in names:
        if name.startswith("__"):
            raise ExpressionError(f"{what}: {name} is not allowed as a name (no dunder names); choose another")
        if name in SMOOTH or name in NON_SMOOTH:
            raise ExpressionError(f"{what}: {name} is a function name; choose another name")
    if len(set(names)) != len(names):
        raise ExpressionError(f"{what} must be distinct names, got {text!r}")
    return names
