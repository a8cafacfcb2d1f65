r"""Named scalar quantities and the gradients that index-form fields contain.

A scalar built elementwise from the gradient is a reduction atom
:math:`S[\varphi(g)] = \sum_i \varphi(\nabla_i E)`; its gradient is the
contraction

.. math:: \nabla_j \sum_i \varphi(\nabla_i E) = \sum_i \nabla_{ij} E\,\varphi'(\nabla_i E) = D_1[\varphi'(g)]_j .

Three such scalars have names in the papers:

* :math:`\|\nabla E\|^2 = S[g^2]`, so :math:`D_1[g] = \tfrac12\nabla_j\|\nabla E\|^2`;
* :math:`\|\nabla E\|_1 = S[|g|]`, so :math:`D_1[\operatorname{sign} g] = \nabla_j\|\nabla E\|_1`;
* :math:`\|\nabla E\|_{1,\varepsilon} = S[\sqrt{g^2+\varepsilon}]`, so
  :math:`D_1[g/\sqrt{g^2+\varepsilon}] = \nabla_j\|\nabla E\|_{1,\varepsilon}`.

:func:`name_gradients` rewrites a field with these gradients as *named
gradient* symbols (:func:`gradient_of`), which the printers and the
modified-loss search read. :data:`LOSS` is the loss value :math:`E` itself
(:func:`loss` gives :math:`E_b` of a batch).
"""

from __future__ import annotations

import sympy

from .algebra import ATOMS
from .algebra.index import AtomRegistry, Contraction, Gradient, Reduction

__all__ = ["atoms_of", "LOSS", "loss", "gradient_of", "named_gradient", "name_gradients", "norm_kind", "antiderivative"]

def atoms_of(equation=None) -> AtomRegistry:
    """The atom table of ``equation`` (its own), else the default table
    :data:`~modeq.algebra.ATOMS` of hand-written expressions: the one place
    output code looks atoms up."""
    return getattr(equation, "atoms", ATOMS)


#: The loss value :math:`E` (a scalar).
LOSS = sympy.Symbol("E")

_LOSSES: dict[sympy.Symbol, int | None] = {LOSS: None}
_GRADIENTS: dict[sympy.Symbol, sympy.Expr] = {}


def loss(batch: int | None = None) -> sympy.Symbol:
    r"""The scalar :math:`E` (``batch`` None) or the batch loss :math:`E_b`."""
    if batch is None:
        return LOSS
    symbol = sympy.Symbol(f"E_{batch}")
    _LOSSES[symbol] = batch
    return symbol


def loss_batch(symbol: sympy.Symbol) -> tuple[bool, int | None]:
    """Whether ``symbol`` is a loss value, and of which batch."""
    return symbol in _LOSSES, _LOSSES.get(symbol)


def gradient_of(scalar: sympy.Expr) -> sympy.Symbol:
    r"""The symbol for :math:`\nabla_j` of the scalar ``scalar`` (a reduction
    atom or the loss), interned so equal gradients are one symbol."""
    symbol = sympy.Symbol(f"grad[{scalar}]")
    _GRADIENTS[symbol] = scalar
    return symbol


def named_gradient(symbol: sympy.Symbol) -> sympy.Expr | None:
    """The scalar whose gradient ``symbol`` stands for, or ``None``."""
    return _GRADIENTS.get(symbol)


def norm_kind(scalar: sympy.Expr, atoms: AtomRegistry) -> tuple[str, int | None, sympy.Expr | None] | None:
    r"""``("2", b, None)`` for :math:`\|\nabla E_b\|^2`, ``("1", b, None)`` for
    :math:`\|\nabla E_b\|_1`, ``("1,eps", b, c)`` for
    :math:`\|\nabla E_b\|_{1,c}`; ``None`` for any other scalar."""
    definition = atoms.definition(scalar) if isinstance(scalar, sympy.Symbol) else None
    if not isinstance(definition, Reduction):
        return None
    arg = definition.arg
    for symbol in arg.free_symbols:
        gradient = atoms.definition(symbol)
        if isinstance(gradient, Gradient):
            if arg == symbol**2:
                return "2", gradient.loss, None
            if arg == sympy.Abs(symbol) or arg == sympy.sqrt(symbol**2):
                return "1", gradient.loss, None
            if arg.is_Pow and arg.exp == sympy.S.Half and arg.base.is_Add:
                rest = arg.base - symbol**2
                if not atoms.is_component(rest) and rest.free_symbols.isdisjoint(atoms.scalar) and rest != 0:
                    return "1,eps", gradient.loss, rest
    return None


def _named_potential(psi: sympy.Expr, g: sympy.Symbol, atoms: AtomRegistry) -> tuple[sympy.Expr, sympy.Expr] | None:
    r"""``(c, φ)`` with :math:`\psi = c\,\varphi'` for the three named norms."""
    if psi == g:
        return sympy.Rational(1, 2), g**2
    if psi == sympy.sign(g):
        return sympy.Integer(1), sympy.Abs(g)
    numerator, denominator = sympy.fraction(psi)
    if numerator == g and denominator.is_Pow and denominator.exp == sympy.S.Half:
        rest = sympy.expand(denominator.base - g**2)
        if rest != 0 and g not in rest.free_symbols and rest.free_symbols.isdisjoint(atoms.component | atoms.scalar):
            return sympy.Integer(1), sympy.sqrt(g**2 + rest)
    return None


def antiderivative(psi: sympy.Expr, g: sympy.Symbol, atoms: AtomRegistry) -> tuple[sympy.Expr, sympy.Expr] | None:
    r"""``(c, φ)`` with :math:`c\,\varphi'(g) = \psi(g)`: the named norms first,
    then SymPy's integral (checked by differentiating); ``None`` if there is
    none in closed form."""
    named = _named_potential(psi, g, atoms)
    if named is not None:
        return named
    x = sympy.Dummy("x", real=True)
    try:
        phi = sympy.integrate(psi.xreplace({g: x}), x)
    except (NotImplementedError, ValueError, TypeError):
        return None
    if phi.has(sympy.Integral) or not _vanishes(sympy.diff(phi, x) - psi.xreplace({g: x})):
        return None
    return sympy.Integer(1), phi.xreplace({x: g})


def _vanishes(difference: sympy.Expr) -> bool:
    r"""Whether ``difference`` is identically zero, by exact arithmetic (no
    ``simplify``): each radical's base is brought over one denominator with
    its content taken out, so that SymPy splits the root over the factors it
    knows positive (:math:`\sqrt{x^2/\varepsilon + 1} = \sqrt{x^2+\varepsilon}/\sqrt{\varepsilon}`,
    what differentiating :math:`\operatorname{asinh}(x/\sqrt\varepsilon)` gives), and
    the difference is cancelled as a rational function of :math:`x`, the
    radicals and the functions it holds. A zero this does not see counts as
    non-zero (no antiderivative is claimed), never the reverse."""
    def radical(e: sympy.Expr) -> bool:
        return e.is_Pow and e.exp.is_Rational and not e.exp.is_Integer and e.base.is_Add

    rewritten = difference.replace(radical, lambda e: sympy.factor_terms(sympy.together(e.base)) ** e.exp)
    return sympy.cancel(sympy.together(rewritten)) == 0


def _elementwise_argument(symbol: sympy.Symbol, atoms: AtomRegistry) -> tuple[sympy.Expr, sympy.Symbol] | None:
    """``(ψ, g_b)`` if ``symbol`` is :math:`D_1[\\psi(g_b)]` of the loss :math:`E_b`."""
    definition = atoms.definition(symbol)
    if not isinstance(definition, Contraction) or len(definition.args) != 1:
        return None
    g = atoms.intern(Gradient(definition.loss))
    (psi,) = definition.args
    if not (psi.free_symbols & (atoms.component | atoms.scalar)) <= {g}:
        return None
    return psi, g


def name_gradients(expr: sympy.Expr, atoms: AtomRegistry) -> sympy.Expr:
    r"""``expr`` with every :math:`D_1[\psi(g)]` whose :math:`\psi` is the
    derivative of a named norm replaced by :func:`gradient_of` that norm (times
    its constant, e.g. :math:`D_1[g] = \tfrac12\nabla_j\|\nabla E\|^2`); the
    atoms are those of the table ``atoms``, where the norms are interned."""
    mapping = {}
    for symbol in expr.free_symbols:
        found = _elementwise_argument(symbol, atoms)
        if found is None:
            continue
        psi, g = found
        named = _named_potential(psi, g, atoms)
        if named is not None:
            constant, phi = named
            mapping[symbol] = constant * gradient_of(atoms.reduction(phi))
    return _chain_rule(expr.xreplace(mapping))


def _chain_rule(expr: sympy.Expr) -> sympy.Expr:
    r"""Each term :math:`c\,Q^a\,\nabla_j Q` with a named scalar :math:`Q` as
    :math:`\frac{c}{a+1}\nabla_j Q^{a+1}` when :math:`a > -1` (a gradient of a
    negative power reads worse than the product), e.g. SAM's
    :math:`\tfrac12\nabla_j\|\nabla E\|^2/\|\nabla E\| = \nabla_j\|\nabla E\|`."""
    terms = []
    for term in sympy.Add.make_args(expr):
        factors = sympy.Mul.make_args(term)
        gradients = [f for f in factors if named_gradient(f) is not None]
        if len(gradients) == 1:
            q = named_gradient(gradients[0])
            powers = [f for f in factors if f.is_Pow and f.base == q and f.exp.is_number and f.exp > -1]
            if len(powers) == 1:
                a = powers[0].exp
                term = term / (gradients[0] * powers[0]) / (a + 1) * gradient_of(q ** (a + 1))
        terms.append(term)
    return sympy.Add(*terms)
