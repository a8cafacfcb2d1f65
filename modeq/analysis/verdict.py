r"""Does the first correction penalize or anti-penalize a quantity?

With the modified loss :math:`\tilde E = E + h\sum_Q c_Q\,Q` (e.g.
:math:`Q = \|\nabla E\|_1`), the flow descends :math:`c_Q Q` as well as
:math:`E`: it *penalizes* :math:`Q` when :math:`c_Q > 0` and
*anti-penalizes* it when :math:`c_Q < 0`. With numbers the sign is definite;
with symbols, the factors whose sign the domains fix (:math:`1-\beta > 0`,
:math:`h, \varepsilon > 0`, and :math:`\rho \ge 0`, which only switches the
correction off at 0) are dropped and the rest is the condition, e.g.
"anti-penalizes ‖∇E‖₁ when rho > beta".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, TYPE_CHECKING, Any, Mapping

import sympy

from ..optimizers.language import h
from ..quantities import norm_kind
from .potential import NotAGradient, domain_positive, modified_loss

if TYPE_CHECKING:
    from ..equation import ModifiedEquation

__all__ = ["Verdict", "classify", "quantity_name"]


def quantity_name(q: sympy.Expr) -> str:
    """A quantity in plain text: ‖∇E‖², ‖∇E‖₁, ‖∇E‖_{1,ε}, ‖∇E‖."""
    if q.is_Pow and q.exp == sympy.S.Half and norm_kind(q.base) and norm_kind(q.base)[0] == "2":
        return "‖∇E‖"
    kind = norm_kind(q)
    if kind is None:
        return sympy.sstr(q)
    loss = "E" if kind[1] is None else f"E_{kind[1]}"
    return {"2": f"‖∇{loss}‖²", "1": f"‖∇{loss}‖₁"}.get(kind[0], f"‖∇{loss}‖_{{1,{kind[2]}}}")


@dataclass(frozen=True)
class Verdict:
    """The sign of the first correction's coefficient of one quantity."""

    quantity: sympy.Expr
    coefficient: sympy.Expr
    sign: int | None
    condition: sympy.Expr | None

    @property
    def text(self) -> str:
        """In plain text: "penalizes ‖∇E‖₁ when beta > rho; anti-penalizes it when rho > beta"."""
        return self.describe(quantity_name(self.quantity), lambda a, b: f"{sympy.sstr(a)} > {sympy.sstr(b)}")

    def describe(self, name: str, greater: Callable[[sympy.Expr, sympy.Expr], str]) -> str:
        """The verdict with the quantity written as ``name`` and conditions
        :math:`a > b` written by ``greater(a, b)`` (for other output formats)."""
        if self.sign == 1:
            return f"penalizes {name}"
        if self.sign == -1:
            return f"anti-penalizes {name}"
        if self.sign == 0:
            return f"leaves {name} alone"
        return (f"penalizes {name} when {greater(*_sides(self.condition))}; "
                f"anti-penalizes it when {greater(*_sides(-self.condition))}")


def _sides(expr: sympy.Expr) -> tuple[sympy.Expr, sympy.Expr]:
    """``expr > 0`` as ``a > b`` with the positive terms in ``a``."""
    terms = sympy.Add.make_args(sympy.expand(expr))
    plus = sympy.Add(*(t for t in terms if not t.could_extract_minus_sign()))
    minus = sympy.Add(*(-t for t in terms if t.could_extract_minus_sign()))
    return plus, minus


def classify(equation: "ModifiedEquation", values: Mapping[str, Any] | None = None) -> tuple[Verdict, ...]:
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
    for quantity, coefficient in _by_quantity(loss.terms[1]).items():
        c = sympy.factor(coefficient.xreplace(substitutions))
        verdicts.append(_verdict(quantity, c, positive))
    return tuple(verdicts)


def _by_quantity(expr: sympy.Expr) -> dict[sympy.Expr, sympy.Expr]:
    parts: dict[sympy.Expr, sympy.Expr] = {}
    for term in sympy.Add.make_args(sympy.expand(expr)):
        quantity = sympy.Mul(*(f for f in sympy.Mul.make_args(term) if f.free_symbols and not f.has(h) and norm_kind(f.as_base_exp()[0])))
        parts[quantity] = parts.get(quantity, 0) + term / quantity
    return parts


def _verdict(quantity: sympy.Expr, c: sympy.Expr, positive: dict) -> Verdict:
    if c == 0:
        return Verdict(quantity, c, 0, None)
    if not c.free_symbols:
        return Verdict(quantity, c, 1 if c > 0 else -1, None)
    sign, undecided = 1, []
    number, rest = c.as_coeff_Mul()
    sign = -1 if number < 0 else 1
    for factor in sympy.Mul.make_args(rest):
        base, exponent = factor.as_base_exp()
        known = sympy.simplify(base.xreplace(positive))
        # a nonnegative factor (rho >= 0) only switches the correction off at 0
        if known.is_nonnegative or exponent.is_even:
            continue
        if known.is_negative:
            sign = -sign
            continue
        undecided.append(base)
    if not undecided:
        return Verdict(quantity, c, sign, None)
    return Verdict(quantity, c, None, sign * sympy.Mul(*undecided))
