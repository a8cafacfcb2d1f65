r"""How a person writes a term of a modified equation: the layout the printers render.

A term :math:`f_k` (index form) is written as a sum of *blocks*, one per
*quantity* :math:`Q` (a named gradient such as :math:`\nabla_j\|\nabla E\|^2`,
a contraction, a product of them, or 1):

.. math:: f_k = \sum_Q \text{outer}_Q \Big(\sum_a s_a\, m_a\Big)\, Q ,

where :math:`s_a` are *scalar* coefficients (fractions of hyperparameters,
factored, with :math:`1-\beta` rather than :math:`\beta-1`), :math:`m_a` are
elementwise monomials in :math:`\nabla_j E` and :math:`\theta_j`, and
:math:`\text{outer}_Q` is the elementwise factor they share. When the
coefficient holds a radical :math:`R_j = \sqrt{|\nabla_j E|^2+\varepsilon}` or
:math:`R_j = \varepsilon + |\nabla_j E|` (Adam, RMSProp), it is written as a
polynomial in :math:`\varepsilon/R_j^2` (resp. :math:`\varepsilon/R_j`) over a
power of :math:`R_j` — the form of "On the Implicit Bias of Adam", eq. (4).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from math import gcd

import sympy
from sympy.polys.rings import PolyRing

from ..algebra import factoring
from ..algebra.index import AtomRegistry, Gradient, distribute
from ..quantities import loss_batch, name_gradients, named_gradient

__all__ = ["Summand", "Block", "Group", "arrange", "split_radicals", "term_blocks", "tidy_scalar"]

Factors = tuple[tuple[sympy.Expr, sympy.Expr], ...]


@dataclass(frozen=True)
class Summand:
    r""":math:`\text{sign}\cdot\text{number}\cdot\prod(\text{base}^{\text{exp}})\cdot\text{component}`."""

    sign: int
    number: sympy.Rational
    scalar: Factors
    component: sympy.Expr

    def value(self) -> sympy.Expr:
        return self.sign * self.number * sympy.Mul(*(b**e for b, e in self.scalar)) * self.component

    def fraction_factors(self, extra: sympy.Expr, lead: tuple[sympy.Expr, ...] = ()) -> tuple[list[sympy.Expr], list[sympy.Expr]]:
        r"""The factors above and below the bar of :math:`\frac{p}{q}\prod_i b_i^{e_i}\cdot x`
        (the number :math:`p/q`, the scalar factors, then ``extra`` :math:`x`): a factor
        with a negative exponent goes below as :math:`b_i^{-e_i}`; ``lead`` stands right
        after :math:`p` (LaTeX puts the power of :math:`h` there). The sign is not included."""
        num = [sympy.Integer(self.number.p), *lead] + [b**e for b, e in self.scalar if not e.could_extract_minus_sign()]
        den = [sympy.Integer(self.number.q)] + [b**-e for b, e in self.scalar if e.could_extract_minus_sign()]
        top, bottom = sympy.fraction(extra)
        return num + list(sympy.Mul.make_args(top)), den + list(sympy.Mul.make_args(bottom))


@dataclass(frozen=True)
class Block:
    r""":math:`\text{prefactor}\cdot\text{outer}\cdot(\sum \text{summands})\cdot\text{quantity}`."""

    quantity: sympy.Expr
    prefactor: sympy.Rational
    outer: sympy.Expr
    summands: tuple[Summand, ...]

    def value(self) -> sympy.Expr:
        return self.prefactor * self.outer * sympy.Add(*(s.value() for s in self.summands)) * self.quantity

    def printed_quantity(self, hpower: sympy.Expr) -> tuple[sympy.Expr | None, sympy.Expr]:
        r"""``(quantity, hpower)`` as printers write them: the quantity after the
        coefficient (``None`` for 1), and the coefficient's power of :math:`h`. A
        quantity that is a reciprocal :math:`1/q` (of a slow state,
        :math:`1/\tilde\tau_j`) joins the coefficient's denominator, :math:`h^k/q`:
        ``β∇_j E/(2τ̃_j)``, not ``β∇_j E/2 1/τ̃_j``."""
        top, bottom = sympy.fraction(self.quantity)
        if top == 1 and bottom != 1:
            return None, hpower / bottom
        return (None if self.quantity == 1 else self.quantity), hpower

    def lone_summand(self) -> Summand:
        r"""The only summand :math:`s` with the prefactor :math:`p` taken in
        (:math:`\operatorname{sgn}(p)\,s` with number :math:`|p|\,s_{\text{number}}`),
        so that :math:`p\,(s)` prints as one signed summand."""
        (only,) = self.summands
        sign = only.sign * (1 if self.prefactor > 0 else -1)
        return Summand(sign, only.number * abs(self.prefactor), only.scalar, only.component)


@dataclass(frozen=True)
class Group:
    """The blocks of the term at :math:`h^{\\text{power}}`."""

    power: int
    blocks: tuple[Block, ...]

    def value(self) -> sympy.Expr:
        return sympy.Add(*(b.value() for b in self.blocks))


def _is_quantity(symbol: sympy.Symbol, atoms: AtomRegistry) -> bool:
    if named_gradient(symbol) is not None or symbol in atoms.scalar or loss_batch(symbol)[0]:
        return True
    return symbol in atoms.component and symbol != atoms.theta and not isinstance(atoms.definition(symbol), Gradient)


def _component(expr: sympy.Expr, atoms: AtomRegistry) -> bool:
    return any(s in atoms.component for s in expr.free_symbols)


def arrange(terms: tuple[sympy.Expr, ...], atoms: AtomRegistry,
            decays: frozenset[sympy.Symbol] = frozenset()) -> tuple[Group, ...]:
    """The layout of the terms :math:`f_0..f_N` (zero terms are left out) whose
    atoms are defined in ``atoms`` (the equation's table, ``eq.atoms``);
    ``decays`` are the hyperparameters in :math:`[0, 1)` (so :math:`1-\beta > 0`)."""
    groups = []
    for power, term in enumerate(terms):
        blocks = term_blocks(name_gradients(split_radicals(term, atoms, decays), atoms), atoms)
        if blocks:
            groups.append(Group(power, blocks))
    return tuple(groups)


def split_radicals(expr: sympy.Expr, atoms: AtomRegistry, decays: frozenset[sympy.Symbol] = frozenset()) -> sympy.Expr:
    r"""``expr`` with each radical of hyperparameters split over positive
    factors: :math:`\sqrt{-1/(\beta-1)} = 1/\sqrt{1-\beta}` (valid as
    :math:`1-\beta > 0` for a decay :math:`\beta`), so equal radicals have one
    form, cancel, and print as a person writes them."""
    shifted = {b: 1 - sympy.Dummy("u", positive=True) for b in decays}

    def scalar_root(e: sympy.Expr) -> bool:
        return (e.is_Pow and e.exp.is_Rational and not e.exp.is_Integer and bool(e.base.free_symbols)
                and not _component(e.base, atoms) and e.base.free_symbols.isdisjoint(atoms.scalar))

    done: dict[sympy.Expr, sympy.Expr] = {}

    def split(e: sympy.Expr) -> sympy.Expr:  # once per radical: a schedule's recur in every coefficient
        if e not in done:
            done[e] = split_once(e)
        return done[e]

    def split_once(e: sympy.Expr) -> sympy.Expr:
        number, rest = sympy.factor(e.base).as_coeff_Mul()
        sign, factors = (1 if number > 0 else -1), []
        for factor in sympy.Mul.make_args(rest):
            base, k = factor.as_base_exp()
            if base.is_Add:
                base, flip = _orient(base)
                if flip < 0 and not k.is_Integer:
                    return e
                sign *= flip ** int(k % 2) if flip < 0 else 1
            if not base.xreplace(shifted).is_positive:
                return e
            factors.append(base ** (k * e.exp))
        return e if sign < 0 else abs(number) ** e.exp * sympy.Mul(*factors)

    return expr.replace(scalar_root, split)


def term_blocks(expr: sympy.Expr, atoms: AtomRegistry) -> tuple[Block, ...]:
    """The blocks of one index-form expression (named gradients already
    substituted): one per quantity, the quantity 1 first, each coefficient
    factored; zero blocks are left out."""
    expr, back = _opaque_powers(expr, atoms)
    return tuple(_restore(block, back) for block in _term_blocks(expr, atoms, frozenset(back) | {atoms.time}))


def _opaque_powers(expr: sympy.Expr, atoms: AtomRegistry) -> tuple[sympy.Expr, dict[sympy.Symbol, tuple[sympy.Expr, sympy.Expr]]]:
    r"""``expr`` with the scalar factors that factoring should not look into
    as symbols, and the map back from each symbol :math:`u` to ``(b, X)``,
    :math:`u = b^X`:

    * each power of a number to a symbolic exponent, :math:`b^{cX}` (NAdam's
      schedule :math:`(24/25)^{\psi t}`), as :math:`u^c` for a positive
      :math:`u = b^X`, and each logarithm of a number (its derivative's
      :math:`\log(24/25)`) as a symbol of its sign, :math:`u = \log(b)^1`.
      Factoring and cancelling see :math:`(24/25)^X` as
      :math:`24^X\,5^{-2X}` and :math:`\log(24/25)` as
      :math:`\log 24 - 2\log 5` otherwise: NAdam printed
      :math:`5^{2\psi t}` and :math:`24^{\psi t}`, and its order-2
      coefficients grew until printing took longer than deriving;
    * each function of the hyperparameters and the time (a schedule's
      :math:`\cos(\pi t/T)`, an opaque :math:`\eta(t)` and its derivatives), and each radical :math:`Y^{p/q}` of a
      polynomial :math:`Y` in the time (a warm-up's
      :math:`\sqrt{\delta^2 + (t/T_w-1)^2}`), as :math:`u^p` for
      :math:`u = Y^{1/q}`: with them, every coefficient's polynomial
      arithmetic ran over SymPy's expression domain, and the warm-up cosine
      schedule's order-1 print took 150 times its derivation."""
    symbols: dict[tuple[sympy.Expr, sympy.Expr], sympy.Symbol] = {}

    def symbol(key: tuple[sympy.Expr, sympy.Expr], **assumptions) -> sympy.Symbol:
        if key not in symbols:
            symbols[key] = _opaque_symbol(key, tuple(sorted(assumptions.items())))
        return symbols[key]

    def opaque(power: sympy.Pow) -> sympy.Expr:
        c, x = power.exp.as_coeff_Mul()
        return symbol((power.base, x), positive=True) ** c

    def logarithm(log: sympy.log) -> sympy.Expr:
        return symbol((log, sympy.Integer(1)), positive=log.args[0] > 1, negative=log.args[0] < 1)

    def scalar_of_time(e: sympy.Expr) -> bool:
        return (atoms.time in e.free_symbols and not _component(e, atoms)
                and e.free_symbols.isdisjoint(atoms.scalar))

    def radical(power: sympy.Pow) -> sympy.Expr:
        root = sympy.Rational(1, power.exp.q)
        return symbol((power.base, root), positive=bool(power.base.is_positive)) ** power.exp.p

    expr = expr.replace(lambda e: e.is_Pow and e.base.is_Rational and not e.exp.is_number, opaque)
    expr = expr.replace(lambda e: isinstance(e, sympy.log) and e.args[0].is_Rational and e.args[0] != 1, logarithm)
    # a derivative of an opaque function of time first (its function inside would become a symbol)
    expr = expr.replace(lambda e: isinstance(e, sympy.Derivative) and scalar_of_time(e),
                        lambda e: symbol((e, sympy.Integer(1)), real=True))
    expr = expr.replace(lambda e: isinstance(e, sympy.Function) and scalar_of_time(e),
                        lambda e: symbol((e, sympy.Integer(1)), real=True))
    expr = expr.replace(lambda e: e.is_Pow and e.exp.is_Rational and not e.exp.is_Integer and scalar_of_time(e.base), radical)
    return expr, {u: key for key, u in symbols.items()}


@lru_cache(maxsize=None)
def _opaque_symbol(key: tuple[sympy.Expr, sympy.Expr], assumptions: tuple[tuple[str, bool], ...]) -> sympy.Symbol:
    """The symbol of :func:`_opaque_powers` for ``key``, the same on every call:
    the factorings cached by coefficient then serve both notations and the text."""
    return sympy.Dummy("u", **dict(assumptions))


def _restore(block: Block, back: dict[sympy.Symbol, tuple[sympy.Expr, sympy.Expr]]) -> Block:
    """``block`` with the symbols of :func:`_opaque_powers` written as the powers
    they stand for (a scalar factor :math:`u^k`, :math:`u = b^X`, as :math:`b` to :math:`kX`)."""
    if not back:
        return block
    values = {u: b**x for u, (b, x) in back.items()}

    def factor(base: sympy.Expr, exponent: sympy.Expr) -> tuple[sympy.Expr, sympy.Expr]:
        if base in back:
            b, x = back[base]
            return b, exponent * x
        return base.xreplace(values), exponent

    summands = tuple(Summand(s.sign, s.number, tuple(factor(b, e) for b, e in s.scalar), s.component.xreplace(values))
                     for s in block.summands)
    return Block(block.quantity.xreplace(values), block.prefactor, block.outer.xreplace(values), summands)


def _term_blocks(expr: sympy.Expr, atoms: AtomRegistry, timed: frozenset[sympy.Symbol]) -> tuple[Block, ...]:
    """The blocks of ``expr``; ``timed``: its symbols that stand for the time
    or functions of it (whose sums :func:`_factor_sum` factors in :math:`|g|`)."""
    parts: dict[sympy.Expr, list[sympy.Expr]] = defaultdict(list)
    for term in sympy.Add.make_args(expr):
        # a collected term is (monomial in quantities) x (factored coefficient): split it as it
        # stands; only a sum holding quantities needs distributing
        if any(_sum_of_quantities(f, atoms) for f in sympy.Mul.make_args(term)):
            pieces = sympy.Add.make_args(distribute(term))
        else:
            pieces = (term,)
        for piece in pieces:
            quantity, coefficient = [], []
            for factor in sympy.Mul.make_args(piece):
                (quantity if any(_is_quantity(s, atoms) for s in factor.free_symbols) else coefficient).append(factor)
            parts[sympy.Mul(*quantity)].append(sympy.Mul(*coefficient))
    blocks = []
    for quantity in sorted(parts, key=lambda q: (q != 1, sympy.count_ops(q), sympy.default_sort_key(q))):
        coefficients = parts[quantity]
        if len(coefficients) == 1 and not coefficients[0].is_Add:
            coefficient = coefficients[0]  # already one factored fraction (the derivation's collect)
        else:
            coefficient = _factor_sum(sympy.Add(*coefficients), timed)
        if coefficient != 0:
            blocks.append(_block(quantity, coefficient, atoms, timed))
    return tuple(blocks)


def _factor_sum(coefficient: sympy.Expr, timed: frozenset[sympy.Symbol]) -> sympy.Expr:
    r"""A quantity's summed coefficient, factored (each denominator first,
    :func:`_factored_denominator`). One that depends on the time is factored
    in :math:`A = |g|` (:func:`_factored_in_absolute_values`): with
    :math:`\sqrt{g^2}` and :math:`g` as separate generators, SymPy expanded
    NAdam's order-2 sums of 90 fractions over its expression trees (most of
    the time of a print that did not finish in 290 s), where in :math:`A` the
    polynomials are multiplied out in a ring (:func:`modeq.algebra.factoring.factor`)."""
    summed = sympy.Add(*map(_factored_denominator, sympy.Add.make_args(coefficient)))
    if coefficient.free_symbols.isdisjoint(timed):
        return factoring.factor(summed)
    return _factored_in_absolute_values(summed, timed)


def _factored_denominator(term: sympy.Expr) -> sympy.Expr:
    r"""``term`` with each sum in its denominator factored.

    Factoring a sum of fractions first brings it over a common denominator;
    with expanded denominators (a scheduled optimizer's
    :math:`\varepsilon T_w - u\,\varepsilon T_w + \dots = T_w(1-u)(\varepsilon+|g|)`)
    that is their product rather than their least common multiple, and
    AdEMAMix's warm-up coefficient became a numerator of degree 9 in
    :math:`\varepsilon` whose multivariate factoring took most of its printing
    time. Each sum is factored once (:func:`_factored`), alone, in
    :math:`A = |g| = \sqrt{g^2}` where it holds one (:math:`g^2 = A^2`:
    :math:`\varepsilon^2|g| + 2\varepsilon g^2 + g^2|g| = |g|(\varepsilon+|g|)^2`)."""
    factors = sympy.Mul.make_args(term)
    if not any(f.is_Pow and f.base.is_Add and f.exp.is_negative for f in factors):
        return term
    return sympy.Mul(*(_factored_in_absolute_values(f.base, frozenset()) ** f.exp
                       if f.is_Pow and f.base.is_Add and f.exp.is_negative else f for f in factors))


@lru_cache(maxsize=None)
def _absolute_symbol(g: sympy.Symbol) -> sympy.Symbol:
    """:math:`A = |g|`, the same symbol on every call (as :func:`_opaque_symbol`)."""
    return sympy.Dummy("A", positive=True)


@lru_cache(maxsize=4096)
def _factored_in_absolute_values(x: sympy.Expr, timed: frozenset[sympy.Symbol]) -> sympy.Expr:
    r"""``x`` factored (:func:`_factored`) with each :math:`\sqrt{g^2}` of a symbol :math:`g` as
    :math:`A = |g|` and the even powers of :math:`g` as powers of :math:`A`."""
    mapping = {}
    for p in x.atoms(sympy.Pow):
        if p.exp == sympy.S.Half and p.base.is_Pow and p.base.base.is_Symbol and p.base.exp == 2:
            mapping[p.base.base] = _absolute_symbol(p.base.base)
    for g, a in mapping.items():
        x = _in_absolute_value(x, g, a)
    return _factored(x, timed).xreplace({a: sympy.sqrt(g**2) for g, a in mapping.items()})


def _in_absolute_value(x: sympy.Expr, g: sympy.Symbol, a: sympy.Symbol) -> sympy.Expr:
    r"""``x`` with each power of :math:`g^2` and each even power of :math:`g` as a power of
    :math:`a = |g|`, in one walk (``xreplace`` of the powers found; two ``replace`` walks over
    AdEMAMix's warm-up coefficients were a third of its order-2 printing)."""
    powers = x.atoms(sympy.Pow)
    mapping = {p: a ** (2 * p.exp) for p in powers if p.base == g**2}
    mapping.update({p: a**p.exp for p in powers if p.base == g and p.exp.is_even})
    return x.xreplace(mapping)


def _sum_of_quantities(factor: sympy.Expr, atoms: AtomRegistry) -> bool:
    base = factor.base if factor.is_Pow else factor
    return base.is_Add and any(_is_quantity(s, atoms) for s in base.free_symbols)


def _radical(den_factors: list[sympy.Expr], atoms: AtomRegistry) -> tuple[str, sympy.Expr, sympy.Symbol, sympy.Expr] | None:
    r"""``(kind, base, g, c)`` for a single radical :math:`\sqrt{g^2+c}` ("sqrt")
    or :math:`c+\sqrt{g^2}` ("abs") among the denominator's factors."""
    found = set()
    for factor in den_factors:
        base = factor.as_base_exp()[0]
        if not base.is_Add:
            continue
        for g in base.free_symbols:
            if not isinstance(atoms.definition(g), Gradient):
                continue
            for kind, core in (("sqrt", g**2), ("abs", sympy.sqrt(g**2))):
                c = sympy.expand(base - core)
                if c != 0 and not _component(c, atoms) and c.free_symbols.isdisjoint(atoms.scalar):
                    found.add((kind, base, g, c))
    return found.pop() if len(found) == 1 else None


def _absolute_values(coefficient: sympy.Expr, atoms: AtomRegistry) -> sympy.Expr:
    r"""The coefficient with :math:`|g| = \sqrt{g^2}` and even powers of
    :math:`g` cancelled against each other (:math:`g^2/|g| = |g|`).

    With :math:`A = |g|` for :math:`\sqrt{g^2}` and :math:`g^{2k}`, the
    numerator is divided by each factor of the (already factored)
    denominator as often as it goes, by exact polynomial division: the
    cancellation :func:`sympy.factor` would make, without factoring the
    numerator."""
    mapping = {}
    for g in coefficient.free_symbols:
        if isinstance(atoms.definition(g), Gradient) and coefficient.has(sympy.sqrt(g**2)):
            mapping[g] = sympy.Dummy("A", positive=True)
    if not mapping:
        return coefficient
    x = coefficient
    for g, a in mapping.items():
        x = _in_absolute_value(x, g, a)
    num, den = sympy.fraction(x)
    factors = [f.as_base_exp() for f in sympy.Mul.make_args(den)]
    cancel = [n for n, (b, k) in enumerate(factors) if k.is_Integer and k > 0 and b.free_symbols & set(mapping.values())]
    sparse = _sparse([num] + [factors[n][0] for n in cancel]) if cancel else None
    if sparse is not None:
        generators, (top, *bases) = sparse
        for n, base in zip(cancel, bases):
            b, k = factors[n]
            while k > 0:
                quotient, remainder = top.div(base)
                if remainder:
                    break
                top, k = quotient, k - 1
            factors[n] = (b, k)
        num = top.as_expr(*generators)
    return (num / sympy.Mul(*(b**k for b, k in factors))).xreplace({a: sympy.sqrt(g**2) for g, a in mapping.items()})


def _block(quantity: sympy.Expr, coefficient: sympy.Expr, atoms: AtomRegistry,
           timed: frozenset[sympy.Symbol] = frozenset()) -> Block:
    num, den = sympy.fraction(_absolute_values(coefficient, atoms))
    den_scalar, den_component = sympy.Integer(1), sympy.Integer(1)
    for factor in sympy.Mul.make_args(den):
        if not _component(factor, atoms):
            den_scalar *= factor
            continue
        base, exponent = factor.as_base_exp()
        content, primitive = base.as_content_primitive()  # 2|g| + 2c = 2(|g| + c)
        if content != 1 and exponent.is_Integer:
            den_scalar *= content**exponent
            factor = primitive**exponent
        den_component *= factor
    num_scalar, num = _scalar_factors(num, den_component, atoms)
    den_scalar = den_scalar / num_scalar
    groups: dict[sympy.Expr, list[sympy.Expr]] = defaultdict(list)
    for term in sympy.Add.make_args(distribute(num)):
        key = sympy.Mul(*(f for f in sympy.Mul.make_args(term) if atoms.theta in f.free_symbols))
        groups[key].append(term / key)
    parts = []
    for key, terms in groups.items():
        group_num, group_den = sympy.Add(*terms), den_component
        if len(groups) > 1:  # each power of theta on its own: (c theta + theta|g|)/(c + |g|) = theta
            group_num, group_den = sympy.fraction(sympy.cancel(group_num / group_den))
            scalar_den = sympy.Mul(*(f for f in sympy.Mul.make_args(group_den) if not _component(f, atoms)))
            group_num, group_den = group_num / scalar_den, group_den / scalar_den
        parts.append(_monomials(group_num, group_den, key, atoms))
    outers = {outer for outer, _ in parts}
    outer = outers.pop() if len(outers) == 1 else sympy.Integer(1)
    monomials: dict[sympy.Expr, list[sympy.Expr]] = defaultdict(list)
    for part_outer, pairs in parts:
        for s, m in pairs:  # summed once below: adding term by term rebuilt the sum each time
            monomials[m if part_outer == outer else sympy.powsimp(m * part_outer)].append(s)
    summands = [x for x in (tidy_scalar(sympy.Add(*s) / den_scalar, m, timed) for m, s in monomials.items())
                if x.number != 0]
    summands.sort(key=lambda x: (sympy.count_ops(x.component), sympy.default_sort_key(x.component)))
    numerators = [x.number.p for x in summands]
    denominators = [x.number.q for x in summands]
    common = sympy.Rational(_gcd(numerators), _lcm(denominators))
    sign = -1 if all(x.sign < 0 for x in summands) else 1
    summands = [Summand(x.sign * sign, x.number / common, x.scalar, x.component) for x in summands]
    return Block(quantity, sign * common, outer, tuple(summands))


def _scalar_factors(num: sympy.Expr, den: sympy.Expr, atoms: AtomRegistry) -> tuple[sympy.Expr, sympy.Expr]:
    r"""``(s, rest)``, ``num = s·rest``: ``s`` the numerator's factors free of
    elementwise atoms and of the symbols of the elementwise denominator
    ``den`` (those may cancel against the radical's :math:`\varepsilon`).

    They are common to every summand, and stay one product while the rest is
    distributed: multiplied into each summand and factored again, a
    schedule's factored coefficient (the warm-up cosine's powers of sums in
    :math:`t`, :math:`\cos(\pi t/T)` and :math:`\sqrt{1+\delta^2}`) was
    expanded to thousands of terms and factored back, most of the time of
    its printing."""
    kept = den.free_symbols
    scalar, rest = [], []
    for factor in sympy.Mul.make_args(num):
        free = factor.free_symbols
        (scalar if not _component(factor, atoms) and free.isdisjoint(kept) else rest).append(factor)
    return sympy.Mul(*scalar), sympy.Mul(*rest)


def _monomials(num: sympy.Expr, den: sympy.Expr, key: sympy.Expr, atoms: AtomRegistry) -> tuple[sympy.Expr, list[tuple[sympy.Expr, sympy.Expr]]]:
    r"""``key·num/den`` (``den`` elementwise) as :math:`\text{outer}\cdot\sum_a s_a m_a`
    with scalar :math:`s_a` and elementwise monomials :math:`m_a`: in powers of
    the radical when the denominator is one (:func:`_in_radical`), else over
    the denominator itself."""
    den_factors = list(sympy.Mul.make_args(sympy.powsimp(den)))
    radical = _radical(den_factors, atoms)
    rewritten = None if radical is None else _in_radical(num, den, radical, atoms)
    if rewritten is not None:
        outer, pairs = rewritten
        return outer, [(s, m * key) for s, m in pairs]
    pairs = []
    for term in sympy.Add.make_args(distribute(num)):
        s, m = [], []
        for factor in sympy.Mul.make_args(term):
            (m if _component(factor, atoms) else s).append(factor)
        pairs.append((sympy.Mul(*s), sympy.powsimp(sympy.Mul(*m) * key / den)))
    return sympy.Integer(1), pairs


def _gcd(values: list[int]) -> int:
    result = 0
    for v in values:
        result = gcd(result, int(v))
    return result or 1


def _lcm(values: list[int]) -> int:
    result = 1
    for v in values:
        result = result * int(v) // gcd(result, int(v))
    return result


def _in_radical(num, den, radical, atoms: AtomRegistry) -> tuple[sympy.Expr, list[tuple[sympy.Expr, sympy.Expr]]] | None:
    r"""``num/den`` as :math:`\text{outer}\cdot\sum_a s_a m_a` with monomials
    :math:`m_a = g^b (c/R^d)^e`; ``None`` if the radical does not capture all
    dependence on :math:`g`.

    ``den`` must be a power :math:`R^m` of the radical. The numerator is read
    as a polynomial in :math:`g`, :math:`A = |g|` and :math:`R` (coefficients
    in the hyperparameters) and rewritten in :math:`R` alone,
    :math:`g^{2k} = (R^2-c)^k` resp. :math:`A = R - c`, by polynomial
    arithmetic over the coefficients' ring (SymPy's sparse polynomials): an
    exact rewriting that never expands an expression tree (which cost most of
    the printing time)."""
    kind, base, g, c = radical
    power = 2 if kind == "sqrt" else 1
    den_base, den_exp = den.as_base_exp()
    if den_base != base or not (power * den_exp).is_Integer:
        return None
    m = int(power * den_exp)
    R, absolute = sympy.Dummy("R", positive=True), sympy.Dummy("A", positive=True)
    x = num.xreplace({p: R ** (power * p.exp) for p in num.atoms(sympy.Pow) if p.base == base})
    x = x.xreplace({p: absolute ** (2 * p.exp) for p in x.atoms(sympy.Pow) if p.base == g**2})
    polys = _polys([x, c], (g, absolute, R))
    if polys is None:
        return None
    (poly_x, poly_c), domain, back = polys
    ring = PolyRing("R,g", domain)
    r_gen = ring.gens[0]
    c_el = poly_c.get((0, 0, 0), domain.zero)
    shift = r_gen**2 - c_el if kind == "sqrt" else r_gen - c_el
    by_power: dict[int, object] = defaultdict(lambda: ring.zero)
    for (n, a, r), coeff in poly_x.items():
        if kind == "sqrt" and a:
            return None  # |g| beside sqrt(g^2 + c): not a polynomial in R
        k = n // 2 if kind == "sqrt" else n - n % 2 + a
        by_power[k] += ring({(r, n % 2): coeff})
    num_r = ring.zero
    for k, part in by_power.items():
        num_r += part * shift**k
    terms = [((a, b), domain.to_sympy(s).xreplace(back)) for (a, b), s in num_r.items()]
    if not terms or any(_component(s, atoms) for _, s in terms):
        return None
    top = max(a for (a, _), _ in terms)
    back = sympy.sqrt(base) if kind == "sqrt" else base
    pairs = []
    for (a, b), s in terms:
        e = top - a
        monomial = g**b
        if e and e % power == 0:
            quotient = _exact_quotient(s, c ** (e // power))
            if quotient is not None:
                s, monomial = quotient, monomial * (c / base) ** (e // power)
                e = 0
        pairs.append((s, monomial * back ** (-e)))
    return back ** (top - m), pairs


def _polys(exprs: list[sympy.Expr], gens: tuple[sympy.Symbol, ...]) -> tuple[list[dict], object, dict] | None:
    """The expressions as polynomials in ``gens`` over one coefficient domain
    (``{monomial: coefficient}`` in the domain's own elements), with the map
    back from the domain's symbols (``domain.to_sympy(c).xreplace(back)``), or
    ``None`` if one is not a polynomial in them.

    The coefficients are polynomials over the rationals in the other symbols
    and in each radical, reciprocal, function or constant free of ``gens``
    (:math:`\\sqrt{1+\\delta^2}`, :math:`1/T`, :math:`\\cos(\\pi t/T)`),
    built by ring arithmetic: SymPy's own conversion expanded the expression
    tree and, with such factors, worked over its expression domain, whose
    every operation simplifies (most of the warm-up cosine schedule's
    printing time)."""
    opaque: dict[sympy.Expr, sympy.Symbol] = {}
    for expr in exprs:
        for e in sympy.preorder_traversal(expr):
            if ((e.is_Pow and not (e.exp.is_Integer and e.exp > 0) or isinstance(e, sympy.Function) or e.is_NumberSymbol)
                    and e not in opaque and e.free_symbols.isdisjoint(gens)):
                opaque[e] = sympy.Dummy()
    plain = [e.xreplace(opaque) for e in exprs]
    others = sorted(set().union(*(e.free_symbols for e in plain)) - set(gens), key=sympy.default_sort_key)
    ring = PolyRing(list(gens) + others, sympy.QQ)
    try:
        elements = [ring.from_expr(e) for e in plain]
    except ValueError:
        return None
    domain = sympy.QQ if not others else PolyRing(others, sympy.QQ).to_domain()
    n = len(gens)
    polys = []
    for element in elements:
        poly: dict[tuple[int, ...], object] = defaultdict(lambda: domain.zero)
        for monomial, coefficient in element.items():
            rest = domain.one * coefficient if not others else domain.ring({monomial[n:]: coefficient})
            poly[monomial[:n]] += rest
        polys.append(dict(poly))
    return polys, domain, {d: e for e, d in opaque.items()}


def _sparse(exprs: list[sympy.Expr]) -> tuple[list[sympy.Expr], list] | None:
    """The expressions as elements of one sparse polynomial ring over the
    rationals, built by ring arithmetic (no expression is expanded), and
    what each generator stands for (``element.as_expr(*generators)``). The
    generators are the free symbols and each power with an exponent that is
    not a natural number (a radical, :math:`1/\beta`); ``None`` if an
    expression holds anything else that is not a polynomial in them."""
    opaque = {}
    for expr in exprs:
        for e in sympy.preorder_traversal(expr):
            if e.is_Pow and not (e.exp.is_Integer and e.exp > 0) and e not in opaque:
                opaque[e] = sympy.Dummy()
    plain = [e.xreplace(opaque) for e in exprs]
    symbols = sorted(set().union(*(e.free_symbols for e in plain)), key=sympy.default_sort_key)
    ring = PolyRing(symbols or [sympy.Dummy()], sympy.QQ)
    try:
        elements = [ring.from_expr(e) for e in plain]
    except ValueError:
        return None
    back = {d: e for e, d in opaque.items()}
    return [back.get(x, x) for x in ring.symbols], elements


def _exact_quotient(s: sympy.Expr, d: sympy.Expr) -> sympy.Expr | None:
    """``s/d`` if ``d`` divides ``s`` as polynomials with rational
    coefficients (sparse division), else ``None``."""
    sparse = _sparse([s, d])
    if sparse is None:
        return None
    generators, (dividend, divisor) = sparse
    quotient, remainder = dividend.div(divisor)
    return None if remainder else quotient.as_expr(*generators)


def _orient(base: sympy.Expr) -> tuple[sympy.Expr, int]:
    """``(±base, ±1)`` with a positive constant term (:math:`1-\\beta`), or
    else a positive first term in the default order."""
    constant = base.as_coeff_Add()[0]
    if constant < 0 or constant == 0 and sympy.Add.make_args(base)[0].could_extract_minus_sign():
        return sympy.expand(-base), -1
    return base, 1


def tidy_scalar(scalar: sympy.Expr, component: sympy.Expr = sympy.Integer(1),
                timed: frozenset[sympy.Symbol] = frozenset()) -> Summand:
    r"""``scalar·component`` as a :class:`Summand`: the scalar factored (short of
    its core where it holds ``timed`` symbols, :func:`_factored`), its
    number, sign and factors separated, factors oriented as
    :math:`1-\beta`."""
    factored = _factored(scalar, timed)
    number, rest = factored.as_coeff_Mul()
    sign = -1 if number < 0 else 1
    factors = []
    for factor in sympy.Mul.make_args(rest):
        base, exponent = factor.as_base_exp()
        if base.is_Add:
            base, flip = _orient(base)
            if flip < 0 and exponent.is_Integer and exponent % 2:
                sign = -sign
            elif flip < 0 and not exponent.is_Integer:
                base = -base
        if base != 1:
            factors.append((base, exponent))
    factors.sort(key=lambda f: (f[0].is_Add, sympy.default_sort_key(f[0])))
    return Summand(sign, abs(sympy.Rational(number)), tuple(factors), component)


@lru_cache(maxsize=4096)
def _factored(scalar: sympy.Expr, timed: frozenset[sympy.Symbol] = frozenset()) -> sympy.Expr:
    """``sympy.factor(scalar)`` (by the index kernel's faster route), once per scalar:
    the same coefficient recurs across blocks and notations. A scalar holding
    ``timed`` symbols (the time, functions of it) is factored short of its
    multivariate core (:func:`modeq.algebra.factoring.factor_partly`)."""
    if scalar.free_symbols.isdisjoint(timed):
        return factoring.factor(scalar)
    return factoring.factor_partly(scalar, timed)
