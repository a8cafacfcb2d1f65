r"""Limits of a modified equation in the stability constant :math:`\varepsilon`.

* :math:`\varepsilon \to 0` (for :math:`\nabla_j E \ne 0`): :math:`\sqrt{g^2+\varepsilon} \to |g|`,
  :math:`g/\sqrt{g^2+\varepsilon} \to \operatorname{sign} g`; Adam becomes a
  sign-descent flow with the bias :math:`\nabla_j\|\nabla E\|_1` (Table 1 of
  "On the Implicit Bias of Adam").
* :math:`\varepsilon \to \infty`: every term is replaced by its leading power
  of :math:`\varepsilon^{-1/2}` (inside the contractions too). The field
  :math:`\varepsilon^{-1/2}(F_0 + h\varepsilon^{-1/2}F_1 + \dots)` is gradient
  flow with time rescaled by :math:`\sqrt\varepsilon` and effective step
  :math:`h/\sqrt\varepsilon`: for Adam
  :math:`\dot\theta = -\varepsilon^{-1/2}\nabla[E + \frac{h(1+\beta)}{4(1-\beta)\sqrt\varepsilon}\|\nabla E\|^2]`.

The result is again a :class:`~modeq.equation.ModifiedEquation`, so it prints,
materializes and has a modified loss like any other.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import sympy

from ..algebra.index import AtomRegistry, BlockReduction, Contraction, Gradient, Reduction

if TYPE_CHECKING:
    from ..terms import EquationTerms

__all__ = ["eps_limit", "epsilon_symbol"]


def epsilon_symbol(equation: "EquationTerms") -> sympy.Symbol:
    r"""The symbol of :math:`\varepsilon` in ``equation``, or a clear error."""
    opt = equation.optimizer
    names = [hp.name for hp in opt.hyperparameters if hp.name == "eps" or hp.latex == r"\varepsilon"]
    if not names:
        known = ", ".join(hp.name for hp in opt.hyperparameters) or "none"
        raise ValueError(
            f"{opt.name} has no epsilon hyperparameter (its hyperparameters: {known}); limits in eps apply to "
            "optimizers with one, such as adam, adamw and rmsprop"
        )
    if names[0] in equation.values:
        raise ValueError(
            f"{names[0]} was fixed to {equation.values[names[0]]} in this derivation; derive with {names[0]} symbolic "
            f"(leave it out of values / --set) to take its limit"
        )
    return opt.hyperparameter(names[0]).symbol


def _to_zero(value: Any) -> bool:
    if isinstance(value, str):
        value = value.strip().lower()
        if value in ("0", "zero"):
            return True
        if value in ("inf", "oo", "infinity"):
            return False
    elif value == 0:
        return True
    elif value in (sympy.oo, float("inf")):
        return False
    raise ValueError(f"a limit in eps goes to 0 or to infinity ('0' or 'inf'), got {value!r}")


def _gradients(expr: sympy.Expr, atoms: AtomRegistry) -> list[sympy.Symbol]:
    return [s for s in expr.free_symbols if isinstance(atoms.definition(s), Gradient)]


def _at_zero(x: sympy.Expr, eps: sympy.Symbol, atoms: AtomRegistry) -> sympy.Expr:
    x = _atoms(x, lambda arg: _at_zero(arg, eps, atoms), atoms).xreplace({eps: 0})
    for g in _gradients(x, atoms):
        x = x.replace(lambda e: e.is_Pow and e.base == g**2, lambda e: sympy.Abs(g) ** (2 * e.exp))
        x = x.replace(lambda e: e.is_Pow and e.base == g and e.exp.is_even, lambda e: sympy.Abs(g) ** e.exp)
        x = x.xreplace({g / sympy.Abs(g): sympy.sign(g), -g / sympy.Abs(g): -sympy.sign(g)})
    return x


def _leading(x: sympy.Expr, eps: sympy.Symbol, u: sympy.Dummy, atoms: AtomRegistry) -> sympy.Expr:
    r"""The leading term of ``x`` in :math:`u = \varepsilon^{-1/2} \to 0`."""
    x = _atoms(x, lambda arg: _leading(arg, eps, u, atoms), atoms, scale=u).xreplace({eps: u**-2})
    return sympy.powsimp(x.as_leading_term(u))


def _atoms(x: sympy.Expr, transform, atoms: AtomRegistry, scale: sympy.Dummy | None = None) -> sympy.Expr:
    """``x`` with the arguments of its contraction and reduction atoms (of the
    table ``atoms``, where the new ones are interned) transformed; with
    ``scale``, the power of ``scale`` in an argument is
    pulled out of the (linear) atom."""
    mapping = {}
    for s in x.free_symbols:
        definition = atoms.definition(s)
        if isinstance(definition, Contraction):
            args = [transform(a) for a in definition.args]
            factor = sympy.Integer(1)
            if scale is not None:
                powers = [a.as_coeff_exponent(scale)[1] for a in args]
                args = [sympy.powsimp(a / scale**p) for a, p in zip(args, powers)]
                factor = scale ** sympy.Add(*powers)
            mapping[s] = factor * atoms.contraction(args, definition.loss)
        elif isinstance(definition, (Reduction, BlockReduction)):
            reduce = atoms.reduction if isinstance(definition, Reduction) else atoms.block_reduction
            arg = transform(definition.arg)
            if scale is not None:
                power = arg.as_coeff_exponent(scale)[1]
                mapping[s] = scale**power * reduce(sympy.powsimp(arg / scale**power))
            else:
                mapping[s] = reduce(arg)
    return x.xreplace(mapping)


def eps_limit(equation: "EquationTerms", to: Any) -> "EquationTerms":
    r"""The equation in the limit :math:`\varepsilon \to 0` (``to=0``) or
    :math:`\varepsilon \to \infty` (``to="inf"``, leading order in
    :math:`\varepsilon^{-1/2}` of every term)."""
    eps = epsilon_symbol(equation)
    zero = _to_zero(to)
    atoms = equation.atoms.copy()  # the limit's own table: the equation's atoms and the new ones
    if zero:
        terms = tuple(atoms.collect(_at_zero(t, eps, atoms)) for t in equation.terms)
        note = "limit eps -> 0 (for nonzero gradient components)"
    else:
        u = sympy.Dummy("u", positive=True)
        terms = tuple(atoms.collect(_leading(t, eps, u, atoms).xreplace({u: eps ** sympy.Rational(-1, 2)})) for t in equation.terms)
        note = "limit eps -> infinity (leading order in 1/eps of each term)"
    if any(t.has(sympy.zoo, sympy.oo, sympy.nan) for t in terms):
        raise ValueError(f"the {note} of the {equation.optimizer.name} equation is singular")
    description = f"{equation.regime_description}; {note}" if equation.regime_description else note
    return replace(equation, terms=terms, regime_description=description, atoms=atoms)
