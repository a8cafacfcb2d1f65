r"""Reading modeq's LaTeX back into index-form expressions: the proof that a
printed equation says what was derived.

:func:`parse_latex` reads what the printers of :mod:`modeq.printing.latex`
write, in either notation, with a grammar of its own (``lark``, LALR) and a
table of names of its own (built here from the optimizer's hyperparameters and
the user's renames, not from the printer), so it cannot share the printer's
mistakes. Its reading is the mathematical one:

* index notation — :math:`\nabla_x E` and :math:`\tilde\theta_x` are the
  component :math:`x` of the gradient and the iterate; a sum
  :math:`\sum_{i_1..i_k} \nabla_{i_1..i_k x} E\; X_{1,i_1}\cdots X_{k,i_k}`
  is the contraction :math:`D_k[X_1..X_k]` at component :math:`x`, and a sum
  :math:`\sum_i X_i` without a derivative of :math:`E` is the reduction
  :math:`S[X]`. A sum extends over the rest of its product (as in a paper);
  which factors it actually acts on is decided by their indices, so the
  reading does not depend on where the printer put factors that are constant
  in the summation index;
* vector notation — :math:`\nabla^2 E\, X = D_1[X]` (the rest of the
  product is :math:`X`), :math:`\nabla^{k+1} E[X_1, .., X_k] = D_k[X_1..X_k]`,
  :math:`\sum_i (X)_i = S[X]`, products and powers elementwise;
* matrix notation (parameter blocks; read as vector notation, and): :math:`G = \nabla E`,
  :math:`H[X] = D_1[X]`, :math:`\lVert X\rVert_F = S_B[X^2]^{1/2}`,
  :math:`\langle A, B\rangle = S_B[AB]`, :math:`F(X)` and :math:`D^kF(X)[Y_1, ..]` for the
  matrix maps, :math:`s_W`, the parameters :math:`\tilde W` (unless renamed);
* named quantities by their definitions: :math:`\|\nabla E\|^2 = S[g^2]`,
  :math:`\|\nabla E\| = S[g^2]^{1/2}`, :math:`\|\nabla E\|_1 = S[|g|]`,
  :math:`\|\nabla E\|_{1,c} = S[\sqrt{g^2 + c}]`, and the gradient of a
  function :math:`F` of them by the chain rule,
  :math:`\nabla_j F = \sum_Q \partial_Q F\, D_1[\varphi_Q'(g)]` with
  :math:`\varphi' = 2g,\ \operatorname{sign} g,\ g/\sqrt{g^2+c}`;
* :math:`|x| = \sqrt{x^2}` (the form the derivation produces for real
  :math:`x`).

:func:`round_trip` prints an equation, reads it back and compares each power
of :math:`h` with the derived term by an exact test in a polynomial ring
(:mod:`~modeq.algebra.exact`, about linear in the size of the terms), after
rebuilding every atom from its definition; it returns the terms that differ.
Reading is linear too: LALR, and each sum built once from all its terms.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Mapping

import sympy
from sympy.core.function import AppliedUndef
from lark import Lark, Token, v_args
from lark.visitors import Transformer_NonRecursive
from lark.exceptions import LarkError, VisitError

from ..algebra import ATOMS, exact
from ..algebra.base import STEP
from ..algebra.index import (BlockReduction, BlockScale, BlockSize, Contraction, Gradient, LossValue, MatrixDerivative,
                             Reduction, distribute)
from ..algebra import kronecker
from ..algebra.matrix_maps import DEFAULT_MAPS, SHAPE_RULES, MatrixMap
from ..optimizers.language import h

#: The parameters' name in matrix notation, a block :math:`W`, unless the user renamed ``theta``
#: (the reader's own table, as for every name).
MATRIX_THETA = "W"

if TYPE_CHECKING:
    from ..terms import EquationTerms
    from ..optimizers.base import Optimizer

__all__ = ["parse_latex", "parse_system", "LatexReadError", "RoundTripFailure", "round_trip", "same_field"]


class LatexReadError(ValueError):
    """Text that is not modeq's LaTeX notation."""


#: The grammar; ``NAME``, ``THETA``, ``LOSS``, ``LHS``, ``STATE``, ``STATE_LHS``,
#: ``TIME_FUNCTION`` and ``FUNCTION_LHS`` are filled in from the table of names
#: (they depend on the optimizer, the user's renames, the equation's slow
#: states and the functions of time it defines).
GRAMMAR = r"""
start: LHS? sum ((STATE_LHS | FUNCTION_LHS) sum)*

// a sum is one flat list of terms (a left-recursive rule would add them one at a time)
?sum: signed
    | signed (PLUS product | MINUS product)+   -> terms
?signed: product
       | MINUS product      -> neg
PLUS: "+"
MINUS: "-"

product: factor+
       | factor* bigop
bigop: SUM product                  -> summation
     | BLOCK_SUM product            -> block_summation
     | HESS LOSS product            -> hessian

?factor: primary
       | primary "^" primary        -> power

?primary: NUMBER                    -> number
    | PI                            -> pi
    | EULER                         -> euler
    | NAME                          -> name
    | LOSS                          -> loss_value
    | THETA                         -> theta
    | STATE                         -> state
    | TIME_FUNCTION                 -> time_function
    | BLOCK_SIZE                    -> block_size
    | "\\operatorname{sum}_{B}" "\\left(" sum "\\right)"  -> block_sum
    | NABLA_SUB LOSS                -> nabla_sub
    | NABLA LOSS                    -> nabla
    | NABLA_SUB norm                -> nabla_sub_norm
    | NABLA norm                    -> nabla_norm
    | NABLA_SUB norm "^" primary    -> nabla_sub_norm_power
    | NABLA norm "^" primary        -> nabla_norm_power
    | norm
    | HESS LOSS "\\left[" sum ("," sum)+ "\\right]"  -> hessian_bracket
    | MATRIX_MAP "\\left[" sum ("," sum)* _close                       -> matrix_value
    | MATRIX_MAP "\\left[" sum ("," sum)* "\\right]" "\\left[" sum ("," sum)* _close  -> matrix_derivative
    | BLOCK_SCALE                   -> block_scale
    | GRAD                          -> matrix_gradient
    | HESSIAN_MAP "\\left[" sum "\\right]"                              -> hessian_map
    | MATRIX_MAP "\\left(" sum ("," sum)* "\\right)"                   -> matrix_call
    | MATRIX_MAP "\\left(" sum ("," sum)* "\\right)" "\\left[" sum ("," sum)* "\\right]"  -> matrix_call_derivative
    | "\\left\\lVert" sum "\\right\\rVert_{F}"                          -> frobenius
    | "\\left\\langle" sum "," sum "\\right\\rangle"                      -> inner
    | "{" sum "}"
    | "\\left(" sum "\\right)"
    | "\\left(" sum PAREN_SUB      -> component
    | "\\left(" sum ("," sum)+ "\\right)"  -> direction_tuple
    | "\\left\\lvert" sum "\\right\\rvert"  -> absolute
    | "\\frac" "{" sum "}" "{" sum "}"      -> fraction
    | "\\sqrt" "{" sum "}"          -> sqrt
    | "\\sqrt" "[" NUMBER "]" "{" sum "}"   -> root
    | "\\operatorname{sign}" "\\left(" sum "\\right)"  -> sign
    | FUNCTION "{" "\\left(" sum "\\right)" "}"       -> function
    | FUNCTION "\\left(" sum "\\right)"               -> function

_close: "\\right]" | BRACKET_SUB

norm: "\\lVert" NABLA LOSS "\\rVert"                          -> norm2
    | "\\lVert" NABLA LOSS "\\rVert" "_{" NUMBER "}"          -> norm1
    | "\\lVert" NABLA LOSS "\\rVert" "_{" NUMBER "," sum "}"  -> norm1c

SUM: /\\sum_\{[^}]*\}/
BLOCK_SUM.2: /\\sum_\{\s*(\\[a-zA-Z]+|[a-zA-Z])\s*\\in\s*B\(\s*(\\[a-zA-Z]+|[a-zA-Z])\s*\)\s*\}/
BLOCK_SIZE: /\\lvert\s*B(\(\s*(\\[a-zA-Z]+|[a-zA-Z])\s*\))?\s*\\rvert/
HESS: /\\nabla\^\{\d+\}/
NABLA_SUB: /\\nabla_\{[^}]*\}/
NABLA: /\\nabla(?![a-zA-Z_^])/
PAREN_SUB: /\\right\)_\{[^}]*\}/
BRACKET_SUB: /\\right\]_\{[^}]*\}/
BLOCK_SCALE.3: /s(\^\{\\mathrm\{[^}]*\}\})?_\{\s*(B(\(\s*(\\[a-zA-Z]+|[a-zA-Z])\s*\))?|W)\s*\}/
NUMBER: /\d+(\.\d+)?/
PI: /\\pi(?![a-zA-Z])/
EULER: /e(?![a-zA-Z])/
FUNCTION: /\\(log|exp|tanh|sinh|cosh|sin|cos|atan|arctan)(?![a-zA-Z])/
WS: /(\s|\\[,;:! ]|\\q?quad(?![a-zA-Z])|\\cdot(?![a-zA-Z])|&|\\\\)+/
%ignore WS
"""

_FUNCTIONS = {"log": sympy.log, "exp": sympy.exp, "tanh": sympy.tanh, "sinh": sympy.sinh, "cosh": sympy.cosh,
              "sin": sympy.sin, "cos": sympy.cos, "atan": sympy.atan, "arctan": sympy.atan}


def _literal(latex: str) -> str:
    """A regular expression for the LaTeX ``latex``, which must not run on into a longer name."""
    pattern = re.escape(latex)
    return pattern + "(?![a-zA-Z])" if latex[-1].isalpha() else pattern


#: The left-hand side of a function of time's definition, ``, \qquad \eta\left(t\right) =``
#: (``{time}``: the time's LaTeX): a LaTeX command, perhaps with a subscript.
_DEFINITION = r",\s*(?:\\qquad\s*)?(\\[a-zA-Z]+(?:_\{{[^{{}}]*\}})?)\\left\(\s*{time}\s*\\right\)\s*="


@lru_cache(maxsize=32)
def _parser(names: tuple[str, ...], theta: str, loss: str, lhs: str, states: tuple[str, ...] = (),
            maps: tuple[str, ...] = (), functions: tuple[str, ...] = (), time: str = "t", matrix: bool = False) -> Lark:
    state = "|".join(re.escape(name) for name in states) or "(?!)"
    function = "|".join(re.escape(name) for name in sorted(functions, key=len, reverse=True)) or "(?!)"
    at_time = rf"\\left\(\s*{re.escape(time)}\s*\\right\)"
    terminals = [
        # \eta\left(t\right), \eta'\left(t\right), \eta^{(3)}\left(t\right): an opaque function of time and its derivatives
        rf"TIME_FUNCTION.3: /({function})('+|\^\{{\(\d+\)\}})?{at_time}/",
        # its definition follows the equations: , \qquad \eta\left(t\right) = ...
        rf"FUNCTION_LHS.2: /,\s*(\\qquad\s*)?({function}){at_time}\s*=/",
        # D^{k} \operatorname{NS}: the k-th derivative of a matrix map (k = 0 without the D)
        rf"MATRIX_MAP.3: /(D(\^\{{\d+\}})?\s*)?({'|'.join(_literal(m) for m in sorted(maps, key=len, reverse=True)) or '(?!)'})/",
        rf"STATE: /\\tilde\{{({state})\}}(_\{{[^}}]*\}})?/",
        # a slow state's own equation follows theta's: , \qquad \dot{\tilde{V}_{j}} = ...
        rf"STATE_LHS.2: /,\s*(\\qquad\s*)?\\dot\{{\\tilde\{{({state})\}}(_\{{[^}}]*\}})?\}}\s*=/",
        # a name such as E^{\star} (Polyak's target value) outranks the loss E it begins with
        f"NAME.2: /{'|'.join(_literal(n) for n in sorted(names, key=len, reverse=True))}/" if names else "NAME: /(?!)/",
        rf"THETA: /\\tilde\{{{re.escape(theta)}\}}(_\{{[^}}]*\}})?/",
        rf"LOSS: /{_literal(loss)}(_\{{\d+\}})?/",
        rf"LHS: /\\dot\{{\\tilde\{{{re.escape(theta)}\}}\}}(_\{{{re.escape(lhs)}\}})?\s*=/",
        # matrix notation: the gradient block G (G_{b} of batch b) and the Hessian map H[X]
        r"GRAD: /G(_\{\d+\})?(?![a-zA-Z])/" if matrix else "GRAD: /(?!)G/",
        r"HESSIAN_MAP: /H(_\{\d+\})?(?![a-zA-Z])/" if matrix else "HESSIAN_MAP: /(?!)H/",
    ]
    return Lark(GRAMMAR + "\n".join(terminals), parser="lalr", lexer="contextual", maybe_placeholders=False)


def _state_name(token: str, names) -> str:
    r"""The state's name in a token ``\tilde{name}…`` (the longest of ``names`` that fits: a name
    may hold braces itself, as ``L_{0}``)."""
    return next(n for n in sorted(names, key=len, reverse=True) if "\\tilde{" + n + "}" in token)


def _index_letters(subscript: str) -> list[str]:
    """The indices of a subscript such as ``{ikj}`` or ``{\\mu i}``."""
    return re.findall(r"\\[a-zA-Z]+|[a-zA-Z]", subscript)


def _subscript(token: str) -> str:
    """What stands in the last ``_{…}`` (or ``^{…}``) of a token."""
    start = max(token.rfind("_{"), token.rfind("^{"))
    return token[start + 2 : token.rindex("}")]


class _Mixed(Exception):
    """A factor of a summand depends on several indices (distribute, then retry)."""


@dataclass(frozen=True)
class _Tensor:
    r""":math:`\nabla_{i_1..i_k x} E_b`: summed ``indices`` and the free index ``free``."""

    indices: tuple[str, ...]
    free: str
    loss: int | None


@v_args(inline=True)
class _Reader(Transformer_NonRecursive):
    """Evaluates the parse tree bottom up (without recursion: nested sums, products and
    fractions make deep trees; NAdam's order 3 exceeded Python's recursion limit when a sum
    was a tree as deep as its number of terms).

    A component atom at an index :math:`x` other than the free index stands
    as a *tagged* copy of the atom's symbol; a sum over :math:`x` turns the
    factors tagged :math:`x` back into the atoms it contracts or reduces.
    """

    def __init__(self, table: Mapping[str, sympy.Expr], free: str, vector: bool, atoms,
                 states: Mapping[str, sympy.Symbol], maps: Mapping[str, tuple[MatrixMap, ...]],
                 matrix: bool = False) -> None:
        super().__init__()
        #: matrix notation (vector notation with G, H[X], norms and inner products of blocks)
        self.matrix = matrix
        self.table = table
        self.maps = maps
        self.states = states
        self.free = free
        self.vector = vector
        self.atoms = atoms
        self.tags: dict[sympy.Symbol, tuple[sympy.Symbol, str]] = {}
        self.tagged: dict[tuple[sympy.Symbol, str], sympy.Symbol] = {}
        self.tensors: dict[sympy.Symbol, _Tensor] = {}
        #: The functions of time the text defines, by their LaTeX name.
        self.functions: dict[str, sympy.FunctionClass] = {}

    # -- indices --------------------------------------------------------------------

    def tag(self, expr: sympy.Expr, index: str) -> sympy.Expr:
        """``expr`` (in bare atoms) at component ``index``."""
        if index == self.free:
            return expr
        mapping = {}
        for s in expr.free_symbols:
            if s in self.atoms.component:
                key = (s, index)
                if key not in self.tagged:
                    symbol = sympy.Dummy(f"{s.name}@{index}")
                    self.tagged[key], self.tags[symbol] = symbol, key
                mapping[s] = self.tagged[key]
        return expr.xreplace(mapping)

    def untag(self, expr: sympy.Expr, index: str) -> sympy.Expr:
        return expr.xreplace({s: self.tags[s][0] for s in expr.free_symbols if s in self.tags and self.tags[s][1] == index})

    def indices(self, expr: sympy.Expr) -> set[str]:
        """The component indices ``expr`` depends on (the free one included)."""
        found = set()
        for s in expr.free_symbols:
            if s in self.tags:
                found.add(self.tags[s][1])
            elif s in self.tensors:
                found.update(self.tensors[s].indices + (self.tensors[s].free,))
            elif s in self.atoms.component:
                found.add(self.free)
        return found

    def _batch(self, loss: str) -> int | None:
        return int(_subscript(loss)) if "_" in loss else None

    def gradient(self, batch: int | None) -> sympy.Symbol:
        return self.atoms.intern(Gradient(batch))

    # -- the sums ---------------------------------------------------------------------

    def summation(self, token: Token, body: sympy.Expr) -> sympy.Expr:
        letters = _index_letters(_subscript(token))
        if self.free in letters:
            raise LatexReadError(f"the sum {token} runs over the free index {self.free}")
        total = []
        for term in sympy.Add.make_args(body):
            try:
                total.append(self._sum_term(letters, term, token))
            except _Mixed:
                total += [self._sum_term(letters, t, token, strict=True) for t in sympy.Add.make_args(distribute(term))]
        return sympy.Add(*total)

    def _sum_term(self, letters: list[str], term: sympy.Expr, token: str, strict: bool = False) -> sympy.Expr:
        outside, inside = [], {letter: [] for letter in letters}
        tensors = []
        for factor in sympy.Mul.make_args(term):
            if factor in self.tensors:
                tensors.append(self.tensors[factor])
                continue
            used = self.indices(factor)
            if used.isdisjoint(letters):
                outside.append(factor)
            elif len(used) == 1:
                inside[used.pop()].append(factor)
            elif not strict:
                raise _Mixed
            else:
                raise LatexReadError(f"a factor of the sum {token} mixes the indices {', '.join(sorted(used))}: {factor}")
        args = {letter: self.untag(sympy.Mul(*inside[letter]), letter) for letter in letters}
        summed = [t for t in tensors if set(letters) & set(t.indices)]
        if not summed:
            if len(letters) != 1:
                raise LatexReadError(f"the sum {token} over several indices has no derivative of the loss to contract with")
            (letter,) = letters
            return sympy.Mul(*outside, *(self._tensor_symbol(t) for t in tensors)) * self.atoms.reduction(args[letter])
        if len(summed) > 1 or set(summed[0].indices) != set(letters):
            raise LatexReadError(f"the sum {token} does not match the indices of its derivative of the loss")
        (tensor,) = summed
        rest = [self._tensor_symbol(t) for t in tensors if t is not tensor]
        contraction = self.atoms.contraction([args[letter] for letter in tensor.indices], tensor.loss)
        return sympy.Mul(*outside, *rest) * self.tag(contraction, tensor.free)

    def _tensor_symbol(self, tensor: _Tensor) -> sympy.Symbol:
        for s, t in self.tensors.items():
            if t == tensor:
                return s
        raise AssertionError(tensor)

    def block_summation(self, token: Token, body: sympy.Expr) -> sympy.Expr:
        r""":math:`\sum_{k \in B(i)} X_k = S_B[X]_i`: the block sum at the owner index
        :math:`i`; factors constant in :math:`k` stand outside, as in any sum."""
        letter, owner = _index_letters(re.sub(r"\\in\b|\bB\(", " ", _subscript(token)))
        if letter in (self.free, owner):
            raise LatexReadError(f"the block sum {token} runs over the index {letter}, which is not free to sum over")
        total = []
        for term in sympy.Add.make_args(body):
            try:
                total.append(self._block_term(letter, owner, term, token))
            except _Mixed:
                total += [self._block_term(letter, owner, t, token, strict=True)
                          for t in sympy.Add.make_args(distribute(term))]
        return sympy.Add(*total)

    def _block_term(self, letter: str, owner: str, term: sympy.Expr, token: str, strict: bool = False) -> sympy.Expr:
        outside, inside = [], []
        for factor in sympy.Mul.make_args(term):
            if factor in self.tensors:
                if letter in self.tensors[factor].indices + (self.tensors[factor].free,):
                    raise LatexReadError(f"the block sum {token} runs over an index of a derivative of the loss")
                outside.append(factor)
                continue
            used = self.indices(factor)
            if letter not in used:
                outside.append(factor)
            elif used == {letter}:
                inside.append(factor)
            elif not strict:
                raise _Mixed
            else:
                raise LatexReadError(f"a factor of the block sum {token} mixes the indices {', '.join(sorted(used))}: {factor}")
        summed = self.atoms.block_reduction(self.untag(sympy.Mul(*inside), letter))
        return sympy.Mul(*outside) * self.tag(summed, owner)

    def hessian(self, token: Token, loss: Token, body: sympy.Expr) -> sympy.Expr:
        if token != r"\nabla^{2}":
            raise LatexReadError(f"{token} {loss} needs its arguments in brackets: {token} {loss}\\left[X, Y\\right]")
        return self.atoms.contraction([body], self._batch(loss))

    def hessian_bracket(self, token: Token, loss: Token, *args: sympy.Expr) -> sympy.Expr:
        if int(_subscript(token)) != len(args) + 1:
            raise LatexReadError(f"{token} {loss} takes {int(_subscript(token)) - 1} arguments, got {len(args)}")
        return self.atoms.contraction(list(args), self._batch(loss))

    # -- matrix maps (Muon) ---------------------------------------------------------------

    def matrix_value(self, token: Token, *rest) -> sympy.Expr:
        return self._matrix(token, [r for r in rest if not isinstance(r, Token)], [r for r in rest if isinstance(r, Token)])

    matrix_derivative = matrix_value

    def direction_tuple(self, *blocks: sympy.Expr) -> sympy.Tuple:
        r""":math:`(Y, A, B)`: a direction of a map of several blocks (Shampoo's)."""
        return sympy.Tuple(*blocks)

    def _matrix(self, token: Token, args: list, close: list[Token]) -> sympy.Expr:
        r""":math:`D^kF\left[X_i\right]\left[Y_{1,i}, \dots\right]_x`: the :math:`k`-th
        derivative of the map :math:`F` at the block whose entries are :math:`X_i`
        (:math:`i` running over the block of :math:`x`), applied to the directions,
        at component :math:`x`. Index notation writes the arguments at one
        summation letter :math:`i` and the component :math:`x` after the last
        bracket; vector notation writes neither."""
        head = re.match(r"D(\^\{(\d+)\})?\s*", token)
        k, name = (0, str(token)) if head is None else (int(head.group(2) or 1), token[head.end():])
        fmap = self._map(name)
        a = fmap.arity
        if len(args) < a or any(isinstance(y, sympy.Tuple) for y in args[:a]):
            raise LatexReadError(f"{name} is a map of {a} block(s): write its point as {a} argument(s)")
        directions = args[a:]
        if k != len(directions):
            raise LatexReadError(f"{token} takes {k} direction(s), got {len(directions)}")
        if any(not (isinstance(y, sympy.Tuple) and len(y) == a) if a > 1 else isinstance(y, sympy.Tuple) for y in directions):
            raise LatexReadError(f"each direction of {name} is {'a tuple of ' + str(a) + ' blocks' if a > 1 else 'one block'}")
        if self.vector:
            if close:
                raise LatexReadError(f"{token} has the component index {_subscript(close[0])} in vector notation")
            return self.atoms.matrix_derivative(fmap, sympy.Tuple(*args[:a]) if a > 1 else args[0], directions)
        if not close:
            raise LatexReadError(rf"{token}\left[..\right] needs its component index in index notation: \right]_{{{self.free}}}")
        used = set().union(*(self.indices(a) for a in args))
        if len(used) > 1 or used == {self.free}:
            raise LatexReadError(f"the arguments of {token} must be written at one summation index (not {self.free}), "
                                 f"they use {', '.join(sorted(used))}")
        if used:
            (letter,) = used
            args = [self.untag(a, letter) for a in args]
        value = self.atoms.matrix_derivative(fmap, sympy.Tuple(*args[:a]) if a > 1 else args[0], args[a:])
        return self.tag(value, _subscript(close[0]))

    def _map(self, name: str) -> MatrixMap:
        """The map printed as ``name``: the one of this table (the printed name
        does not show a map's parameters, such as Newton–Schulz's number of steps)."""
        found = self.maps.get(name, ())
        if len(found) != 1:
            raise LatexReadError(f"{name} names {len(found)} different matrix maps in this atom table; "
                                 "read the text with the atoms of the equation it was printed from")
        return found[0]

    def block_scale(self, token: Token) -> sympy.Expr:
        r""":math:`s_{B(x)}` (:math:`s_B` in vector notation), Muon's step scaling
        :math:`s(m, k)` of the block of component :math:`x`; a rule other than
        ``original`` is written as a superscript, :math:`s^{\mathrm{rule}}_{B(x)}`."""
        match = re.match(r"s(\^\{\\mathrm\{([^}]*)\}\})?_\{\s*(W|B(\(\s*(\\[a-zA-Z]+|[a-zA-Z])\s*\))?)", token)
        rule = "original" if match.group(2) is None else match.group(2).replace(r"\_", "_")
        if rule not in SHAPE_RULES:
            raise LatexReadError(f"{token}: unknown block scaling {rule!r}; modeq's are {', '.join(SHAPE_RULES)}")
        if (match.group(3) == "W") != self.matrix:
            raise LatexReadError(f"{token}: the scale of a block is s_{{W}} in matrix notation and only there")
        return self._component_atom(self.atoms.intern(BlockScale(rule)), token, match.group(5))

    # -- matrix notation ------------------------------------------------------------------

    def _matrix_only(self, what: str) -> None:
        if not self.matrix:
            raise LatexReadError(f"{what} is matrix notation; read the text with notation='matrix'")

    def matrix_gradient(self, token: Token) -> sympy.Expr:
        r""":math:`G` (:math:`G_b`), the gradient block: :math:`\nabla E` (of the loss of batch :math:`b`)."""
        self._matrix_only(str(token))
        return self.gradient(int(_subscript(token)) if "_" in token else None)

    def hessian_map(self, token: Token, x: sympy.Expr) -> sympy.Expr:
        r""":math:`H[X] = \nabla^2 E\, X = D_1[X]` (:math:`H_b` for the loss of batch :math:`b`)."""
        self._matrix_only(str(token))
        return self.atoms.contraction([x], int(_subscript(token)) if "_" in token else None)

    def matrix_call(self, token: Token, *args: sympy.Expr) -> sympy.Expr:
        r""":math:`F(X)`, a matrix map of the block :math:`X` (:math:`F(X, A, B)` of several),
        and :math:`D^kF(X)[Y_1, \dots, Y_k]`."""
        self._matrix_only(rf"{token}\left(..\right)")
        return self._matrix(token, list(args), [])

    matrix_call_derivative = matrix_call

    def frobenius(self, x: sympy.Expr) -> sympy.Expr:
        r""":math:`\lVert X\rVert_F = \sqrt{S_B[X^2]}`, the Frobenius norm of the block."""
        self._matrix_only(r"\lVert X\rVert_{F}")
        return sympy.sqrt(self.atoms.block_reduction(x**2))

    def inner(self, a: sympy.Expr, b: sympy.Expr) -> sympy.Expr:
        r""":math:`\langle A, B\rangle = \operatorname{tr}(A^\top B) = S_B[AB]`."""
        self._matrix_only(r"\langle A, B\rangle")
        return self.atoms.block_reduction(a * b)

    # -- atoms ------------------------------------------------------------------------

    def number(self, token: Token) -> sympy.Expr:
        return sympy.Rational(str(token))

    def pi(self, token: Token) -> sympy.Expr:
        return sympy.pi

    def euler(self, token: Token) -> sympy.Expr:
        r""":math:`e` (SymPy writes :math:`\exp x` as :math:`e^{x}`)."""
        return sympy.E

    def name(self, token: Token) -> sympy.Expr:
        return self.table[str(token)]

    def time_function(self, token: Token) -> sympy.Expr:
        r""":math:`\eta(t)` or its derivative :math:`\eta^{(k)}(t)` (primes or ``^{(k)}``)."""
        name, primes, order = re.match(r"(\\[a-zA-Z]+(?:_\{[^{}]*\})?)('+|\^\{\((\d+)\)\})?", str(token)).groups()
        value = self.functions[name](ATOMS.time)
        k = int(order) if order else len(primes or "")
        return sympy.Derivative(value, (ATOMS.time, k)) if k else value

    def loss_value(self, token: Token) -> sympy.Expr:
        return self.atoms.intern(LossValue(self._batch(token)))

    def block_size(self, token: Token) -> sympy.Expr:
        r""":math:`|B(i)|` (index notation; :math:`|B|` in vector notation), the size of a block."""
        index = _index_letters(token[token.index("(") + 1 : token.rindex(")")])[0] if "(" in token else None
        return self._component_atom(self.atoms.intern(BlockSize()), token, index)

    def block_sum(self, x: sympy.Expr) -> sympy.Expr:
        if not self.vector:
            raise LatexReadError(r"\operatorname{sum}_{B} is vector notation; index notation writes \sum_{i \in B(j)}")
        return self.atoms.block_reduction(x)

    def state(self, token: Token) -> sympy.Expr:
        r""":math:`\tilde V_x`, the slow state ``V`` at component :math:`x` (:math:`\tilde V` in vector notation)."""
        name = _state_name(token, self.states)
        rest = token[token.index(name) + len(name) + 1:]  # after the name and the brace closing it
        return self._component_atom(self.states[name], token, _subscript(rest) if "_" in rest else None)

    def theta(self, token: Token) -> sympy.Expr:
        return self._component_atom(self.atoms.theta, token, _subscript(token) if "_" in token else None)

    def _component_atom(self, symbol: sympy.Symbol, token: Token, index: str | None) -> sympy.Expr:
        """A component atom written with its ``index`` (index notation) or without one (vector notation)."""
        if self.vector:
            if index is not None:
                raise LatexReadError(f"{token} has an index in vector notation")
            return symbol
        if index is None:
            raise LatexReadError(f"{token} needs its component index in index notation")
        return self.tag(symbol, index)

    def nabla_sub(self, token: Token, loss: Token) -> sympy.Expr:
        if self.vector:
            raise LatexReadError(f"{token} is index notation, but this text is in vector notation")
        letters = _index_letters(_subscript(token))
        batch = self._batch(loss)
        if len(letters) == 1:
            return self.tag(self.gradient(batch), letters[0])
        tensor = _Tensor(tuple(letters[:-1]), letters[-1], batch)
        symbol = sympy.Dummy(f"nabla_{''.join(letters)}")
        self.tensors[symbol] = tensor
        return symbol

    def nabla(self, token: Token, loss: Token) -> sympy.Expr:
        if not self.vector:
            raise LatexReadError(rf"\nabla {loss} needs its component index in index notation")
        return self.gradient(self._batch(loss))

    def _gradient_of(self, scalar: sympy.Expr, index: str) -> sympy.Expr:
        r""":math:`\nabla_x F(S_1, \dots)` by the chain rule over the reduction atoms."""
        total = sympy.Integer(0)
        for s in scalar.free_symbols:
            definition = self.atoms.definition(s)
            if not isinstance(definition, Reduction):
                raise LatexReadError(f"cannot take the gradient of {scalar}")
            (g,) = [a for a in definition.arg.free_symbols if isinstance(self.atoms.definition(a), Gradient)]
            phi = definition.arg
            derivative = sympy.sign(g) if phi == sympy.sqrt(g**2) else sympy.diff(phi, g)
            inner = self.atoms.contraction([derivative], self.atoms.definition(g).loss)
            total += sympy.diff(scalar, s) * inner
        return self.tag(total, index)

    def nabla_sub_norm(self, token: Token, norm: sympy.Expr) -> sympy.Expr:
        (index,) = _index_letters(_subscript(token))
        return self._gradient_of(norm, index)

    def nabla_norm(self, token: Token, norm: sympy.Expr) -> sympy.Expr:
        return self._gradient_of(norm, self.free)

    def nabla_sub_norm_power(self, token: Token, norm: sympy.Expr, exponent: sympy.Expr) -> sympy.Expr:
        return self.nabla_sub_norm(token, self._norm_power(norm, exponent))

    def nabla_norm_power(self, token: Token, norm: sympy.Expr, exponent: sympy.Expr) -> sympy.Expr:
        return self.nabla_norm(token, self._norm_power(norm, exponent))

    @staticmethod
    def _norm_power(norm: sympy.Expr, exponent: sympy.Expr) -> sympy.Expr:
        # the 2-norm reads as the square root of S[g^2]: its powers multiply
        return norm**exponent

    def _reduction(self, loss: Token, phi) -> sympy.Expr:
        g = self.gradient(self._batch(loss))
        return self.atoms.reduction(phi(g))

    def norm2(self, nabla: Token, loss: Token) -> sympy.Expr:
        return sympy.sqrt(self._reduction(loss, lambda g: g**2))

    def norm1(self, nabla: Token, loss: Token, one: Token) -> sympy.Expr:
        if one != "1":
            raise LatexReadError(rf"unknown norm \lVert\nabla E\rVert_{{{one}}}")
        return self._reduction(loss, lambda g: sympy.sqrt(g**2))

    def norm1c(self, nabla: Token, loss: Token, one: Token, c: sympy.Expr) -> sympy.Expr:
        if one != "1":
            raise LatexReadError(rf"unknown norm \lVert\nabla E\rVert_{{{one},c}}")
        return self._reduction(loss, lambda g: sympy.sqrt(g**2 + c))

    # -- arithmetic ---------------------------------------------------------------------

    def start(self, *children) -> dict[str, sympy.Expr]:
        """Each equation's right-hand side: ``"theta"``'s, then each slow state's by its name."""
        sides, key = {}, "theta"
        for child in children:
            if isinstance(child, Token):
                if child.type == "STATE_LHS":
                    key = _state_name(child, self.states)
                elif child.type == "FUNCTION_LHS":
                    key = re.search(r"(\\[a-zA-Z]+(?:_\{[^{}]*\})?)\\left", child).group(1) + "(t)"
            else:
                sides[key] = child
        return sides

    def neg(self, minus: Token, x):
        return -x

    def terms(self, first, *rest):
        """A sum, built once from all its terms (``rest`` alternates signs and terms)."""
        terms = [first] + [-term if sign == "-" else term for sign, term in zip(rest[::2], rest[1::2])]
        return sympy.Add(*terms)

    def product(self, *factors):
        if len(factors) == 1:  # a lone factor, which may be a direction tuple (Shampoo's (Y, A, B))
            return factors[0]
        if any(isinstance(f, sympy.Tuple) for f in factors):
            raise LatexReadError("a tuple of blocks is a direction of a map of several blocks, not a factor")
        return sympy.Mul(*factors)

    def power(self, base, exponent):
        if base in self.tensors:
            raise LatexReadError("a derivative of the loss cannot be raised to a power")
        return base**exponent

    def component(self, x, token: Token):
        if not self.vector:
            raise LatexReadError(f"{token} marks a vector's component, which only vector notation writes")
        return self.tag(x, _subscript(token))

    def absolute(self, x):
        return sympy.sqrt(x**2)

    def fraction(self, a, b):
        return a / b

    def sqrt(self, x):
        return sympy.sqrt(x)

    def root(self, n, x):
        return x ** (1 / sympy.Rational(str(n)))

    def sign(self, x):
        return sympy.sign(x)

    def function(self, name: Token, x):
        return _FUNCTIONS[str(name)[1:]](x)


def _table(optimizer: "Optimizer | None", symbols: Mapping[str, str] | None) -> dict[str, dict]:
    """The reader's own table: each name's LaTeX and what it stands for."""
    entries = {"h": ("h", h), "n": ("n", STEP), "t": ("t", ATOMS.time), "p": ("p", ATOMS.dimension), "theta": (r"\theta", None),
               "E": ("E", None), "j": ("j", None)}
    for hp in optimizer.hyperparameters if optimizer is not None else ():
        entries[hp.name] = (hp.latex or hp.name.replace("_", r"\_"), hp.symbol)
    for name, latex in (symbols or {}).items():
        if name not in entries:
            raise ValueError(f"unknown symbol name {name!r}; the names that can be renamed are: {', '.join(entries)}")
        entries[name] = (latex, entries[name][1])
    return entries


def parse_latex(text: str, optimizer: "Optimizer | None" = None, notation: str | None = None,
                symbols: Mapping[str, str] | None = None, atoms=None,
                states: Mapping[str, sympy.Symbol] | None = None) -> sympy.Expr:
    r"""The index-form expression that ``text`` (modeq's LaTeX, in either
    notation) writes.

    ``optimizer`` supplies the hyperparameters' names and ``symbols`` the same
    renames given to the printer (``{"h": r"\eta"}``). ``notation`` is
    ``"index"``, ``"vector"`` or ``"matrix"``; by default it is read off the left-hand side
    :math:`\dot{\tilde\theta}_j` (index), :math:`\dot{\tilde\theta}`
    (vector) or :math:`\dot{\tilde W}` (matrix), else index. An equation gives its right-hand side (a series in
    :math:`h`). ``atoms`` is the atom table to build atoms in (the
    equation's); ``states`` maps the printed name of each slow state
    (:math:`\tilde V_j`) to its atom. A system of equations (with slow
    states) is read by :func:`parse_system`."""
    sides = parse_system(text, optimizer, notation, symbols, atoms, states)
    if set(sides) != {"theta"}:
        raise LatexReadError(f"the text holds the equations of {', '.join(sorted(sides))}: read it with parse_system")
    return sides["theta"]


def parse_system(text: str, optimizer: "Optimizer | None" = None, notation: str | None = None,
                 symbols: Mapping[str, str] | None = None, atoms=None,
                 states: Mapping[str, sympy.Symbol] | None = None, restore: bool = True) -> dict[str, sympy.Expr]:
    r"""The right-hand sides of a modified equation with slow states,
    :math:`\dot{\tilde\theta}_j = \dots, \qquad \dot{\tilde V}_j = \dots`: ``"theta"``'s
    and each state's by its printed name (the arguments as for :func:`parse_latex`).

    Functions of time defined after the equations,
    :math:`\dots, \qquad \eta(t) = F(t)`, are substituted into them, their
    derivatives :math:`\eta'(t), \eta^{(k)}(t)` evaluated; with ``restore``
    false they are kept (undefined SymPy functions named by their LaTeX) and
    each definition is a side of its own, under the key ``"\eta(t)"``."""
    atoms = ATOMS if atoms is None else atoms
    states = dict(states or {})
    if notation is None:
        lhs = re.match(r"\s*\\dot\{\\tilde\{(.*?)\}\}(_\{)?", text)
        vector = lhs is not None and lhs.group(2) is None
        named = (symbols or {}).get("theta", MATRIX_THETA)
        notation = ("matrix" if lhs.group(1) == named else "vector") if vector else "index"
    if notation not in ("index", "vector", "matrix"):
        raise ValueError(f"unknown notation {notation!r}; choose one of: index, vector, matrix")
    entries = _table(optimizer, {"theta": MATRIX_THETA, **(symbols or {})} if notation == "matrix" else symbols)
    values = {latex: value for latex, value in entries.values() if value is not None}
    names = tuple(values)
    free = entries["j"][0]
    maps = _matrix_maps(atoms)
    time = entries["t"][0]
    functions = tuple(sorted(set(re.findall(_DEFINITION.format(time=re.escape(time)), text))))
    parser = _parser(names, entries["theta"][0], entries["E"][0], free, tuple(sorted(states)), tuple(sorted(maps)),
                     functions, time, notation == "matrix")
    try:
        tree = parser.parse(text)
        reader = _Reader(values, free, notation != "index", atoms, states, maps, notation == "matrix")
        reader.functions = {name: sympy.Function(name, real=True) for name in functions}
        sides = reader.transform(tree)
    except VisitError as error:
        if isinstance(error.orig_exc, LatexReadError):
            raise error.orig_exc from None
        raise
    except LarkError as error:
        message = str(error).strip().splitlines()[0]
        raise LatexReadError(f"not modeq's LaTeX notation: {message}") from None
    for expr in sides.values():
        loose = sorted({reader.tags[s][1] for s in expr.free_symbols if s in reader.tags}
                       | {i for s in expr.free_symbols if s in reader.tensors for i in reader.tensors[s].indices})
        if loose:
            raise LatexReadError(f"the index {', '.join(loose)} is neither summed over nor the free index {free}")
    definitions = {reader.functions[key[:-3]]: sides[key] for key in sides if key[:-3] in reader.functions}
    used = {f.func for expr in sides.values() for f in expr.atoms(AppliedUndef)}
    if not used <= set(definitions):
        raise LatexReadError(f"the function {', '.join(sorted(map(str, used - set(definitions))))} of the time is not defined")
    if restore and definitions:
        sides = {key: _restored(expr, definitions, ATOMS.time) for key, expr in sides.items()
                 if key[:-3] not in reader.functions}
    return sides


def _restored(expr: sympy.Expr, definitions: Mapping[sympy.FunctionClass, sympy.Expr], time: sympy.Symbol) -> sympy.Expr:
    """``expr`` with each function of time replaced by its definition, derivatives evaluated."""
    lambdas = {f: sympy.Lambda(time, d) for f, d in definitions.items()}
    explicit = expr.replace(lambda e: isinstance(e, AppliedUndef) and e.func in lambdas, lambda e: lambdas[e.func](*e.args))
    return explicit.replace(lambda e: isinstance(e, sympy.Derivative), lambda e: e.doit())


def _matrix_maps(atoms) -> dict[str, tuple[MatrixMap, ...]]:
    """The matrix maps a text may name, by their LaTeX: those of the atom
    table's matrix atoms, else each kind of map with its defaults (Newton–Schulz's steps)."""
    defaults = {m.latex: (m,) for m in DEFAULT_MAPS + kronecker.DEFAULT_MAPS}
    found: dict[str, set[MatrixMap]] = {name: set() for name in defaults}
    for symbol in list(atoms.component):
        definition = atoms.definition(symbol)
        if isinstance(definition, MatrixDerivative):
            found.setdefault(definition.map.latex, set()).add(definition.map)
    return {name: tuple(maps) or defaults[name] for name, maps in found.items()}


# -- the round trip -------------------------------------------------------------------


def _rebuild(expr: sympy.Expr, atoms) -> sympy.Expr:
    """``expr`` with every contraction and reduction atom made again from its
    (rebuilt) definition, and :math:`|x|` written :math:`\\sqrt{x^2}`."""
    expr = expr.replace(sympy.Abs, lambda x: sympy.sqrt(x**2))
    mapping = {}
    for s in expr.free_symbols:
        definition = atoms.definition(s)
        if isinstance(definition, Contraction):
            mapping[s] = atoms.contraction([_rebuild(a, atoms) for a in definition.args], definition.loss)
        elif isinstance(definition, Reduction):
            mapping[s] = atoms.reduction(_rebuild(definition.arg, atoms))
        elif isinstance(definition, BlockReduction):
            mapping[s] = atoms.block_reduction(_rebuild(definition.arg, atoms))
        elif isinstance(definition, MatrixDerivative):
            mapping[s] = atoms.matrix_derivative(definition.map, _rebuild(definition.base, atoms),
                                                 [_rebuild(y, atoms) for y in definition.directions])  # tuples too
    return expr.xreplace(mapping) if mapping else expr


def same_field(a: sympy.Expr, b: sympy.Expr, atoms=None, decays=()) -> bool:
    r"""Whether two index-form expressions are equal. First the exact test of
    :mod:`~modeq.algebra.exact` (each coefficient's numerator over a common
    denominator, reduced modulo the radicals' relations, in a sparse
    polynomial ring): a proof, in time about linear in the expressions' size.
    What it does not prove takes the complete route: an exact zero test of
    their difference, collected by atoms with factored coefficients; a
    coefficient that does not vanish so is tested again with
    :math:`|g| = \sqrt{g^2}` as a variable :math:`A` and :math:`g^2 = A^2`
    (factoring alone does not see :math:`(g-|g|)(g+|g|) = 0`). Each decay
    rate :math:`\beta` in ``decays`` is written :math:`1-u` with :math:`u > 0`,
    so SymPy identifies :math:`\sqrt{1/(1-\beta)}` with :math:`1/\sqrt{1-\beta}`."""
    atoms = ATOMS if atoms is None else atoms
    a, b = _rebuild(a, atoms), _rebuild(b, atoms)
    if exact.equal(a, b, atoms.nested()):
        return True
    shifted = {d: 1 - sympy.Dummy("u", positive=True) for d in decays}
    difference = atoms.collect((a - b).xreplace(shifted))
    return difference == 0 or all(_vanishes(c, atoms) for c in sympy.Add.make_args(difference)) \
        or _vanishes_at_points(difference, atoms)


def _vanishes_at_points(difference: sympy.Expr, atoms, points: int = 6, digits: int = 50) -> bool:
    r"""Whether ``difference`` is zero to ``digits`` digits at ``points``
    exact rational points: the last test, for forms SymPy does not identify
    symbolically, such as :math:`\sqrt{a}\sqrt{b} = \sqrt{ab}` for positive
    radicands. Gradient atoms take both signs; every other symbol (a
    hyperparameter, :math:`\theta`, an atom that is a norm or a
    contraction, a shifted decay :math:`u = 1-\beta`, an opaque function of
    time or a derivative of one) a value in
    :math:`(0, 1)`, where the derived and the printed forms are both defined.
    A non-zero algebraic expression vanishing to 50 digits at six random
    points does not happen by chance."""
    rng = random.Random(20261130)
    # an opaque function of time and each derivative of it takes a value of its own
    opaque = {e: sympy.Dummy() for e in difference.atoms(sympy.Derivative, AppliedUndef)}
    difference = difference.xreplace({e: d for e, d in opaque.items() if isinstance(e, sympy.Derivative)})
    difference = difference.xreplace({e: d for e, d in opaque.items() if not isinstance(e, sympy.Derivative)})
    symbols = sorted(difference.free_symbols, key=str)
    for _ in range(points):
        values = {}
        for symbol in symbols:
            value = sympy.Rational(rng.randint(1, 997), 1000)
            if isinstance(atoms.definition(symbol), Gradient) and rng.random() < 0.5:
                value = -value
            values[symbol] = value
        number = difference.xreplace(values).evalf(digits)
        if not number.is_number or abs(complex(number)) > sympy.Float(10) ** (10 - digits):
            return False
    return True


def _vanishes(term: sympy.Expr, atoms) -> bool:
    x = term
    for g in [s for s in term.free_symbols if isinstance(atoms.definition(s), Gradient)]:
        a = sympy.Dummy("A", positive=True)
        x = x.replace(lambda e: e.is_Pow and e.base == g**2, lambda e: a ** (2 * e.exp))
        numerator = sympy.expand(sympy.fraction(sympy.together(x))[0])
        try:
            poly = sympy.Poly(numerator, g)
        except sympy.PolynomialError:
            return False
        x = sympy.expand(sum(c * g ** (n % 2) * a ** (n - n % 2) for (n,), c in poly.terms()))
        if x == 0:
            return True
    return sympy.expand(x) == 0


@dataclass(frozen=True)
class RoundTripFailure:
    """A term :math:`f_k` whose printed form reads back as something else."""

    order: int
    notation: str
    derived: sympy.Expr
    read: sympy.Expr
    #: ``"theta"``, or the name of the slow state whose term :math:`f^V_k` it is
    coordinate: str = "theta"

    def __str__(self) -> str:
        label = f"f_{self.order}" if self.coordinate == "theta" else f"f^{self.coordinate}_{self.order}"
        return (f"{label} ({self.notation} notation) prints as something else:\n"
                f"  derived: {sympy.sstr(self.derived)}\n  read back: {sympy.sstr(self.read)}")


def _by_power(expr: sympy.Expr) -> dict[int, sympy.Expr]:
    """``expr`` as :math:`\\sum_k h^k f_k`: the map :math:`k \\mapsto f_k`, each
    term's factors of :math:`h` read off (SymPy's ``as_coeff_exponent`` collects
    the whole term, a third of a large round trip)."""
    parts: dict[int, list[sympy.Expr]] = {}
    for term in sympy.Add.make_args(expr):
        exponent, rest = 0, []
        for factor in sympy.Mul.make_args(term):
            if factor == h:
                exponent += 1
            elif factor.is_Pow and factor.base == h and factor.exp.is_Integer:
                exponent += int(factor.exp)
            elif h in factor.free_symbols:
                raise LatexReadError(f"a term is not a power of h times a field: {term}")
            else:
                rest.append(factor)
        parts.setdefault(exponent, []).append(sympy.Mul(*rest))
    return {k: sympy.Add(*terms) for k, terms in parts.items()}


def round_trip(equation: "EquationTerms", notation: str = "index",
               symbols: Mapping[str, str] | None = None, text: str | None = None) -> list[RoundTripFailure]:
    r"""Print ``equation`` in ``notation``, read it back, and return the terms
    that differ (empty when the printed equation is the derived one). ``text``
    is the equation's LaTeX if it was printed already (``equation.latex(notation=notation,
    symbols=symbols)``: the text that is checked; printing a large equation costs more than reading it).

    An equation printed with opaque functions of time
    (:func:`~modeq.printing.equation.printed_form`) is compared in them: each
    definition read back must equal one the derivation made, and each term
    read, in the derivation's functions, its term before restoring
    (:class:`~modeq.terms.OpaqueTime`). Restoring then writes both out alike,
    so the printed equation is the derived one, without a zero test of the
    written-out terms (thousands of operations each)."""
    atoms = getattr(equation, "atoms", ATOMS)
    text = equation.latex(notation=notation, symbols=symbols) if text is None else text
    # a state is printed under SymPy's LaTeX of its name (sigma as \sigma)
    states = {sympy.latex(sympy.Symbol(s.name)): s for s in getattr(equation, "states", ())}
    opaque = equation.opaque_time() if hasattr(equation, "opaque_time") else None
    sides = parse_system(text, equation.optimizer, notation, symbols, atoms, {n: s.value for n, s in states.items()},
                         restore=opaque is None)
    unit_interval = [hp.symbol for hp in equation.optimizer.hyperparameters if hp.domain.name == "UNIT_INTERVAL"]
    derived_sides = {"theta": equation.terms, **{n: s.terms for n, s in states.items()}}
    failures = []
    if opaque is not None:
        derived_sides = {"theta": opaque.terms, **{n: own for n, own in zip(states, opaque.states)}}
        read = {key: sides.pop(key) for key in [k for k in sides if k.endswith("(t)")]}
        mapping = {}
        for function, definition in opaque.functions:
            found = [key for key, value in read.items() if same_field(value, definition, atoms, unit_interval)]
            if found:
                mapping[sympy.Function(found[0][:-3], real=True)] = function.func
                del read[found[0]]
            else:
                failures.append(RoundTripFailure(0, notation, definition, sympy.Integer(0), str(function)))
        failures += [RoundTripFailure(0, notation, sympy.Integer(0), value, key) for key, value in read.items()]
        sides = {key: expr.replace(lambda e: isinstance(e, AppliedUndef) and e.func in mapping,
                                   lambda e: mapping[e.func](*e.args)) for key, expr in sides.items()}
    for coordinate in sorted(set(derived_sides) | set(sides), key=lambda c: (c != "theta", c)):
        terms = derived_sides.get(coordinate, ())
        read = _by_power(sides.get(coordinate, sympy.Integer(0)))
        for k in sorted(set(range(len(terms))) | set(read)):
            derived = terms[k] if k < len(terms) else sympy.Integer(0)
            back = read.get(k, sympy.Integer(0))
            if not same_field(back, derived, atoms, unit_interval):
                failures.append(RoundTripFailure(k, notation, derived, back, coordinate))
    return failures
