r"""LaTeX printers for index-form fields, in the notation of "On the Implicit Bias of Adam".

* :class:`IndexLatexPrinter` — component :math:`j`: :math:`\nabla_j E`,
  :math:`D_1[X]_j = \sum_i \nabla_{ij} E\, X_i`, :math:`\tilde\theta_j`;
* :class:`VectorLatexPrinter` — whole vectors: :math:`\nabla E`,
  :math:`D_1[X] = \nabla^2 E\, X`, :math:`D_k[X_1..X_k] = \nabla^{k+1} E[X_1, \dots, X_k]`
  (products, quotients and powers of vectors are elementwise);
* :class:`MatrixLatexPrinter` — each parameter block :math:`W` (a layer) as a
  matrix: :math:`G = \nabla_W E`, :math:`H[X]` the Hessian applied to the
  direction :math:`X`, :math:`\|X\|_F` and :math:`\langle A, B\rangle = \operatorname{tr}(A^\top B)`
  from the block sums, :math:`\operatorname{msign}(X)`, :math:`D\operatorname{msign}(X)[Y]`,
  the shape scale :math:`s_W` (other products elementwise).

Both print the named quantities of :mod:`modeq.quantities`:
:math:`\nabla_j\|\nabla E\|^2`, :math:`\nabla_j\|\nabla E\|_1`,
:math:`\nabla_j\|\nabla E\|_{1,\varepsilon}` and the norms themselves. They are
SymPy printers: anything else (fractions, radicals, powers) is SymPy's own
LaTeX, with sums ordered as a person writes them (:math:`1-\beta`,
:math:`|\nabla_j E|^2 + \varepsilon`).
"""

from __future__ import annotations

from typing import Iterable

import sympy
from sympy.printing.latex import LatexPrinter

from ..algebra import ATOMS
from ..algebra.base import STEP
from ..algebra.index import BlockReduction, Contraction, Gradient, LossValue, MatrixDerivative
from ..optimizers.base import Optimizer
from ..optimizers.language import h
from ..quantities import named_gradient
from .notation import IndexNotation, map_arguments
from .symbols import SymbolNames

__all__ = ["IndexLatexPrinter", "VectorLatexPrinter", "MatrixLatexPrinter", "square_root"]


class IndexLatexPrinter(IndexNotation, LatexPrinter):
    r"""Index notation: the field's component :math:`j`."""

    printmethod = "_modeq_latex"

    def __init__(self, optimizer: Optimizer, names: SymbolNames, atoms=None) -> None:
        """``atoms`` is the atom table of the equation printed (the process-wide one by default)."""
        symbol_names = {hp.symbol: names[hp.name] for hp in optimizer.hyperparameters}
        symbol_names.update({h: names["h"], STEP: names["n"]})
        super().__init__({"symbol_names": symbol_names})
        self.atoms = ATOMS if atoms is None else atoms
        self.names = names
        self._index = names["j"]
        self._used = [names["j"]]
        self._bare = False
        #: The LaTeX name of each opaque function of time printed
        #: (:func:`modeq.printing.equation.printed_form`).
        self.functions: dict[sympy.FunctionClass, str] = {}

    # -- opaque functions of time -----------------------------------------------------

    def _print_Function(self, expr: sympy.Expr, exp=None) -> str:
        r""":math:`\eta(t)` for an opaque function of time, else SymPy's own."""
        if expr.func not in self.functions:
            return super()._print_Function(expr, exp)
        text = self._time_function(expr, 0)
        return text if exp is None else f"{text}^{{{exp}}}"

    def _print_Derivative(self, expr: sympy.Derivative) -> str:
        r""":math:`\eta'(t)`, :math:`\eta''(t)`, :math:`\eta^{(3)}(t)` for an opaque function of time."""
        inner = expr.expr
        if inner.func not in self.functions or set(expr.variables) != set(inner.args):
            return super()._print_Derivative(expr)
        return self._time_function(inner, expr.derivative_count)

    def _time_function(self, expr: sympy.Expr, order: int) -> str:
        primes = "'" * order if order < 3 else f"^{{({order})}}"
        return rf"{self.functions[expr.func]}{primes}\left({', '.join(map(self._print, expr.args))}\right)"

    # -- atoms ----------------------------------------------------------------------

    def _print_Symbol(self, expr: sympy.Symbol, style: str = "plain") -> str:
        if expr in self._settings["symbol_names"]:
            return self._settings["symbol_names"][expr]
        text = self._atom(expr)
        return super()._print_Symbol(expr, style) if text is None else text

    def _parenthesized(self, text: str) -> str:
        return rf"\left({text}\right)"

    def _loss(self, batch: int | None) -> str:
        return self.names["E"] if batch is None else f"{self.names['E']}_{{{batch}}}"

    def _theta(self) -> str:
        return rf"\tilde{{{self.names['theta']}}}_{{{self._index}}}"

    def _state(self, name: str) -> str:
        r""":math:`\tilde V_j`, a slow state on the modified flow."""
        return rf"\tilde{{{sympy.latex(sympy.Symbol(name))}}}_{{{self._index}}}"

    def _nabla(self) -> str:
        return rf"\nabla_{{{self._index}}}"

    def _at(self, index: str, expr: sympy.Expr, last: bool = False) -> str:
        """``expr`` printed for component ``index`` (parenthesized if a sum, or
        if a sum over an index that is not ``last`` in its product)."""
        text = self._at_component(index, expr, last)
        return rf"\left({text}\right)" if expr.is_Add else text

    def _contraction(self, definition: Contraction) -> str:
        with self._summed(len(definition.args)) as letters:
            last = len(definition.args) - 1
            args = [self._at(letter, arg, n == last) for n, (letter, arg) in enumerate(zip(letters, definition.args))]
        derivative = rf"\nabla_{{{''.join(letters)}{self._index}}} {self._loss(definition.loss)}"
        return rf"\sum_{{{','.join(letters)}}} {derivative}\, " + r"\, ".join(args)

    def _block_sum(self, arg: sympy.Expr) -> str:
        r""":math:`S_B[X]_j = \sum_{i \in B(j)} X_i` over the block of the current index."""
        with self._summed(1) as (letter,):
            return rf"\sum_{{{letter} \in B({self._index})}} {self._at(letter, arg)}"

    def _block_size(self) -> str:
        return rf"\lvert B({self._index})\rvert"

    def _matrix_map(self, definition: MatrixDerivative) -> str:
        r""":math:`D^k\operatorname{NS}[X_k][Y_k]_j`: the map of the block whose entries
        are :math:`X_k` (:math:`k` over the block of :math:`j`), its component :math:`j`."""
        with self._summed(1) as (letter,):
            args = [self._at(letter, a) for a in definition.arguments]
        return _matrix_head(definition, args) + f"_{{{self._index}}}"

    def _block_scale(self, rule: str) -> str:
        return rf"s_{{B({self._index})}}" if rule == "original" else rf"s^{{\mathrm{{{_rule(rule)}}}}}_{{B({self._index})}}"

    def _norm(self, kind: tuple, power: sympy.Expr = sympy.Integer(1)) -> str:
        name, batch, c = kind
        vector = rf"\nabla {self._loss(batch)}"
        if name == "2":
            exponent = 2 * power
            return rf"\lVert {vector}\rVert" + ("" if exponent == 1 else f"^{{{self._print(exponent)}}}")
        subscript = "1" if name == "1" else f"1,{self._print(c)}"
        base = rf"\lVert {vector}\rVert_{{{subscript}}}"
        return base if power == 1 else rf"{base}^{{{self._print(power)}}}"

    def _reduction(self, arg: sympy.Expr) -> str:
        with self._summed(1) as (letter,):
            return rf"\sum_{{{letter}}} {self._at(letter, arg)}"

    # -- powers and sums ------------------------------------------------------------

    def _print_Pow(self, expr: sympy.Pow) -> str:
        base, exponent = expr.as_base_exp()
        text = self._radical_power(base, exponent)
        if text is not None:
            return text
        if isinstance(base, sympy.Symbol) and named_gradient(base) is not None:
            # (\nabla_j Q)^2, not \nabla_j Q^2 (which is the gradient of Q^2)
            return rf"\left({self._print(base)}\right)^{{{self._print(exponent)}}}"
        definition = self.atoms.definition(base) if isinstance(base, sympy.Symbol) and base != self.atoms.time else None
        if isinstance(definition, Gradient) and exponent.is_Integer and exponent > 0:  # odd: even is |g|^k
            return rf"\left({self._print(base)}\right)^{{{exponent}}}"
        if (definition is not None and not isinstance(definition, LossValue)  # E^{2}, not (E)^{2}
                and exponent.is_Rational and exponent > 0 and exponent != sympy.S.Half):
            return rf"\left({self._print(base)}\right)^{{{self._print(exponent)}}}"
        return super()._print_Pow(expr)

    def _print_Abs(self, expr: sympy.Expr, exp=None) -> str:
        text = rf"\left\lvert {self._print(expr.args[0])}\right\rvert"
        return text if exp is None else f"{text}^{{{exp}}}"

    def _absolute(self, gradient: sympy.Symbol, exponent: sympy.Expr) -> str:
        text = rf"\left\lvert {self._print(gradient)}\right\rvert"
        return text if exponent == 1 else f"{text}^{{{self._print(exponent)}}}"

    def _print_NumberSymbol(self, expr: sympy.NumberSymbol) -> str:
        r""":math:`\pi` and SymPy's other constants in their own LaTeX (``printmethod``
        hides it: ``\text{\Pi}`` was printed for a cosine schedule's :math:`\pi`)."""
        return expr._latex(self)

    def _print_sign(self, expr: sympy.Expr, exp=None) -> str:
        return rf"\operatorname{{sign}}\left({self._print(expr.args[0])}\right)"

    def _as_ordered_terms(self, expr: sympy.Expr, order=None) -> list[sympy.Expr]:
        """Numbers first (:math:`1-\\beta`), then terms that vary with the
        component (:math:`|\\nabla_j E|^2 + \\varepsilon`), then the rest, each
        in SymPy's default order."""
        def key(term: sympy.Expr):
            rank = 0 if term.is_Number else 1 if self.atoms.is_component(term) else 2
            return rank, sympy.default_sort_key(term)

        return sorted(sympy.Add.make_args(expr), key=key)


class VectorLatexPrinter(IndexLatexPrinter):
    r"""Vector notation: :math:`\nabla^2 E\,\nabla E`, :math:`\nabla^3 E[\nabla E, \nabla E]`."""

    def _theta(self) -> str:
        return rf"\tilde{{{self.names['theta']}}}"

    def _state(self, name: str) -> str:
        return rf"\tilde{{{sympy.latex(sympy.Symbol(name))}}}"

    def _nabla(self) -> str:
        return r"\nabla "

    def _gradient(self, batch: int | None) -> str:
        return rf"\nabla {self._loss(batch)}"

    def _at(self, index: str, expr: sympy.Expr, last: bool = True) -> str:
        """Arguments of :math:`\\nabla^k E` are applied in order: no sum needs parentheses."""
        self._bare = isinstance(expr, sympy.Symbol)
        try:
            text = self._print(expr)
        finally:
            self._bare = False
        return rf"\left({text}\right)" if expr.is_Add else text

    def _block_sum(self, arg: sympy.Expr) -> str:
        r"""The vector whose entries are their block's sums: :math:`\operatorname{sum}_B(X)`."""
        return rf"\operatorname{{sum}}_{{B}}\left({self._at('', arg)}\right)"

    def _block_size(self) -> str:
        return r"\lvert B\rvert"

    def _matrix_map(self, definition: MatrixDerivative) -> str:
        return _matrix_head(definition, [self._at("", a) for a in definition.arguments])

    def _block_scale(self, rule: str) -> str:
        return r"s_{B}" if rule == "original" else rf"s^{{\mathrm{{{_rule(rule)}}}}}_{{B}}"

    def _contraction(self, definition: Contraction) -> str:
        loss = self._loss(definition.loss)
        args = [self._at("", arg) for arg in definition.args]
        if len(args) == 1:
            return rf"\nabla^{{2}} {loss}\, {args[0]}"
        return rf"\nabla^{{{len(args) + 1}}} {loss}\left[{', '.join(args)}\right]"

    def _reduction(self, arg: sympy.Expr) -> str:
        return rf"\sum_{{i}} \left({self._print(arg)}\right)_{{i}}"

    def _absolute(self, gradient: sympy.Symbol, exponent: sympy.Expr) -> str:
        """:math:`(\nabla E)^{2k}` for even powers; any other power of :math:`|\nabla E|` keeps its bars."""
        if exponent.is_Integer and exponent.is_even:
            return rf"\left({self._print(gradient)}\right)^{{{self._print(exponent)}}}"
        return super()._absolute(gradient, exponent)


class MatrixLatexPrinter(VectorLatexPrinter):
    r"""Matrix notation, one parameter block :math:`W` at a time: :math:`G`,
    :math:`H[X]`, :math:`\lVert X\rVert_F`, :math:`\langle A, B\rangle`,
    :math:`\operatorname{msign}(X)`, :math:`D\operatorname{NS}(X)[Y]`, :math:`s_W`.

    A block sum :math:`S_B[X^2]` is :math:`\lVert X\rVert_F^2` (its square root
    :math:`\lVert X\rVert_F`), :math:`S_B[AB]` is :math:`\langle A, B\rangle`,
    any other :math:`\operatorname{sum}_B(X)`; :math:`H[X] = \nabla^2 E\,X`
    contracts over every block, so the :math:`W` block of :math:`H[X]` depends
    on the other blocks' entries of :math:`X`."""

    def _gradient(self, batch: int | None) -> str:
        return "G" if batch is None else f"G_{{{batch}}}"

    def _contraction(self, definition: Contraction) -> str:
        if len(definition.args) != 1:
            return super()._contraction(definition)
        name = "H" if definition.loss is None else f"H_{{{definition.loss}}}"
        return rf"{name}\left[{self._at('', definition.args[0])}\right]"

    def _parenthesized(self, text: str) -> str:
        r""":math:`H[X]` and :math:`\nabla^{k+1} E[X_1, \dots]` close their own brackets."""
        return text

    def _block_sum(self, arg: sympy.Expr) -> str:
        root = square_root(arg)
        if root is not None:
            return self._frobenius(root, sympy.Integer(2))
        factors = _two_factors(arg)
        if factors is not None:
            return rf"\left\langle {self._print(factors[0])}, {self._print(factors[1])}\right\rangle"
        return super()._block_sum(arg)

    def _frobenius(self, root: sympy.Expr, exponent: sympy.Expr) -> str:
        text = rf"\left\lVert {self._print(root)}\right\rVert_{{F}}"
        return text if exponent == 1 else f"{text}^{{{self._print(exponent)}}}"

    def _print_Pow(self, expr: sympy.Pow) -> str:
        r""":math:`\lVert X\rVert_F^{2e}` for a power :math:`S_B[X^2]^e` (:math:`e > 0`; a negative one is a fraction)."""
        base, exponent = expr.as_base_exp()
        definition = self.atoms.definition(base) if isinstance(base, sympy.Symbol) else None
        if isinstance(definition, BlockReduction) and exponent.is_Rational and exponent > 0:
            root = square_root(definition.arg)
            if root is not None:
                return self._frobenius(root, 2 * exponent)
        return super()._print_Pow(expr)

    def _matrix_map(self, definition: MatrixDerivative) -> str:
        r""":math:`F(X)`, :math:`DF(X)[Y]`, :math:`D^kF(X)[Y_1, \dots, Y_k]`."""
        args = [self._at("", a) for a in definition.arguments]
        return _matrix_head(definition, args, ("(", ")"))

    def _block_scale(self, rule: str) -> str:
        return r"s_{W}" if rule == "original" else rf"s^{{\mathrm{{{_rule(rule)}}}}}_{{W}}"


def square_root(arg: sympy.Expr) -> sympy.Expr | None:
    r""":math:`X` with :math:`X^2 = ` ``arg`` exactly (every factor an even power,
    a positive rational a square), else ``None``."""
    factors = []
    for factor in sympy.Mul.make_args(arg):
        base, exponent = factor.as_base_exp()
        if factor.is_Rational:
            root = sympy.sqrt(factor)
            if factor <= 0 or not root.is_Rational:
                return None
            factors.append(root)
        elif exponent.is_Integer and exponent.is_even:
            factors.append(base ** (exponent / 2))
        else:
            return None
    return sympy.Mul(*factors)


def _two_factors(arg: sympy.Expr) -> tuple[sympy.Expr, sympy.Expr] | None:
    r"""``arg`` as a product :math:`AB` of two non-constant factors (:math:`g^3 = g\,g^2`), else ``None``."""
    factors = sympy.Mul.make_args(arg)
    if len(factors) >= 2 and not factors[0].is_Number:
        return factors[0], sympy.Mul(*factors[1:])
    base, exponent = arg.as_base_exp()
    if exponent.is_Integer and exponent > 1:
        return base, base ** (exponent - 1)
    return None


def join_factors(printer: IndexLatexPrinter, factors: Iterable[sympy.Expr]) -> str:
    """A product of factors, sums in parentheses when there is more than one factor."""
    factors = [f for f in factors if f != 1]
    texts = [printer._print(f) for f in factors]
    if len(factors) > 1:
        texts = [rf"\left({t}\right)" if f.is_Add else t for f, t in zip(factors, texts)]
    return " ".join(texts)


def _matrix_head(definition: MatrixDerivative, args: list[str], base: tuple[str, str] = ("[", "]")) -> str:
    r""":math:`F[X]`, :math:`DF[X][Y]`, :math:`D^kF[X][Y_1, \dots]` of printed arguments
    (``base``: the brackets of the point :math:`X`, parentheses in matrix notation)."""
    k = len(definition.directions)
    name = definition.map.latex if k == 0 else rf"D{'' if k == 1 else f'^{{{k}}}'} {definition.map.latex}"
    opening, closing = base
    point, directions = map_arguments(definition, args, (r"\left(", r"\right)"))
    return name + rf"\left{opening}{point}\right{closing}" + (rf"\left[{', '.join(directions)}\right]" if k else "")


def _rule(rule: str) -> str:
    return rule.replace("_", r"\_")
