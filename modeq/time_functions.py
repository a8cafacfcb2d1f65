r"""Functions of time held opaque while a modified equation is derived.

A schedule (:mod:`modeq.optimizers.schedules`) such as a smooth warm-up times
a cosine decay is a long expression in :math:`t`; the Lie series of a
non-autonomous field needs its derivatives :math:`\partial_t^r\eta`, longer
still, and factoring coefficients that hold them explicitly costs minutes.
The derivation never needs their form, only that they are differentiable
functions of :math:`t`. So every maximal subexpression of the update that
depends on :math:`t` and hyperparameters alone is replaced by an undefined
function :math:`\eta_i(t)` first (inside primitives too: a scheduled decay);
the terms come out as polynomials in :math:`\eta_i, \eta_i', \eta_i'', \dots`,
collected and factored cheaply, and :meth:`TimeFunctions.restore` substitutes
the definitions back and evaluates the derivatives. The restored terms are
exactly the terms derived with the explicit expressions.

A function of time read at a shifted time (a schedule at the step count
:math:`k = n+1`, :math:`F(t+h)`; NAdam's :math:`\mu_{k+1}` at :math:`t+2h`) becomes
:math:`\eta(t + ch)` with one opaque :math:`\eta = F` for every shift, and the
expansion's Taylor series gives :math:`\eta^{(m)}(t)\,(ch)^m/m!`. Other
expressions in :math:`t` and :math:`h` (:math:`0.96^{\psi(t+h)/h}`, with no
expansion) are left to the expansion, which says why.
"""

from __future__ import annotations

from typing import Callable

import sympy
from sympy.core.function import AppliedUndef

from .description import h, t, theta
from .primitives import Primitive
from .terms import OpaqueTime

__all__ = ["TimeFunctions"]


class TimeFunctions:
    r"""The update with its functions of time made opaque (:attr:`update`), and
    the way back (:meth:`restore`)."""

    def __init__(self, update: sympy.Expr) -> None:
        self.definitions: dict[sympy.Expr, sympy.Expr] = {}
        self._functions: dict[sympy.Expr, Callable[[sympy.Expr], sympy.Expr]] = {}
        self._seen: dict[sympy.Expr, sympy.Expr] = {}
        self.update = self._abstract(update)

    def _function(self, definition: sympy.Expr) -> Callable[[sympy.Expr], sympy.Expr]:
        r"""The opaque :math:`\eta_i` of ``definition`` (a function of ``t``), one per
        definition, as a map from the argument to the expression: a definition
        affine in an earlier one, :math:`F = a + b\,G` with :math:`a, b` free of
        :math:`t`, is :math:`a + b\,\eta_G` (NAdam's :math:`\mu(t)`, :math:`1-\mu(t)`
        and :math:`\mu(t)/\beta_1` are one function: as three, the coefficients were
        polynomials in three dependent symbols, twice as long)."""
        if definition not in self._functions:
            self._functions[definition] = self._affine(definition) or self._new(definition)
        return self._functions[definition]

    def _new(self, definition: sympy.Expr) -> Callable[[sympy.Expr], sympy.Expr]:
        function = sympy.Function(f"eta_{len(self.definitions)}", real=True)
        self.definitions[function(t)] = definition
        return function

    def _affine(self, definition: sympy.Expr) -> Callable[[sympy.Expr], sympy.Expr] | None:
        slope = sympy.diff(definition, t)
        for function, other in self.definitions.items():
            b = sympy.cancel(slope / sympy.diff(other, t))
            if b.has(t) or b == 0:
                continue
            a = sympy.cancel(definition - b * other)
            if not a.has(t):
                return lambda argument, f=function.func, a=a, b=b: a + b * f(argument)
        return None

    def _abstract(self, node: sympy.Expr) -> sympy.Expr:
        if node in self._seen:
            return self._seen[node]
        if not node.has(t) or node.is_polynomial(t, h):  # cheap as they are (and read as written in errors)
            result = node
        elif not node.has(h, theta, Primitive):
            result = self._function(node)(t)
        elif not node.has(theta, Primitive) and (shifted := self._shifted(node)) is not None:
            definition, argument = shifted
            result = self._function(definition)(argument)
        elif node.is_Mul and len(timed := self._timed_factors(node)) > 1:
            rest = [a for a in node.args if a not in timed]
            result = self._function(sympy.Mul(*timed))(t) * self._abstract(sympy.Mul(*rest))
        else:
            result = node.func(*(self._abstract(a) for a in node.args))
        self._seen[node] = result
        return result

    @staticmethod
    def _timed_factors(node: sympy.Mul) -> list[sympy.Expr]:
        r"""The factors of ``node`` that make one function of time: those in
        :math:`t` and hyperparameters alone, unless none of them is more than a
        polynomial, with the factors in hyperparameters alone that hold a
        radical or a function (a warm-up's normalization
        :math:`2/(1 + \sqrt{1 + \delta^2})`)."""
        own = [a for a in node.args if a.has(t) and not a.has(h, theta, Primitive)]
        if all(a.is_polynomial(t) for a in own):
            return []
        constant = [a for a in node.args if not a.has(t, h, theta, Primitive) and not a.is_number
                    and (a.has(sympy.Function) or any(not p.exp.is_Integer for p in a.atoms(sympy.Pow)))]
        return own + constant

    @staticmethod
    def _shifted(node: sympy.Expr) -> tuple[sympy.Expr, sympy.Expr] | None:
        r"""``(F(t), t + ch)`` with ``node`` :math:`= F(t + ch)`, :math:`c` a number, or ``None``."""
        tau = sympy.Dummy("tau")
        for argument in sympy.preorder_traversal(node):
            if argument.is_Add and (argument - t).is_polynomial(h) and not (argument - t).has(t) \
                    and (argument - t).as_coeff_Mul()[0].is_number and (argument - t).as_coeff_Mul()[1] == h:
                rest = node.xreplace({argument: tau})
                if not rest.has(t, h):
                    return rest.xreplace({tau: t}), argument
        return None

    def opaque(self, terms, states=()) -> "OpaqueTime | None":
        """The derived ``terms`` and slow states' terms (``states``, each a tuple)
        with their functions opaque, for the printers (``None`` without functions of time)."""
        if not self.definitions:
            return None
        terms, states = tuple(terms), tuple(tuple(s) for s in states)
        restored = (tuple(map(self.restore, terms)), *(tuple(map(self.restore, s)) for s in states))
        return OpaqueTime(tuple(self.definitions.items()), terms, states, restored)

    def restore(self, expr: sympy.Expr) -> sympy.Expr:
        """``expr`` with the definitions substituted and their derivatives evaluated."""
        if not self.definitions:
            return expr
        mapping = {function: sympy.Lambda(t, definition) for function, definition in
                   ((f.func, d) for f, d in self.definitions.items())}
        explicit = expr.replace(lambda e: isinstance(e, AppliedUndef) and e.func in mapping,
                                lambda e: mapping[e.func](*e.args))
        return explicit.replace(lambda e: isinstance(e, sympy.Derivative), lambda e: e.doit())
