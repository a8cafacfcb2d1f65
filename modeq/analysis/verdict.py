r"""Does the first correction penalize or anti-penalize a quantity?

With the modified loss :math:`\tilde E = E + h\sum_Q c_Q\,Q` (e.g.
:math:`Q = \|\nabla E\|_1`), the flow descends :math:`c_Q Q` as well as
:math:`E`: it *penalizes* :math:`Q` when :math:`c_Q > 0` and
*anti-penalizes* it when :math:`c_Q < 0`. With numbers the sign is definite;
with symbols, the factors whose sign the domains fix (:math:`1-\beta > 0`,
:math:`h, \varepsilon > 0`, and :math:`\rho \ge 0`, which only switches the
correction off at 0) are dropped and the rest is the condition, e.g.
"anti-penalizes ‖∇E‖₁ when ρ > β".

A condition :math:`c > 0` is written as a person would, :math:`A > B` with
both sides products that are evidently nonnegative on the domains, e.g.
:math:`\beta_1^2(1-\beta_2) > \beta_2(1-\beta_1)` rather than
:math:`\beta_1^2 + \beta_1\beta_2 > \beta_1^2\beta_2 + \beta_2`: of the ways of
splitting the terms of :math:`c` into :math:`A - B`, the one whose factored
sides are both products of factors nonnegative on the domains, and shortest (ties broken by the text, so the
choice is deterministic). Only ``factor`` and ``cancel`` are used, never
``simplify``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable, TYPE_CHECKING, Any, Mapping

import sympy

from ..optimizers.language import h
from ..quantities import norm_kind
from .potential import NotAGradient, domain_positive, modified_loss

if TYPE_CHECKING:
    from ..algebra.index import AtomRegistry
    from ..terms import EquationTerms
    from ..optimizers.base import Optimizer

__all__ = ["Verdict", "classify", "quantity_name"]


#: Conditions with more terms than this are split by sign alone (2**n splittings are tried).
MAX_SPLIT_TERMS = 10


def quantity_name(q: sympy.Expr, optimizer: "Optimizer | None" = None, atoms: "AtomRegistry | None" = None) -> str:
    """A quantity in plain text: ‖∇E‖², ‖∇E‖₁, ‖∇E‖₁,ε, ‖∇E‖ (its atoms defined in
    ``atoms``, the equation's table)."""
    from ..printing.text import TextPrinter

    return TextPrinter(optimizer, atoms).quantity(q)


@dataclass(frozen=True)
class Verdict:
    r"""The sign of the first correction's coefficient of one quantity.

    ``condition`` (when the sign depends on the hyperparameters) is an
    expression :math:`c` with "penalizes" exactly when :math:`c > 0`; ``sides``
    is :math:`(A, B)` with :math:`c > 0 \iff A > B`, as a person writes it."""

    quantity: sympy.Expr
    coefficient: sympy.Expr
    sign: int | None
    condition: sympy.Expr | None
    sides: tuple[sympy.Expr, sympy.Expr] | None = None
    optimizer: "Optimizer | None" = field(default=None, compare=False, repr=False)
    #: The atom table of the equation the verdict is about (for printing the quantity).
    atoms: "AtomRegistry | None" = field(default=None, compare=False, repr=False)

    @property
    def text(self) -> str:
        """In plain text: "penalizes ‖∇E‖₁ when β > ρ; anti-penalizes it when ρ > β"."""
        from ..printing.text import TextPrinter

        printer = TextPrinter(self.optimizer, self.atoms)
        return self.describe(printer.quantity(self.quantity), lambda a, b: f"{printer.doprint(a)} > {printer.doprint(b)}")

    def describe(self, name: str, greater: Callable[[sympy.Expr, sympy.Expr], str]) -> str:
        """The verdict with the quantity written as ``name`` and conditions
        :math:`a > b` written by ``greater(a, b)`` (for other output formats)."""
        if self.sign == 1:
            return f"penalizes {name}"
        if self.sign == -1:
            return f"anti-penalizes {name}"
        if self.sign == 0:
            return f"leaves {name} alone"
        a, b = self.sides if self.sides is not None else _sides(self.condition, {})
        return f"penalizes {name} when {greater(a, b)}; anti-penalizes it when {greater(b, a)}"


def _oriented(expr: sympy.Expr) -> sympy.Expr:
    r"""``expr`` factored, each sum with a positive constant term (:math:`1-\beta`)."""
    factored = sympy.factor(expr)
    number, rest = factored.as_coeff_Mul()
    factors = []
    for factor in sympy.Mul.make_args(rest):
        base, exponent = factor.as_base_exp()
        if base.is_Add and base.as_coeff_Add()[0] < 0 and exponent.is_Integer:
            base, number = -base, number * (-1) ** exponent
        factors.append(sympy.Pow(base, exponent, evaluate=False) if exponent != 1 else base)
    return sympy.Mul(number, *factors, evaluate=False) if number != 1 else sympy.Mul(*factors, evaluate=False)


def _reads_nonnegative(side: sympy.Expr, positive: Mapping[sympy.Symbol, sympy.Expr]) -> bool:
    r"""Whether ``side`` is a product of factors each evidently :math:`\ge 0` on
    the domains (:math:`\beta_1^2(1-\beta_2)`, not :math:`-\beta_1(\beta_1\beta_2-\beta_1-\beta_2)`)."""
    number, rest = side.as_coeff_Mul()
    if number < 0:
        return False
    for factor in sympy.Mul.make_args(rest):
        base, exponent = factor.as_base_exp()
        if not (exponent.is_even or sympy.cancel(base.xreplace(positive)).is_nonnegative):
            return False
    return True


def _sides(condition: sympy.Expr, positive: Mapping[sympy.Symbol, sympy.Expr],
           denominator: sympy.Expr = sympy.Integer(1)) -> tuple[sympy.Expr, sympy.Expr]:
    r"""``condition > 0`` as ``A > B``: the splitting of its terms into ``A - B``
    whose factored sides read as nonnegative on the domains and are shortest
    over the coefficient's ``denominator`` (the terms the coefficient came
    from: :math:`\beta_1^2/(1-\beta_1) > \beta_2/(1-\beta_2)`), then shortest."""
    terms = sorted(sympy.Add.make_args(sympy.expand(condition)), key=sympy.default_sort_key)
    plus = sympy.Add(*(t for t in terms if not t.could_extract_minus_sign()))
    minus = -sympy.Add(*(t for t in terms if t.could_extract_minus_sign()))
    candidates = [(plus, minus)]
    if len(terms) <= MAX_SPLIT_TERMS:
        for mask in range(1, 2 ** len(terms) - 1):
            a = sympy.Add(*(t for n, t in enumerate(terms) if mask >> n & 1))
            candidates.append((a, a - sympy.Add(*terms)))

    def score(sides):
        a, b = (_oriented(x) for x in sides)
        signs = not (_reads_nonnegative(a, positive) and _reads_nonnegative(b, positive))
        over = sum(sympy.count_ops(sympy.cancel(x / denominator)) for x in (a, b))
        return (signs, over, sympy.count_ops(a) + sympy.count_ops(b), str(a), str(b)), (a, b)

    return min((score(c) for c in candidates), key=lambda x: x[0])[1]


def classify(equation: "EquationTerms", values: Mapping[str, Any] | None = None) -> tuple[Verdict, ...]:
    r"""One :class:`Verdict` per quantity in the first correction of the
    modified loss (``values`` fixes hyperparameters to numbers); an error
    naming the reason when the correction is not a (preconditioned) gradient."""
    if equation.order < 1:
        raise ValueError("classifying the first correction needs an equation of order >= 1; derive with order=1")
    loss = modified_loss(equation, 1)
    if not loss:
        raise NotAGradient(f"{equation.optimizer.name}: {loss.reason}; take a limit (e.g. eps_limit) first")
    substitutions = equation.optimizer.substitutions(values)
    positive = domain_positive(equation)
    verdicts = []
    for quantity, coefficient in _by_quantity(loss.terms[1], equation.atoms).items():
        c = sympy.factor(coefficient.xreplace(substitutions))
        verdicts.append(replace(_verdict(quantity, c, positive, equation.optimizer), atoms=equation.atoms))
    return tuple(verdicts)


def _by_quantity(expr: sympy.Expr, atoms: "AtomRegistry") -> dict[sympy.Expr, sympy.Expr]:
    parts: dict[sympy.Expr, sympy.Expr] = {}
    for term in sympy.Add.make_args(sympy.expand(expr)):
        quantity = sympy.Mul(*(f for f in sympy.Mul.make_args(term) if f.free_symbols and not f.has(h)
                               and norm_kind(f.as_base_exp()[0], atoms)))
        parts[quantity] = parts.get(quantity, 0) + term / quantity
    return parts


def _verdict(quantity: sympy.Expr, c: sympy.Expr, positive: dict, optimizer: "Optimizer") -> Verdict:
    if c == 0:
        return Verdict(quantity, c, 0, None, optimizer=optimizer)
    if not c.free_symbols:
        return Verdict(quantity, c, 1 if c > 0 else -1, None, optimizer=optimizer)
    number, rest = c.as_coeff_Mul()
    sign = -1 if number < 0 else 1
    undecided = []
    for factor in sympy.Mul.make_args(rest):
        base, exponent = factor.as_base_exp()
        known = sympy.cancel(base.xreplace(positive))
        # a nonnegative factor (rho >= 0) only switches the correction off at 0
        if known.is_nonnegative or exponent.is_even:
            continue
        if known.is_negative:
            sign = -sign
            continue
        undecided.append(base)
    if not undecided:
        return Verdict(quantity, c, sign, None, optimizer=optimizer)
    condition = sign * sympy.Mul(*undecided)
    denominator = sympy.fraction(c)[1]
    return Verdict(quantity, c, None, condition, _sides(condition, positive, denominator), optimizer)
