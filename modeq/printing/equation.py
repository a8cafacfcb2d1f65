r"""A modified equation as LaTeX: :math:`\dot{\tilde\theta}_j = f_0 + h f_1 + \dots`,
laid out by :mod:`modeq.printing.layout` and printed by the printers of
:mod:`modeq.printing.latex`.

Each power of :math:`h` is one group: a single term carries its coefficient as
one fraction (:math:`-\frac{h(1+\beta)}{4(1-\beta)^3}\nabla_j\|\nabla E\|^2`);
several terms share :math:`h^k` in front of parentheses. The output depends
only on the equation, so it is the same text on every run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping

import sympy

from .latex import IndexLatexPrinter, MatrixLatexPrinter, VectorLatexPrinter, join_factors
from .layout import Block, Group, Summand, arrange
from .notation import function_names
from ..optimizers.base import Domain
from ..optimizers.language import h
from .symbols import symbol_names

if TYPE_CHECKING:
    from ..terms import EquationTerms

__all__ = ["NOTATIONS", "MATRIX_THETA", "notation_symbols", "printer_for", "terms_latex", "printed_form", "group_latex", "join_signed"]

NOTATIONS = {"index": IndexLatexPrinter, "vector": VectorLatexPrinter, "matrix": MatrixLatexPrinter}

#: The matrix notation's name of the parameters: a block :math:`W` (the user may rename it).
MATRIX_THETA = "W"


def notation_symbols(notation: str, symbols: Mapping[str, str] | None) -> dict[str, str]:
    """The renames a notation prints with: matrix notation calls the parameters
    :data:`MATRIX_THETA` unless the user renamed them."""
    symbols = dict(symbols or {})
    if notation == "matrix":
        symbols.setdefault("theta", MATRIX_THETA)
    return symbols


def printer_for(optimizer, notation: str = "index", symbols: Mapping[str, str] | None = None,
                atoms=None) -> IndexLatexPrinter:
    """The printer of ``notation`` with the user's symbol names, reading atoms
    in ``atoms`` (the equation's table; the default table of hand-written
    expressions if not given)."""
    if notation not in NOTATIONS:
        raise ValueError(f"unknown notation {notation!r}; choose one of: {', '.join(NOTATIONS)}")
    return NOTATIONS[notation](optimizer, symbol_names(optimizer, notation_symbols(notation, symbols)), atoms)


def _fraction(numerator: list[str], denominator: list[str]) -> str:
    top = " ".join(t for t in numerator if t) or "1"
    bottom = " ".join(t for t in denominator if t)
    if not bottom:
        return "" if top == "1" else top
    return rf"\frac{{{top}}}{{{bottom}}}"


def _split_factors(summand: Summand, extra: sympy.Expr) -> tuple[list[sympy.Expr], list[sympy.Expr]]:
    """Numerator and denominator factors: the number, the power of :math:`h`,
    the hyperparameters, then the elementwise factors."""
    hpower = sympy.Mul(*(f for f in sympy.Mul.make_args(extra) if f.has(h)))
    return summand.fraction_factors(extra / hpower, lead=(hpower,))


def _product(printer, num: list[sympy.Expr], den: list[sympy.Expr], bare: bool = False) -> str:
    r"""``num/den``; a lone sum with no denominator is parenthesized unless it
    stands ``bare`` (first in its sum, positive, nothing after it): a sign or a
    factor next to it would change what it says (:math:`-(1+c)` printed as
    :math:`-1+c`, :math:`(1+c)\,\nabla_j E` as :math:`1 + c\,\nabla_j E`)."""
    text = _fraction([join_factors(printer, num)], [join_factors(printer, den)])
    top = [f for f in num if f != 1]
    if not bare and len(top) == 1 and top[0].is_Add and all(f == 1 for f in den):
        return rf"\left({text}\right)"
    return text


def _summand(printer, summand: Summand, extra: sympy.Expr, separate: bool, bare: bool = False) -> str:
    """A summand's coefficient; ``separate`` keeps the scalar and elementwise
    fractions apart (inside parentheses); ``bare``: it comes first in its sum,
    positive, so a lone sum needs no parentheses if nothing follows it."""
    if separate:
        component = _product(printer, *_split_factors(Summand(1, sympy.Integer(1), (), 1), summand.component * extra))
        scalar = _product(printer, *_split_factors(summand, sympy.Integer(1)), bare=bare and not component)
        return " ".join(t for t in (scalar, component) if t)
    return _product(printer, *_split_factors(summand, summand.component * extra), bare=bare)


def _block(printer, block: Block, hpower: sympy.Expr, bare: bool = False) -> tuple[int, str]:
    r"""``(sign, coefficient quantity)``; a quantity that is a reciprocal (of a slow state,
    :math:`1/\tilde\tau_j`) joins the coefficient's denominator. ``bare``: the block is added
    to others, so a sum with nothing in front of it nor after it needs no parentheses."""
    shown, hpower = block.printed_quantity(hpower)
    quantity = "" if shown is None else printer.quantity(shown)
    if len(block.summands) == 1:
        scaled = block.lone_summand()
        sign = scaled.sign
        coefficient = _summand(printer, scaled, hpower * block.outer, separate=False)
    else:
        sign = 1 if block.prefactor > 0 else -1
        front = _summand(printer, Summand(1, abs(block.prefactor), (), 1), hpower * block.outer, separate=False)
        inner = join_signed([(s.sign, _summand(printer, s, sympy.Integer(1), separate=True, bare=n == 0 and s.sign > 0) or "1")
                             for n, s in enumerate(block.summands)])
        plain = bare and not front and not quantity and block.summands[0].sign > 0
        coefficient = inner if plain else rf"{front}\left({inner}\right)"
    body = " ".join(t for t in (coefficient, quantity) if t) or "1"
    return sign, body


def join_signed(signed: list[tuple[int, str]]) -> str:
    """Signed LaTeX pieces ``(sign, body)`` joined into one sum
    (:math:`a - b + c`; a leading minus when the first sign is negative)."""
    text = ""
    for n, (sign, body) in enumerate(signed):
        text += ("- " if sign < 0 else "") + body if n == 0 else (" - " if sign < 0 else " + ") + body
    return text


def group_latex(printer, group: Group) -> tuple[int, str]:
    r"""``(sign, body)`` of one power of :math:`h`: a single block carries
    :math:`h^k` in its fraction, several share :math:`h^k` in front of
    parentheses (the sign is pulled out when every block is negative)."""
    hpower = h**group.power
    if len(group.blocks) == 1:
        return _block(printer, group.blocks[0], hpower)
    blocks = [_block(printer, b, sympy.Integer(1)) for b in group.blocks]
    sign = -1 if all(s < 0 for s, _ in blocks) else 1
    # a block that is a plain sum is added without parentheses: -(β∇_j E + βλθ_j + w_j/τ_j),
    # not -((β∇_j E + βλθ_j) + w_j/τ_j)
    blocks = [(s, _block(printer, b, sympy.Integer(1), bare=True)[1]) if s * sign > 0 and len(b.summands) > 1
              else (s, body) for b, (s, body) in zip(group.blocks, blocks)]
    inner = join_signed([(s * sign, body) for s, body in blocks])
    if group.power == 0:  # no "1 \left(" in front
        return sign, rf"\left({inner}\right)" if sign < 0 else inner
    return sign, rf"{printer._print(hpower)} \left({inner}\right)"


def terms_latex(equation: "EquationTerms", printer: IndexLatexPrinter,
                terms: tuple[sympy.Expr, ...] | None = None) -> list[tuple[int, str]]:
    """The signed LaTeX of each power of :math:`h` of the equation (of ``terms``
    in its place if given: a slow state's, or those of :func:`printed_form`)."""
    terms = equation.terms if terms is None else terms
    return [group_latex(printer, g) for g in arrange(terms, printer.atoms, decays(equation.optimizer))]


#: Letters for the opaque functions of time by role (:func:`~modeq.printing.notation.function_names`),
#: the first one no symbol is printed as.
FUNCTION_LETTERS = {"step": (r"\eta", r"\phi", r"\psi", r"\chi"), "decay": (r"\mu", r"\kappa", r"\omega")}


def printed_form(equation: "EquationTerms", printer: IndexLatexPrinter
                 ) -> tuple[tuple[sympy.Expr, ...], tuple[tuple[sympy.Expr, ...], ...], list[str]]:
    r"""The terms and the slow states' terms that ``printer`` lays out, and the
    definitions it prints beside them.

    With the update's functions of time held opaque
    (:meth:`~modeq.terms.EquationTerms.opaque_time`) the terms are written in
    them, :math:`\eta(t), \eta'(t), \dots` (:math:`\eta_1, \eta_2, \dots` for
    several; another letter if a symbol is printed :math:`\eta`; :math:`\mu(t)` for the
    schedule of a decay rate, NAdam's momentum), and each is
    defined once, :math:`\eta(t) = \dots`: written out, a schedule's
    derivatives make coefficients of thousands of operations, whose layout cost
    many times the derivation (AdEMAMix's warm-up, order 2: 3 s to derive, 50 s
    to print) and which no reader takes in. ``printer`` is told the names."""
    form = equation.opaque_time()
    if form is None:
        return equation.terms, tuple(s.terms for s in equation.states), []
    taken = set(printer._settings["symbol_names"].values()) | set(printer.names.values())
    names = function_names([d for _, d in form.functions], equation.optimizer, taken, FUNCTION_LETTERS,
                           lambda letter, n: f"{letter}_{{{n}}}")
    printer.functions = {function.func: name for (function, _), name in zip(form.functions, names)}
    definitions = [rf"{printer._print(function)} = {printer.doprint(definition)}" for function, definition in form.functions]
    return form.terms, form.states, definitions


def decays(optimizer) -> frozenset[sympy.Symbol]:
    """The symbols of the hyperparameters in :math:`[0, 1)` (decay rates)."""
    return frozenset(hp.symbol for hp in optimizer.hyperparameters if hp.domain is Domain.UNIT_INTERVAL)
