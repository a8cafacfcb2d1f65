r"""Modified losses: when is the modified field a (preconditioned) gradient?

Write the field as :math:`f = -P\,G` with the diagonal preconditioner
:math:`P_j = -f_{0,j}/\nabla_j E` read off the leading term (a number, a
function of the hyperparameters, or of :math:`\nabla_j E` itself, e.g.
:math:`1/|\nabla_j E|` for sign descent). The field is a preconditioned
gradient flow :math:`\dot\theta = -P\nabla\tilde E` when every
:math:`G_k = -f_k/P` is a gradient, found term by term:

* :math:`c\,\nabla_j E = \nabla_j (cE)`;
* :math:`c\,D_1[\psi(g)] = \nabla_j \sum_i c\,\varphi(\nabla_i E)` with
  :math:`\varphi' = \psi` (:math:`\psi = g/\sqrt{g^2+\varepsilon}` gives
  :math:`\|\nabla E\|_{1,\varepsilon}`);
* :math:`c(s)\,D_1[\psi(g)]` with :math:`s = \sum_i\varphi(\nabla_i E)`:
  :math:`\nabla_j \int c(s)\,ds` (SAM's :math:`\|\nabla E\|`).

A term outside these rules (a coefficient that varies with :math:`j`, a
:math:`D_2`, a nested contraction) is tested on a concrete loss: an
asymmetric Jacobian :math:`\partial_k G_j \ne \partial_j G_k` proves it is not a
gradient (explicit Euler's :math:`h^2` term is the classic case); a symmetric
one is reported as undecided.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping

import sympy

from ..algebra import ATOMS, ComponentAlgebra
from ..algebra.index import Contraction, Gradient, distribute
from ..quantities import LOSS, antiderivative, loss
from ..optimizers.base import Domain

if TYPE_CHECKING:
    from ..equation import ModifiedEquation

__all__ = ["ModifiedLoss", "modified_loss", "NotAGradient", "potential", "domain_positive"]


class NotAGradient(ValueError):
    """A term of the field is not (shown to be) a gradient."""


@dataclass(frozen=True)
class ModifiedLoss:
    r""":math:`\dot{\tilde\theta} = -P\,\nabla\tilde E` with
    :math:`\tilde E = \sum_k h^k \tilde E_k`, or the reason there is none.

    ``terms`` are scalars in :data:`~modeq.quantities.LOSS` and reduction
    atoms (:math:`\|\nabla E\|^2 = S[g^2]`, ...); ``preconditioner`` is
    :math:`P_j` in index form."""

    equation: "ModifiedEquation"
    order: int
    preconditioner: sympy.Expr | None
    terms: tuple[sympy.Expr, ...] | None
    reason: str = ""

    @property
    def is_gradient(self) -> bool:
        return self.terms is not None

    def __bool__(self) -> bool:
        return self.is_gradient

    @property
    def potential(self) -> sympy.Expr:
        r""":math:`\tilde E = \sum_{k \le N} h^k \tilde E_k`."""
        from ..optimizers.language import h

        if self.terms is None:
            raise NotAGradient(self.reason)
        return sympy.Add(*(h**k * t for k, t in enumerate(self.terms)))

    def latex(self, symbols: Mapping[str, str] | None = None) -> str:
        r""":math:`\tilde E = \dots` and the preconditioner, as LaTeX."""
        from ..printing.potential import modified_loss_latex

        if self.terms is None:
            raise NotAGradient(self.reason)
        return modified_loss_latex(self, symbols)

    def __str__(self) -> str:
        name = self.equation.optimizer.name
        if self.terms is None:
            return f"{name} (order {self.order}): no modified loss: {self.reason}"
        return f"{name} (order {self.order}): f = -P grad(E~), P_j = {sympy.sstr(self.preconditioner)}, E~ = {sympy.sstr(self.potential)}"


def modified_loss(equation: "ModifiedEquation", order: int | None = None) -> ModifiedLoss:
    """The modified loss of ``equation`` through ``order`` (default: all its
    terms), or a :class:`ModifiedLoss` that says why there is none."""
    order = equation.order if order is None else order
    if not isinstance(order, int) or not 0 <= order <= equation.order:
        raise ValueError(f"this equation has terms up to order {equation.order}; ask for a modified loss of order 0..{equation.order}, not {order!r}")
    g = ATOMS.intern(Gradient())
    # sign(g)/g = 1/|g| (sign descent, the eps -> 0 limit of Adam)
    preconditioner = sympy.factor(sympy.cancel((-equation.terms[0] / g).subs(sympy.sign(g), g / sympy.Abs(g))))
    if preconditioner == 0 or not preconditioner.free_symbols.isdisjoint((ATOMS.component | ATOMS.scalar) - {g}):
        return ModifiedLoss(equation, order, None, None,
                            "the leading term f_0 is not -P grad E with a diagonal preconditioner P")
    terms = [LOSS]
    for k in range(1, order + 1):
        field = sympy.cancel(-equation.terms[k] / preconditioner)
        try:
            terms.append(potential(field))
        except NotAGradient as error:
            return ModifiedLoss(equation, order, preconditioner, None, f"the order-{k} correction (divided by P) {error}")
    return ModifiedLoss(equation, order, preconditioner, tuple(terms))


def potential(field: sympy.Expr) -> sympy.Expr:
    r"""A scalar :math:`\Phi` with :math:`\nabla_j\Phi` = ``field`` (index form),
    or :class:`NotAGradient` with the reason."""
    total = sympy.Integer(0)
    pieces: dict[sympy.Expr, sympy.Expr] = {}
    for term in sympy.Add.make_args(distribute(field)):
        atoms = [f for f in sympy.Mul.make_args(term) if isinstance(ATOMS.definition(f), Contraction)]
        key = atoms[0] if len(atoms) == 1 else sympy.Mul(*atoms)
        pieces[key] = pieces.get(key, 0) + term / key
    for atom, coefficient in sorted(pieces.items(), key=lambda kv: sympy.default_sort_key(kv[0])):
        total += _piece(atom, sympy.factor(coefficient), field)
    return total


def _piece(atom: sympy.Expr, coefficient: sympy.Expr, field: sympy.Expr) -> sympy.Expr:
    varying = ATOMS.component
    definition = ATOMS.definition(atom) if isinstance(atom, sympy.Symbol) else None
    if atom == 1:
        gradients = [s for s in coefficient.free_symbols if isinstance(ATOMS.definition(s), Gradient)]
        for g in gradients:
            c = sympy.cancel(coefficient / g)
            if c.free_symbols.isdisjoint(varying | ATOMS.scalar):
                return c * loss(ATOMS.definition(g).loss)
        if coefficient.free_symbols & varying == {ATOMS.theta}:
            x = sympy.Dummy("x", real=True)
            phi = sympy.integrate(coefficient.xreplace({ATOMS.theta: x}), x).xreplace({x: ATOMS.theta})
            return ATOMS.reduction(phi)
        raise NotAGradient(_witness(field))
    if isinstance(definition, Contraction) and len(definition.args) == 1:
        g = ATOMS.intern(Gradient(definition.loss))
        (psi,) = definition.args
        found = antiderivative(psi, g) if psi.free_symbols & (varying | ATOMS.scalar) <= {g} else None
        if found is not None:
            constant, phi = found
            scalars = coefficient.free_symbols & ATOMS.scalar
            if not coefficient.free_symbols & varying and not scalars:
                return coefficient * constant * ATOMS.reduction(phi)
            if not coefficient.free_symbols & varying and scalars == {ATOMS.reduction(phi)}:
                s = ATOMS.reduction(phi)
                t = sympy.Dummy("s", positive=True)
                return constant * sympy.integrate(coefficient.xreplace({s: t}), t).xreplace({t: s})
    raise NotAGradient(_witness(field))


def _witness(field: sympy.Expr) -> str:
    r"""Why ``field`` is not a gradient: its Jacobian on a test loss, or "undecided"."""
    x, y = sympy.symbols("x y", real=True)
    test_loss = x**4 / 4 + x**2 * y + y**3 / 3 + x * y / 2 + y**2
    point = {x: sympy.Rational(3, 10), y: sympy.Rational(-7, 10)}
    fx, fy = ComponentAlgebra(test_loss, (x, y)).materialize(field, ATOMS)
    curl = sympy.diff(fy, x) - sympy.diff(fx, y)
    hyper = sorted(curl.free_symbols - {x, y}, key=sympy.default_sort_key)
    values = {s: sympy.Rational(1, n + 3) for n, s in enumerate(hyper)}
    number = curl.xreplace({**point, **values}).evalf(50)
    if abs(number) > 1e-30:
        at = ", ".join(f"{s} = {v}" for s, v in values.items())
        return (f"is not a gradient field: on the test loss E = {test_loss} its Jacobian is not symmetric "
                f"(d_x G_y - d_y G_x = {float(number):.4g} at (x, y) = (3/10, -7/10){', ' + at if at else ''})")
    return "has no potential found by modeq's rules (its Jacobian is symmetric on a test loss, so it may still be one)"


def domain_positive(equation: "ModifiedEquation") -> dict[sympy.Symbol, sympy.Expr]:
    r"""Substitutions making the domains explicit: a decay :math:`\beta \in [0,1)`
    becomes :math:`s/(1+s)` with :math:`s \ge 0`, so :math:`1-\beta = 1/(1+s) > 0`."""
    mapping = {}
    for hp in equation.optimizer.hyperparameters:
        if hp.domain is Domain.UNIT_INTERVAL:
            s = sympy.Symbol(f"{hp.name}_odds", nonnegative=True)
            mapping[hp.symbol] = s / (1 + s)
    return mapping

