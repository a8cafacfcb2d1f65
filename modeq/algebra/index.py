r"""The index form: dimension-free fields in the notation of the papers.

A field is a SymPy expression for its component :math:`j` in *atoms*:

* ``theta`` — :math:`\theta_j`;
* ``g`` — :math:`\nabla_j E` (``g_b`` for the batch loss :math:`E_b`);
* contractions ``D_k[X_1, ..., X_k]`` —
  :math:`\sum_{i_1..i_k} \nabla_{j i_1 \dots i_k} E\; X_{1,i_1} \cdots X_{k,i_k}`,
  symmetric in their arguments and linear over scalars;
* reductions ``S[X]`` — the scalar :math:`\sum_i X_i`, constant across
  components;
* ``E`` — the loss value :math:`E(\theta)` (``E_b`` for a batch loss), a
  scalar, with :math:`L_f E = S[g\,f]`;
* ``p`` — the dimension (from :math:`S[c] = p\,c` for a scalar :math:`c`);
* block reductions ``S_B[X]`` — :math:`\sum_{i \in B(j)} X_i`, the sum over
  the parameter block :math:`B(j)` of component :math:`j` (a layer,
  :mod:`modeq.blocks`): constant inside a block, so it factors out of another
  block reduction but *not* out of a contraction or a global reduction (it
  varies from block to block); ``n_B`` — the size :math:`|B(j)|` (from
  :math:`S_B[c] = n_B\,c`). With one block (plain parameters) they are
  :math:`S` and :math:`p`;
* slow states ``V`` (named by the description) — :math:`V_j`, the value of a
  state whose increment is :math:`O(h)` (:mod:`modeq.primitives.state`): a
  coordinate beside :math:`\theta`, so its derivative in :math:`\theta` is
  zero and along :class:`~modeq.algebra.base.Partial` ``(V, v)`` it is
  :math:`v_j`; the table keeps the atoms that depend on a slow state
  (:attr:`AtomRegistry.stated`), so a value free of them has
  :math:`\partial_V = 0` at once;
* matrix maps ``NS[X]``, ``D1NS[X; Y]``, … — component :math:`j` of
  :math:`D^kF(X_B)[Y_{1,B}, \dots, Y_{k,B}]`, the :math:`k`-th Fréchet
  derivative of a smooth map :math:`F` of a matrix block
  (:mod:`modeq.algebra.matrix_maps`: Newton–Schulz) at the block
  :math:`X_B` of :math:`X` that holds component :math:`j`, applied to the
  same blocks of the directions; symmetric and multilinear in the directions
  over block constants. The map is never expanded: these atoms are opaque to
  the derivation, evaluated by the chain rule through the map's steps;
* ``s_B`` — a per-block scale of the block's shape (Muon's ``adjust_lr_fn``,
  :data:`~modeq.algebra.matrix_maps.SHAPE_RULES`), a block constant;
* ``t`` — the time :math:`t = nh` of schedules, a scalar with
  :math:`\partial_t t = 1` and :math:`\nabla t = 0`. Every table has it
  (``atoms.time``), as it has ``theta``.

Each atom is an ordinary :class:`sympy.Symbol` whose meaning is kept in an
*atom table* (:class:`AtomRegistry`), so SymPy differentiates and collects
atoms natively and expressions print readably (``D_1[g/sqrt(eps + g**2)]``).
Arguments are canonicalized when an atom is made: expanded, scalar factors
pulled out, sorted.

Every derivation builds into a table of its own (:class:`IndexAlgebra` makes
one), and the resulting :class:`~modeq.equation.ModifiedEquation` carries it
(``eq.atoms``): printers, analyses, numerics, storage and :mod:`modeq.torch`
read atoms from the equation, so two derivations in one process (in threads,
or interleaved) share no mutable state, and a table lives as long as its
equation. An atom's name is a function of its definition (a ``'`` is
appended only when two definitions of one table print alike), so equal atoms
of different tables are equal symbols: terms of two equations compare, and
expressions built with the helpers :func:`D`, :func:`S` (which intern into
the default table :data:`ATOMS`, for hand-written expressions) equal the
derived ones. Caches keyed by expressions therefore live with a table (the
Lie-derivative cache of an algebra), never in a module: a result holding
atoms another table interned would be undefined in this one.

The Lie derivative closes on the atoms (DESIGN.md §2.1):
:math:`L_f g = D_1[f]`, :math:`L_f \theta = f`, :math:`L_f S[X] = S[L_f X]`,
:math:`L_f E = S[g\,f]`,
:math:`L_f D_k[X_1..X_k] = D_{k+1}[X_1..X_k, f] + \sum_a D_k[.., L_f X_a, ..]`,
:math:`L_f D^kF(X)[Y] = D^{k+1}F(X)[Y, L_f X] + \sum_a D^kF(X)[.., L_f Y_a, ..]`,
and the chain rule for everything elementwise. Expression size does not grow
with the dimension. Along :math:`\partial_t` (:data:`~modeq.algebra.base.TIME`)
the atoms give :math:`\partial_t t = 1`, :math:`\partial_t \theta = \partial_t g = 0`,
:math:`\partial_t D_k[X_1..X_k] = \sum_a D_k[.., \partial_t X_a, ..]`,
:math:`\partial_t S[X] = S[\partial_t X]`; the registry keeps the set of atoms
that depend on :math:`t` (:attr:`AtomRegistry.timed`), so a time-free value
has :math:`\partial_t = 0` at once.
"""

from __future__ import annotations

import functools
import itertools
import threading
from collections import defaultdict
from dataclasses import dataclass
from typing import Sequence

import sympy
from sympy.core.function import AppliedUndef

from . import collecting, compacting, distributed, factoring, linear
from .base import STEP, TIME, TIME_SYMBOL, FieldAlgebra, ImplicitUpdateError, NotSeparableError, Partial
from .matrix_maps import MatrixMap

__all__ = ["ATOMS", "IndexAlgebra", "Gradient", "LossValue", "Contraction", "Reduction", "BlockReduction",
           "BlockSize", "SlowState", "MatrixDerivative", "BlockScale", "Placeholder", "D", "S", "SB", "g", "theta", "p", "t"]

_EXPAND = dict(power_base=False, power_exp=False, log=False, mul=True, multinomial=True, deep=True)


def expand(x: sympy.Expr) -> sympy.Expr:
    """Distribute products over sums everywhere, denominators included (for
    exact zero tests)."""
    return sympy.expand(x, **_EXPAND)


@functools.lru_cache(maxsize=None)
def _time_symbol(function: sympy.Expr) -> sympy.Symbol:
    """A symbol for an opaque function of time or a derivative of one, the same on every
    call (so that the factorings cached by coefficient are found again)."""
    return sympy.Dummy("eta", real=True)


def _tidy_coefficient(c: sympy.Expr, atoms: "AtomRegistry") -> sympy.Expr:
    """A collected coefficient in a canonical form.

    Coefficients with hyperparameter symbols are factored, so they print as
    fractions of hyperparameters (``(beta + 1)/(2*(beta - 1)**3)``) and
    ``expand_power_exp`` first writes ``beta**(n+1)`` as ``beta*beta**n`` so
    step-dependent factors cancel. Purely numeric ones are only expanded:
    factoring their large rationals costs most of a derivation and reads no
    better (a table made ``distributed``, as the step-by-step fields', does
    not come here for them: :meth:`AtomRegistry.collect`). Coefficients holding opaque functions of
    time and their derivatives (:mod:`modeq.time_functions`) are factored
    short of their multivariate core (:func:`modeq.algebra.factoring.factor_partly`,
    the functions, their derivatives and :math:`t` the inner symbols): one
    fraction whose numerator is exact ring arithmetic, so a zero coefficient
    is 0. Fully factored, each function is a generator of its own and Wang's
    algorithm over many generators costs minutes (NAdam's momentum schedule);
    expanded (as they were), each term kept its own multiplied-out
    denominator, and AdEMAMix's warm-up at order 2 printed 160 000 characters
    in 8 s."""
    if all(s in atoms._definitions for s in c.free_symbols):
        return expand(c)
    if c.has(AppliedUndef, sympy.Derivative):
        opaque = {d: _time_symbol(d) for d in c.atoms(sympy.Derivative)}
        x = c.xreplace(opaque)  # derivatives first: their functions would become symbols inside them
        opaque.update({f: _time_symbol(f) for f in x.atoms(AppliedUndef)})
        x = x.xreplace(opaque)
        result = factoring.factor_partly(x, frozenset(opaque.values()) | {TIME_SYMBOL})
        return result.xreplace({d: e for e, d in opaque.items()})
    return factoring.factor(sympy.expand_power_exp(c))


@functools.lru_cache(maxsize=1 << 16)
def _argument_key(x: sympy.Expr):
    """SymPy's ``default_sort_key`` of an atom's argument (the same arguments recur in every contraction)."""
    return sympy.default_sort_key(x)


def _sorted_arguments(args: list[sympy.Expr]) -> tuple[sympy.Expr, ...]:
    """The arguments of a symmetric atom in their canonical order (``default_sort_key``)."""
    if len(args) > 1:
        args.sort(key=_argument_key)
    return tuple(args)


def _product(factors) -> sympy.Expr:
    """``sympy.Mul(*factors)``, multiplied out directly when every factor is a
    rational number (the coefficients of a field's terms mostly are)."""
    factors = list(factors)
    if all(f.is_Rational for f in factors):
        out = sympy.S.One
        for f in factors:
            out = linear.times(out, f)
        return out
    return sympy.Mul(*factors)


@dataclass(frozen=True)
class _Survey:
    """What :meth:`AtomRegistry.collect` asks of a field, read in one walk."""

    #: the free symbols (``None`` where a node binds symbols of its own: ask SymPy)
    symbols: frozenset | None
    #: a power with a fractional or symbolic exponent of a base that is not a sum
    root: bool
    #: a power whose exponent is not a number, or an exponential (``expand_power_exp`` may act)
    symbolic_exponent: bool
    #: an opaque function of time or a derivative of one
    timed: bool


@functools.lru_cache(maxsize=None)
def _unbinding(cls: type) -> bool:
    """Whether the free symbols of a ``cls`` node are those of its arguments (SymPy's own rule, not overridden)."""
    owner = next(k for k in cls.__mro__ if "free_symbols" in k.__dict__)
    return owner is sympy.Basic


def _survey(x: sympy.Expr) -> _Survey:
    """:class:`_Survey` of ``x``, each shared subexpression visited once."""
    symbols: set | None = set()
    root = symbolic = timed = False
    seen, stack = set(), [x]
    while stack:
        e = stack.pop()
        if e in seen:
            continue
        seen.add(e)
        if e.is_Symbol:
            if symbols is not None:
                symbols.add(e)
            continue
        if e.is_Atom:
            continue
        if e.is_Pow:
            root = root or not e.exp.is_Integer and not e.base.is_Add
            symbolic = symbolic or not e.exp.is_Rational
        elif isinstance(e, sympy.exp):
            symbolic = True
        elif isinstance(e, (AppliedUndef, sympy.Derivative)):
            timed = True
        if not _unbinding(type(e)):
            symbols = None
        stack.extend(e.args)
    return _Survey(None if symbols is None else frozenset(symbols), root, symbolic, timed)


def distribute(x: sympy.Expr) -> sympy.Expr:
    r"""Distribute products over the sums in numerators only.

    Unlike :func:`sympy.expand`, denominators and function arguments stay as
    they are, so a factored coefficient such as
    :math:`1/((\beta-1)(\rho-1)\sqrt{g^2+\varepsilon})` keeps its scalar
    factors separable from its component factors."""
    if x.is_Add:
        args = [distribute(a) for a in x.args]
        if all(a is b for a, b in zip(args, x.args)):  # nothing to distribute: x itself, not a rebuilt copy
            return x
        return sympy.Add(*args)
    if x.is_Mul:
        parts = [distribute(a) for a in x.args]
        if all(p is a and not p.is_Add for p, a in zip(parts, x.args)):
            return x
        sums = [sympy.Add.make_args(p) for p in parts]
        return sympy.Add(*(sympy.Mul(*combination) for combination in itertools.product(*sums)))
    if x.is_Pow and x.exp.is_Integer and x.exp > 1 and x.base.is_Add:
        return distribute(sympy.Mul(*([x.base] * int(x.exp)), evaluate=False))
    return x


def _canonical_component(factors: Sequence[sympy.Expr]) -> tuple[sympy.Expr, sympy.Expr]:
    r"""``(c, K)`` with :math:`c` a number and :math:`cK` the product of ``factors``, in one form
    :math:`K` for the forms of equal value that SymPy keeps apart (so that an atom with
    :math:`K` in its argument is interned once):

    * a sum under an integer power holding a radical :math:`\sqrt B` is factored
      (:func:`_factored_sum`): a coefficient with numeric hyperparameters is expanded
      (:func:`_tidy_coefficient`), so :math:`|g|(|g| + 1/6)^2` reaches here as
      :math:`g^2|g| + g^2/3 + |g|/36` and :math:`(g^2 + 1/6)^{3/2}` as
      :math:`g^2\sqrt{g^2 + 1/6} + \sqrt{g^2 + 1/6}/6`;
    * the numeric content of a sum moves out, its leading term's coefficient made 1
      (:math:`1/(20|g| + 10/3) = \tfrac1{20}\cdot 1/(|g| + 1/6)`: SymPy distributes a number
      over a sum, so a scaled sum is another base);
    * the powers of a radicand :math:`B` (:math:`X^2`, or a sum) merge with its radicals,
      :math:`B^kB^{r} = B^{k+r}` (:math:`g^2/\sqrt{g^2} = \sqrt{g^2}`, an odd power
      :math:`X^{2k+1} = X(X^2)^k`)."""
    scale = sympy.S.One
    out = []
    powers: dict[sympy.Expr, sympy.Expr] = {}  # radicand B -> its total exponent
    work = list(factors)
    radicands = set()
    for factor in work:
        radicands |= {r.base for r in factor.atoms(sympy.Pow) if _radical(r)}
    while work:
        factor = work.pop()
        base, exp = factor.as_base_exp()
        if base.is_Add and exp.is_Integer:
            content, base = _factored_sum(base)
            scale *= content**exp
            if not base.is_Add:  # a product of sums and powers: each its own factor
                work.extend(f**exp for f in sympy.Mul.make_args(base))
                radicands |= {r.base for f in sympy.Mul.make_args(base) for r in f.atoms(sympy.Pow) if _radical(r)}
                continue
            lead = base.as_ordered_terms()[0].as_coeff_Mul()[0]
            if lead.is_Rational and lead != 1:
                scale *= lead**exp
                base = sympy.Add(*(term / lead for term in base.args))
            factor = base**exp
        if _radical(factor) or (exp.is_Integer and base in radicands):
            powers[base] = powers.get(base, sympy.S.Zero) + exp
            continue
        if exp.is_Integer and base**2 in radicands:  # X^n = X^(n mod 2) (X^2)^(n div 2)
            if exp % 2:
                out.append(base)
            powers[base**2] = powers.get(base**2, sympy.S.Zero) + (exp - exp % 2) / 2
            continue
        out.append(factor)
    out += [sympy.Pow(base, exp) for base, exp in powers.items()]
    return scale, sympy.Mul(*out)


def _radical(x: sympy.Expr) -> bool:
    """Whether ``x`` is :math:`B^{k/2}`, :math:`k` odd, of a radicand :math:`B` that is a sum or a square."""
    return (x.is_Pow and x.exp.is_Rational and x.exp.q == 2
            and (x.base.is_Add or (x.base.is_Pow and x.base.exp == 2)))


@functools.lru_cache(maxsize=1 << 14)
def _factored_sum(base: sympy.Expr) -> tuple[sympy.Expr, sympy.Expr]:
    r"""``(c, B)`` with :math:`cB` = ``base``: a sum holding radicals :math:`\sqrt{B_i}` factored over
    the rationals with each :math:`\sqrt{B_i}` a positive generator :math:`a_i` (and
    :math:`X^2 = a_i^2` where :math:`B_i = X^2`: :math:`|X|^2 = X^2`); any other sum as it is."""
    radicands = {r.base for r in base.atoms(sympy.Pow) if _radical(r)}
    if not radicands:
        return sympy.S.One, base
    names = {b: sympy.Dummy("a", positive=True) for b in radicands}
    y = base.replace(lambda e: _radical(e) and e.base in names, lambda e: names[e.base] ** (2 * e.exp))
    squares = {b.base: a for b, a in names.items() if b.is_Pow}
    if squares:
        y = y.replace(lambda e: e.is_Pow and e.base in squares and e.exp.is_Integer,
                      lambda e: squares[e.base]**e.exp if e.exp % 2 == 0
                      else e.base * squares[e.base]**(e.exp - 1))
    content, factored = sympy.factor(y).as_coeff_Mul()
    return content, factored.xreplace({a: sympy.sqrt(b) for b, a in names.items()})


def _linear_terms(residual: sympy.Expr, unknowns: Sequence[sympy.Symbol]
                  ) -> tuple[list[linear.Terms], linear.Terms] | None:
    r"""``residual`` :math:`= \sum_i a_i U_i + c` read off term by term, as sums
    (:mod:`modeq.algebra.linear`) ``([a_1..a_m], c)``: SymPy's ``diff`` and
    ``xreplace`` (the same terms), where every term holds the unknowns in one
    factor, either an unknown itself or a sum read the same way (a momentum
    term :math:`\beta\,(X + U)`); ``None`` otherwise (then ``diff`` decides,
    and reports a nonlinear equation). The residual of an order is a long flat
    sum, which ``diff`` would rebuild factor by factor with its assumption
    queries."""
    position = {u: i for i, u in enumerate(unknowns)}
    slopes: list[linear.Terms] = [{} for _ in unknowns]
    constant: linear.Terms = {}
    for term in sympy.Add.make_args(residual):
        coefficient, monomial = term.as_coeff_Mul()
        factors = sympy.Mul.make_args(monomial)
        found = [n for n, f in enumerate(factors) if not f.free_symbols.isdisjoint(position)]
        if not found:
            linear.accumulate(constant, monomial, coefficient)
            continue
        if len(found) > 1:
            return None
        n = found[0]
        inner, rest = factors[n], factors[:n] + factors[n + 1 :]
        if inner in position:
            linear.accumulate(slopes[position[inner]], sympy.Mul(*rest), coefficient)
            continue
        parts = _linear_terms(inner, unknowns) if inner.is_Add else None
        if parts is None:
            return None
        for total, part in zip(slopes + [constant], parts[0] + [parts[1]]):
            linear.accumulate(total, sympy.Mul(*rest, linear.build(part)), coefficient)
    return slopes, constant


@dataclass(frozen=True)
class Gradient:
    r""":math:`\nabla_j E` (``loss`` None) or :math:`\nabla_j E_b`."""

    loss: int | None = None


@dataclass(frozen=True)
class LossValue:
    r"""The value :math:`E(\theta)` (``loss`` None) or :math:`E_b(\theta)`, a scalar."""

    loss: int | None = None


@dataclass(frozen=True)
class Contraction:
    r""":math:`D_k[X_1..X_k]` of the loss ``loss`` with canonical sorted ``args``."""

    args: tuple[sympy.Expr, ...]
    loss: int | None = None


@dataclass(frozen=True)
class Reduction:
    r""":math:`S[X] = \sum_i X_i` with a canonical ``arg``."""

    arg: sympy.Expr


@dataclass(frozen=True)
class BlockReduction:
    r""":math:`S_B[X]_j = \sum_{i \in B(j)} X_i` with a canonical ``arg``."""

    arg: sympy.Expr


@dataclass(frozen=True)
class BlockSize:
    r""":math:`n_B = |B(j)|`, the size of the block of component :math:`j`."""


@dataclass(frozen=True)
class SlowState:
    r""":math:`V_j`, the value of the slow state ``key`` (printed ``name``)."""

    key: str
    name: str


@dataclass(frozen=True)
class MatrixDerivative:
    r""":math:`D^kF(X_B)[Y_{1,B}..Y_{k,B}]_j` of the matrix map ``map`` at the
    block of ``base``, with canonical sorted ``directions`` (``()``: :math:`F(X_B)_j`)."""

    map: MatrixMap
    base: sympy.Expr
    directions: tuple[sympy.Expr, ...] = ()

    @property
    def arguments(self) -> tuple[sympy.Expr, ...]:
        """The point's blocks, then each direction's (a map of :math:`a` blocks has
        ``base`` and each direction an :math:`a`-element ``sympy.Tuple``)."""
        return tuple(self.map.flatten(self.base, self.directions))


@dataclass(frozen=True)
class BlockScale:
    r""":math:`s(m, k)` of the :math:`m\times k` block of component :math:`j` (``rule`` of
    :data:`~modeq.algebra.matrix_maps.SHAPE_RULES`), a block constant."""

    rule: str


@dataclass(frozen=True)
class Placeholder:
    r"""The unknown term :math:`f_k^{(n - offset)}` being solved for (its part
    :math:`f^{V}_k` of the slow state ``part``, when given)."""

    order: int
    offset: int = 0
    part: str | None = None


class AtomRegistry:
    """An atom table: interns atom definitions as symbols. One per derivation
    (carried by its equation as ``eq.atoms``); :data:`ATOMS` is the default
    table of hand-written expressions. Interning is thread-safe.

    ``distributed``: :meth:`collect` writes a field free of hyperparameters
    (numeric coefficients) in the distributed form of
    :mod:`modeq.algebra.distributed` — denominators and radicals kept whole —
    instead of ``expand``-ing its coefficients (the step-by-step fields of
    :func:`modeq.derive_steps`, whose ``expand`` was quadratic in the steps)."""

    def __init__(self, distributed: bool = False) -> None:
        self._lock = threading.Lock()
        self.theta = sympy.Symbol("theta", real=True)
        self.dimension = sympy.Symbol("p", positive=True, integer=True)
        self.time = TIME_SYMBOL
        self._symbols: dict[object, sympy.Symbol] = {}
        self._definitions: dict[sympy.Symbol, object] = {self.theta: "theta", self.time: "time"}
        self.component: set[sympy.Symbol] = {self.theta}
        self.scalar: set[sympy.Symbol] = set()
        self._splits: dict[sympy.Expr, dict[sympy.Expr, sympy.Expr]] = {}
        self._grouping = True  # collect tries its grouped route (until it is declined once)
        #: Atoms constant inside a block (block reductions, the block size); also in ``component``.
        self.block: set[sympy.Symbol] = set()
        #: Atoms that depend on a slow state: the states, the unknown terms
        #: (:math:`f_k(\theta, V)`) and the atoms with either in an argument.
        self.stated: set[sympy.Symbol] = set()
        #: Symbols whose value depends on the time: ``t``, the unknown terms
        #: (:math:`f_k(\theta, t)`) and the atoms with either in an argument.
        self.timed: set[sympy.Symbol] = {self.time}
        self.distributed = distributed
        self._sums: dict[sympy.Expr, sympy.Expr] = {}  # sums under powers in distributed form
        self._holding: dict[tuple, bool] = {}  # holds_placeholder and holds, by what is asked of which symbol
        #: Sums of terms in hyperparameters (symbols that are not atoms) as one product each.
        self.scalars = compacting.Compactor(lambda s: s not in self._definitions and s != STEP)

    def definition(self, symbol: sympy.Symbol):
        return self._definitions.get(symbol)

    def copy(self) -> "AtomRegistry":
        """A new table holding this one's atoms (for an equation derived from
        another, e.g. a limit, which adds atoms of its own)."""
        other = AtomRegistry(self.distributed)
        with self._lock:
            other._symbols, other._definitions = dict(self._symbols), dict(self._definitions)
            other.component, other.scalar, other.block = set(self.component), set(self.scalar), set(self.block)
            other.stated = set(self.stated)
            other.timed = set(self.timed)
        return other

    def intern(self, definition) -> sympy.Symbol:
        symbol = self._symbols.get(definition)
        if symbol is not None:
            return symbol
        with self._lock:
            symbol = self._symbols.get(definition)
            if symbol is not None:
                return symbol
            name = self._name(definition)
            while sympy.Symbol(name) in self._definitions:
                name += "'"
            symbol = sympy.Symbol(name)
            (self.scalar if isinstance(definition, (Reduction, LossValue)) else self.component).add(symbol)
            if isinstance(definition, (BlockReduction, BlockSize, BlockScale)):
                self.block.add(symbol)
            if isinstance(definition, (SlowState, Placeholder)) or any(
                    not self.stated.isdisjoint(a.free_symbols) for a in _arguments(definition)):
                self.stated.add(symbol)
            if isinstance(definition, Placeholder) or any(
                    not self.timed.isdisjoint(a.free_symbols) for a in _arguments(definition)):
                self.timed.add(symbol)
            self._definitions[symbol] = definition
            self._symbols[definition] = symbol
        return symbol

    def atoms(self, exprs) -> dict[sympy.Symbol, object]:
        r"""The atoms ``exprs`` hold (inside other atoms' arguments too) with their
        definitions, children before parents: what a saved equation must store."""
        out: dict[sympy.Symbol, object] = {}

        def visit(expr: sympy.Expr) -> None:
            for symbol in sorted(expr.free_symbols, key=sympy.default_sort_key):
                if symbol in out:
                    continue
                definition = self._definitions.get(symbol)
                if isinstance(definition, Contraction):
                    for a in definition.args:
                        visit(a)
                elif isinstance(definition, (Reduction, BlockReduction)):
                    visit(definition.arg)
                elif isinstance(definition, MatrixDerivative):
                    for a in _arguments(definition):
                        visit(a)
                elif not isinstance(definition, (Gradient, LossValue, BlockSize, SlowState, BlockScale)):
                    continue
                out[symbol] = definition

        for expr in exprs:
            visit(sympy.sympify(expr))
        return out

    @staticmethod
    def _name(definition) -> str:
        if isinstance(definition, Gradient):
            return "g" if definition.loss is None else f"g_{definition.loss}"
        if isinstance(definition, LossValue):
            return "E" if definition.loss is None else f"E_{definition.loss}"
        if isinstance(definition, Contraction):
            label = "" if definition.loss is None else f"^({definition.loss})"
            return f"D_{len(definition.args)}{label}[{', '.join(map(str, definition.args))}]"
        if isinstance(definition, Reduction):
            return f"S[{definition.arg}]"
        if isinstance(definition, BlockReduction):
            return f"S_B[{definition.arg}]"
        if isinstance(definition, BlockSize):
            return "n_B"
        if isinstance(definition, BlockScale):
            return "s_B" if definition.rule == "original" else f"s_B^{definition.rule}"
        if isinstance(definition, MatrixDerivative):
            base = ", ".join(map(str, definition.base)) if definition.map.arity > 1 else str(definition.base)
            if not definition.directions:
                return f"{definition.map.name}[{base}]"
            directions = ", ".join(map(str, definition.directions))
            return f"D{len(definition.directions)}{definition.map.name}[{base}; {directions}]"
        if isinstance(definition, SlowState):
            return definition.name
        if definition.part is not None:
            return f"F_{definition.order}^{definition.part}" + (f"(n-{definition.offset})" if definition.offset else "")
        return f"F_{definition.order}" + (f"(n-{definition.offset})" if definition.offset else "")

    def contractions(self, expr: sympy.Expr, order: int | None = None, loss: int | None = None) -> list[sympy.Symbol]:
        r"""The contraction atoms :math:`D_k[\dots]` of ``expr`` (top level), with
        :math:`k` = ``order`` if given, of the loss ``loss`` — a query on the
        atoms' structured definitions, never on their names."""
        found = []
        for s in sorted(expr.free_symbols, key=sympy.default_sort_key):
            definition = self._definitions.get(s)
            if (isinstance(definition, Contraction) and definition.loss == loss
                    and (order is None or len(definition.args) == order)):
                found.append(s)
        return found

    def is_component(self, expr: sympy.Expr) -> bool:
        """Whether ``expr`` varies with the component index :math:`j`."""
        return not self.component.isdisjoint(expr.free_symbols)

    def split(self, x: sympy.Expr, constant=None) -> dict[sympy.Expr, sympy.Expr]:
        r"""``x`` as :math:`\sum_t c_t\,X_t` with scalar :math:`c_t` and
        component-only :math:`X_t`: the map :math:`X_t \mapsto c_t`. A factor
        counts as scalar when ``constant(factor)``; by default, when it does not
        vary with the component (then memoized: a field is contracted with every
        atom it differentiates; read-only)."""
        if constant is not None:
            return self._split(x, constant)
        parts = self._splits.get(x)
        if parts is None:
            parts = self._splits[x] = self._split(x, lambda factor: not self.is_component(factor))
        return parts

    def _split(self, x: sympy.Expr, constant) -> dict[sympy.Expr, sympy.Expr]:
        parts: dict[sympy.Expr, list[sympy.Expr]] = defaultdict(list)
        for term in sympy.Add.make_args(distribute(x)):
            if term == 0:
                continue
            scalar, component = [], []
            for factor in sympy.Mul.make_args(term):
                (scalar if constant(factor) else component).append(factor)
            scale, key = _canonical_component(component)
            parts[key].append(sympy.Mul(*scalar) if scale == 1 else scale * sympy.Mul(*scalar))
        out = {}
        for component, scalars in parts.items():
            total = scalars[0] if len(scalars) == 1 else self.scalars.add(scalars)
            total = sympy.Add(*scalars) if total is None else total
            if total != 0:
                out[component] = total
        return out

    def contraction(self, args: Sequence[sympy.Expr], loss: int | None = None) -> sympy.Expr:
        """:math:`D_k[args]`, multilinear and symmetric."""
        total: linear.Terms = {}
        self.add_contraction(total, args, loss)
        return linear.build(total)

    def add_contraction(self, total: linear.Terms, args: Sequence[sympy.Expr], loss: int | None = None) -> None:
        """Add :math:`D_k[args]` into the sum ``total`` (:mod:`modeq.algebra.linear`)."""
        splits = [self.split(a) for a in args]
        for combination in itertools.product(*(s.items() for s in splits)):
            components = _sorted_arguments([c for c, _ in combination])
            coefficient = _product(k for _, k in combination)
            atom = self.intern(Contraction(components, loss))
            if coefficient.is_Rational:
                old = total.get(atom)
                total[atom] = coefficient if old is None else linear.plus(old, coefficient)
            else:
                linear.accumulate(total, coefficient * atom)

    def reduction(self, x: sympy.Expr) -> sympy.Expr:
        r""":math:`S[x]`, linear; :math:`S[c] = p\,c` for scalar :math:`c`."""
        total = []
        for component, coefficient in self.split(x).items():
            total.append(coefficient * (self.dimension if component == 1 else self.intern(Reduction(component))))
        return sympy.Add(*total)

    def is_block_constant(self, expr: sympy.Expr) -> bool:
        """Whether ``expr`` is the same for every component of a block."""
        return (self.component & expr.free_symbols) <= self.block

    def block_reduction(self, x: sympy.Expr) -> sympy.Expr:
        r""":math:`S_B[x]`, linear over block constants; :math:`S_B[c] = n_B\,c`."""
        total = []
        for component, coefficient in self.split(x, self.is_block_constant).items():
            total.append(coefficient * self.intern(BlockSize() if component == 1 else BlockReduction(component)))
        return sympy.Add(*total)

    def matrix_derivative(self, fmap: MatrixMap, base: sympy.Expr, directions: Sequence[sympy.Expr]) -> sympy.Expr:
        r""":math:`D^kF(X)[Y_1..Y_k]`, multilinear over block constants and symmetric
        in the directions (``directions`` empty: :math:`F(X)`)."""
        total: linear.Terms = {}
        base = sympy.Tuple(*map(self.collect, base)) if fmap.arity > 1 else self.collect(base)
        self.add_matrix_derivative(total, fmap, base, directions)
        return linear.build(total)

    def add_matrix_derivative(self, total: linear.Terms, fmap: MatrixMap, base: sympy.Expr,
                              directions: Sequence[sympy.Expr]) -> None:
        """Add :math:`D^kF(X)[Y_1..Y_k]` into the sum ``total`` (:mod:`modeq.algebra.linear`);
        a direction of a map of several blocks is split slot by slot,
        :math:`(Y, Z) = (Y, 0) + (0, Z)`."""
        splits = [self._split_direction(y, fmap.arity) for y in directions]
        for combination in itertools.product(*(s.items() for s in splits)):
            components = _sorted_arguments([c for c, _ in combination])
            coefficient = _product(k for _, k in combination)
            atom = self.intern(MatrixDerivative(fmap, base, components))
            if coefficient.is_Rational:
                old = total.get(atom)
                total[atom] = coefficient if old is None else linear.plus(old, coefficient)
            else:
                linear.accumulate(total, coefficient * atom)

    def _split_direction(self, y, arity: int) -> dict:
        """A direction as ``{component: block-constant coefficient}`` (tuples of one
        nonzero slot for a map of ``arity > 1`` blocks)."""
        if arity == 1:
            return self.split(y, self.is_block_constant)
        out: dict = {}
        for slot, value in enumerate(y):
            for component, coefficient in self.split(value, self.is_block_constant).items():
                key = sympy.Tuple(*(component if i == slot else sympy.S.Zero for i in range(arity)))
                out[key] = out.get(key, 0) + coefficient
        return out

    def collect(self, x: sympy.Expr) -> sympy.Expr:
        r"""``x`` as a sum over monomials in nested atoms with factored coefficients.

        The monomials and the coefficients' values are read off without
        multiplying out the coefficients' sums (:mod:`~modeq.algebra.collecting`);
        the canonical form of a coefficient depends only on its value where
        :func:`_tidy_coefficient` factors it, a hyperparameter remains in the
        factored value, and the factorization is that of a rational function
        (:func:`~modeq.algebra.factoring.factor_polynomials`: the irreducible
        factors, normalized). Where one coefficient is not, the whole field
        takes the reference route (every sum distributed first): a factored
        value free of hyperparameters (they cancelled; whether the distributed
        sum still shows them decides), one with radicals or functions (SymPy's
        generators depend on the form), and the expanded ones (numeric, or
        holding functions of time: ``expand`` multiplies out denominators as
        they are written). Once radicals sent a field of the table there, the
        reference route is taken at once (a choice of speed only: both routes
        give the same expression).

        A ``distributed`` table writes a field free of hyperparameters in the
        form of :mod:`modeq.algebra.distributed` (numerators multiplied out,
        powers of sums kept whole, monomials grouped as here), falling back to
        the routes above where that form declines."""
        nested = self.nested()
        if self.distributed:
            d = distributed.distribute(x, self._definitions.__contains__, self._sums)
            if d is not None:
                def outer(f):
                    return f in nested or f.is_Pow and not nested.isdisjoint(f.free_symbols)
                return sympy.Add(*(m * c for m, c in distributed.grouped(d, outer).items()))
        collected = self._collect_grouped(x, nested) if self._grouping else None
        return self._collect_distributed(x, nested) if collected is None else collected

    def nested(self) -> set[sympy.Symbol]:
        """The atoms a field is collected by (:meth:`collect`): all but :math:`\\theta` and the gradients,
        which stay in the coefficients."""
        gradients = {s for s, d in self._definitions.items() if isinstance(d, Gradient)}
        return (self.component - {self.theta} - gradients) | self.scalar

    def _collect_grouped(self, x: sympy.Expr, nested: set[sympy.Symbol]) -> sympy.Expr | None:
        """:meth:`collect` from the undistributed pieces, or ``None`` where a coefficient's form would matter."""
        survey = _survey(x)
        atomic = self._is_atomic(x, survey.symbols)
        self.scalars.active = self.scalars.active or not atomic
        if atomic or survey.root:
            return None  # numeric coefficients are expanded; a radical such as sqrt(eps) is declined by the factoring
        if not (survey.symbolic_exponent or survey.timed):
            read = collecting.rows(x, nested)
            if read is not None:
                return self._collect_rows(read)
        grouped = collecting.group(x, nested)
        if grouped is None:
            return None
        coefficients = [sympy.Add(*pieces) for pieces in grouped.values()]
        if any(self._is_atomic(c) or survey.timed and c.has(AppliedUndef, sympy.Derivative) for c in coefficients):
            return None
        if survey.symbolic_exponent:
            coefficients = [sympy.expand_power_exp(c) for c in coefficients]
        prepared = factoring.prepare(coefficients)
        if prepared is None:
            self._grouping = False  # radicals in the coefficients: the table's later fields have them too
            return None
        factored = factoring.factor_prepared(prepared)
        if factored is None or any(self._is_atomic(c) for c in factored):
            return None
        return sympy.Add(*(monomial * c for monomial, c in zip(grouped, factored)))

    def _collect_rows(self, read: dict[sympy.Expr, factoring.Rows]) -> sympy.Expr | None:
        r""":meth:`collect` from each monomial's rows (:func:`~modeq.algebra.collecting.rows`:
        rational functions of symbols, every row's powers whole): each coefficient
        factored from its rows, which is SymPy's ``factor`` of its value however it
        is written (the irreducible factors of a rational function, normalized),
        the form the reference route gives; ``None`` (the reference route) where a
        coefficient is free of hyperparameters."""
        factored = []
        for monomial, rows in read.items():
            if not rows:
                return None
            c = factoring.factor_rows(rows)
            if self._is_atomic(c):
                return None
            factored.append(monomial * c)
        return sympy.Add(*factored)

    def _is_atomic(self, c: sympy.Expr, symbols=None) -> bool:
        """Whether every symbol of ``c`` (its free ``symbols`` when known) is an atom (no hyperparameter)."""
        return all(s in self._definitions for s in (c.free_symbols if symbols is None else symbols))

    def _collect_distributed(self, x: sympy.Expr, nested: set[sympy.Symbol]) -> sympy.Expr:
        """:meth:`collect` by distributing every product over every sum first (the reference route)."""
        groups: dict[sympy.Expr, list[sympy.Expr]] = defaultdict(list)
        for term in sympy.Add.make_args(distribute(x)):
            monomial, coefficient = [], []
            for factor in sympy.Mul.make_args(term):
                (monomial if not nested.isdisjoint(factor.free_symbols) and factor.is_Pow or factor in nested else coefficient).append(factor)
            groups[sympy.Mul(*monomial)].append(sympy.Mul(*coefficient))
        return sympy.Add(*(monomial * _tidy_coefficient(sympy.Add(*c), self) for monomial, c in groups.items()))

    def depends_on(self, expr: sympy.Expr, predicate) -> bool:
        """Whether a symbol satisfying ``predicate`` occurs in ``expr``, inside atoms included."""
        for s in expr.free_symbols:
            if predicate(s):
                return True
            definition = self._definitions.get(s)
            if isinstance(definition, Contraction) and any(self.depends_on(a, predicate) for a in definition.args):
                return True
            if isinstance(definition, (Reduction, BlockReduction)) and self.depends_on(definition.arg, predicate):
                return True
            if isinstance(definition, MatrixDerivative) and any(self.depends_on(a, predicate) for a in _arguments(definition)):
                return True
        return False

    def is_placeholder(self, symbol: sympy.Symbol) -> bool:
        return isinstance(self._definitions.get(symbol), Placeholder)

    def holds_placeholder(self, symbol: sympy.Symbol) -> bool:
        """Whether ``symbol`` is an unknown term or an atom with one inside (remembered: a
        definition never changes, and every order's residual asks of its atoms again)."""
        return self._remembered(("placeholder", symbol), lambda: self.depends_on(symbol, self.is_placeholder))

    def holds(self, symbol: sympy.Symbol, target: sympy.Symbol) -> bool:
        """Whether ``symbol`` is ``target`` or an atom with it inside (remembered, as :meth:`holds_placeholder`)."""
        return self._remembered((target, symbol), lambda: self.depends_on(symbol, lambda s: s == target))

    def _remembered(self, key, compute) -> bool:
        found = self._holding.get(key)
        if found is None:
            found = self._holding[key] = compute()
        return found

    def shift_step(self, expr: sympy.Expr, shift) -> sympy.Expr:
        """``expr`` at step :math:`n - shift`: the step symbol, placeholders
        and atoms whose arguments hold either are moved back."""
        mapping = {STEP: STEP - shift}
        for s in expr.free_symbols:
            definition = self._definitions.get(s)
            if isinstance(definition, Placeholder):
                if not isinstance(shift, int):
                    raise NotSeparableError("an unknown correction would be summed over the history")
                mapping[s] = self.intern(Placeholder(definition.order, definition.offset + shift, definition.part))
            elif isinstance(definition, (Contraction, Reduction, BlockReduction, MatrixDerivative)) and self.depends_on(
                s, lambda t: t == STEP or self.is_placeholder(t)
            ):
                if isinstance(definition, Contraction):
                    mapping[s] = self.contraction([self.shift_step(a, shift) for a in definition.args], definition.loss)
                elif isinstance(definition, Reduction):
                    mapping[s] = self.reduction(self.shift_step(definition.arg, shift))
                elif isinstance(definition, MatrixDerivative):
                    mapping[s] = self.matrix_derivative(definition.map, self.shift_step(definition.base, shift),
                                                        [self.shift_step(y, shift) for y in definition.directions])
                else:
                    mapping[s] = self.block_reduction(self.shift_step(definition.arg, shift))
        return expr.xreplace(mapping)

    def separate(self, expr: sympy.Expr) -> dict[sympy.Expr, sympy.Expr]:
        r"""``expr`` as :math:`\sum_i s_i(n) X_i`: the map :math:`s_i \mapsto X_i`."""
        parts: dict[sympy.Expr, sympy.Expr] = defaultdict(lambda: sympy.Integer(0))
        for term in sympy.Add.make_args(distribute(expr)):
            stepped, rest = [], []
            for factor in sympy.Mul.make_args(term):
                if STEP in factor.free_symbols:
                    if self.is_component(factor):
                        raise NotSeparableError(
                            f"the step index n sits inside {factor}, so sums over the history have no closed form"
                        )
                    stepped.append(factor)
                else:
                    rest.append(factor)
            if self.depends_on(sympy.Mul(*rest), lambda t: t == STEP):
                raise NotSeparableError(f"the step index n sits inside an atom of {term}")
            parts[sympy.Mul(*stepped)] += sympy.Mul(*rest)
        return {k: v for k, v in parts.items() if v != 0}


def _arguments(definition) -> tuple:
    """The argument expressions of an atom definition (none for a leaf)."""
    if isinstance(definition, Contraction):
        return definition.args
    if isinstance(definition, (Reduction, BlockReduction)):
        return (definition.arg,)
    if isinstance(definition, MatrixDerivative):
        return definition.arguments
    return ()


#: The default atom table: the helpers :func:`D`, :func:`S` intern into it
#: (hand-written expressions), and an equation built without a table reads it.
ATOMS = AtomRegistry()

theta = ATOMS.theta
p = ATOMS.dimension
t = ATOMS.time
g = ATOMS.intern(Gradient())


def D(*args, loss: int | None = None) -> sympy.Expr:
    r""":math:`D_k[X_1..X_k]` (``loss`` labels a batch loss :math:`E_b`)."""
    return ATOMS.contraction([sympy.sympify(a) for a in args], loss)


def S(x) -> sympy.Expr:
    r""":math:`S[x] = \sum_i x_i`."""
    return ATOMS.reduction(sympy.sympify(x))


def SB(x) -> sympy.Expr:
    r""":math:`S_B[x] = \sum_{i \in B(j)} x_i`."""
    return ATOMS.block_reduction(sympy.sympify(x))


class IndexAlgebra(FieldAlgebra[sympy.Expr]):
    """Fields as dimension-free expressions for component :math:`j`, their atoms
    interned into ``atoms`` (a new table unless given)."""

    def __init__(self, atoms: AtomRegistry | None = None) -> None:
        super().__init__()
        self.atoms = AtomRegistry() if atoms is None else atoms
        self._lie_maps: dict[tuple[sympy.Expr, sympy.Expr], linear.Terms] = {}  # L_F x as sums, by (x, F)

    @property
    def zero(self) -> sympy.Expr:
        return sympy.Integer(0)

    def constant(self, scalar):
        return sympy.sympify(scalar)

    def theta(self):
        return self.atoms.theta

    def grad(self, loss=None):
        return self.atoms.intern(Gradient(loss))

    def loss_value(self, loss=None):
        return self.atoms.intern(LossValue(loss))

    def contract(self, args, loss=None):
        return self.atoms.contraction(args, loss)

    def reduce_sum(self, x):
        return self.atoms.reduction(x)

    def block_sum(self, x):
        return self.atoms.block_reduction(x)

    def matrix_map(self, fmap, base, directions=()):
        return self.atoms.matrix_derivative(fmap, base, directions)

    def block_scale(self, rule):
        return self.atoms.intern(BlockScale(rule))

    def add(self, a, b):
        return a + b

    def combine(self, pairs):
        total: linear.Terms = {}
        for w, v in pairs:
            if w.is_Rational:
                linear.accumulate(total, v, w)
            else:
                linear.accumulate(total, w * v)
        return linear.build(self.atoms.scalars.compact(total))

    def sum(self, values):
        total: linear.Terms = {}
        for v in values:
            linear.accumulate(total, v)
        return linear.build(total)

    def mul(self, a, b):
        if a.is_Rational and b.is_Add:
            return linear.build(linear.terms(b, a))
        return a * b

    def apply(self, phi, x):
        return phi(x)

    def is_zero(self, x):
        return self.atoms.collect(x) == 0

    def is_trivially_zero(self, x):
        return x == 0

    def is_finite(self, x):
        return not x.has(sympy.zoo, sympy.oo, -sympy.oo, sympy.nan)

    def canonical(self, x):
        """Collected by products of contraction and reduction atoms, each
        coefficient (a function of ``g``, ``theta`` and hyperparameters) put
        over a common denominator and factored — small expressions, cheap."""
        return self.atoms.collect(x)

    def unknown(self, order, offset=0, part=None):
        return self.atoms.intern(Placeholder(order, offset, part))

    def state_value(self, key, name):
        return self.atoms.intern(SlowState(key, name))

    def linear_parts(self, residual, unknowns, what):
        own = set(unknowns)
        nested = [s for s in residual.free_symbols
                  if s not in own and self.atoms.holds_placeholder(s)]
        if nested:
            raise ImplicitUpdateError(
                f"the unknown {what} enters its own equation inside {nested[0]}; "
                "the update is implicit in a way the order-by-order solve cannot handle"
            )
        parts = _linear_terms(residual, unknowns)
        if parts is not None:
            return [linear.build(s) for s in parts[0]], linear.build(parts[1])
        slopes = [sympy.diff(residual, u) for u in unknowns]
        if any(a.has(*unknowns) for a in slopes):
            raise ImplicitUpdateError(f"the equation for {what} is not linear in it")
        return slopes, residual.xreplace({u: 0 for u in unknowns})

    def contains(self, x, symbol):
        return any(self.atoms.holds(s, symbol) for s in x.free_symbols)

    def as_scalar(self, x):
        return None if self.atoms.is_component(x) else x

    def separate(self, x):
        return list(self.atoms.separate(x).items())

    def shift_step(self, x, shift):
        return self.atoms.shift_step(x, shift)

    # -- the Lie derivative -------------------------------------------------------

    def _lie(self, x, field):
        return linear.build(self._lie_map(x, field))

    def _lie_sum(self, pairs):
        total: linear.Terms = {}
        for u, field in pairs:
            if isinstance(u, sympy.Add) and (u, field) not in self._lie_maps:
                # a coefficient of a series, met in this sum only: its derivative goes straight into the total
                if self._moves(u, field):
                    self._lie_terms(u, field, total)
            else:
                linear.add_terms(total, self._lie_map(u, field))
        return linear.build(self.atoms.scalars.compact(total))

    def _lie_map(self, x, field) -> linear.Terms:
        r""":math:`L_F x` as a sum (:mod:`modeq.algebra.linear`), memoized on
        ``(x, F)``: the derivatives of atoms and of long fields are added into
        other sums, never built on their own (SymPy's ``Add`` would sort every
        one of them)."""
        key = (x, field)
        found = self._lie_maps.get(key)
        if found is None:
            found = self._lie_maps[key] = self._new_lie_map(x, field)
        return found

    def _moves(self, x, field) -> bool:
        """Whether ``x`` may move along ``field``: along a slow state's or the
        time's direction only what holds the state or the time does."""
        if isinstance(field, Partial):
            return not self.atoms.stated.isdisjoint(x.free_symbols)
        return field is not TIME or not self.atoms.timed.isdisjoint(x.free_symbols)

    def _new_lie_map(self, x, field) -> linear.Terms:
        if not self._moves(x, field):
            return {}
        if isinstance(x, sympy.Symbol):
            return self._lie_atom(x, field)
        if x.is_Atom:
            return {}
        if isinstance(x, (sympy.Add, sympy.Mul)):
            return self._lie_terms(x, field)
        if isinstance(x, sympy.Pow):
            base, exponent = x.args
            if not self._varies(exponent):
                return linear.terms(exponent * base ** (exponent - 1) * self.lie_along(base, field))
            return linear.terms(x * (self.lie_along(exponent, field) * sympy.log(base)
                                     + exponent * self.lie_along(base, field) / base))
        if isinstance(x, sympy.Function):
            return linear.terms(sympy.Add(*(x.fdiff(n + 1) * self.lie_along(a, field) for n, a in enumerate(x.args))))
        if isinstance(x, sympy.Derivative) and x.free_symbols <= {self.atoms.time}:  # of a function of time
            return linear.terms(sympy.diff(x, self.atoms.time) * self.lie_along(self.atoms.time, field))
        raise TypeError(f"cannot take the Lie derivative of {x!r}")

    def _lie_terms(self, x, field, total: linear.Terms | None = None) -> linear.Terms:
        r""":math:`L_F x` of a sum of products: the product rule over each
        term's factors, each factor's derivative memoized and distributed into
        the sum, so a long sum is flattened once instead of once per term
        (into ``total`` when given)."""
        total = {} if total is None else total
        for term in sympy.Add.make_args(x):
            coefficient, monomial = term.as_coeff_Mul()
            factors = sympy.Mul.make_args(monomial)
            for n, factor in enumerate(factors):
                derivative = self._lie_map(factor, field)
                rest = factors[:n] + factors[n + 1 :]
                if not rest:  # the derivative's monomials are those of the sum: added as they are
                    linear.add_terms(total, derivative, coefficient)
                    continue
                for m, c in derivative.items():
                    if c == 0:
                        continue
                    linear.accumulate(total, sympy.Mul(m, *rest), linear.times(coefficient, c))
        return total

    def _varies(self, x):
        return not (self.atoms.component | self.atoms.scalar | self.atoms.timed).isdisjoint(x.free_symbols)

    def _lie_atom(self, symbol, field) -> linear.Terms:
        definition = self.atoms.definition(symbol)
        # along Partial(V, v) (a slow state's direction) only V itself and atoms with V in an argument move
        # along the time direction (TIME) only t and atoms with t in an argument move, likewise
        partial = isinstance(field, Partial) or field is TIME
        if isinstance(field, Partial) and symbol == field.state:
            return linear.terms(field.value)
        if definition == "time":
            return linear.terms(sympy.Integer(1)) if field is TIME else {}
        if definition is None or isinstance(definition, (BlockSize, SlowState, BlockScale)):
            return {}
        if definition == "theta":
            return {} if partial else linear.terms(field)
        total: linear.Terms = {}
        if isinstance(definition, Gradient):
            if not partial:
                self.atoms.add_contraction(total, [field], definition.loss)
        elif isinstance(definition, LossValue):
            if not partial:
                linear.accumulate(total, self.atoms.reduction(self.atoms.intern(Gradient(definition.loss)) * field))
        elif isinstance(definition, Contraction):
            args = list(definition.args)
            if not partial:
                self.atoms.add_contraction(total, args + [field], definition.loss)
            for n, a in enumerate(args):
                derivative = self.lie_along(a, field)
                if derivative != 0:
                    self.atoms.add_contraction(total, args[:n] + [derivative] + args[n + 1 :], definition.loss)
        elif isinstance(definition, Reduction):
            linear.accumulate(total, self.atoms.reduction(self.lie_along(definition.arg, field)))
        elif isinstance(definition, BlockReduction):
            linear.accumulate(total, self.atoms.block_reduction(self.lie_along(definition.arg, field)))
        elif isinstance(definition, MatrixDerivative):
            self._matrix_chain_rule(total, definition, field)
        else:
            raise ImplicitUpdateError("the derivative of the unknown correction is needed before it is known")
        return total

    def _lie_blocks(self, x, arity: int, field):
        """The Lie derivative of a map's point or direction (a tuple of ``arity > 1``
        blocks slot by slot), ``None`` if it vanishes."""
        if arity == 1:
            value = self.lie_along(x, field)
            return None if value == 0 else value
        values = sympy.Tuple(*(self.lie_along(y, field) for y in x))
        return None if all(v == 0 for v in values) else values

    def _matrix_chain_rule(self, total: linear.Terms, definition: MatrixDerivative, field) -> None:
        r""":math:`L D^kF(X)[Y] = D^{k+1}F(X)[Y, LX] + \sum_a D^kF(X)[.., LY_a, ..]` into ``total``
        (the map itself depends on neither :math:`\theta` nor a slow state)."""
        directions = list(definition.directions)
        base = self._lie_blocks(definition.base, definition.map.arity, field)
        if base is not None:
            self.atoms.add_matrix_derivative(total, definition.map, definition.base, directions + [base])
        for n, y in enumerate(directions):
            derivative = self._lie_blocks(y, definition.map.arity, field)
            if derivative is not None:
                self.atoms.add_matrix_derivative(total, definition.map, definition.base,
                                                 directions[:n] + [derivative] + directions[n + 1:])
