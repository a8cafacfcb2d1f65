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

Mini-batch equations (:func:`modeq.derive_epoch`, concrete steps with
batches) hold the gradients :math:`\nabla_j E_b` of the batch losses. A leading
term :math:`-\frac{P}{m}\sum_b \nabla_j E_b` is :math:`-P\nabla_j E` with
:math:`E` their mean; a lone :math:`\nabla_j E_b` gives :math:`E_b`. Cross terms
pair up: with :math:`H_a = \nabla^2 E_a`,

.. math:: c_{ab} H_a\nabla E_b + c_{ba} H_b\nabla E_a
          = \tfrac{c_{ab}+c_{ba}}{2}\,\nabla(\nabla E_a\cdot\nabla E_b)
          + \tfrac{c_{ab}-c_{ba}}{2}\,(H_a\nabla E_b - H_b\nabla E_a),

a gradient plus an antisymmetric part that is not one (its Jacobian
:math:`H_a H_b - H_b H_a + \dots` is not symmetric). Shuffling cancels it
(Smith et al. 2021: :math:`\tilde E = E + \frac{h}{4m}\sum_k\|\nabla E_k\|^2`);
a fixed order (cyclic) keeps it, and it is reported as the *remainder*
:math:`N_k` of :math:`f_k = -P\nabla_j\tilde E_k + N_k` beside the modified loss
of the gradient part.

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

from ..algebra import ComponentAlgebra
from ..components import materialize
from ..algebra.index import Contraction, Gradient, distribute
from ..quantities import LOSS, antiderivative, atoms_of, loss
from ..optimizers.base import Domain

if TYPE_CHECKING:
    from ..terms import EquationTerms

__all__ = ["ModifiedLoss", "modified_loss", "NotAGradient", "potential", "domain_positive"]


class NotAGradient(ValueError):
    """A term of the field is not (shown to be) a gradient."""


@dataclass(frozen=True)
class ModifiedLoss:
    r""":math:`\dot{\tilde\theta} = -P\,\nabla\tilde E` with
    :math:`\tilde E = \sum_k h^k \tilde E_k`, or the reason there is none.

    ``terms`` are scalars in :data:`~modeq.quantities.LOSS` and reduction
    atoms (:math:`\|\nabla E\|^2 = S[g^2]`, ...); ``preconditioner`` is
    :math:`P_j` in index form. ``remainder`` holds, per order, the part
    :math:`N_k` of the field that is provably not a gradient (the
    antisymmetric cross-batch terms of a fixed batch order):
    :math:`f_k = -P\nabla_j\tilde E_k + N_k`; the flow is then no gradient flow
    (``bool(loss)`` is false) but ``terms`` still give the gradient part."""

    equation: "EquationTerms"
    order: int
    preconditioner: sympy.Expr | None
    terms: tuple[sympy.Expr, ...] | None
    reason: str = ""
    remainder: tuple[sympy.Expr, ...] = ()

    @property
    def is_gradient(self) -> bool:
        return self.terms is not None and not any(r != 0 for r in self.remainder)

    def __bool__(self) -> bool:
        return self.is_gradient

    @property
    def potential(self) -> sympy.Expr:
        r""":math:`\tilde E = \sum_{k \le N} h^k \tilde E_k` (of the gradient part when
        there is a ``remainder``)."""
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
        """In the papers' notation, in Unicode (:func:`modeq.printing.text.modified_loss_text`)."""
        from ..printing.text import modified_loss_text

        return modified_loss_text(self)


def modified_loss(equation: "EquationTerms", order: int | None = None) -> ModifiedLoss:
    """The modified loss of ``equation`` through ``order`` (default: all its
    terms), or a :class:`ModifiedLoss` that says why there is none."""
    order = equation.order if order is None else order
    if not isinstance(order, int) or not 0 <= order <= equation.order:
        raise ValueError(f"this equation has terms up to order {equation.order}; ask for a modified loss of order 0..{equation.order}, not {order!r}")
    atoms = atoms_of(equation)
    leading = _leading(equation.terms[0], atoms)
    if leading is None:
        return ModifiedLoss(equation, order, None, None,
                            "the leading term f_0 is not -P grad E with a diagonal preconditioner P")
    preconditioner, loss0 = leading
    terms, remainder = [loss0], [sympy.Integer(0)]
    for k in range(1, order + 1):
        field = sympy.cancel(-equation.terms[k] / preconditioner)
        try:
            gradient, rest = _pair_batches(field, atoms)
            terms.append(potential(gradient, atoms))
        except NotAGradient as error:
            return ModifiedLoss(equation, order, preconditioner, None, f"the order-{k} correction (divided by P) {error}")
        remainder.append(sympy.expand(-preconditioner * rest))
    if any(r != 0 for r in remainder):
        k = next(k for k, r in enumerate(remainder) if r != 0)
        reason = (f"the order-{k} correction has a part N_{k} that is not a gradient (antisymmetric in the batches, "
                  f"H_a grad E_b - H_b grad E_a); f_{k} = -P grad E~_{k} + N_{k}")
        return ModifiedLoss(equation, order, preconditioner, tuple(terms), reason, tuple(remainder))
    return ModifiedLoss(equation, order, preconditioner, tuple(terms))


def _leading(f0: sympy.Expr, atoms) -> tuple[sympy.Expr, sympy.Expr] | None:
    r"""``(P, \tilde E_0)`` with :math:`f_0 = -P\nabla_j\tilde E_0`, or ``None``."""
    gradients = sorted((s for s in f0.free_symbols if isinstance(atoms.definition(s), Gradient)), key=sympy.default_sort_key)
    others = (atoms.component | atoms.scalar) - set(gradients)
    if len(gradients) == 1:
        (g,) = gradients
        # sign(g)/g = 1/|g| (sign descent, the eps -> 0 limit of Adam)
        preconditioner = sympy.factor(sympy.cancel((-f0 / g).subs(sympy.sign(g), g / sympy.Abs(g))))
        if preconditioner == 0 or not preconditioner.free_symbols.isdisjoint(others - {g}):
            return None
        return preconditioner, loss(atoms.definition(g).loss)
    if not gradients:
        return None
    # several batch gradients: a combination with scalar coefficients
    coefficients = {g: sympy.diff(f0, g) for g in gradients}
    if any(not c.free_symbols.isdisjoint(others | set(gradients)) for c in coefficients.values()):
        return None
    if sympy.expand(f0 - sum(c * g for g, c in coefficients.items())) != 0:
        return None
    labels = sorted(atoms.definition(g).loss or 0 for g in gradients)
    values = set(sympy.factor(c) for c in coefficients.values())
    if len(values) == 1 and labels == list(range(1, len(labels) + 1)):
        (c,) = values  # -(P/m) sum_b grad E_b = -P grad E, E the mean of the batch losses
        return sympy.factor(-c * len(labels)), LOSS
    return sympy.Integer(1), -sum(c * loss(atoms.definition(g).loss) for g, c in coefficients.items())


def _pair_batches(field: sympy.Expr, atoms) -> tuple[sympy.Expr, sympy.Expr]:
    r"""``field`` as (gradient part, antisymmetric rest): every cross term
    :math:`c_{ab} H_a\nabla E_b` (``D_1^{(a)}[g_b]``, :math:`a \ne b`) paired with
    its mirror :math:`c_{ba} H_b\nabla E_a`."""
    cross: dict[tuple[int, int], sympy.Expr] = {}
    for symbol in field.free_symbols:
        definition = atoms.definition(symbol)
        if isinstance(definition, Contraction) and len(definition.args) == 1:
            inner = atoms.definition(definition.args[0]) if isinstance(definition.args[0], sympy.Symbol) else None
            if isinstance(inner, Gradient) and None not in (inner.loss, definition.loss) and inner.loss != definition.loss:
                cross[(definition.loss, inner.loss)] = symbol
    gradient, rest = field, sympy.Integer(0)
    for (a, b), symbol in sorted(cross.items()):
        if a > b:
            continue
        mirror = cross.get((b, a)) or atoms.contraction([atoms.intern(Gradient(a))], b)
        c_ab, c_ba = sympy.diff(field, symbol), sympy.diff(field, mirror)
        if not c_ab.free_symbols.isdisjoint(atoms.component | atoms.scalar) or \
                not c_ba.free_symbols.isdisjoint(atoms.component | atoms.scalar):
            continue
        antisymmetric = (c_ab - c_ba) / 2 * (symbol - mirror)
        gradient, rest = sympy.expand(gradient - antisymmetric), rest + antisymmetric
    return gradient, rest


def potential(field: sympy.Expr, atoms=None) -> sympy.Expr:
    r"""A scalar :math:`\Phi` with :math:`\nabla_j\Phi` = ``field`` (index form),
    or :class:`NotAGradient` with the reason."""
    atoms = atoms_of(None) if atoms is None else atoms
    total = sympy.Integer(0)
    pieces: dict[sympy.Expr, sympy.Expr] = {}
    for term in sympy.Add.make_args(distribute(field)):
        found = [f for f in sympy.Mul.make_args(term) if isinstance(atoms.definition(f), Contraction)]
        key = found[0] if len(found) == 1 else sympy.Mul(*found)
        pieces[key] = pieces.get(key, 0) + term / key
    for atom, coefficient in sorted(pieces.items(), key=lambda kv: sympy.default_sort_key(kv[0])):
        total += _piece(atom, sympy.factor(coefficient), field, atoms)
    return total


def _cross_potential(definition: Contraction, coefficient: sympy.Expr, field: sympy.Expr, atoms) -> sympy.Expr | None:
    r""":math:`c\,(H_a\nabla E_b + H_b\nabla E_a) = c\,\nabla(\nabla E_a\cdot\nabla E_b)`: half of the
    symmetric pair is :math:`\tfrac{c}{2}\nabla_j S[g_a g_b]` (the other half comes with the mirror)."""
    (arg,) = definition.args
    inner = atoms.definition(arg) if isinstance(arg, sympy.Symbol) else None
    if not isinstance(inner, Gradient) or inner.loss == definition.loss or None in (inner.loss, definition.loss):
        return None
    if not coefficient.free_symbols.isdisjoint(atoms.component | atoms.scalar):
        return None
    mirror = atoms.contraction([atoms.intern(Gradient(definition.loss))], inner.loss)
    if sympy.expand(sympy.diff(field, mirror) - coefficient) != 0:
        return None  # not symmetric: the pair is no gradient (see _pair_batches)
    return coefficient / 2 * atoms.reduction(arg * atoms.intern(Gradient(definition.loss)))


def _piece(atom: sympy.Expr, coefficient: sympy.Expr, field: sympy.Expr, atoms) -> sympy.Expr:
    varying = atoms.component
    definition = atoms.definition(atom) if isinstance(atom, sympy.Symbol) else None
    if atom == 1:
        gradients = [s for s in coefficient.free_symbols if isinstance(atoms.definition(s), Gradient)]
        for g in gradients:
            c = sympy.cancel(coefficient / g)
            if c.free_symbols.isdisjoint(varying | atoms.scalar):
                return c * loss(atoms.definition(g).loss)
        if coefficient.free_symbols & varying == {atoms.theta}:
            x = sympy.Dummy("x", real=True)
            phi = sympy.integrate(coefficient.xreplace({atoms.theta: x}), x).xreplace({x: atoms.theta})
            return atoms.reduction(phi)
        raise NotAGradient(_witness(field, atoms))
    if isinstance(definition, Contraction) and len(definition.args) == 1:
        crossed = _cross_potential(definition, coefficient, field, atoms)
        if crossed is not None:
            return crossed
        g = atoms.intern(Gradient(definition.loss))
        (psi,) = definition.args
        found = antiderivative(psi, g, atoms) if psi.free_symbols & (varying | atoms.scalar) <= {g} else None
        if found is not None:
            constant, phi = found
            scalars = coefficient.free_symbols & atoms.scalar
            if not coefficient.free_symbols & varying and not scalars:
                return coefficient * constant * atoms.reduction(phi)
            if not coefficient.free_symbols & varying and scalars == {atoms.reduction(phi)}:
                s = atoms.reduction(phi)
                t = sympy.Dummy("s", positive=True)
                return constant * sympy.integrate(coefficient.xreplace({s: t}), t).xreplace({t: s})
    raise NotAGradient(_witness(field, atoms))


def _witness(field: sympy.Expr, atoms) -> str:
    r"""Why ``field`` is not a gradient: its Jacobian on a test loss (test batch
    losses for mini-batch fields), or "undecided"."""
    x, y = sympy.symbols("x y", real=True)
    test_loss = x**4 / 4 + x**2 * y + y**3 / 3 + x * y / 2 + y**2
    point = {x: sympy.Rational(3, 10), y: sympy.Rational(-7, 10)}
    batches = sorted({atoms.definition(s).loss for s in _atoms_in(field, atoms)
                      if isinstance(atoms.definition(s), (Gradient, Contraction)) and atoms.definition(s).loss})
    losses = [test_loss + b * x**3 * y / 3 + (b * y - x) ** 2 / (b + 1) for b in range(1, max(batches, default=0) + 1)]
    algebra = ComponentAlgebra(None if losses else test_loss, (x, y), losses or None)
    ((fx, fy),) = materialize([field], atoms, algebra)
    curl = sympy.diff(fy, x) - sympy.diff(fx, y)
    hyper = sorted(curl.free_symbols - {x, y}, key=sympy.default_sort_key)
    values = {s: sympy.Rational(1, n + 3) for n, s in enumerate(hyper)}
    number = curl.xreplace({**point, **values}).evalf(50)
    described = f"loss E = {test_loss}" if not losses else f"batch losses E_b = {test_loss} + b*x**3*y/3 + (b*y - x)**2/(b + 1)"
    if abs(number) > 1e-30:
        at = ", ".join(f"{s} = {v}" for s, v in values.items())
        return (f"is not a gradient field: on the test {described} its Jacobian is not symmetric "
                f"(d_x G_y - d_y G_x = {float(number):.4g} at (x, y) = (3/10, -7/10){', ' + at if at else ''})")
    return "has no potential found by modeq's rules (its Jacobian is symmetric on a test loss, so it may still be one)"


def _atoms_in(expr: sympy.Expr, atoms) -> set[sympy.Symbol]:
    """The atoms of ``expr``, those inside contraction and reduction arguments included."""
    found = set()
    for s in expr.free_symbols:
        definition = atoms.definition(s)
        if definition is None:
            continue
        found.add(s)
        for arg in getattr(definition, "args", ()) + ((definition.arg,) if hasattr(definition, "arg") else ()):
            found |= _atoms_in(arg, atoms)
    return found


def domain_positive(equation: "EquationTerms") -> dict[sympy.Symbol, sympy.Expr]:
    r"""Substitutions making the domains explicit: a decay :math:`\beta \in [0,1)`
    becomes :math:`s/(1+s)` with :math:`s \ge 0`, so :math:`1-\beta = 1/(1+s) > 0`."""
    mapping = {}
    for hp in equation.optimizer.hyperparameters:
        if hp.domain is Domain.UNIT_INTERVAL:
            s = sympy.Symbol(f"{hp.name}_odds", nonnegative=True)
            mapping[hp.symbol] = s / (1 + s)
    return mapping

